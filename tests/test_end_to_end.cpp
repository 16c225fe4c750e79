// End to end: ptyroi-simulate → `mpiexec -n 1/2/3 ptyroi --border 2` (CTest fixtures) → here.
// The written files are read back with the plain HDF5 C API and compared with the independent
// serial reference (tests/reference_roi.cpp), with the simulation's ground truth, with the input
// patterns, and with one another.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "reference_roi.hpp"

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::vector<hsize_t> dims_of(hid_t file, const char* path) {
  hid_t dataset = H5Dopen2(file, path, H5P_DEFAULT);
  EXPECT_GE(dataset, 0) << path;
  hid_t space = H5Dget_space(dataset);
  std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  H5Dclose(dataset);
  return dims;
}

template <class T>
std::vector<T> read(hid_t file, const char* path, hid_t memory_type) {
  std::size_t n = 1;
  for (hsize_t d : dims_of(file, path)) n *= d;
  std::vector<T> values(n);
  hid_t dataset = H5Dopen2(file, path, H5P_DEFAULT);
  EXPECT_GE(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0) << path;
  H5Dclose(dataset);
  return values;
}

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    scan_ = env("PTYROI_TEST_SCAN");
    outdir_ = env("PTYROI_TEST_OUTDIR");
    const std::string grid = env("PTYROI_TEST_GRID");
    if (scan_.empty() || outdir_.empty() || grid.empty())
      FAIL() << "set PTYROI_TEST_SCAN, PTYROI_TEST_GRID and PTYROI_TEST_OUTDIR (ctest does)";
    params_.rows = std::stol(grid.substr(0, grid.find('x')));
    params_.cols = std::stol(grid.substr(grid.find('x') + 1));
    params_.border = 2;
  }
  std::string output(int ranks) const { return outdir_ + "/e2e_n" + std::to_string(ranks) + ".h5"; }
  std::string scan_, outdir_;
  reference::Params params_;
};

TEST_F(EndToEnd, MaskAgreesWithTheIndependentSerialImplementation) {
  const reference::Result expected = reference::compute_roi(scan_, "/data", params_);
  for (int ranks : {1, 2, 3}) {
    hid_t file = H5Fopen(output(ranks).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0) << output(ranks);
    const auto mask = read<std::uint8_t>(file, "/roi/mask", H5T_NATIVE_UINT8);
    ASSERT_EQ(mask.size(), expected.mask.size());
    std::size_t agree = 0;
    for (std::size_t k = 0; k < mask.size(); ++k) agree += mask[k] == expected.mask[k];
    const double agreement = static_cast<double>(agree) / static_cast<double>(mask.size());
    EXPECT_GE(agreement, 0.999) << ranks << " ranks";
    RecordProperty("mask_agreement_n" + std::to_string(ranks), std::to_string(agreement));
    // The intermediate features agree to rounding.
    const auto total = read<double>(file, "/roi/features/total_intensity", H5T_NATIVE_DOUBLE);
    const auto magnitude = read<double>(file, "/roi/features/com_magnitude", H5T_NATIVE_DOUBLE);
    const auto absorption = read<double>(file, "/roi/features/absorption_map", H5T_NATIVE_DOUBLE);
    for (std::size_t k = 0; k < total.size(); ++k) {
      EXPECT_NEAR(total[k], expected.total_intensity[k], 1e-9 * expected.total_intensity[k]) << k;
      EXPECT_NEAR(magnitude[k], expected.com_magnitude[k], 1e-7) << k;
      EXPECT_NEAR(absorption[k], expected.absorption_map[k], 1e-9 * expected.absorption_map[k]) << k;
    }
    H5Fclose(file);
  }
}

