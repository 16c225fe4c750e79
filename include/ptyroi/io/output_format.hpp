#pragma once
// The output formats (--format), as a registry in the manner of ADIOS2's engine table: each format
// is one source file under src/io/formats/ that defines an OutputFormat, and one line of
// output_format.cpp registers it. Help texts and validation read the list from here.
//
// A format decides which files an output consists of, how its patterns are laid out (element
// type, bad pixels zeroed, zero frequency centred or at the corner), what its reader needs besides
// the frames, creates its own datasets (collective) and writes each rank's part; the writer
// (roi_writer.hpp) does everything common: temporary files, the /roi record in the first HDF5
// file, the conversion and copy of the RoI patterns, the commit.
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/scan_positions.hpp"
#include "ptyroi/io/instrument.hpp"
#include "ptyroi/io/pattern_layout.hpp"

namespace ptyroi {

// One file of an output.
struct OutputFile {
  std::string path;
  bool hdf5 = true;  // false: written by the format itself (an .npz, .npy or text file)
};

// What a format's reader needs besides the frames, checked before any frame is read.
enum class Need {
  no,
  recommended,  // missing: the file is written, with a warning naming the options
  required,     // missing: the run stops (UsageError naming the options)
};
struct FormatNeeds {
  std::string_view reader;        // whose rules, for messages: "ptychodus's CXI reader"
  Need instrument = Need::no;     // photon energy, detector distance and pixel size
  bool square_frames = false;     // N × N frames (--crop N makes them)
  bool metric_positions = false;  // positions in metres, not the --grid cells of a file without any
};

// What a format writes from.
struct FormatContext {
  FormatContext(const RoiResult& result_, const ScanPositions& positions_, const PixelSelection& pixels_,
                const InstrumentMetadata& instrument_)
      : result(result_), positions(positions_), pixels(pixels_), instrument(instrument_) {}
  const RoiResult& result;
  const ScanPositions& positions;                  // all frames
  const PixelSelection& pixels;                    // the window and the good pixels of the stored frames
  const InstrumentMetadata& instrument;            // as read and overridden
  std::uint64_t source_rows = 0, source_cols = 0;  // the stored frames
  WindowPixels window;                             // the written window's pixels
  PatternLayout layout;                            // the format's
  PixelType pixel_type = PixelType::f64;           // of the written patterns
  hid_t pattern_type = -1;                         // HDF5 file type of the written patterns
  std::uint64_t roi_offset = 0;  // this rank's first RoI frame in the output (RoI frames of lower ranks)
  MPI_Comm comm = MPI_COMM_NULL;
  std::vector<OutputFile> files;         // the output's files (final paths)
  std::vector<std::string> temporaries;  // where each is being written
};

// One output being written: holds the format's open datasets and files.
class FormatWriter {
 public:
  FormatWriter() = default;
  FormatWriter(const FormatWriter&) = delete;
  FormatWriter& operator=(const FormatWriter&) = delete;
  virtual ~FormatWriter() = default;
  // The HDF5 dataset [K_roi, rows, cols] the RoI patterns go to; negative: none.
  virtual hid_t patterns() const { return -1; }
  // Whether the format takes patterns at all (write_patterns).
  virtual bool takes_patterns() const { return patterns() >= 0; }
  // Rank-local: RoI frames [first, first + count), converted to the format's layout (in
  // FormatContext::pixel_type). Each rank calls it in ascending order. Default: into patterns().
  virtual void write_patterns(std::uint64_t first, std::uint64_t count, const void* frames, hid_t transfer);
  // Rank-local: this rank's share (its RoI frames at context.roi_offset; whole-file items on rank 0).
  virtual void write_local(const FormatContext& context, int rank, hid_t transfer) const = 0;
  // Collective, after every rank's writes: what needs all of them (an .npz's directory).
  virtual void finish(const FormatContext& /*context*/) {}
};

struct OutputFormat {
  std::string_view name;         // as given to --format
  std::string_view description;  // one line for --help
  bool carries_patterns = true;  // false: the record only (mask-only)
  // The files an output named `output` consists of (the /roi record goes into the first HDF5 one).
  std::vector<OutputFile> (*files)(const std::string& output) = nullptr;
  // Collective: creates the format's datasets in the open files (files[i] is the HDF5 file of
  // files(output)[i], negative for the others) and opens its other files.
  std::unique_ptr<FormatWriter> (*create)(const std::vector<hid_t>& files, const FormatContext& context,
                                          bool with_patterns) = nullptr;
  PatternLayout layout;  // how the patterns are written
  FormatNeeds needs;     // what its reader needs besides the frames
};

// Every registered format, in the order help texts list them.
const std::vector<const OutputFormat*>& output_formats();
// nullptr when no format has that name.
const OutputFormat* find_output_format(std::string_view name);
// Throws UsageError listing the registered names when no format has that name.
const OutputFormat& output_format(std::string_view name);
// "cxi, ptychoshelves, ..." (with `separator`).
std::string output_format_names(std::string_view separator = ", ");

// What the reader of `format` will lack for this input, one sentence each naming the option that
// supplies it (empty: nothing). rows × cols: the written frames; metric_positions: whether the
// positions are in metres.
std::vector<std::string> format_shortfalls(const OutputFormat& format, const InstrumentMetadata& instrument,
                                           std::uint64_t rows, std::uint64_t cols, bool metric_positions);

// Before any frame is read: throws UsageError when a required need is unmet and returns the
// warnings for recommended ones.
std::vector<std::string> check_format_needs(const OutputFormat& format, const InstrumentMetadata& instrument,
                                            std::uint64_t rows, std::uint64_t cols, bool metric_positions);

}  // namespace ptyroi
