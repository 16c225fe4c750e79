#include "ptyroi/core/memory_frames.hpp"

#include <cstring>

#include "ptyroi/core/error.hpp"

namespace ptyroi {

MemoryFrames::MemoryFrames(const void* data, PixelType type, std::uint64_t frames, std::uint64_t rows,
                           std::uint64_t cols, std::uint64_t first_frame, std::uint64_t count)
    : data_(static_cast<const unsigned char*>(data)),
      type_(type),
      frames_(frames),
      rows_(rows),
      cols_(cols),
      first_(first_frame),
      count_(count == 0 && first_frame <= frames ? frames - first_frame : count) {
  if (frames == 0 || rows == 0 || cols == 0) {
    throw UsageError("frames in memory: the stack is empty (" + std::to_string(frames) + "x" + std::to_string(rows) +
                     "x" + std::to_string(cols) + ")");
  }
  if (first_ > frames_ || count_ > frames_ - first_) {
    throw UsageError("frames in memory: frames " + std::to_string(first_) + ".." + std::to_string(first_ + count_) +
                     " do not fit in a scan of " + std::to_string(frames_) + " frames");
  }
  if (data_ == nullptr && count_ > 0) throw UsageError("frames in memory: no data");
}

std::string MemoryFrames::name() const {
  return "frames in memory (" + std::to_string(frames_) + "x" + std::to_string(rows_) + "x" + std::to_string(cols_) +
         " " + pixel_type_name(type_) + ")";
}

void MemoryFrames::read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col,
                               std::uint64_t rows, std::uint64_t cols, void* buffer) const {
  if (first < first_ || count > count_ || first - first_ > count_ - count) {
    throw UsageError(name() + " holds frames " + std::to_string(first_) + ".." + std::to_string(first_ + count_) +
                     " but frames " + std::to_string(first) + ".." + std::to_string(first + count) +
                     " were asked for: give each rank at least the frames partition_frames assigns to it");
  }
  if (row + rows > rows_ || col + cols > cols_) throw UsageError(name() + ": the window lies outside the frames");
  const std::size_t pixel = pixel_type_size(type_);
  auto* out = static_cast<unsigned char*>(buffer);
  for (std::uint64_t k = 0; k < count; ++k) {
    const unsigned char* frame = data_ + (first - first_ + k) * rows_ * cols_ * pixel;
    for (std::uint64_t r = 0; r < rows; ++r) {
      std::memcpy(out, frame + ((row + r) * cols_ + col) * pixel, cols * pixel);
      out += cols * pixel;
    }
  }
}

}  // namespace ptyroi
