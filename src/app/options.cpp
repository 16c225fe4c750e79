#include "ptyroi/app/options.hpp"

#include <boost/program_options.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/fine_scan_plan.hpp"
#include "ptyroi/core/scan_grid.hpp"
#include "ptyroi/io/chunk_reader.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/output_format.hpp"

namespace ptyroi {

namespace po = boost::program_options;

namespace {

constexpr std::int64_t kMaxBlockFrames = std::int64_t{1} << 20;
constexpr std::int64_t kMaxCrop = std::int64_t{1} << 20;  // pixels a side: far beyond any detector

struct Switches {
  // Read signed, so that "-1" is refused as itself rather than wrapping to 2^64 - 1.
  std::int64_t crop = 0;
  std::int64_t block_frames = 0;
  bool no_log = false;
  bool no_patterns = false;
  bool no_file_mask = false;
  bool no_contrast_test = false;
  bool no_monitor = false;
  bool no_work_sharing = false;
  std::string border = "0";  // N or auto
};

// "--format" help, from the registry: one line per format.
std::string format_help() {
  std::string text = "output format (default cxi):";
  for (const OutputFormat* format : output_formats()) {
    text += "\n  " + std::string(format->name) + ": " + std::string(format->description);
  }
  return text;
}

po::options_description describe(Options& o, Switches& switches) {
  // clang-format off
  po::options_description input("Input");
  input.add_options()
      ("input,i", po::value(&o.input_file)->value_name("FILE"),
       "HDF5 file holding the diffraction patterns (a NeXus master, CXI, PtychoShelves _dp or plain file)")
      ("input-list", po::value(&o.input_list)->value_name("FILE"),
       "a series (e.g. tomography angles): one input per line, processed one after another by all ranks; "
       "outputs named <stem>_roi.h5 (+ .json) next to each input or in --output-dir")
      ("layout", po::value(&o.layout)->value_name("NAME"),
       "auto (default: detected from the content) | nexus | cxi | ptychoshelves | plain")
      ("dataset,d", po::value(&o.dataset)->value_name("PATH"),
       "pattern stack [K,N,M]; default: where the layout keeps it (nexus: /entry/data/data_NNNNNN, cxi: "
       "/entry_1/data_1/data, ptychoshelves: /dp, plain: /data)")
      ("positions-x", po::value(&o.positions_x)->value_name("[FILE:]PATH"),
       "scan x positions; default /positions_x, the CXI translation, or /ppX of the _para file")
      ("positions-y", po::value(&o.positions_y)->value_name("[FILE:]PATH"), "scan y positions")
      ("positions", po::value(&o.positions_file)->value_name("FILE|[FILE:]/PATH|none"),
       "positions from a CSV/text file (comma, semicolon, tab or space separated; # comments; optional header), "
       "or an HDF5 dataset [K, 2] or [K, 3] (columns by --positions-columns, default 0,1), or none: ignore the "
       "input's positions and place the frames with --grid")
      ("positions-columns", po::value(&o.positions_columns)->value_name("X,Y"),
       "the two columns of --positions, by header name or 0-based index; default: x/y-named columns, else the "
       "last two")
      ("positions-scale", po::value(&o.positions_scale)->value_name("S"),
       "multiply every position by S (default 1)")
      ("positions-unit", po::value(&o.positions_unit)->value_name("UNIT"),
       "unit of the positions: m (default), mm, um, nm, or px (object pixels: give --positions-pixel-size, else "
       "they stay pixels and are labelled so)")
      ("positions-pixel-size", po::value(&o.positions_pixel_size)->value_name("METRES"),
       "metres per pixel of positions in px")
      ("flip-x", po::bool_switch(&o.flip_x), "negate the x positions")
      ("flip-y", po::bool_switch(&o.flip_y), "negate the y positions")
      ("swap-xy", po::bool_switch(&o.swap_xy), "exchange x and y positions (applied before the flips)")
      ("grid", po::value(&o.grid)->value_name("ROWSxCOLS"),
       "raster of the scan, row-major (frame k at row k / COLS); default: inferred from the positions")
      ("scan", po::value(&o.scan)->value_name("TYPE"),
       "auto (default: a grid when the positions form one, else irregular) | grid | irregular")
      ("mask", po::value(&o.mask)->value_name("[FILE:]PATH"),
       "bad-pixel mask [N,M], non-zero = bad, combined with the file's own; bad pixels are left out of every sum")
      ("monitor", po::value(&o.monitor)->value_name("[FILE:]PATH"),
       "per-frame incident flux [K] (e.g. an ion chamber) that T is divided by before the maps; default: the "
       "input's own monitor (NeXus NXmonitor data, CXI instrument_1 monitor, plain /monitor), if any")
      ("no-monitor", po::bool_switch(&switches.no_monitor), "ignore the input's own monitor")
      ("allow-missing-frames", po::bool_switch(&o.allow_missing_frames),
       "frames in chunks never written (an aborted acquisition) are left out of the statistics and the RoI "
       "and counted, instead of stopping the run")
      ("no-file-mask", po::bool_switch(&switches.no_file_mask),
       "ignore the input's own mask (NeXus pixel_mask, CXI mask, plain /pixel_mask)")
      ("max-valid", po::value(&o.max_valid)->value_name("VALUE"),
       "leave out pixels above VALUE in every frame (saturated or hot pixels); NeXus flag values 2^bit_depth-1 "
       "are always left out")
      ("fftshift", po::value(&o.fftshift)->value_name("auto|yes|no")->implicit_value("yes"),
       "zero frequency at the corner of the stored frames (as tike and many fly scans store them)? auto (default): "
       "decided from a sample of frames and reported; yes (also plain --fftshift); no. The analysis and the written "
       "patterns use the centred frames")
      ("crop", po::value(&switches.crop)->value_name("N"),
       "use only the NxN pixels around the beam centre of the centred frames (and write them)")
      ("beam-center", po::value(&o.beam_center)->value_name("X,Y"),
       "beam centre in pixels (x = column); default: the file's metadata, else the frame centre")
      ("energy", po::value(&o.energy_kev)->value_name("KEV"),
       "photon energy in keV, for the outputs (default: the input's, e.g. CXI source_1/energy, NXmx incident_wavelength)")
      ("distance", po::value(&o.distance_m)->value_name("M"),
       "sample-detector distance in metres, for the outputs (default: the input's)")
      ("pixel-size", po::value(&o.pixel_size_m)->value_name("M"),
       "detector pixel size in metres (square pixels), for the outputs (default: the input's)");
  po::options_description method("Method");
  method.add_options()
      ("border,b", po::value(&switches.border)->value_name("N|auto"),
       "grow (N>0) or shrink (N<0) the RoI by N scan steps; auto: grow by the probe radius of a focused probe, from "
       "the bright-field disc of the mean pattern, the photon energy, distance and detector pixel size")
      ("clusters,k", po::value(&o.clusters)->value_name("K"), "k-means clusters per map (default 2)")
      ("iterations", po::value(&o.iterations)->value_name("N"), "k-means iterations (default 10)")
      ("no-log", po::bool_switch(&switches.no_log), "cluster the smoothed maps themselves, not their logarithm")
      ("no-contrast-test", po::bool_switch(&switches.no_contrast_test),
       "the paper's behaviour: take each map's k-means clusters even when they do not stand out of the map's noise")
      ("contrast-threshold", po::value(&o.contrast_threshold)->value_name("S"),
       "a map selects frames only when its cluster gap is S times its noise (default 2)");
  po::options_description execution("Execution and output");
  execution.add_options()
      ("block-frames", po::value(&switches.block_frames)->value_name("B"), "frames read per block on each rank (default: as many as fit in 4 MiB; 512 KiB for chunks decoded in-process)")
      ("no-work-sharing", po::bool_switch(&switches.no_work_sharing),
       "each rank reads only its own share of the frames (default: ranks done early take over frames of busy ones)")
      ("decoder", po::value(&o.decoder)->value_name("NAME"),
       "auto (default: bitshuffle-LZ4 and deflate chunks read directly and decoded in-process) | hdf5 (everything through HDF5's filter pipeline)")
      ("output,o", po::value(&o.output_file)->value_name("FILE"),
       "RoI subset file (for ptychoshelves: PREFIX or PREFIX_dp.hdf5, written as PREFIX_dp.hdf5 + PREFIX_para.hdf5)")
      ("format", po::value(&o.format)->value_name("NAME"), format_help().c_str())
      ("no-patterns", po::bool_switch(&switches.no_patterns), "write only /roi, not the pattern subset")
      ("overwrite", po::bool_switch(&o.overwrite), "replace an existing output file")
      ("summary", po::value(&o.summary_file)->value_name("FILE.json"), "write the run summary as JSON")
      ("preview", po::value(&o.preview_dir)->value_name("DIR"),
       "write PNG previews (maps, clusters, RoI, RoI at borders -2/0/2/4) into DIR")
      ("output-dir", po::value(&o.output_dir)->value_name("DIR"), "series: directory of the outputs")
      ("series-summary", po::value(&o.series_summary)->value_name("FILE.csv"),
       "series: summary CSV (and its .json twin); default ptyroi_series.csv in --output-dir or the list's directory")
      ("quiet,q", po::bool_switch(&o.quiet), "no summary on stdout");
  po::options_description live("Live mode: the RoI while the scan is acquired");
  live.add_options()
      ("follow", po::bool_switch(&o.follow),
       "follow an acquisition in progress: a NeXus master whose data files arrive one by one, or a dataset "
       "written with HDF5 SWMR, and positions from a growing CSV file or dataset. Each frame is read once; at "
       "every update the RoI of the frames so far is written atomically: --summary (with a \"follow\" block: "
       "frames_done, frames_expected, state), --preview, and the mask so far in <output stem>.live.h5. Ends at "
       "--expect-frames (or the NeXus nimages) or after --idle-timeout, then writes the final outputs, "
       "identical to a batch run on the finished files")
      ("update-every", po::value(&o.update_every_s)->value_name("SECONDS"),
       "live update at most every SECONDS (default 5, or only by --update-frames when that is given)")
      ("update-frames", po::value(&o.update_frames)->value_name("N"), "live update every N new frames")
      ("expect-frames", po::value(&o.expect_frames)->value_name("K"),
       "the scan has K frames: the acquisition is over when they are in (default: the NeXus "
       "detectorSpecific/nimages x ntrigger, if the master gives it)")
      ("idle-timeout", po::value(&o.idle_timeout_s)->value_name("SECONDS"),
       "the acquisition is over when no frame arrived for SECONDS (default 60); also how long to wait for the "
       "input to appear");
  po::options_description planning("Fine-scan plan and partitions");
  planning.add_options()
      ("plan", po::value(&o.plan_file)->value_name("FILE.csv"),
       "write the positions (metres) of a fine scan covering the RoI region (after the border), in visiting order")
      ("plan-step", po::value(&o.plan_step_m)->value_name("DIST"), "the fine scan's step, metres")
      ("plan-pattern", po::value(&o.plan_pattern)->value_name("raster|spiral"),
       "raster (default: serpentine rows) or spiral (Archimedean, from the centre outward)")
      ("partitions", po::value(&o.partitions)->value_name("P"),
       "split the RoI frames into P compact groups of equal size (recursive coordinate bisection), each with a halo; "
       "written to /roi/partition and /roi/partitions")
      ("halo", po::value(&o.halo_m)->value_name("DIST"),
       "a partition's halo: the RoI frames of other partitions within DIST metres of its own (default 2 scan steps)")
      ("partition-files", po::bool_switch(&o.partition_files),
       "also write one --output per partition (its frames and halo), named <output>_partNN");
  // clang-format on
  po::options_description all;
  all.add(input).add(method).add(execution).add(live).add(planning);
  return all;
}

}  // namespace

std::pair<double, double> parse_beam_center(const std::string& text) {
  std::istringstream in(text);
  double x = 0, y = 0;
  char comma = 0;
  if (!(in >> x >> comma >> y) || comma != ',' || !(in >> std::ws).eof() || !std::isfinite(x) || !std::isfinite(y)) {
    throw UsageError("--beam-center '" + text + "' is not X,Y in pixels (e.g. 127.5,131)");
  }
  return {x, y};
}

CommandLine parse_command_line(int argc, const char* const argv[]) {
  CommandLine result;
  Options& o = result.options;
  Switches switches;
  po::options_description settings = describe(o, switches);
  po::options_description general("General");
  // clang-format off
  general.add_options()
      ("config,c", po::value(&o.config_file)->value_name("FILE"), "INI file with any of the options below (name = value)")
      ("help,h", "print this help")
      ("version", "print the version");
  // clang-format on
  po::options_description command_line;
  command_line.add(general).add(settings);

  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(command_line).run(), values);
    if (values.count("config")) {
      const std::string path = values["config"].as<std::string>();
      std::ifstream file(path);
      std::error_code ignored;
      if (!file || !std::filesystem::is_regular_file(path, ignored)) {
        throw UsageError("--config: cannot read '" + path + "' (not a readable file)");
      }
      try {
        // Stored after the command line, so the command line wins.
        po::store(po::parse_config_file(file, settings, false), values);
      } catch (const po::error& error) {
        throw UsageError("config file '" + path + "': " + error.what());
      }
    }
    po::notify(values);
  } catch (const po::error& error) {
    throw UsageError(error.what());
  }
  if (values.count("block-frames")) {
    if (switches.block_frames < 1 || switches.block_frames > kMaxBlockFrames) {
      throw UsageError("--block-frames " + std::to_string(switches.block_frames) + " is out of range; expected 1.." +
                       std::to_string(kMaxBlockFrames));
    }
    o.block_frames = static_cast<std::uint64_t>(switches.block_frames);
  }
  if (values.count("crop")) {
    if (switches.crop < 0 || switches.crop > kMaxCrop) {
      throw UsageError("--crop " + std::to_string(switches.crop) + " is out of range; expected 1.." +
                       std::to_string(kMaxCrop) + " (or 0: the whole frame)");
    }
    o.crop = static_cast<std::uint64_t>(switches.crop);
  }
  o.use_log = !switches.no_log;
  o.contrast_test = !switches.no_contrast_test;
  o.write_patterns = !switches.no_patterns;
  o.use_file_mask = !switches.no_file_mask;
  o.use_file_monitor = !switches.no_monitor;
  o.share_work = !switches.no_work_sharing;
  o.has_max_valid = values.count("max-valid") > 0;
  if (switches.border == "auto") {
    o.border_auto = true;
    o.border_steps = 0;
  } else {
    std::istringstream border(switches.border);
    long long steps = 0;
    if (!(border >> steps) || !(border >> std::ws).eof() || steps < -10000 || steps > 10000) {
      throw UsageError("--border '" + switches.border +
                       "' is not a whole number of scan steps in -10000..10000 or auto");
    }
    o.border_steps = static_cast<int>(steps);
  }
  if (values.count("plan-step") > 0 && !(std::isfinite(o.plan_step_m) && o.plan_step_m > 0.0)) {
    std::ostringstream text;
    text << "--plan-step must be a positive distance in metres (got " << o.plan_step_m << ")";
    throw UsageError(text.str());
  }
  if (values.count("halo") > 0 && !(std::isfinite(o.halo_m) && o.halo_m >= 0.0)) {
    std::ostringstream text;
    text << "--halo must be a distance of 0 or more metres (got " << o.halo_m << ")";
    throw UsageError(text.str());
  }
  if (values.count("partitions") > 0 && o.partitions < 1) {
    throw UsageError("--partitions " + std::to_string(o.partitions) + " is out of range; expected 1..100000");
  }
  // Given, they must say something: 0 would read as "not given".
  for (const auto& [name, value] : {std::pair{"energy", o.energy_kev}, std::pair{"distance", o.distance_m},
                                    std::pair{"pixel-size", o.pixel_size_m}}) {
    if (values.count(name) > 0 && !(std::isfinite(value) && value > 0.0)) {
      std::ostringstream text;
      text << "--" << name << " must be a positive number (got " << value << ")";
      throw UsageError(text.str());
    }
  }
  result.show_help = values.count("help") > 0;
  result.show_version = values.count("version") > 0;
  std::ostringstream help;
  help << "Usage: mpiexec -n RANKS ptyroi --input FILE [options]\n"
       << "       mpiexec -n RANKS ptyroi --follow --input FILE [options]   (live, while the scan is acquired)\n"
       << "Finds the region of interest of a ptychography scan from its diffraction patterns.\n"
       << command_line;
  result.help_text = help.str();
  return result;
}

