#include "ptyroi/io/roi_writer.hpp"

#include <sys/statvfs.h>
#include <unistd.h>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>

#include "ptyroi/app/fault_injection.hpp"
#include "ptyroi/app/file_paths.hpp"
#include "ptyroi/app/interrupt.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/version.hpp"

namespace ptyroi {

std::string temporary_output_path(const std::string& output_file) { return output_file + ".partial"; }

namespace {

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
  for (const auto& path : output_paths(options)) check_writable(path, "--output", options.overwrite);
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
  h5::write_attribute(roi, "input_layout", std::string(input_layout_name(run.layout)));
  h5::write_attribute(roi, "neighbourhood", run.neighbourhood->description());
  h5::write_attribute(roi, "scan_step_m", run.neighbourhood->step());
  h5::write_attribute(roi, "masks", run.mask_sources);
  h5::write_attribute(roi, "invalid_pixels", run.invalid_pixels);
  h5::write_attribute(roi, "fftshift", std::int64_t{o.fftshift});
  // The analysed (and written) window of each frame: first row, first column, rows, columns.
  h5::write_attribute(
      roi, "frame_window",
      std::vector<std::int64_t>{static_cast<std::int64_t>(run.selection.window_row),
                                static_cast<std::int64_t>(run.selection.window_col),
                                static_cast<std::int64_t>(run.rows), static_cast<std::int64_t>(run.cols)});
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

// Copies this rank's selected frames (the --crop window of each), in runs of consecutive frames,
// a block at a time, to `offset` onwards of `data`.
void copy_selected_patterns(const RoiRun& run, const PatternStack& stack, hid_t data, std::uint64_t offset,
                            hid_t transfer, const std::string& file_name) {
  const auto& selected = run.local_selected;
  const std::uint64_t block = run.block_frames;
  const std::size_t frame_bytes = run.rows * run.cols * pixel_type_size(stack.pixel_type());
  std::vector<double> buffer(
      (std::min<std::uint64_t>(block, std::max<std::size_t>(selected.size(), 1)) * frame_bytes + sizeof(double) - 1) /
      sizeof(double));
  const PixelSelection& window = run.selection;
  std::size_t i = 0;
  while (i < selected.size()) {
    std::size_t count = 1;
    while (i + count < selected.size() && count < block && selected[i + count] == selected[i] + count) ++count;
    stack.read_window(selected[i], count, window.window_row, window.window_col, run.rows, run.cols, buffer.data());
    h5::Handle file_space = h5::select_frames(data, offset + i, count);
    h5::Handle memory = h5::memory_space({count, run.rows, run.cols});
    h5::check(
        H5Dwrite(data, pixel_type_native(stack.pixel_type()), memory.get(), file_space.get(), transfer, buffer.data()),
        "cannot write patterns to '" + file_name + "'");
    i += count;
  }
}

// A pattern dataset [roi_frames, rows, cols] in the input's own type, contiguous: every frame is
// one run of bytes (as a frame chunk would be), and there is no chunk index — in the 1.8 file
// format readers such as MATLAB's need, that index is a v1 B-tree whose memory grows with the RoI.
h5::Handle create_pattern_dataset(hid_t file, const std::string& path, const RoiRun& run, hid_t file_type) {
  h5::Handle create = h5::checked(H5Pcreate(H5P_DATASET_CREATE), "cannot create a dataset-creation list");
  h5::check(H5Pset_layout(create.get(), H5D_CONTIGUOUS), "cannot set the pattern layout");
  h5::check(H5Pset_alloc_time(create.get(), H5D_ALLOC_TIME_EARLY), "cannot set the pattern allocation");
  h5::check(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), "cannot disable fill values");
  return h5::create_dataset(file, path, file_type, {static_cast<std::uint64_t>(run.roi_frames), run.rows, run.cols},
                            create.get());
}

// The datasets of the /roi record; created collectively, filled by write_roi_record_values.
struct RoiRecord {
  h5::Handle group, indexes, mask, positions_x, positions_y, absorption_roi, scattering_roi;
  std::vector<h5::Handle> features;
};

const char* const kFeatureNames[] = {"total_intensity", "com_x",          "com_y",
                                     "com_magnitude",   "absorption_map", "scattering_map"};

RoiRecord create_roi_record(hid_t file, const RoiRun& run, const PhaseTimings& timings) {
  const auto roi_frames = static_cast<std::uint64_t>(run.roi_frames);
  RoiRecord record;
  record.group = h5::create_group(file, "/roi");
  record.indexes = per_frame_dataset<std::int64_t>(file, "/roi/indexes", roi_frames);
  record.mask = per_frame_dataset<std::uint8_t>(file, "/roi/mask", run.frames);
  record.positions_x = per_frame_dataset<double>(file, "/roi/positions_x", run.frames);
  record.positions_y = per_frame_dataset<double>(file, "/roi/positions_y", run.frames);
  for (const char* name : kFeatureNames) {
    record.features.push_back(per_frame_dataset<double>(file, std::string("/roi/features/") + name, run.frames));
  }
  record.absorption_roi = per_frame_dataset<std::uint8_t>(file, "/roi/features/absorption_roi", run.frames);
  record.scattering_roi = per_frame_dataset<std::uint8_t>(file, "/roi/features/scattering_roi", run.frames);
  write_record_attributes(record.group.get(), run, timings);
  return record;
}

std::vector<std::int64_t> roi_indexes(const RoiRun& run) {
  std::vector<std::int64_t> indexes;
  for (std::uint64_t k = 0; k < run.frames; ++k) {
    if (run.mask[k]) indexes.push_back(static_cast<std::int64_t>(k));
  }
  return indexes;
}

// Rank 0 writes the whole-scan records, every rank its own frames' features.
void write_roi_record_values(const RoiRecord& record, const RoiRun& run, hid_t transfer, int rank) {
  if (rank == 0) {
    write_range(record.indexes.get(), 0, roi_indexes(run), transfer);
    write_range(record.mask.get(), 0, run.mask, transfer);
    write_range(record.positions_x.get(), 0, run.positions.x, transfer);
    write_range(record.positions_y.get(), 0, run.positions.y, transfer);
  }
  // One feature column at a time, in one reused buffer (kFeatureNames order).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::function<double(std::size_t)> feature_of[] = {
      [&](std::size_t i) { return run.local_features[i].total_intensity; },
      [&](std::size_t i) { return run.local_features[i].has_com ? run.local_features[i].com_x : nan; },
      [&](std::size_t i) { return run.local_features[i].has_com ? run.local_features[i].com_y : nan; },
      [&](std::size_t i) { return run.local_com_magnitude[i]; },
      [&](std::size_t i) { return run.absorption.local_map[i]; },
      [&](std::size_t i) { return run.scattering.local_map[i]; }};
  static_assert(std::size(feature_of) == std::size(kFeatureNames));
  std::vector<double> column(run.local.count());
  for (std::size_t j = 0; j < record.features.size(); ++j) {
    for (std::size_t i = 0; i < column.size(); ++i) column[i] = feature_of[j](i);
    write_range(record.features[j].get(), run.local.begin, column, transfer);
  }
  write_range(record.absorption_roi.get(), run.local.begin, run.absorption.local_roi, transfer);
  write_range(record.scattering_roi.get(), run.local.begin, run.scattering.local_roi, transfer);
}

