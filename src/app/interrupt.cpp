#include "ptyroi/app/interrupt.hpp"

#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>

#include "ptyroi/io/atomic_output.hpp"

namespace ptyroi {

namespace {

struct Notice {
  int signal_number;
  const char* name;
  char text[160];  // "<program>: error: stopped by SIGTERM; ...\n", written at installation
  std::size_t length;
};
Notice notices[] = {{SIGTERM, "SIGTERM", {}, 0},
                    {SIGINT, "SIGINT", {}, 0},
                    {SIGUSR1, "SIGUSR1", {}, 0},
                    {SIGUSR2, "SIGUSR2", {}, 0},
                    {SIGHUP, "SIGHUP", {}, 0}};
// Decided before any signal can arrive: whether this process prints the line (rank 0 does), and
// where: a copy of stderr as it was at installation (the writer holds stderr back while it writes).
volatile std::sig_atomic_t reports = 1;
int report_fd = STDERR_FILENO;

extern "C" void remove_and_exit(int signal_number) {
  remove_registered_temporaries();  // async-signal-safe: unlink and write only
  for (const Notice& notice : notices) {
    if (notice.signal_number != signal_number || reports == 0) continue;
    const ssize_t ignored = write(report_fd, notice.text, notice.length);
    (void)ignored;
  }
  _exit(128 + signal_number);
}

}  // namespace

void install_interrupt_handlers() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized != 0) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    reports = rank == 0 ? 1 : 0;
  }
  if (const int copy = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3); copy >= 0) report_fd = copy;
  for (Notice& notice : notices) {
    const int length = std::snprintf(notice.text, sizeof(notice.text),
                                     "%s: error: stopped by %s; temporary outputs removed, nothing committed\n",
                                     program_invocation_short_name, notice.name);
    notice.length = length > 0 ? std::min(static_cast<std::size_t>(length), sizeof(notice.text) - 1) : 0;
  }
  struct sigaction action {};
  action.sa_handler = remove_and_exit;
  sigemptyset(&action.sa_mask);
  for (const Notice& notice : notices) sigaction(notice.signal_number, &action, nullptr);
}

void end_interrupt_notices() { reports = 0; }

}  // namespace ptyroi
