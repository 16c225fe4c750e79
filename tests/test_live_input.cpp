// The readers of an acquisition in progress (issue 17, ptyroi --follow) on real HDF5 files written
// here step by step: which frames count as written (h5::complete_prefix), whether a writer holds a
// file (h5::open_for_writing), a NeXus master whose data files arrive out of order (LiveStack: one
// rank looks, every rank adopts and reads), and positions tables caught with half a line.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/live_stack.hpp"
#include "ptyroi/io/positions.hpp"

namespace ptyroi {
namespace {

constexpr hsize_t kSide = 4;

// A file of this test, per rank count (the MPI tests may run side by side).
std::string test_file(const std::string& name) {
  const char* directory = std::getenv("PTYROI_TEST_OUTDIR");
  return std::string(directory ? directory : ".") + "/live_n" + std::to_string(mpi::size(MPI_COMM_WORLD)) + "_" + name;
}

h5::Handle create_serial(const std::string& path, bool latest) {
  h5::Handle fapl = h5::checked(H5Pcreate(H5P_FILE_ACCESS), "fapl");
  if (latest) h5::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "libver");
  return h5::checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "create " + path);
}

// An unlimited [0, 4, 4] uint16 stack chunked [depth, 4, 4].
h5::Handle growing_stack(hid_t file, const std::string& path, hsize_t depth) {
  const hsize_t dims[3] = {0, kSide, kSide}, max_dims[3] = {H5S_UNLIMITED, kSide, kSide};
  const hsize_t chunk[3] = {depth, kSide, kSide};
  h5::Handle space = h5::checked(H5Screate_simple(3, dims, max_dims), "space");
  h5::Handle create = h5::checked(H5Pcreate(H5P_DATASET_CREATE), "dcpl");
  h5::check(H5Pset_chunk(create.get(), 3, chunk), "chunk");
  return h5::checked(H5Dcreate2(file, path.c_str(), H5T_STD_U16LE, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT),
                     path);
}

void set_frames(hid_t dataset, hsize_t frames) {
  const hsize_t dims[3] = {frames, kSide, kSide};
  h5::check(H5Dset_extent(dataset, dims), "extent");
}

// Frame k holds k + 1 in every pixel.
void write_frames(hid_t dataset, hsize_t first, hsize_t count, std::uint16_t value_of_first) {
  std::vector<std::uint16_t> values(count * kSide * kSide);
  for (hsize_t f = 0; f < count; ++f) {
    std::fill_n(values.begin() + static_cast<long>(f * kSide * kSide), kSide * kSide,
                static_cast<std::uint16_t>(value_of_first + f));
  }
  h5::Handle file_space = h5::select_frames(dataset, first, count);
  h5::Handle memory = h5::memory_space({count, kSide, kSide});
  h5::check(H5Dwrite(dataset, H5T_NATIVE_UINT16, memory.get(), file_space.get(), H5P_DEFAULT, values.data()), "write");
}

TEST(MPI_LiveInput, OnlyFramesWhoseChunksAreWrittenInsideTheExtentCount) {
  if (mpi::rank(MPI_COMM_WORLD) != 0) return;
  const std::string path = test_file("prefix.h5");
  h5::Handle file = create_serial(path, false);
  h5::Handle one = growing_stack(file.get(), "/one", 1);
  set_frames(one.get(), 3);
  write_frames(one.get(), 0, 3, 1);
  set_frames(one.get(), 5);  // grown, frames 3 and 4 not written yet
  h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
  EXPECT_EQ(h5::complete_prefix(one.get(), 0, 5), 3u);
  EXPECT_EQ(h5::complete_prefix(one.get(), 2, 5), 3u);
  write_frames(one.get(), 3, 1, 4);
  EXPECT_EQ(h5::complete_prefix(one.get(), 3, 5), 4u);
  // Chunks of two frames: one reaching past the extent may still be filled.
  h5::Handle two = growing_stack(file.get(), "/two", 2);
  set_frames(two.get(), 5);
  write_frames(two.get(), 0, 5, 1);
  EXPECT_EQ(h5::complete_prefix(two.get(), 0, 5), 4u);
  set_frames(two.get(), 6);
  write_frames(two.get(), 5, 1, 6);
  EXPECT_EQ(h5::complete_prefix(two.get(), 4, 6), 6u);
}

