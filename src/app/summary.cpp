#include "ptyroi/app/summary.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/partition_outputs.hpp"
#include "ptyroi/version.hpp"

namespace ptyroi {

namespace {

double fraction(std::int64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::int64_t masked_pixels(const ScanRun& run) {
  std::int64_t bad = 0;
  for (auto good : run.selection.good_pixels) bad += good == 0;
  return bad;
}

double read_rate_gb_s(const ScanRun& run) {
  return run.result.timings.features_s > 0
             ? static_cast<double>(run.result.bytes_read) / run.result.timings.features_s / 1e9
             : 0.0;
}

// A number, or null when it is not finite (JSON has no infinity).
nlohmann::ordered_json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json contrast_json(const ContrastTest& c) {
  if (!c.tested) return {{"tested", false}};
  return {{"tested", true},
          {"score", finite_or_null(c.score)},  // null: infinite (a noise-free map with a gap)
          {"gap", c.gap},
          {"noise", c.noise},
          {"threshold", c.threshold},
          {"has_contrast", c.has_contrast}};
}

nlohmann::ordered_json clusters_json(const MapClusters& map) {
  const auto& k = map.clusters;
  return {{"centroids", std::vector<double>(k.centroids.data(), k.centroids.data() + k.centroids.size())},
          {"cluster_sizes", std::vector<std::int64_t>(k.sizes.data(), k.sizes.data() + k.sizes.size())},
          {"selected_cluster", map.selected_cluster},
          {"contrast", contrast_json(map.contrast)},
          {"roi_frames", map.roi_frames},
          {"log_floor", map.log_floor}};
}

std::string contrast_text(const ContrastTest& c) {
  if (!c.tested) return "";
  std::ostringstream out;
  out << std::setprecision(3);
  if (c.has_contrast) {
    out << "; contrast " << c.score << " >= " << c.threshold;
  } else {
    out << "; NO contrast (" << c.score << " < " << c.threshold << "): selects nothing";
  }
  return out.str();
}

nlohmann::ordered_json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

// Energy, distance, pixel sizes and the object pixel λz/(N·p) of the analysed (written) frames.
nlohmann::ordered_json instrument_json(const ScanRun& run) {
  const InstrumentMetadata& m = run.instrument;
  const auto energy = m.photon_energy_J();
  const auto dx = m.object_pixel_x_m(run.result.cols), dy = m.object_pixel_y_m(run.result.rows);
  std::string sources;
  for (const auto& [what, value] :
       {std::pair{"energy", &m.energy}, std::pair{"wavelength", &m.wavelength}, std::pair{"distance", &m.distance},
        std::pair{"pixel size x", &m.pixel_size_x}, std::pair{"pixel size y", &m.pixel_size_y}}) {
    if (*value) sources += (sources.empty() ? "" : "; ") + std::string(what) + ": " + (*value)->source;
  }
  return {{"energy_keV", energy ? nlohmann::ordered_json(*energy / (1e3 * kElectronVolt)) : nullptr},
          {"wavelength_m", optional_json(m.wavelength_m())},
          {"distance_m", m.distance ? nlohmann::ordered_json(m.distance->value) : nullptr},
          {"detector_pixel_size_m",
           m.has_pixel_size() ? nlohmann::ordered_json({m.pixel_size_x->value, m.pixel_size_y->value}) : nullptr},
          {"object_pixel_size_m", dx && dy ? nlohmann::ordered_json({*dx, *dy}) : nullptr},
          {"sources", sources}};
}

nlohmann::ordered_json probe_json(const ScanRun& run) {
  if (!run.probe_border) return nullptr;
  const ProbeBorder& p = *run.probe_border;
  return {{"assumption", "focused probe: r0 = 0.61 lambda / sin(alpha), tan(alpha) = a p / z"},
          {"sampled_frames", p.sampled_frames},
          {"disc_radius_px", p.disc.radius},
          {"disc_centre_xy", {p.disc.centre_x, p.disc.centre_y}},
          {"convergence_semi_angle_rad", p.semi_angle_rad},
          {"probe_radius_m", p.radius_m},
          {"scan_step_m", p.step_m},
          {"border_steps", p.steps}};
}

nlohmann::ordered_json plan_json(const ScanRun& run) {
  if (!run.planning.plan) return nullptr;
  const FineScanPlan& p = *run.planning.plan;
  return {{"file", run.options.plan_file},
          {"pattern", plan_pattern_name(p.pattern)},
          {"step_m", p.step},
          {"points", p.points()},
          {"field_points", p.field_points},
          {"share_of_field", p.share()},
          {"pieces", p.pieces},
          {"path_length_m", p.path_length},
          {"typewriter_path_length_m", p.naive_path_length}};
}

nlohmann::ordered_json partitions_json(const ScanRun& run) {
  if (!run.planning.partitions) return nullptr;
  const ScanPartitions& p = *run.planning.partitions;
  std::vector<std::uint64_t> sizes, halos;
  for (const auto& core : p.core) sizes.push_back(core.size());
  for (const auto& halo : p.halo_of) halos.push_back(halo.size());
  nlohmann::ordered_json files = nullptr;
  if (run.options.partition_files) {
    files = nlohmann::ordered_json::array();
    for (int part = 0; part < p.parts; ++part) {
      files.push_back(partition_output(roi_output(run.options), part, p.parts).paths());
    }
  }
  return {{"parts", p.parts},
          {"method", "recursive coordinate bisection"},
          {"halo", p.halo},
          {"halo_unit", run.planning.unit},
          {"sizes", sizes},
          {"halo_sizes", halos},
          {"halo_frames_per_roi_frame",
           run.result.roi_frames > 0 ? static_cast<double>(p.halo_frames()) / static_cast<double>(run.result.roi_frames)
                                     : 0.0},
          {"boundary_fraction", run.planning.boundary_fraction},
          {"row_stripes_boundary_fraction", run.planning.stripes_boundary_fraction},
          {"files", files}};
}

}  // namespace

std::string no_background_notice(const RoiResult& r) {
  std::ostringstream out;
  out << std::setprecision(3) << "no background found: neither map has contrast (absorption "
      << r.absorption.contrast.score << ", scattering " << r.scattering.contrast.score << " < "
      << r.absorption.contrast.threshold << "), so every frame is the RoI; --no-contrast-test splits the maps anyway";
  return out.str();
}

namespace {

nlohmann::ordered_json follow_json(const FollowStatus& f) {
  return {{"state", f.state},
          {"frames_done", f.frames_done},
          {"frames_classified", f.frames_classified},
          {"frames_expected", f.frames_expected ? nlohmann::ordered_json(*f.frames_expected) : nullptr},
          {"updates", f.updates},
          {"elapsed_s", f.elapsed_s},
          {"since_last_frame_s", f.since_last_frame_s},
          {"note", f.note.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.note)},
          {"live_mask", f.live_mask.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.live_mask)}};
}

}  // namespace

