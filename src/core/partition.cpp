#include "ptyroi/core/partition.hpp"

#include <algorithm>

namespace ptyroi {

FrameRange partition_frames(std::uint64_t frames, int parts, int index) {
  const auto p = static_cast<std::uint64_t>(parts);
  const auto i = static_cast<std::uint64_t>(index);
  const std::uint64_t base = frames / p;
  const std::uint64_t longer = frames % p;  // ranks [0, longer) get base + 1 frames
  FrameRange range;
  range.begin = i * base + std::min(i, longer);
  range.end = range.begin + base + (i < longer ? 1 : 0);
  return range;
}

}  // namespace ptyroi
