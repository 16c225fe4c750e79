#pragma once
// The probe's radius from the data (`--border auto`), for a focused probe.
//
// A focusing optic of numerical aperture NA = sin α (α: the convergence semi-angle) makes, at its
// focus, the Fraunhofer pattern of its pupil: for a circular pupil an Airy spot whose first dark
// ring lies at r₀ = 0.61 λ / NA = 1.22 λ / (2 NA), the radius taken here as the probe's (84% of its
// intensity lies inside). In the far field the unscattered beam fills the pupil's cone: the bright-
// field disc of the diffraction patterns, whose radius a (detector pixels of size p, at distance z)
// gives tan α = a·p / z. So
//     r₀ = 0.61 λ / sin(atan(a p / z))  ≈ 0.61 λ z / (a p),
// which is also 0.61 (N / a) object pixels of λz/(N p) for frames of N pixels. The disc is measured
// on the mean of a sample of frames (the sample's objects only shift and dim it): its level L is the
// median of the pixels within 0.6 a of its centre, a is where the disc's radial profile (mean over
// half-pixel rings around the centroid of the pixels above L/2) last falls through L/2 — so a pupil
// with a central stop (an annulus) is measured at its outer edge. Iterated from L = the brightest
// pixel until a settles.
//
// Assumption: the probe is focused on the sample. A defocused probe has the same bright-field
// disc but a footprint of about Δf·tan α, larger than r₀; give --border N for one.
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "ptyroi/core/frame_moments.hpp"
#include "ptyroi/core/frame_source.hpp"

namespace ptyroi {

struct BrightFieldDisc {
  double radius = 0.0;    // a, pixels (to the half-level of the edge)
  double centre_x = 0.0;  // pixels of the analysed frame (x = column)
  double centre_y = 0.0;
  double level = 0.0;  // L, the disc's plateau in the mean pattern
};

// The bright-field disc of a mean pattern [rows × cols] (row-major; good: 1 = use, empty = all).
// Throws InputError when there is no signal, or when no disc edge lies inside the frame (the disc
// fills it or is not a disc).
BrightFieldDisc bright_field_disc(const std::vector<double>& pattern, std::size_t rows, std::size_t cols,
                                  const std::vector<std::uint8_t>& good = {});

// The mean analysed frame (window, centring, bad pixels left out: 0) of up to `sample` frames spread
// evenly over the scan (each rank reads those in its own share), and the mask of its good pixels
// (analysed layout). Pixel values are summed as fixed-point integers (1/256), so the mean is the
// same for any number of ranks. Collective.
struct MeanPattern {
  std::vector<double> values;
  std::vector<std::uint8_t> good;
  std::size_t rows = 0, cols = 0;
  std::uint64_t frames = 0;  // sampled
};
MeanPattern sampled_mean_pattern(const FrameSource& source, const PixelSelection& pixels, MPI_Comm comm,
                                 std::uint64_t sample = 64);

// r₀ = 0.61 λ / sin(atan(a p / z)), metres, for a disc radius a in pixels of size p (metres) at
// distance z (metres) and wavelength λ (metres).
double focused_probe_radius(double disc_radius_px, double pixel_size_m, double distance_m, double wavelength_m);

// The border, in scan steps, that grows the RoI region by `radius`: the cells around RoI frames
// reach half a step already, and a border of n steps reaches n steps further (the irregular scans'
// radius (n + ½) s), so n = ⌈radius / step − ½⌉, at least 0.
int border_steps_for_radius(double radius, double step);

}  // namespace ptyroi
