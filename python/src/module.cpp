// The Python module ptyroi._ptyroi: the library's find_roi on numpy arrays, the program's run on a
// file, and readers of stacks and /roi records. The Python package (ptyroi/__init__.py) wraps it.
// MPI is initialised on first use when nobody (e.g. mpi4py) has; every call takes an optional
// communicator as mpi4py's Fortran handle (comm.py2f()).
#include <mpi.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/app/follow.hpp"
#include "ptyroi/app/options.hpp"
#include "ptyroi/app/planning.hpp"
#include "ptyroi/app/scan_outputs.hpp"
#include "ptyroi/app/scan_run.hpp"
#include "ptyroi/app/summary.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/fine_scan_plan.hpp"
#include "ptyroi/core/memory_frames.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/core/roi_region.hpp"
#include "ptyroi/core/scan_partitions.hpp"
#include "ptyroi/core/zero_frequency.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/instrument.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/roi_schema.hpp"
#include "ptyroi/version.hpp"

namespace py = pybind11;

namespace {

// MPI for a plain `python3` (a singleton) or under mpiexec; finalised at exit only if we started it.
void ensure_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  ptyroi::h5::silence_error_printing();
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }));
}

MPI_Comm communicator(const std::optional<int>& fortran_handle) {
  ensure_mpi();
  return fortran_handle ? MPI_Comm_f2c(*fortran_handle) : MPI_COMM_WORLD;
}

ptyroi::PixelType pixel_type_of(const py::dtype& dtype) {
  const char kind = dtype.kind();
  const auto size = dtype.itemsize();
  using ptyroi::PixelType;
  if (kind == 'u' && size == 1) return PixelType::u8;
  if (kind == 'u' && size == 2) return PixelType::u16;
  if (kind == 'u' && size == 4) return PixelType::u32;
  if (kind == 'u' && size == 8) return PixelType::u64;
  if (kind == 'i' && size == 1) return PixelType::i8;
  if (kind == 'i' && size == 2) return PixelType::i16;
  if (kind == 'i' && size == 4) return PixelType::i32;
  if (kind == 'i' && size == 8) return PixelType::i64;
  if (kind == 'f' && size == 4) return PixelType::f32;
  if (kind == 'f' && size == 8) return PixelType::f64;
  throw ptyroi::UsageError("frames of dtype " + py::str(static_cast<const py::handle&>(dtype)).cast<std::string>() +
                           ": expected an integer (8 to 64 bit) or float32/float64 array");
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> array(static_cast<py::ssize_t>(values.size()));
  std::copy(values.begin(), values.end(), array.mutable_data());
  return array;
}

py::dict clusters_of(const ptyroi::MapClusters& map) {
  py::dict d;
  const auto& k = map.clusters;
  d["centroids"] = to_numpy(std::vector<double>(k.centroids.data(), k.centroids.data() + k.centroids.size()));
  d["sizes"] = to_numpy(std::vector<std::int64_t>(k.sizes.data(), k.sizes.data() + k.sizes.size()));
  d["selected_cluster"] = map.selected_cluster;
  py::dict contrast;
  contrast["tested"] = map.contrast.tested;
  contrast["score"] = map.contrast.score;
  contrast["gap"] = map.contrast.gap;
  contrast["noise"] = map.contrast.noise;
  contrast["threshold"] = map.contrast.threshold;
  contrast["has_contrast"] = map.contrast.has_contrast;
  d["contrast"] = contrast;
  d["roi_frames"] = map.roi_frames;
  d["log_floor"] = map.log_floor;
  return d;
}

