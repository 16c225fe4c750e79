#include "ptyroi/core/scan_neighbourhood.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(ScanNeighbourhood, RasterStepIsTheGridSpacingOfItsPositions) {
  // A square raster of 2 µm: the irregular definition (the density step) gives the same.
  const Raster square = raster(5, 6);
  EXPECT_DOUBLE_EQ(ScanNeighbourhood::raster(square.grid, square.x, square.y).step(), 2e-6);
  EXPECT_NEAR(ScanNeighbourhood::irregular(square.x, square.y).step(), 2e-6, 1e-15);
  // x every 2 µm, y every 3 µm: each frame's nearest grid neighbour is 2 µm away.
  Raster r = raster(5, 6);
  for (double& y : r.y) y *= 1.5;
  EXPECT_DOUBLE_EQ(ScanNeighbourhood::raster(r.grid, r.x, r.y).step(), 2e-6);
  // A column of one frame per row: its only neighbours are above and below.
  const Raster column = raster(4, 1);
  EXPECT_DOUBLE_EQ(ScanNeighbourhood::raster(column.grid, column.x, column.y).step(), 2e-6);
  // Without positions (a --grid alone) there is no step in metres.
  EXPECT_EQ(ScanNeighbourhood::raster(r.grid).step(), 0.0);
}

std::vector<double> structured_values(std::size_t n) {
  std::vector<double> values(n);
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<double> uniform(0.0, 10.0);
  for (double& v : values) v = uniform(engine);
  return values;
}

TEST(ScanNeighbourhood, IrregularDefinitionReducesToThe3x3MeanInsideARaster) {
  const Raster r = raster(7, 9);
  const auto irregular = ScanNeighbourhood::irregular(r.x, r.y);
  const auto grid = ScanNeighbourhood::raster(r.grid);
  EXPECT_FALSE(irregular.is_raster());
  EXPECT_TRUE(grid.is_raster());
  EXPECT_NEAR(irregular.step(), 2e-6, 1e-18);  // the density step of a raster is its step
  const std::vector<double> values = structured_values(r.x.size());
  const FrameRange all{0, r.x.size()};
  // Inside, the 8 nearest are the 3x3 neighbours; both sum in ascending frame order (= row-major
  // cell order), so the results are bitwise equal. At the edge the irregular definition still takes
  // 8 neighbours (9 values), where the raster's 3x3 block holds 6 or 4.
  const auto by_irregular = irregular.smooth(values, all);
  const auto by_grid = grid.smooth(values, all);
  for (int row = 0; row < 7; ++row) {
    for (int col = 0; col < 9; ++col) {
      const auto k = static_cast<std::size_t>(row * 9 + col);
      const bool edge = row == 0 || row == 6 || col == 0 || col == 8;
      if (!edge) EXPECT_EQ(by_irregular[k], by_grid[k]) << "frame " << k;
      EXPECT_EQ(irregular.nearest(k).size(), 9u) << "frame " << k;
    }
  }
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

TEST(ScanNeighbourhood, DensityStepIsTheSpacingOfASquareRasterOfTheSameDensity) {
  // A line of 11 positions 3 apart, a 4x5 raster of step 2, and a raster with rows 1 apart and
  // columns 4 apart (an anisotropic fly scan): its square equivalent has the step 2 = sqrt(1 x 4).
  std::vector<double> x, y;
  for (int i = 0; i < 11; ++i) {
    x.push_back(3.0 * i);
    y.push_back(0.0);
  }
  EXPECT_NEAR(density_step(x, y), 3.0, 1e-12);
  const Raster r = raster(4, 5);
  EXPECT_NEAR(density_step(r.x, r.y), 2e-6, 1e-18);
  x.clear();
  y.clear();
  for (int row = 0; row < 200; ++row) {
    for (int col = 0; col < 50; ++col) {
      x.push_back(4.0 * col);
      y.push_back(1.0 * row);
    }
  }
  EXPECT_NEAR(density_step(x, y), 2.0, 0.02);
  EXPECT_EQ(density_step({1.0, 1.0}, {2.0, 2.0}), 0.0);
}

TEST(ScanNeighbourhood, AnisotropicScanKeepsEightNeighboursAndAPhysicalBorder) {
  // Rows 1 apart, points 6 apart along the rows: the old 1.5 x nearest-distance rule gave 2-3
  // neighbours; the 8 nearest are always there, and the border grows by (n + 1/2) x the density step.
  std::vector<double> x, y;
  for (int row = 0; row < 60; ++row) {
    for (int col = 0; col < 10; ++col) {
      x.push_back(6.0 * col + (row % 2) * 0.5);
      y.push_back(1.0 * row);
    }
  }
  const auto scan = ScanNeighbourhood::irregular(x, y);
  for (std::uint64_t k = 0; k < x.size(); k += 13) EXPECT_EQ(scan.nearest(k).size(), 9u);
  EXPECT_NEAR(scan.step(), std::sqrt(6.0), 0.1);
  std::vector<std::uint8_t> mask(x.size(), 0);
  mask[30 * 10 + 5] = 1;  // one frame in the middle
  const auto grown = scan.grow_or_shrink(mask, 2);
  const double radius = scan.border_radius(2);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const bool inside = std::hypot(x[k] - x[305], y[k] - y[305]) < radius;
    EXPECT_EQ(grown[k], inside ? 1 : 0) << "frame " << k;
  }
  // Shrinking by the same border keeps a frame only when no frame outside the RoI lies within the
  // radius: of the grown disc, the centre stays (everything outside is at least a radius away).
  const auto shrunk = scan.grow_or_shrink(grown, -2);
  for (std::size_t k = 0; k < x.size(); ++k) {
    bool clear = grown[k] != 0;
    for (std::size_t j = 0; j < x.size() && clear; ++j) {
      clear = grown[j] != 0 || std::hypot(x[k] - x[j], y[k] - y[j]) >= radius;
    }
    EXPECT_EQ(shrunk[k], clear ? 1 : 0) << "frame " << k;
  }
  EXPECT_EQ(shrunk[305], 1);
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
  // The 8 nearest by brute force (ties aside: distinct jittered distances).
  for (std::uint64_t k = 0; k < x.size(); k += 5) {
    std::vector<std::pair<double, std::uint32_t>> by_distance;
    for (std::uint32_t j = 0; j < x.size(); ++j) by_distance.emplace_back(std::hypot(x[j] - x[k], y[j] - y[k]), j);
    std::sort(by_distance.begin(), by_distance.end());
    std::vector<std::uint32_t> brute;
    for (std::size_t i = 0; i < 9; ++i) brute.push_back(by_distance[i].second);
    std::sort(brute.begin(), brute.end());
    EXPECT_EQ(scan.nearest(k), brute) << "frame " << k;
  }
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
