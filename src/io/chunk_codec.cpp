#include "ptyroi/io/chunk_codec.hpp"

#include <libdeflate.h>
#include <lz4.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "ptyroi/core/error.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#define PTYROI_CODEC_X86 1
#include <immintrin.h>
#endif

namespace ptyroi::codec {

namespace {

std::uint64_t read_be(const unsigned char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | p[i];
  return value;
}

std::string text(std::uint64_t value) { return std::to_string(value); }

// ---- bit unshuffle, portable ------------------------------------------------------------------

// Transposes the 8x8 bit matrix held in x (bit 8r + c is row r, column c): afterwards bit 8c + r
// holds what bit 8r + c held. Three exchanges of off-diagonal sub-blocks (2x2, 4x4, 8x8).
inline std::uint64_t transpose_8x8(std::uint64_t x) {
  std::uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x ^= t ^ (t << 28);
  return x;
}

// Elements 8g .. 8g+7 for g in [group_begin, group_end) of a block whose rows are row_bytes long.
void unshuffle_groups_portable(const unsigned char* in, unsigned char* out, std::size_t row_bytes,
                               std::size_t element_bytes, std::size_t group_begin, std::size_t group_end) {
  for (std::size_t g = group_begin; g < group_end; ++g) {
    unsigned char* elements = out + 8 * g * element_bytes;
    for (std::size_t j = 0; j < element_bytes; ++j) {
      // Byte c of x: row 8j + c at column g, i.e. bit c of byte j of the 8 elements.
      const unsigned char* rows = in + 8 * j * row_bytes + g;
      std::uint64_t x = 0;
      for (std::size_t c = 0; c < 8; ++c) x |= std::uint64_t{rows[c * row_bytes]} << (8 * c);
      x = transpose_8x8(x);
      // Now byte b of x is byte j of element 8g + b.
      for (std::size_t b = 0; b < 8; ++b) elements[b * element_bytes + j] = static_cast<unsigned char>(x >> (8 * b));
    }
  }
}

#ifdef PTYROI_CODEC_X86

// ---- bit unshuffle, SSE2 (every x86-64 CPU) ----------------------------------------------------
//
// A tile is 16 rows (two bytes of every element: rows 8j .. 8j+15) by 16 columns (16 groups of 8
// elements). Transposing its bytes gives, for each group t, one vector whose byte i is row i at
// column t; bit b of those 16 bytes is bits 8j .. 8j+15 of element 8t + b, which movemask collects
// (from bit 7, so the vector is doubled, i.e. shifted left in every byte, between the 8 elements).

// In-register transpose of a 16x16 byte matrix (r[i] is row i; afterwards r[t] is column t), in
// four rounds of interleaving: bytes, 16-bit, 32-bit, 64-bit pairs.
inline void transpose_16x16(__m128i r[16]) {
  __m128i a[16], b[16];
  for (std::size_t k = 0; k < 8; ++k) {
    a[k] = _mm_unpacklo_epi8(r[2 * k], r[2 * k + 1]);  // columns 0..7 of rows 2k, 2k+1
    a[k + 8] = _mm_unpackhi_epi8(r[2 * k], r[2 * k + 1]);
  }
  for (std::size_t h = 0; h < 2; ++h) {  // columns 8h ..
    for (std::size_t m = 0; m < 4; ++m) {
      b[8 * h + m] = _mm_unpacklo_epi16(a[8 * h + 2 * m], a[8 * h + 2 * m + 1]);  // rows 4m..4m+3
      b[8 * h + 4 + m] = _mm_unpackhi_epi16(a[8 * h + 2 * m], a[8 * h + 2 * m + 1]);
    }
  }
  for (std::size_t q = 0; q < 4; ++q) {  // columns 4q ..
    for (std::size_t n = 0; n < 2; ++n) {
      a[4 * q + n] = _mm_unpacklo_epi32(b[4 * q + 2 * n], b[4 * q + 2 * n + 1]);  // rows 8n..8n+7
      a[4 * q + 2 + n] = _mm_unpackhi_epi32(b[4 * q + 2 * n], b[4 * q + 2 * n + 1]);
    }
  }
  for (std::size_t p = 0; p < 8; ++p) {  // columns 2p, 2p+1
    r[2 * p] = _mm_unpacklo_epi64(a[2 * p], a[2 * p + 1]);
    r[2 * p + 1] = _mm_unpackhi_epi64(a[2 * p], a[2 * p + 1]);
  }
}

inline void store_u16(unsigned char* p, int bits) {
  const auto value = static_cast<std::uint16_t>(bits);
  std::memcpy(p, &value, sizeof value);
}

inline void store_u32(unsigned char* p, int bits) {
  const auto value = static_cast<std::uint32_t>(bits);
  std::memcpy(p, &value, sizeof value);
}

// Even element sizes.
void unshuffle_sse2(const unsigned char* in, unsigned char* out, std::size_t elements, std::size_t element_bytes) {
  const std::size_t row_bytes = elements / 8;
  const std::size_t tiles = row_bytes / 16;
  for (std::size_t tile = 0; tile < tiles; ++tile) {
    const std::size_t g0 = 16 * tile;
    for (std::size_t pair = 0; pair < element_bytes / 2; ++pair) {
      __m128i v[16];
      __m128i any = _mm_setzero_si128();
      for (std::size_t i = 0; i < 16; ++i) {
        v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + (16 * pair + i) * row_bytes + g0));
        any = _mm_or_si128(any, v[i]);
      }
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(any, _mm_setzero_si128())) == 0xFFFF) {
        // These two bytes of these 128 elements are all zero: no transpose needed.
        unsigned char* group = out + 8 * g0 * element_bytes + 2 * pair;
        for (std::size_t e = 0; e < std::size_t{16} * 8; ++e) store_u16(group + e * element_bytes, 0);
        continue;
      }
      transpose_16x16(v);
      for (std::size_t t = 0; t < 16; ++t) {
        unsigned char* group = out + 8 * (g0 + t) * element_bytes + 2 * pair;
        __m128i x = v[t];
        for (std::size_t b = 8; b-- > 0;) {
          store_u16(group + b * element_bytes, _mm_movemask_epi8(x));
          x = _mm_add_epi8(x, x);
        }
      }
    }
  }
  unshuffle_groups_portable(in, out, row_bytes, element_bytes, 16 * tiles, row_bytes);
}

