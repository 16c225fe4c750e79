// The files ptyroi-simulate writes in every layout, read back (tests/test_simulate_layouts.sh
// writes them, on 1, 2 and 3 ranks, and points PTYROI_SIM_LAYOUTS_DIR at the 1-rank set).
//  - The ground truth is exact: from /truth/object, /truth/probe and the stored positions, the
//    simulator's own far field and noise streams give back every stored frame bit for bit, and
//    /truth/informative.
//  - One scan written as plain, nexus, cxi and ptychoshelves holds the same pixels, masks,
//    positions and truth in each.
//  - Each layout has the structure its real-world writers give it (NXmx master with relative
//    external links, CXI soft links, fold_slice's /dp and para file).
//  - What real scans add (issue 14): fft-shifted frames are the centred ones permuted; a flux
//    step shows in the monitor and in the counts; [1, K, N, N] stacks, [K, 2|3] positions in
//    other units, int32 and float32 pixels, a full-field sample, a 6:1 fly scan, and the
//    instrument's energy, distance and pixel sizes where each layout keeps them.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
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

bool has_attribute(hid_t file, const std::string& object, const std::string& name) {
  return H5Aexists_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

// The file's HDF5 type equals `type`.
bool has_type(hid_t file, const std::string& dataset_path, hid_t type) {
  h5::Handle dataset = h5::open_dataset(file, dataset_path, "test file");
  h5::Handle stored = h5::checked(H5Dget_type(dataset.get()), "cannot read a type");
  return H5Tequal(stored.get(), type) > 0;
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
  std::vector<double> frames;  // [K, N, N] (or [1, K, N, N])
  std::size_t count = 0;
  int frame_size = 0;
  std::vector<double> x;  // metres
  std::vector<double> y;
  std::vector<double> informative;
  std::vector<double> mask;     // [N, N], empty when the layout has none
  std::vector<double> monitor;  // [K] incident photons, empty when the file has none
  std::uint64_t seed = 0;
  double pixel_size = 0.0;  // root attribute pixel_size_m
  double photons = 0.0;     // root attribute photons
  bool fftshift = false;    // root attribute fftshift
};

// Metres per stored position unit (px: the object pixel).
double metres_per(const std::string& unit, double pixel_size) {
  if (unit == "um") return 1e-6;
  if (unit == "nm") return 1e-9;
  if (unit == "px") return pixel_size;
  EXPECT_EQ(unit, "m");
  return 1.0;
}

// The NeXus CSV's rows; `unit` is the one its header names (frame,x_UNIT,y_UNIT).
std::vector<std::vector<double>> read_csv(const std::string& file, std::string* unit = nullptr) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  const std::string named = line.substr(std::string("frame,x_").size(), line.find(',', 6) - 8);
  EXPECT_EQ(line, "frame,x_" + named + ",y_" + named) << file;
  if (unit != nullptr) *unit = named;
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
  stored.pixel_size = attribute(f, "/", "pixel_size_m");
  if (layout == "nexus") {
    for (const std::string& block : nexus_blocks(f)) {
      const std::vector<double> values = read_doubles(f, block);
      stored.frames.insert(stored.frames.end(), values.begin(), values.end());
      stored.frame_size = static_cast<int>(dims(f, block).back());
    }
    const std::string prefix = name.substr(0, name.size() - std::string("_master.h5").size());
    std::string unit;
    for (const std::vector<double>& row : read_csv(path(prefix + "_positions.csv"), &unit)) {
      stored.x.push_back(row.at(1) * metres_per(unit, stored.pixel_size));
      stored.y.push_back(row.at(2) * metres_per(unit, stored.pixel_size));
    }
    stored.mask = read_doubles(f, "/entry/instrument/detector/detectorSpecific/pixel_mask");
    if (h5::is_dataset(f, "/entry/monitor/data")) stored.monitor = read_doubles(f, "/entry/monitor/data");
  } else if (layout == "cxi") {
    stored.frames = read_doubles(f, "/entry_1/data_1/data");
    stored.frame_size = static_cast<int>(dims(f, "/entry_1/data_1/data").back());
    const std::vector<double> xyz = read_doubles(f, "/entry_1/sample_1/geometry_1/translation");
    for (std::size_t k = 0; k < xyz.size(); k += 3) {
      stored.x.push_back(xyz[k]);
      stored.y.push_back(xyz[k + 1]);
    }
    stored.mask = read_doubles(f, "/entry_1/instrument_1/detector_1/mask");
    const std::string monitor = "/entry_1/instrument_1/monitor/data";
    if (h5::is_dataset(f, monitor)) stored.monitor = read_doubles(f, monitor);
  } else if (layout == "ptychoshelves") {
    stored.frames = read_doubles(f, "/dp");
    stored.frame_size = static_cast<int>(dims(f, "/dp")[1]);
    const std::string para = name.substr(0, name.size() - std::string("_dp.hdf5").size()) + "_para.hdf5";
    h5::Handle para_file = h5::open_file_read_serial(path(para));
    stored.x = read_doubles(para_file.get(), "/ppX");
    stored.y = read_doubles(para_file.get(), "/ppY");
  } else {
    stored.frames = read_doubles(f, "/data");
    stored.frame_size = static_cast<int>(dims(f, "/data").back());
    // Positions in the unit and columns the simulator recorded in its root attributes.
    const double scale = metres_per(
        has_attribute(f, "/", "positions_unit") ? string_attribute(f, "/", "positions_unit") : std::string("m"),
        stored.pixel_size);
    if (h5::is_dataset(f, "/positions")) {
      const std::string columns = string_attribute(f, "/", "positions_layout");
      const std::vector<double> table = read_doubles(f, "/positions");
      const std::size_t width = dims(f, "/positions").at(1);
      for (std::size_t k = 0; k < table.size(); k += width) {
        stored.x.push_back(table[k + (columns == "yx" ? 1 : 0)] * scale);
        stored.y.push_back(table[k + (columns == "yx" ? 0 : 1)] * scale);
      }
    } else {
      for (double x : read_doubles(f, "/positions_x")) stored.x.push_back(x * scale);
      for (double y : read_doubles(f, "/positions_y")) stored.y.push_back(y * scale);
    }
    if (h5::is_dataset(f, "/pixel_mask")) stored.mask = read_doubles(f, "/pixel_mask");
    if (h5::is_dataset(f, "/monitor")) stored.monitor = read_doubles(f, "/monitor");
  }
  stored.count = stored.frames.size() / (static_cast<std::size_t>(stored.frame_size) * stored.frame_size);
  stored.informative = read_doubles(f, "/truth/informative");
  stored.seed = static_cast<std::uint64_t>(attribute(f, "/", "seed"));
  stored.photons = attribute(f, "/", "photons");
  stored.fftshift = has_attribute(f, "/", "fftshift");
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
// simulator's far field of (probe, object window) times the monitor's incident photons over
// --photons, its noise stream for (seed, frame), clipped to `largest`, fft-shifted when the file
// says so; the mask's pixels read `flag` (gap) or the hot value. `background`: some frames see
// no sample.
void expect_truth_reproduces_frames(const std::string& name, const std::string& layout, std::uint64_t largest,
                                    bool background = true) {
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
    sim::Grid<double> expected = far_field.expected_pattern(object, y, x);
    if (!stored.monitor.empty()) {
      for (double& value : expected.values) value *= stored.monitor.at(k) / stored.photons;
    }
    sim::Grid<std::uint64_t> counts = sim::noisy_pattern(expected, stored.seed, k);
    if (stored.fftshift) counts = sim::ifftshift(counts);
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
  // A scan with background and sample, not a degenerate one (a full-field sample: all sample).
  EXPECT_GT(informative, 0u);
  if (background) {
    EXPECT_LT(informative, stored.count);
  } else {
    EXPECT_EQ(informative, stored.count);
  }
}

// Σ counts of frame k.
double frame_total(const Stored& stored, std::size_t k) {
  const std::size_t pixels = static_cast<std::size_t>(stored.frame_size) * stored.frame_size;
  double sum = 0.0;
  for (std::size_t p = 0; p < pixels; ++p) sum += stored.frames[k * pixels + p];
  return sum;
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
  // What real scans add: fft-shifted frames and mask, a flux step with noise (the frames scale
  // with the monitor), a 6:1 fly scan, a sample filling the field.
  expect_truth_reproduces_frames("fftshift.h5", "plain", kUint32);
  expect_truth_reproduces_frames("flux.h5", "plain", kUint32);
  expect_truth_reproduces_frames("fly_rows.h5", "plain", kUint32);
  expect_truth_reproduces_frames("full_field.h5", "plain", kUint32, false);
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

// ---- what real scans add (issue 14) -----------------------------------------------------------

TEST_F(SimulatedLayouts, FftShiftedFramesAreTheCentredFramesPermuted) {
  // fftshift.h5 is plain.h5 with --fftshift: frame k's pixel (i, j) is the centred frame's
  // ((i + 16) mod 32, (j + 16) mod 32), numpy.fft.ifftshift; the mask moves with the pixels.
  const Stored shifted = read_stored("fftshift.h5", "plain");
  const Stored centred = read_stored("plain.h5", "plain");
  ASSERT_EQ(shifted.count, 54u);
  ASSERT_EQ(shifted.frames.size(), centred.frames.size());
  const int n = 32;
  const auto from = [n](int i, int j) { return static_cast<std::size_t>(((i + n / 2) % n) * n + (j + n / 2) % n); };
  for (std::size_t k = 0; k < shifted.count; ++k) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        ASSERT_EQ(shifted.frames[k * n * n + i * n + j], centred.frames[k * n * n + from(i, j)])
            << "frame " << k << " pixel (" << i << ", " << j << ")";
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) EXPECT_EQ(shifted.mask[i * n + j], centred.mask[from(i, j)]);
  }
  EXPECT_EQ(shifted.informative, centred.informative);
  EXPECT_EQ(shifted.x, centred.x);
  EXPECT_EQ(shifted.y, centred.y);
  // The direct beam is in the corners now: the mean pattern's corner 3 × 3 blocks (wrapping)
  // hold far more than its centre block, the centred pattern the other way round.
  const auto block = [n](const Stored& stored, int row, int col) {
    double sum = 0.0;
    for (std::size_t k = 0; k < stored.count; ++k) {
      for (int i = -1; i <= 1; ++i) {
        for (int j = -1; j <= 1; ++j) {
          sum += stored.frames[k * n * n + ((row + i + n) % n) * n + (col + j + n) % n];
        }
      }
    }
    return sum;
  };
  EXPECT_GT(block(shifted, 0, 0), 100.0 * block(shifted, n / 2, n / 2));
  EXPECT_GT(block(centred, n / 2, n / 2), 100.0 * block(centred, 0, 0));
  // NeXus: the beam centre of fft-shifted frames is (0, 0).
  h5::Handle master = h5::open_file_read_serial(path("flux_master.h5"));
  EXPECT_EQ(read_doubles(master.get(), "/entry/instrument/detector/beam_center_x"), std::vector<double>{0.0});
  EXPECT_EQ(read_doubles(master.get(), "/entry/instrument/detector/beam_center_y"), std::vector<double>{0.0});
}

