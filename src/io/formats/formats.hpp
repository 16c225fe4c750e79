#pragma once
// The built-in output formats (one source file each) and what they share. Private to the library:
// users reach formats through ptyroi/io/output_format.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/output_format.hpp"

namespace ptyroi::formats {

const OutputFormat& cxi();
const OutputFormat& ptychoshelves();
const OutputFormat& ptychodus();
const OutputFormat& mask_only();

// An output of one file, named as given.
std::vector<std::string> single_file(const std::string& output);

// The pattern dataset [K_roi, rows, cols] in context.pattern_type, contiguous and allocated at once:
// every frame is one run of bytes, and there is no chunk index (in the 1.8 file format that MATLAB's
// readers need, that index is a v1 B-tree whose memory grows with the RoI).
h5::Handle create_patterns(hid_t file, const std::string& path, const FormatContext& context);

// A per-RoI-frame dataset [K_roi] (or [K_roi, width]) of T.
h5::Handle create_roi_frames(hid_t file, const std::string& path, hid_t type, const FormatContext& context,
                             std::uint64_t width = 0);

// Positions of this rank's RoI frames, in RoI order.
void local_roi_positions(const FormatContext& context, std::vector<double>& x, std::vector<double>& y);

// Writes values (rows of `width` values, or one each when width is 0) at row `first` of dataset.
void write_rows(hid_t dataset, std::uint64_t first, const std::vector<double>& values, hid_t transfer,
                std::uint64_t width = 0);
void write_rows(hid_t dataset, std::uint64_t first, const std::vector<std::int64_t>& values, hid_t transfer);

// The bad pixels of the analysed window (1 = bad): the masks, not per-frame exclusions.
std::vector<std::uint8_t> window_bad_pixels(const FormatContext& context);

}  // namespace ptyroi::formats
