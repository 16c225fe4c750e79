#include "ptyroi/io/pattern_layout.hpp"

#include "ptyroi/core/frame_window.hpp"

#include <cmath>
#include <type_traits>
#include <vector>

namespace ptyroi {

WindowPixels window_pixels(const PixelSelection& selection, std::size_t stored_rows, std::size_t stored_cols) {
  const FrameWindow frame = frame_window(selection, stored_rows, stored_cols);
  WindowPixels window;
  window.rows = frame.analysed_rows();
  window.cols = frame.analysed_cols;
  window.has_max_valid = selection.has_max_valid;
  window.max_valid = selection.max_valid;
  if (!selection.good_pixels.empty()) {
    window.good.resize(window.rows * window.cols);
    extract_window(selection.good_pixels.data(), PixelType::u8, frame, window.good.data());
  }
  return window;
}

PixelType output_pixel_type(const PatternLayout& layout, PixelType stored) {
  return layout.pixel_type.value_or(stored);
}

namespace {

// The shift (in pixels, modulo n) that takes an analysed (centred) index to its written index. To
// the corner is numpy's ifftshift: written[i] = centred[(i + n/2) % n], so centred j lands at
// (j + n − n/2) % n.
std::size_t shift_of(std::size_t n, const WindowPixels&, const PatternLayout& layout) {
  return layout.corner && n > 0 ? n - n / 2 : 0;
}

bool any_bad_possible(const WindowPixels& window, PixelType stored) {
  return !window.good.empty() || window.has_max_valid || is_floating(stored);
}

template <class In, class Out>
std::int64_t convert(const In* in, std::size_t count, const WindowPixels& window, const PatternLayout& layout,
                     Out* out) {
  const std::size_t rows = window.rows, cols = window.cols, size = rows * cols;
  const std::size_t row_shift = shift_of(rows, window, layout), col_shift = shift_of(cols, window, layout);
  const bool zero = layout.zero_bad_pixels;
  std::vector<std::size_t> column(cols);  // where each column goes, computed once
  for (std::size_t c = 0; c < cols; ++c) column[c] = (c + col_shift) % cols;
  std::int64_t zeroed = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const In* frame = in + k * size;
    Out* written = out + k * size;
    for (std::size_t r = 0; r < rows; ++r) {
      Out* row = written + ((r + row_shift) % rows) * cols;
      for (std::size_t c = 0; c < cols; ++c) {
        const In value = frame[r * cols + c];
        bool bad = false;
        if (zero) {
          if constexpr (std::is_floating_point_v<In>) bad = !std::isfinite(value);
          bad = bad || (!window.good.empty() && window.good[r * cols + c] == 0) ||
                (window.has_max_valid && static_cast<double>(value) > window.max_valid);
        }
        zeroed += bad ? 1 : 0;
        row[column[c]] = bad ? Out{0} : static_cast<Out>(value);
      }
    }
  }
  return zeroed;
}

}  // namespace

bool needs_conversion(const PatternLayout& layout, PixelType stored, const WindowPixels& window) {
  return output_pixel_type(layout, stored) != stored || shift_of(window.rows, window, layout) != 0 ||
         shift_of(window.cols, window, layout) != 0 || (layout.zero_bad_pixels && any_bad_possible(window, stored));
}

std::int64_t convert_frames(const void* in, PixelType stored, std::size_t count, const WindowPixels& window,
                            const PatternLayout& layout, void* out) {
  return visit_pixel_type(stored, [&](auto in_pixel) {
    using In = decltype(in_pixel);
    return visit_pixel_type(output_pixel_type(layout, stored), [&](auto out_pixel) {
      using Out = decltype(out_pixel);
      return convert(static_cast<const In*>(in), count, window, layout, static_cast<Out*>(out));
    });
  });
}

std::size_t layout_row(std::size_t row, const WindowPixels& window, const PatternLayout& layout) {
  return (row + shift_of(window.rows, window, layout)) % window.rows;
}

std::size_t layout_col(std::size_t col, const WindowPixels& window, const PatternLayout& layout) {
  return (col + shift_of(window.cols, window, layout)) % window.cols;
}

std::vector<std::uint8_t> layout_bad_pixels(const WindowPixels& window, const PatternLayout& layout) {
  std::vector<std::uint8_t> bad(window.rows * window.cols, 0);
  if (window.good.empty()) return bad;
  for (std::size_t r = 0; r < window.rows; ++r) {
    for (std::size_t c = 0; c < window.cols; ++c) {
      bad[layout_row(r, window, layout) * window.cols + layout_col(c, window, layout)] =
          window.good[r * window.cols + c] == 0 ? 1 : 0;
    }
  }
  return bad;
}

}  // namespace ptyroi
