#include "ptyroi/io/roi_writer.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "formats/formats.hpp"
#include "ptyroi/core/error.hpp"
#include "ptyroi/core/frame_window.hpp"
#include "ptyroi/core/mpi.hpp"
#include "ptyroi/io/atomic_output.hpp"
#include "ptyroi/io/file_paths.hpp"
#include "ptyroi/io/h5.hpp"
#include "ptyroi/io/pattern_layout.hpp"

namespace ptyroi {

const OutputFormat& RoiOutput::format_or_default() const { return format != nullptr ? *format : output_format("cxi"); }

std::vector<std::string> RoiOutput::paths() const {
  std::vector<std::string> paths;
  if (path.empty()) return paths;
  for (const OutputFile& file : format_or_default().files(path)) paths.push_back(file.path);
  return paths;
}

namespace {

// The kind of a file that is not a regular one, for messages.
const char* file_kind(mode_t mode) {
  return S_ISDIR(mode)                    ? "a directory"
         : S_ISLNK(mode)                  ? "a symbolic link"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
         : S_ISFIFO(mode)                 ? "a pipe"
         : S_ISSOCK(mode)                 ? "a socket"
                                          : "not a regular file";
}

}  // namespace

void check_output_path(const std::string& path, const char* what, bool overwrite,
                       const std::vector<std::string>& inputs) {
  if (path.empty() || path.back() == '/' || file_name_of(path) == "." || file_name_of(path) == "..") {
    throw UsageError(std::string(what) + " '" + path + "' names a directory, not a file");
  }
  // The file the name leads to (through any symbolic link) must not be an input, whatever its name.
  struct stat target {};
  if (stat(path.c_str(), &target) == 0) {
    for (const std::string& input : inputs) {
      struct stat in {};
      if (!input.empty() && stat(input.c_str(), &in) == 0 && in.st_dev == target.st_dev && in.st_ino == target.st_ino) {
        throw UsageError(std::string(what) + " '" + path + "' is the input '" + input +
                         "' (the same file): ptyroi never replaces its input");
      }
    }
  }
  // The name itself: absent, or (with overwrite) a regular file; never a link, a device or a directory.
  struct stat output {};
  if (lstat(path.c_str(), &output) == 0) {
    if (!S_ISREG(output.st_mode)) {
      throw UsageError(std::string(what) + " '" + path + "' exists and is " + file_kind(output.st_mode) +
                       "; ptyroi writes only new or regular files: name a new file");
    }
    if (!overwrite) {
      throw UsageError(std::string(what) + " '" + path + "' already exists; pass --overwrite to replace it");
    }
  } else if (errno != ENOENT) {
    throw UsageError(std::string(what) + " '" + path + "' cannot be used: " + std::strerror(errno));
  }
  const std::string directory = directory_of(path);
  struct stat directory_status {};
  const char* problem = nullptr;
  if (stat(directory.c_str(), &directory_status) != 0) {
    problem = std::strerror(errno);
  } else if (!S_ISDIR(directory_status.st_mode)) {
    problem = "not a directory";
  } else if (access(directory.c_str(), W_OK | X_OK) != 0) {
    problem = std::strerror(errno);
  }
  if (problem != nullptr) {
    throw UsageError(std::string(what) + " '" + path + "': directory '" + directory + "' is not writable (" + problem +
                     ")");
  }
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::vector<std::string> canonical;
  for (const auto& [what, path] : outputs) {
    std::error_code error;
    std::filesystem::path resolved = std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
    canonical.push_back(error ? std::filesystem::path(path).lexically_normal().string() : resolved.string());
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (canonical[i] != canonical[j]) continue;
      throw UsageError(outputs[j].first + " '" + outputs[j].second + "' and " + outputs[i].first + " '" +
                       outputs[i].second + "' name the same file; give each output its own name");
    }
  }
}

void check_roi_output(const RoiOutput& output, const std::vector<std::string>& inputs) {
  for (const auto& path : output.paths()) check_output_path(path, "--output", output.overwrite, inputs);
}

