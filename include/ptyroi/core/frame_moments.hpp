#pragma once
// Per-frame features of the method (paper Section 2, Eq. 1): the total intensity T and the centre
// of mass O = (Σ_i i·colsum_i / T, Σ_j j·rowsum_j / T), x along the fast (last) detector axis.
//
// As in LiberTEM's CoM, the frame is reduced to raw moments first (its row and column sums, 2N
// numbers) and divided only at the end. Integer pixels are summed exactly in integers, so T and O
// of a frame do not depend on summation order; floating pixels are summed in double in one fixed
// (row-major) order. Either way a frame's features depend on the frame alone, never on which rank
// or block read it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ptyroi {

struct FrameFeatures {
  double total_intensity = 0.0;
  double com_x = 0.0;  // pixels, along the fast axis (columns)
  double com_y = 0.0;  // pixels, along the slow axis (rows)
  // False when T is zero, negative or not finite: the frame has no centre of mass and is left
  // out of the CoM statistics (its CoM magnitude counts as 0).
  bool has_com = false;
  // NaN/Inf pixels of float data: treated as masked (0) and counted, as many pipelines write
  // NaN where a pixel is invalid.
  std::int64_t non_finite_pixels = 0;
  // Pixels above PixelSelection::max_valid (saturated, hot, flagged): left out and counted.
  std::int64_t invalid_pixels = 0;
};

// Which pixels of a stored frame count, and where their coordinates start (frame_window.hpp):
// - fftshift: the frame is stored with zero frequency at the corner (tike, many fly scans); the
//   method sees it centred: stored pixel (i, j) at ((i + rows/2) mod rows, (j + cols/2) mod cols).
// - window: the crop (--crop) of the centred frame; rows == 0 means the whole frame. CoM is in
//   window coordinates.
// - good_pixels: stored-frame-sized (rows·cols of the frame as stored), 1 = use; empty: all.
// - max_valid: pixels above it (saturated, hot, or the detector's flag value) count as 0 and are
//   counted, like NaN/Inf pixels; unset: no limit.
struct PixelSelection {
  std::size_t window_row = 0, window_col = 0, window_rows = 0, window_cols = 0;
  std::vector<std::uint8_t> good_pixels;
  bool has_max_valid = false;
  double max_valid = 0.0;
  bool fftshift = false;
};

// Computes the features of one row-major rows×cols frame. Keeps its column-sum scratch between
// frames so the per-frame pass allocates nothing. Bad pixels (see PixelSelection) are left out of
// every sum.
class FrameMomentsKernel {
 public:
  explicit FrameMomentsKernel(PixelSelection selection = {});
  FrameMomentsKernel(FrameMomentsKernel&&) noexcept;
  FrameMomentsKernel& operator=(FrameMomentsKernel&&) noexcept;
  ~FrameMomentsKernel();

  // Defined for the ten pixel types of PixelType.
  template <class Pixel>
  FrameFeatures operator()(const Pixel* frame, std::size_t rows, std::size_t cols);

 private:
  struct Scratch;  // column sums (64- or 128-bit integers, or doubles) and coordinate weights
  PixelSelection selection_;
  std::unique_ptr<Scratch> scratch_;
};

extern template FrameFeatures FrameMomentsKernel::operator()(const std::uint8_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::uint16_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::uint32_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::uint64_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::int8_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::int16_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::int32_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const std::int64_t*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const float*, std::size_t, std::size_t);
extern template FrameFeatures FrameMomentsKernel::operator()(const double*, std::size_t, std::size_t);

}  // namespace ptyroi
