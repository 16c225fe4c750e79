// Serial reference ("oracle") implementation of the ptyroi region-of-interest method.
//
// Written independently of include/ and src/ on purpose: the tests compare the distributed
// pipeline against this file, so it must not share code (or bugs) with it. Everything here is
// plain double precision, single process, one frame at a time, written for clarity not speed.
//
// The method, for a dataset [K, N, M] and a scan grid rows x cols (rows * cols = K, frame k at
// grid row k / cols, column k % cols):
//   1. T_k = sum of the pixels of frame k.
//   2. Centre of mass com_x = sum c*P / T_k (c = column, fast axis), com_y = sum r*P / T_k.
//      A frame with T_k == 0 has no CoM (stored as NaN), is left out of step 3 and gets c_k = 0.
//   3. z = (com - mean) / std per component, population std; a component with std 0 gets z = 0.
//   4. c_k = sqrt(z_x^2 + z_y^2).
//   5. T and c maps on the grid, each smoothed by the mean over the existing cells of the 3x3
//      neighbourhood (interior 9, edge 6, corner 4 cells).
//   6. Feature = log(smoothed map), values <= 0 first replaced by the smallest positive value of
//      the map (or the smoothed map itself when use_log is false).
//   7. 1-D k-means per feature: centroids start evenly spaced from min to max, a fixed number of
//      (assign, update) iterations, ties to the lower-index centroid, empty clusters keep their
//      centroid, and a final assignment gives the labels.
//   8. RoI = (cluster of lowest T centroid) U (cluster of highest c centroid).
//   9. border > 0: |border| 3x3 dilations; border < 0: |border| 3x3 erosions (cells outside the
//      grid do not count against a cell).
#pragma once

#include <string>
#include <vector>

namespace reference {

struct Params {
  long rows = 0;        // scan grid rows; rows * cols must equal the number of frames K
  long cols = 0;        // scan grid columns (frame k is at row k / cols, column k % cols)
  int border = 0;       // > 0: grow the RoI this many 3x3 steps; < 0: shrink it
  int clusters = 2;     // k of the 1-D k-means, >= 1
  int iterations = 10;  // fixed number of k-means (assign, update) iterations, >= 0
  bool use_log = true;  // cluster the natural log of the smoothed maps, else the linear values
};

// Result of a 1-D k-means: final centroids and, per point, the index of its nearest centroid.
struct Clustering {
  std::vector<double> centroids;
  std::vector<int> labels;
};

// Everything the method computes, kept so that a test can compare any intermediate step.
// Per-frame / per-cell vectors have K = rows * cols entries in frame order.
struct Result {
  long rows = 0, cols = 0;

  std::vector<double> total_intensity;  // T_k
  std::vector<double> com_x, com_y;     // centre of mass in pixels; NaN when T_k == 0
  std::vector<double> com_magnitude;    // c_k (0 for frames without signal)
  long frames_without_signal = 0;       // number of frames with T_k == 0

  // Statistics of step 3 over the frames that have a CoM (NaN if no frame has one).
  double mean_com_x = 0, mean_com_y = 0, std_com_x = 0, std_com_y = 0;

  std::vector<double> absorption_map, scattering_map;          // smoothed T and c (before log)
  std::vector<double> absorption_feature, scattering_feature;  // what k-means clustered
  Clustering absorption_clusters, scattering_clusters;
  int absorption_cluster = 0;  // index of the lowest T centroid (first one on a tie)
  int scattering_cluster = 0;  // index of the highest c centroid (first one on a tie)

  std::vector<unsigned char> absorption_roi, scattering_roi;  // 1 = in, before the border
  std::vector<unsigned char> mask;                            // final RoI: union of the two, after the border; 1 = in
};

// Runs the whole method on dataset `dataset` of the HDF5 file `file` (opened serially,
// read-only). Throws std::runtime_error on I/O problems or a grid that does not match K,
// std::invalid_argument on bad parameters.
Result compute_roi(const std::string& file, const std::string& dataset, const Params& params);

// --- the steps, exposed so that tests can check them on hand-made inputs ----------------------

// Step 5: mean over the existing cells of each cell's 3x3 neighbourhood (cell included).
std::vector<double> smooth_3x3(const std::vector<double>& map, long rows, long cols);

// Step 6: log(map) with values <= 0 replaced by the smallest positive value of the map, or the
// map unchanged when use_log is false. A map with no positive value at all gives a feature of 0
// everywhere (the method leaves that case open; a constant feature clusters into cluster 0).
std::vector<double> clustering_feature(const std::vector<double>& map, bool use_log);

// Step 7: 1-D k-means as described above.
Clustering kmeans_1d(const std::vector<double>& feature, int clusters, int iterations);

// Step 9: grow (border > 0) or shrink (border < 0) a grid mask |border| times by 3x3 steps.
std::vector<unsigned char> apply_border(const std::vector<unsigned char>& roi, long rows, long cols, int border);

}  // namespace reference
