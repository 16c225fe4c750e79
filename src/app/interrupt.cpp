#include "ptyroi/app/interrupt.hpp"

#include <unistd.h>
#include <csignal>
#include <cstring>

namespace ptyroi {

namespace {

// Fixed storage: the handler may only call async-signal-safe functions (unlink, _exit).
constexpr int slots = 4;
constexpr std::size_t path_capacity = 4096;
char registered_paths[slots][path_capacity];
volatile std::sig_atomic_t slot_in_use[slots] = {0, 0, 0, 0};

extern "C" void remove_and_exit(int signal_number) {
  for (int i = 0; i < slots; ++i) {
    if (slot_in_use[i]) unlink(registered_paths[i]);
  }
  _exit(128 + signal_number);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = remove_and_exit;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

RemoveOnInterrupt::RemoveOnInterrupt(const std::string& path) {
  if (path.size() >= path_capacity) return;
  for (int i = 0; i < slots; ++i) {
    if (slot_in_use[i]) continue;
    std::memcpy(registered_paths[i], path.c_str(), path.size() + 1);
    slot_in_use[i] = 1;  // published after the path is complete
    slot_ = i;
    return;
  }
}

RemoveOnInterrupt::~RemoveOnInterrupt() {
  if (slot_ >= 0) slot_in_use[slot_] = 0;
}

}  // namespace ptyroi
