#pragma once
// Global statistics of the centres of mass (paper Section 2, step 3): mean and population standard
// deviation of CoM x and y over every frame that has a CoM, summed exactly (ExactSum) so they do
// not depend on how frames are shared among ranks.
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "ptyroi/core/exact_sum.hpp"
#include "ptyroi/core/frame_moments.hpp"

namespace ptyroi {

// Mergeable per-rank moments of one CoM component: count and Σv, then (second pass) Σ(v-mean)².
struct ComponentMoments {
  std::int64_t count = 0;
  ExactSum sum;
};

struct ComStandardisation {
  std::int64_t frames_with_com = 0;
  double mean_x = 0.0, mean_y = 0.0;
  double std_x = 0.0, std_y = 0.0;  // population standard deviations (divide by n)

  // |standardised CoM|; a component with zero spread contributes 0. Frames without a CoM: 0.
  double magnitude(const FrameFeatures& frame) const;
};

// Two passes over this rank's frames with one exact all-reduce each: the mean first, then the
// sum of squared deviations from it (more accurate than Σv² − n·mean²).
ComStandardisation standardise_com(const std::vector<FrameFeatures>& local_frames, MPI_Comm comm);

// All-reduces exact sums in place (limb-wise MPI_SUM of their canonical forms).
void all_reduce(std::vector<ExactSum>& sums, MPI_Comm comm);

}  // namespace ptyroi
