// What the built-in formats share (formats.hpp).
#include <cmath>

#include "formats.hpp"

#include "ptyroi/core/frame_window.hpp"

namespace ptyroi::formats {

std::vector<OutputFile> single_file(const std::string& output) { return {{output, true}}; }

std::string strip_suffix(const std::string& output, std::initializer_list<const char*> suffixes) {
  for (const std::string suffix : suffixes) {
    if (output.size() > suffix.size() && output.compare(output.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return output.substr(0, output.size() - suffix.size());
    }
  }
  return output;
}

h5::Handle create_patterns(hid_t file, const std::string& path, const FormatContext& context) {
  h5::Handle create = h5::checked(H5Pcreate(H5P_DATASET_CREATE), "cannot create a dataset-creation list");
  h5::check(H5Pset_layout(create.get(), H5D_CONTIGUOUS), "cannot set the pattern layout");
  h5::check(H5Pset_alloc_time(create.get(), H5D_ALLOC_TIME_EARLY), "cannot set the pattern allocation");
  h5::check(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), "cannot disable fill values");
  const auto roi_frames = static_cast<std::uint64_t>(context.result.roi_frames);
  return h5::create_dataset(file, path, context.pattern_type, {roi_frames, context.result.rows, context.result.cols},
                            create.get());
}

h5::Handle create_roi_frames(hid_t file, const std::string& path, hid_t type, const FormatContext& context,
                             std::uint64_t width) {
  const auto roi_frames = static_cast<std::uint64_t>(context.result.roi_frames);
  if (width == 0) return h5::create_dataset(file, path, type, {roi_frames});
  return h5::create_dataset(file, path, type, {roi_frames, width});
}

void local_roi_positions(const FormatContext& context, std::vector<double>& x, std::vector<double>& y) {
  x.clear();
  y.clear();
  for (const std::uint64_t k : context.result.local_selected) {
    x.push_back(context.positions.x_at(k));
    y.push_back(context.positions.y_at(k));
  }
}

namespace {
template <class T>
void write_rows_of(hid_t dataset, std::uint64_t first, const std::vector<T>& values, hid_t transfer,
                   std::uint64_t width) {
  if (values.empty()) return;
  const std::uint64_t rows = width == 0 ? values.size() : values.size() / width;
  h5::Handle file_space = h5::select_frames(dataset, first, rows);
  h5::Handle memory = width == 0 ? h5::memory_space({rows}) : h5::memory_space({rows, width});
  h5::check(H5Dwrite(dataset, h5::native_type<T>(), memory.get(), file_space.get(), transfer, values.data()),
            "cannot write to the output file");
}
}  // namespace

void write_rows(hid_t dataset, std::uint64_t first, const std::vector<double>& values, hid_t transfer,
                std::uint64_t width) {
  write_rows_of(dataset, first, values, transfer, width);
}
void write_rows(hid_t dataset, std::uint64_t first, const std::vector<std::int64_t>& values, hid_t transfer) {
  write_rows_of(dataset, first, values, transfer, 0);
}

std::vector<std::uint8_t> written_bad_pixels(const FormatContext& context) {
  return layout_bad_pixels(context.window, context.layout);
}

std::optional<std::pair<double, double>> written_beam_center(const FormatContext& context) {
  const InstrumentMetadata& instrument = context.instrument;
  if (!instrument.beam_center_x || !instrument.beam_center_y) return std::nullopt;
  double x = instrument.beam_center_x->value, y = instrument.beam_center_y->value;
  // The file's centre is in stored pixels: moved with the fftshift into the analysed (centred)
  // frame, as pixel_selection moves it; --beam-center is given in the centred frame already.
  if (context.pixels.fftshift && instrument.beam_center_x->source != "--beam-center") {
    const auto rows = static_cast<double>(context.source_rows), cols = static_cast<double>(context.source_cols);
    x = std::fmod(x + std::floor(cols / 2), cols);
    y = std::fmod(y + std::floor(rows / 2), rows);
  }
  const auto rows = static_cast<double>(context.window.rows), cols = static_cast<double>(context.window.cols);
  x -= static_cast<double>(context.pixels.window_col);
  y -= static_cast<double>(context.pixels.window_row);
  if (x < 0 || y < 0 || x >= cols || y >= rows) return std::nullopt;
  // Moved as the pixels are (a whole-pixel shift, modulo the frame).
  const double shift_x = static_cast<double>(layout_col(0, context.window, context.layout));
  const double shift_y = static_cast<double>(layout_row(0, context.window, context.layout));
  return std::make_pair(std::fmod(x + shift_x, cols), std::fmod(y + shift_y, rows));
}

hid_t SmallDatasets::add(hid_t file, const std::string& path, hid_t file_type, const std::vector<hsize_t>& dims,
                         std::vector<double> values) {
  datasets_.emplace_back(h5::create_dataset(file, path, file_type, dims), std::move(values));
  return datasets_.back().first.get();
}

void SmallDatasets::write(int rank, hid_t transfer) const {
  if (rank != 0) return;
  for (const auto& [dataset, values] : datasets_) {
    h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, transfer, values.data()),
              "cannot write to the output file");
  }
}

