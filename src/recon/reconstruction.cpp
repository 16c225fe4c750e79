#include "ptyroi/recon/reconstruction.hpp"

#include <fftw3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "ptyroi/core/error.hpp"
#include "ptyroi/numerics/random.hpp"
#include "ptyroi/recon/ssim.hpp"

namespace ptyroi::reconstruction {

const char* algorithm_name(Algorithm algorithm) { return algorithm == Algorithm::epie ? "ePIE" : "rPIE"; }

namespace {

constexpr double kPi = 3.14159265358979323846;

std::size_t at(int row, int col, int cols) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(col);
}

// A standard normal by Box–Muller: the same numbers with every standard library
// (std::normal_distribution and std::shuffle are implementation-defined).
double standard_normal(std::mt19937_64& engine) {
  const double u1 = 1.0 - uniform(engine);  // (0, 1]
  const double u2 = uniform(engine);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

// Fisher–Yates with the engine's own bits.
std::vector<std::size_t> random_order(std::size_t count, std::uint64_t seed, int iteration) {
  std::vector<std::size_t> order(count);
  for (std::size_t k = 0; k < count; ++k) order[k] = k;
  std::mt19937_64 engine(mix(mix(seed) ^ mix(0x6f72646572ULL + static_cast<std::uint64_t>(iteration))));
  for (std::size_t k = count; k > 1; --k) {
    const auto pick = static_cast<std::size_t>(uniform(engine) * static_cast<double>(k));
    std::swap(order[k - 1], order[std::min(pick, k - 1)]);
  }
  return order;
}

// Index of the FFTW-order pixel that holds centred pixel `centred` (zero frequency at n/2).
int fftw_index(int centred, int n) { return (centred + n - n / 2) % n; }

// The team of threads one reconstruction uses. run(task) calls task(t) for t = 0 … size − 1, t = 0
// on the calling thread, and returns when every call has returned (rethrowing the first error).
class WorkerTeam {
 public:
  explicit WorkerTeam(int threads) : size_(threads) {
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { serve(t); });
  }
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;
  ~WorkerTeam() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    start_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  [[nodiscard]] int size() const { return size_; }

  void run(const std::function<void(int)>& task) {
    if (size_ == 1) {
      task(0);
      return;
    }
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      pending_ = size_ - 1;
      error_ = nullptr;
      ++generation_;
    }
    start_.notify_all();
    std::exception_ptr own_error;
    try {
      task(0);
    } catch (...) {
      own_error = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    if (own_error) std::rethrow_exception(own_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void serve(int index) {
    std::uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* task = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        task = task_;
      }
      std::exception_ptr error;
      try {
        (*task)(index);
      } catch (...) {
        error = std::current_exception();
      }
      const std::lock_guard<std::mutex> lock(mutex_);
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_one();
    }
  }

  int size_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

// One worker's FFTW buffer and in-place plans. Planning is not thread-safe: every plan is made on
// the constructing thread, before the team starts. FFTW_ESTIMATE picks the same plan every run,
// so results are reproducible.
class FourierWorkspace {
 public:
  FourierWorkspace(int rows, int cols) {
    buffer_ = fftw_alloc_complex(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
    if (buffer_ == nullptr) throw IoError("cannot allocate an FFT buffer");
    forward_ = fftw_plan_dft_2d(rows, cols, buffer_, buffer_, FFTW_FORWARD, FFTW_ESTIMATE);
    backward_ = fftw_plan_dft_2d(rows, cols, buffer_, buffer_, FFTW_BACKWARD, FFTW_ESTIMATE);
    if (forward_ == nullptr || backward_ == nullptr) {
      release();
      throw IoError("FFTW cannot plan a " + std::to_string(rows) + "x" + std::to_string(cols) + " transform");
    }
  }
  FourierWorkspace(const FourierWorkspace&) = delete;
  FourierWorkspace& operator=(const FourierWorkspace&) = delete;
  ~FourierWorkspace() { release(); }

  [[nodiscard]] Complex* data() { return reinterpret_cast<Complex*>(buffer_); }  // fftw_complex is double[2]
  void forward() { fftw_execute(forward_); }
  void backward() { fftw_execute(backward_); }

 private:
  void release() {
    if (forward_ != nullptr) fftw_destroy_plan(forward_);
    if (backward_ != nullptr) fftw_destroy_plan(backward_);
    if (buffer_ != nullptr) fftw_free(buffer_);
    forward_ = backward_ = nullptr;
    buffer_ = nullptr;
  }

  fftw_complex* buffer_ = nullptr;
  fftw_plan forward_ = nullptr;
  fftw_plan backward_ = nullptr;
};

void check_settings(const Settings& s) {
  if (s.iterations < 0)
    throw UsageError("--iterations must not be negative (got " + std::to_string(s.iterations) + ")");
  if (!(s.alpha > 0.0 && s.alpha <= 1.0))
    throw UsageError("--alpha must be in (0, 1] (got " + std::to_string(s.alpha) + ")");
  if (!(s.beta > 0.0 && s.beta <= 1.0))
    throw UsageError("--beta must be in (0, 1] (got " + std::to_string(s.beta) + ")");
  if (s.probe_start < 0) throw UsageError("--probe-start must not be negative");
  if (s.batch < 1) throw UsageError("--batch must be at least 1 (got " + std::to_string(s.batch) + ")");
  if (!(s.object_support >= 0.0 && s.object_support < 1.0)) throw UsageError("--object-support must be in [0, 1)");
  if (!(s.probe_power >= 0.0 && std::isfinite(s.probe_power)))
    throw UsageError("the probe power must be finite and >= 0");
  if (s.threads < 1 || s.threads > 1024)
    throw UsageError("--threads must be between 1 and 1024 (got " + std::to_string(s.threads) + ")");
}

void check_windows(const std::vector<Window>& windows, int frame_rows, int frame_cols, int object_rows,
                   int object_cols) {
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const Window& w = windows[k];
    if (w.top < 0 || w.left < 0 || w.top + frame_rows > object_rows || w.left + frame_cols > object_cols) {
      throw InputError("the window of frame " + std::to_string(k) + " at (" + std::to_string(w.top) + ", " +
                       std::to_string(w.left) + ") does not fit in the " + std::to_string(object_rows) + "x" +
                       std::to_string(object_cols) + " object");
    }
  }
}

// The iterations. Each batch is two team runs: the corrections (one frame per worker at a time),
// then the merge (each worker owns every T-th object row and probe row, accumulates the batch's
// contributions there and applies them). The probe is double-buffered: the merge reads the old
// probe everywhere and writes the new one on its own rows.
class Solver {
 public:
  Solver(const Measurements& data, ComplexGrid& object, ComplexGrid& probe, const Settings& settings)
      : data_(data),
        object_(object),
        probe_(probe),
        settings_(settings),
        team_(settings.threads),
        n_(data.rows),
        m_(data.cols),
        pixels_(data.pixels()),
        scale_(1.0 / std::sqrt(static_cast<double>(pixels_))) {
    const auto batch = static_cast<std::size_t>(settings.batch);
    patches_.assign(batch * pixels_, Complex{});
    corrections_.assign(batch * pixels_, Complex{});
    errors_.assign(batch, 0.0);
    patch_maxima_.assign(batch, 0.0);
    object_numerator_.assign(object.values.size(), Complex{});
    object_denominator_.assign(object.values.size(), 0.0);
    next_probe_ = probe.values;
    probe_intensity_.resize(pixels_);
    refresh_probe_intensity();
    for (int t = 0; t < team_.size(); ++t) workspaces_.push_back(std::make_unique<FourierWorkspace>(n_, m_));
    for (std::size_t k : settings.empty_space_frames) {
      if (k >= data.frames()) throw InputError("an empty-space frame number is out of range");
    }
    if (!settings.empty_space_frames.empty()) {
      // Where a change of the object's global phase applies: w = min(1, illumination / (max / 2)),
      // kept where w ≥ 10⁻³ (below, a pixel is hardly reconstructed: the start is left as it is).
      const Grid<double> light = illumination(probe, data.windows, object.rows, object.cols);
      const double half = 0.5 * *std::max_element(light.values.begin(), light.values.end());
      for (std::size_t q = 0; half > 0.0 && q < light.values.size(); ++q) {
        const double w = std::min(1.0, light.values[q] / half);
        if (w < 1e-3) continue;
        phase_pixels_.push_back(q);
        phase_weights_.push_back(w);
      }
    }
    for (std::size_t k = 0; k < data.frames(); ++k) {
      const float* a = data.amplitude(k);
      for (std::size_t p = 0; p < pixels_; ++p) measured_power_ += a[p] > 0.0F ? double{a[p]} * a[p] : 0.0;
    }
  }

  // One pass over every frame; returns the Fourier error of the model it started from.
  double iterate(int iteration) {
    const std::vector<std::size_t> order = random_order(data_.frames(), settings_.seed, iteration);
    const bool update_probe = iteration >= settings_.probe_start;
    const auto batch = static_cast<std::size_t>(settings_.batch);
    double error = 0.0;
    for (std::size_t first = 0; first < order.size(); first += batch) {
      members_.assign(order.begin() + static_cast<std::ptrdiff_t>(first),
                      order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), first + batch)));
      team_.run([this](int t) { correct_frames(t); });
      probe_max_ = *std::max_element(probe_intensity_.begin(), probe_intensity_.end());
      patch_max_sum_ = 0.0;
      for (std::size_t i = 0; i < members_.size(); ++i) patch_max_sum_ += patch_maxima_[i];
      team_.run([this, update_probe](int t) { merge(t, update_probe); });
      if (update_probe) {
        probe_.values.swap(next_probe_);
        refresh_probe_intensity();
      }
      for (std::size_t i = 0; i < members_.size(); ++i) error += errors_[i];
    }
    if (update_probe && settings_.pin_probe) pin_probe();
    if (!phase_pixels_.empty()) reference_phase_to_empty_space();
    return measured_power_ > 0.0 ? error / measured_power_ : 0.0;
  }

 private:
  void refresh_probe_intensity() {
    for (std::size_t p = 0; p < pixels_; ++p) probe_intensity_[p] = std::norm(probe_.values[p]);
  }

  // Centre of mass of |FFT(P)|², in Fourier pixels from zero frequency (frequencies in [−n/2, n/2)).
  std::pair<double, double> probe_spectrum_centre() {
    FourierWorkspace& fft = *workspaces_.front();
    Complex* buffer = fft.data();
    std::copy(probe_.values.begin(), probe_.values.end(), buffer);
    fft.forward();
    const auto frequency = [](int index, int n) { return index < (n + 1) / 2 ? index : index - n; };
    double total = 0.0, rows = 0.0, cols = 0.0;
    for (int r = 0; r < n_; ++r) {
      for (int c = 0; c < m_; ++c) {
        const double weight = std::norm(buffer[at(r, c, m_)]);
        total += weight;
        rows += weight * frequency(r, n_);
        cols += weight * frequency(c, m_);
      }
    }
    return total > 0.0 ? std::make_pair(rows / total, cols / total) : std::make_pair(0.0, 0.0);
  }

  // P·e^{2πi(Δr·r/N + Δc·c/M)} shifts its spectrum by (Δr, Δc): here back to zero frequency. Then
  // a constant phase and scale (see Settings::pin_probe). |P|² changes by the scale only.
  void pin_probe() {
    const auto [row, col] = probe_spectrum_centre();
    // e^{−2πi(row·r/N + col·c/M)} = a_r·b_c: N + M phase factors instead of N·M.
    std::vector<Complex> along_rows(static_cast<std::size_t>(n_));
    std::vector<Complex> along_cols(static_cast<std::size_t>(m_));
    for (int r = 0; r < n_; ++r) along_rows[r] = std::polar(1.0, -2.0 * kPi * row * r / static_cast<double>(n_));
    for (int c = 0; c < m_; ++c) along_cols[c] = std::polar(1.0, -2.0 * kPi * col * c / static_cast<double>(m_));
    Complex sum{};
    double power = 0.0;
    for (int r = 0; r < n_; ++r) {
      for (int c = 0; c < m_; ++c) {
        Complex& value = probe_.values[at(r, c, m_)];
        value *= along_rows[r] * along_cols[c];
        sum += value;
        power += std::norm(value);
      }
    }
    const double scale = settings_.probe_power > 0.0 && power > 0.0 ? std::sqrt(settings_.probe_power / power) : 1.0;
    const Complex factor = std::abs(sum) > 0.0 ? scale * std::conj(sum) / std::abs(sum) : Complex(scale, 0.0);
    for (Complex& value : probe_.values) value *= factor;
    refresh_probe_intensity();
  }

  // θ = arg Σ_k Σ_r |P(r)|² O(window_k + r) over the empty-space frames k; O ← O·e^{−iθ·w}.
  void reference_phase_to_empty_space() {
    Complex sum{};
    for (std::size_t k : settings_.empty_space_frames) {
      const Window& w = data_.windows[k];
      for (int r = 0; r < n_; ++r) {
        const Complex* row = object_.values.data() + at(w.top + r, w.left, object_.cols);
        for (int c = 0; c < m_; ++c) sum += probe_intensity_[at(r, c, m_)] * row[c];
      }
    }
    const double theta = std::arg(sum);
    if (theta == 0.0) return;
    const Complex full_turn = std::polar(1.0, -theta);
    for (std::size_t i = 0; i < phase_pixels_.size(); ++i) {
      const double w = phase_weights_[i];
      object_.values[phase_pixels_[i]] *= w == 1.0 ? full_turn : std::polar(1.0, -theta * w);
    }
  }

  // Run 1: Δψ_j for the frames t, t + T, … of the batch, from the current object and probe.
  void correct_frames(int thread) {
    FourierWorkspace& fft = *workspaces_[static_cast<std::size_t>(thread)];
    Complex* buffer = fft.data();
    const int cols = object_.cols;
    for (std::size_t i = static_cast<std::size_t>(thread); i < members_.size();
         i += static_cast<std::size_t>(team_.size())) {
      const std::size_t frame = members_[i];
      const Window& w = data_.windows[frame];
      Complex* patch = patches_.data() + i * pixels_;
      double patch_max = 0.0;
      for (int r = 0; r < n_; ++r) {
        const Complex* row = object_.values.data() + at(w.top + r, w.left, cols);
        for (int c = 0; c < m_; ++c) {
          const std::size_t p = at(r, c, m_);
          patch[p] = row[c];
          patch_max = std::max(patch_max, std::norm(row[c]));
          buffer[p] = probe_.values[p] * row[c];
        }
      }
      fft.forward();
      // Modulus constraint in the unitary normalisation: Ψ = s·FFT(ψ), Ψ' = √I·Ψ/|Ψ|; the buffer
      // then holds D = Ψ' − Ψ, and Δψ = s·IFFT(D) by linearity.
      const float* amplitude = data_.amplitude(frame);
      double error = 0.0;
      for (std::size_t p = 0; p < pixels_; ++p) {
        const double a = amplitude[p];
        if (a < 0.0) {
          buffer[p] = 0.0;  // no measurement: leave the model free
          continue;
        }
        const Complex psi = buffer[p] * scale_;
        const double magnitude = std::abs(psi);
        error += (magnitude - a) * (magnitude - a);
        buffer[p] = magnitude > 0.0 ? psi * (a / magnitude - 1.0) : Complex(a, 0.0);
      }
      fft.backward();
      Complex* correction = corrections_.data() + i * pixels_;
      for (std::size_t p = 0; p < pixels_; ++p) correction[p] = buffer[p] * scale_;
      errors_[i] = error;
      patch_maxima_[i] = patch_max;
    }
  }

  // Run 2 on this worker's rows (every T-th): the object update, then the probe update into
  // the other probe buffer.
  void merge(int thread, bool update_probe) {
    const int threads = team_.size();
    const int cols = object_.cols;
    const bool epie = settings_.algorithm == Algorithm::epie;
    const double alpha = settings_.alpha;
    const double support = settings_.object_support * probe_max_;
    // Object: Σ_j P*_j Δψ_j and Σ_j |P_j|² over the batch, in member order, then the step; a
    // frame contributes only under its probe's support.
    for (std::size_t i = 0; i < members_.size(); ++i) {
      const Window& w = data_.windows[members_[i]];
      const Complex* correction = corrections_.data() + i * pixels_;
      for (int r = first_owned(w.top, thread, threads); r < n_; r += threads) {
        Complex* numerator = object_numerator_.data() + at(w.top + r, w.left, cols);
        double* denominator = object_denominator_.data() + at(w.top + r, w.left, cols);
        const Complex* probe = probe_.values.data() + at(r, 0, m_);
        const double* intensity = probe_intensity_.data() + at(r, 0, m_);
        const Complex* delta = correction + at(r, 0, m_);
        for (int c = 0; c < m_; ++c) {
          if (intensity[c] < support) continue;
          numerator[c] += std::conj(probe[c]) * delta[c];
          denominator[c] += intensity[c];
        }
      }
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      const Window& w = data_.windows[members_[i]];
      for (int r = first_owned(w.top, thread, threads); r < n_; r += threads) {
        const std::size_t first = at(w.top + r, w.left, cols);
        for (int c = 0; c < m_; ++c) {
          const std::size_t q = first + static_cast<std::size_t>(c);
          const double d = object_denominator_[q];
          if (d <= 0.0) continue;  // applied already for an earlier member sharing the pixel (or no light)
          const double step = epie ? alpha / probe_max_ : 1.0 / ((1.0 - alpha) * d + alpha * probe_max_);
          object_.values[q] += object_numerator_[q] * step;
          object_numerator_[q] = 0.0;
          object_denominator_[q] = 0.0;
        }
      }
    }
    if (!update_probe) return;
    // Probe: Σ_j O*_j Δψ_j and Σ_j |O_j|² over the batch, normalised with Σ_j max|O_j|².
    const double beta = settings_.beta;
    for (int r = thread; r < n_; r += threads) {
      for (int c = 0; c < m_; ++c) {
        const std::size_t p = at(r, c, m_);
        if (!(patch_max_sum_ > 0.0)) {  // nothing but zeros under the probe: no information
          next_probe_[p] = probe_.values[p];
          continue;
        }
        Complex numerator{};
        double denominator = 0.0;
        for (std::size_t i = 0; i < members_.size(); ++i) {
          const Complex o = patches_[i * pixels_ + p];
          numerator += std::conj(o) * corrections_[i * pixels_ + p];
          denominator += std::norm(o);
        }
        const double step = epie ? beta / patch_max_sum_ : 1.0 / ((1.0 - beta) * denominator + beta * patch_max_sum_);
        next_probe_[p] = probe_.values[p] + numerator * step;
      }
    }
  }

  // The first window row r >= 0 whose object row top + r belongs to this worker.
  static int first_owned(int top, int thread, int threads) {
    return ((thread - top % threads) % threads + threads) % threads;
  }

  const Measurements& data_;
  ComplexGrid& object_;
  ComplexGrid& probe_;
  Settings settings_;
  WorkerTeam team_;
  int n_;
  int m_;
  std::size_t pixels_;
  double scale_;
  double measured_power_ = 0.0;
  double probe_max_ = 0.0;      // max |P|² during the batch
  double patch_max_sum_ = 0.0;  // Σ_j max |O_j|² of the batch
  std::vector<std::unique_ptr<FourierWorkspace>> workspaces_;
  std::vector<std::size_t> members_;  // the frames of the current batch
  std::vector<Complex> patches_;      // O_j of each member (before the update)
  std::vector<Complex> corrections_;  // Δψ_j of each member
  std::vector<double> errors_;
  std::vector<double> patch_maxima_;
  std::vector<Complex> object_numerator_;
  std::vector<double> object_denominator_;
  std::vector<Complex> next_probe_;
  std::vector<double> probe_intensity_;
  std::vector<std::size_t> phase_pixels_;  // where the global phase is referenced (none: it is not)
  std::vector<double> phase_weights_;
};

}  // namespace

