// ptyroi-simulate: writes a simulated far-field ptychography raster scan (diffraction patterns,
// scan positions and the ground truth of which positions see the sample) to one HDF5 file.
// Each MPI rank simulates a contiguous range of frames and writes its own hyperslab.
#include <mpi.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ptyroi/error.hpp"
#include "ptyroi/h5.hpp"
#include "ptyroi/mpi.hpp"
#include "ptyroi/partition.hpp"
#include "ptyroi/simulation.hpp"

namespace {

namespace po = boost::program_options;
namespace h5 = ptyroi::h5;
namespace sim = ptyroi::simulation;

constexpr const char* kProgram = "ptyroi-simulate";

struct Options {
  std::string output;
  sim::ScanGeometry scan;
  std::string object = "particles";
  int particles = 12;
  double coverage = 0.08;  // about the paper's share of informative positions (~20-30%)
  double photons = 1e6;
  double pixel_size = 1e-8;
  std::string dtype = "uint32";
  std::int64_t seed = 1;
  std::string layout = "plain";
  int chunk_frames = 1;
  std::string compression = "none";

  [[nodiscard]] std::int64_t frames() const { return static_cast<std::int64_t>(scan.rows) * scan.cols; }
  [[nodiscard]] std::uint64_t saturation() const {
    return dtype == "uint16" ? std::numeric_limits<std::uint16_t>::max() : std::numeric_limits<std::uint32_t>::max();
  }
};

// Counts of a batch of frames in the file's integer type: parallel HDF5 cannot convert types
// in filtered (gzip, bitshuffle-lz4) writes.
class CountBuffer {
 public:
  explicit CountBuffer(bool narrow) : narrow_(narrow) {}

  void resize(std::size_t size) { narrow_ ? narrow_values_.resize(size) : wide_values_.resize(size); }

  // Stores the count clipped to the type's maximum; true when it had to be clipped.
  bool store(std::size_t index, std::uint64_t count) {
    if (narrow_) return store(narrow_values_, index, count);
    return store(wide_values_, index, count);
  }

  [[nodiscard]] const void* data() const {
    return narrow_ ? static_cast<const void*>(narrow_values_.data()) : wide_values_.data();
  }
  [[nodiscard]] hid_t memory_type() const { return narrow_ ? H5T_NATIVE_UINT16 : H5T_NATIVE_UINT32; }

 private:
  template <class T>
  static bool store(std::vector<T>& values, std::size_t index, std::uint64_t count) {
    const std::uint64_t largest = std::numeric_limits<T>::max();
    values[index] = static_cast<T>(std::min(count, largest));
    return count > largest;
  }

  bool narrow_;
  std::vector<std::uint16_t> narrow_values_;
  std::vector<std::uint32_t> wide_values_;
};

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
  require(options.object == "particles" || options.object == "shepp-logan", "object",
          "must be particles or shepp-logan", options.object);
  require(options.particles >= 0, "particles", "must not be negative", options.particles);
  require(options.coverage > 0 && options.coverage <= 0.6, "coverage", "must be in (0, 0.6]", options.coverage);
  require(std::isfinite(options.photons) && options.photons > 0 && options.photons <= 1e15, "photons",
          "must be positive and at most 1e15", options.photons);
  require(std::isfinite(options.pixel_size) && options.pixel_size > 0, "pixel-size", "must be positive",
          options.pixel_size);
  require(options.dtype == "uint16" || options.dtype == "uint32", "dtype", "must be uint16 or uint32", options.dtype);
  require(options.seed >= 0, "seed", "must not be negative", options.seed);
  require(options.layout == "plain" || options.layout == "cxi", "layout", "must be plain or cxi", options.layout);
  require(options.chunk_frames >= 1, "chunk-frames", "must be at least 1", options.chunk_frames);
  require(options.compression == "none" || options.compression == "gzip" || options.compression == "bitshuffle-lz4",
          "compression", "must be none, gzip or bitshuffle-lz4", options.compression);
}

