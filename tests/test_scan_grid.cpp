#include "ptyroi/core/scan_grid.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "ptyroi/core/error.hpp"

namespace ptyroi {
namespace {

TEST(ScanGrid, ParsesRowsByCols) {
  const GridShape shape = parse_grid_shape("85x188");
  EXPECT_EQ(shape.rows, 85);
  EXPECT_EQ(shape.cols, 188);
  for (const char* bad : {"", "85", "x188", "85x", "85x-3", "0x5", "85by188", "8.5x188", "85x188x2"}) {
    EXPECT_THROW(parse_grid_shape(bad), UsageError) << bad;
  }
}

TEST(ScanGrid, RasterMustMatchTheFrameCount) {
  const ScanGrid grid = raster_grid({2, 3}, 6);
  EXPECT_TRUE(grid.row_major);  // nothing per frame is stored
  EXPECT_TRUE(grid.cell_of_frame.empty());
  EXPECT_EQ(grid.cell(4), 4);
  EXPECT_EQ(grid.frame(5), 5u);
  EXPECT_THROW(raster_grid({2, 3}, 7), UsageError);  // a raster that does not fit is a wrong parameter
}

TEST(ScanGrid, InfersAJitteredSnakeScan) {
  // 3 rows × 4 cols, step 1e-6 m, snake order (odd rows right to left), 3% jitter.
  std::vector<double> x, y;
  std::vector<std::int64_t> expected_cell;
  const double jitter[] = {0.01, -0.02, 0.03, 0.0, -0.01, 0.02, -0.03, 0.01, 0.0, 0.02, -0.02, 0.01};
  int k = 0;
  for (int r = 0; r < 3; ++r) {
    for (int i = 0; i < 4; ++i, ++k) {
      const int c = r % 2 == 0 ? i : 3 - i;
      x.push_back((c + jitter[k]) * 1e-6);
      y.push_back((r - jitter[k]) * 1e-6);
      expected_cell.push_back(r * 4 + c);
    }
  }
  const ScanGrid grid = infer_grid(x, y);
  EXPECT_EQ(grid.shape.rows, 3);
  EXPECT_EQ(grid.shape.cols, 4);
  EXPECT_EQ(grid.cell_of_frame, expected_cell);
  for (std::size_t f = 0; f < expected_cell.size(); ++f) {
    EXPECT_EQ(grid.frame_of_cell[static_cast<std::size_t>(expected_cell[f])], static_cast<std::int64_t>(f));
  }
}

TEST(ScanGrid, RefusesPositionsOffAGrid) {
  // A spiral-like set: every x and y distinct.
  std::vector<double> x{0.0, 1.3, 2.9, 0.4, 2.1, 3.7};
  std::vector<double> y{0.0, 0.7, 0.2, 1.9, 2.6, 1.1};
  EXPECT_THROW(infer_grid(x, y), InputError);
  // Two frames on one cell.
  EXPECT_THROW(infer_grid({0, 1, 0, 1}, {0, 0, 0, 1}), InputError);
}

TEST(ScanGrid, FindGridSaysWhyWithoutThrowing) {
  std::string why;
  EXPECT_FALSE(find_grid({0.0, 1.3, 2.9}, {0.0, 0.7, 0.2}, &why).has_value());
  EXPECT_EQ(why, "3 distinct y and 3 distinct x values for 3 positions");
  EXPECT_FALSE(find_grid({0, 1, 0, 1}, {0, 0, 0, 1}, &why).has_value());
  EXPECT_EQ(why, "frames 0 and 2 share a cell");
  const auto grid = find_grid({0, 1, 0, 1}, {0, 0, 1, 1});
  ASSERT_TRUE(grid.has_value());
  EXPECT_EQ(grid->shape.rows, 2);
  EXPECT_TRUE(grid->row_major);  // row by row: stored as such, no per-frame maps
  for (std::uint64_t k = 0; k < 4; ++k) EXPECT_EQ(grid->cell(k), static_cast<std::int64_t>(k));
}

// A given raster must agree with the positions: row-major as given, mirrored (neighbourhoods do not
// see flips) or transposed; a serpentine scan, a different shape or no raster at all disagree.
TEST(ScanGrid, GivenRasterMustAgreeWithThePositions) {
  std::vector<double> x, y, serpentine_x, flipped_y;
  for (int row = 0; row < 3; ++row) {
    for (int col = 0; col < 4; ++col) {
      x.push_back(col * 1e-6);
      y.push_back(row * 1e-6);
      serpentine_x.push_back((row % 2 == 0 ? col : 3 - col) * 1e-6);
      flipped_y.push_back((2 - row) * 1e-6);
    }
  }
  EXPECT_EQ(raster_disagreement({3, 4}, x, y), std::nullopt);
  EXPECT_EQ(raster_disagreement({3, 4}, x, flipped_y), std::nullopt);
  EXPECT_EQ(raster_disagreement({3, 4}, y, x), std::nullopt);  // x and y exchanged: the same raster, transposed
  EXPECT_TRUE(raster_disagreement({4, 3}, y, x).has_value());  // 4x3 row-major puts frames 0 and 3 side by side
  const auto serpentine = raster_disagreement({3, 4}, serpentine_x, y);
  ASSERT_TRUE(serpentine.has_value());
  EXPECT_NE(serpentine->find("serpentine"), std::string::npos) << *serpentine;
  EXPECT_TRUE(raster_disagreement({2, 6}, x, y).has_value());
  std::vector<double> jittered = x;
  jittered[5] += 0.5e-6;
  EXPECT_TRUE(raster_disagreement({3, 4}, jittered, y).has_value());
}

}  // namespace
}  // namespace ptyroi
