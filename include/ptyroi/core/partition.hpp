#pragma once
// How K frames are shared among P ranks: contiguous ranges, the first K mod P ranks one frame
// longer, so a rank may own nothing when K < P.
#include <cstdint>

namespace ptyroi {

struct FrameRange {
  std::uint64_t begin = 0;  // first frame
  std::uint64_t end = 0;    // one past the last frame
  std::uint64_t count() const { return end - begin; }
};

FrameRange partition_frames(std::uint64_t frames, int parts, int index);

}  // namespace ptyroi