// Options from the command line; nullopt after --help (printed by rank 0).
std::optional<Options> parse_options(int argc, char** argv, bool print) {
  Options options;
  po::options_description described(std::string("Usage: ") + kProgram +
                                    " --output FILE [options]\n"
                                    "Simulates a far-field ptychography raster scan and writes it to one HDF5 file.\n"
                                    "Run under mpiexec to share the frames between ranks.\n\nOptions");
  // clang-format off
  described.add_options()
    ("help,h", "print this help and exit")
    ("output,o", po::value(&options.output)->required(), "HDF5 file to write (replaced)")
    ("rows", po::value(&options.scan.rows)->default_value(options.scan.rows), "scan rows")
    ("cols", po::value(&options.scan.cols)->default_value(options.scan.cols), "scan columns")
    ("step", po::value<int>(),
     "object pixels between neighbouring positions (default: 0.8*probe-radius, ~60% overlap)")
    ("frame-size", po::value(&options.scan.frame_size)->default_value(options.scan.frame_size),
     "detector frames and probe window are N x N pixels")
    ("probe-radius", po::value<double>(),
     "probe radius in object pixels, first zero of the Airy spot (default: frame-size/8)")
    ("object", po::value(&options.object)->default_value(options.object),
     "particles | shepp-logan")
    ("particles", po::value(&options.particles)->default_value(options.particles),
     "number of particles (--object particles)")
    ("coverage", po::value(&options.coverage)->default_value(options.coverage),
     "fraction of the scanned area the particles cover (--object particles)")
    ("photons", po::value(&options.photons)->default_value(options.photons),
     "photons per frame incident in the probe")
    ("pixel-size", po::value(&options.pixel_size)->default_value(options.pixel_size),
     "metres per object pixel (scales the stored positions)")
    ("dtype", po::value(&options.dtype)->default_value(options.dtype),
     "uint16 | uint32 (counts above the maximum are clipped)")
    ("seed", po::value(&options.seed)->default_value(options.seed),
     "seed of the object and of the noise")
    ("layout", po::value(&options.layout)->default_value(options.layout), "plain | cxi")
    ("chunk-frames", po::value(&options.chunk_frames)->default_value(options.chunk_frames),
     "frames per HDF5 chunk")
    ("compression", po::value(&options.compression)->default_value(options.compression),
     "none | gzip (with byte shuffling) | bitshuffle-lz4 (HDF5 filter 32008, as Eiger detectors write;\n"
     "needs the plugin: apt-get install bitshuffle)");
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
  validate(options);
  return options;
}

constexpr const char* kTruthPath = "/truth/informative";
constexpr H5Z_filter_t kBitshuffleFilter = 32008;  // registered HDF5 filter id of bitshuffle
constexpr unsigned kBitshuffleLz4 = 2;             // BSHUF_H5_COMPRESS_LZ4 in bshuf_h5filter.h

std::string data_path(const std::string& layout) { return layout == "cxi" ? "/entry_1/data_1/data" : "/data"; }

