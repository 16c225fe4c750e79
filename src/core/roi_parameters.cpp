#include "ptyroi/core/roi_parameters.hpp"

#include <cmath>
#include <string>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

const char* scan_kind_name(ScanKind kind) {
  switch (kind) {
    case ScanKind::automatic:
      return "auto";
    case ScanKind::grid:
      return "grid";
    case ScanKind::irregular:
      return "irregular";
  }
  return "auto";
}

void RoiParameters::validate() const {
  if (clusters < 2 || clusters > 64) {
    throw UsageError("clusters " + std::to_string(clusters) + " is out of range; expected 2..64");
  }
  if (iterations < 1 || iterations > 10000) {
    throw UsageError("iterations " + std::to_string(iterations) + " is out of range; expected 1..10000");
  }
  if (border_steps < -10000 || border_steps > 10000) {
    throw UsageError("border " + std::to_string(border_steps) + " is out of range; expected -10000..10000");
  }
  if (block_frames > (std::uint64_t{1} << 20)) {
    throw UsageError("block frames " + std::to_string(block_frames) + " is out of range; expected 1..1048576");
  }
  if (grid && (grid->rows <= 0 || grid->cols <= 0)) {
    throw UsageError("grid " + std::to_string(grid->rows) + "x" + std::to_string(grid->cols) +
                     " is not a raster; expected positive rows and columns");
  }
  if (!(contrast_threshold >= 0.0) || !std::isfinite(contrast_threshold)) {
    throw UsageError("contrast threshold " + std::to_string(contrast_threshold) + " is out of range; expected >= 0");
  }
  if (grid && scan == ScanKind::irregular) throw UsageError("a grid and an irregular scan contradict each other");
}

}  // namespace ptyroi
