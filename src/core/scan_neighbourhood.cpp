#include "ptyroi/core/scan_neighbourhood.hpp"

#include <nanoflann.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "ptyroi/core/error.hpp"
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

ScanNeighbourhood ScanNeighbourhood::raster(ScanGrid grid) {
  ScanNeighbourhood neighbourhood;
  neighbourhood.frames_ = grid.cell_of_frame.size();
  neighbourhood.grid_ = std::move(grid);
  return neighbourhood;
}

ScanNeighbourhood ScanNeighbourhood::irregular(const std::vector<double>& x, const std::vector<double>& y) {
  ScanNeighbourhood neighbourhood;
  neighbourhood.frames_ = x.size();
  neighbourhood.tree_ = std::make_unique<Tree>(x, y);
  // d: the median over frames of the distance to the nearest other position.
  std::vector<double> nearest;
  nearest.reserve(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    std::uint32_t indexes[2];
    double squared[2];
    const double query[2] = {x[k], y[k]};
    if (neighbourhood.tree_->index.knnSearch(query, 2, indexes, squared) == 2) nearest.push_back(std::sqrt(squared[1]));
  }
  if (!nearest.empty()) {
    auto middle = nearest.begin() + static_cast<std::ptrdiff_t>(nearest.size() / 2);
    std::nth_element(nearest.begin(), middle, nearest.end());
    neighbourhood.step_ = *middle;
  }
  if (!(neighbourhood.step_ > 0.0)) {
    throw InputError("the scan positions do not spread out (the median distance between neighbouring positions is " +
                     std::to_string(neighbourhood.step_) + "), so scan neighbours cannot be defined");
  }
  const auto [x_min, x_max] = std::minmax_element(x.begin(), x.end());
  const auto [y_min, y_max] = std::minmax_element(y.begin(), y.end());
  neighbourhood.extent_ = std::max(*x_max - *x_min, *y_max - *y_min);
  return neighbourhood;
}

std::string ScanNeighbourhood::description() const {
  std::ostringstream text;
  if (is_raster()) {
    text << "raster " << grid_.shape.rows << "x" << grid_.shape.cols << " (" << grid_.origin << "), 3x3 neighbours";
  } else {
    text << "irregular, neighbours within 1.5 x the median step " << step_ << " m";
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
    for (std::size_t k = 0; k < by_frame.size(); ++k)
      map[static_cast<std::size_t>(grid_.cell_of_frame[k])] = by_frame[k];
    for (std::uint64_t i = 0; i < range.count(); ++i) {
      smoothed[i] = neighbour_mean(map, grid_.shape, grid_.cell_of_frame[range.begin + i]);
    }
    return smoothed;
  }
  for (std::uint64_t i = 0; i < range.count(); ++i) {
    const std::vector<std::uint32_t> neighbours = within(range.begin + i, 1.5 * step_);
    double sum = 0.0;
    for (const std::uint32_t j : neighbours) sum += by_frame[j];
    smoothed[i] = sum / static_cast<double>(neighbours.size());
  }
  return smoothed;
}

std::vector<std::uint8_t> ScanNeighbourhood::grow_or_shrink(const std::vector<std::uint8_t>& by_frame,
                                                            int border_steps) const {
  if (border_steps == 0) return by_frame;
  if (is_raster()) {
    std::vector<std::uint8_t> by_cell(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k)
      by_cell[static_cast<std::size_t>(grid_.cell_of_frame[k])] = by_frame[k];
    by_cell = ptyroi::grow_or_shrink(std::move(by_cell), grid_.shape, border_steps);
    std::vector<std::uint8_t> result(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k)
      result[k] = by_cell[static_cast<std::size_t>(grid_.cell_of_frame[k])];
    return result;
  }
  const bool grow = border_steps > 0;
  const double radius = (std::abs(border_steps) + 0.5) * step_;
  std::vector<std::uint8_t> result(by_frame.size());
  for (std::size_t k = 0; k < by_frame.size(); ++k) {
    // Only frames whose answer can change need the search.
    if (grow == (by_frame[k] != 0)) {
      result[k] = by_frame[k];
      continue;
    }
    const std::vector<std::uint32_t> neighbours = within(k, radius);
    const auto in_roi = [&](std::uint32_t j) { return by_frame[j] != 0; };
    result[k] = grow ? std::any_of(neighbours.begin(), neighbours.end(), in_roi)
                     : std::all_of(neighbours.begin(), neighbours.end(), in_roi);
  }
  return result;
}

bool ScanNeighbourhood::border_fits(int border_steps) const {
  if (is_raster()) return std::abs(border_steps) < std::max(grid_.shape.rows, grid_.shape.cols);
  return border_steps == 0 || (std::abs(border_steps) + 0.5) * step_ < extent_;
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
