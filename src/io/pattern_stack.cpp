#include "ptyroi/io/pattern_stack.hpp"

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ptyroi/io/plugin_threads.hpp"

namespace ptyroi {

void check_input_file(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    throw InputError("--input '" + path + "' cannot be read: " + std::strerror(errno));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw InputError("--input '" + path + "' is not an HDF5 file (or is truncated)");
  }
}

void check_stack_filters(hid_t dataset, const std::string& where) {
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the layout of " + where);
  const int filters = H5Pget_nfilters(create.get());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    std::size_t values = 0;
    char name[256] = {0};
    unsigned config = 0;
    const H5Z_filter_t id =
        H5Pget_filter2(create.get(), static_cast<unsigned>(i), &flags, &values, nullptr, sizeof(name), name, &config);
    if (id < 0) continue;
    if (H5Zfilter_avail(id) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      const std::string hint = id == 32008 ? " (bitshuffle: apt-get install bitshuffle)" : "";
      throw InputError(where + " is compressed with HDF5 filter " + std::to_string(id) + " ('" + name +
                       "'), which is not available: install its plugin" + hint + " or set HDF5_PLUGIN_PATH");
    }
  }
}

namespace {

// The metadata cache of each data file, in HDF5's accounting (on-disk sizes). A v1 B-tree node of
// a chunk index counts as ~3 KiB there but holds ~20 KiB of memory (its keys are sized for 32
// dimensions), so HDF5's default 2 MiB would grow to ~13 MiB with the index of a long scan. 64 KiB
// is ~20 nodes: a few root-to-leaf paths, enough as frames are read in order (measured: no slower
// than 256 KiB or the default on the 15,980-frame benchmark scan).
constexpr std::size_t kIndexCacheBytes = std::size_t{64} << 10;

// Room for every chunk one block of frames touches, so no chunk is read (or decompressed) twice;
// when that is more than kDecodedCacheBytes (chunks spanning many frames, e.g. [K, 1, M]), no cache
// at all: each chunk is then decoded once per read block instead of the whole stack being held.
// (A cache smaller than a block's chunks does not bound HDF5 1.10: measured on [K, 1, M] deflate
// chunks, a 32 MiB cache held the whole 524 MB stack.) Chunks decoded in-process (`direct`) need
// no HDF5 cache.
void size_chunk_cache(hid_t dataset, hsize_t block_frames, std::size_t pixel_bytes, bool direct, hid_t access) {
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the dataset's layout");
  if (H5Pget_layout(create.get()) != H5D_CHUNKED) return;
  hsize_t chunk[3] = {1, 1, 1};
  if (H5Pget_chunk(create.get(), 3, chunk) != 3) return;
  const auto dims = h5::dataset_dims(dataset);
  const hsize_t frames_per_chunk = std::max<hsize_t>(chunk[0], 1);
  const hsize_t chunk_frames_touched = (block_frames + frames_per_chunk - 1) / frames_per_chunk + 1;
  const hsize_t chunks_per_frame_layer = ((dims[1] + chunk[1] - 1) / chunk[1]) * ((dims[2] + chunk[2] - 1) / chunk[2]);
  const std::size_t chunk_bytes = static_cast<std::size_t>(chunk[0] * chunk[1] * chunk[2]) * pixel_bytes;
  const std::size_t chunks = static_cast<std::size_t>(chunk_frames_touched * chunks_per_frame_layer);
  // Unfiltered chunks are read straight into the caller's buffer when they do not fit the cache:
  // a cache of zero bytes saves HDF5's copy of every chunk through it.
  const bool filtered = H5Pget_nfilters(create.get()) > 0;
  const std::size_t wanted = chunks * chunk_bytes;
  const std::size_t bytes = filtered && !direct && wanted <= decoded_cache_bytes() ? wanted : 0;
  h5::check(H5Pset_chunk_cache(access, chunks * 4 + 1, bytes, 1.0), "cannot size the chunk cache");
}

}  // namespace

namespace {

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string text;
  for (const hsize_t d : dims) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

}  // namespace

