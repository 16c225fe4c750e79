#include "ptyroi/io/pixel_mask.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/positions.hpp"

namespace ptyroi {

std::vector<std::uint8_t> read_good_pixels(const std::string& mask_spec, const std::string& input_file,
                                           std::uint64_t rows, std::uint64_t cols, const std::string& what) {
  const DatasetSpec spec = parse_dataset_spec(mask_spec, input_file);
  h5::Handle file = h5::open_file_read_serial(spec.file);
  h5::Handle dataset = h5::open_dataset(file.get(), spec.path, spec.file);
  const auto dims = h5::dataset_dims(dataset.get());
  std::string shape;
  for (hsize_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  if (dims.size() != 2 || dims[0] != rows || dims[1] != cols) {
    throw InputError(what + " '" + spec.path + "' in '" + spec.file + "' is " + (shape.empty() ? "a scalar" : shape) +
                     " but the frames are " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  // Non-zero = bad for every type: read as double, so a float mask's 0.5 is bad too.
  const auto bad = h5::read_all<double>(dataset.get());
  std::vector<std::uint8_t> good(bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) good[i] = bad[i] == 0.0 ? 1 : 0;
  return good;
}

std::vector<std::uint8_t> combined_good_pixels(const PixelSettings& options, const std::string& input_file,
                                               const InputDescription& input, std::uint64_t rows, std::uint64_t cols,
                                               std::string& sources) {
  std::vector<std::uint8_t> good;
  const auto combine = [&](const std::vector<std::uint8_t>& more, const std::string& source) {
    if (good.empty()) {
      good = more;
    } else {
      for (std::size_t i = 0; i < good.size(); ++i) good[i] &= more[i];
    }
    sources += (sources.empty() ? "" : " + ") + source;
  };
  if (options.use_file_mask && !input.mask_path.empty()) {
    combine(read_good_pixels(input.mask_path, input_file, rows, cols, "the input's mask"), input.mask_path);
  }
  if (!options.mask.empty()) combine(read_good_pixels(options.mask, input_file, rows, cols, "--mask"), options.mask);
  return good;
}

PixelSelection pixel_selection(const PixelSettings& options, const InputDescription& input, PixelType pixel_type,
                               std::uint64_t rows, std::uint64_t cols, std::vector<std::uint8_t> good_pixels) {
  PixelSelection selection;
  selection.good_pixels = std::move(good_pixels);
  selection.fftshift = options.fftshift.value_or(false);
  if (options.max_valid) {
    selection.has_max_valid = true;
    selection.max_valid = *options.max_valid;
  }
  // NXmx: a pixel at 2^bit_depth − 1 is the detector's "bad pixel" flag, whatever the mask says.
  if (input.bit_depth > 0 && pixel_type != PixelType::f32 && pixel_type != PixelType::f64) {
    const double flag = std::ldexp(1.0, input.bit_depth) - 1.0;
    const double below_flag = flag - 1.0;
    selection.max_valid = selection.has_max_valid ? std::min(selection.max_valid, below_flag) : below_flag;
    selection.has_max_valid = true;
  }
  if (options.crop > 0) {
    double centre_x = (static_cast<double>(cols) - 1.0) / 2.0;
    double centre_y = (static_cast<double>(rows) - 1.0) / 2.0;
    std::string from = "the frame centre";
    if (options.beam_center) {
      std::tie(centre_x, centre_y) = *options.beam_center;
      from = "the given beam centre";
    } else if (input.has_beam_center) {
      centre_x = input.beam_center_x;
      centre_y = input.beam_center_y;
      from = "the file's beam_center_x/y";
      if (selection.fftshift) {
        // The file's centre is in stored pixels; the window is taken of the centred frame.
        centre_x = std::fmod(centre_x + static_cast<double>(cols / 2), static_cast<double>(cols));
        centre_y = std::fmod(centre_y + static_cast<double>(rows / 2), static_cast<double>(rows));
        from += " (moved with the fftshift)";
      }
    }
    // N pixels centred on the beam: the window starts N/2 pixels before the pixel holding it.
    const auto n = static_cast<std::int64_t>(options.crop);
    const std::int64_t col0 = static_cast<std::int64_t>(std::floor(centre_x + 0.5)) - n / 2;
    const std::int64_t row0 = static_cast<std::int64_t>(std::floor(centre_y + 0.5)) - n / 2;
    if (col0 < 0 || row0 < 0 || col0 + n > static_cast<std::int64_t>(cols) ||
        row0 + n > static_cast<std::int64_t>(rows)) {
      std::ostringstream message;
      message << "crop " << n << " around the beam centre (" << centre_x << ", " << centre_y << ") from " << from
              << " does not fit in the " << rows << "x" << cols << " frames";
      throw UsageError(message.str());
    }
    selection.window_row = static_cast<std::size_t>(row0);
    selection.window_col = static_cast<std::size_t>(col0);
    selection.window_rows = selection.window_cols = static_cast<std::size_t>(n);
  }
  return selection;
}

}  // namespace ptyroi
