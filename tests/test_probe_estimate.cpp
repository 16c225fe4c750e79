// --border auto's probe radius: the bright-field disc of synthetic patterns of known radius (sharp
// discs by pixel coverage, with a central stop, with masked pixels), of the simulator's probe
// through its far field (ground truth: the probe radius it was made with), and the optics formula
// against hand-computed numbers.
#include "ptyroi/core/probe_estimate.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ptyroi/core/error.hpp"
#include "ptyroi/simulate/simulation.hpp"

namespace ptyroi {
namespace {

// The fraction of pixel (r, c) inside the annulus inner < d <= outer around (cy, cx), 16x16
// subsamples, times `level`, over a faint background that falls off with the distance.
std::vector<double> disc_pattern(std::size_t n, double cx, double cy, double outer, double inner = 0.0,
                                 double level = 1000.0) {
  std::vector<double> pattern(n * n);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < n; ++c) {
      int covered = 0;
      for (int i = 0; i < 16; ++i) {
        for (int j = 0; j < 16; ++j) {
          const double d = std::hypot(static_cast<double>(c) - 0.5 + (j + 0.5) / 16 - cx,
                                      static_cast<double>(r) - 0.5 + (i + 0.5) / 16 - cy);
          covered += d <= outer && d > inner;
        }
      }
      const double d = std::hypot(static_cast<double>(c) - cx, static_cast<double>(r) - cy);
      pattern[r * n + c] = level * covered / 256.0 + 20.0 / (1.0 + d * d);
    }
  }
  return pattern;
}

TEST(BrightFieldDisc, MeasuresDiscsOfKnownRadius) {
  for (const double radius : {3.0, 4.88, 10.0, 25.0, 50.0}) {
    SCOPED_TRACE(radius);
    const std::size_t n = 128;
    const BrightFieldDisc disc = bright_field_disc(disc_pattern(n, 64.3, 63.6, radius), n, n);
    EXPECT_NEAR(disc.radius, radius, 0.01 * radius);  // measured: within 0.5%
    EXPECT_NEAR(disc.centre_x, 64.3, 0.1);
    EXPECT_NEAR(disc.centre_y, 63.6, 0.1);
    EXPECT_NEAR(disc.level, 1000.0, 50.0);
  }
}

TEST(BrightFieldDisc, MeasuresAnAnnularPupilAtItsOuterEdge) {
  // A zone plate's central stop (40% of the radius) leaves a ring: the NA is the outer edge's.
  const std::size_t n = 128;
  const BrightFieldDisc disc = bright_field_disc(disc_pattern(n, 64.0, 64.0, 30.0, 12.0), n, n);
  EXPECT_NEAR(disc.radius, 30.0, 0.2);
}

TEST(BrightFieldDisc, IgnoresMaskedPixels) {
  // Two module-gap rows through the disc, written as a flag value, and a hot pixel; masked.
  const std::size_t n = 96;
  std::vector<double> pattern = disc_pattern(n, 48.0, 47.0, 20.0);
  std::vector<std::uint8_t> good(n * n, 1);
  for (std::size_t c = 0; c < n; ++c) {
    for (const std::size_t r : {40u, 41u}) {
      pattern[r * n + c] = 4294967295.0;
      good[r * n + c] = 0;
    }
  }
  pattern[10 * n + 10] = 1e6;
  good[10 * n + 10] = 0;
  const BrightFieldDisc disc = bright_field_disc(pattern, n, n, good);
  EXPECT_NEAR(disc.radius, 20.0, 0.2);
}

TEST(BrightFieldDisc, RefusesPatternsWithoutAMeasurableDisc) {
  const std::size_t n = 64;
  EXPECT_THROW(bright_field_disc(std::vector<double>(n * n, 0.0), n, n), InputError);
  // A disc larger than the frame (a crop inside the bright field).
  EXPECT_THROW(bright_field_disc(disc_pattern(n, 32.0, 32.0, 60.0), n, n), InputError);
  // A disc cut by the frame's edge.
  EXPECT_THROW(bright_field_disc(disc_pattern(n, 10.0, 32.0, 15.0), n, n), InputError);
  EXPECT_THROW(bright_field_disc(std::vector<double>(10), n, n), UsageError);
}