TEST_F(SimulatedLayouts, FluxStepShowsInTheMonitorAndInTheCounts) {
  // flux_master.h5: --flux-step 0.15 (from frame ⌊0.5·54⌋ = 27), no jitter: the NXmonitor's data
  // is 1e5 incident photons, then 1.15e5.
  h5::Handle master = h5::open_file_read_serial(path("flux_master.h5"));
  EXPECT_EQ(string_attribute(master.get(), "/entry/monitor", "NX_class"), "NXmonitor");
  EXPECT_EQ(string_attribute(master.get(), "/entry/monitor/data", "units"), "counts");
  EXPECT_TRUE(has_type(master.get(), "/entry/monitor/data", H5T_IEEE_F64LE));
  const std::vector<double> nexus = read_doubles(master.get(), "/entry/monitor/data");
  ASSERT_EQ(nexus.size(), 54u);
  for (std::size_t k = 0; k < nexus.size(); ++k) EXPECT_NEAR(nexus[k], k < 27 ? 1e5 : 1.15e5, 1e-9) << k;
  // flux_cxi.h5: --flux-step 0.15@20, in CXI's instrument (NXcxi_ptycho's NXmonitor).
  h5::Handle cxi = h5::open_file_read_serial(path("flux_cxi.h5"));
  EXPECT_EQ(string_attribute(cxi.get(), "/entry_1/instrument_1/monitor", "NX_class"), "NXmonitor");
  const std::vector<double> cxi_monitor = read_doubles(cxi.get(), "/entry_1/instrument_1/monitor/data");
  ASSERT_EQ(cxi_monitor.size(), 54u);
  for (std::size_t k = 0; k < cxi_monitor.size(); ++k) EXPECT_NEAR(cxi_monitor[k], k < 20 ? 1e5 : 1.15e5, 1e-9) << k;
  // --monitor without drift: constant.
  const Stored constant = read_stored("positions_xyz.h5", "plain");
  EXPECT_EQ(constant.monitor, std::vector<double>(54, 1e5));
  EXPECT_TRUE(read_stored("plain.h5", "plain").monitor.empty());
  // flux.h5: the step and 2% jitter per frame.
  const Stored flux = read_stored("flux.h5", "plain");
  ASSERT_EQ(flux.monitor.size(), 54u);
  double before = 0.0;
  double after = 0.0;
  double squares = 0.0;
  for (std::size_t k = 0; k < 54; ++k) {
    const double relative = flux.monitor[k] / (k < 27 ? 1e5 : 1.15e5);
    (k < 27 ? before : after) += relative / 27.0;
    squares += (relative - 1.0) * (relative - 1.0) / 54.0;
  }
  EXPECT_NEAR(before, 1.0, 5.0 * 0.02 / std::sqrt(27.0));
  EXPECT_NEAR(after, 1.0, 5.0 * 0.02 / std::sqrt(27.0));
  EXPECT_GT(std::sqrt(squares), 0.012);
  EXPECT_LT(std::sqrt(squares), 0.03);
  // The photons follow the monitor: a frame that sees no sample (|O| = 1) counts Poisson(monitor)
  // photons in all, within 5 standard deviations, in the files without detector gaps.
  for (const auto& [name, layout] :
       std::vector<std::pair<std::string, std::string>>{{"flux.h5", "plain"}, {"flux_cxi.h5", "cxi"}}) {
    const Stored stored = read_stored(name, layout);
    ASSERT_EQ(stored.monitor.size(), 54u);
    const std::size_t step = name == "flux.h5" ? 27 : 20;
    int empty_before = 0;
    int empty_after = 0;
    for (std::size_t k = 0; k < 54; ++k) {
      if (stored.informative[k] != 0.0) continue;
      const double total = frame_total(stored, k);
      EXPECT_NEAR(total, stored.monitor[k], 5.0 * std::sqrt(stored.monitor[k])) << name << " frame " << k;
      // ... and not the unstepped flux after the step.
      if (k >= step) EXPECT_GT(total, 1e5 + 10.0 * std::sqrt(1e5)) << name << " frame " << k;
      (k < step ? empty_before : empty_after) += 1;
    }
    EXPECT_GT(empty_before, 3) << name;
    EXPECT_GT(empty_after, 3) << name;
  }
}

