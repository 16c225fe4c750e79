#include "ptyroi/core/find_roi.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/frame_tasks.hpp"
#include "ptyroi/core/frame_window.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/order_statistics.hpp"

namespace ptyroi {

namespace {

// Measures one step on this rank.
class StepClock {
 public:
  explicit StepClock(double& seconds) : seconds_(seconds), start_(MPI_Wtime()) {}
  ~StepClock() { seconds_ += MPI_Wtime() - start_; }
  StepClock(const StepClock&) = delete;
  StepClock& operator=(const StepClock&) = delete;

 private:
  double& seconds_;
  double start_;
};

void notify(const RoiHooks& hooks, const char* phase) {
  if (hooks.on_phase) hooks.on_phase(phase);
}

// Frames per read block: the parameter, else the source's preference, else as many frames as fit
// in 4 MiB (at least 1) — small enough to stay in the last-level cache between read and pass.
std::uint64_t block_frames_for(const RoiParameters& parameters, const FrameSource& source) {
  if (parameters.block_frames > 0) return parameters.block_frames;
  if (source.preferred_block_frames() > 0) return source.preferred_block_frames();
  constexpr std::size_t block_bytes = std::size_t{4} << 20;
  return std::max<std::uint64_t>(1, block_bytes / std::max<std::size_t>(source.frame_bytes(), 1));
}

// The per-frame pass (per-frame accumulate) over frames [range): streamed in blocks of whole
// frames (or their window) in the source's own pixel type, appended to `features`.
class FeaturePass {
 public:
  FeaturePass(const FrameSource& source, std::uint64_t block_frames, const PixelSelection& selection)
      : source_(source),
        block_(std::max<std::uint64_t>(block_frames, 1)),
        // double storage keeps the buffer aligned for every pixel type; not zero-filled (read_frames
        // writes every byte of the frames it reads; zeroing a 4 MiB block was ~2 ms on every rank).
        buffer_(new double[(block_ * source.frame_bytes() + sizeof(double) - 1) / sizeof(double)]),
        kernel_(selection) {}

  void run(FrameRange range, std::vector<FrameFeatures>& features, const std::function<void(std::uint64_t)>& done) {
    for (std::uint64_t first = range.begin; first < range.end; first += block_) {
      const std::uint64_t count = std::min(block_, range.end - first);
      source_.read_frames(first, count, buffer_.get());
      visit_pixel_type(source_.pixel_type(), [&](auto pixel) {
        using Pixel = decltype(pixel);
        const auto* frames = reinterpret_cast<const Pixel*>(buffer_.get());
        for (std::uint64_t i = 0; i < count; ++i) {
          features.push_back(kernel_(frames + i * source_.pixels_per_frame(), source_.rows(), source_.cols()));
        }
      });
      if (done) done(first + count);
    }
  }

