// --format cxi (default): CXI 1.5 — /cxi_version, the RoI patterns at /entry_1/data_1/data, their
// positions at /entry_1/sample_1/geometry_1/translation [K_roi, 3] metres (linked as
// /entry_1/data_1/translation), and the /roi record.
#include "formats.hpp"

namespace ptyroi::formats {

namespace {

constexpr const char* kTranslation = "/entry_1/sample_1/geometry_1/translation";

class CxiWriter : public FormatWriter {
 public:
  CxiWriter(hid_t file, const FormatContext& context, bool with_patterns) {
    version_ = h5::create_dataset(file, "/cxi_version", H5T_NATIVE_INT64, {});
    translation_ = create_roi_frames(file, kTranslation, H5T_NATIVE_DOUBLE, context, 3);
    if (with_patterns) {
      patterns_ = create_patterns(file, "/entry_1/data_1/data", context);
    } else {
      h5::create_group(file, "/entry_1/data_1");
    }
    h5::check(H5Lcreate_soft(kTranslation, file, "/entry_1/data_1/translation", H5P_DEFAULT, H5P_DEFAULT),
              "cannot link /entry_1/data_1/translation");
  }
  hid_t patterns() const override { return patterns_ ? patterns_.get() : -1; }
  void write_local(const FormatContext& context, int rank, hid_t transfer) const override {
    if (rank == 0) {
      const std::int64_t version_150 = 150;
      h5::check(H5Dwrite(version_.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, transfer, &version_150),
                "cannot write /cxi_version");
    }
    std::vector<double> x, y;
    local_roi_positions(context, x, y);
    std::vector<double> xyz;
    xyz.reserve(3 * x.size());
    for (std::size_t i = 0; i < x.size(); ++i) xyz.insert(xyz.end(), {x[i], y[i], 0.0});
    write_rows(translation_.get(), context.roi_offset, xyz, transfer, 3);
  }

 private:
  h5::Handle version_, translation_, patterns_;
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>& files, const FormatContext& context,
                                     bool with_patterns) {
  return std::make_unique<CxiWriter>(files.front(), context, with_patterns);
}

}  // namespace

const OutputFormat& cxi() {
  static const OutputFormat format{"cxi", "CXI 1.5 (/entry_1/data_1/data, translation) + /roi", true, single_file,
                                   create};
  return format;
}

}  // namespace ptyroi::formats
