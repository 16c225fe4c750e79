// ptyroi-recon: a compact far-field ptychographic reconstruction (rPIE or ePIE, object and probe,
// FFTW, std::thread workers) of a scan or of ptyroi's RoI subset file. Writes the object and the
// probe to HDF5 and, given a reference reconstruction (--reference) or the simulation's ground truth
// (--truth), the SSIM of the object phase and the error against them over the area the full scan
// covers. The maths lives in ptyroi/reconstruction.hpp and ptyroi/ssim.hpp; this file reads,
// writes and reports.
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ptyroi/app/interrupt.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/io/roi_schema.hpp"
#include "ptyroi/io/roi_writer.hpp"
#include "ptyroi/recon/reconstruction.hpp"
#include "ptyroi/version.hpp"

namespace {

namespace po = boost::program_options;
namespace h5 = ptyroi::h5;
namespace rec = ptyroi::reconstruction;
using rec::Complex;
using rec::ComplexGrid;

constexpr const char* kProgram = "ptyroi-recon";

struct Options {
  std::string input;
  std::string layout = "auto";
  std::string dataset;
  std::string positions_x;
  std::string positions_y;
  double pixel_size = 0.0;  // 0: from the files
  std::string fftshift = "auto";
  std::string probe;  // FILE[:PATH] of a start probe
  std::string algorithm = "rpie";
  rec::Settings settings;
  double start_noise = 0.1;
  std::string reference;
  std::string truth;
  double region_margin = 0.0;
  std::string output;
  bool overwrite = false;
  std::string summary;
  bool quiet = false;
};

// ---- options
// ----------------------------------------------------------------------------------------------

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  o.settings.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  po::options_description input("Input");
  // clang-format off
  input.add_options()
    ("input,i", po::value(&o.input)->required(),
     "ptyroi's RoI subset file (CXI + /roi), or any scan ptyroi reads (plain, CXI, NeXus, PtychoShelves)")
    ("layout", po::value(&o.layout)->default_value(o.layout), "auto | plain | cxi | nexus | ptychoshelves")
    ("dataset,d", po::value(&o.dataset), "pattern stack [K,N,M]; default: where the layout keeps it")
    ("positions-x", po::value(&o.positions_x), "[FILE:]PATH of the x positions (m); default: the layout's")
    ("positions-y", po::value(&o.positions_y), "[FILE:]PATH of the y positions (m)")
    ("pixel-size", po::value(&o.pixel_size),
     "object pixel size in metres; default: the pixel_size_m attribute of the input's root, else of the\n"
     "scan named by a RoI file's /roi input_file")
    ("fftshift", po::value(&o.fftshift)->default_value(o.fftshift),
     "auto | yes | no: patterns stored with zero frequency at the corner (auto: a RoI file's /roi\n"
     "fftshift attribute, else no: zero frequency at (N/2, M/2))")
    ("probe", po::value(&o.probe),
     "FILE[:PATH] start probe [N,M,2] float (re, im), e.g. scan.h5:/truth/probe; default: from the mean\n"
     "pattern (flat phase)");
  po::options_description method("Reconstruction");
  method.add_options()
    ("algorithm", po::value(&o.algorithm)->default_value(o.algorithm), "rpie | epie")
    ("iterations", po::value(&o.settings.iterations)->default_value(o.settings.iterations), "passes over all frames")
    ("alpha", po::value<double>(), "object step in (0, 1]; default 0.1 (rpie), 1 (epie)")
    ("beta", po::value<double>(), "probe step in (0, 1]; default 0.1 (rpie), 1 (epie)")
    ("probe-start", po::value(&o.settings.probe_start)->default_value(o.settings.probe_start),
     "first iteration (from 0) that updates the probe too")
    ("object-support", po::value(&o.settings.object_support)->default_value(o.settings.object_support),
     "update the object only where a frame's |P|^2 >= this fraction of max|P|^2 (0: everywhere)")
    ("batch", po::value(&o.settings.batch)->default_value(o.settings.batch),
     "frames per parallel update; 1 = sequential ePIE/rPIE. The result depends on it, not on --threads")
    ("threads", po::value(&o.settings.threads)->default_value(o.settings.threads), "worker threads")
    ("seed", po::value(&o.settings.seed)->default_value(o.settings.seed),
     "random start: object noise and the order frames are visited in")
    ("start-noise", po::value(&o.start_noise)->default_value(o.start_noise),
     "start object: 1 + complex Gaussian noise of this rms, weighted by the illumination")
    ("no-probe-pinning",
     "leave the probe's ambiguities free; by default after every iteration its far field is centred on\n"
     "zero frequency (no phase ramp), sum(P) is made real positive (empty space keeps phase 0) and\n"
     "sum|P|^2 is set to the brightest frame's counts (empty space keeps |O| = 1)");
  po::options_description compare("Comparison (SSIM of the phase, Wang et al. 2004; error with global\n"
                                  "phase and phase ramp removed), over the area the full scan covers");
  compare.add_options()
    ("reference", po::value(&o.reference), "another ptyroi-recon output of the same scan, e.g. from all frames")
    ("truth", po::value(&o.truth), "a file with /truth/object (ptyroi-simulate --truth-object)")
    ("region-margin", po::value(&o.region_margin)->default_value(o.region_margin),
     "pixels added around the rectangle of the full scan's probe centres (use the probe radius)");
  po::options_description output("Output");
  output.add_options()
    ("output,o", po::value(&o.output)->required(),
     "HDF5 file: /object and /probe [rows, cols, 2] float64 (re, im), /illumination, /fourier_error")
    ("overwrite", po::bool_switch(&o.overwrite), "replace an existing output")
    ("summary", po::value(&o.summary), "JSON summary: frames, timings, errors, SSIM")
    ("quiet,q", po::bool_switch(&o.quiet), "no progress on stdout")
    ("help,h", "print this help and exit");
  // clang-format on
  po::options_description all(std::string("Usage: ") + kProgram +
                              " --input FILE --output FILE [options]\n"
                              "Reconstructs the object and probe of a far-field ptychography scan (rPIE or ePIE)\n"
                              "from all its frames or from ptyroi's RoI subset, with std::thread workers.\n"
                              "In a RoI file the object spans the whole scan (its /roi positions), so that\n"
                              "reconstructions of any subset and of the full scan share one pixel grid");
  all.add(input).add(method).add(compare).add(output);
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, all), values);
    if (values.count("help") != 0) {
      std::cout << all << '\n';
      return std::nullopt;
    }
    po::notify(values);
  } catch (const po::error& error) {
    throw ptyroi::UsageError(error.what());
  }
  if (o.algorithm != "rpie" && o.algorithm != "epie") {
    throw ptyroi::UsageError("--algorithm must be rpie or epie (got '" + o.algorithm + "')");
  }
  o.settings.algorithm = o.algorithm == "epie" ? rec::Algorithm::epie : rec::Algorithm::rpie;
  const double default_step = o.settings.algorithm == rec::Algorithm::epie ? 1.0 : 0.1;
  o.settings.alpha = values.count("alpha") != 0 ? values["alpha"].as<double>() : default_step;
  o.settings.beta = values.count("beta") != 0 ? values["beta"].as<double>() : default_step;
  o.settings.pin_probe = values.count("no-probe-pinning") == 0;
  if (values.count("pixel-size") != 0 && !(o.pixel_size > 0.0 && std::isfinite(o.pixel_size))) {
    throw ptyroi::UsageError("--pixel-size must be positive (got " + std::to_string(o.pixel_size) + ")");
  }
  if (o.fftshift != "auto" && o.fftshift != "yes" && o.fftshift != "no") {
    throw ptyroi::UsageError("--fftshift must be auto, yes or no (got '" + o.fftshift + "')");
  }
  if (!(o.start_noise >= 0.0 && std::isfinite(o.start_noise))) {
    throw ptyroi::UsageError("--start-noise must be finite and >= 0");
  }
  if (!(o.region_margin >= 0.0 && std::isfinite(o.region_margin))) {
    throw ptyroi::UsageError("--region-margin must be finite and >= 0");
  }
  if (o.settings.iterations < 0) throw ptyroi::UsageError("--iterations must not be negative");
  if (!o.overwrite && access(o.output.c_str(), F_OK) == 0) {
    throw ptyroi::UsageError("--output '" + o.output + "' already exists; pass --overwrite to replace it");
  }
  return o;
}

