// Unit tests of the scan simulator's physics. Expected values come from independent reasoning
// (Parseval, the shift theorem, the Airy pattern, Poisson moments), not from the code itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/simulate/simulation.hpp"

namespace sim = ptyroi::simulation;

namespace {

constexpr double kPi = 3.14159265358979323846;

double total(const sim::Grid<double>& pattern) {
  double sum = 0.0;
  for (double value : pattern.values) sum += value;
  return sum;
}

// Intensity-weighted centre of mass, (row, column).
std::pair<double, double> centre_of_mass(const sim::Grid<double>& pattern) {
  double sum = 0.0;
  double rows = 0.0;
  double cols = 0.0;
  for (int i = 0; i < pattern.rows; ++i) {
    for (int j = 0; j < pattern.cols; ++j) {
      sum += pattern(i, j);
      rows += i * pattern(i, j);
      cols += j * pattern(i, j);
    }
  }
  return {rows / sum, cols / sum};
}

sim::ComplexGrid empty_object(int rows, int cols) { return {rows, cols, 1.0}; }

// One absorbing, phase-shifting disc of radius `radius` centred at (x, y).
sim::ObjectModel one_particle(double x, double y, double radius) {
  sim::Feature particle;
  particle.centre_x = x;
  particle.centre_y = y;
  particle.to_unit[0][0] = particle.to_unit[1][1] = 1.0 / radius;
  particle.profile = sim::Feature::Profile::sphere;
  particle.exponent = sim::Complex(-0.2, 1.0);
  return {{particle}};
}

sim::ScanGeometry small_scan() {
  sim::ScanGeometry scan;
  scan.rows = 10;
  scan.cols = 14;
  scan.frame_size = 64;
  scan.probe_radius = 8.0;
  scan.step = 6;
  return scan;
}

}  // namespace

TEST(Simulation, ProbeCarriesThePhotonsPerFrame) {
  const double photons = 2.5e6;
  const sim::ComplexGrid probe = sim::make_probe(64, 8.0, photons);
  double power = 0.0;
  for (const sim::Complex& value : probe.values) power += std::norm(value);
  EXPECT_NEAR(power, photons, 1e-9 * photons);
}

TEST(Simulation, ProbeIsAnAirySpotCentredInTheFrame) {
  const int n = 128;
  const double radius = 16.0;
  const sim::ComplexGrid probe = sim::make_probe(n, radius, 1.0);
  double peak = 0.0;
  int peak_row = -1;
  int peak_col = -1;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (std::norm(probe(i, j)) > peak) {
        peak = std::norm(probe(i, j));
        peak_row = i;
        peak_col = j;
      }
    }
  }
  EXPECT_EQ(peak_row, n / 2);
  EXPECT_EQ(peak_col, n / 2);
  // Airy profile (2 J1(x)/x)² with its first zero, x = 3.8317, at the requested radius.
  const auto relative = [&](int dy, int dx) { return std::norm(probe(n / 2 + dy, n / 2 + dx)) / peak; };
  const auto airy = [&](double distance) {
    const double x = 3.8317 * distance / radius;
    return std::pow(2.0 * std::cyl_bessel_j(1.0, x) / x, 2);
  };
  const int r = static_cast<int>(radius);
  EXPECT_LT(relative(0, r), 0.005);
  EXPECT_LT(relative(r, 0), 0.005);
  for (int distance : {r / 4, r / 2, 3 * r / 4}) {
    EXPECT_NEAR(relative(0, distance), airy(distance), 0.01) << "at " << distance << " px";
    EXPECT_NEAR(relative(distance, 0), airy(distance), 0.01) << "at " << distance << " px";
  }
}

TEST(Simulation, EmptyObjectPatternCountsAllPhotons) {
  const double photons = 1e6;
  sim::FarField far_field(sim::make_probe(64, 8.0, photons));
  const sim::Grid<double> pattern = far_field.expected_pattern(empty_object(64, 64), 0, 0);
  EXPECT_NEAR(total(pattern), photons, 1e-9 * photons);
}

TEST(Simulation, PatternTotalIsTheExitWavePower) {
  // Parseval for a non-trivial object: Σ I = Σ |P|² |O|², computed here in real space.
  const int n = 32;
  sim::FarField far_field(sim::make_probe(n, 4.0, 1e5));
  sim::ComplexGrid object(n + 5, n + 7);
  for (int i = 0; i < object.rows; ++i) {
    for (int j = 0; j < object.cols; ++j) {
      object(i, j) = std::polar(0.5 + 0.4 * std::sin(0.3 * i + 0.1 * j), 0.7 * i - 0.2 * j);
    }
  }
  const int top = 3;
  const int left = 5;
  double exit_power = 0.0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      exit_power += std::norm(far_field.probe()(i, j) * object(top + i, left + j));
    }
  }
  const sim::Grid<double> pattern = far_field.expected_pattern(object, top, left);
  EXPECT_NEAR(total(pattern), exit_power, 1e-9 * exit_power);
}

TEST(Simulation, EmptyObjectPatternIsCentred) {
  for (int n : {64, 65}) {
    const int centre = n / 2;
    sim::FarField far_field(sim::make_probe(n, 8.0, 1e6));
    const auto [row, col] = centre_of_mass(far_field.expected_pattern(empty_object(n, n), 0, 0));
    EXPECT_NEAR(row, centre, 0.05) << "n = " << n;
    EXPECT_NEAR(col, centre, 0.05) << "n = " << n;
  }
}

TEST(Simulation, PhaseRampShiftsThePattern) {
  // Shift theorem: O = exp(2πi·f·x) with f = 3/N cycles per pixel moves FFTW's forward spectrum
  // by +3 pixels along x (columns); a ramp along y moves it along rows.
  const int n = 64;
  const int centre = n / 2;
  sim::FarField far_field(sim::make_probe(n, 8.0, 1e6));
  sim::ComplexGrid along_x(n, n);
  sim::ComplexGrid along_y(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      along_x(i, j) = std::polar(1.0, 2.0 * kPi * 3.0 * j / n);
      along_y(i, j) = std::polar(1.0, -2.0 * kPi * 2.0 * i / n);
    }
  }
  const auto [row_x, col_x] = centre_of_mass(far_field.expected_pattern(along_x, 0, 0));
  EXPECT_NEAR(col_x, centre + 3.0, 0.05);
  EXPECT_NEAR(row_x, centre, 0.05);
  const auto [row_y, col_y] = centre_of_mass(far_field.expected_pattern(along_y, 0, 0));
  EXPECT_NEAR(row_y, centre - 2.0, 0.05);
  EXPECT_NEAR(col_y, centre, 0.05);
}

