// Whole runs of issue 17 (CTest runs ptyroi with --border auto, --plan, --partitions and
// --partition-files on simulated raster, fly and spiral scans; see tests/CMakeLists.txt), checked
// from the files alone: the probe radius against the simulator's, the plan against the RoI region
// computed by brute force from the written record, the partitions and each partition's file
// against the whole output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <cairo.h>

#include <cstring>

#include "ptyroi/app/colormap.hpp"
#include "ptyroi/app/plan_preview.hpp"
#include "ptyroi/core/roi_region.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/roi_schema.hpp"
#include "region_checks.hpp"

namespace ptyroi {
namespace {

std::string data_dir() {
  const char* value = std::getenv("PTYROI_TEST_OUTDIR");
  return value ? value : "";
}

// The simulated scans: 64-pixel frames, so the probe radius is 64 / 8 = 8 object pixels of 1e-8 m.
constexpr double kTrueProbeRadius = 8e-8;

struct PlanOutputs {
  std::string name;  // plan_raster, plan_fly, plan_spiral
  nlohmann::json summary;
  RoiRecord record;
  double step = 0.0;
  bool raster = false;
  std::int64_t border = 0;
};

PlanOutputs load(const std::string& name) {
  PlanOutputs run;
  run.name = name;
  const std::string dir = data_dir();
  std::ifstream summary(dir + "/" + name + ".json");
  EXPECT_TRUE(summary) << dir + "/" + name + ".json";
  if (summary) summary >> run.summary;
  const std::string output = dir + "/" + name + "_roi.h5";
  h5::Handle file = h5::open_file_read_serial(output);
  run.record = read_roi_record(file.get(), output);
  h5::Handle group = h5::checked(H5Oopen(file.get(), "/roi", H5P_DEFAULT), "/roi");
  run.step = h5::read_number_attribute(group.get(), "scan_step_m").value_or(0.0);
  run.border = static_cast<std::int64_t>(h5::read_number_attribute(group.get(), "border_steps").value_or(-99));
  run.raster = h5::read_string_attribute(group.get(), "neighbourhood").value_or("").rfind("raster", 0) == 0;
  return run;
}

std::vector<std::array<double, 2>> read_plan(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::array<double, 2>> points;
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      EXPECT_EQ(line, "x,y");
      header = true;
      continue;
    }
    std::istringstream fields(line);
    double x = 0, y = 0;
    char comma = 0;
    fields >> x >> comma >> y;
    EXPECT_TRUE(fields && comma == ',') << line;
    points.push_back({x, y});
  }
  return points;
}

class PlanRun : public ::testing::TestWithParam<std::string> {};

TEST_P(PlanRun, BorderAutoGrowsByTheSimulatedProbesRadius) {
  const PlanOutputs run = load(GetParam());
  const auto& probe = run.summary["probe"];
  ASSERT_TRUE(probe.is_object());
  // The bright-field disc of the simulator's aperture (0.61·64/8 = 4.88 px; its edge pixels drawn
  // by coverage in amplitude) gives the probe radius within 6%.
  const double radius = probe["probe_radius_m"].get<double>();
  EXPECT_NEAR(radius, kTrueProbeRadius, 0.06 * kTrueProbeRadius);
  EXPECT_NEAR(probe["disc_radius_px"].get<double>(), 0.61 * 64 / 8, 0.06 * 0.61 * 64 / 8);
  EXPECT_EQ(probe["sampled_frames"].get<int>(), 64);
  // The border is ⌈r / s − ½⌉ steps of the record's scan step, and the record used it.
  EXPECT_DOUBLE_EQ(probe["scan_step_m"].get<double>(), run.step);
  const int steps = static_cast<int>(std::ceil(radius / run.step - 0.5));
  EXPECT_EQ(probe["border_steps"].get<int>(), steps);
  EXPECT_EQ(run.border, steps);
  EXPECT_TRUE(run.summary["parameters"]["border_auto"].get<bool>());
}