// ---- small HDF5 readers
// -----------------------------------------------------------------------------------

// A complex image stored as [rows, cols, 2] (re, im), the layout of /truth/object and of this
// program's output.
ComplexGrid read_complex_image(const std::string& file_path, const std::string& path) {
  h5::Handle file = h5::open_file_read_serial(file_path);
  h5::Handle dataset = h5::open_dataset(file.get(), path, file_path);
  const auto dims = h5::dataset_dims(dataset.get());
  if (dims.size() != 3 || dims[2] != 2 || dims[0] == 0 || dims[1] == 0) {
    throw ptyroi::InputError("'" + path + "' in '" + file_path + "' is not a complex image [rows, cols, 2]");
  }
  const std::vector<double> values = h5::read_all<double>(dataset.get());
  ComplexGrid image(static_cast<int>(dims[0]), static_cast<int>(dims[1]));
  for (std::size_t q = 0; q < image.values.size(); ++q) image.values[q] = Complex(values[2 * q], values[2 * q + 1]);
  return image;
}

// ---- the scan
// ---------------------------------------------------------------------------------------------

struct Scan {
  rec::Measurements data;
  std::vector<rec::Window> full_windows;  // every frame of the full scan (a RoI file's /roi positions)
  std::size_t full_frames = 0;
  bool roi_file = false;
  int frame_rows = 0;
  int frame_cols = 0;
  double pixel_size = 0.0;
  std::string pixel_size_source;
  double origin_x = 0.0;  // metres: the position whose window starts at object pixel (0, 0)
  double origin_y = 0.0;
  rec::Shape object;
  double largest_rounding = 0.0;  // pixels: positions are rounded to whole object pixels
  std::string dataset;
  double read_seconds = 0.0;
};