TEST(Simulation, TruthIsZeroFarFromParticlesAndOneOnThem) {
  const int n = 64;
  const sim::ComplexGrid probe = sim::make_probe(n, 8.0, 1e6);
  // One particle of radius 20 centred at (x, y) = (300, 100) on a 200 × 400 object.
  const sim::ComplexGrid object = sim::render_object(one_particle(300.0, 100.0, 20.0), 0, 0, 200, 400);
  EXPECT_EQ(object(100, 50), sim::Complex(1.0, 0.0));  // background is exactly 1
  EXPECT_FALSE(sim::is_informative(probe, object, 0, 0));
  EXPECT_FALSE(sim::is_informative(probe, object, 68, 100));
  // Probe centre on the particle centre.
  EXPECT_TRUE(sim::is_informative(probe, object, 100 - n / 2, 300 - n / 2));
  // The support (main lobe and first bright ring) reaches about 1.6 radii = 13 px from the probe
  // centre: a probe 25 px left of the particle's edge misses it, one 4 px left of it does not.
  EXPECT_FALSE(sim::is_informative(probe, object, 100 - n / 2, 300 - 20 - 25 - n / 2));
  EXPECT_TRUE(sim::is_informative(probe, object, 100 - n / 2, 300 - 20 - 4 - n / 2));
}

TEST(Simulation, ParticleTransmissionFollowsTheSphereProfile) {
  // Centre: exp(exponent); at ρ = 0.6 of the radius: exp(0.8·exponent); outside: 1.
  const sim::ComplexGrid object = sim::render_object(one_particle(50.0, 40.0, 10.0), 0, 0, 80, 100);
  const sim::Complex exponent(-0.2, 1.0);
  EXPECT_NEAR(std::abs(object(40, 50) - std::exp(exponent)), 0.0, 1e-12);
  EXPECT_NEAR(std::abs(object(40, 56) - std::exp(0.8 * exponent)), 0.0, 1e-12);
  EXPECT_EQ(object(40, 61), sim::Complex(1.0, 0.0));
}

TEST(Simulation, ParticlesCoverTheRequestedFractionOfTheScannedArea) {
  const sim::ScanGeometry scan = small_scan();
  const sim::ObjectModel model = sim::make_particles(scan, 12, 1.0 / 3.0, 7);
  ASSERT_EQ(model.features.size(), 12u);
  const sim::ComplexGrid object = sim::render_object(model, 0, 0, scan.object_rows(), scan.object_cols());
  const sim::Area area = sim::scanned_area(scan);
  int inside = 0;
  int covered = 0;
  for (int y = 0; y < object.rows; ++y) {
    for (int x = 0; x < object.cols; ++x) {
      const bool in_area = x >= area.x0 && x < area.x1 && y >= area.y0 && y < area.y1;
      const bool feature = std::abs(object(y, x) - 1.0) > 1e-3;
      inside += in_area ? 1 : 0;
      covered += feature && in_area ? 1 : 0;
      // Kept away from the object edge: nothing outside the scanned area.
      if (!in_area) {
        EXPECT_FALSE(feature) << "at (" << x << ", " << y << ")";
      }
    }
  }
  const double fraction = static_cast<double>(covered) / inside;
  EXPECT_GT(fraction, 0.2);
  EXPECT_LT(fraction, 0.4);
}

TEST(Simulation, ParticlesAreReproducibleFromTheSeed) {
  const sim::ScanGeometry scan = small_scan();
  const sim::ObjectModel a = sim::make_particles(scan, 5, 0.1, 3);
  const sim::ObjectModel b = sim::make_particles(scan, 5, 0.1, 3);
  const sim::ObjectModel c = sim::make_particles(scan, 5, 0.1, 4);
  ASSERT_EQ(a.features.size(), b.features.size());
  for (std::size_t i = 0; i < a.features.size(); ++i) {
    EXPECT_EQ(a.features[i].centre_x, b.features[i].centre_x);
    EXPECT_EQ(a.features[i].centre_y, b.features[i].centre_y);
  }
  EXPECT_NE(a.features[0].centre_x, c.features[0].centre_x);
}

TEST(Simulation, RenderedWindowEqualsPartOfTheWholeObject) {
  const sim::ScanGeometry scan = small_scan();
  const sim::ObjectModel model = sim::make_shepp_logan(scan);
  const sim::ComplexGrid whole = sim::render_object(model, 0, 0, scan.object_rows(), scan.object_cols());
  const sim::ComplexGrid window = sim::render_object(model, 30, 17, 40, 50);
  for (int i = 0; i < window.rows; ++i) {
    for (int j = 0; j < window.cols; ++j) ASSERT_EQ(window(i, j), whole(30 + i, 17 + j));
  }
}

