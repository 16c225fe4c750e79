#include "ptyroi/io/chunk_reader.hpp"

#include <algorithm>
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
  if (pipeline != Pipeline::bitshuffle_lz4 && chunk[0] > 1 && layer * chunk_bytes <= kDecodedCacheBytes) {
    reader->cache_capacity_ = static_cast<std::size_t>(layer);
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
  const std::size_t run = static_cast<std::size_t>((hi[2] - lo[2]) * element_bytes_);
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
  const bool contiguous = extent[1] == chunk_[1] && extent[2] == chunk_[2];
  unsigned char* run = out + (lo[0] - start[0]) * extent[1] * extent[2] * element_bytes_;

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
  const std::size_t size = static_cast<std::size_t>(stored);
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
      const std::size_t needed = static_cast<std::size_t>((f1 - f0) * layer * element_bytes_);
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

}  // namespace ptyroi
