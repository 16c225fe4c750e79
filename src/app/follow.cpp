#include "ptyroi/app/follow.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

#include "ptyroi/app/fault_injection.hpp"
#include "ptyroi/app/preview.hpp"
#include "ptyroi/app/scan_outputs.hpp"
#include "ptyroi/app/summary.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/file_watch.hpp"
#include "ptyroi/io/live_stack.hpp"
#include "ptyroi/io/output_format.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/io/roi_writer.hpp"
#include "ptyroi/version.hpp"

namespace ptyroi {

namespace {

constexpr double kFirstPause = 0.05;   // seconds between looks right after frames arrived
constexpr double kLongestPause = 1.0;  // ... growing to this while nothing arrives
constexpr double kMinimumGap = 0.02;   // seconds between looks at least
constexpr double kDefaultUpdateEvery = 5.0;
// With --fftshift auto, zero frequency is decided on the first frames (the final run decides again
// on the whole scan and reads every frame again only if it decides otherwise).
constexpr std::uint64_t kDetectionFrames = 32;

// The frame shape and type of a stack, for writers that read no frame (mask-only).
class ShapeOnly : public FrameSource {
 public:
  ShapeOnly(std::uint64_t frames, std::uint64_t rows, std::uint64_t cols, PixelType type)
      : frames_(frames), rows_(rows), cols_(cols), type_(type) {}
  std::uint64_t frames() const override { return frames_; }
  std::uint64_t rows() const override { return rows_; }
  std::uint64_t cols() const override { return cols_; }
  PixelType pixel_type() const override { return type_; }
  std::string name() const override { return "the live stack"; }
  void read_window(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                   void*) const override {
    throw InternalError("the live mask reads no frame");
  }

 private:
  std::uint64_t frames_, rows_, cols_;
  PixelType type_;
};

// What rank 0 saw at one look, for every rank.
struct Look {
  LiveStack::View view;
  std::uint64_t positions = 0;  // known positions
  bool positions_unlimited = false;
  std::string positions_waiting;
  double now = 0.0;  // rank 0's seconds since the start: every decision about time is rank 0's

  std::string encode() const {
    std::ostringstream out;
    out.precision(17);
    out << now << '\t' << positions << '\t' << (positions_unlimited ? 1 : 0) << '\n';
    std::string waiting = positions_waiting;
    std::replace(waiting.begin(), waiting.end(), '\n', ' ');
    out << waiting << '\n' << view.encode();
    return out.str();
  }
  static Look decode(const std::string& text) {
    Look look;
    std::istringstream in(text);
    int unlimited = 0;
    in >> look.now >> look.positions >> unlimited;
    look.positions_unlimited = unlimited != 0;
    std::string line;
    std::getline(in, line);
    std::getline(in, look.positions_waiting);
    std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    look.view = LiveStack::View::decode(rest);
    return look;
  }
};

void sleep_seconds(double seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

bool recoverable(const std::exception& error) {
  const ErrorCategory category = category_of(error);
  return category == ErrorCategory::input || category == ErrorCategory::usage;
}

std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}

class Follower {
 public:
  Follower(const Options& options, MPI_Comm comm)
      : options_(options),
        comm_(comm),
        root_(mpi::rank(comm) == 0),
        start_(MPI_Wtime()),
        live_mask_(live_mask_path(options)) {
    meta_.options = options;
    // The files the run reads (the data files join once known): no output may be one of them.
    inputs_ = {options.input_file, options.config_file};
    if (options.positions_file != "none") inputs_.push_back(options.positions_file);
    for (const std::string& spec : {options.positions_x, options.positions_y, options.mask, options.monitor}) {
      if (!spec.empty()) inputs_.push_back(parse_dataset_spec(spec, options.input_file).file);
    }
    inputs_.erase(std::remove(inputs_.begin(), inputs_.end(), std::string()), inputs_.end());
    update_every_ = options.update_every_s > 0  ? options.update_every_s
                    : options.update_frames > 0 ? std::numeric_limits<double>::infinity()
                                                : kDefaultUpdateEvery;
  }

