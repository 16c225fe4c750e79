#pragma once
// Does a map really hold two populations? (Beyond the paper, which always takes k-means' two
// clusters.) A map of noise, or of a sample that fills the field of view, is split in two by
// k-means all the same, and the split then drops frames at random. The test compares the gap
// between the selected cluster's centroid and its nearest other centroid with the noise of a single
// frame's value: the spread of each frame's value about the mean of its scan neighbours (robust:
// 1.4826 × the median absolute deviation, so the few frames at a real edge do not count as noise).
// For a map of pure noise the 3×3-smoothed map's centroids lie ~0.53 noise apart; particles on
// empty background score 2.6 and more (README "Contrast"), a full-field sample 0.5–1.5.
#include <Eigen/Core>

namespace ptyroi {

struct ContrastTest {
  bool tested = false;     // false: not tested (the paper's behaviour); has_contrast stays true
  double gap = 0.0;        // selected centroid to the nearest other centroid, in the map's units
  double noise = 0.0;      // spread of a single frame's value about its neighbours' mean
  double score = 0.0;      // gap / noise; +infinity for a noise-free map with a gap
  double threshold = 0.0;  // contrast when score >= threshold
  bool has_contrast = true;
};

// |centroid[selected] − the nearest other centroid|; 0 with one cluster.
double centroid_gap(const Eigen::VectorXd& centroids, int selected);

// The verdict for a gap and a noise level.
ContrastTest judge_contrast(double gap, double noise, double threshold);

// The noise of a single value from the spread of the residuals (value − mean of its n neighbours):
// a residual's variance is σ²(1 + 1/n) for independent values of variance σ².
double single_value_noise(double residual_spread, double neighbours);

}  // namespace ptyroi
