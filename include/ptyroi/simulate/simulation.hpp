#pragma once
// The scan simulator's physics, free of MPI and HDF5: a complex object, a focused probe, raster,
// fly and spiral scan positions, far-field diffraction patterns with Poisson noise, incident-flux
// drift, detector artefacts (module gaps, hot pixels), fft-shifted storage and the ground truth of
// which positions see the sample. Everything is reproducible from a seed, frame by frame.
#include <complex>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "ptyroi/numerics/image.hpp"

namespace ptyroi::simulation {

using Complex = numerics::Complex;
template <class T>
using Grid = numerics::Image<T>;
using ComplexGrid = numerics::ComplexImage;

// A rows × cols raster with `step` object pixels between neighbouring positions along a row and
// row_spacing() between rows. At each position the probe window is the frame_size × frame_size
// object patch whose top-left corner is (row·row_spacing(), column·step); the probe is centred
// in it. The object is just large enough to hold every window.
struct ScanGeometry {
  int rows = 32;
  int cols = 48;
  int step = 13;
  int frame_size = 128;
  double probe_radius = 16.0;  // object pixels, first zero of the Airy spot
  int row_step = 0;            // object pixels between rows; 0: the same as step

  [[nodiscard]] int row_spacing() const { return row_step > 0 ? row_step : step; }
  [[nodiscard]] int object_rows() const { return (rows - 1) * row_spacing() + frame_size; }
  [[nodiscard]] int object_cols() const { return (cols - 1) * step + frame_size; }
};

// Defaults that keep the probe well inside its window (oversampling 4) and make neighbouring
// probes (diameter 2·radius) overlap by about 60%.
double default_probe_radius(int frame_size);
int default_step(double probe_radius);

// ---- positions
// -----------------------------------------------------------------------------------

struct ScanPosition {
  int row = 0;
  int column = 0;
  int x = 0;  // left edge of the probe window, object pixels (raster: column·step)
  int y = 0;  // top edge of the probe window, object pixels (raster: row·row_spacing())
};

// Row-major raster: frame k is at row k / cols, column k % cols.
std::vector<ScanPosition> raster_positions(const ScanGeometry& scan);

// Irregular scans, in the raster's frame of object pixels (so positions may be negative) and in
// scan order. Windows sit at whole object pixels, so positions are integers.
enum class ScanPattern { raster, fly, spiral };

// A continuous fly scan: `rows` lines spaced row_spacing(), each left to right over the raster's
// width cols·step. Line r holds cols + d_r points, d_r drawn from the seed within ±⌊cols/10⌋;
// point i is exposed over the i-th of those equal intervals and sits at its middle, shifted by
// −step/2 so that a line of exactly cols points is the raster row: x = round((i + ½)·cols·step /
// count − step/2). Each point then moves by an integer jitter in [−⌊step/4⌋, ⌊step/4⌋] along x
// and [−⌊row_spacing()/4⌋, ⌊row_spacing()/4⌋] along y. row = the line, column = i.
std::vector<ScanPosition> fly_positions(const ScanGeometry& scan, std::uint64_t seed);

// A Fermat spiral centred on the raster (which must have row_spacing() == step): point n at
// radius step·0.55·√n and angle n·137.508°, rounded to whole pixels, kept while it lies in the
// raster's cells
// [−step/2, (cols − ½)·step) × [−step/2, (rows − ½)·step): about 1.05·rows·cols points, one per
// π(0.55·step)² ≈ 0.95·step² of the same area. row = 0, column = the point's index in the scan.
std::vector<ScanPosition> spiral_positions(const ScanGeometry& scan);

// The scan's positions moved so that the smallest x and y are 0, and the object that holds every
// probe window. A raster is unchanged (shift 0, the geometry's object size).
struct Scan {
  std::vector<ScanPosition> positions;
  int shift_x = 0;  // added to the pattern's x (raster frame) to give the position's x
  int shift_y = 0;
  int object_rows = 0;  // (largest y) + frame_size
  int object_cols = 0;  // (largest x) + frame_size

  [[nodiscard]] std::int64_t frames() const { return static_cast<std::int64_t>(positions.size()); }
};
Scan make_scan(const ScanGeometry& scan, ScanPattern pattern, std::uint64_t seed);

// ---- object
// --------------------------------------------------------------------------------------

// One elliptical feature. A pixel at (x, y) maps to unit-disc coordinates
// (p, q) = to_unit · (x − centre_x, y − centre_y); inside (p² + q² ≤ 1) it adds
// exponent · profile(ρ) to the log-transmission, profile being 1 (flat) or the projected
// thickness √(1 − ρ²) of a sphere.
struct Feature {
  enum class Profile { flat, sphere };