TEST_F(SimulatedLayouts, LeadingSingletonStacksAndPixelTypes) {
  const Stored clean = read_stored("plain_clean.h5", "plain");
  // stack4.h5: [1, 54, 32, 32] int32 in chunks of [1, 4, 32, 32], gzip; the same counts.
  h5::Handle stack = h5::open_file_read_serial(path("stack4.h5"));
  EXPECT_EQ(dims(stack.get(), "/data"), (std::vector<hsize_t>{1, 54, 32, 32}));
  EXPECT_TRUE(has_type(stack.get(), "/data", H5T_STD_I32LE));
  {
    h5::Handle dataset = h5::open_dataset(stack.get(), "/data", "stack4");
    h5::Handle create = h5::checked(H5Dget_create_plist(dataset.get()), "plist");
    hsize_t chunk[4] = {0, 0, 0, 0};
    ASSERT_EQ(H5Pget_chunk(create.get(), 4, chunk), 4);
    EXPECT_EQ(std::vector<hsize_t>(chunk, chunk + 4), (std::vector<hsize_t>{1, 4, 32, 32}));
    EXPECT_EQ(H5Pget_nfilters(create.get()), 2);  // shuffle, deflate
  }
  EXPECT_EQ(read_stored("stack4.h5", "plain").frames, clean.frames);
  // flux_cxi.h5: [1, 54, 32, 32] float32 with the detector, reached through data_1 as well; the
  // counts are plain_clean's scaled by the flux (same noise stream), so only check the first 20.
  h5::Handle cxi = h5::open_file_read_serial(path("flux_cxi.h5"));
  EXPECT_EQ(dims(cxi.get(), "/entry_1/instrument_1/detector_1/data"), (std::vector<hsize_t>{1, 54, 32, 32}));
  EXPECT_EQ(dims(cxi.get(), "/entry_1/data_1/data"), (std::vector<hsize_t>{1, 54, 32, 32}));
  EXPECT_TRUE(has_type(cxi.get(), "/entry_1/instrument_1/detector_1/data", H5T_IEEE_F32LE));
  const Stored flux_cxi = read_stored("flux_cxi.h5", "cxi");
  ASSERT_EQ(flux_cxi.count, 54u);
  const std::size_t before_step = 20 * 32 * 32;
  EXPECT_TRUE(std::equal(clean.frames.begin(), clean.frames.begin() + before_step, flux_cxi.frames.begin()));
  EXPECT_FALSE(
      std::equal(clean.frames.begin() + before_step, clean.frames.end(), flux_cxi.frames.begin() + before_step));
  // The default stack stays [K, N, N] uint32.
  h5::Handle plain = h5::open_file_read_serial(path("plain_clean.h5"));
  EXPECT_EQ(dims(plain.get(), "/data"), (std::vector<hsize_t>{54, 32, 32}));
  EXPECT_TRUE(has_type(plain.get(), "/data", H5T_STD_U32LE));
}