PatternStack PatternStack::open(const std::string& file_path, InputLayout layout, const std::string& dataset_path,
                                std::uint64_t block_frames, MPI_Comm comm, Decoder decoder) {
  PatternStack stack;
  stack.file_path_ = file_path;
  stack.decoder_ = decoder;
  // Before any filter plugin is loaded (check_stack_filters below loads them).
  limit_plugin_threads(comm);
  stack.file_ = h5::open_file_read(file_path, comm);
  stack.description_ = describe_input(stack.file_.get(), file_path, layout, dataset_path);
  const auto& paths = stack.description_.stack_paths;
  stack.dataset_path_ = paths.size() == 1 ? paths.front() : paths.front() + " … " + paths.back();

  for (const auto& path : paths) {
    const std::string where = "dataset '" + path + "' in '" + file_path + "'";
    Segment segment;
    segment.path = path;
    // Names the missing data file when `path` is a dangling external link.
    segment.dataset = h5::open_dataset(stack.file_.get(), path, file_path);
    auto dims = h5::dataset_dims(segment.dataset.get());
    // Leading singleton axes ([1, K, N, M], as several reconstruction codes store a stack) are squeezed.
    while (dims.size() > 3 && dims.front() == 1) {
      dims.erase(dims.begin());
      ++segment.leading;
    }
    if (dims.size() != 3) {
      throw InputError(where + " has " + std::to_string(dims.size() + segment.leading) +
                       " dimensions; expected 3 [frames, rows, cols] (or leading axes of length 1)");
    }
    h5::Handle type = h5::checked(H5Dget_type(segment.dataset.get()), "cannot read the type of " + where);
    const PixelType pixel_type = h5::classify_pixel_type(type.get(), where);
    if (stack.segments_.empty()) {
      stack.rows_ = dims[1];
      stack.cols_ = dims[2];
      stack.pixel_type_ = pixel_type;
      stack.file_type_ = std::move(type);
    } else if (dims[1] != stack.rows_ || dims[2] != stack.cols_ || pixel_type != stack.pixel_type_) {
      throw InputError(where + " holds " + shape_text(dims) + " " + pixel_type_name(pixel_type) + " frames, unlike '" +
                       paths.front() + "' (" + std::to_string(stack.rows_) + "x" + std::to_string(stack.cols_) + " " +
                       pixel_type_name(stack.pixel_type_) + "): the blocks of one stack must match");
    }
    // Chunks decoded in-process need no plugin (a cluster without Debian's bitshuffle package).
    if (decoder == Decoder::hdf5 || segment.leading > 0 ||
        !ChunkReader::handles(segment.dataset.get(), h5::native_type(pixel_type))) {
      check_stack_filters(segment.dataset.get(), where);
    }
    if (is_virtual(segment.dataset.get())) {
      segment.sources = virtual_sources(segment.dataset.get(), h5::file_name(segment.dataset.get()), segment.leading);
      check_virtual_sources(segment.sources, where);
    } else {
      // A contiguous stack cut short (a copy still running) would read as zeros past the end.
      check_storage_within_file(segment.dataset.get(), h5::file_name(segment.dataset.get()), where);
    }
    segment.first_frame = stack.frames_;
    segment.frames = dims[0];
    stack.frames_ += dims[0];
    stack.segments_.push_back(std::move(segment));
  }
  const std::string where = stack.name();
  if (stack.frames_ == 0 || stack.rows_ == 0 || stack.cols_ == 0) {
    throw InputError(where + " is empty (shape " + std::to_string(stack.frames_) + "x" + std::to_string(stack.rows_) +
                     "x" + std::to_string(stack.cols_) + ")");
  }

  const hid_t memory_type = h5::native_type(stack.pixel_type_);
  // Blocks of 4 MiB for what HDF5 or MPI-IO reads (fewer, larger requests). Chunks decoded
  // in-process go to the features straight from the decoder: a block that stays in a core's L2
  // cache (512 KiB) is decoded and summed without a trip through L3/memory, and its pages are few
  // (2,000 bitshuffle-LZ4 frames of 256² uint32, same-run A/B, medians of 10: 0.127 s on 1 rank and
  // 0.064 s on 2, against 0.130 s and 0.071 s with 4 MiB blocks) — unless a chunk holds more frames
  // than such a block: each block would then fetch the same chunks again (chunks [500, 1, 256]:
  // 0.23 s against 0.07 s).
  constexpr std::size_t kDecodedBlockBytes = std::size_t{512} << 10;
  const std::uint64_t small_block = std::max<std::uint64_t>(1, kDecodedBlockBytes / stack.frame_bytes());
  std::vector<bool> direct;
  std::vector<hsize_t> chunk_frames;  // frames per chunk of each segment; 0: not chunked
  bool small_blocks = true;
  for (auto& segment : stack.segments_) {
    const std::vector<hsize_t> chunk = h5::chunk_shape(segment.dataset.get());
    chunk_frames.push_back(chunk.empty() ? 0 : chunk[segment.leading]);
    {
      h5::Handle create =
          h5::checked(H5Dget_create_plist(segment.dataset.get()),
                      "cannot read the layout of dataset '" + segment.path + "' in '" + file_path + "'");
      segment.filtered = H5Pget_nfilters(create.get()) > 0;
    }
    direct.push_back(decoder == Decoder::automatic && segment.leading == 0 &&
                     ChunkReader::handles(segment.dataset.get(), memory_type));
    small_blocks = small_blocks && direct.back() && chunk_frames.back() <= small_block;
  }
  stack.block_frames_ = block_frames > 0 ? block_frames
                        : small_blocks   ? small_block
                                         : std::max<std::uint64_t>(1, (std::size_t{4} << 20) / stack.frame_bytes());
  // A rank may read frames of another's share unless compressed chunks hold more frames than a block
  // (a helper would decode such a chunk again, a deflate stream from its start).
  for (std::size_t i = 0; i < stack.segments_.size(); ++i) {
    if (stack.segments_[i].filtered && chunk_frames[i] > stack.block_frames_) stack.reads_every_frame_ = false;
  }
  // Reopen each block with a chunk cache sized for one block of frames.
  for (std::size_t i = 0; i < stack.segments_.size(); ++i) {
    Segment& segment = stack.segments_[i];
    const std::string segment_where = "dataset '" + segment.path + "' in '" + file_path + "'";
    h5::Handle access = h5::checked(H5Pcreate(H5P_DATASET_ACCESS), "cannot create a dataset-access list");
    size_chunk_cache(segment.dataset.get(), stack.block_frames_, pixel_type_size(stack.pixel_type_), direct[i],
                     access.get());
    // Closed first: HDF5 ignores the access list when the dataset is still open (it shares the open one).
    segment.dataset.reset();
    hid_t location = stack.file_.get();
    if (!segment.sources.empty()) {
      // HDF5 1.10 reads a VDS only without the MPI-IO driver: each rank opens the file for itself.
      if (!stack.serial_file_) stack.serial_file_ = h5::open_file_read_serial(file_path);
      location = stack.serial_file_.get();
    }
    segment.dataset =
        h5::checked(H5Dopen2(location, segment.path.c_str(), access.get()), "cannot open " + segment_where);
    // The chunk index is read once, front to back: a small metadata cache keeps memory flat in K.
    h5::bound_metadata_cache(segment.dataset.get(), kIndexCacheBytes);
    if (direct[i]) segment.direct = ChunkReader::open(segment.dataset.get(), memory_type, segment_where);
  }
  stack.transfer_ = h5::transfer_plist(false);
  return stack;
}