std::vector<std::size_t> visiting_order(std::size_t frames, std::uint64_t seed, int iteration) {
  return random_order(frames, seed, iteration);
}

void add_frame(Measurements& data, const double* counts, int rows, int cols, Window window) {
  if (rows < 1 || cols < 1) throw InputError("a frame must have at least one pixel");
  if (data.windows.empty() && data.amplitudes.empty()) {
    data.rows = rows;
    data.cols = cols;
  } else if (rows != data.rows || cols != data.cols) {
    throw InputError("frame " + std::to_string(data.frames()) + " is " + std::to_string(rows) + "x" +
                     std::to_string(cols) + ", the earlier ones " + std::to_string(data.rows) + "x" +
                     std::to_string(data.cols));
  }
  const std::size_t first = data.amplitudes.size();
  data.amplitudes.resize(first + data.pixels());
  float* amplitude = data.amplitudes.data() + first;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double value = counts[at(r, c, cols)];
      const std::size_t p = at(fftw_index(r, rows), fftw_index(c, cols), cols);
      amplitude[p] = std::isfinite(value) ? static_cast<float>(std::sqrt(std::max(value, 0.0))) : -1.0F;
    }
  }
  data.windows.push_back(window);
}

Shape object_shape(const std::vector<Window>& windows, int frame_rows, int frame_cols) {
  Shape shape;
  for (const Window& w : windows) {
    if (w.top < 0 || w.left < 0) {
      throw InputError("a window corner (" + std::to_string(w.top) + ", " + std::to_string(w.left) +
                       ") is negative: positions must start at the object origin");
    }
    shape.rows = std::max(shape.rows, w.top + frame_rows);
    shape.cols = std::max(shape.cols, w.left + frame_cols);
  }
  return shape;
}