// Attributes, the truth dataset and the positions: created collectively, positions written by
// rank 0.
void write_metadata(hid_t file, const Options& options, const std::vector<sim::ScanPosition>& scan, int rank,
                    MPI_Comm comm) {
  const auto frames = static_cast<hsize_t>(options.frames());
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
  h5::create_dataset(file, kTruthPath, H5T_STD_U8LE, {frames});

  const bool cxi = options.layout == "cxi";
  h5::Handle version;
  h5::Handle translation;
  h5::Handle x;
  h5::Handle y;
  if (cxi) {
    version = h5::create_dataset(file, "/cxi_version", H5T_STD_I64LE, {});
    translation = h5::create_dataset(file, "/entry_1/sample_1/geometry_1/translation", H5T_IEEE_F64LE, {frames, 3});
  } else {
    x = h5::create_dataset(file, "/positions_x", H5T_IEEE_F64LE, {frames});
    y = h5::create_dataset(file, "/positions_y", H5T_IEEE_F64LE, {frames});
  }
  ptyroi::mpi::run_phase(comm, [&] {
    if (rank != 0) return;
    h5::Handle independent = h5::transfer_plist(false);
    const auto write = [&](const h5::Handle& dataset, hid_t type, const void* values, const std::string& name) {
      h5::check(H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, independent.get(), values),
                "cannot write " + name + " to '" + options.output + "'");
    };
    // Positions in metres.
    std::vector<double> xs;
    std::vector<double> ys;
    for (const sim::ScanPosition& position : scan) {
      xs.push_back(position.x * options.pixel_size);
      ys.push_back(position.y * options.pixel_size);
    }
    if (cxi) {
      const std::int64_t cxi_version = 150;
      std::vector<double> xyz;
      for (std::size_t k = 0; k < scan.size(); ++k) xyz.insert(xyz.end(), {xs[k], ys[k], 0.0});
      write(version, H5T_NATIVE_INT64, &cxi_version, "/cxi_version");
      write(translation, H5T_NATIVE_DOUBLE, xyz.data(), "the translations");
      return;
    }
    write(x, H5T_NATIVE_DOUBLE, xs.data(), "/positions_x");
    write(y, H5T_NATIVE_DOUBLE, ys.data(), "/positions_y");
  });
}

h5::Handle create_frames_dataset(hid_t file, const Options& options, hsize_t chunk_frames) {
  const auto n = static_cast<hsize_t>(options.scan.frame_size);
  h5::Handle create = h5::checked(H5Pcreate(H5P_DATASET_CREATE), "cannot create a creation list");
  const hsize_t chunk[3] = {chunk_frames, n, n};
  h5::check(H5Pset_chunk(create.get(), 3, chunk), "cannot set the chunk shape");
  // Every element gets written: skip writing fill values first.
  h5::check(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), "cannot set the fill time");
  if (options.compression == "gzip") {
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) {
      throw ptyroi::UsageError("--compression gzip: this HDF5 library has no deflate filter");
    }
    h5::check(H5Pset_shuffle(create.get()), "cannot add the shuffle filter");
    h5::check(H5Pset_deflate(create.get(), 4), "cannot add the deflate filter");
  } else if (options.compression == "bitshuffle-lz4") {
    if (H5Zfilter_avail(kBitshuffleFilter) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      throw ptyroi::UsageError(
          "--compression bitshuffle-lz4: HDF5 filter 32008 (bitshuffle) is not available: apt-get install "
          "bitshuffle, or set HDF5_PLUGIN_PATH to the directory of its plugin");
    }
    // Only {block size, compression} are given: the filter's set_local callback prepends its own
    // version, bitshuffle's version and the element size, and stores the five values the file then
    // carries ({0, 3, 4, 0, 2} with Debian's bitshuffle 0.3.5). Passing all five here would shift
    // them to slots 3..7 and silently store an uncompressed bitshuffle. Block size 0: the filter
    // picks one (~8 KiB).
    const unsigned values[2] = {0, kBitshuffleLz4};
    h5::check(H5Pset_filter(create.get(), kBitshuffleFilter, H5Z_FLAG_MANDATORY, 2, values),
              "cannot add the bitshuffle filter");
  }
  const hid_t file_type = options.dtype == "uint16" ? H5T_STD_U16LE : H5T_STD_U32LE;
  return h5::create_dataset(file, data_path(options.layout), file_type, {static_cast<hsize_t>(options.frames()), n, n},
                            create.get());
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

