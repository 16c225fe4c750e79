#pragma once
// Where a stack's frames are stored, and whether they are all there before any is read: a
// contiguous dataset's bytes lie within its file (a copy cut short reads as zeros through MPI-IO),
// a chunked dataset has every chunk written (an aborted acquisition leaves chunks unallocated,
// which read as the fill value), a virtual dataset (VDS) finds each of its source files and
// datasets (a missing source also reads as the fill value). HDF5 says nothing in any of these cases.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/core/partition.hpp"

namespace ptyroi {

// One mapping of a virtual dataset: frames [first_frame, end_frame) of the VDS come from `dataset`
// in `file` (as stored in the VDS: "." is the VDS's own file). `resolved`: the path it was found
// under, as HDF5 looks for it (absolute; else $HDF5_VDS_PREFIX, the VDS file's directory, then
// the working directory); empty when it is not there.
struct VirtualSource {
  std::string file, dataset, resolved;
  std::uint64_t first_frame = 0, end_frame = 0;
};

// True for a dataset of virtual layout (H5D_VIRTUAL).
bool is_virtual(hid_t dataset);

// The mappings of a virtual dataset in `vds_file` (empty for any other layout); frames are along
// `frame_axis` (1 for a [1, K, N, M] stack). Rank-local.
std::vector<VirtualSource> virtual_sources(hid_t dataset, const std::string& vds_file, std::size_t frame_axis = 0);

// Throws InputError naming the first source whose file or dataset is missing; `where` names the
// VDS ("dataset '/data' in 'scan.h5'"). Opens each source file (serially) once.
void check_virtual_sources(const std::vector<VirtualSource>& sources, const std::string& where);

// A contiguous dataset whose stored bytes reach past the end of its file (truncated): InputError
// naming the file and the sizes. Nothing to check for other layouts or unallocated storage.
void check_storage_within_file(hid_t dataset, const std::string& file, const std::string& where);

// Whether every chunk covering a chunked dataset is written, counted in one pass over the chunk
// index (H5Dget_num_chunks); true for other layouts. Rank-local.
bool all_chunks_written(hid_t dataset);

// The entries of axis `frame_axis` in [first, end) that lie in an unwritten chunk (any chunk of
// their layer never allocated), as ascending ranges; for a contiguous dataset whose storage was
// never allocated, all of them. One index lookup per chunk of those layers. Rank-local.
std::vector<FrameRange> unwritten_frames(hid_t dataset, std::uint64_t first, std::uint64_t end,
                                         std::size_t frame_axis = 0);

}  // namespace ptyroi