  ScanRun run() {
    check_outputs();
    open_input();
    follow();
    return finish();
  }

  // After a failure: a live summary written before says so (rank 0; best effort).
  void report_failure(const std::exception& error) noexcept {
    if (!root_ || !summary_written_) return;
    try {
      FollowStatus status = status_now("failed", last_now_);
      status.note = one_line(error.what());
      write_text_output(options_.summary_file, follow_waiting_json(meta_, status), true);
    } catch (...) {
    }
  }

 private:
  // --- before anything is waited for: the outputs must be writable (as in a batch run) ----------
  void check_outputs() {
    const RoiOutput output = roi_output(options_);
    mpi::run_phase(comm_, [&] {
      inject_fault("open", comm_);
      if (!root_) return;
      // As a batch run checks them, and the live mask with them.
      check_scan_outputs(options_, inputs_);
      if (!live_mask_.empty()) {
        auto files = scan_output_files(options_);
        files.emplace_back("the live mask", live_mask_);
        check_distinct_outputs(files);
        check_output_path(live_mask_, "the live mask", options_.overwrite, inputs_);
      }
    });
  }

  // --- the input, as soon as it opens ---------------------------------------------------------------
  void open_input() {
    // New data files, a master written or replaced, a growing file wake rank 0 up (on this machine).
    double pause = kFirstPause;
    for (;;) {
      if (root_) watch_.watch_directory_of(options_.input_file);  // once its directory exists
      std::string why;
      mpi::run_phase_sleeping(comm_, [&] {
        if (!root_) return;
        try {
          stack_ = LiveStack::open(options_.input_file, parse_input_layout(options_.layout), options_.dataset,
                                   parse_decoder(options_.decoder));
        } catch (const InputError& error) {
          why = error.what();
        }
      });
      why = mpi::broadcast_sleeping(comm_, 0, why + (why.empty() ? "" : "\n") + seconds_text(now()));
      const double rank0_now = std::stod(why.substr(why.rfind('\n') == std::string::npos ? 0 : why.rfind('\n') + 1));
      why = why.rfind('\n') == std::string::npos ? std::string() : why.substr(0, why.rfind('\n'));
      if (why.empty()) break;
      if (rank0_now > options_.idle_timeout_s) {
        throw InputError("--follow: '" + options_.input_file + "' cannot be used after waiting " +
                         seconds_text(options_.idle_timeout_s) + " s (--idle-timeout): " + why);
      }
      if (root_) watch_.wait(pause);  // the others wait for rank 0, asleep
      pause = std::min(pause * 1.5, kLongestPause);
    }
    mpi::run_phase(comm_, [&] {
      if (root_) return;
      stack_ = LiveStack::open(options_.input_file, parse_input_layout(options_.layout), options_.dataset,
                               parse_decoder(options_.decoder));
    });
    meta_.input_file = options_.input_file;
    meta_.layout = stack_->description().layout;
    if (root_ && !options_.positions_file.empty() && options_.positions_file != "none") {
      // Appended positions wake rank 0 up too (a CSV file, or the file of a "FILE:/PATH" dataset).
      const std::string& spec = options_.positions_file;
      const auto split = spec.rfind(":/");
      watch_.watch_directory_of(split == std::string::npos ? spec : spec.substr(0, split));
    }
  }

  // --- one look: rank 0 waits (`pause` seconds at most, less when a watched directory changes),
  //     looks, and every rank adopts what it saw; the others wait asleep --------------------------------
  Look look(double pause) {
    Look seen;
    mpi::run_phase_sleeping(comm_, [&] {
      if (!root_) return;
      if (pause > 0) {
        // Never more than one look per kMinimumGap, however fast a writer's events come.
        sleep_seconds(std::min(pause, kMinimumGap));
        if (pause > kMinimumGap) watch_.wait(pause - kMinimumGap);
      }
      seen.view = stack_->look();
      try {
        positions_ = read_available_positions(positions_spec(options_), options_.input_file, stack_->description(),
                                              !options_.grid.empty());
      } catch (const InputError& error) {
        // A table or dataset being written (the batch run on the finished files will judge it).
        positions_.waiting = error.what();
      }
      seen.positions = positions_.positions.x.size();
      seen.positions_unlimited = positions_.unlimited;
      seen.positions_waiting = positions_.waiting;
      seen.now = now();
    });
    const Look look = Look::decode(mpi::broadcast_sleeping(comm_, 0, root_ ? seen.encode() : std::string()));
    mpi::run_phase(comm_, [&] { stack_->adopt(look.view); });
    last_now_ = look.now;
    return look;
  }

