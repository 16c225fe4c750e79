#include "ptyroi/core/scan_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace ptyroi {

namespace {

// Calls visit(neighbour_cell) for every cell of the 3×3 block around `cell` inside the grid.
template <class Visit>
void for_each_neighbour(GridShape shape, std::int64_t cell, Visit&& visit) {
  const std::int64_t row = cell / shape.cols;
  const std::int64_t col = cell % shape.cols;
  for (std::int64_t r = std::max<std::int64_t>(row - 1, 0); r <= std::min(row + 1, shape.rows - 1); ++r) {
    for (std::int64_t c = std::max<std::int64_t>(col - 1, 0); c <= std::min(col + 1, shape.cols - 1); ++c) {
      visit(r * shape.cols + c);
    }
  }
}

}  // namespace

double neighbour_mean(const std::vector<double>& map, GridShape shape, std::int64_t cell) {
  double sum = 0.0;
  int count = 0;
  for_each_neighbour(shape, cell, [&](std::int64_t neighbour) {
    const double value = map[static_cast<std::size_t>(neighbour)];
    if (std::isnan(value)) return;  // a frame never acquired: no value to average
    sum += value;
    ++count;
  });
  return count > 0 ? sum / count : std::nan("");
}

std::vector<double> neighbour_mean(const std::vector<double>& map, GridShape shape) {
  std::vector<double> smoothed(map.size());
  for (std::size_t cell = 0; cell < map.size(); ++cell) {
    smoothed[cell] = neighbour_mean(map, shape, static_cast<std::int64_t>(cell));
  }
  return smoothed;
}

std::vector<std::uint8_t> grow_or_shrink(std::vector<std::uint8_t> mask, GridShape shape, int border_steps) {
  const bool grow = border_steps > 0;
  std::vector<std::uint8_t> next(mask.size());
  for (int step = 0; step < std::abs(border_steps); ++step) {
    for (std::size_t cell = 0; cell < mask.size(); ++cell) {
      bool any = false;
      bool all = true;
      for_each_neighbour(shape, static_cast<std::int64_t>(cell), [&](std::int64_t neighbour) {
        const bool inside = mask[static_cast<std::size_t>(neighbour)] != 0;
        any = any || inside;
        all = all && inside;
      });
      next[cell] = static_cast<std::uint8_t>(grow ? any : all);
    }
    mask.swap(next);
  }
  return mask;
}

}  // namespace ptyroi
