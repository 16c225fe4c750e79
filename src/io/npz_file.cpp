#include "ptyroi/io/npz_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

std::uint64_t NpyArray::elements() const {
  std::uint64_t n = 1;
  for (const std::uint64_t d : shape) n *= d;
  return n;
}

std::uint64_t NpyArray::item_size() const {
  // "<f4", "|b1", "<i8": the digits after the kind letter.
  return descr.size() > 2 ? std::stoull(descr.substr(2)) : 0;
}

std::string npy_header(const NpyArray& array) {
  std::string shape = "(";
  for (std::size_t i = 0; i < array.shape.size(); ++i) {
    shape += (i ? ", " : "") + std::to_string(array.shape[i]);
  }
  shape += array.shape.size() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + array.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // magic (6) + version (2) + length (2) + dict, padded with spaces and ended by '\n' to 64 bytes.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>((dict.size() >> 8) & 0xff);
  return header + dict;
}

void write_npy_file(const std::string& path, const NpyArray& array, const void* data) {
  const std::string header = npy_header(array);
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!file) throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  const std::uint64_t bytes = array.bytes();
  if (std::fwrite(header.data(), 1, header.size(), file.get()) != header.size() ||
      (bytes > 0 && std::fwrite(data, 1, bytes, file.get()) != bytes) || std::fflush(file.get()) != 0) {
    throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
}

namespace {

constexpr std::uint32_t k32 = 0xFFFFFFFFu;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible archives

void put16(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 2; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put32(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t crc_of(std::uint32_t crc, const void* data, std::uint64_t size) {
  const auto* bytes = static_cast<const Bytef*>(data);
  while (size > 0) {
    const auto piece = static_cast<uInt>(std::min<std::uint64_t>(size, 1u << 30));
    crc = static_cast<std::uint32_t>(crc32(crc, bytes, piece));
    bytes += piece;
    size -= piece;
  }
  return crc;
}

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<std::size_t>(length));
}

}  // namespace

NpzWriter::NpzWriter(const std::string& path, MPI_Comm comm, const std::string& name, const NpyArray& array, bool zip64)
    : path_(path), comm_(comm), has_large_(!name.empty()) {
  large_.name = name + ".npy";
  large_header_ = npy_header(array);
  large_.size = large_header_.size() + array.bytes();
  zip64_ = zip64 || large_.size >= k32;
  large_data_ = has_large_ ? local_header(large_).size() + large_header_.size() : 0;
  const int status = MPI_File_open(comm, path.c_str(), MPI_MODE_WRONLY, MPI_INFO_NULL, &file_);
  // Collective: every rank learns whether any failed.
  int failed = status != MPI_SUCCESS ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm);
  if (failed != 0) {
    if (file_ != MPI_FILE_NULL) MPI_File_close(&file_);
    throw IoError("cannot open '" + path + "' for writing" +
                  (status != MPI_SUCCESS ? " (MPI-IO: " + mpi_error(status) + ")" : std::string(" on every rank")));
  }
}

NpzWriter::~NpzWriter() {
  if (file_ != MPI_FILE_NULL) MPI_File_close(&file_);
}

std::string NpzWriter::local_header(const Member& member) const {
  const bool zip64 = zip64_ && &member == &large_;
  const bool small_zip64 = zip64_ && &member != &large_;
  std::string out;
  put32(out, 0x04034b50);
  put16(out, zip64 || small_zip64 ? 45 : 20);  // version needed: 4.5 for ZIP64
  put16(out, 0);                               // flags
  put16(out, 0);                               // stored
  put16(out, 0);                               // time
  put16(out, kDosDate);
  put32(out, member.crc);
  put32(out, zip64 || small_zip64 ? k32 : member.size);  // compressed size
  put32(out, zip64 || small_zip64 ? k32 : member.size);  // uncompressed size
  put16(out, member.name.size());
  put16(out, zip64 || small_zip64 ? 20 : 0);
  out += member.name;
  if (zip64 || small_zip64) {
    put16(out, 0x0001);
    put16(out, 16);
    put64(out, member.size);
    put64(out, member.size);
  }
  return out;
}

void NpzWriter::write_at(std::uint64_t offset, const void* data, std::uint64_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const auto piece = static_cast<int>(std::min<std::uint64_t>(size, 1u << 30));
    MPI_Status status;
    const int code = MPI_File_write_at(file_, static_cast<MPI_Offset>(offset), bytes, piece, MPI_BYTE, &status);
    int written = 0;
    if (code == MPI_SUCCESS) MPI_Get_count(&status, MPI_BYTE, &written);
    if (code != MPI_SUCCESS || written != piece) {
      throw IoError("cannot write to '" + path_ + "'" +
                    (code != MPI_SUCCESS ? " (MPI-IO: " + mpi_error(code) + ")" : ""));
    }
    offset += static_cast<std::uint64_t>(piece);
    bytes += piece;
    size -= static_cast<std::uint64_t>(piece);
  }
}

void NpzWriter::write_parallel(std::uint64_t offset, const void* data, std::uint64_t size) {
  if (size == 0) return;
  if (!has_large_) throw InternalError("'" + path_ + "' has no member written in parts");
  if (local_bytes_ == 0) {
    local_first_ = offset;
  } else if (offset != local_first_ + local_bytes_) {
    throw InternalError("the parts of an .npz member must be written in order");
  }
  write_at(large_data_ + offset, data, size);
  local_crc_ = crc_of(local_crc_, data, size);
  local_bytes_ += size;
}

