#pragma once
// SIGTERM/SIGINT (a batch system's time limit, a user's Ctrl-C): remove this process's temporary
// output files and exit non-zero at once, so a killed job leaves no half-written file behind.
#include <string>

namespace ptyroi {

void install_interrupt_handlers();

// Registers a file that the handler deletes; at most a few at once. Not thread-safe, but the
// handler only reads what it finds complete.
class RemoveOnInterrupt {
 public:
  explicit RemoveOnInterrupt(const std::string& path);
  RemoveOnInterrupt(const RemoveOnInterrupt&) = delete;
  RemoveOnInterrupt& operator=(const RemoveOnInterrupt&) = delete;
  ~RemoveOnInterrupt();

 private:
  int slot_ = -1;
};

}  // namespace ptyroi
