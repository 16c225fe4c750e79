#include "ptyroi/io/file_state.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

FileState file_state(const std::string& path) {
  FileState state;
  state.path = path;
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return state;
  state.exists = true;
  state.size = static_cast<std::uint64_t>(info.st_size);
  state.mtime_s = static_cast<std::int64_t>(info.st_mtim.tv_sec);
  state.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_nsec);
  return state;
}

std::vector<FileState> file_states(const std::vector<std::string>& paths) {
  std::vector<std::string> unique = paths;
  unique.erase(std::remove(unique.begin(), unique.end(), std::string()), unique.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<FileState> states;
  states.reserve(unique.size());
  for (const std::string& path : unique) states.push_back(file_state(path));
  return states;
}

namespace {

std::string time_text(std::int64_t seconds, std::int64_t nanoseconds) {
  char text[48];
  std::snprintf(text, sizeof(text), "%lld.%09lld", static_cast<long long>(seconds),
                static_cast<long long>(nanoseconds));
  return text;
}

}  // namespace

void check_unchanged(const std::vector<FileState>& before) {
  for (const FileState& was : before) {
    const FileState now = file_state(was.path);
    if (now.exists == was.exists && now.size == was.size && now.mtime_s == was.mtime_s &&
        now.mtime_ns == was.mtime_ns) {
      continue;
    }
    const std::string head = "input '" + was.path + "' changed while it was being read (";
    if (!now.exists) throw InputError(head + "it is gone); its frames cannot be trusted: rerun on the complete file");
    throw InputError(head + "size " + std::to_string(was.size) + " \u2192 " + std::to_string(now.size) +
                     " bytes, modified " + time_text(was.mtime_s, was.mtime_ns) + " \u2192 " +
                     time_text(now.mtime_s, now.mtime_ns) +
                     " s since the epoch); frames read from it cannot be trusted: rerun on the complete file");
  }
}

}  // namespace ptyroi
