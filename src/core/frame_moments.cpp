#include "ptyroi/core/frame_moments.hpp"

#include "ptyroi/core/frame_window.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

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
  std::int64_t invalid_pixels = 0;
  MomentSum<Pixel> total = 0;
  MomentSum<Pixel> row_moment = 0;     // Σ_j weight_j·rowsum_j
  MomentSum<Pixel> column_moment = 0;  // Σ_i weight_i·colsum_i
};

// The window reduced to its row and column sums (one pass over each analysed row, a run of
// consecutive stored columns at a time), then to three moments weighted by the analysed
// coordinates. Masked pixels (good == 0), pixels above `limit` and non-finite float pixels count as
// 0; the latter two are counted.
template <bool Masked, bool Limited, class Pixel>
RawMoments<Pixel> raw_moments(const Pixel* frame, const FrameWindow& window, const std::uint8_t* good,
                              RowSum<Pixel> limit, std::vector<RowSum<Pixel>>& column_sums) {
  using Sum = RowSum<Pixel>;
  using Moment = MomentSum<Pixel>;
  column_sums.assign(window.analysed_cols, Sum{0});
  RawMoments<Pixel> moments;
  for (std::size_t r = 0; r < window.rows.size(); ++r) {
    Sum row_sum = 0;
    std::int64_t invalid = 0;
    for (const FrameWindow::Run& run : window.runs) {
      const std::size_t offset = window.rows[r] * window.stored_cols + run.stored_col;
      const Pixel* row = frame + offset;
      Sum* columns = column_sums.data() + run.analysed_col;
      for (std::size_t c = 0; c < run.count; ++c) {
        auto value = static_cast<Sum>(row[c]);
        if constexpr (std::is_floating_point_v<Pixel>) {
          if (!std::isfinite(value)) {
            ++moments.non_finite_pixels;
            value = 0;
          }
        }
        if constexpr (Masked) value = good[offset + c] ? value : Sum{0};
        if constexpr (Limited) {
          invalid += value > limit;
          value = value > limit ? Sum{0} : value;
        }
        row_sum += value;
        columns[c] += value;
      }
    }
    moments.invalid_pixels += invalid;
    moments.total += static_cast<Moment>(row_sum);
    moments.row_moment += static_cast<Moment>(r) * static_cast<Moment>(row_sum);
  }
  for (std::size_t c = 0; c < window.analysed_cols; ++c) {
    moments.column_moment += static_cast<Moment>(c) * static_cast<Moment>(column_sums[c]);
  }
  return moments;
}

// The largest value of the summing type that does not exceed max_valid; `none` when every value
// of the pixel type is below it (then there is nothing to limit).
template <class Pixel>
bool pixel_limit(const PixelSelection& selection, RowSum<Pixel>& limit) {
  if (!selection.has_max_valid) return false;
  if constexpr (std::is_floating_point_v<Pixel>) {
    limit = selection.max_valid;
    return true;
  } else {
    const double highest = static_cast<double>(std::numeric_limits<Pixel>::max());
    if (selection.max_valid >= highest) return false;
    const double lowest = static_cast<double>(std::numeric_limits<Pixel>::min());
    limit = static_cast<RowSum<Pixel>>(std::floor(std::max(selection.max_valid, lowest - 1.0)));
    return true;
  }
}

__extension__ typedef unsigned __int128 uint128;

// Bits in an unsigned 128-bit value (0 for 0).
int bit_length(uint128 value) {
  int bits = 0;
  while (value != 0) {
    value >>= 1;
    ++bits;
  }
  return bits;
}

