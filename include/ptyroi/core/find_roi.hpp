#pragma once
// The method end to end, one-way data flow (paper Section 2):
//   frames → per-frame features (T, CoM) → global CoM statistics → scan maps (3×3 means)
//          → k-means of each map → RoI = low-T cluster ∪ high-c cluster → border.
// find_roi reads each rank's frames from a FrameSource, computes, and writes nothing. Collective
// over comm: every rank calls it with the same source, positions and parameters. Each rank owns a
// contiguous range of frames (partition_frames) and the per-frame results of that range; global
// sums are exact, so every number is bitwise the same for any rank count and block size.
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ptyroi/core/com_statistics.hpp"
#include "ptyroi/core/contrast.hpp"
#include "ptyroi/core/frame_moments.hpp"
#include "ptyroi/core/frame_source.hpp"
#include "ptyroi/core/kmeans.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/core/roi_parameters.hpp"
#include "ptyroi/core/scan_neighbourhood.hpp"
#include "ptyroi/core/scan_positions.hpp"

namespace ptyroi {

// One map's clustering: the smoothed map, its floor before the log, the k-means and the cluster
// the RoI takes from it.
struct MapClusters {
  std::vector<double> local_map;        // smoothed values of this rank's frames (before any log)
  double log_floor = 0.0;               // smallest positive value of the map (non-positive values clamp to it)
  KMeansResult clusters;                // centroids and sizes (global), labels of this rank's frames
  int selected_cluster = 0;             // absorption: the lowest; scattering: the highest
  ContrastTest contrast;                // whether the map has two populations (else it selects nothing)
  std::vector<std::uint8_t> local_roi;  // this rank's frames the map selects (its cluster, if it has contrast)
  std::int64_t roi_frames = 0;          // over all ranks
};

// Wall seconds of each step, the maximum over ranks.
struct RoiTimings {
  double features_s = 0, statistics_s = 0, maps_s = 0, kmeans_s = 0, selection_s = 0;
};

struct RoiResult {
  std::uint64_t frames = 0;          // K
  std::uint64_t rows = 0, cols = 0;  // the frames as analysed (the window, if any)
  RoiParameters parameters;          // as given
  int ranks = 1;
  FrameRange local;                // this rank's frames
  std::uint64_t block_frames = 0;  // frames per read block, as used
  bool work_shared = false;        // ranks took over frames of busy ranks (frame_tasks.hpp)
  std::int64_t helped_frames = 0;  // frames computed by a rank other than their owner, over all ranks
  std::shared_ptr<const ScanNeighbourhood> neighbourhood;

  std::vector<FrameFeatures> local_features;  // T and CoM of this rank's frames
  bool flux_normalised = false;               // the absorption map is of T / incident flux
  std::vector<double> local_com_magnitude;    // c = |standardised CoM|
  ComStandardisation com;
  std::int64_t frames_without_com = 0;      // T <= 0: no centre of mass, c = 0 (missing frames not counted)
  std::int64_t missing_frames = 0;          // frames never acquired (ScanInput::missing_frames), over all ranks
  std::vector<std::uint8_t> local_missing;  // 1: this rank's frame was never acquired; empty: none was
  std::int64_t non_finite_pixels = 0;       // NaN/Inf pixels, left out of the sums
  std::int64_t invalid_pixels = 0;          // pixels above max_valid (or the detector's flag value)

  MapClusters absorption;  // clusters of log T; the lowest is selected
  MapClusters scattering;  // clusters of log c; the highest is selected

  // Neither map has contrast: no background was found, and every frame is the RoI.
  bool whole_scan = false;
  std::vector<std::uint8_t> local_roi_before_border;  // this rank's frames: low-T ∪ high-c
  std::vector<std::uint8_t> local_mask;               // this rank's frames after the border: 1 = RoI
  std::vector<std::uint64_t> local_selected;          // this rank's RoI frames, ascending
  std::int64_t roi_frames = 0;                        // over all ranks

  std::uint64_t bytes_read = 0;  // over all ranks
  RoiTimings timings;
};

// Optional observers. on_phase is called on every rank at the start of the rank-local work of each
// step ("features", "reduce", "kmeans"); it may throw, which fails that step on every rank (the
// programs use it for fault injection). on_progress gets the fraction of this rank's frames done.
struct RoiHooks {
  std::function<void(const char* phase)> on_phase;
  std::function<void(double fraction)> on_progress;
};

// Finds the RoI of the frames of `source`. `scan`: the positions, one per frame (all K, identical
// on every rank), or none when parameters.grid places the frames; and the incident flux per frame,
// if measured (the absorption map is then T divided by it). `pixels`: which pixels count (mask,
// max_valid, fftshift, window). Throws, identically on every rank: UsageError for parameters that
// do not fit the scan (e.g. a border beyond it), InputError for data without signal or contrast.
RoiResult find_roi(const FrameSource& source, const ScanInput& scan, const PixelSelection& pixels,
                   const RoiParameters& parameters, MPI_Comm comm, const RoiHooks& hooks = {});

// The method in its steps, for programs that hold the per-frame features already (e.g. computed as
// frames arrive during a scan): find_roi is scan_neighbourhood, then frame_features of this rank's
// share, then classify_frames.
//
// The scan's neighbourhood from the positions (or the raster), checked (positions, flux, border):
// identical on every rank. Collective.
std::shared_ptr<const ScanNeighbourhood> scan_neighbourhood(const ScanInput& scan, std::uint64_t frames,
                                                            const RoiParameters& parameters, MPI_Comm comm);
// The features of frames `range` of `source`, read in blocks of block_frames. Rank-local: a frame's
// features depend on the frame alone, whoever computes them.
std::vector<FrameFeatures> frame_features(const FrameSource& source, FrameRange range, const PixelSelection& pixels,
                                          std::uint64_t block_frames, const RoiHooks& hooks = {});
// Everything after the per-frame pass, from this rank's share (partition_frames(frames, ranks,
// rank)) of the features. `what` names the frames in messages. Collective. The result's rows,
// cols, block_frames and bytes_read are left 0 (find_roi fills them).
RoiResult classify_frames(std::vector<FrameFeatures> local_features, std::uint64_t frames, const ScanInput& scan,
                          const RoiParameters& parameters, std::shared_ptr<const ScanNeighbourhood> neighbourhood,
                          MPI_Comm comm, const RoiHooks& hooks = {}, const std::string& what = "the frames");

// The RoI of this rank's frames at another border (the same clusters): collective over comm.
std::vector<std::uint8_t> roi_at_border(const RoiResult& result, int border_steps, MPI_Comm comm);

// Whether `border_steps` fits the scan of `result` (a border may not reach across the whole scan).
bool border_fits(const RoiResult& result, int border_steps);

// Concatenates every rank's values in frame order on every rank (collective over comm): e.g. the
// whole mask from local_mask.
std::vector<std::uint8_t> gather_frames(const std::vector<std::uint8_t>& local, MPI_Comm comm);
std::vector<double> gather_frames(const std::vector<double>& local, MPI_Comm comm);

}  // namespace ptyroi
