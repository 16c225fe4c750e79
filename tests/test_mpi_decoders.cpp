// The in-process decoders (--decoder auto) against HDF5's filter pipeline (--decoder hdf5), on 1, 2
// and 3 ranks: copies of the simulated test scan written by HDF5 through the real filters
// (bitshuffle-LZ4 from Debian's plugin, deflate, shuffle + deflate) in several chunk shapes, read
// through PatternStack with both decoders (every byte of every window equal) and run through the
// whole pipeline (features, maps, centroids and mask bitwise equal to the uncompressed scan's, for
// every rank count and block size).
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/app/scan_run.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/io/chunk_codec.hpp"
#include "ptyroi/io/chunk_reader.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/plugin_threads.hpp"

namespace ptyroi {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

enum class Filter { bitshuffle_lz4, deflate, shuffle_deflate };

struct Variant {
  std::string name;
  Filter filter;
  std::vector<hsize_t> chunk;  // 0 in a dimension: the whole extent
  bool noise = false;          // a few frames of incompressible noise (deflate skips those chunks)
  bool holes = false;          // chunks never written: HDF5 reads them as the fill value
};

std::vector<Variant> variants() {
  return {
      {"bs_frame", Filter::bitshuffle_lz4, {1, 0, 0}},    // Eiger: one frame per chunk
      {"bs_5frames", Filter::bitshuffle_lz4, {5, 0, 0}},  // chunks across read blocks
      {"bs_rows", Filter::bitshuffle_lz4, {0, 1, 0}},     // [K, 1, M]: every chunk spans all frames
      {"bs_tiles", Filter::bitshuffle_lz4, {3, 24, 40}},  // tiles with edge chunks
      {"gz_frame", Filter::deflate, {1, 0, 0}, true},     //
      {"sgz_4frames", Filter::shuffle_deflate, {4, 0, 0}, true},
      {"sgz_rows", Filter::shuffle_deflate, {0, 1, 0}},  // [K, 1, M] deflate: decoded whole, cached
      {"gz_tiles", Filter::deflate, {2, 32, 20}},        //
      {"bs_holes", Filter::bitshuffle_lz4, {2, 0, 0}, false, true},
  };
}

// Writes the variant of the scan's /data (serial HDF5, rank 0) and returns its path.
std::string write_variant(const std::string& scan, const std::string& outdir, const Variant& v, int world) {
  const std::string path = outdir + "/decoders_" + v.name + "_" + std::to_string(world) + ".h5";
  h5::Handle in = h5::open_file_read_serial(scan);
  h5::Handle source = h5::checked(H5Dopen2(in.get(), "/data", H5P_DEFAULT), "open /data");
  const auto dims = h5::dataset_dims(source.get());
  std::vector<std::uint32_t> data(dims[0] * dims[1] * dims[2]);
  h5::check(H5Dread(source.get(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "read /data");
  const std::size_t frame = dims[1] * dims[2];
  if (v.noise) {
    std::mt19937 random(7);
    for (std::size_t k : {3u, 100u, 101u}) {
      for (std::size_t i = 0; i < frame; ++i) data[k * frame + i] = static_cast<std::uint32_t>(random());
    }
  }
  h5::Handle file = h5::checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create " + path);
  h5::Handle create(H5Pcreate(H5P_DATASET_CREATE));
  hsize_t chunk[3];
  for (int d = 0; d < 3; ++d) chunk[d] = v.chunk[d] == 0 ? dims[d] : v.chunk[d];
  H5Pset_chunk(create.get(), 3, chunk);
  if (v.filter == Filter::bitshuffle_lz4) {
    const unsigned values[] = {0, codec::kBitshuffleLz4};
    h5::check(H5Pset_filter(create.get(), codec::kFilterBitshuffle, H5Z_FLAG_MANDATORY, 2, values),
              "bitshuffle filter (apt-get install bitshuffle)");
  } else {
    if (v.filter == Filter::shuffle_deflate) H5Pset_shuffle(create.get());
    H5Pset_deflate(create.get(), 4);
  }
  const std::uint32_t fill = 7;
  H5Pset_fill_value(create.get(), H5T_NATIVE_UINT32, &fill);
  h5::Handle space(H5Screate_simple(3, dims.data(), nullptr));
  h5::Handle dataset = h5::checked(
      H5Dcreate2(file.get(), "/data", H5T_STD_U32LE, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT), "create");
  if (v.holes) {
    // Frames [0, 40) and [60, K): chunks of frames 40..59 are never written.
    for (const auto& [first, count] : {std::pair<hsize_t, hsize_t>{0, 40}, {60, dims[0] - 60}}) {
      const hsize_t start[3] = {first, 0, 0};
      const hsize_t extent[3] = {count, dims[1], dims[2]};
      h5::Handle file_space(H5Dget_space(dataset.get()));
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
      h5::Handle memory(H5Screate_simple(3, extent, nullptr));
      h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_UINT32, memory.get(), file_space.get(), H5P_DEFAULT,
                         data.data() + first * frame),
                "write");
    }
  } else {
    h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write");
  }
  return path;
}

class MPI_Decoders : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    omp_threads_preset_ = std::getenv("OMP_NUM_THREADS") != nullptr;
    const std::string scan = env("PTYROI_TEST_SCAN");
    outdir_ = env("PTYROI_TEST_OUTDIR");
    grid_ = env("PTYROI_TEST_GRID");
    if (scan.empty() || outdir_.empty()) return;
    const int world = mpi::size(MPI_COMM_WORLD);
    int failed = 0;
    std::string message;
    if (mpi::rank(MPI_COMM_WORLD) == 0) {
      try {
        for (const Variant& v : variants()) files_.push_back(write_variant(scan, outdir_, v, world));
      } catch (const std::exception& e) {
        failed = 1;
        message = e.what();
      }
    }
    MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (failed != 0) {
      setup_error_ = message.empty() ? "writing the test files failed on rank 0" : message;
      return;
    }
    if (mpi::rank(MPI_COMM_WORLD) != 0) {
      for (const Variant& v : variants()) {
        files_.push_back(outdir_ + "/decoders_" + v.name + "_" + std::to_string(world) + ".h5");
      }
    }
    scan_ = scan;
  }
  void SetUp() override {
    if (scan_.empty())
      FAIL() << (setup_error_.empty() ? "set PTYROI_TEST_SCAN and PTYROI_TEST_OUTDIR (ctest does)" : setup_error_);
  }
  static std::string scan_, outdir_, grid_, setup_error_;
  static std::vector<std::string> files_;
  static bool omp_threads_preset_;
};
std::string MPI_Decoders::scan_, MPI_Decoders::outdir_, MPI_Decoders::grid_, MPI_Decoders::setup_error_;
std::vector<std::string> MPI_Decoders::files_;
bool MPI_Decoders::omp_threads_preset_ = false;

