#include "ptyroi/app/scan_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "ptyroi/app/fault_injection.hpp"
#include "ptyroi/app/preview.hpp"
#include "ptyroi/app/progress.hpp"
#include "ptyroi/app/scan_outputs.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/file_state.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/incident_flux.hpp"
#include "ptyroi/io/instrument.hpp"
#include "ptyroi/io/output_format.hpp"
#include "ptyroi/io/partition_outputs.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/io/roi_writer.hpp"
#include "ptyroi/version.hpp"

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

// Every file a run reads (the stack's data files included, once it is open): no output may be one of
// them, under any name.
std::vector<std::string> run_inputs(const Options& options, const PatternStack& stack) {
  std::vector<std::string> inputs{options.input_file, options.config_file, options.input_list, options.positions_file};
  for (const std::string& spec : {options.positions_x, options.positions_y, options.mask, options.monitor}) {
    if (!spec.empty()) inputs.push_back(parse_dataset_spec(spec, options.input_file).file);
  }
  inputs.push_back(stack.description().positions_file);
  for (std::size_t i = 0; i < stack.segments(); ++i) {
    inputs.push_back(h5::file_name(stack.segment_dataset(i)));
    for (const VirtualSource& source : stack.segment_sources(i)) inputs.push_back(source.resolved);
  }
  inputs.erase(std::remove(inputs.begin(), inputs.end(), std::string()), inputs.end());
  return inputs;
}

// Positions in scan steps for a run without any, for the record: the --grid column and row of each
// of this rank's frames (nothing per frame of the whole scan is held).
ScanPositions grid_positions(const ScanGrid& grid, FrameRange local, const std::string& source) {
  ScanPositions positions;
  positions.first_frame = local.begin;
  positions.unit = "steps";
  positions.x.reserve(local.count());
  positions.y.reserve(local.count());
  for (std::uint64_t k = local.begin; k < local.end; ++k) {
    const std::int64_t cell = grid.cell(k);
    positions.x.push_back(static_cast<double>(cell % grid.shape.cols));
    positions.y.push_back(static_cast<double>(cell / grid.shape.cols));
  }
  positions.source =
      source.empty() ? "none in the input: the --grid column and row of each frame, in scan steps" : source;
  return positions;
}

