#include "ptyroi/roi_writer.hpp"

#include <sys/statvfs.h>
#include <unistd.h>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "ptyroi/fault_injection.hpp"
#include "ptyroi/interrupt.hpp"
#include "ptyroi/mpi.hpp"
#include "ptyroi/version.hpp"

namespace ptyroi {

std::string temporary_output_path(const std::string& output_file) { return output_file + ".partial"; }

namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Fails before writing when the subset cannot fit: better than ENOSPC halfway through.
void check_free_space(const std::string& path, std::uint64_t bytes_needed) {
  struct statvfs file_system {};
  const std::string directory = directory_of(path);
  if (statvfs(directory.c_str(), &file_system) != 0) return;  // unknown: let the write tell
  const std::uint64_t available = static_cast<std::uint64_t>(file_system.f_bavail) * file_system.f_frsize;
  if (available < bytes_needed) {
    throw IoError("not enough space for --output '" + path + "': about " + std::to_string(bytes_needed >> 20) +
                  " MiB needed, " + std::to_string(available >> 20) + " MiB free in '" + directory + "'");
  }
}

void check_writable(const std::string& path, const char* option, bool overwrite) {
  if (!overwrite && access(path.c_str(), F_OK) == 0) {
    throw UsageError(std::string(option) + " '" + path + "' already exists; pass --overwrite to replace it");
  }
  const std::string directory = directory_of(path);
  if (access(directory.c_str(), W_OK) != 0) {
    throw UsageError(std::string(option) + " '" + path + "': directory '" + directory + "' is not writable (" +
                     std::strerror(errno) + ")");
  }
}

}  // namespace

void check_output_paths(const Options& options) {
  if (!options.output_file.empty()) check_writable(options.output_file, "--output", options.overwrite);
  if (!options.summary_file.empty()) check_writable(options.summary_file, "--summary", true);
}

namespace {

// Removes the temporary file unless the write was committed; rank 0 owns the file name. Every
// rank registers it for removal on SIGTERM/SIGINT, whichever rank the signal reaches first.
class TemporaryOutput {
 public:
  TemporaryOutput(std::string path, bool owner) : path_(std::move(path)), owner_(owner), on_interrupt_(path_) {}
  TemporaryOutput(const TemporaryOutput&) = delete;
  TemporaryOutput& operator=(const TemporaryOutput&) = delete;
  ~TemporaryOutput() {
    if (owner_ && !committed_) std::remove(path_.c_str());
  }
  void commit_as(const std::string& final_path) {
    if (owner_ && std::rename(path_.c_str(), final_path.c_str()) != 0) {
      throw IoError("cannot rename '" + path_ + "' to '" + final_path + "': " + std::strerror(errno));
    }
    committed_ = true;
  }

