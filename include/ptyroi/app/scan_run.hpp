#pragma once
// One scan as the ptyroi program runs it: open the input and its positions and masks as the
// options say, find the RoI (core/find_roi.hpp), and write the subset (io/roi_writer.hpp) under
// temporary names, committed together with the summary and previews when all of them are ready.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/app/options.hpp"
#include "ptyroi/app/preview.hpp"
#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/zero_frequency.hpp"
#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/instrument.hpp"

namespace ptyroi {

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
  ScanInput scan;                     // positions and incident flux, all frames, every rank
  PixelSelection selection;           // mask, --max-valid/flag, --fftshift, --crop window
  std::string zero_frequency;         // --fftshift auto: what the detection found; else "given: ..."
  std::string mask_sources;           // which masks were combined; empty: none
  InstrumentMetadata instrument;      // read from the input, then --energy, --distance, --pixel-size
  std::vector<std::string> warnings;  // what the --format's reader will lack (in the summary)
  RoiResult result;
  RunTimings timings;
  std::vector<PendingOutput> outputs;  // written, not yet committed (see commit_scan_outputs)
};

// Runs the method on comm and, with --output, writes the RoI files (uncommitted). Collective;
// throws identically on every rank when any rank fails.
ScanRun run_scan(const Options& options, MPI_Comm comm);

// Everything the preview images show, gathered to rank 0 (collective over comm; the other ranks get
// an empty input): per-frame features, clusters, and
// the RoI at borders −2, 0, +2, +4 (those the scan is large enough for).
PreviewInput gather_preview_input(const ScanRun& run, MPI_Comm comm);

}  // namespace ptyroi
