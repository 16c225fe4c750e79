// The pipeline on sub-communicators of 1..P ranks and block sizes 1, 7 and 64: every feature and
// the mask must be bitwise identical to the 1-rank run. The scan comes from ptyroi-simulate
// (a CTest fixture) through PTYROI_TEST_SCAN / PTYROI_TEST_GRID / PTYROI_TEST_OUTDIR.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ptyroi/app/scan_run.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/memory_frames.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/roi_writer.hpp"

namespace ptyroi {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Everything that must not depend on ranks or blocks, gathered in frame order.
struct Fingerprint {
  std::vector<double> totals, com_x, com_y, magnitudes, absorption_map, scattering_map;
  std::vector<std::uint8_t> mask;
  std::vector<double> centroids;
};

Fingerprint fingerprint(const RoiResult& run, MPI_Comm comm) {
  Fingerprint f;
  std::vector<double> t, x, y;
  for (const auto& frame : run.local_features) {
    t.push_back(frame.total_intensity);
    x.push_back(frame.com_x);
    y.push_back(frame.com_y);
  }
  f.totals = mpi::all_gather(comm, t);
  f.com_x = mpi::all_gather(comm, x);
  f.com_y = mpi::all_gather(comm, y);
  f.magnitudes = mpi::all_gather(comm, run.local_com_magnitude);
  f.absorption_map = mpi::all_gather(comm, run.absorption.local_map);
  f.scattering_map = mpi::all_gather(comm, run.scattering.local_map);
  f.mask = gather_frames(run.local_mask, comm);
  for (const auto* k : {&run.absorption.clusters, &run.scattering.clusters}) {
    f.centroids.insert(f.centroids.end(), k->centroids.data(), k->centroids.data() + k->centroids.size());
  }
  return f;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

class MPI_Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    scan_ = env("PTYROI_TEST_SCAN");
    grid_ = env("PTYROI_TEST_GRID");
    outdir_ = env("PTYROI_TEST_OUTDIR");
    if (scan_.empty() || outdir_.empty())
      FAIL() << "set PTYROI_TEST_SCAN, PTYROI_TEST_GRID and PTYROI_TEST_OUTDIR (ctest does)";
  }
  Options options(std::uint64_t block, const std::string& output) const {
    Options o;
    o.input_file = scan_;
    o.grid = grid_;
    o.border_steps = 1;
    o.block_frames = block;
    o.output_file = output;
    o.overwrite = true;
    return o;
  }
  std::string scan_, grid_, outdir_;
};

TEST_F(MPI_Pipeline, BitwiseIdenticalForEveryRankCountAndBlockSize) {
  const int world = mpi::size(MPI_COMM_WORLD);
  const int me = mpi::rank(MPI_COMM_WORLD);
  Fingerprint reference;
  bool have_reference = false;
  for (int ranks = 1; ranks <= world; ++ranks) {
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, me < ranks ? 0 : MPI_UNDEFINED, me, &comm);
    for (std::uint64_t block : {64u, 7u, 1u}) {
      Fingerprint f;
      if (comm != MPI_COMM_NULL) {
        const std::string output = outdir_ + "/invariance_" + std::to_string(world) + "_" + std::to_string(ranks) +
                                   "_" + std::to_string(block) + ".h5";
        ScanRun run = run_scan(options(block, output), comm);
        commit_outputs(run.outputs, comm);
        f = fingerprint(run.result, comm);
        EXPECT_GT(run.result.roi_frames, 0);
        EXPECT_LT(run.result.roi_frames, static_cast<std::int64_t>(run.result.frames));
      }
      if (me == 0) {
        if (!have_reference) {
          reference = f;
          have_reference = true;
          continue;
        }
        const std::string where = std::to_string(ranks) + " ranks, block " + std::to_string(block);
        EXPECT_TRUE(bitwise_equal(f.totals, reference.totals)) << where;
        EXPECT_TRUE(bitwise_equal(f.com_x, reference.com_x)) << where;
        EXPECT_TRUE(bitwise_equal(f.com_y, reference.com_y)) << where;
        EXPECT_TRUE(bitwise_equal(f.magnitudes, reference.magnitudes)) << where;
        EXPECT_TRUE(bitwise_equal(f.absorption_map, reference.absorption_map)) << where;
        EXPECT_TRUE(bitwise_equal(f.scattering_map, reference.scattering_map)) << where;
        EXPECT_TRUE(bitwise_equal(f.centroids, reference.centroids)) << where;
        EXPECT_EQ(f.mask, reference.mask) << where;
      }
    }
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
}

TEST_F(MPI_Pipeline, FailureOnOneInputIsAgreedByAllRanks) {
  Options o = options(64, "");
  o.dataset = "/no/such/dataset";
  try {
    run_scan(o, MPI_COMM_WORLD);
    ADD_FAILURE() << "a missing dataset must fail";
  } catch (const InputError& e) {  // the category survives the agreement between ranks
    EXPECT_NE(std::string(e.what()).find("/no/such/dataset"), std::string::npos) << e.what();
  }
}

