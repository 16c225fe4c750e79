// Tests of the serial reference implementation itself, on tiny hand-computed cases. The
// reference is the oracle for the distributed pipeline, so it has to be checked on its own.
#include "reference_roi.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Mask = std::vector<unsigned char>;

// Each test gets its own temporary directory for the HDF5 files it writes.
class ReferenceRoi : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("refroi_" + std::to_string(static_cast<long>(getpid())) + "_" + name);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `pixels` (frame-major, row-major, K*N*M values) as dataset "data" of file type
  // `file_type`, with serial HDF5; HDF5 converts the doubles to the file type.
  std::string write_stack(const std::vector<double>& pixels, hsize_t k, hsize_t n, hsize_t m,
                          hid_t file_type = H5T_IEEE_F64LE) {
    EXPECT_EQ(pixels.size(), k * n * m);
    const std::string path = (dir_ / "scan.h5").string();
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[3] = {k, n, m};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t data = H5Dcreate2(file, "data", file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(data, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels.data()), 0);
    H5Dclose(data);
    H5Sclose(space);
    H5Fclose(file);
    return path;
  }

  fs::path dir_;
};

reference::Params grid(long rows, long cols) {
  reference::Params p;
  p.rows = rows;
  p.cols = cols;
  return p;
}

// --- steps 1-4: intensity and centre of mass -------------------------------------------------

TEST_F(ReferenceRoi, CentreOfMassOfSingleBrightPixel) {
  // Two 3x4 frames on a 1x2 grid. Frame 0: one pixel of 5 at row 1, column 2.
  // Frame 1: 1 at (0,0) and 3 at (2,3): com_x = 3*3/4, com_y = 2*3/4.
  std::vector<double> pixels(2 * 3 * 4, 0.0);
  pixels[0 * 12 + 1 * 4 + 2] = 5;
  pixels[1 * 12 + 0 * 4 + 0] = 1;
  pixels[1 * 12 + 2 * 4 + 3] = 3;
  const auto r = reference::compute_roi(write_stack(pixels, 2, 3, 4), "data", grid(1, 2));
  EXPECT_DOUBLE_EQ(r.total_intensity[0], 5.0);
  EXPECT_DOUBLE_EQ(r.com_x[0], 2.0);  // x = column (fast axis)
  EXPECT_DOUBLE_EQ(r.com_y[0], 1.0);  // y = row
  EXPECT_DOUBLE_EQ(r.total_intensity[1], 4.0);
  EXPECT_DOUBLE_EQ(r.com_x[1], 2.25);
  EXPECT_DOUBLE_EQ(r.com_y[1], 1.5);
  EXPECT_EQ(r.frames_without_signal, 0);
}

TEST_F(ReferenceRoi, TotalIntensityOfKnownIntegerFrames) {
  // uint16 data: frames of 2x2 pixels, sums 10, 400, 65535 + 1 (HDF5 converts to double).
  const std::vector<double> pixels = {1, 2, 3, 4, 100, 100, 100, 100, 65535, 0, 0, 1};
  const auto r = reference::compute_roi(write_stack(pixels, 3, 2, 2, H5T_STD_U16LE), "data", grid(3, 1));
  ASSERT_EQ(r.total_intensity.size(), 3u);
  EXPECT_DOUBLE_EQ(r.total_intensity[0], 10.0);
  EXPECT_DOUBLE_EQ(r.total_intensity[1], 400.0);
  EXPECT_DOUBLE_EQ(r.total_intensity[2], 65536.0);
  // Frame 0: com_x = (2 + 4) / 10, com_y = (3 + 4) / 10.
  EXPECT_DOUBLE_EQ(r.com_x[0], 0.6);
  EXPECT_DOUBLE_EQ(r.com_y[0], 0.7);
}

TEST_F(ReferenceRoi, TotalIntensityOfKnownFloatFrames) {
  const std::vector<double> pixels = {0.5, 0.25, 0.125, 0.125, 2.5, -0.5, 0, 0};
  const auto r = reference::compute_roi(write_stack(pixels, 2, 1, 4, H5T_IEEE_F32LE), "data", grid(1, 2));
  EXPECT_DOUBLE_EQ(r.total_intensity[0], 1.0);
  EXPECT_DOUBLE_EQ(r.total_intensity[1], 2.0);
  EXPECT_DOUBLE_EQ(r.com_x[1], -0.5 / 2.0);  // negative pixels weigh in as they are
}

