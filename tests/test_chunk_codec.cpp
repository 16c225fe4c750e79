// The in-process chunk decoders (ptyroi/io/chunk_codec.hpp) against HDF5's own decoding: datasets
// are written by HDF5 through the real filters (Debian's bitshuffle plugin, HDF5's deflate and
// shuffle), every chunk is read raw with H5Dread_chunk and decoded here, and the bytes must equal
// what H5Dread returns through HDF5's filter pipeline.
#include "ptyroi/io/chunk_codec.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"

namespace ptyroi {
namespace {

using codec::Workspace;

// ---- the bit shuffle's definition, bit by bit ------------------------------------------------------
// Bit b of byte i of row p of the shuffled block is bit (p mod 8) of byte (p / 8) of element 8i + b.
std::vector<unsigned char> unshuffle_by_definition(const std::vector<unsigned char>& in, std::size_t elements,
                                                   std::size_t element_bytes) {
  std::vector<unsigned char> out(elements * element_bytes, 0);
  const std::size_t row_bytes = elements / 8;
  for (std::size_t p = 0; p < 8 * element_bytes; ++p) {
    for (std::size_t i = 0; i < row_bytes; ++i) {
      for (std::size_t b = 0; b < 8; ++b) {
        const int bit = (in[p * row_bytes + i] >> b) & 1;
        out[(8 * i + b) * element_bytes + p / 8] |= static_cast<unsigned char>(bit << (p % 8));
      }
    }
  }
  return out;
}

std::vector<unsigned char> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<unsigned char> bytes(n);
  for (auto& b : bytes) b = static_cast<unsigned char>(random());
  return bytes;
}

TEST(BitUnshuffle, EveryImplementationFollowsTheDefinition) {
  for (std::size_t element_bytes : {1, 2, 3, 4, 8, 16}) {
    // Rows of 1..17 bytes and the usual 8 KiB block: vector tiles plus leftover groups.
    for (std::size_t elements : {8, 16, 64, 120, 128, 136, 256, 264, 512, 1024, 2048, 8192 / 4}) {
      const auto in = random_bytes(elements * element_bytes, static_cast<unsigned>(elements * 31 + element_bytes));
      const auto expected = unshuffle_by_definition(in, elements, element_bytes);
      for (const auto implementation : {codec::Unshuffle::portable, codec::Unshuffle::sse2, codec::Unshuffle::avx2}) {
        if (!codec::unshuffle_available(implementation)) continue;
        std::vector<unsigned char> out(in.size());
        codec::bit_unshuffle(implementation, in.data(), out.data(), elements, element_bytes);
        ASSERT_EQ(out, expected) << codec::unshuffle_name(implementation) << ", " << element_bytes << "-byte elements, "
                                 << elements;
      }
      std::vector<unsigned char> best(in.size());
      codec::bit_unshuffle(in.data(), best.data(), elements, element_bytes);
      ASSERT_EQ(best, expected);
    }
  }
}

// The forward bit shuffle by the same definition, to make blocks from chosen elements.
std::vector<unsigned char> shuffle_by_definition(const std::vector<unsigned char>& elements_in, std::size_t elements,
                                                 std::size_t element_bytes) {
  std::vector<unsigned char> out(elements * element_bytes, 0);
  const std::size_t row_bytes = elements / 8;
  for (std::size_t e = 0; e < elements; ++e) {
    for (std::size_t p = 0; p < 8 * element_bytes; ++p) {
      const int bit = (elements_in[e * element_bytes + p / 8] >> (p % 8)) & 1;
      out[p * row_bytes + e / 8] |= static_cast<unsigned char>(bit << (e % 8));
    }
  }
  return out;
}

TEST(BitUnshuffle, SparseBlocksWithZeroBitPlanes) {
  // Photon counts: long runs of zero pixels and small values, so whole tiles of bit rows are zero
  // (the vectorised kernels write those without transposing) next to tiles that are not.
  for (std::size_t element_bytes : {2, 4, 8}) {
    for (std::size_t elements : {256, 512, 2048, 4096, 1032}) {
      std::mt19937 random(static_cast<unsigned>(elements + element_bytes));
      std::vector<unsigned char> values(elements * element_bytes, 0);
      for (std::size_t e = 0; e < elements; ++e) {
        const std::size_t region = (e / 256) % 4;  // zero, small counts, zero, full range
        std::uint64_t value = 0;
        if (region == 1) value = random() % 3 == 0 ? random() % 7 : 0;
        if (region == 3) value = (std::uint64_t{random()} << 32) | random();
        std::memcpy(values.data() + e * element_bytes, &value, element_bytes);
      }
      const auto shuffled = shuffle_by_definition(values, elements, element_bytes);
      ASSERT_EQ(unshuffle_by_definition(shuffled, elements, element_bytes), values);  // the two definitions agree
      for (const auto implementation : {codec::Unshuffle::portable, codec::Unshuffle::sse2, codec::Unshuffle::avx2}) {
        if (!codec::unshuffle_available(implementation)) continue;
        std::vector<unsigned char> out(values.size(), 0xEE);
        codec::bit_unshuffle(implementation, shuffled.data(), out.data(), elements, element_bytes);
        ASSERT_EQ(out, values) << codec::unshuffle_name(implementation) << ", " << element_bytes << "-byte elements, "
                               << elements;
      }
    }
  }
}

TEST(ByteUnshuffle, FollowsTheDefinition) {
  for (std::size_t element_bytes : {1, 2, 3, 4, 8}) {
    for (std::size_t bytes : {0, 1, 7, 8, 64, 65, 127, 128, 129, 1000, 4096, 4099}) {
      const auto in = random_bytes(bytes, static_cast<unsigned>(bytes + element_bytes));
      std::vector<unsigned char> out(bytes);
      codec::byte_unshuffle(in.data(), out.data(), bytes, element_bytes);
      const std::size_t n = bytes / element_bytes;
      for (std::size_t k = 0; k < bytes; ++k) {
        // Element k / E, byte k % E comes from plane k % E; the leftover bytes stay where they are.
        const std::size_t from = n <= 1 || k >= n * element_bytes ? k : (k % element_bytes) * n + k / element_bytes;
        ASSERT_EQ(out[k], in[from]) << element_bytes << "-byte elements, " << bytes << " bytes, byte " << k;
      }
    }
  }
}

TEST(ByteUnshuffle, ReversesHdf5Shuffle) {
  // 3 elements of 4 bytes stored as 000111222333 (byte j of element i at j*3 + i), plus 2 leftover.
  const std::vector<unsigned char> shuffled{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13};
  std::vector<unsigned char> out(shuffled.size());
  codec::byte_unshuffle(shuffled.data(), out.data(), shuffled.size(), 4);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], i);
}

