// The ePIE/rPIE reconstruction on tiny simulated scans: data layout, the probe estimate, one
// sequential pass against a naive textbook implementation (plain DFT), convergence to the true
// object with the ptychographic ambiguities removed, invariance to the thread count, and the
// comparisons the validation uses.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/recon/reconstruction.hpp"
#include "ptyroi/simulate/simulation.hpp"

namespace rec = ptyroi::reconstruction;
namespace sim = ptyroi::simulation;
using rec::Complex;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A small raster scan of the simulator's kind, its true object and noise-free patterns.
struct TinyScan {
  sim::ScanGeometry geometry;
  sim::ComplexGrid object;
  sim::ComplexGrid probe;
  rec::Measurements data;
};

TinyScan make_tiny_scan(int rows, int cols, int frame_size, double radius, int step, double coverage) {
  TinyScan scan;
  scan.geometry.rows = rows;
  scan.geometry.cols = cols;
  scan.geometry.frame_size = frame_size;
  scan.geometry.probe_radius = radius;
  scan.geometry.step = step;
  const sim::ObjectModel model = sim::make_particles(scan.geometry, 4, coverage, 5);
  scan.object = sim::render_object(model, 0, 0, scan.geometry.object_rows(), scan.geometry.object_cols());
  scan.probe = sim::make_probe(frame_size, radius, 1e6);
  sim::FarField far_field(scan.probe);
  for (const sim::ScanPosition& position : sim::raster_positions(scan.geometry)) {
    const sim::Grid<double> pattern = far_field.expected_pattern(scan.object, position.y, position.x);
    rec::add_frame(scan.data, pattern.values.data(), frame_size, frame_size, {position.y, position.x});
  }
  return scan;
}

rec::Region scanned_region(const TinyScan& scan) {
  return rec::covered_region(scan.data.windows, scan.data.rows, scan.data.cols, scan.geometry.probe_radius,
                             scan.object.rows, scan.object.cols);
}

// Plain DFT, unitary: X(k) = Σ x(n) e^{∓2πi k·n / N} / √(N·M).
std::vector<Complex> dft(const std::vector<Complex>& x, int n, int m, int sign) {
  std::vector<Complex> out(x.size());
  for (int k = 0; k < n; ++k) {
    for (int l = 0; l < m; ++l) {
      Complex sum{};
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < m; ++j) {
          sum += x[i * m + j] * std::polar(1.0, sign * 2.0 * kPi * (double(k) * i / n + double(l) * j / m));
        }
      }
      out[k * m + l] = sum / std::sqrt(double(n) * m);
    }
  }
  return out;
}

// One sequential pass of the published updates, written from the papers' equations.
void textbook_pass(const rec::Measurements& data, sim::ComplexGrid& object, sim::ComplexGrid& probe,
                   const rec::Settings& settings, int iteration) {
  const int n = data.rows;
  const int m = data.cols;
  for (std::size_t k : rec::visiting_order(data.frames(), settings.seed, iteration)) {
    const rec::Window w = data.windows[k];
    std::vector<Complex> patch(n * m), psi(n * m);
    double probe_max = 0.0, object_max = 0.0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < m; ++j) {
        patch[i * m + j] = object(w.top + i, w.left + j);
        psi[i * m + j] = probe(i, j) * patch[i * m + j];
        probe_max = std::max(probe_max, std::norm(probe(i, j)));
        object_max = std::max(object_max, std::norm(patch[i * m + j]));
      }
    }
    std::vector<Complex> spectrum = dft(psi, n, m, -1);
    for (int p = 0; p < n * m; ++p) {
      const double a = data.amplitude(k)[p];
      spectrum[p] = std::abs(spectrum[p]) > 0 ? a * spectrum[p] / std::abs(spectrum[p]) : Complex(a, 0);
    }
    const std::vector<Complex> revised = dft(spectrum, n, m, +1);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < m; ++j) {
        const Complex delta = revised[i * m + j] - psi[i * m + j];
        const Complex p = probe(i, j);
        const Complex o = patch[i * m + j];
        if (settings.algorithm == rec::Algorithm::epie) {
          object(w.top + i, w.left + j) += settings.alpha * std::conj(p) * delta / probe_max;
        } else {
          object(w.top + i, w.left + j) +=
              std::conj(p) * delta / ((1 - settings.alpha) * std::norm(p) + settings.alpha * probe_max);
        }
        if (iteration >= settings.probe_start) {
          if (settings.algorithm == rec::Algorithm::epie) {
            probe(i, j) += settings.beta * std::conj(o) * delta / object_max;
          } else {
            probe(i, j) += std::conj(o) * delta / ((1 - settings.beta) * std::norm(o) + settings.beta * object_max);
          }
        }
      }
    }
  }
}

