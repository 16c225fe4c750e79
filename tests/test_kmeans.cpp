#include "ptyroi/core/kmeans.hpp"

#include <gtest/gtest.h>

namespace ptyroi {
namespace {

TEST(KMeans, InitialCentroidsSpanMinToMax) {
  const Eigen::VectorXd two = initial_centroids(-1.0, 3.0, 2);
  EXPECT_EQ(two[0], -1.0);
  EXPECT_EQ(two[1], 3.0);
  const Eigen::VectorXd three = initial_centroids(0.0, 0.3, 3);
  EXPECT_EQ(three[0], 0.0);
  EXPECT_DOUBLE_EQ(three[1], 0.15);
  EXPECT_EQ(three[2], 0.3);
}

TEST(KMeans, NearestCentroidTiesGoLow) {
  Eigen::VectorXd c(2);
  c << 0.0, 2.0;
  EXPECT_EQ(nearest_centroid(0.9, c), 0);
  EXPECT_EQ(nearest_centroid(1.0, c), 0);  // a tie
  EXPECT_EQ(nearest_centroid(1.1, c), 1);
}

}  // namespace
}  // namespace ptyroi
