// The files ptyroi-simulate writes in every layout, read back (tests/test_simulate_layouts.sh
// writes them, on 1, 2 and 3 ranks, and points PTYROI_SIM_LAYOUTS_DIR at the 1-rank set).
//  - The ground truth is exact: from /truth/object, /truth/probe and the stored positions, the
//    simulator's own far field and noise streams give back every stored frame bit for bit, and
//    /truth/informative.
//  - One scan written as plain, nexus, cxi and ptychoshelves holds the same pixels, masks,
//    positions and truth in each.
//  - Each layout has the structure its real-world writers give it (NXmx master with relative
//    external links, CXI soft links, fold_slice's /dp and para file).
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ptyroi/io/h5.hpp"
#include "ptyroi/simulate/simulation.hpp"

namespace h5 = ptyroi::h5;
namespace sim = ptyroi::simulation;

namespace {

std::string directory() {
  const char* value = std::getenv("PTYROI_SIM_LAYOUTS_DIR");
  return value != nullptr ? value : "";
}

std::string path(const std::string& name) { return directory() + "/" + name; }

std::vector<double> read_doubles(hid_t file, const std::string& dataset_path) {
  h5::Handle dataset = h5::open_dataset(file, dataset_path, "test file");
  return h5::read_all<double>(dataset.get());
}

std::vector<hsize_t> dims(hid_t file, const std::string& dataset_path) {
  h5::Handle dataset = h5::open_dataset(file, dataset_path, "test file");
  return h5::dataset_dims(dataset.get());
}

double attribute(hid_t file, const std::string& object, const std::string& name) {
  h5::Handle attr = h5::checked(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                                "no attribute " + name + " on " + object);
  double value = 0.0;
  h5::check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value), "cannot read attribute " + name);
  return value;
}

std::string string_attribute(hid_t file, const std::string& object, const std::string& name) {
  h5::Handle attr = h5::checked(H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                                "no attribute " + name + " on " + object);
  h5::Handle type = h5::checked(H5Aget_type(attr.get()), "cannot read a type");
  std::string value(H5Tget_size(type.get()), '\0');
  h5::check(H5Aread(attr.get(), type.get(), value.data()), "cannot read attribute " + name);
  return value.substr(0, value.find('\0'));
}

std::string string_dataset(hid_t file, const std::string& dataset_path) {
  h5::Handle dataset = h5::open_dataset(file, dataset_path, "test file");
  h5::Handle type = h5::checked(H5Dget_type(dataset.get()), "cannot read a type");
  std::string value(H5Tget_size(type.get()), '\0');
  h5::check(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()), "cannot read text");
  return value.substr(0, value.find('\0'));
}

// The NXmx master's data blocks, in order.
std::vector<std::string> nexus_blocks(hid_t file) {
  std::vector<std::string> blocks;
  for (int i = 1;; ++i) {
    std::string number = std::to_string(i);
    number.insert(0, 6 - number.size(), '0');
    const std::string link = "/entry/data/data_" + number;
    if (H5Lexists(file, link.c_str(), H5P_DEFAULT) <= 0) break;
    blocks.push_back(link);
  }
  return blocks;
}

// A scan as one layout stores it, in common units: frames as doubles, positions in metres.
struct Stored {
  std::vector<double> frames;  // [K, N, N]
  std::size_t count = 0;
  int frame_size = 0;
  std::vector<double> x;  // metres
  std::vector<double> y;
  std::vector<double> informative;
  std::vector<double> mask;  // [N, N], empty when the layout has none
  std::uint64_t seed = 0;
  double pixel_size = 0.0;  // root attribute pixel_size_m
};

std::vector<std::vector<double>> read_csv(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "frame,x_um,y_um") << file;
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
    rows.push_back(row);
  }
  return rows;
}

