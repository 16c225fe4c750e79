#include "ptyroi/core/feature_exchange.hpp"

#include <algorithm>
#include <functional>
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

namespace {

Record record_of(std::uint64_t frame, const FrameFeatures& f) {
  return {frame, f.total_intensity, f.com_x, f.com_y, f.non_finite_pixels, f.invalid_pixels, f.has_com ? 1u : 0u};
}

FrameFeatures features_of(const Record& record) {
  FrameFeatures f;
  f.total_intensity = record.total_intensity;
  f.com_x = record.com_x;
  f.com_y = record.com_y;
  f.has_com = record.has_com != 0;
  f.non_finite_pixels = record.non_finite_pixels;
  f.invalid_pixels = record.invalid_pixels;
  return f;
}

// Frames held for this rank's own share stay on it; only frames held for other ranks travel, so
// memory is the share plus the frames that move. `local`: the features of the share's first
// local.size() frames, already in place (moved out of `held` by the caller). `copied(i)`: run i
// has been copied out (the caller may free it).
std::vector<FrameFeatures> exchange(const std::vector<FeatureRun>& held, const std::function<void(std::size_t)>& copied,
                                    std::vector<FrameFeatures> local, std::uint64_t frames, MPI_Comm comm) {
  const int ranks = mpi::size(comm);
  const int me = mpi::rank(comm);
  const FrameRange mine = partition_frames(frames, ranks, me);
  const auto each_share = [&](const FeatureRun& run, auto&& visit) {  // visit(rank, begin, end)
    for (int destination = 0; destination < ranks; ++destination) {
      const FrameRange share = partition_frames(frames, ranks, destination);
      const std::uint64_t begin = std::max(run.first, share.begin), end = std::min(run.end(), share.end);
      if (begin < end) visit(destination, begin, end);
    }
  };
  // What goes to each other rank: the held frames inside its share, as records, in rank order.
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(ranks), 0);
  for (const FeatureRun& run : held) {
    each_share(run, [&](int destination, std::uint64_t begin, std::uint64_t end) {
      if (destination != me) counts[static_cast<std::size_t>(destination)] += end - begin;
    });
  }
  std::vector<int> send_counts(static_cast<std::size_t>(ranks)), send_offsets(static_cast<std::size_t>(ranks));
  std::vector<std::uint64_t> cursor(static_cast<std::size_t>(ranks));
  std::uint64_t sent = 0;
  for (int r = 0; r < ranks; ++r) {
    cursor[static_cast<std::size_t>(r)] = sent;
    send_offsets[static_cast<std::size_t>(r)] = as_count(sent * sizeof(Record));
    send_counts[static_cast<std::size_t>(r)] = as_count(counts[static_cast<std::size_t>(r)] * sizeof(Record));
    sent += counts[static_cast<std::size_t>(r)];
  }
  std::vector<Record> send(static_cast<std::size_t>(sent));

  // This rank's share: first what it holds itself; the rest of each run into the send buffer.
  std::vector<bool> seen(mine.count(), false);  // a bit a frame
  std::uint64_t twice = std::numeric_limits<std::uint64_t>::max();
  const auto note = [&](std::uint64_t frame) {
    if (seen[frame - mine.begin]) twice = std::min<std::uint64_t>(twice, frame);
    seen[frame - mine.begin] = true;
  };
  for (std::uint64_t i = 0; i < local.size(); ++i) note(mine.begin + i);
  local.resize(mine.count());
  for (std::size_t i = 0; i < held.size(); ++i) {
    const FeatureRun& run = held[i];
    each_share(run, [&](int destination, std::uint64_t begin, std::uint64_t end) {
      for (std::uint64_t k = begin; k < end; ++k) {
        const FrameFeatures& f = run.features[k - run.first];
        if (destination == me) {
          local[k - mine.begin] = f;
          note(k);
        } else {
          send[static_cast<std::size_t>(cursor[static_cast<std::size_t>(destination)]++)] = record_of(k, f);
        }
      }
    });
    if (copied) copied(i);
  }

  // Then what the other ranks hold of it.
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
  std::vector<Record>().swap(send);
  for (const Record& record : received) {
    local[record.frame - mine.begin] = features_of(record);
    note(record.frame);
  }

  // Every frame of the share exactly once.
  std::uint64_t missing = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
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

}  // namespace

std::vector<FrameFeatures> share_features(const std::vector<FeatureRun>& held, std::uint64_t frames, MPI_Comm comm) {
  return exchange(held, {}, {}, frames, comm);
}

std::vector<FrameFeatures> share_features(std::vector<FeatureRun>&& held, std::uint64_t frames, MPI_Comm comm) {
  const FrameRange mine = partition_frames(frames, mpi::size(comm), mpi::rank(comm));
  std::vector<FrameFeatures> prefix;  // a run starting at the share's first frame: moved, not copied
  for (FeatureRun& run : held) {
    if (mine.count() == 0 || run.first != mine.begin || run.features.empty()) continue;
    if (run.end() > mine.end) {  // the frames past the share stay held, for their owners
      const auto cut = run.features.begin() + static_cast<std::ptrdiff_t>(mine.count());
      FeatureRun tail{mine.end, std::vector<FrameFeatures>(cut, run.features.end())};
      run.features.erase(cut, run.features.end());
      prefix = std::move(run.features);
      run = std::move(tail);
    } else {
      prefix = std::move(run.features);
      run.features.clear();
    }
    break;
  }
  // Each run freed once copied out: the moved frames are held once, in the send buffer.
  return exchange(
      held, [&held](std::size_t i) { std::vector<FrameFeatures>().swap(held[i].features); }, std::move(prefix), frames,
      comm);
}

}  // namespace ptyroi
