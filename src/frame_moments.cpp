#include "ptyroi/frame_moments.hpp"

#include <cmath>

namespace ptyroi {

namespace {

__extension__ typedef __int128 int128;

// 32-bit and narrower pixels: a row of up to 2^31 pixels sums exactly in int64. 64-bit pixels
// would not, so their rows and columns are summed in 128-bit integers. Floats sum in double.
template <class Pixel>
using RowSum = std::conditional_t<std::is_floating_point_v<Pixel>, double,
                                  std::conditional_t<(sizeof(Pixel) < 8), std::int64_t, int128>>;
template <class Pixel>
using MomentSum = std::conditional_t<std::is_floating_point_v<Pixel>, double, int128>;

template <class Pixel>
struct RawMoments {
  std::int64_t non_finite_pixels = 0;
  MomentSum<Pixel> total = 0;
  MomentSum<Pixel> row_moment = 0;     // Σ_j j·rowsum_j
  MomentSum<Pixel> column_moment = 0;  // Σ_i i·colsum_i
};

// The frame reduced to its row and column sums (one pass, row-major), then to three moments.
// Masked pixels (good[i] == 0) and non-finite float pixels count as 0; the latter are counted.
template <bool Masked, class Pixel>
RawMoments<Pixel> raw_moments(const Pixel* frame, std::size_t rows, std::size_t cols, const std::uint8_t* good,
                              std::vector<RowSum<Pixel>>& column_sums) {
  using Sum = RowSum<Pixel>;
  using Moment = MomentSum<Pixel>;
  column_sums.assign(cols, Sum{0});
  RawMoments<Pixel> moments;
  for (std::size_t r = 0; r < rows; ++r) {
    const Pixel* row = frame + r * cols;
    Sum row_sum = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      auto value = static_cast<Sum>(row[c]);
      if constexpr (std::is_floating_point_v<Pixel>) {
        if (!std::isfinite(value)) {
          ++moments.non_finite_pixels;
          value = 0;
        }
      }
      if constexpr (Masked) value = good[r * cols + c] ? value : Sum{0};
      row_sum += value;
      column_sums[c] += value;
    }
    moments.total += static_cast<Moment>(row_sum);
    moments.row_moment += static_cast<Moment>(r) * static_cast<Moment>(row_sum);
  }
  for (std::size_t c = 0; c < cols; ++c) {
    moments.column_moment += static_cast<Moment>(c) * static_cast<Moment>(column_sums[c]);
  }
  return moments;
}

template <class Pixel>
FrameFeatures features_of(const RawMoments<Pixel>& m) {
  FrameFeatures features;
  features.total_intensity = static_cast<double>(m.total);
  features.non_finite_pixels = m.non_finite_pixels;
  if constexpr (std::is_floating_point_v<Pixel>) {
    if (std::isfinite(m.total) && m.total > 0.0 && std::isfinite(m.column_moment) && std::isfinite(m.row_moment)) {
      features.com_x = m.column_moment / m.total;
      features.com_y = m.row_moment / m.total;
      features.has_com = true;
    }
  } else if (m.total > 0) {
    // One rounding each: the exact moments divided in long double, then rounded to double.
    const auto t = static_cast<long double>(m.total);
    features.com_x = static_cast<double>(static_cast<long double>(m.column_moment) / t);
    features.com_y = static_cast<double>(static_cast<long double>(m.row_moment) / t);
    features.has_com = true;
  }
  return features;
}

}  // namespace

FrameMomentsKernel::FrameMomentsKernel(std::vector<std::uint8_t> good_pixels) : good_pixels_(std::move(good_pixels)) {}

template <class Pixel>
FrameFeatures FrameMomentsKernel::operator()(const Pixel* frame, std::size_t rows, std::size_t cols) {
  auto& column_sums = [this]() -> auto& {
    if constexpr (std::is_floating_point_v<Pixel>) {
      return float_column_sums_;
    } else if constexpr (sizeof(Pixel) < 8) {
      return integer_column_sums_;
    } else {
      return wide_column_sums_;
    }
  }
  ();
  if (good_pixels_.empty()) return features_of(raw_moments<false>(frame, rows, cols, nullptr, column_sums));
  return features_of(raw_moments<true>(frame, rows, cols, good_pixels_.data(), column_sums));
}

template FrameFeatures FrameMomentsKernel::operator()(const std::uint8_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::uint16_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::uint32_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::uint64_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::int8_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::int16_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::int32_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const std::int64_t*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const float*, std::size_t, std::size_t);
template FrameFeatures FrameMomentsKernel::operator()(const double*, std::size_t, std::size_t);

}  // namespace ptyroi