TEST_F(MPI_Pipeline, ExistingOutputIsRefusedWithoutOverwrite) {
  Options o = options(64, outdir_ + "/existing_" + std::to_string(mpi::size(MPI_COMM_WORLD)) + ".h5");
  ScanRun first = run_scan(o, MPI_COMM_WORLD);
  commit_outputs(first.outputs, MPI_COMM_WORLD);
  o.overwrite = false;
  EXPECT_THROW(run_scan(o, MPI_COMM_WORLD), UsageError);  // a usage error on every rank, not rank 0 only
}

TEST_F(MPI_Pipeline, UsageErrorInsideAPhaseKeepsItsCategoryOnEveryRank) {
  Options o = options(64, "");
  o.border_steps = 40;  // the 23x31 scan is 31 steps wide
  EXPECT_THROW(run_scan(o, MPI_COMM_WORLD), UsageError);
}

// The library's find_roi on frames in memory (each rank holding only the frames partition_frames
// gives it) equals find_roi on the file's stack, bitwise, for every rank count.
TEST_F(MPI_Pipeline, FramesInMemoryGiveTheFileResultBitwise) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const PatternStack stack = PatternStack::open(scan_, InputLayout::automatic, "", 0, comm);
  RoiParameters parameters;
  parameters.grid = parse_grid_shape(grid_);
  parameters.border_steps = 1;
  const RoiResult from_file = find_roi(stack, ScanPositions{}, PixelSelection{}, parameters, comm);
  const FrameRange mine = partition_frames(stack.frames(), mpi::size(comm), mpi::rank(comm));
  std::vector<std::uint32_t> frames(mine.count() * stack.pixels_per_frame());
  ASSERT_EQ(stack.pixel_type(), PixelType::u32);
  stack.read_frames(mine.begin, mine.count(), frames.data());
  const MemoryFrames in_memory =
      MemoryFrames::view(frames.data(), stack.frames(), stack.rows(), stack.cols(), mine.begin, mine.count());
  const RoiResult from_memory = find_roi(in_memory, ScanPositions{}, PixelSelection{}, parameters, comm);
  const Fingerprint a = fingerprint(from_file, comm), b = fingerprint(from_memory, comm);
  EXPECT_TRUE(bitwise_equal(a.totals, b.totals));
  EXPECT_TRUE(bitwise_equal(a.com_x, b.com_x));
  EXPECT_TRUE(bitwise_equal(a.absorption_map, b.absorption_map));
  EXPECT_TRUE(bitwise_equal(a.scattering_map, b.scattering_map));
  EXPECT_TRUE(bitwise_equal(a.centroids, b.centroids));
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(from_file.roi_frames, from_memory.roi_frames);
  // Asking for frames a MemoryFrames view does not hold is a usage error, agreed by every rank.
  if (mpi::size(comm) > 1) {
    const MemoryFrames too_few =
        MemoryFrames::view(frames.data(), stack.frames(), stack.rows(), stack.cols(), mine.begin, mine.count() / 2);
    EXPECT_THROW(find_roi(too_few, ScanPositions{}, PixelSelection{}, parameters, comm), UsageError);
  }
}

// Features computed by whichever rank read the frame (pieces dealt out as an acquisition would
// deliver them), moved to their owners by share_features and classified: bitwise the result of
// find_roi, for every rank count (what ptyroi --follow relies on).
TEST_F(MPI_Pipeline, FeaturesFromAnyRankSharedThenClassifiedEqualFindRoi) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const PatternStack stack = PatternStack::open(scan_, InputLayout::automatic, "", 0, comm);
  RoiParameters parameters;
  parameters.grid = parse_grid_shape(grid_);
  parameters.border_steps = 2;
  const RoiResult batch = find_roi(stack, ScanPositions{}, PixelSelection{}, parameters, comm);
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  std::vector<FeatureRun> held;
  // Pieces of 1..13 frames, piece k to rank ranks - 1 - (k mod ranks): not the owners' order.
  std::uint64_t piece = 0;
  for (std::uint64_t first = 0; first < stack.frames(); ++piece) {
    const std::uint64_t length = std::min<std::uint64_t>(1 + (piece * 7) % 13, stack.frames() - first);
    if (ranks - 1 - static_cast<int>(piece % static_cast<std::uint64_t>(ranks)) == me) {
      append_features(held, first, frame_features(stack, {first, first + length}, PixelSelection{}, 3));
    }
    first += length;
  }
  auto neighbourhood = scan_neighbourhood(ScanPositions{}, stack.frames(), parameters, comm);
  const RoiResult shared = classify_frames(share_features(held, stack.frames(), comm), stack.frames(), ScanPositions{},
                                           parameters, neighbourhood, comm);
  const Fingerprint a = fingerprint(batch, comm), b = fingerprint(shared, comm);
  EXPECT_TRUE(bitwise_equal(a.totals, b.totals));
  EXPECT_TRUE(bitwise_equal(a.com_x, b.com_x));
  EXPECT_TRUE(bitwise_equal(a.com_y, b.com_y));
  EXPECT_TRUE(bitwise_equal(a.magnitudes, b.magnitudes));
  EXPECT_TRUE(bitwise_equal(a.absorption_map, b.absorption_map));
  EXPECT_TRUE(bitwise_equal(a.scattering_map, b.scattering_map));
  EXPECT_TRUE(bitwise_equal(a.centroids, b.centroids));
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(batch.roi_frames, shared.roi_frames);
}

}  // namespace
}  // namespace ptyroi
