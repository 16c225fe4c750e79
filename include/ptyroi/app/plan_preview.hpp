#pragma once
// `--preview DIR` with --plan or --partitions: two more PNGs, drawn at the positions' true place
// (axes in µm) over the RoI region (core/roi_region.hpp: each frame's cell, white outside the scan):
//   plan.png:       the fine-scan plan's points and stage path (start green, end red) over the RoI
//                   region, the coarse positions as dots;
//   partitions.png: each RoI frame's cell in its partition's colour, numbered, seams dark, and the
//                   halo of the partition nearest the RoI's centre ringed.
// Pure (no MPI, no HDF5): rank 0 calls it, into temporary files committed with the run's other
// outputs.
#include <string>
#include <vector>

#include "ptyroi/app/colormap.hpp"
#include "ptyroi/core/fine_scan_plan.hpp"
#include "ptyroi/core/roi_region.hpp"
#include "ptyroi/core/scan_partitions.hpp"

namespace ptyroi {

struct PlanPreviewInput {
  std::string title;                           // e.g. the input file name
  const RoiRegion* region = nullptr;           // the coarse scan and its RoI
  const FineScanPlan* plan = nullptr;          // plan.png when given
  const ScanPartitions* partitions = nullptr;  // partitions.png when given
  std::string unit = "m";                      // of the positions: "m" (axes in µm), else as given
};

// The images' file names: plan.png (with a plan), partitions.png (with partitions), in that order.
std::vector<std::string> plan_preview_file_names(bool plan, bool partitions);

// Draws the images into `paths` (one per plan_preview_file_names of the input, in that order; each
// file created or truncated), e.g. the temporaries of PendingOutputs. Throws IoError naming the file.
void render_plan_previews(const PlanPreviewInput& input, const std::vector<std::string>& paths);

// The colour of partition `part` of `parts`: the categorical palette for up to 7, else hues spaced
// by the golden angle (neighbouring numbers, which RCB makes neighbouring tiles, far apart in hue).
Rgb partition_colour(int part, int parts);

}  // namespace ptyroi
