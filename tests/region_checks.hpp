#pragma once
// The RoI region by its definition (core/roi_region.hpp), computed by brute force for the tests of
// fine-scan plans: no k-d tree, no skipping.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <utility>
#include <vector>

namespace ptyroi::testing {

struct BruteRegion {
  std::vector<double> x, y;
  std::vector<std::uint8_t> mask;
  double step = 0.0;    // raster: the cell side; irregular: the density step
  bool raster = false;  // raster: the union of the RoI frames' step × step cells

  // Raster: the distance from the point to the nearest RoI cell (0 inside). Irregular: 0 when the
  // nearest position is an RoI frame (the point's Voronoi cell is an RoI frame's), else infinity;
  // the field's edge is not looked at here.
  double distance(double px, double py) const {
    if (raster) {
      double best = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < x.size(); ++k) {
        if (mask[k] == 0) continue;
        const double ex = std::max(0.0, std::abs(px - x[k]) - step / 2);
        const double ey = std::max(0.0, std::abs(py - y[k]) - step / 2);
        best = std::min(best, std::hypot(ex, ey));
      }
      return best;
    }
    double nearest = std::numeric_limits<double>::infinity(), nearest_roi = nearest;
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double d = std::hypot(px - x[k], py - y[k]);
      nearest = std::min(nearest, d);
      if (mask[k] != 0) nearest_roi = std::min(nearest_roi, d);
    }
    return nearest_roi <= nearest * (1 + 1e-12) ? 0.0 : std::numeric_limits<double>::infinity();
  }

  std::size_t roi_frames() const {
    return static_cast<std::size_t>(std::count_if(mask.begin(), mask.end(), [](std::uint8_t m) { return m != 0; }));
  }

  // The region's area. Raster: the RoI cells, exactly. Irregular: Monte Carlo over `bounds` (x0,
  // y0, x1, y1), a sample counting when `in_field` holds and its nearest position (found through
  // buckets of one step) is an RoI frame.
  double area(const std::array<double, 4>& bounds, const std::function<bool(double, double)>& in_field,
              std::size_t samples) const {
    if (raster) return static_cast<double>(roi_frames()) * step * step;
    const auto& b = bounds;
    std::mt19937_64 engine(11);
    std::uniform_real_distribution<double> ux(b[0], b[2]), uy(b[1], b[3]);
    const double s = step;
    const auto nx = static_cast<std::int64_t>((b[2] - b[0]) / s) + 1;
    const auto ny = static_cast<std::int64_t>((b[3] - b[1]) / s) + 1;
    std::vector<std::vector<std::size_t>> buckets(static_cast<std::size_t>(nx * ny));
    const auto bucket = [&](double px, double py) {
      const auto i = std::clamp<std::int64_t>(static_cast<std::int64_t>((px - b[0]) / s), 0, nx - 1);
      const auto j = std::clamp<std::int64_t>(static_cast<std::int64_t>((py - b[1]) / s), 0, ny - 1);
      return std::pair{i, j};
    };
    for (std::size_t k = 0; k < x.size(); ++k) {
      const auto [i, j] = bucket(x[k], y[k]);
      buckets[static_cast<std::size_t>(j * nx + i)].push_back(k);
    }
    std::size_t inside = 0;
    for (std::size_t n = 0; n < samples; ++n) {
      const double px = ux(engine), py = uy(engine);
      if (!in_field(px, py)) continue;
      const auto [i, j] = bucket(px, py);
      // Widen the ring of buckets until the nearest found is nearer than any unsearched bucket.
      double best = std::numeric_limits<double>::infinity();
      std::size_t owner = 0;
      for (std::int64_t reach = 1; reach < 64 && !(best <= static_cast<double>(reach - 1) * s); ++reach) {
        best = std::numeric_limits<double>::infinity();
        for (std::int64_t jj = std::max<std::int64_t>(0, j - reach); jj <= std::min(ny - 1, j + reach); ++jj) {
          for (std::int64_t ii = std::max<std::int64_t>(0, i - reach); ii <= std::min(nx - 1, i + reach); ++ii) {
            for (const std::size_t k : buckets[static_cast<std::size_t>(jj * nx + ii)]) {
              const double d = std::hypot(px - x[k], py - y[k]);
              if (d < best) {
                best = d;
                owner = k;
              }
            }
          }
        }
      }
      inside += mask[owner] != 0;
    }
    return static_cast<double>(inside) / static_cast<double>(samples) * (b[2] - b[0]) * (b[3] - b[1]);
  }
};

}  // namespace ptyroi::testing
