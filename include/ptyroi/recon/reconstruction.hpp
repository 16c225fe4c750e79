#pragma once
// A compact far-field ptychographic reconstruction, free of MPI and HDF5: ePIE (Maiden & Rodenburg,
// Ultramicroscopy 109, 1256, 2009) and rPIE (Maiden, Johnson & Li, Optica 4, 736, 2017) with object
// and probe updates, FFTW, std::thread workers; plus the comparisons the validation needs (global
// phase and phase-ramp removal, error against a reference, SSIM of the phase).
//
// Conventions, the simulator's (ptyroi::simulation): a frame's N × M window has its top-left corner
// at object pixel (top, left); the exit wave is ψ = P · O[window]; the measured counts are
// I = |FFT(ψ)|² / (N·M) with zero frequency at pixel (N/2, M/2). The solver keeps √I in FFTW's own
// order (zero frequency at [0, 0]) and uses the unitary transform Ψ = FFT(ψ) / √(N·M), so |Ψ|² = I.
//
// Parallel updates. Frames are visited in a random order (per iteration, from the seed) in batches
// of `batch` frames. Every frame of a batch computes its exit-wave correction Δψ_j = ψ'_j − ψ_j from
// the same object and probe (one frame per worker at a time, each worker with its own FFTW plans),
// then the corrections are merged, P_j being the probe placed at frame j and O_j the object in its
// window before the update:
//   object  O += Σ_j P*_j Δψ_j / ((1 − α) Σ_j |P_j|² + α max|P|²)          (rPIE)
//           O += α Σ_j P*_j Δψ_j / max|P|²                                  (ePIE)
//   probe   P += Σ_j O*_j Δψ_j / ((1 − β) Σ_j |O_j|² + β Σ_j max|O_j|²)     (rPIE)
//           P += β Σ_j O*_j Δψ_j / Σ_j max|O_j|²                            (ePIE)
// With batch = 1 (and Settings::object_support = 0, pin_probe off, no empty-space frames: the
// regularisation and conventions below) these are exactly the published sequential updates; with
// more frames the object steps of frames that do not overlap are the sequential ones, and the probe
// step is the mean of the frames' steps. Every sum runs over the batch in a fixed order and each
// object row belongs to one worker, so the result is bitwise the same for any thread count.
#include <complex>
#include <cstdint>
#include <functional>
#include <vector>

#include "ptyroi/numerics/image.hpp"

namespace ptyroi::reconstruction {

using Complex = numerics::Complex;
template <class T>
using Grid = numerics::Image<T>;
using ComplexGrid = numerics::ComplexImage;

enum class Algorithm { epie, rpie };
const char* algorithm_name(Algorithm algorithm);

// Where frame k's window lies in the object (pixels).
struct Window {
  int top = 0;
  int left = 0;
};

// The measured data in the solver's layout.
struct Measurements {
  int rows = 0;  // N: detector rows = window rows
  int cols = 0;  // M
  std::vector<Window> windows;
  // K × N × M amplitudes √I in FFTW order; a negative value marks a pixel without a measurement
  // (NaN/Inf in the input), which the modulus constraint leaves free.
  std::vector<float> amplitudes;

  [[nodiscard]] std::size_t frames() const { return windows.size(); }
  [[nodiscard]] std::size_t pixels() const { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols); }
  [[nodiscard]] const float* amplitude(std::size_t frame) const { return amplitudes.data() + frame * pixels(); }
};

// Appends one frame: `counts` (rows × cols, zero frequency at (rows/2, cols/2), the simulator's and
// ptyroi's convention) is moved to FFTW order and stored as √max(I, 0); non-finite counts are
// marked missing. Throws InputError if the frame's shape differs from earlier frames'.
void add_frame(Measurements& data, const double* counts, int rows, int cols, Window window);

// The object grid every window fits in: (max top + N) × (max left + M). Throws InputError if a
// window has a negative corner.
struct Shape {
  int rows = 0;
  int cols = 0;
};
Shape object_shape(const std::vector<Window>& windows, int frame_rows, int frame_cols);

// The frames that see empty space, for a sample that only absorbs (|O| ≤ 1): those whose total
// counts are within 5 Poisson standard deviations (5·√max) of the brightest frame's. Their mean
// counts are the probe's power Σ|P|².
struct EmptySpace {
  std::vector<std::size_t> frames;
  double power = 0.0;
};
EmptySpace find_empty_space(const Measurements& data);

// A probe estimated from the data alone: the inverse transform of the root of the mean pattern,
// with a flat phase, centred at (N/2, M/2), scaled to Σ|P|² = find_empty_space(data).power. For a
// focused probe on mostly empty background this is close to the true probe (same support, power).
ComplexGrid probe_from_patterns(const Measurements& data);

// Σ_k |P|² placed at every window: how much each object pixel is illuminated.
Grid<double> illumination(const ComplexGrid& probe, const std::vector<Window>& windows, int object_rows,
                          int object_cols);

// The random start: empty space, O = 1, plus complex Gaussian noise of standard deviation `noise`
// weighted by the relative illumination of the start probe, so that pixels no frame illuminates
// start (and stay) at the empty-space value 1. Deterministic in `seed`.
ComplexGrid random_start_object(const ComplexGrid& probe, const std::vector<Window>& windows, int object_rows,
                                int object_cols, double noise, std::uint64_t seed);

