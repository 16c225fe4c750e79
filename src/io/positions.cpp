#include "ptyroi/io/positions.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <utility>

#include <unistd.h>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/h5.hpp"

namespace ptyroi {

DatasetSpec parse_dataset_spec(const std::string& spec, const std::string& default_file) {
  // HDF5 paths are absolute, so "FILE:/PATH" splits at the last ":/" (file names may hold ':').
  const auto split = spec.rfind(":/");
  if (split == std::string::npos) return {default_file, spec};
  return {spec.substr(0, split), spec.substr(split + 1)};
}

namespace {

const char* cxi_translation = "/entry_1/sample_1/geometry_1/translation";

// `frames` of read_column for a scan still being acquired: as many as are written now.
constexpr std::uint64_t kWritten = std::numeric_limits<std::uint64_t>::max();

// How many entries of `dataset` (in `file_name`) are written now: its extent once no writer holds
// the file, else the prefix whose chunks are written (h5::complete_prefix).
std::uint64_t written_entries(hid_t dataset, const std::string& file_name) {
  const bool writing = h5::open_for_writing(file_name);
  if (H5Drefresh(dataset) < 0) H5Eclear2(H5E_DEFAULT);  // opened without SWMR: as it is
  const std::uint64_t extent = h5::dataset_dims(dataset).at(0);
  return writing ? h5::complete_prefix(dataset, 0, extent) : extent;
}

// One column of positions from an open file: a [K] or [K, 1] dataset, or column `column` of a
// [K, n] one (column < 0: one column only). `spec` and `option` name it in errors.
std::vector<double> read_column(hid_t file, const DatasetSpec& spec, std::uint64_t frames, int column,
                                const char* option) {
  h5::Handle dataset = h5::open_dataset(file, spec.path, spec.file);
  const auto dims = h5::dataset_dims(dataset.get());
  const std::string where = "positions '" + spec.path + "' in '" + spec.file + "' (" + option + ")";
  const bool one_column = dims.size() == 1 || (dims.size() == 2 && dims[1] == 1);
  if (!one_column && !(column >= 0 && dims.size() == 2 && dims[1] > static_cast<hsize_t>(column))) {
    throw InputError(where + " has an unexpected shape; expected [K] or [K, 1]" +
                     (column >= 0 ? " or [K, n]" : "; a [K, n] dataset goes to --positions with --positions-columns"));
  }
  if (frames != kWritten && dims[0] != frames) {
    throw InputError(where + " holds " + std::to_string(dims[0]) + " positions but the stack has " +
                     std::to_string(frames) + " frames");
  }
  h5::require_numbers(dataset.get(), where);
  const std::uint64_t written = frames == kWritten ? written_entries(dataset.get(), spec.file) : frames;
  auto values = h5::read_all<double>(dataset.get());
  values.resize(std::min<std::size_t>(values.size(), written * (one_column ? 1 : dims[1])));
  frames = values.size() / (one_column ? 1 : dims[1]);
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

// The input's own positions: /positions_x + /positions_y, else the CXI translation; nullopt when
// it has neither (broken ones throw).
std::optional<ScanPositions> read_default_positions(const std::string& input_file, std::uint64_t frames) {
  h5::Handle file = h5::open_file_read_serial(input_file);
  ScanPositions positions;
  if (h5::object_exists(file.get(), "/positions_x") || h5::object_exists(file.get(), "/positions_y")) {
    positions.x = read_column(file.get(), {input_file, "/positions_x"}, frames, -1, "default");
    positions.y = read_column(file.get(), {input_file, "/positions_y"}, frames, -1, "default");
    positions.source = input_file + ":/positions_x, /positions_y";
  } else if (h5::object_exists(file.get(), cxi_translation)) {
    positions.x = read_column(file.get(), {input_file, cxi_translation}, frames, 0, "default");
    positions.y = read_column(file.get(), {input_file, cxi_translation}, frames, 1, "default");
    positions.source = input_file + ":" + cxi_translation;
  } else {
    return std::nullopt;
  }
  return positions;
}

InputError no_positions_error(const std::string& input_file) {
  return InputError("no scan positions in '" + input_file + "' (tried /positions_x + /positions_y and " +
                    cxi_translation +
                    "); name them with --positions FILE.csv or --positions-x/--positions-y, or place the frames "
                    "with --grid");
}

}  // namespace

ScanPositions read_positions(const std::string& input_file, const std::string& x_spec, const std::string& y_spec,
                             std::uint64_t frames) {
  if (x_spec.empty() && y_spec.empty()) {
    if (auto positions = read_default_positions(input_file, frames)) return std::move(*positions);
    throw no_positions_error(input_file);
  }
  if (x_spec.empty() || y_spec.empty()) {
    throw UsageError("--positions-x and --positions-y must be given together");
  }
  const DatasetSpec x = parse_dataset_spec(x_spec, input_file);
  const DatasetSpec y = parse_dataset_spec(y_spec, input_file);
  // Both columns usually live in one file: it is opened once.
  h5::Handle x_file = h5::open_file_read_serial(x.file);
  h5::Handle y_file = y.file == x.file ? h5::Handle() : h5::open_file_read_serial(y.file);
  ScanPositions positions;
  positions.x = read_column(x_file.get(), x, frames, -1, "--positions-x");
  positions.y = read_column(y_file ? y_file.get() : x_file.get(), y, frames, -1, "--positions-y");
  positions.source = x.file + ":" + x.path + ", " + y.file + ":" + y.path;
  return positions;
}

namespace {

// Comma or semicolon separated when the line has either (fields trimmed), else whitespace separated.
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  const bool delimited = line.find_first_of(",;") != std::string::npos;
  const char* separators = delimited ? ",;" : " \t\r";
  std::size_t begin = 0;
  while (begin <= line.size()) {
    std::size_t end = line.find_first_of(separators, begin);
    if (end == std::string::npos) end = line.size();
    std::string field = line.substr(begin, end - begin);
    const auto first = field.find_first_not_of(" \t\r");
    const auto last = field.find_last_not_of(" \t\r");
    field = first == std::string::npos ? "" : field.substr(first, last - first + 1);
    if (delimited || !field.empty()) fields.push_back(field);
    begin = end + 1;
  }
  return fields;
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Index of a column named by header name or 0-based index.
std::size_t column_index(const std::string& name, const std::vector<std::string>& header, std::size_t width,
                         const std::string& source) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  double index = 0;
  if (parse_number(name, index) && index >= 0 && index == std::floor(index) && index < static_cast<double>(width)) {
    return static_cast<std::size_t>(index);
  }
  throw UsageError("--positions-columns: '" + name + "' is neither a column name nor a column index of '" + source +
                   "' (" + std::to_string(width) + " columns)");
}

}  // namespace

bool is_dataset_spec(const std::string& spec, const std::string& input_file) {
  // "FILE:/PATH"; or "/PATH" that names no file on disk but a dataset of the input.
  if (spec.find(":/") != std::string::npos) return access(spec.c_str(), F_OK) != 0;
  if (spec.empty() || spec[0] != '/' || access(spec.c_str(), F_OK) == 0) return false;
  if (H5Fis_hdf5(input_file.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  h5::Handle file = h5::open_file_read_serial(input_file);
  return h5::is_dataset(file.get(), spec);
}

ScanPositions read_position_columns(const DatasetSpec& spec, const std::string& columns, std::uint64_t frames) {
  h5::Handle file = h5::open_file_read_serial(spec.file);
  const std::string where = "positions '" + spec.path + "' in '" + spec.file + "' (--positions)";
  std::size_t x_column = 0, y_column = 1;
  if (!columns.empty()) {
    const auto comma = columns.find(',');
    const auto index = [&](const std::string& text) {
      double value = 0.0;
      if (!parse_number(text, value) || value < 0 || value != std::floor(value) || value > 64) {
        throw UsageError("--positions-columns '" + columns + "': a dataset's columns are 0-based indices (e.g. 1,0)");
      }
      return static_cast<std::size_t>(value);
    };
    if (comma == std::string::npos) throw UsageError("--positions-columns '" + columns + "' is not X,Y");
    x_column = index(columns.substr(0, comma));
    y_column = index(columns.substr(comma + 1));
  }
  h5::Handle dataset = h5::open_dataset(file.get(), spec.path, spec.file);
  const auto dims = h5::dataset_dims(dataset.get());
  if (dims.size() != 2 || dims[1] <= std::max(x_column, y_column)) {
    std::string shape;
    for (const hsize_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    throw InputError(where + " is " + (shape.empty() ? "a scalar" : shape) + "; expected [K, n] with columns " +
                     std::to_string(x_column) + " (x) and " + std::to_string(y_column) + " (y)");
  }
  ScanPositions positions;
  positions.x = read_column(file.get(), spec, frames, static_cast<int>(x_column), "--positions");
  positions.y = read_column(file.get(), spec, frames, static_cast<int>(y_column), "--positions");
  positions.source =
      spec.file + ":" + spec.path + " (columns " + std::to_string(x_column) + ", " + std::to_string(y_column) + ")";
  return positions;
}

ScanPositions parse_position_table(std::istream& in, const std::string& columns, const std::string& source) {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  std::string line;
  std::size_t line_number = 0;
  std::size_t width = 0;
  while (std::getline(in, line)) {
    ++line_number;
    // A UTF-8 byte-order mark, as spreadsheet programs write it, is not part of the first field.
    if (line_number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::vector<std::string> fields = split_fields(line);
    std::vector<double> numbers(fields.size());
    bool numeric = true;
    for (std::size_t i = 0; i < fields.size(); ++i) numeric = numeric && parse_number(fields[i], numbers[i]);
    if (!numeric) {
      if (rows.empty() && header.empty()) {
        header = fields;
        width = fields.size();
        continue;
      }
      throw InputError("positions file '" + source + "' line " + std::to_string(line_number) +
                       ": expected numbers, found '" + line + "'");
    }
    if (width == 0) width = numbers.size();
    if (numbers.size() != width) {
      throw InputError("positions file '" + source + "' line " + std::to_string(line_number) + " has " +
                       std::to_string(numbers.size()) + " fields; expected " + std::to_string(width));
    }
    rows.push_back(std::move(numbers));
  }
  if (width < 2) throw InputError("positions file '" + source + "' needs at least two columns (x and y)");
  std::size_t x_column = width - 2;
  std::size_t y_column = width - 1;
  if (!columns.empty()) {
    const auto comma = columns.find(',');
    if (comma == std::string::npos) throw UsageError("--positions-columns '" + columns + "' is not X,Y");
    x_column = column_index(columns.substr(0, comma), header, width, source);
    y_column = column_index(columns.substr(comma + 1), header, width, source);
  } else if (!header.empty()) {
    const auto named = [&](char axis) {
      for (std::size_t i = 0; i < header.size(); ++i) {
        const std::string name = lower(header[i]);
        if (!name.empty() && name[0] == axis) return i;
      }
      return header.size();
    };
    if (named('x') < width && named('y') < width) {
      x_column = named('x');
      y_column = named('y');
    }
  }
  ScanPositions positions;
  for (const auto& row : rows) {
    positions.x.push_back(row[x_column]);
    positions.y.push_back(row[y_column]);
  }
  const auto name = [&](std::size_t column) {
    return column < header.size() ? header[column] : "column " + std::to_string(column);
  };
  positions.source = source + " (" + name(x_column) + ", " + name(y_column) + ")";
  return positions;
}

double metres_per_unit(const std::string& unit) {
  if (unit == "m") return 1.0;
  if (unit == "mm") return 1e-3;
  if (unit == "um" || unit == "\u00b5m") return 1e-6;
  if (unit == "nm") return 1e-9;
  if (unit == "px") return 0.0;
  throw UsageError("--positions-unit '" + unit + "' is not one of m, mm, um, nm, px");
}

void check_extent(const ScanPositions& positions) {
  if (positions.empty() || positions.unit != "m") return;
  const auto [x_min, x_max] = std::minmax_element(positions.x.begin(), positions.x.end());
  const auto [y_min, y_max] = std::minmax_element(positions.y.begin(), positions.y.end());
  const double extent = std::max(*x_max - *x_min, *y_max - *y_min);
  if (extent == 0.0 || (extent >= 1e-9 && extent <= 0.1)) return;
  std::ostringstream message;
  message << "the scan positions (" << positions.source << ") span " << extent
          << " m, outside what a scan covers (1 nm to 10 cm): not metres?";
  std::string fits;
  for (const auto& [name, factor] : {std::pair<const char*, double>{"mm", 1e-3}, {"um", 1e-6}, {"nm", 1e-9}}) {
    if (extent * factor >= 1e-7 && extent * factor <= 1e-2) fits += std::string(fits.empty() ? "" : " or ") + name;
  }
  if (!fits.empty())
    message << " As " << fits << " they would fit: --positions-unit " << fits.substr(0, fits.find(' ')) << ";";
  if (extent > 1.0) message << " pixels: --positions-unit px --positions-pixel-size METRES;";
  message << " or --positions-scale";
  throw InputError(message.str());
}

void transform_positions(ScanPositions& positions, const PositionsSpec& options) {
  if (options.swap_xy) positions.x.swap(positions.y);
  // To metres: scale × unit; pixels without a pixel size stay pixels (and say so).
  const double per_unit = metres_per_unit(options.unit);
  const double to_metres = per_unit > 0.0 ? per_unit : options.pixel_size;
  const double factor = options.scale * (to_metres > 0.0 ? to_metres : 1.0);
  positions.unit = to_metres > 0.0 ? "m" : "px";
  for (double& x : positions.x) x = (options.flip_x ? -x : x) * factor;
  for (double& y : positions.y) y = (options.flip_y ? -y : y) * factor;
  std::string notes;
  if (options.swap_xy) notes += " swapped";
  if (options.flip_x) notes += " x flipped";
  if (options.flip_y) notes += " y flipped";
  if (options.scale != 1.0) {
    std::ostringstream scale;
    scale << " scaled by " << options.scale;
    notes += scale.str();
  }
  if (options.unit != "m") {
    std::ostringstream unit;
    unit << " in " << options.unit;
    if (options.unit == "px" && options.pixel_size > 0.0) unit << " of " << options.pixel_size << " m";
    if (options.unit == "px" && !(options.pixel_size > 0.0)) unit << " (no pixel size: kept in pixels)";
    notes += unit.str();
  }
  if (!notes.empty()) positions.source += ";" + notes;
}

ScanPositions read_scan_positions(const PositionsSpec& spec, const std::string& input_file,
                                  const InputDescription& input, std::uint64_t frames, bool required) {
  ScanPositions positions;
  if (spec.none) {
    if (required) throw UsageError("--positions none leaves the frames nowhere: give the raster with --grid");
    positions.source = "none (--positions none): the --grid column and row of each frame, in scan steps";
    return positions;
  }
  if (!spec.table_file.empty() && is_dataset_spec(spec.table_file, input_file)) {
    positions = read_position_columns(parse_dataset_spec(spec.table_file, input_file), spec.table_columns, frames);
  } else if (!spec.table_file.empty()) {
    require_not_directory(spec.table_file, "positions file");
    std::ifstream file(spec.table_file);
    if (!file) throw InputError("positions file '" + spec.table_file + "' cannot be read");
    positions = parse_position_table(file, spec.table_columns, spec.table_file);
    if (positions.x.size() != frames) {
      throw InputError("positions file '" + spec.table_file + "' holds " + std::to_string(positions.x.size()) +
                       " positions but the stack has " + std::to_string(frames) + " frames");
    }
    for (std::size_t k = 0; k < frames; ++k) {
      if (!std::isfinite(positions.x[k]) || !std::isfinite(positions.y[k])) {
        throw InputError("positions file '" + spec.table_file + "' has a non-finite value at frame " +
                         std::to_string(k));
      }
    }
  } else if (!spec.x_dataset.empty() || !spec.y_dataset.empty()) {
    positions = read_positions(input_file, spec.x_dataset, spec.y_dataset, frames);
  } else if (!input.positions_file.empty()) {
    positions = read_positions(input_file, input.positions_file + ":" + input.positions_x,
                               input.positions_file + ":" + input.positions_y, frames);
  } else if (auto defaults = read_default_positions(input_file, frames)) {
    positions = std::move(*defaults);
  } else {
    if (required) throw no_positions_error(input_file);
    positions.source = "none in the input: the --grid column and row of each frame, in scan steps";
    return positions;
  }
  transform_positions(positions, spec);
  check_extent(positions);
  return positions;
}

AvailablePositions read_available_positions(const PositionsSpec& spec, const std::string& input_file,
                                            const InputDescription& input, bool grid_given) {
  AvailablePositions available;
  ScanPositions& positions = available.positions;
  if (spec.none) {
    available.unlimited = true;
    positions.source = "none (--positions none): the --grid column and row of each frame, in scan steps";
    return available;
  }
  if (!spec.table_file.empty() && is_dataset_spec(spec.table_file, input_file)) {
    positions = read_position_columns(parse_dataset_spec(spec.table_file, input_file), spec.table_columns, kWritten);
  } else if (!spec.table_file.empty()) {
    // Complete lines only: the last one may be half written.
    std::ifstream file(spec.table_file, std::ios::binary);
    if (!file) {
      available.waiting = "positions file '" + spec.table_file + "' cannot be read yet";
      return available;
    }
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    std::istringstream lines(text);
    positions = parse_position_table(lines, spec.table_columns, spec.table_file);
  } else if (!spec.x_dataset.empty() || !spec.y_dataset.empty()) {
    positions = read_positions(input_file, spec.x_dataset, spec.y_dataset, kWritten);
  } else if (!input.positions_file.empty()) {
    positions = read_positions(input_file, input.positions_file + ":" + input.positions_x,
                               input.positions_file + ":" + input.positions_y, kWritten);
  } else if (auto defaults = read_default_positions(input_file, kWritten)) {
    positions = std::move(*defaults);
  } else {
    available.unlimited = grid_given;
    if (!grid_given) available.waiting = no_positions_error(input_file).what();
    positions.source = "none in the input: the --grid column and row of each frame, in scan steps";
    return available;
  }
  const std::size_t known = std::min(positions.x.size(), positions.y.size());
  positions.x.resize(known);
  positions.y.resize(known);
  for (std::size_t k = 0; k < known; ++k) {
    if (!std::isfinite(positions.x[k]) || !std::isfinite(positions.y[k])) {
      throw InputError("positions (" + positions.source + ") have a non-finite value at frame " + std::to_string(k));
    }
  }
  transform_positions(positions, spec);
  return available;
}

}  // namespace ptyroi
