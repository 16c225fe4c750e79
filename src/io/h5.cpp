#include "ptyroi/io/h5.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "ptyroi/io/file_paths.hpp"

namespace ptyroi::h5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

namespace {
bool release_failed = false;
}  // namespace

bool library_state_broken() { return release_failed; }

void Handle::reset() noexcept {
  if (id_ >= 0 && H5Iis_valid(id_) > 0 && H5Idec_ref(id_) < 0) {
    H5Eclear2(H5E_DEFAULT);
    release_failed = true;
  }
  id_ = H5I_INVALID_HID;
}

void silence_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {
herr_t keep_innermost(unsigned /*n*/, const H5E_error2_t* entry, void* client) {
  auto* message = static_cast<std::string*>(client);
  if (entry->desc != nullptr && entry->desc[0] != '\0') *message = entry->desc;
  return 0;
}
}  // namespace

std::string error_stack_message() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

namespace {
[[noreturn]] void fail(const std::string& what) {
  const std::string detail = error_stack_message();
  throw IoError(detail.empty() ? what : what + " (HDF5: " + detail + ")");
}
}  // namespace

Handle checked(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return Handle(id);
}

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

namespace {
// A file that exists but does not open is unusable input (truncated, not HDF5): InputError.
Handle open_checked(hid_t id, const std::string& path) {
  if (id >= 0) return Handle(id);
  std::string message = "cannot open '" + path + "' as an HDF5 file";
  const std::string detail = error_stack_message();
  if (!detail.empty()) message += " (HDF5: " + detail + ")";
  H5Eclear2(H5E_DEFAULT);
  throw InputError(message);
}
}  // namespace

Handle open_file_read(const std::string& path, MPI_Comm comm) {
  require_not_directory(path, "HDF5 file");
  Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file-access list");
  check(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), "cannot select the MPI-IO driver");
  return open_checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), path);
}

Handle open_file_read_serial(const std::string& path) {
  require_not_directory(path, "HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id >= 0) return Handle(id);
  // A file its writer holds open in SWMR mode opens only as a SWMR reader (sec2 allows it).
  const std::string detail = error_stack_message();
  H5Eclear2(H5E_DEFAULT);
  const hid_t swmr = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  if (swmr >= 0) return Handle(swmr);
  throw InputError("cannot open '" + path + "' as an HDF5 file" + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

Handle open_file_read_live(const std::string& path) {
  return open_checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT), path);
}

bool open_for_writing(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool writing = false;
  // The superblock is at 0, or after a user block at 512, 1024, 2048, ...
  for (off_t at = 0; at < (off_t{1} << 40); at = at == 0 ? 512 : at * 2) {
    unsigned char head[12] = {0};
    if (::pread(fd, head, sizeof head, at) != static_cast<ssize_t>(sizeof head)) break;
    if (std::memcmp(head, "\211HDF\r\n\032\n", 8) != 0) continue;
    // Versions 2 and 3 keep the file consistency flags at byte 11: 0x1 open for writing, 0x4 SWMR
    // writing. Earlier versions have none (and no SWMR writer).
    writing = head[8] >= 2 && (head[11] & 0x5) != 0;
    break;
  }
  ::close(fd);
  return writing;
}

std::vector<std::vector<hsize_t>> chunk_layer_origins(const std::vector<hsize_t>& dims,
                                                      const std::vector<hsize_t>& chunk, std::size_t frame_axis) {
  std::vector<std::vector<hsize_t>> layer{std::vector<hsize_t>(dims.size(), 0)};
  for (std::size_t axis = 0; axis < dims.size(); ++axis) {
    if (axis == frame_axis) continue;
    std::vector<std::vector<hsize_t>> grown;
    for (const auto& origin : layer) {
      for (hsize_t at = 0; at < dims[axis]; at += std::max<hsize_t>(chunk[axis], 1)) {
        grown.push_back(origin);
        grown.back()[axis] = at;
      }
    }
    layer.swap(grown);
  }
  return layer;
}

std::uint64_t complete_prefix(hid_t dataset, std::uint64_t known, std::uint64_t extent) {
  if (extent <= known) return extent;
  const std::vector<hsize_t> chunk = chunk_shape(dataset);
  if (chunk.empty()) return extent;  // fixed size: written whole or not at all
  const std::vector<hsize_t> dims = dataset_dims(dataset);
  std::vector<std::vector<hsize_t>> layer = chunk_layer_origins(dims, chunk, 0);
  const hsize_t depth = std::max<hsize_t>(chunk[0], 1);
  std::uint64_t complete = known - known % depth;
  for (hsize_t first = complete; first < extent; first += depth) {
    // A chunk reaching past the extent may still be filled: its frames count at the next look.
    if (first + depth > extent) break;
    for (auto& origin : layer) {
      origin[0] = first;
      hsize_t bytes = 0;
      if (H5Dget_chunk_storage_size(dataset, origin.data(), &bytes) < 0 || bytes == 0) {
        H5Eclear2(H5E_DEFAULT);
        return complete;
      }
    }
    complete = first + depth;
  }
  return complete;
}

Handle create_file(const std::string& path, MPI_Comm comm) {
  Handle fapl = checked(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file-access list");
  check(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), "cannot select the MPI-IO driver");
  // Versions 1.8+ of the format: compact links, no legacy limits on attribute size.
  check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), "cannot set the file format version");
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "cannot create '" + path + "'");
}

