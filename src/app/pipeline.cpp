#include "ptyroi/app/pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <optional>

#include "ptyroi/app/fault_injection.hpp"
#include "ptyroi/app/file_paths.hpp"
#include "ptyroi/app/progress.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/roi_writer.hpp"

namespace ptyroi {

namespace {

// Measures one phase on this rank.
class PhaseClock {
 public:
  explicit PhaseClock(double& seconds) : seconds_(seconds), start_(MPI_Wtime()) {}
  ~PhaseClock() { seconds_ += MPI_Wtime() - start_; }
  PhaseClock(const PhaseClock&) = delete;
  PhaseClock& operator=(const PhaseClock&) = delete;

 private:
  double& seconds_;
  double start_;
};

// The per-frame pass: this rank's frames, streamed in blocks of whole frames in the file's type.
std::vector<FrameFeatures> frame_features(const PatternStack& stack, FrameRange range, std::uint64_t block_frames,
                                          const PixelSelection& selection, ProgressReport* progress) {
  std::vector<FrameFeatures> features;
  features.reserve(range.count());
  const std::uint64_t block = std::min<std::uint64_t>(block_frames, std::max<std::uint64_t>(range.count(), 1));
  // double storage keeps the buffer aligned for every pixel type.
  std::vector<double> buffer((block * stack.frame_bytes() + sizeof(double) - 1) / sizeof(double));
  FrameMomentsKernel kernel(selection);
  for (std::uint64_t first = range.begin; first < range.end; first += block) {
    const std::uint64_t count = std::min(block, range.end - first);
    stack.read_frames(first, count, buffer.data());
    visit_pixel_type(stack.pixel_type(), [&](auto pixel) {
      using Pixel = decltype(pixel);
      const auto* frames = reinterpret_cast<const Pixel*>(buffer.data());
      for (std::uint64_t i = 0; i < count; ++i) {
        features.push_back(kernel(frames + i * stack.pixels_per_frame(), stack.rows(), stack.cols()));
      }
    });
    if (progress != nullptr) {
      progress->update(static_cast<double>(first + count - range.begin) / static_cast<double>(range.count()));
    }
  }
  return features;
}

// Smooths one map at this rank's frames and clusters it (log unless disabled).
MapClusters cluster_map(const std::vector<double>& local_values, const ScanNeighbourhood& neighbourhood,
                        FrameRange local, const Options& options, MPI_Comm comm, double& maps_s, double& kmeans_s) {
  MapClusters result;
  std::vector<double> feature;
  {
    PhaseClock clock(maps_s);
    result.local_map = neighbourhood.smooth(mpi::all_gather(comm, local_values), local);
    double local_floor = std::numeric_limits<double>::infinity();
    for (const double smoothed : result.local_map) {
      if (smoothed > 0.0) local_floor = std::min(local_floor, smoothed);
    }
    result.log_floor = mpi::all_min(comm, local_floor);
    feature = result.local_map;
    if (options.use_log) {
      // A map with no positive value at all (no contrast) clusters as a constant.
      const bool any_positive = std::isfinite(result.log_floor);
      for (double& v : feature) v = any_positive ? std::log(std::max(v, result.log_floor)) : 0.0;
    }
  }
  PhaseClock clock(kmeans_s);
  result.clusters = kmeans_1d(feature, options.clusters, options.iterations, comm);
  return result;
}

void select_cluster(MapClusters& map, int cluster) {
  map.local_roi.resize(map.clusters.labels.size());
  for (std::size_t i = 0; i < map.local_roi.size(); ++i) map.local_roi[i] = map.clusters.labels[i] == cluster;
  map.roi_frames = map.clusters.sizes[cluster];
}

// The scan's neighbourhood from its positions: the --grid raster, the raster the positions form,
// or (--scan irregular, or auto when they form none) the irregular neighbourhood.
ScanNeighbourhood scan_neighbourhood(const Options& options, const ScanPositions& positions, std::uint64_t frames) {
  if (!options.grid.empty()) return ScanNeighbourhood::raster(raster_grid(parse_grid_shape(options.grid), frames));
  if (options.scan == "irregular") return ScanNeighbourhood::irregular(positions.x, positions.y);
  if (options.scan == "grid") return ScanNeighbourhood::raster(infer_grid(positions.x, positions.y));
  if (auto grid = find_grid(positions.x, positions.y)) return ScanNeighbourhood::raster(std::move(*grid));
  return ScanNeighbourhood::irregular(positions.x, positions.y);
}

// The method separates frames by contrast; a scan without any (one frame, or every frame with the
// same total and the same centre of mass) has no RoI to find.
void check_contrast(const RoiRun& run, MPI_Comm comm) {
  double local_min = std::numeric_limits<double>::infinity();
  double local_max = -local_min;
  for (const auto& frame : run.local_features) {
    local_min = std::min(local_min, frame.total_intensity);
    local_max = std::max(local_max, frame.total_intensity);
  }
  const bool same_totals = mpi::all_min(comm, local_min) == mpi::all_max(comm, local_max);
  if (same_totals && run.com.std_x == 0.0 && run.com.std_y == 0.0) {
    throw InputError("no contrast in dataset '" + run.dataset + "' of '" + run.input_file + "': " +
                     (run.frames == 1 ? std::string("it holds a single frame")
                                      : "all " + std::to_string(run.frames) +
                                            " frames have the same total intensity and centre of mass") +
                     ", so there is nothing to classify");
  }
}

}  // namespace

PreviewInput gather_preview_input(const RoiRun& run, MPI_Comm comm) {
  PreviewInput preview;
  const std::string& path = run.input_file;
  preview.title = file_name_of(path);
  preview.x = run.positions.x;
  preview.y = run.positions.y;
  if (run.neighbourhood->is_raster()) {
    preview.grid = run.grid.shape;
    preview.cell_of_frame = run.grid.cell_of_frame;
  }
  std::vector<double> totals, standard_x, standard_y;
  for (const FrameFeatures& frame : run.local_features) {
    totals.push_back(frame.total_intensity);
    // As ComStandardisation::magnitude: a component without spread standardises to 0.
    const bool x_spread = frame.has_com && run.com.std_x > 0.0, y_spread = frame.has_com && run.com.std_y > 0.0;
    standard_x.push_back(x_spread ? (frame.com_x - run.com.mean_x) / run.com.std_x : 0.0);
    standard_y.push_back(y_spread ? (frame.com_y - run.com.mean_y) / run.com.std_y : 0.0);
  }
  preview.transmission = mpi::all_gather(comm, totals);
  preview.com_magnitude = mpi::all_gather(comm, run.local_com_magnitude);
  preview.com_x = mpi::all_gather(comm, standard_x);
  preview.com_y = mpi::all_gather(comm, standard_y);
  preview.absorption_roi = mpi::all_gather(comm, run.absorption.local_roi);
  preview.scattering_roi = mpi::all_gather(comm, run.scattering.local_roi);
  preview.border_steps = run.options.border_steps;
  preview.roi = run.mask;
  for (const int border : {-2, 0, 2, 4}) {
    try {
      run.neighbourhood->check_border(border);
    } catch (const UsageError&) {
      continue;  // a scan too small for this border
    }
    preview.roi_at_borders.emplace_back(border, run.neighbourhood->grow_or_shrink(run.roi_before_border, border));
  }
  return preview;
}

PhaseTimings max_over_ranks(const PhaseTimings& local, MPI_Comm comm) {
  std::vector<double> seconds{local.open_s,   local.features_s,  local.statistics_s, local.maps_s,
                              local.kmeans_s, local.selection_s, local.write_s,      local.total_s};
  MPI_Allreduce(MPI_IN_PLACE, seconds.data(), static_cast<int>(seconds.size()), MPI_DOUBLE, MPI_MAX, comm);
  return {seconds[0], seconds[1], seconds[2], seconds[3], seconds[4], seconds[5], seconds[6], seconds[7]};
}

RoiRun run_pipeline(const Options& options, MPI_Comm comm) {
  const double start = MPI_Wtime();
  validate(options);
  RoiRun run;
  run.options = options;
  run.ranks = mpi::size(comm);
  const int me = mpi::rank(comm);
  PhaseTimings& t = run.timings;

  // --- open: the stack on every rank; positions and grid read and checked on rank 0 -------------
  std::optional<PatternStack> stack;
  {
    PhaseClock clock(t.open_s);
    mpi::run_phase(comm, [&] {
      inject_fault("open", comm);
      if (me != 0) return;
      check_input_file(options.input_file);
      check_output_paths(options);
    });
    mpi::run_phase(comm, [&] {
      stack.emplace(PatternStack::open(options.input_file, parse_input_layout(options.layout), options.dataset,
                                       options.block_frames, comm, parse_decoder(options.decoder)));
    });
    run.input_file = stack->file_path();
    run.dataset = stack->dataset_path();
    run.layout = stack->description().layout;
    run.data_files = stack->segments();
    run.frames = stack->frames();
    run.pixel_type = stack->pixel_type();
    run.block_frames = stack->block_frames();
    std::vector<std::uint8_t> good_pixels;
    mpi::run_phase(comm, [&] {
      if (me != 0) return;
      run.positions = read_scan_positions(options, stack->description(), run.frames, options.grid.empty());
      run.neighbourhood.emplace(scan_neighbourhood(options, run.positions, run.frames));
      run.neighbourhood->check_border(options.border_steps);
      if (run.positions.x.empty()) {
        // No positions but a --grid: record each frame's column and row, in scan steps.
        const ScanGrid& grid = run.neighbourhood->grid();
        for (std::uint64_t k = 0; k < run.frames; ++k) {
          run.positions.x.push_back(static_cast<double>(grid.cell_of_frame[k] % grid.shape.cols));
          run.positions.y.push_back(static_cast<double>(grid.cell_of_frame[k] / grid.shape.cols));
        }
      }
      good_pixels = run_good_pixels(options, stack->description(), stack->rows(), stack->cols(), run.mask_sources);
    });
    mpi::broadcast(comm, 0, good_pixels);
    mpi::broadcast(comm, 0, run.positions.x);
    mpi::broadcast(comm, 0, run.positions.y);
    run.positions.source = mpi::broadcast(comm, 0, run.positions.source);
    run.mask_sources = mpi::broadcast(comm, 0, run.mask_sources);
    // Deterministic in the positions, so every rank builds the neighbourhood rank 0 validated.
    if (me != 0) run.neighbourhood.emplace(scan_neighbourhood(options, run.positions, run.frames));
    run.grid = run.neighbourhood->grid();
    // Identical on every rank (same options, same metadata); a bad --crop fails on all at once.
    mpi::run_phase(comm, [&] {
      run.selection = pixel_selection(options, stack->description(), run.pixel_type, stack->rows(), stack->cols(),
                                      std::move(good_pixels));
    });
    const bool windowed = run.selection.window_rows > 0;
    run.rows = windowed ? run.selection.window_rows : stack->rows();
    run.cols = windowed ? run.selection.window_cols : stack->cols();
  }

  // --- features: rank-local, no collective calls inside -----------------------------------------
  run.local = partition_frames(run.frames, run.ranks, me);
  {
    PhaseClock clock(t.features_s);
    mpi::run_phase(comm, [&] {
      inject_fault("features", comm);
      // Rank 0 reports for everyone, on stderr (stdout carries the summary).
      std::optional<ProgressReport> progress;
      if (me == 0 && !options.quiet && run.local.count() > 0) {
        progress.emplace(std::cerr, isatty(STDERR_FILENO) == 1, run.frames,
                         static_cast<double>(run.frames * stack->frame_bytes()));
      }
      run.local_features =
          frame_features(*stack, run.local, stack->block_frames(), run.selection, progress ? &*progress : nullptr);
      if (progress) progress->finish();
    });
  }
  run.bytes_read = run.frames * stack->frame_bytes();

  // --- statistics: global CoM mean and spread; |standardised CoM| per frame -----------------------
  {
    PhaseClock clock(t.statistics_s);
    std::int64_t local_non_finite = 0;
    std::int64_t local_invalid = 0;
    mpi::run_phase(comm, [&] {
      inject_fault("reduce", comm);
      for (const auto& frame : run.local_features) {
        local_non_finite += frame.non_finite_pixels;
        local_invalid += frame.invalid_pixels;
      }
    });
    run.non_finite_pixels = mpi::all_sum(comm, local_non_finite);
    run.invalid_pixels = mpi::all_sum(comm, local_invalid);
    run.com = standardise_com(run.local_features, comm);
    run.frames_without_com = static_cast<std::int64_t>(run.frames) - run.com.frames_with_com;
    if (run.com.frames_with_com == 0) {
      throw InputError("no frame of dataset '" + run.dataset + "' in '" + run.input_file + "' has signal (all " +
                       std::to_string(run.frames) + " frames sum to zero or less): there is nothing to classify");
    }
    check_contrast(run, comm);
    run.local_com_magnitude.resize(run.local_features.size());
    for (std::size_t i = 0; i < run.local_features.size(); ++i) {
      run.local_com_magnitude[i] = run.com.magnitude(run.local_features[i]);
    }
  }

  // --- maps and k-means: absorption (T) and scattering (|CoM|) -------------------------------------
  mpi::run_phase(comm, [&] { inject_fault("kmeans", comm); });
  std::vector<double> local_totals(run.local_features.size());
  for (std::size_t i = 0; i < local_totals.size(); ++i) local_totals[i] = run.local_features[i].total_intensity;
  run.absorption = cluster_map(local_totals, *run.neighbourhood, run.local, options, comm, t.maps_s, t.kmeans_s);
  run.scattering =
      cluster_map(run.local_com_magnitude, *run.neighbourhood, run.local, options, comm, t.maps_s, t.kmeans_s);

  // --- selection: low-T cluster ∪ high-c cluster, grown or shrunk by the border -------------------
  {
    PhaseClock clock(t.selection_s);
    select_cluster(run.absorption, 0);
    select_cluster(run.scattering, options.clusters - 1);
    std::vector<std::uint8_t> local_union(run.local.count());
    for (std::size_t i = 0; i < local_union.size(); ++i) {
      local_union[i] = run.absorption.local_roi[i] | run.scattering.local_roi[i];
    }
    run.roi_before_border = mpi::all_gather(comm, local_union);
    run.mask = run.neighbourhood->grow_or_shrink(run.roi_before_border, options.border_steps);
    for (const std::uint8_t in_roi : run.mask) run.roi_frames += in_roi;
    for (std::uint64_t k = run.local.begin; k < run.local.end; ++k) {
      if (run.mask[k]) run.local_selected.push_back(k);
    }
  }

  // --- write ------------------------------------------------------------------------------------
  if (!options.output_file.empty()) {
    PhaseClock clock(t.write_s);
    write_roi_file(run, *stack, comm);
  }
  t.total_s = MPI_Wtime() - start;
  t = max_over_ranks(t, comm);
  return run;
}

}  // namespace ptyroi
