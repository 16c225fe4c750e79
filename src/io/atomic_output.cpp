#include "ptyroi/io/atomic_output.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "ptyroi/core/error.hpp"
#include "ptyroi/io/file_paths.hpp"

namespace ptyroi {

namespace {

// Fixed storage: a signal handler may only call async-signal-safe functions (unlink).
constexpr int kSlots = 256;  // untouched slots cost no resident memory
constexpr std::size_t kPathCapacity = 4096;
char registered_paths[kSlots][kPathCapacity];
volatile std::sig_atomic_t slot_in_use[kSlots] = {};

int register_temporary(const std::string& path) {
  if (path.size() >= kPathCapacity) return -1;
  for (int i = 0; i < kSlots; ++i) {
    if (slot_in_use[i]) continue;
    std::memcpy(registered_paths[i], path.c_str(), path.size() + 1);
    slot_in_use[i] = 1;  // published after the path is complete
    return i;
  }
  return -1;
}

void unregister(int slot) {
  if (slot >= 0) slot_in_use[slot] = 0;
}

std::string errno_text() { return std::strerror(errno); }

// "no space left on device in DIRECTORY" says where; other errors as the system words them.
std::string write_failure(const std::string& final_path, int error) {
  if (error == ENOSPC || error == EDQUOT) {
    return "cannot write '" + final_path + "': no space left on device (" +
           (error == EDQUOT ? std::string("disk quota exceeded") : std::string("file system full")) + ") in '" +
           directory_of(final_path) + "'";
  }
  return "cannot write '" + final_path + "': " + std::strerror(error);
}

std::string unique_suffix() {
  unsigned char bytes[6] = {};
  if (getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    // getrandom cannot fail for 6 bytes on Linux >= 3.17; the pid alone still separates runs.
    std::memset(bytes, 0, sizeof(bytes));
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%ld-%02x%02x%02x%02x%02x%02x", static_cast<long>(getpid()), bytes[0], bytes[1],
                bytes[2], bytes[3], bytes[4], bytes[5]);
  return text;
}

void fsync_path(const std::string& path, bool directory, const std::string& what) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) throw IoError("cannot open '" + path + "' to flush " + what + ": " + errno_text());
  const int status = fsync(fd);
  const int saved = errno;
  close(fd);
  // Some file systems (e.g. tmpfs for directories) cannot sync a directory: that is not a failure.
  if (status != 0 && (saved == ENOSPC || saved == EDQUOT)) throw IoError(write_failure(path, saved));
  if (status != 0 && saved != EINVAL && saved != EROFS) {
    errno = saved;
    throw IoError("cannot flush " + what + " '" + path + "' to disk: " + errno_text());
  }
}

// rename(from, to) that fails with EEXIST instead of replacing an existing `to`.
int rename_no_replace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // A file system without RENAME_NOREPLACE: a hard link fails on an existing target too.
  if (link(from.c_str(), to.c_str()) == 0) {
    unlink(from.c_str());
    return 0;
  }
  return -1;
}

}  // namespace

PendingOutput::PendingOutput(std::string final_path, std::string temporary_path, bool replace, bool owner)
    : final_path_(std::move(final_path)),
      temporary_path_(std::move(temporary_path)),
      replace_(replace),
      owner_(owner),
      slot_(register_temporary(temporary_path_)) {}

PendingOutput PendingOutput::create(const std::string& final_path, bool replace) {
  const std::string directory = directory_of(final_path);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string temporary = directory + "/" + file_name_of(final_path) + "." + unique_suffix() + ".partial";
    // Registered before it exists, so a signal at any moment after the open finds it (the name is
    // this process's own: pid and 48 random bits); a second slot is taken by the PendingOutput
    // before this one is released, leaving no moment when the file is unregistered.
    const int early_slot = register_temporary(temporary);
    const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      PendingOutput pending(final_path, temporary, replace, true);
      unregister(early_slot);
      return pending;
    }
    const int open_error = errno;
    unregister(early_slot);
    errno = open_error;
    if (errno != EEXIST) {
      throw IoError("cannot create a temporary file for '" + final_path + "' in '" + directory + "': " + errno_text());
    }
  }
  throw IoError("cannot create a unique temporary file for '" + final_path + "'");
}

PendingOutput PendingOutput::shared(const std::string& final_path, const std::string& temporary_path, bool replace) {
  return PendingOutput(final_path, temporary_path, replace, false);
}

PendingOutput::PendingOutput(PendingOutput&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temporary_path_(std::move(other.temporary_path_)),
      replace_(other.replace_),
      owner_(other.owner_),
      committed_(other.committed_),
      slot_(other.slot_),
      device_(other.device_),
      inode_(other.inode_) {
  other.owner_ = false;
  other.slot_ = -1;
}

PendingOutput::~PendingOutput() {
  unregister(slot_);
  if (owner_ && !committed_) unlink(temporary_path_.c_str());
}

void PendingOutput::commit() {
  if (!owner_) {
    committed_ = true;
    return;
  }
  fsync_path(temporary_path_, false, "the output");
  struct stat ours {};
  if (stat(temporary_path_.c_str(), &ours) == 0) {
    device_ = ours.st_dev;
    inode_ = ours.st_ino;
  }
  const int status = replace_ ? std::rename(temporary_path_.c_str(), final_path_.c_str())
                              : rename_no_replace(temporary_path_, final_path_);
  if (status != 0) {
    if (errno == EEXIST) {
      throw UsageError("output '" + final_path_ +
                       "' already exists: it appeared while this run was writing it (another job?) and was left as "
                       "it is; pass --overwrite to replace it");
    }
    throw IoError("cannot rename '" + temporary_path_ + "' to '" + final_path_ + "': " + errno_text());
  }
  committed_ = true;
  unregister(slot_);
  slot_ = -1;
  fsync_path(directory_of(final_path_), true, "the directory of");
}

void PendingOutput::retract() noexcept {
  if (!owner_ || !committed_) return;
  // Only the file this run put there: not one that replaced it meanwhile (another job's --overwrite).
  struct stat there {};
  if (lstat(final_path_.c_str(), &there) == 0 && there.st_dev == device_ && there.st_ino == inode_) {
    unlink(final_path_.c_str());
  }
}

void commit_all(std::vector<PendingOutput>& outputs) {
  std::size_t done = 0;
  try {
    for (; done < outputs.size(); ++done) outputs[done].commit();
  } catch (...) {
    for (std::size_t i = 0; i < done; ++i) outputs[i].retract();
    throw;
  }
}

void write_text_output_to(const PendingOutput& output, const std::string& text) {
  const int fd = open(output.temporary_path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw IoError(write_failure(output.final_path(), errno));
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      close(fd);
      throw IoError(write_failure(output.final_path(), error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (close(fd) != 0) throw IoError(write_failure(output.final_path(), errno));
}

void write_text_output(const std::string& final_path, const std::string& text, bool replace) {
  PendingOutput output = PendingOutput::create(final_path, replace);
  write_text_output_to(output, text);
  output.commit();
}

void remove_registered_temporaries() noexcept {
  for (int i = 0; i < kSlots; ++i) {
    if (slot_in_use[i]) unlink(registered_paths[i]);
  }
}

}  // namespace ptyroi