TEST(Simulation, SheppLoganDensitiesAndOrientation) {
  // The phantom fills the scanned area with y pointing up. Densities (modified Shepp–Logan):
  // rim 1.0 at (0, 0.9), interior 0.2 at (0, 0), small bottom ellipse 0.3 at (0, −0.606),
  // nothing outside. log(O) is proportional to the density.
  sim::ScanGeometry scan;
  scan.rows = 40;
  scan.cols = 40;
  scan.step = 10;
  scan.frame_size = 64;
  scan.probe_radius = 8.0;
  const sim::Area area = sim::scanned_area(scan);
  const sim::ComplexGrid object =
      sim::render_object(sim::make_shepp_logan(scan), 0, 0, scan.object_rows(), scan.object_cols());
  const auto at = [&](double u, double v) {
    const double x = 0.5 * (area.x0 + area.x1) + u * 0.5 * (area.x1 - area.x0);
    const double y = 0.5 * (area.y0 + area.y1) - v * 0.5 * (area.y1 - area.y0);
    return object(static_cast<int>(std::lround(y)), static_cast<int>(std::lround(x)));
  };
  const sim::Complex rim = std::log(at(0.0, 0.9));
  EXPECT_NEAR(std::abs(std::log(at(0.0, 0.0)) - 0.2 * rim), 0.0, 1e-9);
  EXPECT_NEAR(std::abs(std::log(at(0.0, -0.606)) - 0.3 * rim), 0.0, 1e-9);
  EXPECT_NEAR(std::abs(std::log(at(0.0, 0.35)) - 0.3 * rim), 0.0, 1e-9);
  EXPECT_EQ(at(0.0, 0.97), sim::Complex(1.0, 0.0));
  EXPECT_LT(rim.real(), 0.0);  // absorbing
  EXPECT_GT(rim.imag(), 0.0);  // phase-shifting
}

TEST(Simulation, NoiseDependsOnlyOnSeedAndFrame) {
  sim::FarField far_field(sim::make_probe(64, 8.0, 1e6));
  const sim::Grid<double> expected = far_field.expected_pattern(empty_object(64, 64), 0, 0);
  const auto frame_5 = sim::noisy_pattern(expected, 11, 5).values;
  const auto frame_3 = sim::noisy_pattern(expected, 11, 3).values;
  // Drawn again, in the other order: same counts.
  EXPECT_EQ(sim::noisy_pattern(expected, 11, 3).values, frame_3);
  EXPECT_EQ(sim::noisy_pattern(expected, 11, 5).values, frame_5);
  EXPECT_NE(frame_3, frame_5);
  EXPECT_NE(sim::noisy_pattern(expected, 12, 5).values, frame_5);
}

TEST(Simulation, NoisyPatternKeepsTheTotalWithinPoissonSpread) {
  const double photons = 1e6;
  sim::FarField far_field(sim::make_probe(64, 8.0, photons));
  const sim::Grid<double> expected = far_field.expected_pattern(empty_object(64, 64), 0, 0);
  std::uint64_t counts = 0;
  for (std::uint64_t value : sim::noisy_pattern(expected, 1, 0).values) counts += value;
  // The total is Poisson(photons): 5 standard deviations.
  EXPECT_NEAR(static_cast<double>(counts), photons, 5.0 * std::sqrt(photons));
}

TEST(Simulation, PoissonSamplesHaveTheRightMoments) {
  std::mt19937_64 engine = sim::frame_noise_engine(99, 0);
  const int draws = 200000;
  for (double mean : {0.0, 1e-3, 0.7, 5.0, 11.9, 12.0, 80.0, 1e4}) {
    double sum = 0.0;
    double squares = 0.0;
    for (int i = 0; i < draws; ++i) {
      const auto k = static_cast<double>(sim::sample_poisson(mean, engine));
      sum += k;
      squares += k * k;
    }
    const double sample_mean = sum / draws;
    const double variance = squares / draws - sample_mean * sample_mean;
    // Five standard errors: √(λ/n) for the mean, √((λ + 2λ²)/n) for the variance.
    const double mean_error = 5.0 * std::sqrt(mean / draws) + 1e-12;
    const double variance_error = 5.0 * std::sqrt((mean + 2.0 * mean * mean) / draws) + 1e-12;
    EXPECT_NEAR(sample_mean, mean, mean_error) << "mean " << mean;
    EXPECT_NEAR(variance, mean, variance_error) << "mean " << mean;
  }
}

TEST(Simulation, RasterIsRowMajorWithXAlongColumns) {
  sim::ScanGeometry scan;
  scan.rows = 3;
  scan.cols = 4;
  scan.step = 7;
  const std::vector<sim::ScanPosition> positions = sim::raster_positions(scan);
  ASSERT_EQ(positions.size(), 12u);
  for (int k = 0; k < 12; ++k) {
    EXPECT_EQ(positions[k].row, k / 4);
    EXPECT_EQ(positions[k].column, k % 4);
    EXPECT_EQ(positions[k].x, 7 * (k % 4));
    EXPECT_EQ(positions[k].y, 7 * (k / 4));
  }
}

TEST(Simulation, DefaultStepOverlapsNeighbouringProbesBySixtyPercent) {
  const double radius = sim::default_probe_radius(256);
  EXPECT_DOUBLE_EQ(radius, 32.0);
  const double overlap = 1.0 - sim::default_step(radius) / (2.0 * radius);
  EXPECT_NEAR(overlap, 0.6, 0.02);
}

TEST(Simulation, WindowOutsideTheObjectIsRejected) {
  sim::FarField far_field(sim::make_probe(32, 4.0, 1.0));
  EXPECT_THROW(far_field.expected_pattern(empty_object(40, 40), 10, 0), ptyroi::InputError);
  EXPECT_THROW(sim::make_probe(32, 0.5, 1.0), ptyroi::UsageError);
}

// ---- irregular scans --------------------------------------------------------------------------

namespace {

sim::ScanGeometry fly_geometry() {
  sim::ScanGeometry scan;
  scan.rows = 12;
  scan.cols = 40;
  scan.step = 8;  // jitter up to ⌊8/4⌋ = 2 pixels
  scan.frame_size = 64;
  scan.probe_radius = 8.0;
  return scan;
}

}  // namespace