// The instrument metadata from rank 0 to every rank: values (NaN: none) and their sources.
void broadcast_instrument(MPI_Comm comm, InstrumentMetadata& m) {
  std::optional<InstrumentValue>* slots[] = {&m.energy,       &m.wavelength,    &m.distance,     &m.pixel_size_x,
                                             &m.pixel_size_y, &m.beam_center_x, &m.beam_center_y};
  std::vector<double> values;
  std::string sources;
  for (const auto* slot : slots) {
    values.push_back(*slot ? (*slot)->value : std::nan(""));
    sources += (*slot ? (*slot)->source : std::string()) + '\n';
  }
  for (const auto& [item, what] : m.problems) sources += item + '\t' + what + '\n';
  mpi::broadcast(comm, 0, values);
  sources = mpi::broadcast(comm, 0, sources);
  std::istringstream lines(sources);
  std::string line;
  for (std::size_t i = 0; i < std::size(slots); ++i) {
    std::getline(lines, line);
    if (std::isnan(values[i])) {
      slots[i]->reset();
    } else {
      *slots[i] = InstrumentValue{values[i], line};
    }
  }
  m.problems.clear();
  while (std::getline(lines, line)) {
    const auto tab = line.find('\t');
    m.problems.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
}

RunTimings max_over_ranks(const RunTimings& local, MPI_Comm comm) {
  double seconds[] = {local.open_s, local.write_s, local.total_s};
  MPI_Allreduce(MPI_IN_PLACE, seconds, 3, MPI_DOUBLE, MPI_MAX, comm);
  return {seconds[0], seconds[1], seconds[2]};
}

// The features of every frame of `stack`: those ptyroi --follow computed during the acquisition,
// the frames delivered after its last look read now, each rank's share moved to it, then the
// classification: bitwise what find_roi gives (the features of a frame depend on it alone).
RoiResult classify_followed(const PatternStack& stack, const ScanInput& scan, const PixelSelection& pixels,
                            const RoiParameters& parameters, const FollowedFrames& followed, MPI_Comm comm,
                            const RoiHooks& hooks) {
  auto neighbourhood = scan_neighbourhood(scan, stack.frames(), parameters, comm);
  const std::uint64_t block_frames =
      parameters.block_frames > 0 ? parameters.block_frames : stack.preferred_block_frames();
  std::vector<FeatureRun> held = followed.held;
  truncate_features(held, stack.frames());
  const std::uint64_t known = std::min(followed.frames, stack.frames());
  FrameRange rest = partition_frames(stack.frames() - known, mpi::size(comm), mpi::rank(comm));
  rest.begin += known;
  rest.end += known;
  double features_s = followed.features_s;
  {
    StepClock clock(features_s);
    mpi::run_phase(comm, [&] {
      if (hooks.on_phase) hooks.on_phase("features");
      append_features(held, rest.begin, frame_features(stack, rest, pixels, block_frames, hooks));
    });
  }
  RoiResult result = classify_frames(share_features(std::move(held), stack.frames(), comm), stack.frames(), scan,
                                     parameters, std::move(neighbourhood), comm, hooks, stack.name());
  const bool windowed = pixels.window_rows > 0;
  result.rows = windowed ? pixels.window_rows : stack.rows();
  result.cols = windowed ? pixels.window_cols : stack.cols();
  result.block_frames = block_frames;
  result.bytes_read = result.frames * result.rows * result.cols * pixel_type_size(stack.pixel_type());
  result.timings.features_s = mpi::all_max(comm, features_s);
  return result;
}

// The frames of `stack` in chunks never written, found up front: cheaply (one count of the written
// chunks per data file, on rank 0) when none is missing, else each rank looks up the chunks of its
// own frames. Identical on every rank. Unless allowed, they are an error naming where the first is.
std::vector<FrameRange> check_unwritten_frames(const PatternStack& stack, bool allowed, MPI_Comm comm) {
  std::vector<std::uint8_t> flagged;
  mpi::run_phase(comm, [&] {
    if (mpi::rank(comm) == 0) flagged = stack.segments_with_unwritten_chunks();
  });
  mpi::broadcast(comm, 0, flagged);
  if (std::none_of(flagged.begin(), flagged.end(), [](std::uint8_t f) { return f != 0; })) return {};
  std::vector<std::uint8_t> local_bytes;
  mpi::run_phase(comm, [&] {
    const FrameRange own = partition_frames(stack.frames(), mpi::size(comm), mpi::rank(comm));
    for (const FrameRange& gap : stack.unwritten_frames(own, flagged)) {
      const std::uint64_t pair[2] = {gap.begin, gap.end};
      const auto* bytes = reinterpret_cast<const std::uint8_t*>(pair);
      local_bytes.insert(local_bytes.end(), bytes, bytes + sizeof(pair));
    }
  });
  const std::vector<std::uint8_t> all_bytes = mpi::all_gather(comm, local_bytes);
  std::vector<FrameRange> gaps;
  for (std::size_t at = 0; at + 2 * sizeof(std::uint64_t) <= all_bytes.size(); at += 2 * sizeof(std::uint64_t)) {
    std::uint64_t pair[2];
    std::memcpy(pair, all_bytes.data() + at, sizeof(pair));
    // Ranks hold consecutive frames: a gap split between two of them is one.
    if (!gaps.empty() && gaps.back().end == pair[0]) {
      gaps.back().end = pair[1];
    } else {
      gaps.push_back({pair[0], pair[1]});
    }
  }
  if (gaps.empty() || allowed) return gaps;
  std::uint64_t missing = 0;
  for (const FrameRange& gap : gaps) missing += gap.count();
  // Where the first is: the data file and dataset that hold it (NeXus: one of several).
  const std::string location = stack.frame_location(gaps.front().begin);
  throw InputError(location + ": " + std::to_string(missing) + " of " + std::to_string(stack.frames()) +
                   " frames lie in chunks never written (the first is frame " + std::to_string(gaps.front().begin) +
                   "; an aborted acquisition?); they would read as fill values. Give --allow-missing-frames to "
                   "leave them out");
}

// The size and modification time of the files this rank reads its frames from.
std::vector<FileState> own_input_states(const PatternStack& stack, MPI_Comm comm) {
  std::vector<FileState> states;
  mpi::run_phase(comm, [&] {
    states = file_states(stack.frame_files(partition_frames(stack.frames(), mpi::size(comm), mpi::rank(comm))));
  });
  return states;
}

bool same_pixels(const PixelSelection& a, const PixelSelection& b) {
  return a.window_row == b.window_row && a.window_col == b.window_col && a.window_rows == b.window_rows &&
         a.window_cols == b.window_cols && a.good_pixels == b.good_pixels && a.has_max_valid == b.has_max_valid &&
         (!a.has_max_valid || a.max_valid == b.max_valid) && a.fftshift == b.fftshift;
}

}  // namespace

