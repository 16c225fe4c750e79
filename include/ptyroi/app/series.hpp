#pragma once
// Tomography series in one allocation (--input-list): the scans one after another on all ranks,
// each output named from its input, and a series summary (CSV and JSON) rewritten after every scan
// so a long series shows its progress and a killed job keeps what it finished. A scan that fails
// is recorded with its error and the series goes on.
#include <string>
#include <vector>

#include "ptyroi/app/options.hpp"

namespace ptyroi {

struct SeriesEntry {
  std::string input;
  std::string output;  // the first output file; empty when none is written
  bool ok = false;
  std::uint64_t frames = 0;
  std::int64_t roi_frames = 0;
  double seconds = 0.0;
  std::string error;
};

// The inputs of a list file: one path per line; blank lines and '#' comments skipped; relative
// paths are relative to the list's directory. Throws InputError naming the list.
std::vector<std::string> read_input_list(const std::string& list_file);

// The options of one scan of the series: --input set, --output (and --summary) named from the
// input's stem ("scan_0042_master.h5" → "scan_0042_roi.h5", "scan_0042_roi.json") in --output-dir,
// else next to the input.
Options series_scan_options(const Options& series, const std::string& input);

// Where the series summary goes: --series-summary, else ptyroi_series.csv in --output-dir or in the
// list's directory. The JSON twin has the same name with .json.
std::string series_summary_path(const Options& series);

// Its JSON twin: the same name with .json for .csv.
std::string series_summary_json_path(const Options& series);

// Rank-local, before the first scan: no two scans (nor the series summary) write the same file, no
// output is one of the inputs (by any name) or the list, and the series summary (CSV and JSON) does
// not exist unless --overwrite. Throws UsageError naming the list, the inputs and the file.
void check_series_outputs(const Options& series, const std::vector<std::string>& inputs);

std::string series_csv(const std::vector<SeriesEntry>& entries);
std::string series_json(const std::vector<SeriesEntry>& entries);

}  // namespace ptyroi
