#include "ptyroi/io/file_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "ptyroi/io/file_paths.hpp"

namespace ptyroi {

FileWatch::FileWatch() : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

FileWatch::~FileWatch() {
  if (fd_ >= 0) close(fd_);
}

void FileWatch::watch_directory_of(const std::string& path) {
  const std::string directory = directory_of(path);
  if (fd_ < 0 || std::find(directories_.begin(), directories_.end(), directory) != directories_.end()) return;
  if (inotify_add_watch(fd_, directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE) >= 0) {
    directories_.push_back(directory);
  }
}

bool FileWatch::wait(double seconds) {
  seconds = std::max(seconds, 0.0);
  if (fd_ < 0 || directories_.empty()) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return false;
  }
  pollfd watched{fd_, POLLIN, 0};
  const int ready = poll(&watched, 1, static_cast<int>(std::ceil(seconds * 1000.0)));
  if (ready <= 0) return false;
  // Drain the events: which file changed does not matter, the caller looks at everything.
  alignas(inotify_event) char buffer[4096];
  while (read(fd_, buffer, sizeof buffer) > 0) {
  }
  return true;
}

}  // namespace ptyroi
