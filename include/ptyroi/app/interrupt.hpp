#pragma once
// SIGTERM/SIGINT (a batch system's time limit, a user's Ctrl-C) and SIGUSR1 (Slurm's --signal,
// PBS's qsig): remove this process's temporary output files (io/atomic_output.hpp) and exit at
// once with status 128 + the signal, so a killed job leaves no half-written file behind. Rank 0
// says so in one line ("ptyroi: error: stopped by SIGUSR1; ..."). SIGUSR2 and SIGHUP alike.
// Install after MPI_Init (the rank decides who prints).
namespace ptyroi {

void install_interrupt_handlers();

// From now on a signal still removes the temporaries and ends the process, but says nothing: the
// program has reported its own outcome (mpiexec sends SIGTERM to ranks still finishing after
// another rank exited non-zero, which is no news to the user).
void end_interrupt_notices();

}  // namespace ptyroi
