#include "ptyroi/core/feature_exchange.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"

namespace ptyroi {

namespace {

// One frame's features on the wire (plain bytes: every rank runs the same binary).
struct Record {
  std::uint64_t frame;
  double total_intensity, com_x, com_y;
  std::int64_t non_finite_pixels, invalid_pixels;
  std::uint64_t has_com;
};

void check(int status, const char* what) {
  if (status != MPI_SUCCESS) throw IoError(std::string("MPI call failed: ") + what);
}

// MPI counts and displacements are int: in bytes, a share of up to 2^31 / 56 ≈ 38 million frames.
int as_count(std::uint64_t bytes) {
  if (bytes > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    throw IoError("share_features: more than 2 GiB of features for one rank");
  }
  return static_cast<int>(bytes);
}

}  // namespace

void append_features(std::vector<FeatureRun>& runs, std::uint64_t first, std::vector<FrameFeatures> features) {
  if (features.empty()) return;
  if (!runs.empty() && runs.back().end() == first) {
    runs.back().features.insert(runs.back().features.end(), features.begin(), features.end());
    return;
  }
  runs.push_back({first, std::move(features)});
}

void truncate_features(std::vector<FeatureRun>& runs, std::uint64_t end) {
  for (FeatureRun& run : runs) {
    if (run.end() > end) run.features.resize(run.first >= end ? 0 : end - run.first);
  }
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const FeatureRun& run) { return run.features.empty(); }),
             runs.end());
}

std::vector<FrameFeatures> share_features(const std::vector<FeatureRun>& held, std::uint64_t frames, MPI_Comm comm) {
  const int ranks = mpi::size(comm);
  const int me = mpi::rank(comm);
  // What goes to each rank: the held frames inside its share, as records.
  std::vector<std::vector<Record>> outgoing(static_cast<std::size_t>(ranks));
  for (int destination = 0; destination < ranks; ++destination) {
    const FrameRange share = partition_frames(frames, ranks, destination);
    for (const FeatureRun& run : held) {
      const std::uint64_t begin = std::max(run.first, share.begin);
      const std::uint64_t end = std::min(run.end(), share.end);
      for (std::uint64_t k = begin; k < end; ++k) {
        const FrameFeatures& f = run.features[k - run.first];
        outgoing[static_cast<std::size_t>(destination)].push_back(
            {k, f.total_intensity, f.com_x, f.com_y, f.non_finite_pixels, f.invalid_pixels, f.has_com ? 1u : 0u});
      }
    }
  }
  std::vector<int> send_counts(static_cast<std::size_t>(ranks)), send_offsets(static_cast<std::size_t>(ranks));
  std::vector<Record> send;
  for (int r = 0; r < ranks; ++r) {
    const auto& records = outgoing[static_cast<std::size_t>(r)];
    send_offsets[static_cast<std::size_t>(r)] = as_count(send.size() * sizeof(Record));
    send_counts[static_cast<std::size_t>(r)] = as_count(records.size() * sizeof(Record));
    send.insert(send.end(), records.begin(), records.end());
  }
  std::vector<int> receive_counts(static_cast<std::size_t>(ranks)), receive_offsets(static_cast<std::size_t>(ranks));
  check(MPI_Alltoall(send_counts.data(), 1, MPI_INT, receive_counts.data(), 1, MPI_INT, comm), "MPI_Alltoall");
  std::uint64_t received_bytes = 0;
  for (int r = 0; r < ranks; ++r) {
    receive_offsets[static_cast<std::size_t>(r)] = as_count(received_bytes);
    received_bytes += static_cast<std::uint64_t>(receive_counts[static_cast<std::size_t>(r)]);
  }
  std::vector<Record> received(received_bytes / sizeof(Record));
  check(MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_BYTE, received.data(),
                      receive_counts.data(), receive_offsets.data(), MPI_BYTE, comm),
        "MPI_Alltoallv");

  // Every frame of the share exactly once.
  const FrameRange mine = partition_frames(frames, ranks, me);
  std::vector<FrameFeatures> local(mine.count());
  std::vector<std::uint8_t> seen(mine.count(), 0);
  std::uint64_t twice = std::numeric_limits<std::uint64_t>::max();
  for (const Record& record : received) {
    const std::size_t i = record.frame - mine.begin;
    if (seen[i]++ > 0) twice = std::min<std::uint64_t>(twice, record.frame);
    FrameFeatures& f = local[i];
    f.total_intensity = record.total_intensity;
    f.com_x = record.com_x;
    f.com_y = record.com_y;
    f.has_com = record.has_com != 0;
    f.non_finite_pixels = record.non_finite_pixels;
    f.invalid_pixels = record.invalid_pixels;
  }
  std::uint64_t missing = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i] == 0) {
      missing = mine.begin + i;
      break;
    }
  }
  mpi::run_phase(comm, [&] {
    if (missing != std::numeric_limits<std::uint64_t>::max()) {
      throw InternalError("share_features: no rank holds the features of frame " + std::to_string(missing));
    }
    if (twice != std::numeric_limits<std::uint64_t>::max()) {
      throw InternalError("share_features: two ranks hold the features of frame " + std::to_string(twice));
    }
  });
  return local;
}

}  // namespace ptyroi