Stored read_stored(const std::string& name, const std::string& layout) {
  Stored stored;
  h5::Handle file = h5::open_file_read_serial(path(name));
  const hid_t f = file.get();
  if (layout == "nexus") {
    for (const std::string& block : nexus_blocks(f)) {
      const std::vector<double> values = read_doubles(f, block);
      stored.frames.insert(stored.frames.end(), values.begin(), values.end());
      stored.frame_size = static_cast<int>(dims(f, block)[1]);
    }
    const std::string prefix = name.substr(0, name.size() - std::string("_master.h5").size());
    for (const std::vector<double>& row : read_csv(path(prefix + "_positions.csv"))) {
      stored.x.push_back(row.at(1) * 1e-6);
      stored.y.push_back(row.at(2) * 1e-6);
    }
    stored.mask = read_doubles(f, "/entry/instrument/detector/detectorSpecific/pixel_mask");
  } else if (layout == "cxi") {
    stored.frames = read_doubles(f, "/entry_1/data_1/data");
    stored.frame_size = static_cast<int>(dims(f, "/entry_1/data_1/data")[1]);
    const std::vector<double> xyz = read_doubles(f, "/entry_1/sample_1/geometry_1/translation");
    for (std::size_t k = 0; k < xyz.size(); k += 3) {
      stored.x.push_back(xyz[k]);
      stored.y.push_back(xyz[k + 1]);
    }
    stored.mask = read_doubles(f, "/entry_1/instrument_1/detector_1/mask");
  } else if (layout == "ptychoshelves") {
    stored.frames = read_doubles(f, "/dp");
    stored.frame_size = static_cast<int>(dims(f, "/dp")[1]);
    const std::string para = name.substr(0, name.size() - std::string("_dp.hdf5").size()) + "_para.hdf5";
    h5::Handle para_file = h5::open_file_read_serial(path(para));
    stored.x = read_doubles(para_file.get(), "/ppX");
    stored.y = read_doubles(para_file.get(), "/ppY");
  } else {
    stored.frames = read_doubles(f, "/data");
    stored.frame_size = static_cast<int>(dims(f, "/data")[1]);
    stored.x = read_doubles(f, "/positions_x");
    stored.y = read_doubles(f, "/positions_y");
    if (h5::is_dataset(f, "/pixel_mask")) stored.mask = read_doubles(f, "/pixel_mask");
  }
  stored.count = stored.frames.size() / (static_cast<std::size_t>(stored.frame_size) * stored.frame_size);
  stored.informative = read_doubles(f, "/truth/informative");
  stored.seed = static_cast<std::uint64_t>(attribute(f, "/", "seed"));
  stored.pixel_size = attribute(f, "/", "pixel_size_m");
  return stored;
}

sim::ComplexGrid read_complex(hid_t file, const std::string& dataset_path) {
  const std::vector<hsize_t> shape = dims(file, dataset_path);
  EXPECT_EQ(shape.size(), 3u);
  EXPECT_EQ(shape[2], 2u);
  const std::vector<double> values = read_doubles(file, dataset_path);
  sim::ComplexGrid grid(static_cast<int>(shape[0]), static_cast<int>(shape[1]));
  for (std::size_t i = 0; i < grid.values.size(); ++i) grid.values[i] = {values[2 * i], values[2 * i + 1]};
  return grid;
}

// Every frame again from the stored ground truth: window at position / pixel_size_m, the
// simulator's far field of (probe, object window), its noise stream for (seed, frame), clipped
// to `largest`; the mask's pixels read `flag` (gap) or the hot value.
void expect_truth_reproduces_frames(const std::string& name, const std::string& layout, std::uint64_t largest) {
  SCOPED_TRACE(name);
  const Stored stored = read_stored(name, layout);
  h5::Handle file = h5::open_file_read_serial(path(name));
  const sim::ComplexGrid object = read_complex(file.get(), "/truth/object");
  sim::ComplexGrid probe = read_complex(file.get(), "/truth/probe");
  const double pixel_size = attribute(file.get(), "/truth", "pixel_size_m");
  EXPECT_EQ(pixel_size, stored.pixel_size);
  const int n = stored.frame_size;
  ASSERT_EQ(probe.rows, n);
  ASSERT_EQ(probe.cols, n);
  ASSERT_GT(stored.count, 0u);
  ASSERT_EQ(stored.x.size(), stored.count);
  ASSERT_EQ(stored.informative.size(), stored.count);
  sim::FarField far_field(std::move(probe));
  const std::size_t pixels = static_cast<std::size_t>(n) * n;
  std::size_t informative = 0;
  for (std::size_t k = 0; k < stored.count; ++k) {
    const double left = stored.x[k] / pixel_size;
    const double top = stored.y[k] / pixel_size;
    const int x = static_cast<int>(std::lround(left));
    const int y = static_cast<int>(std::lround(top));
    ASSERT_NEAR(left, x, 1e-6) << "frame " << k << ": not a whole object pixel";
    ASSERT_NEAR(top, y, 1e-6) << "frame " << k;
    // The object holds every window.
    ASSERT_GE(x, 0);
    ASSERT_GE(y, 0);
    ASSERT_LE(x + n, object.cols);
    ASSERT_LE(y + n, object.rows);
    const sim::Grid<std::uint64_t> counts =
        sim::noisy_pattern(far_field.expected_pattern(object, y, x), stored.seed, k);
    const bool seen = sim::is_informative(far_field.probe(), object, y, x);
    EXPECT_EQ(stored.informative[k], seen ? 1.0 : 0.0) << "frame " << k;
    informative += seen ? 1 : 0;
    std::size_t wrong = 0;
    for (std::size_t p = 0; p < pixels; ++p) {
      const double value = stored.frames[k * pixels + p];
      double expected = static_cast<double>(std::min(counts.values[p], largest));
      if (!stored.mask.empty() && stored.mask[p] == 1.0) expected = static_cast<double>(largest);
      if (!stored.mask.empty() && stored.mask[p] == 8.0) expected = static_cast<double>(sim::hot_pixel_counts(largest));
      wrong += value == expected ? 0 : 1;
    }
    EXPECT_EQ(wrong, 0u) << "frame " << k << " differs from its ground truth in " << wrong << " pixels";
  }
  // A scan with background and sample, not a degenerate one.
  EXPECT_GT(informative, 0u);
  EXPECT_LT(informative, stored.count);
}

}  // namespace

