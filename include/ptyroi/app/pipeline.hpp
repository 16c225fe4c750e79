#pragma once
// The method end to end, one-way data flow:
//   read → per-frame features → global CoM statistics → scan maps → k-means → RoI → write.
// Each rank owns a contiguous range of frames. Stages exchange only what the next needs: exact
// sums for statistics and centroids, and the per-frame scalars (K values) that the 3×3 maps and
// the border morphology need around every cell.
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptyroi/core/com_statistics.hpp"
#include "ptyroi/core/frame_moments.hpp"
#include "ptyroi/core/kmeans.hpp"
#include "ptyroi/app/options.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/app/preview.hpp"
#include "ptyroi/core/scan_grid.hpp"
#include "ptyroi/core/scan_neighbourhood.hpp"

namespace ptyroi {

// Wall seconds of each phase, the maximum over ranks (what the job waited for).
struct PhaseTimings {
  double open_s = 0, features_s = 0, statistics_s = 0, maps_s = 0, kmeans_s = 0, selection_s = 0, write_s = 0,
         total_s = 0;
};

// One map's clustering: the feature clustered, its floor before the log, and the k-means result.
struct MapClusters {
  std::vector<double> local_map;        // smoothed values of this rank's frames (before any log)
  double log_floor = 0.0;               // smallest positive value of the map (non-positive values clamp to it)
  KMeansResult clusters;                // labels of this rank's frames
  std::vector<std::uint8_t> local_roi;  // this rank's frames in the selected cluster
  std::int64_t roi_frames = 0;          // over all ranks
};

struct RoiRun {
  Options options;
  int ranks = 1;
  FrameRange local;  // this rank's frames

  std::string input_file, dataset;
  InputLayout layout = InputLayout::plain;
  std::size_t data_files = 1;                    // datasets the stack is made of (NeXus: one per data file)
  std::uint64_t frames = 0, rows = 0, cols = 0;  // rows, cols: the frames as analysed (after --crop)
  PixelType pixel_type = PixelType::f64;
  std::uint64_t block_frames = 1;  // frames per read block, as resolved from --block-frames
  ScanPositions positions;         // all frames, every rank
  ScanGrid grid;                   // the raster; empty shape for an irregular scan
  std::optional<ScanNeighbourhood> neighbourhood;
  PixelSelection selection;  // mask, --max-valid/flag, --fftshift, --crop window
  std::string mask_sources;  // which masks were combined; empty: none

  std::vector<FrameFeatures> local_features;
  std::vector<double> local_com_magnitude;
  ComStandardisation com;
  std::int64_t frames_without_com = 0;
  std::int64_t non_finite_pixels = 0;  // NaN/Inf pixels, left out of the sums
  std::int64_t invalid_pixels = 0;     // pixels above --max-valid or at the detector's flag value

  MapClusters absorption;  // low-transmission cluster of log T
  MapClusters scattering;  // high-scattering cluster of log c

  std::vector<std::uint8_t> roi_before_border;  // all frames: low-T ∪ high-c, before the border
  std::vector<std::uint8_t> mask;               // all frames, after the border: 1 = in the RoI
  std::int64_t roi_frames = 0;
  std::vector<std::uint64_t> local_selected;  // this rank's RoI frames, ascending

  std::uint64_t bytes_read = 0;
  PhaseTimings timings;
};

// Everything the preview images show, gathered to every rank (collective over comm): per-frame
// features, clusters, and the RoI at borders −2, 0, +2, +4 (those the scan is large enough for).
PreviewInput gather_preview_input(const RoiRun& run, MPI_Comm comm);

PhaseTimings max_over_ranks(const PhaseTimings& local, MPI_Comm comm);

// Runs the whole method on comm and, if options.output_file is set, writes the RoI file.
// Throws mpi::CollectiveError, identically on every rank, when any rank fails.
RoiRun run_pipeline(const Options& options, MPI_Comm comm);

}  // namespace ptyroi
