#pragma once
// The RoI as an area of the sample plane, for what is planned on it (a fine scan, pictures): each
// frame of the scan owns a cell around its position, and the RoI region is the union of the cells
// of the RoI frames.
//   raster:    the grid cell, a dx × dy rectangle centred on the frame's position (dx, dy: the
//              column and row spacing of the positions). The scan's field is the union of all cells
//              (the positions' bounding box grown by dx/2, dy/2).
//   irregular: the Voronoi cell (the points nearer to this position than to any other position of
//              the scan, RoI or not) within the scan's field, which is the convex hull of all
//              positions grown by s/2 (s: the density step, density_step()) with square corners —
//              the area K cells of s² are taken to cover when the step is measured, so the field's
//              area is about K s². Its edges run midway between RoI and non-RoI positions, as a
//              raster's cell edges do. Outermost cells reach s/2 beyond the outermost positions in
//              every direction (for a fly scan whose rows are much closer than its points along a
//              row that is more than the row spacing and less than the point spacing).
// Pure geometry on positions (any unit, the same for every argument), no MPI.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace ptyroi {

class ScanNeighbourhood;

class RoiRegion {
 public:
  // A raster's cells: dx × dy rectangles around the positions. Throws UsageError unless dx, dy > 0.
  static RoiRegion raster(std::vector<double> x, std::vector<double> y, std::vector<std::uint8_t> mask, double dx,
                          double dy);
  // Voronoi cells of all positions within the hull grown by step / 2. Throws UsageError unless
  // step > 0.
  static RoiRegion irregular(std::vector<double> x, std::vector<double> y, std::vector<std::uint8_t> mask, double step);
  // As the scan's neighbourhood sees the scan: its raster (cells from the positions' column and row
  // spacing) or irregular with its step. Throws UsageError when the neighbourhood has no step (a
  // --grid without positions).
  static RoiRegion of_scan(const std::vector<double>& x, const std::vector<double>& y,
                           const std::vector<std::uint8_t>& mask, const ScanNeighbourhood& scan);

  RoiRegion(RoiRegion&&) noexcept;
  RoiRegion& operator=(RoiRegion&&) noexcept;
  ~RoiRegion();

  bool is_raster() const { return raster_; }
  // Raster: the cell sides; irregular: the density step twice.
  double cell_width() const { return dx_; }
  double cell_height() const { return dy_; }
  std::size_t frames() const { return x_.size(); }
  std::size_t roi_frames() const { return roi_count_; }
  const std::vector<double>& x() const { return x_; }
  const std::vector<double>& y() const { return y_; }
  const std::vector<std::uint8_t>& mask() const { return mask_; }

  // The frame whose cell holds the point, or −1 when it lies outside the scan's field.
  std::int64_t cell_of(double x, double y) const;
  // Whether the point lies in the RoI region (the cell of an RoI frame).
  bool contains(double x, double y) const { return contains_cell(cell_of(x, y)); }
  bool in_field(double x, double y) const;
  // For a point outside the RoI region: a distance it can move, in any direction, and stay outside
  // (0 when it is inside or close to the region's edge). Lets a scan over many points skip ahead.
  double outside_clearance(double x, double y) const;

  // The field's extent along the horizontal line at y: [x0, x1], or nothing when the line misses it.
  std::optional<std::pair<double, double>> field_span(double y) const;
  // The field's bounding box: x0, y0, x1, y1.
  std::array<double, 4> field_bounds() const { return bounds_; }

 private:
  RoiRegion() = default;
  bool contains_cell(std::int64_t cell) const { return cell >= 0 && mask_[static_cast<std::size_t>(cell)] != 0; }
  struct Index;

  bool raster_ = false;
  double dx_ = 0.0, dy_ = 0.0;
  std::vector<double> x_, y_;
  std::vector<std::uint8_t> mask_;
  std::size_t roi_count_ = 0;
  // The field as half-planes a·x + b·y <= c.
  std::vector<std::array<double, 3>> field_;
  std::array<double, 4> bounds_{};
  std::unique_ptr<Index> index_;
};

}  // namespace ptyroi