// The object pixel size: --pixel-size, else the pixel_size_m attribute of the input's root, else of
// the scan a RoI file was made from. `frame_size` is set to that file's frame_size attribute, if
// any: the frame size the pixel size belongs to (a detector crop enlarges the pixels).
double pixel_size_of(const Options& options, hid_t file, const std::string& roi_input, std::string& source,
                     int& frame_size) {
  frame_size = 0;
  if (options.pixel_size > 0.0) {
    source = "--pixel-size";
    return options.pixel_size;
  }
  h5::Handle root = h5::checked(H5Oopen(file, "/", H5P_DEFAULT), "cannot open the root group");
  if (const auto value = h5::read_number_attribute(root.get(), "pixel_size_m"); value && *value > 0.0) {
    source = options.input + ":/ pixel_size_m";
    frame_size = static_cast<int>(h5::read_number_attribute(root.get(), "frame_size").value_or(0));
    return *value;
  }
  // The RoI's input as ptyroi named it: relative to where ptyroi ran, or to the RoI file.
  std::string scan_file = roi_input;
  const auto slash = options.input.rfind('/');
  if (!scan_file.empty() && scan_file[0] != '/' && access(scan_file.c_str(), R_OK) != 0 && slash != std::string::npos) {
    scan_file = options.input.substr(0, slash + 1) + scan_file;
  }
  if (!scan_file.empty() && access(scan_file.c_str(), R_OK) == 0 && H5Fis_hdf5(scan_file.c_str()) > 0) {
    h5::Handle scan = h5::open_file_read_serial(scan_file);
    h5::Handle scan_root = h5::checked(H5Oopen(scan.get(), "/", H5P_DEFAULT), "cannot open the root group");
    if (const auto value = h5::read_number_attribute(scan_root.get(), "pixel_size_m"); value && *value > 0.0) {
      source = scan_file + ":/ pixel_size_m (the RoI's input)";
      frame_size = static_cast<int>(h5::read_number_attribute(scan_root.get(), "frame_size").value_or(0));
      return *value;
    }
  }
  H5Eclear2(H5E_DEFAULT);
  throw ptyroi::UsageError("the object pixel size is unknown: '" + options.input +
                           "' has no pixel_size_m attribute; give --pixel-size METRES");
}

// Counts in the centred layout (zero frequency at (N/2, M/2)) from a frame stored either way.
void centred_frame(const double* stored, int rows, int cols, bool stored_at_corner, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int rr = stored_at_corner ? (r + rows / 2) % rows : r;
      const int cc = stored_at_corner ? (c + cols / 2) % cols : c;
      out[static_cast<std::size_t>(rr) * cols + cc] = stored[static_cast<std::size_t>(r) * cols + c];
    }
  }
}

