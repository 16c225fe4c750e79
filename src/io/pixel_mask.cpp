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
  h5::require_numbers(dataset.get(), what + " '" + spec.path + "' in '" + spec.file + "'");
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
  if (!good.empty() && std::find(good.begin(), good.end(), std::uint8_t{1}) == good.end()) {
    throw InputError("the bad-pixel mask (" + sources + ") of '" + input_file + "' marks all " + std::to_string(rows) +
                     "x" + std::to_string(cols) + " pixels bad: nothing is left to sum");
  }
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
    const bool is_unsigned = pixel_type == PixelType::u8 || pixel_type == PixelType::u16 ||
                             pixel_type == PixelType::u32 || pixel_type == PixelType::u64;
    if (is_unsigned && *options.max_valid < 0.0) {
      std::ostringstream message;
      message << "--max-valid " << *options.max_valid << " leaves out every pixel of the "
              << pixel_type_name(pixel_type) << " frames (no value is at or below it)";
      throw UsageError(message.str());
    }
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
    const bool from_file = !options.beam_center && input.has_beam_center;
    // Checked in double before any conversion: a centre of 1e30 or 3.4e38 (an "unset" value in a
    // file) has no integer pixel, and the window's ends must not wrap.
    const auto describe_centre = [&] {
      std::ostringstream text;
      text << "(" << centre_x << ", " << centre_y << ") from " << from;
      return text.str();
    };
    const double frame_cols = static_cast<double>(cols), frame_rows = static_cast<double>(rows);
    const bool centre_inside = std::isfinite(centre_x) && std::isfinite(centre_y) && centre_x >= -0.5 &&
                               centre_y >= -0.5 && centre_x < frame_cols - 0.5 && centre_y < frame_rows - 0.5;
    if (from_file && !centre_inside) {
      throw InputError("the beam centre " + describe_centre() + " lies outside the " + std::to_string(rows) + "x" +
                       std::to_string(cols) + " frames (an unset value?): give --beam-center X,Y with --crop");
    }
    // N pixels centred on the beam: the window starts N/2 pixels before the pixel holding it.
    const double n = static_cast<double>(options.crop);
    const double first_col = centre_inside ? std::floor(centre_x + 0.5) - std::floor(n / 2.0) : -1.0;
    const double first_row = centre_inside ? std::floor(centre_y + 0.5) - std::floor(n / 2.0) : -1.0;
    if (!(first_col >= 0.0 && first_row >= 0.0 && first_col + n <= frame_cols && first_row + n <= frame_rows)) {
      std::ostringstream message;
      message << "--crop " << options.crop << " around the beam centre " << describe_centre() << " does not fit in the "
              << rows << "x" << cols << " frames";
      throw UsageError(message.str());
    }
    const auto row0 = static_cast<std::int64_t>(first_row);
    const auto col0 = static_cast<std::int64_t>(first_col);
    const auto n_pixels = static_cast<std::int64_t>(options.crop);
    selection.window_row = static_cast<std::size_t>(row0);
    selection.window_col = static_cast<std::size_t>(col0);
    selection.window_rows = selection.window_cols = static_cast<std::size_t>(n_pixels);
  }
  return selection;
}

}  // namespace ptyroi
