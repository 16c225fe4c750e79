// --format ptychoshelves: fold_slice/PtychoShelves prepared data — PREFIX_dp.hdf5 with /dp
// [K_roi, N, M] (+ /roi) and PREFIX_para.hdf5 with /ppX, /ppY [K_roi] metres. PREFIX is --output
// without a _dp.hdf5, .hdf5 or .h5 suffix.
#include "formats.hpp"

namespace ptyroi::formats {

namespace {

std::vector<std::string> paths(const std::string& output) {
  std::string prefix = output;
  for (const std::string suffix : {"_dp.hdf5", ".hdf5", ".h5"}) {
    if (prefix.size() > suffix.size() && prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0) {
      prefix.resize(prefix.size() - suffix.size());
      break;
    }
  }
  return {prefix + "_dp.hdf5", prefix + "_para.hdf5"};
}

class PtychoShelvesWriter : public FormatWriter {
 public:
  PtychoShelvesWriter(const std::vector<hid_t>& files, const FormatContext& context, bool with_patterns) {
    if (with_patterns) patterns_ = create_patterns(files[0], "/dp", context);
    pp_x_ = create_roi_frames(files[1], "/ppX", H5T_NATIVE_DOUBLE, context);
    pp_y_ = create_roi_frames(files[1], "/ppY", H5T_NATIVE_DOUBLE, context);
  }
  hid_t patterns() const override { return patterns_ ? patterns_.get() : -1; }
  void write_local(const FormatContext& context, int, hid_t transfer) const override {
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
  static const OutputFormat format{"ptychoshelves", "fold_slice prepared data: PREFIX_dp.hdf5 (/dp) + PREFIX_para.hdf5 (/ppX, /ppY)",
                                   true, paths, create};
  return format;
}

}  // namespace ptyroi::formats
