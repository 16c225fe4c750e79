#include "ptyroi/core/roi_region.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "point_tree.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/scan_neighbourhood.hpp"

namespace ptyroi {

// Three trees of the positions in cell units (x / dx, y / dy): all of them (indexed by frame), the
// RoI frames and the others.
struct RoiRegion::Index {
  std::unique_ptr<detail::PointTree> all, roi, other;

  Index(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::uint8_t>& mask, double dx,
        double dy) {
    std::vector<double> u(x.size()), v(x.size()), roi_u, roi_v, other_u, other_v;
    for (std::size_t k = 0; k < x.size(); ++k) {
      u[k] = x[k] / dx;
      v[k] = y[k] / dy;
      (mask[k] != 0 ? roi_u : other_u).push_back(u[k]);
      (mask[k] != 0 ? roi_v : other_v).push_back(v[k]);
    }
    all = std::make_unique<detail::PointTree>(std::move(u), std::move(v));
    roi = std::make_unique<detail::PointTree>(std::move(roi_u), std::move(roi_v));
    other = std::make_unique<detail::PointTree>(std::move(other_u), std::move(other_v));
  }
};

RoiRegion::RoiRegion(RoiRegion&&) noexcept = default;
RoiRegion& RoiRegion::operator=(RoiRegion&&) noexcept = default;
RoiRegion::~RoiRegion() = default;

namespace {

void check_inputs(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::uint8_t>& mask) {
  if (x.size() != y.size() || x.size() != mask.size()) {
    throw UsageError("RoI region: " + std::to_string(x.size()) + " x, " + std::to_string(y.size()) +
                     " y positions and " + std::to_string(mask.size()) +
                     " mask values; expected one of each per frame");
  }
  if (x.empty()) throw UsageError("RoI region: no positions");
  for (std::size_t k = 0; k < x.size(); ++k) {
    if (!std::isfinite(x[k]) || !std::isfinite(y[k])) {
      throw UsageError("RoI region: position " + std::to_string(k) + " is not finite");
    }
  }
}

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

RoiRegion RoiRegion::raster(std::vector<double> x, std::vector<double> y, std::vector<std::uint8_t> mask, double dx,
                            double dy) {
  check_inputs(x, y, mask);
  if (!(dx > 0.0) || !(dy > 0.0) || !std::isfinite(dx) || !std::isfinite(dy)) {
    throw UsageError("RoI region: raster cells of " + number(dx) + " x " + number(dy) + "; expected positive sides");
  }
  RoiRegion region;
  region.raster_ = true;
  region.dx_ = dx;
  region.dy_ = dy;
  const auto [x_lo, x_hi] = std::minmax_element(x.begin(), x.end());
  const auto [y_lo, y_hi] = std::minmax_element(y.begin(), y.end());
  region.bounds_ = {*x_lo - dx / 2, *y_lo - dy / 2, *x_hi + dx / 2, *y_hi + dy / 2};
  region.field_ = {{-1.0, 0.0, -region.bounds_[0]},
                   {0.0, -1.0, -region.bounds_[1]},
                   {1.0, 0.0, region.bounds_[2]},
                   {0.0, 1.0, region.bounds_[3]}};
  region.x_ = std::move(x);
  region.y_ = std::move(y);
  region.mask_ = std::move(mask);
  region.index_ = std::make_unique<Index>(region.x_, region.y_, region.mask_, dx, dy);
  region.roi_count_ = static_cast<std::size_t>(
      std::count_if(region.mask_.begin(), region.mask_.end(), [](std::uint8_t m) { return m != 0; }));
  return region;
}

RoiRegion RoiRegion::irregular(std::vector<double> x, std::vector<double> y, std::vector<std::uint8_t> mask,
                               double step) {
  check_inputs(x, y, mask);
  if (!(step > 0.0) || !std::isfinite(step)) {
    throw UsageError("RoI region: a scan step of " + number(step) + "; expected a positive step");
  }
  RoiRegion region;
  region.raster_ = false;
  region.dx_ = region.dy_ = step;
  // The hull's edges as outward half-planes, each moved out by step / 2. Fewer than 3 hull points
  // (positions on a line, or one place): the rectangle around the segment, or a square.
  const auto hull = convex_hull(x, y);
  const double margin = step / 2;
  std::vector<std::array<double, 3>> planes;
  if (hull.size() >= 3) {
    for (std::size_t i = 0; i < hull.size(); ++i) {
      const auto& a = hull[i];
      const auto& b = hull[(i + 1) % hull.size()];
      const double ex = b[0] - a[0], ey = b[1] - a[1], length = std::hypot(ex, ey);
      // Counter-clockwise: the outward normal of edge a→b is (ey, −ex).
      const double nx = ey / length, ny = -ex / length;
      planes.push_back({nx, ny, nx * a[0] + ny * a[1] + margin});
    }
  } else {
    const auto& a = hull.front();
    const auto& b = hull.back();
    double ex = b[0] - a[0], ey = b[1] - a[1];
    double length = std::hypot(ex, ey);
    if (!(length > 0.0)) {
      ex = 1.0;
      ey = 0.0;
      length = 1.0;
    }
    const double tx = ex / length, ty = ey / length, nx = -ty, ny = tx;
    planes.push_back({tx, ty, tx * b[0] + ty * b[1] + margin});
    planes.push_back({-tx, -ty, -(tx * a[0] + ty * a[1]) + margin});
    planes.push_back({nx, ny, nx * a[0] + ny * a[1] + margin});
    planes.push_back({-nx, -ny, -(nx * a[0] + ny * a[1]) + margin});
  }
  region.field_ = std::move(planes);
  // The bounding box of the grown hull: its vertices are where consecutive planes meet.
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  const auto& f = region.field_;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto& p = f[i];
    const auto& q = f[(i + 1) % f.size()];
    const double det = p[0] * q[1] - p[1] * q[0];
    if (std::abs(det) < 1e-12) continue;
    const double vx = (p[2] * q[1] - p[1] * q[2]) / det, vy = (p[0] * q[2] - p[2] * q[0]) / det;
    x0 = std::min(x0, vx);
    x1 = std::max(x1, vx);
    y0 = std::min(y0, vy);
    y1 = std::max(y1, vy);
  }
  region.bounds_ = {x0, y0, x1, y1};
  region.x_ = std::move(x);
  region.y_ = std::move(y);
  region.mask_ = std::move(mask);
  region.index_ = std::make_unique<Index>(region.x_, region.y_, region.mask_, step, step);
  region.roi_count_ = static_cast<std::size_t>(
      std::count_if(region.mask_.begin(), region.mask_.end(), [](std::uint8_t m) { return m != 0; }));
  return region;
}

namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

RoiRegion RoiRegion::of_scan(const std::vector<double>& x, const std::vector<double>& y,
                             const std::vector<std::uint8_t>& mask, const ScanNeighbourhood& scan) {
  if (!(scan.step() > 0.0)) {
    throw UsageError("the scan has no step in metres (a --grid without positions): its RoI has no area");
  }
  if (!scan.is_raster()) return irregular(x, y, mask, scan.step());
  // The column and row spacing: for each frame, the distance to the frames in the cells left and
  // right of its own (along x, whichever way the grid lies) and above and below; medians of each.
  const ScanGrid& grid = scan.grid();
  const std::int64_t rows = grid.shape.rows, cols = grid.shape.cols;
  std::vector<double> along_x, along_y;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const std::int64_t cell = grid.cell(k), row = cell / cols, col = cell % cols;
    for (const auto& [dr, dc] : {std::pair{1, 0}, std::pair{0, 1}}) {
      const std::int64_t r = row + dr, c = col + dc;
      if (r >= rows || c >= cols) continue;
      const auto j = static_cast<std::size_t>(grid.frame(r * cols + c));
      const double ax = std::abs(x[j] - x[k]), ay = std::abs(y[j] - y[k]);
      (ax >= ay ? along_x : along_y).push_back(std::hypot(ax, ay));
    }
  }
  double dx = median(along_x), dy = median(along_y);
  if (!(dx > 0.0)) dx = dy > 0.0 ? dy : scan.step();
  if (!(dy > 0.0)) dy = dx;
  return raster(x, y, mask, dx, dy);
}

