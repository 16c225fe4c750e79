#include "ptyroi/app/preview.hpp"

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include <nanoflann.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>

#include "ptyroi/app/colormap.hpp"
#include "ptyroi/core/error.hpp"

namespace ptyroi {

namespace {

// ---- sizes, in pixels ---------------------------------------------------------------------------
// Every image is kMinWidth..kMaxWidth wide: the scan is scaled to fill up to kMaxMapHeight and what
// width is left, with square cells (raster) or its true aspect ratio (irregular), up to kMaxCell
// per scan step; only a strip thinner than kMinMapSide (e.g. a single row) is stretched across.
constexpr double kMinWidth = 640.0;
constexpr double kMaxWidth = 1600.0;
constexpr double kMaxMapHeight = 900.0;
constexpr double kMaxCell = 96.0;
constexpr double kMinMapSide = 32.0;
constexpr std::int64_t kMaxRasterSide = 32767;  // cairo's image surfaces: a raster is drawn one pixel per cell first
constexpr double kMarginLeft = 88.0;            // y tick labels and the y axis label
constexpr double kTitleBaseline = 30.0;
constexpr double kSubtitleBaseline = 53.0;  // its first line; the scan starts below the last
constexpr double kSubtitleLeading = 17.0;
constexpr std::size_t kMaxSubtitleLines = 3;
constexpr double kMarginBottom = 66.0;
constexpr double kPanelGap = 40.0;
constexpr double kMarginRight = 24.0;
constexpr double kMinPanelWidth = 200.0;
constexpr double kMaxPanelWidth = 360.0;

constexpr const char* kFont = "DejaVu Sans";
constexpr double kTitleSize = 19.0;
constexpr double kTextSize = 14.0;
constexpr double kSmallSize = 12.5;

constexpr double kPi = 3.14159265358979323846;

const Rgb kInk{0.12, 0.12, 0.12};
const Rgb kMutedInk{0.35, 0.35, 0.35};
const Rgb kNoData{0.80, 0.80, 0.80};  // frames without a value (NaN): not a viridis colour
const Rgb kOtherCluster{0.86, 0.86, 0.86};
const Rgb kNoCell{1.0, 1.0, 1.0};  // raster cells that hold no frame

// ---- cairo owners -------------------------------------------------------------------------------
struct SurfaceDeleter {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct ContextDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

Surface image_surface(int width, int height) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw IoError("preview: cannot create a " + std::to_string(width) + "x" + std::to_string(height) +
                  " image: " + cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  return surface;
}

void set_colour(cairo_t* cr, Rgb c, double alpha = 1.0) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

// An opaque colour as a pixel of a CAIRO_FORMAT_ARGB32 surface: native-endian 32-bit, alpha in
// the top byte, premultiplied (a no-op at full alpha).
std::uint32_t argb_pixel(Rgb c) {
  const Rgb8 c8 = to_rgb8(c);
  return 0xff000000u | (std::uint32_t{c8.r} << 16) | (std::uint32_t{c8.g} << 8) | std::uint32_t{c8.b};
}

void put_pixel(cairo_surface_t* surface, int column, int row, std::uint32_t pixel) {
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  std::memcpy(data + static_cast<std::ptrdiff_t>(row) * stride + static_cast<std::ptrdiff_t>(column) * 4, &pixel,
              sizeof pixel);
}

// ---- text ---------------------------------------------------------------------------------------
enum class Align { kLeft, kCentre, kRight };

void set_font(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

void set_subtitle_font(cairo_t* cr) { set_font(cr, kSmallSize + 0.5); }

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

// Draws text with its baseline at y, anchored at x by `align`, in the current font and colour.
void show_text(cairo_t* cr, double x, double y, const std::string& text, Align align = Align::kLeft) {
  const double width = text_width(cr, text);
  if (align == Align::kCentre) x -= width / 2.0;
  if (align == Align::kRight) x -= width;
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text.c_str());
  cairo_new_path(cr);
}

// The text with every byte that is not part of a well-formed UTF-8 sequence replaced by "?":
// cairo refuses malformed text, and a file name need not be UTF-8.
std::string valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      length = 1;
      code = lead;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code = lead & 0x1fu;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code = lead & 0x0fu;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code = lead & 0x07u;
    }
    bool ok = length > 0 && i + length <= text.size();
    for (std::size_t j = 1; ok && j < length; ++j) {
      const auto next = static_cast<unsigned char>(text[i + j]);
      ok = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3fu);
    }
    // No overlong forms, surrogates or code points past U+10FFFF; no control characters.
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && code >= smallest[length] && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) && code >= 0x20;
    if (ok) {
      out.append(text, i, length);
      i += length;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

// The text, or its end behind "…" if it is wider than max_width (a file name's end says most).
std::string fit_text(cairo_t* cr, const std::string& text, double max_width) {
  if (text_width(cr, text) <= max_width) return text;
  std::string ellipsis = "\u2026";
  std::size_t start = 0;
  while (start < text.size()) {
    ++start;
    while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xc0) == 0x80) ++start;  // UTF-8
    std::string candidate = ellipsis + text.substr(start);
    if (text_width(cr, candidate) <= max_width) return candidate;
  }
  return ellipsis;
}

// The text broken at spaces into lines no wider than max_width (a longer word gets a line of its
// own), at most max_lines: the last one ends in "…" if text is left over.
std::vector<std::string> wrap_text(cairo_t* cr, const std::string& text, double max_width, std::size_t max_lines) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    std::string candidate = line;
    if (!candidate.empty()) candidate += ' ';
    candidate += word;
    if (!line.empty() && text_width(cr, candidate) > max_width) {
      lines.push_back(line);
      line = word;
    } else {
      line = candidate;
    }
    start = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  if (lines.size() > max_lines) {
    lines.resize(max_lines);
    lines.back() += " \u2026";
  }
  for (std::string& l : lines) {
    // A single word wider than the line: cut its end.
    while (l.size() > 1 && text_width(cr, l) > max_width) {
      std::size_t cut = l.size() - 1;
      while (cut > 0 && (static_cast<unsigned char>(l[cut]) & 0xc0) == 0x80) --cut;
      l = l.substr(0, cut);
      if (text_width(cr, l + "\u2026") <= max_width) {
        l += "\u2026";
        break;
      }
    }
  }
  return lines;
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  std::string text = buffer;
  if (text.find_first_not_of("-0.") == std::string::npos && text[0] == '-') text.erase(0, 1);  // no "-0.0"
  return text;
}

std::string percent(std::size_t count, std::size_t total) {
  return fixed(100.0 * static_cast<double>(count) / static_cast<double>(total), 1) + "%";
}

std::string frames_text(std::size_t count) { return std::to_string(count) + (count == 1 ? " frame" : " frames"); }

std::string signed_border(int border) { return border > 0 ? "+" + std::to_string(border) : std::to_string(border); }

// ---- ticks --------------------------------------------------------------------------------------
struct Ticks {
  std::vector<double> values;
  int decimals = 0;
};

// The smallest of 1, 2 or 5 × 10^n that is at least min_step (> 0).
double nice_step(double min_step) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(min_step)));
  const double normalised = min_step / magnitude;
  return (normalised <= 1.0 ? 1.0 : normalised <= 2.0 ? 2.0 : normalised <= 5.0 ? 5.0 : 10.0) * magnitude;
}

// Round-numbered ticks in [lo, hi], nice_step(min_step) apart.
Ticks nice_ticks(double lo, double hi, double min_step) {
  Ticks ticks;
  if (!(hi > lo) || !(min_step > 0.0)) {
    ticks.values.push_back(lo);
    ticks.decimals = 2;
    return ticks;
  }
  const double step = nice_step(min_step);
  ticks.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  const double first = std::ceil(lo / step - 1e-9);
  for (double i = first; i * step <= hi + step * 1e-9; i += 1.0) ticks.values.push_back(i * step);
  return ticks;
}

// ---- values -------------------------------------------------------------------------------------
// ln of a non-negative map, with values <= 0 clamped to the smallest positive value first (as the
// clustering does); NaN/Inf stay NaN (no data).
struct LogMap {
  std::vector<double> value;
  std::size_t floored = 0;  // frames at or below zero
  std::size_t missing = 0;  // non-finite frames
  bool any_positive = false;
};

