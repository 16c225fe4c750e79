#include "ptyroi/app/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/scan_grid.hpp"
#include "ptyroi/core/scan_neighbourhood.hpp"
#include "ptyroi/core/zero_frequency.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/input_layout.hpp"
#include "ptyroi/io/instrument.hpp"
#include "ptyroi/io/output_format.hpp"
#include "ptyroi/io/pattern_stack.hpp"
#include "ptyroi/io/pixel_mask.hpp"
#include "ptyroi/io/positions.hpp"
#include "ptyroi/io/stack_storage.hpp"

namespace ptyroi {

namespace {

// "external link to FILE:PATH" when `path` is one; empty otherwise.
std::string link_target(hid_t file, const std::string& path) {
  H5L_info_t info;
  if (H5Lget_info(file, path.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_EXTERNAL) {
    H5Eclear2(H5E_DEFAULT);
    return {};
  }
  std::vector<char> value(info.u.val_size);
  const char* target_file = nullptr;
  const char* target_path = nullptr;
  unsigned flags = 0;
  if (H5Lget_val(file, path.c_str(), value.data(), value.size(), H5P_DEFAULT) < 0 ||
      H5Lunpack_elink_val(value.data(), value.size(), &flags, &target_file, &target_path) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "external link";
  }
  return std::string("-> ") + target_file + ":" + target_path;
}

std::string filters_of(hid_t dataset, bool& all_available) {
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the dataset's layout");
  std::ostringstream text;
  const int count = H5Pget_nfilters(create.get());
  for (int i = 0; i < count; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t values = 0;
    char name[256] = {0};
    const H5Z_filter_t id =
        H5Pget_filter2(create.get(), static_cast<unsigned>(i), &flags, &values, nullptr, sizeof(name), name, &config);
    const bool available = H5Zfilter_avail(id) > 0;
    H5Eclear2(H5E_DEFAULT);
    all_available = all_available && available;
    // Plugins register names like "bitshuffle; see https://…": the part before ';' is the name.
    const std::string short_name = std::string(name).substr(0, std::string(name).find(';'));
    text << (i ? ", " : "") << (short_name.empty() ? "filter" : short_name) << " (" << id << ") "
         << (available     ? "available"
             : id == 32008 ? "NOT available: apt-get install bitshuffle"
                           : "NOT available");
  }
  return count > 0 ? text.str() : "none";
}

std::string chunks_of(hid_t dataset) {
  h5::Handle create = h5::checked(H5Dget_create_plist(dataset), "cannot read the dataset's layout");
  if (H5Pget_layout(create.get()) != H5D_CHUNKED) return "contiguous";
  hsize_t chunk[3] = {0, 0, 0};
  if (H5Pget_chunk(create.get(), 3, chunk) != 3) return "chunked";
  return "chunks " + std::to_string(chunk[0]) + "x" + std::to_string(chunk[1]) + "x" + std::to_string(chunk[2]);
}

std::string shell_quoted(const std::string& text) {
  if (text.find_first_of(" '\"$\\") == std::string::npos) return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string inspect_input(const Options& options) {
  std::ostringstream out;
  out << "ptyroi inspect: " << options.input_file << "\n";
  require_not_directory(options.input_file, "--input");
  check_input_file(options.input_file);
  h5::Handle file = h5::open_file_read_serial(options.input_file);
  const InputLayout requested = parse_input_layout(options.layout);
  InputDescription input;
  try {
    input = describe_input(file.get(), options.input_file, requested, options.dataset);
  } catch (const Error& error) {
    out << "  layout         none recognised: " << error.what() << "\n";
    return out.str();
  }
  out << "  layout         " << input_layout_name(input.layout)
      << (requested == InputLayout::automatic ? " (detected)" : " (--layout)") << "\n";

  std::uint64_t frames = 0, rows = 0, cols = 0;
  std::string pixel_type;
  bool readable = true;
  for (const auto& path : input.stack_paths) {
    out << "  stack          " << path;
    const std::string target = link_target(file.get(), path);
    if (!target.empty()) out << " " << target;
    try {
      h5::Handle dataset = h5::open_dataset(file.get(), path, options.input_file);
      const auto dims = h5::dataset_dims(dataset.get());
      h5::Handle type = h5::checked(H5Dget_type(dataset.get()), "cannot read the type of " + path);
      std::string shape;
      for (const hsize_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      pixel_type = pixel_type_name(h5::classify_pixel_type(type.get(), "dataset '" + path + "'"));
      if (is_virtual(dataset.get())) {
        // A VDS: its mappings, and whether each source is there (a missing one reads as fill values).
        const std::string vds_file = h5::file_name(dataset.get());
        const auto sources =
            virtual_sources(dataset.get(), vds_file.empty() ? options.input_file : vds_file, dims.size() > 3 ? 1 : 0);
        out << "\n                 " << shape << " " << pixel_type << ", virtual (VDS) of " << sources.size()
            << (sources.size() == 1 ? " source" : " sources") << ", read through serial HDF5 on each rank\n";
        try {
          check_virtual_sources(sources, "dataset '" + path + "'");
        } catch (const Error& error) {
          out << "                 PROBLEM: " << error.what() << "\n";
          readable = false;
        }
      } else {
        out << "\n                 " << shape << " " << pixel_type << ", " << chunks_of(dataset.get())
            << ", filters: " << filters_of(dataset.get(), readable) << "\n";
      }
      if (dims.size() == 3) {
        frames += dims[0];
        rows = dims[1];
        cols = dims[2];
      } else {
        readable = false;
      }
    } catch (const Error& error) {
      out << "\n                 PROBLEM: " << error.what() << "\n";
      readable = false;
    }
  }
  out << "  frames         " << frames << " of " << rows << "x" << cols << " " << pixel_type << " ("
      << input.stack_paths.size() << (input.stack_paths.size() == 1 ? " dataset" : " data files") << ")"
      << (readable ? "" : "  -- ptyroi cannot read this stack as it is") << "\n";

  if (!input.mask_path.empty() && rows > 0) {
    try {
      const auto good = read_good_pixels(input.mask_path, options.input_file, rows, cols, "the input's mask");
      out << "  mask           " << input.mask_path << ": " << std::count(good.begin(), good.end(), 0) << " bad of "
          << good.size() << " pixels (non-zero = bad)\n";
    } catch (const Error& error) {
      out << "  mask           " << input.mask_path << ": PROBLEM: " << error.what() << "\n";
    }
  } else {
    out << "  mask           none in the file (--mask FILE:PATH adds one)\n";
  }
  if (input.bit_depth > 0) {
    out << "  flag value     2^" << input.bit_depth << "-1 (bit_depth_image): such pixels are left out\n";
  }
  if (input.has_beam_center) {
    out << "  beam centre    (" << input.beam_center_x << ", " << input.beam_center_y << ") px (x = column)\n";
  } else if (!input.beam_center_note.empty()) {
    out << "  beam centre    " << input.beam_center_note << ": not used (--beam-center X,Y sets one for --crop)\n";
  }
  if (readable && frames > 0) {
    try {
      // Where the frames keep zero frequency, as the run will decide it (--fftshift auto).
      const PatternStack stack = PatternStack::open(options.input_file, requested, options.dataset, 0, MPI_COMM_SELF);
      std::string sources;
      const auto good = combined_good_pixels(pixel_settings(options), options.input_file, input, rows, cols, sources);
      const ZeroFrequencyEvidence evidence = detect_zero_frequency(stack, good, MPI_COMM_SELF);
      out << "  zero frequency " << evidence.text()
          << (evidence.at_corner_verdict ? ": the run centres the frames (fftshift)" : "") << "\n";
    } catch (const Error& error) {
      out << "  zero frequency PROBLEM: " << error.what() << "\n";
    }
  }
  if (!input.monitor_path.empty()) {
    out << "  monitor        " << input.monitor_path << ": the absorption map is divided by it (--no-monitor: not)\n";
  }

  // The instrument, and what each output format's reader will lack for this input.
  InstrumentMetadata instrument = read_instrument(file.get(), input);
  apply_overrides(instrument, instrument_overrides(options));
  const std::uint64_t out_rows = options.crop > 0 ? options.crop : rows,
                      out_cols = options.crop > 0 ? options.crop : cols;
  {
    const auto value_line = [&](const char* label, const std::optional<InstrumentValue>& value, double scale,
                                const char* units, const char* option) {
      out << "  " << label;
      if (value) {
        out << value->value * scale << " " << units << " (" << value->source << ")\n";
      } else {
        out << "none (" << option << ")\n";
      }
    };
    if (instrument.energy || !instrument.wavelength) {
      value_line("energy         ", instrument.energy, 1.0 / (1e3 * kElectronVolt), "keV", "--energy KEV");
    }
    if (instrument.wavelength) value_line("wavelength     ", instrument.wavelength, 1.0, "m", "--energy KEV");
    value_line("distance       ", instrument.distance, 1.0, "m", "--distance M");
    value_line("pixel size x   ", instrument.pixel_size_x, 1.0, "m", "--pixel-size M");
    value_line("pixel size y   ", instrument.pixel_size_y, 1.0, "m", "--pixel-size M");
    for (const auto& [item, what] : instrument.problems) out << "  PROBLEM        " << item << ": " << what << "\n";
    const auto dx = instrument.object_pixel_x_m(out_cols), dy = instrument.object_pixel_y_m(out_rows);
    if (dx && dy) {
      out << "  object pixel   " << *dx << " x " << *dy << " m (lambda*z/(N*p) for " << out_rows << "x" << out_cols
          << " frames)\n";
    }
  }

  std::string grid_option;
  bool metric_positions = false;
  if (frames > 0) {
    try {
      const ScanPositions positions =
          read_scan_positions(positions_spec(options), options.input_file, input, frames, options.grid.empty());
      if (positions.x.empty()) {
        out << "  positions      none; --grid places the frames\n";
      } else {
        metric_positions = true;
        const auto [x_min, x_max] = std::minmax_element(positions.x.begin(), positions.x.end());
        const auto [y_min, y_max] = std::minmax_element(positions.y.begin(), positions.y.end());
        out << "  positions      " << positions.x.size() << " from " << positions.source << "\n"
            << "                 x " << *x_min << " .. " << *x_max << ", y " << *y_min << " .. " << *y_max
            << " (metres expected; --positions-scale converts)\n";
        if (const auto grid = find_grid(positions.x, positions.y)) {
          out << "  scan           raster " << grid->shape.rows << "x" << grid->shape.cols << " (inferred)\n";
        } else {
          const auto scan = ScanNeighbourhood::irregular(positions.x, positions.y);
          out << "  scan           not on a grid: irregular, scan step " << scan.step()
              << " (a square raster of the same density)\n";
        }
      }
    } catch (const Error& error) {
      out << "  positions      PROBLEM: " << error.what() << "\n";
      const auto side = static_cast<std::uint64_t>(std::llround(std::sqrt(static_cast<double>(frames))));
      if (side * side == frames) grid_option = " --grid " + std::to_string(side) + "x" + std::to_string(side);
    }
  }

  out << "  formats        what each --format's reader will lack (--crop, --energy, ... as given here)\n";
  for (const OutputFormat* format : output_formats()) {
    const auto shortfalls = format_shortfalls(*format, instrument, out_rows, out_cols, metric_positions);
    out << "    " << format->name << ": " << (shortfalls.empty() ? "nothing" : "");
    for (std::size_t i = 0; i < shortfalls.size(); ++i) {
      out << (i ? "; " : "") << shortfalls[i];
    }
    out << (format->needs.instrument == Need::recommended && !shortfalls.empty()
                ? " (written anyway; its summary notes it)"
                : "")
        << "\n";
  }

  // Named as the series mode names them ("scan_0042_master.h5" → "scan_0042_roi.h5"), in the working
  // directory: beamline storage next to the input is often read-only.
  const std::string output_base = scan_output_base(options.input_file, ".");
  out << "  suggested      mpiexec -n 2 ptyroi --input " << shell_quoted(options.input_file)
      << (requested == InputLayout::automatic ? "" : " --layout " + options.layout) << grid_option
      << (options.grid.empty() ? "" : " --grid " + options.grid) << " --border 2 --output "
      << shell_quoted(output_base + "_roi.h5") << " --preview " << shell_quoted(output_base + "_preview") << "\n";
  if (!grid_option.empty()) out << "                 (the --grid is a guess from K; check it)\n";
  return out.str();
}

}  // namespace ptyroi