namespace {
constexpr const char* kTranslation = "/entry_1/sample_1/geometry_1/translation";
constexpr const char* kDetector = "/entry_1/instrument_1/detector_1";
constexpr std::uint32_t kCxiInvalid = 0x1;  // CXI 1.5 Detector mask bit 0: "invalid"
}  // namespace

CxiLayout::CxiLayout(hid_t file, const FormatContext& context, bool with_patterns) {
  const std::string detector = kDetector;
  small_.add(file, "/cxi_version", H5T_STD_I64LE, {}, {150.0});
  translation_ = create_roi_frames(file, kTranslation, H5T_IEEE_F64LE, context, 3);
  if (with_patterns) {
    patterns_ = create_patterns(file, "/entry_1/data_1/data", context);
    // CXI 1.5 "Scans": the scanned dimension first, named as the dataset in the same group.
    h5::write_attribute(patterns_.get(), "axes", std::string("translation:y:x"));
  } else {
    h5::create_group(file, "/entry_1/data_1");
  }
  h5::check(H5Lcreate_soft(kTranslation, file, "/entry_1/data_1/translation", H5P_DEFAULT, H5P_DEFAULT),
            "cannot link /entry_1/data_1/translation");

  // The instrument, SI units as CXI 1.5 says (the units attributes are for people and NeXus tools).
  const InstrumentMetadata& instrument = context.instrument;
  const auto scalar = [&](const std::string& path, double value, const char* units) {
    h5::write_attribute(small_.add(file, path, H5T_IEEE_F64LE, {}, {value}), "units", std::string(units));
  };
  if (const auto energy = instrument.photon_energy_J()) scalar("/entry_1/instrument_1/source_1/energy", *energy, "J");
  if (instrument.distance) scalar(detector + "/distance", instrument.distance->value, "m");
  if (instrument.pixel_size_x) scalar(detector + "/x_pixel_size", instrument.pixel_size_x->value, "m");
  if (instrument.pixel_size_y) scalar(detector + "/y_pixel_size", instrument.pixel_size_y->value, "m");
  const std::vector<std::uint8_t> bad = written_bad_pixels(context);
  std::vector<double> mask(bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) mask[i] = bad[i] ? kCxiInvalid : 0;
  small_.add(file, detector + "/mask", H5T_STD_U32LE, {context.window.rows, context.window.cols}, std::move(mask));
  if (instrument.has_pixel_size()) {
    const double px = instrument.pixel_size_x->value, py = instrument.pixel_size_y->value;
    // The default CXI basis: the first (row) index runs along −y, the second along −x.
    small_.add(file, detector + "/basis_vectors", H5T_IEEE_F64LE, {2, 3}, {0.0, -py, 0.0, -px, 0.0, 0.0});
    const auto beam = written_beam_center(context);
    if (beam && instrument.distance) {
      // The direct beam (x = y = 0) at pixel (bx, by) with pixel centres at whole numbers: the first
      // pixel's outer corner lies (b + ½) pixels away, on the + side of each basis vector's axis.
      small_.add(file, detector + "/corner_position", H5T_IEEE_F64LE, {3},
                 {(beam->first + 0.5) * px, (beam->second + 0.5) * py, instrument.distance->value});
    }
  }
}

void CxiLayout::write_local(const FormatContext& context, int rank, hid_t transfer) const {
  small_.write(rank, transfer);
  std::vector<double> x, y;
  local_roi_positions(context, x, y);
  std::vector<double> xyz;
  xyz.reserve(3 * x.size());
  for (std::size_t i = 0; i < x.size(); ++i) xyz.insert(xyz.end(), {x[i], y[i], 0.0});
  write_rows(translation_.get(), context.roi_offset, xyz, transfer, 3);
}

}  // namespace ptyroi::formats
