#include "ptyroi/frame_moments.hpp"

#include <cmath>

namespace ptyroi {

namespace {

__extension__ typedef __int128 int128;

// 32-bit and narrower pixels: a row of up to 2^31 pixels sums exactly in int64. 64-bit pixels
// would not, so their rows and columns are summed in 128-bit integers.
template <class Pixel>
using WideSum = std::conditional_t<(sizeof(Pixel) < 8), std::int64_t, int128>;

template <class Pixel, class Sum>
FrameFeatures integer_features(const Pixel* frame, std::size_t rows, std::size_t cols, std::vector<Sum>& column_sums) {
  column_sums.assign(cols, Sum{0});
  int128 total = 0;
  int128 row_moment = 0;  // Σ_j j·rowsum_j
  for (std::size_t r = 0; r < rows; ++r) {
    const Pixel* row = frame + r * cols;
    Sum row_sum = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      const Sum value = static_cast<Sum>(row[c]);
      row_sum += value;
      column_sums[c] += value;
    }
    total += row_sum;
    row_moment += static_cast<int128>(r) * row_sum;
  }
  int128 column_moment = 0;  // Σ_i i·colsum_i
  for (std::size_t c = 0; c < cols; ++c) column_moment += static_cast<int128>(c) * column_sums[c];

  FrameFeatures features;
  features.total_intensity = static_cast<double>(total);
  if (total > 0) {
    // One rounding each: the exact moments divided in long double, then rounded to double.
    const auto t = static_cast<long double>(total);
    features.com_x = static_cast<double>(static_cast<long double>(column_moment) / t);
    features.com_y = static_cast<double>(static_cast<long double>(row_moment) / t);
    features.has_com = true;
  }
  return features;
}

template <class Pixel>
FrameFeatures float_features(const Pixel* frame, std::size_t rows, std::size_t cols, std::vector<double>& column_sums) {
  column_sums.assign(cols, 0.0);
  double total = 0.0;
  double row_moment = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const Pixel* row = frame + r * cols;
    double row_sum = 0.0;
    for (std::size_t c = 0; c < cols; ++c) {
      const double value = static_cast<double>(row[c]);
      row_sum += value;
      column_sums[c] += value;
    }
    total += row_sum;
    row_moment += static_cast<double>(r) * row_sum;
  }
  double column_moment = 0.0;
  for (std::size_t c = 0; c < cols; ++c) column_moment += static_cast<double>(c) * column_sums[c];

  FrameFeatures features;
  features.total_intensity = total;
  if (std::isfinite(total) && total > 0.0 && std::isfinite(column_moment) && std::isfinite(row_moment)) {
    features.com_x = column_moment / total;
    features.com_y = row_moment / total;
    features.has_com = true;
  }
  return features;
}

}  // namespace

template <class Pixel>
FrameFeatures FrameMomentsKernel::operator()(const Pixel* frame, std::size_t rows, std::size_t cols) {
  if constexpr (std::is_floating_point_v<Pixel>) {
    return float_features(frame, rows, cols, float_column_sums_);
  } else if constexpr (sizeof(Pixel) < 8) {
    return integer_features(frame, rows, cols, integer_column_sums_);
  } else {
    std::vector<int128> wide_column_sums;
    return integer_features(frame, rows, cols, wide_column_sums);
  }
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
