#include "ptyroi/options.hpp"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptyroi/error.hpp"
#include "ptyroi/scan_grid.hpp"

namespace ptyroi {

namespace po = boost::program_options;

namespace {

po::options_description describe(Options& o, bool& no_log, bool& no_patterns) {
  // clang-format off
  po::options_description input("Input");
  input.add_options()
      ("input,i", po::value(&o.input_file)->value_name("FILE"), "HDF5 file holding the diffraction patterns")
      ("dataset,d", po::value(&o.dataset)->value_name("PATH"),
       "pattern stack [K,N,M]; default: first of /entry_1/data_1/data, /entry/data/data, /data, /dp")
      ("positions-x", po::value(&o.positions_x)->value_name("[FILE:]PATH"),
       "scan x positions in metres; default /positions_x, else the CXI translation")
      ("positions-y", po::value(&o.positions_y)->value_name("[FILE:]PATH"), "scan y positions in metres")
      ("grid", po::value(&o.grid)->value_name("ROWSxCOLS"),
       "raster of the scan, row-major (frame k at row k / COLS); default: inferred from the positions")
      ("mask", po::value(&o.mask)->value_name("[FILE:]PATH"),
       "bad-pixel mask [N,M], non-zero = bad; bad pixels are left out of every sum");
  po::options_description method("Method");
  method.add_options()
      ("border,b", po::value(&o.border_steps)->value_name("N"), "grow (N>0) or shrink (N<0) the RoI by N scan steps")
      ("clusters,k", po::value(&o.clusters)->value_name("K"), "k-means clusters per map (default 2)")
      ("iterations", po::value(&o.iterations)->value_name("N"), "k-means iterations (default 10)")
      ("no-log", po::bool_switch(&no_log), "cluster the smoothed maps themselves, not their logarithm");
  po::options_description execution("Execution and output");
  execution.add_options()
      ("block-frames", po::value(&o.block_frames)->value_name("B"), "frames read per block on each rank (default: as many as fit in 4 MiB)")
      ("output,o", po::value(&o.output_file)->value_name("FILE"), "RoI subset file (CXI layout + /roi)")
      ("no-patterns", po::bool_switch(&no_patterns), "write only /roi, not the pattern subset")
      ("overwrite", po::bool_switch(&o.overwrite), "replace an existing output file")
      ("summary", po::value(&o.summary_file)->value_name("FILE.json"), "write the run summary as JSON")
      ("quiet,q", po::bool_switch(&o.quiet), "no summary on stdout");
  // clang-format on
  po::options_description all;
  all.add(input).add(method).add(execution);
  return all;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  CommandLine result;
  Options& o = result.options;
  bool no_log = false;
  bool no_patterns = false;
  po::options_description settings = describe(o, no_log, no_patterns);
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
  o.use_log = !no_log;
  o.write_patterns = !no_patterns;
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
  if (o.input_file.empty()) throw UsageError("--input is required (the HDF5 file of diffraction patterns)");
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
  if (o.border_steps < -10000 || o.border_steps > 10000) {
    throw UsageError("--border " + std::to_string(o.border_steps) + " is out of range; expected -10000..10000");
  }
}

}  // namespace ptyroi
