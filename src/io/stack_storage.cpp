#include "ptyroi/io/stack_storage.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"

namespace ptyroi {

namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool readable_file(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), R_OK) == 0;
}

// Where HDF5 1.10 finds a VDS source file (H5F_prefix_open_file): an absolute name as it is (else
// its last component), then each directory of $HDF5_VDS_PREFIX ("${ORIGIN}" = the VDS file's
// directory), then the VDS file's directory, then the name as given. Empty: none exists.
std::string resolve_source(const std::string& name, const std::string& vds_file) {
  if (name == ".") return vds_file;
  std::string base = name;
  if (!name.empty() && name.front() == '/') {
    if (readable_file(name)) return name;
    base = name.substr(name.rfind('/') + 1);
  }
  const std::string origin = directory_of(vds_file);
  if (const char* prefixes = std::getenv("HDF5_VDS_PREFIX"); prefixes != nullptr && *prefixes != '\0') {
    std::string list = prefixes;
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t colon = std::min(list.find(':', start), list.size());
      std::string prefix = list.substr(start, colon - start);
      if (const auto at = prefix.find("${ORIGIN}"); at != std::string::npos) prefix.replace(at, 9, origin);
      if (!prefix.empty() && readable_file(prefix + "/" + base)) return prefix + "/" + base;
      start = colon + 1;
    }
  }
  if (readable_file(origin + "/" + base)) return origin + "/" + base;
  if (readable_file(base)) return base;
  return {};
}

template <class Get>
std::string read_name(Get get) {
  const ssize_t length = get(nullptr, 0);
  if (length < 0) return {};
  std::string name(static_cast<std::size_t>(length) + 1, '\0');
  if (get(name.data(), name.size()) < 0) return {};
  name.resize(static_cast<std::size_t>(length));
  return name;
}

}  // namespace

bool is_virtual(hid_t dataset) {
  h5::Handle create(H5Dget_create_plist(dataset));
  return create && H5Pget_layout(create.get()) == H5D_VIRTUAL;
}

std::vector<VirtualSource> virtual_sources(hid_t dataset, const std::string& vds_file, std::size_t frame_axis) {
  std::vector<VirtualSource> sources;
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the layout of a dataset");
  if (H5Pget_layout(create.get()) != H5D_VIRTUAL) return sources;
  std::size_t count = 0;
  h5::check(H5Pget_virtual_count(create.get(), &count), "cannot count the sources of a virtual dataset");
  for (std::size_t i = 0; i < count; ++i) {
    VirtualSource source;
    source.file =
        read_name([&](char* text, std::size_t size) { return H5Pget_virtual_filename(create.get(), i, text, size); });
    source.dataset =
        read_name([&](char* text, std::size_t size) { return H5Pget_virtual_dsetname(create.get(), i, text, size); });
    h5::Handle space(H5Pget_virtual_vspace(create.get(), i));
    const int rank = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank > 0 && static_cast<std::size_t>(rank) > frame_axis) {
      std::vector<hsize_t> low(static_cast<std::size_t>(rank)), high(static_cast<std::size_t>(rank));
      if (H5Sget_select_npoints(space.get()) > 0 && H5Sget_select_bounds(space.get(), low.data(), high.data()) >= 0) {
        source.first_frame = low[frame_axis];
        source.end_frame = high[frame_axis] + 1;
      }
    }
    H5Eclear2(H5E_DEFAULT);
    // Printf-style names (%b, %%) of unlimited mappings are not resolved here.
    source.resolved = source.file.find('%') == std::string::npos ? resolve_source(source.file, vds_file) : source.file;
    sources.push_back(std::move(source));
  }
  return sources;
}

