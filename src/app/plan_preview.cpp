#include "ptyroi/app/plan_preview.hpp"

#include <cairo.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

Rgb partition_colour(int part, int parts) {
  if (parts <= 7) return category_colour(static_cast<std::size_t>(part));
  // Hues the golden angle apart, lightened towards white; every other one a shade darker.
  constexpr double kGoldenAngle = 2.399963229728653;
  const Rgb hue = colour_wheel(part * kGoldenAngle, 1.0);
  const double white = part % 2 == 0 ? 0.45 : 0.25;
  return {white + (1 - white) * hue.r * 0.92, white + (1 - white) * hue.g * 0.92, white + (1 - white) * hue.b * 0.92};
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr const char* kFont = "DejaVu Sans";
constexpr double kMaxMapWidth = 1000.0, kMaxMapHeight = 760.0, kMinMapSide = 240.0;
constexpr double kLeft = 84.0, kTop = 78.0, kBottom = 62.0, kPanel = 300.0, kRight = 16.0;

const Rgb kInk{0.12, 0.12, 0.12};
const Rgb kMutedInk{0.35, 0.35, 0.35};
const Rgb kField{0.90, 0.90, 0.90};  // cells of frames outside the RoI
const Rgb kRoi{0.72, 0.83, 0.93};    // cells of RoI frames (plan.png)
const Rgb kOutside{1.0, 1.0, 1.0};   // beyond the scan's field

struct SurfaceDeleter {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct ContextDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};

void colour(cairo_t* cr, Rgb c, double alpha = 1.0) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

void text(cairo_t* cr, double x, double y, const std::string& s, double size, bool bold = false, double align = 0.0) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, s.c_str(), &extents);
  cairo_move_to(cr, x - align * extents.x_advance, y);
  cairo_show_text(cr, s.c_str());
  cairo_new_path(cr);
}

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

// Where the field goes: metres to pixels, y down the page as on a detector image of the scan.
struct Frame {
  double x0 = 0.0, y0 = 0.0, scale = 1.0;  // metres at the map's top-left corner; pixels per metre
  double width = 0.0, height = 0.0;        // of the map, pixels
  int image_width = 0, image_height = 0;
  double px(double x) const { return kLeft + (x - x0) * scale; }
  double py(double y) const { return kTop + (y - y0) * scale; }
  double mx(double px) const { return x0 + (px - kLeft) / scale; }
  double my(double py) const { return y0 + (py - kTop) / scale; }
};

Frame frame_of(const RoiRegion& region) {
  const auto b = region.field_bounds();
  const double w = std::max(b[2] - b[0], 1e-12), h = std::max(b[3] - b[1], 1e-12);
  Frame f;
  f.scale = std::min(kMaxMapWidth / w, kMaxMapHeight / h);
  f.scale = std::max(f.scale, kMinMapSide / std::max(w, h));
  f.x0 = b[0];
  f.y0 = b[1];
  f.width = w * f.scale;
  f.height = h * f.scale;
  f.image_width = static_cast<int>(std::ceil(kLeft + f.width + 24.0 + kPanel + kRight));
  f.image_height = static_cast<int>(std::ceil(kTop + std::max(f.height, 300.0) + kBottom));
  return f;
}

