#pragma once
// One-dimensional k-means (Lloyd) over values spread across ranks (paper Section 2, step 5).
// Deterministic and rank-count invariant: initial centroids from the global min and max, cluster
// sums reduced exactly, ties to the lower cluster, an empty cluster keeps its centroid.
#include <mpi.h>

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace ptyroi {

struct KMeansResult {
  Eigen::VectorXd centroids;                             // ascending: 1-D Lloyd keeps the initial order
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> sizes;  // global cluster sizes
  std::vector<int> labels;                               // this rank's values, cluster index each
};

// k centroids evenly spaced from min to max (k = 2: exactly min and max).
Eigen::VectorXd initial_centroids(double min, double max, int clusters);

// Index of the centroid nearest to value; a tie goes to the lower index.
int nearest_centroid(double value, const Eigen::VectorXd& centroids);

// Runs `iterations` Lloyd steps (assign, then move each centroid to its cluster's mean), then
// labels each value with its nearest final centroid. Collective over comm.
KMeansResult kmeans_1d(const std::vector<double>& local_values, int clusters, int iterations, MPI_Comm comm);

}  // namespace ptyroi
