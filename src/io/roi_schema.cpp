#include "ptyroi/io/roi_schema.hpp"

#include <functional>
#include <iterator>
#include <limits>
#include <tuple>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

namespace {

const char* const kFeatureNames[] = {"total_intensity", "com_x",          "com_y",
                                     "com_magnitude",   "absorption_map", "scattering_map"};

template <class T>
h5::Handle per_frame_dataset(hid_t file, const std::string& path, std::uint64_t frames) {
  return h5::create_dataset(file, path, h5::native_type<T>(), {frames});
}

template <class T>
void write_slice(hid_t dataset, std::uint64_t first, const std::vector<T>& values, hid_t transfer) {
  if (values.empty()) return;
  h5::Handle file_space = h5::select_frames(dataset, first, values.size());
  h5::Handle memory = h5::memory_space({values.size()});
  h5::check(H5Dwrite(dataset, h5::native_type<T>(), memory.get(), file_space.get(), transfer, values.data()),
            "cannot write the /roi record");
}

std::vector<double> centroids(const KMeansResult& k) {
  return {k.centroids.data(), k.centroids.data() + k.centroids.size()};
}
std::vector<std::int64_t> sizes(const KMeansResult& k) { return {k.sizes.data(), k.sizes.data() + k.sizes.size()}; }

// What the record says about the instrument, for the written frames of rows × cols.
void write_instrument(hid_t roi, const InstrumentMetadata& m, const WrittenFrames& written) {
  std::string sources;
  const auto source = [&](const char* what, const std::optional<InstrumentValue>& value) {
    if (value) sources += (sources.empty() ? "" : "; ") + std::string(what) + ": " + value->source;
  };
  if (const auto energy = m.photon_energy_J()) {
    h5::write_attribute(roi, "energy_J", *energy);
    h5::write_attribute(roi, "energy_keV", *energy / (1e3 * kElectronVolt));
    h5::write_attribute(roi, "wavelength_m", *m.wavelength_m());
  }
  source("energy", m.energy);
  source("wavelength", m.wavelength);
  if (m.distance) h5::write_attribute(roi, "distance_m", m.distance->value);
  source("distance", m.distance);
  if (m.has_pixel_size()) {
    h5::write_attribute(roi, "detector_pixel_size_m",
                        std::vector<double>{m.pixel_size_x->value, m.pixel_size_y->value});
  }
  source("pixel size x", m.pixel_size_x);
  source("pixel size y", m.pixel_size_y);
  const auto dx = m.object_pixel_x_m(written.cols), dy = m.object_pixel_y_m(written.rows);
  if (dx && dy) h5::write_attribute(roi, "object_pixel_size_m", std::vector<double>{*dx, *dy});
  if (written.beam_center) {
    h5::write_attribute(roi, "beam_center_xy",
                        std::vector<double>{written.beam_center->first, written.beam_center->second});
  }
  source("beam centre x", m.beam_center_x);
  source("beam centre y", m.beam_center_y);
  if (!sources.empty()) h5::write_attribute(roi, "instrument_sources", sources);
}

void write_attributes(hid_t roi, const RoiResult& result, const ScanPositions& positions, const PixelSelection& pixels,
                      const RoiRecordInfo& info) {
  const RoiParameters& p = result.parameters;
  const ScanNeighbourhood& scan = *result.neighbourhood;
  h5::write_attribute(roi, "software", info.software);
  h5::write_attribute(roi, roi_schema::input_file, info.input_file);
  h5::write_attribute(roi, "input_dataset", info.input_dataset);
  h5::write_attribute(roi, "input_layout", info.input_layout);
  h5::write_attribute(roi, "positions_source", positions.source);
  h5::write_attribute(roi, "grid_rows", scan.grid().shape.rows);
  h5::write_attribute(roi, "grid_cols", scan.grid().shape.cols);
  h5::write_attribute(roi, "grid_origin", scan.grid().origin);
  h5::write_attribute(roi, "neighbourhood", scan.description(positions.unit));
  h5::write_attribute(roi, "scan_step_m", positions.unit == "m" ? scan.step() : 0.0);
  h5::write_attribute(roi, "positions_unit", positions.unit);
  h5::write_attribute(roi, "masks", info.masks);
  h5::write_attribute(roi, "invalid_pixels", result.invalid_pixels);
  h5::write_attribute(roi, roi_schema::fftshift, std::int64_t{pixels.fftshift});
  h5::write_attribute(roi, "zero_frequency", info.zero_frequency);
  h5::write_attribute(roi, roi_schema::frame_window,
                      std::vector<std::int64_t>{
                          static_cast<std::int64_t>(pixels.window_row), static_cast<std::int64_t>(pixels.window_col),
                          static_cast<std::int64_t>(result.rows), static_cast<std::int64_t>(result.cols)});
  h5::write_attribute(roi, "border_steps", std::int64_t{p.border_steps});
  h5::write_attribute(roi, "clusters", std::int64_t{p.clusters});
  h5::write_attribute(roi, "iterations", std::int64_t{p.iterations});
  h5::write_attribute(roi, "log_features", std::int64_t{p.log_features});
  h5::write_attribute(roi, "block_frames", static_cast<std::int64_t>(result.block_frames));
  h5::write_attribute(roi, "ranks", std::int64_t{result.ranks});
  h5::write_attribute(roi, "frames", static_cast<std::int64_t>(result.frames));
  h5::write_attribute(roi, "roi_frames", result.roi_frames);
  h5::write_attribute(roi, "frames_without_com", result.frames_without_com);
  h5::write_attribute(roi, "missing_frames", result.missing_frames);
  h5::write_attribute(roi, "com_mean_xy", std::vector<double>{result.com.mean_x, result.com.mean_y});
  h5::write_attribute(roi, "com_std_xy", std::vector<double>{result.com.std_x, result.com.std_y});
  h5::write_attribute(roi, "absorption_centroids", centroids(result.absorption.clusters));
  h5::write_attribute(roi, "absorption_cluster_sizes", sizes(result.absorption.clusters));
  h5::write_attribute(roi, "absorption_log_floor", result.absorption.log_floor);
  h5::write_attribute(roi, "scattering_centroids", centroids(result.scattering.clusters));
  h5::write_attribute(roi, "scattering_cluster_sizes", sizes(result.scattering.clusters));
  h5::write_attribute(roi, "scattering_log_floor", result.scattering.log_floor);
  for (const auto& [name, map] : {std::pair<const char*, const MapClusters*>{"absorption", &result.absorption},
                                  std::pair<const char*, const MapClusters*>{"scattering", &result.scattering}}) {
    const ContrastTest& c = map->contrast;
    const std::string prefix = std::string(name) + "_contrast_";
    h5::write_attribute(roi, prefix + "tested", std::int64_t{c.tested});
    h5::write_attribute(roi, prefix + "score", c.score);  // +inf: a noise-free map with a gap
    h5::write_attribute(roi, prefix + "noise", c.noise);
    h5::write_attribute(roi, prefix + "gap", c.gap);
    h5::write_attribute(roi, prefix + "threshold", c.threshold);
    h5::write_attribute(roi, prefix + "has_contrast", std::int64_t{c.has_contrast});
  }
  h5::write_attribute(roi, "whole_scan", std::int64_t{result.whole_scan});
  const RoiTimings& t = result.timings;
  for (const auto& [name, seconds] : std::vector<std::pair<std::string, double>>{{"features_s", t.features_s},
                                                                                 {"statistics_s", t.statistics_s},
                                                                                 {"maps_s", t.maps_s},
                                                                                 {"kmeans_s", t.kmeans_s},
                                                                                 {"selection_s", t.selection_s}}) {
    h5::write_attribute(roi, "time_" + name, seconds);
  }
  for (const auto& [name, seconds] : info.timings) h5::write_attribute(roi, "time_" + name, seconds);
}

}  // namespace