class SimulatedLayouts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (directory().empty()) GTEST_SKIP() << "set PTYROI_SIM_LAYOUTS_DIR (tests/test_simulate_layouts.sh does)";
  }
};

TEST_F(SimulatedLayouts, GroundTruthReproducesEveryFrameExactly) {
  constexpr std::uint64_t kUint32 = 0xffffffffULL;
  expect_truth_reproduces_frames("plain.h5", "plain", kUint32);
  expect_truth_reproduces_frames("scan_master.h5", "nexus", kUint32);
  expect_truth_reproduces_frames("scan_dp.hdf5", "ptychoshelves", kUint32);
  expect_truth_reproduces_frames("fly.h5", "plain", kUint32);
  expect_truth_reproduces_frames("spiral_master.h5", "nexus", kUint32);
  expect_truth_reproduces_frames("shepp16.h5", "plain", 0xffffULL);
}

TEST_F(SimulatedLayouts, OneScanHasTheSamePixelsInEveryLayout) {
  const Stored plain = read_stored("plain.h5", "plain");
  const Stored nexus = read_stored("scan_master.h5", "nexus");
  const Stored cxi = read_stored("cxi.h5", "cxi");
  const Stored clean = read_stored("plain_clean.h5", "plain");
  const Stored shelves = read_stored("scan_dp.hdf5", "ptychoshelves");
  ASSERT_EQ(plain.count, 54u);
  // Bit-identical pixels, masks and truth; the same positions.
  EXPECT_EQ(nexus.frames, plain.frames);
  EXPECT_EQ(cxi.frames, plain.frames);
  EXPECT_EQ(nexus.mask, plain.mask);
  EXPECT_EQ(nexus.informative, plain.informative);
  EXPECT_EQ(cxi.informative, plain.informative);
  EXPECT_EQ(cxi.x, plain.x);
  EXPECT_EQ(cxi.y, plain.y);
  ASSERT_EQ(nexus.x.size(), plain.x.size());
  for (std::size_t k = 0; k < plain.x.size(); ++k) {
    EXPECT_NEAR(nexus.x[k], plain.x[k], 1e-12 * plain.pixel_size * 1e4);
    EXPECT_NEAR(nexus.y[k], plain.y[k], 1e-12 * plain.pixel_size * 1e4);
  }
  // The gap (2 rows at 40% of 32: rows 13, 14) and 4 hot pixels, in each mask's own bits.
  ASSERT_EQ(plain.mask.size(), 32u * 32u);
  int gap = 0;
  int hot = 0;
  for (std::size_t p = 0; p < plain.mask.size(); ++p) {
    const int row = static_cast<int>(p / 32);
    EXPECT_EQ(plain.mask[p] == 1.0, row == 13 || row == 14) << "pixel " << p;
    gap += plain.mask[p] == 1.0 ? 1 : 0;
    hot += plain.mask[p] == 8.0 ? 1 : 0;
    const double cxi_bits = plain.mask[p] == 1.0 ? 1.0 : plain.mask[p] == 8.0 ? 4.0 : 0.0;
    EXPECT_EQ(cxi.mask[p], cxi_bits) << "pixel " << p;
  }
  EXPECT_EQ(gap, 64);
  EXPECT_EQ(hot, 4);
  // The same scan without artefacts: float32 in fold_slice's layout, same values and positions.
  EXPECT_EQ(shelves.frames, clean.frames);
  EXPECT_EQ(shelves.x, clean.x);
  EXPECT_EQ(shelves.y, clean.y);
  EXPECT_EQ(shelves.informative, clean.informative);
  EXPECT_TRUE(clean.mask.empty());
  // Outside the mask the artefacts change nothing.
  for (std::size_t p = 0; p < plain.frames.size(); ++p) {
    if (plain.mask[p % (32 * 32)] == 0.0) ASSERT_EQ(plain.frames[p], clean.frames[p]) << "value " << p;
  }
}

