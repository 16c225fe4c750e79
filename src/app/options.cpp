#include "ptyroi/app/options.hpp"

#include <boost/program_options.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/scan_grid.hpp"
#include "ptyroi/io/chunk_reader.hpp"
#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

namespace po = boost::program_options;

namespace {

struct Switches {
  bool no_log = false;
  bool no_patterns = false;
  bool no_file_mask = false;
};

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
      ("positions", po::value(&o.positions_file)->value_name("FILE"),
       "positions from a CSV/text file (comma, semicolon, tab or space separated; # comments; optional header)")
      ("positions-columns", po::value(&o.positions_columns)->value_name("X,Y"),
       "the two columns of --positions, by header name or 0-based index; default: x/y-named columns, else the "
       "last two")
      ("positions-scale", po::value(&o.positions_scale)->value_name("S"),
       "multiply every position by S to get metres (e.g. 1e-6 for micrometres; default 1)")
      ("flip-x", po::bool_switch(&o.flip_x), "negate the x positions")
      ("flip-y", po::bool_switch(&o.flip_y), "negate the y positions")
      ("swap-xy", po::bool_switch(&o.swap_xy), "exchange x and y positions (applied before the flips)")
      ("grid", po::value(&o.grid)->value_name("ROWSxCOLS"),
       "raster of the scan, row-major (frame k at row k / COLS); default: inferred from the positions")
      ("scan", po::value(&o.scan)->value_name("TYPE"),
       "auto (default: a grid when the positions form one, else irregular) | grid | irregular")
      ("mask", po::value(&o.mask)->value_name("[FILE:]PATH"),
       "bad-pixel mask [N,M], non-zero = bad, combined with the file's own; bad pixels are left out of every sum")
      ("no-file-mask", po::bool_switch(&switches.no_file_mask),
       "ignore the input's own mask (NeXus pixel_mask, CXI mask, plain /pixel_mask)")
      ("max-valid", po::value(&o.max_valid)->value_name("VALUE"),
       "leave out pixels above VALUE in every frame (saturated or hot pixels); NeXus flag values 2^bit_depth-1 "
       "are always left out")
      ("fftshift", po::bool_switch(&o.fftshift),
       "the patterns are stored with zero frequency at the corner (as Tike writes them)")
      ("crop", po::value(&o.crop)->value_name("N"), "use only the NxN pixels around the beam centre (and write them)")
      ("beam-center", po::value(&o.beam_center)->value_name("X,Y"),
       "beam centre in pixels (x = column); default: the file's metadata, else the frame centre");
  po::options_description method("Method");
  method.add_options()
      ("border,b", po::value(&o.border_steps)->value_name("N"), "grow (N>0) or shrink (N<0) the RoI by N scan steps")
      ("clusters,k", po::value(&o.clusters)->value_name("K"), "k-means clusters per map (default 2)")
      ("iterations", po::value(&o.iterations)->value_name("N"), "k-means iterations (default 10)")
      ("no-log", po::bool_switch(&switches.no_log), "cluster the smoothed maps themselves, not their logarithm");
  po::options_description execution("Execution and output");
  execution.add_options()
      ("block-frames", po::value(&o.block_frames)->value_name("B"), "frames read per block on each rank (default: as many as fit in 4 MiB)")
      ("decoder", po::value(&o.decoder)->value_name("NAME"),
       "auto (default: bitshuffle-LZ4 and deflate chunks read directly and decoded in-process) | hdf5 (everything through HDF5's filter pipeline)")
      ("output,o", po::value(&o.output_file)->value_name("FILE"),
       "RoI subset file (for ptychoshelves: PREFIX or PREFIX_dp.hdf5, written as PREFIX_dp.hdf5 + PREFIX_para.hdf5)")
      ("format", po::value(&o.format)->value_name("NAME"),
       "cxi (default: CXI + /roi) | ptychoshelves (/dp, /ppX, /ppY) | ptychodus (/patterns, /indexes, "
       "/bad_pixels) | mask-only (/roi only)")
      ("no-patterns", po::bool_switch(&switches.no_patterns), "write only /roi, not the pattern subset")
      ("overwrite", po::bool_switch(&o.overwrite), "replace an existing output file")
      ("summary", po::value(&o.summary_file)->value_name("FILE.json"), "write the run summary as JSON")
      ("preview", po::value(&o.preview_dir)->value_name("DIR"),
       "write PNG previews (maps, clusters, RoI, RoI at borders -2/0/2/4) into DIR")
      ("output-dir", po::value(&o.output_dir)->value_name("DIR"), "series: directory of the outputs")
      ("series-summary", po::value(&o.series_summary)->value_name("FILE.csv"),
       "series: summary CSV (and its .json twin); default ptyroi_series.csv in --output-dir or the list's directory")
      ("quiet,q", po::bool_switch(&o.quiet), "no summary on stdout");
  // clang-format on
  po::options_description all;
  all.add(input).add(method).add(execution);
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
  if (values.count("block-frames") && o.block_frames == 0) {
    throw UsageError("--block-frames 0 is out of range; expected 1..1048576");
  }
  o.use_log = !switches.no_log;
  o.write_patterns = !switches.no_patterns && o.format != "mask-only";
  o.use_file_mask = !switches.no_file_mask;
  o.has_max_valid = values.count("max-valid") > 0;
  result.show_help = values.count("help") > 0;
  result.show_version = values.count("version") > 0;
  std::ostringstream help;
  help << "Usage: mpiexec -n RANKS ptyroi --input FILE [options]\n"
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
  if (!o.grid.empty()) parse_grid_shape(o.grid);
  if (o.clusters < 2 || o.clusters > 64) {
    throw UsageError("--clusters " + std::to_string(o.clusters) + " is out of range; expected 2..64");
  }
  if (o.iterations < 1 || o.iterations > 10000) {
    throw UsageError("--iterations " + std::to_string(o.iterations) + " is out of range; expected 1..10000");
  }
  if (o.block_frames > (1u << 20)) {
    throw UsageError("--block-frames " + std::to_string(o.block_frames) + " is out of range; expected 1..1048576");
  }
  parse_input_layout(o.layout);
  parse_decoder(o.decoder);
  if (o.scan != "auto" && o.scan != "grid" && o.scan != "irregular") {
    throw UsageError("--scan '" + o.scan + "' is not one of auto, grid, irregular");
  }
  if (o.scan == "irregular" && !o.grid.empty()) throw UsageError("--grid and --scan irregular contradict each other");
  if (o.format != "cxi" && o.format != "ptychoshelves" && o.format != "ptychodus" && o.format != "mask-only") {
    throw UsageError("--format '" + o.format + "' is not one of cxi, ptychoshelves, ptychodus, mask-only");
  }
  if (!o.positions_file.empty() && (!o.positions_x.empty() || !o.positions_y.empty())) {
    throw UsageError("--positions and --positions-x/--positions-y are alternatives; give one");
  }
  if (!o.positions_columns.empty() && o.positions_file.empty()) {
    throw UsageError("--positions-columns needs --positions (a CSV/text file)");
  }
  if (!std::isfinite(o.positions_scale) || o.positions_scale <= 0.0) {
    throw UsageError("--positions-scale must be a positive number");
  }
  if (o.has_max_valid && !std::isfinite(o.max_valid)) throw UsageError("--max-valid must be a finite number");
  if (o.crop > 0 && o.fftshift) {
    throw UsageError("--crop and --fftshift cannot be combined: crop the centred stack or skip --crop");
  }
  if (!o.beam_center.empty()) parse_beam_center(o.beam_center);
  if (o.border_steps < -10000 || o.border_steps > 10000) {
    throw UsageError("--border " + std::to_string(o.border_steps) + " is out of range; expected -10000..10000");
  }
}

}  // namespace ptyroi