 private:
  const FrameSource& source_;
  std::uint64_t block_;
  std::unique_ptr<double[]> buffer_;
  FrameMomentsKernel kernel_;
};

std::vector<FrameFeatures> features_pass(const FrameSource& source, FrameRange range, std::uint64_t block_frames,
                                         const PixelSelection& selection, const RoiHooks& hooks) {
  std::vector<FrameFeatures> features;
  features.reserve(range.count());
  FeaturePass pass(source, std::min<std::uint64_t>(block_frames, std::max<std::uint64_t>(range.count(), 1)), selection);
  pass.run(range, features, [&](std::uint64_t end) {
    if (hooks.on_progress) {
      hooks.on_progress(static_cast<double>(end - range.begin) / static_cast<double>(range.count()));
    }
  });
  return features;
}

// The same pass over the frames `tasks` hands this rank: its own share, then frames of busy ranks
// (frame_tasks.hpp). Progress: the frames this rank took, over its share.
std::vector<FeatureRun> shared_features_pass(const FrameSource& source, FrameTasks& tasks, std::uint64_t block_frames,
                                             const PixelSelection& selection, const RoiHooks& hooks) {
  std::vector<FeatureRun> held;
  FeaturePass pass(source, block_frames, selection);
  const FrameRange own = tasks.own();
  for (FrameRange task = tasks.next(); task.count() > 0; task = tasks.next()) {
    if (held.empty() || held.back().end() != task.begin) {
      held.push_back({task.begin, {}});
      held.back().features.reserve(task.begin == own.begin ? own.count() : task.count());
    }
    pass.run(task, held.back().features, {});
    if (hooks.on_progress && own.count() > 0) {
      const auto taken = static_cast<double>(tasks.own_frames_done() + tasks.helped_frames());
      hooks.on_progress(std::min(1.0, taken / static_cast<double>(own.count())));
    }
  }
  return held;
}

// A number for a message: "inf", "-1", "1.5e+308".
std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// A frame's features must be finite numbers: finite pixels can still sum beyond the float64 range
// (T = ±inf, or NaN from +inf + -inf), and so can the moments of the centre of mass. Rank-local.
void check_finite_features(const std::vector<FrameFeatures>& features, FrameRange range, const std::string& source) {
  for (std::size_t i = 0; i < features.size(); ++i) {
    const FrameFeatures& f = features[i];
    const std::string frame = "frame " + std::to_string(range.begin + i) + " of " + source;
    if (!std::isfinite(f.total_intensity)) {
      throw InputError(frame + ": its pixels sum to " + number(f.total_intensity) +
                       " (finite values whose total is beyond the float64 range): its transmission is undefined");
    }
    if (f.total_intensity > 0.0 && !f.has_com) {
      throw InputError(frame + ": its centre-of-mass moments (Σ i·pixel) are beyond the float64 range");
    }
    if (f.has_com && (!std::isfinite(f.com_x) || !std::isfinite(f.com_y))) {
      throw InputError(frame + ": its centre of mass is not finite (total " + number(f.total_intensity) +
                       " too small for its moments)");
    }
  }
}

// A map or value derived from finite features can still overflow (sums of huge values): an error
// naming the frame, never a NaN clustered silently. Rank-local.
void check_finite_values(const std::vector<double>& values, FrameRange range, const std::string& what,
                         const std::string& source,
                         const std::string& why = "its frames' values are beyond the float64 range",
                         const std::vector<std::uint8_t>& missing = {}) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!missing.empty() && missing[i] != 0) continue;  // never acquired: NaN on purpose
    if (!std::isfinite(values[i])) {
      throw InputError(what + " of frame " + std::to_string(range.begin + i) + " of " + source + " is " +
                       number(values[i]) + " (" + why + ")");
    }
  }
}

// 1 for each of the frames in `range` that lies in `missing` (ascending, disjoint ranges); empty
// when none of them does.
std::vector<std::uint8_t> missing_mask(const std::vector<FrameRange>& missing, FrameRange range) {
  std::vector<std::uint8_t> mask;
  for (const FrameRange& gap : missing) {
    const std::uint64_t begin = std::max(gap.begin, range.begin), end = std::min(gap.end, range.end);
    if (begin >= end) continue;
    if (mask.empty()) mask.assign(range.count(), 0);
    std::fill(mask.begin() + static_cast<std::ptrdiff_t>(begin - range.begin),
              mask.begin() + static_cast<std::ptrdiff_t>(end - range.begin), std::uint8_t{1});
  }
  return mask;
}

// The values of the frames that were acquired (missing frames dropped), in frame order.
std::vector<double> acquired(std::vector<double> values, const std::vector<std::uint8_t>& missing) {
  if (missing.empty()) return values;
  std::vector<double> kept;
  kept.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (missing[i] == 0) kept.push_back(values[i]);
  }
  return kept;
}