RoiRecordWriter::RoiRecordWriter(hid_t file, const RoiResult& result, const ScanPositions& positions,
                                 const PixelSelection& pixels, const RoiRecordInfo& info,
                                 const WrittenFrames& written) {
  const std::uint64_t frames = result.frames;
  group_ = h5::create_group(file, roi_schema::group);
  indexes_ = per_frame_dataset<std::int64_t>(file, roi_schema::indexes, static_cast<std::uint64_t>(result.roi_frames));
  mask_ = per_frame_dataset<std::uint8_t>(file, roi_schema::mask, frames);
  positions_x_ = per_frame_dataset<double>(file, roi_schema::positions_x, frames);
  positions_y_ = per_frame_dataset<double>(file, roi_schema::positions_y, frames);
  for (const char* name : kFeatureNames) {
    features_.push_back(per_frame_dataset<double>(file, std::string(roi_schema::features) + "/" + name, frames));
  }
  absorption_roi_ =
      per_frame_dataset<std::uint8_t>(file, std::string(roi_schema::features) + "/absorption_roi", frames);
  scattering_roi_ =
      per_frame_dataset<std::uint8_t>(file, std::string(roi_schema::features) + "/scattering_roi", frames);
  good_pixels_ = h5::create_dataset(file, roi_schema::good_pixels, H5T_STD_U8LE, {written.rows, written.cols});
  good_pixels_values_.resize(written.bad_pixels.size());
  for (std::size_t i = 0; i < written.bad_pixels.size(); ++i) good_pixels_values_[i] = written.bad_pixels[i] ? 0 : 1;
  write_attributes(group_.get(), result, positions, pixels, info);
  h5::write_attribute(group_.get(), roi_schema::patterns_layout,
                      std::string(written.layout.corner ? "corner" : "centred"));
  h5::write_attribute(group_.get(), "pattern_type", std::string(pixel_type_name(written.pixel_type)));
  h5::write_attribute(group_.get(), "bad_pixels_zeroed", std::int64_t{written.layout.zero_bad_pixels});
  write_instrument(group_.get(), info.instrument, written);
  if (info.partitions != nullptr) {
    const ScanPartitions& parts = *info.partitions;
    partitions_ = info.partitions;
    partition_ = info.partition;
    partition_labels_ = per_frame_dataset<std::int32_t>(file, roi_schema::partition, frames);
    h5::Handle group = h5::create_group(file, roi_schema::partitions);
    h5::write_attribute(group.get(), "parts", std::int64_t{parts.parts});
    h5::write_attribute(group.get(), "halo_m", parts.halo);
    h5::write_attribute(group.get(), "halo_unit", positions.unit);  // "steps" for a --grid without positions
    h5::write_attribute(group.get(), "method", std::string("recursive coordinate bisection"));
    const auto total = [](const std::vector<std::vector<std::uint64_t>>& lists) {
      std::uint64_t n = 0;
      for (const auto& list : lists) n += list.size();
      return n;
    };
    const auto offsets = static_cast<std::uint64_t>(parts.parts) + 1;
    core_frames_ = per_frame_dataset<std::int64_t>(file, roi_schema::partition_core_frames, total(parts.core));
    core_offsets_ = per_frame_dataset<std::int64_t>(file, roi_schema::partition_core_offsets, offsets);
    halo_frames_ = per_frame_dataset<std::int64_t>(file, roi_schema::partition_halo_frames, total(parts.halo_of));
    halo_offsets_ = per_frame_dataset<std::int64_t>(file, roi_schema::partition_halo_offsets, offsets);
    if (partition_ >= 0) {
      h5::write_attribute(group_.get(), roi_schema::partition_index, std::int64_t{partition_});
      partition_core_ = per_frame_dataset<std::uint8_t>(file, roi_schema::partition_core,
                                                        static_cast<std::uint64_t>(result.roi_frames));
    }
  }
}

