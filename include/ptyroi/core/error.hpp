#pragma once
// One family of exceptions, in the manner of openPMD-api's error::ReadError: each carries a
// category (what kind of failure) and a complete, user-facing line naming the file, dataset,
// parameter or rank involved, what was expected and what was found. The category survives the
// agreement between ranks (mpi::run_phase), so every rank ends with the same kind of error and a
// program can map it to its exit status.
#include <stdexcept>
#include <string>

namespace ptyroi {

enum class ErrorCategory {
  usage,     // a parameter or option that cannot be used as given (fix the command)
  input,     // input data that cannot be used as given (shape, type, positions, contents)
  io,        // a failing file system, HDF5 or MPI operation, or too little memory or space
  internal,  // anything else: a bug
};

const char* error_category_name(ErrorCategory category);

class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, const std::string& message);
  ErrorCategory category() const noexcept { return category_; }

 private:
  ErrorCategory category_;
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(ErrorCategory::usage, message) {}
};

class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ErrorCategory::input, message) {}
};

class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(ErrorCategory::io, message) {}
};

class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message) : Error(ErrorCategory::internal, message) {}
};

// Throws the error class of `category` (UsageError for usage, ...) with `message`.
[[noreturn]] void throw_error(ErrorCategory category, const std::string& message);

// The category of any exception: its own for ptyroi::Error, io for std::bad_alloc, else internal.
ErrorCategory category_of(const std::exception& error) noexcept;

// A message on one line: HDF5 and MPI messages can span lines, the user gets one.
std::string one_line(const std::string& message);

}  // namespace ptyroi
