#pragma once
// Where the K diffraction patterns come from: a file's stack (io::PatternStack), frames already in
// memory (MemoryFrames), or anything else that can hand out whole frames. find_roi reads each
// rank's frames through this interface and nothing else, in the manner of LiberTEM's datasets: the
// same analysis runs on a file and on an in-memory array.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ptyroi/core/pixel_type.hpp"

namespace ptyroi {

class FrameSource {
 public:
  FrameSource() = default;
  FrameSource(const FrameSource&) = default;
  FrameSource& operator=(const FrameSource&) = default;
  FrameSource(FrameSource&&) = default;
  FrameSource& operator=(FrameSource&&) = default;
  virtual ~FrameSource() = default;

  virtual std::uint64_t frames() const = 0;  // K
  virtual std::uint64_t rows() const = 0;    // N, the slow detector axis
  virtual std::uint64_t cols() const = 0;    // M, the fast detector axis
  virtual PixelType pixel_type() const = 0;
  // What the frames are, for messages: e.g. "dataset '/data' in 'scan.h5'".
  virtual std::string name() const = 0;
  // Frames per read block this source reads best (e.g. what its chunk cache is sized for); 0: none.
  virtual std::uint64_t preferred_block_frames() const { return 0; }
  // Whether this rank reads any frame as cheaply as any other, so that a rank done with its own
  // frames may take over some of a busy rank's (frame_tasks.hpp). False e.g. for frames in memory
  // of which each rank holds only its share.
  virtual bool reads_every_frame() const { return true; }

  // Reads the window [row, row + rows) × [col, col + cols) of frames [first, first + count) into
  // buffer (count·rows·cols pixels of pixel_type(), row-major). Rank-local: no collective call.
  virtual void read_window(std::uint64_t first, std::uint64_t count, std::uint64_t row, std::uint64_t col,
                           std::uint64_t rows, std::uint64_t cols, void* buffer) const = 0;

  // Whole frames [first, first + count).
  void read_frames(std::uint64_t first, std::uint64_t count, void* buffer) const {
    read_window(first, count, 0, 0, rows(), cols(), buffer);
  }
  std::uint64_t pixels_per_frame() const { return rows() * cols(); }
  std::size_t frame_bytes() const { return pixels_per_frame() * pixel_type_size(pixel_type()); }
};

}  // namespace ptyroi