TEST(ProbeEstimate, RecoversTheSimulatorsProbeRadiusFromItsFarField) {
  // The simulator's focused probe: an aperture of 0.61 N / r Fourier pixels, transformed to an Airy
  // spot whose first zero is at r object pixels. Its far field through an empty object is the
  // bright-field disc; 0.61 N / a must give r back. The aperture's edge pixels are drawn by their
  // coverage in amplitude (squared in intensity), which puts the half level about 0.2 px inside
  // the aperture: within 6%.
  for (const auto& [frame_size, radius] : {std::pair{64, 8.0}, std::pair{128, 16.0}, std::pair{128, 10.0}}) {
    SCOPED_TRACE(std::to_string(frame_size) + " px frames, probe radius " + std::to_string(radius));
    simulation::FarField far_field(simulation::make_probe(frame_size, radius, 1e6));
    const simulation::ComplexGrid object(frame_size, frame_size, simulation::Complex(1.0, 0.0));
    const auto pattern = far_field.expected_pattern(object, 0, 0);
    const auto n = static_cast<std::size_t>(frame_size);
    const BrightFieldDisc disc = bright_field_disc(pattern.values, n, n);
    EXPECT_NEAR(disc.centre_x, frame_size / 2, 0.01);
    EXPECT_NEAR(disc.centre_y, frame_size / 2, 0.01);
    const double estimated = 0.61 * frame_size / disc.radius;
    EXPECT_NEAR(estimated, radius, 0.06 * radius);
    // The same through the optics: object pixel λz/(N p).
    const double wavelength = 1.24e-10, pixel = 75e-6, object_pixel = 1e-8;
    const double distance = object_pixel * frame_size * pixel / wavelength;
    EXPECT_NEAR(focused_probe_radius(disc.radius, pixel, distance, wavelength) / object_pixel, estimated,
                1e-6 * estimated);
  }
}

TEST(ProbeEstimate, FocusedProbeRadiusFromTheConvergenceAngle) {
  // λ = 1.24 Å, z = 2 m, p = 75 µm, a = 10 px: α = atan(3.75e-4), r₀ = 0.61 λ / sin α = 201.71 nm.
  EXPECT_NEAR(focused_probe_radius(10.0, 75e-6, 2.0, 1.24e-10), 0.61 * 1.24e-10 / std::sin(std::atan(3.75e-4)), 1e-20);
  EXPECT_NEAR(focused_probe_radius(10.0, 75e-6, 2.0, 1.24e-10), 201.7e-9, 0.1e-9);
  // Large angles: sin, not tan (a = 1000 px of 75 µm at 0.1 m: α = 36.87°, sin α = 0.6).
  EXPECT_NEAR(focused_probe_radius(1000.0, 75e-6, 0.1, 1e-10), 0.61e-10 / 0.6, 1e-22);
}

TEST(ProbeEstimate, BorderStepsReachTheProbeRadius) {
  // Cells reach ½ step; n more steps reach n + ½.
  EXPECT_EQ(border_steps_for_radius(0.4, 1.0), 0);
  EXPECT_EQ(border_steps_for_radius(0.5, 1.0), 0);
  EXPECT_EQ(border_steps_for_radius(0.51, 1.0), 1);
  EXPECT_EQ(border_steps_for_radius(1.5, 1.0), 1);
  EXPECT_EQ(border_steps_for_radius(1.6, 1.0), 2);
  EXPECT_EQ(border_steps_for_radius(8.36e-8, 6e-8), 1);
  EXPECT_EQ(border_steps_for_radius(1.0, 0.0), 0);
}

}  // namespace
}  // namespace ptyroi