// The map's value at each of this rank's frames before smoothing: log (unless disabled), with
// values <= 0 clamped to the smallest positive value of all ranks.
std::vector<double> feature_values(const std::vector<double>& local_values, bool log_features, MPI_Comm comm,
                                   double& floor) {
  double local_floor = std::numeric_limits<double>::infinity();
  for (const double v : local_values) {
    if (v > 0.0) local_floor = std::min(local_floor, v);
  }
  floor = mpi::all_min(comm, local_floor);
  std::vector<double> feature = local_values;
  if (log_features) {
    // A map with no positive value at all (no contrast) clusters as a constant.
    const bool any_positive = std::isfinite(floor);
    for (double& v : feature) v = any_positive ? std::log(std::max(v, floor)) : 0.0;
  }
  return feature;
}

// Smooths one map at this rank's frames, clusters it (log unless disabled), selects `cluster` and,
// unless disabled, tests its contrast.
// `missing`: this rank's frames never acquired (empty: none); their values are NaN, they are left
// out of the smoothing, the k-means and the contrast test, get label -1 and are never selected.
MapClusters cluster_map(const std::vector<double>& local_values, const ScanNeighbourhood& neighbourhood,
                        FrameRange local, const RoiParameters& parameters, int cluster, const char* name,
                        const std::string& source, MPI_Comm comm, RoiTimings& timings,
                        const std::vector<std::uint8_t>& missing) {
  MapClusters result;
  {
    std::vector<double> feature;  // the values clustered; freed before the contrast test's temporaries
    {
      StepClock clock(timings.maps_s);
      result.local_map = neighbourhood.smooth(local_values, comm);
      for (std::size_t i = 0; i < missing.size(); ++i) {
        if (missing[i] != 0) result.local_map[i] = std::nan("");
      }
      mpi::run_phase(comm, [&] {
        check_finite_values(result.local_map, local, std::string("the smoothed ") + name + " map", source,
                            "its frames' values are beyond the float64 range", missing);
      });
      feature = feature_values(result.local_map, parameters.log_features, comm, result.log_floor);
    }
    {
      StepClock clock(timings.kmeans_s);
      result.clusters =
          kmeans_1d(acquired(std::move(feature), missing), parameters.clusters, parameters.iterations, comm);
      if (!missing.empty()) {
        std::vector<int> labels(missing.size(), -1);
        std::size_t next = 0;
        for (std::size_t i = 0; i < labels.size(); ++i) {
          if (missing[i] == 0) labels[i] = result.clusters.labels[next++];
        }
        result.clusters.labels = std::move(labels);
      }
    }
  }
  // The centroids are global: every rank reaches the same verdict.
  for (Eigen::Index c = 0; c < result.clusters.centroids.size(); ++c) {
    if (!std::isfinite(result.clusters.centroids[c])) {
      throw InputError(std::string("the ") + name + " map of " + source + " cannot be clustered: centroid " +
                       std::to_string(c) + " is " + number(result.clusters.centroids[c]) +
                       " (its values are beyond the float64 range)");
    }
  }
  StepClock clock(timings.selection_s);
  result.selected_cluster = cluster;
  result.local_roi.resize(result.clusters.labels.size());
  for (std::size_t i = 0; i < result.local_roi.size(); ++i) result.local_roi[i] = result.clusters.labels[i] == cluster;
  result.roi_frames = result.clusters.sizes[cluster];
  if (parameters.contrast_test) {
    // The noise of one frame's (log) value about its neighbours', against the gap the clusters make.
    // (The unsmoothed values are a temporary, freed once the residuals are made.)
    double raw_floor = 0.0;
    std::vector<double> residuals = acquired(
        neighbourhood.residuals(feature_values(local_values, parameters.log_features, comm, raw_floor), comm), missing);
    const double noise = single_value_noise(robust_spread(std::move(residuals), comm), 8.0);
    result.contrast =
        judge_contrast(centroid_gap(result.clusters.centroids, cluster), noise, parameters.contrast_threshold);
    if (!result.contrast.has_contrast) {
      std::fill(result.local_roi.begin(), result.local_roi.end(), std::uint8_t{0});
      result.roi_frames = 0;
    }
  }
  return result;
}

