#include "ptyroi/io/file_paths.hpp"

#include <sys/stat.h>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

void require_not_directory(const std::string& path, const std::string& what) {
  struct stat status {};
  if (stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode)) {
    throw InputError(what + " '" + path + "' is a directory, not a file");
  }
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string file_name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string scan_stem(const std::string& path) {
  std::string name = file_name_of(path);
  const auto dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  for (const std::string suffix : {"_master", "_dp"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  return name;
}

std::string scan_output_base(const std::string& input, const std::string& output_dir) {
  return (output_dir.empty() ? directory_of(input) : output_dir) + "/" + scan_stem(input);
}

}  // namespace ptyroi