// Simulates this rank's frames and writes them batch by batch. With a compression filter the
// writes are collective (parallel HDF5 1.10 compresses only then), so every rank joins every batch.
Tally simulate_frames(hid_t file, const Options& options, const std::vector<sim::ScanPosition>& scan, MPI_Comm comm) {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const sim::ScanGeometry& geometry = options.scan;
  const std::int64_t chunk_frames = std::min<std::int64_t>(options.chunk_frames, options.frames());
  h5::Handle data = create_frames_dataset(file, options, static_cast<hsize_t>(chunk_frames));
  h5::Handle truth_dataset = h5::open_dataset(file, kTruthPath, options.output);

  const ptyroi::FrameRange range = frames_of_rank(options.frames(), chunk_frames, rank, size);
  const auto first_frame_of_rank = static_cast<std::int64_t>(range.begin);
  const auto frames_of_this_rank = static_cast<std::int64_t>(range.count());
  const auto pixels = static_cast<std::size_t>(geometry.frame_size) * geometry.frame_size;
  // Batches of whole chunks, about 32 MiB each.
  const std::int64_t chunk_bytes = chunk_frames * static_cast<std::int64_t>(pixels) * 4;
  const std::int64_t batch_frames = chunk_frames * std::max<std::int64_t>(1, (32 << 20) / chunk_bytes);
  std::int64_t batches = (frames_of_this_rank + batch_frames - 1) / batch_frames;
  MPI_Allreduce(MPI_IN_PLACE, &batches, 1, MPI_INT64_T, MPI_MAX, comm);

  const sim::ObjectModel model =
      options.object == "particles"
          ? sim::make_particles(geometry, options.particles, options.coverage, static_cast<std::uint64_t>(options.seed))
          : sim::make_shepp_logan(geometry);
  sim::FarField far_field(sim::make_probe(geometry.frame_size, geometry.probe_radius, options.photons));
  const bool collective = options.compression != "none";
  h5::Handle transfer = h5::transfer_plist(collective);

  Tally tally;
  std::vector<std::uint8_t> truth(static_cast<std::size_t>(frames_of_this_rank));
  CountBuffer counts(options.dtype == "uint16");
  sim::ComplexGrid strip;  // the object rows seen by one scan row
  int strip_row = -1;
  for (std::int64_t batch = 0; batch < batches; ++batch) {
    const std::int64_t offset = std::min(frames_of_this_rank, batch * batch_frames);
    const std::int64_t count = std::min(frames_of_this_rank - offset, batch_frames);
    ptyroi::mpi::run_phase(comm, [&] {
      counts.resize(static_cast<std::size_t>(count) * pixels);
      for (std::int64_t i = 0; i < count; ++i) {
        const std::int64_t frame = first_frame_of_rank + offset + i;
        const sim::ScanPosition& position = scan[static_cast<std::size_t>(frame)];
        if (position.row != strip_row) {
          strip = sim::render_object(model, position.y, 0, geometry.frame_size, geometry.object_cols());
          strip_row = position.row;
        }
        const sim::Grid<std::uint64_t> pattern =
            sim::noisy_pattern(far_field.expected_pattern(strip, 0, position.x),
                               static_cast<std::uint64_t>(options.seed), static_cast<std::uint64_t>(frame));
        const std::size_t first_value = static_cast<std::size_t>(i) * pixels;
        for (std::size_t p = 0; p < pixels; ++p) {
          if (counts.store(first_value + p, pattern.values[p])) ++tally.clipped_pixels;
        }
        const bool informative = sim::is_informative(far_field.probe(), strip, 0, position.x);
        truth[static_cast<std::size_t>(offset + i)] = informative ? 1 : 0;
        tally.informative += informative ? 1 : 0;
      }
    });

    ptyroi::mpi::run_phase(comm, [&] {
      if (count == 0 && !collective) return;
      const auto n = static_cast<hsize_t>(geometry.frame_size);
      const std::int64_t first_frame = first_frame_of_rank + offset;
      h5::Handle file_space =
          h5::select_frames(data.get(), static_cast<hsize_t>(first_frame), static_cast<hsize_t>(count));
      const auto rows = static_cast<hsize_t>(std::max<std::int64_t>(count, 1));
      h5::Handle memory = h5::memory_space({rows, n, n});
      if (count == 0) h5::check(H5Sselect_none(memory.get()), "cannot select nothing");
      h5::check(
          H5Dwrite(data.get(), counts.memory_type(), memory.get(), file_space.get(), transfer.get(), counts.data()),
          "cannot write frames to '" + options.output + "'");
    });
  }

  ptyroi::mpi::run_phase(comm, [&] {
    if (frames_of_this_rank == 0) return;
    h5::Handle file_space = h5::select_frames(truth_dataset.get(), static_cast<hsize_t>(first_frame_of_rank),
                                              static_cast<hsize_t>(frames_of_this_rank));
    h5::Handle memory = h5::memory_space({static_cast<hsize_t>(frames_of_this_rank)});
    h5::Handle independent = h5::transfer_plist(false);
    h5::check(H5Dwrite(truth_dataset.get(), H5T_NATIVE_UINT8, memory.get(), file_space.get(), independent.get(),
                       truth.data()),
              "cannot write the ground truth to '" + options.output + "'");
  });
  return tally;
}

