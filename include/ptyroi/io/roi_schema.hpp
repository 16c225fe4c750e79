#pragma once
// The /roi record every output format carries: how the subset was chosen, for the frames of the
// whole scan. One definition, used by the writers and by every reader (ptyroi-recon, tests).
//
//   /roi                         group; attributes: the parameters, clusters, provenance, timings
//   /roi/mask                    uint8 [K]       1 = frame in the RoI (a PtyPy framefilter)
//   /roi/indexes                 int64 [K_roi]   frame numbers of the RoI frames, ascending
//   /roi/positions_x, _y         float64 [K]     metres (or scan steps when the input has none)
//   /roi/features/total_intensity, com_x, com_y, com_magnitude, absorption_map, scattering_map
//                                float64 [K]     T, CoM (NaN without signal), c, the smoothed maps
//   /roi/features/absorption_roi, scattering_roi   uint8 [K]   the selected cluster of each map
//   /roi/good_pixels             uint8 [N, M]    1 = good pixel of the written frames (as laid out
//                                                there): a PtyPy mask with invert = False
//   /roi/partition               int32 [K]       --partitions: each frame's part, −1 outside the RoI
//   /roi/partitions/core_frames, core_offsets     int64 [K_roi], [P + 1]   part p's frames are
//                                core_frames[core_offsets[p] : core_offsets[p + 1]], ascending
//   /roi/partitions/halo_frames, halo_offsets     int64, [P + 1]           its halo, likewise
//                                (attributes: parts, halo_m, halo_unit, method)
//   /roi/partition_core          uint8 [K_file]  a partition file's rows (its frames, /roi/indexes
//                                order): 1 = the part's own frame, 0 = a halo frame
//   attributes of /roi also say how the frames were written (patterns_layout, pattern_type,
//   bad_pixels_zeroed, zeroed_pixel_values) and the instrument (energy_J, energy_keV,
//   wavelength_m, distance_m, detector_pixel_size_m [x, y], object_pixel_size_m [x, y] = λz/(N·p)
//   for the written frames, beam_center_xy in written pixels, instrument_sources), when known.
#include <hdf5.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/scan_partitions.hpp"
#include "ptyroi/core/scan_positions.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/instrument.hpp"
#include "ptyroi/io/pattern_layout.hpp"

namespace ptyroi {

namespace roi_schema {
inline constexpr const char* group = "/roi";
inline constexpr const char* mask = "/roi/mask";
inline constexpr const char* indexes = "/roi/indexes";
inline constexpr const char* positions_x = "/roi/positions_x";
inline constexpr const char* positions_y = "/roi/positions_y";
inline constexpr const char* features = "/roi/features";
inline constexpr const char* good_pixels = "/roi/good_pixels";
inline constexpr const char* partition = "/roi/partition";
inline constexpr const char* partitions = "/roi/partitions";
inline constexpr const char* partition_core_frames = "/roi/partitions/core_frames";
inline constexpr const char* partition_core_offsets = "/roi/partitions/core_offsets";
inline constexpr const char* partition_halo_frames = "/roi/partitions/halo_frames";
inline constexpr const char* partition_halo_offsets = "/roi/partitions/halo_offsets";
inline constexpr const char* partition_core = "/roi/partition_core";
inline constexpr const char* partition_index = "partition";  // attribute of /roi in a partition file
// Attributes read back by other programs.
inline constexpr const char* input_file = "input_file";
inline constexpr const char* fftshift = "fftshift";
inline constexpr const char* frame_window = "frame_window";  // first row, first column, rows, cols
// The written patterns: "centred" (the analysed frames) or "corner" (shifted back, for tike).
inline constexpr const char* patterns_layout = "patterns_layout";
}  // namespace roi_schema

// What the record says about the input and the run besides the result itself.
struct RoiRecordInfo {
  std::string software;        // "ptyroi 0.2.0"
  std::string input_file;      // as given
  std::string input_dataset;   // the stack
  std::string input_layout;    // nexus, cxi, ...
  std::string masks;           // which masks were combined; empty: none
  std::string zero_frequency;  // where the input keeps zero frequency, and how that was decided
  std::vector<std::pair<std::string, double>> timings;  // e.g. {"open_s", 0.01}: attributes time_open_s
  InstrumentMetadata instrument;                        // energy, distance, pixel size, beam centre
  const ScanPartitions* partitions = nullptr;           // --partitions: written as /roi/partition(s)
  int partition = -1;  // a partition file's part (the result's RoI is its frames); −1: the whole RoI
};

// The frames as the output's format writes them.
struct WrittenFrames {
  std::uint64_t rows = 0, cols = 0;
  PatternLayout layout;
  PixelType pixel_type = PixelType::f64;
  std::vector<std::uint8_t> bad_pixels;                  // rows·cols, 1 = bad, laid out as the frames
  std::optional<std::pair<double, double>> beam_center;  // (x, y) pixels of the written frame
};

// Creates the record's datasets and attributes in an open file (collective over the file's
// communicator: every rank calls it identically), then each rank writes its own frames.
class RoiRecordWriter {
 public:
  RoiRecordWriter(hid_t file, const RoiResult& result, const ScanPositions& positions, const PixelSelection& pixels,
                  const RoiRecordInfo& info, const WrittenFrames& written);
  // Rank-local: this rank's frames of every per-frame dataset, and its RoI frames' indexes at
  // roi_offset (the RoI frames of the ranks before it).
  void write_local(const RoiResult& result, const ScanPositions& positions, std::uint64_t roi_offset,
                   hid_t transfer) const;
  // Collective, after the patterns are written: how many pixel values were zeroed (all ranks).
  void write_zeroed_pixels(std::int64_t zeroed) const;

 private:
  h5::Handle group_, mask_, indexes_, positions_x_, positions_y_, absorption_roi_, scattering_roi_, good_pixels_;
  std::vector<std::uint8_t> good_pixels_values_;
  std::vector<h5::Handle> features_;
  // --partitions
  const ScanPartitions* partitions_ = nullptr;
  int partition_ = -1;
  h5::Handle partition_labels_, core_frames_, core_offsets_, halo_frames_, halo_offsets_, partition_core_;
};

// The record as read back (serial HDF5).
struct RoiRecord {
  std::vector<std::uint8_t> mask;
  // total_intensity, com_x, com_y, com_magnitude, absorption_map, scattering_map (when present)
  std::vector<std::pair<std::string, std::vector<double>>> features;
  std::vector<std::int64_t> indexes;
  std::vector<double> positions_x, positions_y;
  std::string input_file;
  bool fftshift = false;                       // the input was stored with zero frequency at the corner
  bool patterns_at_corner = false;             // the written patterns are (patterns_layout "corner")
  std::array<std::int64_t, 4> frame_window{};  // first row, first column, rows, cols
  // --partitions (empty without): each frame's part, and each part's frames and halo
  std::vector<std::int32_t> partition;
  std::vector<std::vector<std::int64_t>> partition_core_frames, partition_halo_frames;
  double partition_halo_m = 0.0;
  int partition_index = -1;                  // a partition file's part; −1: not a partition file
  std::vector<std::uint8_t> partition_core;  // a partition file's rows: 1 = own frame, 0 = halo
};

bool has_roi_record(hid_t file);
// Throws InputError naming the file and what is missing or inconsistent.
RoiRecord read_roi_record(hid_t file, const std::string& file_name);

}  // namespace ptyroi
