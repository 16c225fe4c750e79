#pragma once
// Scan positions (metres). Read by one rank and broadcast: positions are small, and one reader
// spares the file system a storm of opens from every rank.
#include <mpi.h>

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "ptyroi/core/scan_positions.hpp"
#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

// Where a run's positions come from, and how they become metres: a CSV/text table, two datasets,
// or (all empty) where the input's layout keeps them.
struct PositionsSpec {
  std::string table_file;     // CSV/text file; empty: none
  std::string table_columns;  // "X,Y": header names or 0-based indices; empty: automatic
  std::string x_dataset;      // "[FILE:]PATH"; empty: the layout's
  std::string y_dataset;
  double scale = 1.0;  // multiplies every position into metres
  bool flip_x = false, flip_y = false, swap_xy = false;
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

// Swap, then flips, then scale to metres.
void transform_positions(ScanPositions& positions, const PositionsSpec& spec);

// All of a run's positions: the table, the datasets, the layout's defaults, or none. Returns empty
// x/y when the input has no positions and `required` is false (the frames are placed on a raster).
ScanPositions read_scan_positions(const PositionsSpec& spec, const std::string& input_file,
                                  const InputDescription& input, std::uint64_t frames, bool required);

}  // namespace ptyroi
