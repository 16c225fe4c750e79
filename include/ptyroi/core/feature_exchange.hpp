#pragma once
// Moving per-frame features to the ranks that classify them. A frame's features depend on the frame
// alone (frame_moments.hpp), so any rank may compute any frame's: e.g. frames shared out as they
// arrive during an acquisition. classify_frames needs each rank's share, partition_frames(K, P,
// rank), of the first K frames; share_features moves them there.
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "ptyroi/core/frame_moments.hpp"

namespace ptyroi {

// The features of the consecutive frames [first, first + features.size()).
struct FeatureRun {
  std::uint64_t first = 0;
  std::vector<FrameFeatures> features;
  std::uint64_t end() const { return first + features.size(); }
};

// Appends `features` of frames [first, ...) to `runs`, merging with the last run when it ends at
// `first` (runs are then kept few and sorted for in-order arrivals).
void append_features(std::vector<FeatureRun>& runs, std::uint64_t first, std::vector<FrameFeatures> features);

// Drops every held feature of a frame >= `end`.
void truncate_features(std::vector<FeatureRun>& runs, std::uint64_t end);

// This rank's share, partition_frames(frames, ranks, rank), of the features of frames [0, frames),
// gathered from the runs every rank holds (features of frames >= `frames` are left where they
// are). Collective over comm. Every frame below `frames` must be held by exactly one rank; else
// throws InternalError, identically on every rank, naming the first frame held by none or by two.
std::vector<FrameFeatures> share_features(const std::vector<FeatureRun>& held, std::uint64_t frames, MPI_Comm comm);
// The same, taking the runs: a run that starts at this rank's first frame becomes the result
// without a copy (memory: the share plus the frames that move).
std::vector<FrameFeatures> share_features(std::vector<FeatureRun>&& held, std::uint64_t frames, MPI_Comm comm);

}  // namespace ptyroi
