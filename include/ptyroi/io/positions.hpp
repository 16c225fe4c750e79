#pragma once
// Scan positions (metres). Read by one rank and broadcast: positions are small, and one reader
// spares the file system a storm of opens from every rank.
#include <mpi.h>

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/app/options.hpp"

namespace ptyroi {

struct ScanPositions {
  std::vector<double> x;  // metres, along the fast detector axis
  std::vector<double> y;  // metres
  std::string source;     // where they came from, for the record
};

// A --positions-x/-y value: "PATH" (a dataset in the input file) or "FILE:PATH".
struct DatasetSpec {
  std::string file;
  std::string path;
};
DatasetSpec parse_dataset_spec(const std::string& spec, const std::string& default_file);

// Reads positions on this process (serial HDF5). Empty specs: /positions_x and /positions_y of
// the input file, else the CXI translation /entry_1/sample_1/geometry_1/translation. Checks that
// there are `frames` finite values of each. Units as stored.
ScanPositions read_positions(const std::string& input_file, const std::string& x_spec, const std::string& y_spec,
                             std::uint64_t frames);

// Two columns of a CSV/text table: fields separated by commas, semicolons, tabs or spaces; lines
// starting with '#' and blank lines skipped; a first line with a non-numeric field is the header.
// `columns` "X,Y" names two header fields or 0-based indices; empty: the columns whose names start
// with x and y, else the last two. `source` names the file in errors.
ScanPositions parse_position_table(std::istream& in, const std::string& columns, const std::string& source);

// Swap, then flips, then scale to metres: the --swap-xy, --flip-x/-y and --positions-scale options.
void transform_positions(ScanPositions& positions, const Options& options);

// All of a run's positions: --positions (text), --positions-x/-y, the layout's defaults, or none.
// Returns empty x/y when the input has no positions and `required` is false (a --grid run).
ScanPositions read_scan_positions(const Options& options, const InputDescription& input, std::uint64_t frames,
                                  bool required);

}  // namespace ptyroi