double largest_difference(const sim::ComplexGrid& a, const sim::ComplexGrid& b) {
  double largest = 0.0;
  for (std::size_t q = 0; q < a.values.size(); ++q) largest = std::max(largest, std::abs(a.values[q] - b.values[q]));
  return largest;
}

}  // namespace

TEST(Reconstruction, FramesAreStoredInFftwOrder) {
  rec::Measurements data;
  std::vector<double> pattern(6 * 4, 0.0);
  pattern[3 * 4 + 2] = 16.0;                              // the centre (N/2, M/2): zero frequency
  pattern[0] = -3.0;                                      // negative counts: amplitude 0
  pattern[1] = std::numeric_limits<double>::quiet_NaN();  // no measurement
  rec::add_frame(data, pattern.data(), 6, 4, {2, 1});
  ASSERT_EQ(data.frames(), 1u);
  EXPECT_FLOAT_EQ(data.amplitude(0)[0], 4.0F);
  // Centred (0, 0) is frequency (−3, −2): FFTW index (3, 2); centred (0, 1) is FFTW (3, 3).
  EXPECT_FLOAT_EQ(data.amplitude(0)[3 * 4 + 2], 0.0F);
  EXPECT_LT(data.amplitude(0)[3 * 4 + 3], 0.0F);
  EXPECT_THROW(rec::add_frame(data, pattern.data(), 4, 6, {0, 0}), ptyroi::InputError);
  const rec::Shape shape = rec::object_shape({{2, 1}, {0, 5}}, 6, 4);
  EXPECT_EQ(shape.rows, 8);
  EXPECT_EQ(shape.cols, 9);
  EXPECT_THROW(rec::object_shape({{-1, 0}}, 6, 4), ptyroi::InputError);
}

TEST(Reconstruction, ProbeFromEmptySpacePatternsIsTheTrueProbe) {
  // On empty space every pattern is |FFT(P)|²: the aperture of the focused probe.
  const sim::ComplexGrid probe = sim::make_probe(32, 4.0, 1e6);
  sim::FarField far_field(probe);
  const sim::ComplexGrid empty(40, 40, Complex(1.0, 0.0));
  rec::Measurements data;
  for (int k = 0; k < 3; ++k) {
    const sim::Grid<double> pattern = far_field.expected_pattern(empty, 4 * k, 2 * k);
    rec::add_frame(data, pattern.values.data(), 32, 32, {4 * k, 2 * k});
  }
  const sim::ComplexGrid estimate = rec::probe_from_patterns(data);
  double power = 0.0;
  for (const Complex& value : probe.values) power += std::norm(value);
  // Amplitudes are stored as float: agreement to single precision.
  EXPECT_LT(largest_difference(estimate, probe), 1e-5 * std::sqrt(power));
}

TEST(Reconstruction, OneSequentialPassMatchesTheTextbookUpdates) {
  const TinyScan scan = make_tiny_scan(3, 4, 8, 1.6, 2, 0.3);
  for (const rec::Algorithm algorithm : {rec::Algorithm::epie, rec::Algorithm::rpie}) {
    rec::Settings settings;
    settings.algorithm = algorithm;
    settings.iterations = 2;
    settings.batch = 1;
    settings.probe_start = 1;  // object only in the first pass, both in the second
    settings.alpha = algorithm == rec::Algorithm::epie ? 0.9 : 0.2;
    settings.beta = 0.7;
    settings.seed = 11;
    settings.pin_probe = false;  // neither is part of the published updates
    settings.object_support = 0.0;
    const sim::ComplexGrid probe_start = rec::probe_from_patterns(scan.data);
    const sim::ComplexGrid object_start =
        rec::random_start_object(probe_start, scan.data.windows, scan.object.rows, scan.object.cols, 0.2, 3);
    const rec::Result result = rec::reconstruct(scan.data, object_start, probe_start, settings);

    sim::ComplexGrid object = object_start;
    sim::ComplexGrid probe = probe_start;
    for (int iteration = 0; iteration < settings.iterations; ++iteration) {
      textbook_pass(scan.data, object, probe, settings, iteration);
    }
    EXPECT_LT(largest_difference(result.object, object), 1e-10) << rec::algorithm_name(algorithm);
    EXPECT_LT(largest_difference(result.probe, probe), 1e-8 * std::abs(probe(4, 4))) << rec::algorithm_name(algorithm);
  }
}

