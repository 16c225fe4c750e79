// --format cxi (default): CXI 1.5 (formats.hpp, CxiLayout) and the /roi record, in one file. Read
// by PtyPy's Hdf5Loader (energy, distance and pixel size from the file itself, the mask from
// /roi/good_pixels) and by ptychodus's CXI readers (which need the instrument values and ignore
// the mask: bad pixels are 0 in the data). Patterns centred, in the input's pixel type.
#include "formats.hpp"

namespace ptyroi::formats {

namespace {

class CxiWriter : public FormatWriter {
 public:
  CxiWriter(hid_t file, const FormatContext& context, bool with_patterns) : layout_(file, context, with_patterns) {}
  hid_t patterns() const override { return layout_.patterns(); }
  void write_local(const FormatContext& context, int rank, hid_t transfer) const override {
    layout_.write_local(context, rank, transfer);
  }

 private:
  CxiLayout layout_;
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>& files, const FormatContext& context,
                                     bool with_patterns) {
  return std::make_unique<CxiWriter>(files.front(), context, with_patterns);
}

}  // namespace

const OutputFormat& cxi() {
  static const OutputFormat format{
      "cxi",
      "CXI 1.5 (/entry_1/data_1/data, translation, instrument, mask) + /roi (PtyPy, ptychodus)",
      true,
      single_file,
      create,
      PatternLayout{std::nullopt, true, false},
      FormatNeeds{"ptychodus's CXI reader", Need::recommended, false, true}};
  return format;
}

}  // namespace ptyroi::formats
