#pragma once
// A test-only switch that makes one chosen rank fail (or hang) in one chosen phase, so tests can
// prove that every phase's failure ends the whole run with one error line and no output:
//
//   PTYROI_FAULT=RANK:PHASE[:hang]     PHASE: open, features, reduce, kmeans, write
//
// Unset (the normal case) it costs one getenv per phase.
#include <mpi.h>

namespace ptyroi {

// Throws IoError("injected fault ...") on the chosen rank in the chosen phase; with ":hang" that
// rank sleeps instead, as a stuck rank would (for the SIGTERM tests).
void inject_fault(const char* phase, MPI_Comm comm);

}  // namespace ptyroi
