#include "ptyroi/frame_moments.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace ptyroi {
namespace {

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
  FrameMomentsKernel kernel(good);
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

}  // namespace
}  // namespace ptyroi