  double centre_x = 0.0;
  double centre_y = 0.0;
  double to_unit[2][2] = {{1.0, 0.0}, {0.0, 1.0}};
  Profile profile = Profile::flat;
  Complex exponent;  // −absorption + i·phase at full profile
};

// A Siemens star: the pixels at angle θ = atan2(y − centre_y, x − centre_x) ∈ [0, 2π) around the
// centre with ⌊θ·sectors / 2π⌋ even (every other sector, `sectors` even) add `exponent` to the
// log-transmission, at every distance from the centre.
struct Star {
  double centre_x = 0.0;
  double centre_y = 0.0;
  int sectors = 2;
  Complex exponent;
};

// The object's transmission O = exp(background + Σ exponent·profile + Σ stars): with the default
// background 0, exactly 1 away from all features.
struct ObjectModel {
  std::vector<Feature> features;
  std::vector<Star> stars;
  Complex background;  // added to the log-transmission of every pixel
};

// The illuminated rectangle [x0, x1) × [y0, y1): probe centres widened by the probe radius.
struct Area {
  double x0 = 0.0;
  double y0 = 0.0;
  double x1 = 0.0;
  double y1 = 0.0;
};
Area scanned_area(const ScanGeometry& scan);

// `count` absorbing, phase-shifting spheres of random radius, not overlapping where the random
// placement allows, inside the scanned area and together covering the fraction `coverage` of it.
ObjectModel make_particles(const ScanGeometry& scan, int count, double coverage, std::uint64_t seed);

// The (modified) Shepp–Logan phantom stretched over the scanned area; its density is used as
// absorption and phase at once.
ObjectModel make_shepp_logan(const ScanGeometry& scan);

// A weak test pattern that fills the field of view, with no empty background (a sample such as
// a lithographic test chart on a membrane, larger than the scan): a membrane of absorption
// kFullFieldMembrane.real() and phase kFullFieldMembrane.imag() everywhere, and over it a Siemens
// star centred on the scanned area whose spokes add absorption and phase kFullFieldSpokes. The
// star has as many sectors (an even number) as make each one at most half the probe radius wide
// at the farthest corner of the scanned area, so every probe averages several spokes and the
// transmitted intensity varies by a few per mille only: one population, not two. Every frame is
// informative.
constexpr Complex kFullFieldMembrane{-0.01, 0.1};
constexpr Complex kFullFieldSpokes{-0.01, 0.3};
ObjectModel make_full_field(const ScanGeometry& scan);

// The same features moved by (dx, dy) pixels: puts an object made in the raster's frame into a
// Scan's (dx = shift_x, dy = shift_y).
ObjectModel translated(ObjectModel model, double dx, double dy);

// The transmission over object pixels [top, top + rows) × [left, left + cols). A pixel's value
// depends only on its own coordinates, so any window equals the same part of a larger one.
ComplexGrid render_object(const ObjectModel& model, int top, int left, int rows, int cols);

// ---- probe and far field
// -------------------------------------------------------------------------

// A focused probe on a frame_size² grid: a circular aperture of radius 0.61·frame_size/radius
// Fourier pixels, inverse-transformed to an Airy spot with its first zero at `radius` pixels,
// centred at (frame_size/2, frame_size/2) and scaled so that Σ|P|² = photons.
ComplexGrid make_probe(int frame_size, double radius, double photons);

// Far-field diffraction through one reusable FFTW plan. Constructing one runs the FFTW planner,
// which is not thread-safe; expected_pattern reuses an internal buffer, so one instance serves
// one thread.
class FarField {
 public:
  explicit FarField(ComplexGrid probe);
  ~FarField();
  FarField(const FarField&) = delete;
  FarField& operator=(const FarField&) = delete;

  [[nodiscard]] const ComplexGrid& probe() const { return probe_; }

  // Expected counts I = |FFT(P · O_patch)|² / (N·M) for the patch of `object` whose top-left
  // corner is (top, left), with zero frequency at pixel (N/2, M/2). By Parseval the total is
  // Σ|P|²|O|², i.e. photons times the mean |O|² under the probe.
  Grid<double> expected_pattern(const ComplexGrid& object, int top, int left);

