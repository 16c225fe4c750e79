#pragma once
// How an output format wants its patterns: the element type, whether pixels that are not data
// (masked, above --max-valid or at the detector's flag value, NaN/Inf) become 0, and where zero
// frequency sits. Each format states its layout once (output_format.hpp); the writer converts the
// window of every frame as it copies it (roi_writer.cpp), and the pixel maps a format writes
// (masks) go through the same permutation.
//
// Zero frequency: "centred" = the direct beam at 0-based pixel (N/2, M/2), what PtyPy, ptychodus
// and fold_slice expect; "corner" = at [0, 0], numpy's ifftshift of a centred frame, what tike
// expects. The copy starts from the analysed frame (core/frame_window.hpp), which is centred
// whatever the stored frames are.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ptyroi/core/frame_moments.hpp"
#include "ptyroi/core/pixel_type.hpp"

namespace ptyroi {

struct PatternLayout {
  std::optional<PixelType> pixel_type;  // nullopt: the input's own type (and byte order)
  bool zero_bad_pixels = true;          // pixels that are not data are written as 0
  bool corner = false;                  // zero frequency at [0, 0]; false: centred at (N/2, M/2)
};

// The pixels of the analysed frame (rows × cols, centred) and what makes one of them not data.
struct WindowPixels {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint8_t> good;  // rows·cols, 1 = good; empty: every pixel
  bool has_max_valid = false;      // values above max_valid are not data (--max-valid, the NXmx flag)
  double max_valid = 0.0;
};

// The analysed frame's pixels as selected for the analysis: the good-pixel map taken out as the
// frames are (frame_window), and max_valid. stored_rows × stored_cols: the frames as stored.
WindowPixels window_pixels(const PixelSelection& selection, std::size_t stored_rows, std::size_t stored_cols);

PixelType output_pixel_type(const PatternLayout& layout, PixelType stored);

// Whether the copy must touch pixels (else the stored bytes are written as they are).
bool needs_conversion(const PatternLayout& layout, PixelType stored, const WindowPixels& window);

// Converts `count` analysed frames (row-major, of type `stored`) into `out` (of
// output_pixel_type), zeroing and moving pixels as the layout says. Returns the number of pixel
// values zeroed.
std::int64_t convert_frames(const void* in, PixelType stored, std::size_t count, const WindowPixels& window,
                            const PatternLayout& layout, void* out);

// Where analysed pixel (row, col) lands in the written frame (its row, its column).
std::size_t layout_row(std::size_t row, const WindowPixels& window, const PatternLayout& layout);
std::size_t layout_col(std::size_t col, const WindowPixels& window, const PatternLayout& layout);

// The bad pixels (1 = bad) of the written frame: the analysed good-pixel map, inverted and moved
// as the frames are.
std::vector<std::uint8_t> layout_bad_pixels(const WindowPixels& window, const PatternLayout& layout);

}  // namespace ptyroi