std::string PatternStack::name() const { return "dataset '" + dataset_path_ + "' in '" + file_path_ + "'"; }

std::string PatternStack::frame_location(std::uint64_t frame) const {
  for (const Segment& segment : segments_) {
    if (frame < segment.first_frame || frame >= segment.first_frame + segment.frames) continue;
    std::string file = h5::file_name(segment.dataset.get());
    if (file.empty()) file = file_path_;
    return "dataset '" + segment.path + "' in '" + file + "'";
  }
  return name();
}

std::vector<std::string> PatternStack::frame_files(FrameRange range) const {
  std::vector<std::string> files;
  for (const Segment& segment : segments_) {
    const std::uint64_t begin = std::max(range.begin, segment.first_frame);
    const std::uint64_t end = std::min(range.end, segment.first_frame + segment.frames);
    if (begin >= end) continue;
    files.push_back(h5::file_name(segment.dataset.get()));
    for (const VirtualSource& source : segment.sources) {
      const std::uint64_t first = segment.first_frame + source.first_frame;
      const std::uint64_t last = segment.first_frame + source.end_frame;
      if (first < end && last > begin && !source.resolved.empty()) files.push_back(source.resolved);
    }
  }
  files.erase(std::remove(files.begin(), files.end(), std::string()), files.end());
  return files;
}

