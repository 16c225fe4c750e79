// ptyroi-simulate: writes a simulated far-field ptychography scan (diffraction patterns, scan
// positions and the ground truth of which positions see the sample) in any input layout ptyroi
// reads: plain HDF5, CXI, a DECTRIS-style NeXus master with its data files, or fold_slice's
// (PtychoShelves) prepared data. Raster, fly and spiral scans; optional detector gaps and hot
// pixels; optionally the true object and probe. What real scans add, on request: fft-shifted
// frames, a sample filling the field of view, fly scans with their own row spacing, incident-flux
// drift with a monitor, [1, K, N, N] stacks, [K, 2|3] position datasets in other units, int32 or
// float32 pixels and the instrument's energy, distance and pixel size. Each MPI rank simulates a
// contiguous range of the frames of each file and writes its own hyperslab.
#include <mpi.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/simulate/simulation.hpp"

namespace {

namespace po = boost::program_options;
namespace h5 = ptyroi::h5;
namespace sim = ptyroi::simulation;

constexpr const char* kProgram = "ptyroi-simulate";

// The detector the NeXus and CXI metadata describe by default: Eiger-like 75 µm pixels, 1.24 Å
// (10 keV) X-rays, and the distance z at which one object pixel, λ·z / (N·pixel), is --pixel-size.
constexpr double kDetectorPixel = 75e-6;           // m
constexpr double kWavelength = 1.24e-10;           // m
constexpr double kWavelengthAngstrom = 1.24;       // the same, in the unit NXmx files use
constexpr double kPlanck = 6.62607015e-34;         // J·s (exact in the SI)
constexpr double kLightSpeed = 299792458.0;        // m/s (exact)
constexpr double kElectronVolt = 1.602176634e-19;  // J (exact)

struct Options {
  std::string output;
  sim::ScanGeometry scan;
  std::string scan_pattern = "raster";
  std::string object = "particles";
  int particles = 12;
  double coverage = 0.08;  // about the paper's share of informative positions (~20-30%)
  double photons = 1e6;
  double pixel_size = 1e-8;
  std::string dtype = "uint32";
  std::int64_t seed = 1;
  // What real scans add; the defaults write what the simulator always wrote.
  bool fftshift = false;
  std::string flux_step_text;  // FRACTION[@FRAME] as given
  double flux_step_at = 0.5;   // FRAME: < 1 a fraction of the frames, else a frame number
  sim::FluxDrift flux;         // step_frame resolved once the frame count is known
  bool monitor = false;        // write the monitor even without drift
  std::string stack_shape = "KNM";
  std::string positions_layout = "separate";
  std::string positions_unit;  // empty: the layout's own (m; nexus CSV: um)
  std::optional<double> energy_kev;
  std::optional<double> distance;  // m
  double detector_pixel = kDetectorPixel;
  bool detector_pixel_given = false;
  bool pixel_size_given = false;
  std::string layout = "plain";
  int chunk_frames = 1;
  std::string compression = "none";  // the nexus layout's default is bitshuffle-lz4
  bool compression_given = false;
  int frames_per_file = 100;
  bool gaps = false;
  int hot_pixels = 0;
  bool truth_object = false;

  // The largest count, also the module gaps' flag value: float32 holds the uint32 counts.
  [[nodiscard]] std::uint64_t saturation() const {
    if (dtype == "uint16") return std::numeric_limits<std::uint16_t>::max();
    if (dtype == "int32") return std::numeric_limits<std::int32_t>::max();
    return std::numeric_limits<std::uint32_t>::max();
  }
  [[nodiscard]] int bit_depth() const { return dtype == "uint16" ? 16 : 32; }
  [[nodiscard]] bool has_artefacts() const { return gaps || hot_pixels > 0; }
  [[nodiscard]] bool writes_monitor() const { return monitor || !flux.constant(); }
  [[nodiscard]] bool instrument_given() const {
    return energy_kev.has_value() || distance.has_value() || detector_pixel_given;
  }
  // λ = h·c / E; 1.24 Å exactly without --energy-kev.
  [[nodiscard]] double wavelength() const {
    return energy_kev ? kPlanck * kLightSpeed / (*energy_kev * 1e3 * kElectronVolt) : kWavelength;
  }
  [[nodiscard]] double wavelength_angstrom() const { return energy_kev ? wavelength() * 1e10 : kWavelengthAngstrom; }
  [[nodiscard]] double photon_energy() const { return kPlanck * kLightSpeed / wavelength(); }  // J
  // z with λ·z / (N·p) = the object pixel (--pixel-size), unless --distance-m gave it (then the
  // object pixel follows from z).
  [[nodiscard]] double detector_distance() const {
    return distance ? *distance : pixel_size * scan.frame_size * detector_pixel / wavelength();
  }
  [[nodiscard]] sim::ScanPattern pattern() const {
    return scan_pattern == "fly"      ? sim::ScanPattern::fly
           : scan_pattern == "spiral" ? sim::ScanPattern::spiral
                                      : sim::ScanPattern::raster;
  }
  // The pixel type in the files: fold_slice keeps its prepared patterns as float32.
  [[nodiscard]] std::string file_dtype() const { return layout == "ptychoshelves" ? "float32" : dtype; }
};

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr const char* kNexusSuffix = "_master.h5";
constexpr const char* kShelvesSuffix = "_dp.hdf5";

// The files a layout writes. nexus: PREFIX_master.h5 (the output), PREFIX_data_NNNNNN.h5 and
// PREFIX_positions.csv; ptychoshelves: PREFIX_dp.hdf5 (the output) and PREFIX_para.hdf5; plain
// and cxi: the output alone.
struct OutputFiles {
  std::string main;
  std::vector<std::string> data;  // nexus data files in frame order
  std::string positions;          // nexus CSV, ptychoshelves para file; empty otherwise
};

OutputFiles output_files(const Options& options, std::int64_t frames) {
  OutputFiles files;
  files.main = options.output;
  if (options.layout == "nexus") {
    const std::string prefix = options.output.substr(0, options.output.size() - std::strlen(kNexusSuffix));
    const std::int64_t count = (frames + options.frames_per_file - 1) / options.frames_per_file;
    for (std::int64_t i = 1; i <= count; ++i) {
      std::string number = std::to_string(i);
      number.insert(0, number.size() < 6 ? 6 - number.size() : 0, '0');
      files.data.push_back(prefix + "_data_" + number + ".h5");
    }
    files.positions = prefix + "_positions.csv";
  } else if (options.layout == "ptychoshelves") {
    files.positions = options.output.substr(0, options.output.size() - std::strlen(kShelvesSuffix)) + "_para.hdf5";
  }
  return files;
}

// Counts of a batch of frames in the file's pixel type: parallel HDF5 cannot convert types in
// filtered (gzip, bitshuffle-lz4) writes. Counts are clipped to the --dtype maximum first, so a
// float32 stack holds the same values as the integer one (exactly, up to 2^24).
class CountBuffer {
 public:
  CountBuffer(std::string file_dtype, std::uint64_t largest) : type_(std::move(file_dtype)), largest_(largest) {}

  void resize(std::size_t size) {
    if (type_ == "uint16") narrow_values_.resize(size);
    if (type_ == "uint32") wide_values_.resize(size);
    if (type_ == "int32") signed_values_.resize(size);
    if (type_ == "float32") float_values_.resize(size);
  }

  // Stores the count clipped to the largest; true when it had to be clipped.
  bool store(std::size_t index, std::uint64_t count) {
    const std::uint64_t value = std::min(count, largest_);
    if (type_ == "uint16") narrow_values_[index] = static_cast<std::uint16_t>(value);
    if (type_ == "uint32") wide_values_[index] = static_cast<std::uint32_t>(value);
    if (type_ == "int32") signed_values_[index] = static_cast<std::int32_t>(value);
    if (type_ == "float32") float_values_[index] = static_cast<float>(value);
    return count > largest_;
  }

  [[nodiscard]] const void* data() const {
    if (type_ == "uint16") return narrow_values_.data();
    if (type_ == "uint32") return wide_values_.data();
    if (type_ == "int32") return signed_values_.data();
    return float_values_.data();
  }
  [[nodiscard]] hid_t memory_type() const {
    if (type_ == "uint16") return H5T_NATIVE_UINT16;
    if (type_ == "uint32") return H5T_NATIVE_UINT32;
    if (type_ == "int32") return H5T_NATIVE_INT32;
    return H5T_NATIVE_FLOAT;
  }

