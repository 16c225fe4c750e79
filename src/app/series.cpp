#include "ptyroi/app/series.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ptyroi/app/scan_outputs.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/roi_writer.hpp"

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
  require_not_directory(list_file, "--input-list");
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

std::string series_summary_json_path(const Options& series) {
  std::string path = series_summary_path(series);
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0) path.resize(path.size() - 4);
  return path + ".json";
}

void check_series_outputs(const Options& series, const std::vector<std::string>& inputs) {
  std::vector<std::string> all_inputs = inputs;
  all_inputs.push_back(series.input_list);
  if (!series.config_file.empty()) all_inputs.push_back(series.config_file);
  // Each output file, by its resolved name, with who writes it.
  std::map<std::string, std::string> writer_of;
  const auto claim = [&](const std::string& path, const std::string& writer) {
    std::error_code error;
    std::filesystem::path key = std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
    if (error) key = std::filesystem::path(path).lexically_normal();
    const auto [it, fresh] = writer_of.emplace(key.string(), writer);
    if (!fresh) {
      throw UsageError("--input-list '" + series.input_list + "': " + it->second + " and " + writer +
                       " would both write '" + path + "'; give the inputs distinct names or separate --output-dir");
    }
  };
  const std::string csv = series_summary_path(series);
  const std::string json = series_summary_json_path(series);
  claim(csv, "the series summary");
  claim(json, "the series summary");
  for (const std::string& input : inputs) {
    for (const auto& [what, path] : scan_output_files(series_scan_options(series, input))) {
      claim(path, "the scan '" + input + "'");
      // An existing output is that scan's own failure later ("already exists"), unless it is an input
      // or not a regular file: then the series stops before it starts.
      struct stat status {};
      if (lstat(path.c_str(), &status) == 0) check_output_path(path, what.c_str(), true, all_inputs);
    }
  }
  check_output_path(csv, "--series-summary", series.overwrite, all_inputs);
  check_output_path(json, "--series-summary", series.overwrite, all_inputs);
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