LogMap log_with_floor(const std::vector<double>& values) {
  double floor = std::numeric_limits<double>::infinity();
  for (double v : values) {
    if (std::isfinite(v) && v > 0.0) floor = std::min(floor, v);
  }
  LogMap map;
  map.value.reserve(values.size());
  for (double v : values) {
    if (!std::isfinite(v)) {
      map.value.push_back(std::numeric_limits<double>::quiet_NaN());
      ++map.missing;
    } else if (v > 0.0) {
      map.value.push_back(std::log(v));
      map.any_positive = true;
    } else {
      ++map.floored;
      map.value.push_back(std::isfinite(floor) ? std::log(floor) : 0.0);  // no positive value: constant
    }
  }
  return map;
}

// The colour limits of a map: its 0.5th and 99.5th percentiles (so a few outliers do not flatten
// the rest), or its whole range if those coincide; a constant map gets a range of 1 around it.
struct Range {
  double lo = 0.0;
  double hi = 1.0;
  bool clipped_low = false;
  bool clipped_high = false;
  bool constant = false;
  double constant_value = 0.0;
  std::string constant_label;  // instead of the value, e.g. "no T > 0"

  [[nodiscard]] double normalise(double v) const { return (v - lo) / (hi - lo); }
};

Range colour_range(const std::vector<double>& values) {
  std::vector<double> finite;
  finite.reserve(values.size());
  for (double v : values) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  Range range;
  if (finite.empty()) {
    range.constant = true;
    return range;
  }
  std::sort(finite.begin(), finite.end());
  const double min = finite.front();
  const double max = finite.back();
  if (max - min <= 1e-12 * std::max(1.0, std::abs(max))) {
    range.constant = true;
    range.constant_value = min;
    range.lo = min - 0.5;
    range.hi = min + 0.5;
    return range;
  }
  const auto quantile = [&](double p) {
    return finite[static_cast<std::size_t>(std::lround(p * static_cast<double>(finite.size() - 1)))];
  };
  range.lo = quantile(0.005);
  range.hi = quantile(0.995);
  if (range.hi - range.lo <= 1e-6 * (max - min)) {
    range.lo = min;
    range.hi = max;
  }
  range.clipped_low = min < range.lo;
  range.clipped_high = max > range.hi;
  return range;
}

std::size_t count_set(const std::vector<std::uint8_t>& mask) {
  return static_cast<std::size_t>(std::count_if(mask.begin(), mask.end(), [](std::uint8_t m) { return m != 0; }));
}

// ---- where the scan goes ------------------------------------------------------------------------
struct Point {
  double x = 0.0;
  double y = 0.0;
};

struct MapGeometry {
  bool raster = false;
  GridShape grid;
  std::vector<std::int64_t> cell_of_frame;
  double cell_width = 0.0, cell_height = 0.0;  // raster: pixels per cell
  double x_min = 0.0, y_min = 0.0;             // irregular: metres at the map's top-left corner
  double scale_x = 0.0, scale_y = 0.0;         // irregular: pixels per metre
  double spacing = 0.0;                        // irregular: median nearest-neighbour distance, pixels
  double radius = 0.0;                         // irregular: disc radius, pixels
  double width = 0.0, height = 0.0;            // of the map, pixels
  std::vector<Point> centre;                   // per frame, pixels from the map's top-left corner
};

// nanoflann's view of the positions.
struct PositionCloud {
  const std::vector<double>* x = nullptr;
  const std::vector<double>* y = nullptr;
  std::size_t kdtree_get_point_count() const { return x->size(); }
  double kdtree_get_pt(std::size_t index, std::size_t dimension) const {
    return dimension == 0 ? (*x)[index] : (*y)[index];
  }
  template <class BoundingBox>
  bool kdtree_get_bbox(BoundingBox& /*box*/) const {
    return false;
  }
};
using PositionTree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, PositionCloud>,
                                                         PositionCloud, 2, std::size_t>;

// Median distance from each frame to its nearest other frame (coincident frames ignored); 0 when
// there is no such pair. A k-d tree keeps it near K log K whatever the positions (a line, a raster
// column, one position far off).
double median_nearest_neighbour(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t frames = x.size();
  if (frames < 2) return 0.0;
  const PositionCloud cloud{&x, &y};
  PositionTree tree(2, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(16));
  tree.buildIndex();
  std::vector<double> nearest;
  nearest.reserve(frames);
  std::vector<std::size_t> found;
  std::vector<double> squared;
  for (std::size_t i = 0; i < frames; ++i) {
    const double query[2] = {x[i], y[i]};
    // The nearest frames at a distance > 0: ask for more while all found coincide with this one.
    for (std::size_t wanted = 2;; wanted = std::min(frames, 2 * wanted)) {
      found.resize(wanted);
      squared.resize(wanted);
      const std::size_t count = tree.knnSearch(query, wanted, found.data(), squared.data());
      const auto apart = std::find_if(squared.begin(), squared.begin() + static_cast<std::ptrdiff_t>(count),
                                      [](double d) { return d > 0.0; });
      if (apart != squared.begin() + static_cast<std::ptrdiff_t>(count)) {
        nearest.push_back(std::sqrt(*apart));
        break;
      }
      if (wanted >= frames) break;
    }
  }
  if (nearest.empty()) return 0.0;
  const auto middle = nearest.begin() + static_cast<std::ptrdiff_t>(nearest.size() / 2);
  std::nth_element(nearest.begin(), middle, nearest.end());
  return *middle;
}

MapGeometry map_geometry(const PreviewInput& input, double max_width) {
  MapGeometry g;
  const std::size_t frames = input.transmission.size();
  g.raster = input.grid.rows > 0;
  if (g.raster) {
    g.grid = input.grid;
    g.cell_of_frame = input.cell_of_frame;
    const auto rows = static_cast<double>(g.grid.rows);
    const auto cols = static_cast<double>(g.grid.cols);
    double cell = std::min({max_width / cols, kMaxMapHeight / rows, kMaxCell});
    if (cell >= 4.0) cell = std::floor(cell);  // whole pixels: crisp, equal cells
    g.cell_width = g.cell_height = cell;
    if (rows * cell < kMinMapSide) g.cell_height = kMinMapSide / rows;
    if (cols * cell < kMinMapSide) g.cell_width = kMinMapSide / cols;
    g.width = cols * g.cell_width;
    g.height = rows * g.cell_height;
    g.centre.resize(frames);
    for (std::size_t k = 0; k < frames; ++k) {
      const std::int64_t row = g.cell_of_frame[k] / g.grid.cols;
      const std::int64_t col = g.cell_of_frame[k] % g.grid.cols;
      g.centre[k] = {(static_cast<double>(col) + 0.5) * g.cell_width, (static_cast<double>(row) + 0.5) * g.cell_height};
    }
    return g;
  }
  const auto [x_lo, x_hi] = std::minmax_element(input.x.begin(), input.x.end());
  const auto [y_lo, y_hi] = std::minmax_element(input.y.begin(), input.y.end());
  double step = median_nearest_neighbour(input.x, input.y);
  if (!(step > 0.0)) step = std::max(*x_hi - *x_lo, *y_hi - *y_lo) / std::sqrt(static_cast<double>(frames));
  if (!(step > 0.0)) step = 1e-6;  // one position: a 1 µm step, for the axes only
  // A margin of one step keeps every disc inside the map.
  g.x_min = *x_lo - step;
  g.y_min = *y_lo - step;
  const double extent_x = *x_hi - *x_lo + 2.0 * step;
  const double extent_y = *y_hi - *y_lo + 2.0 * step;
  const double scale = std::min({max_width / extent_x, kMaxMapHeight / extent_y, kMaxCell / step});
  g.scale_x = std::max(scale, kMinMapSide / extent_x);
  g.scale_y = std::max(scale, kMinMapSide / extent_y);
  g.width = extent_x * g.scale_x;
  g.height = extent_y * g.scale_y;
  g.spacing = step * std::min(g.scale_x, g.scale_y);
  g.radius = std::clamp(0.5 * g.spacing, 1.5, kMaxCell / 2.0);
  g.centre.resize(frames);
  for (std::size_t k = 0; k < frames; ++k) {
    g.centre[k] = {(input.x[k] - g.x_min) * g.scale_x, (input.y[k] - g.y_min) * g.scale_y};
  }
  return g;
}

