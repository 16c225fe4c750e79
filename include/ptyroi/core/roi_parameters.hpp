#pragma once
// The method's parameters (paper Section 2): how scan neighbours are defined, the k-means, the
// border, and how frames are streamed. Plain values with the paper's defaults; validate() checks
// their ranges and names the parameter that is out of range.
#include <cstdint>
#include <optional>

#include "ptyroi/core/scan_grid.hpp"

namespace ptyroi {

// How scan neighbours are defined: the raster the positions form (or `grid`), or the positions
// themselves for fly and spiral scans; automatic: a raster when the positions form one.
enum class ScanKind { automatic, grid, irregular };

const char* scan_kind_name(ScanKind kind);  // "auto", "grid", "irregular"

struct RoiParameters {
  int border_steps = 0;      // grow (> 0) or shrink (< 0) the RoI by this many scan steps
  int clusters = 2;          // k of the k-means of each map
  int iterations = 10;       // Lloyd iterations
  bool log_features = true;  // cluster log T and log c (the paper), not T and c
  ScanKind scan = ScanKind::automatic;
  // The raster, row-major (frame k at row k / cols); when set it replaces the positions' grid.
  std::optional<GridShape> grid;
  std::uint64_t block_frames = 0;  // frames per read block; 0: the source's preference, else 4 MiB
  // Ranks that finish their frames early take over frames of busy ones (frame_tasks.hpp), when
  // every rank can read every frame (FrameSource::reads_every_frame); false: each rank its own share.
  bool share_work = true;
  // Beyond the paper: a map selects frames only when its clusters stand out of its noise
  // (contrast.hpp); false: the paper's behaviour, k-means' clusters whatever the map.
  bool contrast_test = true;
  double contrast_threshold = 2.0;  // gap / noise needed

  // Throws UsageError naming the parameter that is out of range.
  void validate() const;
};

}  // namespace ptyroi
