#pragma once
// One output per partition (--partition-files): the format's files for each part's frames — its
// own and its halo, in frame order — named after the whole RoI's output with "_partNN" before the
// extension (scan_roi.cxi → scan_roi_part03.cxi; a PtychoShelves PREFIX_dp.hdf5 →
// PREFIX_part03_dp.hdf5), NN zero-padded to the digits of P − 1. Each carries the /roi record with
// /roi/mask and /roi/indexes of the part's frames, /roi/partition and /roi/partitions of the whole
// split, and /roi/partition_core saying which of its rows are the part's own (1) or halo (0).
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/scan_partitions.hpp"
#include "ptyroi/io/roi_writer.hpp"

namespace ptyroi {

// The output of part `part` of `parts`: the same format and options, its own path.
RoiOutput partition_output(const RoiOutput& output, int part, int parts);

// The result as part `part`'s output sees it: its RoI is the part's frames and halo (this rank's
// share of them in local_mask and local_selected). Rank-local.
RoiResult partition_result(const RoiResult& result, const ScanPartitions& partitions, int part);

// Collective: writes every part's output (write_roi, uncommitted) and returns their pending files.
std::vector<PendingOutput> write_partition_outputs(const RoiOutput& output, const RoiResult& result,
                                                   const ScanPartitions& partitions, const ScanPositions& positions,
                                                   const PixelSelection& pixels, const FrameSource& source,
                                                   hid_t pattern_type, RoiRecordInfo info,
                                                   const std::vector<std::string>& inputs, MPI_Comm comm,
                                                   const std::function<void(const char*)>& on_phase = {});

}  // namespace ptyroi