void RoiRecordWriter::write_zeroed_pixels(std::int64_t zeroed) const {
  h5::write_attribute(group_.get(), "zeroed_pixel_values", zeroed);
}

void RoiRecordWriter::write_local(const RoiResult& result, const ScanPositions& positions, std::uint64_t roi_offset,
                                  hid_t transfer) const {
  // Once, by the rank holding frame 0.
  if (result.local.begin == 0 && result.local.count() > 0 && !good_pixels_values_.empty()) {
    h5::check(H5Dwrite(good_pixels_.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, transfer, good_pixels_values_.data()),
              "cannot write " + std::string(roi_schema::good_pixels));
  }
  const FrameRange local = result.local;
  // Positions may be held for all frames or for this rank's share only (first_frame).
  const auto first = static_cast<std::ptrdiff_t>(local.begin - positions.first_frame);
  const auto last = static_cast<std::ptrdiff_t>(local.end - positions.first_frame);
  write_slice(indexes_.get(), roi_offset,
              std::vector<std::int64_t>(result.local_selected.begin(), result.local_selected.end()), transfer);
  write_slice(mask_.get(), local.begin, result.local_mask, transfer);
  write_slice(positions_x_.get(), local.begin,
              std::vector<double>(positions.x.begin() + first, positions.x.begin() + last), transfer);
  write_slice(positions_y_.get(), local.begin,
              std::vector<double>(positions.y.begin() + first, positions.y.begin() + last), transfer);
  // One feature column at a time, in one reused buffer (kFeatureNames order).
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto& f = result.local_features;
  const std::function<double(std::size_t)> feature_of[] = {
      [&](std::size_t i) { return f[i].total_intensity; },
      [&](std::size_t i) { return f[i].has_com ? f[i].com_x : nan; },
      [&](std::size_t i) { return f[i].has_com ? f[i].com_y : nan; },
      [&](std::size_t i) { return result.local_com_magnitude[i]; },
      [&](std::size_t i) { return result.absorption.local_map[i]; },
      [&](std::size_t i) { return result.scattering.local_map[i]; }};
  static_assert(std::size(feature_of) == std::size(kFeatureNames));
  std::vector<double> column(local.count());
  for (std::size_t j = 0; j < features_.size(); ++j) {
    for (std::size_t i = 0; i < column.size(); ++i) column[i] = feature_of[j](i);
    write_slice(features_[j].get(), local.begin, column, transfer);
  }
  write_slice(absorption_roi_.get(), local.begin, result.absorption.local_roi, transfer);
  write_slice(scattering_roi_.get(), local.begin, result.scattering.local_roi, transfer);
  if (partitions_ == nullptr) return;
  const ScanPartitions& parts = *partitions_;
  write_slice(partition_labels_.get(), local.begin,
              std::vector<std::int32_t>(parts.label.begin() + static_cast<std::ptrdiff_t>(local.begin),
                                        parts.label.begin() + static_cast<std::ptrdiff_t>(local.end)),
              transfer);
  if (partition_ >= 0) {
    std::vector<std::uint8_t> core;
    for (const std::uint64_t k : result.local_selected) core.push_back(parts.label[k] == partition_ ? 1 : 0);
    write_slice(partition_core_.get(), roi_offset, core, transfer);
  }
  // The lists, once, by the rank holding frame 0 (as the good pixels).
  if (result.local.begin == 0 && result.local.count() > 0) {
    for (const auto& [lists, frames_dataset, offsets_dataset] :
         {std::tuple{&parts.core, &core_frames_, &core_offsets_},
          std::tuple{&parts.halo_of, &halo_frames_, &halo_offsets_}}) {
      std::vector<std::int64_t> frames, offsets{0};
      for (const auto& list : *lists) {
        frames.insert(frames.end(), list.begin(), list.end());
        offsets.push_back(static_cast<std::int64_t>(frames.size()));
      }
      write_slice(frames_dataset->get(), 0, frames, transfer);
      write_slice(offsets_dataset->get(), 0, offsets, transfer);
    }
  }
}

