// The readers on real detector files and on a simulated multi-file NeXus scan, on every rank count:
// what PatternStack and the position/mask readers return is checked against plain serial HDF5 reads
// of the same datasets (a different code path: whole datasets, no hyperslabs, no MPI-IO).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/positions.hpp"

namespace ptyroi {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// A whole dataset through the serial HDF5 library, as int64.
std::vector<std::int64_t> serial_read(const std::string& file_path, const std::string& dataset_path) {
  h5::Handle file = h5::open_file_read_serial(file_path);
  h5::Handle dataset = h5::checked(H5Dopen2(file.get(), dataset_path.c_str(), H5P_DEFAULT), "open " + dataset_path);
  return h5::read_all<std::int64_t>(dataset.get());
}

// This rank's frames read through the stack, as int64.
std::vector<std::int64_t> stack_read(const PatternStack& stack, FrameRange range) {
  std::vector<std::int64_t> values;
  visit_pixel_type(stack.pixel_type(), [&](auto pixel) {
    using Pixel = decltype(pixel);
    std::vector<Pixel> buffer(range.count() * stack.pixels_per_frame());
    stack.read_frames(range.begin, range.count(), buffer.data());
    values.assign(buffer.begin(), buffer.end());
  });
  return values;
}

TEST(RealData, ArinaNexusMasterReadsThroughItsExternalLinkWithBitshuffleDecoded) {
  const std::string dir = env("PTYROI_REAL_DATA");
  ASSERT_FALSE(dir.empty()) << "PTYROI_REAL_DATA is not set";
  const std::string master = dir + "/arina/test_00_master.h5";
  const PatternStack stack = PatternStack::open(master, InputLayout::automatic, "", 0, MPI_COMM_WORLD);
  EXPECT_EQ(stack.description().layout, InputLayout::nexus);
  EXPECT_EQ(stack.segments(), 1u);
  EXPECT_EQ(stack.frames(), 16u);
  EXPECT_EQ(stack.rows(), 192u);
  EXPECT_EQ(stack.cols(), 192u);
  EXPECT_EQ(stack.pixel_type(), PixelType::u32);
  EXPECT_EQ(stack.description().mask_path, "/entry/instrument/detector/detectorSpecific/pixel_mask");
  EXPECT_EQ(stack.description().bit_depth, 32);
  // The recording leaves beam_center_x/y at (0, 0): unset, so --crop does not centre on the corner pixel.
  EXPECT_FALSE(stack.description().has_beam_center);
  EXPECT_NE(stack.description().beam_center_note.find("(0, 0)"), std::string::npos);
  // The recording is all zeros: decoded, every value must be 0 (a failed decode would throw).
  const FrameRange mine = partition_frames(stack.frames(), mpi::size(MPI_COMM_WORLD), mpi::rank(MPI_COMM_WORLD));
  const auto values = stack_read(stack, mine);
  EXPECT_EQ(values.size(), mine.count() * 192 * 192);
  EXPECT_EQ(std::count(values.begin(), values.end(), 0), static_cast<std::ptrdiff_t>(values.size()));
  // The detector mask: as many good pixels as the file has zeros.
  std::string sources;
  const auto good = combined_good_pixels(PixelSettings{}, master, stack.description(), 192, 192, sources);
  const auto mask = serial_read(master, "/entry/instrument/detector/detectorSpecific/pixel_mask");
  EXPECT_EQ(std::accumulate(good.begin(), good.end(), std::int64_t{0}), std::count(mask.begin(), mask.end(), 0));
}

TEST(RealData, Petra3CxiReadsWithItsMaskAndTranslations) {
  const std::string dir = env("PTYROI_REAL_DATA");
  ASSERT_FALSE(dir.empty()) << "PTYROI_REAL_DATA is not set";
  const std::string cxi = dir + "/petra3-p25/PETRAIII_P25_Near_Field_Ptycho.cxi";
  const PatternStack stack = PatternStack::open(cxi, InputLayout::automatic, "", 0, MPI_COMM_WORLD);
  EXPECT_EQ(stack.description().layout, InputLayout::cxi);
  EXPECT_EQ(stack.frames(), 200u);
  EXPECT_EQ(stack.rows(), 100u);
  EXPECT_EQ(stack.cols(), 100u);
  EXPECT_EQ(stack.pixel_type(), PixelType::i32);
  const FrameRange mine = partition_frames(stack.frames(), mpi::size(MPI_COMM_WORLD), mpi::rank(MPI_COMM_WORLD));
  const auto values = stack_read(stack, mine);
  const auto all = serial_read(cxi, "/entry_1/instrument_1/detector_1/data");
  const std::vector<std::int64_t> expected(all.begin() + static_cast<std::ptrdiff_t>(mine.begin * 10000),
                                           all.begin() + static_cast<std::ptrdiff_t>(mine.end * 10000));
  EXPECT_EQ(values, expected);

  const ScanPositions positions = read_scan_positions(PositionsSpec{}, cxi, stack.description(), stack.frames(), true);
  const auto translation = serial_read(cxi, "/entry_1/sample_1/geometry_1/translation");  // int64 truncates
  ASSERT_EQ(positions.x.size(), 200u);
  h5::Handle file = h5::open_file_read_serial(cxi);
  h5::Handle dataset = h5::checked(H5Dopen2(file.get(), "/entry_1/sample_1/geometry_1/translation", H5P_DEFAULT), "");
  const auto xyz = h5::read_all<double>(dataset.get());
  for (std::size_t k = 0; k < 200; ++k) {
    EXPECT_EQ(positions.x[k], xyz[3 * k]);
    EXPECT_EQ(positions.y[k], xyz[3 * k + 1]);
  }
  std::string sources;
  const auto good = combined_good_pixels(PixelSettings{}, cxi, stack.description(), 100, 100, sources);
  const auto mask = serial_read(cxi, "/entry_1/instrument_1/detector_1/mask");
  EXPECT_EQ(sources, "/entry_1/instrument_1/detector_1/mask");
  EXPECT_EQ(std::accumulate(good.begin(), good.end(), std::int64_t{0}), std::count(mask.begin(), mask.end(), 0));
  EXPECT_LT(std::count(mask.begin(), mask.end(), 0), 10000);  // the mask does mark pixels
}

TEST(SimulatedNexus, RangesAcrossDataFilesEqualTheDataFilesReadOneByOne) {
  const std::string master = env("PTYROI_TEST_NEXUS");
  ASSERT_FALSE(master.empty()) << "PTYROI_TEST_NEXUS is not set";
  const PatternStack stack = PatternStack::open(master, InputLayout::automatic, "", 5, MPI_COMM_WORLD);
  ASSERT_EQ(stack.description().layout, InputLayout::nexus);
  ASSERT_GT(stack.segments(), 2u);
  // The stack is the data files concatenated in link order.
  std::vector<std::int64_t> concatenated;
  const std::string prefix = master.substr(0, master.size() - std::string("_master.h5").size());
  for (std::size_t i = 1; i <= stack.segments(); ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "_data_%06zu.h5", i);
    const auto block = serial_read(prefix + name, "/entry/data/data");
    concatenated.insert(concatenated.end(), block.begin(), block.end());
  }
  ASSERT_EQ(concatenated.size(), stack.frames() * stack.pixels_per_frame());
  // Every rank reads odd-sized ranges that straddle file boundaries.
  const int rank = mpi::rank(MPI_COMM_WORLD);
  for (std::uint64_t first = static_cast<std::uint64_t>(rank); first < stack.frames(); first += 37) {
    const FrameRange range{first, std::min<std::uint64_t>(stack.frames(), first + 23)};
    const auto values = stack_read(stack, range);
    const auto begin = concatenated.begin() + static_cast<std::ptrdiff_t>(range.begin * stack.pixels_per_frame());
    const auto end = concatenated.begin() + static_cast<std::ptrdiff_t>(range.end * stack.pixels_per_frame());
    EXPECT_TRUE(std::equal(values.begin(), values.end(), begin, end)) << "frames " << range.begin << ".." << range.end;
  }
}