 private:
  std::string type_;
  std::uint64_t largest_;
  std::vector<std::uint16_t> narrow_values_;
  std::vector<std::uint32_t> wide_values_;
  std::vector<std::int32_t> signed_values_;
  std::vector<float> float_values_;
};

// The pixel type of the frames in the file.
hid_t pixel_file_type(const std::string& file_dtype) {
  if (file_dtype == "uint16") return H5T_STD_U16LE;
  if (file_dtype == "uint32") return H5T_STD_U32LE;
  if (file_dtype == "int32") return H5T_STD_I32LE;
  return H5T_IEEE_F32LE;
}

template <class T>
void require(bool condition, const std::string& option, const std::string& rule, T value) {
  if (condition) return;
  std::ostringstream message;
  message << "--" << option << " " << rule << " (got " << value << ")";
  throw ptyroi::UsageError(message.str());
}

void validate(const Options& options) {
  const sim::ScanGeometry& scan = options.scan;
  require(scan.rows >= 1, "rows", "must be at least 1", scan.rows);
  require(scan.cols >= 1, "cols", "must be at least 1", scan.cols);
  require(scan.frame_size >= 8 && scan.frame_size <= 8192, "frame-size", "must be between 8 and 8192", scan.frame_size);
  require(scan.step >= 1, "step", "must be at least 1", scan.step);
  // The aperture radius 0.61·N/r must be between 1 and N/2 Fourier pixels.
  std::ostringstream largest_radius;
  largest_radius << 0.61 * scan.frame_size;
  require(scan.probe_radius >= 1.22 && scan.probe_radius <= 0.61 * scan.frame_size, "probe-radius",
          "must be between 1.22 and 0.61*frame-size = " + largest_radius.str(), scan.probe_radius);
  const std::int64_t longest_side =
      static_cast<std::int64_t>(std::max(scan.rows, scan.cols) - 1) * scan.step + scan.frame_size;
  require(longest_side <= INT_MAX / 2, "step", "with --rows and --cols makes the object too large", scan.step);
  require(options.scan_pattern == "raster" || options.scan_pattern == "fly" || options.scan_pattern == "spiral", "scan",
          "must be raster, fly or spiral", options.scan_pattern);
  require(options.object == "particles" || options.object == "shepp-logan" || options.object == "full-field", "object",
          "must be particles, shepp-logan or full-field", options.object);
  require(options.particles >= 0, "particles", "must not be negative", options.particles);
  require(options.coverage > 0 && options.coverage <= 0.6, "coverage", "must be in (0, 0.6]", options.coverage);
  require(std::isfinite(options.photons) && options.photons > 0 && options.photons <= 1e15, "photons",
          "must be positive and at most 1e15", options.photons);
  require(std::isfinite(options.pixel_size) && options.pixel_size > 0, "pixel-size", "must be positive",
          options.pixel_size);
  require(
      options.dtype == "uint16" || options.dtype == "uint32" || options.dtype == "int32" || options.dtype == "float32",
      "dtype", "must be uint16, uint32, int32 or float32", options.dtype);
  require(options.seed >= 0, "seed", "must not be negative", options.seed);
  require(options.layout == "plain" || options.layout == "cxi" || options.layout == "nexus" ||
              options.layout == "ptychoshelves",
          "layout", "must be plain, cxi, nexus or ptychoshelves", options.layout);
  require(options.chunk_frames >= 1, "chunk-frames", "must be at least 1", options.chunk_frames);
  require(options.compression == "none" || options.compression == "gzip" || options.compression == "bitshuffle-lz4",
          "compression", "must be none, gzip or bitshuffle-lz4", options.compression);
  require(options.frames_per_file >= 1, "frames-per-file", "must be at least 1", options.frames_per_file);
  const std::int64_t quarter = static_cast<std::int64_t>(scan.frame_size) * scan.frame_size / 4;
  require(options.hot_pixels >= 0 && options.hot_pixels <= quarter, "hot-pixels",
          "must be between 0 and a quarter of the frame's pixels, " + std::to_string(quarter), options.hot_pixels);
  require(scan.row_step == 0 || options.scan_pattern != "spiral", "row-step", "applies to raster and fly scans",
          "--scan spiral");
  const std::int64_t tallest = static_cast<std::int64_t>(scan.rows - 1) * scan.row_spacing() + scan.frame_size;
  require(tallest <= INT_MAX / 2, "row-step", "with --rows makes the object too large", scan.row_spacing());
  require(std::isfinite(options.flux.step) && options.flux.step > -1.0 && options.flux.step <= 10.0, "flux-step",
          "FRACTION must be in (-1, 10]", options.flux_step_text);
  require(std::isfinite(options.flux.noise) && options.flux.noise >= 0.0 && options.flux.noise <= 0.2, "flux-noise",
          "must be between 0 and 0.2", options.flux.noise);
  require(options.stack_shape == "KNM" || options.stack_shape == "1KNM", "stack-shape", "must be KNM or 1KNM",
          options.stack_shape);
  require(options.stack_shape == "KNM" || options.layout == "plain" || options.layout == "cxi", "stack-shape",
          "1KNM needs --layout plain or cxi", options.layout);
  require(options.positions_layout == "separate" || options.positions_layout == "xy" ||
              options.positions_layout == "yx" || options.positions_layout == "xyz",
          "positions-layout", "must be separate, xy, yx or xyz", options.positions_layout);
  require(options.positions_layout == "separate" || options.layout == "plain", "positions-layout",
          "needs --layout plain", options.layout);
  const std::string& unit = options.positions_unit;
  require(unit.empty() || unit == "m" || unit == "um" || unit == "nm" || unit == "px", "positions-unit",
          "must be m, um, nm or px", unit);
  require(unit.empty() || options.layout == "plain" || options.layout == "nexus", "positions-unit",
          "needs --layout plain or nexus (CXI and fold_slice store metres)", options.layout);
  require(options.layout != "nexus" || options.dtype == "uint16" || options.dtype == "uint32", "dtype",
          "must be uint16 or uint32 with --layout nexus (as an Eiger writes)", options.dtype);
  if (options.energy_kev) {
    require(std::isfinite(*options.energy_kev) && *options.energy_kev > 0.0, "energy-kev", "must be positive",
            *options.energy_kev);
  }
  if (options.distance) {
    require(std::isfinite(*options.distance) && *options.distance > 0.0, "distance-m", "must be positive",
            *options.distance);
    require(!options.pixel_size_given, "distance-m",
            "and --pixel-size together over-determine the object pixel lambda*z/(N*p); give one", *options.distance);
  }
  require(std::isfinite(options.detector_pixel) && options.detector_pixel > 0.0, "detector-pixel-m", "must be positive",
          options.detector_pixel);
  const std::string name = std::filesystem::path(options.output).filename().string();
  if (options.layout == "nexus") {
    require(ends_with(name, kNexusSuffix) && name.size() > std::strlen(kNexusSuffix), "output",
            "must be named PREFIX_master.h5 with --layout nexus (its data files are PREFIX_data_000001.h5, ...)",
            options.output);
  }
  if (options.layout == "ptychoshelves") {
    require(ends_with(name, kShelvesSuffix) && name.size() > std::strlen(kShelvesSuffix), "output",
            "must be named PREFIX_dp.hdf5 with --layout ptychoshelves (positions go to PREFIX_para.hdf5)",
            options.output);
    require(!options.has_artefacts(), options.gaps ? "gaps" : "hot-pixels",
            "needs --layout plain, cxi or nexus (fold_slice's prepared data has no detector mask)", options.layout);
  }
}

// A whole number or decimal, all of the text (std::stod alone accepts "0.15x").
double parse_number(const std::string& text, const std::string& option) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw ptyroi::UsageError("--" + option + " expects FRACTION[@FRAME], e.g. 0.15@0.5 (got " + text + ")");
  }
  return value;
}

// --flux-step FRACTION[@FRAME]: the frame is resolved in resolve_flux_step once K is known.
void parse_flux_step(Options& options) {
  const std::string& text = options.flux_step_text;
  const std::size_t at = text.find('@');
  options.flux.step = parse_number(text.substr(0, at), "flux-step");
  if (at != std::string::npos) {
    options.flux_step_at = parse_number(text.substr(at + 1), "flux-step");
    const double frame = options.flux_step_at;
    require(std::isfinite(frame) && frame >= 0.0 && (frame < 1.0 || frame == std::floor(frame)), "flux-step",
            "FRAME must be a fraction in [0, 1) or a whole frame number", text);
  }
}

// The first frame at the stepped flux: ⌊FRAME·K⌋ for a fraction, else the frame number (< K).
void resolve_flux_step(Options& options, std::int64_t frames) {
  if (options.flux_step_text.empty()) return;
  const double at = options.flux_step_at;
  if (at < 1.0) {
    options.flux.step_frame = static_cast<std::int64_t>(std::floor(at * static_cast<double>(frames)));
  } else {
    require(at < static_cast<double>(frames), "flux-step",
            "FRAME must be below the " + std::to_string(frames) + " frames of the scan", options.flux_step_text);
    options.flux.step_frame = static_cast<std::int64_t>(at);
  }
}