std::vector<std::uint8_t> read_pixel_metadata(ScanRun& run, const InputDescription& description, std::uint64_t rows,
                                              std::uint64_t cols, MPI_Comm comm) {
  const Options& options = run.options;
  std::vector<std::uint8_t> good_pixels;
  mpi::run_phase(comm, [&] {
    if (mpi::rank(comm) != 0) return;
    good_pixels =
        combined_good_pixels(pixel_settings(options), options.input_file, description, rows, cols, run.mask_sources);
    const h5::Handle file = h5::open_file_read_serial(options.input_file);
    run.instrument = read_instrument(file.get(), description);
  });
  broadcast_instrument(comm, run.instrument);
  apply_overrides(run.instrument, instrument_overrides(options));
  mpi::broadcast(comm, 0, good_pixels);
  run.mask_sources = mpi::broadcast(comm, 0, run.mask_sources);
  return good_pixels;
}

void select_pixels(ScanRun& run, const FrameSource& frames, const InputDescription& description,
                   std::vector<std::uint8_t> good_pixels, bool metric_positions, MPI_Comm comm) {
  const Options& options = run.options;
  // Where the frames keep zero frequency: as given, or looked at (a sample of frames, collective).
  PixelSettings decided = pixel_settings(options);
  if (!decided.fftshift) {
    const ZeroFrequencyEvidence evidence = detect_zero_frequency(frames, good_pixels, comm);
    decided.fftshift = evidence.at_corner_verdict;
    run.zero_frequency = "detected " + evidence.text();
  } else {
    run.zero_frequency = std::string("given: ") + (*decided.fftshift ? "at the corner" : "at the centre");
  }
  // Identical on every rank (same options, same metadata); a bad --crop fails on all at once.
  mpi::run_phase(comm, [&] {
    run.selection = pixel_selection(decided, description, frames.pixel_type(), frames.rows(), frames.cols(),
                                    std::move(good_pixels));
  });
  // What the format's reader needs, before any frame is read: missing essentials stop the run here.
  const RoiOutput output = roi_output(options);
  if (!output.path.empty()) {
    const std::uint64_t rows = run.selection.window_rows > 0 ? run.selection.window_rows : frames.rows();
    const std::uint64_t cols = run.selection.window_cols > 0 ? run.selection.window_cols : frames.cols();
    mpi::run_phase(comm, [&] {
      run.warnings = check_format_needs(output.format_or_default(), run.instrument, rows, cols, metric_positions);
    });
  }
}

