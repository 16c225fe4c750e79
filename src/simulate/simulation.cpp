#include "ptyroi/simulate/simulation.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>

#include "ptyroi/core/error.hpp"
#include "ptyroi/numerics/random.hpp"

namespace ptyroi::simulation {

namespace {

constexpr double kPi = 3.14159265358979323846;

using ptyroi::uniform;  // the [0, 1) one, next to the local overload below

double uniform(std::mt19937_64& engine, double low, double high) { return low + (high - low) * uniform(engine); }

// Periodic index shift by half the grid: moves index 0 to n/2 (fftshift).
int shifted(int index, int n) { return (index + n / 2) % n; }

void check_window(const ComplexGrid& object, int top, int left, int rows, int cols) {
  if (top < 0 || left < 0 || top + rows > object.rows || left + cols > object.cols) {
    throw InputError("the " + std::to_string(rows) + "x" + std::to_string(cols) + " probe window at (" +
                     std::to_string(top) + ", " + std::to_string(left) + ") lies outside the " +
                     std::to_string(object.rows) + "x" + std::to_string(object.cols) + " object");
  }
}

// Transmission contrast of the phantom per unit Shepp–Logan density.
constexpr double kPhantomAbsorption = 0.3;
constexpr double kPhantomPhase = 1.0;

// Modified Shepp–Logan (Toft): density, semi-axes a (x) and b (y), centre, rotation in degrees,
// on [-1, 1]² with y pointing up.
struct PhantomEllipse {
  double density, a, b, x, y, degrees;
};
constexpr PhantomEllipse kSheppLogan[] = {
    {1.0, 0.69, 0.92, 0.0, 0.0, 0.0},      {-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0},
    {-0.2, 0.11, 0.31, 0.22, 0.0, -18.0},  {-0.2, 0.16, 0.41, -0.22, 0.0, 18.0},
    {0.1, 0.21, 0.25, 0.0, 0.35, 0.0},     {0.1, 0.046, 0.046, 0.0, 0.1, 0.0},
    {0.1, 0.046, 0.046, 0.0, -0.1, 0.0},   {0.1, 0.046, 0.023, -0.08, -0.605, 0.0},
    {0.1, 0.023, 0.023, 0.0, -0.606, 0.0}, {0.1, 0.023, 0.046, 0.06, -0.605, 0.0},
};

// Fraction of the Fourier pixel centred at (fu, fv) inside the aperture. Weighting the rim
// pixels by area keeps a small aperture's area, so the Airy zero lands at the requested radius.
double aperture_coverage(int fu, int fv, double aperture) {
  const double distance = std::hypot(fu, fv);
  if (distance <= aperture - 0.75) return 1.0;
  if (distance >= aperture + 0.75) return 0.0;
  constexpr int kSub = 8;
  int inside = 0;
  for (int a = 0; a < kSub; ++a) {
    for (int b = 0; b < kSub; ++b) {
      const double su = fu + (a + 0.5) / kSub - 0.5;
      const double sv = fv + (b + 0.5) / kSub - 0.5;
      inside += su * su + sv * sv <= aperture * aperture ? 1 : 0;
    }
  }
  return static_cast<double>(inside) / (kSub * kSub);
}

}  // namespace

double default_probe_radius(int frame_size) { return frame_size / 8.0; }

int default_step(double probe_radius) {
  // Linear overlap 1 − step / (2·radius) = 60%.
  return std::max(1, static_cast<int>(std::lround(0.8 * probe_radius)));
}

std::vector<ScanPosition> raster_positions(const ScanGeometry& scan) {
  std::vector<ScanPosition> positions;
  positions.reserve(static_cast<std::size_t>(scan.rows) * scan.cols);
  for (int row = 0; row < scan.rows; ++row) {
    for (int column = 0; column < scan.cols; ++column) {
      positions.push_back({row, column, column * scan.step, row * scan.row_spacing()});
    }
  }
  return positions;
}

std::vector<ScanPosition> fly_positions(const ScanGeometry& scan, std::uint64_t seed) {
  std::mt19937_64 engine(mix(mix(seed) ^ 0x666c792073636e00ULL));  // apart from the object and noise streams
  // A whole number in [low, high], each equally likely.
  const auto draw = [&engine](int low, int high) {
    return low + static_cast<int>(uniform(engine) * (static_cast<double>(high) - low + 1.0));
  };
  const int spread = scan.cols / 10;
  const int jitter = scan.step / 4;
  const int row_jitter = scan.row_spacing() / 4;
  const double width = static_cast<double>(scan.cols) * scan.step;
  std::vector<ScanPosition> positions;
  for (int row = 0; row < scan.rows; ++row) {
    const int count = std::max(1, scan.cols + draw(-spread, spread));
    for (int i = 0; i < count; ++i) {
      // Exact for count == cols: (i + ½)·step − step/2 = i·step.
      const double centre = (i + 0.5) * width / count - 0.5 * scan.step;
      const int x = static_cast<int>(std::lround(centre)) + draw(-jitter, jitter);
      const int y = row * scan.row_spacing() + draw(-row_jitter, row_jitter);
      positions.push_back({row, i, x, y});
    }
  }
  return positions;
}

std::vector<ScanPosition> spiral_positions(const ScanGeometry& scan) {
  const double step = scan.step;
  const double centre_x = 0.5 * (scan.cols - 1) * step;
  const double centre_y = 0.5 * (scan.rows - 1) * step;
  const double x_end = (scan.cols - 0.5) * step;
  const double y_end = (scan.rows - 0.5) * step;
  const double spacing = 0.55 * step;
  const double golden_angle = 137.508 * kPi / 180.0;
  // Beyond the half-diagonal of the raster's cells no point lies inside them.
  const double half_diagonal = 0.5 * step * std::hypot(scan.cols, scan.rows);
  const auto last = static_cast<std::int64_t>(std::ceil(std::pow(half_diagonal / spacing, 2)));
  std::vector<ScanPosition> positions;
  for (std::int64_t n = 0; n <= last; ++n) {
    const double radius = spacing * std::sqrt(static_cast<double>(n));
    const double angle = static_cast<double>(n) * golden_angle;
    const double x = centre_x + radius * std::cos(angle);
    const double y = centre_y + radius * std::sin(angle);
    if (x < -0.5 * step || x >= x_end || y < -0.5 * step || y >= y_end) continue;
    const int index = static_cast<int>(positions.size());
    positions.push_back({0, index, static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))});
  }
  return positions;
}

