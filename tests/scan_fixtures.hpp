#pragma once
// Coarse scans for the tests of what is planned on an RoI (fine-scan plans, partitions): the
// simulator's raster, fly and spiral positions in metres, with an RoI drawn on them (two ellipses
// and a small disc apart from them: three pieces, concave between them), and the scan's
// neighbourhood as ptyroi builds it.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptyroi/core/scan_grid.hpp"
#include "ptyroi/core/scan_neighbourhood.hpp"
#include "ptyroi/simulate/simulation.hpp"

namespace ptyroi::testing {

struct CoarseScan {
  std::string name;
  std::vector<double> x, y;        // metres
  std::vector<std::uint8_t> mask;  // the RoI
  std::shared_ptr<const ScanNeighbourhood> neighbourhood;
  double step = 0.0;  // the neighbourhood's, metres
};

inline constexpr double kObjectPixel = 1e-8;  // metres per simulated object pixel

// `pattern`: raster, fly or spiral; `rows` × `cols` with `step` object pixels between points and
// `row_step` between rows (0: step).
inline CoarseScan coarse_scan(const std::string& pattern, int rows = 40, int cols = 40, int step = 10, int row_step = 0,
                              std::uint64_t seed = 3) {
  simulation::ScanGeometry geometry;
  geometry.rows = rows;
  geometry.cols = cols;
  geometry.step = step;
  geometry.row_step = row_step;
  geometry.frame_size = 64;
  geometry.probe_radius = 8.0;
  const simulation::ScanPattern kind = pattern == "fly"      ? simulation::ScanPattern::fly
                                       : pattern == "spiral" ? simulation::ScanPattern::spiral
                                                             : simulation::ScanPattern::raster;
  const simulation::Scan scan = simulation::make_scan(geometry, kind, seed);
  CoarseScan coarse;
  coarse.name = pattern;
  for (const auto& p : scan.positions) {
    coarse.x.push_back(p.x * kObjectPixel);
    coarse.y.push_back(p.y * kObjectPixel);
  }
  // The RoI: relative to the scan's extent, an ellipse, a smaller one overlapping its corner and a
  // disc apart in the opposite corner.
  double x0 = coarse.x[0], x1 = x0, y0 = coarse.y[0], y1 = y0;
  for (std::size_t k = 0; k < coarse.x.size(); ++k) {
    x0 = std::min(x0, coarse.x[k]);
    x1 = std::max(x1, coarse.x[k]);
    y0 = std::min(y0, coarse.y[k]);
    y1 = std::max(y1, coarse.y[k]);
  }
  const double w = x1 - x0, h = y1 - y0;
  for (std::size_t k = 0; k < coarse.x.size(); ++k) {
    const double u = (coarse.x[k] - x0) / w, v = (coarse.y[k] - y0) / h;
    const bool main = std::pow((u - 0.45) / 0.3, 2) + std::pow((v - 0.5) / 0.25, 2) < 1.0;
    const bool lobe = std::pow((u - 0.7) / 0.12, 2) + std::pow((v - 0.3) / 0.12, 2) < 1.0;
    const bool apart = std::pow((u - 0.88) / 0.07, 2) + std::pow((v - 0.85) / 0.07, 2) < 1.0;
    coarse.mask.push_back(main || lobe || apart ? 1 : 0);
  }
  if (kind == simulation::ScanPattern::raster) {
    coarse.neighbourhood = std::make_shared<ScanNeighbourhood>(
        ScanNeighbourhood::raster(infer_grid(coarse.x, coarse.y), coarse.x, coarse.y));
  } else {
    coarse.neighbourhood = std::make_shared<ScanNeighbourhood>(ScanNeighbourhood::irregular(coarse.x, coarse.y));
  }
  coarse.step = coarse.neighbourhood->step();
  return coarse;
}

}  // namespace ptyroi::testing
