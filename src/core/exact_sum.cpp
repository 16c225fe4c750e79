#include "ptyroi/core/exact_sum.hpp"

#include <cmath>
#include <limits>

namespace ptyroi {

namespace {
__extension__ typedef unsigned __int128 uint128;
constexpr int exponent_offset = 1126;  // the least significant bit of the smallest subnormal
constexpr std::int64_t limb_mask = (std::int64_t{1} << ExactSum::limb_bits) - 1;
// Each add puts < 2^32 into a limb, so 2^30 adds can never overflow an int64 limb.
constexpr std::int64_t adds_before_normalise = std::int64_t{1} << 30;
}  // namespace

void ExactSum::add(double value) {
  if (!std::isfinite(value)) {
    ++non_finite_count_;
    return;
  }
  if (value == 0.0) return;
  int exponent = 0;
  const double fraction = std::frexp(std::fabs(value), &exponent);  // value = fraction * 2^exponent
  // An exact 53-bit integer mantissa and the position of its least significant bit.
  const auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
  const int bit = exponent - 53 + exponent_offset;
  const int limb = bit / limb_bits;
  const int shift = bit % limb_bits;
  const uint128 shifted = static_cast<uint128>(mantissa) << shift;
  const std::int64_t sign = value < 0 ? -1 : 1;
  for (int digit = 0; digit < 3; ++digit) {
    const auto part = static_cast<std::int64_t>((shifted >> (digit * limb_bits)) & limb_mask);
    limbs_[static_cast<std::size_t>(limb + digit)] += sign * part;
  }
  if (++adds_since_normalise_ >= adds_before_normalise) normalise();
}

void ExactSum::merge(const ExactSum& other) {
  ExactSum settled = other;
  settled.normalise();
  normalise();
  for (std::size_t i = 0; i < limbs_.size(); ++i) limbs_[i] += settled.limbs_[i];
  non_finite_count_ += other.non_finite_count_;
  normalise();
}

void ExactSum::normalise() {
  for (std::size_t i = 0; i + 1 < limbs_.size(); ++i) {
    const std::int64_t carry = limbs_[i] >> limb_bits;  // arithmetic shift: floor division
    limbs_[i] -= carry * (std::int64_t{1} << limb_bits);
    limbs_[i + 1] += carry;
  }
  adds_since_normalise_ = 0;
}

double ExactSum::value() const {
  if (non_finite_count_ > 0) return std::numeric_limits<double>::quiet_NaN();
  ExactSum magnitude = *this;
  magnitude.normalise();
  const bool negative = magnitude.limbs_.back() < 0;
  if (negative) {
    for (auto& limb : magnitude.limbs_) limb = -limb;
    magnitude.normalise();
  }
  int top = limb_count - 1;
  while (top >= 0 && magnitude.limbs_[static_cast<std::size_t>(top)] == 0) --top;
  if (top < 0) return 0.0;
  // The three most significant digits hold 65+ significant bits: enough for a double.
  double result = 0.0;
  for (int i = top; i >= 0 && i >= top - 2; --i) {
    result +=
        std::ldexp(static_cast<double>(magnitude.limbs_[static_cast<std::size_t>(i)]), i * limb_bits - exponent_offset);
  }
  return negative ? -result : result;
}

}  // namespace ptyroi