// Every per-frame result gathered in frame order (collective), with the global numbers beside.
py::dict result_dict(const ptyroi::RoiResult& r, MPI_Comm comm) {
  std::vector<double> totals, com_x, com_y;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& f : r.local_features) {
    totals.push_back(f.total_intensity);
    com_x.push_back(f.has_com ? f.com_x : nan);
    com_y.push_back(f.has_com ? f.com_y : nan);
  }
  py::dict d;
  d["mask"] = to_numpy(ptyroi::gather_frames(r.local_mask, comm));
  d["roi_before_border"] = to_numpy(ptyroi::gather_frames(r.local_roi_before_border, comm));
  d["total_intensity"] = to_numpy(ptyroi::gather_frames(totals, comm));
  d["com_x"] = to_numpy(ptyroi::gather_frames(com_x, comm));
  d["com_y"] = to_numpy(ptyroi::gather_frames(com_y, comm));
  d["com_magnitude"] = to_numpy(ptyroi::gather_frames(r.local_com_magnitude, comm));
  d["absorption_map"] = to_numpy(ptyroi::gather_frames(r.absorption.local_map, comm));
  d["scattering_map"] = to_numpy(ptyroi::gather_frames(r.scattering.local_map, comm));
  d["absorption_roi"] = to_numpy(ptyroi::gather_frames(r.absorption.local_roi, comm));
  d["scattering_roi"] = to_numpy(ptyroi::gather_frames(r.scattering.local_roi, comm));
  d["absorption"] = clusters_of(r.absorption);
  d["scattering"] = clusters_of(r.scattering);
  d["frames"] = r.frames;
  d["whole_scan"] = r.whole_scan;
  d["roi_frames"] = r.roi_frames;
  d["frames_without_signal"] = r.frames_without_com;
  d["non_finite_pixels"] = r.non_finite_pixels;
  d["invalid_pixels"] = r.invalid_pixels;
  d["com_mean"] = py::make_tuple(r.com.mean_x, r.com.mean_y);
  d["com_std"] = py::make_tuple(r.com.std_x, r.com.std_y);
  d["neighbourhood"] = r.neighbourhood->description();
  d["scan_step"] = r.neighbourhood->step();
  d["border"] = r.parameters.border_steps;
  d["ranks"] = r.ranks;
  py::dict timings;
  timings["features_s"] = r.timings.features_s;
  timings["statistics_s"] = r.timings.statistics_s;
  timings["maps_s"] = r.timings.maps_s;
  timings["kmeans_s"] = r.timings.kmeans_s;
  timings["selection_s"] = r.timings.selection_s;
  d["timings"] = timings;
  return d;
}

ptyroi::ScanKind scan_kind(const std::string& scan) {
  if (scan == "auto") return ptyroi::ScanKind::automatic;
  if (scan == "grid") return ptyroi::ScanKind::grid;
  if (scan == "irregular") return ptyroi::ScanKind::irregular;
  throw ptyroi::UsageError("scan '" + scan + "' is not one of auto, grid, irregular");
}

py::dict probe_dict(const ptyroi::ProbeBorder& p) {
  py::dict d;
  d["disc_radius_px"] = p.disc.radius;
  d["disc_centre_xy"] = py::make_tuple(p.disc.centre_x, p.disc.centre_y);
  d["sampled_frames"] = p.sampled_frames;
  d["convergence_semi_angle_rad"] = p.semi_angle_rad;
  d["probe_radius_m"] = p.radius_m;
  d["scan_step_m"] = p.step_m;
  d["border_steps"] = p.steps;
  return d;
}