void NpzWriter::add(const std::string& name, const NpyArray& array, const void* data) {
  Member member;
  member.name = name + ".npy";
  const std::string header = npy_header(array);
  member.size = header.size() + array.bytes();
  if (mpi::rank(comm_) == 0) {
    std::string content = header;
    content.append(static_cast<const char*>(data), array.bytes());
    member.crc = crc_of(0, content.data(), content.size());
    small_content_.push_back(std::move(content));
  }
  small_.push_back(std::move(member));
}

void NpzWriter::close() {
  const int ranks = mpi::size(comm_);
  const bool root = mpi::rank(comm_) == 0;
  // Each rank's part of the large member: (first byte, bytes, CRC), to rank 0.
  std::array<std::uint64_t, 3> mine{local_first_, local_bytes_, local_crc_};
  std::vector<std::uint64_t> parts(root ? 3 * static_cast<std::size_t>(ranks) : 0);
  MPI_Gather(mine.data(), 3, MPI_UINT64_T, parts.data(), 3, MPI_UINT64_T, 0, comm_);
  mpi::run_phase(comm_, [&] {
    if (!root) return;
    // The checksum of the .npy header, then of each rank's part in order.
    std::uint32_t crc = crc_of(0, large_header_.data(), large_header_.size());
    std::uint64_t expected = 0;
    for (int r = 0; r < ranks; ++r) {
      const std::uint64_t first = parts[3 * r], bytes = parts[3 * r + 1];
      if (bytes == 0) continue;
      if (first != expected) throw InternalError("the parts of '" + path_ + "' do not join up");
      crc = static_cast<std::uint32_t>(
          crc32_combine(crc, static_cast<uLong>(parts[3 * r + 2]), static_cast<z_off_t>(bytes)));
      expected += bytes;
    }
    if (has_large_ && large_header_.size() + expected != large_.size) {
      throw InternalError(std::to_string(expected) + " bytes written of the array in '" + path_ + "', expected " +
                          std::to_string(large_.size - large_header_.size()));
    }
    std::uint64_t offset = 0;
    if (has_large_) {
      large_.crc = crc;
      large_.offset = 0;
      const std::string header = local_header(large_) + large_header_;
      write_at(0, header.data(), header.size());
      offset = large_data_ + (large_.size - large_header_.size());
    }
    for (std::size_t i = 0; i < small_.size(); ++i) {
      small_[i].offset = offset;
      const std::string header_i = local_header(small_[i]);
      write_at(offset, header_i.data(), header_i.size());
      write_at(offset + header_i.size(), small_content_[i].data(), small_content_[i].size());
      offset += header_i.size() + small_content_[i].size();
    }

    // Central directory: ZIP64 extra fields for what does not fit, in the order the format fixes
    // (uncompressed size, compressed size, local header offset).
    std::vector<const Member*> members;
    if (has_large_) members.push_back(&large_);
    for (const Member& member : small_) members.push_back(&member);
    std::string directory;
    for (const Member* member : members) {
      const bool sizes64 = zip64_ || member->size >= k32;
      const bool offset64 = zip64_ || member->offset >= k32;
      std::string extra;
      if (sizes64 || offset64) {
        std::string fields;
        if (sizes64) {
          put64(fields, member->size);
          put64(fields, member->size);
        }
        if (offset64) put64(fields, member->offset);
        put16(extra, 0x0001);
        put16(extra, fields.size());
        extra += fields;
      }
      put32(directory, 0x02014b50);
      put16(directory, 45);  // made by: 4.5
      put16(directory, extra.empty() ? 20 : 45);
      put16(directory, 0);
      put16(directory, 0);
      put16(directory, 0);
      put16(directory, kDosDate);
      put32(directory, member->crc);
      put32(directory, sizes64 ? k32 : member->size);
      put32(directory, sizes64 ? k32 : member->size);
      put16(directory, member->name.size());
      put16(directory, extra.size());
      put16(directory, 0);  // comment
      put16(directory, 0);  // disk
      put16(directory, 0);  // internal attributes
      put32(directory, 0);  // external attributes
      put32(directory, offset64 ? k32 : member->offset);
      directory += member->name;
      directory += extra;
    }
    const std::uint64_t directory_offset = offset;
    const std::uint64_t entries = members.size();
    std::string end;
    const bool end64 = zip64_ || directory_offset >= k32 || directory.size() >= k32;
    if (end64) {
      const std::uint64_t record = directory_offset + directory.size();
      put32(end, 0x06064b50);
      put64(end, 44);
      put16(end, 45);
      put16(end, 45);
      put32(end, 0);
      put32(end, 0);
      put64(end, entries);
      put64(end, entries);
      put64(end, directory.size());
      put64(end, directory_offset);
      put32(end, 0x07064b50);  // locator
      put32(end, 0);
      put64(end, record);
      put32(end, 1);
    }
    put32(end, 0x06054b50);
    put16(end, 0);
    put16(end, 0);
    put16(end, entries);
    put16(end, entries);
    put32(end, end64 ? k32 : directory.size());
    put32(end, end64 ? k32 : directory_offset);
    put16(end, 0);
    const std::string tail = directory + end;
    write_at(directory_offset, tail.data(), tail.size());
  });
  const int status = MPI_File_close(&file_);
  file_ = MPI_FILE_NULL;
  int failed = status != MPI_SUCCESS ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm_);
  if (failed != 0) throw IoError("cannot close '" + path_ + "'");
}

}  // namespace ptyroi