void bound_metadata_cache(hid_t object, std::size_t bytes) {
  Handle file = checked(H5Iget_file_id(object), "cannot find the file of an HDF5 object");
  H5AC_cache_config_t config;
  config.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  check(H5Fget_mdc_config(file.get(), &config), "cannot read the metadata-cache configuration");
  config.set_initial_size = true;
  config.initial_size = bytes;
  config.max_size = bytes;
  config.min_size = std::min(config.min_size, bytes);
  config.incr_mode = H5C_incr__off;
  config.flash_incr_mode = H5C_flash_incr__off;
  config.decr_mode = H5C_decr__off;
  check(H5Fset_mdc_config(file.get(), &config), "cannot bound the metadata cache");
}

std::string file_name(hid_t object) {
  const ssize_t size = H5Fget_name(object, nullptr, 0);
  if (size <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::string name(static_cast<std::size_t>(size) + 1, '\0');
  if (H5Fget_name(object, name.data(), name.size()) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  name.resize(static_cast<std::size_t>(size));
  return name;
}

bool object_exists(hid_t location, const std::string& path) {
  if (path.empty() || path == "/") return true;
  // H5Lexists must be asked for every component in turn: it fails on a missing parent.
  std::string::size_type position = path[0] == '/' ? 1 : 0;
  while (true) {
    const auto slash = path.find('/', position);
    const std::string prefix = path.substr(0, slash);
    if (H5Lexists(location, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (slash == std::string::npos) break;
    position = slash + 1;
  }
  // A dangling soft or external link exists as a link but not as an object.
  const htri_t resolves = H5Oexists_by_name(location, path.c_str(), H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  return resolves > 0;
}

bool is_dataset(hid_t location, const std::string& path) {
  if (!object_exists(location, path)) return false;
  H5O_info_t info;
  // Only the basic fields: asking for all of them walks a chunked dataset's whole chunk index
  // (to report its size), which costs memory in proportion to K.
  if (H5Oget_info_by_name2(location, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return info.type == H5O_TYPE_DATASET;
}

namespace {
// Why `path` exists as a link but does not resolve: a missing external file names that file.
std::string dangling_link_reason(hid_t location, const std::string& path) {
  H5L_info_t link;
  if (H5Lget_info(location, path.c_str(), &link, H5P_DEFAULT) < 0 || link.type != H5L_TYPE_EXTERNAL) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::vector<char> value(link.u.val_size + 1, '\0');
  const char* target_file = nullptr;
  const char* target_path = nullptr;
  if (H5Lget_val(location, path.c_str(), value.data(), value.size(), H5P_DEFAULT) < 0 ||
      H5Lunpack_elink_val(value.data(), value.size(), nullptr, &target_file, &target_path) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  return " is an external link to '" + std::string(target_path) + "' in '" + std::string(target_file) +
         "', which cannot be opened (missing file?)";
}
}  // namespace

Handle open_dataset(hid_t location, const std::string& path, const std::string& file_name) {
  if (!is_dataset(location, path)) {
    const std::string dangling = object_exists(location, path) ? "" : dangling_link_reason(location, path);
    if (!dangling.empty()) throw InputError("dataset '" + path + "' in '" + file_name + "'" + dangling);
    throw InputError("no dataset '" + path + "' in '" + file_name + "'");
  }
  return checked(H5Dopen2(location, path.c_str(), H5P_DEFAULT),
                 "cannot open dataset '" + path + "' in '" + file_name + "'");
}

std::vector<hsize_t> dataset_dims(hid_t dataset) {
  Handle space = checked(H5Dget_space(dataset), "cannot read a dataset's shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail("cannot read a dataset's rank");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "cannot read dims");
  return dims;
}

std::vector<hsize_t> chunk_shape(hid_t dataset) {
  Handle create = checked(H5Dget_create_plist(dataset), "cannot read the layout of a dataset");
  if (H5Pget_layout(create.get()) != H5D_CHUNKED) return {};
  std::vector<hsize_t> chunk(dataset_dims(dataset).size(), 1);
  check(H5Pget_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data()),
        "cannot read the chunk shape of a dataset");
  return chunk;
}

template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}
template <>
hid_t native_type<std::int32_t>() {
  return H5T_NATIVE_INT32;
}
template <>
hid_t native_type<std::uint32_t>() {
  return H5T_NATIVE_UINT32;
}
template <>
hid_t native_type<std::int16_t>() {
  return H5T_NATIVE_INT16;
}
template <>
hid_t native_type<std::uint16_t>() {
  return H5T_NATIVE_UINT16;
}
template <>
hid_t native_type<std::int8_t>() {
  return H5T_NATIVE_INT8;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}

template <class T>
std::vector<T> read_all(hid_t dataset) {
  hsize_t count = 1;
  for (hsize_t d : dataset_dims(dataset)) count *= d;
  std::vector<T> values(count);
  if (count > 0) {
    check(H5Dread(dataset, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "cannot read a dataset");
  }
  return values;
}
template std::vector<double> read_all<double>(hid_t);
template std::vector<std::int64_t> read_all<std::int64_t>(hid_t);
template std::vector<std::uint8_t> read_all<std::uint8_t>(hid_t);

Handle create_group(hid_t location, const std::string& path) {
  Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), "cannot create a link-creation list");
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot request intermediate groups");
  return checked(H5Gcreate2(location, path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create group '" + path + "'");
}

Handle create_dataset(hid_t location, const std::string& path, hid_t file_type, const std::vector<hsize_t>& dims,
                      hid_t create_plist, const std::vector<hsize_t>& max_dims) {
  Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), "cannot create a link-creation list");
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot request intermediate groups");
  Handle space = dims.empty() ? checked(H5Screate(H5S_SCALAR), "cannot create a scalar space")
                 : max_dims.empty()
                     ? memory_space(dims)
                     : checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()),
                               "cannot create a dataspace");
  return checked(H5Dcreate2(location, path.c_str(), file_type, space.get(), lcpl.get(), create_plist, H5P_DEFAULT),
                 "cannot create dataset '" + path + "'");
}

namespace {
void write_attribute_raw(hid_t object, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                         const void* data) {
  if (H5Aexists(object, name.c_str()) > 0) check(H5Adelete(object, name.c_str()), "cannot replace attribute " + name);
  Handle space = dims.empty() ? checked(H5Screate(H5S_SCALAR), "cannot create a scalar space") : memory_space(dims);
  Handle attribute = checked(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                             "cannot create attribute '" + name + "'");
  check(H5Awrite(attribute.get(), type, data), "cannot write attribute '" + name + "'");
}
}  // namespace

void write_attribute(hid_t object, const std::string& name, double value) {
  write_attribute_raw(object, name, H5T_NATIVE_DOUBLE, {}, &value);
}
void write_attribute(hid_t object, const std::string& name, std::int64_t value) {
  write_attribute_raw(object, name, H5T_NATIVE_INT64, {}, &value);
}
void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type = checked(H5Tcopy(H5T_C_S1), "cannot copy the string type");
  check(H5Tset_size(type.get(), value.empty() ? 1 : value.size()), "cannot size a string type");
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "cannot pad a string type");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "cannot set a string's character set");
  const std::string stored = value.empty() ? std::string(1, '\0') : value;
  write_attribute_raw(object, name, type.get(), {}, stored.data());
}
void write_attribute(hid_t object, const std::string& name, const std::vector<double>& values) {
  write_attribute_raw(object, name, H5T_NATIVE_DOUBLE, {values.size()}, values.data());
}
void write_attribute(hid_t object, const std::string& name, const std::vector<std::int64_t>& values) {
  write_attribute_raw(object, name, H5T_NATIVE_INT64, {values.size()}, values.data());
}

std::optional<double> read_number_attribute(hid_t object, const std::string& name) {
  const auto values = read_numbers_attribute(object, name);
  if (!values || values->size() != 1) return std::nullopt;
  return values->front();
}

std::optional<std::vector<double>> read_numbers_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attribute = checked(H5Aopen(object, name.c_str(), H5P_DEFAULT), "cannot open attribute " + name);
  Handle space = checked(H5Aget_space(attribute.get()), "cannot read the shape of attribute " + name);
  Handle type = checked(H5Aget_type(attribute.get()), "cannot read the type of attribute " + name);
  const H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_FLOAT && type_class != H5T_INTEGER) return std::nullopt;
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) fail("cannot read the size of attribute " + name);
  std::vector<double> values(static_cast<std::size_t>(count));
  if (count > 0) check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, values.data()), "cannot read attribute " + name);
  return values;
}

