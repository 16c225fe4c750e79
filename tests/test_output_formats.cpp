// Reads each --format output the way its consumer does — paths, shapes, dtypes, units and index
// order — and checks the patterns against the input frames they claim to be, read directly from
// the input with serial HDF5. The files come from CTest runs of ptyroi (see tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ptyroi/io/h5.hpp"

namespace ptyroi {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

struct Dataset {
  std::vector<hsize_t> dims;
  H5T_class_t type_class = H5T_NO_CLASS;
  std::size_t type_size = 0;
  H5T_sign_t sign = H5T_SGN_ERROR;
  std::vector<double> values;
};

Dataset read(const std::string& file_path, const std::string& path) {
  h5::Handle file = h5::open_file_read_serial(file_path);
  h5::Handle dataset = h5::checked(H5Dopen2(file.get(), path.c_str(), H5P_DEFAULT), "open " + path);
  h5::Handle type = h5::checked(H5Dget_type(dataset.get()), "type of " + path);
  Dataset d;
  d.dims = h5::dataset_dims(dataset.get());
  d.type_class = H5Tget_class(type.get());
  d.type_size = H5Tget_size(type.get());
  if (d.type_class == H5T_INTEGER) d.sign = H5Tget_sign(type.get());
  d.values = h5::read_all<double>(dataset.get());
  return d;
}

bool exists(const std::string& file_path, const std::string& path) {
  h5::Handle file = h5::open_file_read_serial(file_path);
  return h5::object_exists(file.get(), path);
}

// The input's frame k, rows [row0, row0+n) × cols [col0, col0+m), as doubles.
std::vector<double> input_window(const Dataset& input, std::size_t k, std::size_t row0, std::size_t col0, std::size_t n,
                                 std::size_t m) {
  const std::size_t rows = input.dims[1], cols = input.dims[2];
  std::vector<double> window;
  for (std::size_t r = row0; r < row0 + n; ++r) {
    for (std::size_t c = col0; c < col0 + m; ++c) window.push_back(input.values[(k * rows + r) * cols + c]);
  }
  return window;
}

std::vector<double> frame_of(const Dataset& stack, std::size_t i) {
  const std::size_t size = stack.dims[1] * stack.dims[2];
  return {stack.values.begin() + static_cast<std::ptrdiff_t>(i * size),
          stack.values.begin() + static_cast<std::ptrdiff_t>((i + 1) * size)};
}

class OutputFormats : public ::testing::Test {
 protected:
  void SetUp() override {
    scan_ = env("PTYROI_TEST_SCAN");
    dir_ = env("PTYROI_TEST_OUTDIR");
    ASSERT_FALSE(scan_.empty() || dir_.empty()) << "PTYROI_TEST_SCAN / PTYROI_TEST_OUTDIR not set";
    input_ = read(scan_, "/data");
    x_ = read(scan_, "/positions_x").values;
    y_ = read(scan_, "/positions_y").values;
  }
  std::string scan_, dir_;
  Dataset input_;
  std::vector<double> x_, y_;
};

TEST_F(OutputFormats, PtychoShelvesDpAndParaFilesAsFoldSliceLoadsThem) {
  const std::string dp = dir_ + "/format_ps_dp.hdf5";
  const std::string para = dir_ + "/format_ps_para.hdf5";
  const auto indexes = read(dp, "/roi/indexes").values;
  const Dataset patterns = read(dp, "/dp");
  // MATLAB's h5read sees [M, N, K]: in C order the file holds [K, N, M] with K the RoI frames.
  ASSERT_EQ(patterns.dims, (std::vector<hsize_t>{indexes.size(), input_.dims[1], input_.dims[2]}));
  // float32: the APS loader appends /dp to single([]) and takes its sqrt, which MATLAB refuses for integers.
  EXPECT_EQ(patterns.type_class, H5T_FLOAT);
  EXPECT_EQ(patterns.type_size, 4u);
  const Dataset pp_x = read(para, "/ppX");
  const Dataset pp_y = read(para, "/ppY");
  ASSERT_EQ(pp_x.dims, (std::vector<hsize_t>{indexes.size()}));
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    const auto k = static_cast<std::size_t>(indexes[i]);
    // Counts below 2^24 are exact in float32 (the test scan has no bad pixels to zero).
    EXPECT_EQ(frame_of(patterns, i), input_window(input_, k, 0, 0, input_.dims[1], input_.dims[2])) << "frame " << k;
    EXPECT_EQ(pp_x.values[i], x_[k]);  // metres, as in the input
    EXPECT_EQ(pp_y.values[i], y_[k]);
  }
  EXPECT_FALSE(exists(dp, "/entry_1"));
}

