#pragma once
// The input: K diffraction patterns [K, N, M] in one HDF5 dataset or, for NeXus/Eiger masters, in
// several datasets (external links to the data files) read as one stack in link order. Opened on
// every rank with the MPI-IO driver and read as disjoint hyperslabs of whole frames, in the file's
// own pixel type; a rank's range may cross data-file boundaries.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptyroi/io/chunk_reader.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

enum class PixelType { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64 };

const char* pixel_type_name(PixelType type);
std::size_t pixel_type_size(PixelType type);
hid_t pixel_type_native(PixelType type);

// Calls visit(Pixel{}) with a value of the C++ type of `type`.
template <class Visitor>
decltype(auto) visit_pixel_type(PixelType type, Visitor&& visit) {
  switch (type) {
    case PixelType::u8:
      return visit(std::uint8_t{});
    case PixelType::u16:
      return visit(std::uint16_t{});
    case PixelType::u32:
      return visit(std::uint32_t{});
    case PixelType::u64:
      return visit(std::uint64_t{});
    case PixelType::i8:
      return visit(std::int8_t{});
    case PixelType::i16:
      return visit(std::int16_t{});
    case PixelType::i32:
      return visit(std::int32_t{});
    case PixelType::i64:
      return visit(std::int64_t{});
    case PixelType::f32:
      return visit(float{});
    case PixelType::f64:
      return visit(double{});
  }
  return visit(double{});  // unreachable: every enumerator is handled above
}

// The PixelType of a dataset's file type; throws InputError naming `where` for anything but
// 8..64-bit integers and float32/float64.
PixelType classify_pixel_type(hid_t file_type, const std::string& where);

// Rank-local check, before the collective open, that path is a readable HDF5 file; throws
// InputError saying which of the two it is not.
void check_input_file(const std::string& path);

// Frames per read block: `requested`, or when 0 as many frames as fit in 4 MiB (at least 1). Small
// enough for a block to stay in the last-level cache between the read and the per-frame pass.
std::uint64_t frames_per_block(std::uint64_t requested, std::size_t frame_bytes);

class PatternStack {
 public:
  // Collective over comm. `layout` automatic: detected from the content; a non-empty dataset_path
  // replaces the layout's stack. `decoder` automatic: bitshuffle-LZ4 and deflate chunks are read
  // with H5Dread_chunk and decoded in-process (ptyroi/io/chunk_reader.hpp); hdf5: everything goes
  // through HDF5's filter pipeline.
  static PatternStack open(const std::string& file_path, InputLayout layout, const std::string& dataset_path,
                           std::uint64_t block_frames, MPI_Comm comm, Decoder decoder = Decoder::automatic);

  const std::string& file_path() const { return file_path_; }
  // The stack's dataset, or "/entry/data/data_000001 … data_000004" for a multi-file stack.
  const std::string& dataset_path() const { return dataset_path_; }
  const InputDescription& description() const { return description_; }
  std::uint64_t frames() const { return frames_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t cols() const { return cols_; }
  std::uint64_t pixels_per_frame() const { return rows_ * cols_; }
  std::uint64_t block_frames() const { return block_frames_; }
  PixelType pixel_type() const { return pixel_type_; }
  std::size_t frame_bytes() const { return pixels_per_frame() * pixel_type_size(pixel_type_); }
  // The dataset's type as stored, so the RoI subset keeps it (byte order included).
  hid_t file_type() const { return file_type_.get(); }
  std::size_t segments() const { return segments_.size(); }
  // The open dataset of segment i, as read (its access properties: chunk and metadata caches).
  hid_t segment_dataset(std::size_t i) const { return segments_.at(i).dataset.get(); }
  Decoder decoder() const { return decoder_; }
  // The in-process reader of segment i, or nullptr when it is read through H5Dread.
  const ChunkReader* segment_chunk_reader(std::size_t i) const { return segments_.at(i).direct.get(); }
  // How segment i is decoded: "in-process bitshuffle-LZ4", "HDF5 filter pipeline", "unfiltered".
  std::string segment_decoding(std::size_t i) const;

  // Reads frames [first, first+count) into buffer (count·frame_bytes() bytes), independently.
  void read_frames(std::uint64_t first, std::uint64_t count, void* buffer) const;
  // The same for the window [row, row+rows) × [col, col+cols) of each frame (count·rows·cols pixels).
  void read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col, std::uint64_t rows,
                   std::uint64_t cols, void* buffer) const;

 private:
  // One dataset of the stack: its frames are [first_frame, first_frame + frames) of the whole.
  struct Segment {
    std::string path;
    h5::Handle dataset;
    std::uint64_t first_frame = 0;
    std::uint64_t frames = 0;
    bool filtered = false;
    std::unique_ptr<ChunkReader> direct;  // compressed chunks decoded in-process, when it handles them
  };

  std::string file_path_;
  std::string dataset_path_;
  InputDescription description_;
  // The file before its datasets: members die in reverse order, and with the MPI-IO driver a file
  // closes only after every object in it.
  h5::Handle file_;
  std::vector<Segment> segments_;
  std::uint64_t frames_ = 0, rows_ = 0, cols_ = 0;
  std::uint64_t block_frames_ = 1;
  Decoder decoder_ = Decoder::automatic;
  PixelType pixel_type_ = PixelType::f64;
  h5::Handle file_type_;
  h5::Handle transfer_;
};

}  // namespace ptyroi