TEST_F(EndToEnd, RecallOfTheInformativePositionsAtBorderTwo) {
  hid_t scan = H5Fopen(scan_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const auto truth = read<std::uint8_t>(scan, "/truth/informative", H5T_NATIVE_UINT8);
  H5Fclose(scan);
  hid_t file = H5Fopen(output(2).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const auto mask = read<std::uint8_t>(file, "/roi/mask", H5T_NATIVE_UINT8);
  H5Fclose(file);
  std::size_t informative = 0, found = 0, kept = 0;
  for (std::size_t k = 0; k < truth.size(); ++k) {
    informative += truth[k];
    found += truth[k] && mask[k];
    kept += mask[k];
  }
  ASSERT_GT(informative, 0u);
  const double recall = static_cast<double>(found) / static_cast<double>(informative);
  EXPECT_GE(recall, 0.99);
  // And the RoI is a real reduction, not the whole scan.
  EXPECT_LT(kept, truth.size());
  RecordProperty("recall", std::to_string(recall));
  RecordProperty("roi_fraction", std::to_string(static_cast<double>(kept) / static_cast<double>(truth.size())));
}

TEST_F(EndToEnd, OutputHasTheCxiLayoutAndTheSelectedPatterns) {
  hid_t scan = H5Fopen(scan_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t file = H5Fopen(output(3).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const auto input_dims = dims_of(scan, "/data");
  const std::size_t frames = input_dims[0];
  const auto mask = read<std::uint8_t>(file, "/roi/mask", H5T_NATIVE_UINT8);
  const auto indexes = read<std::int64_t>(file, "/roi/indexes", H5T_NATIVE_INT64);
  std::vector<std::int64_t> expected_indexes;
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k]) expected_indexes.push_back(static_cast<std::int64_t>(k));
  }
  EXPECT_EQ(indexes, expected_indexes);  // ascending original frame numbers
  const std::size_t roi = indexes.size();

  EXPECT_EQ(read<std::int64_t>(file, "/cxi_version", H5T_NATIVE_INT64), std::vector<std::int64_t>{150});
  EXPECT_EQ(dims_of(file, "/entry_1/data_1/data"), (std::vector<hsize_t>{roi, input_dims[1], input_dims[2]}));
  EXPECT_EQ(dims_of(file, "/entry_1/sample_1/geometry_1/translation"), (std::vector<hsize_t>{roi, 3}));
  EXPECT_EQ(dims_of(file, "/entry_1/data_1/translation"), (std::vector<hsize_t>{roi, 3}));  // the soft link
  H5L_info_t link;
  ASSERT_GE(H5Lget_info(file, "/entry_1/data_1/translation", &link, H5P_DEFAULT), 0);
  EXPECT_EQ(link.type, H5L_TYPE_SOFT);
  for (const char* name :
       {"/roi/mask", "/roi/positions_x", "/roi/positions_y", "/roi/features/total_intensity", "/roi/features/com_x",
        "/roi/features/com_y", "/roi/features/com_magnitude", "/roi/features/absorption_map",
        "/roi/features/scattering_map", "/roi/features/absorption_roi", "/roi/features/scattering_roi"}) {
    EXPECT_EQ(dims_of(file, name), std::vector<hsize_t>{frames}) << name;
  }

  // Same pixel type as the input, contiguous (no chunk index), in the 1.8 file format.
  hid_t data = H5Dopen2(file, "/entry_1/data_1/data", H5P_DEFAULT);
  hid_t input = H5Dopen2(scan, "/data", H5P_DEFAULT);
  hid_t out_type = H5Dget_type(data), in_type = H5Dget_type(input);
  EXPECT_GT(H5Tequal(out_type, in_type), 0);
  hid_t create = H5Dget_create_plist(data);
  EXPECT_EQ(H5Pget_layout(create), H5D_CONTIGUOUS);
  EXPECT_EQ(H5Dget_storage_size(data), roi * input_dims[1] * input_dims[2] * sizeof(std::uint32_t));
  H5Pclose(create);
  H5Tclose(out_type);
  H5Tclose(in_type);

  // Every written pattern is the input frame it claims to be, bit for bit.
  const std::size_t pixels = input_dims[1] * input_dims[2];
  const auto written = read<std::uint32_t>(file, "/entry_1/data_1/data", H5T_NATIVE_UINT32);
  std::vector<std::uint32_t> frame(pixels);
  for (std::size_t i = 0; i < roi; ++i) {
    const hsize_t start[3] = {static_cast<hsize_t>(indexes[i]), 0, 0};
    const hsize_t count[3] = {1, input_dims[1], input_dims[2]};
    hid_t space = H5Dget_space(input);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hid_t memory = H5Screate_simple(3, count, nullptr);
    ASSERT_GE(H5Dread(input, H5T_NATIVE_UINT32, memory, space, H5P_DEFAULT, frame.data()), 0);
    H5Sclose(memory);
    H5Sclose(space);
    ASSERT_EQ(std::memcmp(frame.data(), written.data() + i * pixels, pixels * sizeof(std::uint32_t)), 0)
        << "pattern " << i << " (frame " << indexes[i] << ")";
  }
  H5Dclose(data);
  H5Dclose(input);

  // Translations are the positions of the selected frames, metres, z = 0.
  const auto x = read<double>(scan, "/positions_x", H5T_NATIVE_DOUBLE);
  const auto y = read<double>(scan, "/positions_y", H5T_NATIVE_DOUBLE);
  const auto translation = read<double>(file, "/entry_1/sample_1/geometry_1/translation", H5T_NATIVE_DOUBLE);
  for (std::size_t i = 0; i < roi; ++i) {
    EXPECT_EQ(translation[3 * i], x[static_cast<std::size_t>(indexes[i])]);
    EXPECT_EQ(translation[3 * i + 1], y[static_cast<std::size_t>(indexes[i])]);
    EXPECT_EQ(translation[3 * i + 2], 0.0);
  }
  H5Fclose(file);
  H5Fclose(scan);
}

TEST_F(EndToEnd, FilesFromOneTwoAndThreeRanksAgreeBitwise) {
  const char* features[] = {"/roi/features/total_intensity", "/roi/features/com_x",
                            "/roi/features/com_y",           "/roi/features/com_magnitude",
                            "/roi/features/absorption_map",  "/roi/features/scattering_map"};
  hid_t one = H5Fopen(output(1).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  for (int ranks : {2, 3}) {
    hid_t other = H5Fopen(output(ranks).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    for (const char* path : features) {
      const auto a = read<double>(one, path, H5T_NATIVE_DOUBLE);
      const auto b = read<double>(other, path, H5T_NATIVE_DOUBLE);
      ASSERT_EQ(a.size(), b.size());
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0) << path << ", " << ranks << " ranks";
    }
    EXPECT_EQ(read<std::uint8_t>(one, "/roi/mask", H5T_NATIVE_UINT8),
              read<std::uint8_t>(other, "/roi/mask", H5T_NATIVE_UINT8))
        << ranks << " ranks";
    EXPECT_EQ(read<std::uint32_t>(one, "/entry_1/data_1/data", H5T_NATIVE_UINT32),
              read<std::uint32_t>(other, "/entry_1/data_1/data", H5T_NATIVE_UINT32))
        << ranks << " ranks";
    H5Fclose(other);
  }
  H5Fclose(one);
}

}  // namespace
