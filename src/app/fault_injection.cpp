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
  std::string action;
  if (const auto second = rest.find(':'); second != std::string::npos) {
    action = rest.substr(second + 1);
    rest.resize(second);
  }
  if (rest != phase || (rank_text != "*" && rank_text != std::to_string(mpi::rank(comm)))) return;
  if (action == "hang") {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (action.rfind("sleep=", 0) == 0) {
    const double seconds = std::strtod(action.c_str() + 6, nullptr);
    if (seconds > 0.0 && seconds <= 3600.0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return;
  }
  throw IoError("injected fault (PTYROI_FAULT) on rank " + rank_text + " in phase " + phase);
}

}  // namespace ptyroi