TEST_F(SimulatedLayouts, NexusMasterIsAnEigerStyleNXmxFile) {
  h5::Handle file = h5::open_file_read_serial(path("scan_master.h5"));
  const hid_t f = file.get();
  EXPECT_EQ(string_dataset(f, "/entry/definition"), "NXmx");
  EXPECT_EQ(string_attribute(f, "/entry", "NX_class"), "NXentry");
  EXPECT_EQ(string_attribute(f, "/entry/instrument/detector", "NX_class"), "NXdetector");
  const std::string detector = "/entry/instrument/detector/";
  EXPECT_EQ(read_doubles(f, detector + "beam_center_x"), std::vector<double>{16.0});
  EXPECT_EQ(read_doubles(f, detector + "beam_center_y"), std::vector<double>{16.0});
  EXPECT_EQ(read_doubles(f, detector + "bit_depth_image"), std::vector<double>{32.0});
  EXPECT_EQ(read_doubles(f, detector + "x_pixel_size"), std::vector<double>{75e-6});
  EXPECT_EQ(read_doubles(f, detector + "y_pixel_size"), std::vector<double>{75e-6});
  EXPECT_EQ(read_doubles(f, "/entry/instrument/beam/incident_wavelength"), std::vector<double>{1.24});
  // λ·z / (N·pixel) is the object pixel: the geometry agrees with the positions.
  const double distance = read_doubles(f, detector + "detector_distance").at(0);
  EXPECT_NEAR(1.24e-10 * distance / (32 * 75e-6), attribute(f, "/", "pixel_size_m"), 1e-20);
  EXPECT_EQ(dims(f, detector + "detectorSpecific/pixel_mask"), (std::vector<hsize_t>{32, 32}));
  {
    h5::Handle type =
        h5::checked(H5Dget_type(h5::open_dataset(f, detector + "detectorSpecific/pixel_mask", "master").get()), "type");
    EXPECT_TRUE(H5Tequal(type.get(), H5T_STD_U32LE) > 0);
  }
  // 54 frames, 20 per file: 20, 20, 14, reached through external links by bare file name.
  const std::vector<std::string> blocks = nexus_blocks(f);
  ASSERT_EQ(blocks.size(), 3u);
  const std::vector<hsize_t> expected_frames{20, 20, 14};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    H5L_info_t link;
    ASSERT_GE(H5Lget_info(f, blocks[i].c_str(), &link, H5P_DEFAULT), 0);
    ASSERT_EQ(link.type, H5L_TYPE_EXTERNAL);
    std::vector<char> value(link.u.val_size);
    const char* target_file = nullptr;
    const char* target_path = nullptr;
    ASSERT_GE(H5Lget_val(f, blocks[i].c_str(), value.data(), value.size(), H5P_DEFAULT), 0);
    ASSERT_GE(H5Lunpack_elink_val(value.data(), value.size(), nullptr, &target_file, &target_path), 0);
    EXPECT_EQ(std::string(target_file), "scan_data_00000" + std::to_string(i + 1) + ".h5");
    EXPECT_EQ(std::string(target_path), "/entry/data/data");
    EXPECT_EQ(dims(f, blocks[i]), (std::vector<hsize_t>{expected_frames[i], 32, 32}));
    // One frame per chunk, bitshuffle-LZ4 (filter 32008) by default, uint32.
    h5::Handle dataset = h5::open_dataset(f, blocks[i], "master");
    h5::Handle create = h5::checked(H5Dget_create_plist(dataset.get()), "plist");
    hsize_t chunk[3] = {0, 0, 0};
    ASSERT_EQ(H5Pget_chunk(create.get(), 3, chunk), 3);
    EXPECT_EQ(chunk[0], 1u);
    EXPECT_EQ(chunk[1], 32u);
    EXPECT_EQ(chunk[2], 32u);
    unsigned flags = 0;
    std::size_t elements = 0;
    EXPECT_GE(H5Pget_filter_by_id2(create.get(), 32008, &flags, &elements, nullptr, 0, nullptr, nullptr), 0);
    h5::Handle type = h5::checked(H5Dget_type(dataset.get()), "type");
    EXPECT_TRUE(H5Tequal(type.get(), H5T_STD_U32LE) > 0);
  }
  H5Eclear2(H5E_DEFAULT);
  EXPECT_EQ(read_csv(path("scan_positions.csv")).size(), 54u);
  // --compression none applies to the data files too.
  h5::Handle spiral = h5::open_file_read_serial(path("spiral_master.h5"));
  h5::Handle dataset = h5::open_dataset(spiral.get(), "/entry/data/data_000001", "spiral master");
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset.get()), "plist");
  EXPECT_EQ(H5Pget_nfilters(create.get()), 0);
}