 private:
  struct Plan;
  ComplexGrid probe_;
  std::unique_ptr<Plan> plan_;
};

// ---- incident flux
// -------------------------------------------------------------------------------

// The incident flux relative to the nominal photons per frame: (1 + step) from frame step_frame
// on (e.g. a top-up injection), times (1 + noise·g_k), g_k a standard normal draw of its own
// stream for (seed, frame), clamped at 0.
struct FluxDrift {
  double step = 0.0;
  std::int64_t step_frame = 0;
  double noise = 0.0;
  [[nodiscard]] bool constant() const { return step == 0.0 && noise == 0.0; }
};
double relative_flux(const FluxDrift& drift, std::uint64_t seed, std::int64_t frame);

// One standard normal draw (Box–Muller from two uniforms), the same with every standard library.
double standard_normal(std::mt19937_64& engine);

// ---- noise and ground truth
// ----------------------------------------------------------------------

// The noise stream of one frame: a function of (seed, frame) only, so a frame's noise does not
// depend on which rank simulates it or in which order.
std::mt19937_64 frame_noise_engine(std::uint64_t seed, std::uint64_t frame);

// One Poisson draw; cheap for the many pixels with tiny expected counts.
std::uint64_t sample_poisson(double mean, std::mt19937_64& engine);

// Poisson counts for every pixel of an expected pattern, drawn in row-major order.
Grid<std::uint64_t> noisy_pattern(const Grid<double>& expected, std::uint64_t seed, std::uint64_t frame);

// Ground truth: true when the probe support (|P|² ≥ 1% of its maximum) placed at (top, left)
// covers any object pixel with |O − 1| > 1e-3.
bool is_informative(const ComplexGrid& probe, const ComplexGrid& object, int top, int left);

// ---- storage
// -------------------------------------------------------------------------------------

// numpy.fft.ifftshift of a frame: out(i, j) = in((i + ⌊rows/2⌋) mod rows, (j + ⌊cols/2⌋) mod cols).
// Moves a centred pattern's zero frequency from (⌊rows/2⌋, ⌊cols/2⌋) to the corner (0, 0), as
// FFT-based codes (tike, APS fly scans) store their frames.
template <class T>
Grid<T> ifftshift(const Grid<T>& frame) {
  Grid<T> shifted(frame.rows, frame.cols);
  for (int i = 0; i < frame.rows; ++i) {
    const int from_row = (i + frame.rows / 2) % frame.rows;
    for (int j = 0; j < frame.cols; ++j) shifted(i, j) = frame(from_row, (j + frame.cols / 2) % frame.cols);
  }
  return shifted;
}

// ---- detector artefacts
// ---------------------------------------------------------------------------

// Bad pixels like an Eiger's: a band of module-gap rows and hot (noisy) pixels. A detector writes
// the flag value 2^bit_depth − 1 in gap pixels and marks both in its pixel mask.
struct Pixel {
  int row = 0;
  int col = 0;
};

struct DetectorArtefacts {
  std::vector<int> gap_rows;  // ascending
  std::vector<Pixel> hot_pixels;
  [[nodiscard]] bool empty() const { return gap_rows.empty() && hot_pixels.empty(); }
};

// DECTRIS pixel_mask bits (NXmx detectorSpecific/pixel_mask): bit 0 gap, bit 3 noisy.
constexpr std::uint32_t kDectrisGap = 1;
constexpr std::uint32_t kDectrisNoisy = 8;
// CXI pixel-mask bits (Maia 2012): bit 0 invalid, bit 2 hot.
constexpr std::uint32_t kCxiInvalid = 1;
constexpr std::uint32_t kCxiHot = 4;

// The module gap of an N-row frame: 2 rows starting at row round(0.4·N).
std::vector<int> module_gap_rows(int frame_size);

// `count` distinct pixels drawn from the seed, never in the module-gap rows, so the same pixels
// are hot with or without the gap. At most a quarter of the frame.
std::vector<Pixel> choose_hot_pixels(int frame_size, int count, std::uint64_t seed);

// The gap rows (when `gaps`) and `hot_pixels` hot pixels of an N × N detector.
DetectorArtefacts detector_artefacts(int frame_size, bool gaps, int hot_pixels, std::uint64_t seed);

// N × N mask: gap_bits in gap rows, hot_bits (or-ed) at hot pixels, 0 elsewhere.
Grid<std::uint32_t> pixel_mask(int frame_size, const DetectorArtefacts& artefacts, std::uint32_t gap_bits,
                               std::uint32_t hot_bits);

// A hot pixel's constant count: 10^6 + 3, or largest − 1 when the pixel type holds less (so it
// never equals the gap flag).
std::uint64_t hot_pixel_counts(std::uint64_t largest);

// What the detector reports: `flag` in every gap pixel, `hot` at every hot pixel.
void apply_artefacts(Grid<std::uint64_t>& counts, const DetectorArtefacts& artefacts, std::uint64_t flag,
                     std::uint64_t hot);

}  // namespace ptyroi::simulation
