#include "ptyroi/app/interrupt.hpp"

#include <unistd.h>

#include <csignal>

#include "ptyroi/io/atomic_output.hpp"

namespace ptyroi {

namespace {

extern "C" void remove_and_exit(int signal_number) {
  remove_registered_temporaries();  // async-signal-safe: unlink only
  _exit(128 + signal_number);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = remove_and_exit;
  sigemptyset(&action.sa_mask);
  for (const int signal_number : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP})
    sigaction(signal_number, &action, nullptr);
}

}  // namespace ptyroi
