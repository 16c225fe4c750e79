#pragma once
// Bad-pixel masks. A mask dataset is [N, M] with non-zero = bad (the NeXus/Eiger convention);
// the pipeline works with its complement, good_pixels (1 = use), so the per-frame kernel can
// select without a branch.
#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/core/frame_moments.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/app/options.hpp"
#include "ptyroi/io/pattern_stack.hpp"

namespace ptyroi {

// Reads a mask "[FILE:]PATH" (FILE defaults to the input file) on this process and returns the
// good-pixel map. Throws InputError naming `what` and the mask when its shape is not rows×cols.
std::vector<std::uint8_t> read_good_pixels(const std::string& mask_spec, const std::string& input_file,
                                           std::uint64_t rows, std::uint64_t cols, const std::string& what = "--mask");

// The run's good pixels: the input's own mask (unless --no-file-mask) and --mask; a pixel bad in
// either is bad. Empty: every pixel is good. `sources` names the masks used.
std::vector<std::uint8_t> run_good_pixels(const Options& options, const InputDescription& input, std::uint64_t rows,
                                          std::uint64_t cols, std::string& sources);

// Everything that decides which pixels count: the good pixels, --max-valid and the NXmx flag value
// (2^bit_depth − 1, always left out), --fftshift, and the --crop window around the beam centre
// (--beam-center, else the file's metadata, else the frame centre). Throws UsageError when the
// window does not fit in the frame.
PixelSelection pixel_selection(const Options& options, const InputDescription& input, PixelType pixel_type,
                               std::uint64_t rows, std::uint64_t cols, std::vector<std::uint8_t> good_pixels);

}  // namespace ptyroi