TEST(Simulation, FlyRowsCoverTheRasterWidthWithVaryingCountsAndBoundedJitter) {
  const sim::ScanGeometry scan = fly_geometry();
  const std::vector<sim::ScanPosition> positions = sim::fly_positions(scan, 5);
  std::vector<int> counts(scan.rows, 0);
  bool jitter_x = false;
  bool jitter_y = false;
  int previous_row = 0;
  for (const sim::ScanPosition& position : positions) {
    ASSERT_GE(position.row, previous_row);  // rows in scan order
    ASSERT_LT(position.row, scan.rows);
    previous_row = position.row;
    ++counts[position.row];
  }
  for (const int count : counts) {
    EXPECT_GE(count, 36);  // 40 ± 10%
    EXPECT_LE(count, 44);
  }
  EXPECT_NE(*std::min_element(counts.begin(), counts.end()), *std::max_element(counts.begin(), counts.end()));
  for (const sim::ScanPosition& position : positions) {
    const int count = counts[position.row];
    EXPECT_LT(position.column, count);
    // The middle of the point's exposure interval on a line 40·8 = 320 pixels wide, less step/2.
    const double nominal = (position.column + 0.5) * 320.0 / count - 4.0;
    EXPECT_LE(std::abs(position.x - nominal), 2.5) << "row " << position.row << " point " << position.column;
    EXPECT_LE(std::abs(position.y - position.row * 8), 2);
    jitter_x = jitter_x || std::abs(position.x - std::lround(nominal)) > 0;
    jitter_y = jitter_y || position.y != position.row * 8;
  }
  EXPECT_TRUE(jitter_x);
  EXPECT_TRUE(jitter_y);
  // Every line spans the raster's width: from about its first to about its last column.
  for (int row = 0; row < scan.rows; ++row) {
    int first = INT_MAX;
    int last = INT_MIN;
    for (const sim::ScanPosition& position : positions) {
      if (position.row != row) continue;
      first = std::min(first, position.x);
      last = std::max(last, position.x);
    }
    EXPECT_LE(first, 0 + 2 + 1) << "row " << row;
    EXPECT_GE(last, 39 * 8 - 2 - 2) << "row " << row;
  }
}

TEST(Simulation, FlyScanIsReproducibleFromTheSeed) {
  const sim::ScanGeometry scan = fly_geometry();
  const auto same = [](const std::vector<sim::ScanPosition>& a, const std::vector<sim::ScanPosition>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].row != b[i].row || a[i].column != b[i].column) return false;
    }
    return true;
  };
  EXPECT_TRUE(same(sim::fly_positions(scan, 9), sim::fly_positions(scan, 9)));
  EXPECT_FALSE(same(sim::fly_positions(scan, 9), sim::fly_positions(scan, 10)));
}

TEST(Simulation, FlyLineOfExactlyColsPointsWithoutJitterIsTheRaster) {
  // cols < 10: no variation of the count; step < 4: no jitter.
  sim::ScanGeometry scan;
  scan.rows = 4;
  scan.cols = 9;
  scan.step = 3;
  const std::vector<sim::ScanPosition> fly = sim::fly_positions(scan, 1);
  const std::vector<sim::ScanPosition> raster = sim::raster_positions(scan);
  ASSERT_EQ(fly.size(), raster.size());
  for (std::size_t k = 0; k < fly.size(); ++k) {
    EXPECT_EQ(fly[k].x, raster[k].x);
    EXPECT_EQ(fly[k].y, raster[k].y);
  }
}

TEST(Simulation, SpiralFillsTheRasterAreaWithAboutRowsTimesColsPoints) {
  sim::ScanGeometry scan;
  scan.rows = 20;
  scan.cols = 30;
  scan.step = 10;
  const std::vector<sim::ScanPosition> positions = sim::spiral_positions(scan);
  // One point per π(0.55·step)² = 0.95·step² of the 600·step² cells: about 631.
  EXPECT_GT(positions.size(), 600u * 1.0);
  EXPECT_LT(positions.size(), 600u * 1.1);
  // The first point is the centre of the raster.
  EXPECT_EQ(positions[0].x, std::lround(0.5 * 29 * 10));
  EXPECT_EQ(positions[0].y, std::lround(0.5 * 19 * 10));
  int min_x = INT_MAX;
  int max_x = INT_MIN;
  int min_y = INT_MAX;
  int max_y = INT_MIN;
  for (std::size_t k = 0; k < positions.size(); ++k) {
    const sim::ScanPosition& position = positions[k];
    EXPECT_EQ(position.column, static_cast<int>(k));
    min_x = std::min(min_x, position.x);
    max_x = std::max(max_x, position.x);
    min_y = std::min(min_y, position.y);
    max_y = std::max(max_y, position.y);
  }
  // Inside the raster's cells [−step/2, (cols − ½)·step) (rounded), and reaching their edges.
  EXPECT_GE(min_x, -5);
  EXPECT_LE(max_x, 295);
  EXPECT_GE(min_y, -5);
  EXPECT_LE(max_y, 195);
  EXPECT_LE(min_x, 0);
  EXPECT_GE(max_x, 290);
  EXPECT_LE(min_y, 0);
  EXPECT_GE(max_y, 190);
  // Neighbours stay apart: no two points closer than half a step.
  for (std::size_t a = 0; a < positions.size(); ++a) {
    for (std::size_t b = a + 1; b < positions.size(); ++b) {
      ASSERT_GE(std::hypot(positions[a].x - positions[b].x, positions[a].y - positions[b].y), 5.0) << a << ", " << b;
    }
  }
}

TEST(Simulation, ScanStartsAtZeroAndItsObjectHoldsEveryWindow) {
  for (const sim::ScanPattern pattern : {sim::ScanPattern::fly, sim::ScanPattern::spiral}) {
    const sim::ScanGeometry geometry = fly_geometry();
    const sim::Scan scan = sim::make_scan(geometry, pattern, 3);
    int min_x = INT_MAX;
    int min_y = INT_MAX;
    int max_x = INT_MIN;
    int max_y = INT_MIN;
    for (const sim::ScanPosition& position : scan.positions) {
      min_x = std::min(min_x, position.x);
      min_y = std::min(min_y, position.y);
      max_x = std::max(max_x, position.x);
      max_y = std::max(max_y, position.y);
    }
    EXPECT_EQ(min_x, 0);
    EXPECT_EQ(min_y, 0);
    EXPECT_EQ(scan.object_cols, max_x + geometry.frame_size);
    EXPECT_EQ(scan.object_rows, max_y + geometry.frame_size);
    EXPECT_EQ(scan.frames(), static_cast<std::int64_t>(scan.positions.size()));
    // The shift maps the pattern's own positions onto the scan's.
    const std::vector<sim::ScanPosition> own =
        pattern == sim::ScanPattern::fly ? sim::fly_positions(geometry, 3) : sim::spiral_positions(geometry);
    ASSERT_EQ(own.size(), scan.positions.size());
    EXPECT_EQ(own[7].x + scan.shift_x, scan.positions[7].x);
    EXPECT_EQ(own[7].y + scan.shift_y, scan.positions[7].y);
  }
  // A raster is left as it is.
  const sim::ScanGeometry geometry = small_scan();
  const sim::Scan raster = sim::make_scan(geometry, sim::ScanPattern::raster, 3);
  EXPECT_EQ(raster.shift_x, 0);
  EXPECT_EQ(raster.shift_y, 0);
  EXPECT_EQ(raster.object_rows, geometry.object_rows());
  EXPECT_EQ(raster.object_cols, geometry.object_cols());
  EXPECT_EQ(raster.frames(), geometry.rows * geometry.cols);
}