// Options from the command line; nullopt after --help (printed by rank 0).
std::optional<Options> parse_options(int argc, char** argv, bool print) {
  Options options;
  po::options_description described(
      std::string("Usage: ") + kProgram +
      " --output FILE [options]\n"
      "Simulates a far-field ptychography scan (raster, fly or spiral) and writes it with its ground truth\n"
      "(/truth/informative: 1 where the probe sees the sample) in one of the layouts ptyroi reads:\n"
      "  plain          FILE: /data [K,N,N], /positions_x, /positions_y (m), /pixel_mask with --gaps/--hot-pixels,\n"
      "                 /monitor [K] with flux drift, root attributes energy_kev, wavelength_m, detector_distance_m,\n"
      "                 detector_pixel_size_m when --energy-kev, --distance-m or --detector-pixel-m is given\n"
      "  cxi            FILE: CXI 1.5, /entry_1/instrument_1/detector_1/data (+ /entry_1/data_1/data soft link),\n"
      "                 /entry_1/sample_1/geometry_1/translation [K,3] (m), detector mask, distance (m), "
      "x/y_pixel_size\n"
      "                 (m), source_1/energy (J) and wavelength (m); monitor: /entry_1/instrument_1/monitor/data\n"
      "  nexus          PREFIX_master.h5: NXmx master (as a DECTRIS Eiger writes) whose /entry/data/data_NNNNNN\n"
      "                 are external links to PREFIX_data_NNNNNN.h5:/entry/data/data; positions (um) in\n"
      "                 PREFIX_positions.csv; monitor: /entry/monitor (NXmonitor) /data\n"
      "  ptychoshelves  PREFIX_dp.hdf5: /dp [K,N,N] float32; PREFIX_para.hdf5: /ppX, /ppY (m)\n"
      "Run under mpiexec to share the frames between ranks; the output is the same for any number of ranks.\n\n"
      "Options");
  // clang-format off
  described.add_options()
    ("help,h", "print this help and exit")
    ("output,o", po::value(&options.output)->required(),
     "file to write (replaced); PREFIX_master.h5 for --layout nexus, PREFIX_dp.hdf5 for ptychoshelves")
    ("layout", po::value(&options.layout)->default_value(options.layout), "plain | cxi | nexus | ptychoshelves")
    ("scan", po::value(&options.scan_pattern)->default_value(options.scan_pattern),
     "raster | fly (rows of a continuous fly scan: points per row vary by up to 10% of --cols, positions jittered by up to step/4 along rows and row-step/4 across) | spiral (Fermat spiral, about rows*cols points over the same area)")
    ("rows", po::value(&options.scan.rows)->default_value(options.scan.rows), "scan rows")
    ("cols", po::value(&options.scan.cols)->default_value(options.scan.cols), "scan columns")
    ("step", po::value<int>(),
     "object pixels between neighbouring positions (default: 0.8*probe-radius, ~60% overlap)")
    ("row-step", po::value<int>(),
     "object pixels between rows (raster, fly), e.g. --step 12 --row-step 2 for a 6:1 fly scan (default: --step)")
    ("frame-size", po::value(&options.scan.frame_size)->default_value(options.scan.frame_size),
     "detector frames and probe window are N x N pixels")
    ("probe-radius", po::value<double>(),
     "probe radius in object pixels, first zero of the Airy spot (default: frame-size/8)")
    ("object", po::value(&options.object)->default_value(options.object),
     "particles | shepp-logan | full-field (a weak Siemens star on a membrane filling the field of view, no empty background: the transmission varies by a few per mille, every frame is informative)")
    ("particles", po::value(&options.particles)->default_value(options.particles),
     "number of particles (--object particles)")
    ("coverage", po::value(&options.coverage)->default_value(options.coverage),
     "fraction of the scanned area the particles cover (--object particles)")
    ("photons", po::value(&options.photons)->default_value(options.photons),
     "photons per frame incident in the probe")
    ("pixel-size", po::value(&options.pixel_size)->default_value(options.pixel_size),
     "metres per object pixel, lambda*z/(N*p) (scales the stored positions; default: 1e-8, or from --distance-m)")
    ("dtype", po::value(&options.dtype)->default_value(options.dtype),
     "uint16 | uint32 | int32 | float32 (counts above the maximum are clipped, float32 holds the uint32 counts, exact to 2^24; ptychoshelves stores float32; nexus: uint16 or uint32)")
    ("fftshift", po::bool_switch(&options.fftshift),
     "store every frame (and the pixel mask) as numpy.fft.ifftshift of the centred frame: zero frequency at pixel (0, 0), as tike and APS fly scans store them (nexus beam centre then reads 0, 0)")
    ("flux-step", po::value(&options.flux_step_text),
     "FRACTION[@FRAME]: the incident flux, and the photons of every frame, change by the factor 1+FRACTION from FRAME on (FRAME < 1: that fraction of the frames, else a frame number; default @0.5), e.g. 0.15@0.5 for a top-up halfway; writes the monitor")
    ("flux-noise", po::value(&options.flux.noise)->default_value(0.0, "0"),
     "relative per-frame jitter of the incident flux (standard deviation, at most 0.2, from the seed and the frame); writes the monitor")
    ("monitor", po::bool_switch(&options.monitor),
     "write the per-frame incident photons (photons * relative flux, float64 [K]) even with constant flux: plain (and ptychoshelves _dp file) /monitor, cxi /entry_1/instrument_1/monitor/data, nexus /entry/monitor/data (NXmonitor)")
    ("stack-shape", po::value(&options.stack_shape)->default_value(options.stack_shape),
     "KNM | 1KNM (the stack as [1, K, N, N], as some reconstruction codes store it; plain and cxi)")
    ("positions-layout", po::value(&options.positions_layout)->default_value(options.positions_layout),
     "separate (/positions_x, /positions_y) | xy | yx (one /positions [K, 2] with columns (x, y) or (y, x)) | xyz (/positions [K, 3], z = 0); plain layout")
    ("positions-unit", po::value(&options.positions_unit),
     "m | um | nm | px (object pixels) for the stored positions, without a units attribute (plain, nexus CSV; default: m, nexus CSV um)")
    ("energy-kev", po::value<double>(),
     "photon energy in keV (default: that of 1.24 A, 9.9987 keV)")
    ("distance-m", po::value<double>(),
     "sample-detector distance in m (default: lambda*z/(N*p) = --pixel-size; given, it sets the object pixel instead of --pixel-size)")
    ("detector-pixel-m", po::value(&options.detector_pixel)->default_value(kDetectorPixel, "75e-6"),
     "detector pixel size p in m (--pixel-size stays the object pixel)")
    ("seed", po::value(&options.seed)->default_value(options.seed),
     "seed of the object, the noise, the fly scan and the hot pixels")
    ("chunk-frames", po::value(&options.chunk_frames)->default_value(options.chunk_frames),
     "frames per HDF5 chunk")
    ("compression", po::value<std::string>(),
     "none | gzip (with byte shuffling) | bitshuffle-lz4 (HDF5 filter 32008, as Eiger detectors write; needs the plugin: apt-get install bitshuffle). Default: bitshuffle-lz4 for --layout nexus, else none")
    ("frames-per-file", po::value(&options.frames_per_file)->default_value(options.frames_per_file),
     "frames per data file (--layout nexus; the last file holds the rest)")
    ("gaps", po::bool_switch(&options.gaps),
     "a module gap: 2 rows at 40% of the frame read 2^bit_depth-1 (int32: 2^31-1; float32: 2^32-1 as float) in every frame and are marked in the pixel mask (plain, cxi, nexus)")
    ("hot-pixels", po::value(&options.hot_pixels)->default_value(options.hot_pixels),
     "this many hot pixels (chosen from the seed) read 1000003 counts (uint16: 65534) in every frame and are marked in the pixel mask (plain, cxi, nexus)")
    ("truth-object", po::bool_switch(&options.truth_object),
     "also write the true object and probe: /truth/object [rows, cols, 2] and /truth/probe [N, N, 2], float64 (real, imaginary), attribute /truth pixel_size_m; a frame's position / pixel_size_m is the top-left corner of its N x N window in the object");
  // clang-format on
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, described), values);
    if (values.count("help") != 0) {
      if (print) std::cout << described << '\n';
      return std::nullopt;
    }
    po::notify(values);
  } catch (const po::error& error) {
    throw ptyroi::UsageError(std::string(error.what()) + " (see --help)");
  }
  options.scan.probe_radius = values.count("probe-radius") != 0 ? values["probe-radius"].as<double>()
                                                                : sim::default_probe_radius(options.scan.frame_size);
  options.scan.step =
      values.count("step") != 0 ? values["step"].as<int>() : sim::default_step(options.scan.probe_radius);
  if (values.count("row-step") != 0) {
    options.scan.row_step = values["row-step"].as<int>();
    require(options.scan.row_step >= 1, "row-step", "must be at least 1", options.scan.row_step);
  }
  if (values.count("flux-step") != 0) parse_flux_step(options);
  if (values.count("energy-kev") != 0) options.energy_kev = values["energy-kev"].as<double>();
  if (values.count("distance-m") != 0) options.distance = values["distance-m"].as<double>();
  options.detector_pixel_given = !values["detector-pixel-m"].defaulted();
  options.pixel_size_given = !values["pixel-size"].defaulted();
  options.compression_given = values.count("compression") != 0;
  if (options.compression_given) {
    options.compression = values["compression"].as<std::string>();
  } else if (options.layout == "nexus") {
    options.compression = "bitshuffle-lz4";
  }
  if (!values["frames-per-file"].defaulted() && options.layout != "nexus") {
    throw ptyroi::UsageError("--frames-per-file applies to --layout nexus only (got --layout " + options.layout + ")");
  }
  validate(options);
  // The object pixel follows from a given distance: λ·z / (N·p).
  if (options.distance) {
    options.pixel_size = options.wavelength() * *options.distance / (options.scan.frame_size * options.detector_pixel);
  }
  return options;
}