Scan read_scan(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  ptyroi::check_input_file(options.input);
  Scan scan;
  std::vector<double> full_x;
  std::vector<double> full_y;
  std::string roi_input;
  bool stored_at_corner = options.fftshift == "yes";
  std::size_t roi_frames = 0;
  std::string pixel_source;
  int pixel_frame_size = 0;
  {
    h5::Handle file = h5::open_file_read_serial(options.input);
    scan.roi_file = ptyroi::has_roi_record(file.get());
    if (scan.roi_file) {
      // ptyroi's record: the whole scan's positions, so the object spans the full scan.
      const ptyroi::RoiRecord record = ptyroi::read_roi_record(file.get(), options.input);
      full_x = record.positions_x;
      full_y = record.positions_y;
      roi_frames = record.indexes.size();
      roi_input = record.input_file;
      // ptyroi writes the analysed (centred) frames; a tike-layout file says "corner".
      if (options.fftshift == "auto") stored_at_corner = record.patterns_at_corner;
    }
    scan.pixel_size = pixel_size_of(options, file.get(), roi_input, pixel_source, pixel_frame_size);
    scan.pixel_size_source = pixel_source;
    if (scan.roi_file && roi_frames == 0) {
      // An empty RoI: nothing to reconstruct; the frame shape comes from the (empty) stack.
      const std::string path = options.dataset.empty() ? "/entry_1/data_1/data" : options.dataset;
      if (!h5::is_dataset(file.get(), path)) {
        throw ptyroi::InputError("'" + options.input + "' holds an empty RoI and no " + path +
                                 " to take the frame shape from");
      }
      const auto dims = h5::dataset_dims(h5::open_dataset(file.get(), path, options.input).get());
      if (dims.size() != 3) throw ptyroi::InputError(path + " in '" + options.input + "' is not [K, N, M]");
      scan.frame_rows = static_cast<int>(dims[1]);
      scan.frame_cols = static_cast<int>(dims[2]);
      scan.dataset = path;
      if (pixel_frame_size > 0 && pixel_frame_size != scan.frame_rows) {
        scan.pixel_size *= static_cast<double>(pixel_frame_size) / scan.frame_rows;  // ptyroi --crop
      }
    }
  }

  std::vector<double> x;
  std::vector<double> y;
  if (!(scan.roi_file && roi_frames == 0)) {
    const ptyroi::PatternStack stack = ptyroi::PatternStack::open(
        options.input, ptyroi::parse_input_layout(options.layout), options.dataset, 0, MPI_COMM_SELF);
    scan.dataset = stack.dataset_path();
    scan.frame_rows = static_cast<int>(stack.rows());
    scan.frame_cols = static_cast<int>(stack.cols());
    if (pixel_frame_size > 0 && pixel_frame_size != scan.frame_rows) {
      // ptyroi --crop: a frame of N' of the N detector pixels sees pixels N/N' times larger.
      scan.pixel_size *= static_cast<double>(pixel_frame_size) / scan.frame_rows;
      scan.pixel_size_source +=
          " x " + std::to_string(pixel_frame_size) + "/" + std::to_string(scan.frame_rows) + " (cropped frames)";
    }
    ptyroi::PositionsSpec reader;  // what ptyroi's own position reader needs
    reader.x_dataset = options.positions_x;
    reader.y_dataset = options.positions_y;
    const ptyroi::ScanPositions positions =
        ptyroi::read_scan_positions(reader, options.input, stack.description(), stack.frames(), true);
    x = positions.x;
    y = positions.y;
    if (!scan.roi_file) {
      full_x = x;
      full_y = y;
    }
    const double smallest_x = *std::min_element(full_x.begin(), full_x.end());
    const double smallest_y = *std::min_element(full_y.begin(), full_y.end());
    scan.origin_x = smallest_x;
    scan.origin_y = smallest_y;

    std::vector<double> buffer;
    std::vector<double> counts;
    std::vector<char> raw(stack.preferred_block_frames() * stack.frame_bytes());
    for (std::uint64_t first = 0; first < stack.frames(); first += stack.preferred_block_frames()) {
      const std::uint64_t count = std::min(stack.preferred_block_frames(), stack.frames() - first);
      stack.read_frames(first, count, raw.data());
      ptyroi::visit_pixel_type(stack.pixel_type(), [&](auto pixel) {
        using Pixel = decltype(pixel);
        const auto* values = reinterpret_cast<const Pixel*>(raw.data());
        buffer.resize(stack.pixels_per_frame());
        for (std::uint64_t i = 0; i < count; ++i) {
          for (std::size_t p = 0; p < buffer.size(); ++p) {
            buffer[p] = static_cast<double>(values[i * stack.pixels_per_frame() + p]);
          }
          centred_frame(buffer.data(), scan.frame_rows, scan.frame_cols, stored_at_corner, counts);
          const std::size_t k = first + i;
          const double column = (x[k] - scan.origin_x) / scan.pixel_size;
          const double row = (y[k] - scan.origin_y) / scan.pixel_size;
          const rec::Window window{static_cast<int>(std::lround(row)), static_cast<int>(std::lround(column))};
          scan.largest_rounding =
              std::max({scan.largest_rounding, std::abs(row - window.top), std::abs(column - window.left)});
          rec::add_frame(scan.data, counts.data(), scan.frame_rows, scan.frame_cols, window);
        }
        return 0;
      });
    }
  } else {
    scan.origin_x = *std::min_element(full_x.begin(), full_x.end());
    scan.origin_y = *std::min_element(full_y.begin(), full_y.end());
    scan.data.rows = scan.frame_rows;
    scan.data.cols = scan.frame_cols;
  }
  if (full_x.size() != full_y.size() || full_x.empty()) {
    throw ptyroi::InputError("'" + options.input + "' has no usable scan positions");
  }
  for (std::size_t k = 0; k < full_x.size(); ++k) {
    scan.full_windows.push_back({static_cast<int>(std::lround((full_y[k] - scan.origin_y) / scan.pixel_size)),
                                 static_cast<int>(std::lround((full_x[k] - scan.origin_x) / scan.pixel_size))});
  }
  scan.full_frames = scan.full_windows.size();
  scan.object = rec::object_shape(scan.full_windows, scan.frame_rows, scan.frame_cols);
  constexpr long kLargestObject = 1L << 28;  // pixels: 4 GiB of complex doubles
  if (static_cast<long>(scan.object.rows) * scan.object.cols > kLargestObject) {
    throw ptyroi::InputError("the positions span a " + std::to_string(scan.object.rows) + "x" +
                             std::to_string(scan.object.cols) + "-pixel object: is --pixel-size (" +
                             std::to_string(scan.pixel_size) + " m, from " + scan.pixel_size_source + ") right?");
  }
  scan.read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return scan;
}