EmptySpace find_empty_space(const Measurements& data) {
  std::vector<double> totals(data.frames(), 0.0);
  for (std::size_t k = 0; k < data.frames(); ++k) {
    const float* a = data.amplitude(k);
    for (std::size_t p = 0; p < data.pixels(); ++p) totals[k] += a[p] > 0.0F ? double{a[p]} * a[p] : 0.0;
  }
  EmptySpace empty;
  if (totals.empty()) return empty;
  const double brightest = *std::max_element(totals.begin(), totals.end());
  const double lowest = brightest - 5.0 * std::sqrt(brightest);
  for (std::size_t k = 0; k < totals.size(); ++k) {
    if (totals[k] < lowest) continue;
    empty.frames.push_back(k);
    empty.power += totals[k];
  }
  empty.power /= static_cast<double>(empty.frames.size());
  return empty;
}

ComplexGrid probe_from_patterns(const Measurements& data) {
  if (data.frames() == 0) throw InputError("no frames to estimate a probe from");
  const int n = data.rows;
  const int m = data.cols;
  std::vector<double> sum(data.pixels(), 0.0);
  std::vector<double> count(data.pixels(), 0.0);
  for (std::size_t k = 0; k < data.frames(); ++k) {
    const float* a = data.amplitude(k);
    for (std::size_t p = 0; p < data.pixels(); ++p) {
      if (a[p] < 0.0F) continue;
      sum[p] += double{a[p]} * a[p];
      count[p] += 1.0;
    }
  }
  FourierWorkspace fft(n, m);
  Complex* buffer = fft.data();
  for (std::size_t p = 0; p < data.pixels(); ++p) buffer[p] = count[p] > 0.0 ? std::sqrt(sum[p] / count[p]) : 0.0;
  fft.backward();
  // Unitary inverse, then the probe's centre moved from pixel 0 to (N/2, M/2).
  double mean_power = 0.0;
  for (std::size_t p = 0; p < data.pixels(); ++p) mean_power += count[p] > 0.0 ? sum[p] / count[p] : 0.0;
  const double empty_power = find_empty_space(data).power;
  const double power_scale = mean_power > 0.0 && empty_power > 0.0 ? std::sqrt(empty_power / mean_power) : 1.0;
  const double scale = power_scale / std::sqrt(static_cast<double>(data.pixels()));
  ComplexGrid probe(n, m);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < m; ++c) probe((r + n / 2) % n, (c + m / 2) % m) = buffer[at(r, c, m)] * scale;
  }
  return probe;
}