// ---- byte unshuffle (HDF5 shuffle filter), SSE2 --------------------------------------------------
// 16 elements at a time: one 16-byte load from each of the element_bytes planes, interleaved
// bytes, then 16-bit, then 32-bit pairs. Returns how many elements it wrote (a multiple of 16).
std::size_t byte_unshuffle_sse2(const unsigned char* in, unsigned char* out, std::size_t n, std::size_t element_bytes) {
  const std::size_t whole = n / 16 * 16;
  auto load = [&](std::size_t plane, std::size_t i) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + plane * n + i));
  };
  auto store = [&](std::size_t i, std::size_t k, __m128i v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i * element_bytes + 16 * k), v);
  };
  for (std::size_t i = 0; i < whole; i += 16) {
    if (element_bytes == 2) {
      const __m128i p0 = load(0, i), p1 = load(1, i);
      store(i, 0, _mm_unpacklo_epi8(p0, p1));
      store(i, 1, _mm_unpackhi_epi8(p0, p1));
    } else if (element_bytes == 4) {
      const __m128i p0 = load(0, i), p1 = load(1, i), p2 = load(2, i), p3 = load(3, i);
      const __m128i a = _mm_unpacklo_epi8(p0, p1), b = _mm_unpackhi_epi8(p0, p1);  // bytes 0, 1
      const __m128i c = _mm_unpacklo_epi8(p2, p3), d = _mm_unpackhi_epi8(p2, p3);  // bytes 2, 3
      store(i, 0, _mm_unpacklo_epi16(a, c));
      store(i, 1, _mm_unpackhi_epi16(a, c));
      store(i, 2, _mm_unpacklo_epi16(b, d));
      store(i, 3, _mm_unpackhi_epi16(b, d));
    } else {
      __m128i pair[8], quad[8];
      for (std::size_t k = 0; k < 4; ++k) {  // bytes 2k, 2k+1 of elements 0..7 and 8..15
        const __m128i lo = load(2 * k, i), hi = load(2 * k + 1, i);
        pair[k] = _mm_unpacklo_epi8(lo, hi);
        pair[4 + k] = _mm_unpackhi_epi8(lo, hi);
      }
      for (std::size_t h = 0; h < 2; ++h) {    // elements 8h .. 8h+7
        for (std::size_t k = 0; k < 2; ++k) {  // bytes 4k .. 4k+3
          quad[4 * h + 2 * k] = _mm_unpacklo_epi16(pair[4 * h + 2 * k], pair[4 * h + 2 * k + 1]);      // elements +0..3
          quad[4 * h + 2 * k + 1] = _mm_unpackhi_epi16(pair[4 * h + 2 * k], pair[4 * h + 2 * k + 1]);  // +4..7
        }
        for (std::size_t q = 0; q < 2; ++q) {  // elements 8h + 4q ..
          store(i, 4 * h + 2 * q, _mm_unpacklo_epi32(quad[4 * h + q], quad[4 * h + 2 + q]));
          store(i, 4 * h + 2 * q + 1, _mm_unpackhi_epi32(quad[4 * h + q], quad[4 * h + 2 + q]));
        }
      }
    }
  }
  return whole;
}

