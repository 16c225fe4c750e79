#pragma once
// The scan positions of the frames: (x_k, y_k) with x along the fast detector axis. ptyroi works in
// metres; positions read from files are converted on reading (io/positions.hpp).
#include <string>
#include <vector>

namespace ptyroi {

struct ScanPositions {
  std::vector<double> x;  // one per frame, metres
  std::vector<double> y;
  std::string source;  // where they came from, for the record

  bool empty() const { return x.empty(); }
  std::size_t size() const { return x.size(); }
};

}  // namespace ptyroi