Grid<double> illumination(const ComplexGrid& probe, const std::vector<Window>& windows, int object_rows,
                          int object_cols) {
  check_windows(windows, probe.rows, probe.cols, object_rows, object_cols);
  Grid<double> total(object_rows, object_cols, 0.0);
  for (const Window& w : windows) {
    for (int r = 0; r < probe.rows; ++r) {
      for (int c = 0; c < probe.cols; ++c) total(w.top + r, w.left + c) += std::norm(probe(r, c));
    }
  }
  return total;
}

ComplexGrid random_start_object(const ComplexGrid& probe, const std::vector<Window>& windows, int object_rows,
                                int object_cols, double noise, std::uint64_t seed) {
  if (!(noise >= 0.0 && std::isfinite(noise))) throw UsageError("the start noise must be finite and >= 0");
  ComplexGrid object(object_rows, object_cols, Complex(1.0, 0.0));
  if (noise == 0.0 || windows.empty()) return object;
  const Grid<double> weight = illumination(probe, windows, object_rows, object_cols);
  const double largest = *std::max_element(weight.values.begin(), weight.values.end());
  std::mt19937_64 engine(mix(mix(seed) ^ 0x7374617274ULL));
  const double sigma = noise / std::sqrt(2.0);  // per component: E|noise|² = noise²
  for (std::size_t q = 0; q < object.values.size(); ++q) {
    const double re = standard_normal(engine);
    const double im = standard_normal(engine);
    if (largest > 0.0) object.values[q] += Complex(re, im) * (sigma * weight.values[q] / largest);
  }
  return object;
}

