#pragma once
// NumPy's .npy and .npz files, written by ptyroi itself. An .npy file is a text header (dtype,
// order, shape; version 1.0, padded to a multiple of 64 bytes) followed by the raw C-order array.
// An .npz file is a zip archive of .npy members; here every member is "stored" (no compression),
// so a member's array is one run of bytes at an offset known in advance, which MPI ranks write in
// parallel (MPI-IO). The zip checksum (CRC-32) of that member is combined from each rank's part.
// ZIP64 records are written when a size or offset does not fit in 32 bits.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ptyroi {

// One array: its dtype as NumPy spells it ("<f4", "<i8", "|b1", "|u1") and its shape.
struct NpyArray {
  std::string descr;
  std::vector<std::uint64_t> shape;  // empty: a scalar

  std::uint64_t elements() const;
  std::uint64_t item_size() const;  // from descr
  std::uint64_t bytes() const { return elements() * item_size(); }
};

// The .npy header of `array` (magic, version 1.0, length, dict, padding and newline).
std::string npy_header(const NpyArray& array);

// Writes a whole .npy file on this process; `data` holds array.bytes() bytes. Throws IoError.
void write_npy_file(const std::string& path, const NpyArray& array, const void* data);

// An .npz archive written by every rank of `comm` into an existing (empty) file.
class NpzWriter {
 public:
  // Collective: opens `path` with MPI-IO. The archive's first member, `name` (without ".npy"), is
  // the large array every rank writes a part of (write_parallel); an empty name: none. `zip64`:
  // write ZIP64 records even when sizes fit (tests).
  NpzWriter(const std::string& path, MPI_Comm comm, const std::string& name, const NpyArray& array, bool zip64 = false);
  NpzWriter(const NpzWriter&) = delete;
  NpzWriter& operator=(const NpzWriter&) = delete;
  ~NpzWriter();  // closes the file (collective) if close() was not called

  // Rank-local: bytes [offset, offset + size) of the large array. Each rank writes one contiguous
  // range, in ascending order, and rank r's range follows rank r−1's (frames in rank order).
  void write_parallel(std::uint64_t offset, const void* data, std::uint64_t size);

  // Every rank, identically: a small member written whole by rank 0 (the others keep nothing).
  void add(const std::string& name, const NpyArray& array, const void* data);

  // Collective: combines the checksums, then rank 0 writes the headers, the small members and the
  // central directory, and the file is closed. Throws (identically on every rank) IoError.
  void close();

 private:
  struct Member {
    std::string name;
    std::uint64_t offset = 0;  // of its local header
    std::uint64_t size = 0;    // of its .npy content
    std::uint32_t crc = 0;
  };
  void write_at(std::uint64_t offset, const void* data, std::uint64_t size);
  std::string local_header(const Member& member) const;

  std::string path_;
  MPI_Comm comm_;
  MPI_File file_ = MPI_FILE_NULL;
  bool zip64_ = false;
  bool has_large_ = false;
  Member large_;
  std::string large_header_;      // its .npy header
  std::uint64_t large_data_ = 0;  // offset of its array in the file
  std::uint32_t local_crc_ = 0;   // this rank's part
  std::uint64_t local_first_ = 0, local_bytes_ = 0;
  std::vector<Member> small_;
  std::vector<std::string> small_content_;  // rank 0: each small member's .npy bytes
};

}  // namespace ptyroi