namespace {

// Holds back what this process writes to stderr (file descriptor 2) while it lives: into memory,
// so a full disk cannot lose it. take() returns it and restores stderr; pass_on() restores stderr
// and writes the text there. Without memfd/dup it captures nothing.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    capture_ = memfd_create("ptyroi-stderr", MFD_CLOEXEC);
    if (capture_ < 0) return;
    saved_ = dup(STDERR_FILENO);
    if (saved_ < 0 || dup2(capture_, STDERR_FILENO) < 0) {
      close(capture_);
      if (saved_ >= 0) close(saved_);
      capture_ = saved_ = -1;
    }
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture() { pass_on(); }

  std::string take() {
    if (capture_ < 0) return {};
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    std::string text;
    char buffer[4096];
    ssize_t n = 0;
    off_t offset = 0;
    while ((n = pread(capture_, buffer, sizeof(buffer), offset)) > 0 && text.size() < (1u << 20)) {
      text.append(buffer, static_cast<std::size_t>(n));
      offset += n;
    }
    close(capture_);
    close(saved_);
    capture_ = saved_ = -1;
    return text;
  }
  void pass_on() {
    const std::string text = take();
    if (!text.empty()) {
      std::fwrite(text.data(), 1, text.size(), stderr);
      std::fflush(stderr);
    }
  }

 private:
  int capture_ = -1, saved_ = -1;
};

// The one line for a failed write: "no space left on device" and where, when that is what
// happened (the file system is full, or the MPI-IO layer said so), with the first line MPI-IO
// printed folded in.
std::string explain_write_failure(const std::string& message, const std::string& output, const std::string& printed) {
  const int error = errno;
  const std::string first_printed = printed.substr(0, printed.find('\n'));
  const std::string directory = directory_of(output);
  struct statvfs file_system {};
  const bool full = statvfs(directory.c_str(), &file_system) == 0 && file_system.f_bavail == 0;
  const bool no_space = full || error == ENOSPC || error == EDQUOT ||
                        printed.find(std::strerror(ENOSPC)) != std::string::npos ||
                        printed.find(std::strerror(EDQUOT)) != std::string::npos;
  if (no_space && message.find("no space left on device") == std::string::npos) {
    return "no space left on device writing --output '" + output + "' in '" + directory + "' (" + message + ")";
  }
  if (!first_printed.empty()) return message + " (MPI-IO: " + first_printed + ")";
  return message;
}

// Fails before writing when the subset cannot fit: better than ENOSPC halfway through.
void check_free_space(const std::string& path, std::uint64_t bytes_needed) {
  struct statvfs file_system {};
  const std::string directory = directory_of(path);
  if (statvfs(directory.c_str(), &file_system) != 0) return;  // unknown: let the write tell
  const std::uint64_t available = static_cast<std::uint64_t>(file_system.f_bavail) * file_system.f_frsize;
  if (available < bytes_needed) {
    throw IoError("not enough space for --output '" + path + "': about " + std::to_string(bytes_needed >> 20) +
                  " MiB needed, " + std::to_string(available >> 20) + " MiB free in '" + directory + "'");
  }
}