 private:
  std::string path_;
  bool owner_;
  RemoveOnInterrupt on_interrupt_;
  bool committed_ = false;
};

template <class T>
void write_range(hid_t dataset, std::uint64_t first, const std::vector<T>& values, hid_t transfer) {
  if (values.empty()) return;
  const auto dims = h5::dataset_dims(dataset);
  std::vector<hsize_t> memory_dims = dims;
  memory_dims[0] = values.size() / (dims.size() > 1 ? dims[1] : 1);
  h5::Handle file_space = h5::select_frames(dataset, first, memory_dims[0]);
  h5::Handle memory = h5::memory_space(memory_dims);
  h5::check(H5Dwrite(dataset, h5::native_type<T>(), memory.get(), file_space.get(), transfer, values.data()),
            "cannot write to the output file");
}

template <class T>
h5::Handle per_frame_dataset(hid_t file, const std::string& path, std::uint64_t frames) {
  return h5::create_dataset(file, path, h5::native_type<T>(), {frames});
}

// The attributes of /roi: every parameter, the clusters, provenance and timings.
void write_record_attributes(hid_t roi, const RoiRun& run, const PhaseTimings& timings) {
  const Options& o = run.options;
  h5::write_attribute(roi, "software", std::string("ptyroi ") + version);
  h5::write_attribute(roi, "input_file", run.input_file);
  h5::write_attribute(roi, "input_dataset", run.dataset);
  h5::write_attribute(roi, "positions_source", run.positions.source);
  h5::write_attribute(roi, "grid_rows", run.grid.shape.rows);
  h5::write_attribute(roi, "grid_cols", run.grid.shape.cols);
  h5::write_attribute(roi, "grid_origin", run.grid.origin);
  h5::write_attribute(roi, "border_steps", std::int64_t{o.border_steps});
  h5::write_attribute(roi, "clusters", std::int64_t{o.clusters});
  h5::write_attribute(roi, "iterations", std::int64_t{o.iterations});
  h5::write_attribute(roi, "log_features", std::int64_t{o.use_log});
  h5::write_attribute(roi, "block_frames", static_cast<std::int64_t>(run.block_frames));
  h5::write_attribute(roi, "ranks", std::int64_t{run.ranks});
  h5::write_attribute(roi, "frames", static_cast<std::int64_t>(run.frames));
  h5::write_attribute(roi, "roi_frames", run.roi_frames);
  h5::write_attribute(roi, "frames_without_com", run.frames_without_com);
  h5::write_attribute(roi, "com_mean_xy", std::vector<double>{run.com.mean_x, run.com.mean_y});
  h5::write_attribute(roi, "com_std_xy", std::vector<double>{run.com.std_x, run.com.std_y});
  const auto centroids = [](const KMeansResult& k) {
    return std::vector<double>(k.centroids.data(), k.centroids.data() + k.centroids.size());
  };
  const auto sizes = [](const KMeansResult& k) {
    return std::vector<std::int64_t>(k.sizes.data(), k.sizes.data() + k.sizes.size());
  };
  h5::write_attribute(roi, "absorption_centroids", centroids(run.absorption.clusters));
  h5::write_attribute(roi, "absorption_cluster_sizes", sizes(run.absorption.clusters));
  h5::write_attribute(roi, "absorption_log_floor", run.absorption.log_floor);
  h5::write_attribute(roi, "scattering_centroids", centroids(run.scattering.clusters));
  h5::write_attribute(roi, "scattering_cluster_sizes", sizes(run.scattering.clusters));
  h5::write_attribute(roi, "scattering_log_floor", run.scattering.log_floor);
  h5::write_attribute(roi, "time_open_s", timings.open_s);
  h5::write_attribute(roi, "time_features_s", timings.features_s);
  h5::write_attribute(roi, "time_statistics_s", timings.statistics_s);
  h5::write_attribute(roi, "time_maps_s", timings.maps_s);
  h5::write_attribute(roi, "time_kmeans_s", timings.kmeans_s);
  h5::write_attribute(roi, "time_selection_s", timings.selection_s);
}

// Copies this rank's selected frames, in runs of consecutive frames, a block at a time.
void copy_selected_patterns(const RoiRun& run, const PatternStack& stack, hid_t data, std::uint64_t offset,
                            hid_t transfer) {
  const auto& selected = run.local_selected;
  const std::uint64_t block = run.block_frames;
  std::vector<double> buffer(
      (std::min<std::uint64_t>(block, std::max<std::size_t>(selected.size(), 1)) * stack.frame_bytes() +
       sizeof(double) - 1) /
      sizeof(double));
  std::size_t i = 0;
  while (i < selected.size()) {
    std::size_t count = 1;
    while (i + count < selected.size() && count < block && selected[i + count] == selected[i] + count) ++count;
    stack.read_frames(selected[i], count, buffer.data());
    h5::Handle file_space = h5::select_frames(data, offset + i, count);
    h5::Handle memory = h5::memory_space({count, stack.rows(), stack.cols()});
    h5::check(
        H5Dwrite(data, pixel_type_native(stack.pixel_type()), memory.get(), file_space.get(), transfer, buffer.data()),
        "cannot write patterns to '" + temporary_output_path(run.options.output_file) + "'");
    i += count;
  }
}

}  // namespace

