#pragma once
// The scan positions of the frames: (x_k, y_k) with x along the fast detector axis. ptyroi works in
// metres; positions read from files are converted on reading (io/positions.hpp).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/core/partition.hpp"

namespace ptyroi {

struct ScanPositions {
  std::vector<double> x;  // one per frame, metres (or `unit`), from frame first_frame on
  std::vector<double> y;
  // The first frame x[0] and y[0] belong to: 0 for all frames (what find_roi takes); a rank's first
  // frame when only its share is held (what the writers need).
  std::uint64_t first_frame = 0;
  std::string source;      // where they came from, for the record
  std::string unit = "m";  // "m"; "px" when the input gave pixels and no pixel size; "steps" for a raster's cells

  bool empty() const { return x.empty(); }
  std::size_t size() const { return x.size(); }
  double x_at(std::uint64_t frame) const { return x[frame - first_frame]; }
  double y_at(std::uint64_t frame) const { return y[frame - first_frame]; }
};

// What is known about the scan besides its frames: where each frame was taken and, when measured,
// the incident flux of each frame (a monitor, e.g. an ion chamber), which the absorption contrast
// is normalised by.
struct ScanInput {
  ScanPositions positions;            // one per frame (all K), or none when a raster is given
  std::vector<double> incident_flux;  // one per frame (all K), > 0; empty: constant flux
  std::string incident_flux_source;   // where it came from, for the record
  // Frames never acquired (unwritten chunks of an aborted acquisition), ascending and disjoint,
  // identical on every rank: left out of every statistic, map and cluster, and never selected.
  std::vector<FrameRange> missing_frames;

  ScanInput() = default;
  ScanInput(ScanPositions positions_) : positions(std::move(positions_)) {}  // NOLINT: implicit on purpose
};

}  // namespace ptyroi
