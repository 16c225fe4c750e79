// What the built-in formats share (formats.hpp).
#include "formats.hpp"

#include "ptyroi/core/frame_window.hpp"

namespace ptyroi::formats {

std::vector<std::string> single_file(const std::string& output) { return {output}; }

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
    x.push_back(context.positions.x[k]);
    y.push_back(context.positions.y[k]);
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

std::vector<std::uint8_t> window_bad_pixels(const FormatContext& context) {
  const std::uint64_t rows = context.result.rows, cols = context.result.cols;
  std::vector<std::uint8_t> bad(rows * cols, 0);
  const auto& good = context.pixels.good_pixels;
  if (good.empty()) return bad;
  // The analysed frame's pixels, taken out of the stored-frame-sized mask as the patterns are.
  const FrameWindow window = frame_window(context.pixels, context.source_rows, context.source_cols);
  std::vector<std::uint8_t> analysed(rows * cols);
  extract_window(good.data(), PixelType::u8, window, analysed.data());
  for (std::size_t i = 0; i < bad.size(); ++i) bad[i] = analysed[i] ? 0 : 1;
  return bad;
}

}  // namespace ptyroi::formats
