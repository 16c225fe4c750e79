#include "ptyroi/pattern_stack.hpp"

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ptyroi {

const char* pixel_type_name(PixelType type) {
  switch (type) {
    case PixelType::u8:
      return "uint8";
    case PixelType::u16:
      return "uint16";
    case PixelType::u32:
      return "uint32";
    case PixelType::u64:
      return "uint64";
    case PixelType::i8:
      return "int8";
    case PixelType::i16:
      return "int16";
    case PixelType::i32:
      return "int32";
    case PixelType::i64:
      return "int64";
    case PixelType::f32:
      return "float32";
    case PixelType::f64:
      return "float64";
  }
  return "unknown";
}

std::size_t pixel_type_size(PixelType type) {
  return visit_pixel_type(type, [](auto pixel) { return sizeof(pixel); });
}

hid_t pixel_type_native(PixelType type) {
  return visit_pixel_type(type, [](auto pixel) { return h5::native_type<decltype(pixel)>(); });
}

void check_input_file(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    throw InputError("--input '" + path + "' cannot be read: " + std::strerror(errno));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw InputError("--input '" + path + "' is not an HDF5 file (or is truncated)");
  }
}

std::uint64_t frames_per_block(std::uint64_t requested, std::size_t frame_bytes) {
  if (requested > 0) return requested;
  constexpr std::size_t block_bytes = std::size_t{4} << 20;
  return std::max<std::uint64_t>(1, block_bytes / std::max<std::size_t>(frame_bytes, 1));
}

const std::vector<std::string>& default_stack_paths() {
  static const std::vector<std::string> paths{"/entry_1/data_1/data", "/entry/data/data", "/data", "/dp"};
  return paths;
}

namespace {

PixelType classify(hid_t file_type, const std::string& where) {
  const H5T_class_t type_class = H5Tget_class(file_type);
  const std::size_t bytes = H5Tget_size(file_type);
  if (type_class == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(file_type) == H5T_SGN_2;
    switch (bytes) {
      case 1:
        return is_signed ? PixelType::i8 : PixelType::u8;
      case 2:
        return is_signed ? PixelType::i16 : PixelType::u16;
      case 4:
        return is_signed ? PixelType::i32 : PixelType::u32;
      case 8:
        return is_signed ? PixelType::i64 : PixelType::u64;
      default:
        break;
    }
  } else if (type_class == H5T_FLOAT) {
    if (bytes == 4) return PixelType::f32;
    if (bytes == 8) return PixelType::f64;
  }
  const char* names[] = {"integer",  "float",     "time", "string",          "bitfield", "opaque",
                         "compound", "reference", "enum", "variable-length", "array"};
  const std::string name = type_class >= 0 && type_class < 11 ? names[type_class] : "unknown";
  throw InputError(where + " holds " + std::to_string(bytes) + "-byte " + name +
                   " values; expected integer (8 to 64 bit) or float32/float64 pixels");
}

// Every filter in the dataset's pipeline must be available (built in or a plugin on
// HDF5_PLUGIN_PATH), or no frame can be read: say which one is missing before reading any.
void check_filters(hid_t dataset, const std::string& where) {
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

// Room for every chunk one block of frames touches, so no chunk is read (or decompressed) twice.
void size_chunk_cache(hid_t dataset, hsize_t block_frames, std::size_t pixel_bytes, hid_t access) {
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
  h5::check(H5Pset_chunk_cache(access, chunks * 4 + 1, chunks * chunk_bytes, 1.0), "cannot size the chunk cache");
}

}  // namespace

PatternStack PatternStack::open(const std::string& file_path, const std::string& dataset_path,
                                std::uint64_t block_frames, MPI_Comm comm) {
  PatternStack stack;
  stack.file_path_ = file_path;
  stack.file_ = h5::open_file_read(file_path, comm);
  if (dataset_path.empty()) {
    for (const auto& candidate : default_stack_paths()) {
      if (h5::is_dataset(stack.file_.get(), candidate)) {
        stack.dataset_path_ = candidate;
        break;
      }
    }
    if (stack.dataset_path_.empty()) {
      std::string tried;
      for (const auto& candidate : default_stack_paths()) tried += (tried.empty() ? "" : ", ") + candidate;
      throw InputError("no pattern stack in '" + file_path + "' (tried " + tried + "); name it with --dataset");
    }
  } else {
    stack.dataset_path_ = dataset_path;
  }
  const std::string where = "dataset '" + stack.dataset_path_ + "' in '" + file_path + "'";
  stack.dataset_ = h5::open_dataset(stack.file_.get(), stack.dataset_path_, file_path);

  const auto dims = h5::dataset_dims(stack.dataset_.get());
  if (dims.size() != 3) {
    throw InputError(where + " has " + std::to_string(dims.size()) + " dimensions; expected 3 [frames, rows, cols]");
  }
  stack.frames_ = dims[0];
  stack.rows_ = dims[1];
  stack.cols_ = dims[2];
  if (stack.frames_ == 0 || stack.rows_ == 0 || stack.cols_ == 0) {
    throw InputError(where + " is empty (shape " + std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" +
                     std::to_string(dims[2]) + ")");
  }
  stack.file_type_ = h5::checked(H5Dget_type(stack.dataset_.get()), "cannot read the type of " + where);
  stack.pixel_type_ = classify(stack.file_type_.get(), where);
  check_filters(stack.dataset_.get(), where);

  // Reopen with a chunk cache sized for one block of frames.
  h5::Handle access = h5::checked(H5Pcreate(H5P_DATASET_ACCESS), "cannot create a dataset-access list");
  stack.block_frames_ = frames_per_block(block_frames, stack.frame_bytes());
  size_chunk_cache(stack.dataset_.get(), stack.block_frames_, pixel_type_size(stack.pixel_type_), access.get());
  stack.dataset_ =
      h5::checked(H5Dopen2(stack.file_.get(), stack.dataset_path_.c_str(), access.get()), "cannot open " + where);
  stack.transfer_ = h5::transfer_plist(false);
  return stack;
}

void PatternStack::read_frames(std::uint64_t first, std::uint64_t count, void* buffer) const {
  if (count == 0) return;
  h5::Handle file_space = h5::select_frames(dataset_.get(), first, count);
  h5::Handle memory = h5::memory_space({count, rows_, cols_});
  h5::check(
      H5Dread(dataset_.get(), pixel_type_native(pixel_type_), memory.get(), file_space.get(), transfer_.get(), buffer),
      "cannot read frames " + std::to_string(first) + ".." + std::to_string(first + count - 1) + " of dataset '" +
          dataset_path_ + "' in '" + file_path_ + "'");
}

}  // namespace ptyroi
