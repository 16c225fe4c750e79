#include "ptyroi/core/exact_sum.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace ptyroi {
namespace {

TEST(ExactSum, CancellationThatBreaksNaiveSummation) {
  // 1e16 + 1 - 1e16 is 0 in naive double arithmetic; the exact sum keeps the 1.
  ExactSum sum;
  sum.add(1e16);
  sum.add(1.0);
  sum.add(-1e16);
  EXPECT_EQ(sum.value(), 1.0);
  EXPECT_EQ((1e16 + 1.0) - 1e16, 0.0);  // the reason this class exists
}

TEST(ExactSum, IntegersSumExactly) {
  ExactSum sum;
  long long expected = 0;
  for (long long i = -1000; i <= 3000; ++i) {
    sum.add(static_cast<double>(i * 7919));
    expected += i * 7919;
  }
  EXPECT_EQ(sum.value(), static_cast<double>(expected));
}

TEST(ExactSum, ExtremesAndSubnormals) {
  ExactSum big;
  big.add(std::numeric_limits<double>::max());
  big.add(-std::numeric_limits<double>::max());
  big.add(std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(big.value(), std::numeric_limits<double>::denorm_min());
  ExactSum negative;
  negative.add(-0.1);
  negative.add(-0.2);
  // -0.1 + -0.2 exactly is -0.3000000000000000166533453693773481063544750213623046875,
  // whose nearest double is -0.30000000000000004.
  EXPECT_EQ(negative.value(), -0.30000000000000004);
}

TEST(ExactSum, AnyGroupingOfPartialSumsGivesBitIdenticalTotals) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> magnitude(0.0, 8.0);
  std::vector<double> values(10000);
  for (auto& v : values) v = (random() & 1 ? 1 : -1) * magnitude(random);
  ExactSum whole;
  for (double v : values) whole.add(v);
  for (std::size_t parts : {2u, 3u, 7u, 64u}) {
    ExactSum merged;
    for (std::size_t p = 0; p < parts; ++p) {
      ExactSum partial;
      for (std::size_t i = p; i < values.size(); i += parts) partial.add(values[i]);  // interleaved order too
      merged.merge(partial);
    }
    EXPECT_EQ(merged.value(), whole.value()) << parts << " parts";
  }
  // And the value is right: compare with a long double sum of the sorted magnitudes' pairs.
  long double reference = 0.0L;
  for (double v : values) reference += v;
  EXPECT_NEAR(whole.value(), static_cast<double>(reference), 1e-9 * std::fabs(static_cast<double>(reference)) + 1e-6);
}

TEST(ExactSum, NonFiniteValuesPoisonTheSum) {
  ExactSum sum;
  sum.add(1.0);
  sum.add(std::numeric_limits<double>::infinity());
  EXPECT_FALSE(sum.is_finite());
  EXPECT_TRUE(std::isnan(sum.value()));
}

}  // namespace
}  // namespace ptyroi
