// --format tike: the layout tike's example and tests load (docs/source/examples/ptycho.ipynb,
// tests/ptycho/templates.py: an .npz with `data`, `scan`, `probe`, each with a leading axis of 1),
// ready for tike.ptycho.reconstruct (ptycho.py Reconstruction, solvers/options.py, position.py):
//   PREFIX.npz     data  float32 (1, K_roi, N, N): zero frequency at the corner (numpy's
//                        ifftshift of the centred window), pixels that are not data 0
//                  scan  float32 (1, K_roi, 2): (row, col) of each frame in object pixels, y/dx and
//                        x/dx with dx = λz/(N·p), offset so that floor(min) = (1, 1) as
//                        check_allowed_positions wants (get_padded_object leaves it as it is)
//                  measured_pixels bool (N, N): True = good, corner layout (ExitWaveOptions)
//                  pixel_size_m (dx), energy_keV, wavelength_m, distance_m, detector_pixel_size_m,
//                  frame_indexes int64 (K_roi): the frames of the input; no probe (ptyroi has none)
//   PREFIX_roi.h5  the /roi record
// PREFIX is --output without a .npz (or .h5, .hdf5) suffix. The members are stored (not compressed): each rank
// writes its frames of `data` in place.
#include <cmath>
#include <limits>
#include <optional>

#include "formats.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/npz_file.hpp"

namespace ptyroi::formats {

namespace {

std::vector<OutputFile> files(const std::string& output) {
  const std::string prefix = strip_suffix(output, {".npz", ".hdf5", ".h5"});
  return {{prefix + ".npz", false}, {prefix + "_roi.h5", true}};
}

class TikeWriter : public FormatWriter {
 public:
  TikeWriter(const FormatContext& context, bool with_patterns)
      : rows_(context.window.rows),
        cols_(context.window.cols),
        frame_bytes_(rows_ * cols_ * sizeof(float)),
        roi_frames_(static_cast<std::uint64_t>(context.result.roi_frames)),
        with_patterns_(with_patterns),
        npz_(context.temporaries[0], context.comm, with_patterns ? "data" : "",
             NpyArray{"<f4", {1, roi_frames_, rows_, cols_}}) {
    // check_format_needs made sure of the instrument and the positions before any frame was read.
    const InstrumentMetadata& instrument = context.instrument;
    dy_ = instrument.object_pixel_y_m(rows_).value_or(std::nan(""));
    dx_ = instrument.object_pixel_x_m(cols_).value_or(std::nan(""));
    // The offset: floor of the smallest row and column over every RoI frame (collective).
    double smallest[2] = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    for (const std::uint64_t k : context.result.local_selected) {
      smallest[0] = std::min(smallest[0], context.positions.y_at(k) / dy_);
      smallest[1] = std::min(smallest[1], context.positions.x_at(k) / dx_);
    }
    MPI_Allreduce(MPI_IN_PLACE, smallest, 2, MPI_DOUBLE, MPI_MIN, context.comm);
    offset_row_ = std::isfinite(smallest[0]) ? 1.0 - std::floor(smallest[0]) : 0.0;
    offset_col_ = std::isfinite(smallest[1]) ? 1.0 - std::floor(smallest[1]) : 0.0;
  }

  bool takes_patterns() const override { return with_patterns_; }
  void write_patterns(std::uint64_t first, std::uint64_t count, const void* frames, hid_t) override {
    npz_.write_parallel(first * frame_bytes_, frames, count * frame_bytes_);
  }
  void write_local(const FormatContext&, int, hid_t) const override {}

  void finish(const FormatContext& context) override {
    // The small members hold every RoI frame: gathered (in rank order = RoI order) to every rank.
    std::vector<double> local_scan, local_frames;
    for (const std::uint64_t k : context.result.local_selected) {
      local_scan.push_back(context.positions.y_at(k) / dy_ + offset_row_);
      local_scan.push_back(context.positions.x_at(k) / dx_ + offset_col_);
      local_frames.push_back(static_cast<double>(k));
    }
    const std::vector<double> all_scan = mpi::all_gather(context.comm, local_scan);
    const std::vector<double> all_frames = mpi::all_gather(context.comm, local_frames);
    const std::vector<float> scan(all_scan.begin(), all_scan.end());
    const std::vector<std::int64_t> frames(all_frames.begin(), all_frames.end());
    npz_.add("scan", NpyArray{"<f4", {1, roi_frames_, 2}}, scan.data());
    std::vector<std::uint8_t> measured = written_bad_pixels(context);
    for (auto& pixel : measured) pixel = pixel ? 0 : 1;
    npz_.add("measured_pixels", NpyArray{"|b1", {rows_, cols_}}, measured.data());
    npz_.add("frame_indexes", NpyArray{"<i8", {roi_frames_}}, frames.data());
    const InstrumentMetadata& instrument = context.instrument;
    const auto scalar = [&](const char* name, double value) { npz_.add(name, NpyArray{"<f8", {}}, &value); };
    scalar("pixel_size_m", dx_);
    scalar("energy_keV", instrument.photon_energy_J().value_or(std::nan("")) / (1e3 * kElectronVolt));
    scalar("wavelength_m", instrument.wavelength_m().value_or(std::nan("")));
    scalar("distance_m", instrument.distance ? instrument.distance->value : std::nan(""));
    scalar("detector_pixel_size_m", instrument.pixel_size_x ? instrument.pixel_size_x->value : std::nan(""));
    npz_.close();
  }

 private:
  std::uint64_t rows_, cols_, frame_bytes_, roi_frames_;
  bool with_patterns_;
  NpzWriter npz_;
  double dy_ = 0, dx_ = 0, offset_row_ = 0, offset_col_ = 0;
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>&, const FormatContext& context, bool with_patterns) {
  return std::make_unique<TikeWriter>(context, with_patterns);
}

}  // namespace

const OutputFormat& tike() {
  static const OutputFormat format{
      "tike",
      "PREFIX.npz (data float32 at the corner, scan in object pixels, measured_pixels, pixel_size_m) + PREFIX_roi.h5",
      true,
      files,
      create,
      PatternLayout{PixelType::f32, true, true},
      FormatNeeds{"tike", Need::required, true, true}};
  return format;
}

}  // namespace ptyroi::formats