Scan make_scan(const ScanGeometry& geometry, ScanPattern pattern, std::uint64_t seed) {
  if (pattern == ScanPattern::spiral && geometry.row_spacing() != geometry.step) {
    throw UsageError("a spiral scan has no rows: its row spacing must be its step");
  }
  Scan scan;
  switch (pattern) {
    case ScanPattern::raster:
      scan.positions = raster_positions(geometry);
      break;
    case ScanPattern::fly:
      scan.positions = fly_positions(geometry, seed);
      break;
    case ScanPattern::spiral:
      scan.positions = spiral_positions(geometry);
      break;
  }
  if (scan.positions.empty()) throw UsageError("the scan has no positions");
  int min_x = scan.positions.front().x;
  int min_y = scan.positions.front().y;
  int max_x = min_x;
  int max_y = min_y;
  for (const ScanPosition& position : scan.positions) {
    min_x = std::min(min_x, position.x);
    min_y = std::min(min_y, position.y);
    max_x = std::max(max_x, position.x);
    max_y = std::max(max_y, position.y);
  }
  scan.shift_x = -min_x;
  scan.shift_y = -min_y;
  for (ScanPosition& position : scan.positions) {
    position.x += scan.shift_x;
    position.y += scan.shift_y;
  }
  scan.object_rows = max_y - min_y + geometry.frame_size;
  scan.object_cols = max_x - min_x + geometry.frame_size;
  return scan;
}

Area scanned_area(const ScanGeometry& scan) {
  const int centre = scan.frame_size / 2;  // the probe's pixel in its window
  return {centre - scan.probe_radius, centre - scan.probe_radius,
          centre + (scan.cols - 1) * scan.step + scan.probe_radius,
          centre + (scan.rows - 1) * scan.row_spacing() + scan.probe_radius};
}

