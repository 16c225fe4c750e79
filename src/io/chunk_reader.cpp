#include "ptyroi/io/chunk_reader.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"

namespace ptyroi {

Decoder parse_decoder(const std::string& name) {
  if (name == "auto") return Decoder::automatic;
  if (name == "hdf5") return Decoder::hdf5;
  throw UsageError("--decoder '" + name + "' is not one of auto, hdf5");
}

const char* decoder_name(Decoder decoder) { return decoder == Decoder::hdf5 ? "hdf5" : "auto"; }

namespace {
std::size_t cache_bound = kDecodedCacheBytes;

// A streamed chunk costs ~48 KiB per zlib stream (its 32 KiB window, its state, 4 KiB of input);
// streams are used while those of one frame layer of chunks fit in 64 MiB (e.g. [K, 1, 256]
// chunks of shuffled 4-byte pixels: 256 x 4 streams, 48 MiB). Beyond, chunks are decoded whole
// once per read: slow, but still bounded.
constexpr std::uint64_t kStreamPlaneBytes = std::uint64_t{48} << 10;
constexpr std::uint64_t kStreamBudgetBytes = std::uint64_t{64} << 20;
}  // namespace

std::size_t decoded_cache_bytes() { return cache_bound; }
void set_decoded_cache_bytes(std::size_t bytes) { cache_bound = bytes; }

const char* ChunkReader::pipeline_name(Pipeline pipeline) {
  switch (pipeline) {
    case Pipeline::bitshuffle_lz4:
      return "bitshuffle-LZ4";
    case Pipeline::deflate:
      return "deflate";
    case Pipeline::shuffle_deflate:
      return "shuffle+deflate";
  }
  return "unknown";
}

// A streamed deflate chunk: one zlib stream per byte plane (one plane when not shuffled), each
// positioned where the last read stopped and fed from the file at the chunk's address.
struct ChunkReader::Stream {
  struct Plane {
    z_stream z{};
    bool open = false;
    std::uint64_t consumed = 0;  // stored bytes fed to z
    std::uint64_t produced = 0;  // decoded bytes taken out of z
    std::vector<unsigned char> input;
    Plane() = default;
    Plane(const Plane&) = delete;
    Plane& operator=(const Plane&) = delete;
    ~Plane() {
      if (open) inflateEnd(&z);
    }
  };
  std::uint64_t origin[3] = {0, 0, 0};
  std::uint64_t last_frame = 0;           // one past the chunk's last frame
  std::uint64_t address = 0, stored = 0;  // where its stored bytes are (file offset), how many
  std::uint64_t last_use = 0;
  std::vector<std::unique_ptr<Plane>> planes;  // z_stream must not move once initialised
};

ChunkReader::~ChunkReader() {
  if (file_ >= 0) close(file_);
}

namespace {

struct FilterInfo {
  H5Z_filter_t id = -1;
  std::vector<unsigned> values;
};

std::vector<FilterInfo> filters_of(hid_t create) {
  std::vector<FilterInfo> filters;
  const int count = H5Pget_nfilters(create);
  for (int i = 0; i < count; ++i) {
    FilterInfo info;
    unsigned flags = 0;
    unsigned config = 0;
    std::size_t values = 16;
    info.values.resize(values);
    info.id =
        H5Pget_filter2(create, static_cast<unsigned>(i), &flags, &values, info.values.data(), 0, nullptr, &config);
    info.values.resize(std::min<std::size_t>(values, 16));
    filters.push_back(std::move(info));
  }
  return filters;
}

bool fail(std::string* why, const std::string& reason) {
  if (why != nullptr) *why = reason;
  return false;
}

}  // namespace

bool ChunkReader::handles(hid_t dataset, hid_t memory_type, Pipeline* pipeline, std::string* why) {
  h5::Handle create(H5Dget_create_plist(dataset));
  if (!create) return fail(why, "its creation properties cannot be read");
  if (H5Pget_layout(create.get()) != H5D_CHUNKED) return fail(why, "it is not chunked");
  hsize_t chunk[3] = {0, 0, 0};
  if (H5Pget_chunk(create.get(), 3, chunk) != 3) return fail(why, "its chunks are not 3-D");
  unsigned options = 0;
  if (H5Pget_chunk_opts(create.get(), &options) < 0 || (options & H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS) != 0) {
    return fail(why, "its partial edge chunks are stored unfiltered");
  }
  h5::Handle type(H5Dget_type(dataset));
  if (!type || H5Tequal(type.get(), memory_type) <= 0) {
    return fail(why, "its stored pixel type is not the native type it is read as");
  }
  const std::size_t element_bytes = H5Tget_size(memory_type);
  const std::vector<FilterInfo> filters = filters_of(create.get());
  Pipeline found = Pipeline::deflate;
  if (filters.size() == 1 && filters[0].id == codec::kFilterBitshuffle) {
    const auto& v = filters[0].values;
    if (v.size() < 5 || v[4] != codec::kBitshuffleLz4) return fail(why, "its bitshuffle filter is not set for LZ4");
    if (v[2] != element_bytes) return fail(why, "its bitshuffle filter's element size is not the pixel size");
    found = Pipeline::bitshuffle_lz4;
  } else if (filters.size() == 1 && filters[0].id == H5Z_FILTER_DEFLATE) {
    found = Pipeline::deflate;
  } else if (filters.size() == 2 && filters[0].id == H5Z_FILTER_SHUFFLE && filters[1].id == H5Z_FILTER_DEFLATE) {
    const auto& v = filters[0].values;
    if (v.size() != 1 || v[0] != element_bytes)
      return fail(why, "its shuffle filter's element size is not the pixel size");
    found = Pipeline::shuffle_deflate;
  } else {
    std::string ids;
    for (const auto& f : filters) ids += (ids.empty() ? "" : ", ") + std::to_string(f.id);
    return fail(
        why, filters.empty() ? "it is not compressed" : "its filter pipeline [" + ids + "] is not decoded in-process");
  }
  if (pipeline != nullptr) *pipeline = found;
  return true;
}

std::unique_ptr<ChunkReader> ChunkReader::open(hid_t dataset, hid_t memory_type, const std::string& where) {
  Pipeline pipeline = Pipeline::deflate;
  if (!handles(dataset, memory_type, &pipeline)) return nullptr;
  std::unique_ptr<ChunkReader> reader(new ChunkReader());
  reader->dataset_ = dataset;
  reader->memory_type_ = memory_type;
  reader->where_ = where;
  reader->pipeline_ = pipeline;
  reader->element_bytes_ = H5Tget_size(memory_type);
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the layout of " + where);
  hsize_t chunk[3] = {1, 1, 1};
  h5::check(H5Pget_chunk(create.get(), 3, chunk), "cannot read the chunk shape of " + where);
  const auto dims = h5::dataset_dims(dataset);
  for (int d = 0; d < 3; ++d) {
    reader->chunk_[d] = chunk[d];
    reader->dims_[d] = dims.at(static_cast<std::size_t>(d));
  }
  reader->chunk_elements_ = chunk[0] * chunk[1] * chunk[2];
  const std::uint64_t chunk_bytes = reader->chunk_elements_ * reader->element_bytes_;
  // Deflate chunks kept between reads: one frame layer of chunks, when it fits the bound (a cache
  // smaller than a layer would evict every chunk before its next use: reads go front to back).
  const std::uint64_t layer =
      ((reader->dims_[1] + chunk[1] - 1) / chunk[1]) * ((reader->dims_[2] + chunk[2] - 1) / chunk[2]);
  if (pipeline != Pipeline::bitshuffle_lz4 && chunk[0] > 1 && layer * chunk_bytes <= decoded_cache_bytes()) {
    reader->cache_capacity_ = static_cast<std::size_t>(layer);
  } else if (pipeline != Pipeline::bitshuffle_lz4 && chunk[0] > 1 &&
             layer * (pipeline == Pipeline::shuffle_deflate ? reader->element_bytes_ : 1) * kStreamPlaneBytes <=
                 kStreamBudgetBytes) {
    // Too large to keep: stream them, from the file the dataset is in (an external link's target).
    const ssize_t length = H5Fget_name(dataset, nullptr, 0);
    std::string name(length > 0 ? static_cast<std::size_t>(length) : 0, '\0');
    if (length > 0 && H5Fget_name(dataset, name.data(), name.size() + 1) == length) {
      reader->file_ = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    }
    H5Eclear2(H5E_DEFAULT);
    reader->streaming_ = reader->file_ >= 0;
    reader->stream_capacity_ = static_cast<std::size_t>(2 * layer);
  }
  return reader;
}

std::string ChunkReader::chunk_text(const std::uint64_t origin[3]) const {
  return where_ + ", chunk at [" + std::to_string(origin[0]) + ", " + std::to_string(origin[1]) + ", " +
         std::to_string(origin[2]) + "]";
}

void ChunkReader::read(const hsize_t start[3], const hsize_t extent[3], void* out, hid_t transfer) {
  for (int d = 0; d < 3; ++d) {
    if (extent[d] == 0) return;
    if (start[d] + extent[d] > dims_[d]) {
      throw IoError("read outside " + where_ + " (axis " + std::to_string(d) + ": " + std::to_string(start[d]) + "+" +
                    std::to_string(extent[d]) + " of " + std::to_string(dims_[d]) + ")");
    }
  }
  ++uses_;
  // Reads go front to back: streams of chunks that end before this read are done with.
  streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                [&](const std::unique_ptr<Stream>& s) { return s->last_frame <= start[0]; }),
                 streams_.end());
  auto* bytes = static_cast<unsigned char*>(out);
  std::uint64_t first[3], last[3];
  for (int d = 0; d < 3; ++d) {
    first[d] = start[d] / chunk_[d];
    last[d] = (start[d] + extent[d] - 1) / chunk_[d];
  }
  std::uint64_t origin[3], lo[3], hi[3];
  for (std::uint64_t f = first[0]; f <= last[0]; ++f) {
    for (std::uint64_t r = first[1]; r <= last[1]; ++r) {
      for (std::uint64_t c = first[2]; c <= last[2]; ++c) {
        const std::uint64_t index[3] = {f, r, c};
        for (int d = 0; d < 3; ++d) {
          origin[d] = index[d] * chunk_[d];
          lo[d] = std::max<std::uint64_t>(origin[d], start[d]);
          hi[d] = std::min<std::uint64_t>(origin[d] + chunk_[d], start[d] + extent[d]);
        }
        read_chunk(origin, lo, hi, start, extent, bytes, transfer);
      }
    }
  }
}