// The scan's neighbourhood: the given raster, the raster the positions form, or (irregular, or
// automatic when they form none) the irregular neighbourhood of the positions.
ScanNeighbourhood make_neighbourhood(const RoiParameters& parameters, const ScanPositions& positions,
                                     std::uint64_t frames) {
  if (parameters.grid) {
    ScanGrid grid = raster_grid(*parameters.grid, frames);
    // A raster that contradicts the positions would classify frames by the wrong neighbours.
    if (!positions.empty()) {
      if (const auto why = raster_disagreement(*parameters.grid, positions.x, positions.y)) {
        throw UsageError("grid " + std::to_string(parameters.grid->rows) + "x" + std::to_string(parameters.grid->cols) +
                         " contradicts the scan positions (" + positions.source + "): " + *why +
                         "; drop the grid to use the positions, or give no positions to use the raster alone");
      }
    }
    return ScanNeighbourhood::raster(std::move(grid), positions.x, positions.y);
  }
  if (parameters.scan == ScanKind::irregular) return ScanNeighbourhood::irregular(positions.x, positions.y);
  if (parameters.scan == ScanKind::grid) {
    return ScanNeighbourhood::raster(infer_grid(positions.x, positions.y), positions.x, positions.y);
  }
  if (auto grid = find_grid(positions.x, positions.y)) {
    return ScanNeighbourhood::raster(std::move(*grid), positions.x, positions.y);
  }
  return ScanNeighbourhood::irregular(positions.x, positions.y);
}

void check_positions(const ScanPositions& positions, std::uint64_t frames, const RoiParameters& parameters) {
  if (positions.empty()) {
    if (!parameters.grid) {
      throw UsageError("no scan positions: give one position per frame, or the raster the frames were taken on (grid)");
    }
    return;
  }
  if (positions.x.size() != frames || positions.y.size() != frames) {
    throw InputError("positions (" + positions.source + ") hold " + std::to_string(positions.x.size()) + " x and " +
                     std::to_string(positions.y.size()) + " y values but the scan has " + std::to_string(frames) +
                     " frames");
  }
  for (std::size_t k = 0; k < frames; ++k) {
    if (!std::isfinite(positions.x[k]) || !std::isfinite(positions.y[k])) {
      throw InputError("positions (" + positions.source + ") have a non-finite value at frame " + std::to_string(k));
    }
  }
  if (parameters.grid || frames < 2) return;  // the grid places the frames: positions are only recorded
  // The positions define the scan's neighbours: two frames at one position (a stalled encoder, a
  // dataset repeated) leave them undefined.
  std::vector<std::size_t> order(frames);
  for (std::size_t k = 0; k < frames; ++k) order[k] = k;
  const auto at = [&](std::size_t k) { return std::make_pair(positions.x[k], positions.y[k]); };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return at(a) < at(b) || (at(a) == at(b) && a < b); });
  if (at(order.front()) == at(order.back())) {
    throw InputError("positions (" + positions.source + "): all " + std::to_string(frames) + " frames are at (" +
                     number(positions.x[0]) + ", " + number(positions.y[0]) +
                     "), so scan neighbours cannot be defined; give the raster (grid ROWSxCOLS) or the real positions");
  }
  for (std::size_t i = 1; i < frames; ++i) {
    if (at(order[i]) != at(order[i - 1])) continue;
    const std::size_t a = std::min(order[i], order[i - 1]), b = std::max(order[i], order[i - 1]);
    throw InputError("positions (" + positions.source + "): frames " + std::to_string(a) + " and " + std::to_string(b) +
                     " are both at (" + number(positions.x[a]) + ", " + number(positions.y[a]) +
                     "), so scan neighbours cannot be defined; give the raster (grid ROWSxCOLS) or fix the positions");
  }
}