void check_virtual_sources(const std::vector<VirtualSource>& sources, const std::string& where) {
  for (const VirtualSource& source : sources) {
    if (source.file.find('%') != std::string::npos) continue;
    const std::string frames =
        ", frames " + std::to_string(source.first_frame) + ".." + std::to_string(source.end_frame - 1);
    if (source.resolved.empty()) {
      throw InputError(where + " is a virtual dataset whose source file '" + source.file + "' (dataset '" +
                       source.dataset + "'" + frames + ") does not exist: its frames would read as fill values");
    }
    const h5::Handle file(H5Fopen(source.resolved.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    H5Eclear2(H5E_DEFAULT);
    if (!file) {
      throw InputError(where + " is a virtual dataset whose source file '" + source.resolved + "' (" +
                       frames.substr(2) + ") cannot be opened as an HDF5 file");
    }
    if (!h5::is_dataset(file.get(), source.dataset)) {
      throw InputError(where + " is a virtual dataset whose source dataset '" + source.dataset + "' is not in '" +
                       source.resolved + "' (" + frames.substr(2) + "): its frames would read as fill values");
    }
  }
}

void check_storage_within_file(hid_t dataset, const std::string& file, const std::string& where) {
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the layout of " + where);
  if (H5Pget_layout(create.get()) != H5D_CONTIGUOUS) return;
  const haddr_t offset = H5Dget_offset(dataset);
  H5Eclear2(H5E_DEFAULT);
  if (offset == HADDR_UNDEF) return;  // never written (or external storage): unwritten_frames says
  const hsize_t bytes = H5Dget_storage_size(dataset);
  struct stat info {};
  if (stat(file.c_str(), &info) != 0) return;  // opened a moment ago: the read will say
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (offset + bytes > size) {
    throw InputError(where + " is stored in bytes " + std::to_string(offset) + ".." + std::to_string(offset + bytes) +
                     " but '" + file + "' holds only " + std::to_string(size) +
                     " bytes: the file is truncated (an incomplete copy or transfer?)");
  }
}

bool all_chunks_written(hid_t dataset) {
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the layout of a dataset");
  const H5D_layout_t layout = H5Pget_layout(create.get());
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t offset = H5Dget_offset(dataset);
    H5Eclear2(H5E_DEFAULT);
    return offset != HADDR_UNDEF || H5Pget_external_count(create.get()) > 0;
  }
  if (layout != H5D_CHUNKED) return true;
  const auto dims = h5::dataset_dims(dataset);
  const std::vector<hsize_t> chunk = h5::chunk_shape(dataset);
  hsize_t expected = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) expected *= (dims[d] + chunk[d] - 1) / chunk[d];
  if (expected == 0) return true;
  hsize_t written = 0;
  // HDF5 1.10 wants the dataset's own dataspace here (not H5S_ALL); the count ignores its selection.
  h5::Handle space = h5::checked(H5Dget_space(dataset), "cannot get the dataspace of a dataset");
  h5::check(H5Dget_num_chunks(dataset, space.get(), &written), "cannot count the written chunks of a dataset");
  return written >= expected;
}

std::vector<FrameRange> unwritten_frames(hid_t dataset, std::uint64_t first, std::uint64_t end,
                                         std::size_t frame_axis) {
  std::vector<FrameRange> gaps;
  if (first >= end) return gaps;
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the layout of a dataset");
  const H5D_layout_t layout = H5Pget_layout(create.get());
  if (layout == H5D_CONTIGUOUS) {
    if (!all_chunks_written(dataset)) gaps.push_back({first, end});
    return gaps;
  }
  if (layout != H5D_CHUNKED) return gaps;
  const auto dims = h5::dataset_dims(dataset);
  const std::vector<hsize_t> chunk = h5::chunk_shape(dataset);
  std::vector<std::vector<hsize_t>> layer = h5::chunk_layer_origins(dims, chunk, frame_axis);
  const hsize_t depth = std::max<hsize_t>(chunk[frame_axis], 1);
  for (hsize_t origin = first - first % depth; origin < end; origin += depth) {
    bool written = true;
    for (auto& at : layer) {
      at[frame_axis] = origin;
      hsize_t bytes = 0;
      // A lookup in the chunk index; it fails for a chunk never written.
      if (H5Dget_chunk_storage_size(dataset, at.data(), &bytes) < 0 || bytes == 0) {
        H5Eclear2(H5E_DEFAULT);
        written = false;
        break;
      }
    }
    if (written) continue;
    const FrameRange gap{std::max<std::uint64_t>(origin, first), std::min<std::uint64_t>(origin + depth, end)};
    if (!gaps.empty() && gaps.back().end == gap.begin) {
      gaps.back().end = gap.end;
    } else {
      gaps.push_back(gap);
    }
  }
  return gaps;
}

}  // namespace ptyroi