Result reconstruct(const Measurements& data, ComplexGrid object, ComplexGrid probe, const Settings& settings,
                   const Progress& progress) {
  check_settings(settings);
  if (data.frames() == 0) throw InputError("no frames to reconstruct from");
  if (data.amplitudes.size() != data.frames() * data.pixels()) {
    throw InputError("the measurements hold " + std::to_string(data.amplitudes.size()) + " values for " +
                     std::to_string(data.frames()) + " frames of " + std::to_string(data.pixels()) + " pixels");
  }
  if (probe.rows != data.rows || probe.cols != data.cols) {
    throw InputError("the probe is " + std::to_string(probe.rows) + "x" + std::to_string(probe.cols) + ", the frames " +
                     std::to_string(data.rows) + "x" + std::to_string(data.cols));
  }
  check_windows(data.windows, data.rows, data.cols, object.rows, object.cols);

  Result result;
  const auto start = std::chrono::steady_clock::now();
  {
    Solver solver(data, object, probe, settings);
    for (int iteration = 0; iteration < settings.iterations; ++iteration) {
      const double error = solver.iterate(iteration);
      result.fourier_error.push_back(error);
      if (progress) progress(iteration + 1, error);
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.object = std::move(object);
  result.probe = std::move(probe);
  return result;
}

// ---- comparisons
// -----------------------------------------------------------------------------------------

Region covered_region(const std::vector<Window>& windows, int frame_rows, int frame_cols, double margin,
                      int object_rows, int object_cols) {
  if (windows.empty()) throw InputError("no scan positions to define the covered region");
  if (!(margin >= 0.0 && std::isfinite(margin))) throw UsageError("the region margin must be finite and >= 0");
  double y0 = std::numeric_limits<double>::max();
  double x0 = y0;
  double y1 = std::numeric_limits<double>::lowest();
  double x1 = y1;
  for (const Window& w : windows) {
    const double cy = w.top + frame_rows / 2;
    const double cx = w.left + frame_cols / 2;
    y0 = std::min(y0, cy - margin);
    x0 = std::min(x0, cx - margin);
    y1 = std::max(y1, cy + margin);
    x1 = std::max(x1, cx + margin);
  }
  // Pixels p with low <= p < high, as the simulator's scanned_area.
  const int top = std::max(0, static_cast<int>(std::ceil(y0)));
  const int left = std::max(0, static_cast<int>(std::ceil(x0)));
  const int bottom = std::min(object_rows, static_cast<int>(std::ceil(y1)));
  const int right = std::min(object_cols, static_cast<int>(std::ceil(x1)));
  return {top, left, std::max(0, bottom - top), std::max(0, right - left)};
}

template <class T>
Grid<T> crop(const Grid<T>& grid, const Region& region) {
  if (region.top < 0 || region.left < 0 || region.rows < 0 || region.cols < 0 || region.top + region.rows > grid.rows ||
      region.left + region.cols > grid.cols) {
    throw InputError("the region " + std::to_string(region.rows) + "x" + std::to_string(region.cols) + " at (" +
                     std::to_string(region.top) + ", " + std::to_string(region.left) + ") lies outside the " +
                     std::to_string(grid.rows) + "x" + std::to_string(grid.cols) + " image");
  }
  Grid<T> part(region.rows, region.cols);
  for (int r = 0; r < region.rows; ++r) {
    for (int c = 0; c < region.cols; ++c) part(r, c) = grid(region.top + r, region.left + c);
  }
  return part;
}
template Grid<double> crop(const Grid<double>&, const Region&);
template Grid<Complex> crop(const Grid<Complex>&, const Region&);

namespace {
void check_same_shape(const ComplexGrid& a, const ComplexGrid& b) {
  if (a.rows != b.rows || a.cols != b.cols || a.values.empty()) {
    throw InputError("cannot compare a " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " image with a " +
                     std::to_string(b.rows) + "x" + std::to_string(b.cols) + " one");
  }
}
}  // namespace

ComplexGrid align(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp) {
  check_same_shape(test, reference);
  ComplexGrid aligned = test;
  if (remove_ramp) {
    // d = ref·conj(test) ≈ |…| e^{i(gx·x + gy·y + θ)}: the ramp is the mean phase step of d.
    Complex along_x{};
    Complex along_y{};
    for (int r = 0; r < test.rows; ++r) {
      for (int c = 0; c < test.cols; ++c) {
        const Complex d = reference(r, c) * std::conj(test(r, c));
        if (c + 1 < test.cols) along_x += reference(r, c + 1) * std::conj(test(r, c + 1)) * std::conj(d);
        if (r + 1 < test.rows) along_y += reference(r + 1, c) * std::conj(test(r + 1, c)) * std::conj(d);
      }
    }
    const double gx = std::arg(along_x);
    const double gy = std::arg(along_y);
    for (int r = 0; r < test.rows; ++r) {
      for (int c = 0; c < test.cols; ++c) aligned(r, c) *= std::polar(1.0, gx * c + gy * r);
    }
  }
  Complex cross{};
  double power = 0.0;
  for (std::size_t q = 0; q < aligned.values.size(); ++q) {
    cross += reference.values[q] * std::conj(aligned.values[q]);
    power += std::norm(aligned.values[q]);
  }
  const Complex factor = power > 0.0 ? cross / power : Complex(1.0, 0.0);
  for (Complex& value : aligned.values) value *= factor;
  return aligned;
}

double relative_error(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp) {
  const ComplexGrid aligned = align(test, reference, remove_ramp);
  double difference = 0.0;
  double norm = 0.0;
  for (std::size_t q = 0; q < aligned.values.size(); ++q) {
    difference += std::norm(aligned.values[q] - reference.values[q]);
    norm += std::norm(reference.values[q]);
  }
  return norm > 0.0 ? std::sqrt(difference / norm) : std::sqrt(difference);
}

Grid<double> aligned_phase(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp) {
  const ComplexGrid aligned = align(test, reference, remove_ramp);  // its factor's phase is the offset
  Grid<double> phase(test.rows, test.cols);
  for (std::size_t q = 0; q < aligned.values.size(); ++q) phase.values[q] = std::arg(aligned.values[q]);
  return phase;
}

double phase_ssim(const ComplexGrid& test, const ComplexGrid& reference, bool remove_ramp, double data_range) {
  check_same_shape(test, reference);
  Grid<double> reference_phase(reference.rows, reference.cols);
  for (std::size_t q = 0; q < reference.values.size(); ++q) reference_phase.values[q] = std::arg(reference.values[q]);
  const auto [low, high] = std::minmax_element(reference_phase.values.begin(), reference_phase.values.end());
  SsimParameters parameters;
  parameters.data_range = data_range > 0.0 ? data_range : *high - *low;
  if (!(parameters.data_range > 0.0)) throw InputError("the reference phase is flat: SSIM needs a data range");
  const Grid<double> test_phase = aligned_phase(test, reference, remove_ramp);
  return structural_similarity(test_phase.values, reference_phase.values, test.rows, test.cols, parameters);
}

}  // namespace ptyroi::reconstruction