// A failure after which even closing the file failed (e.g. a full disk). HDF5 1.10 then crashes
// when it shuts down in MPI_Finalize, so the program has to end without it.
class UnclosedFile : public ptyroi::IoError {
 public:
  using ptyroi::IoError::IoError;
};

// Creates the file and fills it. After a failure the file is closed and deleted: no half-written
// scan is left for a reader to mistake for a whole one.
Tally write_scan(const Options& options, const std::vector<sim::ScanPosition>& scan, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // Held by pointer so that it can be leaked: HDF5 crashes releasing a file whose close failed.
  auto file = std::make_unique<h5::Handle>(h5::create_file(options.output, comm));
  try {
    write_metadata(file->get(), options, scan, rank, comm);
    const Tally tally = simulate_frames(file->get(), options, scan, comm);
    h5::check(H5Fflush(file->get(), H5F_SCOPE_GLOBAL), "cannot flush '" + options.output + "'");
    return tally;
  } catch (const std::exception& error) {
    int unclosed = H5Fclose(file->get()) < 0 ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &unclosed, 1, MPI_INT, MPI_MAX, comm);
    std::error_code ignored;
    if (rank == 0 && std::filesystem::is_regular_file(options.output, ignored)) {
      std::filesystem::remove(options.output, ignored);
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
  const std::optional<Options> options = parse_options(argc, argv, rank == 0);
  if (!options) return 0;

  const std::vector<sim::ScanPosition> scan = sim::raster_positions(options->scan);
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
  std::cout << kProgram << ": " << options->frames() << " frames of " << n << "x" << n << " " << options->dtype
            << " written to " << options->output << " (" << options->layout << " layout), " << std::fixed;
  std::cout.precision(1);
  std::cout << 100.0 * static_cast<double>(total.informative) / static_cast<double>(options->frames())
            << "% informative, ";
  std::cout.precision(2);
  std::cout << MPI_Wtime() - start << " s on " << size << " rank" << (size == 1 ? "" : "s") << '\n';
  return 0;
}

// HDF5 messages can span lines; the user gets one.
std::string one_line(const std::string& message) {
  std::string line;
  bool blank = false;
  for (const char c : message) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      blank = true;
      continue;
    }
    if (blank && !line.empty()) line += ' ';
    blank = false;
    line += c;
  }
  return line;
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
    if (rank == 0) std::cerr << kProgram << ": error: " << one_line(error.what()) << '\n';
    std::_Exit(1);
  } catch (const std::exception& error) {
    if (rank == 0) std::cerr << kProgram << ": error: " << one_line(error.what()) << '\n';
    status = 1;
  }
  MPI_Finalize();
  return status;
}