  // --- the pixels that count, once the frame shape is known (and, to detect zero frequency, a few
  //     frames are in) --------------------------------------------------------------------------------
  bool prepare_pixels(const Look& look, bool ending) {
    if (pixels_ready_) return true;
    if (!stack_->has_frame_shape()) return false;
    const std::uint64_t wanted = std::min<std::uint64_t>(kDetectionFrames, expected(look).value_or(kDetectionFrames));
    if (options_.fftshift == "auto" && stack_->frames() < std::max<std::uint64_t>(wanted, 1) && !ending) return false;
    if (options_.fftshift == "auto" && stack_->frames() == 0) return false;
    meta_.dataset = stack_->dataset_path();
    meta_.pixel_type = stack_->pixel_type();
    std::vector<std::uint8_t> good_pixels =
        read_pixel_metadata(meta_, stack_->description(), stack_->rows(), stack_->cols(), comm_);
    // Positions in metres, as far as the options tell before they have all arrived.
    const bool metric =
        options_.positions_file != "none" && (options_.positions_unit != "px" || options_.positions_pixel_size > 0.0);
    select_pixels(meta_, *stack_, stack_->description(), std::move(good_pixels), metric, comm_);
    stored_rows_ = stack_->rows();
    stored_cols_ = stack_->cols();
    file_type_ = h5::checked(H5Tcopy(stack_->file_type()), "cannot copy the pixel type");
    block_frames_ =
        options_.block_frames > 0
            ? options_.block_frames
            : std::max<std::uint64_t>(1, (std::uint64_t{4} << 20) / std::max<std::size_t>(1, stack_->frame_bytes()));
    pixels_ready_ = true;
    return true;
  }

  // --- the new frames, shared out: each rank reads a contiguous piece once -----------------------------
  void read_new_frames() {
    const std::uint64_t available = stack_->frames();
    if (available <= done_) return;
    FrameRange piece = partition_frames(available - done_, mpi::size(comm_), mpi::rank(comm_));
    piece.begin += done_;
    piece.end += done_;
    std::uint64_t failed_at = available;
    std::string failure;
    const double start = MPI_Wtime();
    mpi::run_phase(comm_, [&] {
      inject_fault("features", comm_);
      for (std::uint64_t first = piece.begin; first < piece.end; first += block_frames_) {
        const FrameRange block{first, std::min(piece.end, first + block_frames_)};
        try {
          append_features(held_, block.begin, frame_features(*stack_, block, meta_.selection, block_frames_));
        } catch (const std::exception& error) {
          // A chunk at the growing end caught mid-flush: read again at the next look.
          if (category_of(error) != ErrorCategory::io && category_of(error) != ErrorCategory::input) throw;
          failed_at = block.begin;
          failure = error.what();
          break;
        }
      }
    });
    features_s_ += MPI_Wtime() - start;
    std::uint64_t agreed = failed_at;
    MPI_Allreduce(MPI_IN_PLACE, &agreed, 1, MPI_UINT64_T, MPI_MIN, comm_);
    truncate_features(held_, agreed);
    read_note_.clear();
    if (agreed < available) {
      const int first_failing = failed_at == agreed ? mpi::rank(comm_) : mpi::size(comm_);
      int reporter = first_failing;
      MPI_Allreduce(MPI_IN_PLACE, &reporter, 1, MPI_INT, MPI_MIN, comm_);
      read_note_ = "frame " + std::to_string(agreed) + " could not be read yet (" +
                   mpi::broadcast(comm_, reporter, failure) + "); trying again";
    }
    done_ = agreed;
  }

