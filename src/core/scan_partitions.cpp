#include "ptyroi/core/scan_partitions.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "point_tree.hpp"
#include "ptyroi/core/error.hpp"

namespace ptyroi {

std::uint64_t ScanPartitions::smallest() const {
  std::uint64_t n = core.empty() ? 0 : core.front().size();
  for (const auto& part : core) n = std::min<std::uint64_t>(n, part.size());
  return n;
}

std::uint64_t ScanPartitions::largest() const {
  std::uint64_t n = 0;
  for (const auto& part : core) n = std::max<std::uint64_t>(n, part.size());
  return n;
}

std::uint64_t ScanPartitions::halo_frames() const {
  std::uint64_t n = 0;
  for (const auto& part : halo_of) n += part.size();
  return n;
}

namespace {

void check_positions(const std::vector<double>& x, const std::vector<double>& y, std::size_t frames) {
  if (x.size() != frames || y.size() != frames) {
    throw UsageError("partitions: " + std::to_string(x.size()) + " x and " + std::to_string(y.size()) +
                     " y positions for " + std::to_string(frames) + " frames");
  }
  for (std::size_t k = 0; k < frames; ++k) {
    if (!std::isfinite(x[k]) || !std::isfinite(y[k])) {
      throw UsageError("partitions: position " + std::to_string(k) + " is not finite");
    }
  }
}

// Cuts frames[begin, end) into parts [first_part, first_part + parts), whose shares are `share`.
void bisect(const std::vector<double>& x, const std::vector<double>& y, std::vector<std::uint64_t>& frames,
            std::size_t begin, std::size_t end, int first_part, int parts, const std::vector<std::uint64_t>& share,
            std::vector<std::int32_t>& label) {
  if (parts == 1) {
    for (std::size_t i = begin; i < end; ++i) label[frames[i]] = first_part;
    return;
  }
  const int lower_parts = parts / 2;
  std::size_t lower = 0;
  for (int p = first_part; p < first_part + lower_parts; ++p) lower += share[static_cast<std::size_t>(p)];
  double x0 = x[frames[begin]], x1 = x0, y0 = y[frames[begin]], y1 = y0;
  for (std::size_t i = begin; i < end; ++i) {
    x0 = std::min(x0, x[frames[i]]);
    x1 = std::max(x1, x[frames[i]]);
    y0 = std::min(y0, y[frames[i]]);
    y1 = std::max(y1, y[frames[i]]);
  }
  const bool along_x = x1 - x0 >= y1 - y0;
  const std::vector<double>& a = along_x ? x : y;
  const std::vector<double>& b = along_x ? y : x;
  const auto first = frames.begin() + static_cast<std::ptrdiff_t>(begin);
  // Only the cut matters: the frames before it, in any order, then the rest.
  std::nth_element(first, first + static_cast<std::ptrdiff_t>(lower), frames.begin() + static_cast<std::ptrdiff_t>(end),
                   [&](std::uint64_t f, std::uint64_t g) {
                     if (a[f] != a[g]) return a[f] < a[g];
                     if (b[f] != b[g]) return b[f] < b[g];
                     return f < g;
                   });
  bisect(x, y, frames, begin, begin + lower, first_part, lower_parts, share, label);
  bisect(x, y, frames, begin + lower, end, first_part + lower_parts, parts - lower_parts, share, label);
}

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// The labelled frames (label >= 0) and their positions, in frame order.
struct LabelledPoints {
  std::vector<std::uint64_t> frames;
  std::vector<double> x, y;
};
LabelledPoints labelled_points(const std::vector<double>& x, const std::vector<double>& y,
                               const std::vector<std::int32_t>& label) {
  LabelledPoints points;
  for (std::size_t k = 0; k < label.size(); ++k) {
    if (label[k] < 0) continue;
    points.frames.push_back(k);
    points.x.push_back(x[k]);
    points.y.push_back(y[k]);
  }
  return points;
}

}  // namespace

std::vector<std::vector<std::uint64_t>> partition_halos(const std::vector<double>& x, const std::vector<double>& y,
                                                        const std::vector<std::int32_t>& label, int parts,
                                                        double halo) {
  std::vector<std::vector<std::uint64_t>> halos(static_cast<std::size_t>(std::max(parts, 0)));
  const LabelledPoints points = labelled_points(x, y, label);
  const std::vector<std::uint64_t>& labelled = points.frames;
  const std::vector<double>&u = points.x, &v = points.y;
  const detail::PointTree tree(u, v);
  // Frame f is in the halo of every other part with a frame within `halo` of it.
  std::vector<std::int32_t> seen;
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    const std::uint64_t f = labelled[i];
    seen.clear();
    for (const std::uint32_t j : tree.within(u[i], v[i], halo)) {
      const std::int32_t part = label[labelled[j]];
      if (part != label[f] && std::find(seen.begin(), seen.end(), part) == seen.end()) seen.push_back(part);
    }
    for (const std::int32_t part : seen) halos[static_cast<std::size_t>(part)].push_back(f);
  }
  return halos;  // ascending: frames were visited in order
}

