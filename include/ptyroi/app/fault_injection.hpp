#pragma once
// A test-only switch that makes a chosen rank fail, hang or pause in one chosen phase, so tests can
// prove that every phase's failure ends the whole run with one error line and no output, and can
// make things happen at a chosen moment (another job committing the same output, a disk filling up):
//
//   PTYROI_FAULT=RANK:PHASE[:hang|:sleep=SECONDS]   RANK: a rank number or * (every rank);
//                                                   PHASE: open, features, reduce, kmeans, write
//
// Unset (the normal case) it costs one getenv per phase.
#include <mpi.h>

namespace ptyroi {

// Throws IoError("injected fault ...") on the chosen rank in the chosen phase; with ":hang" that
// rank sleeps instead, as a stuck rank would (for the SIGTERM tests); with ":sleep=SECONDS" it
// sleeps that long (at most an hour) and goes on.
void inject_fault(const char* phase, MPI_Comm comm);

}  // namespace ptyroi
