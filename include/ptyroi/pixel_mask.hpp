#pragma once
// Bad-pixel masks. A mask dataset is [N, M] with non-zero = bad (the NeXus/Eiger convention);
// the pipeline works with its complement, good_pixels (1 = use), so the per-frame kernel can
// select without a branch.
#include <cstdint>
#include <string>
#include <vector>

namespace ptyroi {

// Reads --mask "[FILE:]PATH" (FILE defaults to the input file) on this process and returns the
// good-pixel map. Throws InputError naming the mask when its shape is not rows×cols.
std::vector<std::uint8_t> read_good_pixels(const std::string& mask_spec, const std::string& input_file,
                                           std::uint64_t rows, std::uint64_t cols);

}  // namespace ptyroi
