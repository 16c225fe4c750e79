#pragma once
// A k-d tree (nanoflann) over 2-D points, for the geometry that looks around positions (RoI
// regions, partitions). Private to the core.
#include <nanoflann.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace ptyroi::detail {

class PointTree {
 public:
  PointTree() = default;
  PointTree(std::vector<double> u, std::vector<double> v) : cloud_{std::move(u), std::move(v)} {
    if (cloud_.u.empty()) return;
    tree_ = std::make_unique<Tree>(2, cloud_, nanoflann::KDTreeSingleIndexAdaptorParams(16));
    tree_->buildIndex();
  }
  PointTree(PointTree&&) = delete;  // the index refers to the cloud
  PointTree& operator=(PointTree&&) = delete;
  PointTree(const PointTree&) = delete;
  PointTree& operator=(const PointTree&) = delete;
  ~PointTree() = default;

  std::size_t size() const { return cloud_.u.size(); }
  double u(std::size_t i) const { return cloud_.u[i]; }
  double v(std::size_t i) const { return cloud_.v[i]; }

  // The nearest point: (squared distance, index); (infinity, size()) when there is none.
  std::pair<double, std::size_t> nearest(double u, double v) const {
    if (!tree_) return {std::numeric_limits<double>::infinity(), size()};
    std::uint32_t index = 0;
    double squared = 0.0;
    const double query[2] = {u, v};
    tree_->knnSearch(query, 1, &index, &squared);
    return {squared, index};
  }
  // The points within `radius`, ascending by index. Inclusive, with a relative slack of 1e-9: a
  // raster's neighbours exactly `radius` away are within it whatever the rounding of positions.
  std::vector<std::uint32_t> within(double u, double v, double radius) const {
    std::vector<std::uint32_t> indexes;
    if (!tree_) return indexes;
    std::vector<std::pair<std::uint32_t, double>> found;
    const double query[2] = {u, v};
    // L2_Simple_Adaptor compares squared distances.
    const double reach = radius * (1.0 + 1e-9);
    tree_->radiusSearch(query, reach * reach, found, nanoflann::SearchParams(32, 0.0f, false));
    indexes.reserve(found.size());
    for (const auto& item : found) indexes.push_back(item.first);
    std::sort(indexes.begin(), indexes.end());
    return indexes;
  }

 private:
  struct Cloud {
    std::vector<double> u, v;
    std::size_t kdtree_get_point_count() const { return u.size(); }
    double kdtree_get_pt(std::size_t index, std::size_t dimension) const {
      return dimension == 0 ? u[index] : v[index];
    }
    template <class BoundingBox>
    bool kdtree_get_bbox(BoundingBox&) const {
      return false;
    }
  };
  using Tree =
      nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Cloud>, Cloud, 2, std::uint32_t>;
  Cloud cloud_;
  std::unique_ptr<Tree> tree_;
};

}  // namespace ptyroi::detail