void validate(const Options& o) {
  if (!o.input_list.empty()) {
    if (!o.input_file.empty()) throw UsageError("--input and --input-list are alternatives; give one");
    if (!o.output_file.empty() || !o.summary_file.empty()) {
      throw UsageError("--input-list names each output from its input: use --output-dir instead of --output/--summary");
    }
  } else if (o.input_file.empty()) {
    throw UsageError("--input is required (the HDF5 file of diffraction patterns)");
  }
  if (o.clusters < 2 || o.clusters > 64) {
    throw UsageError("--clusters " + std::to_string(o.clusters) + " is out of range; expected 2..64");
  }
  if (o.iterations < 1 || o.iterations > 10000) {
    throw UsageError("--iterations " + std::to_string(o.iterations) + " is out of range; expected 1..10000");
  }
  if (o.block_frames > static_cast<std::uint64_t>(kMaxBlockFrames)) {
    throw UsageError("--block-frames " + std::to_string(o.block_frames) + " is out of range; expected 1.." +
                     std::to_string(kMaxBlockFrames));
  }
  if (o.crop > static_cast<std::uint64_t>(kMaxCrop)) {
    throw UsageError("--crop " + std::to_string(o.crop) + " is out of range; expected 1.." + std::to_string(kMaxCrop) +
                     " (or 0: the whole frame)");
  }
  if (!o.grid.empty()) {
    try {
      parse_grid_shape(o.grid);
    } catch (const UsageError& error) {
      throw UsageError(std::string("--") + error.what());
    }
  }
  parse_input_layout(o.layout);
  parse_decoder(o.decoder);
  if (o.scan != "auto" && o.scan != "grid" && o.scan != "irregular") {
    throw UsageError("--scan '" + o.scan + "' is not one of auto, grid, irregular");
  }
  if (o.scan == "irregular" && !o.grid.empty()) throw UsageError("--grid and --scan irregular contradict each other");
  if (find_output_format(o.format) == nullptr) {
    throw UsageError("--format '" + o.format + "' is not one of " + output_format_names());
  }
  if (!o.positions_file.empty() && (!o.positions_x.empty() || !o.positions_y.empty())) {
    throw UsageError("--positions and --positions-x/--positions-y are alternatives; give one");
  }
  if (!o.monitor.empty() && !o.use_file_monitor) {
    throw UsageError("--monitor and --no-monitor contradict each other");
  }
  if (!o.positions_columns.empty() && o.positions_file.empty()) {
    throw UsageError("--positions-columns needs --positions (a CSV/text file)");
  }
  if (!std::isfinite(o.positions_scale) || o.positions_scale <= 0.0) {
    throw UsageError("--positions-scale must be a positive number");
  }
  metres_per_unit(o.positions_unit);
  if (!(o.positions_pixel_size >= 0.0) || !std::isfinite(o.positions_pixel_size)) {
    throw UsageError("--positions-pixel-size must be a positive number of metres");
  }
  if (o.positions_pixel_size > 0.0 && o.positions_unit != "px") {
    throw UsageError("--positions-pixel-size is for --positions-unit px");
  }
  if (o.positions_file == "none" && o.grid.empty()) {
    throw UsageError("--positions none needs --grid ROWSxCOLS to place the frames");
  }
  if (o.has_max_valid && !std::isfinite(o.max_valid)) throw UsageError("--max-valid must be a finite number");
  if (o.fftshift != "auto" && o.fftshift != "yes" && o.fftshift != "no") {
    throw UsageError("--fftshift '" + o.fftshift + "' is not one of auto, yes, no");
  }
  if (!o.beam_center.empty()) parse_beam_center(o.beam_center);
  for (const auto& [name, value] : {std::pair{"--energy", o.energy_kev}, std::pair{"--distance", o.distance_m},
                                    std::pair{"--pixel-size", o.pixel_size_m}}) {
    if (!std::isfinite(value) || value < 0.0) {
      std::ostringstream text;
      text << name << " must be a positive number (got " << value << ")";
      throw UsageError(text.str());
    }
  }
  if (o.follow) {
    if (!o.input_list.empty()) throw UsageError("--follow watches one acquisition: give --input, not --input-list");
    if (!(o.update_every_s >= 0.0) || !std::isfinite(o.update_every_s) || o.update_every_s > 86400.0) {
      throw UsageError("--update-every must be a number of seconds in 0..86400");
    }
    if (!(o.idle_timeout_s > 0.0) || !std::isfinite(o.idle_timeout_s) || o.idle_timeout_s > 864000.0) {
      throw UsageError("--idle-timeout must be a positive number of seconds (at most 864000)");
    }
  } else if (o.update_every_s != 0.0 || o.update_frames != 0 || o.expect_frames != 0 || o.idle_timeout_s != 60.0) {
    throw UsageError("--update-every, --update-frames, --expect-frames and --idle-timeout are for --follow");
  }
  if (o.border_steps < -10000 || o.border_steps > 10000) {
    throw UsageError("--border " + std::to_string(o.border_steps) + " is out of range; expected -10000..10000");
  }
  if (!o.plan_file.empty() && !(o.plan_step_m > 0.0)) {
    throw UsageError("--plan needs --plan-step DIST, the fine scan's step in metres");
  }
  if (o.plan_file.empty() && o.plan_step_m > 0.0) throw UsageError("--plan-step needs --plan FILE.csv");
  if (o.plan_pattern != "raster") parse_plan_pattern(o.plan_pattern);
  if (!o.plan_file.empty() && !o.input_list.empty()) {
    throw UsageError("--plan names one file: give it for one --input, not with --input-list");
  }
  if (o.partitions < 0 || o.partitions > 100000) {
    throw UsageError("--partitions " + std::to_string(o.partitions) + " is out of range; expected 1..100000");
  }
  if (o.halo_m >= 0.0 && o.partitions == 0) throw UsageError("--halo needs --partitions P");
  if (o.partition_files && o.partitions == 0) throw UsageError("--partition-files needs --partitions P");
  if (o.partition_files && o.output_file.empty() && o.input_list.empty()) {
    throw UsageError("--partition-files needs --output (the files are named after it)");
  }
  roi_parameters(o).validate();
}