  std::optional<std::uint64_t> expected(const Look& look) const {
    if (options_.expect_frames > 0) return options_.expect_frames;
    return look.view.expected;
  }

  // Frames that can be classified: read, and with a position.
  std::uint64_t classifiable(const Look& look) const {
    return look.positions_unlimited ? done_ : std::min(done_, look.positions);
  }

  FollowStatus status_now(const std::string& state, double now) const {
    FollowStatus status;
    status.state = state;
    status.frames_done = done_;
    status.frames_classified = classified_;
    status.frames_expected = expected_;
    status.updates = updates_;
    status.elapsed_s = now;
    status.since_last_frame_s = now - last_change_;
    status.live_mask = live_mask_;
    return status;
  }

  // --- one live update: the method on the first `frames` frames, the live files replaced -------------
  void update(std::uint64_t frames, const Look& look, const std::string& waiting) {
    ++updates_;
    ScanRun live = metadata_copy();
    RoiParameters parameters = roi_parameters(options_);
    // A raster still being scanned: its complete rows.
    if (parameters.grid) {
      const std::int64_t cols = parameters.grid->cols;
      parameters.grid->rows = static_cast<std::int64_t>(frames) / cols;
      frames = static_cast<std::uint64_t>(parameters.grid->rows * cols);
    }
    // A partial raster is no raster yet: its neighbours come from the positions.
    if (parameters.scan == ScanKind::grid) parameters.scan = ScanKind::automatic;
    ScanPositions positions;
    if (root_ && !look.positions_unlimited) {
      positions = positions_.positions;
      positions.x.resize(std::min<std::size_t>(positions.x.size(), frames));
      positions.y.resize(std::min<std::size_t>(positions.y.size(), frames));
    }
    mpi::broadcast(comm_, 0, positions.x);
    mpi::broadcast(comm_, 0, positions.y);
    positions.source = mpi::broadcast(comm_, 0, root_ ? positions_.positions.source : std::string());
    const std::string unit = mpi::broadcast(comm_, 0, root_ ? positions_.positions.unit : std::string());
    if (!unit.empty()) positions.unit = unit;
    live.scan.positions = positions;
    FollowStatus status = status_now("following", look.now);
    status.frames_classified = frames;
    status.note = waiting;
    try {
      if (frames == 0) {
        throw InputError(parameters.grid ? "no complete row of the --grid raster yet" : "no frame with a position yet");
      }
      mpi::run_phase(comm_, [&] { check_extent(live.scan.positions); });
      auto neighbourhood = scan_neighbourhood(live.scan, frames, parameters, comm_);
      live.result = classify_frames(share_features(held_, frames, comm_), frames, live.scan, parameters,
                                    std::move(neighbourhood), comm_, {}, stack_->name());
    } catch (const std::exception& error) {
      if (!recoverable(error)) throw;
      // Too early for a RoI (too few frames for the border, no contrast yet, ...): say why.
      status.state = "waiting";
      status.note = one_line(error.what()) + (waiting.empty() ? "" : "; " + waiting);
      write_status(follow_waiting_json(live, status));
      return;
    }
    const bool windowed = meta_.selection.window_rows > 0;
    live.result.rows = windowed ? meta_.selection.window_rows : stack_->rows();
    live.result.cols = windowed ? meta_.selection.window_cols : stack_->cols();
    live.result.block_frames = block_frames_;
    live.result.bytes_read = frames * live.result.rows * live.result.cols * pixel_type_size(stack_->pixel_type());
    live.result.timings.features_s = mpi::all_max(comm_, features_s_);
    if (live.scan.positions.empty()) live.scan.positions = raster_positions(live.result);
    classified_ = frames;
    status.frames_classified = frames;
    live.timings.total_s = look.now;
    live.follow = status;
    write_live_mask(live);
    mpi::run_phase_sleeping(comm_, [&] {
      if (!root_) return;
      if (!options_.summary_file.empty()) write_text_output(options_.summary_file, summary_json(live), true);
      if (!options_.quiet) {
        std::fprintf(stderr, "ptyroi: follow: %llu frames read%s, RoI %lld of %llu (update %lld, %.1f s)\n",
                     static_cast<unsigned long long>(done_),
                     expected_ ? (" of " + std::to_string(*expected_)).c_str() : "",
                     static_cast<long long>(live.result.roi_frames), static_cast<unsigned long long>(frames),
                     static_cast<long long>(updates_), look.now);
      }
    });
    // The previews after the summary (drawing them takes longest), and never more than a fifth of
    // the time: a display still gets every update's numbers at once.
    if (!options_.preview_dir.empty() && look.now >= next_previews_at_) {
      const PreviewInput preview = gather_preview_input(live, comm_);
      double drawing_s = MPI_Wtime();
      mpi::run_phase_sleeping(comm_, [&] {
        if (root_) write_live_previews(preview);
      });
      drawing_s = mpi::all_max(comm_, MPI_Wtime() - drawing_s);
      next_previews_at_ = look.now + 5.0 * drawing_s;
    }
    summary_written_ = summary_written_ || !options_.summary_file.empty();
    last_live_ = std::make_unique<ScanRun>(std::move(live));
  }

