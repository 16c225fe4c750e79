#include "ptyroi/positions.hpp"

#include <cmath>

#include "ptyroi/error.hpp"
#include "ptyroi/h5.hpp"

namespace ptyroi {

DatasetSpec parse_dataset_spec(const std::string& spec, const std::string& default_file) {
  // HDF5 paths are absolute, so "FILE:/PATH" splits at the last ":/" (file names may hold ':').
  const auto split = spec.rfind(":/");
  if (split == std::string::npos) return {default_file, spec};
  return {spec.substr(0, split), spec.substr(split + 1)};
}

namespace {

const char* cxi_translation = "/entry_1/sample_1/geometry_1/translation";

std::vector<double> read_column(const DatasetSpec& spec, std::uint64_t frames, int column, const char* option) {
  h5::Handle file = h5::open_file_read_serial(spec.file);
  h5::Handle dataset = h5::open_dataset(file.get(), spec.path, spec.file);
  const auto dims = h5::dataset_dims(dataset.get());
  const std::string where = "positions '" + spec.path + "' in '" + spec.file + "' (" + option + ")";
  const bool one_column = dims.size() == 1 || (dims.size() == 2 && dims[1] == 1);
  if (!one_column && !(column >= 0 && dims.size() == 2 && dims[1] > static_cast<hsize_t>(column))) {
    throw InputError(where + " has an unexpected shape; expected [K] or [K, 1]" + (column >= 0 ? " or [K, 3]" : ""));
  }
  if (dims[0] != frames) {
    throw InputError(where + " holds " + std::to_string(dims[0]) + " positions but the stack has " +
                     std::to_string(frames) + " frames");
  }
  auto values = h5::read_all<double>(dataset.get());
  if (!one_column) {
    const std::size_t stride = dims[1];
    std::vector<double> selected(frames);
    for (std::size_t k = 0; k < frames; ++k) selected[k] = values[k * stride + static_cast<std::size_t>(column)];
    values.swap(selected);
  }
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!std::isfinite(values[k])) {
      throw InputError(where + " has a non-finite value at frame " + std::to_string(k));
    }
  }
  return values;
}

}  // namespace

ScanPositions read_positions(const std::string& input_file, const std::string& x_spec, const std::string& y_spec,
                             std::uint64_t frames) {
  ScanPositions positions;
  if (!x_spec.empty() || !y_spec.empty()) {
    if (x_spec.empty() || y_spec.empty()) {
      throw UsageError("--positions-x and --positions-y must be given together");
    }
    const DatasetSpec x = parse_dataset_spec(x_spec, input_file);
    const DatasetSpec y = parse_dataset_spec(y_spec, input_file);
    positions.x = read_column(x, frames, -1, "--positions-x");
    positions.y = read_column(y, frames, -1, "--positions-y");
    positions.source = x.file + ":" + x.path + ", " + y.file + ":" + y.path;
    return positions;
  }
  h5::Handle file = h5::open_file_read_serial(input_file);
  if (h5::is_dataset(file.get(), "/positions_x") && h5::is_dataset(file.get(), "/positions_y")) {
    positions.x = read_column({input_file, "/positions_x"}, frames, -1, "default");
    positions.y = read_column({input_file, "/positions_y"}, frames, -1, "default");
    positions.source = input_file + ":/positions_x, /positions_y";
  } else if (h5::is_dataset(file.get(), cxi_translation)) {
    positions.x = read_column({input_file, cxi_translation}, frames, 0, "default");
    positions.y = read_column({input_file, cxi_translation}, frames, 1, "default");
    positions.source = input_file + ":" + cxi_translation;
  } else {
    throw InputError("no scan positions in '" + input_file + "' (tried /positions_x + /positions_y and " +
                     cxi_translation + "); name them with --positions-x and --positions-y");
  }
  return positions;
}

}  // namespace ptyroi
