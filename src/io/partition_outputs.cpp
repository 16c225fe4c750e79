#include "ptyroi/io/partition_outputs.hpp"

#include <algorithm>

namespace ptyroi {

RoiOutput partition_output(const RoiOutput& output, int part, int parts) {
  std::size_t digits = 1;
  for (int n = parts - 1; n >= 10; n /= 10) ++digits;
  std::string number = std::to_string(part);
  number.insert(0, digits > number.size() ? digits - number.size() : 0, '0');
  const std::string tag = "_part" + number;
  RoiOutput result = output;
  // Before the longest suffix a format strips (so that its own naming still applies), else at the end.
  const std::string& path = output.path;
  const std::size_t name = path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1;
  std::size_t cut = path.size();
  for (const std::string suffix : {"_dp.hdf5", ".hdf5", ".h5", ".cxi", ".npz", ".nxs"}) {
    if (path.size() >= name + suffix.size() + 1 &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      cut = path.size() - suffix.size();
      break;
    }
  }
  result.path = path.substr(0, cut) + tag + path.substr(cut);
  return result;
}

RoiResult partition_result(const RoiResult& result, const ScanPartitions& partitions, int part) {
  RoiResult view = result;
  std::vector<std::uint8_t> in_part(partitions.label.size(), 0);
  const auto p = static_cast<std::size_t>(part);
  for (const std::uint64_t k : partitions.core[p]) in_part[k] = 1;
  for (const std::uint64_t k : partitions.halo_of[p]) in_part[k] = 1;
  view.local_mask.assign(in_part.begin() + static_cast<std::ptrdiff_t>(result.local.begin),
                         in_part.begin() + static_cast<std::ptrdiff_t>(result.local.end));
  view.local_selected.clear();
  for (std::uint64_t k = result.local.begin; k < result.local.end; ++k) {
    if (in_part[k] != 0) view.local_selected.push_back(k);
  }
  view.roi_frames = static_cast<std::int64_t>(partitions.core[p].size() + partitions.halo_of[p].size());
  return view;
}

std::vector<PendingOutput> write_partition_outputs(const RoiOutput& output, const RoiResult& result,
                                                   const ScanPartitions& partitions, const ScanPositions& positions,
                                                   const PixelSelection& pixels, const FrameSource& source,
                                                   hid_t pattern_type, RoiRecordInfo info,
                                                   const std::vector<std::string>& inputs, MPI_Comm comm,
                                                   const std::function<void(const char*)>& on_phase) {
  std::vector<PendingOutput> pending;
  info.partitions = &partitions;
  for (int part = 0; part < partitions.parts; ++part) {
    info.partition = part;
    std::vector<PendingOutput> files =
        write_roi(partition_output(output, part, partitions.parts), partition_result(result, partitions, part),
                  positions, pixels, source, pattern_type, info, inputs, comm, on_phase);
    for (PendingOutput& file : files) pending.push_back(std::move(file));
  }
  return pending;
}

}  // namespace ptyroi