TEST(Simulation, TranslatedObjectIsTheSameObjectMoved) {
  const sim::ObjectModel model = one_particle(40.0, 30.0, 12.0);
  const sim::ComplexGrid original = sim::render_object(model, 10, 20, 40, 40);
  const sim::ComplexGrid moved = sim::render_object(sim::translated(model, 7.0, -4.0), 6, 27, 40, 40);
  for (std::size_t i = 0; i < original.values.size(); ++i) {
    ASSERT_NEAR(std::abs(original.values[i] - moved.values[i]), 0.0, 1e-12);
  }
}

// ---- detector artefacts -----------------------------------------------------------------------

TEST(Simulation, ModuleGapIsTwoRowsAtFortyPercent) {
  EXPECT_EQ(sim::module_gap_rows(64), (std::vector<int>{26, 27}));
  EXPECT_EQ(sim::module_gap_rows(128), (std::vector<int>{51, 52}));
  EXPECT_EQ(sim::module_gap_rows(8), (std::vector<int>{3, 4}));
}

TEST(Simulation, HotPixelsAreDistinctSeededAndOutsideTheGap) {
  const int n = 32;
  const std::vector<sim::Pixel> hot = sim::choose_hot_pixels(n, 200, 4);
  ASSERT_EQ(hot.size(), 200u);
  std::vector<int> seen(static_cast<std::size_t>(n) * n, 0);
  for (const sim::Pixel& pixel : hot) {
    ASSERT_GE(pixel.row, 0);
    ASSERT_LT(pixel.row, n);
    ASSERT_GE(pixel.col, 0);
    ASSERT_LT(pixel.col, n);
    EXPECT_NE(pixel.row, 13);  // the gap: rows 13 and 14 of 32
    EXPECT_NE(pixel.row, 14);
    EXPECT_EQ(seen[pixel.row * n + pixel.col]++, 0) << "pixel (" << pixel.row << ", " << pixel.col << ") twice";
  }
  const std::vector<sim::Pixel> again = sim::choose_hot_pixels(n, 200, 4);
  const std::vector<sim::Pixel> other = sim::choose_hot_pixels(n, 200, 5);
  bool differs = false;
  for (std::size_t i = 0; i < hot.size(); ++i) {
    EXPECT_EQ(again[i].row, hot[i].row);
    EXPECT_EQ(again[i].col, hot[i].col);
    differs = differs || other[i].row != hot[i].row || other[i].col != hot[i].col;
  }
  EXPECT_TRUE(differs);
  // The first pixels do not depend on how many are asked for.
  const std::vector<sim::Pixel> fewer = sim::choose_hot_pixels(n, 3, 4);
  for (std::size_t i = 0; i < fewer.size(); ++i)
    EXPECT_EQ(fewer[i].row * n + fewer[i].col, hot[i].row * n + hot[i].col);
  EXPECT_TRUE(sim::choose_hot_pixels(n, 0, 4).empty());
  EXPECT_THROW(sim::choose_hot_pixels(n, n * n / 4 + 1, 4), ptyroi::UsageError);
}

TEST(Simulation, PixelMaskMarksTheGapAndTheHotPixels) {
  const int n = 16;
  const sim::DetectorArtefacts artefacts = sim::detector_artefacts(n, true, 5, 2);
  ASSERT_EQ(artefacts.gap_rows, (std::vector<int>{6, 7}));
  const sim::Grid<std::uint32_t> mask = sim::pixel_mask(n, artefacts, sim::kDectrisGap, sim::kDectrisNoisy);
  int gap = 0;
  int noisy = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const std::uint32_t value = mask(i, j);
      EXPECT_TRUE(value == 0 || value == 1 || value == 8) << value;
      EXPECT_EQ(value == 1, i == 6 || i == 7);
      gap += value == 1 ? 1 : 0;
      noisy += value == 8 ? 1 : 0;
    }
  }
  EXPECT_EQ(gap, 2 * n);
  EXPECT_EQ(noisy, 5);
  for (const sim::Pixel& pixel : artefacts.hot_pixels) EXPECT_EQ(mask(pixel.row, pixel.col), 8u);
  const sim::Grid<std::uint32_t> cxi = sim::pixel_mask(n, artefacts, sim::kCxiInvalid, sim::kCxiHot);
  for (const sim::Pixel& pixel : artefacts.hot_pixels) EXPECT_EQ(cxi(pixel.row, pixel.col), 4u);
  // Without the gap: the same hot pixels, nothing else.
  const sim::DetectorArtefacts hot_only = sim::detector_artefacts(n, false, 5, 2);
  EXPECT_TRUE(hot_only.gap_rows.empty());
  ASSERT_EQ(hot_only.hot_pixels.size(), 5u);
  EXPECT_EQ(hot_only.hot_pixels[2].row, artefacts.hot_pixels[2].row);
  EXPECT_EQ(hot_only.hot_pixels[2].col, artefacts.hot_pixels[2].col);
  EXPECT_TRUE(sim::detector_artefacts(n, false, 0, 2).empty());
}