ScanPartitions partition_roi(const std::vector<double>& x, const std::vector<double>& y,
                             const std::vector<std::uint8_t>& mask, int parts, double halo) {
  check_positions(x, y, mask.size());
  std::vector<std::uint64_t> frames;
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] != 0) frames.push_back(k);
  }
  if (parts < 1) throw UsageError("--partitions " + std::to_string(parts) + " is out of range; expected 1 or more");
  if (frames.size() < static_cast<std::size_t>(parts)) {
    throw UsageError("--partitions " + std::to_string(parts) + " needs at least as many RoI frames; the RoI has " +
                     std::to_string(frames.size()));
  }
  if (!(halo >= 0.0) || !std::isfinite(halo)) {
    throw UsageError("--halo " + number(halo) + " is not a distance (expected 0 or more metres)");
  }
  ScanPartitions result;
  result.parts = parts;
  result.halo = halo;
  result.label.assign(mask.size(), -1);
  std::vector<std::uint64_t> share(static_cast<std::size_t>(parts), frames.size() / static_cast<std::size_t>(parts));
  for (std::size_t p = 0; p < frames.size() % static_cast<std::size_t>(parts); ++p) ++share[p];
  bisect(x, y, frames, 0, frames.size(), 0, parts, share, result.label);
  result.core.resize(static_cast<std::size_t>(parts));
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (result.label[k] >= 0) result.core[static_cast<std::size_t>(result.label[k])].push_back(k);
  }
  result.halo_of = partition_halos(x, y, result.label, parts, halo);
  return result;
}

std::vector<std::int32_t> row_stripes(const std::vector<double>& x, const std::vector<double>& y,
                                      const std::vector<std::uint8_t>& mask, int parts) {
  check_positions(x, y, mask.size());
  std::vector<std::uint64_t> frames;
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] != 0) frames.push_back(k);
  }
  std::sort(frames.begin(), frames.end(), [&](std::uint64_t f, std::uint64_t g) {
    if (y[f] != y[g]) return y[f] < y[g];
    if (x[f] != x[g]) return x[f] < x[g];
    return f < g;
  });
  std::vector<std::int32_t> label(mask.size(), -1);
  const std::size_t n = frames.size();
  for (int p = 0; p < parts; ++p) {
    const std::size_t begin = n * static_cast<std::size_t>(p) / static_cast<std::size_t>(parts);
    const std::size_t end = n * static_cast<std::size_t>(p + 1) / static_cast<std::size_t>(parts);
    for (std::size_t i = begin; i < end; ++i) label[frames[i]] = p;
  }
  return label;
}

double boundary_fraction(const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<std::int32_t>& label, double radius) {
  const LabelledPoints points = labelled_points(x, y, label);
  const std::vector<std::uint64_t>& labelled = points.frames;
  const std::vector<double>&u = points.x, &v = points.y;
  if (labelled.empty()) return 0.0;
  const detail::PointTree tree(u, v);
  std::size_t boundary = 0;
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    for (const std::uint32_t j : tree.within(u[i], v[i], radius)) {
      if (label[labelled[j]] != label[labelled[i]]) {
        ++boundary;
        break;
      }
    }
  }
  return static_cast<double>(boundary) / static_cast<double>(labelled.size());
}

}  // namespace ptyroi
