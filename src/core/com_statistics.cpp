#include "ptyroi/core/com_statistics.hpp"

#include <cmath>

#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

double ComStandardisation::magnitude(const FrameFeatures& frame) const {
  if (!frame.has_com) return 0.0;
  const double zx = std_x > 0.0 ? (frame.com_x - mean_x) / std_x : 0.0;
  const double zy = std_y > 0.0 ? (frame.com_y - mean_y) / std_y : 0.0;
  return std::sqrt(zx * zx + zy * zy);
}

void all_reduce(std::vector<ExactSum>& sums, MPI_Comm comm) {
  constexpr std::size_t width = ExactSum::limb_count + 1;  // limbs, then the non-finite count
  std::vector<std::int64_t> packed(sums.size() * width);
  for (std::size_t i = 0; i < sums.size(); ++i) {
    sums[i].normalise();
    std::copy(sums[i].limbs().begin(), sums[i].limbs().end(), packed.begin() + static_cast<std::ptrdiff_t>(i * width));
    packed[i * width + width - 1] = sums[i].non_finite_count();
  }
  // Normalised limbs are < 2^32, so up to 2^31 ranks sum without overflow.
  mpi::all_sum(comm, packed);
  for (std::size_t i = 0; i < sums.size(); ++i) {
    std::copy(packed.begin() + static_cast<std::ptrdiff_t>(i * width),
              packed.begin() + static_cast<std::ptrdiff_t>(i * width + width - 1), sums[i].limbs().begin());
    sums[i].non_finite_count() = packed[i * width + width - 1];
    sums[i].normalise();
  }
}

ComStandardisation standardise_com(const std::vector<FrameFeatures>& local_frames, MPI_Comm comm) {
  ComStandardisation result;
  std::vector<ExactSum> sums(2);
  std::int64_t count = 0;
  for (const auto& frame : local_frames) {
    if (!frame.has_com) continue;
    sums[0].add(frame.com_x);
    sums[1].add(frame.com_y);
    ++count;
  }
  all_reduce(sums, comm);
  result.frames_with_com = mpi::all_sum(comm, count);
  if (result.frames_with_com == 0) return result;
  const auto n = static_cast<double>(result.frames_with_com);
  result.mean_x = sums[0].value() / n;
  result.mean_y = sums[1].value() / n;

  std::vector<ExactSum> squares(2);
  for (const auto& frame : local_frames) {
    if (!frame.has_com) continue;
    const double dx = frame.com_x - result.mean_x;
    const double dy = frame.com_y - result.mean_y;
    squares[0].add(dx * dx);
    squares[1].add(dy * dy);
  }
  all_reduce(squares, comm);
  result.std_x = std::sqrt(squares[0].value() / n);
  result.std_y = std::sqrt(squares[1].value() / n);
  return result;
}

}  // namespace ptyroi
