#pragma once
// The analysed frame: the frame as the method sees it — centred (zero frequency near the middle,
// as a far-field pattern is drawn) and cropped to a window — and where each of its pixels is in
// the frame as stored. A frame stored with zero frequency at the corner (numpy.fft.ifftshift of the
// centred frame, as tike and many fly-scan writers store them) is centred by fftshift: analysed
// index j along an axis of n pixels is stored index (j − ⌊n/2⌋) mod n. A crop window is taken of
// the centred frame, so in the stored frame it may wrap around the edges: each analysed row is one
// stored row, and its columns are at most two runs of consecutive stored columns.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ptyroi/core/pixel_type.hpp"

namespace ptyroi {

struct PixelSelection;

struct FrameWindow {
  struct Run {
    std::size_t stored_col = 0;    // first stored column of the run
    std::size_t analysed_col = 0;  // its column in the analysed frame
    std::size_t count = 0;
  };
  std::size_t stored_cols = 0;    // row stride of the stored frame
  std::vector<std::size_t> rows;  // stored row of each analysed row
  std::vector<Run> runs;          // the analysed columns, in runs of consecutive stored columns
  std::size_t analysed_cols = 0;

  std::size_t analysed_rows() const { return rows.size(); }
  // True when the analysed frame is one stored rectangle in stored order (no wrap, no reordering).
  bool is_rectangle() const;
};

// The stored index of analysed index j along an axis of n pixels (centred by fftshift or not).
std::size_t stored_index(std::size_t analysed, std::size_t n, bool fftshift);

// The window of `selection` (whole frame when its window is empty; window coordinates are of the
// centred frame) in frames stored as rows × cols.
FrameWindow frame_window(const PixelSelection& selection, std::size_t rows, std::size_t cols);

// Copies the analysed frame out of a stored one (pixels of `type`).
void extract_window(const void* stored, PixelType type, const FrameWindow& window, void* analysed);

}  // namespace ptyroi