// Copies this rank's RoI frames (the analysed frame of each: centred, windowed), in runs of
// consecutive frames, a block at a time, to the format's patterns, converted to its layout (pixel
// type, pixels that are not data zeroed, zero frequency moved to the corner) when it asks for that.
// A window that is one stored rectangle is read as such; otherwise (a frame stored with zero
// frequency at the corner) whole frames are read and the analysed frames taken out of them.
// Returns the pixel values zeroed.
std::int64_t copy_patterns(const RoiResult& result, const PixelSelection& pixels, const FrameSource& source,
                           FormatWriter& writer, const FormatContext& context, hid_t transfer) {
  const auto& selected = result.local_selected;
  const FrameWindow window = frame_window(pixels, source.rows(), source.cols());
  const bool rectangle = window.is_rectangle();
  const std::uint64_t block = std::max<std::uint64_t>(result.block_frames, 1);
  const std::size_t pixels_per_frame = result.rows * result.cols;
  const std::size_t analysed_bytes = pixels_per_frame * pixel_type_size(source.pixel_type());
  const std::uint64_t buffered = std::min<std::uint64_t>(block, std::max<std::size_t>(selected.size(), 1));
  const bool convert = needs_conversion(context.layout, source.pixel_type(), context.window);
  std::vector<double> buffer((buffered * analysed_bytes + sizeof(double) - 1) / sizeof(double));
  std::vector<double> stored(rectangle ? 0 : (buffered * source.frame_bytes() + sizeof(double) - 1) / sizeof(double));
  std::vector<double> converted(
      convert
          ? (buffered * pixels_per_frame * pixel_type_size(context.pixel_type) + sizeof(double) - 1) / sizeof(double)
          : 0);
  std::int64_t zeroed = 0;
  std::size_t i = 0;
  while (i < selected.size()) {
    std::size_t count = 1;
    while (i + count < selected.size() && count < block && selected[i + count] == selected[i] + count) ++count;
    if (rectangle) {
      source.read_window(selected[i], count, window.rows.front(), window.runs.front().stored_col, result.rows,
                         result.cols, buffer.data());
    } else {
      source.read_frames(selected[i], count, stored.data());
      for (std::size_t f = 0; f < count; ++f) {
        extract_window(reinterpret_cast<const unsigned char*>(stored.data()) + f * source.frame_bytes(),
                       source.pixel_type(), window,
                       reinterpret_cast<unsigned char*>(buffer.data()) + f * analysed_bytes);
      }
    }
    if (convert) {
      zeroed +=
          convert_frames(buffer.data(), source.pixel_type(), count, context.window, context.layout, converted.data());
    }
    writer.write_patterns(context.roi_offset + i, count, convert ? converted.data() : buffer.data(), transfer);
    i += count;
  }
  return zeroed;
}

}  // namespace

