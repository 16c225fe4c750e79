// Serial reference implementation of the RoI method; see reference_roi.hpp for the method.
#include "reference_roi.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace reference {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Closes an HDF5 handle when it goes out of scope, so that an exception leaks nothing.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  H5Handle(hid_t handle, herr_t (*closer)(hid_t)) : id(handle), close(closer) {}
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() {
    if (id >= 0) close(id);
  }
};

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("reference_roi: " + what);
}

// Per-frame sums of step 1 and 2, read one frame at a time; HDF5 converts any integer or float
// file type to double on read.
struct FrameSums {
  std::vector<double> total, sum_col_weighted, sum_row_weighted;
};

FrameSums read_frame_sums(const std::string& file, const std::string& dataset, long expected_k) {
  H5Handle f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  require(f.id >= 0, "cannot open file " + file);
  H5Handle d(H5Dopen2(f.id, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  require(d.id >= 0, "cannot open dataset " + dataset + " in " + file);
  H5Handle file_space(H5Dget_space(d.id), H5Sclose);
  require(file_space.id >= 0, "cannot get the dataspace of " + dataset);
  require(H5Sget_simple_extent_ndims(file_space.id) == 3, dataset + " is not 3-dimensional");
  hsize_t dims[3] = {0, 0, 0};
  H5Sget_simple_extent_dims(file_space.id, dims, nullptr);
  const hsize_t k_frames = dims[0], n_rows = dims[1], m_cols = dims[2];
  require(
      static_cast<long>(k_frames) == expected_k,
      "dataset has " + std::to_string(k_frames) + " frames but the grid has " + std::to_string(expected_k) + " cells");

  hsize_t frame_dims[2] = {n_rows, m_cols};
  H5Handle memory_space(H5Screate_simple(2, frame_dims, nullptr), H5Sclose);
  require(memory_space.id >= 0, "cannot create the memory dataspace");
  std::vector<double> frame(n_rows * m_cols);

  FrameSums sums;
  for (hsize_t k = 0; k < k_frames; ++k) {
    const hsize_t start[3] = {k, 0, 0};
    const hsize_t count[3] = {1, n_rows, m_cols};
    require(H5Sselect_hyperslab(file_space.id, H5S_SELECT_SET, start, nullptr, count, nullptr) >= 0,
            "cannot select frame " + std::to_string(k));
    require(H5Dread(d.id, H5T_NATIVE_DOUBLE, memory_space.id, file_space.id, H5P_DEFAULT, frame.data()) >= 0,
            "cannot read frame " + std::to_string(k));
    double total = 0, col_weighted = 0, row_weighted = 0;
    for (hsize_t r = 0; r < n_rows; ++r) {
      for (hsize_t c = 0; c < m_cols; ++c) {
        const double p = frame[r * m_cols + c];
        total += p;
        col_weighted += static_cast<double>(c) * p;
        row_weighted += static_cast<double>(r) * p;
      }
    }
    sums.total.push_back(total);
    sums.sum_col_weighted.push_back(col_weighted);
    sums.sum_row_weighted.push_back(row_weighted);
  }
  return sums;
}

// Population mean and standard deviation (divide by n) of the non-NaN entries; NaN if none.
void mean_and_std(const std::vector<double>& values, double& mean, double& std_dev) {
  double sum = 0;
  long n = 0;
  for (double v : values) {
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  }
  if (n == 0) {
    mean = std_dev = kNaN;
    return;
  }
  mean = sum / static_cast<double>(n);
  double squares = 0;  // two passes: (x - mean)^2, not E[x^2] - mean^2, to avoid cancellation
  for (double v : values) {
    if (!std::isnan(v)) squares += (v - mean) * (v - mean);
  }
  std_dev = std::sqrt(squares / static_cast<double>(n));
}

// z-score of one component; a component without spread carries no information, so z = 0.
double z_score(double value, double mean, double std_dev) { return std_dev > 0 ? (value - mean) / std_dev : 0.0; }

// Index of the nearest centroid; strict '<' keeps the lower index on a tie.
int nearest_centroid(double x, const std::vector<double>& centroids) {
  int best = 0;
  for (int j = 1; j < static_cast<int>(centroids.size()); ++j) {
    if (std::abs(x - centroids[j]) < std::abs(x - centroids[best])) best = j;
  }
  return best;
}

std::vector<int> assign(const std::vector<double>& feature, const std::vector<double>& centroids) {
  std::vector<int> labels;
  for (double x : feature) labels.push_back(nearest_centroid(x, centroids));
  return labels;
}

// One 3x3 morphology step. Dilation: a cell is in if any existing cell of its 3x3 neighbourhood
// is in. Erosion: a cell stays if every existing cell of its 3x3 neighbourhood is in (cells
// outside the grid are simply not looked at, so they never remove a cell).
std::vector<unsigned char> morphology_step(const std::vector<unsigned char>& roi, long rows, long cols, bool dilate) {
  std::vector<unsigned char> out(roi.size(), 0);
  for (long r = 0; r < rows; ++r) {
    for (long c = 0; c < cols; ++c) {
      bool any_in = false, all_in = true;
      for (long dr = -1; dr <= 1; ++dr) {
        for (long dc = -1; dc <= 1; ++dc) {
          const long nr = r + dr, nc = c + dc;
          if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) continue;
          const bool in = roi[nr * cols + nc] != 0;
          any_in = any_in || in;
          all_in = all_in && in;
        }
      }
      out[r * cols + c] = (dilate ? any_in : all_in) ? 1 : 0;
    }
  }
  return out;
}

}  // namespace