std::vector<std::uint8_t> PatternStack::segments_with_unwritten_chunks() const {
  std::vector<std::uint8_t> flagged;
  for (const Segment& segment : segments_) {
    const std::string where = "dataset '" + segment.path + "' in '" + file_path_ + "'";
    try {
      flagged.push_back(segment.sources.empty() && !all_chunks_written(segment.dataset.get()) ? 1 : 0);
    } catch (const Error& e) {
      throw IoError(where + ": " + e.what());
    }
  }
  return flagged;
}

std::vector<FrameRange> PatternStack::unwritten_frames(FrameRange range,
                                                       const std::vector<std::uint8_t>& flagged) const {
  std::vector<FrameRange> gaps;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& segment = segments_[i];
    if (i >= flagged.size() || flagged[i] == 0) continue;
    const std::uint64_t begin = std::max(range.begin, segment.first_frame);
    const std::uint64_t end = std::min(range.end, segment.first_frame + segment.frames);
    if (begin >= end) continue;
    for (FrameRange gap : ptyroi::unwritten_frames(segment.dataset.get(), begin - segment.first_frame,
                                                   end - segment.first_frame, segment.leading)) {
      gap.begin += segment.first_frame;
      gap.end += segment.first_frame;
      if (!gaps.empty() && gaps.back().end == gap.begin) {
        gaps.back().end = gap.end;
      } else {
        gaps.push_back(gap);
      }
    }
  }
  return gaps;
}

std::string PatternStack::segment_decoding(std::size_t i) const {
  const Segment& segment = segments_.at(i);
  if (segment.direct) return std::string("in-process ") + ChunkReader::pipeline_name(segment.direct->pipeline());
  return segment.filtered ? "HDF5 filter pipeline" : "unfiltered";
}

void PatternStack::read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col,
                               std::uint64_t rows, std::uint64_t cols, void* buffer) const {
  auto* out = static_cast<unsigned char*>(buffer);
  const std::size_t frame_bytes = rows * cols * pixel_type_size(pixel_type_);
  const std::uint64_t end = first + count;
  // Segments are few (one per data file) and sorted: a linear scan finds the overlapping ones.
  for (const Segment& segment : segments_) {
    const std::uint64_t begin = std::max(first, segment.first_frame);
    const std::uint64_t stop = std::min(end, segment.first_frame + segment.frames);
    if (begin >= stop) continue;
    const hsize_t start[3] = {begin - segment.first_frame, row, col};
    const hsize_t extent[3] = {stop - begin, rows, cols};
    if (segment.direct) {
      segment.direct->read(start, extent, out + (begin - first) * frame_bytes, transfer_.get());
      continue;
    }
    h5::Handle file_space = h5::checked(H5Dget_space(segment.dataset.get()), "cannot get the dataspace");
    // A [1, ..., K, N, M] dataset: the same selection behind its leading singleton axes.
    std::vector<hsize_t> file_start(segment.leading, 0), file_extent(segment.leading, 1);
    file_start.insert(file_start.end(), start, start + 3);
    file_extent.insert(file_extent.end(), extent, extent + 3);
    h5::check(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, file_start.data(), nullptr, file_extent.data(), nullptr),
        "cannot select frames");
    h5::Handle memory = h5::memory_space({extent[0], rows, cols});
    h5::check(H5Dread(segment.dataset.get(), h5::native_type(pixel_type_), memory.get(), file_space.get(),
                      transfer_.get(), out + (begin - first) * frame_bytes),
              "cannot read frames " + std::to_string(begin) + ".." + std::to_string(stop - 1) + " of dataset '" +
                  segment.path + "' in '" + file_path_ + "'");
  }
}

}  // namespace ptyroi
