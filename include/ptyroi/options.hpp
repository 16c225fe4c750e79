#pragma once
// Every setting of a ptyroi run, from the command line and an optional INI config file
// (--config; the command line wins). Parsing is pure: the same argv gives the same Options on
// every rank, so ranks need not exchange them.
#include <cstdint>
#include <string>
#include <vector>

namespace ptyroi {

struct Options {
  // input
  std::string input_file;
  std::string dataset;      // empty: the default stack paths
  std::string positions_x;  // "PATH" or "FILE:PATH"; empty: defaults
  std::string positions_y;
  std::string grid;  // "ROWSxCOLS"; empty: inferred from positions
  std::string mask;  // "[FILE:]PATH" of a [N, M] mask, non-zero = bad; empty: none
  // method
  int border_steps = 0;
  int clusters = 2;
  int iterations = 10;
  bool use_log = true;
  // execution
  std::uint64_t block_frames = 0;  // 0: automatic, the frames that fit in 4 MiB
  // output
  std::string output_file;  // empty: no subset file
  bool write_patterns = true;
  bool overwrite = false;
  std::string summary_file;
  bool quiet = false;
  std::string config_file;
};

struct CommandLine {
  Options options;
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

// Throws UsageError with a one-line message naming the option (or the config file and key).
CommandLine parse_command_line(int argc, const char* const argv[]);

// Range and consistency checks that need no file access.
void validate(const Options& options);

}  // namespace ptyroi