  // A run holding the input's metadata and pixel selection, for the live outputs.
  ScanRun metadata_copy() const {
    ScanRun copy;
    copy.options = meta_.options;
    copy.input_file = meta_.input_file;
    copy.dataset = meta_.dataset;
    copy.layout = meta_.layout;
    copy.data_files = stack_ ? stack_->segments() : meta_.data_files;
    copy.pixel_type = meta_.pixel_type;
    copy.selection = meta_.selection;
    copy.zero_frequency = meta_.zero_frequency;
    copy.mask_sources = meta_.mask_sources;
    copy.instrument = meta_.instrument;
    copy.warnings = meta_.warnings;
    return copy;
  }

  // Positions in scan steps for a --grid run without positions.
  static ScanPositions raster_positions(const RoiResult& result) {
    ScanPositions positions;
    const ScanGrid& grid = result.neighbourhood->grid();
    for (const std::int64_t cell : grid.cell_of_frame) {
      positions.x.push_back(static_cast<double>(cell % grid.shape.cols));
      positions.y.push_back(static_cast<double>(cell / grid.shape.cols));
    }
    positions.source = "none in the input: the --grid column and row of each frame, in scan steps";
    return positions;
  }

  // The previews, each drawn under a temporary name and renamed over the previous image: a viewer
  // polling the directory never sees half an image (rank 0).
  void write_live_previews(const PreviewInput& preview) {
    std::error_code error;
    std::filesystem::create_directories(options_.preview_dir, error);
    std::vector<PendingOutput> images;
    std::vector<std::string> temporaries;
    for (const std::string& name : preview_file_names()) {
      images.push_back(PendingOutput::create((std::filesystem::path(options_.preview_dir) / name).string(), true));
      temporaries.push_back(images.back().temporary_path());
    }
    render_previews(preview, temporaries);
    for (PendingOutput& image : images) image.commit();
    previews_written_ = true;
  }

  // A live summary without a new RoI (rank 0).
  void write_status(const std::string& json) {
    mpi::run_phase_sleeping(comm_, [&] {
      if (root_ && !options_.summary_file.empty()) write_text_output(options_.summary_file, json, true);
    });
    summary_written_ = summary_written_ || !options_.summary_file.empty();
  }