TEST_F(SimulatedLayouts, PositionDatasetsInTheirColumnsAndUnits) {
  // The raster of plain_clean.h5 (metres, 10 nm pixels: x = 5·column pixels, y = 5·row) as
  // [K, 2] (y, x) pixels, [K, 2] (x, y) micrometres, [K, 3] (x, y, 0) nanometres, and a CSV in pixels.
  const Stored clean = read_stored("plain_clean.h5", "plain");
  ASSERT_EQ(clean.count, 54u);
  for (std::size_t k = 0; k < 54; ++k) {
    ASSERT_NEAR(clean.x[k], 5e-8 * static_cast<double>(k % 9), 1e-20);
    ASSERT_NEAR(clean.y[k], 5e-8 * static_cast<double>(k / 9), 1e-20);
  }
  h5::Handle yx = h5::open_file_read_serial(path("stack4.h5"));
  EXPECT_EQ(dims(yx.get(), "/positions"), (std::vector<hsize_t>{54, 2}));
  EXPECT_FALSE(h5::is_dataset(yx.get(), "/positions_x"));
  const std::vector<double> pixels = read_doubles(yx.get(), "/positions");
  h5::Handle xy = h5::open_file_read_serial(path("positions_xy.h5"));
  const std::vector<double> micrometres = read_doubles(xy.get(), "/positions");
  EXPECT_EQ(dims(xy.get(), "/positions"), (std::vector<hsize_t>{54, 2}));
  h5::Handle xyz = h5::open_file_read_serial(path("positions_xyz.h5"));
  EXPECT_EQ(dims(xyz.get(), "/positions"), (std::vector<hsize_t>{54, 3}));
  const std::vector<double> nanometres = read_doubles(xyz.get(), "/positions");
  // --distance-m set positions_xyz's object pixel: λ·z / (N·p).
  const double pixel_xyz = attribute(xyz.get(), "/", "pixel_size_m");
  for (std::size_t k = 0; k < 54; ++k) {
    const double column = static_cast<double>(k % 9);
    const double row = static_cast<double>(k / 9);
    EXPECT_EQ(pixels[2 * k], 5.0 * row) << k;
    EXPECT_EQ(pixels[2 * k + 1], 5.0 * column) << k;
    EXPECT_NEAR(micrometres[2 * k], 0.05 * column, 1e-12) << k;
    EXPECT_NEAR(micrometres[2 * k + 1], 0.05 * row, 1e-12) << k;
    EXPECT_NEAR(nanometres[3 * k], 5.0 * column * pixel_xyz * 1e9, 1e-9) << k;
    EXPECT_NEAR(nanometres[3 * k + 1], 5.0 * row * pixel_xyz * 1e9, 1e-9) << k;
    EXPECT_EQ(nanometres[3 * k + 2], 0.0);
  }
  // No units attribute: the unit is what the user must be told or must say.
  h5::Handle dataset = h5::open_dataset(yx.get(), "/positions", "stack4");
  EXPECT_EQ(H5Aexists(dataset.get(), "units"), 0);
  std::string unit;
  const std::vector<std::vector<double>> csv = read_csv(path("flux_positions.csv"), &unit);
  EXPECT_EQ(unit, "px");
  ASSERT_EQ(csv.size(), 54u);
  for (std::size_t k = 0; k < 54; ++k) {
    EXPECT_EQ(csv[k].at(1), 5.0 * static_cast<double>(k % 9));
    EXPECT_EQ(csv[k].at(2), 5.0 * static_cast<double>(k / 9));
  }
}

