// The pipeline on sub-communicators of 1..P ranks and block sizes 1, 7 and 64: every feature and
// the mask must be bitwise identical to the 1-rank run. The scan comes from ptyroi-simulate
// (a CTest fixture) through PTYROI_TEST_SCAN / PTYROI_TEST_GRID / PTYROI_TEST_OUTDIR.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/app/pipeline.hpp"

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

Fingerprint fingerprint(const RoiRun& run, MPI_Comm comm) {
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
  f.mask = run.mask;
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
        const RoiRun run = run_pipeline(options(block, output), comm);
        f = fingerprint(run, comm);
        EXPECT_GT(run.roi_frames, 0);
        EXPECT_LT(run.roi_frames, static_cast<std::int64_t>(run.frames));
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
    run_pipeline(o, MPI_COMM_WORLD);
    ADD_FAILURE() << "a missing dataset must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/dataset"), std::string::npos) << e.what();
  }
}

TEST_F(MPI_Pipeline, ExistingOutputIsRefusedWithoutOverwrite) {
  Options o = options(64, outdir_ + "/existing_" + std::to_string(mpi::size(MPI_COMM_WORLD)) + ".h5");
  run_pipeline(o, MPI_COMM_WORLD);
  o.overwrite = false;
  EXPECT_THROW(run_pipeline(o, MPI_COMM_WORLD), Error);
}

}  // namespace
}  // namespace ptyroi
