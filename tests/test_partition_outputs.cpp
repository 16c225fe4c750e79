// Names and contents of the per-partition outputs (--partition-files).
#include "ptyroi/io/partition_outputs.hpp"

#include <gtest/gtest.h>

#include "ptyroi/io/output_format.hpp"

namespace ptyroi {
namespace {

TEST(PartitionOutputs, NamedAfterTheOutputBeforeItsExtension) {
  RoiOutput output;
  output.path = "dir.v2/scan_roi.cxi";
  EXPECT_EQ(partition_output(output, 3, 8).path, "dir.v2/scan_roi_part3.cxi");
  EXPECT_EQ(partition_output(output, 3, 11).path, "dir.v2/scan_roi_part03.cxi");
  EXPECT_EQ(partition_output(output, 42, 100).path, "dir.v2/scan_roi_part42.cxi");
  output.path = "scan_roi.h5";
  EXPECT_EQ(partition_output(output, 0, 2).path, "scan_roi_part0.h5");
  output.path = "scan";
  EXPECT_EQ(partition_output(output, 1, 2).path, "scan_part1");
  // A PtychoShelves prefix keeps its _dp.hdf5 / _para.hdf5 pair.
  output.format = &output_format("ptychoshelves");
  output.path = "base/1/data_roi0_dp.hdf5";
  const RoiOutput part = partition_output(output, 1, 4);
  EXPECT_EQ(part.path, "base/1/data_roi0_part1_dp.hdf5");
  EXPECT_EQ(part.paths(),
            (std::vector<std::string>{"base/1/data_roi0_part1_dp.hdf5", "base/1/data_roi0_part1_para.hdf5"}));
  // tike: PREFIX.npz and PREFIX_roi.h5.
  output.format = &output_format("tike");
  output.path = "scan_roi.npz";
  EXPECT_EQ(partition_output(output, 2, 3).paths(),
            (std::vector<std::string>{"scan_roi_part2.npz", "scan_roi_part2_roi.h5"}));
}

TEST(PartitionOutputs, APartsResultHoldsItsFramesAndHalo) {
  // 10 frames, this rank holds frames 4..8; part 1 owns {5, 6, 9} with halo {3, 4}.
  RoiResult result;
  result.frames = 10;
  result.local = {4, 9};
  result.local_mask = {1, 1, 1, 0, 1};
  result.local_selected = {4, 5, 6, 8};
  result.roi_frames = 7;
  ScanPartitions parts;
  parts.parts = 2;
  parts.label = {0, -1, 0, 0, 0, 1, 1, -1, 0, 1};
  parts.core = {{0, 2, 3, 4, 8}, {5, 6, 9}};
  parts.halo_of = {{5}, {3, 4}};
  const RoiResult part = partition_result(result, parts, 1);
  EXPECT_EQ(part.roi_frames, 5);
  EXPECT_EQ(part.local_mask, (std::vector<std::uint8_t>{1, 1, 1, 0, 0}));
  EXPECT_EQ(part.local_selected, (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(part.local.begin, 4u);
}

}  // namespace
}  // namespace ptyroi