std::vector<std::uint32_t> read_box(const PatternStack& stack, std::uint64_t first, std::uint64_t count,
                                    std::uint64_t row, std::uint64_t col, std::uint64_t rows, std::uint64_t cols) {
  std::vector<std::uint32_t> out(count * rows * cols + 1, 0xDEADBEEFu);
  stack.read_window(first, count, row, col, rows, cols, out.data());
  EXPECT_EQ(out.back(), 0xDEADBEEFu) << "wrote past the window";
  out.pop_back();
  return out;
}

TEST_F(MPI_Decoders, EveryWindowReadsTheSameBytesAsHdf5) {
  const int ranks = mpi::size(MPI_COMM_WORLD);
  const int me = mpi::rank(MPI_COMM_WORLD);
  const std::vector<Variant> all = variants();
  for (std::size_t i = 0; i < files_.size(); ++i) {
    SCOPED_TRACE(files_[i]);
    for (std::uint64_t block : {0u, 7u}) {
      const PatternStack direct =
          PatternStack::open(files_[i], InputLayout::automatic, "", block, MPI_COMM_WORLD, Decoder::automatic);
      const PatternStack hdf5 =
          PatternStack::open(files_[i], InputLayout::automatic, "", block, MPI_COMM_WORLD, Decoder::hdf5);
      const char* pipeline = all[i].filter == Filter::bitshuffle_lz4 ? "bitshuffle-LZ4"
                             : all[i].filter == Filter::deflate      ? "deflate"
                                                                     : "shuffle+deflate";
      ASSERT_EQ(direct.segment_decoding(0), std::string("in-process ") + pipeline);
      ASSERT_EQ(hdf5.segment_decoding(0), "HDF5 filter pipeline");
      const std::uint64_t n = direct.rows(), m = direct.cols();
      const FrameRange range = partition_frames(direct.frames(), ranks, me);
      // Whole frames block by block, then odd windows: a column, a pixel, a box off the chunk grid.
      for (std::uint64_t first = range.begin; first < range.end; first += direct.preferred_block_frames()) {
        const std::uint64_t count = std::min(direct.preferred_block_frames(), range.end - first);
        ASSERT_EQ(read_box(direct, first, count, 0, 0, n, m), read_box(hdf5, first, count, 0, 0, n, m))
            << "frames " << first << "+" << count;
      }
      if (range.count() == 0) continue;
      // Also boxes of exactly one chunk's rows and columns, on and off the chunk grid.
      const std::uint64_t* chunk = direct.segment_chunk_reader(0)->chunk_dims();
      std::vector<std::array<std::uint64_t, 4>> windows{
          {5, 7, 30, 41}, {0, m - 1, n, 1}, {n - 1, 3, 1, m - 3}, {17, 33, 1, 1}};
      for (const std::uint64_t shift : {std::uint64_t{0}, std::uint64_t{3}}) {
        if (chunk[1] + shift <= n && chunk[2] + shift <= m) windows.push_back({shift, shift, chunk[1], chunk[2]});
      }
      for (const auto& w : windows) {
        ASSERT_EQ(read_box(direct, range.begin, range.count(), w[0], w[1], w[2], w[3]),
                  read_box(hdf5, range.begin, range.count(), w[0], w[1], w[2], w[3]))
            << "window " << w[0] << "," << w[1] << " " << w[2] << "x" << w[3];
      }
      EXPECT_GT(direct.segment_chunk_reader(0)->chunks_decoded(), 0u);
    }
  }
}