// ---- bit unshuffle, AVX2 (chosen at run time) ----------------------------------------------------
//
// The same tiles, two at once: the low 128-bit lane holds one tile, the high lane another, and the
// 256-bit interleaves work lane by lane. For 4- and 8-byte elements the lanes are rows 32s .. 32s+15
// and 32s+16 .. 32s+31 (movemask then yields 4 whole bytes of an element); for 2-byte elements they
// are columns g0 .. g0+15 and g0+16 .. g0+31 of rows 0 .. 15 (two elements, 16 bits each).

__attribute__((target("avx2"))) inline void transpose_16x16_lanes(__m256i r[16]) {
  __m256i a[16], b[16];
  for (std::size_t k = 0; k < 8; ++k) {
    a[k] = _mm256_unpacklo_epi8(r[2 * k], r[2 * k + 1]);
    a[k + 8] = _mm256_unpackhi_epi8(r[2 * k], r[2 * k + 1]);
  }
  for (std::size_t h = 0; h < 2; ++h) {
    for (std::size_t m = 0; m < 4; ++m) {
      b[8 * h + m] = _mm256_unpacklo_epi16(a[8 * h + 2 * m], a[8 * h + 2 * m + 1]);
      b[8 * h + 4 + m] = _mm256_unpackhi_epi16(a[8 * h + 2 * m], a[8 * h + 2 * m + 1]);
    }
  }
  for (std::size_t q = 0; q < 4; ++q) {
    for (std::size_t n = 0; n < 2; ++n) {
      a[4 * q + n] = _mm256_unpacklo_epi32(b[4 * q + 2 * n], b[4 * q + 2 * n + 1]);
      a[4 * q + 2 + n] = _mm256_unpackhi_epi32(b[4 * q + 2 * n], b[4 * q + 2 * n + 1]);
    }
  }
  for (std::size_t p = 0; p < 8; ++p) {
    r[2 * p] = _mm256_unpacklo_epi64(a[2 * p], a[2 * p + 1]);
    r[2 * p + 1] = _mm256_unpackhi_epi64(a[2 * p], a[2 * p + 1]);
  }
}

__attribute__((target("avx2"))) inline __m256i load_lanes(const unsigned char* low, const unsigned char* high) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(low));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(high));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

// Element sizes that are a multiple of 4.
__attribute__((target("avx2"))) void unshuffle_avx2_wide(const unsigned char* in, unsigned char* out,
                                                         std::size_t elements, std::size_t element_bytes) {
  const std::size_t row_bytes = elements / 8;
  const std::size_t tiles = row_bytes / 16;
  for (std::size_t tile = 0; tile < tiles; ++tile) {
    const std::size_t g0 = 16 * tile;
    for (std::size_t quad = 0; quad < element_bytes / 4; ++quad) {
      __m256i v[16];
      const unsigned char* rows = in + 32 * quad * row_bytes + g0;
      __m256i any = _mm256_setzero_si256();
      for (std::size_t i = 0; i < 16; ++i) {
        v[i] = load_lanes(rows + i * row_bytes, rows + (16 + i) * row_bytes);
        any = _mm256_or_si256(any, v[i]);
      }
      if (_mm256_testz_si256(any, any) != 0) {
        // Bits 32·quad .. 32·quad+31 of these 128 elements are all zero (high bits of photon counts,
        // dark areas of a pattern): no transpose needed.
        unsigned char* group = out + 8 * g0 * element_bytes + 4 * quad;
        if (element_bytes == 4) {
          std::memset(group, 0, std::size_t{16} * 8 * 4);
        } else {
          for (std::size_t e = 0; e < std::size_t{16} * 8; ++e) store_u32(group + e * element_bytes, 0);
        }
        continue;
      }
      transpose_16x16_lanes(v);
      for (std::size_t t = 0; t < 16; ++t) {
        unsigned char* group = out + 8 * (g0 + t) * element_bytes + 4 * quad;
        __m256i x = v[t];
        for (std::size_t b = 8; b-- > 0;) {
          store_u32(group + b * element_bytes, _mm256_movemask_epi8(x));
          x = _mm256_add_epi8(x, x);
        }
      }
    }
  }
  unshuffle_groups_portable(in, out, row_bytes, element_bytes, 16 * tiles, row_bytes);
}

