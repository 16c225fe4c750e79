#include "ptyroi/core/frame_moments.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ptyroi {
namespace {

PixelSelection masked(std::vector<std::uint8_t> good) {
  PixelSelection selection;
  selection.good_pixels = std::move(good);
  return selection;
}

TEST(FrameMoments, SingleBrightPixelIsItsOwnCentreOfMass) {
  std::vector<std::uint16_t> frame(5 * 7, 0);
  frame[3 * 7 + 5] = 11;  // row 3, column 5
  FrameMomentsKernel kernel;
  const FrameFeatures f = kernel(frame.data(), 5, 7);
  EXPECT_TRUE(f.has_com);
  EXPECT_EQ(f.total_intensity, 11.0);
  EXPECT_EQ(f.com_x, 5.0);  // x along the fast axis (columns)
  EXPECT_EQ(f.com_y, 3.0);
}

TEST(FrameMoments, HandComputedTwoPixelFrame) {
  // 3 counts at (row 0, col 0) and 1 count at (row 2, col 3): T = 4,
  // com_x = (0*3 + 3*1)/4 = 0.75, com_y = (0*3 + 2*1)/4 = 0.5.
  std::vector<std::int32_t> frame(3 * 4, 0);
  frame[0] = 3;
  frame[2 * 4 + 3] = 1;
  FrameMomentsKernel kernel;
  const FrameFeatures f = kernel(frame.data(), 3, 4);
  EXPECT_EQ(f.total_intensity, 4.0);
  EXPECT_DOUBLE_EQ(f.com_x, 0.75);
  EXPECT_DOUBLE_EQ(f.com_y, 0.5);
}

TEST(FrameMoments, IntegerSumsAreExactWhereDoublesWouldRound) {
  // 2^53 + 1 is not a double: summing uint64 pixels in double would lose the 1.
  std::vector<std::uint64_t> frame{std::uint64_t{1} << 53, 1, 0, 0};
  FrameMomentsKernel kernel;
  const FrameFeatures f = kernel(frame.data(), 2, 2);
  // T rounds only once, at the end; the CoM uses the exact moments: com_x = 1/(2^53+1).
  EXPECT_DOUBLE_EQ(f.com_x, 1.0 / 9007199254740993.0);
  EXPECT_EQ(f.com_y, 0.0);
  // uint32 saturated detector: 256×256 pixels of 2^32-1 sum to ~2^48 exactly.
  std::vector<std::uint32_t> saturated(256 * 256, std::numeric_limits<std::uint32_t>::max());
  const FrameFeatures s = kernel(saturated.data(), 256, 256);
  EXPECT_EQ(s.total_intensity, 65536.0 * 4294967295.0);
  EXPECT_EQ(s.com_x, 127.5);
  EXPECT_EQ(s.com_y, 127.5);
}

TEST(FrameMoments, ZeroFrameHasNoCentreOfMass) {
  std::vector<std::uint32_t> frame(16, 0);
  FrameMomentsKernel kernel;
  const FrameFeatures f = kernel(frame.data(), 4, 4);
  EXPECT_FALSE(f.has_com);
  EXPECT_EQ(f.total_intensity, 0.0);
}

TEST(FrameMoments, FloatFrames) {
  std::vector<float> frame{0.5f, 0.5f, 0.0f, 1.0f};  // T = 2, com_x = (0.5+1)/2, com_y = 1/2
  FrameMomentsKernel kernel;
  const FrameFeatures f = kernel(frame.data(), 2, 2);
  EXPECT_DOUBLE_EQ(f.com_x, 0.75);
  EXPECT_DOUBLE_EQ(f.com_y, 0.5);
  EXPECT_EQ(f.non_finite_pixels, 0);
}

TEST(FrameMoments, SignedPixelsWithNegativeTotalHaveNoCentreOfMass) {
  std::vector<std::int16_t> frame{-5, 1, 1, 1};
  FrameMomentsKernel kernel;
  EXPECT_FALSE(kernel(frame.data(), 2, 2).has_com);
}

}  // namespace
}  // namespace ptyroi

