#include "ptyroi/io/incident_flux.hpp"

#include <cmath>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/positions.hpp"

namespace ptyroi {

std::vector<double> read_incident_flux(const std::string& spec, const std::string& input_file, std::uint64_t frames,
                                       const std::string& what) {
  const DatasetSpec where = parse_dataset_spec(spec, input_file);
  const std::string name = what + " '" + where.path + "' in '" + where.file + "'";
  h5::Handle file = h5::open_file_read_serial(where.file);
  h5::Handle dataset = h5::open_dataset(file.get(), where.path, where.file);
  std::uint64_t values = 1;
  for (const hsize_t d : h5::dataset_dims(dataset.get())) values *= d;
  const auto dims = h5::dataset_dims(dataset.get());
  const bool one_column = (dims.size() == 1) || (dims.size() == 2 && (dims[0] == 1 || dims[1] == 1));
  if (!one_column || values != frames) {
    std::string shape;
    for (const hsize_t d : dims) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    throw InputError(name + " is " + (shape.empty() ? "a scalar" : shape) + "; expected one value per frame (" +
                     std::to_string(frames) + ")");
  }
  std::vector<double> flux = h5::read_all<double>(dataset.get());
  for (std::size_t k = 0; k < flux.size(); ++k) {
    if (!(flux[k] > 0.0) || !std::isfinite(flux[k])) {
      throw InputError(name + " holds " + std::to_string(flux[k]) + " at frame " + std::to_string(k) +
                       "; expected a positive incident flux");
    }
  }
  return flux;
}

std::vector<double> run_incident_flux(const std::string& spec, bool use_file_monitor, const std::string& input_file,
                                      const InputDescription& input, std::uint64_t frames, std::string& source) {
  source.clear();
  if (!spec.empty()) {
    source = spec;
    return read_incident_flux(spec, input_file, frames, "--monitor");
  }
  if (!use_file_monitor || input.monitor_path.empty()) return {};
  source = input.monitor_path + " (the input's monitor)";
  return read_incident_flux(input.monitor_path, input_file, frames, "the input's monitor");
}

}  // namespace ptyroi
