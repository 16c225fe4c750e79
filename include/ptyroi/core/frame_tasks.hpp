#pragma once
// Work sharing for the per-frame pass: each rank works through its own share of the frames
// (partition_frames) from the front, in tasks of consecutive frames; a rank that has finished takes
// tasks from the back of the other ranks' shares (the next rank first, cyclically). A rank slowed
// by its frames (less compressible ones decode slower) or by its core (a busy node, a virtual
// machine's shared cores) is then helped instead of waited for. Every frame is handed out exactly
// once, whichever rank takes it; a frame's features depend on the frame alone, so the results do
// not depend on who computed what (share_features moves them to their owners).
//
// Each rank's claims live in one 64-bit counter in an MPI window (passive target, MPI_Fetch_and_op):
// the owner adds 1 (front tasks, low 32 bits), a helper adds 2^32 (back tasks, high 32 bits); the
// old value says whether the claimed task is still free (front + back < tasks). With one rank, or
// sharing off, no window is made and each rank takes its own share in order.
#include <mpi.h>

#include <cstdint>

#include "ptyroi/core/partition.hpp"

namespace ptyroi {

class FrameTasks {
 public:
  // Collective over comm; every rank passes the same frames, task_frames (≥ 1) and share.
  FrameTasks(std::uint64_t frames, std::uint64_t task_frames, bool share, MPI_Comm comm);
  // Collective (frees the window): every rank destroys its FrameTasks, also when a phase failed.
  ~FrameTasks();
  FrameTasks(const FrameTasks&) = delete;
  FrameTasks& operator=(const FrameTasks&) = delete;

  // The next consecutive frames for this rank; an empty range when no task is left on any rank.
  // Rank-local (one-sided): ranks call it as often as they like, independently.
  FrameRange next();

  bool sharing() const { return window_ != MPI_WIN_NULL; }
  FrameRange own() const { return own_; }
  // Frames this rank took so far: from its own share, and from other ranks' shares.
  std::uint64_t own_frames_done() const { return own_done_; }
  std::uint64_t helped_frames() const { return helped_; }

 private:
  std::uint64_t claim(int target, bool front);  // the task index claimed on target, or kNone

  MPI_Comm comm_;
  int rank_ = 0, ranks_ = 1;
  std::uint64_t frames_ = 0, task_frames_ = 1;
  FrameRange own_;
  MPI_Win window_ = MPI_WIN_NULL;
  std::uint64_t* counter_ = nullptr;  // this rank's counter, in the window
  int target_ = 0;                    // whose tasks this rank takes now (itself first)
  std::uint64_t next_own_ = 0;        // without a window: the next own task
  std::uint64_t own_done_ = 0, helped_ = 0;
};

}  // namespace ptyroi