std::optional<std::string> read_string_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attribute = checked(H5Aopen(object, name.c_str(), H5P_DEFAULT), "cannot open attribute " + name);
  Handle type = checked(H5Aget_type(attribute.get()), "cannot read the type of attribute " + name);
  if (H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  // Read in the file's own string type (charset and padding included): no conversion needed.
  if (H5Tis_variable_str(type.get()) > 0) {
    char* text = nullptr;
    check(H5Aread(attribute.get(), type.get(), &text), "cannot read attribute " + name);
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  std::string value(H5Tget_size(type.get()) + 1, '\0');
  check(H5Aread(attribute.get(), type.get(), value.data()), "cannot read attribute " + name);
  return std::string(value.c_str());
}

Handle select_frames(hid_t dataset, hsize_t first, hsize_t count) {
  Handle space = checked(H5Dget_space(dataset), "cannot get a dataset's space");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "cannot read dims");
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> extent = dims;
  start[0] = first;
  extent[0] = count;
  if (count == 0) {
    check(H5Sselect_none(space.get()), "cannot select nothing");
  } else {
    check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr),
          "cannot select frames");
  }
  return space;
}

Handle memory_space(const std::vector<hsize_t>& dims) {
  return checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "cannot create a dataspace");
}

Handle transfer_plist(bool collective) {
  Handle dxpl = checked(H5Pcreate(H5P_DATASET_XFER), "cannot create a transfer list");
  check(H5Pset_dxpl_mpio(dxpl.get(), collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT),
        "cannot set the MPI-IO transfer mode");
  return dxpl;
}