TEST_F(SimulatedLayouts, InstrumentMetadataIsConsistentWithTheObjectPixel) {
  constexpr double kHcOverE = 1.239841984332e-6;  // h·c / e in eV·m (CODATA, exact SI constants)
  const double wavelength = kHcOverE / 8.8e3;     // 8.8 keV
  // CXI (SI units): energy in J, wavelength and distance in m, and λ·z / (N·p) the object pixel.
  h5::Handle cxi = h5::open_file_read_serial(path("flux_cxi.h5"));
  const double energy = read_doubles(cxi.get(), "/entry_1/instrument_1/source_1/energy").at(0);
  EXPECT_NEAR(energy, 8.8e3 * 1.602176634e-19, 1e-12 * energy);
  EXPECT_NEAR(read_doubles(cxi.get(), "/entry_1/instrument_1/source_1/wavelength").at(0), wavelength,
              1e-12 * wavelength);
  EXPECT_EQ(read_doubles(cxi.get(), "/entry_1/instrument_1/detector_1/x_pixel_size"), std::vector<double>{172e-6});
  EXPECT_EQ(read_doubles(cxi.get(), "/entry_1/instrument_1/detector_1/y_pixel_size"), std::vector<double>{172e-6});
  const double distance = read_doubles(cxi.get(), "/entry_1/instrument_1/detector_1/distance").at(0);
  EXPECT_NEAR(wavelength * distance / (32 * 172e-6), 1e-8, 1e-20);
  EXPECT_EQ(attribute(cxi.get(), "/", "pixel_size_m"), 1e-8);
  // Plain, given --distance-m 0.5 --energy-kev 8.8: root attributes, and the object pixel from them.
  h5::Handle plain = h5::open_file_read_serial(path("positions_xyz.h5"));
  EXPECT_NEAR(attribute(plain.get(), "/", "energy_kev"), 8.8, 1e-12);
  EXPECT_NEAR(attribute(plain.get(), "/", "wavelength_m"), wavelength, 1e-12 * wavelength);
  EXPECT_EQ(attribute(plain.get(), "/", "detector_distance_m"), 0.5);
  EXPECT_EQ(attribute(plain.get(), "/", "detector_pixel_size_m"), 75e-6);
  EXPECT_NEAR(attribute(plain.get(), "/", "pixel_size_m"), wavelength * 0.5 / (32 * 75e-6), 1e-12 * 1e-9);
  // A default plain file is what it always was: no instrument attributes.
  h5::Handle clean = h5::open_file_read_serial(path("plain_clean.h5"));
  EXPECT_FALSE(has_attribute(clean.get(), "/", "energy_kev"));
  // NXmx keeps the default 1.24 Å, 75 µm pixels and the distance of a 10 nm object pixel.
  h5::Handle master = h5::open_file_read_serial(path("flux_master.h5"));
  EXPECT_EQ(read_doubles(master.get(), "/entry/instrument/beam/incident_wavelength"), std::vector<double>{1.24});
  EXPECT_EQ(string_attribute(master.get(), "/entry/instrument/detector/detector_distance", "units"), "m");
  EXPECT_NEAR(
      read_doubles(master.get(), "/entry/instrument/detector/detector_distance").at(0) * 1.24e-10 / (32 * 75e-6), 1e-8,
      1e-20);
}

