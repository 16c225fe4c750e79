#include "ptyroi/core/scan_neighbourhood.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ptyroi/core/error.hpp"

namespace ptyroi {
namespace {

struct Raster {
  std::vector<double> x, y;
  ScanGrid grid;
};

// A rows×cols raster of step 2 µm, row-major, as the method's 3×3 neighbourhood knows it.
Raster raster(int rows, int cols) {
  Raster r;
  for (int row = 0; row < rows; ++row) {
    for (int col = 0; col < cols; ++col) {
      r.x.push_back(col * 2e-6);
      r.y.push_back(row * 2e-6);
    }
  }
  r.grid = raster_grid({rows, cols}, static_cast<std::uint64_t>(rows * cols));
  return r;
}

std::vector<double> structured_values(std::size_t n) {
  std::vector<double> values(n);
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<double> uniform(0.0, 10.0);
  for (double& v : values) v = uniform(engine);
  return values;
}

TEST(ScanNeighbourhood, IrregularDefinitionReducesToThe3x3MeanOnARaster) {
  const Raster r = raster(7, 9);
  const auto irregular = ScanNeighbourhood::irregular(r.x, r.y);
  const auto grid = ScanNeighbourhood::raster(r.grid);
  EXPECT_FALSE(irregular.is_raster());
  EXPECT_TRUE(grid.is_raster());
  EXPECT_NEAR(irregular.step(), 2e-6, 1e-18);
  const std::vector<double> values = structured_values(r.x.size());
  const FrameRange all{0, r.x.size()};
  // Both sum in ascending frame order (= row-major cell order), so the results are bitwise equal.
  EXPECT_EQ(irregular.smooth(values, all), grid.smooth(values, all));
  // A part of the frames gives the same values as the whole.
  const FrameRange part{10, 30};
  const auto partial = irregular.smooth(values, part);
  const auto whole = irregular.smooth(values, all);
  for (std::uint64_t k = part.begin; k < part.end; ++k) EXPECT_EQ(partial[k - part.begin], whole[k]);
}

TEST(ScanNeighbourhood, OneStepBorderMatchesTheRasterDilationAndErosion) {
  const Raster r = raster(9, 11);
  const auto irregular = ScanNeighbourhood::irregular(r.x, r.y);
  const auto grid = ScanNeighbourhood::raster(r.grid);
  std::vector<std::uint8_t> mask(r.x.size(), 0);
  for (int row = 2; row <= 6; ++row) {
    for (int col = 3; col <= 8; ++col) mask[static_cast<std::size_t>(row * 11 + col)] = 1;
  }
  mask[0] = 1;  // a lone corner frame: erosion ignores cells outside the scan
  for (const int border : {1, -1}) {
    EXPECT_EQ(irregular.grow_or_shrink(mask, border), grid.grow_or_shrink(mask, border)) << "border " << border;
  }
  EXPECT_EQ(irregular.grow_or_shrink(mask, 0), mask);
}

TEST(ScanNeighbourhood, BorderRadiusIsHalfAStepMoreThanTheSteps) {
  // A line of positions 1 µm apart: a border of 2 reaches 2.5 µm, so 2 neighbours each side.
  std::vector<double> x, y;
  for (int i = 0; i < 21; ++i) {
    x.push_back(i * 1e-6);
    y.push_back(0.0);
  }
  const auto line = ScanNeighbourhood::irregular(x, y);
  std::vector<std::uint8_t> mask(21, 0);
  mask[10] = 1;
  const auto grown = line.grow_or_shrink(mask, 2);
  for (int i = 0; i < 21; ++i) EXPECT_EQ(grown[static_cast<std::size_t>(i)], std::abs(i - 10) <= 2 ? 1 : 0) << i;
  EXPECT_EQ(line.within(10, 1.5e-6), (std::vector<std::uint32_t>{9, 10, 11}));
  EXPECT_THROW(line.check_border(40), UsageError);
  EXPECT_NO_THROW(line.check_border(5));
}

TEST(ScanNeighbourhood, JitteredFlyScanNeighboursAreFoundWithinTheRadius) {
  // Rows 1 µm apart, points about 1 µm apart along x with ±0.2 µm jitter.
  std::mt19937_64 engine(11);
  std::uniform_real_distribution<double> jitter(-0.2e-6, 0.2e-6);
  std::vector<double> x, y;
  for (int row = 0; row < 12; ++row) {
    const int count = 15 + row % 3;
    for (int i = 0; i < count; ++i) {
      x.push_back(i * 15e-6 / count + jitter(engine));
      y.push_back(row * 1e-6 + jitter(engine));
    }
  }
  const auto scan = ScanNeighbourhood::irregular(x, y);
  EXPECT_GT(scan.step(), 0.5e-6);
  EXPECT_LT(scan.step(), 1.1e-6);
  // Every neighbour found is within the radius, and a brute-force search finds the same set.
  const double radius = 1.5 * scan.step();
  for (std::uint64_t k = 0; k < x.size(); k += 7) {
    std::vector<std::uint32_t> brute;
    for (std::uint32_t j = 0; j < x.size(); ++j) {
      if (std::hypot(x[j] - x[k], y[j] - y[k]) <= radius) brute.push_back(j);
    }
    EXPECT_EQ(scan.within(k, radius), brute) << "frame " << k;
  }
}

TEST(ScanNeighbourhood, CoincidentPositionsHaveNoStep) {
  EXPECT_THROW(ScanNeighbourhood::irregular({1.0, 1.0, 1.0}, {2.0, 2.0, 2.0}), InputError);
}

}  // namespace
}  // namespace ptyroi
