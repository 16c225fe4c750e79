#pragma once
// The outputs of a scan's run: the RoI files (written uncommitted by run_scan), its previews
// (--preview) and its summary (--summary). All of them are checked before anything is read or
// written (check_scan_outputs), written under temporary names, and committed together only when
// every one is complete, so that a failure anywhere leaves no output behind (and a rerun does not
// stop at "already exists").
#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

#include "ptyroi/app/scan_run.hpp"

namespace ptyroi {

// Every output file of a run with these options, as (option, path): the RoI files, the summary and
// the preview images.
std::vector<std::pair<std::string, std::string>> scan_output_files(const Options& options);

// Rank-local, before any heavy work: no two outputs are the same file, none is one of `inputs` (by
// any name), none exists unless --overwrite, none is a link, device or directory, and each can be
// created where it goes (the preview directory: an existing directory, or one that can be made).
// Throws UsageError naming the option and the path.
void check_scan_outputs(const Options& options, const std::vector<std::string>& inputs);

// Collective over comm: the previews and the summary written beside the RoI files, then all of them
// committed together (all or none).
void finish_scan_outputs(ScanRun& run, MPI_Comm comm);

}  // namespace ptyroi
