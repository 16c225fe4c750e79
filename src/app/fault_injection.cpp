#include "ptyroi/app/fault_injection.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

void inject_fault(const char* phase, MPI_Comm comm) {
  const char* setting = std::getenv("PTYROI_FAULT");
  if (setting == nullptr || *setting == '\0') return;
  const std::string text(setting);
  const auto colon = text.find(':');
  if (colon == std::string::npos) return;
  const std::string rank_text = text.substr(0, colon);
  std::string rest = text.substr(colon + 1);
  const bool hang = rest.size() > 5 && rest.compare(rest.size() - 5, 5, ":hang") == 0;
  if (hang) rest.resize(rest.size() - 5);
  if (rest != phase || rank_text != std::to_string(mpi::rank(comm))) return;
  if (hang) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  throw IoError("injected fault (PTYROI_FAULT) on rank " + rank_text + " in phase " + phase);
}

}  // namespace ptyroi