void check_incident_flux(const ScanInput& scan, std::uint64_t frames) {
  if (scan.incident_flux.empty()) return;
  const std::string source = scan.incident_flux_source.empty() ? "" : " (" + scan.incident_flux_source + ")";
  if (scan.incident_flux.size() != frames) {
    throw InputError("the incident flux" + source + " holds " + std::to_string(scan.incident_flux.size()) +
                     " values but the scan has " + std::to_string(frames) + " frames");
  }
  for (std::size_t k = 0; k < frames; ++k) {
    if (!(scan.incident_flux[k] > 0.0) || !std::isfinite(scan.incident_flux[k])) {
      throw InputError("the incident flux" + source + " of frame " + std::to_string(k) + " is " +
                       std::to_string(scan.incident_flux[k]) + "; expected a positive number");
    }
  }
}

// The method separates frames by contrast; a scan without any (one frame, or every frame with the
// same total and the same centre of mass) has no RoI to find.
void check_contrast(const RoiResult& result, const std::vector<std::uint8_t>& missing, const std::string& what,
                    MPI_Comm comm) {
  double local_min = std::numeric_limits<double>::infinity();
  double local_max = -local_min;
  for (std::size_t i = 0; i < result.local_features.size(); ++i) {
    if (!missing.empty() && missing[i] != 0) continue;
    const FrameFeatures& frame = result.local_features[i];
    local_min = std::min(local_min, frame.total_intensity);
    local_max = std::max(local_max, frame.total_intensity);
  }
  const bool same_totals = mpi::all_min(comm, local_min) == mpi::all_max(comm, local_max);
  if (same_totals && result.com.std_x == 0.0 && result.com.std_y == 0.0) {
    throw InputError("no contrast in " + what + ": " +
                     (result.frames == 1 ? std::string("it holds a single frame")
                                         : "all " + std::to_string(result.frames) +
                                               " frames have the same total intensity and centre of mass") +
                     ", so there is nothing to classify");
  }
}

// Pixels of a frame that count: the window's (or the frame's) good pixels.
std::int64_t counted_pixels(const PixelSelection& pixels, const FrameSource& source) {
  const FrameWindow window = frame_window(pixels, source.rows(), source.cols());
  if (pixels.good_pixels.empty()) return static_cast<std::int64_t>(window.analysed_rows() * window.analysed_cols);
  std::int64_t good = 0;
  for (const std::size_t row : window.rows) {
    for (const FrameWindow::Run& run : window.runs) {
      for (std::size_t c = run.stored_col; c < run.stored_col + run.count; ++c) {
        good += pixels.good_pixels[row * window.stored_cols + c] != 0;
      }
    }
  }
  return good;
}

RoiTimings max_over_ranks(const RoiTimings& local, MPI_Comm comm) {
  double seconds[] = {local.features_s, local.statistics_s, local.maps_s, local.kmeans_s, local.selection_s};
  MPI_Allreduce(MPI_IN_PLACE, seconds, 5, MPI_DOUBLE, MPI_MAX, comm);
  return {seconds[0], seconds[1], seconds[2], seconds[3], seconds[4]};
}

}  // namespace

std::shared_ptr<const ScanNeighbourhood> scan_neighbourhood(const ScanInput& scan, std::uint64_t frames,
                                                            const RoiParameters& parameters, MPI_Comm comm) {
  std::shared_ptr<const ScanNeighbourhood> result;
  // Deterministic in the positions, so every rank builds the same neighbourhood.
  mpi::run_phase(comm, [&] {
    parameters.validate();
    check_positions(scan.positions, frames, parameters);
    check_incident_flux(scan, frames);
    auto neighbourhood = std::make_shared<ScanNeighbourhood>(make_neighbourhood(parameters, scan.positions, frames));
    neighbourhood->check_border(parameters.border_steps);
    result = std::move(neighbourhood);
  });
  return result;
}

