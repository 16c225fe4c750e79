#include "ptyroi/core/error.hpp"

#include <new>

namespace ptyroi {

const char* error_category_name(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::usage:
      return "usage";
    case ErrorCategory::input:
      return "input";
    case ErrorCategory::io:
      return "io";
    case ErrorCategory::internal:
      return "internal";
  }
  return "internal";
}

Error::Error(ErrorCategory category, const std::string& message) : std::runtime_error(message), category_(category) {}

void throw_error(ErrorCategory category, const std::string& message) {
  switch (category) {
    case ErrorCategory::usage:
      throw UsageError(message);
    case ErrorCategory::input:
      throw InputError(message);
    case ErrorCategory::io:
      throw IoError(message);
    case ErrorCategory::internal:
      break;
  }
  throw InternalError(message);
}

ErrorCategory category_of(const std::exception& error) noexcept {
  if (const auto* own = dynamic_cast<const Error*>(&error)) return own->category();
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) return ErrorCategory::io;
  return ErrorCategory::internal;
}

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