// 2-byte elements.
__attribute__((target("avx2"))) void unshuffle_avx2_u16(const unsigned char* in, unsigned char* out,
                                                        std::size_t elements) {
  const std::size_t row_bytes = elements / 8;
  const std::size_t tiles = row_bytes / 32;
  for (std::size_t tile = 0; tile < tiles; ++tile) {
    const std::size_t g0 = 32 * tile;
    __m256i v[16];
    __m256i any = _mm256_setzero_si256();
    for (std::size_t i = 0; i < 16; ++i) {
      v[i] = load_lanes(in + i * row_bytes + g0, in + i * row_bytes + g0 + 16);
      any = _mm256_or_si256(any, v[i]);
    }
    if (_mm256_testz_si256(any, any) != 0) {  // 256 elements of zero
      std::memset(out + 8 * g0 * 2, 0, std::size_t{32} * 8 * 2);
      continue;
    }
    transpose_16x16_lanes(v);
    for (std::size_t t = 0; t < 16; ++t) {
      unsigned char* low = out + 8 * (g0 + t) * 2;
      unsigned char* high = out + 8 * (g0 + 16 + t) * 2;
      __m256i x = v[t];
      for (std::size_t b = 8; b-- > 0;) {
        const auto bits = static_cast<std::uint32_t>(_mm256_movemask_epi8(x));
        store_u16(low + 2 * b, static_cast<int>(bits & 0xFFFFu));
        store_u16(high + 2 * b, static_cast<int>(bits >> 16));
        x = _mm256_add_epi8(x, x);
      }
    }
  }
  unshuffle_groups_portable(in, out, row_bytes, 2, 32 * tiles, row_bytes);
}

#endif  // PTYROI_CODEC_X86

Unshuffle detect_unshuffle() {
#ifdef PTYROI_CODEC_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return Unshuffle::avx2;
  return Unshuffle::sse2;
#else
  return Unshuffle::portable;
#endif
}

const Unshuffle kBestUnshuffle = detect_unshuffle();

}  // namespace

// ---- public functions ------------------------------------------------------------------------------

std::uint64_t bitshuffle_default_block(std::size_t element_bytes) {
  const std::uint64_t elements = (8192 / std::max<std::size_t>(element_bytes, 1)) / 8 * 8;
  return std::max<std::uint64_t>(elements, 128);
}

BitshuffleHeader read_bitshuffle_header(const void* chunk, std::size_t chunk_bytes, std::size_t element_bytes) {
  if (chunk_bytes < 12) {
    throw InputError("bitshuffle-LZ4 chunk of " + text(chunk_bytes) + " bytes is shorter than its 12-byte header");
  }
  const auto* bytes = static_cast<const unsigned char*>(chunk);
  BitshuffleHeader header;
  header.decoded_bytes = read_be(bytes, 8);
  const std::uint64_t block_bytes = read_be(bytes + 8, 4);
  if (element_bytes == 0 || header.decoded_bytes % element_bytes != 0) {
    throw InputError("bitshuffle-LZ4 chunk header gives " + text(header.decoded_bytes) +
                     " decoded bytes, not a whole number of " + text(element_bytes) + "-byte elements");
  }
  header.block_elements = block_bytes / element_bytes;
  // As the filter does: a block of no element means the default block.
  if (header.block_elements == 0) header.block_elements = bitshuffle_default_block(element_bytes);
  if (header.block_elements % 8 != 0 || block_bytes % element_bytes != 0) {
    throw InputError("bitshuffle-LZ4 chunk header gives a block of " + text(block_bytes) +
                     " bytes, not a multiple of 8 " + text(element_bytes) + "-byte elements");
  }
  return header;
}

bool unshuffle_available(Unshuffle implementation) {
  switch (implementation) {
    case Unshuffle::portable:
      return true;
    case Unshuffle::sse2:
      return kBestUnshuffle != Unshuffle::portable;
    case Unshuffle::avx2:
      return kBestUnshuffle == Unshuffle::avx2;
  }
  return false;
}

Unshuffle best_unshuffle() { return kBestUnshuffle; }

