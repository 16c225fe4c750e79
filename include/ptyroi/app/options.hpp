#pragma once
// Every setting of a ptyroi run, from the command line and an optional INI config file
// (--config; the command line wins). Parsing is pure: the same argv gives the same Options on
// every rank, so ranks need not exchange them.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/roi_parameters.hpp"
#include "ptyroi/io/instrument.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/io/roi_writer.hpp"

namespace ptyroi {

struct Options {
  // input
  std::string input_file;
  std::string input_list;       // a tomography series: one input per line (--input-list)
  std::string layout = "auto";  // auto | plain | nexus | cxi | ptychoshelves
  std::string dataset;          // empty: where the layout keeps the stack
  std::string positions_x;      // "PATH" or "FILE:PATH"; empty: defaults
  std::string positions_y;
  std::string positions_file;         // a CSV/text file of positions (--positions); empty: none
  std::string positions_columns;      // "X,Y": header names or 0-based indices; empty: automatic
  double positions_scale = 1.0;       // multiplies every position (before the unit)
  std::string positions_unit = "m";   // m | mm | um | nm | px
  double positions_pixel_size = 0.0;  // metres per position pixel (--positions-unit px)
  bool flip_x = false, flip_y = false, swap_xy = false;
  std::string grid;                   // "ROWSxCOLS"; empty: inferred from positions
  std::string scan = "auto";          // auto | grid | irregular: how scan neighbours are defined
  std::string mask;                   // "[FILE:]PATH" of a [N, M] mask, non-zero = bad; empty: none
  bool use_file_mask = true;          // combine the input's own mask (NeXus pixel_mask, CXI mask)
  bool allow_missing_frames = false;  // frames in unwritten chunks: left out and counted, not an error
  std::string monitor;                // "[FILE:]PATH" of the per-frame incident flux; empty: the input's own, if any
  bool use_file_monitor = true;       // --no-monitor: ignore the input's monitor
  bool has_max_valid = false;         // --max-valid given
  double max_valid = 0.0;             // pixels above it are left out
  std::string fftshift = "auto";      // auto | yes | no: stack stored with zero frequency at the corner
  std::uint64_t crop = 0;             // N: crop N×N around the beam centre; 0: whole frame
  std::string beam_center;            // "X,Y" pixels; empty: the file's metadata, else the frame centre
  // instrument (0: from the input, if it says)
  double energy_kev = 0.0;    // photon energy, keV (--energy)
  double distance_m = 0.0;    // sample–detector distance, m (--distance)
  double pixel_size_m = 0.0;  // detector pixel, m (--pixel-size)
  // method
  int border_steps = 0;
  bool border_auto = false;  // --border auto: grow by the probe radius estimated from the data
  int clusters = 2;
  int iterations = 10;
  bool use_log = true;
  bool contrast_test = true;  // --no-contrast-test: the paper's behaviour
  double contrast_threshold = 2.0;
  // execution
  std::uint64_t block_frames = 0;  // 0: automatic, the frames that fit in 4 MiB (512 KiB decoded in-process)
  std::string decoder = "auto";    // auto: bitshuffle-LZ4/deflate chunks decoded in-process | hdf5
  bool share_work = true;          // --no-work-sharing: each rank only its own share of the frames
  // output
  std::string output_file;     // empty: no subset file
  std::string format = "cxi";  // cxi | ptychoshelves | ptychodus | tike | mask-only
  bool write_patterns = true;
  bool overwrite = false;
  std::string summary_file;
  std::string output_dir;      // series: where outputs go; empty: next to each input
  std::string series_summary;  // series: the CSV summary; empty: ptyroi_series.csv
  std::string preview_dir;     // PNG previews; empty: none
  // a fine scan of the RoI (--plan)
  std::string plan_file;                // CSV of the fine scan's positions; empty: none
  double plan_step_m = 0.0;             // its step, metres
  std::string plan_pattern = "raster";  // raster | spiral
  // partitions for a distributed reconstruction (--partitions)
  int partitions = 0;            // P; 0: none
  double halo_m = -1.0;          // halo distance, metres; negative: 2 scan steps
  bool partition_files = false;  // also one output per partition
  bool quiet = false;
  std::string config_file;
  // live mode (--follow): an acquisition in progress
  bool follow = false;
  double update_every_s = 0.0;      // a live update at most this often; 0: --update-frames alone (else 5 s)
  std::uint64_t update_frames = 0;  // a live update every N new frames; 0: by time alone
  std::uint64_t expect_frames = 0;  // the scan's frame count; 0: the NeXus nimages, if any
  double idle_timeout_s = 60.0;     // no new frame for this long: the acquisition is over
};

struct CommandLine {
  Options options;
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

// Throws UsageError with a one-line message naming the option (or the config file and key).
CommandLine parse_command_line(int argc, const char* const argv[]);

// "X,Y" of --beam-center; throws UsageError naming the option.
std::pair<double, double> parse_beam_center(const std::string& text);

// Range and consistency checks that need no file access.
void validate(const Options& options);

// The options as the library's settings.
RoiParameters roi_parameters(const Options& options);
PositionsSpec positions_spec(const Options& options);
PixelSettings pixel_settings(const Options& options);
InstrumentOverrides instrument_overrides(const Options& options);
RoiOutput roi_output(const Options& options);  // path empty: no --output

// Exit status of a failure of that category: 2 usage, 1 input, 3 I/O or resources, 4 internal.
int exit_status(ErrorCategory category);

}  // namespace ptyroi
