#include "ptyroi/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "ptyroi/fault_injection.hpp"
#include "ptyroi/mpi.hpp"
#include "ptyroi/pixel_mask.hpp"
#include "ptyroi/roi_writer.hpp"
#include "ptyroi/scan_map.hpp"

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
                                          const std::vector<std::uint8_t>& good_pixels) {
  std::vector<FrameFeatures> features;
  features.reserve(range.count());
  const std::uint64_t block = std::min<std::uint64_t>(block_frames, std::max<std::uint64_t>(range.count(), 1));
  // double storage keeps the buffer aligned for every pixel type.
  std::vector<double> buffer((block * stack.frame_bytes() + sizeof(double) - 1) / sizeof(double));
  FrameMomentsKernel kernel(good_pixels);
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
  }
  return features;
}

// Puts per-frame values (gathered from all ranks, frame order) on the grid, cell order.
std::vector<double> on_grid(const std::vector<double>& by_frame, const ScanGrid& grid) {
  std::vector<double> map(by_frame.size());
  for (std::size_t k = 0; k < by_frame.size(); ++k) map[static_cast<std::size_t>(grid.cell_of_frame[k])] = by_frame[k];
  return map;
}

// Smooths one map at this rank's frames and clusters it (log unless disabled).
MapClusters cluster_map(const std::vector<double>& local_values, const ScanGrid& grid, FrameRange local,
                        const Options& options, MPI_Comm comm, double& maps_s, double& kmeans_s) {
  MapClusters result;
  std::vector<double> feature;
  {
    PhaseClock clock(maps_s);
    const std::vector<double> map = on_grid(mpi::all_gather(comm, local_values), grid);
    result.local_map.resize(local.count());
    double local_floor = std::numeric_limits<double>::infinity();
    for (std::uint64_t i = 0; i < local.count(); ++i) {
      const double smoothed = neighbour_mean(map, grid.shape, grid.cell_of_frame[local.begin + i]);
      result.local_map[i] = smoothed;
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

// More border steps than the scan is long would make the RoI the whole scan or nothing.
void check_border(int border_steps, GridShape shape) {
  const std::int64_t longest = std::max(shape.rows, shape.cols);
  if (std::abs(border_steps) >= longest) {
    throw UsageError("--border " + std::to_string(border_steps) + " reaches beyond the " + std::to_string(shape.rows) +
                     "x" + std::to_string(shape.cols) + " scan; expected |border| < " + std::to_string(longest));
  }
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
      stack.emplace(PatternStack::open(options.input_file, options.dataset, options.block_frames, comm));
    });
    run.input_file = stack->file_path();
    run.dataset = stack->dataset_path();
    run.frames = stack->frames();
    run.rows = stack->rows();
    run.cols = stack->cols();
    run.pixel_type = stack->pixel_type();
    run.block_frames = stack->block_frames();
    mpi::run_phase(comm, [&] {
      if (me != 0) return;
      run.positions = read_positions(options.input_file, options.positions_x, options.positions_y, run.frames);
      run.grid = options.grid.empty() ? infer_grid(run.positions.x, run.positions.y)
                                      : raster_grid(parse_grid_shape(options.grid), run.frames);
      check_border(options.border_steps, run.grid.shape);
      if (!options.mask.empty())
        run.good_pixels = read_good_pixels(options.mask, options.input_file, run.rows, run.cols);
    });
    mpi::broadcast(comm, 0, run.good_pixels);
    mpi::broadcast(comm, 0, run.positions.x);
    mpi::broadcast(comm, 0, run.positions.y);
    run.positions.source = mpi::broadcast(comm, 0, run.positions.source);
    // Deterministic in the positions, so every rank builds the same grid rank 0 validated.
    if (me != 0) {
      run.grid = options.grid.empty() ? infer_grid(run.positions.x, run.positions.y)
                                      : raster_grid(parse_grid_shape(options.grid), run.frames);
    }
  }

  // --- features: rank-local, no collective calls inside -----------------------------------------
  run.local = partition_frames(run.frames, run.ranks, me);
  {
    PhaseClock clock(t.features_s);
    mpi::run_phase(comm, [&] {
      inject_fault("features", comm);
      run.local_features = frame_features(*stack, run.local, stack->block_frames(), run.good_pixels);
    });
  }
  run.bytes_read = run.frames * stack->frame_bytes();

  // --- statistics: global CoM mean and spread; |standardised CoM| per frame -----------------------
  {
    PhaseClock clock(t.statistics_s);
    std::int64_t local_non_finite = 0;
    mpi::run_phase(comm, [&] {
      inject_fault("reduce", comm);
      for (const auto& frame : run.local_features) local_non_finite += frame.non_finite_pixels;
    });
    run.non_finite_pixels = mpi::all_sum(comm, local_non_finite);
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
  run.absorption = cluster_map(local_totals, run.grid, run.local, options, comm, t.maps_s, t.kmeans_s);
  run.scattering = cluster_map(run.local_com_magnitude, run.grid, run.local, options, comm, t.maps_s, t.kmeans_s);

  // --- selection: low-T cluster ∪ high-c cluster, grown or shrunk by the border -------------------
  {
    PhaseClock clock(t.selection_s);
    select_cluster(run.absorption, 0);
    select_cluster(run.scattering, options.clusters - 1);
    std::vector<std::uint8_t> local_union(run.local.count());
    for (std::size_t i = 0; i < local_union.size(); ++i) {
      local_union[i] = run.absorption.local_roi[i] | run.scattering.local_roi[i];
    }
    const std::vector<std::uint8_t> by_frame = mpi::all_gather(comm, local_union);
    std::vector<std::uint8_t> by_cell(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k)
      by_cell[static_cast<std::size_t>(run.grid.cell_of_frame[k])] = by_frame[k];
    by_cell = grow_or_shrink(std::move(by_cell), run.grid.shape, options.border_steps);
    run.mask.resize(by_frame.size());
    for (std::size_t k = 0; k < by_frame.size(); ++k) {
      run.mask[k] = by_cell[static_cast<std::size_t>(run.grid.cell_of_frame[k])];
      run.roi_frames += run.mask[k];
    }
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
