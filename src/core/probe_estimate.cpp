#include "ptyroi/core/probe_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/frame_window.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"

namespace ptyroi {

namespace {

std::string number(double value) {
  std::ostringstream text;
  text.precision(4);
  text << value;
  return text.str();
}

constexpr double kRing = 0.5;  // pixels: the radial profile's ring width

}  // namespace

BrightFieldDisc bright_field_disc(const std::vector<double>& pattern, std::size_t rows, std::size_t cols,
                                  const std::vector<std::uint8_t>& good) {
  if (pattern.size() != rows * cols || (!good.empty() && good.size() != rows * cols)) {
    throw UsageError("bright-field disc: the pattern has " + std::to_string(pattern.size()) + " pixels, not " +
                     std::to_string(rows) + "x" + std::to_string(cols));
  }
  const auto usable = [&](std::size_t p) { return (good.empty() || good[p] != 0) && std::isfinite(pattern[p]); };
  double level = 0.0;
  for (std::size_t p = 0; p < pattern.size(); ++p) {
    if (usable(p)) level = std::max(level, pattern[p]);
  }
  if (!(level > 0.0)) {
    throw InputError("the sampled frames have no signal: no bright-field disc to measure the probe by");
  }
  const std::size_t rings = static_cast<std::size_t>(std::hypot(rows, cols) / kRing) + 2;
  std::vector<double> ring_sum(rings), ring_distance(rings);
  std::vector<std::size_t> ring_count(rings);
  BrightFieldDisc disc;
  double previous = -1.0;
  for (int iteration = 0; iteration < 20; ++iteration) {
    // The centroid of the pixels above half the level.
    double sx = 0.0, sy = 0.0, n = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        const std::size_t p = r * cols + c;
        if (!usable(p) || pattern[p] < level / 2) continue;
        sx += static_cast<double>(c);
        sy += static_cast<double>(r);
        n += 1.0;
      }
    }
    if (n == 0.0) break;  // cannot happen: the level is at most the brightest pixel
    disc.centre_x = sx / n;
    disc.centre_y = sy / n;
    // The radial profile: mean value and mean distance of the pixels in each ring.
    std::fill(ring_sum.begin(), ring_sum.end(), 0.0);
    std::fill(ring_distance.begin(), ring_distance.end(), 0.0);
    std::fill(ring_count.begin(), ring_count.end(), 0);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        const std::size_t p = r * cols + c;
        if (!usable(p)) continue;
        const double d = std::hypot(static_cast<double>(c) - disc.centre_x, static_cast<double>(r) - disc.centre_y);
        const auto ring = std::min(static_cast<std::size_t>(d / kRing), rings - 1);
        ring_sum[ring] += pattern[p];
        ring_distance[ring] += d;
        ++ring_count[ring];
      }
    }
    // The outermost ring at or above half the level, and the next ring that has pixels.
    std::size_t inside = rings;
    for (std::size_t ring = rings; ring-- > 0;) {
      if (ring_count[ring] > 0 && ring_sum[ring] / static_cast<double>(ring_count[ring]) >= level / 2) {
        inside = ring;
        break;
      }
    }
    std::size_t outside = inside + 1;
    while (outside < rings && ring_count[outside] == 0) ++outside;
    if (inside == rings || outside >= rings) {
      throw InputError(
          "the mean pattern stays above half its bright-field level out to the frame's corners: no "
          "bright-field disc edge to measure the probe by");
    }
    const double v0 = ring_sum[inside] / static_cast<double>(ring_count[inside]);
    const double v1 = ring_sum[outside] / static_cast<double>(ring_count[outside]);
    const double d0 = ring_distance[inside] / static_cast<double>(ring_count[inside]);
    const double d1 = ring_distance[outside] / static_cast<double>(ring_count[outside]);
    disc.radius = v0 > v1 ? d0 + (v0 - level / 2) / (v0 - v1) * (d1 - d0) : d0;
    disc.level = level;
    if (std::abs(disc.radius - previous) < 1e-6) break;
    previous = disc.radius;
    // The plateau: the median of the pixels within 0.6 a of the centre.
    std::vector<double> plateau;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        const std::size_t p = r * cols + c;
        if (!usable(p)) continue;
        if (std::hypot(static_cast<double>(c) - disc.centre_x, static_cast<double>(r) - disc.centre_y) <=
            0.6 * disc.radius) {
          plateau.push_back(pattern[p]);
        }
      }
    }
    if (plateau.empty()) break;
    const auto middle = plateau.begin() + static_cast<std::ptrdiff_t>(plateau.size() / 2);
    std::nth_element(plateau.begin(), middle, plateau.end());
    if (!(*middle > 0.0)) break;
    level = *middle;
  }
  // The whole disc must be on the detector: its edge at least a pixel inside every side.
  const double room = std::min({disc.centre_x + 0.5, static_cast<double>(cols) - 0.5 - disc.centre_x,
                                disc.centre_y + 0.5, static_cast<double>(rows) - 0.5 - disc.centre_y});
  if (disc.radius + 1.0 > room) {
    throw InputError("the bright-field disc of the mean pattern (radius " + number(disc.radius) + " px around (" +
                     number(disc.centre_x) + ", " + number(disc.centre_y) + ")) reaches the edge of the " +
                     std::to_string(cols) + "x" + std::to_string(rows) +
                     " analysed frame: it cannot be measured (a --crop too small?)");
  }
  if (disc.radius < 1.0) {
    throw InputError("the bright-field disc of the mean pattern is smaller than a pixel (radius " +
                     number(disc.radius) + " px): the probe cannot be measured from it");
  }
  return disc;
}