void ChunkReader::copy_box(const unsigned char* source, std::uint64_t source_frame, const std::uint64_t origin[3],
                           const std::uint64_t lo[3], const std::uint64_t hi[3], const hsize_t start[3],
                           const hsize_t extent[3], unsigned char* out) const {
  const auto run = static_cast<std::size_t>((hi[2] - lo[2]) * element_bytes_);
  for (std::uint64_t f = lo[0]; f < hi[0]; ++f) {
    for (std::uint64_t r = lo[1]; r < hi[1]; ++r) {
      const std::uint64_t from =
          ((f - origin[0] - source_frame) * chunk_[1] + (r - origin[1])) * chunk_[2] + (lo[2] - origin[2]);
      const std::uint64_t to = ((f - start[0]) * extent[1] + (r - start[1])) * extent[2] + (lo[2] - start[2]);
      std::memcpy(out + to * element_bytes_, source + from * element_bytes_, run);
    }
  }
}

void ChunkReader::read_through_hdf5(const std::uint64_t lo[3], const std::uint64_t hi[3], const hsize_t start[3],
                                    const hsize_t extent[3], unsigned char* out, hid_t transfer) const {
  hsize_t file_start[3], count[3], memory_start[3];
  for (int d = 0; d < 3; ++d) {
    file_start[d] = lo[d];
    count[d] = hi[d] - lo[d];
    memory_start[d] = lo[d] - start[d];
  }
  h5::Handle file_space = h5::checked(H5Dget_space(dataset_), "cannot get the dataspace of " + where_);
  h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, file_start, nullptr, count, nullptr),
            "cannot select a box of " + where_);
  h5::Handle memory = h5::memory_space({extent[0], extent[1], extent[2]});
  h5::check(H5Sselect_hyperslab(memory.get(), H5S_SELECT_SET, memory_start, nullptr, count, nullptr),
            "cannot select a box in memory");
  h5::check(H5Dread(dataset_, memory_type_, memory.get(), file_space.get(), transfer, out), "cannot read " + where_);
}