// ---- drawing the scan ---------------------------------------------------------------------------
// Paints one colour per frame: raster cells as an image scaled without smoothing (crisp cells, no
// seams), irregular frames as discs at their positions.
void paint_frames(cairo_t* cr, const MapGeometry& g, const std::vector<Rgb>& colour) {
  if (!g.raster) {
    for (std::size_t k = 0; k < colour.size(); ++k) {
      set_colour(cr, colour[k]);
      cairo_arc(cr, g.centre[k].x, g.centre[k].y, g.radius, 0.0, 2.0 * kPi);
      cairo_fill(cr);
    }
    return;
  }
  const int cols = static_cast<int>(g.grid.cols);
  const int rows = static_cast<int>(g.grid.rows);
  Surface cells = image_surface(cols, rows);
  cairo_surface_flush(cells.get());
  const std::uint32_t empty = argb_pixel(kNoCell);
  for (int row = 0; row < rows; ++row) {
    for (int col = 0; col < cols; ++col) put_pixel(cells.get(), col, row, empty);
  }
  for (std::size_t k = 0; k < colour.size(); ++k) {
    const std::int64_t cell = g.cell_of_frame[k];
    put_pixel(cells.get(), static_cast<int>(cell % g.grid.cols), static_cast<int>(cell / g.grid.cols),
              argb_pixel(colour[k]));
  }
  cairo_surface_mark_dirty(cells.get());
  cairo_save(cr);
  cairo_scale(cr, g.cell_width, g.cell_height);
  cairo_set_source_surface(cr, cells.get(), 0.0, 0.0);
  // Nearest keeps cells crisp; below one pixel per cell, average them instead of dropping some.
  cairo_pattern_set_filter(cairo_get_source(cr),
                           std::min(g.cell_width, g.cell_height) >= 1.0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
  cairo_rectangle(cr, 0.0, 0.0, cols, rows);
  cairo_fill(cr);
  cairo_restore(cr);
  // Faint cell borders where cells are big enough to count.
  if (std::min(g.cell_width, g.cell_height) >= 16.0) {
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.35);
    cairo_set_line_width(cr, 1.0);
    for (int col = 1; col < cols; ++col) {
      cairo_move_to(cr, col * g.cell_width, 0.0);
      cairo_line_to(cr, col * g.cell_width, g.height);
    }
    for (int row = 1; row < rows; ++row) {
      cairo_move_to(cr, 0.0, row * g.cell_height);
      cairo_line_to(cr, g.width, row * g.cell_height);
    }
    cairo_stroke(cr);
  }
}

std::vector<std::uint8_t> mask_on_cells(const MapGeometry& g, const std::vector<std::uint8_t>& mask) {
  std::vector<std::uint8_t> cells(static_cast<std::size_t>(g.grid.rows * g.grid.cols), 0);
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] != 0) cells[static_cast<std::size_t>(g.cell_of_frame[k])] = 1;
  }
  return cells;
}

// Covers the frames of a mask with a translucent colour (one fill: overlaps are not doubled).
void tint_mask(cairo_t* cr, const MapGeometry& g, const std::vector<std::uint8_t>& mask, Rgb colour, double alpha) {
  for (std::size_t k = 0; k < mask.size(); ++k) {
    if (mask[k] == 0) continue;
    if (g.raster) {
      const std::int64_t row = g.cell_of_frame[k] / g.grid.cols;
      const std::int64_t col = g.cell_of_frame[k] % g.grid.cols;
      cairo_rectangle(cr, static_cast<double>(col) * g.cell_width, static_cast<double>(row) * g.cell_height,
                      g.cell_width, g.cell_height);
    } else {
      cairo_new_sub_path(cr);
      cairo_arc(cr, g.centre[k].x, g.centre[k].y, g.radius, 0.0, 2.0 * kPi);
    }
  }
  set_colour(cr, colour, alpha);
  cairo_fill(cr);
}

// Raster: the cell edges between the mask and the rest (or the scan's edge), as one path.
void raster_outline_path(cairo_t* cr, const MapGeometry& g, const std::vector<std::uint8_t>& cells) {
  const std::int64_t rows = g.grid.rows;
  const std::int64_t cols = g.grid.cols;
  const auto in = [&](std::int64_t row, std::int64_t col) {
    return row >= 0 && row < rows && col >= 0 && col < cols && cells[static_cast<std::size_t>(row * cols + col)] != 0;
  };
  const auto edge = [&](double x0, double y0, double x1, double y1) {
    cairo_move_to(cr, x0 * g.cell_width, y0 * g.cell_height);
    cairo_line_to(cr, x1 * g.cell_width, y1 * g.cell_height);
  };
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t col = 0; col < cols; ++col) {
      if (!in(row, col)) continue;
      const auto x = static_cast<double>(col);
      const auto y = static_cast<double>(row);
      if (!in(row - 1, col)) edge(x, y, x + 1, y);
      if (!in(row + 1, col)) edge(x, y + 1, x + 1, y + 1);
      if (!in(row, col - 1)) edge(x, y, x, y + 1);
      if (!in(row, col + 1)) edge(x + 1, y, x + 1, y + 1);
    }
  }
}

// Irregular: the outline of the masked frames' region, the union of their Voronoi cells cut to
// discs of `reach` pixels: the line where the nearest masked frame is as near as the nearest
// unmasked one (midway between them, as a raster's cell edge), or at the reach where there is no
// unmasked frame (the scan's edge). Traced by marching squares, with linear interpolation, on the
// field f = min(distance to unmasked, reach) - distance to masked, sampled every `step` pixels.
void point_outline_path(cairo_t* cr, const MapGeometry& g, const std::vector<std::uint8_t>& mask) {
  const double reach = 0.9 * g.spacing;
  const double horizon = 1.5 * reach;  // distances beyond it do not move the line
  const double step = std::clamp(g.spacing / 6.0, 1.0, 3.0);
  // Every frame, hashed into square buckets at least `horizon` wide, so that a node's frames within
  // it are in 3×3 buckets; and wide enough that there are no more buckets than about 4 per frame,
  // whatever the scan's extent (one position far off squeezes the rest into a few pixels).
  const double area = std::max(g.width, 1.0) * std::max(g.height, 1.0);
  const double bucket =
      std::max(horizon, std::sqrt(area / (4.0 * static_cast<double>(std::max<std::size_t>(mask.size(), 1)))));
  const auto bucket_of = [&](double v) { return static_cast<std::int64_t>(std::floor(v / bucket)); };
  const std::int64_t buckets_x = bucket_of(g.width) + 1;
  const std::int64_t buckets_y = bucket_of(g.height) + 1;
  std::vector<std::vector<std::size_t>> buckets(static_cast<std::size_t>(buckets_x * buckets_y));
  for (std::size_t k = 0; k < mask.size(); ++k) {
    const std::int64_t bx = std::clamp<std::int64_t>(bucket_of(g.centre[k].x), 0, buckets_x - 1);
    const std::int64_t by = std::clamp<std::int64_t>(bucket_of(g.centre[k].y), 0, buckets_y - 1);
    buckets[static_cast<std::size_t>(by * buckets_x + bx)].push_back(k);
  }
  const auto nodes_x = static_cast<std::int64_t>(std::ceil(g.width / step)) + 1;
  const auto nodes_y = static_cast<std::int64_t>(std::ceil(g.height / step)) + 1;
  std::vector<double> field(static_cast<std::size_t>(nodes_x * nodes_y));
  for (std::int64_t j = 0; j < nodes_y; ++j) {
    for (std::int64_t i = 0; i < nodes_x; ++i) {
      const double px = static_cast<double>(i) * step;
      const double py = static_cast<double>(j) * step;
      double masked = horizon;
      double unmasked = horizon;
      const std::int64_t bx = bucket_of(px);
      const std::int64_t by = bucket_of(py);
      for (std::int64_t y = std::max<std::int64_t>(by - 1, 0); y <= std::min(by + 1, buckets_y - 1); ++y) {
        for (std::int64_t x = std::max<std::int64_t>(bx - 1, 0); x <= std::min(bx + 1, buckets_x - 1); ++x) {
          for (std::size_t k : buckets[static_cast<std::size_t>(y * buckets_x + x)]) {
            const double d = std::hypot(g.centre[k].x - px, g.centre[k].y - py);
            double& nearest = mask[k] != 0 ? masked : unmasked;
            nearest = std::min(nearest, d);
          }
        }
      }
      field[static_cast<std::size_t>(j * nodes_x + i)] = std::min(unmasked, reach) - masked;
    }
  }
  // Marching squares. Corners 0..3: top-left, top-right, bottom-right, bottom-left; edges 0..3:
  // top, right, bottom, left. Each case lists the edge pairs its segments join; the two saddles
  // are decided below by the cell's centre.
  constexpr int kNone = -1;
  constexpr int kSegments[16][4] = {
      {kNone, kNone, kNone, kNone}, {3, 0, kNone, kNone}, {0, 1, kNone, kNone}, {3, 1, kNone, kNone},
      {1, 2, kNone, kNone},         {3, 0, 1, 2},         {0, 2, kNone, kNone}, {3, 2, kNone, kNone},
      {2, 3, kNone, kNone},         {0, 2, kNone, kNone}, {0, 1, 2, 3},         {1, 2, kNone, kNone},
      {3, 1, kNone, kNone},         {0, 1, kNone, kNone}, {3, 0, kNone, kNone}, {kNone, kNone, kNone, kNone}};
  for (std::int64_t j = 0; j + 1 < nodes_y; ++j) {
    for (std::int64_t i = 0; i + 1 < nodes_x; ++i) {
      const double value[4] = {field[static_cast<std::size_t>(j * nodes_x + i)],
                               field[static_cast<std::size_t>(j * nodes_x + i + 1)],
                               field[static_cast<std::size_t>((j + 1) * nodes_x + i + 1)],
                               field[static_cast<std::size_t>((j + 1) * nodes_x + i)]};
      int index = 0;
      for (int c = 0; c < 4; ++c) index |= (value[c] > 0.0 ? 1 : 0) << c;
      if (index == 0 || index == 15) continue;
      const double x0 = static_cast<double>(i) * step;
      const double y0 = static_cast<double>(j) * step;
      const Point corner[4] = {{x0, y0}, {x0 + step, y0}, {x0 + step, y0 + step}, {x0, y0 + step}};
      const auto crossing = [&](int edge) {
        const int a = edge;
        const int b = (edge + 1) % 4;
        const double t = value[a] / (value[a] - value[b]);
        return Point{corner[a].x + t * (corner[b].x - corner[a].x), corner[a].y + t * (corner[b].y - corner[a].y)};
      };
      int segments[4];
      std::copy(std::begin(kSegments[index]), std::end(kSegments[index]), std::begin(segments));
      if (index == 5 || index == 10) {
        // A saddle: corners 0 and 2 joined through the centre (inside for 5, outside for 10) cut
        // off corners 1 and 3, else the other way round.
        const bool centre_inside = value[0] + value[1] + value[2] + value[3] > 0.0;
        const bool joined = (index == 5) == centre_inside;
        const int cut_1_and_3[4] = {0, 1, 2, 3};
        const int cut_0_and_2[4] = {3, 0, 1, 2};
        std::copy(std::begin(joined ? cut_1_and_3 : cut_0_and_2), std::end(joined ? cut_1_and_3 : cut_0_and_2),
                  std::begin(segments));
      }
      for (int s = 0; s < 4 && segments[s] != kNone; s += 2) {
        const Point from = crossing(segments[s]);
        const Point to = crossing(segments[s + 1]);
        cairo_move_to(cr, from.x, from.y);
        cairo_line_to(cr, to.x, to.y);
      }
    }
  }
}

