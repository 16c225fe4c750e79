#pragma once
// Outputs that appear complete or not at all. Each output is written under a temporary name that
// is unique to this run and created exclusively in the output's own directory, then renamed into
// place once complete and flushed to disk (file and directory fsync'ed). The final rename never
// replaces a file that appeared meanwhile unless replacing was asked for, and a run only ever
// removes temporary files it created itself. Temporary names are registered so that a signal
// handler can remove them (remove_registered_temporaries is async-signal-safe).
#include <string>
#include <vector>

namespace ptyroi {

class PendingOutput {
 public:
  // Rank-local: creates an empty, exclusive temporary file next to final_path
  // ("<dir>/<name>.<pid>-<random>.partial"). Throws IoError naming final_path when the directory
  // cannot take it.
  static PendingOutput create(const std::string& final_path, bool replace);
  // Another process's (rank's) handle of the same temporary: registered for signal clean-up only;
  // commit and removal are the creator's.
  static PendingOutput shared(const std::string& final_path, const std::string& temporary_path, bool replace);

  PendingOutput(PendingOutput&&) noexcept;
  PendingOutput& operator=(PendingOutput&&) = delete;
  PendingOutput(const PendingOutput&) = delete;
  PendingOutput& operator=(const PendingOutput&) = delete;
  ~PendingOutput();  // removes the temporary unless committed (the creator only)

  const std::string& final_path() const { return final_path_; }
  const std::string& temporary_path() const { return temporary_path_; }
  bool is_owner() const { return owner_; }

  // The creator: fsync the temporary, rename it to final_path (refusing to replace an existing
  // file unless `replace`), fsync the directory. Throws IoError/UsageError naming final_path.
  void commit();
  // Undoes a commit (removes final_path, if it is still the file this run committed) — for an
  // output whose sibling could not be committed.
  void retract() noexcept;

 private:
  PendingOutput(std::string final_path, std::string temporary_path, bool replace, bool owner);

  std::string final_path_, temporary_path_;
  bool replace_ = false;
  bool owner_ = false;
  bool committed_ = false;
  int slot_ = -1;  // registration for signal clean-up
  // The committed file (device, inode): retract removes that file only.
  unsigned long long device_ = 0, inode_ = 0;
};

// Commits several outputs as one: all of them, or (when one fails) none — the ones already renamed
// are removed again. Throws the first failure.
void commit_all(std::vector<PendingOutput>& outputs);

// Writes text into a pending output's temporary file (not committed); throws IoError.
void write_text_output_to(const PendingOutput& output, const std::string& text);
// Writes text to final_path through a PendingOutput and commits it (summaries, position lists).
void write_text_output(const std::string& final_path, const std::string& text, bool replace);

// Async-signal-safe: unlinks every registered temporary this process created.
void remove_registered_temporaries() noexcept;

}  // namespace ptyroi