// ---- files written by HDF5 through the real filters --------------------------------------------------

enum class Filter { bitshuffle_lz4, deflate, shuffle_deflate };

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/ptyroi_codec_" + std::to_string(getpid()) + "_" + name + ".h5";
}

// Photon-count-like data: mostly small values, some using every bit of the type.
std::vector<unsigned char> sample_data(hid_t type, std::size_t elements, unsigned seed) {
  const std::size_t element_bytes = H5Tget_size(type);
  std::vector<unsigned char> data(elements * element_bytes);
  std::mt19937_64 random(seed);
  const bool is_float = H5Tget_class(type) == H5T_FLOAT;
  for (std::size_t i = 0; i < elements; ++i) {
    unsigned char* p = data.data() + i * element_bytes;
    if (is_float) {
      const auto value = static_cast<float>(std::uniform_real_distribution<double>(-1e6, 1e6)(random));
      std::memcpy(p, &value, sizeof value);
      continue;
    }
    std::uint64_t value = random();
    const unsigned kind = static_cast<unsigned>(random() % 8);
    if (kind < 5)
      value %= 16;  // photon counts
    else if (kind < 7)
      value %= 70000;                       // bright pixels
    std::memcpy(p, &value, element_bytes);  // little-endian: the low bytes
  }
  return data;
}

struct Written {
  std::string path;
  std::vector<unsigned char> data;  // what was written, in the dataset's own order
};