ScanRun run_scan(const Options& options, MPI_Comm comm, const FollowedFrames* followed) {
  const double start = MPI_Wtime();
  validate(options);
  ScanRun run;
  run.options = options;
  const int me = mpi::rank(comm);
  const RoiOutput output = roi_output(options);
  std::vector<std::string> inputs;

  // --- open: the stack on every rank; positions and masks read and checked on rank 0 -------------
  std::optional<PatternStack> stack;
  {
    StepClock clock(run.timings.open_s);
    mpi::run_phase(comm, [&] {
      inject_fault("open", comm);
      if (me != 0) return;
      require_not_directory(options.input_file, "--input");
      check_input_file(options.input_file);
    });
    mpi::run_phase(comm, [&] {
      stack.emplace(PatternStack::open(options.input_file, parse_input_layout(options.layout), options.dataset,
                                       options.block_frames, comm, parse_decoder(options.decoder)));
    });
    run.input_file = stack->file_path();
    run.dataset = stack->dataset_path();
    run.layout = stack->description().layout;
    run.data_files = stack->segments();
    run.pixel_type = stack->pixel_type();
    inputs = run_inputs(options, *stack);
    run.scan.missing_frames = check_unwritten_frames(*stack, options.allow_missing_frames, comm);
    // The live summary and previews of --follow are replaced by the final ones, not refused.
    Options checked = options;
    if (followed && followed->live_outputs) {
      checked.summary_file.clear();
      checked.preview_dir.clear();
    }
    mpi::run_phase(comm, [&] {
      if (me != 0) return;
      // Every output checked before anything heavy is read or written.
      check_scan_outputs(checked, inputs);
      run.scan.positions = read_scan_positions(positions_spec(options), options.input_file, stack->description(),
                                               stack->frames(), options.grid.empty());
      run.scan.incident_flux = run_incident_flux(options.monitor, options.use_file_monitor, options.input_file,
                                                 stack->description(), stack->frames(), run.scan.incident_flux_source);
    });
    std::vector<std::uint8_t> good_pixels =
        read_pixel_metadata(run, stack->description(), stack->rows(), stack->cols(), comm);
    mpi::broadcast(comm, 0, run.scan.positions.x);
    mpi::broadcast(comm, 0, run.scan.positions.y);
    mpi::broadcast(comm, 0, run.scan.incident_flux);
    run.scan.positions.source = mpi::broadcast(comm, 0, run.scan.positions.source);
    run.scan.incident_flux_source = mpi::broadcast(comm, 0, run.scan.incident_flux_source);
    // What --border auto, --plan and --partitions need of the positions and the instrument.
    mpi::run_phase(comm, [&] { check_planning_needs(options, run.scan.positions, run.instrument); });
    select_pixels(run, *stack, stack->description(), std::move(good_pixels),
                  !run.scan.positions.empty() && run.scan.positions.unit == "m", comm);
    // --border auto: the probe's radius from a sample of frames, as a border in scan steps.
    if (options.border_auto) {
      run.probe_border =
          estimate_probe_border(*stack, run.selection, run.scan, run.instrument, roi_parameters(options), comm);
    }
  }

  // --- the method ------------------------------------------------------------------------------------
  std::optional<ProgressReport> progress;
  RoiHooks hooks;
  hooks.on_phase = [comm](const char* phase) { inject_fault(phase, comm); };
  if (me == 0 && !options.quiet) {
    // Rank 0 reports for everyone, on stderr (stdout carries the summary).
    progress.emplace(std::cerr, isatty(STDERR_FILENO) == 1, stack->frames(),
                     static_cast<double>(stack->frames() * stack->frame_bytes()));
    hooks.on_progress = [&progress](double fraction) { progress->update(fraction); };
  }
  RoiParameters parameters = roi_parameters(options);
  if (run.probe_border) parameters.border_steps = run.probe_border->steps;
  run.replaces_live_outputs = followed && followed->live_outputs;
  // The files each rank reads its frames from, as they are now: any change until the frames are
  // read (and copied out) is an error. Not for --follow, whose files grew on purpose.
  const std::vector<FileState> input_states = followed ? std::vector<FileState>{} : own_input_states(*stack, comm);
  try {
    if (followed && same_pixels(followed->selection, run.selection)) {
      run.result = classify_followed(*stack, run.scan, run.selection, parameters, *followed, comm, hooks);
    } else {
      // Not computed during the acquisition, or with other pixels (zero frequency decided otherwise
      // on the whole scan): read every frame now.
      run.result = find_roi(*stack, run.scan, run.selection, parameters, comm, hooks);
    }
  } catch (const Error&) {
    // Frames read from a file that changed meanwhile (zeros past a new end) fail in any way: the
    // change is the cause to report. Every rank is here (the method's errors are agreed).
    mpi::run_phase(comm, [&] { check_unchanged(input_states); });
    throw;
  }
  if (progress) progress->finish();
  mpi::run_phase(comm, [&] { check_unchanged(input_states); });
  if (run.scan.positions.empty()) {
    run.scan.positions = grid_positions(run.result.neighbourhood->grid(), run.result.local, run.scan.positions.source);
  }
  // What only the result tells (the raster's size) but must not fail after the subset is written.
  mpi::run_phase(comm, [&] {
    if (!options.preview_dir.empty() && run.result.neighbourhood->is_raster()) {
      check_previewable(run.result.neighbourhood->grid().shape);
    }
  });
  // --plan, --partitions: on the RoI of every frame (gathered).
  run.planning = plan_roi(options, run.scan.positions, run.result, comm);

  // --- write (uncommitted) -----------------------------------------------------------------------------
  if (!output.path.empty()) {
    StepClock clock(run.timings.write_s);
    RoiRecordInfo info;
    info.software = std::string("ptyroi ") + version;
    info.input_file = run.input_file;
    info.input_dataset = run.dataset;
    info.input_layout = input_layout_name(run.layout);
    info.masks = run.mask_sources;
    info.zero_frequency = run.zero_frequency;
    info.timings = {{"open_s", max_over_ranks(run.timings, comm).open_s}};
    info.instrument = run.instrument;
    if (run.planning.partitions) info.partitions = &*run.planning.partitions;
    const auto on_phase = [comm](const char* phase) { inject_fault(phase, comm); };
    run.outputs = write_roi(output, run.result, run.scan.positions, run.selection, *stack, stack->file_type(), info,
                            inputs, comm, on_phase);
    if (options.partition_files && run.planning.partitions) {
      for (PendingOutput& file :
           write_partition_outputs(output, run.result, *run.planning.partitions, run.scan.positions, run.selection,
                                   *stack, stack->file_type(), info, inputs, comm, on_phase)) {
        run.outputs.push_back(std::move(file));
      }
    }
  }
  // The patterns copied out were read from the same files: still unchanged, or nothing is committed.
  if (!output.path.empty()) mpi::run_phase(comm, [&] { check_unchanged(input_states); });
  run.timings.total_s = MPI_Wtime() - start;
  run.timings = max_over_ranks(run.timings, comm);
  return run;
}