constexpr const char* kTruthPath = "/truth/informative";
constexpr const char* kTruthObjectPath = "/truth/object";
constexpr const char* kTruthProbePath = "/truth/probe";
constexpr const char* kCxiData = "/entry_1/instrument_1/detector_1/data";
constexpr const char* kCxiTranslation = "/entry_1/sample_1/geometry_1/translation";
constexpr H5Z_filter_t kBitshuffleFilter = 32008;  // registered HDF5 filter id of bitshuffle
constexpr unsigned kBitshuffleLz4 = 2;             // BSHUF_H5_COMPRESS_LZ4 in bshuf_h5filter.h

// Where the frames go in a file that holds them.
std::string data_path(const std::string& layout) {
  if (layout == "cxi") return kCxiData;
  if (layout == "nexus") return "/entry/data/data";
  if (layout == "ptychoshelves") return "/dp";
  return "/data";
}

// Checked before any file is created, so that a missing plugin leaves nothing behind.
void check_compression_available(const Options& options) {
  if (options.compression == "gzip" && H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw ptyroi::UsageError("--compression gzip: this HDF5 library has no deflate filter");
  }
  if (options.compression == "bitshuffle-lz4" && H5Zfilter_avail(kBitshuffleFilter) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    const std::string why = options.compression_given
                                ? "--compression bitshuffle-lz4"
                                : "--layout nexus compresses with bitshuffle-lz4 unless --compression says otherwise";
    throw ptyroi::UsageError(why +
                             ": HDF5 filter 32008 (bitshuffle) is not available: apt-get install bitshuffle, or set "
                             "HDF5_PLUGIN_PATH to the directory of its plugin");
  }
}

// ---- small datasets
// --------------------------------------------------------------------------------

// Metadata datasets and their values: each is created by every rank when added (parallel HDF5
// metadata is collective), and rank 0 writes them all in write().
class SmallDatasets {
 public:
  SmallDatasets(hid_t file, std::string file_name) : file_(file), file_name_(std::move(file_name)) {}

  template <class T>
  hid_t add(const std::string& path, hid_t file_type, const std::vector<hsize_t>& dims, const std::vector<T>& values) {
    Entry entry{path, h5::create_dataset(file_, path, file_type, dims), h5::Handle(), h5::native_type<T>(), {}};
    entry.bytes.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(entry.bytes.data(), values.data(), entry.bytes.size());
    entries_.push_back(std::move(entry));
    return entries_.back().dataset.get();
  }

  template <class T>
  hid_t add_scalar(const std::string& path, hid_t file_type, T value) {
    return add(path, file_type, {}, std::vector<T>{value});
  }

  // A scalar fixed-length ASCII string, as NeXus writers store text.
  hid_t add_string(const std::string& path, const std::string& text) {
    h5::Handle type = h5::checked(H5Tcopy(H5T_C_S1), "cannot copy the string type");
    h5::check(H5Tset_size(type.get(), text.size() + 1), "cannot size a string type");
    h5::check(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "cannot pad a string type");
    Entry entry{path, h5::create_dataset(file_, path, type.get(), {}), h5::Handle(), type.get(), {}};
    entry.bytes.assign(text.begin(), text.end());
    entry.bytes.push_back('\0');
    entry.type = std::move(type);
    entries_.push_back(std::move(entry));
    return entries_.back().dataset.get();
  }

  // Rank 0 writes every value, independently; the others wait for the outcome.
  void write(int rank, MPI_Comm comm) {
    ptyroi::mpi::run_phase(comm, [&] {
      if (rank != 0) return;
      h5::Handle independent = h5::transfer_plist(false);
      for (const Entry& entry : entries_) {
        h5::check(
            H5Dwrite(entry.dataset.get(), entry.memory_type, H5S_ALL, H5S_ALL, independent.get(), entry.bytes.data()),
            "cannot write " + entry.path + " to '" + file_name_ + "'");
      }
    });
    entries_.clear();
  }

 private:
  struct Entry {
    std::string path;
    h5::Handle dataset;
    h5::Handle type;  // a string type the memory type refers to
    hid_t memory_type;
    std::vector<unsigned char> bytes;
  };
  hid_t file_;
  std::string file_name_;
  std::vector<Entry> entries_;
};

