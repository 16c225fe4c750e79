// FrameTasks: every frame handed out exactly once, whichever rank takes it; a rank done early takes
// over frames of a busy one; without sharing each rank gets its own share in order.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "ptyroi/core/frame_tasks.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"

namespace ptyroi {
namespace {

// How many times each frame of [0, frames) was handed out over all ranks (on every rank), and the
// ranges this rank got.
struct Dealt {
  std::vector<std::int64_t> times;
  std::vector<FrameRange> mine;
};

template <class Work>
Dealt deal(std::uint64_t frames, std::uint64_t task_frames, bool share, MPI_Comm comm, Work&& work) {
  Dealt dealt;
  dealt.times.assign(frames, 0);
  {
    FrameTasks tasks(frames, task_frames, share, comm);
    EXPECT_EQ(tasks.sharing(), share && mpi::size(comm) > 1);
    for (FrameRange range = tasks.next(); range.count() > 0; range = tasks.next()) {
      EXPECT_LE(range.count(), task_frames);
      EXPECT_LE(range.end, frames);
      dealt.mine.push_back(range);
      for (std::uint64_t k = range.begin; k < range.end; ++k) ++dealt.times[k];
      work(range);
    }
    // Asked again after the end: still nothing.
    EXPECT_EQ(tasks.next().count(), 0u);
    std::uint64_t taken = 0;
    for (const FrameRange& range : dealt.mine) taken += range.count();
    EXPECT_EQ(tasks.own_frames_done() + tasks.helped_frames(), taken);
  }
  mpi::all_sum(comm, dealt.times);
  return dealt;
}

TEST(MPI_FrameTasks, EveryFrameIsHandedOutExactlyOnce) {
  for (const bool share : {true, false}) {
    for (const std::uint64_t frames : {0u, 1u, 2u, 3u, 7u, 100u, 1001u}) {
      for (const std::uint64_t task : {1u, 3u, 16u, 5000u}) {
        SCOPED_TRACE("share " + std::to_string(share) + ", frames " + std::to_string(frames) + ", task " +
                     std::to_string(task));
        const Dealt dealt = deal(frames, task, share, MPI_COMM_WORLD, [](FrameRange) {});
        for (std::uint64_t k = 0; k < frames; ++k) ASSERT_EQ(dealt.times[k], 1) << "frame " << k;
      }
    }
  }
}

TEST(MPI_FrameTasks, WithoutSharingEachRankGetsItsOwnShareInOrder) {
  const int ranks = mpi::size(MPI_COMM_WORLD);
  const FrameRange own = partition_frames(1000, ranks, mpi::rank(MPI_COMM_WORLD));
  const Dealt dealt = deal(1000, 7, false, MPI_COMM_WORLD, [](FrameRange) {});
  std::uint64_t next = own.begin;
  for (const FrameRange& range : dealt.mine) {
    EXPECT_EQ(range.begin, next);
    next = range.end;
  }
  EXPECT_EQ(next, own.end);
}

TEST(MPI_FrameTasks, ARankDoneEarlyTakesOverFramesOfABusyOne) {
  const int ranks = mpi::size(MPI_COMM_WORLD);
  if (ranks < 2) GTEST_SKIP() << "needs 2 ranks or more";
  const int me = mpi::rank(MPI_COMM_WORLD);
  // Rank 0 takes 5 ms a frame, the others nothing: they finish their shares at once and take
  // over most of rank 0's (without sharing rank 0 would spend 5 ms × its 200 frames = 1 s).
  const std::uint64_t frames = 200 * static_cast<std::uint64_t>(ranks);
  const FrameRange own0 = partition_frames(frames, ranks, 0);
  std::uint64_t own0_by_me = 0;
  const Dealt dealt = deal(frames, 1, true, MPI_COMM_WORLD, [&](FrameRange range) {
    if (range.begin >= own0.begin && range.end <= own0.end) own0_by_me += range.count();
    if (me == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  for (std::uint64_t k = 0; k < frames; ++k) ASSERT_EQ(dealt.times[k], 1) << "frame " << k;
  const std::int64_t by_others = mpi::all_sum(MPI_COMM_WORLD, static_cast<std::int64_t>(me == 0 ? 0 : own0_by_me));
  // Rank 0's own frames: taken from the front by rank 0, from the back by the others.
  EXPECT_GT(by_others, static_cast<std::int64_t>(own0.count() / 2));
  if (me == 0) {
    std::uint64_t next = own0.begin;
    for (const FrameRange& range : dealt.mine) {
      EXPECT_EQ(range.begin, next) << "rank 0 works through its share from the front";
      next = range.end;
    }
  }
}

}  // namespace
}  // namespace ptyroi
