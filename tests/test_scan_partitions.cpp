// Partitions of the RoI frames (recursive coordinate bisection) on the simulator's raster, fly and
// spiral scans, P = 2..64: sizes, cores, halos (checked by brute force) and compactness against
// cutting the scan into stripes of rows.
#include "ptyroi/core/scan_partitions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>

#include "ptyroi/core/error.hpp"
#include "scan_fixtures.hpp"

namespace ptyroi {
namespace {

using testing::coarse_scan;
using testing::CoarseScan;

std::size_t roi_count(const CoarseScan& scan) {
  return static_cast<std::size_t>(std::count(scan.mask.begin(), scan.mask.end(), std::uint8_t{1}));
}

TEST(ScanPartitions, EqualSizesCompleteCoresAndHalosOnRasterFlyAndSpiralScans) {
  for (const std::string kind : {"raster", "fly", "spiral"}) {
    // 80 x 80: about 1800 RoI frames, 28 per part at P = 64 (±5% needs at least 20).
    const CoarseScan scan = coarse_scan(kind, 80, 80);
    const std::size_t roi = roi_count(scan);
    const double halo = 2.0 * scan.step;
    for (int parts = 2; parts <= 64; ++parts) {
      SCOPED_TRACE(kind + " scan, " + std::to_string(parts) + " parts");
      const ScanPartitions p = partition_roi(scan.x, scan.y, scan.mask, parts, halo);
      ASSERT_EQ(p.core.size(), static_cast<std::size_t>(parts));
      // Sizes within ±5% of R/P (in fact within one frame of each other).
      const double mean = static_cast<double>(roi) / parts;
      for (const auto& core : p.core) EXPECT_LE(std::abs(static_cast<double>(core.size()) - mean), 0.05 * mean);
      EXPECT_LE(p.largest() - p.smallest(), 1u);
      // Every RoI frame in exactly one core, and its label says which; nothing else labelled.
      std::vector<int> cores_of(scan.x.size(), 0);
      for (int q = 0; q < parts; ++q) {
        for (const std::uint64_t f : p.core[static_cast<std::size_t>(q)]) {
          ++cores_of[f];
          EXPECT_EQ(p.label[f], q);
        }
      }
      for (std::size_t k = 0; k < scan.x.size(); ++k) {
        EXPECT_EQ(cores_of[k], scan.mask[k] != 0 ? 1 : 0) << "frame " << k;
        if (scan.mask[k] == 0) EXPECT_EQ(p.label[k], -1);
      }
      // Halos, brute force: exactly the RoI frames of other parts within `halo` of a core frame.
      for (int q = 0; q < parts; ++q) {
        const auto& core = p.core[static_cast<std::size_t>(q)];
        std::vector<std::uint64_t> expected;
        for (std::size_t k = 0; k < scan.x.size(); ++k) {
          if (scan.mask[k] == 0 || p.label[k] == q) continue;
          double nearest = std::numeric_limits<double>::infinity();
          for (const std::uint64_t f : core)
            nearest = std::min(nearest, std::hypot(scan.x[k] - scan.x[f], scan.y[k] - scan.y[f]));
          if (nearest <= halo * (1 + 1e-9)) expected.push_back(k);
        }
        EXPECT_EQ(p.halo_of[static_cast<std::size_t>(q)], expected) << "part " << q;
      }
    }
  }
}

TEST(ScanPartitions, MoreCompactThanStripesOfRows) {
  // Boundary frames (a frame of another part within 1.5 steps) per RoI frame: RCB's cuts run across
  // the shorter side, stripes across the whole width every time.
  for (const std::string kind : {"raster", "fly", "spiral"}) {
    const CoarseScan scan = coarse_scan(kind, 80, 80);
    const double radius = 1.5 * scan.step, halo = 2.0 * scan.step;
    std::cout << "  " << kind << " (" << roi_count(scan)
              << " RoI frames): boundary fraction, halo frames per RoI frame\n";
    for (const int parts : {2, 3, 4, 8, 16, 32, 64}) {
      SCOPED_TRACE(kind + " scan, " + std::to_string(parts) + " parts");
      const ScanPartitions rcb = partition_roi(scan.x, scan.y, scan.mask, parts, halo);
      const std::vector<std::int32_t> stripes = row_stripes(scan.x, scan.y, scan.mask, parts);
      const double rcb_boundary = boundary_fraction(scan.x, scan.y, rcb.label, radius);
      const double stripe_boundary = boundary_fraction(scan.x, scan.y, stripes, radius);
      std::uint64_t stripe_halo = 0;
      for (const auto& h : partition_halos(scan.x, scan.y, stripes, parts, halo)) stripe_halo += h.size();
      const double roi = static_cast<double>(roi_count(scan));
      std::cout << "    P " << parts << ": RCB " << rcb_boundary << ", " << static_cast<double>(rcb.halo_frames()) / roi
                << "; stripes " << stripe_boundary << ", " << static_cast<double>(stripe_halo) / roi << "\n";
      if (parts <= 3) {
        // The first cut of a region wider than tall runs across it, as a stripe boundary would.
        EXPECT_LE(rcb_boundary, stripe_boundary * 1.05);
      } else {
        EXPECT_LT(rcb_boundary, 0.8 * stripe_boundary);
        EXPECT_LT(rcb.halo_frames(), stripe_halo);
      }
    }
  }
}

TEST(ScanPartitions, TheSameForAnyOrderOfEqualCoordinates) {
  // A raster: many frames share an x or a y; ties are broken by the other coordinate, then by the
  // frame number, so the labels are a function of the positions and mask alone.
  const CoarseScan scan = coarse_scan("raster", 12, 17);
  const ScanPartitions a = partition_roi(scan.x, scan.y, scan.mask, 7, scan.step);
  const ScanPartitions b = partition_roi(scan.x, scan.y, scan.mask, 7, scan.step);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.halo_of, b.halo_of);
  // Parts are numbered in cutting order: parts 0..2 lie on the lower side of the first cut.
  double lower_max = -1.0, upper_min = 1.0;
  for (std::size_t k = 0; k < scan.x.size(); ++k) {
    if (a.label[k] < 0) continue;
    if (a.label[k] < 3)
      lower_max = std::max(lower_max, scan.x[k]);
    else
      upper_min = std::min(upper_min, scan.x[k]);
  }
  EXPECT_LE(lower_max, upper_min);
}

TEST(ScanPartitions, RefusesWhatCannotBeSplit) {
  const CoarseScan scan = coarse_scan("raster", 6, 8);
  EXPECT_THROW(partition_roi(scan.x, scan.y, scan.mask, 0, 0.0), UsageError);
  EXPECT_THROW(partition_roi(scan.x, scan.y, scan.mask, static_cast<int>(roi_count(scan)) + 1, 0.0), UsageError);
  EXPECT_THROW(partition_roi(scan.x, scan.y, scan.mask, 2, -1.0), UsageError);
  // One part: the whole RoI, no halo.
  const ScanPartitions one = partition_roi(scan.x, scan.y, scan.mask, 1, scan.step);
  EXPECT_EQ(one.core.front().size(), roi_count(scan));
  EXPECT_TRUE(one.halo_of.front().empty());
}

}  // namespace
}  // namespace ptyroi
