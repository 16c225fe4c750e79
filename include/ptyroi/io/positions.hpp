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
  // A CSV/text file, or an HDF5 dataset "[FILE:]/PATH" of [K, 2] or [K, 3] (e.g. x, y, z); empty: none.
  std::string table_file;
  std::string table_columns;  // "X,Y": header names or 0-based indices (a dataset: indices); empty: automatic
  std::string x_dataset;      // "[FILE:]PATH"; empty: the layout's
  std::string y_dataset;
  double scale = 1.0;  // multiplies every position (before the unit)
  // The positions' unit: "m", "mm", "um", "nm", or "px" (object pixels: pixel_size metres each; with
  // pixel_size 0 they stay in pixels, and ScanPositions::unit says so).
  std::string unit = "m";
  double pixel_size = 0.0;
  bool flip_x = false, flip_y = false, swap_xy = false;
  bool none = false;  // take no positions at all (frames placed by a given raster)
};

// Metres per unit for "m", "mm", "um" (also "µm"), "nm"; 0 for "px"; throws UsageError otherwise.
double metres_per_unit(const std::string& unit);

// Positions in metres must span a scan a microscope could make: 1 nm to 10 cm. Outside, throws
// InputError saying what they span and which units would fit (e.g. "they look like micrometres:
// --positions-unit um").
void check_extent(const ScanPositions& positions);

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

// Whether --positions names an HDF5 dataset ("FILE:/PATH", or "/PATH" that is no file on disk but
// a dataset of input_file) rather than a CSV/text file.
bool is_dataset_spec(const std::string& spec, const std::string& input_file);

// Columns `columns` ("X,Y" 0-based indices; default 0,1) of a [K, n] dataset.
ScanPositions read_position_columns(const DatasetSpec& spec, const std::string& columns, std::uint64_t frames);

// Two columns of a CSV/text table: fields separated by commas, semicolons, tabs or spaces; lines
// starting with '#' and blank lines skipped; a first line with a non-numeric field is the header.
// `columns` "X,Y" names two header fields or 0-based indices; empty: the columns whose names start
// with x and y, else the last two. `source` names the file in errors.
ScanPositions parse_position_table(std::istream& in, const std::string& columns, const std::string& source);

// Swap, then flips, then scale and unit to metres (or pixels, see PositionsSpec::unit).
void transform_positions(ScanPositions& positions, const PositionsSpec& spec);

// All of a run's positions: the table, the datasets, the layout's defaults, or none. Returns empty
// x/y when the input has no positions and `required` is false (the frames are placed on a raster).
ScanPositions read_scan_positions(const PositionsSpec& spec, const std::string& input_file,
                                  const InputDescription& input, std::uint64_t frames, bool required);

// The positions of a scan still being acquired (ptyroi --follow), as read_scan_positions would read
// them, but only those written so far: the complete lines (ending in a newline) of a CSV/text
// table, the written prefix of HDF5 datasets (files opened as SWMR readers when their writer holds
// them; h5::complete_prefix). Swapped, flipped and scaled; the extent is not checked. Rank-local.
struct AvailablePositions {
  ScanPositions positions;  // the first positions.x.size() frames'
  bool unlimited = false;   // none are needed (--positions none, or none in the input and a --grid)
  std::string waiting;      // why there are none yet (e.g. the table does not exist yet)
};
AvailablePositions read_available_positions(const PositionsSpec& spec, const std::string& input_file,
                                            const InputDescription& input, bool grid_given);

}  // namespace ptyroi
