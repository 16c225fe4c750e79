#pragma once
// The end of a scan's run: its previews (--preview) and summary (--summary) written beside the RoI
// files that run_scan wrote uncommitted, then all of them committed together, so that a failure
// anywhere leaves no output behind (and a rerun does not stop at "already exists").
#include <mpi.h>

#include "ptyroi/app/scan_run.hpp"

namespace ptyroi {

// Collective over comm.
void finish_scan_outputs(ScanRun& run, MPI_Comm comm);

}  // namespace ptyroi