TEST_F(MPI_Decoders, DefaultBlockStaysInCacheWhenChunksAreDecodedInProcess) {
  // 512 KiB blocks when every chunk is decoded in-process and holds no more frames than such a
  // block; 4 MiB otherwise (HDF5's pipeline, or chunks spanning more frames: each small block
  // would fetch them again).
  const std::vector<Variant> all = variants();
  for (std::size_t i = 0; i < files_.size(); ++i) {
    SCOPED_TRACE(files_[i]);
    const PatternStack direct = PatternStack::open(files_[i], InputLayout::automatic, "", 0, MPI_COMM_WORLD);
    const PatternStack hdf5 =
        PatternStack::open(files_[i], InputLayout::automatic, "", 0, MPI_COMM_WORLD, Decoder::hdf5);
    const std::uint64_t frame_bytes = direct.rows() * direct.cols() * sizeof(std::uint32_t);
    const std::uint64_t small = std::max<std::uint64_t>(1, (512u << 10) / frame_bytes);
    const std::uint64_t large = std::max<std::uint64_t>(1, (4u << 20) / frame_bytes);
    const std::uint64_t chunk_frames = all[i].chunk[0] == 0 ? direct.frames() : all[i].chunk[0];
    EXPECT_EQ(direct.preferred_block_frames(), chunk_frames <= small ? small : large);
    EXPECT_EQ(hdf5.preferred_block_frames(), large);
    // An explicit block is kept either way.
    EXPECT_EQ(PatternStack::open(files_[i], InputLayout::automatic, "", 7, MPI_COMM_WORLD).preferred_block_frames(),
              7u);
  }
  // The variants cover both cases.
  ASSERT_TRUE(std::any_of(all.begin(), all.end(), [](const Variant& v) { return v.chunk[0] == 1; }));
  ASSERT_TRUE(std::any_of(all.begin(), all.end(), [](const Variant& v) { return v.chunk[0] == 0; }));
}

TEST_F(MPI_Decoders, PluginOpenMpThreadsShareTheNodesCoresWithTheRanks) {
  if (omp_threads_preset_) GTEST_SKIP() << "OMP_NUM_THREADS was set by the caller; ptyroi leaves it alone";
  const PatternStack stack = PatternStack::open(files_[0], InputLayout::automatic, "", 0, MPI_COMM_WORLD);
  ASSERT_NE(std::getenv("OMP_NUM_THREADS"), nullptr);
  const std::string threads = std::getenv("OMP_NUM_THREADS");
  // ctest runs every rank of this test on one node: the ranks share its cores.
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  const long expected = std::max(1L, online / mpi::size(MPI_COMM_WORLD));
  EXPECT_GE(std::stol(threads), 1L);
  EXPECT_LE(std::stol(threads), expected);
  if (mpi::size(MPI_COMM_WORLD) >= online) EXPECT_EQ(threads, "1");
  // A value the user set is kept.
  setenv("OMP_NUM_THREADS", "5", 1);
  EXPECT_EQ(limit_plugin_threads(MPI_COMM_WORLD), 0);
  EXPECT_STREQ(std::getenv("OMP_NUM_THREADS"), "5");
  setenv("OMP_NUM_THREADS", threads.c_str(), 1);
}