// numerator / denominator (denominator > 0) as the double nearest to the exact quotient, ties to
// even: one rounding, in integer arithmetic only, so the same on every machine (no long double,
// whose width differs between x86-64, aarch64 and ppc64le). The quotient is developed bit by bit
// until it has 54 significant bits (53 and the rounding bit); the remainder is the sticky bit.
double correctly_rounded_quotient(int128 numerator, int128 denominator) {
  if (numerator == 0) return 0.0;
  const bool negative = numerator < 0;
  const uint128 a = negative ? uint128(0) - static_cast<uint128>(numerator) : static_cast<uint128>(numerator);
  const auto b = static_cast<uint128>(denominator);
  uint128 quotient = a / b;
  uint128 remainder = a % b;
  int exponent = 0;  // value = (quotient + remainder / b) · 2^exponent
  bool sticky = false;
  const int bits = bit_length(quotient);
  if (bits > 54) {
    // More bits than a double keeps: the low ones only decide the rounding.
    const int drop = bits - 54;
    sticky = (quotient & ((uint128(1) << drop) - 1)) != 0;
    quotient >>= drop;
    exponent = drop;
  } else {
    // Long division, one bit at a time: remainder < b < 2^127, so 2·remainder fits.
    while (quotient < (uint128(1) << 53)) {
      remainder <<= 1;
      quotient <<= 1;
      if (remainder >= b) {
        remainder -= b;
        quotient |= 1;
      }
      --exponent;
    }
  }
  sticky = sticky || remainder != 0;
  // quotient holds 54 bits (2^53 <= quotient < 2^54): keep 53, round half to even.
  std::uint64_t mantissa = static_cast<std::uint64_t>(quotient >> 1);
  const bool round_bit = (quotient & 1) != 0;
  if (round_bit && (sticky || (mantissa & 1) != 0)) ++mantissa;
  // A carry to 2^53 is still exact in a double; ldexp only moves the exponent (no rounding: the
  // quotient of two integers below 2^127 lies far inside the normal range).
  const double magnitude = std::ldexp(static_cast<double>(mantissa), exponent + 1);
  return negative ? -magnitude : magnitude;
}

template <class Pixel>
FrameFeatures features_of(const RawMoments<Pixel>& m) {
  FrameFeatures features;
  features.total_intensity = static_cast<double>(m.total);
  features.non_finite_pixels = m.non_finite_pixels;
  features.invalid_pixels = m.invalid_pixels;
  if constexpr (std::is_floating_point_v<Pixel>) {
    if (std::isfinite(m.total) && m.total > 0.0 && std::isfinite(m.column_moment) && std::isfinite(m.row_moment)) {
      features.com_x = m.column_moment / m.total;
      features.com_y = m.row_moment / m.total;
      features.has_com = true;
    }
  } else if (m.total > 0) {
    // One rounding each: the exact moments divided exactly, rounded once to the nearest double.
    features.com_x = correctly_rounded_quotient(m.column_moment, m.total);
    features.com_y = correctly_rounded_quotient(m.row_moment, m.total);
    features.has_com = true;
  }
  return features;
}

}  // namespace

struct FrameMomentsKernel::Scratch {
  std::vector<std::int64_t> integer_column_sums;  // pixels of up to 32 bits
  std::vector<int128> wide_column_sums;           // 64-bit pixels
  std::vector<double> float_column_sums;
  FrameWindow window;  // for frames of stored_rows × stored_cols
  std::size_t stored_rows = 0, stored_cols = 0;
};

FrameMomentsKernel::FrameMomentsKernel(PixelSelection selection)
    : selection_(std::move(selection)), scratch_(std::make_unique<Scratch>()) {}
FrameMomentsKernel::FrameMomentsKernel(FrameMomentsKernel&&) noexcept = default;
FrameMomentsKernel& FrameMomentsKernel::operator=(FrameMomentsKernel&&) noexcept = default;
FrameMomentsKernel::~FrameMomentsKernel() = default;

template <class Pixel>
FrameFeatures FrameMomentsKernel::operator()(const Pixel* frame, std::size_t rows, std::size_t cols) {
  Scratch& scratch = *scratch_;
  auto& column_sums = [&scratch]() -> auto& {
    if constexpr (std::is_floating_point_v<Pixel>) {
      return scratch.float_column_sums;
    } else if constexpr (sizeof(Pixel) < 8) {
      return scratch.integer_column_sums;
    } else {
      return scratch.wide_column_sums;
    }
  }
  ();
  if (scratch.stored_rows != rows || scratch.stored_cols != cols) {
    scratch.window = frame_window(selection_, rows, cols);
    scratch.stored_rows = rows;
    scratch.stored_cols = cols;
  }
  const FrameWindow& layout = scratch.window;

  RowSum<Pixel> limit{};
  const bool limited = pixel_limit<Pixel>(selection_, limit);
  const std::uint8_t* good = selection_.good_pixels.empty() ? nullptr : selection_.good_pixels.data();
  if (good != nullptr) {
    return limited ? features_of(raw_moments<true, true>(frame, layout, good, limit, column_sums))
                   : features_of(raw_moments<true, false>(frame, layout, good, limit, column_sums));
  }
  return limited ? features_of(raw_moments<false, true>(frame, layout, good, limit, column_sums))
                 : features_of(raw_moments<false, false>(frame, layout, good, limit, column_sums));
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