  // The mask so far: the /roi record alone (mask-only), replaced atomically. Collective.
  void write_live_mask(const ScanRun& live) {
    if (live_mask_.empty()) return;
    RoiOutput output;
    output.path = live_mask_;
    output.format = &output_format("mask-only");
    output.write_patterns = false;
    output.overwrite = true;
    RoiRecordInfo info;
    info.software = std::string("ptyroi ") + version;
    info.input_file = live.input_file;
    info.input_dataset = live.dataset;
    info.input_layout = input_layout_name(live.layout);
    info.masks = live.mask_sources;
    info.zero_frequency = live.zero_frequency;
    info.instrument = live.instrument;
    const ShapeOnly shape(live.result.frames, stored_rows_, stored_cols_, live.pixel_type);
    std::vector<PendingOutput> outputs = write_roi(output, live.result, live.scan.positions, live.selection, shape,
                                                   file_type_.get(), info, inputs_, comm_);
    commit_outputs(outputs, comm_);
  }

  // --- the acquisition, look after look, to its end ------------------------------------------------------
  void follow() {
    double pause = kFirstPause;
    double last_update = -std::numeric_limits<double>::infinity();
    double wait = 0.0;
    std::uint64_t last_frames = 0, last_positions = 0, attempted_frames = 0, updated_done = 0;
    bool first_look = true;
    for (;;) {
      const Look seen = look(wait);
      expected_ = expected(seen);
      const bool arrived = seen.view.frames > last_frames || seen.positions > last_positions;
      // The idle time counts from the input's opening (which may itself have been waited for).
      if (arrived || first_look) last_change_ = seen.now;
      first_look = false;
      last_frames = seen.view.frames;
      last_positions = seen.positions;
      const bool idle = seen.now - last_change_ >= options_.idle_timeout_s;
      if (prepare_pixels(seen, idle)) read_new_frames();
      const bool all_in = expected_ && done_ >= *expected_ && stack_->frames() >= *expected_ &&
                          (seen.positions_unlimited || seen.positions >= *expected_);
      const bool ending = all_in || idle;
      const std::uint64_t frames = classifiable(seen);
      std::string waiting = read_note_;
      if (waiting.empty() && !seen.positions_unlimited && seen.positions < done_) {
        waiting = seen.positions_waiting.empty()
                      ? "positions of " + std::to_string(done_ - seen.positions) + " frames still to come"
                      : seen.positions_waiting;
      }
      if (waiting.empty()) waiting = seen.view.waiting;
      const bool new_frames = frames > attempted_frames && pixels_ready_;
      const bool by_frames =
          new_frames && options_.update_frames > 0 && frames >= attempted_frames + options_.update_frames;
      const bool by_time =
          seen.now - last_update >= update_every_ && (new_frames || done_ > updated_done || updates_ == 0);
      if (!ending && (by_frames || by_time)) {
        if (new_frames) {
          attempted_frames = frames;
          update(frames, seen, waiting);
        } else {
          // Nothing new to classify: the state alone (frames read, what is awaited).
          ++updates_;
          FollowStatus status = status_now(pixels_ready_ ? "following" : "waiting", seen.now);
          status.note = waiting;
          if (last_live_) {
            ScanRun& live = *last_live_;
            live.follow = status;
            write_status(summary_json(live));
          } else {
            status.state = "waiting";
            write_status(follow_waiting_json(meta_, status));
          }
        }
        last_update = seen.now;
        updated_done = done_;
      }
      if (ending) {
        end_reason_ = all_in ? "all " + std::to_string(*expected_) + " expected frames are in"
                             : "no new frame for " + seconds_text(options_.idle_timeout_s) + " s (--idle-timeout)";
        return;
      }
      // Asleep until the next look: soon after an arrival, longer while nothing comes; never past a
      // due update or the idle timeout. Every rank computes the same pause from rank 0's numbers.
      pause = arrived ? kFirstPause : std::min(pause * 2.0, kLongestPause);
      wait = pause;
      if (std::isfinite(update_every_) && done_ > updated_done) {
        wait = std::min(wait, std::max(0.0, last_update + update_every_ - seen.now));
      }
      wait = std::min(wait, std::max(0.0, last_change_ + options_.idle_timeout_s - seen.now));
      wait = std::max(wait, kMinimumGap);
    }
  }