std::vector<double> smooth_3x3(const std::vector<double>& map, long rows, long cols) {
  if (rows <= 0 || cols <= 0 || static_cast<long>(map.size()) != rows * cols) {
    throw std::invalid_argument("smooth_3x3: map size does not match the grid");
  }
  std::vector<double> smoothed(map.size());
  for (long r = 0; r < rows; ++r) {
    for (long c = 0; c < cols; ++c) {
      double sum = 0;
      int cells = 0;
      for (long dr = -1; dr <= 1; ++dr) {
        for (long dc = -1; dc <= 1; ++dc) {
          const long nr = r + dr, nc = c + dc;
          if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) continue;
          sum += map[nr * cols + nc];
          ++cells;
        }
      }
      smoothed[r * cols + c] = sum / cells;
    }
  }
  return smoothed;
}

std::vector<double> clustering_feature(const std::vector<double>& map, bool use_log) {
  if (!use_log) return map;
  // log is undefined at <= 0: such cells take the smallest positive value of the map instead.
  double smallest_positive = std::numeric_limits<double>::infinity();
  for (double v : map) {
    if (v > 0) smallest_positive = std::min(smallest_positive, v);
  }
  std::vector<double> feature;
  for (double v : map) {
    if (std::isinf(smallest_positive)) {
      feature.push_back(0.0);  // no positive value at all: see the header
    } else {
      feature.push_back(std::log(v > 0 ? v : smallest_positive));
    }
  }
  return feature;
}

Clustering kmeans_1d(const std::vector<double>& feature, int clusters, int iterations) {
  if (clusters < 1) throw std::invalid_argument("kmeans_1d: clusters must be >= 1");
  if (iterations < 0) throw std::invalid_argument("kmeans_1d: iterations must be >= 0");
  if (feature.empty()) throw std::invalid_argument("kmeans_1d: no points");

  const double lo = *std::min_element(feature.begin(), feature.end());
  const double hi = *std::max_element(feature.begin(), feature.end());
  Clustering result;
  for (int j = 0; j < clusters; ++j) {
    result.centroids.push_back(clusters == 1 ? lo : lo + (hi - lo) * j / (clusters - 1));
  }
  if (clusters > 1) result.centroids.back() = hi;  // exactly the max, free of rounding

  for (int it = 0; it < iterations; ++it) {
    const std::vector<int> labels = assign(feature, result.centroids);
    std::vector<double> sum(clusters, 0.0);
    std::vector<long> count(clusters, 0);
    for (std::size_t i = 0; i < feature.size(); ++i) {
      sum[labels[i]] += feature[i];
      ++count[labels[i]];
    }
    for (int j = 0; j < clusters; ++j) {
      if (count[j] > 0) result.centroids[j] = sum[j] / static_cast<double>(count[j]);
    }
  }
  result.labels = assign(feature, result.centroids);
  return result;
}