void ChunkReader::read_chunk(const std::uint64_t origin[3], const std::uint64_t lo[3], const std::uint64_t hi[3],
                             const hsize_t start[3], const hsize_t extent[3], unsigned char* out, hid_t transfer) {
  const std::uint64_t layer = chunk_[1] * chunk_[2];
  const std::uint64_t chunk_bytes = chunk_elements_ * element_bytes_;
  const std::uint64_t f0 = lo[0] - origin[0];
  const std::uint64_t f1 = hi[0] - origin[0];
  // The chunk's frames land as one run of out: the box spans exactly the chunk's rows and columns.
  const bool contiguous =
      start[1] == origin[1] && start[2] == origin[2] && extent[1] == chunk_[1] && extent[2] == chunk_[2];
  unsigned char* run = out + (lo[0] - start[0]) * extent[1] * extent[2] * element_bytes_;

  if (streaming_ && !(contiguous && f0 == 0 && f1 == chunk_[0]) &&
      read_streamed(origin, lo, hi, start, extent, out, transfer)) {
    return;
  }
  for (Cached& cached : cache_) {
    if (std::equal(cached.origin, cached.origin + 3, origin)) {
      cached.last_use = uses_;
      copy_box(cached.bytes.data(), 0, origin, lo, hi, start, extent, out);
      return;
    }
  }

  hsize_t offset[3] = {origin[0], origin[1], origin[2]};
  // H5Dget_chunk_storage_size looks the chunk up in the index (H5Dget_chunk_info_by_coord walks the
  // whole index in HDF5 1.10, which grows with K); it fails for a chunk never written.
  hsize_t stored = 0;
  if (H5Dget_chunk_storage_size(dataset_, offset, &stored) < 0 || stored == 0) {
    H5Eclear2(H5E_DEFAULT);
    read_through_hdf5(lo, hi, start, extent, out, transfer);  // HDF5 knows the fill value (or the error)
    return;
  }
  if (stored_.size() < stored) stored_.resize(static_cast<std::size_t>(stored));
  std::uint32_t skipped = 0;  // bit i: filter i of the pipeline was not applied to this chunk
  h5::check(H5Dread_chunk(dataset_, transfer, offset, &skipped, stored_.data()),
            "cannot read the " + chunk_text(origin));
  ++chunks_decoded_;
  const auto size = static_cast<std::size_t>(stored);
  try {
    if ((pipeline_ == Pipeline::shuffle_deflate ? (skipped & 3u) == 3u : (skipped & 1u) != 0)) {
      // Stored as it is (an optional filter that did not help).
      if (size != chunk_bytes) {
        throw InputError("it is stored unfiltered in " + std::to_string(size) + " bytes; expected " +
                         std::to_string(chunk_bytes));
      }
      copy_box(stored_.data(), 0, origin, lo, hi, start, extent, out);
      return;
    }
    if (pipeline_ == Pipeline::bitshuffle_lz4) {
      // Only the frames asked for; LZ4 blocks outside them are skipped.
      if (contiguous) {
        codec::decode_bitshuffle_lz4(stored_.data(), size, element_bytes_, chunk_elements_, f0 * layer,
                                     (f1 - f0) * layer, run, workspace_);
        return;
      }
      const auto needed = static_cast<std::size_t>((f1 - f0) * layer * element_bytes_);
      if (decoded_.size() < needed) decoded_.resize(needed);
      codec::decode_bitshuffle_lz4(stored_.data(), size, element_bytes_, chunk_elements_, f0 * layer, (f1 - f0) * layer,
                                   decoded_.data(), workspace_);
      copy_box(decoded_.data(), f0, origin, lo, hi, start, extent, out);
      return;
    }
    // Deflate: the whole chunk, straight into out when it is all wanted there.
    const bool whole_to_out = contiguous && f0 == 0 && f1 == chunk_[0];
    const bool keep = !whole_to_out && cache_capacity_ > 0;
    std::vector<unsigned char> kept;
    unsigned char* target = nullptr;
    if (whole_to_out) {
      target = run;
    } else if (keep) {
      kept.resize(static_cast<std::size_t>(chunk_bytes));
      target = kept.data();
    } else {
      if (decoded_.size() < chunk_bytes) decoded_.resize(static_cast<std::size_t>(chunk_bytes));
      target = decoded_.data();
    }
    const bool inflate = (skipped & (pipeline_ == Pipeline::shuffle_deflate ? 2u : 1u)) == 0;
    const bool unshuffle = pipeline_ == Pipeline::shuffle_deflate && (skipped & 1u) == 0;
    if (inflate && unshuffle) {
      if (shuffled_.size() < chunk_bytes) shuffled_.resize(static_cast<std::size_t>(chunk_bytes));
      codec::decode_deflate(stored_.data(), size, shuffled_.data(), static_cast<std::size_t>(chunk_bytes), workspace_);
      codec::byte_unshuffle(shuffled_.data(), target, static_cast<std::size_t>(chunk_bytes), element_bytes_);
    } else if (inflate) {
      codec::decode_deflate(stored_.data(), size, target, static_cast<std::size_t>(chunk_bytes), workspace_);
    } else {  // shuffled only
      if (size != chunk_bytes) {
        throw InputError("it is stored shuffled, uncompressed, in " + std::to_string(size) + " bytes; expected " +
                         std::to_string(chunk_bytes));
      }
      codec::byte_unshuffle(stored_.data(), target, size, element_bytes_);
    }
    if (whole_to_out) return;
    copy_box(target, 0, origin, lo, hi, start, extent, out);
    if (keep) {
      if (cache_.size() == cache_capacity_) {
        cache_.erase(std::min_element(cache_.begin(), cache_.end(),
                                      [](const Cached& a, const Cached& b) { return a.last_use < b.last_use; }));
      }
      Cached entry;
      std::copy(origin, origin + 3, entry.origin);
      entry.last_use = uses_;
      entry.bytes = std::move(kept);
      cache_.push_back(std::move(entry));
    }
  } catch (const InputError& e) {
    throw InputError(chunk_text(origin) + " (" + pipeline_name(pipeline_) + ") cannot be decoded: " + e.what());
  }
}

