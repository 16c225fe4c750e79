#pragma once
// The output formats (--format), as a registry in the manner of ADIOS2's engine table: each format
// is one source file under src/io/formats/ that defines an OutputFormat, and one line of
// output_format.cpp registers it. Help texts and validation read the list from here.
//
// A format decides which files an output consists of, creates its own datasets in them (collective)
// and writes each rank's part; the writer (roi_writer.hpp) does everything common: temporary files,
// the /roi record in the first file, the copy of the RoI patterns, the commit.
#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/scan_positions.hpp"

namespace ptyroi {

// What a format writes from.
struct FormatContext {
  const RoiResult& result;
  const ScanPositions& positions;                  // all frames
  const PixelSelection& pixels;                    // the window and the good pixels of the stored frames
  std::uint64_t source_rows = 0, source_cols = 0;  // the stored frames
  hid_t pattern_type = -1;                         // HDF5 type the patterns are stored in (the input's own)
  std::uint64_t roi_offset = 0;  // this rank's first RoI frame in the output (RoI frames of lower ranks)
};

// One output being written: holds the format's open datasets.
class FormatWriter {
 public:
  FormatWriter() = default;
  FormatWriter(const FormatWriter&) = delete;
  FormatWriter& operator=(const FormatWriter&) = delete;
  virtual ~FormatWriter() = default;
  // The dataset [K_roi, rows, cols] the RoI patterns are copied into; negative: none.
  virtual hid_t patterns() const { return -1; }
  // Rank-local: this rank's share (its RoI frames at context.roi_offset; whole-file items on rank 0).
  virtual void write_local(const FormatContext& context, int rank, hid_t transfer) const = 0;
};

struct OutputFormat {
  std::string_view name;         // as given to --format
  std::string_view description;  // one line for --help
  bool carries_patterns = true;  // false: the record only (mask-only)
  // The files an output named `output` consists of (the /roi record goes into the first).
  std::vector<std::string> (*paths)(const std::string& output) = nullptr;
  // Collective: creates the format's datasets in the open files (files[i] is paths(output)[i]).
  std::unique_ptr<FormatWriter> (*create)(const std::vector<hid_t>& files, const FormatContext& context,
                                          bool with_patterns) = nullptr;
};

// Every registered format, in the order help texts list them.
const std::vector<const OutputFormat*>& output_formats();
// nullptr when no format has that name.
const OutputFormat* find_output_format(std::string_view name);
// Throws UsageError listing the registered names when no format has that name.
const OutputFormat& output_format(std::string_view name);
// "cxi, ptychoshelves, ..." (with `separator`).
std::string output_format_names(std::string_view separator = ", ");

}  // namespace ptyroi
