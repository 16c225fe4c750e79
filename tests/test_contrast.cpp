// The contrast test's pure pieces: the gap, the verdict, the noise of a single value, and the
// order-preserving keys behind the exact distributed medians.
#include "ptyroi/core/contrast.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ptyroi/core/order_statistics.hpp"

namespace ptyroi {
namespace {

TEST(Contrast, GapIsToTheNearestOtherCentroid) {
  Eigen::VectorXd centroids(3);
  centroids << 1.0, 2.5, 7.0;
  EXPECT_EQ(centroid_gap(centroids, 0), 1.5);
  EXPECT_EQ(centroid_gap(centroids, 2), 4.5);
  EXPECT_EQ(centroid_gap(centroids, 1), 1.5);
  EXPECT_EQ(centroid_gap(Eigen::VectorXd::Constant(1, 3.0), 0), 0.0);
}

TEST(Contrast, VerdictComparesTheGapWithTheNoise) {
  const ContrastTest clear = judge_contrast(0.11, 0.0017, 2.0);
  EXPECT_TRUE(clear.tested && clear.has_contrast);
  EXPECT_NEAR(clear.score, 0.11 / 0.0017, 1e-12);
  const ContrastTest noise = judge_contrast(0.001, 0.0017, 2.0);
  EXPECT_FALSE(noise.has_contrast);
  const ContrastTest noise_free = judge_contrast(0.2, 0.0, 2.0);
  EXPECT_TRUE(noise_free.has_contrast);
  EXPECT_TRUE(std::isinf(noise_free.score));
  const ContrastTest constant = judge_contrast(0.0, 0.0, 2.0);
  EXPECT_FALSE(constant.has_contrast);
  EXPECT_EQ(constant.score, 0.0);
}

// Independent values of spread sigma: value − mean of 8 others has spread sigma·sqrt(1 + 1/8).
TEST(Contrast, SingleValueNoiseUndoesTheNeighbourMean) {
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal(0.0, 2.0);
  double sum_squares = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double neighbours = 0.0;
    for (int j = 0; j < 8; ++j) neighbours += normal(engine);
    const double residual = normal(engine) - neighbours / 8.0;
    sum_squares += residual * residual;
  }
  EXPECT_NEAR(single_value_noise(std::sqrt(sum_squares / n), 8.0), 2.0, 0.02);
}

TEST(OrderStatistics, KeysOrderLikeTheDoublesAndRoundTrip) {
  const std::vector<double> ordered{
      -std::numeric_limits<double>::infinity(), -1e300, -2.5, -1e-300, -0.0, 0.0, 1e-320, 1e-300, 3.0, 1e300,
      std::numeric_limits<double>::infinity()};
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    EXPECT_EQ(std::signbit(from_order_key(order_key(ordered[i]))), std::signbit(ordered[i]));
    EXPECT_EQ(from_order_key(order_key(ordered[i])), ordered[i]);
    if (i > 0) EXPECT_LT(order_key(ordered[i - 1]), order_key(ordered[i])) << i;
  }
}

}  // namespace
}  // namespace ptyroi