bool has_roi_record(hid_t file) {
  return h5::is_dataset(file, roi_schema::mask) && h5::is_dataset(file, roi_schema::indexes) &&
         h5::is_dataset(file, roi_schema::positions_x) && h5::is_dataset(file, roi_schema::positions_y);
}

RoiRecord read_roi_record(hid_t file, const std::string& file_name) {
  if (!has_roi_record(file)) {
    throw InputError("'" + file_name + "' holds no ptyroi record (" + roi_schema::mask + ", " + roi_schema::indexes +
                     ", " + roi_schema::positions_x + ", " + roi_schema::positions_y + ")");
  }
  RoiRecord record;
  const auto read = [&](const char* path) { return h5::open_dataset(file, path, file_name); };
  for (const double m : h5::read_all<double>(read(roi_schema::mask).get())) record.mask.push_back(m != 0.0);
  record.indexes = h5::read_all<std::int64_t>(read(roi_schema::indexes).get());
  record.positions_x = h5::read_all<double>(read(roi_schema::positions_x).get());
  record.positions_y = h5::read_all<double>(read(roi_schema::positions_y).get());
  const std::size_t frames = record.mask.size();
  if (record.positions_x.size() != frames || record.positions_y.size() != frames) {
    throw InputError("the ptyroi record of '" + file_name + "' has " + std::to_string(frames) + " mask values but " +
                     std::to_string(record.positions_x.size()) + " positions");
  }
  std::size_t in_roi = 0;
  for (const auto m : record.mask) in_roi += m;
  if (record.indexes.size() != in_roi) {
    throw InputError("the ptyroi record of '" + file_name + "' lists " + std::to_string(record.indexes.size()) +
                     " RoI frames but its mask holds " + std::to_string(in_roi));
  }
  for (const char* name : kFeatureNames) {
    const std::string path = std::string(roi_schema::features) + "/" + name;
    if (h5::is_dataset(file, path)) record.features.emplace_back(name, h5::read_all<double>(read(path.c_str()).get()));
  }
  h5::Handle group =
      h5::checked(H5Oopen(file, roi_schema::group, H5P_DEFAULT), "cannot open /roi in '" + file_name + "'");
  record.input_file = h5::read_string_attribute(group.get(), roi_schema::input_file).value_or("");
  record.fftshift = h5::read_number_attribute(group.get(), roi_schema::fftshift).value_or(0.0) != 0.0;
  // Files before patterns_layout existed hold the frames as stored.
  record.patterns_at_corner = h5::read_string_attribute(group.get(), roi_schema::patterns_layout)
                                  .value_or(record.fftshift ? "corner" : "centred") == "corner";
  if (const auto window = h5::read_numbers_attribute(group.get(), roi_schema::frame_window);
      window && window->size() == 4) {
    for (std::size_t i = 0; i < 4; ++i) record.frame_window[i] = static_cast<std::int64_t>((*window)[i]);
  }
  if (h5::is_dataset(file, roi_schema::partition)) {
    for (const std::int64_t label : h5::read_all<std::int64_t>(read(roi_schema::partition).get())) {
      record.partition.push_back(static_cast<std::int32_t>(label));
    }
    if (record.partition.size() != frames) {
      throw InputError("the ptyroi record of '" + file_name + "' has " + std::to_string(record.partition.size()) +
                       " partition labels for " + std::to_string(frames) + " frames");
    }
    const auto lists = [&](const char* frames_path, const char* offsets_path) {
      const std::vector<std::int64_t> values = h5::read_all<std::int64_t>(read(frames_path).get());
      const std::vector<std::int64_t> offsets = h5::read_all<std::int64_t>(read(offsets_path).get());
      std::vector<std::vector<std::int64_t>> result;
      for (std::size_t p = 0; p + 1 < offsets.size(); ++p) {
        if (offsets[p] < 0 || offsets[p] > offsets[p + 1] ||
            offsets[p + 1] > static_cast<std::int64_t>(values.size())) {
          throw InputError("the ptyroi record of '" + file_name + "': " + offsets_path + " does not index " +
                           frames_path);
        }
        result.emplace_back(values.begin() + offsets[p], values.begin() + offsets[p + 1]);
      }
      return result;
    };
    record.partition_core_frames = lists(roi_schema::partition_core_frames, roi_schema::partition_core_offsets);
    record.partition_halo_frames = lists(roi_schema::partition_halo_frames, roi_schema::partition_halo_offsets);
    h5::Handle partitions =
        h5::checked(H5Oopen(file, roi_schema::partitions, H5P_DEFAULT),
                    "cannot open " + std::string(roi_schema::partitions) + " in '" + file_name + "'");
    record.partition_halo_m = h5::read_number_attribute(partitions.get(), "halo_m").value_or(0.0);
    record.partition_index =
        static_cast<int>(h5::read_number_attribute(group.get(), roi_schema::partition_index).value_or(-1.0));
    if (h5::is_dataset(file, roi_schema::partition_core)) {
      record.partition_core = h5::read_all<std::uint8_t>(read(roi_schema::partition_core).get());
    }
  }
  return record;
}

}  // namespace ptyroi