// The cell owner of every map pixel (the frame, −1 beyond the field).
std::vector<std::int64_t> owners(const RoiRegion& region, const Frame& f) {
  const int w = static_cast<int>(std::ceil(f.width)), h = static_cast<int>(std::ceil(f.height));
  std::vector<std::int64_t> owner(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  for (int j = 0; j < h; ++j) {
    for (int i = 0; i < w; ++i) {
      owner[static_cast<std::size_t>(j) * static_cast<std::size_t>(w) + static_cast<std::size_t>(i)] =
          region.cell_of(f.mx(kLeft + i + 0.5), f.my(kTop + j + 0.5));
    }
  }
  return owner;
}

// Paints each map pixel by its owner's colour; pixels whose right or lower neighbour has another
// class (`seam_class`, e.g. the partition) are drawn dark: cell-accurate seams.
template <class ColourOf, class ClassOf>
void paint_cells(cairo_surface_t* surface, const Frame& f, const std::vector<std::int64_t>& owner, ColourOf colour_of,
                 ClassOf class_of) {
  const int w = static_cast<int>(std::ceil(f.width)), h = static_cast<int>(std::ceil(f.height));
  cairo_surface_flush(surface);
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const auto at = [&](int i, int j) {
    return owner[static_cast<std::size_t>(j) * static_cast<std::size_t>(w) + static_cast<std::size_t>(i)];
  };
  for (int j = 0; j < h; ++j) {
    for (int i = 0; i < w; ++i) {
      const std::int64_t o = at(i, j);
      Rgb c = colour_of(o);
      const std::int64_t here = class_of(o);
      const bool seam = (i + 1 < w && class_of(at(i + 1, j)) != here) || (j + 1 < h && class_of(at(i, j + 1)) != here);
      if (seam && o >= 0) c = {c.r * 0.35, c.g * 0.35, c.b * 0.35};
      const auto byte = [](double v) { return static_cast<std::uint32_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
      const std::uint32_t pixel = 0xff000000u | (byte(c.r) << 16) | (byte(c.g) << 8) | byte(c.b);
      const int x = static_cast<int>(kLeft) + i, y = static_cast<int>(kTop) + j;
      if (x >= f.image_width || y >= f.image_height) continue;
      std::memcpy(data + static_cast<std::ptrdiff_t>(y) * stride + static_cast<std::ptrdiff_t>(x) * 4, &pixel, 4);
    }
  }
  cairo_surface_mark_dirty(surface);
}

// Round-numbered ticks between lo and hi, at least min_step apart.
std::vector<double> ticks(double lo, double hi, double min_step, int& decimals) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(min_step)));
  const double n = min_step / magnitude;
  const double step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude;
  decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  std::vector<double> values;
  for (double i = std::ceil(lo / step - 1e-9); i * step <= hi + 1e-9 * step; i += 1.0) {
    values.push_back(i == 0.0 ? 0.0 : i * step);  // no "-0"
  }
  return values;
}

void axes(cairo_t* cr, const Frame& f, const std::string& unit) {
  cairo_set_line_width(cr, 1.0);
  colour(cr, kMutedInk);
  cairo_rectangle(cr, kLeft - 0.5, kTop - 0.5, f.width + 1.0, f.height + 1.0);
  cairo_stroke(cr);
  const bool metres = unit == "m";
  const double um = metres ? 1e6 : 1.0;
  const std::string shown = metres ? "\u00b5m" : unit;
  int decimals = 0;
  const auto x_ticks = ticks(f.x0 * um, f.mx(kLeft + f.width) * um, 90.0 / f.scale * um, decimals);
  const std::string pattern = "%." + std::to_string(decimals) + "f";
  for (const double t : x_ticks) {
    const double x = f.px(t / um);
    cairo_move_to(cr, x, kTop + f.height);
    cairo_line_to(cr, x, kTop + f.height + 5);
    cairo_stroke(cr);
    text(cr, x, kTop + f.height + 20, format(pattern.c_str(), t), 12.5, false, 0.5);
  }
  int y_decimals = 0;
  const auto y_ticks = ticks(f.y0 * um, f.my(kTop + f.height) * um, 50.0 / f.scale * um, y_decimals);
  const std::string y_pattern = "%." + std::to_string(y_decimals) + "f";
  for (const double t : y_ticks) {
    const double y = f.py(t / um);
    cairo_move_to(cr, kLeft - 5, y);
    cairo_line_to(cr, kLeft, y);
    cairo_stroke(cr);
    text(cr, kLeft - 8, y + 4, format(y_pattern.c_str(), t), 12.5, false, 1.0);
  }
  colour(cr, kInk);
  text(cr, kLeft + f.width / 2, kTop + f.height + 44, "x (" + shown + ")", 14.0, false, 0.5);
  cairo_save(cr);
  cairo_translate(cr, 22, kTop + f.height / 2);
  cairo_rotate(cr, -kPi / 2);
  text(cr, 0, 0, "y (" + shown + ")", 14.0, false, 0.5);
  cairo_restore(cr);
}