TEST_P(PlanRun, PlanCoversTheRoiRegionAtItsStep) {
  const PlanOutputs run = load(GetParam());
  const auto& summary = run.summary["plan"];
  ASSERT_TRUE(summary.is_object());
  const double step = summary["step_m"].get<double>();
  const auto points = read_plan(data_dir() + "/" + GetParam() + "_plan.csv");
  ASSERT_EQ(points.size(), summary["points"].get<std::size_t>());
  ASSERT_GT(points.size(), 100u);
  const testing::BruteRegion region{run.record.positions_x, run.record.positions_y, run.record.mask, run.step,
                                    run.raster};
  // Every point within step/2 of the RoI region.
  std::size_t outside = 0;
  for (const auto& p : points) outside += region.distance(p[0], p[1]) > step / 2;
  EXPECT_EQ(outside, 0u);
  // Every RoI position has a point within one step.
  std::size_t uncovered = 0;
  for (std::size_t k = 0; k < region.x.size(); ++k) {
    if (region.mask[k] == 0) continue;
    double best = std::numeric_limits<double>::infinity();
    for (const auto& p : points) best = std::min(best, std::hypot(p[0] - region.x[k], p[1] - region.y[k]));
    uncovered += best > step;
  }
  EXPECT_EQ(uncovered, 0u);
  // The count matches the region's area at one point per step² (within 3%).
  const RoiRegion field = run.raster ? RoiRegion::raster(region.x, region.y, region.mask, run.step, run.step)
                                     : RoiRegion::irregular(region.x, region.y, region.mask, run.step);
  const double area = region.area(
      field.field_bounds(), [&](double x, double y) { return field.in_field(x, y); }, 400000);
  EXPECT_NEAR(static_cast<double>(points.size()), area / (step * step), 0.03 * area / (step * step));
  // The share of a fine raster over the field; the path shorter than typewriter rows.
  EXPECT_NEAR(summary["share_of_field"].get<double>(),
              static_cast<double>(points.size()) / summary["field_points"].get<double>(), 1e-12);
  double path = 0.0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    path += std::hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
  }
  EXPECT_NEAR(summary["path_length_m"].get<double>(), path, 1e-6 * path);
  EXPECT_LT(path, summary["typewriter_path_length_m"].get<double>());
}

TEST_P(PlanRun, PartitionsAreBalancedCompleteAndHaloed) {
  const PlanOutputs run = load(GetParam());
  const RoiRecord& r = run.record;
  ASSERT_EQ(r.partition.size(), r.mask.size());
  const std::size_t parts = r.partition_core_frames.size();
  ASSERT_EQ(parts, 8u);
  ASSERT_EQ(r.partition_halo_frames.size(), parts);
  EXPECT_EQ(r.partition_index, -1);
  const double mean = static_cast<double>(r.indexes.size()) / static_cast<double>(parts);
  std::vector<int> seen(r.mask.size(), 0);
  for (std::size_t p = 0; p < parts; ++p) {
    EXPECT_LE(std::abs(static_cast<double>(r.partition_core_frames[p].size()) - mean), 0.05 * mean);
    for (const std::int64_t k : r.partition_core_frames[p]) {
      ++seen[static_cast<std::size_t>(k)];
      EXPECT_EQ(r.partition[static_cast<std::size_t>(k)], static_cast<std::int32_t>(p));
    }
  }
  for (std::size_t k = 0; k < r.mask.size(); ++k) {
    EXPECT_EQ(seen[k], r.mask[k] != 0 ? 1 : 0) << "frame " << k;
    EXPECT_EQ(r.partition[k] >= 0, r.mask[k] != 0) << "frame " << k;
  }
  // Halos by brute force: the RoI frames of other parts within the halo distance of a core frame.
  const double halo = r.partition_halo_m;
  EXPECT_NEAR(halo, 2.0 * run.step, 1e-9 * run.step);  // the default
  for (std::size_t p = 0; p < parts; ++p) {
    std::vector<std::int64_t> expected;
    for (std::size_t k = 0; k < r.mask.size(); ++k) {
      if (r.mask[k] == 0 || r.partition[k] == static_cast<std::int32_t>(p)) continue;
      double nearest = std::numeric_limits<double>::infinity();
      for (const std::int64_t f : r.partition_core_frames[p]) {
        nearest = std::min(nearest, std::hypot(r.positions_x[k] - r.positions_x[static_cast<std::size_t>(f)],
                                               r.positions_y[k] - r.positions_y[static_cast<std::size_t>(f)]));
      }
      if (nearest <= halo * (1 + 1e-9)) expected.push_back(static_cast<std::int64_t>(k));
    }
    EXPECT_EQ(r.partition_halo_frames[p], expected) << "part " << p;
  }
  const auto& summary = run.summary["partitions"];
  EXPECT_LT(summary["boundary_fraction"].get<double>(), summary["row_stripes_boundary_fraction"].get<double>());
}