TEST(Simulation, ArtefactsOverwriteTheCountsWithTheFlagAndTheHotValue) {
  const int n = 16;
  const sim::DetectorArtefacts artefacts = sim::detector_artefacts(n, true, 3, 9);
  sim::Grid<std::uint64_t> counts(n, n, 7);
  const std::uint64_t flag = 0xffffffffULL;
  const std::uint64_t hot = sim::hot_pixel_counts(flag);
  EXPECT_EQ(hot, 1000003u);
  EXPECT_EQ(sim::hot_pixel_counts(65535), 65534u);
  sim::apply_artefacts(counts, artefacts, flag, hot);
  const sim::Grid<std::uint32_t> mask = sim::pixel_mask(n, artefacts, sim::kDectrisGap, sim::kDectrisNoisy);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const std::uint64_t expected = mask(i, j) == 1 ? flag : mask(i, j) == 8 ? hot : 7;
      EXPECT_EQ(counts(i, j), expected) << "(" << i << ", " << j << ")";
    }
  }
}

// ---- what real scans add ----------------------------------------------------------------------

TEST(Simulation, IfftshiftIsNumpysForEvenAndOddSizes) {
  // numpy.fft.ifftshift(np.arange(20).reshape(4, 5)), written out: rows 2, 3, 0, 1 and columns
  // 2, 3, 4, 0, 1 of the input.
  sim::Grid<std::uint64_t> frame(4, 5);
  for (std::size_t i = 0; i < frame.values.size(); ++i) frame.values[i] = i;
  const std::vector<std::uint64_t> expected{12, 13, 14, 10, 11, 17, 18, 19, 15, 16, 2, 3, 4, 0, 1, 7, 8, 9, 5, 6};
  EXPECT_EQ(sim::ifftshift(frame).values, expected);
  // A permutation: every value once.
  std::vector<std::uint64_t> sorted = sim::ifftshift(frame).values;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, frame.values);
}

TEST(Simulation, IfftshiftMovesZeroFrequencyToTheCorner) {
  // The empty object's pattern is the probe's aperture, a disc of radius 0.61·N/8 ≈ 5 pixels
  // around zero frequency, (⌊N/2⌋, ⌊N/2⌋) centred; ifftshift of it is FFTW's own layout, zero
  // frequency at (0, 0), for even and odd N: bright in the corners, dark in the middle.
  for (int n : {64, 65}) {
    sim::FarField far_field(sim::make_probe(n, 8.0, 1e6));
    const sim::Grid<double> centred = far_field.expected_pattern(empty_object(n, n), 0, 0);
    const sim::Grid<double> corner = sim::ifftshift(centred);
    const double peak = *std::max_element(corner.values.begin(), corner.values.end());
    EXPECT_EQ(corner(0, 0), centred(n / 2, n / 2));
    EXPECT_NEAR(corner(0, 0), peak, 1e-9 * peak) << "n = " << n;
    EXPECT_NEAR(corner(n - 1, n - 1), peak, 1e-9 * peak) << "n = " << n;  // frequency (−1, −1)
    EXPECT_LT(corner(n / 2, n / 2), 1e-12 * peak) << "n = " << n;
    EXPECT_LT(centred(0, 0), 1e-12 * peak) << "n = " << n;
    // The power spectrum of a real, symmetric probe is symmetric about zero frequency: in the
    // corner layout, I(u, v) = I(−u mod N, −v mod N).
    for (int u = 0; u < n; ++u) {
      for (int v = 0; v < n; ++v) {
        ASSERT_NEAR(corner(u, v), corner((n - u) % n, (n - v) % n), 1e-9 * corner(0, 0)) << u << ", " << v;
      }
    }
    EXPECT_NEAR(total(corner), 1e6, 1e-3);
  }
}

TEST(Simulation, FluxStepsFromItsFrameOnByExactlyTheFraction) {
  sim::FluxDrift drift;
  EXPECT_TRUE(drift.constant());
  EXPECT_EQ(sim::relative_flux(drift, 3, 0), 1.0);
  drift.step = 0.15;
  drift.step_frame = 27;
  EXPECT_FALSE(drift.constant());
  for (std::int64_t k = 0; k < 54; ++k) EXPECT_EQ(sim::relative_flux(drift, 3, k), k < 27 ? 1.0 : 1.15) << k;
  drift.step = -0.5;  // a beam loss
  EXPECT_EQ(sim::relative_flux(drift, 3, 40), 0.5);
}

TEST(Simulation, FluxNoiseIsReproducibleWithTheRequestedSpread) {
  sim::FluxDrift drift;
  drift.noise = 0.05;
  const int frames = 20000;
  double sum = 0.0;
  double squares = 0.0;
  for (int k = 0; k < frames; ++k) {
    const double flux = sim::relative_flux(drift, 11, k);
    sum += flux;
    squares += flux * flux;
  }
  const double mean = sum / frames;
  const double spread = std::sqrt(squares / frames - mean * mean);
  // Five standard errors of the mean (σ/√n) and of the standard deviation (σ/√(2n)).
  EXPECT_NEAR(mean, 1.0, 5.0 * 0.05 / std::sqrt(frames));
  EXPECT_NEAR(spread, 0.05, 5.0 * 0.05 / std::sqrt(2.0 * frames));
  // A function of (seed, frame) only: asked again, in another order, the same; another seed differs.
  EXPECT_EQ(sim::relative_flux(drift, 11, 7), sim::relative_flux(drift, 11, 7));
  EXPECT_NE(sim::relative_flux(drift, 11, 7), sim::relative_flux(drift, 12, 7));
  EXPECT_NE(sim::relative_flux(drift, 11, 7), sim::relative_flux(drift, 11, 8));
  // Noise and step multiply.
  sim::FluxDrift both = drift;
  both.step = 0.15;
  both.step_frame = 5;
  EXPECT_DOUBLE_EQ(sim::relative_flux(both, 11, 9), 1.15 * sim::relative_flux(drift, 11, 9));
  EXPECT_EQ(sim::relative_flux(both, 11, 4), sim::relative_flux(drift, 11, 4));
}