Written write_dataset(const std::string& name, hid_t type, std::vector<hsize_t> dims, std::vector<hsize_t> chunk,
                      Filter filter, unsigned block_elements = 0) {
  Written written{temp_path(name), {}};
  std::size_t elements = 1;
  for (const hsize_t d : dims) elements *= d;
  written.data = sample_data(type, elements, static_cast<unsigned>(elements + dims.size()));
  h5::Handle file(H5Fcreate(written.path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  EXPECT_GE(file.get(), 0);
  h5::Handle create(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data());
  if (filter == Filter::bitshuffle_lz4) {
    const unsigned values[] = {block_elements, codec::kBitshuffleLz4};
    EXPECT_GE(H5Pset_filter(create.get(), codec::kFilterBitshuffle, H5Z_FLAG_MANDATORY, 2, values), 0);
  } else {
    if (filter == Filter::shuffle_deflate) H5Pset_shuffle(create.get());
    H5Pset_deflate(create.get(), 6);
  }
  h5::Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  h5::Handle dataset(H5Dcreate2(file.get(), "/data", type, space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT));
  EXPECT_GE(dataset.get(), 0) << "is the bitshuffle plugin installed? (apt-get install bitshuffle)";
  EXPECT_GE(H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, written.data.data()), 0);
  return written;
}

struct RawChunk {
  std::vector<unsigned char> bytes;
  std::uint32_t filter_mask = 0;
};

RawChunk read_raw_chunk(hid_t dataset, const std::vector<hsize_t>& offset) {
  RawChunk chunk;
  hsize_t stored = 0;
  EXPECT_GE(H5Dget_chunk_storage_size(dataset, offset.data(), &stored), 0);
  chunk.bytes.resize(stored);
  EXPECT_GE(H5Dread_chunk(dataset, H5P_DEFAULT, offset.data(), &chunk.filter_mask, chunk.bytes.data()), 0);
  return chunk;
}

// Decodes every chunk of /data in `path` and compares it, element for element, with what H5Dread
// returns through the filter pipeline for the same region (edge chunks: the part inside the
// dataset). Also decodes ranges of each chunk (bitshuffle) and compares them with the whole.
void expect_chunks_decode_like_hdf5(const std::string& path, Filter filter) {
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  h5::Handle dataset(H5Dopen2(file.get(), "/data", H5P_DEFAULT));
  h5::Handle type(H5Dget_type(dataset.get()));
  h5::Handle space(H5Dget_space(dataset.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), chunk(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  h5::Handle create(H5Dget_create_plist(dataset.get()));
  H5Pget_chunk(create.get(), rank, chunk.data());
  const std::size_t element_bytes = H5Tget_size(type.get());
  std::size_t total = 1, chunk_elements = 1;
  for (int d = 0; d < rank; ++d) {
    total *= dims[d];
    chunk_elements *= chunk[d];
  }
  std::vector<unsigned char> reference(total * element_bytes);
  ASSERT_GE(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, reference.data()), 0);

  Workspace workspace;
  std::vector<hsize_t> offset(static_cast<std::size_t>(rank), 0);
  std::size_t chunks = 0;
  for (;;) {
    const RawChunk raw = read_raw_chunk(dataset.get(), offset);
    ASSERT_EQ(raw.filter_mask, 0u);
    std::vector<unsigned char> decoded(chunk_elements * element_bytes);
    if (filter == Filter::bitshuffle_lz4) {
      codec::decode_bitshuffle_lz4(raw.bytes.data(), raw.bytes.size(), element_bytes, chunk_elements, 0, chunk_elements,
                                   decoded.data(), workspace);
      // Ranges: a few elements around block edges, a middle run, the tail.
      std::mt19937 random(static_cast<unsigned>(chunks));
      for (int trial = 0; trial < 20; ++trial) {
        const std::uint64_t first = random() % chunk_elements;
        const std::uint64_t count = trial % 4 == 0 ? chunk_elements - first : random() % (chunk_elements - first + 1);
        std::vector<unsigned char> part(count * element_bytes + 1, 0xA5);
        codec::decode_bitshuffle_lz4(raw.bytes.data(), raw.bytes.size(), element_bytes, chunk_elements, first, count,
                                     part.data(), workspace);
        ASSERT_EQ(0, std::memcmp(part.data(), decoded.data() + first * element_bytes, count * element_bytes))
            << "elements " << first << "+" << count;
        ASSERT_EQ(part.back(), 0xA5) << "wrote past the range";
      }
    } else if (filter == Filter::deflate) {
      codec::decode_deflate(raw.bytes.data(), raw.bytes.size(), decoded.data(), decoded.size(), workspace);
    } else {
      std::vector<unsigned char> shuffled(decoded.size());
      codec::decode_deflate(raw.bytes.data(), raw.bytes.size(), shuffled.data(), shuffled.size(), workspace);
      codec::byte_unshuffle(shuffled.data(), decoded.data(), shuffled.size(), element_bytes);
    }
    // Compare every element of the chunk that lies inside the dataset.
    std::vector<hsize_t> index(static_cast<std::size_t>(rank), 0);
    for (std::size_t e = 0; e < chunk_elements; ++e) {
      std::size_t rest = e, flat = 0;
      bool inside = true;
      for (int d = rank - 1; d >= 0; --d) {
        index[d] = rest % chunk[d];
        rest /= chunk[d];
      }
      for (int d = 0; d < rank; ++d) {
        const hsize_t at = offset[d] + index[d];
        inside = inside && at < dims[d];
        flat = flat * dims[d] + at;
      }
      if (!inside) continue;
      ASSERT_EQ(0,
                std::memcmp(decoded.data() + e * element_bytes, reference.data() + flat * element_bytes, element_bytes))
          << "chunk " << chunks << ", element " << e;
    }
    ++chunks;
    int d = rank - 1;
    for (; d >= 0; --d) {
      offset[d] += chunk[d];
      if (offset[d] < dims[d]) break;
      offset[d] = 0;
    }
    if (d < 0) break;
  }
  EXPECT_GT(chunks, 0u);
  std::remove(path.c_str());
}

struct Case {
  const char* name;
  hid_t (*type)();
  std::vector<hsize_t> dims, chunk;
  unsigned block = 0;  // bitshuffle block (elements), 0: the filter's default
};

hid_t u8() { return H5T_STD_U8LE; }
hid_t u16() { return H5T_STD_U16LE; }
hid_t u32() { return H5T_STD_U32LE; }
hid_t u64() { return H5T_STD_U64LE; }
hid_t i32() { return H5T_STD_I32LE; }
hid_t f32() { return H5T_IEEE_F32LE; }

std::vector<Case> cases() {
  return {
      {"u32_frames", u32, {6, 64, 48}, {1, 64, 48}},        // one frame per chunk, 3 blocks
      {"u32_4frames", u32, {10, 40, 36}, {4, 40, 36}},      // 4 frames per chunk, a partial edge chunk
      {"u32_rows", u32, {50, 3, 37}, {50, 1, 37}},          // [K, 1, M]: one row of every frame
      {"u32_odd", u32, {5, 7, 5}, {3, 7, 5}},               // 105 elements: 13 groups and a tail of 1
      {"u32_tiles", u32, {3, 70, 90}, {2, 32, 32}},         // tiles, edge chunks in every direction
      {"u32_block64", u32, {4, 33, 65}, {2, 33, 65}, 64},   // small blocks, last block and tail
      {"u8_frames", u8, {5, 61, 67}, {2, 61, 67}},          // 8173 elements: 1-byte elements, tail 5
      {"u16_frames", u16, {4, 129, 130}, {1, 129, 130}},    // 4 KiB blocks, leftover groups
      {"u64_frames", u64, {3, 31, 33}, {3, 31, 33}},        // 3069 elements, tail 5
      {"i32_frames", i32, {3, 64, 64}, {1, 64, 64}, 1024},  //
      {"f32_frames", f32, {3, 50, 50}, {3, 50, 50}},        //
      {"u32_tiny", u32, {2, 1, 3}, {2, 1, 3}},              // 6 elements: no block at all
  };
}

TEST(ChunkCodec, BitshuffleLz4ChunksDecodeLikeTheHdf5Plugin) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Written w =
        write_dataset(std::string("bs_") + c.name, c.type(), c.dims, c.chunk, Filter::bitshuffle_lz4, c.block);
    expect_chunks_decode_like_hdf5(w.path, Filter::bitshuffle_lz4);
  }
}

