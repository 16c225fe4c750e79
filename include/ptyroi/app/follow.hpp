#pragma once
// ptyroi --follow: the RoI live while a scan is acquired (issue 17).
//
// Rank 0 looks at the acquisition (io/live_stack.hpp: a NeXus master whose data files arrive, or a
// dataset written with SWMR; io/positions.hpp: positions that grow) with a sleep between looks that
// backs off from 50 ms to 1 s while nothing arrives, and tells every rank what is complete. The new
// frames are shared out among all ranks, each reading a contiguous piece with its own sec2/SWMR
// handles, once; their features are kept where they were computed and moved to the
// partition_frames owners (share_features) for each classification. At every update the whole
// method runs on the frames so far (those with positions): the live summary (--summary, with a
// "follow" block), the previews (--preview) and the mask so far (live_mask_path) each replace the
// previous file by an atomic rename. At the end (--expect-frames or the NeXus nimages reached, or
// --idle-timeout without a new frame) the final outputs are written by the batch path on the
// finished files, with the features already computed: bitwise what a batch run writes.
#include <mpi.h>

#include <string>

#include "ptyroi/app/options.hpp"
#include "ptyroi/app/scan_run.hpp"

namespace ptyroi {

// The mask-so-far file of --follow (format mask-only: /roi only): "<stem>.live.h5" next to the
// first --output file, else next to --summary; empty when there is neither.
std::string live_mask_path(const Options& options);

// Follows the acquisition to its end and returns the final run, its outputs committed. Collective;
// throws identically on every rank when any rank fails (the live summary then says "failed").
ScanRun follow_scan(const Options& options, MPI_Comm comm);

}  // namespace ptyroi