TEST_F(SimulatedLayouts, FullFieldSampleHasNoBackground) {
  // Every frame sees the sample (checked with the truth above), and the transmitted counts vary
  // by little more than Poisson noise (√1e5 ≈ 0.3%): no two populations. The particles of the
  // same scan spread T by far more.
  const Stored full = read_stored("full_field.h5", "plain");
  const Stored particles = read_stored("plain_clean.h5", "plain");
  const auto spread = [](const Stored& stored) {
    std::vector<double> totals;
    for (std::size_t k = 0; k < stored.count; ++k) totals.push_back(frame_total(stored, k));
    const auto [low, high] = std::minmax_element(totals.begin(), totals.end());
    return (*high - *low) / *high;
  };
  EXPECT_EQ(std::count(full.informative.begin(), full.informative.end(), 1.0), 54);
  EXPECT_LT(spread(full), 0.02);
  EXPECT_GT(spread(particles), 0.1);
}

TEST_F(SimulatedLayouts, AnisotropicFlyScanRowsAreTwoPixelsApart) {
  // --scan fly --step 12 --row-step 2: 6 rows at y = 0, 2, …, 10 pixels (no y jitter below a
  // row step of 4), about 12 pixels between points along a row.
  h5::Handle file = h5::open_file_read_serial(path("fly_rows.h5"));
  EXPECT_EQ(attribute(file.get(), "/", "row_step_pixels"), 2.0);
  const Stored fly = read_stored("fly_rows.h5", "plain");
  std::set<long> rows;
  double along = 0.0;
  int pairs = 0;
  for (std::size_t k = 0; k < fly.count; ++k) {
    const long y = std::lround(fly.y[k] / fly.pixel_size);
    rows.insert(y);
    if (k > 0 && y == std::lround(fly.y[k - 1] / fly.pixel_size)) {
      along += (fly.x[k] - fly.x[k - 1]) / fly.pixel_size;
      ++pairs;
    }
  }
  EXPECT_EQ(rows, (std::set<long>{0, 2, 4, 6, 8, 10}));
  EXPECT_NEAR(along / pairs, 12.0, 1.5);
}
