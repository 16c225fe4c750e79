#include "ptyroi/core/fine_scan_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <sstream>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

const char* plan_pattern_name(PlanPattern pattern) { return pattern == PlanPattern::spiral ? "spiral" : "raster"; }

PlanPattern parse_plan_pattern(const std::string& text) {
  if (text == "raster") return PlanPattern::raster;
  if (text == "spiral") return PlanPattern::spiral;
  throw UsageError("--plan-pattern '" + text + "' is not one of raster, spiral");
}

double path_length(const std::vector<double>& x, const std::vector<double>& y) {
  double length = 0.0;
  for (std::size_t i = 1; i < x.size() && i < y.size(); ++i) length += std::hypot(x[i] - x[i - 1], y[i] - y[i - 1]);
  return length;
}

namespace {

constexpr double kPi = 3.14159265358979323846;

// One row's run of consecutive lattice points in the region: columns first..last of row `row`.
struct Run {
  std::int64_t row = 0, first = 0, last = 0;
};

struct Lattice {
  double x0 = 0.0, y0 = 0.0, step = 0.0;
  double x(std::int64_t column) const { return x0 + (static_cast<double>(column) + 0.5) * step; }
  double y(std::int64_t row) const { return y0 + (static_cast<double>(row) + 0.5) * step; }
};

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// The lattice columns of row j inside the field: [first, last] (empty when last < first).
std::pair<std::int64_t, std::int64_t> field_columns(const RoiRegion& region, const Lattice& lattice, std::int64_t j) {
  const auto extent = region.field_span(lattice.y(j));
  if (!extent) return {0, -1};
  const double h = lattice.step;
  const auto first =
      std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil((extent->first - lattice.x0) / h - 0.5)));
  const auto last = static_cast<std::int64_t>(std::floor((extent->second - lattice.x0) / h - 0.5));
  return {first, last};
}

// The region's lattice points as runs, row by row (ascending), and the field's lattice points.
std::vector<Run> lattice_runs(const RoiRegion& region, const Lattice& lattice, std::uint64_t max_field_points,
                              std::uint64_t& field_points) {
  const auto bounds = region.field_bounds();
  const double h = lattice.step;
  const double rows_bound = std::floor((bounds[3] - bounds[1]) / h) + 1.0;
  const double cols_bound = std::floor((bounds[2] - bounds[0]) / h) + 1.0;
  const auto too_many = [&](const std::string& count) {
    return UsageError("--plan-step " + number(h) +
                      " is too fine for this scan: a fine raster over its field would hold " + count +
                      " points (at most " + std::to_string(max_field_points) + ")");
  };
  // More rows than points allowed: certainly too many (and not worth counting).
  if (rows_bound > static_cast<double>(max_field_points)) throw too_many("about " + number(rows_bound * cols_bound));
  const auto rows = static_cast<std::int64_t>(rows_bound);
  field_points = 0;
  for (std::int64_t j = 0; j < rows; ++j) {
    const auto [first, last] = field_columns(region, lattice, j);
    if (last >= first) field_points += static_cast<std::uint64_t>(last - first + 1);
  }
  if (field_points > max_field_points) throw too_many(std::to_string(field_points));
  std::vector<Run> runs;
  for (std::int64_t j = 0; j < rows; ++j) {
    const auto [first, last] = field_columns(region, lattice, j);
    const double y = lattice.y(j);
    std::int64_t i = first;
    while (i <= last) {
      const double x = lattice.x(i);
      if (region.contains(x, y)) {
        if (!runs.empty() && runs.back().row == j && runs.back().last == i - 1) {
          runs.back().last = i;
        } else {
          runs.push_back({j, i, i});
        }
        ++i;
        continue;
      }
      // Outside: skip the points that cannot be inside (those nearer than the clearance).
      const double clearance = region.outside_clearance(x, y) * (1.0 - 1e-9);
      i += std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(clearance / h)));
    }
  }
  return runs;
}