// Strokes the outline of a mask, `width` pixels wide: raster, along the cell edges between the
// mask and the rest; irregular, around the mask's Voronoi cells.
void stroke_outline(cairo_t* cr, const MapGeometry& g, const std::vector<std::uint8_t>& mask, Rgb colour, double alpha,
                    double width) {
  if (count_set(mask) == 0) return;
  cairo_save(cr);
  if (g.raster) {
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    raster_outline_path(cr, g, mask_on_cells(g, mask));
  } else {
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    point_outline_path(cr, g, mask);
  }
  cairo_set_line_width(cr, width);
  set_colour(cr, colour, alpha);
  cairo_stroke(cr);
  cairo_restore(cr);
}

// Outlines of several masks, each on a thin dark casing that keeps it visible over any grey. The
// first is drawn last (on top): give later ones wider lines, so that where outlines coincide (at
// the scan's edge, say) each shows as a rim around the one above it.
struct Outline {
  const std::vector<std::uint8_t>* mask;
  Rgb colour;
  double width;
};

void draw_outlines(cairo_t* cr, const MapGeometry& g, const std::vector<Outline>& outlines) {
  for (std::size_t i = outlines.size(); i-- > 0;) {
    stroke_outline(cr, g, *outlines[i].mask, Rgb{0.0, 0.0, 0.0}, 0.7, outlines[i].width + 1.6);
  }
  for (std::size_t i = outlines.size(); i-- > 0;) {
    stroke_outline(cr, g, *outlines[i].mask, outlines[i].colour, 1.0, outlines[i].width);
  }
}

// Outline widths: `base` for the first, `step` more for each further one.
struct LineWidths {
  double base = 2.0;
  double step = 1.5;
  [[nodiscard]] double of(std::size_t index) const { return base + step * static_cast<double>(index); }
};

LineWidths line_widths(const MapGeometry& g) {
  const double scan_step = g.raster ? std::min(g.cell_width, g.cell_height) : g.spacing;
  return {std::clamp(0.15 * scan_step, 2.0, 2.5), std::clamp(0.12 * scan_step, 1.2, 2.0)};
}

// ---- the panel: legends, the colour wheel, colour bars ------------------------------------------
struct Extent {
  double width = 0.0;
  double height = 0.0;
};

enum class Swatch { kFill, kLine, kTint };

struct LegendEntry {
  Swatch swatch = Swatch::kFill;
  Rgb colour;
  std::size_t outline = 0;  // kLine, kTint: drawn as the map draws outline number `outline`
  std::string text;
  std::string detail;  // a second, smaller line; may be empty
};

struct Legend {
  std::string heading;
  std::vector<LegendEntry> entries;
};

struct ColourBar {
  std::string label;
  Range range;
  bool grey = false;  // the grey ramp under overlays, else viridis
};

struct Wheel {
  double full_magnitude = 1.0;  // |(sx, sy)| shown at full brightness
};

struct Panel {
  std::optional<Legend> legend;
  std::optional<Wheel> wheel;
  std::optional<ColourBar> bar;
};

constexpr double kSwatchWidth = 28.0;
constexpr double kSwatchHeight = 16.0;
constexpr double kSwatchGap = 10.0;

void draw_swatch(cairo_t* cr, double x, double y, const LegendEntry& entry, const LineWidths& widths) {
  cairo_save(cr);
  if (entry.swatch == Swatch::kFill) {
    set_colour(cr, entry.colour);
    cairo_rectangle(cr, x, y, kSwatchWidth, kSwatchHeight);
    cairo_fill(cr);
  } else {
    // A line or a tint over the grey the overlays are drawn on.
    set_colour(cr, grey_ramp(0.55));
    cairo_rectangle(cr, x, y, kSwatchWidth, kSwatchHeight);
    cairo_fill(cr);
    if (entry.swatch == Swatch::kTint) {
      set_colour(cr, entry.colour, 0.45);
      cairo_rectangle(cr, x, y, kSwatchWidth, kSwatchHeight);
      cairo_fill(cr);
    }
    cairo_move_to(cr, x + 3.0, y + kSwatchHeight / 2.0);
    cairo_line_to(cr, x + kSwatchWidth - 3.0, y + kSwatchHeight / 2.0);
    const double width = widths.of(entry.outline);
    cairo_set_line_width(cr, width + 1.6);
    cairo_set_source_rgba(cr, 0.0, 0.0, 0.0, 0.7);
    cairo_stroke_preserve(cr);
    cairo_set_line_width(cr, width);
    set_colour(cr, entry.colour);
    cairo_stroke(cr);
  }
  cairo_set_line_width(cr, 1.0);
  set_colour(cr, kMutedInk);
  cairo_rectangle(cr, x + 0.5, y + 0.5, kSwatchWidth - 1.0, kSwatchHeight - 1.0);
  cairo_stroke(cr);
  cairo_restore(cr);
}