hid_t native_type(PixelType type) {
  return visit_pixel_type(type, [](auto pixel) { return native_type<decltype(pixel)>(); });
}

namespace {
std::string type_class_name(H5T_class_t type_class) {
  const char* names[] = {"integer",  "float",     "time", "string",          "bitfield", "opaque",
                         "compound", "reference", "enum", "variable-length", "array"};
  return type_class >= 0 && type_class < 11 ? names[type_class] : "unknown";
}
}  // namespace

void require_numbers(hid_t dataset, const std::string& where) {
  Handle type = checked(H5Dget_type(dataset), "cannot read the type of " + where);
  const H5T_class_t type_class = H5Tget_class(type.get());
  // Enumerations convert through their integer base (h5py stores numpy bool as one).
  if (type_class == H5T_INTEGER || type_class == H5T_FLOAT || type_class == H5T_ENUM) return;
  const std::size_t bytes = H5Tget_size(type.get());
  const bool variable = H5Tis_variable_str(type.get()) > 0;
  throw InputError(where + " holds " + (variable ? std::string("variable-length") : std::to_string(bytes) + "-byte") +
                   " " + type_class_name(type_class) + " values; expected numbers (integer or float)");
}

PixelType classify_pixel_type(hid_t file_type, const std::string& where) {
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
  const std::string name = type_class_name(type_class);
  throw InputError(where + " holds " + std::to_string(bytes) + "-byte " + name +
                   " values; expected integer (8 to 64 bit) or float32/float64 pixels");
}

}  // namespace ptyroi::h5