ChunkReader::Stream& ChunkReader::stream_of(const std::uint64_t origin[3], std::uint64_t address,
                                            std::uint64_t stored) {
  if (streams_.size() >= stream_capacity_) {
    streams_.erase(std::min_element(
        streams_.begin(), streams_.end(),
        [](const std::unique_ptr<Stream>& a, const std::unique_ptr<Stream>& b) { return a->last_use < b->last_use; }));
  }
  auto stream = std::make_unique<Stream>();
  std::copy(origin, origin + 3, stream->origin);
  stream->last_frame = origin[0] + chunk_[0];
  stream->address = address;
  stream->stored = stored;
  const std::size_t planes = pipeline_ == Pipeline::shuffle_deflate ? element_bytes_ : 1;
  for (std::size_t j = 0; j < planes; ++j) stream->planes.push_back(std::make_unique<Stream::Plane>());
  streams_.push_back(std::move(stream));
  return *streams_.back();
}

namespace {

// Decodes bytes [target, target + count) of a plane's stream into dest, going on from where the
// stream stopped (or from the start when the bytes lie before it). Bytes are read with pread from
// `file` at `offset` (the chunk's first stored byte).
void inflate_range(ChunkReader::Stream::Plane& plane, int file, std::uint64_t offset, std::uint64_t stored,
                   std::uint64_t target, std::uint64_t count, unsigned char* dest, std::vector<unsigned char>& skip) {
  constexpr std::size_t kInputBytes = std::size_t{4} << 10;
  if (!plane.open || target < plane.produced) {
    if (plane.open) inflateEnd(&plane.z);
    plane.open = false;
    plane.z = z_stream{};
    if (inflateInit(&plane.z) != Z_OK) throw IoError("cannot start a zlib stream (out of memory)");
    plane.open = true;
    plane.consumed = 0;
    plane.produced = 0;
    plane.input.resize(kInputBytes);
  }
  auto pump = [&](unsigned char* to, std::uint64_t bytes) {
    while (bytes > 0) {
      const auto piece = static_cast<uInt>(std::min<std::uint64_t>(bytes, UINT_MAX / 2));
      plane.z.next_out = to;
      plane.z.avail_out = piece;
      while (plane.z.avail_out > 0) {
        if (plane.z.avail_in == 0) {
          const std::size_t want =
              static_cast<std::size_t>(std::min<std::uint64_t>(kInputBytes, stored - plane.consumed));
          if (want == 0) {
            throw InputError("its deflate stream of " + std::to_string(stored) + " bytes ends before byte " +
                             std::to_string(plane.produced + (piece - plane.z.avail_out)) + " of the chunk");
          }
          const ssize_t got = pread(file, plane.input.data(), want, static_cast<off_t>(offset + plane.consumed));
          if (got != static_cast<ssize_t>(want)) {
            throw IoError(std::string("cannot read the chunk's bytes from the file: ") +
                          (got < 0 ? std::strerror(errno) : "the file is shorter than its chunk index says"));
          }
          plane.consumed += want;
          plane.z.next_in = plane.input.data();
          plane.z.avail_in = static_cast<uInt>(want);
        }
        const int status = inflate(&plane.z, Z_NO_FLUSH);
        if (status == Z_STREAM_END && plane.z.avail_out > 0) {
          throw InputError("its deflate stream ends after " + std::to_string(plane.z.total_out) +
                           " bytes, short of the chunk");
        }
        if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
          throw InputError(std::string("its deflate stream is corrupt (zlib: ") +
                           (plane.z.msg != nullptr ? plane.z.msg : "error " + std::to_string(status)) + ")");
        }
      }
      plane.produced += piece;
      to += piece;
      bytes -= piece;
    }
  };
  while (plane.produced < target) {
    const std::uint64_t gap = std::min<std::uint64_t>(target - plane.produced, skip.size());
    pump(skip.data(), gap);
  }
  pump(dest, count);
}

}  // namespace