TEST(MPI_LiveInput, AWriterHoldingAFileIsSeenInTheSuperblock) {
  if (mpi::rank(MPI_COMM_WORLD) != 0) return;
  const std::string path = test_file("writer.h5");
  {
    h5::Handle file = create_serial(path, true);
    h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
    EXPECT_TRUE(h5::open_for_writing(path));
  }
  EXPECT_FALSE(h5::open_for_writing(path));
  // The original format has no such flags: its writers cannot use SWMR.
  const std::string old = test_file("writer_v0.h5");
  h5::Handle file = create_serial(old, false);
  h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
  EXPECT_FALSE(h5::open_for_writing(old));
  EXPECT_FALSE(h5::open_for_writing(test_file("absent.h5")));
}

// A data file of the master: /entry/data/data [3, 4, 4], frames first + 1 ... first + 3.
void write_data_file(const std::string& path, std::uint16_t first_value) {
  h5::Handle file = create_serial(path, false);
  h5::create_group(file.get(), "/entry/data");
  h5::Handle stack = growing_stack(file.get(), "/entry/data/data", 1);
  set_frames(stack.get(), 3);
  write_frames(stack.get(), 0, 3, first_value);
}

// Rank 0 looks; every rank adopts what it saw.
LiveStack::View look_and_adopt(LiveStack& stack) {
  std::string seen = mpi::rank(MPI_COMM_WORLD) == 0 ? stack.look().encode() : std::string();
  seen = mpi::broadcast(MPI_COMM_WORLD, 0, seen);
  const LiveStack::View view = LiveStack::View::decode(seen);
  stack.adopt(view);
  return view;
}

TEST(MPI_LiveInput, DataFilesCountInStackOrderOnceTheyArrive) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool root = mpi::rank(comm) == 0;
  const std::string master = test_file("scan_master.h5");
  const std::vector<std::string> data{test_file("scan_data_000001.h5"), test_file("scan_data_000002.h5"),
                                      test_file("scan_data_000003.h5")};
  if (root) {
    for (const auto& path : data) std::remove(path.c_str());
    h5::Handle file = create_serial(master, false);
    h5::create_group(file.get(), "/entry/data");
    h5::create_group(file.get(), "/entry/instrument/detector/detectorSpecific");
    for (std::size_t i = 0; i < data.size(); ++i) {
      const std::string name = data[i].substr(data[i].rfind('/') + 1);
      const std::string link = "/entry/data/data_00000" + std::to_string(i + 1);
      h5::check(
          H5Lcreate_external(name.c_str(), "/entry/data/data", file.get(), link.c_str(), H5P_DEFAULT, H5P_DEFAULT),
          "link");
    }
    h5::Handle nimages =
        h5::create_dataset(file.get(), "/entry/instrument/detector/detectorSpecific/nimages", H5T_STD_U64LE, {});
    const std::uint64_t nine = 9;
    h5::check(H5Dwrite(nimages.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &nine), "nimages");
  }
  MPI_Barrier(comm);
  std::unique_ptr<LiveStack> stack = LiveStack::open(master, InputLayout::automatic, "");
  ASSERT_TRUE(stack->arrives_in_files());
  LiveStack::View view = look_and_adopt(*stack);
  EXPECT_EQ(view.frames, 0u);
  ASSERT_TRUE(view.expected.has_value());
  EXPECT_EQ(*view.expected, 9u);
  EXPECT_NE(view.waiting.find("data_000001"), std::string::npos) << view.waiting;
  // The second file first: nothing counts before the first.
  if (root) write_data_file(data[1], 4);
  MPI_Barrier(comm);
  view = look_and_adopt(*stack);
  EXPECT_EQ(view.frames, 0u);
  if (root) write_data_file(data[0], 1);
  MPI_Barrier(comm);
  view = look_and_adopt(*stack);
  EXPECT_EQ(view.frames, 6u);
  EXPECT_EQ(stack->frames(), 6u);
  EXPECT_EQ(stack->rows(), kSide);
  // Every rank reads every frame it was told of, across the two files.
  std::vector<std::uint16_t> frames(6 * kSide * kSide);
  stack->read_frames(0, 6, frames.data());
  for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(frames[k * kSide * kSide + 5], k + 1) << "frame " << k;
  EXPECT_THROW(stack->read_frames(5, 2, frames.data()), IoError);
  if (root) write_data_file(data[2], 7);
  MPI_Barrier(comm);
  view = look_and_adopt(*stack);
  EXPECT_EQ(view.frames, 9u);
  EXPECT_TRUE(view.waiting.empty()) << view.waiting;
  stack->read_frames(6, 3, frames.data());
  EXPECT_EQ(frames[2 * kSide * kSide], 9);
  MPI_Barrier(comm);
}