// Union-find of runs touching from one row to the next (4-neighbour lattice connectivity).
std::vector<std::size_t> run_pieces(const std::vector<Run>& runs, std::size_t& pieces) {
  std::vector<std::size_t> parent(runs.size());
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  const auto find = [&](std::size_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  // Runs are sorted by (row, first): walk each row against the next with two pointers.
  std::size_t row_start = 0;
  while (row_start < runs.size()) {
    std::size_t row_end = row_start;
    while (row_end < runs.size() && runs[row_end].row == runs[row_start].row) ++row_end;
    std::size_t next_end = row_end;
    while (next_end < runs.size() && runs[next_end].row == runs[row_start].row + 1) ++next_end;
    std::size_t a = row_start, b = row_end;
    while (a < row_end && b < next_end) {
      if (runs[a].last >= runs[b].first && runs[b].last >= runs[a].first) {
        const std::size_t ra = find(a), rb = find(b);
        if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);
      }
      if (runs[a].last < runs[b].last) {
        ++a;
      } else {
        ++b;
      }
    }
    row_start = row_end;
  }
  std::vector<std::size_t> piece(runs.size());
  std::vector<std::size_t> number_of_root(runs.size(), std::numeric_limits<std::size_t>::max());
  pieces = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::size_t root = find(i);
    if (number_of_root[root] == std::numeric_limits<std::size_t>::max()) number_of_root[root] = pieces++;
    piece[i] = number_of_root[root];
  }
  return piece;
}

// Serpentine rows through each piece, pieces in nearest-corner order.
void serpentine(const std::vector<Run>& runs, const Lattice& lattice, FineScanPlan& plan) {
  std::size_t pieces = 0;
  const std::vector<std::size_t> piece_of = run_pieces(runs, pieces);
  plan.pieces = pieces;
  std::vector<std::vector<std::size_t>> members(pieces);  // run indices, ascending (row, first)
  for (std::size_t i = 0; i < runs.size(); ++i) members[piece_of[i]].push_back(i);
  // A piece's four ways in: from its bottom or top row, going right or left.
  struct Entry {
    bool from_top = false, leftward = false;
  };
  const auto start_of = [&](std::size_t p, Entry e) {
    const auto& m = members[p];
    const std::int64_t row = e.from_top ? runs[m.back()].row : runs[m.front()].row;
    std::int64_t column =
        e.leftward ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    for (const std::size_t r : m) {
      if (runs[r].row != row) continue;
      column = e.leftward ? std::max(column, runs[r].last) : std::min(column, runs[r].first);
    }
    return std::array<double, 2>{lattice.x(column), lattice.y(row)};
  };
  std::vector<bool> done(pieces, false);
  std::size_t current = 0;  // piece 0 holds the first run: the lowest row's leftmost point
  Entry entry;
  for (std::size_t visited = 0; visited < pieces; ++visited) {
    if (visited > 0) {
      const std::array<double, 2> here{plan.x.back(), plan.y.back()};
      double best = std::numeric_limits<double>::infinity();
      for (std::size_t p = 0; p < pieces; ++p) {
        if (done[p]) continue;
        for (const Entry e : {Entry{false, false}, Entry{false, true}, Entry{true, false}, Entry{true, true}}) {
          const auto s = start_of(p, e);
          const double d = std::hypot(s[0] - here[0], s[1] - here[1]);
          if (d < best) {
            best = d;
            current = p;
            entry = e;
          }
        }
      }
    }
    done[current] = true;
    // Rows of the piece in the chosen order, each row's runs in the current direction.
    std::vector<std::size_t> order = members[current];
    if (entry.from_top) {
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return runs[a].row > runs[b].row; });
    }
    bool leftward = entry.leftward;
    std::size_t i = 0;
    while (i < order.size()) {
      std::size_t end = i;
      while (end < order.size() && runs[order[end]].row == runs[order[i]].row) ++end;
      const double y = lattice.y(runs[order[i]].row);
      if (!leftward) {
        for (std::size_t r = i; r < end; ++r) {
          for (std::int64_t c = runs[order[r]].first; c <= runs[order[r]].last; ++c) {
            plan.x.push_back(lattice.x(c));
            plan.y.push_back(y);
          }
        }
      } else {
        for (std::size_t r = end; r-- > i;) {
          for (std::int64_t c = runs[order[r]].last; c >= runs[order[r]].first; --c) {
            plan.x.push_back(lattice.x(c));
            plan.y.push_back(y);
          }
        }
      }
      leftward = !leftward;
      i = end;
    }
  }
}

