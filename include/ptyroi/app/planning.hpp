#pragma once
// What the program plans on a scan's RoI besides selecting it (issue 17): the border grown by the
// probe's radius (--border auto, core/probe_estimate.hpp), a fine scan of the RoI region (--plan,
// core/fine_scan_plan.hpp) and its split into partitions for a distributed reconstruction
// (--partitions, core/scan_partitions.hpp), from the options.
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptyroi/app/options.hpp"
#include "ptyroi/core/find_roi.hpp"
#include "ptyroi/core/fine_scan_plan.hpp"
#include "ptyroi/core/probe_estimate.hpp"
#include "ptyroi/core/scan_partitions.hpp"
#include "ptyroi/io/instrument.hpp"

namespace ptyroi {

// --border auto: the probe measured and the border it makes.
struct ProbeBorder {
  BrightFieldDisc disc;  // in the mean of the sampled frames (analysed frames)
  std::uint64_t sampled_frames = 0;
  double wavelength_m = 0.0, distance_m = 0.0, pixel_size_m = 0.0;
  double semi_angle_rad = 0.0;  // α = atan(a p / z)
  double radius_m = 0.0;        // r₀ = 0.61 λ / sin α
  double step_m = 0.0;          // the scan step the border counts
  int steps = 0;                // ⌈r₀ / step − ½⌉
};

// After the RoI: the plan and the partitions (each when asked for), the whole mask they were made
// from, and what making them cost.
struct Planning {
  std::vector<std::uint8_t> mask;  // the RoI of every frame (gathered); empty when nothing was planned
  std::vector<double> x, y;        // every frame's position the plan and partitions were made on
  std::string unit = "m";          // theirs: "m", or "steps" for the cells of a --grid without positions
  std::optional<FineScanPlan> plan;
  std::optional<ScanPartitions> partitions;
  double boundary_fraction = 0.0;          // partitions: frames with another part within 1.5 steps
  double stripes_boundary_fraction = 0.0;  // the same for stripes of rows (the comparison)
  double seconds = 0.0;
};

// Before any frame is read: whether the positions and the instrument give what --border auto,
// --plan and --partitions need. Throws UsageError naming the option and what is missing, e.g.
// "--border auto needs the photon energy: the input has none, give --energy KEV". Rank-local,
// identical on every rank.
void check_planning_needs(const Options& options, const ScanPositions& positions, const InstrumentMetadata& instrument);

// --border auto: reads a sample of frames (collective) and measures the probe; the border in steps
// of the scan's neighbourhood (built here from the positions). Throws InputError when the mean
// pattern shows no measurable disc, UsageError when the border would reach beyond the scan.
ProbeBorder estimate_probe_border(const FrameSource& source, const PixelSelection& pixels, const ScanInput& scan,
                                  const InstrumentMetadata& instrument, const RoiParameters& parameters, MPI_Comm comm);

// After find_roi: the fine-scan plan and the partitions the options ask for, on every rank (the
// mask is gathered, collective). `positions`: every frame's, or this rank's share of a --grid's
// cells (then every frame's cell is taken from the result's raster). Throws identically on every rank (e.g.
// --partitions larger than the RoI).
Planning plan_roi(const Options& options, const ScanPositions& positions, const RoiResult& result, MPI_Comm comm);

// The halo distance of --partitions: --halo, or 2 scan steps (in the positions' unit; a --grid
// without positions counts in steps of 1).
double partition_halo(const Options& options, const RoiResult& result);

}  // namespace ptyroi