TEST(Reconstruction, ConvergesToTheTrueObject) {
  const TinyScan scan = make_tiny_scan(10, 10, 32, 4.0, 3, 0.25);
  const rec::Region region = scanned_region(scan);
  const sim::ComplexGrid truth = rec::crop(scan.object, region);
  for (const rec::Algorithm algorithm : {rec::Algorithm::rpie, rec::Algorithm::epie}) {
    rec::Settings settings;
    settings.algorithm = algorithm;
    settings.iterations = 150;
    settings.alpha = algorithm == rec::Algorithm::epie ? 1.0 : 0.1;
    settings.beta = algorithm == rec::Algorithm::epie ? 1.0 : 0.1;
    settings.batch = 8;
    settings.threads = 2;
    const rec::EmptySpace empty = rec::find_empty_space(scan.data);
    settings.probe_power = empty.power;
    settings.empty_space_frames = empty.frames;
    const sim::ComplexGrid probe = rec::probe_from_patterns(scan.data);
    const sim::ComplexGrid start =
        rec::random_start_object(probe, scan.data.windows, scan.object.rows, scan.object.cols, 0.1, 7);
    const double error_at_start = rec::relative_error(rec::crop(start, region), truth, true);
    const rec::Result result = rec::reconstruct(scan.data, start, probe, settings);
    const double error = rec::relative_error(rec::crop(result.object, region), truth, true);
    std::cout << rec::algorithm_name(algorithm) << ": error against the true object " << error_at_start << " -> "
              << error << ", Fourier error " << result.fourier_error.front() << " -> " << result.fourier_error.back()
              << ", phase SSIM " << rec::phase_ssim(rec::crop(result.object, region), truth)
              << " (data range of the truth's phase: "
              << rec::phase_ssim(rec::crop(result.object, region), truth, true, 0.0) << ")\n";
    // rPIE converges faster than ePIE (Maiden et al. 2017); both reach the truth.
    const bool rpie = algorithm == rec::Algorithm::rpie;
    EXPECT_LT(error, rpie ? 0.01 : 0.03) << rec::algorithm_name(algorithm);
    EXPECT_LT(result.fourier_error.back(), (rpie ? 1e-4 : 1e-2) * result.fourier_error.front());
    EXPECT_GT(rec::phase_ssim(rec::crop(result.object, region), truth), 0.99);
    EXPECT_GT(rec::phase_ssim(rec::crop(result.object, region), truth, true, 0.0), rpie ? 0.95 : 0.9);
  }
}

TEST(Reconstruction, ResultDoesNotDependOnTheThreadCount) {
  const TinyScan scan = make_tiny_scan(6, 7, 16, 2.0, 2, 0.3);
  rec::Settings settings;
  settings.iterations = 4;
  settings.probe_start = 1;
  settings.batch = 5;
  const rec::EmptySpace empty = rec::find_empty_space(scan.data);  // every convention on
  settings.probe_power = empty.power;
  settings.empty_space_frames = empty.frames;
  const sim::ComplexGrid probe = rec::probe_from_patterns(scan.data);
  const sim::ComplexGrid start =
      rec::random_start_object(probe, scan.data.windows, scan.object.rows, scan.object.cols, 0.1, 2);
  settings.threads = 1;
  const rec::Result one = rec::reconstruct(scan.data, start, probe, settings);
  for (int threads : {2, 3, 8}) {
    settings.threads = threads;
    const rec::Result many = rec::reconstruct(scan.data, start, probe, settings);
    EXPECT_EQ(many.object.values, one.object.values) << threads << " threads";
    EXPECT_EQ(many.probe.values, one.probe.values) << threads << " threads";
    EXPECT_EQ(many.fourier_error, one.fourier_error) << threads << " threads";
  }
}