std::vector<unsigned char> apply_border(const std::vector<unsigned char>& roi, long rows, long cols, int border) {
  if (rows <= 0 || cols <= 0 || static_cast<long>(roi.size()) != rows * cols) {
    throw std::invalid_argument("apply_border: mask size does not match the grid");
  }
  std::vector<unsigned char> mask = roi;
  for (int step = 0; step < std::abs(border); ++step) {
    mask = morphology_step(mask, rows, cols, border > 0);
  }
  return mask;
}

Result compute_roi(const std::string& file, const std::string& dataset, const Params& params) {
  if (params.rows <= 0 || params.cols <= 0) {
    throw std::invalid_argument("compute_roi: rows and cols must be positive");
  }
  if (params.clusters < 1) throw std::invalid_argument("compute_roi: clusters must be >= 1");
  if (params.iterations < 0) throw std::invalid_argument("compute_roi: iterations must be >= 0");

  Result result;
  result.rows = params.rows;
  result.cols = params.cols;
  const long k_frames = params.rows * params.cols;

  // Steps 1-2: T_k and the centre of mass.
  const FrameSums sums = read_frame_sums(file, dataset, k_frames);
  result.total_intensity = sums.total;
  for (long k = 0; k < k_frames; ++k) {
    const double total = sums.total[k];
    if (total == 0) {
      ++result.frames_without_signal;
      result.com_x.push_back(kNaN);
      result.com_y.push_back(kNaN);
    } else {
      result.com_x.push_back(sums.sum_col_weighted[k] / total);
      result.com_y.push_back(sums.sum_row_weighted[k] / total);
    }
  }

  // Steps 3-4: standardise over the frames with a CoM (the NaNs), then the magnitude.
  mean_and_std(result.com_x, result.mean_com_x, result.std_com_x);
  mean_and_std(result.com_y, result.mean_com_y, result.std_com_y);
  for (long k = 0; k < k_frames; ++k) {
    if (std::isnan(result.com_x[k])) {
      result.com_magnitude.push_back(0.0);
      continue;
    }
    const double z_x = z_score(result.com_x[k], result.mean_com_x, result.std_com_x);
    const double z_y = z_score(result.com_y[k], result.mean_com_y, result.std_com_y);
    result.com_magnitude.push_back(std::sqrt(z_x * z_x + z_y * z_y));
  }

  // Steps 5-7: smoothed maps, features, clustering.
  result.absorption_map = smooth_3x3(result.total_intensity, params.rows, params.cols);
  result.scattering_map = smooth_3x3(result.com_magnitude, params.rows, params.cols);
  result.absorption_feature = clustering_feature(result.absorption_map, params.use_log);
  result.scattering_feature = clustering_feature(result.scattering_map, params.use_log);
  result.absorption_clusters = kmeans_1d(result.absorption_feature, params.clusters, params.iterations);
  result.scattering_clusters = kmeans_1d(result.scattering_feature, params.clusters, params.iterations);

  // Step 8: low transmission = absorbing, high CoM deviation = scattering. min/max_element
  // return the first of equal centroids, i.e. the lower index on a tie.
  const std::vector<double>& t_centroids = result.absorption_clusters.centroids;
  const std::vector<double>& c_centroids = result.scattering_clusters.centroids;
  result.absorption_cluster =
      static_cast<int>(std::min_element(t_centroids.begin(), t_centroids.end()) - t_centroids.begin());
  result.scattering_cluster =
      static_cast<int>(std::max_element(c_centroids.begin(), c_centroids.end()) - c_centroids.begin());

  std::vector<unsigned char> roi(k_frames, 0);
  for (long k = 0; k < k_frames; ++k) {
    const bool absorbing = result.absorption_clusters.labels[k] == result.absorption_cluster;
    const bool scattering = result.scattering_clusters.labels[k] == result.scattering_cluster;
    result.absorption_roi.push_back(absorbing ? 1 : 0);
    result.scattering_roi.push_back(scattering ? 1 : 0);
    roi[k] = (absorbing || scattering) ? 1 : 0;
  }

  // Step 9: border.
  result.mask = apply_border(roi, params.rows, params.cols, params.border);
  return result;
}

}  // namespace reference