TEST(MPI_LiveInput, AViewSurvivesItsBroadcast) {
  LiveStack::View view;
  view.segments = {{"/entry/data/data_000001", 20}, {"/entry/data/data_000002", 7}};
  view.frames = 27;
  view.expected = 100;
  view.waiting = "dataset '/entry/data/data_000003' does not open yet\n(HDF5: truncated)";
  const LiveStack::View back = LiveStack::View::decode(view.encode());
  EXPECT_EQ(back.frames, 27u);
  EXPECT_EQ(back.expected, std::optional<std::uint64_t>(100));
  ASSERT_EQ(back.segments.size(), 2u);
  EXPECT_EQ(back.segments[1].dataset, "/entry/data/data_000002");
  EXPECT_EQ(back.segments[1].frames, 7u);
  EXPECT_EQ(back.waiting.find('\n'), std::string::npos);
  const LiveStack::View none = LiveStack::View::decode(LiveStack::View{}.encode());
  EXPECT_EQ(none.frames, 0u);
  EXPECT_FALSE(none.expected.has_value());
  EXPECT_TRUE(none.segments.empty());
}

TEST(MPI_LiveInput, APositionsTableCountsItsCompleteLines) {
  if (mpi::rank(MPI_COMM_WORLD) != 0) return;
  const std::string path = test_file("positions.csv");
  {
    std::ofstream csv(path);
    csv << "frame,x_um,y_um\n0,0,0\n1,0.5,0\n2,1.0,0\n3,1.";  // the last line half written
  }
  PositionsSpec spec;
  spec.table_file = path;
  spec.scale = 1e-6;
  AvailablePositions available = read_available_positions(spec, test_file("none.h5"), InputDescription{}, false);
  ASSERT_EQ(available.positions.x.size(), 3u);
  EXPECT_DOUBLE_EQ(available.positions.x[2], 1.0e-6);
  EXPECT_FALSE(available.unlimited);
  {
    std::ofstream csv(path, std::ios::app);
    csv << "5,0\n";
  }
  available = read_available_positions(spec, test_file("none.h5"), InputDescription{}, false);
  ASSERT_EQ(available.positions.x.size(), 4u);
  EXPECT_DOUBLE_EQ(available.positions.x[3], 1.5e-6);
  // No table yet: nothing, and why.
  spec.table_file = test_file("absent.csv");
  available = read_available_positions(spec, test_file("none.h5"), InputDescription{}, false);
  EXPECT_TRUE(available.positions.x.empty());
  EXPECT_FALSE(available.waiting.empty());
  // A raster without positions needs none.
  spec.table_file.clear();
  spec.none = true;
  EXPECT_TRUE(read_available_positions(spec, test_file("none.h5"), InputDescription{}, true).unlimited);
}

}  // namespace
}  // namespace ptyroi
