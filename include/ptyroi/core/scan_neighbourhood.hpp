#pragma once
// Which frames are neighbours on the scan, for the two places the method looks around a frame:
// the smoothing of the T and c maps and the border grow/shrink of the RoI.
//   raster:    the 3×3 cells around a frame's cell; the border is n 3×3 dilations/erosions.
//   irregular: (fly and spiral scans) the frame and its 8 nearest positions — on a raster the 3×3
//              neighbourhood (4 at s, 4 at 1.41 s), and never fewer, however anisotropic the scan
//              (rows much closer than the points along a row). The scan step s is the spacing of a
//              square raster with the scan's point density (density_step: exactly the step of a
//              raster), and the border of n steps is a grow or shrink by a radius of (|n| + ½)·s,
//              a physical distance that catches jittered neighbours a radius of n·s would miss.
// Every rank builds the same neighbourhood from all positions (they are small). Sums run over
// neighbours in ascending frame order, so results do not depend on which rank asks.
#include <mpi.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptyroi/core/partition.hpp"
#include "ptyroi/core/scan_grid.hpp"

namespace ptyroi {

// The spacing s of a square raster with the positions' density: K cells of s² cover their convex
// hull grown by s/2 all round (K s² = A + P s/2 + s², A and P the hull's area and perimeter);
// exactly the step of a raster, and the spacing along a line scan. 0 when the positions coincide.
double density_step(const std::vector<double>& x, const std::vector<double>& y);

// The convex hull of the points, counter-clockwise from the lowest-x (then lowest-y) point, without
// repeated or collinear points: 0, 1 or 2 points when they coincide or lie on a line.
std::vector<std::array<double, 2>> convex_hull(const std::vector<double>& x, const std::vector<double>& y);

class ScanNeighbourhood {
 public:
  static constexpr std::size_t kSmoothingNeighbours = 8;  // irregular scans: smoothing over 1 + 8 frames

  // x, y: the frames' positions (metres), or none (a --grid without positions: no step known).
  static ScanNeighbourhood raster(ScanGrid grid, const std::vector<double>& x = {}, const std::vector<double>& y = {});
  // Throws InputError when fewer than 2 distinct positions leave no scan step to measure.
  static ScanNeighbourhood irregular(const std::vector<double>& x, const std::vector<double>& y);

  ScanNeighbourhood(ScanNeighbourhood&&) noexcept;
  ScanNeighbourhood& operator=(ScanNeighbourhood&&) noexcept;
  ~ScanNeighbourhood();

  bool is_raster() const { return tree_ == nullptr; }
  const ScanGrid& grid() const { return grid_; }
  // Metres. Irregular: s (density_step). Raster: the grid spacing of its positions, the median over
  // frames of the distance to the nearest frame in the 4 cells next to its own; 0 for a raster
  // without positions (a --grid alone).
  double step() const { return step_; }
  // Irregular scans: how far a border of that many steps grows or shrinks the RoI, metres.
  double border_radius(int border_steps) const;
  std::uint64_t frames() const { return frames_; }
  // "raster 85x188 (given), 3x3 neighbours", "irregular, ...; scan step 6e-08 m (...)"; `unit`: that of
  // the positions.
  std::string description(const std::string& unit = "m") const;

  // The mean of by_frame (all frames) over the neighbourhood of each frame in `range`. In these
  // two, NaN values (frames never acquired) are left out of the means; a frame whose neighbours
  // are all NaN smooths to NaN, and a NaN frame's residual is NaN.
  std::vector<double> smooth(const std::vector<double>& by_frame, FrameRange range) const;
  // Each value of by_frame (all frames) minus the mean of its neighbours (itself excluded), for the
  // frames in `range`: what a frame's value holds that its surroundings do not (the contrast test).
  std::vector<double> residuals(const std::vector<double>& by_frame, FrameRange range) const;
  // Grows (border_steps > 0) or shrinks (< 0) a per-frame 0/1 mask; frames outside the scan are
  // ignored, so a RoI touching the scan's edge is not eroded from there.
  std::vector<std::uint8_t> grow_or_shrink(const std::vector<std::uint8_t>& by_frame, int border_steps) const;
  // The same three on this rank's share of a per-frame vector (partition_frames(frames(), ranks,
  // rank)), collective: a row-major raster exchanges a halo of a few rows with the ranks next to it
  // (memory O(K / P + halo)); other scans gather every frame's value.
  std::vector<double> smooth(const std::vector<double>& local, MPI_Comm comm) const;
  std::vector<double> residuals(const std::vector<double>& local, MPI_Comm comm) const;
  std::vector<std::uint8_t> grow_or_shrink(const std::vector<std::uint8_t>& local, int border_steps,
                                           MPI_Comm comm) const;
  // Whether those use halos (a row-major raster) rather than gathering every frame's value.
  bool uses_halo() const;
  // Whether a border of that many steps stays within the scan (does not reach across all of it).
  bool border_fits(int border_steps) const;
  // Refuses a border that reaches across the whole scan (UsageError naming the border).
  void check_border(int border_steps) const;

  // The frames within `radius` (metres) of frame k, ascending, k included. Irregular scans only.
  std::vector<std::uint32_t> within(std::uint64_t frame, double radius) const;
  // Frame k and its 8 nearest positions, ascending: its smoothing neighbourhood. Irregular only.
  std::vector<std::uint32_t> nearest(std::uint64_t frame) const;

 private:
  ScanNeighbourhood() = default;
  struct Tree;

  ScanGrid grid_;
  std::uint64_t frames_ = 0;
  double step_ = 0.0;
  double extent_ = 0.0;  // the larger side of the positions' bounding box
  std::unique_ptr<Tree> tree_;
};

}  // namespace ptyroi
