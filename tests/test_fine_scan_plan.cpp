// Fine-scan plans on the simulator's raster, fly and spiral scans, checked against the RoI region
// computed independently here (brute force, no k-d trees, no skipping): every point in the region,
// every RoI position near a point, the count against the region's area (exact for a raster, Monte
// Carlo for the others), and the path against the naive order.
#include "ptyroi/core/fine_scan_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <random>
#include <set>

#include "ptyroi/core/error.hpp"
#include "region_checks.hpp"
#include "scan_fixtures.hpp"

namespace ptyroi {
namespace {

using testing::coarse_scan;
using testing::CoarseScan;

testing::BruteRegion brute_region(const CoarseScan& scan) {
  return {scan.x, scan.y, scan.mask, scan.step, scan.neighbourhood->is_raster()};
}

std::size_t roi_count(const CoarseScan& scan) {
  return static_cast<std::size_t>(std::count(scan.mask.begin(), scan.mask.end(), std::uint8_t{1}));
}

void check_plan(const CoarseScan& scan, PlanPattern pattern, double step) {
  SCOPED_TRACE(scan.name + " scan, " + plan_pattern_name(pattern) + " plan");
  const RoiRegion region = RoiRegion::of_scan(scan.x, scan.y, scan.mask, *scan.neighbourhood);
  const FineScanPlan plan = plan_fine_scan(region, step, pattern);
  ASSERT_GT(plan.points(), 0u);
  const testing::BruteRegion brute = brute_region(scan);
  // Every point lies within step/2 of the RoI region (inside it, in fact).
  std::size_t outside = 0;
  for (std::size_t i = 0; i < plan.points(); ++i) outside += brute.distance(plan.x[i], plan.y[i]) > step / 2;
  EXPECT_EQ(outside, 0u);
  // No point twice.
  std::set<std::pair<double, double>> distinct;
  for (std::size_t i = 0; i < plan.points(); ++i) distinct.emplace(plan.x[i], plan.y[i]);
  EXPECT_EQ(distinct.size(), plan.points());
  // Every RoI position has a point within one step.
  std::size_t uncovered = 0;
  for (std::size_t k = 0; k < scan.x.size(); ++k) {
    if (scan.mask[k] == 0) continue;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < plan.points(); ++i)
      best = std::min(best, std::hypot(plan.x[i] - scan.x[k], plan.y[i] - scan.y[k]));
    uncovered += best > step;
  }
  EXPECT_EQ(uncovered, 0u);
  // The count matches the area: one point per step² (within 3%: the lattice's count of a region
  // of this size and perimeter, and 0.4% Monte Carlo error for the irregular scans' area).
  const double area = brute.area(
      region.field_bounds(), [&](double x, double y) { return region.in_field(x, y); }, 400000);
  const double expected = area / (step * step);
  EXPECT_NEAR(static_cast<double>(plan.points()), expected, 0.03 * expected);
  // The whole field's fine raster holds at least the plan; share in (0, 1].
  EXPECT_GE(plan.field_points, plan.points());
  EXPECT_GT(plan.share(), 0.0);
  EXPECT_LE(plan.share(), 1.0);
  EXPECT_DOUBLE_EQ(plan.path_length, path_length(plan.x, plan.y));
  std::cout << "  " << scan.name << " " << plan_pattern_name(pattern) << ": " << plan.points() << " points (area/step² "
            << expected << "), field " << plan.field_points << ", share " << plan.share() << ", pieces " << plan.pieces
            << ", path " << plan.path_length / step << " steps vs typewriter " << plan.naive_path_length / step
            << " steps (" << plan.path_length / plan.naive_path_length << ")\n";
}

TEST(FineScanPlan, CoversTheRoiRegionOfRasterFlyAndSpiralScans) {
  for (const std::string kind : {"raster", "fly", "spiral"}) {
    const CoarseScan scan = coarse_scan(kind);
    for (const PlanPattern pattern : {PlanPattern::raster, PlanPattern::spiral})
      check_plan(scan, pattern, scan.step / 4);
  }
  // A fly scan with rows 6 times closer than its points along a row.
  check_plan(coarse_scan("fly", 120, 40, 12, 2), PlanPattern::raster, 2e-8);
}

TEST(FineScanPlan, RasterPlanOfARasterHoldsTheSamePointsInEveryCell) {
  // Fine step a quarter of the coarse one: 16 points in every RoI cell, exactly.
  const CoarseScan scan = coarse_scan("raster");
  const RoiRegion region = RoiRegion::of_scan(scan.x, scan.y, scan.mask, *scan.neighbourhood);
  const FineScanPlan plan = plan_fine_scan(region, scan.step / 4, PlanPattern::raster);
  EXPECT_EQ(plan.points(), 16 * roi_count(scan));
  EXPECT_EQ(plan.field_points, 16 * scan.x.size());
  EXPECT_DOUBLE_EQ(plan.share(), static_cast<double>(roi_count(scan)) / static_cast<double>(scan.x.size()));
}

TEST(FineScanPlan, SkippingAheadFindsTheSamePointsAsTestingEveryLatticePoint) {
  for (const std::string kind : {"raster", "fly", "spiral"}) {
    SCOPED_TRACE(kind);
    const CoarseScan scan = coarse_scan(kind);
    const RoiRegion region = RoiRegion::of_scan(scan.x, scan.y, scan.mask, *scan.neighbourhood);
    const double step = scan.step / 3;
    const FineScanPlan plan = plan_fine_scan(region, step, PlanPattern::raster);
    std::set<std::pair<double, double>> planned;
    for (std::size_t i = 0; i < plan.points(); ++i) planned.emplace(plan.x[i], plan.y[i]);
    // Every lattice point of the field's bounding box, tested one by one.
    const auto b = region.field_bounds();
    std::set<std::pair<double, double>> every;
    std::uint64_t field = 0;
    for (std::int64_t j = 0; b[1] + (static_cast<double>(j) + 0.5) * step <= b[3]; ++j) {
      for (std::int64_t i = 0; b[0] + (static_cast<double>(i) + 0.5) * step <= b[2]; ++i) {
        const double x = b[0] + (static_cast<double>(i) + 0.5) * step, y = b[1] + (static_cast<double>(j) + 0.5) * step;
        field += region.in_field(x, y);
        if (region.contains(x, y)) every.emplace(x, y);
      }
    }
    EXPECT_EQ(planned, every);
    EXPECT_EQ(plan.field_points, field);
  }
}

TEST(FineScanPlan, SerpentineRowsAreShorterThanTypewriterRows) {
  // Boustrophedon saves the run back across each row: about half the path on compact pieces.
  for (const std::string kind : {"raster", "fly", "spiral"}) {
    SCOPED_TRACE(kind);
    const CoarseScan scan = coarse_scan(kind);
    const RoiRegion region = RoiRegion::of_scan(scan.x, scan.y, scan.mask, *scan.neighbourhood);
    const FineScanPlan plan = plan_fine_scan(region, scan.step / 4, PlanPattern::raster);
    EXPECT_EQ(plan.pieces, 2u);  // the ellipses overlap; the disc lies apart
    EXPECT_LT(plan.path_length, 0.6 * plan.naive_path_length);
    // Nearly every move is one step (row changes and the jump between pieces are the rest).
    EXPECT_LT(plan.path_length, 1.3 * static_cast<double>(plan.points()) * plan.step);
    const FineScanPlan spiral = plan_fine_scan(region, scan.step / 4, PlanPattern::spiral);
    EXPECT_LT(spiral.path_length, spiral.naive_path_length);
  }
}

TEST(FineScanPlan, CsvNamesItsNumbersAndListsThePointsInOrder) {
  const CoarseScan scan = coarse_scan("raster", 6, 8);
  const RoiRegion region = RoiRegion::of_scan(scan.x, scan.y, scan.mask, *scan.neighbourhood);
  const FineScanPlan plan = plan_fine_scan(region, scan.step / 2, PlanPattern::raster);
  const std::string csv = fine_scan_plan_csv(plan, "test");
  EXPECT_NE(csv.find("# ptyroi fine-scan plan: test\n"), std::string::npos);
  EXPECT_NE(csv.find("\nx,y\n"), std::string::npos);
  std::size_t lines = 0;
  for (const char c : csv) lines += c == '\n';
  EXPECT_EQ(lines, 5 + plan.points());
}

TEST(FineScanPlan, RefusesAStepThatIsNotADistanceOrFarTooFine) {
  const CoarseScan scan = coarse_scan("raster", 6, 8);
  const RoiRegion region = RoiRegion::of_scan(scan.x, scan.y, scan.mask, *scan.neighbourhood);
  EXPECT_THROW(plan_fine_scan(region, 0.0, PlanPattern::raster), UsageError);
  EXPECT_THROW(plan_fine_scan(region, -1e-7, PlanPattern::raster), UsageError);
  EXPECT_THROW(plan_fine_scan(region, std::nan(""), PlanPattern::raster), UsageError);
  EXPECT_THROW(plan_fine_scan(region, 1e-12, PlanPattern::raster), UsageError);
  EXPECT_THROW(parse_plan_pattern("zigzag"), UsageError);
}

TEST(RoiRegion, RasterCellsAndVoronoiCells) {
  // A 3 x 3 raster of step 1 with the centre frame in the RoI: its cell is [0.5, 1.5]², the field
  // [-0.5, 2.5]².
  std::vector<double> x, y;
  std::vector<std::uint8_t> mask;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      x.push_back(c);
      y.push_back(r);
      mask.push_back(r == 1 && c == 1);
    }
  }
  const RoiRegion raster = RoiRegion::raster(x, y, mask, 1.0, 1.0);
  EXPECT_TRUE(raster.contains(1.0, 1.0));
  EXPECT_TRUE(raster.contains(1.49, 0.51));
  EXPECT_FALSE(raster.contains(1.51, 1.0));
  EXPECT_EQ(raster.cell_of(2.4, 2.4), 8);
  EXPECT_EQ(raster.cell_of(2.6, 2.4), -1);
  EXPECT_EQ(raster.field_bounds(), (std::array<double, 4>{-0.5, -0.5, 2.5, 2.5}));
  // The same positions as an irregular scan of step 1: Voronoi cells are the same squares, the
  // field the hull grown by ½ with square corners.
  const RoiRegion irregular = RoiRegion::irregular(x, y, mask, 1.0);
  EXPECT_TRUE(irregular.contains(1.49, 0.51));
  EXPECT_FALSE(irregular.contains(1.51, 1.0));
  EXPECT_TRUE(irregular.in_field(-0.49, 2.49));
  EXPECT_FALSE(irregular.in_field(-0.51, 1.0));
  const auto span = irregular.field_span(1.0);
  ASSERT_TRUE(span);
  EXPECT_NEAR(span->first, -0.5, 1e-12);
  EXPECT_NEAR(span->second, 2.5, 1e-12);
  EXPECT_FALSE(irregular.field_span(2.6));
  // Outside clearance: from (0, 0), the RoI cell's corner (0.5, 0.5) is 0.71 away; the Voronoi
  // bound is half the difference of the distances to the nearest RoI and other positions.
  EXPECT_NEAR(irregular.outside_clearance(0.0, 0.0), (std::sqrt(2.0) - 0.0) / 2, 1e-12);
  EXPECT_LE(raster.outside_clearance(0.0, 0.0), std::hypot(0.5, 0.5));
  EXPECT_EQ(raster.outside_clearance(1.0, 1.0), 0.0);
  EXPECT_THROW(RoiRegion::raster(x, y, mask, 0.0, 1.0), UsageError);
  EXPECT_THROW(RoiRegion::irregular(x, y, std::vector<std::uint8_t>(3), 1.0), UsageError);
}

}  // namespace
}  // namespace ptyroi