Extent draw_legend(cairo_t* cr, double x, double y, const Legend& legend, const LineWidths& widths) {
  Extent extent;
  double cursor = y;
  if (!legend.heading.empty()) {
    set_font(cr, kTextSize, true);
    set_colour(cr, kInk);
    show_text(cr, x, cursor + 14.0, legend.heading);
    extent.width = text_width(cr, legend.heading);
    cursor += 26.0;
  }
  for (const LegendEntry& entry : legend.entries) {
    draw_swatch(cr, x, cursor + 1.0, entry, widths);
    set_font(cr, kTextSize);
    set_colour(cr, kInk);
    const double text_x = x + kSwatchWidth + kSwatchGap;
    show_text(cr, text_x, cursor + 14.0, entry.text);
    double width = text_width(cr, entry.text);
    cursor += 22.0;
    if (!entry.detail.empty()) {
      set_font(cr, kSmallSize);
      set_colour(cr, kMutedInk);
      show_text(cr, text_x, cursor + 11.0, entry.detail);
      width = std::max(width, text_width(cr, entry.detail));
      cursor += 18.0;
    }
    extent.width = std::max(extent.width, kSwatchWidth + kSwatchGap + width);
    cursor += 6.0;
  }
  extent.height = cursor - y;
  return extent;
}

constexpr double kWheelRadius = 64.0;

Extent draw_wheel(cairo_t* cr, double x, double y, const Wheel& wheel) {
  set_font(cr, kTextSize, true);
  set_colour(cr, kInk);
  const std::string heading = "CoM direction and size";
  show_text(cr, x, y + 14.0, heading);
  double width = text_width(cr, heading);
  // The wheel in the same screen frame as the map: +sx to the right, +sy down.
  const double centre_x = x + 30.0 + kWheelRadius;
  const double centre_y = y + 40.0 + kWheelRadius;
  const int size = static_cast<int>(2.0 * kWheelRadius) + 2;
  Surface disc = image_surface(size, size);
  cairo_surface_flush(disc.get());
  for (int row = 0; row < size; ++row) {
    for (int col = 0; col < size; ++col) {
      const double dx = col + 0.5 - size / 2.0;
      const double dy = row + 0.5 - size / 2.0;
      put_pixel(disc.get(), col, row, argb_pixel(colour_wheel(std::atan2(dy, dx), std::hypot(dx, dy) / kWheelRadius)));
    }
  }
  cairo_surface_mark_dirty(disc.get());
  cairo_save(cr);
  cairo_arc(cr, centre_x, centre_y, kWheelRadius, 0.0, 2.0 * kPi);
  cairo_clip(cr);
  cairo_set_source_surface(cr, disc.get(), centre_x - size / 2.0, centre_y - size / 2.0);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_arc(cr, centre_x, centre_y, kWheelRadius, 0.0, 2.0 * kPi);
  cairo_set_line_width(cr, 1.0);
  set_colour(cr, kMutedInk);
  cairo_stroke(cr);

  set_font(cr, kSmallSize);
  set_colour(cr, kInk);
  show_text(cr, centre_x + kWheelRadius + 6.0, centre_y + 4.0, "+sx");
  show_text(cr, centre_x - kWheelRadius - 6.0, centre_y + 4.0, "\u2212sx", Align::kRight);
  show_text(cr, centre_x, centre_y - kWheelRadius - 6.0, "\u2212sy", Align::kCentre);
  show_text(cr, centre_x, centre_y + kWheelRadius + 16.0, "+sy", Align::kCentre);
  width = std::max(width, centre_x + kWheelRadius + 6.0 + text_width(cr, "+sx") - x);

  double cursor = centre_y + kWheelRadius + 40.0;
  set_colour(cr, kMutedInk);
  const std::string lines[] = {"hue: direction of (sx, sy)", "brightness: c = |(sx, sy)|,",
                               "black at 0, full at c \u2265 " + fixed(wheel.full_magnitude, 2)};
  for (const std::string& line : lines) {
    show_text(cr, x, cursor, line);
    width = std::max(width, text_width(cr, line));
    cursor += 17.0;
  }
  return {width, cursor - y};
}

constexpr double kBarWidth = 24.0;
constexpr double kArrow = 14.0;  // height of the triangle that marks clipped values

Rgb bar_colour(const ColourBar& bar, double t) { return bar.grey ? grey_ramp(t) : viridis(t); }

Extent draw_colour_bar(cairo_t* cr, double x, double y, double bar_height, const ColourBar& bar) {
  const Range& range = bar.range;
  set_font(cr, kTextSize, true);
  set_colour(cr, kInk);
  show_text(cr, x, y + 14.0, bar.label);
  double width = text_width(cr, bar.label);
  const double top = y + 28.0 + kArrow;
  const double bottom = top + bar_height;

  // The ramp as a gradient through every entry of the table (top = high).
  cairo_pattern_t* gradient = cairo_pattern_create_linear(0.0, bottom, 0.0, top);
  const int stops = bar.grey ? 2 : 256;
  for (int i = 0; i < stops; ++i) {
    const double t = static_cast<double>(i) / (stops - 1);
    const Rgb c = bar_colour(bar, t);
    cairo_pattern_add_color_stop_rgb(gradient, t, c.r, c.g, c.b);
  }
  cairo_set_source(cr, gradient);
  cairo_rectangle(cr, x, top, kBarWidth, bar_height);
  cairo_fill(cr);
  cairo_pattern_destroy(gradient);

  // Values beyond the colour limits show in the end colours: triangles say so.
  const auto arrow = [&](double base, double tip, Rgb c) {
    cairo_move_to(cr, x, base);
    cairo_line_to(cr, x + kBarWidth, base);
    cairo_line_to(cr, x + kBarWidth / 2.0, tip);
    cairo_close_path(cr);
    set_colour(cr, c);
    cairo_fill_preserve(cr);
    cairo_set_line_width(cr, 1.0);
    set_colour(cr, kMutedInk);
    cairo_stroke(cr);
  };
  if (range.clipped_high) arrow(top, top - kArrow, bar_colour(bar, 1.0));
  if (range.clipped_low) arrow(bottom, bottom + kArrow, bar_colour(bar, 0.0));
  cairo_set_line_width(cr, 1.0);
  set_colour(cr, kMutedInk);
  cairo_rectangle(cr, x - 0.5, top - 0.5, kBarWidth + 1.0, bar_height + 1.0);
  cairo_stroke(cr);

  set_font(cr, kSmallSize);
  set_colour(cr, kInk);
  const double label_x = x + kBarWidth + 10.0;
  const auto tick = [&](double at, const std::string& text) {
    cairo_move_to(cr, x + kBarWidth, at);
    cairo_line_to(cr, x + kBarWidth + 5.0, at);
    cairo_stroke(cr);
    show_text(cr, label_x, at + 4.5, text);
    width = std::max(width, label_x + text_width(cr, text) - x);
  };
  if (range.constant) {
    tick((top + bottom) / 2.0,
         range.constant_label.empty() ? fixed(range.constant_value, 3) + " (constant)" : range.constant_label);
  } else {
    const double per_pixel = (range.hi - range.lo) / bar_height;
    const Ticks ticks = nice_ticks(range.lo, range.hi, 34.0 * per_pixel);
    for (double v : ticks.values) tick(bottom - (v - range.lo) / per_pixel, fixed(v, ticks.decimals));
  }
  double cursor = bottom + kArrow + 8.0;
  if (range.clipped_low || range.clipped_high) {
    set_font(cr, kSmallSize);
    set_colour(cr, kMutedInk);
    for (const char* line : {"\u25B2\u25BC: beyond the 0.5th-99.5th", "percentile, in the end colours"}) {
      cursor += 15.0;
      show_text(cr, x, cursor, line);
      width = std::max(width, text_width(cr, line));
    }
  }
  return {width, cursor - y};
}

// Draws the panel's items top to bottom; returns its extent. The bar takes what height the map
// leaves, within limits.
Extent draw_panel(cairo_t* cr, double x, double y, const MapGeometry& map, const Panel& panel) {
  Extent extent;
  double cursor = y;
  if (panel.legend) {
    const Extent e = draw_legend(cr, x, cursor, *panel.legend, line_widths(map));
    extent.width = std::max(extent.width, e.width);
    cursor += e.height + 18.0;
  }
  if (panel.wheel) {
    const Extent e = draw_wheel(cr, x, cursor, *panel.wheel);
    extent.width = std::max(extent.width, e.width);
    cursor += e.height + 18.0;
  }
  if (panel.bar) {
    const double bar_height = std::clamp(0.8 * map.height - (cursor - y), 160.0, 380.0);
    const Extent e = draw_colour_bar(cr, x, cursor, bar_height, *panel.bar);
    extent.width = std::max(extent.width, e.width);
    cursor += e.height;
  }
  extent.height = cursor - y;
  return extent;
}

