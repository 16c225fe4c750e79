#include "ptyroi/core/scan_grid.hpp"

#include <algorithm>
#include <cctype>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

namespace {
constexpr std::int64_t kMaxGridSide = (std::int64_t{1} << 31) - 1;
}  // namespace

GridShape parse_grid_shape(const std::string& text) {
  const auto bad = [&]() {
    return UsageError("grid '" + text + "' is not ROWSxCOLS with two positive integers (e.g. 85x188)");
  };
  const auto x = text.find_first_of("xX");
  if (x == std::string::npos || x == 0 || x + 1 == text.size()) throw bad();
  const auto digits = [](const std::string& part) {
    return !part.empty() && part.size() < 12 &&
           std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  const std::string rows = text.substr(0, x);
  const std::string cols = text.substr(x + 1);
  if (!digits(rows) || !digits(cols)) throw bad();
  GridShape shape{std::stoll(rows), std::stoll(cols)};
  if (shape.rows <= 0 || shape.cols <= 0) throw bad();
  // Each side below 2^31, so rows·cols (< 2^62) never wraps; far more cells than any scan has.
  if (shape.rows > kMaxGridSide || shape.cols > kMaxGridSide) {
    throw UsageError("grid '" + text + "' is out of range: at most " + std::to_string(kMaxGridSide) +
                     " rows and columns");
  }
  return shape;
}

ScanGrid raster_grid(GridShape shape, std::uint64_t frames) {
  if (shape.rows <= 0 || shape.cols <= 0 || shape.rows > kMaxGridSide || shape.cols > kMaxGridSide) {
    throw UsageError("grid " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
                     " is out of range: 1 to " + std::to_string(kMaxGridSide) + " rows and columns");
  }
  if (static_cast<std::uint64_t>(shape.rows * shape.cols) != frames) {
    throw UsageError("grid " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + " has " +
                     std::to_string(shape.rows * shape.cols) + " cells but the stack has " + std::to_string(frames) +
                     " frames");
  }
  ScanGrid grid;
  grid.shape = shape;
  grid.row_major = true;
  grid.origin = "given";
  return grid;
}

namespace {

// Level index of every value: sorted values split wherever a gap exceeds a third of the
// largest gap.
std::vector<std::int64_t> levels(const std::vector<double>& values, std::int64_t& level_count) {
  std::vector<std::size_t> order(values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  double largest_gap = 0.0;
  for (std::size_t i = 1; i < order.size(); ++i) {
    largest_gap = std::max(largest_gap, values[order[i]] - values[order[i - 1]]);
  }
  const double tolerance = largest_gap / 3.0;
  std::vector<std::int64_t> level(values.size(), 0);
  std::int64_t current = 0;
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (values[order[i]] - values[order[i - 1]] > tolerance) ++current;
    level[order[i]] = current;
  }
  level_count = values.empty() ? 0 : current + 1;
  return level;
}

}  // namespace

std::optional<ScanGrid> find_grid(const std::vector<double>& x, const std::vector<double>& y, std::string* why) {
  const auto not_a_grid = [&](const std::string& reason) {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  ScanGrid grid;
  std::int64_t cols = 0;
  std::int64_t rows = 0;
  const auto column = levels(x, cols);
  const auto row = levels(y, rows);
  if (rows * cols != static_cast<std::int64_t>(x.size())) {
    return not_a_grid(std::to_string(rows) + " distinct y and " + std::to_string(cols) + " distinct x values for " +
                      std::to_string(x.size()) + " positions");
  }
  grid.shape = {rows, cols};
  grid.cell_of_frame.resize(x.size());
  grid.frame_of_cell.assign(x.size(), -1);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const std::int64_t cell = row[k] * cols + column[k];
    if (grid.frame_of_cell[static_cast<std::size_t>(cell)] >= 0) {
      return not_a_grid("frames " + std::to_string(grid.frame_of_cell[static_cast<std::size_t>(cell)]) + " and " +
                        std::to_string(k) + " share a cell");
    }
    grid.cell_of_frame[k] = cell;
    grid.frame_of_cell[static_cast<std::size_t>(cell)] = static_cast<std::int64_t>(k);
  }
  grid.origin = "inferred from positions";
  // Scanned row by row (the usual case): nothing per frame needs keeping.
  bool identity = true;
  for (std::size_t k = 0; k < grid.cell_of_frame.size() && identity; ++k) {
    identity = grid.cell_of_frame[k] == static_cast<std::int64_t>(k);
  }
  if (identity) {
    grid.row_major = true;
    grid.cell_of_frame = {};
    grid.frame_of_cell = {};
  }
  return grid;
}

ScanGrid infer_grid(const std::vector<double>& x, const std::vector<double>& y) {
  std::string why;
  if (auto grid = find_grid(x, y, &why)) return std::move(*grid);
  throw InputError("the scan positions do not lie on a raster grid (" + why +
                   "); treat the scan as irregular (--scan irregular or auto), which uses the positions as they are");
}

std::optional<std::string> raster_disagreement(GridShape shape, const std::vector<double>& x,
                                               const std::vector<double>& y) {
  std::string why;
  const std::optional<ScanGrid> found = find_grid(x, y, &why);
  if (!found) return "the positions do not lie on a raster (" + why + ")";
  const GridShape got = found->shape;
  const bool same = got.rows == shape.rows && got.cols == shape.cols;
  const bool transposed = got.rows == shape.cols && got.cols == shape.rows;
  if (!same && !transposed) {
    return "the positions form a " + std::to_string(got.rows) + "x" + std::to_string(got.cols) + " raster";
  }
  // Try every placement of the given raster on the found one: flips, and the transpose if it fits.
  for (const bool transpose : {false, true}) {
    if ((transpose && !transposed) || (!transpose && !same)) continue;
    for (const bool flip_rows : {false, true}) {
      for (const bool flip_cols : {false, true}) {
        bool agree = true;
        for (std::size_t k = 0; k < x.size() && agree; ++k) {
          std::int64_t row = static_cast<std::int64_t>(k) / shape.cols, col = static_cast<std::int64_t>(k) % shape.cols;
          if (flip_rows) row = shape.rows - 1 - row;
          if (flip_cols) col = shape.cols - 1 - col;
          const std::int64_t cell = transpose ? col * got.cols + row : row * got.cols + col;
          agree = found->cell(k) == cell;
        }
        if (agree) return std::nullopt;
      }
    }
  }
  return "frames do not follow the raster's row-major order in the positions (e.g. a serpentine scan)";
}

}  // namespace ptyroi
