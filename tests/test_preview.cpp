#include "ptyroi/app/preview.hpp"

#include <cairo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "ptyroi/app/colormap.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/scan_map.hpp"

namespace ptyroi {
namespace {

namespace fs = std::filesystem;

constexpr double kPi = 3.14159265358979323846;

// cairo and fontconfig keep font caches for the life of the process: emptied once every test has
// run, LeakSanitizer's report at exit is left with real leaks only.
class PreviewCaches : public ::testing::Environment {
 public:
  void TearDown() override { release_preview_caches(); }
};
[[maybe_unused]] ::testing::Environment* const kPreviewCaches = ::testing::AddGlobalTestEnvironment(new PreviewCaches);

// A PNG read back with cairo, as a viewer would see it.
class Png {
 public:
  explicit Png(const std::string& path) : surface_(cairo_image_surface_create_from_png(path.c_str())) {}
  ~Png() { cairo_surface_destroy(surface_); }
  Png(const Png&) = delete;
  Png& operator=(const Png&) = delete;

  [[nodiscard]] bool ok() const { return cairo_surface_status(surface_) == CAIRO_STATUS_SUCCESS; }
  [[nodiscard]] int width() const { return cairo_image_surface_get_width(surface_); }
  [[nodiscard]] int height() const { return cairo_image_surface_get_height(surface_); }

  // The pixel's colour (the images are opaque: no alpha to undo).
  [[nodiscard]] Rgb8 at(int x, int y) const {
    std::uint32_t pixel = 0;
    const unsigned char* data = cairo_image_surface_get_data(surface_);
    const std::ptrdiff_t offset =
        static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(surface_) + static_cast<std::ptrdiff_t>(x) * 4;
    std::memcpy(&pixel, data + offset, sizeof pixel);
    return {static_cast<std::uint8_t>(pixel >> 16), static_cast<std::uint8_t>(pixel >> 8),
            static_cast<std::uint8_t>(pixel)};
  }
  [[nodiscard]] Rgb8 at(const std::array<double, 2>& point) const {
    return at(static_cast<int>(std::floor(point[0])), static_cast<int>(std::floor(point[1])));
  }

 private:
  cairo_surface_t* surface_;
};

int distance(Rgb8 a, Rgb8 b) { return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)}); }

bool is_grey(Rgb8 c) { return distance(c, Rgb8{c.r, c.r, c.r}) <= 2; }

