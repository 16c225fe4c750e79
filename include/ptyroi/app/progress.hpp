#pragma once
// Progress of the feature pass, reported by rank 0 from its own share of the frames (every rank
// reads an equal share at about the same speed, so rank 0's fraction stands for the whole run; no
// messages between ranks are needed). On a terminal: one line rewritten in place a few times a
// second. In a batch log (not a TTY): a plain line every `log_interval_s` seconds, so logs stay short.
#include <cstdint>
#include <functional>
#include <ostream>

namespace ptyroi {

class ProgressReport {
 public:
  using Clock = std::function<double()>;  // seconds; injectable for tests

  ProgressReport(std::ostream& out, bool terminal, std::uint64_t total_frames, double total_bytes,
                 double log_interval_s = 10.0, Clock clock = {});

  // `fraction` of rank 0's frames are done (0..1).
  void update(double fraction);
  // Prints the final state (and ends the terminal line) when anything was printed before.
  void finish();

  int lines_printed() const { return lines_; }

 private:
  void print(double fraction, double now);

  std::ostream& out_;
  bool terminal_;
  std::uint64_t total_frames_;
  double total_bytes_;
  double interval_s_;
  Clock clock_;
  double start_s_ = 0.0;
  double last_print_s_ = 0.0;
  double last_fraction_ = 0.0;
  int lines_ = 0;
  bool line_open_ = false;
};

}  // namespace ptyroi