const char* unshuffle_name(Unshuffle implementation) {
  switch (implementation) {
    case Unshuffle::avx2:
      return "avx2";
    case Unshuffle::sse2:
      return "sse2";
    case Unshuffle::portable:
      break;
  }
  return "portable";
}

void bit_unshuffle(Unshuffle implementation, const void* in, void* out, std::size_t elements,
                   std::size_t element_bytes) {
  if (!unshuffle_available(implementation)) {
    throw IoError(std::string("the ") + unshuffle_name(implementation) + " bit unshuffle needs a CPU this one is not");
  }
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
#ifdef PTYROI_CODEC_X86
  if (implementation == Unshuffle::avx2 && element_bytes % 4 == 0) {
    return unshuffle_avx2_wide(src, dst, elements, element_bytes);
  }
  if (implementation == Unshuffle::avx2 && element_bytes == 2) return unshuffle_avx2_u16(src, dst, elements);
  if (implementation != Unshuffle::portable && element_bytes % 2 == 0) {
    return unshuffle_sse2(src, dst, elements, element_bytes);
  }
#endif
  unshuffle_groups_portable(src, dst, elements / 8, element_bytes, 0, elements / 8);
}

void bit_unshuffle(const void* in, void* out, std::size_t elements, std::size_t element_bytes) {
  bit_unshuffle(kBestUnshuffle, in, out, elements, element_bytes);
}

struct Workspace::Deflate {
  libdeflate_decompressor* decompressor = nullptr;
  ~Deflate() {
    if (decompressor != nullptr) libdeflate_free_decompressor(decompressor);
  }
};

Workspace::Workspace() = default;
Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

unsigned char* Workspace::block(std::size_t bytes) {
  if (block_.size() < bytes) block_.resize(bytes);
  return block_.data();
}

void* Workspace::deflate_decompressor() {
  if (!deflate_) deflate_ = std::make_unique<Deflate>();
  if (deflate_->decompressor == nullptr) {
    deflate_->decompressor = libdeflate_alloc_decompressor();
    if (deflate_->decompressor == nullptr) throw IoError("cannot allocate a deflate decompressor (out of memory)");
  }
  return deflate_->decompressor;
}

