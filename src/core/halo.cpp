#include "ptyroi/core/halo.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

FrameRange halo_window(FrameRange own, std::uint64_t frames, std::uint64_t halo) {
  FrameRange window;
  window.begin = own.begin > halo ? own.begin - halo : 0;
  window.end = std::min(frames, own.end + std::min(halo, frames));
  if (own.count() == 0) window = own;  // a rank with no frames needs nothing
  return window;
}

namespace {

int count_of(std::uint64_t n) {
  if (n > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    throw InternalError("halo exchange of " + std::to_string(n) + " values: more than an int can count");
  }
  return static_cast<int>(n);
}

template <class T>
std::vector<T> exchange(const std::vector<T>& local, std::uint64_t frames, std::uint64_t halo, MPI_Comm comm,
                        MPI_Datatype type) {
  const int ranks = mpi::size(comm), me = mpi::rank(comm);
  const FrameRange mine = partition_frames(frames, ranks, me);
  const FrameRange wanted = halo_window(mine, frames, halo);
  std::vector<int> send_counts(ranks, 0), send_offsets(ranks, 0), receive_counts(ranks, 0), receive_offsets(ranks, 0);
  // Everyone's share and window are known to everyone: no counts need to travel.
  for (int r = 0; r < ranks; ++r) {
    const FrameRange theirs = partition_frames(frames, ranks, r);
    const FrameRange their_window = halo_window(theirs, frames, halo);
    // I send them the part of my frames in their window; they send me the part of theirs in mine.
    const std::uint64_t send_begin = std::max(mine.begin, their_window.begin);
    const std::uint64_t send_end = std::min(mine.end, their_window.end);
    send_offsets[r] = count_of(send_begin - mine.begin);
    send_counts[r] = send_end > send_begin ? count_of(send_end - send_begin) : 0;
    if (send_counts[r] == 0) send_offsets[r] = 0;
    const std::uint64_t receive_begin = std::max(theirs.begin, wanted.begin);
    const std::uint64_t receive_end = std::min(theirs.end, wanted.end);
    receive_offsets[r] = count_of(receive_begin - wanted.begin);
    receive_counts[r] = receive_end > receive_begin ? count_of(receive_end - receive_begin) : 0;
    if (receive_counts[r] == 0) receive_offsets[r] = 0;
  }
  std::vector<T> window(wanted.count());
  if (MPI_Alltoallv(local.data(), send_counts.data(), send_offsets.data(), type, window.data(), receive_counts.data(),
                    receive_offsets.data(), type, comm) != MPI_SUCCESS) {
    throw IoError("MPI call failed: MPI_Alltoallv (halo exchange)");
  }
  return window;
}

}  // namespace

std::vector<double> exchange_halo(const std::vector<double>& local, std::uint64_t frames, std::uint64_t halo,
                                  MPI_Comm comm) {
  return exchange(local, frames, halo, comm, MPI_DOUBLE);
}

std::vector<std::uint8_t> exchange_halo(const std::vector<std::uint8_t>& local, std::uint64_t frames,
                                        std::uint64_t halo, MPI_Comm comm) {
  return exchange(local, frames, halo, comm, MPI_UINT8_T);
}

}  // namespace ptyroi
