#pragma once
// Where a stack keeps zero frequency: in the middle of each frame (as detectors record far-field
// patterns) or at the corner (numpy.fft.ifftshift of the centred frame, as tike and many fly-scan
// writers store them). Read wrongly, every centre of mass is meaningless and the scattering map is
// noise, while the previews still look plausible. Decided from the data: a sample of frames spread
// over the scan, each voting by where most of its (unmasked) intensity lies — the direct beam, or
// the low scattering angles, dominate a far-field pattern.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ptyroi/core/frame_source.hpp"

namespace ptyroi {

struct ZeroFrequencyEvidence {
  std::int64_t sampled = 0;        // frames looked at (with signal)
  std::int64_t at_corner = 0;      // of them, most intensity outside the central half along both axes
  std::int64_t at_centre = 0;      // most inside the central half along both axes
  bool decided = false;            // a clear majority (more than half, and twice the other)
  bool at_corner_verdict = false;  // the stack is stored with zero frequency at the corner

  std::string text() const;  // "at the corner (60 of 64 sampled frames)", ...
};

// One frame's vote from its row and column sums: +1 corner, −1 centre, 0 neither. Pure.
int zero_frequency_vote(const std::vector<double>& row_sums, const std::vector<double>& column_sums);

// Looks at up to `sample` frames spread evenly over the scan (each rank reads those in its own
// share, partition_frames), with the good pixels of the stored frames (empty: all). Collective.
ZeroFrequencyEvidence detect_zero_frequency(const FrameSource& source, const std::vector<std::uint8_t>& good_pixels,
                                            MPI_Comm comm, std::uint64_t sample = 64);

}  // namespace ptyroi