namespace ptyroi {
namespace {

TEST(FrameMoments, MaskedPixelsAreLeftOutOfEverySum) {
  // 2×3 frame; the hot pixel at (0, 2) is masked, leaving 1 at (0,0), 2 at (0,1), 4 at (1,0).
  std::vector<std::uint32_t> frame{1, 2, 1000, 4, 0, 0};
  std::vector<std::uint8_t> good{1, 1, 0, 1, 1, 1};
  FrameMomentsKernel kernel(masked(good));
  const FrameFeatures f = kernel(frame.data(), 2, 3);
  EXPECT_EQ(f.total_intensity, 7.0);
  EXPECT_DOUBLE_EQ(f.com_x, (0.0 * 1 + 1.0 * 2 + 0.0 * 4) / 7.0);  // column indexes of 1, 2, 4
  EXPECT_DOUBLE_EQ(f.com_y, (0.0 * 3 + 1.0 * 4) / 7.0);            // row 0 holds 3, row 1 holds 4
}

TEST(FrameMoments, NonFinitePixelsCountAsMaskedAndAreCounted) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> frame{2.0f, nan, inf, 2.0f};  // the finite pixels: (0,0) and (1,1)
  FrameMomentsKernel kernel;
  const FrameFeatures f = kernel(frame.data(), 2, 2);
  EXPECT_EQ(f.non_finite_pixels, 2);
  EXPECT_EQ(f.total_intensity, 4.0);
  EXPECT_DOUBLE_EQ(f.com_x, 0.5);
  EXPECT_DOUBLE_EQ(f.com_y, 0.5);
  std::vector<double> all_nan(9, std::numeric_limits<double>::quiet_NaN());
  const FrameFeatures none = kernel(all_nan.data(), 3, 3);
  EXPECT_EQ(none.non_finite_pixels, 9);
  EXPECT_FALSE(none.has_com);
  EXPECT_EQ(none.total_intensity, 0.0);
}

// A reproducible frame with structure everywhere, so every selection changes the moments.
std::vector<std::uint32_t> structured_frame(std::size_t rows, std::size_t cols) {
  std::vector<std::uint32_t> frame(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) frame[r * cols + c] = static_cast<std::uint32_t>((r * 7 + c * c * 3) % 23);
  }
  return frame;
}

TEST(FrameMoments, WindowEqualsTheCroppedFrame) {
  const std::size_t rows = 9, cols = 11;
  const auto frame = structured_frame(rows, cols);
  PixelSelection crop;
  crop.window_row = 2, crop.window_col = 3, crop.window_rows = 5, crop.window_cols = 6;
  std::vector<std::uint32_t> cropped;
  for (std::size_t r = 2; r < 7; ++r) {
    for (std::size_t c = 3; c < 9; ++c) cropped.push_back(frame[r * cols + c]);
  }
  FrameMomentsKernel windowed(crop);
  FrameMomentsKernel plain;
  const FrameFeatures a = windowed(frame.data(), rows, cols);
  const FrameFeatures b = plain(cropped.data(), 5, 6);
  EXPECT_EQ(a.total_intensity, b.total_intensity);
  EXPECT_EQ(a.com_x, b.com_x);
  EXPECT_EQ(a.com_y, b.com_y);
}

TEST(FrameMoments, FftshiftWeighsPixelsWhereNumpyFftshiftPutsThem) {
  for (const auto [rows, cols] : {std::pair<std::size_t, std::size_t>{8, 10}, {7, 9}}) {
    const auto frame = structured_frame(rows, cols);
    // numpy.fft.fftshift: out[(i + n/2) % n] = in[i] along each axis.
    std::vector<std::uint32_t> shifted(frame.size());
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        shifted[((r + rows / 2) % rows) * cols + (c + cols / 2) % cols] = frame[r * cols + c];
      }
    }
    PixelSelection selection;
    selection.fftshift = true;
    FrameMomentsKernel on_stored(selection);
    FrameMomentsKernel plain;
    const FrameFeatures a = on_stored(frame.data(), rows, cols);
    const FrameFeatures b = plain(shifted.data(), rows, cols);
    EXPECT_EQ(a.total_intensity, b.total_intensity);
    EXPECT_EQ(a.com_x, b.com_x);
    EXPECT_EQ(a.com_y, b.com_y);
  }
}

TEST(FrameMoments, PixelsAboveMaxValidAreLeftOutAndCounted) {
  const std::size_t rows = 6, cols = 5;
  auto frame = structured_frame(rows, cols);
  frame[7] = 4294967295u;  // the Eiger flag value of a 32-bit image
  frame[20] = 1000000;     // a hot pixel
  std::vector<std::uint8_t> good(frame.size(), 1);
  good[7] = good[20] = 0;
  PixelSelection limited;
  limited.has_max_valid = true;
  limited.max_valid = 999999.5;
  FrameMomentsKernel by_value(limited);
  FrameMomentsKernel by_mask(masked(good));
  const FrameFeatures a = by_value(frame.data(), rows, cols);
  const FrameFeatures b = by_mask(frame.data(), rows, cols);
  EXPECT_EQ(a.invalid_pixels, 2);
  EXPECT_EQ(b.invalid_pixels, 0);
  EXPECT_EQ(a.total_intensity, b.total_intensity);
  EXPECT_EQ(a.com_x, b.com_x);
  EXPECT_EQ(a.com_y, b.com_y);
  // A limit at or above the type's largest value changes nothing.
  limited.max_valid = 4294967295.0;
  FrameMomentsKernel unlimited(limited);
  EXPECT_EQ(unlimited(frame.data(), rows, cols).invalid_pixels, 0);
  // Float frames compare in double.
  std::vector<float> floats(frame.begin(), frame.end());
  limited.max_valid = 999999.5;
  FrameMomentsKernel float_kernel(limited);
  EXPECT_EQ(float_kernel(floats.data(), rows, cols).invalid_pixels, 2);
}

}  // namespace
}  // namespace ptyroi

