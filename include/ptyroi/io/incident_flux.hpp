#pragma once
// The incident flux of each frame (a monitor: an ion chamber, a beam-current record), which the
// absorption contrast is normalised by: without it, a top-up injection or a beam loss during the
// scan splits the absorption map by flux instead of by sample.
#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

// Reads "[FILE:]PATH" (FILE defaults to input_file): a dataset of `frames` positive, finite numbers
// ([K], [K, 1] or [1, K]). Throws InputError naming the dataset and `what` (e.g. "--monitor").
std::vector<double> read_incident_flux(const std::string& spec, const std::string& input_file, std::uint64_t frames,
                                       const std::string& what);

// The run's incident flux: `spec` when given, else the input's own monitor (InputDescription::
// monitor_path) unless use_file_monitor is off, else none (empty). `source` says which.
std::vector<double> run_incident_flux(const std::string& spec, bool use_file_monitor, const std::string& input_file,
                                      const InputDescription& input, std::uint64_t frames, std::string& source);

}  // namespace ptyroi
