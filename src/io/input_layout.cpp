#include "ptyroi/io/input_layout.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/h5.hpp"

namespace ptyroi {

InputLayout parse_input_layout(const std::string& text) {
  if (text == "auto") return InputLayout::automatic;
  if (text == "plain") return InputLayout::plain;
  if (text == "nexus") return InputLayout::nexus;
  if (text == "cxi") return InputLayout::cxi;
  if (text == "ptychoshelves") return InputLayout::ptychoshelves;
  throw UsageError("--layout '" + text + "' is not one of auto, plain, nexus, cxi, ptychoshelves");
}

const char* input_layout_name(InputLayout layout) {
  switch (layout) {
    case InputLayout::automatic:
      return "auto";
    case InputLayout::plain:
      return "plain";
    case InputLayout::nexus:
      return "nexus";
    case InputLayout::cxi:
      return "cxi";
    case InputLayout::ptychoshelves:
      return "ptychoshelves";
  }
  return "unknown";
}

std::string ptychoshelves_para_file(const std::string& dp_file) {
  for (const std::string suffix : {"_dp.hdf5", "_dp.h5"}) {
    if (dp_file.size() > suffix.size() && dp_file.compare(dp_file.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return dp_file.substr(0, dp_file.size() - suffix.size()) + "_para" + suffix.substr(3);
    }
  }
  return {};
}

namespace {

constexpr const char* kNexusData = "/entry/data";
constexpr const char* kNexusDetector = "/entry/instrument/detector";
const std::vector<std::string> kCxiStacks{"/entry_1/data_1/data", "/entry_1/instrument_1/detector_1/data"};
constexpr const char* kCxiMask = "/entry_1/instrument_1/detector_1/mask";

// "data_000001" … : the NXmx names of the per-file frame blocks.
bool is_nexus_block_name(const std::string& name) {
  if (name.size() != 11 || name.compare(0, 5, "data_") != 0) return false;
  return std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

herr_t collect_link_name(hid_t, const char* name, const H5L_info_t*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

// The data_NNNNNN links of /entry/data in name order (zero-padded, so name order is file order).
std::vector<std::string> nexus_blocks(hid_t file) {
  std::vector<std::string> blocks;
  if (!h5::object_exists(file, kNexusData)) return blocks;
  h5::Handle group = h5::checked(H5Gopen2(file, kNexusData, H5P_DEFAULT), "cannot open /entry/data");
  std::vector<std::string> names;
  hsize_t index = 0;
  h5::check(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_link_name, &names),
            "cannot list /entry/data");
  for (const auto& name : names) {
    if (is_nexus_block_name(name)) blocks.push_back(std::string(kNexusData) + "/" + name);
  }
  std::sort(blocks.begin(), blocks.end());
  return blocks;
}

// A scalar number, or `fallback` when the dataset is absent or not a number.
double read_scalar(hid_t file, const std::string& path, double fallback) {
  if (!h5::is_dataset(file, path)) return fallback;
  h5::Handle dataset = h5::checked(H5Dopen2(file, path.c_str(), H5P_DEFAULT), "cannot open " + path);
  h5::Handle type = h5::checked(H5Dget_type(dataset.get()), "cannot read the type of " + path);
  const H5T_class_t type_class = H5Tget_class(type.get());
  if ((type_class != H5T_INTEGER && type_class != H5T_FLOAT) || h5::dataset_dims(dataset.get()).size() > 1 ||
      H5Sget_simple_extent_npoints(h5::Handle(H5Dget_space(dataset.get())).get()) != 1) {
    return fallback;
  }
  double value = fallback;
  h5::check(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), "cannot read " + path);
  return value;
}

std::string first_dataset(hid_t file, const std::vector<std::string>& candidates) {
  for (const auto& path : candidates) {
    if (h5::is_dataset(file, path)) return path;
  }
  return {};
}

InputLayout detect(hid_t file) {
  if (!nexus_blocks(file).empty()) return InputLayout::nexus;
  if (h5::object_exists(file, "/cxi_version") || !first_dataset(file, kCxiStacks).empty()) return InputLayout::cxi;
  if (h5::is_dataset(file, "/dp")) return InputLayout::ptychoshelves;
  return InputLayout::plain;
}

herr_t collect_child(hid_t, const char* name, const H5L_info_t*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

// The `data` of the first NXmonitor group directly under `parent` (in name order); empty: none.
std::string nxmonitor_data(hid_t file, const std::string& parent) {
  if (!h5::object_exists(file, parent)) return {};
  h5::Handle group = h5::checked(H5Oopen(file, parent.c_str(), H5P_DEFAULT), "cannot open " + parent);
  if (H5Iget_type(group.get()) != H5I_GROUP) return {};
  std::vector<std::string> names;
  hsize_t index = 0;
  h5::check(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_child, &names),
            "cannot list " + parent);
  for (const auto& name : names) {
    const std::string path = parent + "/" + name;
    if (!h5::object_exists(file, path) || !h5::is_dataset(file, path + "/data")) continue;
    h5::Handle child = h5::checked(H5Oopen(file, path.c_str(), H5P_DEFAULT), "cannot open " + path);
    if (h5::read_string_attribute(child.get(), "NX_class").value_or("") == "NXmonitor") return path + "/data";
  }
  return {};
}

std::string joined(const std::vector<std::string>& paths) {
  std::string text;
  for (const auto& path : paths) text += (text.empty() ? "" : ", ") + path;
  return text;
}

}  // namespace

InputDescription describe_input(hid_t file, const std::string& file_path, InputLayout requested,
                                const std::string& dataset) {
  InputDescription input;
  input.layout = requested == InputLayout::automatic ? detect(file) : requested;
  const std::string layout_name = input_layout_name(input.layout);
  const auto missing = [&](const std::string& tried) {
    return InputError("no pattern stack in '" + file_path + "' (tried " + tried + ") for --layout " + layout_name +
                      "; name it with --dataset");
  };
  switch (input.layout) {
    case InputLayout::nexus: {
      input.stack_paths = nexus_blocks(file);
      if (input.stack_paths.empty() && dataset.empty()) throw missing("/entry/data/data_000001, …");
      for (const std::string mask : {"/pixel_mask", "/detectorSpecific/pixel_mask"}) {
        if (h5::is_dataset(file, kNexusDetector + mask)) {
          input.mask_path = kNexusDetector + mask;
          break;
        }
      }
      const double depth = read_scalar(file, std::string(kNexusDetector) + "/bit_depth_image",
                                       read_scalar(file, std::string(kNexusDetector) + "/bit_depth_readout", 0.0));
      if (depth >= 1 && depth <= 64) input.bit_depth = static_cast<int>(depth);
      const double nan = std::nan("");
      input.beam_center_x = read_scalar(file, std::string(kNexusDetector) + "/beam_center_x", nan);
      input.beam_center_y = read_scalar(file, std::string(kNexusDetector) + "/beam_center_y", nan);
      input.has_beam_center = std::isfinite(input.beam_center_x) && std::isfinite(input.beam_center_y);
      if (input.has_beam_center && input.beam_center_x == 0.0 && input.beam_center_y == 0.0) {
        // Detector writers leave (0, 0) when nobody set it: a beam on the corner pixel is not a centre.
        input.has_beam_center = false;
        input.beam_center_note = "(0, 0) in the file looks unset";
      }
      input.monitor_path = nxmonitor_data(file, "/entry");
      break;
    }
    case InputLayout::cxi: {
      const std::string stack = first_dataset(file, kCxiStacks);
      if (stack.empty() && dataset.empty()) throw missing(joined(kCxiStacks));
      if (!stack.empty()) input.stack_paths = {stack};
      if (h5::is_dataset(file, kCxiMask)) input.mask_path = kCxiMask;
      input.monitor_path = nxmonitor_data(file, "/entry_1/instrument_1");
      if (input.monitor_path.empty() && h5::is_dataset(file, "/entry_1/instrument_1/monitor/data")) {
        input.monitor_path = "/entry_1/instrument_1/monitor/data";
      }
      break;
    }
    case InputLayout::ptychoshelves: {
      if (!h5::is_dataset(file, "/dp") && dataset.empty()) throw missing("/dp");
      input.stack_paths = {"/dp"};
      if (h5::is_dataset(file, "/monitor")) input.monitor_path = "/monitor";
      const std::string para = ptychoshelves_para_file(file_path);
      if (!para.empty() && access(para.c_str(), F_OK) == 0) {
        input.positions_file = para;
        input.positions_x = "/ppX";
        input.positions_y = "/ppY";
      }
      break;
    }
    case InputLayout::plain:
    case InputLayout::automatic: {
      const std::vector<std::string> defaults{"/data", "/entry/data/data", "/entry_1/data_1/data", "/dp"};
      const std::string stack = first_dataset(file, defaults);
      if (stack.empty() && dataset.empty()) throw missing(joined(defaults));
      if (!stack.empty()) input.stack_paths = {stack};
      if (h5::is_dataset(file, "/pixel_mask")) input.mask_path = "/pixel_mask";
      if (h5::is_dataset(file, "/monitor")) input.monitor_path = "/monitor";
      break;
    }
  }
  if (!dataset.empty()) input.stack_paths = {dataset};
  return input;
}

}  // namespace ptyroi