void write_roi_file(const RoiRun& run, const PatternStack& stack, MPI_Comm comm) {
  const int me = mpi::rank(comm);
  const Options& o = run.options;
  mpi::run_phase(comm, [&] {
    if (me != 0) return;
    check_output_paths(o);
    // Patterns, per-frame records (~12 datasets of 8 bytes) and 1 MiB of metadata.
    const auto roi = static_cast<std::uint64_t>(run.roi_frames);
    check_free_space(o.output_file, (o.write_patterns ? roi * stack.frame_bytes() : 0) + run.frames * 96 + (1u << 20));
  });
  const PhaseTimings timings = max_over_ranks(run.timings, comm);
  const std::string temporary = temporary_output_path(o.output_file);
  TemporaryOutput guard(temporary, me == 0);
  {
    h5::Handle file;
    mpi::run_phase(comm, [&] { file = h5::create_file(temporary, comm); });
    const h5::Handle independent = h5::transfer_plist(false);
    const auto roi_frames = static_cast<std::uint64_t>(run.roi_frames);

    // Metadata: created identically on every rank (parallel HDF5 metadata is collective).
    h5::Handle cxi_version = h5::create_dataset(file.get(), "/cxi_version", H5T_NATIVE_INT64, {});
    h5::Handle translation =
        h5::create_dataset(file.get(), "/entry_1/sample_1/geometry_1/translation", H5T_NATIVE_DOUBLE, {roi_frames, 3});
    h5::Handle data;
    if (o.write_patterns) {
      h5::Handle create = h5::checked(H5Pcreate(H5P_DATASET_CREATE), "cannot create a dataset-creation list");
      const hsize_t chunk[3] = {1, stack.rows(), stack.cols()};  // one frame per chunk, as readers expect
      h5::check(H5Pset_chunk(create.get(), 3, chunk), "cannot set the pattern chunking");
      h5::check(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), "cannot disable fill values");
      data = h5::create_dataset(file.get(), "/entry_1/data_1/data", stack.file_type(),
                                {roi_frames, stack.rows(), stack.cols()}, create.get(),
                                {H5S_UNLIMITED, stack.rows(), stack.cols()});
    } else {
      h5::create_group(file.get(), "/entry_1/data_1");
    }
    h5::check(H5Lcreate_soft("/entry_1/sample_1/geometry_1/translation", file.get(), "/entry_1/data_1/translation",
                             H5P_DEFAULT, H5P_DEFAULT),
              "cannot link /entry_1/data_1/translation");

    h5::Handle roi = h5::create_group(file.get(), "/roi");
    h5::Handle indexes = per_frame_dataset<std::int64_t>(file.get(), "/roi/indexes", roi_frames);
    h5::Handle mask = per_frame_dataset<std::uint8_t>(file.get(), "/roi/mask", run.frames);
    h5::Handle positions_x = per_frame_dataset<double>(file.get(), "/roi/positions_x", run.frames);
    h5::Handle positions_y = per_frame_dataset<double>(file.get(), "/roi/positions_y", run.frames);
    const char* feature_names[] = {"total_intensity", "com_x",          "com_y",
                                   "com_magnitude",   "absorption_map", "scattering_map"};
    std::vector<h5::Handle> features;
    for (const char* name : feature_names) {
      features.push_back(per_frame_dataset<double>(file.get(), std::string("/roi/features/") + name, run.frames));
    }
    h5::Handle absorption_roi = per_frame_dataset<std::uint8_t>(file.get(), "/roi/features/absorption_roi", run.frames);
    h5::Handle scattering_roi = per_frame_dataset<std::uint8_t>(file.get(), "/roi/features/scattering_roi", run.frames);
    write_record_attributes(roi.get(), run, timings);

    const auto pattern_offset = static_cast<std::uint64_t>(
        mpi::exclusive_prefix_sum(comm, static_cast<std::int64_t>(run.local_selected.size())));
    // Raw data: rank-local, independent transfers; agreed on before the collective close.
    mpi::run_phase(comm, [&] {
      inject_fault("write", comm);
      if (me == 0) {
        const std::int64_t cxi_version_value = 150;
        h5::check(
            H5Dwrite(cxi_version.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, independent.get(), &cxi_version_value),
            "cannot write /cxi_version");
        std::vector<std::int64_t> roi_indexes;
        std::vector<double> roi_translation;
        for (std::uint64_t k = 0; k < run.frames; ++k) {
          if (!run.mask[k]) continue;
          roi_indexes.push_back(static_cast<std::int64_t>(k));
          roi_translation.insert(roi_translation.end(), {run.positions.x[k], run.positions.y[k], 0.0});
        }
        write_range(indexes.get(), 0, roi_indexes, independent.get());
        write_range(translation.get(), 0, roi_translation, independent.get());
        write_range(mask.get(), 0, run.mask, independent.get());
        write_range(positions_x.get(), 0, run.positions.x, independent.get());
        write_range(positions_y.get(), 0, run.positions.y, independent.get());
      }
      const std::size_t n = run.local.count();
      std::vector<std::vector<double>> local(6, std::vector<double>(n));
      const double nan = std::numeric_limits<double>::quiet_NaN();
      for (std::size_t i = 0; i < n; ++i) {
        const FrameFeatures& f = run.local_features[i];
        local[0][i] = f.total_intensity;
        local[1][i] = f.has_com ? f.com_x : nan;
        local[2][i] = f.has_com ? f.com_y : nan;
        local[3][i] = run.local_com_magnitude[i];
        local[4][i] = run.absorption.local_map[i];
        local[5][i] = run.scattering.local_map[i];
      }
      for (std::size_t j = 0; j < features.size(); ++j) {
        write_range(features[j].get(), run.local.begin, local[j], independent.get());
      }
      write_range(absorption_roi.get(), run.local.begin, run.absorption.local_roi, independent.get());
      write_range(scattering_roi.get(), run.local.begin, run.scattering.local_roi, independent.get());
      if (o.write_patterns) copy_selected_patterns(run, stack, data.get(), pattern_offset, independent.get());
    });
    // Handles close here, the file last (collectively), before the rename.
    features.clear();
  }
  mpi::run_phase(comm, [&] { guard.commit_as(o.output_file); });
}

}  // namespace ptyroi