TEST(ChunkCodec, DeflateChunksDecodeLikeHdf5) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Written w = write_dataset(std::string("gz_") + c.name, c.type(), c.dims, c.chunk, Filter::deflate);
    expect_chunks_decode_like_hdf5(w.path, Filter::deflate);
    const Written s = write_dataset(std::string("sgz_") + c.name, c.type(), c.dims, c.chunk, Filter::shuffle_deflate);
    expect_chunks_decode_like_hdf5(s.path, Filter::shuffle_deflate);
  }
}

// ---- corrupt chunks: an InputError, never a read or write outside the buffers ------------------------

RawChunk first_chunk(Filter filter, std::size_t& elements) {
  const Written w = write_dataset(filter == Filter::bitshuffle_lz4 ? "bad_bs" : "bad_gz", H5T_STD_U32LE, {2, 64, 77},
                                  {1, 64, 77}, filter);
  h5::Handle file(H5Fopen(w.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  h5::Handle dataset(H5Dopen2(file.get(), "/data", H5P_DEFAULT));
  RawChunk chunk = read_raw_chunk(dataset.get(), {0, 0, 0});
  std::remove(w.path.c_str());
  elements = 64 * 77;  // 4928: 2 blocks of 2048, a last block of 832 and no tail
  return chunk;
}

void decode_copy(const std::vector<unsigned char>& bytes, std::size_t elements, Filter filter) {
  // An exact-size copy, so that AddressSanitizer sees any read past the end.
  std::vector<unsigned char> in(bytes);
  std::vector<unsigned char> out(elements * 4);
  Workspace workspace;
  if (filter == Filter::bitshuffle_lz4) {
    codec::decode_bitshuffle_lz4(in.data(), in.size(), 4, elements, 0, elements, out.data(), workspace);
  } else {
    codec::decode_deflate(in.data(), in.size(), out.data(), out.size(), workspace);
  }
}

TEST(ChunkCodec, TruncatedBitshuffleChunksThrow) {
  std::size_t elements = 0;
  const RawChunk chunk = first_chunk(Filter::bitshuffle_lz4, elements);
  ASSERT_NO_THROW(decode_copy(chunk.bytes, elements, Filter::bitshuffle_lz4));
  for (const std::size_t keep : {std::size_t{0}, std::size_t{5}, std::size_t{11}, std::size_t{12}, std::size_t{14},
                                 chunk.bytes.size() / 2, chunk.bytes.size() - 1}) {
    std::vector<unsigned char> cut(chunk.bytes.begin(), chunk.bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    EXPECT_THROW(decode_copy(cut, elements, Filter::bitshuffle_lz4), InputError) << keep << " bytes kept";
  }
}

TEST(ChunkCodec, WrongBitshuffleHeadersThrow) {
  std::size_t elements = 0;
  const RawChunk chunk = first_chunk(Filter::bitshuffle_lz4, elements);
  auto with = [&](std::size_t at, unsigned char value) {
    std::vector<unsigned char> bytes = chunk.bytes;
    bytes[at] = value;
    return bytes;
  };
  // Decoded size one element too many / not a whole element / wildly large.
  std::vector<unsigned char> bigger = chunk.bytes;
  bigger[7] = static_cast<unsigned char>(bigger[7] + 4);
  EXPECT_THROW(decode_copy(bigger, elements, Filter::bitshuffle_lz4), InputError);
  EXPECT_THROW(decode_copy(with(7, 0x01), elements, Filter::bitshuffle_lz4), InputError);
  EXPECT_THROW(decode_copy(with(0, 0xFF), elements, Filter::bitshuffle_lz4), InputError);
  // Block size not a multiple of 8 elements (8192 -> 8196 bytes, 2049 elements).
  EXPECT_THROW(decode_copy(with(11, 0x04), elements, Filter::bitshuffle_lz4), InputError);
  // The first block's compressed size: zero, and past the end of the chunk.
  std::vector<unsigned char> empty_block = chunk.bytes;
  std::memset(empty_block.data() + 12, 0, 4);
  EXPECT_THROW(decode_copy(empty_block, elements, Filter::bitshuffle_lz4), InputError);
  EXPECT_THROW(decode_copy(with(12, 0x7F), elements, Filter::bitshuffle_lz4), InputError);
  // A block size twice the real one: the LZ4 data then decodes to too few bytes.
  EXPECT_THROW(decode_copy(with(10, 0x40), elements, Filter::bitshuffle_lz4), InputError);
}

TEST(ChunkCodec, CorruptDeflateChunksThrow) {
  std::size_t elements = 0;
  const RawChunk chunk = first_chunk(Filter::deflate, elements);
  ASSERT_NO_THROW(decode_copy(chunk.bytes, elements, Filter::deflate));
  for (const std::size_t keep : {std::size_t{0}, std::size_t{2}, chunk.bytes.size() / 2, chunk.bytes.size() - 1}) {
    std::vector<unsigned char> cut(chunk.bytes.begin(), chunk.bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    EXPECT_THROW(decode_copy(cut, elements, Filter::deflate), InputError) << keep << " bytes kept";
  }
  std::vector<unsigned char> flipped = chunk.bytes;
  flipped[flipped.size() / 2] ^= 0x10;  // caught by the stream's structure or its Adler-32
  EXPECT_THROW(decode_copy(flipped, elements, Filter::deflate), InputError);
  // Expecting more or fewer bytes than the stream holds.
  std::vector<unsigned char> out(elements * 4 + 4);
  Workspace workspace;
  EXPECT_THROW(codec::decode_deflate(chunk.bytes.data(), chunk.bytes.size(), out.data(), out.size(), workspace),
               InputError);
  EXPECT_THROW(codec::decode_deflate(chunk.bytes.data(), chunk.bytes.size(), out.data(), elements * 4 - 4, workspace),
               InputError);
}

}  // namespace
}  // namespace ptyroi
