#pragma once
// The size and modification time of an input file, recorded before its frames are read and
// compared after: a file truncated, appended to or rewritten meanwhile (a transfer still running,
// a writer that reopened it) is an error, not frames silently read as zeros or from two versions.
#include <cstdint>
#include <string>
#include <vector>

namespace ptyroi {

struct FileState {
  std::string path;
  bool exists = false;
  std::uint64_t size = 0;
  std::int64_t mtime_s = 0, mtime_ns = 0;  // st_mtim
};

// stat(2) of path; exists false when it cannot be stat'ed.
FileState file_state(const std::string& path);

// The states of each path, once each (duplicates and empty paths dropped).
std::vector<FileState> file_states(const std::vector<std::string>& paths);

// Throws InputError "input 'F' changed while it was being read (size A → B bytes, modified ...)"
// for the first file whose state now differs from `before`.
void check_unchanged(const std::vector<FileState>& before);

}  // namespace ptyroi