std::string follow_waiting_json(const ScanRun& run, const FollowStatus& follow) {
  const nlohmann::ordered_json summary = {{"software", std::string("ptyroi ") + version},
                                          {"follow", follow_json(follow)},
                                          {"input", {{"file", run.options.input_file}}},
                                          {"frames", follow.frames_classified},
                                          {"roi_frames", nullptr}};
  return summary.dump(2) + "\n";
}

std::string summary_json(const ScanRun& run) {
  const FollowStatus* follow = run.follow ? &*run.follow : nullptr;
  const Options& o = run.options;
  const RoiResult& r = run.result;
  const RoiTimings& t = r.timings;
  const RunTimings& a = run.timings;
  const std::vector<std::string> outputs = roi_output(o).paths();
  nlohmann::ordered_json summary = {
      {"software", std::string("ptyroi ") + version},
      {"input",
       {{"file", run.input_file},
        {"dataset", run.dataset},
        {"frame_shape", {r.rows, r.cols}},
        {"pixel_type", pixel_type_name(run.pixel_type)},
        {"positions", run.scan.positions.source}}},
      {"input_layout", input_layout_name(run.layout)},
      {"data_files", run.data_files},
      {"frame_shape", {r.rows, r.cols}},
      {"grid",
       {{"rows", r.neighbourhood->grid().shape.rows},
        {"cols", r.neighbourhood->grid().shape.cols},
        {"origin", r.neighbourhood->grid().origin}}},
      {"neighbourhood", r.neighbourhood->description(run.scan.positions.unit)},
      {"scan_step_m", run.scan.positions.unit == "m" ? nlohmann::ordered_json(r.neighbourhood->step())
                                                     : nlohmann::ordered_json(nullptr)},
      {"scan_step", r.neighbourhood->step()},
      {"positions_unit", run.scan.positions.unit},
      {"positions_source", run.scan.positions.source},
      {"incident_flux", run.scan.incident_flux.empty() ? nlohmann::ordered_json(nullptr)
                                                       : nlohmann::ordered_json(run.scan.incident_flux_source)},
      {"parameters",
       {{"border_steps", r.parameters.border_steps},
        {"border_auto", o.border_auto},
        {"clusters", o.clusters},
        {"iterations", o.iterations},
        {"feature", o.use_log ? "log" : "linear"},
        {"block_frames", r.block_frames},
        {"ranks", r.ranks},
        {"work_sharing", r.work_shared},
        {"frames_taken_over", r.helped_frames}}},
      {"frames", r.frames},
      {"roi_frames", r.roi_frames},
      {"roi_fraction", fraction(r.roi_frames, r.frames)},
      {"whole_scan", r.whole_scan},
      {"notice", r.whole_scan ? nlohmann::ordered_json(no_background_notice(r)) : nlohmann::ordered_json(nullptr)},
      {"frames_without_signal", r.frames_without_com},
      {"missing_frames", r.missing_frames},
      {"non_finite_pixels", r.non_finite_pixels},
      {"masked_pixels_per_frame", masked_pixels(run)},
      {"masks", run.mask_sources},
      {"zero_frequency", run.zero_frequency},
      {"fftshift", run.selection.fftshift},
      {"invalid_pixels", r.invalid_pixels},
      {"com", {{"mean_xy", {r.com.mean_x, r.com.mean_y}}, {"std_xy", {r.com.std_x, r.com.std_y}}}},
      {"absorption", clusters_json(r.absorption)},
      {"scattering", clusters_json(r.scattering)},
      {"bytes_read", r.bytes_read},
      {"read_gb_per_s", read_rate_gb_s(run)},
      {"output", outputs.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(outputs)},
      {"format", o.format},
      {"instrument", instrument_json(run)},
      {"warnings", run.warnings},
      {"patterns_written", !o.output_file.empty() && o.write_patterns},
      {"probe", probe_json(run)},
      {"plan", plan_json(run)},
      {"partitions", partitions_json(run)},
      {"timings",
       {{"open_s", a.open_s},
        {"features_s", t.features_s},
        {"statistics_s", t.statistics_s},
        {"maps_s", t.maps_s},
        {"kmeans_s", t.kmeans_s},
        {"selection_s", t.selection_s},
        {"write_s", a.write_s},
        {"plan_s", run.planning.seconds},
        {"total_s", a.total_s}}}};
  if (!follow) return summary.dump(2) + "\n";
  // The live state right after "software", where a display polling the file looks first.
  nlohmann::ordered_json with_follow;
  for (auto item = summary.begin(); item != summary.end(); ++item) {
    with_follow[item.key()] = item.value();
    if (item.key() == "software") with_follow["follow"] = follow_json(*follow);
  }
  return with_follow.dump(2) + "\n";
}

