#pragma once
// What instruments write: where a file keeps its frames, its own pixel mask, the detector's flag
// value and beam centre, and its positions. Layouts are told apart by content:
//   nexus          NXmx master (DECTRIS Eiger/ARINA): /entry/data/data_000001, … external links
//   cxi            /entry_1/data_1/data or /entry_1/instrument_1/detector_1/data
//   ptychoshelves  /dp, positions /ppX, /ppY in the sibling <prefix>_para.hdf5
//   plain          /data (or /entry/data/data), positions /positions_x, /positions_y
#include <hdf5.h>

#include <string>
#include <vector>

namespace ptyroi {

enum class InputLayout { automatic, plain, nexus, cxi, ptychoshelves };

// Parses --layout (auto|plain|nexus|cxi|ptychoshelves); throws UsageError naming the option.
InputLayout parse_input_layout(const std::string& text);
const char* input_layout_name(InputLayout layout);

struct InputDescription {
  InputLayout layout = InputLayout::plain;
  std::vector<std::string> stack_paths;  // datasets whose frames are concatenated, in this order
  std::string mask_path;                 // the file's own [N, M] mask (non-zero = bad); empty: none
  int bit_depth = 0;                     // NXmx bit_depth_image: 2^bit_depth − 1 flags a bad pixel; 0: none
  bool has_beam_center = false;
  double beam_center_x = 0.0, beam_center_y = 0.0;  // pixels, from the file's metadata
  std::string positions_file;                       // where the default positions live (the sibling _para file)
  std::string positions_x, positions_y;             // their default dataset paths; empty: the reader's defaults
  std::string monitor_path;      // per-frame incident flux [K] (an NXmonitor's data, plain /monitor); empty: none
  std::string beam_center_note;  // why the file's beam centre is not used (e.g. "(0, 0) looks unset"); empty: fine
};

// The sibling positions file of fold_slice prepared data: "<prefix>_dp.hdf5" → "<prefix>_para.hdf5";
// empty when the name does not follow that pattern.
std::string ptychoshelves_para_file(const std::string& dp_file);

// Looks at an open file. `requested` automatic: detect; otherwise check that the file has that
// layout's stack. A non-empty `dataset` replaces the layout's stack paths. Throws InputError
// naming the file when it has no stack where the layout keeps it.
InputDescription describe_input(hid_t file, const std::string& file_path, InputLayout requested,
                                const std::string& dataset);

}  // namespace ptyroi