TEST_F(OutputFormats, PtychodusCxiWithInstrumentSidecarsAndRowIndexes) {
  const std::string file = dir_ + "/format_ptychodus.cxi";
  const auto roi_indexes = read(file, "/roi/indexes").values;
  const Dataset indexes = read(file, "/indexes");
  const Dataset patterns = read(file, "/entry_1/data_1/data");
  const Dataset translation = read(file, "/entry_1/data_1/translation");  // the soft link, followed
  const Dataset bad = read(file, "/bad_pixels");
  const std::size_t n = 48;  // --crop 48 around the frame centre of the 64×64 frames
  const std::size_t first = (input_.dims[1] - 1 + 1) / 2 - n / 2;  // floor(31.5 + 0.5) − 24 = 8
  const std::size_t k_roi = roi_indexes.size();
  ASSERT_EQ(patterns.dims, (std::vector<hsize_t>{k_roi, n, n}));
  ASSERT_EQ(translation.dims, (std::vector<hsize_t>{k_roi, 3}));
  EXPECT_EQ(bad.dims, (std::vector<hsize_t>{n, n}));
  // ptychodus takes patterns by index value as row number: the indexes are the rows, 0..K_roi−1.
  ASSERT_EQ(indexes.values.size(), k_roi);
  for (std::size_t i = 0; i < k_roi; ++i) EXPECT_EQ(indexes.values[i], static_cast<double>(i));
  for (std::size_t i = 0; i < k_roi; ++i) {
    const auto k = static_cast<std::size_t>(roi_indexes[i]);
    EXPECT_EQ(frame_of(patterns, i), input_window(input_, k, first, first, n, n)) << "frame " << k;
    EXPECT_EQ(translation.values[3 * i], x_[k]);
    EXPECT_EQ(translation.values[3 * i + 1], y_[k]);
  }
  EXPECT_EQ(std::count(bad.values.begin(), bad.values.end(), 0.0), static_cast<std::ptrdiff_t>(n * n));
  // --energy 8.5 (keV) --distance 2.5 --pixel-size 172e-6, in the SI units CXI 1.5 prescribes.
  EXPECT_DOUBLE_EQ(read(file, "/entry_1/instrument_1/source_1/energy").values.at(0), 8.5e3 * 1.602176634e-19);
  EXPECT_EQ(read(file, "/entry_1/instrument_1/detector_1/distance").values.at(0), 2.5);
  EXPECT_EQ(read(file, "/entry_1/instrument_1/detector_1/x_pixel_size").values.at(0), 172e-6);
  EXPECT_EQ(read(file, "/entry_1/instrument_1/detector_1/y_pixel_size").values.at(0), 172e-6);
  for (const char* sidecar : {"/format_ptychodus_bad_pixels.npy", "/format_ptychodus_ptychodus.ini"}) {
    EXPECT_TRUE(std::ifstream(dir_ + sidecar).good()) << sidecar;
  }
}

TEST_F(OutputFormats, MaskOnlyIsAPtyPyFrameFilter) {
  const std::string file = dir_ + "/format_mask.h5";
  const Dataset mask = read(file, "/roi/mask");
  ASSERT_EQ(mask.dims, (std::vector<hsize_t>{input_.dims[0]}));
  // framefilter keeps frames where the dataset is > 0: exactly the RoI frames, in frame order.
  const auto indexes = read(file, "/roi/indexes").values;
  std::vector<double> kept;
  for (std::size_t k = 0; k < mask.values.size(); ++k) {
    if (mask.values[k] > 0) kept.push_back(static_cast<double>(k));
  }
  EXPECT_EQ(kept, indexes);
  EXPECT_FALSE(kept.empty());
  EXPECT_FALSE(exists(file, "/entry_1"));  // no pattern copy
  EXPECT_FALSE(exists(file, "/patterns"));
}

}  // namespace
}  // namespace ptyroi