TEST_F(ReferenceRoi, ZeroFrameIsCountedAndLeftOutOfTheStatistics) {
  // 1x3 grid of 1x3 frames: CoM at column 0, no signal, CoM at column 2. Over the two frames
  // with a CoM: mean_x = 1, std_x = 1 (not the 2/3-based values a zero CoM would give),
  // std_y = 0 so z_y = 0; hence c = 1, 0, 1.
  const std::vector<double> pixels = {7, 0, 0, 0, 0, 0, 0, 0, 3};
  const auto r = reference::compute_roi(write_stack(pixels, 3, 1, 3), "data", grid(1, 3));
  EXPECT_EQ(r.frames_without_signal, 1);
  EXPECT_DOUBLE_EQ(r.total_intensity[1], 0.0);
  EXPECT_TRUE(std::isnan(r.com_x[1]));
  EXPECT_TRUE(std::isnan(r.com_y[1]));
  EXPECT_DOUBLE_EQ(r.mean_com_x, 1.0);
  EXPECT_DOUBLE_EQ(r.std_com_x, 1.0);
  EXPECT_DOUBLE_EQ(r.mean_com_y, 0.0);
  EXPECT_DOUBLE_EQ(r.std_com_y, 0.0);
  EXPECT_DOUBLE_EQ(r.com_magnitude[0], 1.0);
  EXPECT_DOUBLE_EQ(r.com_magnitude[1], 0.0);
  EXPECT_DOUBLE_EQ(r.com_magnitude[2], 1.0);
}

TEST_F(ReferenceRoi, PopulationStandardDeviationInBothComponents) {
  // 4 frames of 2x2 with one pixel each, at (0,0), (0,1), (1,0), (1,1): com_x = 0,1,0,1 and
  // com_y = 0,0,1,1; means 0.5, population std 0.5, so every z is +-1 and c = sqrt(2).
  std::vector<double> pixels(4 * 4, 0.0);
  for (int k = 0; k < 4; ++k) pixels[k * 4 + k] = 2;
  const auto r = reference::compute_roi(write_stack(pixels, 4, 2, 2), "data", grid(2, 2));
  EXPECT_DOUBLE_EQ(r.std_com_x, 0.5);
  EXPECT_DOUBLE_EQ(r.std_com_y, 0.5);
  for (double c : r.com_magnitude) EXPECT_DOUBLE_EQ(c, std::sqrt(2.0));
}

// --- step 5: 3x3 mean over existing cells -----------------------------------------------------

TEST(ReferenceSmoothing, MeanOverExistingNeighboursAtCornerEdgeInterior) {
  // 3x4 grid holding 0..11 row by row.
  //  0  1  2  3
  //  4  5  6  7
  //  8  9 10 11
  std::vector<double> map(12);
  for (int i = 0; i < 12; ++i) map[i] = i;
  const auto s = reference::smooth_3x3(map, 3, 4);
  EXPECT_DOUBLE_EQ(s[0], (0 + 1 + 4 + 5) / 4.0);                       // corner, 4 cells
  EXPECT_DOUBLE_EQ(s[1], (0 + 1 + 2 + 4 + 5 + 6) / 6.0);               // top edge, 6 cells
  EXPECT_DOUBLE_EQ(s[4], (0 + 1 + 4 + 5 + 8 + 9) / 6.0);               // left edge, 6 cells
  EXPECT_DOUBLE_EQ(s[5], (0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10) / 9.0);  // interior, 9 cells
  EXPECT_DOUBLE_EQ(s[11], (6 + 7 + 10 + 11) / 4.0);                    // opposite corner
}

TEST_F(ReferenceRoi, MapsFollowTheRowMajorScanGrid) {
  // 2x3 grid, frame k has T = k + 1. Grid:  1 2 3 / 4 5 6. A transposed (3x2) reading would
  // give (1 + 2 + 3 + 4) / 4 at cell 0 instead.
  std::vector<double> pixels = {1, 2, 3, 4, 5, 6};
  const auto r = reference::compute_roi(write_stack(pixels, 6, 1, 1), "data", grid(2, 3));
  EXPECT_DOUBLE_EQ(r.absorption_map[0], (1 + 2 + 4 + 5) / 4.0);
  EXPECT_DOUBLE_EQ(r.absorption_map[1], (1 + 2 + 3 + 4 + 5 + 6) / 6.0);
  EXPECT_DOUBLE_EQ(r.absorption_map[5], (2 + 3 + 5 + 6) / 4.0);
}

// --- step 6: feature --------------------------------------------------------------------------

