#include "ptyroi/app/planning.hpp"

#include <cmath>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/roi_region.hpp"

namespace ptyroi {

namespace {

std::string positions_unit_text(const ScanPositions& positions) {
  if (positions.empty()) return "there are none (the frames are placed by --grid)";
  if (positions.unit == "steps") return "they are --grid cells, not metres";
  if (positions.unit == "px") return "they are pixels without a size (give --positions-pixel-size)";
  return "they are in " + positions.unit;
}

}  // namespace

void check_planning_needs(const Options& o, const ScanPositions& positions, const InstrumentMetadata& instrument) {
  const bool metric = !positions.empty() && positions.unit == "m";
  if (o.border_auto) {
    if (!metric) throw UsageError("--border auto needs scan positions in metres: " + positions_unit_text(positions));
    if (!instrument.has_energy()) {
      throw UsageError("--border auto needs the photon energy: the input has none, give --energy KEV");
    }
    if (!instrument.distance) {
      throw UsageError("--border auto needs the sample-detector distance: the input has none, give --distance M");
    }
    if (!instrument.has_pixel_size()) {
      throw UsageError("--border auto needs the detector pixel size: the input has none, give --pixel-size M");
    }
  }
  if (!o.plan_file.empty() && !metric) {
    throw UsageError("--plan needs scan positions in metres: " + positions_unit_text(positions));
  }
  if (o.partitions > 0 && o.halo_m >= 0.0 && !metric) {
    throw UsageError("--halo is a distance in metres, but the scan positions are not: " +
                     positions_unit_text(positions) + "; leave --halo out for 2 scan steps");
  }
}

ProbeBorder estimate_probe_border(const FrameSource& source, const PixelSelection& pixels, const ScanInput& scan,
                                  const InstrumentMetadata& instrument, const RoiParameters& parameters,
                                  MPI_Comm comm) {
  ProbeBorder border;
  const MeanPattern mean = sampled_mean_pattern(source, pixels, comm);
  border.sampled_frames = mean.frames;
  border.wavelength_m = *instrument.wavelength_m();
  border.distance_m = instrument.distance->value;
  // Square pixels are the rule; for others the disc is measured in pixels of their mean size.
  border.pixel_size_m = std::sqrt(instrument.pixel_size_x->value * instrument.pixel_size_y->value);
  RoiParameters plain = parameters;
  plain.border_steps = 0;
  const std::shared_ptr<const ScanNeighbourhood> neighbourhood = scan_neighbourhood(scan, source.frames(), plain, comm);
  // Identical on every rank: the same mean pattern and positions.
  mpi::run_phase(comm, [&] {
    border.disc = bright_field_disc(mean.values, mean.rows, mean.cols, mean.good);
    border.semi_angle_rad = std::atan(border.disc.radius * border.pixel_size_m / border.distance_m);
    border.radius_m =
        focused_probe_radius(border.disc.radius, border.pixel_size_m, border.distance_m, border.wavelength_m);
    border.step_m = neighbourhood->step();
    border.steps = border_steps_for_radius(border.radius_m, border.step_m);
    if (!neighbourhood->border_fits(border.steps)) {
      std::ostringstream text;
      text << "--border auto: the probe radius " << border.radius_m << " m is a border of " << border.steps
           << " scan steps of " << border.step_m << " m, which reaches beyond the scan";
      throw UsageError(text.str());
    }
  });
  return border;
}

double partition_halo(const Options& o, const RoiResult& result) {
  if (o.halo_m >= 0.0) return o.halo_m;
  const double step = result.neighbourhood->step();
  return 2.0 * (step > 0.0 ? step : 1.0);
}

Planning plan_roi(const Options& o, const ScanPositions& positions, const RoiResult& result, MPI_Comm comm) {
  Planning planning;
  if (o.plan_file.empty() && o.partitions == 0) return planning;
  const double start = MPI_Wtime();
  planning.mask = gather_frames(result.local_mask, comm);
  if (positions.first_frame == 0 && positions.size() == result.frames) {
    planning.x = positions.x;
    planning.y = positions.y;
    planning.unit = positions.unit;
  } else {
    // A --grid without positions: every frame's column and row, in steps.
    const ScanGrid& grid = result.neighbourhood->grid();
    for (std::uint64_t k = 0; k < result.frames; ++k) {
      planning.x.push_back(static_cast<double>(grid.cell(k) % grid.shape.cols));
      planning.y.push_back(static_cast<double>(grid.cell(k) / grid.shape.cols));
    }
    planning.unit = "steps";
  }
  const std::vector<double>& x = planning.x;
  const std::vector<double>& y = planning.y;
  mpi::run_phase(comm, [&] {
    if (!o.plan_file.empty()) {
      const RoiRegion region = RoiRegion::of_scan(x, y, planning.mask, *result.neighbourhood);
      planning.plan = plan_fine_scan(region, o.plan_step_m, parse_plan_pattern(o.plan_pattern));
    }
    if (o.partitions > 0) {
      planning.partitions = partition_roi(x, y, planning.mask, o.partitions, partition_halo(o, result));
      const double step = result.neighbourhood->step() > 0.0 ? result.neighbourhood->step() : 1.0;
      planning.boundary_fraction = boundary_fraction(x, y, planning.partitions->label, 1.5 * step);
      planning.stripes_boundary_fraction =
          boundary_fraction(x, y, row_stripes(x, y, planning.mask, o.partitions), 1.5 * step);
    }
  });
  planning.seconds = mpi::all_max(comm, MPI_Wtime() - start);
  return planning;
}

}  // namespace ptyroi