// A temporary directory, removed with its content.
class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("ptyroi_preview_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// A 24 × 32 raster, 100 nm steps: a disc of low T (radius 5 cells around row 12, column 16) and a
// ring of high c (radius 7..9 cells) whose CoM points outwards; the clusters are exactly those.
PreviewInput synthetic_raster() {
  PreviewInput input;
  input.title = "synthetic_disc_and_ring.h5";
  input.grid = {24, 32};
  const std::size_t frames = std::size_t{24} * 32;
  for (std::size_t k = 0; k < frames; ++k) {
    const std::size_t row_index = k / 32;
    const auto row = static_cast<double>(row_index);
    const auto col = static_cast<double>(k % 32);
    input.x.push_back(col * 100e-9);
    input.y.push_back(row * 100e-9);
    input.cell_of_frame.push_back(static_cast<std::int64_t>(k));
    const double r = std::hypot(row - 12.0, col - 16.0);
    const double angle = std::atan2(row - 12.0, col - 16.0);
    const bool disc = r <= 5.0;
    const bool ring = r >= 7.0 && r <= 9.0;
    input.transmission.push_back((disc ? 4.0e5 : 1.0e6) + 1.0e3 * std::sin(0.7 * static_cast<double>(k)));
    const double c = ring ? 3.0 : 0.2 + 0.05 * std::cos(0.3 * static_cast<double>(k));
    input.com_magnitude.push_back(c);
    input.com_x.push_back(c * std::cos(angle));
    input.com_y.push_back(c * std::sin(angle));
    input.absorption_roi.push_back(disc ? 1 : 0);
    input.scattering_roi.push_back(ring ? 1 : 0);
    input.roi.push_back(disc || ring ? 1 : 0);
  }
  input.border_steps = 2;
  for (int border : {-2, 0, 2, 4}) {
    input.roi_at_borders.emplace_back(border, grow_or_shrink(input.roi, input.grid, border));
  }
  input.roi = input.roi_at_borders[2].second;
  return input;
}

// 400 positions on a Fermat spiral (radius 2 µm), no grid: the RoI is the inner disc.
PreviewInput synthetic_spiral() {
  PreviewInput input;
  input.title = "spiral.cxi";
  const std::size_t frames = 400;
  for (std::size_t k = 0; k < frames; ++k) {
    const double r = 2e-6 * std::sqrt((static_cast<double>(k) + 0.5) / static_cast<double>(frames));
    const double theta = static_cast<double>(k) * 2.399963229728653;  // the golden angle
    input.x.push_back(5e-6 + r * std::cos(theta));
    input.y.push_back(-3e-6 + r * std::sin(theta));
    const bool inside = r < 1e-6;
    input.transmission.push_back(inside ? 2.0e5 : 9.0e5);
    const double c = inside ? 0.4 : 0.1;
    input.com_magnitude.push_back(c);
    input.com_x.push_back(c * std::cos(theta));
    input.com_y.push_back(c * std::sin(theta));
    input.absorption_roi.push_back(inside ? 1 : 0);
    input.scattering_roi.push_back(0);
    input.roi.push_back(inside ? 1 : 0);
  }
  std::vector<std::uint8_t> wider(frames);
  for (std::size_t k = 0; k < frames; ++k) {
    wider[k] = std::hypot(input.x[k] - 5e-6, input.y[k] + 3e-6) < 1.4e-6 ? 1 : 0;
  }
  input.roi_at_borders = {{0, input.roi}, {2, wider}};
  return input;
}

const char* const kFiles[] = {"absorption.png",         "scattering.png", "com_field.png",  "absorption_cluster.png",
                              "scattering_cluster.png", "roi.png",        "roi_borders.png"};

// The checks every preview set must pass: seven readable PNGs of the layout's size, a title.
void expect_readable_previews(const PreviewInput& input, const std::vector<std::string>& paths,
                              const fs::path& directory) {
  const PreviewLayout layout = preview_layout(input);
  ASSERT_EQ(paths.size(), 7u);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(paths[i], (directory / kFiles[i]).string());
    const Png png(paths[i]);
    ASSERT_TRUE(png.ok()) << paths[i];
    EXPECT_EQ(png.width(), layout.width) << paths[i];
    EXPECT_EQ(png.height(), layout.height) << paths[i];
    EXPECT_GE(png.width(), 600) << paths[i];
    EXPECT_LE(png.width(), 1600) << paths[i];
    // The title band holds text: dark pixels above the map.
    int dark = 0;
    for (int y = 0; y < static_cast<int>(layout.map_y) - 8; ++y) {
      for (int x = 0; x < png.width(); ++x) {
        const Rgb8 c = png.at(x, y);
        if (c.r + c.g + c.b < 3 * 128) ++dark;
      }
    }
    EXPECT_GT(dark, 300) << paths[i];
  }
}

// A column right of the map (the colour bar) that holds both end colours of viridis.
bool has_viridis_bar(const Png& png, const PreviewLayout& layout) {
  const Rgb8 low = to_rgb8(viridis(0.0));
  const Rgb8 high = to_rgb8(viridis(1.0));
  for (int x = static_cast<int>(layout.map_x + layout.map_width) + 1; x < png.width(); ++x) {
    bool has_low = false;
    bool has_high = false;
    for (int y = 0; y < png.height(); ++y) {
      has_low = has_low || distance(png.at(x, y), low) <= 6;
      has_high = has_high || distance(png.at(x, y), high) <= 6;
    }
    if (has_low && has_high) return true;
  }
  return false;
}

TEST(Colormap, ViridisEndsAndWheelPrimaries) {
  const Rgb8 low = to_rgb8(viridis(0.0));
  const Rgb8 high = to_rgb8(viridis(1.0));
  // viridis' first and last table entries: #440154 and #fde725.
  EXPECT_EQ(distance(low, Rgb8{0x44, 0x01, 0x54}), 0);
  EXPECT_EQ(distance(high, Rgb8{0xfd, 0xe7, 0x25}), 0);
  EXPECT_EQ(distance(to_rgb8(viridis(-3.0)), low), 0);
  EXPECT_EQ(distance(to_rgb8(viridis(std::nan(""))), low), 0);
  EXPECT_EQ(distance(to_rgb8(viridis(7.0)), high), 0);
  // Mid-table: entry 128 of 256 is #21918c, and t = 0.5 lies between entries 127 and 128.
  EXPECT_LE(distance(to_rgb8(viridis(128.0 / 255.0)), Rgb8{0x21, 0x91, 0x8c}), 1);
  EXPECT_EQ(distance(to_rgb8(colour_wheel(0.0, 1.0)), Rgb8{255, 0, 0}), 0);
  EXPECT_EQ(distance(to_rgb8(colour_wheel(2.0 * kPi / 3.0, 1.0)), Rgb8{0, 255, 0}), 0);
  EXPECT_EQ(distance(to_rgb8(colour_wheel(-2.0 * kPi / 3.0, 1.0)), Rgb8{0, 0, 255}), 0);
  EXPECT_EQ(distance(to_rgb8(colour_wheel(1.0, 0.0)), Rgb8{0, 0, 0}), 0);
  EXPECT_EQ(distance(to_rgb8(colour_wheel(0.0, 0.5)), Rgb8{128, 0, 0}), 0);
}