py::dict find_roi(const py::array& frames, const std::optional<std::vector<double>>& x,
                  const std::optional<std::vector<double>>& y,
                  const std::optional<std::pair<std::int64_t, std::int64_t>>& grid, int border, bool border_auto,
                  std::optional<double> energy_kev, std::optional<double> distance_m,
                  std::optional<double> pixel_size_m, int clusters, int iterations, bool log, const std::string& scan,
                  const std::optional<std::vector<std::uint8_t>>& good_pixels, std::optional<double> max_valid,
                  bool contrast_test, double contrast_threshold, std::optional<bool> fftshift, std::uint64_t crop,
                  std::optional<std::pair<double, double>> beam_center, std::uint64_t block_frames,
                  std::uint64_t first_frame, std::optional<std::uint64_t> total_frames,
                  std::optional<int> comm_handle) {
  const MPI_Comm comm = communicator(comm_handle);
  if (frames.ndim() != 3) throw ptyroi::UsageError("frames must be a [K, N, M] array");
  if (!(frames.flags() & py::array::c_style)) throw ptyroi::UsageError("frames must be C-contiguous");
  const auto held = static_cast<std::uint64_t>(frames.shape(0));
  const auto N = static_cast<std::uint64_t>(frames.shape(1));
  const auto M = static_cast<std::uint64_t>(frames.shape(2));
  const std::uint64_t K = total_frames.value_or(first_frame + held);
  const ptyroi::PixelType type = pixel_type_of(frames.dtype());
  const ptyroi::MemoryFrames source(frames.data(), type, K, N, M, first_frame, held);

  ptyroi::ScanPositions positions;
  if (x || y) {
    if (!x || !y) throw ptyroi::UsageError("give both x and y positions");
    positions.x = *x;
    positions.y = *y;
    positions.source = "given";
  }
  ptyroi::RoiParameters parameters;
  parameters.border_steps = border;
  parameters.clusters = clusters;
  parameters.iterations = iterations;
  parameters.log_features = log;
  parameters.contrast_test = contrast_test;
  parameters.contrast_threshold = contrast_threshold;
  parameters.scan = scan_kind(scan);
  if (grid) parameters.grid = ptyroi::GridShape{grid->first, grid->second};
  parameters.block_frames = block_frames;

  ptyroi::PixelSettings settings;
  settings.use_file_mask = false;
  settings.max_valid = max_valid;
  settings.fftshift = fftshift;
  settings.crop = crop;
  settings.beam_center = beam_center;
  if (good_pixels && good_pixels->size() != N * M) {
    throw ptyroi::UsageError("mask has " + std::to_string(good_pixels->size()) + " pixels; the frames have " +
                             std::to_string(N * M));
  }
  std::vector<std::uint8_t> good = good_pixels.value_or(std::vector<std::uint8_t>{});
  std::string zero_frequency = std::string("given: ") + (fftshift.value_or(false) ? "at the corner" : "at the centre");
  if (!settings.fftshift) {
    py::gil_scoped_release release;
    const ptyroi::ZeroFrequencyEvidence evidence = ptyroi::detect_zero_frequency(source, good, comm);
    settings.fftshift = evidence.at_corner_verdict;
    zero_frequency = "detected " + evidence.text();
  }
  const ptyroi::PixelSelection pixels =
      ptyroi::pixel_selection(settings, ptyroi::InputDescription{}, type, N, M, std::move(good));
  // border="auto": the probe radius from the frames and the instrument, as a border in steps.
  std::optional<ptyroi::ProbeBorder> probe;
  if (border_auto) {
    ptyroi::InstrumentMetadata instrument;
    ptyroi::InstrumentOverrides overrides;
    overrides.energy_keV = energy_kev;
    overrides.distance_m = distance_m;
    overrides.pixel_size_m = pixel_size_m;
    ptyroi::apply_overrides(instrument, overrides);
    ptyroi::Options needs;
    needs.border_auto = true;
    ptyroi::check_planning_needs(needs, positions, instrument);
    py::gil_scoped_release release;
    probe = ptyroi::estimate_probe_border(source, pixels, positions, instrument, parameters, comm);
    parameters.border_steps = probe->steps;
  }
  ptyroi::RoiResult result;
  {
    py::gil_scoped_release release;
    result = ptyroi::find_roi(source, positions, pixels, parameters, comm);
  }
  py::dict d = result_dict(result, comm);
  d["probe"] = probe ? py::object(probe_dict(*probe)) : py::object(py::none());
  d["fftshift"] = pixels.fftshift;
  d["zero_frequency"] = zero_frequency;
  return d;
}

// The ptyroi program's run on a file: its command-line options (without "ptyroi"), its outputs,
// and its --summary JSON as text.
std::string run(const std::vector<std::string>& arguments, bool verbose, std::optional<int> comm_handle) {
  const MPI_Comm comm = communicator(comm_handle);
  std::vector<const char*> argv{"ptyroi"};
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  ptyroi::CommandLine command_line = ptyroi::parse_command_line(static_cast<int>(argv.size()), argv.data());
  ptyroi::Options& options = command_line.options;
  if (!verbose) options.quiet = true;
  if (!options.input_list.empty()) throw ptyroi::UsageError("run() takes one scan (--input), not --input-list");
  if (options.follow) {
    // Live (--follow): the acquisition followed to its end; the final summary.
    py::gil_scoped_release release;
    return ptyroi::summary_json(ptyroi::follow_scan(options, comm));
  }
  ptyroi::ScanRun run_ = ptyroi::run_scan(options, comm);
  ptyroi::finish_scan_outputs(run_, comm);
  return ptyroi::summary_json(run_);
}