void write_uint64_attribute(hid_t object, const std::string& name, std::uint64_t value) {
  h5::Handle space = h5::checked(H5Screate(H5S_SCALAR), "cannot create a scalar space");
  h5::Handle attribute =
      h5::checked(H5Acreate2(object, name.c_str(), H5T_STD_U64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create attribute '" + name + "'");
  h5::check(H5Awrite(attribute.get(), H5T_NATIVE_UINT64, &value), "cannot write attribute '" + name + "'");
}

// A group with its NeXus class.
void create_nexus_group(hid_t file, const std::string& path, const std::string& nx_class) {
  h5::Handle group = h5::create_group(file, path);
  h5::write_attribute(group.get(), "NX_class", nx_class);
}

void create_soft_link(hid_t file, const std::string& target, const std::string& link) {
  h5::Handle lcpl = h5::checked(H5Pcreate(H5P_LINK_CREATE), "cannot create a link-creation list");
  h5::check(H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot request intermediate groups");
  h5::check(H5Lcreate_soft(target.c_str(), file, link.c_str(), lcpl.get(), H5P_DEFAULT),
            "cannot link " + link + " to " + target);
}

// ---- metadata
// --------------------------------------------------------------------------------------

std::vector<double> positions_in_metres(const sim::Scan& scan, const Options& options, bool along_x) {
  std::vector<double> metres;
  metres.reserve(scan.positions.size());
  for (const sim::ScanPosition& position : scan.positions) {
    metres.push_back((along_x ? position.x : position.y) * options.pixel_size);
  }
  return metres;
}

// Positions in `unit`: m, um and nm scale the metres; px is the object pixel itself.
std::vector<double> positions_in(const std::string& unit, const sim::Scan& scan, const Options& options, bool along_x) {
  if (unit == "px") {
    std::vector<double> pixels;
    pixels.reserve(scan.positions.size());
    for (const sim::ScanPosition& position : scan.positions) pixels.push_back(along_x ? position.x : position.y);
    return pixels;
  }
  std::vector<double> values = positions_in_metres(scan, options, along_x);
  const double scale = unit == "um" ? 1e6 : unit == "nm" ? 1e9 : 1.0;
  if (scale != 1.0) {
    for (double& value : values) value *= scale;
  }
  return values;
}

// The incident photons of every frame: --photons times the relative flux.
std::vector<double> monitor_values(const Options& options, std::int64_t frames) {
  std::vector<double> values(static_cast<std::size_t>(frames));
  for (std::int64_t k = 0; k < frames; ++k) {
    values[static_cast<std::size_t>(k)] =
        options.photons * sim::relative_flux(options.flux, static_cast<std::uint64_t>(options.seed), k);
  }
  return values;
}

// The pixel mask as the stored frames need it: permuted like them with --fftshift.
std::vector<std::uint32_t> stored_mask(const Options& options, const sim::DetectorArtefacts& artefacts,
                                       std::uint32_t gap_bits, std::uint32_t hot_bits) {
  const sim::Grid<std::uint32_t> mask = sim::pixel_mask(options.scan.frame_size, artefacts, gap_bits, hot_bits);
  return options.fftshift ? sim::ifftshift(mask).values : mask.values;
}

void write_root_attributes(hid_t file, const Options& options) {
  h5::Handle root = h5::checked(H5Gopen2(file, "/", H5P_DEFAULT), "cannot open the root group");
  const sim::ScanGeometry& geometry = options.scan;
  h5::write_attribute(root.get(), "rows", std::int64_t{geometry.rows});
  h5::write_attribute(root.get(), "cols", std::int64_t{geometry.cols});
  h5::write_attribute(root.get(), "step_pixels", std::int64_t{geometry.step});
  h5::write_attribute(root.get(), "frame_size", std::int64_t{geometry.frame_size});
  h5::write_attribute(root.get(), "probe_radius_pixels", geometry.probe_radius);
  h5::write_attribute(root.get(), "pixel_size_m", options.pixel_size);
  h5::write_attribute(root.get(), "photons", options.photons);
  h5::write_attribute(root.get(), "seed", options.seed);
  h5::write_attribute(root.get(), "object", options.object);
  if (options.object == "particles") {
    h5::write_attribute(root.get(), "particles", std::int64_t{options.particles});
    h5::write_attribute(root.get(), "coverage", options.coverage);
  }
  // Only when not the default, so that a default scan's file is what it always was.
  if (options.scan_pattern != "raster") h5::write_attribute(root.get(), "scan", options.scan_pattern);
  if (options.gaps) h5::write_attribute(root.get(), "gaps", std::int64_t{1});
  if (options.hot_pixels > 0) h5::write_attribute(root.get(), "hot_pixels", std::int64_t{options.hot_pixels});
  if (geometry.row_step > 0) h5::write_attribute(root.get(), "row_step_pixels", std::int64_t{geometry.row_step});
  if (options.fftshift) h5::write_attribute(root.get(), "fftshift", std::int64_t{1});
  if (!options.flux.constant()) {
    h5::write_attribute(root.get(), "flux_step", options.flux.step);
    h5::write_attribute(root.get(), "flux_step_frame", options.flux.step_frame);
    h5::write_attribute(root.get(), "flux_noise", options.flux.noise);
  }
  if (options.stack_shape != "KNM") h5::write_attribute(root.get(), "stack_shape", options.stack_shape);
  if (options.positions_layout != "separate") {
    h5::write_attribute(root.get(), "positions_layout", options.positions_layout);
  }
  if (!options.positions_unit.empty()) h5::write_attribute(root.get(), "positions_unit", options.positions_unit);
  if (options.dtype == "int32" || options.dtype == "float32") h5::write_attribute(root.get(), "dtype", options.dtype);
  // The plain layout's instrument, when any of it was given (a default file stays as it was).
  if (options.layout == "plain" && options.instrument_given()) {
    h5::write_attribute(root.get(), "energy_kev", options.photon_energy() / kElectronVolt * 1e-3);
    h5::write_attribute(root.get(), "wavelength_m", options.wavelength());
    h5::write_attribute(root.get(), "detector_distance_m", options.detector_distance());
    h5::write_attribute(root.get(), "detector_pixel_size_m", options.detector_pixel);
  }
}

void add_cxi_metadata(SmallDatasets& small, const Options& options, const sim::Scan& scan,
                      const sim::DetectorArtefacts& artefacts) {
  const auto frames = static_cast<hsize_t>(scan.frames());
  const auto n = static_cast<hsize_t>(options.scan.frame_size);
  const std::vector<double> xs = positions_in_metres(scan, options, true);
  const std::vector<double> ys = positions_in_metres(scan, options, false);
  std::vector<double> xyz;
  xyz.reserve(3 * xs.size());
  for (std::size_t k = 0; k < xs.size(); ++k) xyz.insert(xyz.end(), {xs[k], ys[k], 0.0});
  small.add_scalar("/cxi_version", H5T_STD_I64LE, std::int64_t{150});
  small.add(kCxiTranslation, H5T_IEEE_F64LE, {frames, 3}, xyz);
  const std::string detector = "/entry_1/instrument_1/detector_1";
  small.add_scalar(detector + "/distance", H5T_IEEE_F64LE, options.detector_distance());
  small.add_scalar(detector + "/x_pixel_size", H5T_IEEE_F64LE, options.detector_pixel);
  small.add_scalar(detector + "/y_pixel_size", H5T_IEEE_F64LE, options.detector_pixel);
  small.add(detector + "/mask", H5T_STD_U32LE, {n, n}, stored_mask(options, artefacts, sim::kCxiInvalid, sim::kCxiHot));
  const std::string source = "/entry_1/instrument_1/source_1";
  small.add_scalar(source + "/energy", H5T_IEEE_F64LE, options.photon_energy());
  small.add_scalar(source + "/wavelength", H5T_IEEE_F64LE, options.wavelength());
}

void add_nexus_metadata(hid_t file, SmallDatasets& small, const Options& options, const OutputFiles& files,
                        const sim::Scan& scan, const sim::DetectorArtefacts& artefacts) {
  const auto n = static_cast<hsize_t>(options.scan.frame_size);
  create_nexus_group(file, "/entry", "NXentry");
  h5::write_attribute(small.add_string("/entry/definition", "NXmx"), "version", std::string("1.4"));
  create_nexus_group(file, "/entry/data", "NXdata");
  {
    h5::Handle data = h5::checked(H5Gopen2(file, "/entry/data", H5P_DEFAULT), "cannot open /entry/data");
    h5::write_attribute(data.get(), "signal", std::string("data_000001"));
  }
  // External links by bare file name: HDF5 looks for them next to the master.
  for (const std::string& data_file : files.data) {
    const std::string name = std::filesystem::path(data_file).filename().string();
    const std::string link = "/entry/data/data_" + name.substr(name.size() - 9, 6);
    h5::check(H5Lcreate_external(name.c_str(), "/entry/data/data", file, link.c_str(), H5P_DEFAULT, H5P_DEFAULT),
              "cannot link " + link + " to '" + name + "'");
  }
  create_nexus_group(file, "/entry/instrument", "NXinstrument");
  create_nexus_group(file, "/entry/instrument/beam", "NXbeam");
  h5::write_attribute(
      small.add_scalar("/entry/instrument/beam/incident_wavelength", H5T_IEEE_F64LE, options.wavelength_angstrom()),
      "units", std::string("angstrom"));
  const std::string detector = "/entry/instrument/detector";
  create_nexus_group(file, detector, "NXdetector");
  // The simulator puts zero frequency at pixel (⌊N/2⌋, ⌊N/2⌋): the direct beam's true centre;
  // fft-shifted frames have it at (0, 0).
  const double centre = options.fftshift ? 0.0 : std::floor(options.scan.frame_size / 2.0);
  h5::write_attribute(small.add_scalar(detector + "/beam_center_x", H5T_IEEE_F64LE, centre), "units",
                      std::string("pixel"));
  h5::write_attribute(small.add_scalar(detector + "/beam_center_y", H5T_IEEE_F64LE, centre), "units",
                      std::string("pixel"));
  small.add_scalar(detector + "/bit_depth_image", H5T_STD_U32LE, static_cast<std::uint32_t>(options.bit_depth()));
  h5::write_attribute(small.add_scalar(detector + "/x_pixel_size", H5T_IEEE_F64LE, options.detector_pixel), "units",
                      std::string("m"));
  h5::write_attribute(small.add_scalar(detector + "/y_pixel_size", H5T_IEEE_F64LE, options.detector_pixel), "units",
                      std::string("m"));
  h5::write_attribute(small.add_scalar(detector + "/detector_distance", H5T_IEEE_F64LE, options.detector_distance()),
                      "units", std::string("m"));
  create_nexus_group(file, detector + "/detectorSpecific", "NXcollection");
  small.add(detector + "/detectorSpecific/pixel_mask", H5T_STD_U32LE, {n, n},
            stored_mask(options, artefacts, sim::kDectrisGap, sim::kDectrisNoisy));
  small.add_scalar(detector + "/detectorSpecific/nimages", H5T_STD_U64LE, static_cast<std::uint64_t>(scan.frames()));
  small.add_scalar(detector + "/detectorSpecific/x_pixels_in_detector", H5T_STD_U32LE,
                   static_cast<std::uint32_t>(options.scan.frame_size));
  small.add_scalar(detector + "/detectorSpecific/y_pixels_in_detector", H5T_STD_U32LE,
                   static_cast<std::uint32_t>(options.scan.frame_size));
}

// The plain layout's positions in --positions-unit (default m): /positions_x and /positions_y, or
// one /positions [K, 2] (x, y) or (y, x), or [K, 3] (x, y, 0).
void add_plain_positions(SmallDatasets& small, const Options& options, const sim::Scan& scan) {
  const auto frames = static_cast<hsize_t>(scan.frames());
  const std::string unit = options.positions_unit.empty() ? "m" : options.positions_unit;
  const std::vector<double> xs = positions_in(unit, scan, options, true);
  const std::vector<double> ys = positions_in(unit, scan, options, false);
  if (options.positions_layout == "separate") {
    small.add("/positions_x", H5T_IEEE_F64LE, {frames}, xs);
    small.add("/positions_y", H5T_IEEE_F64LE, {frames}, ys);
    return;
  }
  const hsize_t columns = options.positions_layout == "xyz" ? 3 : 2;
  std::vector<double> table;
  table.reserve(columns * xs.size());
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (options.positions_layout == "yx") {
      table.insert(table.end(), {ys[k], xs[k]});
    } else {
      table.insert(table.end(), {xs[k], ys[k]});
      if (columns == 3) table.push_back(0.0);
    }
  }
  small.add("/positions", H5T_IEEE_F64LE, {frames, columns}, table);
}

// The per-frame incident photons where each layout keeps a monitor: plain /monitor; NeXus an
// NXmonitor group in the NXentry (/entry/monitor/data, as the NXentry base class places
// monitors); CXI the NXmonitor of NXcxi_ptycho in instrument_1, named monitor as ptypy's
// Diamond loader reads it (/entry_1/instrument_1/monitor/data).
void add_monitor(hid_t file, SmallDatasets& small, const Options& options, hsize_t frames) {
  const std::vector<double> values = monitor_values(options, static_cast<std::int64_t>(frames));
  if (options.layout == "nexus" || options.layout == "cxi") {
    const std::string group = options.layout == "nexus" ? "/entry/monitor" : "/entry_1/instrument_1/monitor";
    create_nexus_group(file, group, "NXmonitor");
    const hid_t data = small.add(group + "/data", H5T_IEEE_F64LE, {frames}, values);
    if (options.layout == "nexus") h5::write_attribute(data, "units", std::string("counts"));
  } else {
    small.add("/monitor", H5T_IEEE_F64LE, {frames}, values);
  }
}

// Everything but the frames in the main file: attributes, the truth dataset (written after the
// frames), positions and the layout's metadata.
void write_metadata(hid_t file, const Options& options, const OutputFiles& files, const sim::Scan& scan,
                    const sim::DetectorArtefacts& artefacts, int rank, MPI_Comm comm) {
  write_root_attributes(file, options);
  h5::create_dataset(file, kTruthPath, H5T_STD_U8LE, {static_cast<hsize_t>(scan.frames())});
  SmallDatasets small(file, options.output);
  const auto frames = static_cast<hsize_t>(scan.frames());
  const auto n = static_cast<hsize_t>(options.scan.frame_size);
  if (options.layout == "plain") {
    add_plain_positions(small, options, scan);
    if (options.has_artefacts()) {
      small.add("/pixel_mask", H5T_STD_U32LE, {n, n},
                stored_mask(options, artefacts, sim::kDectrisGap, sim::kDectrisNoisy));
    }
  } else if (options.layout == "cxi") {
    add_cxi_metadata(small, options, scan, artefacts);
  } else if (options.layout == "nexus") {
    add_nexus_metadata(file, small, options, files, scan, artefacts);
  }
  if (options.writes_monitor()) add_monitor(file, small, options, frames);
  small.write(rank, comm);
}

// ---- frames
// ----------------------------------------------------------------------------------------

h5::Handle create_frames_dataset(hid_t file, const std::string& path, const Options& options, hid_t file_type,
                                 hsize_t frames, hsize_t chunk_frames) {
  const auto n = static_cast<hsize_t>(options.scan.frame_size);
  h5::Handle create = h5::checked(H5Pcreate(H5P_DATASET_CREATE), "cannot create a creation list");
  // --stack-shape 1KNM: a leading axis of length 1, [1, K, N, N], chunks [1, chunk, N, N].
  const bool leading = options.stack_shape == "1KNM";
  const std::vector<hsize_t> chunk =
      leading ? std::vector<hsize_t>{1, chunk_frames, n, n} : std::vector<hsize_t>{chunk_frames, n, n};
  h5::check(H5Pset_chunk(create.get(), static_cast<int>(chunk.size()), chunk.data()), "cannot set the chunk shape");
  // Every element gets written: skip writing fill values first.
  h5::check(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), "cannot set the fill time");
  if (options.compression == "gzip") {
    h5::check(H5Pset_shuffle(create.get()), "cannot add the shuffle filter");
    h5::check(H5Pset_deflate(create.get(), 4), "cannot add the deflate filter");
  } else if (options.compression == "bitshuffle-lz4") {
    // Only {block size, compression} are given: the filter's set_local callback prepends its own
    // version, bitshuffle's version and the element size, and stores the five values the file then
    // carries ({0, 3, 4, 0, 2} with Debian's bitshuffle 0.3.5). Passing all five here would shift
    // them to slots 3..7 and silently store an uncompressed bitshuffle. Block size 0: the filter
    // picks one (~8 KiB).
    const unsigned values[2] = {0, kBitshuffleLz4};
    h5::check(H5Pset_filter(create.get(), kBitshuffleFilter, H5Z_FLAG_MANDATORY, 2, values),
              "cannot add the bitshuffle filter");
  }
  return h5::create_dataset(file, path, file_type,
                            leading ? std::vector<hsize_t>{1, frames, n, n} : std::vector<hsize_t>{frames, n, n},
                            create.get());
}

// Frames [first, first + count) of a [K, N, N] or [1, K, N, N] stack.
h5::Handle select_stack_frames(hid_t dataset, hsize_t first, hsize_t count) {
  h5::Handle space = h5::checked(H5Dget_space(dataset), "cannot get a dataset's space");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank != 4) return h5::select_frames(dataset, first, count);
  std::vector<hsize_t> dims(4);
  h5::check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "cannot read dims");
  if (count == 0) {
    h5::check(H5Sselect_none(space.get()), "cannot select nothing");
    return space;
  }
  const hsize_t start[4] = {0, first, 0, 0};
  const hsize_t extent[4] = {1, count, dims[2], dims[3]};
  h5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr), "cannot select frames");
  return space;
}