TEST(Preview, RasterScanImages) {
  const TempDir dir;
  const PreviewInput input = synthetic_raster();
  const fs::path out = dir.path() / "previews";  // created by write_previews
  const std::vector<std::string> paths = write_previews(input, out.string());
  expect_readable_previews(input, paths, out);
  const PreviewLayout layout = preview_layout(input);

  // Square cells: neighbouring frames are as far apart across as down.
  const auto dx = layout.frame_centre[1][0] - layout.frame_centre[0][0];
  const auto dy = layout.frame_centre[32][1] - layout.frame_centre[0][1];
  EXPECT_DOUBLE_EQ(dx, dy);
  EXPECT_GE(dx, 10.0);

  // roi.png: the disc's centre (row 12, column 16) is in the RoI colour (vermillion over grey),
  // the corner cell (row 1, column 1) is plain grey.
  const Png roi(out / "roi.png");
  const Rgb8 in = roi.at(layout.frame_centre[12 * 32 + 16]);
  EXPECT_GT(in.r - in.b, 50) << int(in.r) << "," << int(in.g) << "," << int(in.b);
  EXPECT_GT(in.r, in.g);
  const Rgb8 out_of_roi = roi.at(layout.frame_centre[1 * 32 + 1]);
  EXPECT_TRUE(is_grey(out_of_roi)) << int(out_of_roi.r) << "," << int(out_of_roi.g) << "," << int(out_of_roi.b);

  // The cluster images: the disc in the absorbing colour, the ring in the scattering colour.
  const Png absorption_cluster(out / "absorption_cluster.png");
  EXPECT_LE(distance(absorption_cluster.at(layout.frame_centre[12 * 32 + 16]), to_rgb8(okabe_ito_blue())), 2);
  EXPECT_TRUE(is_grey(absorption_cluster.at(layout.frame_centre[1 * 32 + 1])));
  const Png scattering_cluster(out / "scattering_cluster.png");
  EXPECT_LE(distance(scattering_cluster.at(layout.frame_centre[12 * 32 + 24]), to_rgb8(okabe_ito_bluish_green())), 2);

  // The scalar maps: a viridis colour bar with both ends, and the low-T disc in viridis' low end.
  const Png absorption(out / "absorption.png");
  EXPECT_TRUE(has_viridis_bar(absorption, layout));
  EXPECT_LE(distance(absorption.at(layout.frame_centre[12 * 32 + 16]), to_rgb8(viridis(0.0))), 12);
  EXPECT_LE(distance(absorption.at(layout.frame_centre[1 * 32 + 1]), to_rgb8(viridis(1.0))), 12);
  EXPECT_TRUE(has_viridis_bar(Png(out / "scattering.png"), layout));

  // The CoM field: the ring's right side points along +sx (red), its bottom along +sy.
  const Png field(out / "com_field.png");
  EXPECT_LE(distance(field.at(layout.frame_centre[12 * 32 + 24]), Rgb8{255, 0, 0}), 40);
  const Rgb8 down = field.at(layout.frame_centre[20 * 32 + 16]);
  EXPECT_LE(distance(down, to_rgb8(colour_wheel(kPi / 2.0, 1.0))), 40);

  // roi_borders.png: border 4's outline is drawn where border 2's is not (and is not grey).
  const Png borders(out / "roi_borders.png");
  const std::array<double, 2> edge = {layout.frame_centre[12 * 32 + 29][0] + dx / 2.0,
                                      layout.frame_centre[12 * 32 + 29][1]};  // right edge of column 29
  EXPECT_FALSE(is_grey(borders.at(edge)));
}