TEST_F(MPI_Decoders, StreamedDeflateChunksReadTheSameBytesAsHdf5) {
  // With the cache bound below a frame layer of chunks, deflate chunks spanning several frames are
  // streamed (zlib, one stream per byte plane when shuffled) instead of decoded whole per read.
  const int ranks = mpi::size(MPI_COMM_WORLD);
  const int me = mpi::rank(MPI_COMM_WORLD);
  const std::vector<Variant> all = variants();
  struct Bound {  // the bound is read when a stack opens; restored however the test ends
    Bound() { set_decoded_cache_bytes(16 << 10); }
    ~Bound() { set_decoded_cache_bytes(kDecodedCacheBytes); }
  };
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (all[i].filter == Filter::bitshuffle_lz4 || all[i].chunk[0] == 1) continue;
    SCOPED_TRACE(files_[i]);
    for (std::uint64_t block : {0u, 7u}) {
      const PatternStack hdf5 =
          PatternStack::open(files_[i], InputLayout::automatic, "", block, MPI_COMM_WORLD, Decoder::hdf5);
      const PatternStack direct = [&] {
        const Bound bound;
        return PatternStack::open(files_[i], InputLayout::automatic, "", block, MPI_COMM_WORLD);
      }();
      ASSERT_TRUE(direct.segment_chunk_reader(0)->streams_chunks());
      const std::uint64_t n = direct.rows(), m = direct.cols();
      const FrameRange range = partition_frames(direct.frames(), ranks, me);
      for (std::uint64_t first = range.begin; first < range.end; first += direct.preferred_block_frames()) {
        const std::uint64_t count = std::min(direct.preferred_block_frames(), range.end - first);
        ASSERT_EQ(read_box(direct, first, count, 0, 0, n, m), read_box(hdf5, first, count, 0, 0, n, m))
            << "frames " << first << "+" << count;
      }
      if (range.count() == 0) continue;
      // Again from the start (the streams restart), then a window.
      ASSERT_EQ(read_box(direct, range.begin, 1, 0, 0, n, m), read_box(hdf5, range.begin, 1, 0, 0, n, m));
      ASSERT_EQ(read_box(direct, range.begin, range.count(), 5, 7, 30, 41),
                read_box(hdf5, range.begin, range.count(), 5, 7, 30, 41));
    }
  }
}

// Everything that must not depend on the decoder, ranks or blocks, gathered in frame order.
struct Fingerprint {
  std::vector<double> values;
  std::vector<std::uint8_t> mask;
};

Fingerprint fingerprint(const ScanRun& scan_run, MPI_Comm comm) {
  const RoiResult& run = scan_run.result;
  Fingerprint f;
  std::vector<double> local;
  for (const auto& frame : run.local_features) {
    local.insert(local.end(), {frame.total_intensity, frame.com_x, frame.com_y});
  }
  const std::vector<const std::vector<double>*> parts{&local, &run.local_com_magnitude, &run.absorption.local_map,
                                                      &run.scattering.local_map};
  for (const auto* values : parts) {
    const auto all = mpi::all_gather(comm, *values);
    f.values.insert(f.values.end(), all.begin(), all.end());
  }
  for (const auto* k : {&run.absorption.clusters, &run.scattering.clusters}) {
    f.values.insert(f.values.end(), k->centroids.data(), k->centroids.data() + k->centroids.size());
  }
  f.mask = gather_frames(run.local_mask, comm);
  return f;
}

bool bitwise_equal(const Fingerprint& a, const Fingerprint& b) {
  return a.mask == b.mask && a.values.size() == b.values.size() &&
         std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(double)) == 0;
}

