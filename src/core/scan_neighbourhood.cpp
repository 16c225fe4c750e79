#include "ptyroi/core/scan_neighbourhood.hpp"

#include <nanoflann.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <utility>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/halo.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/scan_map.hpp"

namespace ptyroi {

namespace {

// nanoflann's view of the positions.
struct PositionCloud {
  const std::vector<double>* x = nullptr;
  const std::vector<double>* y = nullptr;
  std::size_t kdtree_get_point_count() const { return x->size(); }
  double kdtree_get_pt(std::size_t index, std::size_t dimension) const {
    return dimension == 0 ? (*x)[index] : (*y)[index];
  }
  template <class BoundingBox>
  bool kdtree_get_bbox(BoundingBox&) const {
    return false;
  }
};

using KdTree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, PositionCloud>, PositionCloud,
                                                   2, std::uint32_t>;

}  // namespace

// Heap-allocated, so the index's references to the positions survive moves of the neighbourhood.
struct ScanNeighbourhood::Tree {
  std::vector<double> x, y;
  PositionCloud cloud{&x, &y};
  KdTree index;
  Tree(std::vector<double> x_, std::vector<double> y_)
      : x(std::move(x_)), y(std::move(y_)), index(2, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(16)) {
    index.buildIndex();
  }
};

ScanNeighbourhood::ScanNeighbourhood(ScanNeighbourhood&&) noexcept = default;
ScanNeighbourhood& ScanNeighbourhood::operator=(ScanNeighbourhood&&) noexcept = default;
ScanNeighbourhood::~ScanNeighbourhood() = default;

namespace {

double median_of(std::vector<double> values) {
  if (values.empty()) return 0.0;
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

ScanNeighbourhood ScanNeighbourhood::raster(ScanGrid grid, const std::vector<double>& x, const std::vector<double>& y) {
  ScanNeighbourhood neighbourhood;
  neighbourhood.frames_ = static_cast<std::uint64_t>(grid.cells());
  if (x.size() == neighbourhood.frames_ && y.size() == neighbourhood.frames_) {
    // The grid spacing: for each frame the nearest of the frames in the cells left, right, above and
    // below its own; the median over frames.
    const std::int64_t rows = grid.shape.rows, cols = grid.shape.cols;
    std::vector<double> nearest;
    nearest.reserve(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) {
      const std::int64_t cell = grid.cell(k), row = cell / cols, col = cell % cols;
      double best = std::numeric_limits<double>::infinity();
      for (const auto& [dr, dc] : {std::pair{-1, 0}, std::pair{1, 0}, std::pair{0, -1}, std::pair{0, 1}}) {
        const std::int64_t r = row + dr, c = col + dc;
        if (r < 0 || r >= rows || c < 0 || c >= cols) continue;
        const auto j = static_cast<std::size_t>(grid.frame(r * cols + c));
        best = std::min(best, std::hypot(x[j] - x[k], y[j] - y[k]));
      }
      if (std::isfinite(best)) nearest.push_back(best);
    }
    neighbourhood.step_ = median_of(std::move(nearest));
  }
  neighbourhood.grid_ = std::move(grid);
  return neighbourhood;
}

// Andrew's monotone chain.
std::vector<std::array<double, 2>> convex_hull(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<std::array<double, 2>> points(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) points[k] = {x[k], y[k]};
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  if (points.size() < 3) return points;
  const auto cross = [](const std::array<double, 2>& o, const std::array<double, 2>& a,
                        const std::array<double, 2>& b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  };
  std::vector<std::array<double, 2>> hull(2 * points.size());
  std::size_t n = 0;
  for (const auto& p : points) {  // lower hull
    while (n >= 2 && cross(hull[n - 2], hull[n - 1], p) <= 0) --n;
    hull[n++] = p;
  }
  for (std::size_t i = points.size() - 1, lower = n + 1; i-- > 0;) {  // upper hull
    while (n >= lower && cross(hull[n - 2], hull[n - 1], points[i]) <= 0) --n;
    hull[n++] = points[i];
  }
  hull.resize(n - 1);
  return hull;
}

double density_step(const std::vector<double>& x, const std::vector<double>& y) {
  const auto hull = convex_hull(x, y);
  double area = 0.0, perimeter = 0.0;
  for (std::size_t i = 0; i < hull.size() && hull.size() > 1; ++i) {
    const auto& a = hull[i];
    const auto& b = hull[(i + 1) % hull.size()];
    area += a[0] * b[1] - a[1] * b[0];
    perimeter += std::hypot(b[0] - a[0], b[1] - a[1]);
  }
  area = std::abs(area) / 2.0;
  // K cells of s² cover the hull grown by s/2 all round, corners squared as a raster's cells are:
  // K s² = A + P s/2 + s². Exact for a raster (A = (R−1)(C−1)s², P = 2(R+C−2)s, K = RC) and for
  // evenly spaced positions on a line (A = 0, P = 2(K−1)s).
  const double k = static_cast<double>(x.size()) - 1.0;
  if (!(k > 0.0) || !(perimeter > 0.0)) return 0.0;
  return (perimeter / 2.0 + std::sqrt(perimeter * perimeter / 4.0 + 4.0 * k * area)) / (2.0 * k);
}

ScanNeighbourhood ScanNeighbourhood::irregular(const std::vector<double>& x, const std::vector<double>& y) {
  ScanNeighbourhood neighbourhood;
  neighbourhood.frames_ = x.size();
  neighbourhood.step_ = density_step(x, y);
  if (!(neighbourhood.step_ > 0.0)) {
    throw InputError("the " + std::to_string(x.size()) +
                     " scan positions do not spread out (they cover no area and no length), so scan neighbours "
                     "cannot be defined");
  }
  neighbourhood.tree_ = std::make_unique<Tree>(x, y);
  const auto [x_min, x_max] = std::minmax_element(x.begin(), x.end());
  const auto [y_min, y_max] = std::minmax_element(y.begin(), y.end());
  neighbourhood.extent_ = std::max(*x_max - *x_min, *y_max - *y_min);
  return neighbourhood;
}

std::string ScanNeighbourhood::description(const std::string& unit) const {
  std::ostringstream text;
  if (is_raster()) {
    text << "raster " << grid_.shape.rows << "x" << grid_.shape.cols << " (" << grid_.origin << "), 3x3 neighbours";
  } else {
    text << "irregular, each position with its " << kSmoothingNeighbours << " nearest; scan step " << step_ << " "
         << unit << " (a square raster of the same density)";
  }
  return text.str();
}

std::vector<std::uint32_t> ScanNeighbourhood::within(std::uint64_t frame, double radius) const {
  std::vector<std::pair<std::uint32_t, double>> found;
  const double query[2] = {tree_->x[frame], tree_->y[frame]};
  // L2_Simple_Adaptor compares squared distances.
  tree_->index.radiusSearch(query, radius * radius, found, nanoflann::SearchParams(32, 0.0f, false));
  std::vector<std::uint32_t> frames;
  frames.reserve(found.size());
  for (const auto& entry : found) frames.push_back(entry.first);
  std::sort(frames.begin(), frames.end());
  return frames;
}

std::vector<double> ScanNeighbourhood::smooth(const std::vector<double>& by_frame, FrameRange range) const {
  std::vector<double> smoothed(range.count());
  if (is_raster()) {
    std::vector<double> map(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k) map[static_cast<std::size_t>(grid_.cell(k))] = by_frame[k];
    for (std::uint64_t i = 0; i < range.count(); ++i) {
      smoothed[i] = neighbour_mean(map, grid_.shape, grid_.cell(range.begin + i));
    }
    return smoothed;
  }
  for (std::uint64_t i = 0; i < range.count(); ++i) {
    const std::vector<std::uint32_t> neighbours = nearest(range.begin + i);
    double sum = 0.0;
    std::size_t count = 0;
    for (const std::uint32_t j : neighbours) {
      if (std::isnan(by_frame[j])) continue;  // never acquired
      sum += by_frame[j];
      ++count;
    }
    smoothed[i] = count > 0 ? sum / static_cast<double>(count) : std::nan("");
  }
  return smoothed;
}

std::vector<double> ScanNeighbourhood::residuals(const std::vector<double>& by_frame, FrameRange range) const {
  std::vector<double> result(range.count());
  if (is_raster()) {
    std::vector<double> map(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k) map[static_cast<std::size_t>(grid_.cell(k))] = by_frame[k];
    for (std::uint64_t i = 0; i < range.count(); ++i) {
      const std::int64_t cell = grid_.cell(range.begin + i);
      const std::int64_t row = cell / grid_.shape.cols, col = cell % grid_.shape.cols;
      double sum = 0.0;
      int count = 0;
      for (std::int64_t r = std::max<std::int64_t>(row - 1, 0); r <= std::min(row + 1, grid_.shape.rows - 1); ++r) {
        for (std::int64_t c = std::max<std::int64_t>(col - 1, 0); c <= std::min(col + 1, grid_.shape.cols - 1); ++c) {
          const double value = map[static_cast<std::size_t>(r * grid_.shape.cols + c)];
          if ((r == row && c == col) || std::isnan(value)) continue;
          sum += value;
          ++count;
        }
      }
      result[i] = count > 0 ? map[static_cast<std::size_t>(cell)] - sum / count : 0.0;
    }
    return result;
  }
  for (std::uint64_t i = 0; i < range.count(); ++i) {
    const std::uint64_t k = range.begin + i;
    double sum = 0.0;
    std::size_t count = 0;
    for (const std::uint32_t j : nearest(k)) {
      if (j == k || std::isnan(by_frame[j])) continue;
      sum += by_frame[j];
      ++count;
    }
    result[i] = count > 0 ? by_frame[k] - sum / static_cast<double>(count) : 0.0;
  }
  return result;
}

std::vector<std::uint8_t> ScanNeighbourhood::grow_or_shrink(const std::vector<std::uint8_t>& by_frame,
                                                            int border_steps) const {
  if (border_steps == 0) return by_frame;
  if (is_raster()) {
    std::vector<std::uint8_t> by_cell(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k) by_cell[static_cast<std::size_t>(grid_.cell(k))] = by_frame[k];
    by_cell = ptyroi::grow_or_shrink(std::move(by_cell), grid_.shape, border_steps);
    std::vector<std::uint8_t> result(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k) result[k] = by_cell[static_cast<std::size_t>(grid_.cell(k))];
    return result;
  }
  // Grow: a position joins when an RoI position lies within the radius; shrink: it stays when no
  // position outside the RoI does. Either is one nearest-point query per position against the
  // positions of the other kind (a k-d tree of them), whatever the border: O(K log K).
  const bool grow = border_steps > 0;
  const double radius = border_radius(border_steps);
  std::vector<double> other_x, other_y;
  for (std::size_t k = 0; k < by_frame.size(); ++k) {
    if ((by_frame[k] != 0) == grow) {
      other_x.push_back(tree_->x[k]);
      other_y.push_back(tree_->y[k]);
    }
  }
  std::vector<std::uint8_t> result(by_frame);
  if (other_x.empty()) return result;  // nothing to grow from, or nothing outside to shrink from
  const Tree others(std::move(other_x), std::move(other_y));
  for (std::size_t k = 0; k < by_frame.size(); ++k) {
    if ((by_frame[k] != 0) == grow) continue;  // only frames whose answer can change
    std::uint32_t index = 0;
    double squared = 0.0;
    const double query[2] = {tree_->x[k], tree_->y[k]};
    others.index.knnSearch(query, 1, &index, &squared);
    const bool near = squared < radius * radius;
    result[k] = static_cast<std::uint8_t>(grow ? near : !near);
  }
  return result;
}

// --- collective versions on each rank's share --------------------------------------------------
// A row-major raster needs a halo of a few rows around a rank's frames (halo.hpp); any other scan
// gathers the values of all frames (its positions are on every rank anyway).

namespace {

// The 3x3 window of a cell on the raster, row-major, inside the grid and inside [first, last) cells.
template <class Visit>
void visit_3x3(GridShape shape, std::int64_t cell, std::int64_t first, std::int64_t last, Visit&& visit) {
  const std::int64_t row = cell / shape.cols, col = cell % shape.cols;
  for (std::int64_t r = std::max<std::int64_t>(row - 1, 0); r <= std::min(row + 1, shape.rows - 1); ++r) {
    for (std::int64_t c = std::max<std::int64_t>(col - 1, 0); c <= std::min(col + 1, shape.cols - 1); ++c) {
      const std::int64_t neighbour = r * shape.cols + c;
      if (neighbour >= first && neighbour < last) visit(neighbour);
    }
  }
}

}  // namespace

bool ScanNeighbourhood::uses_halo() const { return is_raster() && grid_.row_major; }

std::vector<double> ScanNeighbourhood::smooth(const std::vector<double>& local, MPI_Comm comm) const {
  const FrameRange own = partition_frames(frames_, mpi::size(comm), mpi::rank(comm));
  if (!uses_halo()) return smooth(mpi::all_gather(comm, local), own);
  const auto halo = static_cast<std::uint64_t>(grid_.shape.cols + 1);
  const std::vector<double> window = exchange_halo(local, frames_, halo, comm);
  const FrameRange seen = halo_window(own, frames_, halo);
  const auto first = static_cast<std::int64_t>(seen.begin), last = static_cast<std::int64_t>(seen.end);
  std::vector<double> smoothed(own.count());
  for (std::uint64_t i = 0; i < own.count(); ++i) {
    // As neighbour_mean: the 3x3 cells inside the grid, summed row-major.
    double sum = 0.0;
    int count = 0;
    visit_3x3(grid_.shape, static_cast<std::int64_t>(own.begin + i), first, last, [&](std::int64_t cell) {
      const double value = window[static_cast<std::size_t>(cell - first)];
      if (std::isnan(value)) return;  // never acquired
      sum += value;
      ++count;
    });
    smoothed[i] = count > 0 ? sum / count : std::nan("");
  }
  return smoothed;
}

std::vector<double> ScanNeighbourhood::residuals(const std::vector<double>& local, MPI_Comm comm) const {
  const FrameRange own = partition_frames(frames_, mpi::size(comm), mpi::rank(comm));
  if (!uses_halo()) return residuals(mpi::all_gather(comm, local), own);
  const auto halo = static_cast<std::uint64_t>(grid_.shape.cols + 1);
  const std::vector<double> window = exchange_halo(local, frames_, halo, comm);
  const FrameRange seen = halo_window(own, frames_, halo);
  const auto first = static_cast<std::int64_t>(seen.begin), last = static_cast<std::int64_t>(seen.end);
  std::vector<double> result(own.count());
  for (std::uint64_t i = 0; i < own.count(); ++i) {
    const auto cell = static_cast<std::int64_t>(own.begin + i);
    double sum = 0.0;
    int count = 0;
    visit_3x3(grid_.shape, cell, first, last, [&](std::int64_t neighbour) {
      const double value = window[static_cast<std::size_t>(neighbour - first)];
      if (neighbour == cell || std::isnan(value)) return;
      sum += value;
      ++count;
    });
    result[i] = count > 0 ? window[static_cast<std::size_t>(cell - first)] - sum / count : 0.0;
  }
  return result;
}

std::vector<std::uint8_t> ScanNeighbourhood::grow_or_shrink(const std::vector<std::uint8_t>& local, int border_steps,
                                                            MPI_Comm comm) const {
  const FrameRange own = partition_frames(frames_, mpi::size(comm), mpi::rank(comm));
  if (border_steps == 0) return local;
  if (!uses_halo()) {
    const std::vector<std::uint8_t> all = grow_or_shrink(mpi::all_gather(comm, local), border_steps);
    return {all.begin() + static_cast<std::ptrdiff_t>(own.begin), all.begin() + static_cast<std::ptrdiff_t>(own.end)};
  }
  // n dilations (or erosions) of the window own ± n·(cols + 1): each step is exact one row further
  // in from the window's cut edges, so after n steps every frame of the rank's own is. Cells outside
  // the grid are ignored, as in the serial grow_or_shrink.
  const auto steps = static_cast<std::uint64_t>(std::abs(border_steps));
  const std::uint64_t halo = steps * static_cast<std::uint64_t>(grid_.shape.cols + 1);
  std::vector<std::uint8_t> mask = exchange_halo(local, frames_, halo, comm);
  const FrameRange seen = halo_window(own, frames_, halo);
  const auto first = static_cast<std::int64_t>(seen.begin), last = static_cast<std::int64_t>(seen.end);
  const bool grow = border_steps > 0;
  std::vector<std::uint8_t> next(mask.size());
  for (std::uint64_t step = 0; step < steps; ++step) {
    for (std::int64_t cell = first; cell < last; ++cell) {
      bool any = false, all = true;
      visit_3x3(grid_.shape, cell, first, last, [&](std::int64_t neighbour) {
        const bool inside = mask[static_cast<std::size_t>(neighbour - first)] != 0;
        any = any || inside;
        all = all && inside;
      });
      next[static_cast<std::size_t>(cell - first)] = static_cast<std::uint8_t>(grow ? any : all);
    }
    mask.swap(next);
  }
  const auto offset = static_cast<std::ptrdiff_t>(own.begin - seen.begin);
  return {mask.begin() + offset, mask.begin() + offset + static_cast<std::ptrdiff_t>(own.count())};
}

double ScanNeighbourhood::border_radius(int border_steps) const { return (std::abs(border_steps) + 0.5) * step_; }

std::vector<std::uint32_t> ScanNeighbourhood::nearest(std::uint64_t frame) const {
  const std::size_t wanted = std::min<std::size_t>(kSmoothingNeighbours + 1, tree_->x.size());
  std::vector<std::uint32_t> indexes(wanted);
  std::vector<double> squared(wanted);
  const double query[2] = {tree_->x[frame], tree_->y[frame]};
  indexes.resize(tree_->index.knnSearch(query, wanted, indexes.data(), squared.data()));
  // The frame itself is among them (distance 0) unless other positions coincide with it.
  if (std::find(indexes.begin(), indexes.end(), static_cast<std::uint32_t>(frame)) == indexes.end()) {
    indexes.back() = static_cast<std::uint32_t>(frame);
  }
  std::sort(indexes.begin(), indexes.end());  // sums in ascending frame order
  return indexes;
}

bool ScanNeighbourhood::border_fits(int border_steps) const {
  if (is_raster()) return std::abs(border_steps) < std::max(grid_.shape.rows, grid_.shape.cols);
  return border_steps == 0 || border_radius(border_steps) < extent_;
}

void ScanNeighbourhood::check_border(int border_steps) const {
  if (border_fits(border_steps)) return;
  if (is_raster()) {
    const std::int64_t longest = std::max(grid_.shape.rows, grid_.shape.cols);
    throw UsageError("border " + std::to_string(border_steps) + " reaches beyond the " +
                     std::to_string(grid_.shape.rows) + "x" + std::to_string(grid_.shape.cols) +
                     " scan; expected |border| < " + std::to_string(longest));
  }
  const auto steps = static_cast<long long>(std::floor(extent_ / step_ - 0.5));
  throw UsageError("border " + std::to_string(border_steps) + " reaches beyond the irregular scan (" +
                   std::to_string(steps) + " steps across); expected |border| <= " + std::to_string(steps));
}

}  // namespace ptyroi
