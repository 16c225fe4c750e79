#pragma once
// Halo exchange for per-frame values shared by ranks as partition_frames shares frames: each rank
// receives the values of its own frames and of `halo` frames on either side (fewer at the ends of
// the scan), whichever ranks hold them, in one MPI_Alltoallv. On a raster stored row-major a frame's
// 3×3 neighbours are within cols + 1 frames of it, so the maps and the border need a halo of a few
// rows, not every frame of the scan: per-rank memory O(K / P + halo).
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "ptyroi/core/partition.hpp"

namespace ptyroi {

// The window of frames a rank sees: [begin, end) ⊇ its own frames.
FrameRange halo_window(FrameRange own, std::uint64_t frames, std::uint64_t halo);

// Values of halo_window(own frames, frames, halo) on every rank, from each rank's values of its own
// frames (local.size() == its share). Collective; every rank passes the same `frames` and `halo`.
std::vector<double> exchange_halo(const std::vector<double>& local, std::uint64_t frames, std::uint64_t halo,
                                  MPI_Comm comm);
std::vector<std::uint8_t> exchange_halo(const std::vector<std::uint8_t>& local, std::uint64_t frames,
                                        std::uint64_t halo, MPI_Comm comm);

}  // namespace ptyroi
