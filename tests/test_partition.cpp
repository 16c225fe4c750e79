#include "ptyroi/core/partition.hpp"

#include <gtest/gtest.h>

namespace ptyroi {
namespace {

TEST(Partition, RemaindersGoToTheFirstRanks) {
  // 10 frames over 3 ranks: 4, 3, 3.
  const FrameRange r0 = partition_frames(10, 3, 0), r1 = partition_frames(10, 3, 1), r2 = partition_frames(10, 3, 2);
  EXPECT_EQ(r0.begin, 0u);
  EXPECT_EQ(r0.end, 4u);
  EXPECT_EQ(r1.begin, 4u);
  EXPECT_EQ(r1.end, 7u);
  EXPECT_EQ(r2.begin, 7u);
  EXPECT_EQ(r2.end, 10u);
}

TEST(Partition, FewerFramesThanRanksLeavesSomeRanksEmpty) {
  EXPECT_EQ(partition_frames(2, 3, 0).count(), 1u);
  EXPECT_EQ(partition_frames(2, 3, 1).count(), 1u);
  EXPECT_EQ(partition_frames(2, 3, 2).count(), 0u);
  EXPECT_EQ(partition_frames(2, 3, 2).begin, 2u);
}

TEST(Partition, RangesTileTheStackForManyShapes) {
  for (std::uint64_t frames : {0u, 1u, 7u, 64u, 15980u}) {
    for (int parts = 1; parts <= 9; ++parts) {
      std::uint64_t expected_begin = 0;
      for (int i = 0; i < parts; ++i) {
        const FrameRange r = partition_frames(frames, parts, i);
        EXPECT_EQ(r.begin, expected_begin);
        EXPECT_LE(r.count(), frames / parts + 1);
        EXPECT_GE(r.count(), frames / parts);
        expected_begin = r.end;
      }
      EXPECT_EQ(expected_begin, frames);
    }
  }
}

}  // namespace
}  // namespace ptyroi