void decode_bitshuffle_lz4(const void* chunk, std::size_t chunk_bytes, std::size_t element_bytes,
                           std::uint64_t chunk_elements, std::uint64_t first, std::uint64_t count, void* out,
                           Workspace& workspace) {
  const BitshuffleHeader header = read_bitshuffle_header(chunk, chunk_bytes, element_bytes);
  if (header.decoded_bytes != chunk_elements * element_bytes) {
    throw InputError("bitshuffle-LZ4 chunk header gives " + text(header.decoded_bytes) + " decoded bytes; expected " +
                     text(chunk_elements * element_bytes) + " (" + text(chunk_elements) + " elements of " +
                     text(element_bytes) + " bytes)");
  }
  if (first > chunk_elements || count > chunk_elements - first) {
    throw InputError("elements " + text(first) + "+" + text(count) + " requested of a chunk of " +
                     text(chunk_elements));
  }
  const auto* bytes = static_cast<const unsigned char*>(chunk);
  auto* dst = static_cast<unsigned char*>(out);
  const std::uint64_t end = first + count;
  const std::uint64_t block = header.block_elements;
  const std::uint64_t whole_blocks = chunk_elements / block;
  const std::uint64_t last_block = (chunk_elements % block) / 8 * 8;
  const std::uint64_t blocks = whole_blocks + (last_block > 0 ? 1 : 0);
  const std::uint64_t largest = whole_blocks > 0 ? block : last_block;
  if (largest * element_bytes > static_cast<std::uint64_t>(INT_MAX)) {
    throw InputError("bitshuffle-LZ4 chunk has blocks of " + text(largest * element_bytes) +
                     " bytes, more than LZ4 blocks can hold");
  }
  // One buffer for the LZ4 output, one for a block that only partly overlaps the range.
  unsigned char* lz4_out = nullptr;
  unsigned char* partial = nullptr;
  std::size_t pos = 12;
  std::uint64_t element = 0;
  for (std::uint64_t k = 0; k < blocks && element < end; ++k) {
    const std::uint64_t n = k < whole_blocks ? block : last_block;
    const auto block_bytes = static_cast<std::size_t>(n * element_bytes);
    if (chunk_bytes - pos < 4) {
      throw InputError("bitshuffle-LZ4 chunk of " + text(chunk_bytes) + " bytes ends inside the size of block " +
                       text(k) + " of " + text(blocks));
    }
    const std::uint64_t compressed = read_be(bytes + pos, 4);
    pos += 4;
    if (compressed > chunk_bytes - pos) {
      throw InputError("bitshuffle-LZ4 block " + text(k) + " of " + text(blocks) + " claims " + text(compressed) +
                       " compressed bytes but the chunk has " + text(chunk_bytes - pos) + " left");
    }
    if (element + n > first) {
      if (lz4_out == nullptr) {
        lz4_out = workspace.block(2 * static_cast<std::size_t>(largest * element_bytes));
        partial = lz4_out + largest * element_bytes;
      }
      const int decoded =
          LZ4_decompress_safe(reinterpret_cast<const char*>(bytes + pos), reinterpret_cast<char*>(lz4_out),
                              static_cast<int>(compressed), static_cast<int>(block_bytes));
      if (decoded != static_cast<int>(block_bytes)) {
        throw InputError("bitshuffle-LZ4 block " + text(k) + " of " + text(blocks) + " is corrupt (LZ4 " +
                         (decoded < 0 ? std::string("error") : "gave " + std::to_string(decoded) + " bytes") +
                         "; expected " + text(block_bytes) + ")");
      }
      if (element >= first && element + n <= end) {
        bit_unshuffle(lz4_out, dst + (element - first) * element_bytes, static_cast<std::size_t>(n), element_bytes);
      } else {
        bit_unshuffle(lz4_out, partial, static_cast<std::size_t>(n), element_bytes);
        const std::uint64_t from = std::max(first, element);
        const std::uint64_t to = std::min(end, element + n);
        std::memcpy(dst + (from - first) * element_bytes, partial + (from - element) * element_bytes,
                    static_cast<std::size_t>((to - from) * element_bytes));
      }
    }
    pos += static_cast<std::size_t>(compressed);
    element += n;
  }
  // The last elements (fewer than 8) are stored as they are.
  if (end > element && element == whole_blocks * block + last_block) {
    const std::uint64_t tail = chunk_elements - element;
    if (tail * element_bytes > chunk_bytes - pos) {
      throw InputError("bitshuffle-LZ4 chunk of " + text(chunk_bytes) + " bytes ends inside its last " + text(tail) +
                       " unshuffled elements");
    }
    const std::uint64_t from = std::max(first, element);
    std::memcpy(dst + (from - first) * element_bytes, bytes + pos + (from - element) * element_bytes,
                static_cast<std::size_t>((end - from) * element_bytes));
  }
}

void decode_deflate(const void* chunk, std::size_t chunk_bytes, void* out, std::size_t decoded_bytes,
                    Workspace& workspace) {
  auto* decompressor = static_cast<libdeflate_decompressor*>(workspace.deflate_decompressor());
  std::size_t produced = 0;
  const libdeflate_result result =
      libdeflate_zlib_decompress(decompressor, chunk, chunk_bytes, out, decoded_bytes, &produced);
  if (result == LIBDEFLATE_INSUFFICIENT_SPACE) {
    throw InputError("deflate chunk of " + text(chunk_bytes) + " bytes decodes to more than the expected " +
                     text(decoded_bytes) + " bytes");
  }
  if (result != LIBDEFLATE_SUCCESS) {
    throw InputError("deflate chunk of " + text(chunk_bytes) + " bytes is corrupt (not a valid zlib stream, or its " +
                     "checksum does not match)");
  }
  if (produced != decoded_bytes) {
    throw InputError("deflate chunk of " + text(chunk_bytes) + " bytes decodes to " + text(produced) +
                     " bytes; expected " + text(decoded_bytes));
  }
}

void byte_unshuffle(const void* in, void* out, std::size_t bytes, std::size_t element_bytes) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  const std::size_t n = element_bytes == 0 ? 0 : bytes / element_bytes;
  if (element_bytes <= 1 || n <= 1) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return;
  }
  std::size_t done = 0;  // elements already written
#ifdef PTYROI_CODEC_X86
  if (element_bytes == 2 || element_bytes == 4 || element_bytes == 8)
    done = byte_unshuffle_sse2(src, dst, n, element_bytes);
#endif
  for (std::size_t j = 0; j < element_bytes; ++j) {
    const unsigned char* plane = src + j * n;
    for (std::size_t i = done; i < n; ++i) dst[i * element_bytes + j] = plane[i];
  }
  const std::size_t leftover = bytes - n * element_bytes;
  if (leftover > 0) std::memcpy(dst + n * element_bytes, src + n * element_bytes, leftover);
}

}  // namespace ptyroi::codec