std::vector<FrameFeatures> frame_features(const FrameSource& source, FrameRange range, const PixelSelection& pixels,
                                          std::uint64_t block_frames, const RoiHooks& hooks) {
  return features_pass(source, range, block_frames, pixels, hooks);
}

RoiResult classify_frames(std::vector<FrameFeatures> local_features, std::uint64_t frames, const ScanInput& scan,
                          const RoiParameters& parameters, std::shared_ptr<const ScanNeighbourhood> neighbourhood,
                          MPI_Comm comm, const RoiHooks& hooks, const std::string& what) {
  RoiResult result;
  result.parameters = parameters;
  result.ranks = mpi::size(comm);
  result.frames = frames;
  result.local = partition_frames(frames, result.ranks, mpi::rank(comm));
  result.neighbourhood = std::move(neighbourhood);
  result.local_features = std::move(local_features);
  mpi::run_phase(comm, [&] {
    if (result.local_features.size() != result.local.count()) {
      throw UsageError("classify_frames: rank " + std::to_string(mpi::rank(comm)) + " holds " +
                       std::to_string(result.local_features.size()) + " frames' features; its share is " +
                       std::to_string(result.local.count()));
    }
    if (!result.neighbourhood || result.neighbourhood->frames() != frames) {
      throw UsageError("classify_frames: the scan neighbourhood is not of " + std::to_string(frames) + " frames");
    }
    // Frames never acquired read as the fill value: whatever it is, they have no signal.
    const std::vector<std::uint8_t> missing = missing_mask(scan.missing_frames, result.local);
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (missing[i] != 0) result.local_features[i] = FrameFeatures{};
    }
    check_finite_features(result.local_features, result.local, what);
  });
  result.local_missing = missing_mask(scan.missing_frames, result.local);
  const std::vector<std::uint8_t>& missing = result.local_missing;
  for (const FrameRange& gap : scan.missing_frames) result.missing_frames += static_cast<std::int64_t>(gap.count());
  RoiTimings& t = result.timings;
  // --- statistics: global CoM mean and spread; |standardised CoM| per frame (reduce once) ---------
  {
    StepClock clock(t.statistics_s);
    std::int64_t local_non_finite = 0;
    std::int64_t local_invalid = 0;
    mpi::run_phase(comm, [&] {
      notify(hooks, "reduce");
      for (const auto& frame : result.local_features) {
        local_non_finite += frame.non_finite_pixels;
        local_invalid += frame.invalid_pixels;
      }
    });
    result.non_finite_pixels = mpi::all_sum(comm, local_non_finite);
    result.invalid_pixels = mpi::all_sum(comm, local_invalid);
    result.com = standardise_com(result.local_features, comm);
    result.frames_without_com =
        static_cast<std::int64_t>(result.frames) - result.com.frames_with_com - result.missing_frames;
    if (result.com.frames_with_com == 0) {
      throw InputError("no frame of " + what + " has signal (all " + std::to_string(result.frames) +
                       " frames sum to zero or less): there is nothing to classify");
    }
    const ComStandardisation& com = result.com;
    if (!std::isfinite(com.mean_x) || !std::isfinite(com.mean_y) || !std::isfinite(com.std_x) ||
        !std::isfinite(com.std_y)) {
      throw InputError("the centres of mass of " + what +
                       " cannot be averaged: their mean or spread is beyond the float64 range");
    }
    check_contrast(result, missing, what, comm);
    result.local_com_magnitude.resize(result.local_features.size());
    for (std::size_t i = 0; i < result.local_features.size(); ++i) {
      result.local_com_magnitude[i] = result.com.magnitude(result.local_features[i]);
    }
    mpi::run_phase(comm, [&] {
      check_finite_values(result.local_com_magnitude, result.local, "the standardised centre of mass", what);
    });
  }

  // --- maps and k-means: absorption (T) and scattering (c) ------------------------------------------
  mpi::run_phase(comm, [&] { notify(hooks, "kmeans"); });
  // Absorption contrast is the transmitted fraction: T, or T / incident flux when it was measured
  // (a temporary: freed before the scattering map's, so per-frame memory peaks lower).
  std::vector<double> local_totals(result.local_features.size());
  result.flux_normalised = !scan.incident_flux.empty();
  for (std::size_t i = 0; i < local_totals.size(); ++i) {
    local_totals[i] = result.local_features[i].total_intensity;
    if (result.flux_normalised) local_totals[i] /= scan.incident_flux[result.local.begin + i];
    if (!missing.empty() && missing[i] != 0) local_totals[i] = std::nan("");
  }
  // With missing frames, a copy of |c| with NaN at those (without, |c| itself: no copy).
  std::vector<double> local_com_values;
  if (!missing.empty()) {
    local_com_values = result.local_com_magnitude;
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (missing[i] != 0) local_com_values[i] = std::nan("");
    }
  }
  const ScanNeighbourhood& scan_graph = *result.neighbourhood;
  mpi::run_phase(comm, [&] {
    check_finite_values(local_totals, result.local, "the transmission (T / incident flux)", what,
                        "a flux of zero or values beyond the float64 range", missing);
  });
  // Absorption: the lowest cluster of T; scattering: the highest of c.
  result.absorption =
      cluster_map(local_totals, scan_graph, result.local, parameters, 0, "absorption", what, comm, t, missing);
  std::vector<double>().swap(local_totals);
  result.scattering =
      cluster_map(missing.empty() ? result.local_com_magnitude : local_com_values, scan_graph, result.local, parameters,
                  parameters.clusters - 1, "scattering", what, comm, t, missing);

  // --- selection: low-T cluster ∪ high-c cluster, grown or shrunk by the border -------------------
  {
    StepClock clock(t.selection_s);
    // Neither map has two populations: no background to leave out, the whole scan is the RoI.
    result.whole_scan = !result.absorption.contrast.has_contrast && !result.scattering.contrast.has_contrast;
    result.local_roi_before_border.resize(result.local.count());
    for (std::size_t i = 0; i < result.local_roi_before_border.size(); ++i) {
      result.local_roi_before_border[i] =
          result.whole_scan ? 1 : result.absorption.local_roi[i] | result.scattering.local_roi[i];
    }
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (missing[i] != 0) result.local_roi_before_border[i] = 0;
    }
    result.local_mask = roi_at_border(result, parameters.border_steps, comm);
    std::int64_t local_roi = 0;
    for (std::uint64_t i = 0; i < result.local.count(); ++i) {
      if (result.local_mask[i] == 0) continue;
      ++local_roi;
      result.local_selected.push_back(result.local.begin + i);
    }
    result.roi_frames = mpi::all_sum(comm, local_roi);
  }
  t = max_over_ranks(t, comm);
  return result;
}