std::string summary_text(const ScanRun& run) {
  const Options& o = run.options;
  const RoiResult& r = run.result;
  const RoiTimings& t = r.timings;
  const RunTimings& a = run.timings;
  const std::vector<std::string> outputs = roi_output(o).paths();
  std::ostringstream out;
  out << std::fixed;
  out << "ptyroi " << version << ": " << run.input_file << ":" << run.dataset << "  " << r.frames << " frames of "
      << r.rows << "x" << r.cols << " " << pixel_type_name(run.pixel_type) << " (" << input_layout_name(run.layout)
      << (run.data_files > 1 ? ", " + std::to_string(run.data_files) + " data files" : std::string()) << "), "
      << r.ranks << " ranks\n";
  out << "  scan           " << r.neighbourhood->description(run.scan.positions.unit) << "\n";
  out << std::setprecision(1) << "  RoI            " << r.roi_frames << " of " << r.frames << " frames ("
      << 100.0 * fraction(r.roi_frames, r.frames) << "%), border " << r.parameters.border_steps;
  if (run.probe_border) {
    const ProbeBorder& p = *run.probe_border;
    out << std::setprecision(3) << " (auto: focused probe radius " << p.radius_m * 1e9
        << " nm from a bright-field disc of " << p.disc.radius << " px, alpha " << p.semi_angle_rad * 1e3
        << " mrad; scan step " << p.step_m * 1e9 << " nm)";
  }
  out << "\n";
  const auto cluster_line = [&](const char* name, const MapClusters& map) {
    out << "  " << name;
    for (Eigen::Index c = 0; c < map.clusters.centroids.size(); ++c) {
      out << (c == 0 ? " " : ", ") << "cluster " << c << ": " << map.clusters.sizes[c] << " frames at "
          << std::setprecision(3) << map.clusters.centroids[c];
    }
    out << "  -> selected " << map.selected_cluster << contrast_text(map.contrast) << "\n";
  };
  cluster_line(o.use_log ? "absorption (log T)  " : "absorption (T)      ", r.absorption);
  cluster_line(o.use_log ? "scattering (log |c|)" : "scattering (|c|)    ", r.scattering);
  if (r.whole_scan) out << "  " << no_background_notice(r) << "\n";
  if (r.flux_normalised) out << "  absorption map of T / incident flux from " << run.scan.incident_flux_source << "\n";
  if (r.missing_frames > 0) {
    out << "  " << r.missing_frames
        << " frames missing (chunks never written, --allow-missing-frames): left out of the statistics, maps and RoI\n";
  }
  if (r.frames_without_com > 0) {
    out << "  " << r.frames_without_com << " frames have no signal (T <= 0): no centre of mass, |c| taken as 0\n";
  }
  out << "  zero frequency " << run.zero_frequency << (run.selection.fftshift ? ": frames centred by fftshift" : "")
      << "\n";
  if (!run.selection.good_pixels.empty()) {
    out << "  mask           " << masked_pixels(run) << " bad pixels per frame left out (" << run.mask_sources << ")\n";
  }
  if (r.invalid_pixels > 0) {
    out << "  " << r.invalid_pixels << " pixel values above --max-valid or at the detector's flag value left out\n";
  }
  if (r.non_finite_pixels > 0) {
    out << "  " << r.non_finite_pixels << " NaN/Inf pixels left out of the sums\n";
  }
  if (const auto energy = run.instrument.photon_energy_J()) {
    out << std::setprecision(4) << "  instrument     " << *energy / (1e3 * kElectronVolt) << " keV";
    if (run.instrument.distance) out << ", distance " << run.instrument.distance->value << " m";
    if (const auto dx = run.instrument.object_pixel_x_m(r.cols)) {
      out << std::scientific << std::setprecision(3) << ", object pixel " << *dx << " m" << std::fixed;
    }
    out << "\n";
  }
  out << std::setprecision(3) << "  read           " << static_cast<double>(r.bytes_read) / 1e9 << " GB in "
      << t.features_s << " s (" << read_rate_gb_s(run) << " GB/s)";
  if (r.helped_frames > 0) out << "; " << r.helped_frames << " frames taken over from busier ranks";
  out << "\n";
  out << "  timings (s)    open " << a.open_s << ", features " << t.features_s << ", statistics " << t.statistics_s
      << ", maps " << t.maps_s << ", k-means " << t.kmeans_s << ", selection " << t.selection_s << ", write "
      << a.write_s << ", total " << a.total_s << "\n";
  if (run.planning.plan) {
    const FineScanPlan& p = *run.planning.plan;
    out << std::setprecision(1) << "  plan           " << p.points() << " points, " << plan_pattern_name(p.pattern)
        << " at step " << std::setprecision(3) << std::scientific << p.step << " m" << std::fixed
        << std::setprecision(1) << ": " << 100.0 * p.share() << "% of the " << p.field_points
        << " of a fine raster over the scan's field; stage path " << std::setprecision(3) << std::scientific
        << p.path_length << " m (typewriter rows " << p.naive_path_length << " m)" << std::fixed << "\n";
  }
  if (run.planning.partitions) {
    const ScanPartitions& p = *run.planning.partitions;
    out << "  partitions     " << p.parts << " of " << p.smallest() << ".." << p.largest()
        << " frames (recursive coordinate bisection), halo " << std::setprecision(3) << std::scientific << p.halo
        << (run.planning.unit == "m" ? " m" : " " + run.planning.unit) << std::fixed << ": " << p.halo_frames()
        << " halo frames (" << std::setprecision(2)
        << (r.roi_frames > 0 ? static_cast<double>(p.halo_frames()) / static_cast<double>(r.roi_frames) : 0.0)
        << " per RoI frame); boundary frames " << std::setprecision(1) << 100.0 * run.planning.boundary_fraction
        << "% (stripes of rows: " << 100.0 * run.planning.stripes_boundary_fraction << "%)\n";
  }
  for (const std::string& warning : run.warnings) out << "  note           " << warning << "\n";
  for (const auto& path : outputs) {
    out << "  wrote          " << path << " (" << o.format << (o.write_patterns ? "" : ", RoI record only, no patterns")
        << ")\n";
  }
  if (o.partition_files && run.planning.partitions) {
    const int parts = run.planning.partitions->parts;
    out << "  wrote          " << parts << " partition outputs, " << roi_output(o).format_or_default().name << ": "
        << partition_output(roi_output(o), 0, parts).paths().front();
    if (parts > 1) out << " .. " << partition_output(roi_output(o), parts - 1, parts).paths().front();
    out << "\n";
  }
  if (run.planning.plan) out << "  wrote          " << o.plan_file << " (fine-scan plan, CSV)\n";
  return out.str();
}

}  // namespace ptyroi
