// The pattern conversion every format's copy goes through (io/pattern_layout.hpp): zero frequency
// moved as numpy's ifftshift/fftshift define it (odd sizes included), pixels that are not data
// zeroed, the element type converted, and masks moved like the frames.
#include "ptyroi/io/pattern_layout.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace ptyroi {
namespace {

WindowPixels window_of(std::size_t rows, std::size_t cols) {
  WindowPixels window;
  window.rows = rows;
  window.cols = cols;
  return window;
}

// numpy: ifftshift(a)[i] = a[(i + n//2) % n] along each axis.
std::vector<double> ifftshift(const std::vector<double>& a, std::size_t rows, std::size_t cols) {
  std::vector<double> out(a.size());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j)
      out[i * cols + j] = a[((i + rows / 2) % rows) * cols + (j + cols / 2) % cols];
  }
  return out;
}

TEST(PatternLayout, ToTheCornerIsIfftshiftForOddAndEvenSizes) {
  for (const auto [rows, cols] : {std::pair<std::size_t, std::size_t>{3, 5}, {4, 6}, {5, 4}, {1, 7}}) {
    std::vector<double> frame(rows * cols);
    std::iota(frame.begin(), frame.end(), 1.0);
    const PatternLayout corner{PixelType::f64, false, true};
    const WindowPixels window = window_of(rows, cols);
    ASSERT_TRUE(needs_conversion(corner, PixelType::f64, window));
    std::vector<double> out(frame.size());
    convert_frames(frame.data(), PixelType::f64, 1, window, corner, out.data());
    EXPECT_EQ(out, ifftshift(frame, rows, cols)) << rows << "x" << cols;
    // Centred pixel (rows/2, cols/2) — the beam — lands at [0, 0].
    EXPECT_EQ(out[0], frame[(rows / 2) * cols + cols / 2]);
    // Centred formats write the analysed frame as it is.
    EXPECT_FALSE(needs_conversion(PatternLayout{PixelType::f64, false, false}, PixelType::f64, window));
  }
}

TEST(PatternLayout, PixelsThatAreNotDataBecomeZeroAndAreCounted) {
  const std::size_t rows = 2, cols = 3;
  WindowPixels window = window_of(rows, cols);
  window.good = {1, 0, 1, 1, 1, 1};  // pixel (0, 1) masked
  window.has_max_valid = true;
  window.max_valid = 100.0;  // e.g. the NXmx flag value 2^bit_depth − 1 and above
  const std::vector<std::uint32_t> frames{5, 6, 101, 7, 100, 4294967295u, /* second frame */ 1, 2, 3, 4, 5, 6};
  std::vector<float> out(frames.size());
  const PatternLayout layout{PixelType::f32, true, false};
  const std::int64_t zeroed = convert_frames(frames.data(), PixelType::u32, 2, window, layout, out.data());
  EXPECT_EQ(out, (std::vector<float>{5, 0, 0, 7, 100, 0, 1, 0, 3, 4, 5, 6}));
  EXPECT_EQ(zeroed, 4);  // frame 0: the mask, 101, the flag; frame 1: the mask
  const std::vector<double> nan_frame{std::nan(""), 1.0, std::numeric_limits<double>::infinity(), 2.0, 3.0, 4.0};
  std::vector<double> clean(nan_frame.size());
  EXPECT_EQ(convert_frames(nan_frame.data(), PixelType::f64, 1, window_of(rows, cols), PatternLayout{}, clean.data()),
            2);
  EXPECT_EQ(clean, (std::vector<double>{0, 1, 0, 2, 3, 4}));
}

TEST(PatternLayout, KeepsTheStoredBytesWhenNothingChanges) {
  const WindowPixels window = window_of(4, 4);
  EXPECT_FALSE(needs_conversion(PatternLayout{std::nullopt, true, false}, PixelType::u16, window));
  EXPECT_FALSE(needs_conversion(PatternLayout{PixelType::u16, false, false}, PixelType::u16, window));
  EXPECT_TRUE(needs_conversion(PatternLayout{PixelType::f32, false, false}, PixelType::u16, window));
  // Float pixels may be NaN: zeroing needs a look even without a mask.
  EXPECT_TRUE(needs_conversion(PatternLayout{std::nullopt, true, false}, PixelType::f32, window));
  WindowPixels masked = window;
  masked.good.assign(16, 1);
  EXPECT_TRUE(needs_conversion(PatternLayout{std::nullopt, true, false}, PixelType::u16, masked));
  EXPECT_EQ(output_pixel_type(PatternLayout{}, PixelType::i32), PixelType::i32);
}

TEST(PatternLayout, MasksMoveLikeTheFrames) {
  const std::size_t rows = 3, cols = 4;
  WindowPixels window = window_of(rows, cols);
  window.good.assign(rows * cols, 1);
  window.good[1 * cols + 2] = 0;  // the pixel at the centre (rows/2, cols/2)
  const PatternLayout corner{PixelType::f32, true, true};
  const std::vector<std::uint8_t> bad = layout_bad_pixels(window, corner);
  std::vector<std::uint8_t> expected(rows * cols, 0);
  expected[0] = 1;  // ifftshift puts the centre at [0, 0]
  EXPECT_EQ(bad, expected);
  EXPECT_EQ(layout_row(1, window, corner), 0u);
  EXPECT_EQ(layout_col(2, window, corner), 0u);
  EXPECT_EQ(layout_bad_pixels(window_of(rows, cols), corner), std::vector<std::uint8_t>(rows * cols, 0));
}

TEST(PatternLayout, TheGoodPixelsOfTheAnalysedFrame) {
  PixelSelection selection;
  selection.good_pixels.assign(5 * 6, 1);
  selection.good_pixels[2 * 6 + 3] = 0;
  selection.window_row = 1;
  selection.window_col = 2;
  selection.window_rows = selection.window_cols = 3;
  WindowPixels window = window_pixels(selection, 5, 6);
  ASSERT_EQ(window.rows, 3u);
  ASSERT_EQ(window.cols, 3u);
  std::vector<std::uint8_t> expected(9, 1);
  expected[1 * 3 + 1] = 0;  // stored (2, 3) is window (1, 1)
  EXPECT_EQ(window.good, expected);
  // Stored with zero frequency at the corner, no crop: the analysed frame is fftshift of the stored
  // one, stored (2, 3) at ((2 + 5/2) % 5, (3 + 6/2) % 6) = (4, 0).
  selection.window_rows = selection.window_cols = selection.window_row = selection.window_col = 0;
  selection.fftshift = true;
  window = window_pixels(selection, 5, 6);
  std::vector<std::uint8_t> shifted(30, 1);
  shifted[4 * 6 + 0] = 0;
  EXPECT_EQ(window.good, shifted);
}

}  // namespace
}  // namespace ptyroi