TEST(Preview, IrregularScanImages) {
  const TempDir dir;
  const PreviewInput input = synthetic_spiral();
  const std::vector<std::string> paths = write_previews(input, dir.path().string());
  expect_readable_previews(input, paths, dir.path());
  const PreviewLayout layout = preview_layout(input);
  // True aspect ratio: a round scan gives a square map.
  EXPECT_NEAR(layout.map_width, layout.map_height, 2.0);
  const Png roi(dir.path() / "roi.png");
  const Rgb8 in = roi.at(layout.frame_centre[0]);  // the spiral's first point is at its centre
  EXPECT_GT(in.r - in.b, 50);
  const Rgb8 out_of_roi = roi.at(layout.frame_centre[399]);
  EXPECT_TRUE(is_grey(out_of_roi)) << int(out_of_roi.r) << "," << int(out_of_roi.g) << "," << int(out_of_roi.b);
  EXPECT_TRUE(has_viridis_bar(Png(dir.path() / "absorption.png"), layout));

  // The RoI's outline runs midway between a RoI frame and the nearest frame outside it (where the
  // two frames' Voronoi cells meet, as a raster's cell edge): the closest such pair's midpoint is
  // on it, so within a pixel of it the outline's colour shows.
  std::size_t a = 0;
  std::size_t b = 0;
  double closest = 1e300;
  for (std::size_t i = 0; i < input.roi.size(); ++i) {
    for (std::size_t j = 0; j < input.roi.size(); ++j) {
      const double d = std::hypot(input.x[i] - input.x[j], input.y[i] - input.y[j]);
      if (input.roi[i] != 0 && input.roi[j] == 0 && d < closest) {
        closest = d;
        a = i;
        b = j;
      }
    }
  }
  const double mid_x = (layout.frame_centre[a][0] + layout.frame_centre[b][0]) / 2.0;
  const double mid_y = (layout.frame_centre[a][1] + layout.frame_centre[b][1]) / 2.0;
  int nearest_to_outline = 255;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const Rgb8 c = roi.at(static_cast<int>(mid_x) + dx, static_cast<int>(mid_y) + dy);
      nearest_to_outline = std::min(nearest_to_outline, distance(c, to_rgb8(okabe_ito_vermillion())));
    }
  }
  EXPECT_LE(nearest_to_outline, 40);
}

PreviewInput raster_of(std::int64_t rows, std::int64_t cols) {
  PreviewInput input;
  input.title = "shape";
  input.grid = {rows, cols};
  const auto frames = static_cast<std::size_t>(rows * cols);
  for (std::size_t k = 0; k < frames; ++k) {
    input.x.push_back(static_cast<double>(k % cols) * 1e-7);
    const std::size_t row = k / cols;
    input.y.push_back(static_cast<double>(row) * 1e-7);
    input.cell_of_frame.push_back(static_cast<std::int64_t>(k));
    input.transmission.push_back(1.0e6 + static_cast<double>(k % 7));
    input.com_magnitude.push_back(0.5);
    input.com_x.push_back(0.3);
    input.com_y.push_back(0.4);
    input.absorption_roi.push_back(k % 3 == 0);
    input.scattering_roi.push_back(0);
    input.roi.push_back(k % 3 == 0);
  }
  return input;
}

TEST(Preview, ReadableSizeWhateverTheScanShape) {
  for (const auto& [rows, cols] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{3, 5}, {85, 188}, {400, 20}, {1, 2}, {1, 1000}, {2000, 3}}) {
    const PreviewLayout layout = preview_layout(raster_of(rows, cols));
    EXPECT_GE(layout.width, 600) << rows << "x" << cols;
    EXPECT_LE(layout.width, 1600) << rows << "x" << cols;
    EXPECT_LE(layout.height, 1100) << rows << "x" << cols;
    EXPECT_GE(layout.map_width, 32.0) << rows << "x" << cols;
    EXPECT_GE(layout.map_height, 32.0) << rows << "x" << cols;
  }
  // Square cells for the usual shapes, as large as the image allows.
  const PreviewLayout small = preview_layout(raster_of(3, 5));
  EXPECT_DOUBLE_EQ(small.map_width / 5.0, small.map_height / 3.0);
  EXPECT_GE(small.map_width / 5.0, 60.0);
  const PreviewLayout paper = preview_layout(raster_of(85, 188));
  EXPECT_DOUBLE_EQ(paper.map_width / 188.0, paper.map_height / 85.0);
  EXPECT_GE(paper.map_width, 900.0);
  const PreviewLayout tall = preview_layout(raster_of(400, 20));
  EXPECT_DOUBLE_EQ(tall.map_width / 20.0, tall.map_height / 400.0);
}

