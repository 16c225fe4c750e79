// --format mask-only: the /roi record alone (its /roi/mask is a PtyPy framefilter); no patterns.
#include "formats.hpp"

namespace ptyroi::formats {

namespace {

class MaskOnlyWriter : public FormatWriter {
 public:
  void write_local(const FormatContext&, int, hid_t) const override {}
};

std::unique_ptr<FormatWriter> create(const std::vector<hid_t>&, const FormatContext&, bool) {
  return std::make_unique<MaskOnlyWriter>();
}

}  // namespace

const OutputFormat& mask_only() {
  static const OutputFormat format{"mask-only",
                                   "the /roi record only (/roi/mask: a PtyPy framefilter)",
                                   false,
                                   single_file,
                                   create,
                                   PatternLayout{std::nullopt, false, false},
                                   FormatNeeds{"PtyPy's framefilter", Need::no, false, false}};
  return format;
}

}  // namespace ptyroi::formats
