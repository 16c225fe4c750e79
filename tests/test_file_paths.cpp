#include "ptyroi/io/file_paths.hpp"

#include <gtest/gtest.h>

#include "ptyroi/app/options.hpp"
#include "ptyroi/app/series.hpp"

namespace ptyroi {
namespace {

TEST(FilePaths, DirectoryAndFileName) {
  EXPECT_EQ(directory_of("/data/run7/scan.h5"), "/data/run7");
  EXPECT_EQ(directory_of("scan.h5"), ".");
  EXPECT_EQ(directory_of("/scan.h5"), "/");
  EXPECT_EQ(file_name_of("/data/run7/scan.h5"), "scan.h5");
  EXPECT_EQ(file_name_of("scan.h5"), "scan.h5");
}

TEST(FilePaths, ScanStemDropsExtensionAndFileRole) {
  EXPECT_EQ(scan_stem("/data/scan_0042_master.h5"), "scan_0042");
  EXPECT_EQ(scan_stem("scan.cxi"), "scan");
  EXPECT_EQ(scan_stem("rel/p_dp.hdf5"), "p");
  EXPECT_EQ(scan_stem("_master.h5"), "_master");  // nothing would be left
  EXPECT_EQ(scan_stem("/data/.hidden"), ".hidden");
  EXPECT_EQ(scan_stem("scan.v2.h5"), "scan.v2");
}

TEST(FilePaths, SeriesAndInspectNameOutputsAlike) {
  EXPECT_EQ(scan_output_base("/data/scan_0042_master.h5", "") + "_roi", "/data/scan_0042_roi");
  EXPECT_EQ(scan_output_base("/data/scan_0042_master.h5", "/out") + "_roi", "/out/scan_0042_roi");
  Options series;
  series.output_dir = "/out";
  const Options scan = series_scan_options(series, "/data/scan_0042_master.h5");
  EXPECT_EQ(scan.output_file, scan_output_base(scan.input_file, "/out") + "_roi.h5");
  EXPECT_EQ(scan.summary_file, "/out/scan_0042_roi.json");
}

}  // namespace
}  // namespace ptyroi
