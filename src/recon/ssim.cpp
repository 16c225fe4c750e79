#include "ptyroi/recon/ssim.hpp"

#include <cmath>
#include <string>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

std::vector<double> gaussian_window(double sigma, int radius) {
  if (!(sigma > 0.0) || radius < 0) throw InputError("the SSIM window needs sigma > 0 and radius >= 0");
  std::vector<double> weights(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0.0;
  for (int d = -radius; d <= radius; ++d) {
    const double w = std::exp(-0.5 * d * d / (sigma * sigma));
    weights[static_cast<std::size_t>(d + radius)] = w;
    sum += w;
  }
  for (double& w : weights) w /= sum;
  return weights;
}

namespace {

// The five windowed moments at every position where the window fits ('valid' filtering):
// E[a], E[b], E[a²], E[b²], E[ab], each (rows − 2r) × (cols − 2r).
struct Moments {
  std::vector<double> mean_a, mean_b, mean_aa, mean_bb, mean_ab;
};

Moments windowed_moments(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols,
                         const std::vector<double>& weights) {
  const int radius = static_cast<int>(weights.size() / 2);
  const int out_rows = rows - 2 * radius;
  const int out_cols = cols - 2 * radius;
  const auto index = [](int row, int col, int width) {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(width) + static_cast<std::size_t>(col);
  };
  // Along each row first (rows × out_cols), then along each column (out_rows × out_cols).
  std::vector<double> row_pass[5];
  for (auto& pass : row_pass) pass.assign(static_cast<std::size_t>(rows) * out_cols, 0.0);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < out_cols; ++j) {
      double sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0;
      for (int d = 0; d <= 2 * radius; ++d) {
        const double w = weights[static_cast<std::size_t>(d)];
        const double va = a[index(i, j + d, cols)];
        const double vb = b[index(i, j + d, cols)];
        sa += w * va;
        sb += w * vb;
        saa += w * va * va;
        sbb += w * vb * vb;
        sab += w * va * vb;
      }
      const std::size_t k = index(i, j, out_cols);
      row_pass[0][k] = sa;
      row_pass[1][k] = sb;
      row_pass[2][k] = saa;
      row_pass[3][k] = sbb;
      row_pass[4][k] = sab;
    }
  }
  std::vector<double>* outputs[5];
  Moments moments;
  outputs[0] = &moments.mean_a;
  outputs[1] = &moments.mean_b;
  outputs[2] = &moments.mean_aa;
  outputs[3] = &moments.mean_bb;
  outputs[4] = &moments.mean_ab;
  for (int p = 0; p < 5; ++p) {
    std::vector<double>& out = *outputs[p];
    out.assign(static_cast<std::size_t>(out_rows) * out_cols, 0.0);
    for (int i = 0; i < out_rows; ++i) {
      for (int j = 0; j < out_cols; ++j) {
        double s = 0.0;
        for (int d = 0; d <= 2 * radius; ++d)
          s += weights[static_cast<std::size_t>(d)] * row_pass[p][index(i + d, j, out_cols)];
        out[index(i, j, out_cols)] = s;
      }
    }
  }
  return moments;
}

void check_arguments(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols,
                     const SsimParameters& parameters) {
  const int window = 2 * parameters.radius + 1;
  if (rows < window || cols < window) {
    throw InputError("SSIM needs images of at least " + std::to_string(window) + "x" + std::to_string(window) +
                     " pixels (got " + std::to_string(rows) + "x" + std::to_string(cols) + ")");
  }
  const auto pixels = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  if (a.size() != pixels || b.size() != pixels) {
    throw InputError("SSIM of images of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                     " pixels; expected " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  if (!(parameters.data_range > 0.0 && std::isfinite(parameters.data_range))) {
    throw InputError("the SSIM data range must be positive and finite (got " + std::to_string(parameters.data_range) +
                     ")");
  }
}

}  // namespace

std::vector<double> ssim_map(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols,
                             const SsimParameters& parameters) {
  check_arguments(a, b, rows, cols, parameters);
  const Moments m = windowed_moments(a, b, rows, cols, gaussian_window(parameters.sigma, parameters.radius));
  const double c1 = std::pow(parameters.k1 * parameters.data_range, 2);
  const double c2 = std::pow(parameters.k2 * parameters.data_range, 2);
  std::vector<double> map(m.mean_a.size());
  for (std::size_t k = 0; k < map.size(); ++k) {
    const double ua = m.mean_a[k];
    const double ub = m.mean_b[k];
    // Population moments: the window's weights sum to 1, no N/(N − 1) correction.
    const double va = m.mean_aa[k] - ua * ua;
    const double vb = m.mean_bb[k] - ub * ub;
    const double cov = m.mean_ab[k] - ua * ub;
    map[k] = ((2.0 * ua * ub + c1) * (2.0 * cov + c2)) / ((ua * ua + ub * ub + c1) * (va + vb + c2));
  }
  return map;
}

double structural_similarity(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols,
                             const SsimParameters& parameters) {
  const std::vector<double> map = ssim_map(a, b, rows, cols, parameters);
  double sum = 0.0;
  for (double value : map) sum += value;
  return sum / static_cast<double>(map.size());
}

}  // namespace ptyroi