// Coarse positions as dots when they are far enough apart to see.
void positions(cairo_t* cr, const Frame& f, const RoiRegion& region) {
  const double spacing = std::min(region.cell_width(), region.cell_height()) * f.scale;
  if (spacing < 5.0) return;
  const double radius = std::clamp(spacing * 0.08, 1.0, 2.5);
  for (std::size_t k = 0; k < region.frames(); ++k) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, f.px(region.x()[k]), f.py(region.y()[k]), radius, 0, 2 * kPi);
  }
  colour(cr, {0.45, 0.45, 0.45}, 0.8);
  cairo_fill(cr);
}

struct Legend {
  double x = 0.0, y = 0.0;
  void swatch(cairo_t* cr, Rgb c, const std::string& label, bool dot = false) {
    if (dot) {
      cairo_arc(cr, x + 10, y - 5, 5, 0, 2 * kPi);
      colour(cr, c);
      cairo_fill(cr);
    } else {
      colour(cr, c);
      cairo_rectangle(cr, x, y - 12, 20, 14);
      cairo_fill(cr);
      colour(cr, kMutedInk);
      cairo_set_line_width(cr, 1.0);
      cairo_rectangle(cr, x + 0.5, y - 11.5, 19, 13);
      cairo_stroke(cr);
    }
    colour(cr, kInk);
    text(cr, x + 28, y, label, 13.0);
    y += 22;
  }
  void line(cairo_t* cr, const std::string& s, bool bold = false) {
    colour(cr, bold ? kInk : kMutedInk);
    text(cr, x, y, s, bold ? 14.0 : 12.5, bold);
    y += bold ? 22 : 18;
  }
};

void write_png(cairo_surface_t* surface, const std::string& path) {
  errno = 0;
  const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
  if (status != CAIRO_STATUS_SUCCESS) {
    std::string reason = cairo_status_to_string(status);
    if (errno != 0) reason += std::string(" (") + std::strerror(errno) + ")";
    throw IoError("cannot write the preview image '" + path + "': " + reason);
  }
}

using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

std::pair<Surface, Context> canvas(const Frame& f, const std::string& title, const std::string& subtitle) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, f.image_width, f.image_height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw IoError("preview: cannot create a " + std::to_string(f.image_width) + "x" + std::to_string(f.image_height) +
                  " image");
  }
  Context context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  colour(cr, kInk);
  text(cr, 16, 30, title, 19.0, true);
  colour(cr, kMutedInk);
  text(cr, 16, 53, subtitle, 13.0);
  return {std::move(surface), std::move(context)};
}

// A length in the positions' unit: nm or µm for metres.
std::string length(double value, const std::string& unit) {
  if (unit != "m") return format("%.4g", value) + " " + unit;
  return std::abs(value) < 1e-6 ? format("%.4g", value * 1e9) + " nm" : format("%.4g", value * 1e6) + " \u00b5m";
}

std::string percent(double fraction) { return format("%.1f%%", 100.0 * fraction); }