TEST(Reconstruction, RandomStartLeavesUnlitPixelsEmptyAndFollowsTheSeed) {
  const sim::ComplexGrid probe = sim::make_probe(16, 2.0, 1.0);
  const std::vector<rec::Window> windows{{0, 0}, {0, 4}};
  const sim::ComplexGrid a = rec::random_start_object(probe, windows, 40, 40, 0.1, 1);
  const sim::ComplexGrid b = rec::random_start_object(probe, windows, 40, 40, 0.1, 1);
  const sim::ComplexGrid c = rec::random_start_object(probe, windows, 40, 40, 0.1, 2);
  EXPECT_EQ(a.values, b.values);
  EXPECT_NE(a.values, c.values);
  EXPECT_EQ(a(30, 30), Complex(1.0, 0.0));   // outside every window
  EXPECT_GT(std::abs(a(8, 10) - 1.0), 0.0);  // under the probe
}

TEST(Reconstruction, AlignRemovesGlobalFactorAndPhaseRamp) {
  sim::ComplexGrid reference(20, 24);
  for (int r = 0; r < 20; ++r) {
    for (int c = 0; c < 24; ++c) reference(r, c) = std::polar(1.0 + 0.2 * std::sin(r * 0.7), std::cos(c * 0.4 + r));
  }
  sim::ComplexGrid test = reference;
  for (int r = 0; r < 20; ++r) {
    for (int c = 0; c < 24; ++c) test(r, c) *= 0.8 * std::polar(1.0, 2.1 + 0.05 * c - 0.03 * r);
  }
  EXPECT_LT(rec::relative_error(test, reference, true), 1e-12);
  EXPECT_GT(rec::relative_error(test, reference, false), 0.1);
  EXPECT_NEAR(rec::phase_ssim(reference, reference), 1.0, 1e-12);
  EXPECT_NEAR(rec::phase_ssim(reference, reference, true, 0.0), 1.0, 1e-12);
  sim::ComplexGrid offset = reference;
  for (Complex& value : offset.values) value *= std::polar(1.0, 0.4);
  EXPECT_NEAR(rec::phase_ssim(offset, reference, false), 1.0, 1e-12);  // a global phase offset is removed
  EXPECT_NEAR(rec::phase_ssim(test, reference, true), 1.0, 1e-12);     // and a ramp, when asked
  EXPECT_LT(rec::phase_ssim(test, reference, false), 0.99);
  const sim::Grid<double> phase = rec::aligned_phase(test, reference, true);
  for (std::size_t q = 0; q < phase.values.size(); ++q) {
    EXPECT_NEAR(phase.values[q], std::arg(reference.values[q]), 1e-12);
  }
}

TEST(Reconstruction, CoveredRegionIsTheSimulatorsScannedArea) {
  sim::ScanGeometry geometry;
  geometry.rows = 5;
  geometry.cols = 7;
  geometry.frame_size = 32;
  geometry.probe_radius = 4.0;
  geometry.step = 3;
  std::vector<rec::Window> windows;
  for (const sim::ScanPosition& p : sim::raster_positions(geometry)) windows.push_back({p.y, p.x});
  const rec::Region region = rec::covered_region(windows, 32, 32, 4.0, geometry.object_rows(), geometry.object_cols());
  const sim::Area area = sim::scanned_area(geometry);
  EXPECT_EQ(region.left, static_cast<int>(area.x0));
  EXPECT_EQ(region.top, static_cast<int>(area.y0));
  EXPECT_EQ(region.left + region.cols, static_cast<int>(area.x1));
  EXPECT_EQ(region.top + region.rows, static_cast<int>(area.y1));
}

TEST(Reconstruction, RejectsBadInput) {
  const TinyScan scan = make_tiny_scan(2, 2, 8, 1.6, 2, 0.3);
  const sim::ComplexGrid probe = rec::probe_from_patterns(scan.data);
  const sim::ComplexGrid object(scan.object.rows, scan.object.cols, Complex(1.0, 0.0));
  rec::Settings settings;
  settings.batch = 0;
  EXPECT_THROW(rec::reconstruct(scan.data, object, probe, settings), ptyroi::UsageError);
  settings = {};
  settings.alpha = 0.0;
  EXPECT_THROW(rec::reconstruct(scan.data, object, probe, settings), ptyroi::UsageError);
  settings = {};
  EXPECT_THROW(rec::reconstruct(rec::Measurements{}, object, probe, settings), ptyroi::InputError);
  EXPECT_THROW(rec::reconstruct(scan.data, sim::ComplexGrid(4, 4, 1.0), probe, settings), ptyroi::InputError);
  EXPECT_THROW(rec::reconstruct(scan.data, object, sim::ComplexGrid(4, 8, 1.0), settings), ptyroi::InputError);
}