TEST_F(MPI_Decoders, PipelineIsBitwiseIdenticalForEveryDecoderRankCountAndBlock) {
  const int world = mpi::size(MPI_COMM_WORLD);
  const int me = mpi::rank(MPI_COMM_WORLD);
  auto options = [&](const std::string& input, const std::string& decoder, std::uint64_t block) {
    Options o;
    o.input_file = input;
    o.grid = grid_;
    o.border_steps = 1;
    o.block_frames = block;
    o.decoder = decoder;
    o.quiet = true;
    return o;
  };
  // The reference: the uncompressed scan on all ranks.
  const Fingerprint reference = fingerprint(run_scan(options(scan_, "auto", 0), MPI_COMM_WORLD), MPI_COMM_WORLD);
  const std::vector<Variant> all = variants();
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (all[i].noise || all[i].holes) continue;  // other pixels than the scan's
    for (int ranks = 1; ranks <= world; ++ranks) {
      MPI_Comm comm = MPI_COMM_NULL;
      MPI_Comm_split(MPI_COMM_WORLD, me < ranks ? 0 : MPI_UNDEFINED, me, &comm);
      for (const char* decoder : {"auto", "hdf5"}) {
        for (std::uint64_t block : {64u, 7u, 1u}) {
          if (comm == MPI_COMM_NULL) continue;
          const Fingerprint f = fingerprint(run_scan(options(files_[i], decoder, block), comm), comm);
          if (me == 0) {
            EXPECT_TRUE(bitwise_equal(f, reference))
                << files_[i] << ": --decoder " << decoder << ", " << ranks << " ranks, block " << block;
          }
        }
        if (comm != MPI_COMM_NULL) {  // each rank only its own share (--no-work-sharing)
          Options o = options(files_[i], decoder, 1);
          o.share_work = false;
          const ScanRun run = run_scan(o, comm);
          EXPECT_EQ(run.result.helped_frames, 0);
          EXPECT_FALSE(run.result.work_shared);
          const Fingerprint f = fingerprint(run, comm);
          if (me == 0) {
            EXPECT_TRUE(bitwise_equal(f, reference))
                << files_[i] << ": --decoder " << decoder << ", " << ranks << " ranks, no work sharing";
          }
        }
      }
      if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
    }
  }
}

TEST_F(MPI_Decoders, CorruptChunkStopsTheRunWithOneMessage) {
  // A copy of the Eiger-like file with one chunk's LZ4 data overwritten: the direct path must report
  // the dataset and the chunk (HDF5's plugin, with LZ4_decompress_fast, may not notice at all).
  const int me = mpi::rank(MPI_COMM_WORLD);
  const std::string corrupt = outdir_ + "/decoders_corrupt_" + std::to_string(mpi::size(MPI_COMM_WORLD)) + ".h5";
  int failed = 0;
  if (me == 0) {
    try {
      h5::Handle file = h5::checked(H5Fopen(files_[0].c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open");
      h5::Handle dataset = h5::checked(H5Dopen2(file.get(), "/data", H5P_DEFAULT), "open /data");
      const hsize_t offset[3] = {11, 0, 0};
      haddr_t address = 0;
      hsize_t size = 0;
      unsigned mask = 0;
      h5::check(H5Dget_chunk_info_by_coord(dataset.get(), offset, &mask, &address, &size), "chunk info");
      std::vector<char> bytes;
      {
        std::FILE* in = std::fopen(files_[0].c_str(), "rb");
        std::fseek(in, 0, SEEK_END);
        bytes.resize(static_cast<std::size_t>(std::ftell(in)));
        std::fseek(in, 0, SEEK_SET);
        failed = std::fread(bytes.data(), 1, bytes.size(), in) != bytes.size();
        std::fclose(in);
      }
      // The first block's compressed size (bytes 12..15 of the chunk) now points past the chunk.
      bytes[address + 12] = 0x7F;
      std::FILE* out = std::fopen(corrupt.c_str(), "wb");
      failed |= std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size();
      std::fclose(out);
    } catch (const std::exception&) {
      failed = 1;
    }
  }
  MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
  ASSERT_EQ(failed, 0);
  Options o;
  o.input_file = corrupt;
  o.grid = grid_;
  o.quiet = true;
  try {
    run_scan(o, MPI_COMM_WORLD);
    FAIL() << "a corrupt chunk was read without an error";
  } catch (const Error& e) {  // agreed by every rank: the failing rank's message
    const std::string message = e.what();
    EXPECT_NE(message.find("chunk at [11, 0, 0]"), std::string::npos) << message;
    EXPECT_NE(message.find("'/data'"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace ptyroi