ObjectModel make_particles(const ScanGeometry& scan, int count, double coverage, std::uint64_t seed) {
  if (count < 0) throw UsageError("the particle count must not be negative");
  if (!(coverage > 0.0 && coverage <= 0.6)) throw UsageError("the particle coverage must be in (0, 0.6]");
  ObjectModel model;
  if (count == 0) return model;
  std::mt19937_64 engine(mix(mix(seed) ^ 0x6f626a656374ULL));  // apart from the noise streams
  const Area area = scanned_area(scan);
  const double width = area.x1 - area.x0;
  const double height = area.y1 - area.y0;

  // Random radii rescaled so the discs cover `coverage` of the area; the largest are placed first.
  std::vector<double> radii(static_cast<std::size_t>(count));
  double disc_area = 0.0;
  for (double& radius : radii) {
    radius = uniform(engine, 0.6, 1.4);
    disc_area += kPi * radius * radius;
  }
  const double scale = std::sqrt(width * height * coverage / disc_area);
  const double largest = 0.45 * std::min(width, height);
  for (double& radius : radii) radius = std::min(radius * scale, largest);
  std::sort(radii.begin(), radii.end(), std::greater<>());

  constexpr int kAttempts = 1000;
  constexpr double kGap = 2.0;  // pixels kept free between particles
  for (std::size_t i = 0; i < radii.size(); ++i) {
    const double radius = radii[i];
    double x = 0.0;
    double y = 0.0;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      x = uniform(engine, area.x0 + radius, area.x1 - radius);
      y = uniform(engine, area.y0 + radius, area.y1 - radius);
      bool free = true;
      for (std::size_t j = 0; j < i && free; ++j) {
        const Feature& other = model.features[j];
        free = std::hypot(x - other.centre_x, y - other.centre_y) >= radius + radii[j] + kGap;
      }
      if (free) break;  // else, after the last attempt, the particle overlaps another
    }
    Feature particle;
    particle.centre_x = x;
    particle.centre_y = y;
    particle.to_unit[0][0] = particle.to_unit[1][1] = 1.0 / radius;
    particle.profile = Feature::Profile::sphere;
    const double absorption = uniform(engine, 0.05, 0.3);
    const double phase = uniform(engine, 0.3, 1.2);
    particle.exponent = Complex(-absorption, phase);
    model.features.push_back(particle);
  }
  return model;
}

ObjectModel make_shepp_logan(const ScanGeometry& scan) {
  const Area area = scanned_area(scan);
  const double centre_x = 0.5 * (area.x0 + area.x1);
  const double centre_y = 0.5 * (area.y0 + area.y1);
  const double half_width = 0.5 * (area.x1 - area.x0);
  const double half_height = 0.5 * (area.y1 - area.y0);
  ObjectModel model;
  for (const PhantomEllipse& ellipse : kSheppLogan) {
    // Pixel offset → phantom units (y flipped: image rows grow downwards) → rotate by −angle →
    // divide by the semi-axes.
    const double angle = ellipse.degrees * kPi / 180.0;
    const double c = std::cos(angle);
    const double s = std::sin(angle);
    Feature feature;
    feature.centre_x = centre_x + ellipse.x * half_width;
    feature.centre_y = centre_y - ellipse.y * half_height;
    feature.to_unit[0][0] = c / (ellipse.a * half_width);
    feature.to_unit[0][1] = -s / (ellipse.a * half_height);
    feature.to_unit[1][0] = -s / (ellipse.b * half_width);
    feature.to_unit[1][1] = -c / (ellipse.b * half_height);
    feature.profile = Feature::Profile::flat;
    feature.exponent = ellipse.density * Complex(-kPhantomAbsorption, kPhantomPhase);
    model.features.push_back(feature);
  }
  return model;
}

ObjectModel make_full_field(const ScanGeometry& scan) {
  const Area area = scanned_area(scan);
  Star star;
  star.centre_x = 0.5 * (area.x0 + area.x1);
  star.centre_y = 0.5 * (area.y0 + area.y1);
  // Sector width at the farthest corner of the scanned area, 2π·reach / sectors, at most half
  // the probe radius.
  const double reach = std::hypot(area.x1 - star.centre_x, area.y1 - star.centre_y);
  const double width = 0.5 * scan.probe_radius;
  const auto half = static_cast<int>(std::ceil(kPi * reach / width));
  star.sectors = 2 * std::max(2, half);
  star.exponent = kFullFieldSpokes;
  ObjectModel model;
  model.background = kFullFieldMembrane;
  model.stars.push_back(star);
  return model;
}