MeanPattern sampled_mean_pattern(const FrameSource& source, const PixelSelection& pixels, MPI_Comm comm,
                                 std::uint64_t sample) {
  const std::uint64_t frames = source.frames();
  const std::uint64_t count = std::min<std::uint64_t>(std::clamp<std::uint64_t>(sample, 1, 16384), frames);
  const FrameRange mine = partition_frames(frames, mpi::size(comm), mpi::rank(comm));
  const FrameWindow window = frame_window(pixels, source.rows(), source.cols());
  MeanPattern mean;
  mean.rows = window.analysed_rows();
  mean.cols = window.analysed_cols;
  mean.frames = count;
  mean.good.assign(mean.rows * mean.cols, 1);
  // Where each analysed pixel is stored.
  std::vector<std::size_t> stored(mean.rows * mean.cols);
  for (std::size_t r = 0; r < mean.rows; ++r) {
    for (const FrameWindow::Run& run : window.runs) {
      for (std::size_t c = 0; c < run.count; ++c) {
        stored[r * mean.cols + run.analysed_col + c] = window.rows[r] * window.stored_cols + run.stored_col + c;
      }
    }
  }
  if (!pixels.good_pixels.empty()) {
    for (std::size_t p = 0; p < stored.size(); ++p) mean.good[p] = pixels.good_pixels[stored[p]] != 0;
  }
  // Fixed point, 1/256 of a count: sums of ≤ 2^48 per frame over ≤ 2^14 frames fit in int64.
  constexpr double kScale = 256.0;
  constexpr double kLargest = 281474976710656.0;  // 2^48
  std::vector<std::int64_t> sums(stored.size(), 0);
  mpi::run_phase(comm, [&] {
    std::vector<double> buffer((source.frame_bytes() + sizeof(double) - 1) / sizeof(double));
    for (std::uint64_t i = 0; i < count; ++i) {
      // Frame i of the sample: the middle of the i-th of `count` equal parts of the scan.
      const std::uint64_t k = (2 * i + 1) * frames / (2 * count);
      if (k < mine.begin || k >= mine.end) continue;
      source.read_frames(k, 1, buffer.data());
      visit_pixel_type(source.pixel_type(), [&](auto pixel) {
        const auto* values = reinterpret_cast<const decltype(pixel)*>(buffer.data());
        for (std::size_t p = 0; p < stored.size(); ++p) {
          if (mean.good[p] == 0) continue;
          const auto value = static_cast<double>(values[stored[p]]);
          if (!std::isfinite(value) || value <= 0.0 || (pixels.has_max_valid && value > pixels.max_valid)) continue;
          sums[p] += static_cast<std::int64_t>(std::llround(std::min(value * kScale, kLargest)));
        }
      });
    }
  });
  mpi::all_sum(comm, sums);
  mean.values.resize(sums.size());
  for (std::size_t p = 0; p < sums.size(); ++p) {
    mean.values[p] = static_cast<double>(sums[p]) / kScale / static_cast<double>(std::max<std::uint64_t>(count, 1));
  }
  return mean;
}

double focused_probe_radius(double disc_radius_px, double pixel_size_m, double distance_m, double wavelength_m) {
  const double alpha = std::atan(disc_radius_px * pixel_size_m / distance_m);
  return 0.61 * wavelength_m / std::sin(alpha);
}

int border_steps_for_radius(double radius, double step) {
  if (!(radius > 0.0) || !(step > 0.0)) return 0;
  return std::max(0, static_cast<int>(std::ceil(radius / step - 0.5 - 1e-9)));
}

}  // namespace ptyroi