// Positions of the RoI frames, in RoI order.
void roi_positions(const RoiRun& run, std::vector<double>& x, std::vector<double>& y) {
  for (std::uint64_t k = 0; k < run.frames; ++k) {
    if (!run.mask[k]) continue;
    x.push_back(run.positions.x[k]);
    y.push_back(run.positions.y[k]);
  }
}

// The bad pixels of the analysed window (1 = bad): the masks, not per-frame exclusions.
std::vector<std::uint8_t> window_bad_pixels(const RoiRun& run, std::uint64_t stack_cols) {
  std::vector<std::uint8_t> bad(run.rows * run.cols, 0);
  const auto& good = run.selection.good_pixels;
  if (good.empty()) return bad;
  for (std::uint64_t r = 0; r < run.rows; ++r) {
    for (std::uint64_t c = 0; c < run.cols; ++c) {
      bad[r * run.cols + c] = good[(run.selection.window_row + r) * stack_cols + run.selection.window_col + c] ? 0 : 1;
    }
  }
  return bad;
}

}  // namespace

std::vector<std::string> output_paths(const Options& options) {
  if (options.output_file.empty()) return {};
  if (options.format != "ptychoshelves") return {options.output_file};
  std::string prefix = options.output_file;
  for (const std::string suffix : {"_dp.hdf5", ".hdf5", ".h5"}) {
    if (prefix.size() > suffix.size() && prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0) {
      prefix.resize(prefix.size() - suffix.size());
      break;
    }
  }
  return {prefix + "_dp.hdf5", prefix + "_para.hdf5"};
}