ObjectModel translated(ObjectModel model, double dx, double dy) {
  for (Feature& feature : model.features) {
    feature.centre_x += dx;
    feature.centre_y += dy;
  }
  for (Star& star : model.stars) {
    star.centre_x += dx;
    star.centre_y += dy;
  }
  return model;
}

ComplexGrid render_object(const ObjectModel& model, int top, int left, int rows, int cols) {
  ComplexGrid exponent(rows, cols, model.background);
  for (const Star& star : model.stars) {
    const double sectors_per_radian = star.sectors / (2.0 * kPi);
    for (int y = top; y < top + rows; ++y) {
      for (int x = left; x < left + cols; ++x) {
        double angle = std::atan2(y - star.centre_y, x - star.centre_x);
        if (angle < 0.0) angle += 2.0 * kPi;
        const auto sector = static_cast<std::int64_t>(std::floor(angle * sectors_per_radian)) % star.sectors;
        if (sector % 2 == 0) exponent(y - top, x - left) += star.exponent;
      }
    }
  }
  for (const Feature& feature : model.features) {
    // Bounding box: the unit disc mapped back to pixels has half-extents equal to the row norms
    // of the inverse map.
    const auto& m = feature.to_unit;
    const double det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    const double half_x = std::hypot(m[1][1], m[0][1]) / std::abs(det);
    const double half_y = std::hypot(m[1][0], m[0][0]) / std::abs(det);
    const int row_begin = std::max(top, static_cast<int>(std::ceil(feature.centre_y - half_y)));
    const int row_end = std::min(top + rows, static_cast<int>(std::floor(feature.centre_y + half_y)) + 1);
    const int col_begin = std::max(left, static_cast<int>(std::ceil(feature.centre_x - half_x)));
    const int col_end = std::min(left + cols, static_cast<int>(std::floor(feature.centre_x + half_x)) + 1);
    for (int y = row_begin; y < row_end; ++y) {
      const double dy = y - feature.centre_y;
      for (int x = col_begin; x < col_end; ++x) {
        const double dx = x - feature.centre_x;
        const double p = m[0][0] * dx + m[0][1] * dy;
        const double q = m[1][0] * dx + m[1][1] * dy;
        const double rho2 = p * p + q * q;
        if (rho2 > 1.0) continue;
        const double profile = feature.profile == Feature::Profile::sphere ? std::sqrt(1.0 - rho2) : 1.0;
        exponent(y - top, x - left) += feature.exponent * profile;
      }
    }
  }
  // Untouched pixels keep exp(background), exp(0) = 1 exactly by default: empty background.
  for (Complex& value : exponent.values) value = std::exp(value);
  return exponent;
}

ComplexGrid make_probe(int frame_size, double radius, double photons) {
  const int n = frame_size;
  const double aperture = 0.61 * n / radius;  // Fourier pixels
  const int largest = n / 2;
  if (!(aperture >= 1.0 && aperture <= largest)) {
    throw UsageError("a probe radius of " + std::to_string(radius) + " pixels on a " + std::to_string(n) +
                     "-pixel frame needs an aperture of " + std::to_string(aperture) +
                     " Fourier pixels; it must lie between 1 and " + std::to_string(largest) +
                     " (probe radius between 1.22 and 0.61*frame size)");
  }
  fftw_complex* buffer = fftw_alloc_complex(static_cast<std::size_t>(n) * n);
  if (buffer == nullptr) throw IoError("cannot allocate the probe buffer");
  // Aperture in FFTW's unshifted frequency layout, frequencies in [−n/2, n/2).
  const auto frequency = [n](int index) { return index < (n + 1) / 2 ? index : index - n; };
  for (int u = 0; u < n; ++u) {
    for (int v = 0; v < n; ++v) {
      fftw_complex& value = buffer[static_cast<std::size_t>(u) * n + v];
      value[0] = aperture_coverage(frequency(u), frequency(v), aperture);
      value[1] = 0.0;
    }
  }
  fftw_plan plan = fftw_plan_dft_2d(n, n, buffer, buffer, FFTW_BACKWARD, FFTW_ESTIMATE);
  if (plan == nullptr) {
    fftw_free(buffer);
    throw IoError("FFTW cannot plan a " + std::to_string(n) + "x" + std::to_string(n) + " transform");
  }
  fftw_execute(plan);
  fftw_destroy_plan(plan);

  ComplexGrid probe(n, n);
  double power = 0.0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const fftw_complex& value = buffer[static_cast<std::size_t>(i) * n + j];
      probe(shifted(i, n), shifted(j, n)) = Complex(value[0], value[1]);
      power += value[0] * value[0] + value[1] * value[1];
    }
  }
  fftw_free(buffer);
  const double scale = std::sqrt(photons / power);
  for (Complex& value : probe.values) value *= scale;
  return probe;
}