namespace ptyroi {
namespace {

// One table case: a one-row frame with a at column 0 and b at column c; its exact centre of mass is
// c·b / (a + b), and `expected` is that rational rounded once (tests/com_rounding_table.py,
// Python's fractions).
struct RoundingCase {
  char type = 'u';
  std::string a, b;
  std::uint64_t column = 0;
  double expected = 0.0;
  std::string kind, line;
};

std::vector<RoundingCase> rounding_table() {
  std::ifstream in(std::string(PTYROI_TEST_DATA_DIR) + "/com_rounding.txt");
  std::vector<RoundingCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    RoundingCase c;
    std::string expected;
    fields >> c.type >> c.a >> c.b >> c.column >> expected >> c.kind;
    c.expected = std::strtod(expected.c_str(), nullptr);  // C99 hex float: exact
    c.line = line;
    cases.push_back(c);
  }
  return cases;
}

template <class Pixel>
FrameFeatures one_row(Pixel a, Pixel b, std::uint64_t column) {
  std::vector<Pixel> frame(column + 1, 0);
  frame[0] = a;
  frame[column] = b;
  FrameMomentsKernel kernel;
  return kernel(frame.data(), 1, frame.size());
}

TEST(FrameMoments, CentreOfMassIsRoundedOnceToNearestEven) {
  const std::vector<RoundingCase> cases = rounding_table();
  ASSERT_GE(cases.size(), 250u) << "tests/data/com_rounding.txt missing or short";
  std::size_t double_rounding_cases = 0, ties = 0;
  for (const RoundingCase& c : cases) {
    const FrameFeatures f = c.type == 'u' ? one_row<std::uint64_t>(std::stoull(c.a), std::stoull(c.b), c.column)
                                          : one_row<std::int64_t>(std::stoll(c.a), std::stoll(c.b), c.column);
    ASSERT_TRUE(f.has_com) << c.line;
    // Bitwise: the correctly rounded quotient, not merely within an ulp.
    EXPECT_EQ(f.com_x, c.expected) << c.line << ": got " << std::hexfloat << f.com_x;
    EXPECT_EQ(f.com_y, 0.0);
    double_rounding_cases += c.kind == "double";
    ties += c.kind == "tie";
  }
  // The table holds what the old long double division got wrong on x86-64, and exact ties.
  EXPECT_GE(double_rounding_cases, 100u);
  EXPECT_GE(ties, 30u);
}

TEST(FrameMoments, TheTableDefeatsDoubleRoundingThroughLongDouble) {
  // Where long double has a 64-bit significand (x86-64), rounding the quotient to it first and then
  // to double gives the other neighbour on the table's "double" cases: they test what they claim.
  if (std::numeric_limits<long double>::digits != 64) GTEST_SKIP() << "long double is not 80-bit here";
  std::size_t wrong = 0, checked = 0;
  for (const RoundingCase& c : rounding_table()) {
    if (c.kind != "double" || c.type != 'u') continue;
    const long double a = std::stoull(c.a), b = std::stoull(c.b);
    const auto twice = static_cast<double>(static_cast<long double>(c.column) * b / (a + b));
    wrong += twice != c.expected;
    ++checked;
  }
  EXPECT_GT(checked, 0u);
  EXPECT_GT(wrong, checked / 2) << wrong << " of " << checked;
}

TEST(FrameMoments, FeaturesDoNotDependOnTheKernelsHistory) {
  // The same frame through a fresh kernel and through one that has seen other frames: bitwise equal
  // (what makes features independent of which rank or block reads a frame).
  const auto frame = structured_frame(13, 17);
  FrameMomentsKernel fresh;
  FrameMomentsKernel used;
  for (std::size_t i = 0; i < 5; ++i) used(structured_frame(13 + i, 17).data(), 13 + i, 17);
  const FrameFeatures a = fresh(frame.data(), 13, 17);
  const FrameFeatures b = used(frame.data(), 13, 17);
  EXPECT_EQ(a.total_intensity, b.total_intensity);
  EXPECT_EQ(a.com_x, b.com_x);
  EXPECT_EQ(a.com_y, b.com_y);
}

}  // namespace
}  // namespace ptyroi