bool RoiRegion::in_field(double x, double y) const {
  for (const auto& plane : field_) {
    if (plane[0] * x + plane[1] * y > plane[2]) return false;
  }
  return true;
}

std::optional<std::pair<double, double>> RoiRegion::field_span(double y) const {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  for (const auto& [a, b, c] : field_) {
    const double rest = c - b * y;  // a·x <= rest
    if (a > 1e-12) {
      hi = std::min(hi, rest / a);
    } else if (a < -1e-12) {
      lo = std::max(lo, rest / a);
    } else if (rest < 0.0) {
      return std::nullopt;
    }
  }
  if (!(lo <= hi)) return std::nullopt;
  return std::make_pair(lo, hi);
}

std::int64_t RoiRegion::cell_of(double x, double y) const {
  if (!in_field(x, y)) return -1;
  const double u = x / dx_, v = y / dy_;
  const detail::PointTree& all = *index_->all;
  if (!raster_) return static_cast<std::int64_t>(all.nearest(u, v).second);
  // The cell (|Δu|, |Δv| <= ½) nearest in the larger of |Δu|, |Δv|: every such position lies within
  // √½ of the point. Jittered positions may leave gaps between cells, or overlaps.
  std::int64_t best = -1;
  double best_distance = std::numeric_limits<double>::infinity();
  for (const std::uint32_t k : all.within(u, v, std::sqrt(0.5) + 1e-12)) {
    const double d = std::max(std::abs(all.u(k) - u), std::abs(all.v(k) - v));
    if (d <= 0.5 && d < best_distance) {  // ascending k: the lower frame wins a tie
      best = k;
      best_distance = d;
    }
  }
  return best;
}

double RoiRegion::outside_clearance(double x, double y) const {
  const double u = x / dx_, v = y / dy_, unit = std::min(dx_, dy_);
  const double to_roi = std::sqrt(index_->roi->nearest(u, v).first);
  if (raster_) {
    // Every RoI cell lies within √½ of its position.
    return std::max(0.0, (to_roi - std::sqrt(0.5)) * unit);
  }
  // Outside because another position is nearer: it stays nearer while the point moves less than
  // half the difference of the two distances. (A point outside the field is left to field_span.)
  const double to_other = std::sqrt(index_->other->nearest(u, v).first);
  return std::max(0.0, (to_roi - to_other) / 2 * unit);
}

}  // namespace ptyroi