// An Archimedean spiral r = b·θ, b = step / 2π, from `centre` out to `reach`, a point every step
// of arc, kept where the region is.
void spiral(const RoiRegion& region, double step, std::array<double, 2> centre, double reach, FineScanPlan& plan) {
  const double b = step / (2.0 * kPi);
  const auto arc_rate = [b](double theta) { return std::sqrt(b * b * theta * theta + b * b); };  // ds/dθ
  double theta = 0.0;
  std::int64_t skip = 0;
  while (b * theta <= reach) {
    if (skip > 0) {
      --skip;
    } else {
      const double r = b * theta;
      const double x = centre[0] + r * std::cos(theta), y = centre[1] + r * std::sin(theta);
      if (region.contains(x, y)) {
        plan.x.push_back(x);
        plan.y.push_back(y);
      } else {
        // Every step moves at most `step` (a chord is shorter than its arc); a margin for the
        // arc-length integration's error.
        const double clearance = region.outside_clearance(x, y);
        skip = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(clearance / (1.05 * step))) - 1);
      }
    }
    // The next point one step of arc further: midpoint rule, refined.
    double dtheta = step / arc_rate(theta);
    for (int iteration = 0; iteration < 3; ++iteration) dtheta = step / arc_rate(theta + dtheta / 2.0);
    theta += dtheta;
  }
}

// The same points in typewriter order: rows `step` high (from the lowest point), each left to right.
double typewriter_length(const FineScanPlan& plan) {
  if (plan.x.empty()) return 0.0;
  const double y0 = *std::min_element(plan.y.begin(), plan.y.end());
  std::vector<std::size_t> order(plan.x.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto row = [&](std::size_t i) { return std::floor((plan.y[i] - y0) / plan.step + 1e-9); };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double ra = row(a), rb = row(b);
    return ra != rb ? ra < rb : plan.x[a] != plan.x[b] ? plan.x[a] < plan.x[b] : a < b;
  });
  double length = 0.0;
  for (std::size_t i = 1; i < order.size(); ++i) {
    length += std::hypot(plan.x[order[i]] - plan.x[order[i - 1]], plan.y[order[i]] - plan.y[order[i - 1]]);
  }
  return length;
}

}  // namespace

FineScanPlan plan_fine_scan(const RoiRegion& region, double step, PlanPattern pattern, std::uint64_t max_field_points) {
  if (!(step > 0.0) || !std::isfinite(step)) {
    throw UsageError("--plan-step " + number(step) + " is not a positive distance in metres");
  }
  FineScanPlan plan;
  plan.pattern = pattern;
  plan.step = step;
  const auto bounds = region.field_bounds();
  const Lattice lattice{bounds[0], bounds[1], step};
  const std::vector<Run> runs = lattice_runs(region, lattice, max_field_points, plan.field_points);
  if (pattern == PlanPattern::raster) {
    serpentine(runs, lattice, plan);
  } else if (!runs.empty()) {
    // The centre of the region's lattice points, and the farthest of them.
    double sx = 0.0, sy = 0.0, n = 0.0;
    for (const Run& run : runs) {
      const double count = static_cast<double>(run.last - run.first + 1);
      sx += count * (lattice.x(run.first) + lattice.x(run.last)) / 2.0;
      sy += count * lattice.y(run.row);
      n += count;
    }
    const std::array<double, 2> centre{sx / n, sy / n};
    double reach = 0.0;
    for (const Run& run : runs) {
      for (const std::int64_t c : {run.first, run.last}) {
        reach = std::max(reach, std::hypot(lattice.x(c) - centre[0], lattice.y(run.row) - centre[1]));
      }
    }
    spiral(region, step, centre, reach + step, plan);
  }
  plan.path_length = path_length(plan.x, plan.y);
  plan.naive_path_length = typewriter_length(plan);
  return plan;
}

std::string fine_scan_plan_csv(const FineScanPlan& plan, const std::string& description) {
  std::string text;
  char line[160];
  text += "# ptyroi fine-scan plan";
  if (!description.empty()) text += ": " + description;
  text += "\n";
  std::snprintf(line, sizeof line,
                "# pattern %s, step %.6g m, %zu points (%.1f%% of the %llu of a fine raster over the",
                plan_pattern_name(plan.pattern), plan.step, plan.points(), 100.0 * plan.share(),
                static_cast<unsigned long long>(plan.field_points));
  text += line;
  text += " coarse field)\n";
  std::snprintf(line, sizeof line, "# stage path %.6g m in this order (typewriter rows: %.6g m)\n", plan.path_length,
                plan.naive_path_length);
  text += line;
  text += "# x, y: metres, the coarse scan's frame; one point per line in visiting order\n";
  text += "x,y\n";
  for (std::size_t i = 0; i < plan.x.size(); ++i) {
    std::snprintf(line, sizeof line, "%.10g,%.10g\n", plan.x[i], plan.y[i]);
    text += line;
  }
  return text;
}

}  // namespace ptyroi
