#pragma once
// A fine scan of the RoI only, planned from a coarse scan (the paper's introduction: a coarse scan
// of a large field, then a fine scan where the object is). The points cover the RoI region
// (roi_region.hpp: the union of the RoI frames' cells) at `step`, clipped to it, and are ordered
// for a short stage path:
//   raster: the points of a square lattice of spacing step, anchored half a step inside the scan
//           field's bounding box (so on a raster whose step is a multiple of the fine step every
//           cell holds the same number of points), visited in serpentine rows (boustrophedon: each
//           row the other way), one connected piece of the region after another (each next piece
//           entered at the corner nearest to where the last one ended);
//   spiral: an Archimedean spiral from the centre of the region's points outward, one turn every
//           step and a point every step along the arc (one point per step², as the raster), in
//           that order.
// The plan also measures its path against the naive order of the same points (typewriter rows:
// each row left to right) and counts a fine raster at the same step over the whole coarse field,
// the scan the plan saves. Pure geometry, no MPI.
#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/core/roi_region.hpp"

namespace ptyroi {

enum class PlanPattern { raster, spiral };

const char* plan_pattern_name(PlanPattern pattern);  // "raster", "spiral"
// Throws UsageError naming --plan-pattern.
PlanPattern parse_plan_pattern(const std::string& text);

struct FineScanPlan {
  PlanPattern pattern = PlanPattern::raster;
  double step = 0.0;
  std::vector<double> x, y;        // the points in visiting order, the coarse positions' unit (metres)
  std::uint64_t field_points = 0;  // a fine raster at `step` over the whole coarse field
  std::uint64_t pieces = 0;        // raster: connected pieces of the region (4-neighbour lattice)
  double path_length = 0.0;        // of the visiting order
  double naive_path_length = 0.0;  // of the same points in typewriter order (rows by y, each by x)

  std::size_t points() const { return x.size(); }
  // points / field_points: what the fine scan costs next to a fine raster over the coarse field.
  double share() const {
    return field_points == 0 ? 0.0 : static_cast<double>(x.size()) / static_cast<double>(field_points);
  }
};

// Throws UsageError when step is not positive or a fine raster over the field would exceed
// max_field_points (a step far too small for the scan).
FineScanPlan plan_fine_scan(const RoiRegion& region, double step, PlanPattern pattern,
                            std::uint64_t max_field_points = 100'000'000);

// The length of the path through the points in their order.
double path_length(const std::vector<double>& x, const std::vector<double>& y);

// The plan as CSV: comment lines (what it is, its numbers), a header "x,y" and one point per line,
// metres with 10 significant digits — what `ptyroi --positions` and the usual stage scripts read.
std::string fine_scan_plan_csv(const FineScanPlan& plan, const std::string& description);

}  // namespace ptyroi
