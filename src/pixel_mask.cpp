#include "ptyroi/pixel_mask.hpp"

#include "ptyroi/error.hpp"
#include "ptyroi/h5.hpp"
#include "ptyroi/positions.hpp"

namespace ptyroi {

std::vector<std::uint8_t> read_good_pixels(const std::string& mask_spec, const std::string& input_file,
                                           std::uint64_t rows, std::uint64_t cols) {
  const DatasetSpec spec = parse_dataset_spec(mask_spec, input_file);
  h5::Handle file = h5::open_file_read_serial(spec.file);
  h5::Handle dataset = h5::open_dataset(file.get(), spec.path, spec.file);
  const auto dims = h5::dataset_dims(dataset.get());
  std::string shape;
  for (hsize_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  if (dims.size() != 2 || dims[0] != rows || dims[1] != cols) {
    throw InputError("--mask '" + spec.path + "' in '" + spec.file + "' is " + (shape.empty() ? "a scalar" : shape) +
                     " but the frames are " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  const auto bad = h5::read_all<std::int64_t>(dataset.get());
  std::vector<std::uint8_t> good(bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) good[i] = bad[i] == 0 ? 1 : 0;
  return good;
}

}  // namespace ptyroi
