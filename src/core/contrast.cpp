#include "ptyroi/core/contrast.hpp"

#include <cmath>
#include <limits>

namespace ptyroi {

double centroid_gap(const Eigen::VectorXd& centroids, int selected) {
  double gap = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < centroids.size(); ++i) {
    if (i != selected) gap = std::min(gap, std::abs(centroids[i] - centroids[selected]));
  }
  return std::isfinite(gap) ? gap : 0.0;
}

ContrastTest judge_contrast(double gap, double noise, double threshold) {
  ContrastTest test;
  test.tested = true;
  test.gap = gap;
  test.noise = noise;
  test.threshold = threshold;
  if (gap > 0.0) {
    test.score = noise > 0.0 ? gap / noise : std::numeric_limits<double>::infinity();
  }
  test.has_contrast = test.score >= threshold;
  return test;
}

double single_value_noise(double residual_spread, double neighbours) {
  return residual_spread / std::sqrt(1.0 + 1.0 / neighbours);
}

}  // namespace ptyroi
