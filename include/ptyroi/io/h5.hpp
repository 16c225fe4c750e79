#pragma once
// Thin RAII owners and checked helpers over the HDF5 C API. Every failing call throws
// ptyroi::IoError with the innermost HDF5 error message folded in; HDF5's own printing is off.
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/pixel_type.hpp"

namespace ptyroi::h5 {

// Owns one HDF5 identifier of any kind (file, group, dataset, dataspace, datatype, property list,
// attribute) and releases it with H5Idec_ref. Move-only.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) noexcept : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept;
  ~Handle() { reset(); }

  hid_t get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// True once releasing an identifier failed (e.g. closing a file on a full disk). HDF5 1.10 then
// crashes when it shuts down inside MPI_Finalize, so the program must end without finalizing.
bool library_state_broken();

// Fixes the metadata cache of the file holding `object` at `bytes` (HDF5's accounting), with no
// adaptive growth: bounds the memory a large chunk index can take.
void bound_metadata_cache(hid_t object, std::size_t bytes);

// Turns off HDF5's automatic error-stack printing; errors reach the user as one line instead.
void silence_error_printing();

// The innermost message on the current HDF5 error stack ("" if the stack is empty).
std::string error_stack_message();

// Throws IoError("<what>: <HDF5 message>") when id/status signals failure.
Handle checked(hid_t id, const std::string& what);
void check(herr_t status, const std::string& what);

// Files. With a communicator the MPI-IO driver is used (collective over comm); without, sec2 (a
// file its writer holds open in SWMR mode is then opened as a SWMR reader).
Handle open_file_read(const std::string& path, MPI_Comm comm);
Handle open_file_read_serial(const std::string& path);
// A file that may still be growing (ptyroi --follow): sec2, read-only, as a SWMR reader (also fine
// for a file written without SWMR). Rank-local; InputError when it does not open (absent,
// truncated mid-copy, locked by a writer that holds it open without SWMR).
Handle open_file_read_live(const std::string& path);

// Whether a writer holds the file open (the consistency flags of a version 2/3 superblock: open for
// writing, or for SWMR writing). False for a file that is closed, unreadable or of an older format.
bool open_for_writing(const std::string& path);

// How many leading entries along axis 0, out of `extent` (at most the dataset's extent as this
// process sees it), are surely written: all of them for a contiguous or compact dataset; for a
// chunked one, those whose chunks are all allocated, counting only chunks that lie wholly inside
// `extent` (a writer that grows a dataset may not have written the new entries yet; an unwritten
// chunk would read as fill values). Entries below `known` were found complete before and are not
// looked at again.
std::uint64_t complete_prefix(hid_t dataset, std::uint64_t known, std::uint64_t extent);
Handle create_file(const std::string& path, MPI_Comm comm);

// The name of the file holding `object` as HDF5 opened it (an external link's target file for a
// dataset reached through one); "" when unknown.
std::string file_name(hid_t object);

// True when every component of an absolute path exists and the last one is an object.
bool object_exists(hid_t location, const std::string& path);
bool is_dataset(hid_t location, const std::string& path);

Handle open_dataset(hid_t location, const std::string& path, const std::string& file_name);
std::vector<hsize_t> dataset_dims(hid_t dataset);
// The chunk shape of a dataset (one entry per axis); empty when its storage is not chunked.
std::vector<hsize_t> chunk_shape(hid_t dataset);

// The origins of the chunks of one layer along `frame_axis` (that axis at 0): every combination of
// chunk origins on the other axes of a dataset of shape `dims` with chunks of shape `chunk`.
std::vector<std::vector<hsize_t>> chunk_layer_origins(const std::vector<hsize_t>& dims,
                                                      const std::vector<hsize_t>& chunk, std::size_t frame_axis);

template <class T>
hid_t native_type();

// The native HDF5 type of a pixel type.
hid_t native_type(PixelType type);

// The PixelType of a dataset's file type; throws InputError naming `where` for anything but
// 8..64-bit integers and float32/float64.
PixelType classify_pixel_type(hid_t file_type, const std::string& where);

// Throws InputError("<where> holds 4-byte string values; expected numbers ...") unless the dataset
// holds integers, floats or an enumeration (e.g. numpy's bool): what read_all can convert.
void require_numbers(hid_t dataset, const std::string& where);

// Reads a whole (small) numeric dataset, converting to T.
template <class T>
std::vector<T> read_all(hid_t dataset);

// Group creation along a path ("/a/b/c"), creating missing parents.
Handle create_group(hid_t location, const std::string& path);

// A dataset at path, missing groups created; no dims: a scalar. max_dims, when given, lets it grow
// (H5S_UNLIMITED), which a chunked dataset that may hold zero frames needs.
Handle create_dataset(hid_t location, const std::string& path, hid_t file_type, const std::vector<hsize_t>& dims,
                      hid_t create_plist = H5P_DEFAULT, const std::vector<hsize_t>& max_dims = {});

// Attributes written identically by every rank (parallel HDF5 metadata is collective).
void write_attribute(hid_t object, const std::string& name, double value);
void write_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_attribute(hid_t object, const std::string& name, const std::string& value);
void write_attribute(hid_t object, const std::string& name, const std::vector<double>& values);
void write_attribute(hid_t object, const std::string& name, const std::vector<std::int64_t>& values);

// Attributes as read back; nullopt when absent or not of that kind (a number: one integer or float).
std::optional<double> read_number_attribute(hid_t object, const std::string& name);
std::optional<std::string> read_string_attribute(hid_t object, const std::string& name);
std::optional<std::vector<double>> read_numbers_attribute(hid_t object, const std::string& name);

// Selects the hyperslab [first, first+count) along axis 0 of a dataspace of rank dims.size().
Handle select_frames(hid_t dataset, hsize_t first, hsize_t count);
Handle memory_space(const std::vector<hsize_t>& dims);

// Transfer property list for independent or collective MPI-IO transfers.
Handle transfer_plist(bool collective);

}  // namespace ptyroi::h5
