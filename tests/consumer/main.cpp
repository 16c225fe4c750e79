// A consumer of the installed package: frames made in memory (a 12 x 16 raster whose frames inside
// a known rectangle are darker, i.e. absorbing), the RoI found by ptyroi::find_roi on
// MPI_COMM_WORLD, checked against that rectangle: the 3x3 smoothing of the method spreads the
// contrast by at most one scan step, so the RoI must hold every frame of the rectangle and nothing
// farther than one step from it. Exit 0 only when it does.
#include <mpi.h>

#include <cstdio>
#include <vector>

#include "ptyroi/ptyroi.hpp"

int main(int argc, char** argv) {
  ptyroi::mpi::Session session(argc, argv);
  const MPI_Comm comm = MPI_COMM_WORLD;
  constexpr int rows = 12, cols = 16, n = 8;
  std::vector<std::uint16_t> frames(static_cast<std::size_t>(rows * cols * n * n));
  std::vector<std::uint8_t> inside(rows * cols), near(rows * cols);
  for (int k = 0; k < rows * cols; ++k) {
    const int r = k / cols, c = k % cols;
    inside[k] = r >= 3 && r < 8 && c >= 5 && c < 11;
    near[k] = r >= 2 && r < 9 && c >= 4 && c < 12;
    for (int p = 0; p < n * n; ++p) {
      frames[static_cast<std::size_t>(k * n * n + p)] = static_cast<std::uint16_t>((inside[k] ? 400 : 1000) + p % 7);
    }
  }
  const auto stack = ptyroi::MemoryFrames::view(frames.data(), rows * cols, n, n);
  ptyroi::RoiParameters parameters;
  parameters.grid = ptyroi::GridShape{rows, cols};
  try {
    const ptyroi::RoiResult result = ptyroi::find_roi(stack, {}, {}, parameters, comm);
    const std::vector<std::uint8_t> mask = ptyroi::gather_frames(result.local_mask, comm);
    int wrong = 0;
    for (int k = 0; k < rows * cols; ++k) wrong += (inside[k] && !mask[k]) || (mask[k] && !near[k]);
    if (ptyroi::mpi::rank(comm) == 0) {
      std::printf("ptyroi %s: %lld of %d frames in the RoI, %d misclassified\n", ptyroi::version,
                  static_cast<long long>(result.roi_frames), rows * cols, wrong);
    }
    return wrong == 0 ? 0 : 1;
  } catch (const ptyroi::Error& error) {
    std::fprintf(stderr, "consumer: %s (%s)\n", error.what(), ptyroi::error_category_name(error.category()));
    return 1;
  }
}