TEST_P(PlanRun, EachPartitionFileHoldsItsFramesAndHaloAsTheWholeOutputDoes) {
  const PlanOutputs run = load(GetParam());
  const RoiRecord& whole = run.record;
  const std::string output = data_dir() + "/" + GetParam() + "_roi.h5";
  h5::Handle file = h5::open_file_read_serial(output);
  const std::vector<double> patterns =
      h5::read_all<double>(h5::open_dataset(file.get(), "/entry_1/data_1/data", output).get());
  const std::size_t frame_pixels = patterns.size() / whole.indexes.size();
  std::vector<std::int64_t> row_of(whole.mask.size(), -1);
  for (std::size_t i = 0; i < whole.indexes.size(); ++i) row_of[static_cast<std::size_t>(whole.indexes[i])] = i;
  for (std::size_t p = 0; p < whole.partition_core_frames.size(); ++p) {
    SCOPED_TRACE("part " + std::to_string(p));
    const std::string path = data_dir() + "/" + GetParam() + "_roi_part" + std::to_string(p) + ".h5";
    h5::Handle part_file = h5::open_file_read_serial(path);
    const RoiRecord part = read_roi_record(part_file.get(), path);
    EXPECT_EQ(part.partition_index, static_cast<int>(p));
    std::set<std::int64_t> frames(whole.partition_core_frames[p].begin(), whole.partition_core_frames[p].end());
    frames.insert(whole.partition_halo_frames[p].begin(), whole.partition_halo_frames[p].end());
    EXPECT_EQ(part.indexes, std::vector<std::int64_t>(frames.begin(), frames.end()));
    EXPECT_EQ(part.partition, whole.partition);
    ASSERT_EQ(part.partition_core.size(), part.indexes.size());
    for (std::size_t i = 0; i < part.indexes.size(); ++i) {
      EXPECT_EQ(part.partition_core[i],
                whole.partition[static_cast<std::size_t>(part.indexes[i])] == static_cast<int>(p) ? 1 : 0);
    }
    // Pattern row i is the whole output's row of the same frame.
    const std::vector<double> part_patterns =
        h5::read_all<double>(h5::open_dataset(part_file.get(), "/entry_1/data_1/data", path).get());
    ASSERT_EQ(part_patterns.size(), part.indexes.size() * frame_pixels);
    std::size_t different = 0;
    for (std::size_t i = 0; i < part.indexes.size(); ++i) {
      const auto row = static_cast<std::size_t>(row_of[static_cast<std::size_t>(part.indexes[i])]);
      different += !std::equal(part_patterns.begin() + static_cast<std::ptrdiff_t>(i * frame_pixels),
                               part_patterns.begin() + static_cast<std::ptrdiff_t>((i + 1) * frame_pixels),
                               patterns.begin() + static_cast<std::ptrdiff_t>(row * frame_pixels));
    }
    EXPECT_EQ(different, 0u);
  }
}

// How many pixels of a PNG have exactly the colour c (8-bit channels).
std::size_t pixels_of_colour(const std::string& path, Rgb c) {
  cairo_surface_t* image = cairo_image_surface_create_from_png(path.c_str());
  EXPECT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS) << path;
  const Rgb8 want = to_rgb8(c);
  const unsigned char* data = cairo_image_surface_get_data(image);
  const int stride = cairo_image_surface_get_stride(image);
  std::size_t count = 0;
  for (int row = 0; data != nullptr && row < cairo_image_surface_get_height(image); ++row) {
    for (int col = 0; col < cairo_image_surface_get_width(image); ++col) {
      std::uint32_t pixel = 0;
      std::memcpy(&pixel, data + row * stride + col * 4, 4);
      count += ((pixel >> 16) & 0xff) == want.r && ((pixel >> 8) & 0xff) == want.g && (pixel & 0xff) == want.b;
    }
  }
  cairo_surface_destroy(image);
  return count;
}

TEST_P(PlanRun, PreviewsShowThePlanAndThePartitions) {
  const std::filesystem::path dir = std::filesystem::path(data_dir()) / (GetParam() + "_preview");
  for (const std::string image : {"plan.png", "partitions.png", "roi.png"}) {
    ASSERT_TRUE(std::filesystem::exists(dir / image)) << dir / image;
  }
  // Every partition shows in its colour (a cell of ~150 frames is thousands of pixels); the plan's
  // start and end markers show.
  for (int part = 0; part < 8; ++part) {
    EXPECT_GT(pixels_of_colour((dir / "partitions.png").string(), partition_colour(part, 8)), 1000u) << "part " << part;
  }
  EXPECT_GT(pixels_of_colour((dir / "plan.png").string(), okabe_ito_bluish_green()), 20u);
  EXPECT_GT(pixels_of_colour((dir / "plan.png").string(), okabe_ito_vermillion()), 20u);
}

INSTANTIATE_TEST_SUITE_P(Scans, PlanRun, ::testing::Values("plan_raster", "plan_fly", "plan_spiral"));

}  // namespace
}  // namespace ptyroi
