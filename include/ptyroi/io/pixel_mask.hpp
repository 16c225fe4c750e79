#pragma once
// Bad-pixel masks. A mask dataset is [N, M] with non-zero = bad (the NeXus/Eiger convention);
// the pipeline works with its complement, good_pixels (1 = use), so the per-frame kernel can
// select without a branch.
#include <cstdint>
#include <string>
#include <vector>

#include <optional>
#include <utility>

#include "ptyroi/core/frame_moments.hpp"
#include "ptyroi/core/pixel_type.hpp"
#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

// Reads a mask "[FILE:]PATH" (FILE defaults to the input file) on this process and returns the
// good-pixel map. Throws InputError naming `what` and the mask when its shape is not rows×cols.
std::vector<std::uint8_t> read_good_pixels(const std::string& mask_spec, const std::string& input_file,
                                           std::uint64_t rows, std::uint64_t cols, const std::string& what = "--mask");

// Which pixels of the detector count, as asked for: the masks, a value limit, the stored layout and
// a crop around the beam centre.
struct PixelSettings {
  bool use_file_mask = true;        // the input's own mask (NeXus pixel_mask, CXI mask, plain /pixel_mask)
  std::string mask;                 // "[FILE:]PATH" of another [N, M] mask, non-zero = bad; empty: none
  std::optional<double> max_valid;  // pixels above it are left out
  // Frames stored with zero frequency at the corner; unset: not decided yet (the program detects it
  // with detect_zero_frequency before calling pixel_selection, which then takes unset as false).
  std::optional<bool> fftshift = false;
  std::uint64_t crop = 0;  // N: the N×N pixels around the beam centre; 0: the whole frame
  std::optional<std::pair<double, double>> beam_center;  // (x, y) pixels; unset: the file's, else the centre
};

// The good pixels: the input's own mask (unless use_file_mask is off) and settings.mask; a pixel
// bad in either is bad. Empty: every pixel is good. `sources` names the masks used.
std::vector<std::uint8_t> combined_good_pixels(const PixelSettings& settings, const std::string& input_file,
                                               const InputDescription& input, std::uint64_t rows, std::uint64_t cols,
                                               std::string& sources);

// Everything that decides which pixels count: the good pixels, max_valid and the NXmx flag value
// (2^bit_depth − 1, always left out), fftshift, and the crop window around the beam centre
// (settings, else the file's metadata, else the frame centre). Throws UsageError when the window
// does not fit in the frame.
PixelSelection pixel_selection(const PixelSettings& settings, const InputDescription& input, PixelType pixel_type,
                               std::uint64_t rows, std::uint64_t cols, std::vector<std::uint8_t> good_pixels);

}  // namespace ptyroi