RoiResult find_roi(const FrameSource& source, const ScanInput& scan, const PixelSelection& pixels,
                   const RoiParameters& parameters, MPI_Comm comm, const RoiHooks& hooks) {
  const bool windowed = pixels.window_rows > 0;
  mpi::run_phase(comm, [&] {
    if (!pixels.good_pixels.empty() && pixels.good_pixels.size() != source.pixels_per_frame()) {
      throw UsageError("the pixel mask has " + std::to_string(pixels.good_pixels.size()) +
                       " pixels but the frames of " + source.name() + " have " +
                       std::to_string(source.pixels_per_frame()));
    }
    if (windowed && (pixels.window_row + pixels.window_rows > source.rows() ||
                     pixels.window_col + pixels.window_cols > source.cols())) {
      throw UsageError("the pixel window lies outside the " + std::to_string(source.rows()) + "x" +
                       std::to_string(source.cols()) + " frames of " + source.name());
    }
    if (!pixels.good_pixels.empty() && counted_pixels(pixels, source) == 0) {
      throw InputError("the bad-pixel mask leaves no good pixel in the " +
                       (windowed ? std::to_string(pixels.window_rows) + "x" + std::to_string(pixels.window_cols) +
                                       " crop window of the frames of "
                                 : std::string("frames of ")) +
                       source.name() + ": nothing is left to sum");
    }
  });
  // The scan first: a border beyond it or positions that do not fit fail before any frame is read.
  auto neighbourhood = scan_neighbourhood(scan, source.frames(), parameters, comm);
  const std::uint64_t block_frames = block_frames_for(parameters, source);
  std::vector<FrameFeatures> features;
  double features_s = 0.0;
  std::uint64_t helped_frames = 0;
  const bool share = parameters.share_work && mpi::size(comm) > 1 &&
                     mpi::all_sum(comm, std::int64_t{source.reads_every_frame() ? 0 : 1}) == 0;
  {
    StepClock clock(features_s);
    std::vector<FeatureRun> held;
    {
      FrameTasks tasks(source.frames(), block_frames, share, comm);  // collective, also when a phase fails
      mpi::run_phase(comm, [&] {
        notify(hooks, "features");
        held = shared_features_pass(source, tasks, block_frames, pixels, hooks);
      });
      helped_frames = tasks.helped_frames();
    }
    if (share) {
      features = share_features(std::move(held), source.frames(), comm);
    } else if (!held.empty()) {
      features = std::move(held.front().features);  // the rank's own frames, in order: one run
    }
  }
  if (pixels.has_max_valid) {
    // Nothing left to sum is the selection's doing, not the data's: blame max_valid, not the frames.
    std::int64_t local_invalid = 0;
    for (const FrameFeatures& frame : features) local_invalid += frame.invalid_pixels;
    const std::int64_t invalid = mpi::all_sum(comm, local_invalid);
    const auto counted = static_cast<std::int64_t>(source.frames()) * counted_pixels(pixels, source);
    if (invalid > 0 && invalid >= counted) {
      throw UsageError("every pixel of every frame of " + source.name() + " is above max_valid " +
                       number(pixels.max_valid) +
                       " (--max-valid, or the detector's flag value), so no frame has signal left");
    }
  }
  RoiResult result = classify_frames(std::move(features), source.frames(), scan, parameters, std::move(neighbourhood),
                                     comm, hooks, source.name());
  result.rows = windowed ? pixels.window_rows : source.rows();
  result.cols = windowed ? pixels.window_cols : source.cols();
  result.block_frames = block_frames;
  result.work_shared = share;
  result.helped_frames = mpi::all_sum(comm, static_cast<std::int64_t>(helped_frames));
  result.bytes_read = result.frames * result.rows * result.cols * pixel_type_size(source.pixel_type());
  result.timings.features_s = mpi::all_max(comm, features_s);
  return result;
}

std::vector<std::uint8_t> roi_at_border(const RoiResult& result, int border_steps, MPI_Comm comm) {
  std::vector<std::uint8_t> mask =
      result.neighbourhood->grow_or_shrink(result.local_roi_before_border, border_steps, comm);
  // A border grown over a frame never acquired does not select it: there is nothing to copy.
  for (std::size_t i = 0; i < result.local_missing.size(); ++i) {
    if (result.local_missing[i] != 0) mask[i] = 0;
  }
  return mask;
}

bool border_fits(const RoiResult& result, int border_steps) { return result.neighbourhood->border_fits(border_steps); }

std::vector<std::uint8_t> gather_frames(const std::vector<std::uint8_t>& local, MPI_Comm comm) {
  return mpi::all_gather(comm, local);
}
std::vector<double> gather_frames(const std::vector<double>& local, MPI_Comm comm) {
  return mpi::all_gather(comm, local);
}

}  // namespace ptyroi
