#pragma once
// The built-in output formats (one source file each) and what they share. Private to the library:
// users reach formats through ptyroi/io/output_format.hpp.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/output_format.hpp"

namespace ptyroi::formats {

const OutputFormat& cxi();
const OutputFormat& ptychoshelves();
const OutputFormat& ptychodus();
const OutputFormat& tike();
const OutputFormat& mask_only();

// An output of one HDF5 file, named as given.
std::vector<OutputFile> single_file(const std::string& output);

// `output` without the first of `suffixes` it ends in.
std::string strip_suffix(const std::string& output, std::initializer_list<const char*> suffixes);

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

// The bad pixels of the written frames (1 = bad), laid out as the frames are: the masks, not the
// per-frame exclusions (those pixels are zeroed in the data).
std::vector<std::uint8_t> written_bad_pixels(const FormatContext& context);

// The beam centre (x, y) in pixels of the written frame, when the input or --beam-center gives it
// and it lies in the window.
std::optional<std::pair<double, double>> written_beam_center(const FormatContext& context);

// Small datasets created by every rank (collective metadata) whose values rank 0 writes later.
class SmallDatasets {
 public:
  // Returns the dataset, e.g. to attach attributes to. No dims: a scalar.
  hid_t add(hid_t file, const std::string& path, hid_t file_type, const std::vector<hsize_t>& dims,
            std::vector<double> values);
  // Rank 0 writes every value (converted from double to each dataset's type).
  void write(int rank, hid_t transfer) const;

 private:
  std::vector<std::pair<h5::Handle, std::vector<double>>> datasets_;
};

// The CXI 1.5 layout that the cxi and ptychodus formats write (ptychodus's CXI readers, PtyPy's
// Hdf5Loader): /cxi_version, /entry_1/data_1/data [K_roi, N, M] (axes "translation:y:x"),
// /entry_1/sample_1/geometry_1/translation [K_roi, 3] (x, y, 0) metres with the soft link
// /entry_1/data_1/translation, the instrument group (source_1/energy J; detector_1/distance,
// x_pixel_size, y_pixel_size m, when known), detector_1/mask uint32 [N, M] (0 = good, 0x1 INVALID:
// 0/1 only, so that PtyPy's arithmetic `invert` works on it), corner_position and basis_vectors
// when the geometry is known.
class CxiLayout {
 public:
  CxiLayout(hid_t file, const FormatContext& context, bool with_patterns);
  hid_t patterns() const { return patterns_ ? patterns_.get() : -1; }
  void write_local(const FormatContext& context, int rank, hid_t transfer) const;

 private:
  h5::Handle translation_, patterns_;
  SmallDatasets small_;
};

}  // namespace ptyroi::formats
