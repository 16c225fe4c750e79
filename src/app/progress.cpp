#include "ptyroi/app/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace ptyroi {

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ProgressReport::ProgressReport(std::ostream& out, bool terminal, std::uint64_t total_frames, double total_bytes,
                               double log_interval_s, Clock clock)
    : out_(out),
      terminal_(terminal),
      total_frames_(total_frames),
      total_bytes_(total_bytes),
      interval_s_(terminal ? 0.25 : log_interval_s),
      clock_(clock ? std::move(clock) : Clock(steady_seconds)) {
  start_s_ = last_print_s_ = clock_();
}

void ProgressReport::update(double fraction) {
  last_fraction_ = std::clamp(fraction, 0.0, 1.0);
  const double now = clock_();
  if (now - last_print_s_ >= interval_s_) print(last_fraction_, now);
}

void ProgressReport::finish() {
  if (lines_ == 0) return;  // a short run: the summary says it all
  print(last_fraction_, clock_());
  if (line_open_) out_ << '\n' << std::flush;
  line_open_ = false;
}

void ProgressReport::print(double fraction, double now) {
  const double elapsed = std::max(now - start_s_, 1e-9);
  const auto frames = static_cast<std::uint64_t>(std::llround(fraction * static_cast<double>(total_frames_)));
  const double rate_gb_s = fraction * total_bytes_ / elapsed / 1e9;
  char eta[32] = "?";
  if (fraction > 0.0) std::snprintf(eta, sizeof(eta), "%.0f s", elapsed * (1.0 - fraction) / fraction);
  char line[160];
  std::snprintf(line, sizeof(line), "ptyroi: features %llu / %llu frames (%.0f%%), %.2f GB/s, ETA %s",
                static_cast<unsigned long long>(frames), static_cast<unsigned long long>(total_frames_),
                100.0 * fraction, rate_gb_s, eta);
  if (terminal_) {
    out_ << '\r' << line << "\033[K" << std::flush;  // erase what a longer previous line left
    line_open_ = true;
  } else {
    out_ << line << '\n' << std::flush;
  }
  ++lines_;
  last_print_s_ = now;
}

}  // namespace ptyroi