TEST(ReferenceFeature, LogReplacesNonPositiveBySmallestPositive) {
  const std::vector<double> map = {0, 2, -1, 4};
  const auto f = reference::clustering_feature(map, true);
  EXPECT_DOUBLE_EQ(f[0], std::log(2.0));
  EXPECT_DOUBLE_EQ(f[1], std::log(2.0));
  EXPECT_DOUBLE_EQ(f[2], std::log(2.0));
  EXPECT_DOUBLE_EQ(f[3], std::log(4.0));
  EXPECT_EQ(reference::clustering_feature(map, false), map);  // linear: untouched
  EXPECT_EQ(reference::clustering_feature({0, 0}, true), (std::vector<double>{0, 0}));
}

// --- step 7: k-means --------------------------------------------------------------------------

TEST(ReferenceKMeans, ObviousTwoClusters) {
  const std::vector<double> x = {1, 10, 1.2, 11, 0.9, 9.5};
  const auto km = reference::kmeans_1d(x, 2, 10);
  EXPECT_EQ(km.labels, (std::vector<int>{0, 1, 0, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(km.centroids[0], (1 + 1.2 + 0.9) / 3);
  EXPECT_DOUBLE_EQ(km.centroids[1], (10 + 11 + 9.5) / 3);
}

TEST(ReferenceKMeans, TieGoesToLowerCentroid) {
  // No iteration: centroids are min and max, 1 is equally far from both.
  const auto km = reference::kmeans_1d({0, 1, 2}, 2, 0);
  EXPECT_EQ(km.centroids, (std::vector<double>{0, 2}));
  EXPECT_EQ(km.labels, (std::vector<int>{0, 0, 1}));
}

TEST(ReferenceKMeans, IterationsMoveCentroidsAndFinalAssignmentUsesThem) {
  // Start 0 and 20 (split at 10): 11 and 20 in cluster 1. After one update the centroids are
  // 36/5 = 7.2 and 15.5 (split 11.35), so the final assignment moves 11 to cluster 0.
  const std::vector<double> x = {0, 9, 9, 9, 9, 11, 20};
  EXPECT_EQ(reference::kmeans_1d(x, 2, 0).labels, (std::vector<int>{0, 0, 0, 0, 0, 1, 1}));
  const auto one = reference::kmeans_1d(x, 2, 1);
  EXPECT_DOUBLE_EQ(one.centroids[0], 7.2);
  EXPECT_DOUBLE_EQ(one.centroids[1], 15.5);
  EXPECT_EQ(one.labels, (std::vector<int>{0, 0, 0, 0, 0, 0, 1}));
  const auto two = reference::kmeans_1d(x, 2, 2);
  EXPECT_DOUBLE_EQ(two.centroids[0], 47.0 / 6);
  EXPECT_DOUBLE_EQ(two.centroids[1], 20.0);
}

TEST(ReferenceKMeans, EmptyClusterKeepsItsCentroid) {
  // k = 3 starts at 0, 5, 10; nothing is nearest to 5, so it stays there.
  const auto km = reference::kmeans_1d({0, 0, 0, 10}, 3, 10);
  EXPECT_EQ(km.centroids, (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(km.labels, (std::vector<int>{0, 0, 0, 2}));
}

// --- step 9: border ---------------------------------------------------------------------------

TEST(ReferenceBorder, GrowByOneStep) {
  Mask centre(25, 0);
  centre[2 * 5 + 2] = 1;
  const Mask grown = reference::apply_border(centre, 5, 5, 1);
  for (long r = 0; r < 5; ++r) {
    for (long c = 0; c < 5; ++c) {
      const bool inside = r >= 1 && r <= 3 && c >= 1 && c <= 3;
      EXPECT_EQ(grown[r * 5 + c], inside ? 1 : 0) << "cell " << r << "," << c;
    }
  }
  Mask corner(9, 0);  // at a corner the grown block is cut by the grid: 2x2
  corner[0] = 1;
  EXPECT_EQ(reference::apply_border(corner, 3, 3, 1), (Mask{1, 1, 0, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(reference::apply_border(corner, 3, 3, 2), Mask(9, 1));
}

TEST(ReferenceBorder, ShrinkByOneStep) {
  // A 3x3 block in a 5x5 grid erodes to its centre.
  Mask block(25, 0);
  for (long r = 1; r <= 3; ++r)
    for (long c = 1; c <= 3; ++c) block[r * 5 + c] = 1;
  Mask centre(25, 0);
  centre[2 * 5 + 2] = 1;
  EXPECT_EQ(reference::apply_border(block, 5, 5, -1), centre);
  EXPECT_EQ(reference::apply_border(block, 5, 5, -2), Mask(25, 0));
  // Outside the grid does not count: a 2x2 block in a 4x4 corner keeps the corner cell, and a
  // full grid stays full.
  Mask corner_block(16, 0);
  corner_block[0] = corner_block[1] = corner_block[4] = corner_block[5] = 1;
  Mask corner_only(16, 0);
  corner_only[0] = 1;
  EXPECT_EQ(reference::apply_border(corner_block, 4, 4, -1), corner_only);
  EXPECT_EQ(reference::apply_border(Mask(16, 1), 4, 4, -3), Mask(16, 1));
  EXPECT_EQ(reference::apply_border(corner_block, 4, 4, 0), corner_block);
}

// --- whole method -----------------------------------------------------------------------------

// 1x5 grid of 1x2 frames [a, b]: T = a + b, com_x = b / T, com_y = 0.
//   T      = 10, 10, 10, 1, 1          -> smoothed 10, 10, 7, 4, 1
//   com_x  = 1, .5, .5, .5, .5         -> mean .6, std .2, z = 2, -.5 x4, c = 2, .5 x4
//   c      -> smoothed 1.25, 1, .5, .5, .5
// log:    T feature ln10 ln10 ln7 ln4 0 -> clusters {4} (low) / rest; c -> {0,1} (high) / rest
// linear: T 10 10 7 4 1 -> {3,4} / rest;  c -> {0,1} / rest
const std::vector<double> kScan = {0, 10, 5, 5, 5, 5, 0.5, 0.5, 0.5, 0.5};

TEST_F(ReferenceRoi, WholeMethodOnHandComputedScan) {
  const auto r = reference::compute_roi(write_stack(kScan, 5, 1, 2), "data", grid(1, 5));
  const std::vector<double> smoothed_t = {10, 10, 7, 4, 1};
  const std::vector<double> smoothed_c = {1.25, 1, 0.5, 0.5, 0.5};
  for (int k = 0; k < 5; ++k) {
    EXPECT_DOUBLE_EQ(r.absorption_map[k], smoothed_t[k]) << k;
    EXPECT_NEAR(r.scattering_map[k], smoothed_c[k], 1e-12) << k;
  }
  EXPECT_NEAR(r.com_magnitude[0], 2.0, 1e-12);
  EXPECT_NEAR(r.com_magnitude[4], 0.5, 1e-12);
  EXPECT_EQ(r.absorption_roi, (Mask{0, 0, 0, 0, 1}));
  EXPECT_EQ(r.scattering_roi, (Mask{1, 1, 0, 0, 0}));
  EXPECT_EQ(r.mask, (Mask{1, 1, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(r.absorption_clusters.centroids[r.absorption_cluster], 0.0);  // ln 1
}

TEST_F(ReferenceRoi, WholeMethodLinearFeature) {
  auto p = grid(1, 5);
  p.use_log = false;
  const auto r = reference::compute_roi(write_stack(kScan, 5, 1, 2), "data", p);
  EXPECT_EQ(r.absorption_roi, (Mask{0, 0, 0, 1, 1}));
  EXPECT_EQ(r.scattering_roi, (Mask{1, 1, 0, 0, 0}));
  EXPECT_EQ(r.mask, (Mask{1, 1, 0, 1, 1}));
  EXPECT_DOUBLE_EQ(r.absorption_clusters.centroids[r.absorption_cluster], 2.5);
}

TEST_F(ReferenceRoi, WholeMethodWithBorder) {
  const std::string file = write_stack(kScan, 5, 1, 2);
  auto p = grid(1, 5);
  p.border = 1;
  EXPECT_EQ(reference::compute_roi(file, "data", p).mask, Mask(5, 1));
  p.border = -1;  // only cell 0 has all its existing neighbours (cell 1) in the RoI
  EXPECT_EQ(reference::compute_roi(file, "data", p).mask, (Mask{1, 0, 0, 0, 0}));
}

TEST_F(ReferenceRoi, GridThatDoesNotMatchTheFramesIsAnError) {
  const std::string file = write_stack(kScan, 5, 1, 2);
  EXPECT_THROW(reference::compute_roi(file, "data", grid(2, 3)), std::runtime_error);
  EXPECT_THROW(reference::compute_roi(file, "data", grid(0, 5)), std::invalid_argument);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // the next failure is expected: keep HDF5 quiet
  EXPECT_THROW(reference::compute_roi(file, "missing", grid(1, 5)), std::runtime_error);
}

}  // namespace
