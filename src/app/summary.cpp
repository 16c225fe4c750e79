#include "ptyroi/app/summary.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/app/interrupt.hpp"
#include "ptyroi/io/roi_writer.hpp"
#include "ptyroi/version.hpp"

namespace ptyroi {

namespace {

double fraction(std::int64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::int64_t masked_pixels(const RoiRun& run) {
  std::int64_t bad = 0;
  for (auto good : run.selection.good_pixels) bad += good == 0;
  return bad;
}

double read_rate_gb_s(const RoiRun& run) {
  return run.timings.features_s > 0 ? static_cast<double>(run.bytes_read) / run.timings.features_s / 1e9 : 0.0;
}

nlohmann::ordered_json clusters_json(const MapClusters& map, int selected) {
  const auto& k = map.clusters;
  return {{"centroids", std::vector<double>(k.centroids.data(), k.centroids.data() + k.centroids.size())},
          {"cluster_sizes", std::vector<std::int64_t>(k.sizes.data(), k.sizes.data() + k.sizes.size())},
          {"selected_cluster", selected},
          {"roi_frames", map.roi_frames},
          {"log_floor", map.log_floor}};
}

}  // namespace

std::string summary_json(const RoiRun& run) {
  const Options& o = run.options;
  const PhaseTimings& t = run.timings;
  nlohmann::ordered_json summary = {
      {"software", std::string("ptyroi ") + version},
      {"input",
       {{"file", run.input_file},
        {"dataset", run.dataset},
        {"frame_shape", {run.rows, run.cols}},
        {"pixel_type", pixel_type_name(run.pixel_type)},
        {"positions", run.positions.source}}},
      {"input_layout", input_layout_name(run.layout)},
      {"data_files", run.data_files},
      {"frame_shape", {run.rows, run.cols}},
      {"grid", {{"rows", run.grid.shape.rows}, {"cols", run.grid.shape.cols}, {"origin", run.grid.origin}}},
      {"neighbourhood", run.neighbourhood->description()},
      {"scan_step_m", run.neighbourhood->step()},
      {"positions_source", run.positions.source},
      {"parameters",
       {{"border_steps", o.border_steps},
        {"clusters", o.clusters},
        {"iterations", o.iterations},
        {"feature", o.use_log ? "log" : "linear"},
        {"block_frames", run.block_frames},
        {"ranks", run.ranks}}},
      {"frames", run.frames},
      {"roi_frames", run.roi_frames},
      {"roi_fraction", fraction(run.roi_frames, run.frames)},
      {"frames_without_signal", run.frames_without_com},
      {"non_finite_pixels", run.non_finite_pixels},
      {"masked_pixels_per_frame", masked_pixels(run)},
      {"masks", run.mask_sources},
      {"invalid_pixels", run.invalid_pixels},
      {"com", {{"mean_xy", {run.com.mean_x, run.com.mean_y}}, {"std_xy", {run.com.std_x, run.com.std_y}}}},
      {"absorption", clusters_json(run.absorption, 0)},
      {"scattering", clusters_json(run.scattering, o.clusters - 1)},
      {"bytes_read", run.bytes_read},
      {"read_gb_per_s", read_rate_gb_s(run)},
      {"output", o.output_file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(output_paths(o))},
      {"format", o.format},
      {"patterns_written", !o.output_file.empty() && o.write_patterns},
      {"timings",
       {{"open_s", t.open_s},
        {"features_s", t.features_s},
        {"statistics_s", t.statistics_s},
        {"maps_s", t.maps_s},
        {"kmeans_s", t.kmeans_s},
        {"selection_s", t.selection_s},
        {"write_s", t.write_s},
        {"total_s", t.total_s}}}};
  return summary.dump(2) + "\n";
}

std::string summary_text(const RoiRun& run) {
  const Options& o = run.options;
  const PhaseTimings& t = run.timings;
  std::ostringstream out;
  out << std::fixed;
  out << "ptyroi " << version << ": " << run.input_file << ":" << run.dataset << "  " << run.frames << " frames of "
      << run.rows << "x" << run.cols << " " << pixel_type_name(run.pixel_type) << " (" << input_layout_name(run.layout)
      << (run.data_files > 1 ? ", " + std::to_string(run.data_files) + " data files" : std::string()) << "), "
      << run.ranks << " ranks\n";
  out << "  scan           " << run.neighbourhood->description() << "\n";
  out << std::setprecision(1) << "  RoI            " << run.roi_frames << " of " << run.frames << " frames ("
      << 100.0 * fraction(run.roi_frames, run.frames) << "%), border " << o.border_steps << "\n";
  const auto cluster_line = [&](const char* name, const MapClusters& map, int selected) {
    out << "  " << name;
    for (Eigen::Index c = 0; c < map.clusters.centroids.size(); ++c) {
      out << (c == 0 ? " " : ", ") << "cluster " << c << ": " << map.clusters.sizes[c] << " frames at "
          << std::setprecision(3) << map.clusters.centroids[c];
    }
    out << "  -> selected " << selected << "\n";
  };
  cluster_line(o.use_log ? "absorption (log T)  " : "absorption (T)      ", run.absorption, 0);
  cluster_line(o.use_log ? "scattering (log |c|)" : "scattering (|c|)    ", run.scattering, o.clusters - 1);
  if (run.frames_without_com > 0) {
    out << "  " << run.frames_without_com << " frames have no signal (T <= 0): no centre of mass, |c| taken as 0\n";
  }
  if (!run.selection.good_pixels.empty()) {
    out << "  mask           " << masked_pixels(run) << " bad pixels per frame left out (" << run.mask_sources << ")\n";
  }
  if (run.invalid_pixels > 0) {
    out << "  " << run.invalid_pixels << " pixel values above --max-valid or at the detector's flag value left out\n";
  }
  if (run.non_finite_pixels > 0) {
    out << "  " << run.non_finite_pixels << " NaN/Inf pixels left out of the sums\n";
  }
  out << std::setprecision(3) << "  read           " << static_cast<double>(run.bytes_read) / 1e9 << " GB in "
      << t.features_s << " s (" << read_rate_gb_s(run) << " GB/s)\n";
  out << "  timings (s)    open " << t.open_s << ", features " << t.features_s << ", statistics " << t.statistics_s
      << ", maps " << t.maps_s << ", k-means " << t.kmeans_s << ", selection " << t.selection_s << ", write "
      << t.write_s << ", total " << t.total_s << "\n";
  for (const auto& path : output_paths(o)) {
    out << "  wrote          " << path << " (" << o.format << (o.write_patterns ? "" : ", RoI record only, no patterns")
        << ")\n";
  }
  return out.str();
}

void write_text_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".partial";
  const RemoveOnInterrupt on_interrupt(temporary);
  {
    std::ofstream file(temporary, std::ios::trunc);
    if (!(file << text) || !file.flush()) {
      std::remove(temporary.c_str());
      throw IoError("cannot write '" + path + "': " + std::strerror(errno));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
}

}  // namespace ptyroi