std::vector<PendingOutput> write_roi(const RoiOutput& output, const RoiResult& result, const ScanPositions& positions,
                                     const PixelSelection& pixels, const FrameSource& source, hid_t pattern_type,
                                     const RoiRecordInfo& info, const std::vector<std::string>& inputs, MPI_Comm comm,
                                     const std::function<void(const char*)>& on_phase) {
  const int me = mpi::rank(comm);
  const OutputFormat& format = output.format_or_default();
  const std::vector<std::string> paths = output.paths();
  const bool with_patterns = output.write_patterns && format.carries_patterns;

  // Checks, then temporary files created exclusively by rank 0 and named to every rank.
  std::vector<PendingOutput> pending;
  std::vector<std::string> temporaries(paths.size());
  mpi::run_phase(comm, [&] {
    if (me != 0) return;
    check_roi_output(output, inputs);
    const std::uint64_t frame_bytes =
        result.rows * result.cols * pixel_type_size(output_pixel_type(format.layout, source.pixel_type()));
    const auto roi = static_cast<std::uint64_t>(result.roi_frames);
    // Patterns, per-frame records (~12 datasets of 8 bytes) and 1 MiB of metadata.
    check_free_space(paths.front(), (with_patterns ? roi * frame_bytes : 0) + result.frames * 96 + (1u << 20));
    for (std::size_t i = 0; i < paths.size(); ++i) {
      pending.push_back(PendingOutput::create(paths[i], output.overwrite));
      temporaries[i] = pending.back().temporary_path();
    }
  });
  for (std::size_t i = 0; i < paths.size(); ++i) {
    temporaries[i] = mpi::broadcast(comm, 0, temporaries[i]);
    if (me != 0) pending.push_back(PendingOutput::shared(paths[i], temporaries[i], output.overwrite));
  }

  // OpenMPI's MPI-IO prints a failing write itself (e.g. "mca_fbtl_posix_pwritev: error in
  // (p)write(v):No space left on device", once per block and rank): its text is held back and
  // folded into the one error line; when nothing fails it is passed on as it was.
  StderrCapture mpi_io_messages;
  try {
    // The HDF5 files are created collectively; the format writes its other files itself.
    const std::vector<OutputFile> files = format.files(output.path);
    std::vector<h5::Handle> hdf5(paths.size());
    mpi::run_phase(comm, [&] {
      for (std::size_t i = 0; i < paths.size(); ++i) {
        if (files[i].hdf5) hdf5[i] = h5::create_file(temporaries[i], comm);
      }
    });
    {
      std::vector<hid_t> ids;
      hid_t record_file = -1;
      for (const auto& file : hdf5) {
        ids.push_back(file ? file.get() : -1);
        if (record_file < 0 && file) record_file = file.get();
      }
      const h5::Handle independent = h5::transfer_plist(false);
      const auto roi_offset = static_cast<std::uint64_t>(
          mpi::exclusive_prefix_sum(comm, static_cast<std::int64_t>(result.local_selected.size())));
      // The written frames: the format's layout of the analysed window.
      const PatternLayout layout = format.layout;
      const PixelType written_type = output_pixel_type(layout, source.pixel_type());
      const bool stored_type_kept = !layout.pixel_type && pattern_type >= 0;
      FormatContext context(result, positions, pixels, info.instrument);
      context.source_rows = source.rows();
      context.source_cols = source.cols();
      context.window = window_pixels(pixels, source.rows(), source.cols());
      context.layout = layout;
      context.pixel_type = written_type;
      // The input's own type (byte order included) when the format keeps it; else little-endian.
      h5::Handle little_endian;
      if (stored_type_kept) {
        context.pattern_type = pattern_type;
      } else {
        little_endian = h5::checked(H5Tcopy(h5::native_type(written_type)), "cannot copy a pixel type");
        h5::check(H5Tset_order(little_endian.get(), H5T_ORDER_LE), "cannot set a byte order");
        context.pattern_type = little_endian.get();
      }
      context.roi_offset = roi_offset;
      context.comm = comm;
      context.files = files;
      context.temporaries = temporaries;
      WrittenFrames written;
      written.rows = result.rows;
      written.cols = result.cols;
      written.layout = layout;
      written.pixel_type = written_type;
      written.bad_pixels = formats::written_bad_pixels(context);
      written.beam_center = formats::written_beam_center(context);

      // Metadata: created identically on every rank (parallel HDF5 metadata is collective).
      const std::unique_ptr<FormatWriter> writer = format.create(ids, context, with_patterns);
      const RoiRecordWriter record(record_file, result, positions, pixels, info, written);

      // Raw data: rank-local, independent transfers; agreed on before the collective close.
      std::int64_t zeroed = 0;
      mpi::run_phase(comm, [&] {
        if (on_phase) on_phase("write");
        writer->write_local(context, me, independent.get());
        record.write_local(result, positions, roi_offset, independent.get());
        if (with_patterns && writer->takes_patterns()) {
          zeroed = copy_patterns(result, pixels, source, *writer, context, independent.get());
        }
      });
      writer->finish(context);
      record.write_zeroed_pixels(mpi::all_sum(comm, zeroed));
      // The datasets close here.
    }
    // Then the files, collectively, each close checked: its metadata is written now, and a file whose
    // close failed (a full disk) must never be committed.
    std::string close_failure;
    for (std::size_t i = 0; i < hdf5.size(); ++i) {
      if (hdf5[i] && H5Fclose(hdf5[i].get()) < 0 && close_failure.empty()) {
        const std::string detail = h5::error_stack_message();
        close_failure = "cannot complete '" + paths[i] + "'" + (detail.empty() ? "" : " (HDF5: " + detail + ")");
      }
    }
    mpi::run_phase(comm, [&] {
      if (!close_failure.empty()) throw IoError(close_failure);
    });
  } catch (const Error& error) {
    throw_error(error.category(), explain_write_failure(error.what(), paths.front(), mpi_io_messages.take()));
  }
  mpi_io_messages.pass_on();
  return pending;
}

void commit_outputs(std::vector<PendingOutput>& outputs, MPI_Comm comm) {
  mpi::run_phase(comm, [&] {
    if (!outputs.empty() && outputs.front().is_owner()) commit_all(outputs);
  });
}

}  // namespace ptyroi