RoiParameters roi_parameters(const Options& o) {
  RoiParameters p;
  p.border_steps = o.border_steps;
  p.clusters = o.clusters;
  p.iterations = o.iterations;
  p.log_features = o.use_log;
  p.contrast_test = o.contrast_test;
  p.contrast_threshold = o.contrast_threshold;
  p.scan = o.scan == "grid" ? ScanKind::grid : o.scan == "irregular" ? ScanKind::irregular : ScanKind::automatic;
  if (!o.grid.empty()) p.grid = parse_grid_shape(o.grid);
  p.block_frames = o.block_frames;
  p.share_work = o.share_work;
  return p;
}

PositionsSpec positions_spec(const Options& o) {
  PositionsSpec spec;
  spec.none = o.positions_file == "none";
  spec.table_file = spec.none ? std::string() : o.positions_file;
  spec.unit = o.positions_unit;
  spec.pixel_size = o.positions_pixel_size;
  spec.table_columns = o.positions_columns;
  spec.x_dataset = o.positions_x;
  spec.y_dataset = o.positions_y;
  spec.scale = o.positions_scale;
  spec.flip_x = o.flip_x;
  spec.flip_y = o.flip_y;
  spec.swap_xy = o.swap_xy;
  return spec;
}

PixelSettings pixel_settings(const Options& o) {
  PixelSettings settings;
  settings.use_file_mask = o.use_file_mask;
  settings.mask = o.mask;
  if (o.has_max_valid) settings.max_valid = o.max_valid;
  settings.fftshift = o.fftshift == "auto" ? std::nullopt : std::optional<bool>(o.fftshift == "yes");
  settings.crop = o.crop;
  if (!o.beam_center.empty()) settings.beam_center = parse_beam_center(o.beam_center);
  return settings;
}

InstrumentOverrides instrument_overrides(const Options& o) {
  InstrumentOverrides overrides;
  if (o.energy_kev > 0.0) overrides.energy_keV = o.energy_kev;
  if (o.distance_m > 0.0) overrides.distance_m = o.distance_m;
  if (o.pixel_size_m > 0.0) overrides.pixel_size_m = o.pixel_size_m;
  if (!o.beam_center.empty()) overrides.beam_center = parse_beam_center(o.beam_center);
  return overrides;
}

RoiOutput roi_output(const Options& o) {
  RoiOutput output;
  output.path = o.output_file;
  output.format = &output_format(o.format);
  output.write_patterns = o.write_patterns;
  output.overwrite = o.overwrite;
  return output;
}

int exit_status(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::usage:
      return 2;
    case ErrorCategory::input:
      return 1;
    case ErrorCategory::io:
      return 3;
    case ErrorCategory::internal:
      return 4;
  }
  return 4;
}

}  // namespace ptyroi
