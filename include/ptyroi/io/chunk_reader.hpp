#pragma once
// Direct reads of compressed chunks: H5Dread_chunk brings a chunk's stored bytes and
// ptyroi/io/chunk_codec.hpp decodes them in-process into the caller's buffer, instead of HDF5's
// filter pipeline and chunk cache. Used by PatternStack for the pipelines it handles:
//   [bitshuffle with LZ4] (filter 32008, cd_values[4] == 2: Eiger data),
//   [deflate] and [shuffle, deflate] (HDF5 filters 1 and 2: CXI writers, h5py's gzip),
// on 3-D chunked datasets of any chunk shape [c, n, m], when the stored type is the native type read.
// Everything else is read through H5Dread.
//
// Memory stays bounded whatever the chunk shape. Bitshuffle: one chunk's stored bytes, and only the
// LZ4 blocks that overlap the frames asked for are decoded (a chunk spanning many frames is decoded
// piece by piece, never held whole). Deflate streams cannot be entered in the middle: a deflate
// chunk is decoded whole and, when a frame layer of chunks fits in kDecodedCacheBytes, kept while
// later reads still need it; chunks of a larger layer (e.g. [K, 1, M]) are streamed instead: each
// keeps a zlib stream (one per byte plane when shuffled) positioned where the last read stopped,
// fed from the file at the chunk's address, so every chunk is decoded once per pass, in ~50 KiB.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ptyroi/io/chunk_codec.hpp"

namespace ptyroi {

// How compressed chunks are decoded: `automatic` decodes the pipelines above in-process (and reads
// everything else through HDF5), `hdf5` reads everything through HDF5's filter pipeline.
enum class Decoder { automatic, hdf5 };
// "auto" or "hdf5"; anything else throws UsageError naming --decoder.
Decoder parse_decoder(const std::string& name);
const char* decoder_name(Decoder decoder);

// Upper bound of the decoded chunks a reader keeps between reads, and of HDF5's chunk cache on the
// HDF5 path (PatternStack): caches hold what one read block needs, but never more than this.
constexpr std::size_t kDecodedCacheBytes = std::size_t{32} << 20;
// The bound in force: kDecodedCacheBytes, unless a test lowered it (to reach the streamed path on
// small files). Read when a stack is opened.
std::size_t decoded_cache_bytes();
void set_decoded_cache_bytes(std::size_t bytes);

class ChunkReader {
 public:
  enum class Pipeline { bitshuffle_lz4, deflate, shuffle_deflate };

  // The pipeline of `dataset` when this reader decodes it; otherwise false, with the reason in
  // *why (when given). `memory_type` is the type the caller reads (its native pixel type).
  static bool handles(hid_t dataset, hid_t memory_type, Pipeline* pipeline = nullptr, std::string* why = nullptr);
  // A reader of `dataset` (which must stay open while the reader is used), or nullptr when
  // handles() is false. `where` names the dataset in error messages ("dataset '/data' in 'f.h5'").
  static std::unique_ptr<ChunkReader> open(hid_t dataset, hid_t memory_type, const std::string& where);

  // Reads the box [start, start + extent) of the dataset into out, in C order (extent[0] ·
  // extent[1] · extent[2] elements), with H5Dread_chunk through `transfer`. Throws InputError for
  // a corrupt chunk, naming the dataset and the chunk, IoError when HDF5 fails.
  void read(const hsize_t start[3], const hsize_t extent[3], void* out, hid_t transfer);

  Pipeline pipeline() const { return pipeline_; }
  static const char* pipeline_name(Pipeline pipeline);
  const std::uint64_t* chunk_dims() const { return chunk_; }
  // Chunks read and decoded so far by this reader (tests: proof that the direct path ran).
  std::uint64_t chunks_decoded() const { return chunks_decoded_; }
  // True when deflate chunks are streamed (their frame layer does not fit kDecodedCacheBytes).
  bool streams_chunks() const { return streaming_; }

  ~ChunkReader();
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

 private:
  ChunkReader() = default;

 public:
  struct Stream;  // one streamed deflate chunk (public for the helpers in chunk_reader.cpp)

 private:
  struct Cached {
    std::uint64_t origin[3] = {0, 0, 0};
    std::uint64_t last_use = 0;
    std::vector<unsigned char> bytes;  // the whole decoded chunk
  };

  void read_chunk(const std::uint64_t origin[3], const std::uint64_t lo[3], const std::uint64_t hi[3],
                  const hsize_t start[3], const hsize_t extent[3], unsigned char* out, hid_t transfer);
  // Copies frames [lo[0], hi[0]) × rows × cols of the chunk at `origin` from `source`, which holds
  // the chunk's frames from chunk frame `source_frame` on, into out.
  void copy_box(const unsigned char* source, std::uint64_t source_frame, const std::uint64_t origin[3],
                const std::uint64_t lo[3], const std::uint64_t hi[3], const hsize_t start[3], const hsize_t extent[3],
                unsigned char* out) const;
  // The box through H5Dread (a chunk never written: HDF5 supplies the fill value).
  void read_through_hdf5(const std::uint64_t lo[3], const std::uint64_t hi[3], const hsize_t start[3],
                         const hsize_t extent[3], unsigned char* out, hid_t transfer) const;
  std::string chunk_text(const std::uint64_t origin[3]) const;
  // The box from a streamed chunk; false when the chunk cannot be streamed (not all its filters
  // applied, or its bytes not found in the file) and must be read whole.
  bool read_streamed(const std::uint64_t origin[3], const std::uint64_t lo[3], const std::uint64_t hi[3],
                     const hsize_t start[3], const hsize_t extent[3], unsigned char* out, hid_t transfer);
  Stream& stream_of(const std::uint64_t origin[3], std::uint64_t address, std::uint64_t stored);

  hid_t dataset_ = H5I_INVALID_HID;
  hid_t memory_type_ = H5I_INVALID_HID;
  std::string where_;
  Pipeline pipeline_ = Pipeline::bitshuffle_lz4;
  std::size_t element_bytes_ = 0;
  std::uint64_t dims_[3] = {0, 0, 0};
  std::uint64_t chunk_[3] = {1, 1, 1};
  std::uint64_t chunk_elements_ = 0;
  std::size_t cache_capacity_ = 0;  // decoded deflate chunks kept between reads
  std::uint64_t uses_ = 0;
  std::uint64_t chunks_decoded_ = 0;
  std::vector<Cached> cache_;
  std::vector<unsigned char> stored_;   // one chunk as stored
  std::vector<unsigned char> decoded_;  // frames of one chunk, when they cannot go straight to out
  std::vector<unsigned char> shuffled_;
  std::vector<unsigned char> skip_;  // stream bytes before the frames asked for
  codec::Workspace workspace_;
  // Streamed deflate chunks.
  bool streaming_ = false;
  int file_ = -1;                    // the dataset's file, read with pread
  std::int64_t base_ = -1;           // file offset of HDF5 address 0; -1 until checked
  std::size_t stream_capacity_ = 0;  // streams kept: two frame layers of chunks
  std::vector<std::unique_ptr<Stream>> streams_;
};

}  // namespace ptyroi