// ---- comparisons
// ------------------------------------------------------------------------------------------

struct Comparison {
  double phase_ssim = 0.0;                  // data range 2π; global phase offset and phase ramp removed
  double phase_ssim_offset_only = 0.0;      // data range 2π; only the global phase offset removed
  double phase_ssim_reference_range = 0.0;  // data range = the reference phase's max − min
  double error = 0.0;                       // relative complex error, global factor and ramp removed
};

Comparison compare(const ComplexGrid& object, const ComplexGrid& reference) {
  return {rec::phase_ssim(object, reference, true), rec::phase_ssim(object, reference, false),
          rec::phase_ssim(object, reference, true, 0.0), rec::relative_error(object, reference, true)};
}

// Another ptyroi-recon output: same grid (shape, pixel size, origin) required.
ComplexGrid read_reference(const std::string& path, const Scan& scan) {
  ComplexGrid reference = read_complex_image(path, "/object");
  h5::Handle file = h5::open_file_read_serial(path);
  h5::Handle object = h5::open_dataset(file.get(), "/object", path);
  const double pixel = h5::read_number_attribute(object.get(), "pixel_size_m").value_or(0.0);
  const double origin_x = h5::read_number_attribute(object.get(), "origin_x_m").value_or(0.0);
  const double origin_y = h5::read_number_attribute(object.get(), "origin_y_m").value_or(0.0);
  if (reference.rows != scan.object.rows || reference.cols != scan.object.cols ||
      std::abs(pixel - scan.pixel_size) > 1e-6 * scan.pixel_size ||
      std::abs(origin_x - scan.origin_x) > 1e-3 * scan.pixel_size ||
      std::abs(origin_y - scan.origin_y) > 1e-3 * scan.pixel_size) {
    throw ptyroi::InputError("--reference '" + path + "' is a " + std::to_string(reference.rows) + "x" +
                             std::to_string(reference.cols) +
                             " object on another grid (pixel size, origin); this "
                             "run's is " +
                             std::to_string(scan.object.rows) + "x" + std::to_string(scan.object.cols));
  }
  return reference;
}

// The truth in this run's grid: /truth/object's pixel (0, 0) is at position 0 m.
ComplexGrid read_truth(const std::string& path, const Scan& scan, const rec::Region& region) {
  const ComplexGrid truth = read_complex_image(path, "/truth/object");
  h5::Handle file = h5::open_file_read_serial(path);
  h5::Handle group = h5::checked(H5Oopen(file.get(), "/truth", H5P_DEFAULT), "cannot open /truth in '" + path + "'");
  const double pixel = h5::read_number_attribute(group.get(), "pixel_size_m").value_or(scan.pixel_size);
  if (std::abs(pixel - scan.pixel_size) > 1e-6 * scan.pixel_size) {
    throw ptyroi::InputError("--truth '" + path + "' has pixels of " + std::to_string(pixel) + " m, this run " +
                             std::to_string(scan.pixel_size) + " m");
  }
  const auto top = static_cast<int>(std::lround(scan.origin_y / scan.pixel_size));
  const auto left = static_cast<int>(std::lround(scan.origin_x / scan.pixel_size));
  // ptyroi-simulate's truth spans exactly the windows of its scan: anything else is another scan.
  if (truth.rows != top + scan.object.rows || truth.cols != left + scan.object.cols) {
    throw ptyroi::InputError("--truth '" + path + "' holds a " + std::to_string(truth.rows) + "x" +
                             std::to_string(truth.cols) + " object, this scan spans " +
                             std::to_string(top + scan.object.rows) + "x" + std::to_string(left + scan.object.cols) +
                             " pixels from position 0: not the truth of this scan");
  }
  rec::Region shifted = region;
  shifted.top += top;
  shifted.left += left;
  return rec::crop(truth, shifted);
}

// ---- output
// -----------------------------------------------------------------------------------------------