// ---- one image ----------------------------------------------------------------------------------
struct ImageSpec {
  std::string file;      // e.g. "absorption.png"
  std::string what;      // after the title: "absorption, ln T"
  std::string subtitle;  // the second line
  Panel panel;
  std::function<void(cairo_t*, const MapGeometry&)> draw_map;
};

struct Layout {
  int width = 0;
  int height = 0;
  double left = 0.0;  // of the content (centred when the image is wider than it)
  double map_x = 0.0;
  double map_y = 0.0;
  double panel_x = 0.0;
  MapGeometry map;
  bool pixel_positions = false;  // irregular axes in the positions' pixels, not µm
};

void draw_axes(cairo_t* cr, const Layout& layout) {
  const MapGeometry& g = layout.map;
  const double x0 = layout.map_x;
  const double y0 = layout.map_y;
  const double bottom = y0 + g.height;
  cairo_set_line_width(cr, 1.0);
  set_colour(cr, kMutedInk);
  cairo_rectangle(cr, x0 - 0.5, y0 - 0.5, g.width + 1.0, g.height + 1.0);
  cairo_stroke(cr);

  set_font(cr, kSmallSize);
  double widest_y_label = 0.0;
  const auto x_tick = [&](double at, const std::string& text) {
    set_colour(cr, kMutedInk);
    cairo_move_to(cr, x0 + at, bottom + 0.5);
    cairo_line_to(cr, x0 + at, bottom + 6.0);
    cairo_stroke(cr);
    set_colour(cr, kInk);
    show_text(cr, x0 + at, bottom + 20.0, text, Align::kCentre);
  };
  const auto y_tick = [&](double at, const std::string& text) {
    set_colour(cr, kMutedInk);
    cairo_move_to(cr, x0 - 0.5, y0 + at);
    cairo_line_to(cr, x0 - 6.0, y0 + at);
    cairo_stroke(cr);
    set_colour(cr, kInk);
    show_text(cr, x0 - 9.0, y0 + at + 4.5, text, Align::kRight);
    widest_y_label = std::max(widest_y_label, text_width(cr, text));
  };
  std::string x_label;
  std::string y_label;
  if (g.raster) {
    // Column and row numbers from 0 (frame k at row k / cols in a --grid raster), at cell centres.
    const auto integer_step = [](double min_step) {
      return std::max<std::int64_t>(1, std::llround(nice_step(std::max(1.0, min_step))));
    };
    // A narrow axis with a single tick also gets its last cell's, where there is room.
    const auto cell_ticks = [&](std::int64_t count, double cell, double min_gap) {
      std::vector<std::int64_t> ticks;
      const std::int64_t step = integer_step(min_gap / cell);
      for (std::int64_t i = 0; i < count; i += step) ticks.push_back(i);
      if (ticks.size() == 1 && count > 1 && static_cast<double>(count - 1) * cell >= 0.6 * min_gap) {
        ticks.push_back(count - 1);
      }
      return ticks;
    };
    for (std::int64_t col : cell_ticks(g.grid.cols, g.cell_width, 56.0)) {
      x_tick((static_cast<double>(col) + 0.5) * g.cell_width, std::to_string(col));
    }
    for (std::int64_t row : cell_ticks(g.grid.rows, g.cell_height, 30.0)) {
      y_tick((static_cast<double>(row) + 0.5) * g.cell_height, std::to_string(row));
    }
    x_label = "column (x \u2192)";
    y_label = "row (y \u2193)";
    if (g.cell_width > g.cell_height) x_label += ", stretched";
    if (g.cell_height > g.cell_width) y_label += ", stretched";
  } else {
    const bool pixels = layout.pixel_positions;
    const double kMicro = pixels ? 1.0 : 1e6;  // axes in µm, or in the positions' own pixels
    const Ticks xs = nice_ticks(g.x_min * kMicro, (g.x_min + g.width / g.scale_x) * kMicro, 70.0 / g.scale_x * kMicro);
    for (double v : xs.values) x_tick((v / kMicro - g.x_min) * g.scale_x, fixed(v, xs.decimals));
    const Ticks ys = nice_ticks(g.y_min * kMicro, (g.y_min + g.height / g.scale_y) * kMicro, 34.0 / g.scale_y * kMicro);
    for (double v : ys.values) y_tick((v / kMicro - g.y_min) * g.scale_y, fixed(v, ys.decimals));
    x_label = pixels ? "x (px)" : "x (\u00b5m)";
    y_label = pixels ? "y (px, down)" : "y (\u00b5m, down)";
    if (g.scale_x > g.scale_y) x_label += ", stretched";
    if (g.scale_y > g.scale_x) y_label += ", stretched";
  }
  set_font(cr, kTextSize);
  set_colour(cr, kInk);
  // A map too flat for the y label along it (a single row, say): the label joins the x label.
  if (text_width(cr, y_label) > g.height + 40.0) {
    x_label += "; " + y_label;
    y_label = g.raster ? "row" : "y";
  }
  show_text(cr, x0 + g.width / 2.0, bottom + 44.0, x_label, Align::kCentre);
  cairo_save(cr);
  cairo_translate(cr, std::max(layout.left + 16.0, x0 - 9.0 - widest_y_label - 10.0), y0 + g.height / 2.0);
  cairo_rotate(cr, -kPi / 2.0);
  show_text(cr, 0.0, 0.0, y_label, Align::kCentre);
  cairo_restore(cr);
}

void write_png(cairo_surface_t* surface, const std::string& path) {
  errno = 0;
  const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
  if (status != CAIRO_STATUS_SUCCESS) {
    std::string reason = cairo_status_to_string(status);
    if (errno != 0) reason += std::string(" (") + std::strerror(errno) + ")";
    throw IoError("cannot write the preview image '" + path + "': " + reason);
  }
}

void render(const ImageSpec& spec, const Layout& layout, const std::string& title, const std::string& path) {
  Surface surface = image_surface(layout.width, layout.height);
  Context context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
  cairo_paint(cr);

  // Title band: what the image shows, for which scan, and how to read it.
  const double text_left = 16.0;
  const double text_width_max = layout.width - 2.0 * text_left;
  set_font(cr, kTitleSize, true);
  set_colour(cr, kInk);
  const std::string suffix = " \u2014 " + spec.what;
  const std::string shown_title = fit_text(cr, title, std::max(40.0, text_width_max - text_width(cr, suffix)));
  show_text(cr, text_left, kTitleBaseline, fit_text(cr, shown_title + suffix, text_width_max));
  set_subtitle_font(cr);
  set_colour(cr, kMutedInk);
  double baseline = kSubtitleBaseline;
  for (const std::string& line : wrap_text(cr, spec.subtitle, text_width_max, kMaxSubtitleLines)) {
    show_text(cr, text_left, baseline, line);
    baseline += kSubtitleLeading;
  }

  cairo_save(cr);
  cairo_translate(cr, layout.map_x, layout.map_y);
  spec.draw_map(cr, layout.map);
  cairo_restore(cr);
  draw_axes(cr, layout);
  draw_panel(cr, layout.panel_x, layout.map_y, layout.map, spec.panel);

  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
    throw IoError("preview: drawing '" + path + "' failed: " + cairo_status_to_string(cairo_status(cr)));
  }
  cairo_surface_flush(surface.get());
  write_png(surface.get(), path);
}

