#include "ptyroi/app/series.hpp"

#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/file_paths.hpp"

namespace ptyroi {

namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// CSV field: quoted when it holds a separator, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::vector<std::string> read_input_list(const std::string& list_file) {
  std::ifstream in(list_file);
  if (!in) throw InputError("--input-list '" + list_file + "' cannot be read");
  std::vector<std::string> inputs;
  std::string line;
  while (std::getline(in, line)) {
    const std::string path = trimmed(line);
    if (path.empty() || path[0] == '#') continue;
    inputs.push_back(path[0] == '/' ? path : directory_of(list_file) + "/" + path);
  }
  if (inputs.empty()) throw InputError("--input-list '" + list_file + "' names no input file");
  return inputs;
}

Options series_scan_options(const Options& series, const std::string& input) {
  Options scan = series;
  scan.input_file = input;
  scan.input_list.clear();
  const std::string base = scan_output_base(input, series.output_dir) + "_roi";
  scan.output_file = base + ".h5";  // a multi-file format derives its names from it (ptychoshelves: _dp/_para)
  scan.summary_file = base + ".json";
  if (!series.preview_dir.empty()) scan.preview_dir = series.preview_dir + "/" + scan_stem(input);
  return scan;
}

std::string series_summary_path(const Options& series) {
  if (!series.series_summary.empty()) return series.series_summary;
  return (series.output_dir.empty() ? directory_of(series.input_list) : series.output_dir) + "/ptyroi_series.csv";
}

std::string series_csv(const std::vector<SeriesEntry>& entries) {
  std::ostringstream out;
  out << "input,status,frames,roi_frames,roi_fraction,seconds,output,error\n";
  for (const auto& e : entries) {
    out << csv_field(e.input) << ',' << (e.ok ? "ok" : "failed") << ',' << e.frames << ',' << e.roi_frames << ',';
    if (e.ok && e.frames > 0) {
      out << std::fixed << std::setprecision(4) << static_cast<double>(e.roi_frames) / static_cast<double>(e.frames);
    }
    out << ',' << std::fixed << std::setprecision(3) << e.seconds << ',' << csv_field(e.output) << ','
        << csv_field(e.error) << '\n';
  }
  return out.str();
}

std::string series_json(const std::vector<SeriesEntry>& entries) {
  nlohmann::ordered_json scans = nlohmann::ordered_json::array();
  std::size_t failed = 0;
  for (const auto& e : entries) {
    failed += e.ok ? 0 : 1;
    nlohmann::ordered_json scan{
        {"input", e.input}, {"status", e.ok ? "ok" : "failed"}, {"frames", e.frames}, {"roi_frames", e.roi_frames}};
    scan["roi_fraction"] =
        e.ok && e.frames > 0 ? nlohmann::ordered_json(static_cast<double>(e.roi_frames) / static_cast<double>(e.frames))
                             : nlohmann::ordered_json(nullptr);
    scan["seconds"] = e.seconds;
    scan["output"] = e.output.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.output);
    scan["error"] = e.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.error);
    scans.push_back(std::move(scan));
  }
  nlohmann::ordered_json summary{{"scans", entries.size()}, {"failed", failed}, {"results", scans}};
  return summary.dump(2) + "\n";
}

}  // namespace ptyroi
