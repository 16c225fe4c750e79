// --format ptychoshelves: fold_slice/PtychoShelves prepared data as its APS loaders read it
// (+detector/+prep_data/+matlab_aps/load_data.m, +scans/+positions/hdf5_pos.m):
// PREFIX_dp.hdf5 with /dp float32 [K_roi, N, N] (+ /roi) and PREFIX_para.hdf5 with /ppX, /ppY
// float64 [K_roi] metres. PREFIX is --output without a _dp.hdf5, .hdf5 or .h5 suffix; for the loader
// to find the pair it must end in data_roi<roi_label>.
//   float32: the loader concatenates /dp onto single([]) (an integer /dp stays integer in MATLAB)
//            and later takes sqrt(), which MATLAB refuses for integers.
//   zeroed:  its standard path (ptycho_recon with eiger_APS) loads no mask, so pixels that are not
//            data are 0 in /dp.
//   square, centred: p.asize = [Ndp, Ndp]; fftshift_2D moves 0-based pixel N/2 to the corner.
#include "formats.hpp"

namespace ptyroi::formats {

namespace {

std::vector<OutputFile> files(const std::string& output) {
  const std::string prefix = strip_suffix(output, {"_dp.hdf5", ".hdf5", ".h5"});
  return {{prefix + "_dp.hdf5", true}, {prefix + "_para.hdf5", true}};
}

class PtychoShelvesWriter : public FormatWriter {
 public:
  PtychoShelvesWriter(const std::vector<hid_t>& files, const FormatContext& context, bool with_patterns) {
    if (with_patterns) patterns_ = create_patterns(files[0], "/dp", context);
    pp_x_ = create_roi_frames(files[1], "/ppX", H5T_IEEE_F64LE, context);
    pp_y_ = create_roi_frames(files[1], "/ppY", H5T_IEEE_F64LE, context);
  }
  hid_t patterns() const override { return patterns_ ? patterns_.get() : -1; }
  void write_local(const FormatContext& context, int, hid_t transfer) const override {
    // hdf5_pos.m: positions_real = [-ppY, -ppX], negated again by ptycho_adjust_positions: object
    // row ∝ +ppY, column ∝ +ppX, as the input's y and x.
    std::vector<double> x, y;
    local_roi_positions(context, x, y);
    write_rows(pp_x_.get(), context.roi_offset, x, transfer);
    write_rows(pp_y_.get(), context.roi_offset, y, transfer);
  }

 private:
  h5::Handle patterns_, pp_x_, pp_y_;
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>& files, const FormatContext& context,
                                     bool with_patterns) {
  return std::make_unique<PtychoShelvesWriter>(files, context, with_patterns);
}

}  // namespace

const OutputFormat& ptychoshelves() {
  static const OutputFormat format{
      "ptychoshelves",
      "fold_slice prepared data: PREFIX_dp.hdf5 (/dp float32) + PREFIX_para.hdf5 (/ppX, /ppY)",
      true,
      files,
      create,
      PatternLayout{PixelType::f32, true, false},
      FormatNeeds{"fold_slice's APS loader", Need::no, true, true}};
  return format;
}

}  // namespace ptyroi::formats