// This rank's frames: whole chunks shared as the pipeline shares frames, so no chunk has two writers.
ptyroi::FrameRange frames_of_rank(std::int64_t frames, std::int64_t chunk_frames, int rank, int size) {
  const auto chunks = static_cast<std::uint64_t>((frames + chunk_frames - 1) / chunk_frames);
  const ptyroi::FrameRange owned = ptyroi::partition_frames(chunks, size, rank);
  const auto per_chunk = static_cast<std::uint64_t>(chunk_frames);
  const auto total = static_cast<std::uint64_t>(frames);
  return {std::min(total, owned.begin * per_chunk), std::min(total, owned.end * per_chunk)};
}

struct Tally {
  std::int64_t informative = 0;
  std::int64_t clipped_pixels = 0;
};

// The physics of the whole scan: object (in the scan's frame of pixels), probe, detector.
class Simulator {
 public:
  Simulator(const Options& options, const sim::Scan& scan)
      : options_(options),
        scan_(scan),
        model_(make_model(options, scan)),
        far_field_(sim::make_probe(options.scan.frame_size, options.scan.probe_radius, options.photons)),
        artefacts_(sim::detector_artefacts(options.scan.frame_size, options.gaps, options.hot_pixels,
                                           static_cast<std::uint64_t>(options.seed))) {}

  [[nodiscard]] const sim::ObjectModel& model() const { return model_; }
  [[nodiscard]] const sim::ComplexGrid& probe() const { return far_field_.probe(); }
  [[nodiscard]] const sim::DetectorArtefacts& artefacts() const { return artefacts_; }

  // The counts the detector records for frame k, and whether its probe saw the sample.
  sim::Grid<std::uint64_t> frame(std::int64_t k, bool& informative) {
    const sim::ScanPosition& position = scan_.positions[static_cast<std::size_t>(k)];
    render_object_for(position);
    const int top = position.y - object_top_;
    const int left = position.x - object_left_;
    const auto seed = static_cast<std::uint64_t>(options_.seed);
    sim::Grid<double> expected = far_field_.expected_pattern(object_, top, left);
    // The photons of this frame: the incident flux scales the expected counts.
    const double flux = sim::relative_flux(options_.flux, seed, k);
    if (flux != 1.0) {
      for (double& value : expected.values) value *= flux;
    }
    sim::Grid<std::uint64_t> counts = sim::noisy_pattern(expected, seed, static_cast<std::uint64_t>(k));
    informative = sim::is_informative(far_field_.probe(), object_, top, left);
    if (!artefacts_.empty()) {
      sim::apply_artefacts(counts, artefacts_, options_.saturation(), sim::hot_pixel_counts(options_.saturation()));
    }
    return options_.fftshift ? sim::ifftshift(counts) : counts;
  }

 private:
  static sim::ObjectModel make_model(const Options& options, const sim::Scan& scan) {
    const sim::ScanGeometry& geometry = options.scan;
    sim::ObjectModel model = options.object == "particles"
                                 ? sim::make_particles(geometry, options.particles, options.coverage,
                                                       static_cast<std::uint64_t>(options.seed))
                             : options.object == "full-field" ? sim::make_full_field(geometry)
                                                              : sim::make_shepp_logan(geometry);
    if (scan.shift_x == 0 && scan.shift_y == 0) return model;
    return sim::translated(model, scan.shift_x, scan.shift_y);
  }

