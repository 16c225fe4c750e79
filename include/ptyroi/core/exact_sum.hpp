#pragma once
// An exact accumulator for sums of doubles (a fixed-point "superaccumulator").
//
// Floating-point addition is not associative, so a sum reduced over 2 ranks differs in its last
// bits from the same sum over 3 ranks. ptyroi's results must not depend on the rank count, so its
// global statistics and k-means centroids are summed exactly here: each double is split into
// 32-bit digits of a 2^-1126-scaled integer held in int64 limbs. Limbs add with plain integer
// arithmetic, so partial sums from any number of ranks merge with MPI_SUM on MPI_INT64_T and
// give the same exact total, which value() rounds to a double deterministically.
#include <array>
#include <cstdint>

namespace ptyroi {

class ExactSum {
 public:
  static constexpr int limb_bits = 32;
  static constexpr int limb_count = 72;  // covers 2^-1126 .. 2^1178: every finite double and its sums

  void add(double value);
  void merge(const ExactSum& other);
  // The exact sum rounded to a double (within one unit in the last place; deterministic).
  double value() const;
  bool is_finite() const { return non_finite_count_ == 0; }

  // Carries settled: limbs 0..n-2 in [0, 2^32), the top limb signed. The canonical form of a
  // value, and the form in which partial sums are reduced across ranks.
  void normalise();
  std::array<std::int64_t, limb_count>& limbs() { return limbs_; }
  std::int64_t& non_finite_count() { return non_finite_count_; }

 private:
  std::array<std::int64_t, limb_count> limbs_{};
  std::int64_t non_finite_count_ = 0;
  std::int64_t adds_since_normalise_ = 0;
};

}  // namespace ptyroi
