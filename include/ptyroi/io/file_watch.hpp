#pragma once
// Waiting for files to change without busy polling: Linux inotify on the directories that hold
// them (new files, renames into place, writes, closes). inotify sees only changes made through
// this machine's kernel: on a network or parallel file system (NFS, GPFS, Lustre) another node's
// writes raise no event, so callers also wake up after a timeout and look anyway.
#include <string>
#include <vector>

namespace ptyroi {

class FileWatch {
 public:
  FileWatch();  // no watch yet; wait() then only sleeps
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Watches the directory holding `path` (once per directory). Quietly does nothing when inotify
  // is unavailable (e.g. its watch limit is reached).
  void watch_directory_of(const std::string& path);
  // Sleeps until a change in a watched directory or `seconds` have passed; true when woken by a change.
  bool wait(double seconds);

 private:
  int fd_ = -1;
  std::vector<std::string> directories_;
};

}  // namespace ptyroi
