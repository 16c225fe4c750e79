#pragma once
// Decoders for single HDF5 chunks as they are stored in the file, so that compressed stacks can be
// read with H5Dread_chunk and decoded in-process (src/io/chunk_reader.cpp) instead of through
// HDF5's filter pipeline. Pure functions: no HDF5, no MPI. Every decoder checks its input against
// the sizes it is told and throws ptyroi::InputError with a one-line message on a corrupt or short
// chunk; none reads or writes outside the buffers it is given.
//
// Formats (facts from the filters' specifications and sources, implemented here independently):
// - bitshuffle-LZ4, HDF5 filter 32008 with cd_values[4] == 2 (what Eiger detectors write): a 12-byte
//   header, the decoded size in bytes as a big-endian uint64 and the block size in bytes as a
//   big-endian uint32; then for each whole block of that size, and for one last block of the
//   remaining elements rounded down to a multiple of 8, a big-endian uint32 compressed size and that
//   many bytes of LZ4 (raw block format) of the bit-shuffled block; then the last (elements mod 8)
//   elements, copied verbatim. A block size below one element means the filter's default.
// - Bit shuffle of a block of n elements (n a multiple of 8) of E bytes: 8·E rows of n/8 bytes; bit
//   b of byte i of row p is bit (p mod 8) of byte (p / 8) of element 8·i + b (bits counted from the
//   least significant).
// - HDF5 shuffle, filter 2 (cd_values[0] = E): byte j of element i is stored at j·n + i, n = size/E;
//   the size mod E trailing bytes are copied verbatim (nothing moves when E or n is 1).
// - deflate, filter 1: one zlib stream (RFC 1950) of the whole chunk.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ptyroi::codec {

constexpr unsigned kFilterDeflate = 1;
constexpr unsigned kFilterShuffle = 2;
constexpr unsigned kFilterBitshuffle = 32008;
constexpr unsigned kBitshuffleLz4 = 2;  // cd_values[4] of filter 32008: bit shuffle, then LZ4

// The elements per block the bitshuffle filter uses when none is given: 8 KiB worth, a multiple
// of 8, at least 128.
std::uint64_t bitshuffle_default_block(std::size_t element_bytes);

// The 12-byte header of a bitshuffle-LZ4 chunk.
struct BitshuffleHeader {
  std::uint64_t decoded_bytes = 0;   // the chunk once decoded
  std::uint64_t block_elements = 0;  // elements per whole block (a multiple of 8)
};
// Throws InputError when the chunk is shorter than the header, or the sizes do not fit elements of
// element_bytes bytes.
BitshuffleHeader read_bitshuffle_header(const void* chunk, std::size_t chunk_bytes, std::size_t element_bytes);

// Reverses the bit shuffle of one block: `elements` (a multiple of 8) elements of element_bytes
// bytes from `in` to `out` (not overlapping), with the fastest implementation this CPU has:
// vectorised on x86-64 (SSE2 always, AVX2 chosen at run time) for even element sizes, portable
// otherwise and on other CPUs.
void bit_unshuffle(const void* in, void* out, std::size_t elements, std::size_t element_bytes);
// The same with a given implementation (tests, benchmarks); one the CPU lacks throws IoError. A
// vectorised one falls back to the portable code for element sizes it does not handle.
enum class Unshuffle { portable, sse2, avx2 };
bool unshuffle_available(Unshuffle implementation);
Unshuffle best_unshuffle();
const char* unshuffle_name(Unshuffle implementation);
void bit_unshuffle(Unshuffle implementation, const void* in, void* out, std::size_t elements,
                   std::size_t element_bytes);

// Scratch memory reused from one call to the next (one LZ4 block, a deflate decompressor).
class Workspace {
 public:
  Workspace();
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  Workspace(Workspace&&) noexcept;
  Workspace& operator=(Workspace&&) noexcept;

  unsigned char* block(std::size_t bytes);  // at least `bytes` bytes, kept for the next call
  void* deflate_decompressor();             // a libdeflate decompressor, made on first use

 private:
  std::vector<unsigned char> block_;
  struct Deflate;
  std::unique_ptr<Deflate> deflate_;
};

// Decodes elements [first, first + count) of a bitshuffle-LZ4 chunk of `chunk_elements` elements
// into `out` (count · element_bytes bytes). Only the LZ4 blocks that overlap the range are
// decompressed; whole blocks inside it are unshuffled straight into `out`. Throws InputError when
// the header's size is not chunk_elements · element_bytes, or on any corrupt or short block.
void decode_bitshuffle_lz4(const void* chunk, std::size_t chunk_bytes, std::size_t element_bytes,
                           std::uint64_t chunk_elements, std::uint64_t first, std::uint64_t count, void* out,
                           Workspace& workspace);

// Decodes a zlib-format (HDF5 deflate) chunk into `out`, which it must fill exactly
// (decoded_bytes). Throws InputError on a corrupt stream, a bad checksum or a different size.
void decode_deflate(const void* chunk, std::size_t chunk_bytes, void* out, std::size_t decoded_bytes,
                    Workspace& workspace);

// Reverses HDF5's byte shuffle of `bytes` bytes of element_bytes-byte elements (not overlapping).
void byte_unshuffle(const void* in, void* out, std::size_t bytes, std::size_t element_bytes);

}  // namespace ptyroi::codec