// A file's pattern stack as numpy [K, N, M] in its own pixel type (this process only).
py::array read_frames(const std::string& path, const std::string& layout, const std::string& dataset) {
  ensure_mpi();
  ptyroi::check_input_file(path);
  const ptyroi::PatternStack stack =
      ptyroi::PatternStack::open(path, ptyroi::parse_input_layout(layout), dataset, 0, MPI_COMM_SELF);
  return ptyroi::visit_pixel_type(stack.pixel_type(), [&](auto pixel) -> py::array {
    using Pixel = decltype(pixel);
    py::array_t<Pixel> array({static_cast<py::ssize_t>(stack.frames()), static_cast<py::ssize_t>(stack.rows()),
                              static_cast<py::ssize_t>(stack.cols())});
    stack.read_frames(0, stack.frames(), array.mutable_data());
    return std::move(array);
  });
}

py::dict read_record(const std::string& path) {
  ensure_mpi();
  ptyroi::check_input_file(path);
  ptyroi::h5::Handle file = ptyroi::h5::open_file_read_serial(path);
  const ptyroi::RoiRecord record = ptyroi::read_roi_record(file.get(), path);
  py::dict d;
  d["mask"] = to_numpy(record.mask);
  d["indexes"] = to_numpy(record.indexes);
  d["positions_x"] = to_numpy(record.positions_x);
  d["positions_y"] = to_numpy(record.positions_y);
  for (const auto& [name, values] : record.features) d[py::str(name)] = to_numpy(values);
  d["input_file"] = record.input_file;
  d["fftshift"] = record.fftshift;
  d["frame_window"] =
      py::make_tuple(record.frame_window[0], record.frame_window[1], record.frame_window[2], record.frame_window[3]);
  if (!record.partition.empty()) {
    d["partition"] = to_numpy(record.partition);
    py::list core, halo;
    for (const auto& frames : record.partition_core_frames) core.append(to_numpy(frames));
    for (const auto& frames : record.partition_halo_frames) halo.append(to_numpy(frames));
    d["partition_core"] = core;
    d["partition_halo"] = halo;
    d["partition_halo_m"] = record.partition_halo_m;
  }
  if (record.partition_index >= 0) {
    d["partition_index"] = record.partition_index;
    d["partition_core_rows"] = to_numpy(record.partition_core);
  }
  return d;
}

// The neighbourhood ptyroi builds for the positions (or a raster), on this process alone.
std::shared_ptr<const ptyroi::ScanNeighbourhood> neighbourhood_of(
    const std::vector<double>& x, const std::vector<double>& y, std::size_t frames, const std::string& scan,
    const std::optional<std::pair<std::int64_t, std::int64_t>>& grid) {
  ensure_mpi();
  ptyroi::ScanPositions positions;
  positions.x = x;
  positions.y = y;
  ptyroi::RoiParameters parameters;
  parameters.scan = scan_kind(scan);
  if (grid) parameters.grid = ptyroi::GridShape{grid->first, grid->second};
  return ptyroi::scan_neighbourhood(ptyroi::ScanInput(positions), frames, parameters, MPI_COMM_SELF);
}

void check_mask(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::uint8_t>& mask) {
  if (x.size() != mask.size() || y.size() != mask.size()) {
    throw ptyroi::UsageError("x, y and mask must have one value per frame (" + std::to_string(x.size()) + ", " +
                             std::to_string(y.size()) + ", " + std::to_string(mask.size()) + ")");
  }
}

py::dict plan_fine_scan(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<std::uint8_t>& mask, double step, const std::string& pattern,
                        const std::string& scan, const std::optional<std::pair<std::int64_t, std::int64_t>>& grid) {
  check_mask(x, y, mask);
  const ptyroi::PlanPattern kind = ptyroi::parse_plan_pattern(pattern);
  const auto neighbourhood = neighbourhood_of(x, y, mask.size(), scan, grid);
  ptyroi::FineScanPlan plan;
  {
    py::gil_scoped_release release;
    const ptyroi::RoiRegion region = ptyroi::RoiRegion::of_scan(x, y, mask, *neighbourhood);
    plan = ptyroi::plan_fine_scan(region, step, kind);
  }
  py::dict d;
  d["x"] = to_numpy(plan.x);
  d["y"] = to_numpy(plan.y);
  d["step"] = plan.step;
  d["pattern"] = std::string(ptyroi::plan_pattern_name(plan.pattern));
  d["field_points"] = plan.field_points;
  d["pieces"] = plan.pieces;
  d["path_length"] = plan.path_length;
  d["typewriter_path_length"] = plan.naive_path_length;
  return d;
}