  // Renders the object pixels the frame's window needs, reusing what the last frame rendered:
  // a raster renders the N object rows of each scan row; a fly scan a strip of whole rows with
  // room for its jitter; a spiral, whose points jump between rows, the window alone.
  void render_object_for(const sim::ScanPosition& position) {
    const int n = options_.scan.frame_size;
    const sim::ScanPattern pattern = options_.pattern();
    if (pattern == sim::ScanPattern::spiral) {
      object_ = sim::render_object(model_, position.y, position.x, n, n);
      object_top_ = position.y;
      object_left_ = position.x;
      return;
    }
    const int margin = pattern == sim::ScanPattern::fly ? options_.scan.step / 2 : 0;
    const bool inside = object_.rows > 0 && position.y >= object_top_ && position.y + n <= object_top_ + object_.rows;
    const bool reuse = pattern == sim::ScanPattern::raster ? object_.rows > 0 && position.y == object_top_ : inside;
    if (!reuse) {
      const int top = std::max(0, position.y - margin);
      const int end = std::min(scan_.object_rows, position.y + n + margin);
      object_ = sim::render_object(model_, top, 0, end - top, scan_.object_cols);
      object_top_ = top;
      object_left_ = 0;
    }
  }

  const Options& options_;
  const sim::Scan& scan_;
  sim::ObjectModel model_;
  sim::FarField far_field_;
  sim::DetectorArtefacts artefacts_;
  sim::ComplexGrid object_;  // object pixels [object_top_, +rows) x [object_left_, +cols)
  int object_top_ = 0;
  int object_left_ = 0;
};

// Simulates frames [first, first + frames) of the scan into `data` (whose frame 0 is scan frame
// `first`), batch by batch, and records their truth. With a compression filter the writes are
// collective (parallel HDF5 1.10 compresses only then), so every rank joins every batch.
Tally write_frames(Simulator& simulator, const Options& options, hid_t data, const std::string& file_name,
                   std::int64_t first, std::int64_t frames, std::int64_t chunk_frames, std::vector<std::uint8_t>& truth,
                   MPI_Comm comm) {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const ptyroi::FrameRange range = frames_of_rank(frames, chunk_frames, rank, size);
  const auto first_frame_of_rank = static_cast<std::int64_t>(range.begin);
  const auto frames_of_this_rank = static_cast<std::int64_t>(range.count());
  const auto pixels = static_cast<std::size_t>(options.scan.frame_size) * options.scan.frame_size;
  // Batches of whole chunks, about 32 MiB each.
  const std::int64_t chunk_bytes = chunk_frames * static_cast<std::int64_t>(pixels) * 4;
  const std::int64_t batch_frames = chunk_frames * std::max<std::int64_t>(1, (32 << 20) / chunk_bytes);
  std::int64_t batches = (frames_of_this_rank + batch_frames - 1) / batch_frames;
  MPI_Allreduce(MPI_IN_PLACE, &batches, 1, MPI_INT64_T, MPI_MAX, comm);

  const bool collective = options.compression != "none";
  h5::Handle transfer = h5::transfer_plist(collective);
  Tally tally;
  CountBuffer counts(options.file_dtype(), options.saturation());
  for (std::int64_t batch = 0; batch < batches; ++batch) {
    const std::int64_t offset = std::min(frames_of_this_rank, batch * batch_frames);
    const std::int64_t count = std::min(frames_of_this_rank - offset, batch_frames);
    ptyroi::mpi::run_phase(comm, [&] {
      counts.resize(static_cast<std::size_t>(count) * pixels);
      for (std::int64_t i = 0; i < count; ++i) {
        const std::int64_t frame = first + first_frame_of_rank + offset + i;
        bool informative = false;
        const sim::Grid<std::uint64_t> pattern = simulator.frame(frame, informative);
        const std::size_t first_value = static_cast<std::size_t>(i) * pixels;
        for (std::size_t p = 0; p < pixels; ++p) {
          if (counts.store(first_value + p, pattern.values[p])) ++tally.clipped_pixels;
        }
        truth[static_cast<std::size_t>(frame)] = informative ? 1 : 0;
        tally.informative += informative ? 1 : 0;
      }
    });

    ptyroi::mpi::run_phase(comm, [&] {
      if (count == 0 && !collective) return;
      const auto n = static_cast<hsize_t>(options.scan.frame_size);
      h5::Handle file_space =
          select_stack_frames(data, static_cast<hsize_t>(first_frame_of_rank + offset), static_cast<hsize_t>(count));
      const auto rows = static_cast<hsize_t>(std::max<std::int64_t>(count, 1));
      h5::Handle memory = h5::memory_space(options.stack_shape == "1KNM" ? std::vector<hsize_t>{1, rows, n, n}
                                                                         : std::vector<hsize_t>{rows, n, n});
      if (count == 0) h5::check(H5Sselect_none(memory.get()), "cannot select nothing");
      h5::check(H5Dwrite(data, counts.memory_type(), memory.get(), file_space.get(), transfer.get(), counts.data()),
                "cannot write frames to '" + file_name + "'");
    });
  }
  return tally;
}

// Files made so far, every rank keeping the same list: the ones to delete after a failure.
using CreatedFiles = std::vector<std::string>;

// One NeXus data file: frames [first, first + frames) as /entry/data/data, chunks of single frames
// by default, compressed as --compression says (bitshuffle-LZ4 by default), as an Eiger writes.
Tally write_nexus_data_file(Simulator& simulator, const Options& options, const std::string& path, std::int64_t first,
                            std::int64_t frames, std::vector<std::uint8_t>& truth, CreatedFiles& created,
                            MPI_Comm comm) {
  h5::Handle file = h5::create_file(path, comm);
  created.push_back(path);
  create_nexus_group(file.get(), "/entry", "NXentry");
  create_nexus_group(file.get(), "/entry/data", "NXdata");
  const std::int64_t chunk_frames = std::min<std::int64_t>(options.chunk_frames, frames);
  h5::Handle data =
      create_frames_dataset(file.get(), "/entry/data/data", options, pixel_file_type(options.file_dtype()),
                            static_cast<hsize_t>(frames), static_cast<hsize_t>(chunk_frames));
  // Image numbers from 1, as DECTRIS counts them.
  write_uint64_attribute(data.get(), "image_nr_low", static_cast<std::uint64_t>(first + 1));
  write_uint64_attribute(data.get(), "image_nr_high", static_cast<std::uint64_t>(first + frames));
  const Tally tally = write_frames(simulator, options, data.get(), path, first, frames, chunk_frames, truth, comm);
  h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "cannot flush '" + path + "'");
  return tally;
}

// All frames of the scan, into the main file or (nexus) into the data files.
Tally write_all_frames(Simulator& simulator, hid_t file, const Options& options, const OutputFiles& files,
                       std::int64_t frames, std::vector<std::uint8_t>& truth, CreatedFiles& created, MPI_Comm comm) {
  Tally total;
  if (options.layout == "nexus") {
    for (std::size_t i = 0; i < files.data.size(); ++i) {
      const std::int64_t first = static_cast<std::int64_t>(i) * options.frames_per_file;
      const std::int64_t count = std::min<std::int64_t>(options.frames_per_file, frames - first);
      const Tally tally = write_nexus_data_file(simulator, options, files.data[i], first, count, truth, created, comm);
      total.informative += tally.informative;
      total.clipped_pixels += tally.clipped_pixels;
      if (h5::library_state_broken()) throw ptyroi::IoError("cannot close '" + files.data[i] + "'");
    }
    return total;
  }
  const std::int64_t chunk_frames = std::min<std::int64_t>(options.chunk_frames, frames);
  h5::Handle data =
      create_frames_dataset(file, data_path(options.layout), options, pixel_file_type(options.file_dtype()),
                            static_cast<hsize_t>(frames), static_cast<hsize_t>(chunk_frames));
  if (options.layout == "cxi") {
    // The CXI habit: the data lives with its detector, /entry_1/data_1 links to it.
    create_soft_link(file, kCxiData, "/entry_1/data_1/data");
    create_soft_link(file, kCxiTranslation, "/entry_1/data_1/translation");
  }
  return write_frames(simulator, options, data.get(), options.output, 0, frames, chunk_frames, truth, comm);
}

// Every rank simulated some frames' truth (the others' entries are 0): combine, rank 0 writes.
void write_truth(hid_t file, const Options& options, std::vector<std::uint8_t>& truth, int rank, MPI_Comm comm) {
  if (MPI_Allreduce(MPI_IN_PLACE, truth.data(), static_cast<int>(truth.size()), MPI_UNSIGNED_CHAR, MPI_MAX, comm) !=
      MPI_SUCCESS) {
    throw ptyroi::IoError("MPI_Allreduce of the ground truth failed");
  }
  h5::Handle dataset = h5::open_dataset(file, kTruthPath, options.output);
  ptyroi::mpi::run_phase(comm, [&] {
    if (rank != 0) return;
    h5::Handle independent = h5::transfer_plist(false);
    h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, independent.get(), truth.data()),
              "cannot write the ground truth to '" + options.output + "'");
  });
}

// Interleaves a complex grid's real and imaginary parts: [rows, cols, 2] float64 in row-major order.
std::vector<double> real_imaginary(const sim::ComplexGrid& grid) {
  std::vector<double> values;
  values.reserve(2 * grid.values.size());
  for (const sim::Complex& value : grid.values) values.insert(values.end(), {value.real(), value.imag()});
  return values;
}

