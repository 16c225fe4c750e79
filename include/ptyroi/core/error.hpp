#pragma once
// One family of exceptions. Each message is a complete, user-facing line: it names the file,
// dataset, option or rank involved, what was expected and what was found.
#include <stdexcept>
#include <string>

namespace ptyroi {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad command-line or config-file option.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Input data that cannot be used as given (shape, type, positions, grid).
class InputError : public Error {
 public:
  using Error::Error;
};

// A failing HDF5, MPI or file-system operation.
class IoError : public Error {
 public:
  using Error::Error;
};

// A message on one line: HDF5 and MPI messages can span lines, the user gets one.
std::string one_line(const std::string& message);

}  // namespace ptyroi
