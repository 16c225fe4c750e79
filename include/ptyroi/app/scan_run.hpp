#pragma once
// One scan as the ptyroi program runs it: open the input and its positions and masks as the
// options say, find the RoI (core/find_roi.hpp), and write the subset (io/roi_writer.hpp) under
// temporary names, committed together with the summary and previews when all of them are ready.
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptyroi/app/options.hpp"
#include "ptyroi/app/planning.hpp"
#include "ptyroi/app/preview.hpp"
#include "ptyroi/core/feature_exchange.hpp"
#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/zero_frequency.hpp"
#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/instrument.hpp"

namespace ptyroi {

// The state of ptyroi --follow, in the summary as "follow".
struct FollowStatus {
  std::string state;                             // "waiting", "following", "done"
  std::uint64_t frames_done = 0;                 // frames read (their features known)
  std::uint64_t frames_classified = 0;           // frames of this RoI (those with positions)
  std::optional<std::uint64_t> frames_expected;  // --expect-frames or the NeXus nimages
  std::int64_t updates = 0;                      // live updates written, this one included
  double elapsed_s = 0.0;                        // since the start
  double since_last_frame_s = 0.0;               // since the last new frame
  std::string note;                              // why the RoI is not (yet) computed, or what is awaited
  std::string live_mask;                         // the mask-so-far file; empty: none
};

// Wall seconds of the program's own steps, the maximum over ranks.
struct RunTimings {
  double open_s = 0, write_s = 0, total_s = 0;
};

struct ScanRun {
  Options options;
  std::string input_file, dataset;
  InputLayout layout = InputLayout::plain;
  std::size_t data_files = 1;  // datasets the stack is made of (NeXus: one per data file)
  PixelType pixel_type = PixelType::f64;
  ScanInput scan;                           // positions and incident flux, all frames, every rank
  PixelSelection selection;                 // mask, --max-valid/flag, --fftshift, --crop window
  std::string zero_frequency;               // --fftshift auto: what the detection found; else "given: ..."
  std::string mask_sources;                 // which masks were combined; empty: none
  InstrumentMetadata instrument;            // read from the input, then --energy, --distance, --pixel-size
  std::vector<std::string> warnings;        // what the --format's reader will lack (in the summary)
  std::optional<ProbeBorder> probe_border;  // --border auto: the probe measured and the border it made
  RoiResult result;
  Planning planning;  // --plan, --partitions
  RunTimings timings;
  std::vector<PendingOutput> outputs;  // written, not yet committed (see commit_scan_outputs)
  bool replaces_live_outputs = false;  // --follow wrote a live summary and previews: replaced, not refused
  std::optional<FollowStatus> follow;  // --follow: the state of the acquisition (in the summary)
};

// What ptyroi --follow brings to the final run on the finished files: the features it computed as
// the frames arrived, so that they are not read again.
struct FollowedFrames {
  std::vector<FeatureRun> held;  // this rank's
  std::uint64_t frames = 0;      // the features of frames [0, frames) are held, each by one rank
  PixelSelection selection;      // the pixels they count; used only if the final run selects the same
  double features_s = 0.0;       // seconds this rank spent on them
  bool live_outputs = false;     // the live summary and previews exist (replaced by the final ones)
};

// Runs the method on comm and, with --output, writes the RoI files (uncommitted). Collective;
// throws identically on every rank when any rank fails. `followed`: features computed during the
// acquisition (the frames after them are read; the result is bitwise that of a batch run).
ScanRun run_scan(const Options& options, MPI_Comm comm, const FollowedFrames* followed = nullptr);

// Steps of run_scan that --follow also takes on an input still being written.
// Rank 0 reads the input's masks and instrument metadata and every rank receives them
// (run.mask_sources; run.instrument, with the options' overrides). Returns the good pixels of the
// stored frames (empty: all). Collective.
std::vector<std::uint8_t> read_pixel_metadata(ScanRun& run, const InputDescription& description, std::uint64_t rows,
                                              std::uint64_t cols, MPI_Comm comm);
// Where `frames` keep zero frequency (--fftshift, or detected from a sample of them), the pixel
// selection (run.selection, run.zero_frequency), then what --format needs (run.warnings; UsageError
// when it cannot be written; metric_positions: positions in metres are there). Collective.
void select_pixels(ScanRun& run, const FrameSource& frames, const InputDescription& description,
                   std::vector<std::uint8_t> good_pixels, bool metric_positions, MPI_Comm comm);

// Everything the preview images show, gathered to rank 0 (collective over comm; the other ranks get
// an empty input): per-frame features, clusters, and
// the RoI at borders −2, 0, +2, +4 (those the scan is large enough for).
PreviewInput gather_preview_input(const ScanRun& run, MPI_Comm comm);

}  // namespace ptyroi
