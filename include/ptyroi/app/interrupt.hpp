#pragma once
// SIGTERM/SIGINT (a batch system's time limit, a user's Ctrl-C) and SIGUSR1 (Slurm's --signal,
// PBS's qsig): remove this process's temporary output files (io/atomic_output.hpp) and exit at
// once with status 128 + the signal, so a killed job leaves no half-written file behind.
namespace ptyroi {

void install_interrupt_handlers();

}  // namespace ptyroi
