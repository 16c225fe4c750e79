// --format ptychodus: /patterns [K_roi, N, M], /indexes int64 [K_roi], /bad_pixels uint8 [N, M]
// (1 = bad), /probe_position_x_m, /probe_position_y_m [K_roi], and the /roi record.
#include "formats.hpp"

namespace ptyroi::formats {

namespace {

class PtychodusWriter : public FormatWriter {
 public:
  PtychodusWriter(hid_t file, const FormatContext& context, bool with_patterns) {
    if (with_patterns) patterns_ = create_patterns(file, "/patterns", context);
    indexes_ = create_roi_frames(file, "/indexes", H5T_NATIVE_INT64, context);
    bad_pixels_ = h5::create_dataset(file, "/bad_pixels", H5T_NATIVE_UINT8, {context.result.rows, context.result.cols});
    x_ = create_roi_frames(file, "/probe_position_x_m", H5T_NATIVE_DOUBLE, context);
    y_ = create_roi_frames(file, "/probe_position_y_m", H5T_NATIVE_DOUBLE, context);
  }
  hid_t patterns() const override { return patterns_ ? patterns_.get() : -1; }
  void write_local(const FormatContext& context, int rank, hid_t transfer) const override {
    const auto& selected = context.result.local_selected;
    write_rows(indexes_.get(), context.roi_offset, std::vector<std::int64_t>(selected.begin(), selected.end()),
               transfer);
    std::vector<double> x, y;
    local_roi_positions(context, x, y);
    write_rows(x_.get(), context.roi_offset, x, transfer);
    write_rows(y_.get(), context.roi_offset, y, transfer);
    if (rank == 0) {
      const std::vector<std::uint8_t> bad = window_bad_pixels(context);
      h5::check(H5Dwrite(bad_pixels_.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, transfer, bad.data()),
                "cannot write /bad_pixels");
    }
  }

 private:
  h5::Handle patterns_, indexes_, bad_pixels_, x_, y_;
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>& files, const FormatContext& context,
                                     bool with_patterns) {
  return std::make_unique<PtychodusWriter>(files.front(), context, with_patterns);
}

}  // namespace

const OutputFormat& ptychodus() {
  static const OutputFormat format{"ptychodus", "/patterns, /indexes, /bad_pixels, /probe_position_{x,y}_m + /roi", true,
                                   single_file, create};
  return format;
}

}  // namespace ptyroi::formats
