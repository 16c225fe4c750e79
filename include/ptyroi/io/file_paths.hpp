#pragma once
// Names of files derived from a scan's file name, shared by the series mode, `ptyroi inspect` and
// the writer, so every place names a scan's outputs the same way.
#include <string>

namespace ptyroi {

// Throws InputError("<what> '<path>' is a directory, not a file") when path names a directory;
// anything else (a missing file included) is left to the reader, which says what it found.
void require_not_directory(const std::string& path, const std::string& what);

// "dir/sub/scan.h5" → "dir/sub"; "scan.h5" → "."; "/scan.h5" → "/".
std::string directory_of(const std::string& path);

// "dir/sub/scan.h5" → "scan.h5".
std::string file_name_of(const std::string& path);

// The scan's name without directory, extension and the detector's file-role suffix:
// "scan_0042_master.h5" → "scan_0042"; "scan.cxi" → "scan"; "p_dp.hdf5" → "p".
std::string scan_stem(const std::string& path);

// "<directory>/<scan_stem>", the directory being `output_dir` or, when empty, the input's own: the
// scan's outputs add "_roi.h5", "_roi.json", "_preview".
std::string scan_output_base(const std::string& input, const std::string& output_dir);

}  // namespace ptyroi