std::vector<double> real_imaginary(const ComplexGrid& grid) {
  std::vector<double> values;
  values.reserve(2 * grid.values.size());
  for (const Complex& value : grid.values) values.insert(values.end(), {value.real(), value.imag()});
  return values;
}

void write_doubles(hid_t file, const std::string& path, const std::vector<hsize_t>& dims,
                   const std::vector<double>& values) {
  h5::Handle dataset = h5::create_dataset(file, path, H5T_IEEE_F64LE, dims);
  if (!values.empty()) {
    h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
              "cannot write " + path);
  }
}

struct Run {
  const Options& options;
  rec::Settings settings;  // as used (probe power filled in)
  const Scan& scan;
  const rec::Result& result;
  const rec::Region& region;
  std::optional<Comparison> versus_reference;
  std::optional<Comparison> versus_truth;
  std::string probe_source;
};

void write_output(const Run& run) {
  ptyroi::PendingOutput output = ptyroi::PendingOutput::create(run.options.output, run.options.overwrite);
  const std::string& temporary = output.temporary_path();
  {
    {
      h5::Handle fapl = h5::checked(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file-access list");
      h5::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), "cannot set the format");
      h5::Handle file = h5::checked(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                                    "cannot create '" + temporary + "'");
      const ComplexGrid& object = run.result.object;
      const ComplexGrid& probe = run.result.probe;
      const auto rows = static_cast<hsize_t>(object.rows);
      const auto cols = static_cast<hsize_t>(object.cols);
      write_doubles(file.get(), "/object", {rows, cols, 2}, real_imaginary(object));
      write_doubles(file.get(), "/probe", {static_cast<hsize_t>(probe.rows), static_cast<hsize_t>(probe.cols), 2},
                    real_imaginary(probe));
      write_doubles(file.get(), "/illumination", {rows, cols},
                    rec::illumination(probe, run.scan.data.windows, object.rows, object.cols).values);
      write_doubles(file.get(), "/fourier_error", {run.result.fourier_error.size()}, run.result.fourier_error);
      h5::Handle dataset = h5::open_dataset(file.get(), "/object", temporary);
      h5::write_attribute(dataset.get(), "pixel_size_m", run.scan.pixel_size);
      h5::write_attribute(dataset.get(), "origin_x_m", run.scan.origin_x);
      h5::write_attribute(dataset.get(), "origin_y_m", run.scan.origin_y);
      h5::write_attribute(dataset.get(), "layout",
                          std::string("[rows, cols, 2] = (real, imaginary); pixel (r, c) is at x = origin_x_m + "
                                      "c*pixel_size_m, y = origin_y_m + r*pixel_size_m, the window corner of a "
                                      "frame at that position"));
      h5::Handle root = h5::checked(H5Oopen(file.get(), "/", H5P_DEFAULT), "cannot open the root group");
      const rec::Settings& s = run.settings;
      h5::write_attribute(root.get(), "software", std::string(kProgram) + " (ptyroi " + ptyroi::version + ")");
      h5::write_attribute(root.get(), "input_file", run.options.input);
      h5::write_attribute(root.get(), "input_dataset", run.scan.dataset);
      h5::write_attribute(root.get(), "frames", static_cast<std::int64_t>(run.scan.data.frames()));
      h5::write_attribute(root.get(), "full_scan_frames", static_cast<std::int64_t>(run.scan.full_frames));
      h5::write_attribute(root.get(), "algorithm", std::string(rec::algorithm_name(s.algorithm)));
      h5::write_attribute(root.get(), "iterations", std::int64_t{s.iterations});
      h5::write_attribute(root.get(), "alpha", s.alpha);
      h5::write_attribute(root.get(), "beta", s.beta);
      h5::write_attribute(root.get(), "probe_start", std::int64_t{s.probe_start});
      h5::write_attribute(root.get(), "batch", std::int64_t{s.batch});
      h5::write_attribute(root.get(), "threads", std::int64_t{s.threads});
      h5::write_attribute(root.get(), "seed", static_cast<std::int64_t>(s.seed));
      h5::write_attribute(root.get(), "start_noise", run.options.start_noise);
      h5::write_attribute(root.get(), "probe_start_source", run.probe_source);
      h5::write_attribute(root.get(), "object_support", s.object_support);
      h5::write_attribute(root.get(), "probe_pinned", std::int64_t{s.pin_probe});
      h5::write_attribute(root.get(), "probe_power", s.probe_power);
      h5::write_attribute(root.get(), "reconstruction_s", run.result.seconds);
      h5::write_attribute(root.get(), "region_top_left_rows_cols",
                          std::vector<std::int64_t>{run.region.top, run.region.left, run.region.rows, run.region.cols});
    }
  }
  output.commit();
}