void plan_image(const PlanPreviewInput& input, const Frame& f, const std::vector<std::int64_t>& owner,
                const std::string& output) {
  const FineScanPlan& plan = *input.plan;
  const RoiRegion& region = *input.region;
  auto [surface, context] =
      canvas(f, input.title + " \u2014 fine-scan plan",
             std::to_string(plan.points()) + " points, " + plan_pattern_name(plan.pattern) + " at " +
                 length(plan.step, input.unit) + ": " + percent(plan.share()) + " of a fine raster over the field (" +
                 std::to_string(plan.field_points) + " points)");
  cairo_t* cr = context.get();
  const auto& mask = region.mask();
  paint_cells(
      surface.get(), f, owner,
      [&](std::int64_t o) { return o < 0                                    ? kOutside
                                   : mask[static_cast<std::size_t>(o)] != 0 ? kRoi
                                                                            : kField; },
      [&](std::int64_t o) { return o < 0 ? -1 : static_cast<std::int64_t>(mask[static_cast<std::size_t>(o)] != 0); });
  positions(cr, f, region);
  // The stage path, then the points.
  const double spacing = plan.step * f.scale;
  if (plan.points() > 1) {
    cairo_set_line_width(cr, std::clamp(spacing * 0.12, 0.4, 1.2));
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_move_to(cr, f.px(plan.x[0]), f.py(plan.y[0]));
    for (std::size_t i = 1; i < plan.points(); ++i) cairo_line_to(cr, f.px(plan.x[i]), f.py(plan.y[i]));
    colour(cr, {0.05, 0.25, 0.55}, 0.7);
    cairo_stroke(cr);
  }
  if (spacing >= 3.0) {
    const double radius = std::clamp(spacing * 0.2, 0.8, 3.0);
    for (std::size_t i = 0; i < plan.points(); ++i) {
      cairo_new_sub_path(cr);
      cairo_arc(cr, f.px(plan.x[i]), f.py(plan.y[i]), radius, 0, 2 * kPi);
    }
    colour(cr, {0.0, 0.20, 0.45});
    cairo_fill(cr);
  }
  if (plan.points() > 0) {
    for (const auto& [i, c] :
         {std::pair{std::size_t{0}, okabe_ito_bluish_green()}, std::pair{plan.points() - 1, okabe_ito_vermillion()}}) {
      cairo_arc(cr, f.px(plan.x[i]), f.py(plan.y[i]), 6.0, 0, 2 * kPi);
      colour(cr, c);
      cairo_fill_preserve(cr);
      colour(cr, kInk);
      cairo_set_line_width(cr, 1.2);
      cairo_stroke(cr);
    }
  }
  axes(cr, f, input.unit);
  Legend legend{kLeft + f.width + 24.0, kTop + 12.0};
  legend.line(cr, "RoI region", true);
  legend.swatch(cr, kRoi, "cells of RoI frames (" + std::to_string(region.roi_frames()) + ")");
  legend.swatch(cr, kField, "other frames' cells");
  legend.swatch(cr, kOutside, "outside the scan");
  legend.y += 8;
  legend.line(cr, "fine scan", true);
  legend.swatch(cr, {0.0, 0.20, 0.45}, std::to_string(plan.points()) + " points", true);
  legend.swatch(cr, okabe_ito_bluish_green(), "start", true);
  legend.swatch(cr, okabe_ito_vermillion(), "end", true);
  legend.line(cr, "stage path " + length(plan.path_length, input.unit));
  legend.line(cr, "(typewriter rows " + length(plan.naive_path_length, input.unit) + ")");
  if (plan.pattern == PlanPattern::raster)
    legend.line(cr, "serpentine rows, " + std::to_string(plan.pieces) + (plan.pieces == 1 ? " piece" : " pieces"));
  if (plan.pattern == PlanPattern::spiral) legend.line(cr, "spiral from the centre outward");
  cairo_surface_flush(surface.get());
  write_png(surface.get(), output);
}