TEST_F(SimulatedLayouts, CxiKeepsItsDataWithTheDetector) {
  h5::Handle file = h5::open_file_read_serial(path("cxi.h5"));
  const hid_t f = file.get();
  EXPECT_EQ(read_doubles(f, "/cxi_version"), std::vector<double>{150.0});
  for (const auto& [link, target] : std::vector<std::pair<std::string, std::string>>{
           {"/entry_1/data_1/data", "/entry_1/instrument_1/detector_1/data"},
           {"/entry_1/data_1/translation", "/entry_1/sample_1/geometry_1/translation"}}) {
    H5L_info_t info;
    ASSERT_GE(H5Lget_info(f, link.c_str(), &info, H5P_DEFAULT), 0) << link;
    EXPECT_EQ(info.type, H5L_TYPE_SOFT) << link;
    std::vector<char> value(info.u.val_size);
    ASSERT_GE(H5Lget_val(f, link.c_str(), value.data(), value.size(), H5P_DEFAULT), 0);
    EXPECT_EQ(std::string(value.data()), target);
  }
  EXPECT_EQ(dims(f, "/entry_1/instrument_1/detector_1/data"), (std::vector<hsize_t>{54, 32, 32}));
  EXPECT_EQ(dims(f, "/entry_1/sample_1/geometry_1/translation"), (std::vector<hsize_t>{54, 3}));
  const double energy = read_doubles(f, "/entry_1/instrument_1/source_1/energy").at(0);
  EXPECT_NEAR(energy / 1.602176634e-19, 9998.7, 1.0);  // 1.24 Å is about 10 keV
  EXPECT_EQ(read_doubles(f, "/entry_1/instrument_1/detector_1/x_pixel_size"), std::vector<double>{75e-6});
  EXPECT_GT(read_doubles(f, "/entry_1/instrument_1/detector_1/distance").at(0), 0.0);
}

TEST_F(SimulatedLayouts, IrregularScansRecordTheirPositions) {
  h5::Handle fly_file = h5::open_file_read_serial(path("fly.h5"));
  EXPECT_EQ(string_attribute(fly_file.get(), "/", "scan"), "fly");
  const Stored fly = read_stored("fly.h5", "plain");
  // 6 lines of 9 ± 0 points (⌊9/10⌋ = 0): 54 positions, not all on the raster (step 5, jitter ±1).
  EXPECT_EQ(fly.count, 54u);
  std::set<long> phases;  // x modulo the step: one value on a raster
  for (std::size_t k = 0; k < fly.count; ++k) phases.insert(std::lround(fly.x[k] / fly.pixel_size) % 5);
  EXPECT_GT(phases.size(), 1u);
  h5::Handle spiral_file = h5::open_file_read_serial(path("spiral_master.h5"));
  EXPECT_EQ(string_attribute(spiral_file.get(), "/", "scan"), "spiral");
  const Stored spiral = read_stored("spiral_master.h5", "nexus");
  EXPECT_GE(spiral.count, 50u);  // about 1.05 · 6 · 9
  EXPECT_LE(spiral.count, 62u);
  EXPECT_EQ(spiral.informative.size(), spiral.count);
}