// ---- checks and the seven images ----------------------------------------------------------------
void check_input(const PreviewInput& input) {
  const std::size_t frames = input.transmission.size();
  if (frames == 0) throw InputError("preview: the scan has no frames");
  const auto same = [&](std::size_t size, const std::string& name) {
    if (size != frames) {
      throw InputError("preview: " + name + " has " + std::to_string(size) + " entries, expected one per frame (" +
                       std::to_string(frames) + ")");
    }
  };
  same(input.x.size(), "x");
  same(input.y.size(), "y");
  same(input.com_magnitude.size(), "com_magnitude");
  same(input.com_x.size(), "com_x");
  same(input.com_y.size(), "com_y");
  same(input.absorption_roi.size(), "absorption_roi");
  same(input.scattering_roi.size(), "scattering_roi");
  same(input.roi.size(), "roi");
  for (const auto& [border, mask] : input.roi_at_borders)
    same(mask.size(), "the RoI at border " + signed_border(border));
  const GridShape grid = input.grid;
  if (grid.rows == 0 && grid.cols == 0) {
    if (!input.cell_of_frame.empty()) throw InputError("preview: cell_of_frame is given for an irregular scan");
    for (std::size_t k = 0; k < frames; ++k) {
      if (!std::isfinite(input.x[k]) || !std::isfinite(input.y[k])) {
        throw InputError("preview: frame " + std::to_string(k) + " of an irregular scan has no finite position");
      }
    }
    return;
  }
  if (grid.rows <= 0 || grid.cols <= 0 || grid.rows > kMaxRasterSide || grid.cols > kMaxRasterSide) {
    throw InputError("preview: cannot draw a " + std::to_string(grid.rows) + "x" + std::to_string(grid.cols) +
                     " raster");
  }
  same(input.cell_of_frame.size(), "cell_of_frame");
  for (std::size_t k = 0; k < frames; ++k) {
    if (input.cell_of_frame[k] < 0 || input.cell_of_frame[k] >= grid.rows * grid.cols) {
      throw InputError("preview: frame " + std::to_string(k) + " is at cell " + std::to_string(input.cell_of_frame[k]) +
                       ", outside the " + std::to_string(grid.rows) + "x" + std::to_string(grid.cols) + " raster");
    }
  }
}

std::string scan_description(const PreviewInput& input) {
  const std::size_t frames = input.transmission.size();
  if (input.grid.rows > 0) {
    return std::to_string(input.grid.rows) + " \u00d7 " + std::to_string(input.grid.cols) + " raster (rows \u00d7 " +
           "columns), " + frames_text(frames);
  }
  const auto [x_lo, x_hi] = std::minmax_element(input.x.begin(), input.x.end());
  const auto [y_lo, y_hi] = std::minmax_element(input.y.begin(), input.y.end());
  const bool pixels = input.position_unit == "px";
  const double scale = pixels ? 1.0 : 1e6;
  const double span = std::max(*x_hi - *x_lo, *y_hi - *y_lo) * scale;
  if (!(span > 0.0)) return "irregular scan, " + frames_text(frames) + " at one position";
  const int decimals = span >= 100.0 ? 0 : span >= 10.0 ? 1 : 2;
  return "irregular scan, " + frames_text(frames) + " over " + fixed((*x_hi - *x_lo) * scale, decimals) + " \u00d7 " +
         fixed((*y_hi - *y_lo) * scale, decimals) + (pixels ? " px" : " \u00b5m");
}

std::string range_note(const LogMap& map, const Range& range, const std::string& symbol) {
  std::string note;
  if (!map.any_positive) {
    note += "; no frame has " + symbol + " > 0";
  } else if (map.floored > 0) {
    note += "; " + symbol + " \u2264 0 in " + frames_text(map.floored) + ", shown at the smallest positive " + symbol;
  }
  if (map.missing > 0) note += "; " + frames_text(map.missing) + " without a value (grey)";
  if (range.constant && map.any_positive) note += "; constant map";
  return note;
}

std::vector<Rgb> map_colours(const std::vector<double>& values, const Range& range, bool grey) {
  std::vector<Rgb> colours(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!std::isfinite(values[k])) {
      colours[k] = kNoData;
    } else {
      const double t = range.constant ? 0.5 : range.normalise(values[k]);
      colours[k] = grey ? grey_ramp(t) : viridis(t);
    }
  }
  return colours;
}

void add_no_data_entry(Panel& panel, std::size_t missing) {
  if (missing == 0) return;
  if (!panel.legend) panel.legend = Legend{};
  panel.legend->entries.push_back({Swatch::kFill, kNoData, 0, "no value", frames_text(missing)});
}