  // --- the end: the batch path on the finished files, with the features computed so far --------------
  ScanRun finish() {
    // A batch run needs finished files: a SWMR writer still holding one is waited for.
    double pause = kFirstPause;
    for (;;) {
      std::string writing;
      mpi::run_phase_sleeping(comm_, [&] {
        if (root_) writing = stack_->file_being_written();
      });
      writing = mpi::broadcast_sleeping(comm_, 0, writing + "\n" + seconds_text(now()));
      const double rank0_now = std::stod(writing.substr(writing.rfind('\n') + 1));
      writing.resize(writing.rfind('\n'));
      if (writing.empty()) break;
      if (rank0_now - last_now_ > options_.idle_timeout_s) {
        throw InputError("--follow: '" + writing + "' is still held open by its writer " +
                         seconds_text(options_.idle_timeout_s) +
                         " s after the acquisition ended; a batch run needs the finished file (if its writer died: "
                         "h5clear -s)");
      }
      sleep_seconds(pause);
      pause = std::min(pause * 1.5, kLongestPause);
    }
    // The files are read by the batch path now (MPI-IO): this rank's own handles are closed first.
    stack_.reset();

    FollowedFrames followed;
    followed.held = std::move(held_);
    followed.frames = done_;
    followed.selection = meta_.selection;
    followed.features_s = features_s_;
    // Whether rank 0 wrote live previews: the final ones then replace them.
    int previews = previews_written_ ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &previews, 1, MPI_INT, MPI_MAX, comm_);
    followed.live_outputs = summary_written_ || previews != 0;
    if (!pixels_ready_) followed.frames = 0;
    ScanRun run = run_scan(options_, comm_, &followed);
    FollowStatus status = status_now("done", now());
    status.frames_classified = run.result.frames;
    status.frames_done = run.result.frames;
    status.note = end_reason_;
    status.updates = ++updates_;
    run.follow = status;
    finish_scan_outputs(run, comm_);
    // The live mask ends as the final one.
    if (!live_mask_.empty() && pixels_ready_) write_live_mask(run);
    return run;
  }

  double now() const { return MPI_Wtime() - start_; }

  Options options_;
  MPI_Comm comm_;
  bool root_;
  double start_;
  std::string live_mask_;
  std::vector<std::string> inputs_;
  double update_every_ = kDefaultUpdateEvery;

  std::unique_ptr<LiveStack> stack_;
  FileWatch watch_;  // rank 0's
  h5::Handle file_type_;
  ScanRun meta_;  // the input's metadata and pixel selection (no result)
  bool pixels_ready_ = false;
  std::uint64_t block_frames_ = 1;
  std::uint64_t stored_rows_ = 0, stored_cols_ = 0;  // the frames as stored
  AvailablePositions positions_;                     // rank 0's

  std::vector<FeatureRun> held_;  // the features this rank computed
  std::uint64_t done_ = 0;        // frames whose features are held (by some rank)
  std::uint64_t classified_ = 0;  // frames of the last RoI
  double features_s_ = 0.0;
  std::string read_note_;
  std::optional<std::uint64_t> expected_;
  std::int64_t updates_ = 0;
  double last_change_ = 0.0, last_now_ = 0.0;
  bool summary_written_ = false;
  bool previews_written_ = false;  // rank 0's
  std::unique_ptr<ScanRun> last_live_;
  double next_previews_at_ = 0.0;  // rank 0's time from which the next live update draws previews
  std::string end_reason_;
};

}  // namespace

std::string live_mask_path(const Options& options) {
  std::string base;
  if (!options.output_file.empty()) {
    base = roi_output(options).paths().front();
  } else if (!options.summary_file.empty()) {
    base = options.summary_file;
  } else {
    return {};
  }
  const std::string name = file_name_of(base);
  const auto dot = name.rfind('.');
  const std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
  return base.substr(0, base.size() - name.size()) + stem + ".live.h5";
}

ScanRun follow_scan(const Options& options, MPI_Comm comm) {
  validate(options);
  Follower follower(options, comm);
  try {
    return follower.run();
  } catch (const std::exception& error) {
    follower.report_failure(error);
    throw;
  }
}

}  // namespace ptyroi
