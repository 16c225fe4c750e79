#pragma once
// `ptyroi inspect FILE`: what ptyroi sees in an input before anyone submits a job — the detected
// layout, the stack (K, frame shape, pixel type, chunks, each filter and whether its plugin is
// present), masks and flag values, beam centre, positions (count, extent, grid or not) and the
// command line it suggests. Serial HDF5 on one process; problems are reported, not thrown,
// except when the file cannot be opened at all.
#include <string>

#include "ptyroi/app/options.hpp"

namespace ptyroi {

std::string inspect_input(const Options& options);

}  // namespace ptyroi