TEST(Simulation, FluxScaledPatternCarriesThatManyPhotons) {
  // The expected counts scale with the incident flux: an empty object's frame after a 15% step
  // holds 1.15 × photons, and its Poisson draw stays within 5 standard deviations of that.
  const double photons = 1e6;
  sim::FarField far_field(sim::make_probe(64, 8.0, photons));
  sim::FluxDrift drift;
  drift.step = 0.15;
  drift.step_frame = 10;
  sim::Grid<double> expected = far_field.expected_pattern(empty_object(64, 64), 0, 0);
  const double flux = sim::relative_flux(drift, 1, 12);
  for (double& value : expected.values) value *= flux;
  EXPECT_NEAR(total(expected), 1.15e6, 1e-6 * 1.15e6);
  std::uint64_t counts = 0;
  for (std::uint64_t value : sim::noisy_pattern(expected, 1, 12).values) counts += value;
  EXPECT_NEAR(static_cast<double>(counts), 1.15e6, 5.0 * std::sqrt(1.15e6));
  EXPECT_GT(static_cast<double>(counts), photons + 50.0 * std::sqrt(photons));  // not the unstepped flux
}

TEST(Simulation, RowStepSpacesTheRowsAlone) {
  sim::ScanGeometry scan;
  scan.rows = 5;
  scan.cols = 4;
  scan.step = 12;
  scan.row_step = 2;
  scan.frame_size = 64;
  EXPECT_EQ(scan.row_spacing(), 2);
  EXPECT_EQ(scan.object_rows(), 4 * 2 + 64);
  EXPECT_EQ(scan.object_cols(), 3 * 12 + 64);
  const std::vector<sim::ScanPosition> positions = sim::raster_positions(scan);
  ASSERT_EQ(positions.size(), 20u);
  for (int k = 0; k < 20; ++k) {
    EXPECT_EQ(positions[k].x, 12 * (k % 4));
    EXPECT_EQ(positions[k].y, 2 * (k / 4));
  }
  const sim::Area area = sim::scanned_area(scan);
  EXPECT_DOUBLE_EQ(area.y1 - area.y0, 4 * 2 + 2 * scan.probe_radius);
  EXPECT_DOUBLE_EQ(area.x1 - area.x0, 3 * 12 + 2 * scan.probe_radius);
  // Without it, the rows are `step` apart as always.
  scan.row_step = 0;
  EXPECT_EQ(scan.row_spacing(), 12);
  EXPECT_EQ(sim::raster_positions(scan)[4].y, 12);
  // A spiral has no rows.
  scan.row_step = 2;
  EXPECT_THROW(sim::make_scan(scan, sim::ScanPattern::spiral, 1), ptyroi::UsageError);
}

TEST(Simulation, AnisotropicFlyScanHasCloseRowsAndSparseLines) {
  // 6:1, as the APS fly scans: rows 2 pixels apart, 12 pixels between points along a row. The
  // y jitter is ⌊2/4⌋ = 0 (rows stay rows), the x jitter ⌊12/4⌋ = 3.
  sim::ScanGeometry scan;
  scan.rows = 30;
  scan.cols = 20;
  scan.step = 12;
  scan.row_step = 2;
  scan.frame_size = 64;
  scan.probe_radius = 8.0;
  const std::vector<sim::ScanPosition> positions = sim::fly_positions(scan, 4);
  bool jitter_x = false;
  for (const sim::ScanPosition& position : positions) {
    EXPECT_EQ(position.y, 2 * position.row);
    int count = 0;
    for (const sim::ScanPosition& other : positions) count += other.row == position.row ? 1 : 0;
    const double nominal = (position.column + 0.5) * 20.0 * 12.0 / count - 6.0;
    EXPECT_LE(std::abs(position.x - nominal), 3.5);
    jitter_x = jitter_x || std::abs(position.x - std::lround(nominal)) > 0;
  }
  EXPECT_TRUE(jitter_x);
  // Nearest neighbours are the next row (2 px); along a row points are about 12 px apart.
  double along = 0.0;
  int pairs = 0;
  for (std::size_t k = 1; k < positions.size(); ++k) {
    if (positions[k].row != positions[k - 1].row) continue;
    along += positions[k].x - positions[k - 1].x;
    ++pairs;
  }
  EXPECT_NEAR(along / pairs, 12.0, 1.0);
  // Default row spacing: the jitter along y is step/4 as before (same draws as without --row-step).
  sim::ScanGeometry isotropic = scan;
  isotropic.row_step = 0;
  sim::ScanGeometry explicit_step = scan;
  explicit_step.row_step = 12;
  const std::vector<sim::ScanPosition> a = sim::fly_positions(isotropic, 4);
  const std::vector<sim::ScanPosition> b = sim::fly_positions(explicit_step, 4);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].x, b[k].x);
    EXPECT_EQ(a[k].y, b[k].y);
  }
}

TEST(Simulation, AnisotropicScanTruthIsTheProbeTouchingTheParticle) {
  // Ground truth on a 6:1 fly scan, against geometry: the probe support (|P|² ≥ 1% of its peak)
  // reaches `reach` pixels from the probe centre (measured on the probe here); a frame sees a
  // disc of radius R iff the centres are closer than R + reach. Frames within 2 pixels of that
  // boundary are skipped (pixelation).
  sim::ScanGeometry geometry;
  geometry.rows = 60;
  geometry.cols = 16;
  geometry.step = 12;
  geometry.row_step = 2;
  geometry.frame_size = 64;
  geometry.probe_radius = 8.0;
  const sim::Scan scan = sim::make_scan(geometry, sim::ScanPattern::fly, 2);
  const sim::ComplexGrid probe = sim::make_probe(64, 8.0, 1.0);
  double peak = 0.0;
  for (const sim::Complex& value : probe.values) peak = std::max(peak, std::norm(value));
  double reach = 0.0;
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 64; ++j) {
      if (std::norm(probe(i, j)) >= 0.01 * peak) reach = std::max(reach, std::hypot(i - 32.0, j - 32.0));
    }
  }
  EXPECT_GT(reach, 8.0);   // beyond the first zero: the first bright ring (1.75% of the peak)
  EXPECT_LT(reach, 16.0);  // not the second ring (0.42%)
  const double radius = 10.0;
  const double centre_x = 0.5 * scan.object_cols;
  const double centre_y = 0.5 * scan.object_rows;
  const sim::ComplexGrid object =
      sim::render_object(one_particle(centre_x, centre_y, radius), 0, 0, scan.object_rows, scan.object_cols);
  int seen = 0;
  int checked = 0;
  for (const sim::ScanPosition& position : scan.positions) {
    const double distance = std::hypot(position.x + 32 - centre_x, position.y + 32 - centre_y);
    if (std::abs(distance - (radius + reach)) < 2.0) continue;
    const bool informative = sim::is_informative(probe, object, position.y, position.x);
    EXPECT_EQ(informative, distance < radius + reach) << "frame at (" << position.x << ", " << position.y << ")";
    seen += informative ? 1 : 0;
    ++checked;
  }
  EXPECT_GT(seen, 20);
  EXPECT_GT(checked - seen, 200);
}

