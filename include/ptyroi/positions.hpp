#pragma once
// Scan positions (metres). Read by one rank and broadcast: positions are small, and one reader
// spares the file system a storm of opens from every rank.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

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
// there are `frames` finite values of each.
ScanPositions read_positions(const std::string& input_file, const std::string& x_spec, const std::string& y_spec,
                             std::uint64_t frames);

}  // namespace ptyroi