// The caches the stack's datasets are read through, as HDF5 reports them for the open dataset.
struct ReadCaches {
  std::size_t chunk_cache_bytes = 0;
  std::size_t metadata_cache_max = 0;
};
ReadCaches caches_of(hid_t dataset) {
  ReadCaches caches;
  h5::Handle access = h5::checked(H5Dget_access_plist(dataset), "dataset access list");
  std::size_t slots = 0;
  double w0 = 0.0;
  h5::check(H5Pget_chunk_cache(access.get(), &slots, &caches.chunk_cache_bytes, &w0), "chunk cache");
  h5::Handle file = h5::checked(H5Iget_file_id(dataset), "file of the dataset");
  H5AC_cache_config_t config;
  config.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  h5::check(H5Fget_mdc_config(file.get(), &config), "metadata cache configuration");
  caches.metadata_cache_max = config.max_size;
  return caches;
}

TEST(ReadCaches, CompressedChunksGetOneBlockOfCacheAndEveryDataFileABoundedIndexCache) {
  const std::string master = env("PTYROI_TEST_NEXUS");
  ASSERT_FALSE(master.empty()) << "PTYROI_TEST_NEXUS is not set";
  const std::uint64_t block = 5;
  const PatternStack stack =
      PatternStack::open(master, InputLayout::automatic, "", block, MPI_COMM_WORLD, Decoder::hdf5);
  // One frame per bitshuffle-LZ4 chunk: a block touches block + 1 chunks (when it straddles them).
  const std::size_t expected = (block + 1) * stack.frame_bytes();
  for (std::size_t i = 0; i < stack.segments(); ++i) {
    const ReadCaches caches = caches_of(stack.segment_dataset(i));
    EXPECT_EQ(caches.chunk_cache_bytes, expected) << "data file " << i;
    EXPECT_EQ(caches.metadata_cache_max, 64u * 1024u) << "data file " << i;
  }
  // Decoded in-process (the default), the chunks need no HDF5 cache.
  const PatternStack direct = PatternStack::open(master, InputLayout::automatic, "", block, MPI_COMM_WORLD);
  for (std::size_t i = 0; i < direct.segments(); ++i) {
    EXPECT_EQ(direct.segment_decoding(i), "in-process bitshuffle-LZ4") << "data file " << i;
    EXPECT_EQ(caches_of(direct.segment_dataset(i)).chunk_cache_bytes, 0u) << "data file " << i;
    EXPECT_EQ(caches_of(direct.segment_dataset(i)).metadata_cache_max, 64u * 1024u) << "data file " << i;
  }
}

TEST(ReadCaches, UnfilteredChunksBypassTheChunkCache) {
  const std::string scan = env("PTYROI_TEST_SCAN");
  ASSERT_FALSE(scan.empty()) << "PTYROI_TEST_SCAN is not set";
  const PatternStack stack = PatternStack::open(scan, InputLayout::automatic, "", 0, MPI_COMM_WORLD);
  // HDF5 reads a chunk larger than the cache straight into the caller's buffer.
  EXPECT_EQ(caches_of(stack.segment_dataset(0)).chunk_cache_bytes, 0u);
  EXPECT_EQ(caches_of(stack.segment_dataset(0)).metadata_cache_max, 64u * 1024u);
}

}  // namespace
}  // namespace ptyroi
