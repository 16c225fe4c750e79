#include "ptyroi/core/scan_map.hpp"

#include <gtest/gtest.h>

namespace ptyroi {
namespace {

TEST(ScanMap, NeighbourMeanAtCornersEdgesAndInside) {
  // 3×4 map with values 0..11 (row-major).
  std::vector<double> map(12);
  for (int i = 0; i < 12; ++i) map[i] = i;
  const GridShape shape{3, 4};
  // Corner (0,0): cells 0,1,4,5 → 10/4.
  EXPECT_DOUBLE_EQ(neighbour_mean(map, shape, 0), 2.5);
  // Edge (0,1): cells 0,1,2,4,5,6 → 18/6.
  EXPECT_DOUBLE_EQ(neighbour_mean(map, shape, 1), 3.0);
  // Inside (1,1): cells 0,1,2,4,5,6,8,9,10 → 45/9.
  EXPECT_DOUBLE_EQ(neighbour_mean(map, shape, 5), 5.0);
  // Corner (2,3): cells 6,7,10,11 → 34/4.
  EXPECT_DOUBLE_EQ(neighbour_mean(map, shape, 11), 8.5);
  const auto all = neighbour_mean(map, shape);
  EXPECT_DOUBLE_EQ(all[5], 5.0);
  EXPECT_DOUBLE_EQ(all[11], 8.5);
}

TEST(ScanMap, SingleRowAndSingleCellGrids) {
  EXPECT_DOUBLE_EQ(neighbour_mean({1.0, 2.0, 6.0}, {1, 3}, 1), 3.0);
  EXPECT_DOUBLE_EQ(neighbour_mean({4.0}, {1, 1}, 0), 4.0);
}

std::vector<std::uint8_t> from_text(const char* rows) {
  std::vector<std::uint8_t> mask;
  for (const char* c = rows; *c; ++c) {
    if (*c == '#') mask.push_back(1);
    if (*c == '.') mask.push_back(0);
  }
  return mask;
}

TEST(ScanMap, GrowByOneAndTwoSteps) {
  const GridShape shape{5, 5};
  const auto seed = from_text(
      "....."
      "....."
      "..#.."
      "....."
      ".....");
  EXPECT_EQ(grow_or_shrink(seed, shape, 1), from_text("....."
                                                      ".###."
                                                      ".###."
                                                      ".###."
                                                      "....."));
  EXPECT_EQ(grow_or_shrink(seed, shape, 2), std::vector<std::uint8_t>(25, 1));
  EXPECT_EQ(grow_or_shrink(seed, shape, 0), seed);
}

TEST(ScanMap, ShrinkKeepsOnlyCellsWhoseNeighboursAreAllIn) {
  const GridShape shape{5, 5};
  const auto block = from_text(
      "....."
      ".###."
      ".###."
      ".###."
      ".....");
  EXPECT_EQ(grow_or_shrink(block, shape, -1), from_text("....."
                                                        "....."
                                                        "..#.."
                                                        "....."
                                                        "....."));
  EXPECT_EQ(grow_or_shrink(block, shape, -2), std::vector<std::uint8_t>(25, 0));
  // The scan edge does not erode: a full first row stays where its in-grid neighbours are in.
  const auto top = from_text(
      "#####"
      "#####"
      "....."
      "....."
      ".....");
  EXPECT_EQ(grow_or_shrink(top, shape, -1), from_text("#####"
                                                      "....."
                                                      "....."
                                                      "....."
                                                      "....."));
}

}  // namespace
}  // namespace ptyroi