nlohmann::json summary_json(const Run& run, double total_seconds, double write_seconds) {
  const rec::Settings& s = run.settings;
  nlohmann::json j;
  j["software"] = std::string(kProgram) + " (ptyroi " + ptyroi::version + ")";
  j["input"] = run.options.input;
  j["output"] = run.options.output;
  j["frames"] = run.scan.data.frames();
  j["full_scan_frames"] = run.scan.full_frames;
  j["data_fraction"] = static_cast<double>(run.scan.data.frames()) / static_cast<double>(run.scan.full_frames);
  j["roi_file"] = run.scan.roi_file;
  j["frame"] = {run.scan.frame_rows, run.scan.frame_cols};
  j["object"] = {run.scan.object.rows, run.scan.object.cols};
  j["pixel_size_m"] = run.scan.pixel_size;
  j["position_rounding_px"] = run.scan.largest_rounding;
  j["region"] = {{"top", run.region.top},
                 {"left", run.region.left},
                 {"rows", run.region.rows},
                 {"cols", run.region.cols},
                 {"margin_px", run.options.region_margin}};
  j["algorithm"] = rec::algorithm_name(s.algorithm);
  j["settings"] = {{"iterations", s.iterations},
                   {"alpha", s.alpha},
                   {"beta", s.beta},
                   {"probe_start", s.probe_start},
                   {"batch", s.batch},
                   {"threads", s.threads},
                   {"seed", s.seed},
                   {"start_noise", run.options.start_noise},
                   {"object_support", s.object_support},
                   {"probe_pinned", s.pin_probe},
                   {"probe_power", s.probe_power},
                   {"probe", run.probe_source}};
  j["fourier_error"] =
      run.result.fourier_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.result.fourier_error.back());
  j["timings"] = {{"read_s", run.scan.read_seconds},
                  {"reconstruction_s", run.result.seconds},
                  {"write_s", write_seconds},
                  {"total_s", total_seconds}};
  const auto comparison = [](const std::optional<Comparison>& c, const std::string& file) {
    if (!c) return nlohmann::json(nullptr);
    return nlohmann::json{{"file", file},
                          {"phase_ssim", c->phase_ssim},
                          {"phase_ssim_offset_only", c->phase_ssim_offset_only},
                          {"phase_ssim_reference_range", c->phase_ssim_reference_range},
                          {"relative_error", c->error}};
  };
  j["versus_reference"] = comparison(run.versus_reference, run.options.reference);
  j["versus_truth"] = comparison(run.versus_truth, run.options.truth);
  return j;
}

// ---- the run
// ----------------------------------------------------------------------------------------------

ComplexGrid start_probe(const Options& options, const Scan& scan, std::string& source) {
  if (!options.probe.empty()) {
    const ptyroi::DatasetSpec spec = ptyroi::parse_dataset_spec(options.probe, options.probe);
    const std::string path = spec.file == options.probe ? "/probe" : spec.path;
    ComplexGrid probe = read_complex_image(spec.file, path);
    if (probe.rows != scan.frame_rows || probe.cols != scan.frame_cols) {
      throw ptyroi::InputError("--probe " + options.probe + " is " + std::to_string(probe.rows) + "x" +
                               std::to_string(probe.cols) + ", the frames " + std::to_string(scan.frame_rows) + "x" +
                               std::to_string(scan.frame_cols));
    }
    source = spec.file + ":" + path;
    return probe;
  }
  if (scan.data.frames() == 0) {
    source = "none (no frames)";
    return ComplexGrid(scan.frame_rows, scan.frame_cols);
  }
  source = "mean pattern";
  return rec::probe_from_patterns(scan.data);
}

// The outputs, checked before the reconstruction starts: neither is an input (by any name), a link,
// a device or a directory, nor exists without --overwrite, nor are they one file.
void check_outputs(const Options& options) {
  std::vector<std::string> inputs{options.input, options.reference, options.truth, options.probe};
  for (const std::string& spec : {options.probe, options.positions_x, options.positions_y}) {
    if (!spec.empty()) inputs.push_back(ptyroi::parse_dataset_spec(spec, options.input).file);
  }
  std::vector<std::pair<std::string, std::string>> outputs{{"--output", options.output}};
  if (!options.summary.empty()) outputs.emplace_back("--summary", options.summary);
  ptyroi::check_distinct_outputs(outputs);
  for (const auto& [what, path] : outputs) ptyroi::check_output_path(path, what.c_str(), options.overwrite, inputs);
}