TEST(Preview, DegenerateInputsDoNotFail) {
  const TempDir dir;
  int index = 0;
  const auto write = [&](const PreviewInput& input) {
    const fs::path out = dir.path() / std::to_string(index++);
    const auto paths = write_previews(input, out.string());
    for (const std::string& path : paths) EXPECT_TRUE(Png(path).ok()) << path;
  };
  // Constant maps, no scattering at all, an empty RoI.
  PreviewInput constant = raster_of(6, 7);
  for (auto& t : constant.transmission) t = 5.0;
  for (auto& c : constant.com_magnitude) c = 0.0;
  for (auto& s : constant.com_x) s = 0.0;
  for (auto& s : constant.com_y) s = 0.0;
  for (auto& m : constant.roi) m = 0;
  for (auto& m : constant.absorption_roi) m = 0;
  write(constant);
  // Every frame in the RoI (one cluster), zero transmission somewhere, frames without a CoM.
  PreviewInput all = raster_of(5, 4);
  for (auto& m : all.roi) m = 1;
  for (auto& m : all.absorption_roi) m = 1;
  all.transmission[3] = 0.0;
  all.com_x[5] = std::nan("");
  all.com_y[5] = std::nan("");
  all.com_magnitude[6] = std::nan("");
  all.roi_at_borders = {{-1, std::vector<std::uint8_t>(20, 0)}, {0, all.roi}};
  write(all);
  // One frame, raster and irregular; two frames at the same position; all transmission zero.
  write(raster_of(1, 1));
  PreviewInput one = raster_of(1, 1);
  one.grid = {0, 0};
  one.cell_of_frame.clear();
  write(one);
  PreviewInput twins = raster_of(1, 2);
  twins.grid = {0, 0};
  twins.cell_of_frame.clear();
  twins.x = {1e-6, 1e-6};
  twins.y = {2e-6, 2e-6};
  for (auto& t : twins.transmission) t = 0.0;
  write(twins);
  // A long title is cut, not overflowing.
  PreviewInput long_title = raster_of(4, 4);
  long_title.title = "/data/beamline/very/long/path/" + std::string(300, 'x') + "/scan_000123.h5";
  write(long_title);
  // A file name that is not UTF-8 (Latin-1 bytes, a stray continuation byte, a control character).
  PreviewInput latin1 = raster_of(4, 4);
  latin1.title = "messung_\xe4\xf6_\x80\tscan_\xc3\xa9.h5";
  write(latin1);
}

TEST(Preview, DrawsAgainAfterItsCachesAreReleased) {
  const TempDir dir;
  write_previews(raster_of(3, 5), (dir.path() / "before").string());
  release_preview_caches();
  const auto paths = write_previews(raster_of(3, 5), (dir.path() / "after").string());
  const Png roi(paths[5]);
  ASSERT_TRUE(roi.ok());
  int dark = 0;  // the title was drawn with a font again
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < roi.width(); ++x) dark += roi.at(x, y).r < 128 ? 1 : 0;
  }
  EXPECT_GT(dark, 300);
}

TEST(Preview, UnwritableDestinationNamesThePath) {
  const TempDir dir;
  const fs::path file = dir.path() / "a_regular_file";
  std::ofstream(file) << "not a directory";
  const std::string destination = (file / "previews").string();
  try {
    write_previews(raster_of(3, 5), destination);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(destination), std::string::npos) << error.what();
  }
  // A directory where an image should go: the image's path is named.
  const fs::path out = dir.path() / "blocked";
  fs::create_directories(out / "roi.png");
  try {
    write_previews(raster_of(3, 5), out.string());
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find((out / "roi.png").string()), std::string::npos) << error.what();
  }
}

TEST(Preview, OnePositionFarOffCostsNoMoreThanTheFrames) {
  // An encoder glitch: one position 1 cm, or 10^6 m, away from a 2 µm spiral. The drawing's work
  // (the outline's buckets, the nearest neighbours) is bounded by the frame count and the image
  // size, not by the extent: before, 1 cm took 9 GB and 90 s, 10^6 m failed to allocate.
  for (const double offset : {1e-2, 1e6}) {
    const TempDir dir;
    PreviewInput input = synthetic_spiral();
    input.x[17] += offset;
    const auto start = std::chrono::steady_clock::now();
    const auto paths = write_previews(input, (dir.path() / "far").string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(paths.size(), 7u);
    EXPECT_LT(seconds, 15.0) << "offset " << offset << " m";
    const PreviewLayout layout = preview_layout(input);
    EXPECT_LE(layout.width, 1600);
    EXPECT_LE(layout.height, 1200);
  }
}

TEST(Preview, InconsistentInputIsAnInputError) {
  PreviewInput input = raster_of(3, 5);
  input.roi.pop_back();
  EXPECT_THROW(preview_layout(input), InputError);
  PreviewInput outside = raster_of(3, 5);
  outside.cell_of_frame[2] = 15;
  EXPECT_THROW(preview_layout(outside), InputError);
  PreviewInput empty;
  EXPECT_THROW(write_previews(empty, "/nonexistent-never-created"), InputError);
}

}  // namespace
}  // namespace ptyroi