// The plan and its aligned in-place buffer. Same sizes, flags and alignment give the same plan,
// hence bit-identical patterns on every rank (FFTW_MEASURE could choose differently per rank).
struct FarField::Plan {
  fftw_complex* buffer = nullptr;
  fftw_plan forward = nullptr;
  ~Plan() {
    if (forward != nullptr) fftw_destroy_plan(forward);
    if (buffer != nullptr) fftw_free(buffer);
  }
};

FarField::FarField(ComplexGrid probe) : probe_(std::move(probe)), plan_(std::make_unique<Plan>()) {
  plan_->buffer = fftw_alloc_complex(probe_.values.size());
  if (plan_->buffer == nullptr) throw IoError("cannot allocate the far-field buffer");
  plan_->forward =
      fftw_plan_dft_2d(probe_.rows, probe_.cols, plan_->buffer, plan_->buffer, FFTW_FORWARD, FFTW_ESTIMATE);
  if (plan_->forward == nullptr) {
    throw IoError("FFTW cannot plan a " + std::to_string(probe_.rows) + "x" + std::to_string(probe_.cols) +
                  " transform");
  }
}

FarField::~FarField() = default;

Grid<double> FarField::expected_pattern(const ComplexGrid& object, int top, int left) {
  const int n = probe_.rows;
  const int m = probe_.cols;
  check_window(object, top, left, n, m);
  fftw_complex* buffer = plan_->buffer;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) {
      const Complex exit_wave = probe_(i, j) * object(top + i, left + j);
      fftw_complex& value = buffer[static_cast<std::size_t>(i) * m + j];
      value[0] = exit_wave.real();
      value[1] = exit_wave.imag();
    }
  }
  fftw_execute(plan_->forward);
  // FFTW's forward transform is unnormalised: Σ|FFT(ψ)|² = N·M·Σ|ψ|².
  const double norm = 1.0 / (static_cast<double>(n) * m);
  Grid<double> pattern(n, m);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < m; ++j) {
      const fftw_complex& value = buffer[static_cast<std::size_t>(i) * m + j];
      pattern(shifted(i, n), shifted(j, m)) = (value[0] * value[0] + value[1] * value[1]) * norm;
    }
  }
  return pattern;
}

double standard_normal(std::mt19937_64& engine) {
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform(engine)));  // 1 − u ∈ (0, 1]
  return radius * std::cos(2.0 * kPi * uniform(engine));
}

double relative_flux(const FluxDrift& drift, std::uint64_t seed, std::int64_t frame) {
  double flux = frame >= drift.step_frame ? 1.0 + drift.step : 1.0;
  if (drift.noise != 0.0) {
    // Apart from the frame's photon noise stream, mix(mix(seed) ^ mix(frame)).
    std::mt19937_64 engine(mix(mix(mix(seed) ^ 0x666c7578206e6fULL) ^ mix(static_cast<std::uint64_t>(frame))));
    flux *= std::max(0.0, 1.0 + drift.noise * standard_normal(engine));
  }
  return flux;
}

std::mt19937_64 frame_noise_engine(std::uint64_t seed, std::uint64_t frame) {
  return std::mt19937_64(mix(mix(seed) ^ mix(frame)));
}

std::uint64_t sample_poisson(double mean, std::mt19937_64& engine) {
  if (!(mean > 0.0)) return 0;
  if (mean < 12.0) {
    // Inversion: one exp and usually one uniform, cheap for the dark majority of pixels.
    const double u = uniform(engine);
    double probability = std::exp(-mean);
    double cumulative = probability;
    std::uint64_t k = 0;
    while (u >= cumulative && probability > 0.0) {
      ++k;
      probability *= mean / static_cast<double>(k);
      cumulative += probability;
    }
    return k;
  }
  return std::poisson_distribution<std::uint64_t>(mean)(engine);
}