bool ChunkReader::read_streamed(const std::uint64_t origin[3], const std::uint64_t lo[3], const std::uint64_t hi[3],
                                const hsize_t start[3], const hsize_t extent[3], unsigned char* out, hid_t transfer) {
  Stream* stream = nullptr;
  for (const auto& s : streams_) {
    if (std::equal(origin, origin + 3, s->origin)) stream = s.get();
  }
  if (stream == nullptr) {
    // Where the chunk is (looked up once per chunk: HDF5 1.10 walks the index for it).
    const hsize_t offset[3] = {origin[0], origin[1], origin[2]};
    unsigned skipped = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t stored = 0;
    h5::check(H5Dget_chunk_info_by_coord(dataset_, offset, &skipped, &address, &stored),
              "cannot find the " + chunk_text(origin));
    if (stored == 0 || address == HADDR_UNDEF || skipped != 0) return false;  // read whole (fill value, raw)
    if (base_ < 0) {
      // HDF5 addresses count from the superblock, after any user block; check on this chunk's
      // first bytes where the file really has them.
      if (stored_.size() < stored) stored_.resize(static_cast<std::size_t>(stored));
      std::uint32_t filters = 0;
      h5::check(H5Dread_chunk(dataset_, transfer, offset, &filters, stored_.data()),
                "cannot read the " + chunk_text(origin));
      hsize_t user_block = 0;
      {
        h5::Handle file(H5Iget_file_id(dataset_));
        h5::Handle create(file ? H5Fget_create_plist(file.get()) : H5I_INVALID_HID);
        if (!create || H5Pget_userblock(create.get(), &user_block) < 0) user_block = 0;
        H5Eclear2(H5E_DEFAULT);
      }
      const std::size_t probe = static_cast<std::size_t>(std::min<hsize_t>(stored, 64));
      std::vector<unsigned char> bytes(probe);
      for (const hsize_t base : {user_block, hsize_t{0}}) {
        if (pread(file_, bytes.data(), probe, static_cast<off_t>(address + base)) == static_cast<ssize_t>(probe) &&
            std::memcmp(bytes.data(), stored_.data(), probe) == 0) {
          base_ = static_cast<std::int64_t>(base);
          break;
        }
      }
      if (base_ < 0) {
        streaming_ = false;  // not where HDF5 says: read chunks whole from now on
        return false;
      }
    }
    stream = &stream_of(origin, address + static_cast<std::uint64_t>(base_), stored);
  }
  stream->last_use = uses_;
  ++chunks_decoded_;
  const std::uint64_t layer = chunk_[1] * chunk_[2];
  const std::uint64_t f0 = lo[0] - origin[0];
  const std::uint64_t f1 = hi[0] - origin[0];
  const std::uint64_t elements = (f1 - f0) * layer;
  const auto bytes = static_cast<std::size_t>(elements * element_bytes_);
  if (skip_.empty()) skip_.resize(std::size_t{64} << 10);
  if (decoded_.size() < bytes) decoded_.resize(bytes);
  try {
    if (pipeline_ == Pipeline::deflate) {
      inflate_range(*stream->planes[0], file_, stream->address, stream->stored, f0 * layer * element_bytes_, bytes,
                    decoded_.data(), skip_);
    } else {
      // Byte plane j of the shuffled chunk holds byte j of every element: its part for these frames
      // starts at j * (elements of the chunk) + the first element.
      if (shuffled_.size() < bytes) shuffled_.resize(bytes);
      for (std::size_t j = 0; j < element_bytes_; ++j) {
        inflate_range(*stream->planes[j], file_, stream->address, stream->stored, j * chunk_elements_ + f0 * layer,
                      elements, shuffled_.data() + j * elements, skip_);
      }
      codec::byte_unshuffle(shuffled_.data(), decoded_.data(), bytes, element_bytes_);
    }
  } catch (const InputError& e) {
    throw InputError(chunk_text(origin) + " (" + pipeline_name(pipeline_) + ") cannot be decoded: " + e.what());
  } catch (const IoError& e) {
    throw IoError(chunk_text(origin) + ": " + e.what());
  }
  copy_box(decoded_.data(), f0, origin, lo, hi, start, extent, out);
  return true;
}

}  // namespace ptyroi
