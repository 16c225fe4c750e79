#pragma once
// Writes the RoI subset in the layout a reconstruction code reads (an OutputFormat), with the /roi
// record of how it was chosen. Parallel HDF5: each rank copies its own RoI frames to consecutive
// offsets (MPI_Exscan of the counts) and writes its own frames' records; everything goes to
// temporary files that are committed, all together, only once complete (atomic_output.hpp).
#include <mpi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/frame_source.hpp"
#include "ptyroi/core/scan_positions.hpp"
#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/output_format.hpp"
#include "ptyroi/io/roi_schema.hpp"

namespace ptyroi {

struct RoiOutput {
  std::string path;                      // the output (for a multi-file format, what its paths() derive from)
  const OutputFormat* format = nullptr;  // nullptr: cxi
  bool write_patterns = true;            // false: the record and positions, no patterns
  bool overwrite = false;                // replace existing files

  const OutputFormat& format_or_default() const;
  std::vector<std::string> paths() const;  // the files the output consists of
};

// Rank-local checks before any heavy I/O, for one output file `path` named by `what` (e.g.
// "--output"): it must not be one of `inputs` (the same file, even by another name, a hard link or a
// symbolic link), must not exist unless `overwrite`, and if it exists must be a regular file (never
// a directory, device, pipe or symbolic link: nothing is written through a link); its directory must
// be writable. Throws UsageError naming `what` and the path.
void check_output_path(const std::string& path, const char* what, bool overwrite,
                       const std::vector<std::string>& inputs);

// Outputs as (option, path): throws UsageError naming both options when two of them are the same
// file (after resolving "..", "." and symbolic links of the directories).
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

// check_output_path for every file of the output.
void check_roi_output(const RoiOutput& output, const std::vector<std::string>& inputs);

// Collective over comm: writes the output under temporary names and returns them uncommitted (rank
// 0 owns them), so that a program can commit them together with its other outputs
// (commit_outputs) — or drop them, which removes them. `pattern_type`: the HDF5 type patterns are
// stored in (negative: the source's native type). on_phase("write") is called on every rank before
// its rank-local writes.
std::vector<PendingOutput> write_roi(const RoiOutput& output, const RoiResult& result, const ScanPositions& positions,
                                     const PixelSelection& pixels, const FrameSource& source, hid_t pattern_type,
                                     const RoiRecordInfo& info, const std::vector<std::string>& inputs, MPI_Comm comm,
                                     const std::function<void(const char*)>& on_phase = {});

// Collective: rank 0 commits the outputs (all or none, commit_all); every rank learns the outcome.
void commit_outputs(std::vector<PendingOutput>& outputs, MPI_Comm comm);

}  // namespace ptyroi