Grid<std::uint64_t> noisy_pattern(const Grid<double>& expected, std::uint64_t seed, std::uint64_t frame) {
  std::mt19937_64 engine = frame_noise_engine(seed, frame);
  Grid<std::uint64_t> counts(expected.rows, expected.cols);
  for (std::size_t i = 0; i < expected.values.size(); ++i) {
    counts.values[i] = sample_poisson(expected.values[i], engine);
  }
  return counts;
}

bool is_informative(const ComplexGrid& probe, const ComplexGrid& object, int top, int left) {
  check_window(object, top, left, probe.rows, probe.cols);
  double peak = 0.0;
  for (const Complex& value : probe.values) peak = std::max(peak, std::norm(value));
  const double threshold = 0.01 * peak;
  for (int i = 0; i < probe.rows; ++i) {
    for (int j = 0; j < probe.cols; ++j) {
      if (std::norm(probe(i, j)) >= threshold && std::abs(object(top + i, left + j) - 1.0) > 1e-3) {
        return true;
      }
    }
  }
  return false;
}

std::vector<int> module_gap_rows(int frame_size) {
  const int first = static_cast<int>(std::lround(0.4 * frame_size));
  return {first, first + 1};
}

std::vector<Pixel> choose_hot_pixels(int frame_size, int count, std::uint64_t seed) {
  const int n = frame_size;
  if (count < 0 || static_cast<std::int64_t>(count) > static_cast<std::int64_t>(n) * n / 4) {
    throw UsageError("the number of hot pixels must be between 0 and a quarter of the " + std::to_string(n) + "x" +
                     std::to_string(n) + " frame (got " + std::to_string(count) + ")");
  }
  std::vector<char> taken(static_cast<std::size_t>(n) * n, 0);
  for (const int row : module_gap_rows(n)) std::fill_n(taken.begin() + static_cast<std::ptrdiff_t>(row) * n, n, 1);
  std::mt19937_64 engine(mix(mix(seed) ^ 0x686f7420706978ULL));  // apart from every other stream
  std::vector<Pixel> pixels;
  while (static_cast<int>(pixels.size()) < count) {
    const int row = static_cast<int>(uniform(engine) * n);
    const int col = static_cast<int>(uniform(engine) * n);
    char& pixel = taken[static_cast<std::size_t>(row) * n + col];
    if (pixel != 0) continue;
    pixel = 1;
    pixels.push_back({row, col});
  }
  return pixels;
}

DetectorArtefacts detector_artefacts(int frame_size, bool gaps, int hot_pixels, std::uint64_t seed) {
  DetectorArtefacts artefacts;
  if (gaps) artefacts.gap_rows = module_gap_rows(frame_size);
  artefacts.hot_pixels = choose_hot_pixels(frame_size, hot_pixels, seed);
  return artefacts;
}

Grid<std::uint32_t> pixel_mask(int frame_size, const DetectorArtefacts& artefacts, std::uint32_t gap_bits,
                               std::uint32_t hot_bits) {
  Grid<std::uint32_t> mask(frame_size, frame_size, 0);
  for (const int row : artefacts.gap_rows) {
    for (int col = 0; col < frame_size; ++col) mask(row, col) |= gap_bits;
  }
  for (const Pixel& pixel : artefacts.hot_pixels) mask(pixel.row, pixel.col) |= hot_bits;
  return mask;
}

std::uint64_t hot_pixel_counts(std::uint64_t largest) { return std::min<std::uint64_t>(1000003, largest - 1); }

void apply_artefacts(Grid<std::uint64_t>& counts, const DetectorArtefacts& artefacts, std::uint64_t flag,
                     std::uint64_t hot) {
  for (const int row : artefacts.gap_rows) {
    for (int col = 0; col < counts.cols; ++col) counts(row, col) = flag;
  }
  for (const Pixel& pixel : artefacts.hot_pixels) counts(pixel.row, pixel.col) = hot;
}

}  // namespace ptyroi::simulation
