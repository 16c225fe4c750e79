#include "ptyroi/core/error.hpp"

namespace ptyroi {

std::string one_line(const std::string& message) {
  std::string line;
  bool blank = false;
  for (const char c : message) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ' || c == '\v' || c == '\f') {
      blank = true;
      continue;
    }
    if (blank && !line.empty()) line += ' ';
    blank = false;
    line += c;
  }
  return line;
}

}  // namespace ptyroi