py::dict partition_roi(const std::vector<double>& x, const std::vector<double>& y,
                       const std::vector<std::uint8_t>& mask, int parts, std::optional<double> halo,
                       const std::string& scan, const std::optional<std::pair<std::int64_t, std::int64_t>>& grid) {
  check_mask(x, y, mask);
  double distance = 0.0;
  if (halo) {
    distance = *halo;
  } else {
    // 2 scan steps, as the program's default.
    const double step = neighbourhood_of(x, y, mask.size(), scan, grid)->step();
    distance = 2.0 * (step > 0.0 ? step : 1.0);
  }
  ptyroi::ScanPartitions result;
  {
    py::gil_scoped_release release;
    result = ptyroi::partition_roi(x, y, mask, parts, distance);
  }
  py::dict d;
  d["labels"] = to_numpy(result.label);
  py::list core, halos;
  for (const auto& frames : result.core) core.append(to_numpy(std::vector<std::int64_t>(frames.begin(), frames.end())));
  for (const auto& frames : result.halo_of) {
    halos.append(to_numpy(std::vector<std::int64_t>(frames.begin(), frames.end())));
  }
  d["core"] = core;
  d["halo"] = halos;
  d["halo_distance"] = result.halo;
  return d;
}

py::tuple partition(std::uint64_t frames, int ranks, int rank) {
  const ptyroi::FrameRange range = ptyroi::partition_frames(frames, ranks, rank);
  return py::make_tuple(range.begin, range.end);
}

}  // namespace

PYBIND11_MODULE(_ptyroi, m) {
  m.doc() = "ptyroi's C++ library (see the ptyroi package for the documented API)";
  m.attr("version") = ptyroi::version;
  // The base first: pybind11 tries the translators registered last first.
  const auto& error = py::register_exception<ptyroi::Error>(m, "Error", PyExc_RuntimeError);
  py::register_exception<ptyroi::InternalError>(m, "InternalError", error.ptr());
  py::register_exception<ptyroi::IoError>(m, "IoError", error.ptr());
  py::register_exception<ptyroi::InputError>(m, "InputError", error.ptr());
  py::register_exception<ptyroi::UsageError>(m, "UsageError", error.ptr());
  m.def("find_roi", &find_roi, py::arg("frames"), py::arg("x"), py::arg("y"), py::arg("grid"), py::arg("border"),
        py::arg("border_auto"), py::arg("energy_kev"), py::arg("distance_m"), py::arg("pixel_size_m"),
        py::arg("clusters"), py::arg("iterations"), py::arg("log"), py::arg("scan"), py::arg("good_pixels"),
        py::arg("max_valid"), py::arg("contrast_test"), py::arg("contrast_threshold"), py::arg("fftshift"),
        py::arg("crop"), py::arg("beam_center"), py::arg("block_frames"), py::arg("first_frame"),
        py::arg("total_frames"), py::arg("comm"));
  m.def("run", &run, py::arg("arguments"), py::arg("verbose"), py::arg("comm"));
  m.def("read_frames", &read_frames, py::arg("path"), py::arg("layout"), py::arg("dataset"));
  m.def("read_record", &read_record, py::arg("path"));
  m.def("partition", &partition, py::arg("frames"), py::arg("ranks"), py::arg("rank"));
  m.def("plan_fine_scan", &plan_fine_scan, py::arg("x"), py::arg("y"), py::arg("mask"), py::arg("step"),
        py::arg("pattern"), py::arg("scan"), py::arg("grid"));
  m.def("partition_roi", &partition_roi, py::arg("x"), py::arg("y"), py::arg("mask"), py::arg("parts"), py::arg("halo"),
        py::arg("scan"), py::arg("grid"));
}
