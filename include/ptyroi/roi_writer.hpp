#pragma once
// The RoI subset file: CXI 1.5 layout (so reconstruction codes read it as is) plus the /roi record
// of how the subset was chosen. Written with parallel HDF5 under a temporary name next to the
// output and renamed only once complete and closed, so no reader ever sees half a file.
#include <mpi.h>

#include <string>

#include "ptyroi/pattern_stack.hpp"
#include "ptyroi/pipeline.hpp"

namespace ptyroi {

// "<output>.partial": same directory, so the final rename is atomic.
std::string temporary_output_path(const std::string& output_file);

// Refuses, before any heavy I/O, an existing output (unless --overwrite) and a missing or
// read-only output directory, for --output and --summary. Rank-local.
void check_output_paths(const Options& options);

// Collective over comm. Each rank copies its own selected frames to consecutive offsets
// (MPI_Exscan of the counts) and writes its own range of the per-frame records.
void write_roi_file(const RoiRun& run, const PatternStack& stack, MPI_Comm comm);

}  // namespace ptyroi
