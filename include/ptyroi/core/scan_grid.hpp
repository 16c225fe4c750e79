#pragma once
// The raster a scan was taken on: rows × cols cells, one frame per cell. Maps over the scan
// (paper Fig. 3) are vectors indexed by cell, row-major.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptyroi {

struct GridShape {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

// Parses "ROWSxCOLS" (e.g. "85x188"); throws UsageError naming --grid otherwise.
GridShape parse_grid_shape(const std::string& text);

struct ScanGrid {
  GridShape shape;
  // Frames in row-major order: frame k at cell k (a given raster, or positions scanned that way).
  // Then the two maps below are empty: nothing per frame is stored.
  bool row_major = false;
  std::vector<std::int64_t> cell_of_frame;  // otherwise: frame k sits at cell cell_of_frame[k]
  std::vector<std::int64_t> frame_of_cell;  // and its inverse
  std::string origin;                       // "given" or "inferred from positions"

  std::int64_t cells() const { return shape.rows * shape.cols; }
  std::int64_t cell(std::uint64_t frame) const {
    return row_major ? static_cast<std::int64_t>(frame) : cell_of_frame[frame];
  }
  std::uint64_t frame(std::int64_t cell) const {
    return row_major ? static_cast<std::uint64_t>(cell) : static_cast<std::uint64_t>(frame_of_cell[cell]);
  }
};

// --grid: frame k at row k / cols, column k % cols. Throws InputError unless rows·cols = frames.
ScanGrid raster_grid(GridShape shape, std::uint64_t frames);

// The raster the positions form: the distinct x values (within a tolerance of a third of the
// largest gap between sorted values, so encoder jitter does not split a column) are the columns,
// the distinct y values the rows; every cell must hold exactly one frame. nullopt otherwise, with
// the reason in *why when given.
std::optional<ScanGrid> find_grid(const std::vector<double>& x, const std::vector<double>& y,
                                  std::string* why = nullptr);

// find_grid, or an InputError saying why the scan is not on a grid.
ScanGrid infer_grid(const std::vector<double>& x, const std::vector<double>& y);

// Whether positions agree with a raster given as rows × cols (frame k at row k / cols): they form a
// raster of that shape (or its transpose) on which every frame sits where the given raster puts it,
// up to flips of the axes (which neighbourhoods do not see). nullopt if they agree, else why not.
std::optional<std::string> raster_disagreement(GridShape shape, const std::vector<double>& x,
                                               const std::vector<double>& y);

}  // namespace ptyroi