struct Settings {
  Algorithm algorithm = Algorithm::rpie;
  int iterations = 100;
  double alpha = 0.1;    // object step (rPIE regularisation α; ePIE step α)
  double beta = 0.1;     // probe step
  int probe_start = 10;  // iteration from which the probe is updated as well (0: from the start)
  // The object is updated only under each frame's probe support, |P|² ≥ object_support·max|P|².
  // Far out in the probe's tails a frame's correction is mostly photon noise, and pixels that no
  // support reaches (outside a RoI) would otherwise random-walk away from their start over the
  // iterations. 0: update everywhere, as the published algorithms do.
  double object_support = 1e-3;
  int batch = 16;  // frames per parallel update; 1 = sequential ePIE/rPIE
  int threads = 1;
  std::uint64_t seed = 1;  // the visiting order of every iteration
  // Pins the probe's ambiguities (P·e^{−ik·r} with O·e^{ik·r}, and P·c with O/c, fit the data
  // equally well) after every iteration that updated the probe: a linear phase moves the centre of
  // mass of |FFT(P)|² to zero frequency, the pattern centre (N/2, M/2) where the data convention puts
  // the direct beam (the data then keep the object free of a ramp too); a constant phase makes Σ P
  // real and positive; and, if probe_power > 0, a scale makes Σ|P|² = probe_power (so that empty
  // space has |O| = 1).
  bool pin_probe = true;
  double probe_power = 0.0;  // e.g. find_empty_space(data).power; 0: the scale is left free
  // The object's global phase is free too (each frame's exit wave has an unmeasured phase). Given
  // the frames that see empty space (find_empty_space), after every iteration the object's phase
  // under them, weighted by |P|², is brought to 0 by one phase factor on the illuminated part of the
  // object: fully where the start illumination is at least half its maximum, fading to nothing
  // (below 10⁻³ of that weight: not at all) where no frame reaches, so illuminated empty space
  // matches the unilluminated start, O = 1.
  // Empty: the global phase is left free.
  std::vector<std::size_t> empty_space_frames;
};

struct Result {
  ComplexGrid object;
  ComplexGrid probe;
  // Per iteration: Σ (|Ψ| − √I)² / Σ I over all measured pixels, with the model before its update.
  std::vector<double> fourier_error;
  double seconds = 0.0;  // wall time of the iterations
};

// The order in which iteration `iteration` (from 0) visits the frames: a permutation of 0 … frames − 1
// drawn from (seed, iteration) by Fisher–Yates, the same with every standard library.
std::vector<std::size_t> visiting_order(std::size_t frames, std::uint64_t seed, int iteration);

// Called after every iteration with (iteration from 1, its Fourier error); may be empty.
using Progress = std::function<void(int, double)>;

// Runs the iterations from the given start. Throws InputError on inconsistent input (no frames, a
// window outside the object, a probe of the wrong shape) and UsageError on bad settings.
Result reconstruct(const Measurements& data, ComplexGrid object, ComplexGrid probe, const Settings& settings,
                   const Progress& progress = {});

// ---- comparisons
// -----------------------------------------------------------------------------------------

// A rectangle of object pixels [top, top + rows) × [left, left + cols).
struct Region {
  int top = 0;
  int left = 0;
  int rows = 0;
  int cols = 0;
};

// The area a scan covers: the rectangle spanned by the probe centres (window corner + (N/2, M/2))
// of `windows`, widened by `margin` pixels on every side and clipped to the object. With margin =
// the probe radius this is the simulator's scanned_area.
Region covered_region(const std::vector<Window>& windows, int frame_rows, int frame_cols, double margin,
                      int object_rows, int object_cols);

// The part of `grid` inside `region`.
template <class T>
Grid<T> crop(const Grid<T>& grid, const Region& region);

// `test` with the ambiguities of ptychography removed against `reference` (same shape): a linear
// phase ramp (if remove_ramp; estimated from the mean phase difference between neighbouring
// pixels of ref·conj(test)) and then the complex factor c minimising ||c·test − reference||.
ComplexGrid align(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp);

// ||align(test, reference) − reference|| / ||reference||.
double relative_error(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp);

// The phase of `test` aligned to `reference`: its global phase offset removed (θ = arg of
// Σ test·conj(reference) after the ramp) and, if remove_ramp, its linear phase ramp (as in align).
Grid<double> aligned_phase(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp);

// The SSIM data range of a phase image: the distance between the smallest and largest possible
// values (scikit-image's definition of data_range), 2π for a phase in (−π, π].
constexpr double kPhaseDataRange = 2.0 * 3.14159265358979323846;

// SSIM (Wang et al. 2004, ptyroi/ssim.hpp) between the phase of `reference` and aligned_phase(test,
// reference, remove_ramp). Both removals undo ambiguities of ptychography: the global phase always,
// a linear ramp once the probe is refined. data_range ≤ 0: the reference phase's max − min (more
// sensitive: then phase errors of about 1% of that range, e.g. photon noise on empty background,
// already lower the index markedly).
double phase_ssim(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp = true,
                  double data_range = kPhaseDataRange);

}  // namespace ptyroi::reconstruction