namespace {

// Σ|P|²|O|² under the probe at every raster position: the expected total counts T (Parseval).
std::vector<double> transmitted(const sim::ScanGeometry& scan, const sim::ObjectModel& model) {
  const sim::ComplexGrid probe = sim::make_probe(scan.frame_size, scan.probe_radius, 1.0);
  const sim::ComplexGrid object = sim::render_object(model, 0, 0, scan.object_rows(), scan.object_cols());
  std::vector<double> totals;
  for (const sim::ScanPosition& position : sim::raster_positions(scan)) {
    double sum = 0.0;
    for (int i = 0; i < scan.frame_size; ++i) {
      for (int j = 0; j < scan.frame_size; ++j) {
        sum += std::norm(probe(i, j)) * std::norm(object(position.y + i, position.x + j));
      }
    }
    totals.push_back(sum);
  }
  return totals;
}

// Sarle's bimodality coefficient (g² + 1) / (κ + 3(n − 1)² / ((n − 2)(n − 3))), g the skewness
// and κ the excess kurtosis: 1/3 for a normal, 5/9 for a uniform, towards 1 for two separated modes.
double bimodality(const std::vector<double>& values) {
  const auto n = static_cast<double>(values.size());
  double mean = 0.0;
  for (double value : values) mean += value / n;
  double m2 = 0.0;
  double m3 = 0.0;
  double m4 = 0.0;
  for (double value : values) {
    const double d = value - mean;
    m2 += d * d / n;
    m3 += d * d * d / n;
    m4 += d * d * d * d / n;
  }
  const double skewness = m3 / std::pow(m2, 1.5);
  const double kurtosis = m4 / (m2 * m2) - 3.0;
  return (skewness * skewness + 1.0) / (kurtosis + 3.0 * (n - 1) * (n - 1) / ((n - 2) * (n - 3)));
}

double relative_spread(const std::vector<double>& values) {
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  double mean = 0.0;
  for (double value : values) mean += value / static_cast<double>(values.size());
  return (*high - *low) / mean;
}

}  // namespace

TEST(Simulation, FullFieldObjectFillsTheFieldWithoutTwoPopulations) {
  sim::ScanGeometry scan;
  scan.rows = 24;
  scan.cols = 32;
  scan.frame_size = 64;
  scan.probe_radius = 8.0;
  scan.step = 6;
  const sim::ObjectModel model = sim::make_full_field(scan);
  ASSERT_EQ(model.stars.size(), 1u);
  // Sectors at most half a probe radius wide at the scanned area's farthest corner.
  const sim::Area area = sim::scanned_area(scan);
  const double reach = 0.5 * std::hypot(area.x1 - area.x0, area.y1 - area.y0);
  EXPECT_EQ(model.stars[0].sectors % 2, 0);
  EXPECT_LE(2.0 * kPi * reach / model.stars[0].sectors, 0.5 * scan.probe_radius);
  // No empty background: every pixel is membrane (|O| = e^−0.01) or membrane and spoke (e^−0.02),
  // spokes on about half of them, and every position informative.
  const sim::ComplexGrid object = sim::render_object(model, 0, 0, scan.object_rows(), scan.object_cols());
  std::size_t spokes = 0;
  for (const sim::Complex& value : object.values) {
    ASSERT_GT(std::abs(value - 1.0), 1e-3);
    const bool membrane = std::abs(std::abs(value) - std::exp(-0.01)) < 1e-12;
    const bool spoke = std::abs(std::abs(value) - std::exp(-0.02)) < 1e-12;
    ASSERT_TRUE(membrane || spoke) << std::abs(value);
    spokes += spoke ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(spokes) / static_cast<double>(object.values.size()), 0.5, 0.02);
  const sim::ComplexGrid probe = sim::make_probe(64, 8.0, 1.0);
  for (const sim::ScanPosition& position : sim::raster_positions(scan)) {
    ASSERT_TRUE(sim::is_informative(probe, object, position.y, position.x));
  }
  // The transmitted intensity: one population within a few per mille (T ∝ e^−0.02·(1 − 0.02·f),
  // f the share of the probe on spokes, near ½ everywhere) ...
  const std::vector<double> full_field = transmitted(scan, model);
  EXPECT_LT(relative_spread(full_field), 0.005);
  EXPECT_LT(bimodality(full_field), 5.0 / 9.0);
  // ... where particles on empty background make two, 10% or more apart.
  const std::vector<double> particles = transmitted(scan, sim::make_particles(scan, 12, 0.08, 1));
  EXPECT_GT(relative_spread(particles), 0.1);
  EXPECT_GT(bimodality(particles), 5.0 / 9.0);
}

TEST(Simulation, TranslatedFullFieldIsTheSameFieldMoved) {
  const sim::ObjectModel model = sim::make_full_field(small_scan());
  const sim::ComplexGrid original = sim::render_object(model, 10, 20, 40, 40);
  const sim::ComplexGrid moved = sim::render_object(sim::translated(model, 7.0, -4.0), 6, 27, 40, 40);
  for (std::size_t i = 0; i < original.values.size(); ++i) ASSERT_EQ(original.values[i], moved.values[i]) << i;
}
