// share_features: features computed by any rank reach the ranks that classify them (issue 17).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <random>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"

namespace ptyroi {
namespace {

// Distinct, recognisable features of frame k.
FrameFeatures features_of(std::uint64_t k) {
  FrameFeatures f;
  f.total_intensity = 1000.0 + static_cast<double>(k) * 0.5;
  f.com_x = static_cast<double>(k) / 3.0;
  f.com_y = -static_cast<double>(k) / 7.0;
  f.has_com = k % 11 != 0;
  f.non_finite_pixels = static_cast<std::int64_t>(k % 3);
  f.invalid_pixels = static_cast<std::int64_t>(k % 5);
  return f;
}

// Frames [0, frames) dealt out in pieces of random length to random ranks (the same draw on
// every rank); this rank's pieces.
std::vector<FeatureRun> deal(std::uint64_t frames, unsigned seed, MPI_Comm comm) {
  std::mt19937_64 random(seed);
  const int ranks = mpi::size(comm);
  std::vector<FeatureRun> mine;
  for (std::uint64_t first = 0; first < frames;) {
    const std::uint64_t length = std::min<std::uint64_t>(1 + random() % 9, frames - first);
    const int owner = static_cast<int>(random() % static_cast<std::uint64_t>(ranks));
    if (owner == mpi::rank(comm)) {
      std::vector<FrameFeatures> piece;
      for (std::uint64_t k = first; k < first + length; ++k) piece.push_back(features_of(k));
      append_features(mine, first, std::move(piece));
    }
    first += length;
  }
  return mine;
}

void expect_share(const std::vector<FrameFeatures>& local, std::uint64_t frames, MPI_Comm comm) {
  const FrameRange share = partition_frames(frames, mpi::size(comm), mpi::rank(comm));
  ASSERT_EQ(local.size(), share.count());
  for (std::uint64_t k = share.begin; k < share.end; ++k) {
    const FrameFeatures expected = features_of(k), got = local[k - share.begin];
    EXPECT_EQ(got.total_intensity, expected.total_intensity) << "frame " << k;
    EXPECT_EQ(got.com_x, expected.com_x) << "frame " << k;
    EXPECT_EQ(got.com_y, expected.com_y) << "frame " << k;
    EXPECT_EQ(got.has_com, expected.has_com) << "frame " << k;
    EXPECT_EQ(got.non_finite_pixels, expected.non_finite_pixels) << "frame " << k;
    EXPECT_EQ(got.invalid_pixels, expected.invalid_pixels) << "frame " << k;
  }
}

TEST(MPI_FeatureExchange, EveryRankGetsItsShareWhoeverComputedIt) {
  for (const std::uint64_t frames : {0u, 1u, 2u, 5u, 97u, 1000u}) {
    for (const unsigned seed : {1u, 2u, 3u}) {
      const std::vector<FeatureRun> held = deal(frames, seed, MPI_COMM_WORLD);
      expect_share(share_features(held, frames, MPI_COMM_WORLD), frames, MPI_COMM_WORLD);
    }
  }
}

TEST(MPI_FeatureExchange, RunsHandedOverGiveTheSameShares) {
  // The overload that takes the runs moves a run starting at the share's first frame into the
  // result instead of copying it.
  for (const std::uint64_t frames : {0u, 1u, 2u, 5u, 97u, 1000u}) {
    for (const unsigned seed : {1u, 2u, 3u}) {
      expect_share(share_features(deal(frames, seed, MPI_COMM_WORLD), frames, MPI_COMM_WORLD), frames, MPI_COMM_WORLD);
    }
    // Each rank holding exactly its share: nothing moves.
    const FrameRange mine = partition_frames(frames, mpi::size(MPI_COMM_WORLD), mpi::rank(MPI_COMM_WORLD));
    std::vector<FeatureRun> held;
    std::vector<FrameFeatures> run;
    for (std::uint64_t k = mine.begin; k < mine.end; ++k) run.push_back(features_of(k));
    append_features(held, mine.begin, std::move(run));
    expect_share(share_features(std::move(held), frames, MPI_COMM_WORLD), frames, MPI_COMM_WORLD);
  }
}

TEST(MPI_FeatureExchange, ARunPastItsShareIsCutAndItsTailSent) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  const std::uint64_t frames = 100;
  // Rank 0 holds frames [0, share 0 end + 3) in one run; the next rank holds the rest of its own.
  std::vector<FeatureRun> held;
  const FrameRange mine = partition_frames(frames, ranks, me);
  const std::uint64_t extra = ranks > 1 ? 3 : 0;
  std::vector<FrameFeatures> run;
  const std::uint64_t begin = me == 1 ? mine.begin + extra : mine.begin;
  const std::uint64_t end = me == 0 ? mine.end + extra : mine.end;
  for (std::uint64_t k = begin; k < end; ++k) run.push_back(features_of(k));
  append_features(held, begin, std::move(run));
  expect_share(share_features(std::move(held), frames, comm), frames, comm);
}

TEST(MPI_FeatureExchange, FramesBeyondTheCountStayWhereTheyAre) {
  // Features of 120 frames held, the first 77 classified: the rest neither moves nor is missed.
  const std::vector<FeatureRun> held = deal(120, 9, MPI_COMM_WORLD);
  expect_share(share_features(held, 77, MPI_COMM_WORLD), 77, MPI_COMM_WORLD);
}

TEST(MPI_FeatureExchange, AppendMergesAndTruncateDrops) {
  std::vector<FeatureRun> runs;
  append_features(runs, 0, {features_of(0), features_of(1)});
  append_features(runs, 2, {features_of(2)});
  append_features(runs, 10, {features_of(10), features_of(11), features_of(12)});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].end(), 3u);
  truncate_features(runs, 11);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].end(), 11u);
  truncate_features(runs, 2);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].end(), 2u);
}

TEST(MPI_FeatureExchange, AFrameHeldByNoRankOrByTwoFailsOnEveryRank) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  std::vector<FeatureRun> held = deal(50, 4, comm);
  // Frame 23 dropped wherever it is held.
  std::vector<FeatureRun> without;
  for (const FeatureRun& run : held) {
    std::vector<FrameFeatures> before, after;
    for (std::uint64_t k = run.first; k < run.end(); ++k) {
      if (k < 23) before.push_back(run.features[k - run.first]);
      if (k > 23) after.push_back(run.features[k - run.first]);
    }
    append_features(without, run.first, std::move(before));
    append_features(without, std::max<std::uint64_t>(run.first, 24), std::move(after));
  }
  try {
    share_features(without, 50, comm);
    ADD_FAILURE() << "no error for a missing frame";
  } catch (const InternalError& error) {
    EXPECT_NE(std::string(error.what()).find("frame 23"), std::string::npos) << error.what();
  }
  // Frame 7 held by rank 0 a second time (with one rank, rank 0 holds it twice).
  if (mpi::rank(comm) == 0) held.push_back({7, {features_of(7)}});
  try {
    share_features(held, 50, comm);
    ADD_FAILURE() << "no error for a frame held twice";
  } catch (const InternalError& error) {
    EXPECT_NE(std::string(error.what()).find("frame 7"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace ptyroi
