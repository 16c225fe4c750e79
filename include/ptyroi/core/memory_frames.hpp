#pragma once
// Frames already in memory as a FrameSource: a view (no copy) of a contiguous, row-major
// [count, rows, cols] array holding frames [first_frame, first_frame + count) of a scan of
// `frames` frames. Each rank may hold the whole stack or only the frames it analyses
// (partition_frames tells which). The caller keeps the memory alive while the view is used.
#include <cstdint>
#include <string>

#include "ptyroi/core/frame_source.hpp"

namespace ptyroi {

class MemoryFrames : public FrameSource {
 public:
  // count 0: all frames from first_frame to the end. Throws UsageError when the range does not
  // fit in the scan or the shape is empty.
  MemoryFrames(const void* data, PixelType type, std::uint64_t frames, std::uint64_t rows, std::uint64_t cols,
               std::uint64_t first_frame = 0, std::uint64_t count = 0);

  template <class Pixel>
  static MemoryFrames view(const Pixel* data, std::uint64_t frames, std::uint64_t rows, std::uint64_t cols,
                           std::uint64_t first_frame = 0, std::uint64_t count = 0) {
    return MemoryFrames(data, pixel_type_of<Pixel>(), frames, rows, cols, first_frame, count);
  }

  std::uint64_t frames() const override { return frames_; }
  std::uint64_t rows() const override { return rows_; }
  std::uint64_t cols() const override { return cols_; }
  PixelType pixel_type() const override { return type_; }
  std::string name() const override;
  std::uint64_t first_frame() const { return first_; }
  std::uint64_t held_frames() const { return count_; }
  bool reads_every_frame() const override { return first_ == 0 && count_ == frames_; }

  // Throws UsageError when a frame outside [first_frame, first_frame + held_frames) is asked for.
  void read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col, std::uint64_t rows,
                   std::uint64_t cols, void* buffer) const override;

 private:
  const unsigned char* data_;
  PixelType type_;
  std::uint64_t frames_, rows_, cols_, first_, count_;
};

}  // namespace ptyroi
