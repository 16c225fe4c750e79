// Distributed pieces against serial computations written here, on 1, 2 and 3 ranks.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ptyroi/core/com_statistics.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/exact_sum.hpp"
#include "ptyroi/core/kmeans.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/order_statistics.hpp"
#include "ptyroi/core/partition.hpp"

namespace ptyroi {
namespace {

std::vector<double> bimodal_values(std::size_t n) {
  std::mt19937_64 random(7);
  std::normal_distribution<double> low(1.0, 0.3), high(5.0, 0.5);
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = (i % 5 == 0) ? high(random) : low(random);
  return values;
}

std::vector<double> my_share(const std::vector<double>& all, MPI_Comm comm) {
  const FrameRange r = partition_frames(all.size(), mpi::size(comm), mpi::rank(comm));
  return {all.begin() + static_cast<long>(r.begin), all.begin() + static_cast<long>(r.end)};
}

TEST(MPI_ExactSum, AllReduceEqualsTheSerialExactSum) {
  const auto values = bimodal_values(1001);
  ExactSum serial;
  for (double v : values) serial.add(v * 1e-3 - 0.002);
  std::vector<ExactSum> local(1);
  for (double v : my_share(values, MPI_COMM_WORLD)) local[0].add(v * 1e-3 - 0.002);
  all_reduce(local, MPI_COMM_WORLD);
  EXPECT_EQ(local[0].value(), serial.value());
}

TEST(MPI_ComStatistics, MatchNaiveMeanAndPopulationStd) {
  const auto xs = bimodal_values(997);
  std::vector<FrameFeatures> all(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    all[i] = {1.0, xs[i], 2.0 * xs[i] + 0.5 * std::sin(static_cast<double>(i)), i % 13 != 0};
  }
  double sx = 0, sy = 0, n = 0;
  for (const auto& f : all) {
    if (!f.has_com) continue;
    sx += f.com_x;
    sy += f.com_y;
    n += 1;
  }
  const double mx = sx / n, my = sy / n;
  double vx = 0, vy = 0;
  for (const auto& f : all) {
    if (!f.has_com) continue;
    vx += (f.com_x - mx) * (f.com_x - mx);
    vy += (f.com_y - my) * (f.com_y - my);
  }
  const FrameRange r = partition_frames(all.size(), mpi::size(MPI_COMM_WORLD), mpi::rank(MPI_COMM_WORLD));
  const std::vector<FrameFeatures> local(all.begin() + static_cast<long>(r.begin),
                                         all.begin() + static_cast<long>(r.end));
  const ComStandardisation s = standardise_com(local, MPI_COMM_WORLD);
  EXPECT_EQ(s.frames_with_com, static_cast<std::int64_t>(n));
  EXPECT_NEAR(s.mean_x, mx, 1e-12);
  EXPECT_NEAR(s.mean_y, my, 1e-12);
  EXPECT_NEAR(s.std_x, std::sqrt(vx / n), 1e-12);
  EXPECT_NEAR(s.std_y, std::sqrt(vy / n), 1e-12);
  const FrameFeatures probe{1.0, mx + 2 * s.std_x, my, true};
  EXPECT_NEAR(s.magnitude(probe), 2.0, 1e-12);
}

// Lloyd's algorithm written out plainly for the comparison.
std::vector<double> serial_lloyd(const std::vector<double>& v, int k, int iterations, std::vector<int>& labels) {
  double lo = v[0], hi = v[0];
  for (double x : v) lo = std::min(lo, x), hi = std::max(hi, x);
  std::vector<double> c(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) c[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / (k - 1);
  c.back() = hi;
  const auto assign = [&](double x) {
    int best = 0;
    for (int i = 1; i < k; ++i) {
      if (std::abs(x - c[static_cast<std::size_t>(i)]) < std::abs(x - c[static_cast<std::size_t>(best)])) best = i;
    }
    return best;
  };
  for (int it = 0; it < iterations; ++it) {
    std::vector<double> sum(c.size(), 0.0), count(c.size(), 0.0);
    for (double x : v) sum[static_cast<std::size_t>(assign(x))] += x, count[static_cast<std::size_t>(assign(x))] += 1;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (count[i] > 0) c[i] = sum[i] / count[i];
    }
  }
  labels.clear();
  for (double x : v) labels.push_back(assign(x));
  return c;
}

TEST(MPI_KMeans, DistributedLloydMatchesSerialLloyd) {
  const auto values = bimodal_values(1234);
  for (int k : {2, 3}) {
    std::vector<int> expected_labels;
    const auto expected = serial_lloyd(values, k, 10, expected_labels);
    const KMeansResult result = kmeans_1d(my_share(values, MPI_COMM_WORLD), k, 10, MPI_COMM_WORLD);
    for (int i = 0; i < k; ++i) EXPECT_NEAR(result.centroids[i], expected[static_cast<std::size_t>(i)], 1e-12);
    std::vector<double> local_labels(result.labels.begin(), result.labels.end());
    const auto labels = mpi::all_gather(MPI_COMM_WORLD, local_labels);
    ASSERT_EQ(labels.size(), expected_labels.size());
    std::int64_t total = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      EXPECT_EQ(static_cast<int>(labels[i]), expected_labels[i]) << "value " << i;
    }
    for (int i = 0; i < k; ++i) total += result.sizes[i];
    EXPECT_EQ(total, static_cast<std::int64_t>(values.size()));
  }
  // The two clusters of the bimodal data are found: 1 in 5 values is high.
  const KMeansResult two = kmeans_1d(my_share(values, MPI_COMM_WORLD), 2, 10, MPI_COMM_WORLD);
  EXPECT_NEAR(two.centroids[1], 5.0, 0.1);
  EXPECT_EQ(two.sizes[1], static_cast<std::int64_t>((values.size() + 4) / 5));
}

TEST(MPI_KMeans, RanksWithoutValuesTakePart) {
  // Only rank 0 holds values: the others contribute nothing but must not disturb the result.
  const std::vector<double> values{0.0, 0.1, 0.2, 9.8, 10.0};
  const bool holder = mpi::rank(MPI_COMM_WORLD) == 0;
  const KMeansResult result = kmeans_1d(holder ? values : std::vector<double>{}, 2, 10, MPI_COMM_WORLD);
  EXPECT_NEAR(result.centroids[0], 0.1, 1e-15);
  EXPECT_NEAR(result.centroids[1], 9.9, 1e-15);
  EXPECT_EQ(result.sizes[0], 3);
}

// Exact order statistics over ranks equal the serial ones, bitwise, duplicates and signs included.
TEST(MPI_OrderStatistics, KthSmallestAndRobustSpreadEqualSerial) {
  std::vector<double> values = bimodal_values(1003);
  for (std::size_t i = 0; i < values.size(); i += 7) values[i] = -values[i];
  values[3] = values[4];  // a duplicate
  values[10] = 0.0;
  values[11] = -0.0;
  const std::vector<double> mine = my_share(values, MPI_COMM_WORLD);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (const std::int64_t k : {0, 1, 500, 501, 1002}) {
    EXPECT_EQ(kth_smallest(mine, k, MPI_COMM_WORLD), sorted[static_cast<std::size_t>(k)]) << "k = " << k;
  }
  const double median = sorted[(sorted.size() - 1) / 2];
  EXPECT_EQ(lower_median(mine, MPI_COMM_WORLD), median);
  std::vector<double> deviations;
  for (const double v : values) deviations.push_back(std::abs(v - median));
  std::sort(deviations.begin(), deviations.end());
  EXPECT_EQ(robust_spread(mine, MPI_COMM_WORLD), 1.4826 * deviations[(deviations.size() - 1) / 2]);
  EXPECT_THROW(kth_smallest(mine, 1003, MPI_COMM_WORLD), InputError);
}

}  // namespace
}  // namespace ptyroi
