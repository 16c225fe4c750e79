#include "ptyroi/core/frame_tasks.hpp"

#include <algorithm>
#include <string>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

namespace {

constexpr std::uint64_t kNone = ~std::uint64_t{0};
constexpr std::uint64_t kBackTask = std::uint64_t{1} << 32;  // a helper's claim: the high 32 bits
constexpr std::uint64_t kLowBits = kBackTask - 1;
// Tasks per share stay below 2^31, so neither half of a counter overflows into the other (each
// rank over-claims at most once per share: the claim that finds it used up).
constexpr std::uint64_t kMaxTasks = std::uint64_t{1} << 30;

void check(int status, const char* what) {
  if (status != MPI_SUCCESS) throw IoError(std::string("MPI call failed: ") + what);
}

std::uint64_t tasks_in(FrameRange share, std::uint64_t task_frames) {
  return (share.count() + task_frames - 1) / task_frames;
}

}  // namespace

FrameTasks::FrameTasks(std::uint64_t frames, std::uint64_t task_frames, bool share, MPI_Comm comm)
    : comm_(comm), rank_(mpi::rank(comm)), ranks_(mpi::size(comm)), frames_(frames) {
  own_ = partition_frames(frames, ranks_, rank_);
  const std::uint64_t largest = partition_frames(frames, ranks_, 0).count();  // rank 0's share is the largest
  task_frames_ = std::max({task_frames, std::uint64_t{1}, (largest + kMaxTasks - 1) / kMaxTasks});
  target_ = rank_;
  if (!share || ranks_ < 2) return;
  void* base = nullptr;
  check(MPI_Win_allocate(sizeof(std::uint64_t), sizeof(std::uint64_t), MPI_INFO_NULL, comm, &base, &window_),
        "MPI_Win_allocate");
  counter_ = static_cast<std::uint64_t*>(base);
  *counter_ = 0;
  // One passive-target epoch for the whole pass; the counters are zero everywhere before any claim.
  check(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_), "MPI_Win_lock_all");
  check(MPI_Win_sync(window_), "MPI_Win_sync");
  check(MPI_Barrier(comm), "MPI_Barrier");
}

FrameTasks::~FrameTasks() {
  if (window_ == MPI_WIN_NULL) return;
  MPI_Win_unlock_all(window_);
  MPI_Win_free(&window_);
}

std::uint64_t FrameTasks::claim(int target, bool front) {
  const std::uint64_t tasks = tasks_in(partition_frames(frames_, ranks_, target), task_frames_);
  if (tasks == 0) return kNone;
  const std::uint64_t add = front ? 1 : kBackTask;
  std::uint64_t old = 0;
  check(MPI_Fetch_and_op(&add, &old, MPI_UINT64_T, target, 0, MPI_SUM, window_), "MPI_Fetch_and_op");
  check(MPI_Win_flush(target, window_), "MPI_Win_flush");
  const std::uint64_t taken_front = old & kLowBits, taken_back = old >> 32;
  if (taken_front + taken_back >= tasks) return kNone;  // the share is used up
  return front ? taken_front : tasks - 1 - taken_back;
}

FrameRange FrameTasks::next() {
  if (!sharing()) {
    const FrameRange range{std::min(own_.end, own_.begin + next_own_ * task_frames_),
                           std::min(own_.end, own_.begin + (next_own_ + 1) * task_frames_)};
    ++next_own_;
    own_done_ += range.count();
    return range;
  }
  while (target_ < ranks_) {
    const bool mine = target_ == rank_;
    const std::uint64_t task = claim(target_, mine);
    if (task != kNone) {
      const FrameRange share = partition_frames(frames_, ranks_, target_);
      const FrameRange range{share.begin + task * task_frames_,
                             std::min(share.end, share.begin + (task + 1) * task_frames_)};
      (mine ? own_done_ : helped_) += range.count();
      return range;
    }
    // That share is used up: help the next rank, cyclically; back at this rank, everything is taken.
    const int following = (target_ + 1) % ranks_;
    target_ = following == rank_ ? ranks_ : following;
  }
  return {own_.end, own_.end};
}

}  // namespace ptyroi