// The ground truth a reconstruction is compared with: the object's transmission over all its
// object_rows x object_cols pixels (each rank renders and writes its own bands of rows) and the
// probe. A frame's position in metres / pixel_size_m is the top-left corner of its N x N window.
void write_truth_object(hid_t file, const Options& options, const Simulator& simulator, const sim::Scan& scan,
                        MPI_Comm comm) {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const auto rows = static_cast<hsize_t>(scan.object_rows);
  const auto cols = static_cast<hsize_t>(scan.object_cols);
  const sim::ComplexGrid& probe = simulator.probe();
  h5::Handle object = h5::create_dataset(file, kTruthObjectPath, H5T_IEEE_F64LE, {rows, cols, 2});
  h5::Handle probe_dataset = h5::create_dataset(
      file, kTruthProbePath, H5T_IEEE_F64LE, {static_cast<hsize_t>(probe.rows), static_cast<hsize_t>(probe.cols), 2});
  h5::Handle truth = h5::checked(H5Gopen2(file, "/truth", H5P_DEFAULT), "cannot open /truth");
  h5::write_attribute(truth.get(), "pixel_size_m", options.pixel_size);
  const ptyroi::FrameRange owned = ptyroi::partition_frames(rows, size, rank);
  ptyroi::mpi::run_phase(comm, [&] {
    h5::Handle independent = h5::transfer_plist(false);
    // Bands of about 8 MiB keep the memory small for any object size.
    const hsize_t band_rows = std::max<hsize_t>(1, (8U << 20) / (cols * 2 * sizeof(double)));
    for (hsize_t top = owned.begin; top < owned.end; top += band_rows) {
      const hsize_t count = std::min(band_rows, owned.end - top);
      const std::vector<double> values = real_imaginary(
          sim::render_object(simulator.model(), static_cast<int>(top), 0, static_cast<int>(count), scan.object_cols));
      h5::Handle file_space = h5::select_frames(object.get(), top, count);
      h5::Handle memory = h5::memory_space({count, cols, 2});
      h5::check(
          H5Dwrite(object.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), independent.get(), values.data()),
          "cannot write the true object to '" + options.output + "'");
    }
    if (rank != 0) return;
    const std::vector<double> values = real_imaginary(probe);
    h5::check(H5Dwrite(probe_dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, independent.get(), values.data()),
              "cannot write the true probe to '" + options.output + "'");
  });
}

// A CSV number to 12 significant digits: 0.03 µm, not 0.030000000000000002 (and far finer than a pixel).
std::string csv_number(double value) {
  std::ostringstream text;
  text.precision(12);
  text << value;
  return text.str();
}

// Positions kept apart from the frames, as beamlines do: the nexus CSV (micrometres, or
// --positions-unit; the header names the unit: frame,x_um,y_um) or the ptychoshelves para file
// (/ppX, /ppY in metres).
void write_positions_file(const Options& options, const OutputFiles& files, const sim::Scan& scan, int rank,
                          CreatedFiles& created, MPI_Comm comm) {
  const std::vector<double> xs = positions_in_metres(scan, options, true);
  const std::vector<double> ys = positions_in_metres(scan, options, false);
  if (options.layout == "nexus") {
    created.push_back(files.positions);
    const std::string unit = options.positions_unit.empty() ? "um" : options.positions_unit;
    const std::vector<double> csv_xs = positions_in(unit, scan, options, true);
    const std::vector<double> csv_ys = positions_in(unit, scan, options, false);
    ptyroi::mpi::run_phase(comm, [&] {
      if (rank != 0) return;
      std::ofstream csv(files.positions);
      csv << "frame,x_" << unit << ",y_" << unit << '\n';
      for (std::size_t k = 0; k < csv_xs.size(); ++k) {
        csv << k << ',' << csv_number(csv_xs[k]) << ',' << csv_number(csv_ys[k]) << '\n';
      }
      csv.close();
      if (!csv) throw ptyroi::IoError("cannot write the positions to '" + files.positions + "'");
    });
  } else if (options.layout == "ptychoshelves") {
    h5::Handle para = h5::create_file(files.positions, comm);
    created.push_back(files.positions);
    SmallDatasets small(para.get(), files.positions);
    const auto frames = static_cast<hsize_t>(scan.frames());
    small.add("/ppX", H5T_IEEE_F64LE, {frames}, xs);
    small.add("/ppY", H5T_IEEE_F64LE, {frames}, ys);
    small.write(rank, comm);
    h5::check(H5Fflush(para.get(), H5F_SCOPE_GLOBAL), "cannot flush '" + files.positions + "'");
  }
}

// A failure after which even closing a file failed (e.g. a full disk). HDF5 1.10 then crashes
// when it shuts down in MPI_Finalize, so the program has to end without it.
class UnclosedFile : public ptyroi::IoError {
 public:
  using ptyroi::IoError::IoError;
};

// Creates the files and fills them. After a failure every file made is closed and deleted: no
// half-written scan is left for a reader to mistake for a whole one.
Tally write_scan(const Options& options, const sim::Scan& scan, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const OutputFiles files = output_files(options, scan.frames());
  Simulator simulator(options, scan);
  CreatedFiles created;
  // Held by pointer so that it can be leaked: HDF5 crashes releasing a file whose close failed.
  auto file = std::make_unique<h5::Handle>(h5::create_file(options.output, comm));
  created.push_back(options.output);
  try {
    write_metadata(file->get(), options, files, scan, simulator.artefacts(), rank, comm);
    std::vector<std::uint8_t> truth(static_cast<std::size_t>(scan.frames()), 0);
    const Tally tally = write_all_frames(simulator, file->get(), options, files, scan.frames(), truth, created, comm);
    write_truth(file->get(), options, truth, rank, comm);
    if (options.truth_object) write_truth_object(file->get(), options, simulator, scan, comm);
    write_positions_file(options, files, scan, rank, created, comm);
    h5::check(H5Fflush(file->get(), H5F_SCOPE_GLOBAL), "cannot flush '" + options.output + "'");
    return tally;
  } catch (const std::exception& error) {
    int unclosed = H5Fclose(file->get()) < 0 || h5::library_state_broken() ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &unclosed, 1, MPI_INT, MPI_MAX, comm);
    if (rank == 0) {
      for (const std::string& path : created) {
        std::error_code ignored;
        if (std::filesystem::is_regular_file(path, ignored)) std::filesystem::remove(path, ignored);
      }
    }
    if (unclosed == 0) throw;
    static_cast<void>(file.release());
    throw UnclosedFile(error.what());
  }
}

int run(int argc, char** argv, MPI_Comm comm) {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const double start = MPI_Wtime();
  std::optional<Options> options = parse_options(argc, argv, rank == 0);
  if (!options) return 0;
  check_compression_available(*options);

  const sim::Scan scan = sim::make_scan(options->scan, options->pattern(), static_cast<std::uint64_t>(options->seed));
  resolve_flux_step(*options, scan.frames());
  const Tally tally = write_scan(*options, scan, comm);
  Tally total;
  MPI_Reduce(&tally.informative, &total.informative, 1, MPI_INT64_T, MPI_SUM, 0, comm);
  MPI_Reduce(&tally.clipped_pixels, &total.clipped_pixels, 1, MPI_INT64_T, MPI_SUM, 0, comm);
  if (rank != 0) return 0;
  if (total.clipped_pixels > 0) {
    std::cerr << kProgram << ": warning: " << total.clipped_pixels << " pixels exceeded " << options->saturation()
              << " counts and were clipped (--dtype " << options->dtype << ")\n";
  }
  const int n = options->scan.frame_size;
  const OutputFiles files = output_files(*options, scan.frames());
  std::cout << kProgram << ": " << scan.frames() << " frames of " << n << "x" << n << " " << options->file_dtype();
  if (options->scan_pattern != "raster") std::cout << " (" << options->scan_pattern << " scan)";
  std::cout << " written to " << options->output << " (" << options->layout << " layout";
  if (!files.data.empty()) {
    std::cout << ", " << files.data.size() << " data file" << (files.data.size() == 1 ? "" : "s");
  }
  if (!files.positions.empty()) std::cout << ", positions in " << files.positions;
  std::cout << "), " << std::fixed;
  std::cout.precision(1);
  std::cout << 100.0 * static_cast<double>(total.informative) / static_cast<double>(scan.frames()) << "% informative, ";
  std::cout.precision(2);
  std::cout << MPI_Wtime() - start << " s on " << size << " rank" << (size == 1 ? "" : "s") << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  h5::silence_error_printing();
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int status = 0;
  try {
    status = run(argc, argv, MPI_COMM_WORLD);
  } catch (const UnclosedFile& error) {
    if (rank == 0) std::cerr << kProgram << ": error: " << ptyroi::one_line(error.what()) << '\n';
    std::_Exit(1);
  } catch (const std::exception& error) {
    if (rank == 0) std::cerr << kProgram << ": error: " << ptyroi::one_line(error.what()) << '\n';
    status = 1;
  }
  MPI_Finalize();
  return status;
}