PreviewInput gather_preview_input(const ScanRun& run, MPI_Comm comm) {
  const RoiResult& result = run.result;
  const bool root = mpi::rank(comm) == 0;
  // Rank 0 receives only what it draws, only now: the ranks keep their own frames.
  const auto gather_frames = [comm](const auto& local) { return mpi::gather(comm, 0, local); };
  PreviewInput preview;
  preview.title = file_name_of(run.input_file);
  const ScanPositions& positions = run.scan.positions;
  const auto own_x = positions.first_frame == 0 && positions.size() == result.frames
                         ? std::vector<double>(positions.x.begin() + static_cast<std::ptrdiff_t>(result.local.begin),
                                               positions.x.begin() + static_cast<std::ptrdiff_t>(result.local.end))
                         : positions.x;
  const auto own_y = positions.first_frame == 0 && positions.size() == result.frames
                         ? std::vector<double>(positions.y.begin() + static_cast<std::ptrdiff_t>(result.local.begin),
                                               positions.y.begin() + static_cast<std::ptrdiff_t>(result.local.end))
                         : positions.y;
  preview.position_unit = positions.unit == "px" ? "px" : "m";
  preview.x = gather_frames(own_x);
  preview.y = gather_frames(own_y);
  if (result.neighbourhood->is_raster() && root) {
    const ScanGrid& grid = result.neighbourhood->grid();
    preview.grid = grid.shape;
    preview.cell_of_frame.resize(result.frames);
    for (std::uint64_t k = 0; k < result.frames; ++k) preview.cell_of_frame[k] = grid.cell(k);
  }
  std::vector<double> totals, standard_x, standard_y;
  for (const FrameFeatures& frame : result.local_features) {
    totals.push_back(frame.total_intensity);
    // As ComStandardisation::magnitude: a component without spread standardises to 0.
    const bool x_spread = frame.has_com && result.com.std_x > 0.0, y_spread = frame.has_com && result.com.std_y > 0.0;
    standard_x.push_back(x_spread ? (frame.com_x - result.com.mean_x) / result.com.std_x : 0.0);
    standard_y.push_back(y_spread ? (frame.com_y - result.com.mean_y) / result.com.std_y : 0.0);
  }
  preview.transmission = gather_frames(totals);
  preview.com_magnitude = gather_frames(result.local_com_magnitude);
  preview.com_x = gather_frames(standard_x);
  preview.com_y = gather_frames(standard_y);
  preview.absorption_roi = gather_frames(result.absorption.local_roi);
  preview.scattering_roi = gather_frames(result.scattering.local_roi);
  preview.border_steps = result.parameters.border_steps;
  preview.roi = gather_frames(result.local_mask);
  for (const int border : {-2, 0, 2, 4}) {
    if (!border_fits(result, border)) continue;  // a scan too small for this border
    preview.roi_at_borders.emplace_back(border, gather_frames(roi_at_border(result, border, comm)));
  }
  return preview;
}

}  // namespace ptyroi
