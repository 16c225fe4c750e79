#pragma once
// `--preview DIR`: PNG images of a scan's maps, clusters and RoI, for the beamline scientist who
// decides by looking. Pure (no MPI, no HDF5): rank 0 calls it with everything gathered.
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/core/scan_grid.hpp"

namespace ptyroi {

struct PreviewInput {
  std::string title;                        // e.g. the input file name, shown in every title
  std::vector<double> x, y;                 // positions per frame, metres (x fast axis)
  std::string position_unit = "m";          // "m" (axes in µm), or "px" when the positions are pixels of unknown size
  GridShape grid;                           // rows, cols of the raster; {0,0} for an irregular scan
  std::vector<std::int64_t> cell_of_frame;  // raster: cell (row-major) of frame k; empty if irregular
  std::vector<double> transmission;         // T per frame (raw), >= 0
  std::vector<double> com_magnitude;        // c per frame
  std::vector<double> com_x, com_y;         // standardised CoM components per frame
  std::vector<std::uint8_t> absorption_roi, scattering_roi;  // the two selected clusters per frame, 0/1
  int border_steps = 0;
  std::vector<std::uint8_t> roi;  // final RoI per frame at border_steps
  // The RoI at several borders, e.g. {-2, …}, {0, …}, {2, …}, {4, …}; empty: only `roi`.
  std::vector<std::pair<int, std::vector<std::uint8_t>>> roi_at_borders;
};

// Writes DIR/absorption.png (ln T), DIR/scattering.png (ln c), DIR/com_field.png,
// DIR/absorption_cluster.png, DIR/scattering_cluster.png, DIR/roi.png (the RoI over the absorption
// map) and DIR/roi_borders.png (the RoI's outline at each border); returns the paths in that order.
// Every image has the same size and puts the scan at the same place (see preview_layout), so they
// can be flipped through. Creates DIR if missing. Throws InputError if the per-frame vectors do
// not all have one entry per frame (or the raster does not match), IoError naming the directory or
// file when it cannot be created or written.
std::vector<std::string> write_previews(const PreviewInput& input, const std::string& directory);

// The file names of the images, in the order write_previews writes them.
const std::vector<std::string>& preview_file_names();

// Draws the images into `paths` (one per preview_file_names(), in that order; each file is created
// or truncated): what write_previews does once it has the directory, for a caller that writes
// through temporary files (io/atomic_output.hpp).
void render_previews(const PreviewInput& input, const std::vector<std::string>& paths);

// Throws UsageError naming --preview when the scan's raster cannot be drawn (more than 32767 rows or
// columns): checked before anything is written.
void check_previewable(const GridShape& grid);

// Where write_previews draws the scan, in pixels from the images' top-left corner.
struct PreviewLayout {
  int width = 0, height = 0;                                           // of every image
  double map_x = 0.0, map_y = 0.0, map_width = 0.0, map_height = 0.0;  // the scan's drawing area
  std::vector<std::array<double, 2>> frame_centre;                     // centre of frame k's cell or disc
};
PreviewLayout preview_layout(const PreviewInput& input);

// Frees the font caches cairo and fontconfig keep for the life of the process once text has been
// drawn, so that a leak checker (LeakSanitizer at exit) reports nothing of them. Call when no
// preview is being drawn, e.g. once before exit; a later write_previews loads them again.
void release_preview_caches();

}  // namespace ptyroi
