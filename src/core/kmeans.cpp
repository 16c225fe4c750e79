#include "ptyroi/core/kmeans.hpp"

#include <cmath>
#include <limits>

#include "ptyroi/core/com_statistics.hpp"
#include "ptyroi/core/exact_sum.hpp"
#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

Eigen::VectorXd initial_centroids(double min, double max, int clusters) {
  Eigen::VectorXd centroids(clusters);
  for (int i = 0; i < clusters; ++i) {
    centroids[i] = clusters == 1 ? min : min + (max - min) * static_cast<double>(i) / (clusters - 1);
  }
  if (clusters > 1) centroids[clusters - 1] = max;  // exactly max, whatever the rounding above
  return centroids;
}

int nearest_centroid(double value, const Eigen::VectorXd& centroids) {
  int best = 0;
  double best_distance = std::abs(value - centroids[0]);
  for (int i = 1; i < centroids.size(); ++i) {
    const double distance = std::abs(value - centroids[i]);
    if (distance < best_distance) {
      best = i;
      best_distance = distance;
    }
  }
  return best;
}

KMeansResult kmeans_1d(const std::vector<double>& local_values, int clusters, int iterations, MPI_Comm comm) {
  double local_min = std::numeric_limits<double>::infinity();
  double local_max = -std::numeric_limits<double>::infinity();
  for (double v : local_values) {
    local_min = std::min(local_min, v);
    local_max = std::max(local_max, v);
  }
  const double min = mpi::all_min(comm, local_min);
  const double max = mpi::all_max(comm, local_max);

  KMeansResult result;
  result.centroids = initial_centroids(min, max, clusters);
  result.labels.resize(local_values.size());
  const auto k = static_cast<std::size_t>(clusters);
  for (int iteration = 0; iteration < iterations; ++iteration) {
    std::vector<ExactSum> sums(k);
    std::vector<std::int64_t> counts(k, 0);
    for (double v : local_values) {
      const auto cluster = static_cast<std::size_t>(nearest_centroid(v, result.centroids));
      sums[cluster].add(v);
      ++counts[cluster];
    }
    all_reduce(sums, comm);
    mpi::all_sum(comm, counts);
    for (std::size_t c = 0; c < k; ++c) {
      if (counts[c] > 0)
        result.centroids[static_cast<Eigen::Index>(c)] = sums[c].value() / static_cast<double>(counts[c]);
    }
  }
  std::vector<std::int64_t> sizes(k, 0);
  for (std::size_t i = 0; i < local_values.size(); ++i) {
    result.labels[i] = nearest_centroid(local_values[i], result.centroids);
    ++sizes[static_cast<std::size_t>(result.labels[i])];
  }
  mpi::all_sum(comm, sizes);
  result.sizes = Eigen::Map<Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>>(sizes.data(), clusters);
  return result;
}

}  // namespace ptyroi