void partitions_image(const PlanPreviewInput& input, const Frame& f, const std::vector<std::int64_t>& owner,
                      const std::string& output) {
  const ScanPartitions& parts = *input.partitions;
  const RoiRegion& region = *input.region;
  auto [surface, context] =
      canvas(f, input.title + " \u2014 " + std::to_string(parts.parts) + " partitions",
             std::to_string(parts.smallest()) + ".." + std::to_string(parts.largest()) +
                 " frames each (recursive coordinate bisection); halo " + length(parts.halo, input.unit) + ": " +
                 std::to_string(parts.halo_frames()) + " halo frames");
  cairo_t* cr = context.get();
  const auto& label = parts.label;
  paint_cells(
      surface.get(), f, owner,
      [&](std::int64_t o) {
        if (o < 0) return kOutside;
        const std::int32_t p = label[static_cast<std::size_t>(o)];
        return p < 0 ? kField : partition_colour(p, parts.parts);
      },
      [&](std::int64_t o) { return o < 0 ? std::int64_t{-2} : std::int64_t{label[static_cast<std::size_t>(o)]}; });
  positions(cr, f, region);
  // The partition whose centroid is nearest the RoI's centroid: its halo, ringed.
  std::vector<double> cx(static_cast<std::size_t>(parts.parts)), cy(cx.size());
  double rx = 0.0, ry = 0.0, n = 0.0;
  for (std::size_t p = 0; p < parts.core.size(); ++p) {
    for (const std::uint64_t k : parts.core[p]) {
      cx[p] += region.x()[k] / static_cast<double>(parts.core[p].size());
      cy[p] += region.y()[k] / static_cast<double>(parts.core[p].size());
      rx += region.x()[k];
      ry += region.y()[k];
      n += 1.0;
    }
  }
  std::size_t shown = 0;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t p = 0; p < cx.size(); ++p) {
    const double d = std::hypot(cx[p] - rx / n, cy[p] - ry / n);
    if (d < best) {
      best = d;
      shown = p;
    }
  }
  const double spacing = std::min(region.cell_width(), region.cell_height()) * f.scale;
  const double ring = std::clamp(spacing * 0.3, 2.0, 6.0);
  cairo_set_line_width(cr, std::clamp(spacing * 0.08, 1.0, 2.0));
  for (const std::uint64_t k : parts.halo_of[shown]) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, f.px(region.x()[k]), f.py(region.y()[k]), ring, 0, 2 * kPi);
  }
  colour(cr, kInk);
  cairo_stroke(cr);
  // Numbers at the centroids, where a partition is wide enough to hold one.
  const double size = std::clamp(spacing * 0.8, 9.0, 16.0);
  for (std::size_t p = 0; p < cx.size(); ++p) {
    if (std::sqrt(static_cast<double>(parts.core[p].size())) * spacing < 2.5 * size) continue;
    colour(cr, {1, 1, 1}, 0.85);
    cairo_arc(cr, f.px(cx[p]), f.py(cy[p]) - size * 0.35, size * 0.85, 0, 2 * kPi);
    cairo_fill(cr);
    colour(cr, kInk);
    text(cr, f.px(cx[p]), f.py(cy[p]) + size * 0.05, std::to_string(p), size, true, 0.5);
  }
  axes(cr, f, input.unit);
  Legend legend{kLeft + f.width + 24.0, kTop + 12.0};
  legend.line(cr, "partitions", true);
  const int listed = std::min(parts.parts, 12);
  for (int p = 0; p < listed; ++p) {
    legend.swatch(cr, partition_colour(p, parts.parts),
                  std::to_string(p) + ": " + std::to_string(parts.core[static_cast<std::size_t>(p)].size()) +
                      " frames + " + std::to_string(parts.halo_of[static_cast<std::size_t>(p)].size()) + " halo");
  }
  if (listed < parts.parts) legend.line(cr, "\u2026 " + std::to_string(parts.parts - listed) + " more");
  legend.swatch(cr, kField, "outside the RoI");
  legend.y += 8;
  legend.line(cr, "\u25cb halo of partition " + std::to_string(shown) + ":");
  legend.line(cr, "  RoI frames of others within " + length(parts.halo, input.unit));
  legend.line(cr, "dark lines: seams between partitions");
  cairo_surface_flush(surface.get());
  write_png(surface.get(), output);
}

}  // namespace

std::vector<std::string> plan_preview_file_names(bool plan, bool partitions) {
  std::vector<std::string> names;
  if (plan) names.emplace_back("plan.png");
  if (partitions) names.emplace_back("partitions.png");
  return names;
}

void render_plan_previews(const PlanPreviewInput& input, const std::vector<std::string>& paths) {
  const bool plan = input.plan != nullptr, partitions = input.partitions != nullptr;
  if (input.region == nullptr || paths.size() != plan_preview_file_names(plan, partitions).size()) {
    throw InternalError("render_plan_previews: " + std::to_string(paths.size()) + " paths for the images asked for");
  }
  if (!plan && !partitions) return;
  const Frame f = frame_of(*input.region);
  const std::vector<std::int64_t> owner = owners(*input.region, f);
  std::size_t next = 0;
  if (plan) plan_image(input, f, owner, paths[next++]);
  if (partitions) partitions_image(input, f, owner, paths[next++]);
}

}  // namespace ptyroi