std::vector<ImageSpec> image_specs(const PreviewInput& input) {
  const std::size_t frames = input.transmission.size();
  const std::string scan = scan_description(input);
  std::vector<ImageSpec> specs;

  // Absorption: ln T in viridis.
  const auto log_t = std::make_shared<LogMap>(log_with_floor(input.transmission));
  Range t_range = colour_range(log_t->value);
  if (!log_t->any_positive) t_range.constant_label = "no T > 0";
  {
    ImageSpec spec;
    spec.file = "absorption.png";
    spec.what = "absorption, ln T";
    spec.subtitle = scan + "; T = sum of the pattern's pixels" + range_note(*log_t, t_range, "T");
    spec.panel.bar = ColourBar{"ln T", t_range, false};
    add_no_data_entry(spec.panel, log_t->missing);
    auto colours = std::make_shared<std::vector<Rgb>>(map_colours(log_t->value, t_range, false));
    spec.draw_map = [colours](cairo_t* cr, const MapGeometry& g) { paint_frames(cr, g, *colours); };
    specs.push_back(std::move(spec));
  }

  // Scattering: ln c in viridis.
  {
    const LogMap log_c = log_with_floor(input.com_magnitude);
    Range c_range = colour_range(log_c.value);
    if (!log_c.any_positive) c_range.constant_label = "no c > 0";
    ImageSpec spec;
    spec.file = "scattering.png";
    spec.what = "scattering, ln c";
    spec.subtitle = scan + "; c = |(sx, sy)|, the standardised centre of mass" + range_note(log_c, c_range, "c");
    spec.panel.bar = ColourBar{"ln c", c_range, false};
    add_no_data_entry(spec.panel, log_c.missing);
    auto colours = std::make_shared<std::vector<Rgb>>(map_colours(log_c.value, c_range, false));
    spec.draw_map = [colours](cairo_t* cr, const MapGeometry& g) { paint_frames(cr, g, *colours); };
    specs.push_back(std::move(spec));
  }

  // CoM vector field: hue = direction, brightness = length, full at the 99th percentile.
  {
    std::vector<double> lengths;
    std::size_t missing = 0;
    for (std::size_t k = 0; k < frames; ++k) {
      const double length = std::hypot(input.com_x[k], input.com_y[k]);
      if (std::isfinite(length)) {
        lengths.push_back(length);
      } else {
        ++missing;
      }
    }
    double full = 1.0;
    if (!lengths.empty()) {
      std::sort(lengths.begin(), lengths.end());
      const double p99 = lengths[static_cast<std::size_t>(std::lround(0.99 * static_cast<double>(lengths.size() - 1)))];
      if (p99 > 0.0) full = p99;
    }
    auto colours = std::make_shared<std::vector<Rgb>>(frames);
    for (std::size_t k = 0; k < frames; ++k) {
      const double sx = input.com_x[k];
      const double sy = input.com_y[k];
      (*colours)[k] = std::isfinite(sx) && std::isfinite(sy)
                          ? colour_wheel(std::atan2(sy, sx), std::hypot(sx, sy) / full)
                          : kNoData;
    }
    ImageSpec spec;
    spec.file = "com_field.png";
    spec.what = "centre-of-mass field";
    spec.subtitle = scan + "; (sx, sy) = the standardised centre of mass, +sy drawn downwards";
    spec.panel.wheel = Wheel{full};
    add_no_data_entry(spec.panel, missing);
    spec.draw_map = [colours](cairo_t* cr, const MapGeometry& g) { paint_frames(cr, g, *colours); };
    specs.push_back(std::move(spec));
  }

  // The two selected clusters.
  const auto cluster_image = [&](const std::string& file, const std::string& what, const std::string& selected_name,
                                 const std::string& subtitle, const std::vector<std::uint8_t>& mask, Rgb colour) {
    const std::size_t in = count_set(mask);
    ImageSpec spec;
    spec.file = file;
    spec.what = what;
    spec.subtitle = scan + "; " + subtitle;
    Legend legend;
    legend.heading = "k-means cluster";
    legend.entries.push_back({Swatch::kFill, colour, 0, selected_name, frames_text(in) + ", " + percent(in, frames)});
    legend.entries.push_back(
        {Swatch::kFill, kOtherCluster, 0, "other", frames_text(frames - in) + ", " + percent(frames - in, frames)});
    spec.panel.legend = legend;
    auto colours = std::make_shared<std::vector<Rgb>>(frames);
    for (std::size_t k = 0; k < frames; ++k) (*colours)[k] = mask[k] != 0 ? colour : kOtherCluster;
    spec.draw_map = [colours](cairo_t* cr, const MapGeometry& g) { paint_frames(cr, g, *colours); };
    specs.push_back(std::move(spec));
  };
  cluster_image("absorption_cluster.png", "absorption cluster", "absorbing (lowest ln T)",
                "clusters of the 3\u00d73-smoothed ln T", input.absorption_roi, okabe_ito_blue());
  cluster_image("scattering_cluster.png", "scattering cluster", "scattering (highest ln c)",
                "clusters of the 3\u00d73-smoothed ln c", input.scattering_roi, okabe_ito_bluish_green());

  // The grey absorption map the RoI is drawn over.
  auto grey = std::make_shared<std::vector<Rgb>>(map_colours(log_t->value, t_range, true));
  const ColourBar grey_bar{"ln T", t_range, true};

  // The RoI: tinted and outlined.
  {
    const std::size_t in = count_set(input.roi);
    ImageSpec spec;
    spec.file = "roi.png";
    spec.what = "region of interest";
    spec.subtitle = scan + "; RoI = absorbing \u222a scattering cluster, border " + signed_border(input.border_steps) +
                    " scan steps, over ln T";
    Legend legend;
    legend.heading = "RoI at border " + signed_border(input.border_steps);
    legend.entries.push_back({Swatch::kTint, okabe_ito_vermillion(), 0, "in the RoI",
                              std::to_string(in) + " of " + frames_text(frames) + ", " + percent(in, frames)});
    spec.panel.legend = legend;
    spec.panel.bar = grey_bar;
    auto mask = std::make_shared<std::vector<std::uint8_t>>(input.roi);
    spec.draw_map = [grey, mask](cairo_t* cr, const MapGeometry& g) {
      paint_frames(cr, g, *grey);
      tint_mask(cr, g, *mask, okabe_ito_vermillion(), 0.45);
      draw_outlines(cr, g, {{mask.get(), okabe_ito_vermillion(), line_widths(g).base}});
    };
    specs.push_back(std::move(spec));
  }

  // The RoI's outline at each border, in distinct colours.
  {
    auto borders = std::make_shared<std::vector<std::pair<int, std::vector<std::uint8_t>>>>(input.roi_at_borders);
    if (borders->empty()) borders->emplace_back(input.border_steps, input.roi);
    std::stable_sort(borders->begin(), borders->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    ImageSpec spec;
    spec.file = "roi_borders.png";
    spec.what = "RoI at each border";
    spec.subtitle = scan + "; border n: the RoI grown (n > 0) or shrunk (n < 0) by n scan steps, over ln T";
    Legend legend;
    legend.heading = "RoI outline";
    for (std::size_t i = 0; i < borders->size(); ++i) {
      const auto& [border, mask] = (*borders)[i];
      const std::size_t in = count_set(mask);
      std::string text = "border " + signed_border(border) + ": " + percent(in, frames);
      if (border == input.border_steps) text += " (selected)";
      legend.entries.push_back({Swatch::kLine, category_colour(i), i, text, frames_text(in)});
    }
    spec.panel.legend = legend;
    spec.panel.bar = grey_bar;
    spec.draw_map = [grey, borders](cairo_t* cr, const MapGeometry& g) {
      paint_frames(cr, g, *grey);
      const LineWidths widths = line_widths(g);
      std::vector<Outline> outlines;
      for (std::size_t i = 0; i < borders->size(); ++i) {
        outlines.push_back({&(*borders)[i].second, category_colour(i), widths.of(i)});
      }
      draw_outlines(cr, g, outlines);
    };
    specs.push_back(std::move(spec));
  }
  return specs;
}

Layout make_layout(const PreviewInput& input, const std::vector<ImageSpec>& specs) {
  // The panel's width and height, measured by drawing each panel on a scratch surface.
  Surface scratch = image_surface(1, 1);
  Context scratch_context(cairo_create(scratch.get()));
  double panel_width = kMinPanelWidth;
  for (const ImageSpec& spec : specs) {
    panel_width = std::max(panel_width, draw_panel(scratch_context.get(), 0.0, 0.0, MapGeometry{}, spec.panel).width);
  }
  panel_width = std::min(std::ceil(panel_width), kMaxPanelWidth);

  Layout layout;
  layout.pixel_positions = input.position_unit == "px";
  const double max_map_width = kMaxWidth - kMarginLeft - kPanelGap - panel_width - kMarginRight;
  layout.map = map_geometry(input, max_map_width);
  double panel_height = 0.0;
  for (const ImageSpec& spec : specs) {
    panel_height = std::max(panel_height, draw_panel(scratch_context.get(), 0.0, 0.0, layout.map, spec.panel).height);
  }
  const double content_width = kMarginLeft + layout.map.width + kPanelGap + panel_width + kMarginRight;
  layout.width = static_cast<int>(std::ceil(std::max(kMinWidth, content_width)));
  layout.left = std::floor((layout.width - content_width) / 2.0);
  layout.map_x = layout.left + kMarginLeft;
  // The title band: as many subtitle lines as the widest image needs.
  set_subtitle_font(scratch_context.get());
  std::size_t lines = 1;
  for (const ImageSpec& spec : specs) {
    lines =
        std::max(lines, wrap_text(scratch_context.get(), spec.subtitle, layout.width - 32.0, kMaxSubtitleLines).size());
  }
  layout.map_y = std::round(kSubtitleBaseline + kSubtitleLeading * static_cast<double>(lines - 1) + 30.0);
  layout.panel_x = std::round(layout.map_x + layout.map.width + kPanelGap);
  layout.height = static_cast<int>(std::ceil(layout.map_y + std::max(layout.map.height, panel_height) + kMarginBottom));
  return layout;
}

}  // namespace

PreviewLayout preview_layout(const PreviewInput& input) {
  check_input(input);
  const Layout layout = make_layout(input, image_specs(input));
  PreviewLayout result;
  result.width = layout.width;
  result.height = layout.height;
  result.map_x = layout.map_x;
  result.map_y = layout.map_y;
  result.map_width = layout.map.width;
  result.map_height = layout.map.height;
  result.frame_centre.reserve(layout.map.centre.size());
  for (const Point& p : layout.map.centre) result.frame_centre.push_back({layout.map_x + p.x, layout.map_y + p.y});
  return result;
}

const std::vector<std::string>& preview_file_names() {
  static const std::vector<std::string> names{"absorption.png",         "scattering.png",         "com_field.png",
                                              "absorption_cluster.png", "scattering_cluster.png", "roi.png",
                                              "roi_borders.png"};
  return names;
}

void check_previewable(const GridShape& grid) {
  if (grid.rows > kMaxRasterSide || grid.cols > kMaxRasterSide) {
    throw UsageError("--preview cannot draw the " + std::to_string(grid.rows) + "x" + std::to_string(grid.cols) +
                     " raster: a PNG preview holds at most " + std::to_string(kMaxRasterSide) +
                     " rows and columns; run without --preview");
  }
}

void render_previews(const PreviewInput& input, const std::vector<std::string>& paths) {
  check_input(input);
  const std::vector<ImageSpec> specs = image_specs(input);
  if (paths.size() != specs.size()) {
    throw InternalError("preview: " + std::to_string(paths.size()) + " paths for " + std::to_string(specs.size()) +
                        " images");
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].file != preview_file_names().at(i))
      throw InternalError("preview: image " + specs[i].file + " out of order");
  }
  const Layout layout = make_layout(input, specs);
  for (std::size_t i = 0; i < specs.size(); ++i) render(specs[i], layout, valid_utf8(input.title), paths[i]);
}

std::vector<std::string> write_previews(const PreviewInput& input, const std::string& directory) {
  check_input(input);
  if (directory.empty()) throw IoError("cannot write previews: the preview directory name is empty");
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error || !std::filesystem::is_directory(directory)) {
    throw IoError("cannot create the preview directory '" + directory +
                  "': " + (error ? error.message() : std::string("it exists and is not a directory")));
  }
  std::vector<std::string> paths;
  for (const std::string& name : preview_file_names()) {
    paths.push_back((std::filesystem::path(directory) / name).string());
  }
  render_previews(input, paths);
  return paths;
}

void release_preview_caches() {
  cairo_debug_reset_static_data();  // cairo's font faces and scaled fonts, which hold fontconfig patterns
  FcFini();                         // then fontconfig's configuration and font list
}

}  // namespace ptyroi
