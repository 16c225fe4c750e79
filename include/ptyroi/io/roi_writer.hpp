#pragma once
// The RoI subset in the layout a reconstruction code reads (--format): CXI 1.5 (default),
// PtychoShelves/fold_slice (_dp.hdf5 /dp + _para.hdf5 /ppX, /ppY), ptychodus (/patterns, /indexes,
// /bad_pixels, /probe_position_x_m, /probe_position_y_m) or mask-only; each with the /roi record
// of how the subset was chosen (/roi/mask > 0 = keep: a PtyPy framefilter). Written with parallel HDF5 under a
// temporary name next to the output and renamed only once complete and closed, so no reader ever sees half a file.
#include <mpi.h>

#include <string>
#include <vector>

#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/app/pipeline.hpp"

namespace ptyroi {

// "<output>.partial": same directory, so the final rename is atomic.
std::string temporary_output_path(const std::string& output_file);

// The files --output names for --format: one, or PREFIX_dp.hdf5 and PREFIX_para.hdf5 for
// ptychoshelves (PREFIX: --output without a _dp.hdf5/.hdf5/.h5 suffix).
std::vector<std::string> output_paths(const Options& options);

// Refuses, before any heavy I/O, an existing output (unless --overwrite) and a missing or
// read-only output directory, for --output and --summary. Rank-local.
void check_output_paths(const Options& options);

// Collective over comm. Each rank copies its own selected frames to consecutive offsets
// (MPI_Exscan of the counts) and writes its own range of the per-frame records.
void write_roi_file(const RoiRun& run, const PatternStack& stack, MPI_Comm comm);

}  // namespace ptyroi