void write_roi_file(const RoiRun& run, const PatternStack& stack, MPI_Comm comm) {
  const int me = mpi::rank(comm);
  const Options& o = run.options;
  const std::vector<std::string> paths = output_paths(o);
  const std::uint64_t frame_bytes = run.rows * run.cols * pixel_type_size(stack.pixel_type());
  mpi::run_phase(comm, [&] {
    if (me != 0) return;
    check_output_paths(o);
    // Patterns, per-frame records (~12 datasets of 8 bytes) and 1 MiB of metadata.
    const auto roi = static_cast<std::uint64_t>(run.roi_frames);
    check_free_space(paths.front(), (o.write_patterns ? roi * frame_bytes : 0) + run.frames * 96 + (1u << 20));
  });
  const PhaseTimings timings = max_over_ranks(run.timings, comm);
  std::vector<std::unique_ptr<TemporaryOutput>> guards;
  for (const auto& path : paths)
    guards.push_back(std::make_unique<TemporaryOutput>(temporary_output_path(path), me == 0));
  {
    std::vector<h5::Handle> files(paths.size());
    mpi::run_phase(comm, [&] {
      for (std::size_t i = 0; i < paths.size(); ++i) files[i] = h5::create_file(temporary_output_path(paths[i]), comm);
    });
    const hid_t file = files.front().get();
    const std::string file_name = temporary_output_path(paths.front());
    const h5::Handle independent = h5::transfer_plist(false);
    const auto roi_frames = static_cast<std::uint64_t>(run.roi_frames);
    const bool with_patterns = o.write_patterns && o.format != "mask-only";

    // Metadata: created identically on every rank (parallel HDF5 metadata is collective).
    h5::Handle cxi_version, patterns, translation, position_indexes, position_x, position_y, bad_pixels, pp_x, pp_y;
    if (o.format == "cxi") {
      cxi_version = h5::create_dataset(file, "/cxi_version", H5T_NATIVE_INT64, {});
      translation =
          h5::create_dataset(file, "/entry_1/sample_1/geometry_1/translation", H5T_NATIVE_DOUBLE, {roi_frames, 3});
      if (with_patterns) {
        patterns = create_pattern_dataset(file, "/entry_1/data_1/data", run, stack.file_type());
      } else {
        h5::create_group(file, "/entry_1/data_1");
      }
      h5::check(H5Lcreate_soft("/entry_1/sample_1/geometry_1/translation", file, "/entry_1/data_1/translation",
                               H5P_DEFAULT, H5P_DEFAULT),
                "cannot link /entry_1/data_1/translation");
    } else if (o.format == "ptychodus") {
      if (with_patterns) patterns = create_pattern_dataset(file, "/patterns", run, stack.file_type());
      position_indexes = per_frame_dataset<std::int64_t>(file, "/indexes", roi_frames);
      bad_pixels = h5::create_dataset(file, "/bad_pixels", H5T_NATIVE_UINT8, {run.rows, run.cols});
      position_x = per_frame_dataset<double>(file, "/probe_position_x_m", roi_frames);
      position_y = per_frame_dataset<double>(file, "/probe_position_y_m", roi_frames);
    } else if (o.format == "ptychoshelves") {
      if (with_patterns) patterns = create_pattern_dataset(file, "/dp", run, stack.file_type());
      pp_x = per_frame_dataset<double>(files[1].get(), "/ppX", roi_frames);
      pp_y = per_frame_dataset<double>(files[1].get(), "/ppY", roi_frames);
    }
    const RoiRecord record = create_roi_record(file, run, timings);

    const auto pattern_offset = static_cast<std::uint64_t>(
        mpi::exclusive_prefix_sum(comm, static_cast<std::int64_t>(run.local_selected.size())));
    // Raw data: rank-local, independent transfers; agreed on before the collective close.
    mpi::run_phase(comm, [&] {
      inject_fault("write", comm);
      if (me == 0) {
        std::vector<double> x, y;
        roi_positions(run, x, y);
        if (o.format == "cxi") {
          const std::int64_t version_150 = 150;
          h5::check(H5Dwrite(cxi_version.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, independent.get(), &version_150),
                    "cannot write /cxi_version to '" + file_name + "'");
          std::vector<double> xyz;
          for (std::size_t i = 0; i < x.size(); ++i) xyz.insert(xyz.end(), {x[i], y[i], 0.0});
          write_range(translation.get(), 0, xyz, independent.get());
        } else if (o.format == "ptychodus") {
          write_range(position_indexes.get(), 0, roi_indexes(run), independent.get());
          write_range(position_x.get(), 0, x, independent.get());
          write_range(position_y.get(), 0, y, independent.get());
          const std::vector<std::uint8_t> bad = window_bad_pixels(run, stack.cols());
          h5::check(H5Dwrite(bad_pixels.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, independent.get(), bad.data()),
                    "cannot write /bad_pixels to '" + file_name + "'");
        } else if (o.format == "ptychoshelves") {
          write_range(pp_x.get(), 0, x, independent.get());
          write_range(pp_y.get(), 0, y, independent.get());
        }
      }
      write_roi_record_values(record, run, independent.get(), me);
      if (with_patterns) {
        copy_selected_patterns(run, stack, patterns.get(), pattern_offset, independent.get(), file_name);
      }
    });
    // Handles close here, the files last (collectively), before the renames.
  }
  mpi::run_phase(comm, [&] {
    for (std::size_t i = 0; i < paths.size(); ++i) guards[i]->commit_as(paths[i]);
  });
}

}  // namespace ptyroi
