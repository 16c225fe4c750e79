#pragma once
// Pure operations on maps over a raster scan (row-major vectors of rows·cols cells): the 3×3
// neighbourhood mean of the paper's Section 2 and the border grow/shrink of its Section 3.
#include <cstdint>
#include <vector>

#include "ptyroi/core/scan_grid.hpp"

namespace ptyroi {

// Mean of map over the 3×3 neighbourhood of `cell` that lies inside the grid (9 cells inside,
// 6 on an edge, 4 in a corner), summed in a fixed row-major order. NaN cells (frames never
// acquired) are left out; NaN when every cell is.
double neighbour_mean(const std::vector<double>& map, GridShape shape, std::int64_t cell);
std::vector<double> neighbour_mean(const std::vector<double>& map, GridShape shape);

// Grows (border_steps > 0) or shrinks (< 0) a 0/1 mask by |border_steps| scan steps: a 3×3
// dilation or erosion repeated. Cells outside the grid are ignored, so a RoI touching the edge
// of the scan is not eroded from there.
std::vector<std::uint8_t> grow_or_shrink(std::vector<std::uint8_t> mask, GridShape shape, int border_steps);

}  // namespace ptyroi
