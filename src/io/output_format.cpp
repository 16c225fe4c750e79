#include "ptyroi/io/output_format.hpp"

#include "formats/formats.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"

namespace ptyroi {

const std::vector<const OutputFormat*>& output_formats() {
  static const std::vector<const OutputFormat*> formats = {
      &formats::cxi(), &formats::ptychoshelves(), &formats::ptychodus(), &formats::tike(), &formats::mask_only(),
  };
  return formats;
}

const OutputFormat* find_output_format(std::string_view name) {
  for (const OutputFormat* format : output_formats()) {
    if (format->name == name) return format;
  }
  return nullptr;
}

const OutputFormat& output_format(std::string_view name) {
  if (const OutputFormat* format = find_output_format(name)) return *format;
  throw UsageError("format '" + std::string(name) + "' is not one of " + output_format_names());
}

std::string output_format_names(std::string_view separator) {
  std::string names;
  for (const OutputFormat* format : output_formats()) {
    if (!names.empty()) names += separator;
    names += format->name;
  }
  return names;
}

void FormatWriter::write_patterns(std::uint64_t first, std::uint64_t count, const void* frames, hid_t transfer) {
  const hid_t data = patterns();
  if (data < 0 || count == 0) return;
  h5::Handle type = h5::checked(H5Dget_type(data), "cannot read the type of the patterns");
  h5::Handle native = h5::checked(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), "cannot map the pattern type");
  const std::vector<hsize_t> dims = h5::dataset_dims(data);
  h5::Handle file_space = h5::select_frames(data, first, count);
  h5::Handle memory = h5::memory_space({count, dims.at(1), dims.at(2)});
  h5::check(H5Dwrite(data, native.get(), memory.get(), file_space.get(), transfer, frames),
            "cannot write the patterns");
}

namespace {

// "a, b and c"
std::string listed(const std::vector<std::string>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  }
  return text;
}

// Why a missing item is missing, when the input had one that could not be used.
std::string problem_of(const InstrumentMetadata& instrument, const std::string& item) {
  for (const auto& [which, what] : instrument.problems) {
    if (which == item) return " (" + what + ")";
  }
  return "";
}

}  // namespace

namespace {

struct Shortfall {
  bool required = true;
  std::string text;
};

std::vector<Shortfall> shortfalls_of(const OutputFormat& format, const InstrumentMetadata& instrument,
                                     std::uint64_t rows, std::uint64_t cols, bool metric_positions) {
  std::vector<Shortfall> shortfalls;
  const FormatNeeds& needs = format.needs;
  const std::string reader(needs.reader);
  if (needs.instrument != Need::no) {
    std::vector<std::string> missing, options;
    if (!instrument.has_energy()) {
      missing.push_back("the photon energy" + problem_of(instrument, "energy"));
      options.emplace_back("--energy KEV");
    }
    if (!instrument.distance) {
      missing.push_back("the detector distance" + problem_of(instrument, "distance"));
      options.emplace_back("--distance M");
    }
    if (!instrument.has_pixel_size()) {
      missing.push_back("the detector pixel size" + problem_of(instrument, "pixel size"));
      options.emplace_back("--pixel-size M");
    }
    if (!missing.empty()) {
      shortfalls.push_back(
          {needs.instrument == Need::required,
           reader + " needs " + listed(missing) + ", which the input does not give: add " + listed(options)});
    }
  }
  if (needs.square_frames && rows != cols) {
    shortfalls.push_back({true, reader + " needs square frames and these are " + std::to_string(rows) + "x" +
                                    std::to_string(cols) + ": add --crop N"});
  }
  if (needs.metric_positions && !metric_positions) {
    shortfalls.push_back({true, reader + " needs scan positions in metres and these are none, or pixels without a "
                                         "size: add --positions (or --positions-x/-y) with --positions-unit, and "
                                         "--positions-pixel-size for pixels"});
  }
  return shortfalls;
}

}  // namespace

std::vector<std::string> format_shortfalls(const OutputFormat& format, const InstrumentMetadata& instrument,
                                           std::uint64_t rows, std::uint64_t cols, bool metric_positions) {
  std::vector<std::string> texts;
  for (const Shortfall& shortfall : shortfalls_of(format, instrument, rows, cols, metric_positions)) {
    texts.push_back(shortfall.text);
  }
  return texts;
}

std::vector<std::string> check_format_needs(const OutputFormat& format, const InstrumentMetadata& instrument,
                                            std::uint64_t rows, std::uint64_t cols, bool metric_positions) {
  const std::string prefix = "--format " + std::string(format.name) + ": ";
  std::string refused;
  std::vector<std::string> warnings;
  for (const Shortfall& shortfall : shortfalls_of(format, instrument, rows, cols, metric_positions)) {
    if (shortfall.required) {
      refused += (refused.empty() ? "" : "; ") + shortfall.text;
    } else {
      warnings.push_back(prefix + shortfall.text);
    }
  }
  if (!refused.empty()) throw UsageError(prefix + refused);
  return warnings;
}

}  // namespace ptyroi