int run(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  check_outputs(options);
  const Scan scan = read_scan(options);
  if (!options.quiet) {
    std::cout << kProgram << ": " << options.input << ":" << scan.dataset << "  " << scan.data.frames() << " of "
              << scan.full_frames << " frames of " << scan.frame_rows << "x" << scan.frame_cols << ", object "
              << scan.object.rows << "x" << scan.object.cols << " pixels of " << scan.pixel_size << " m ("
              << scan.pixel_size_source << ")\n";
  }
  std::string probe_source;
  const ComplexGrid probe = start_probe(options, scan, probe_source);
  const ComplexGrid object = rec::random_start_object(probe, scan.data.windows, scan.object.rows, scan.object.cols,
                                                      options.start_noise, options.settings.seed);
  rec::Settings settings = options.settings;
  if (settings.pin_probe && scan.data.frames() > 0) {
    const rec::EmptySpace empty = rec::find_empty_space(scan.data);
    settings.probe_power = empty.power;
    settings.empty_space_frames = empty.frames;
  }
  rec::Result result;
  if (scan.data.frames() == 0) {
    // Nothing measured: the object stays the empty-space start.
    result.object = object;
    result.probe = probe;
    if (!options.quiet) std::cout << "  no frames: the object is the empty-space start (1 everywhere)\n";
  } else {
    if (!options.quiet) {
      std::cout << "  " << rec::algorithm_name(options.settings.algorithm) << ", " << options.settings.iterations
                << " iterations, alpha " << options.settings.alpha << ", beta " << options.settings.beta
                << ", probe from iteration " << options.settings.probe_start << ", batch " << options.settings.batch
                << ", " << options.settings.threads << " threads, seed " << options.settings.seed << '\n';
    }
    const int every = std::max(1, options.settings.iterations / 10);
    const rec::Progress progress = [&](int iteration, double error) {
      if (options.quiet || (iteration % every != 0 && iteration != options.settings.iterations)) return;
      std::cout << "  iteration " << std::setw(4) << iteration << "  Fourier error " << std::scientific
                << std::setprecision(3) << error << std::defaultfloat << std::setprecision(6) << '\n';
    };
    result = rec::reconstruct(scan.data, object, probe, settings, progress);
  }

  const rec::Region region = rec::covered_region(scan.full_windows, scan.frame_rows, scan.frame_cols,
                                                 options.region_margin, scan.object.rows, scan.object.cols);
  Run report{options, settings, scan, result, region, std::nullopt, std::nullopt, probe_source};
  const ComplexGrid compared = rec::crop(result.object, region);
  if (!options.reference.empty()) {
    report.versus_reference = compare(compared, rec::crop(read_reference(options.reference, scan), region));
  }
  if (!options.truth.empty()) report.versus_truth = compare(compared, read_truth(options.truth, scan, region));

  const auto write_start = std::chrono::steady_clock::now();
  write_output(report);
  const auto end = std::chrono::steady_clock::now();
  const double write_seconds = std::chrono::duration<double>(end - write_start).count();
  const double total_seconds = std::chrono::duration<double>(end - start).count();
  if (!options.summary.empty()) {
    std::ostringstream text;
    text << std::setw(2) << summary_json(report, total_seconds, write_seconds) << '\n';
    ptyroi::write_text_output(options.summary, text.str(), options.overwrite);
  }
  if (!options.quiet) {
    std::cout << "  region " << region.rows << "x" << region.cols << " at (" << region.top << ", " << region.left
              << ")";
    if (report.versus_reference) {
      std::cout << "  vs reference: phase SSIM " << report.versus_reference->phase_ssim << ", error "
                << report.versus_reference->error;
    }
    if (report.versus_truth) {
      std::cout << "  vs truth: phase SSIM " << report.versus_truth->phase_ssim << ", error "
                << report.versus_truth->error;
    }
    std::cout << "\n  timings (s)  read " << scan.read_seconds << ", reconstruction " << result.seconds << ", write "
              << write_seconds << ", total " << total_seconds << "\n  wrote " << options.output << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ptyroi::mpi::Session session(argc, argv);
  h5::silence_error_printing();
  ptyroi::install_interrupt_handlers();
  try {
    if (ptyroi::mpi::size(MPI_COMM_WORLD) != 1) {
      if (ptyroi::mpi::rank(MPI_COMM_WORLD) == 0) {
        std::cerr << kProgram << ": error: runs on one MPI rank; use --threads for parallelism\n";
      }
      return 2;
    }
    const std::optional<Options> options = parse_options(argc, argv);
    if (!options) return 0;
    return run(*options);
  } catch (const ptyroi::UsageError& error) {
    std::cerr << kProgram << ": error: " << ptyroi::one_line(error.what()) << " (see " << kProgram << " --help)\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << kProgram << ": error: " << ptyroi::one_line(error.what()) << '\n';
    if (h5::library_state_broken()) {
      std::fflush(nullptr);
      std::_Exit(1);
    }
    return 1;
  }
}
