// --format ptychodus: what ptychodus 1.2 reads and pairs (src/ptychodus/plugins/cxi_file.py,
// bad_pixels.py; settings groups of model/*/settings.py), for its GUI and for ptychodus-bdp:
//   FILE                  the CXI layout (formats.hpp): its CXI diffraction reader needs the four
//                         instrument values (required here) and pairs pattern row i with position
//                         row i of /entry_1/data_1/translation; it ignores the CXI mask, so pixels
//                         that are not data are 0. Also ptychodus's own assembled-patterns keys
//                         (what `ptychodus --batch` reads as diffraction.h5): /patterns (a link to
//                         the CXI data), /indexes int64 = 0..K_roi−1 (ptychodus uses index values
//                         as row numbers: frame numbers would pair wrongly), /bad_pixels uint8.
//   STEM_bad_pixels.npy   bool [N, M], True = bad (its NPY_Bad_Pixels reader): the only way a mask
//                         reaches ptychodus in the CXI flow.
//   STEM_ptychodus.ini    settings naming the three files (absolute paths), the detector and the
//                         crop off (its defaults crop 64×64 at (32, 32)).
// STEM is FILE without a .cxi, .h5 or .hdf5 suffix.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "formats.hpp"
#include "ptyroi/io/npz_file.hpp"

namespace ptyroi::formats {

namespace {

std::vector<OutputFile> files(const std::string& output) {
  const std::string stem = strip_suffix(output, {".cxi", ".hdf5", ".h5"});
  return {{output, true}, {stem + "_bad_pixels.npy", false}, {stem + "_ptychodus.ini", false}};
}

std::string absolute(const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); }

// The shortest decimal that reads back as the same double.
std::string number(double value) {
  char text[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string settings(const FormatContext& context) {
  const InstrumentMetadata& instrument = context.instrument;
  const std::string data = absolute(context.files[0].path);
  std::ostringstream ini;
  ini << "# ptychodus settings written by ptyroi for " << data << "\n"
      << "# GUI: File > Open Settings; batch: ptychodus-bdp --settings THIS --diffraction-input " << data
      << " --probe-position-input " << data << " --product-name NAME -o DIR\n"
      << "[Detector]\n"
      << "WidthInPixels = " << context.window.cols << "\n"
      << "HeightInPixels = " << context.window.rows << "\n";
  if (instrument.pixel_size_x) ini << "PixelWidthInMeters = " << number(instrument.pixel_size_x->value) << "\n";
  if (instrument.pixel_size_y) ini << "PixelHeightInMeters = " << number(instrument.pixel_size_y->value) << "\n";
  ini << "BadPixelsFileType = NPY_Bad_Pixels\n"
      << "BadPixelsFilePath = " << absolute(context.files[1].path) << "\n"
      << "[Diffraction]\n"
      << "FileType = CXI\n"
      << "FilePath = " << data << "\n"
      << "CropEnabled = False\n"
      << "[ProbePositions]\n"
      << "FileType = CXI\n"
      << "FilePath = " << data << "\n"
      << "[Products]\n";
  if (instrument.distance) ini << "DetectorDistanceInMeters = " << number(instrument.distance->value) << "\n";
  if (const auto energy = instrument.photon_energy_J()) {
    ini << "ProbeEnergyInElectronVolts = " << number(*energy / kElectronVolt) << "\n";
  }
  return ini.str();
}

class PtychodusWriter : public FormatWriter {
 public:
  PtychodusWriter(hid_t file, const FormatContext& context, bool with_patterns)
      : layout_(file, context, with_patterns) {
    if (with_patterns) {
      h5::check(H5Lcreate_soft("/entry_1/data_1/data", file, "/patterns", H5P_DEFAULT, H5P_DEFAULT),
                "cannot link /patterns");
    }
    indexes_ = create_roi_frames(file, "/indexes", H5T_STD_I64LE, context);
    bad_pixels_ = h5::create_dataset(file, "/bad_pixels", H5T_STD_U8LE, {context.window.rows, context.window.cols});
  }
  hid_t patterns() const override { return layout_.patterns(); }
  void write_local(const FormatContext& context, int rank, hid_t transfer) const override {
    layout_.write_local(context, rank, transfer);
    std::vector<std::int64_t> rows(context.result.local_selected.size());
    std::iota(rows.begin(), rows.end(), static_cast<std::int64_t>(context.roi_offset));
    write_rows(indexes_.get(), context.roi_offset, rows, transfer);
    if (rank != 0) return;
    const std::vector<std::uint8_t> bad = written_bad_pixels(context);
    h5::check(H5Dwrite(bad_pixels_.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, transfer, bad.data()),
              "cannot write /bad_pixels");
    // NumPy's bool is one byte, 0 or 1.
    write_npy_file(context.temporaries[1], NpyArray{"|b1", {context.window.rows, context.window.cols}}, bad.data());
    const std::string text = settings(context);
    std::FILE* ini = std::fopen(context.temporaries[2].c_str(), "w");
    const bool ok = ini != nullptr && std::fwrite(text.data(), 1, text.size(), ini) == text.size();
    if (ini == nullptr || std::fclose(ini) != 0 || !ok) {
      throw IoError("cannot write '" + context.files[2].path + "'");
    }
  }

 private:
  CxiLayout layout_;
  h5::Handle indexes_, bad_pixels_;
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>& files, const FormatContext& context,
                                     bool with_patterns) {
  return std::make_unique<PtychodusWriter>(files.front(), context, with_patterns);
}

}  // namespace

const OutputFormat& ptychodus() {
  static const OutputFormat format{
      "ptychodus",
      "FILE (CXI for ptychodus, + /patterns, /indexes 0..K-1, /bad_pixels) + STEM_bad_pixels.npy + STEM_ptychodus.ini",
      true,
      files,
      create,
      PatternLayout{std::nullopt, true, false},
      FormatNeeds{"ptychodus's CXI reader", Need::required, false, true}};
  return format;
}

}  // namespace ptyroi::formats
