#include "ptyroi/core/zero_frequency.hpp"

#include <cmath>
#include <sstream>

#include "ptyroi/core/mpi.hpp"
#include "ptyroi/core/partition.hpp"

namespace ptyroi {

std::string ZeroFrequencyEvidence::text() const {
  std::ostringstream out;
  if (!decided) {
    out << "undecided (" << at_corner << " of " << sampled << " sampled frames at the corner, " << at_centre
        << " at the centre): taken as centred";
  } else {
    out << (at_corner_verdict ? "at the corner (" : "at the centre (") << (at_corner_verdict ? at_corner : at_centre)
        << " of " << sampled << " sampled frames)";
  }
  return out.str();
}

namespace {
// +1 when most of the sums lie outside the central half [n/4, n - n/4), −1 inside, 0 a tie.
int axis_vote(const std::vector<double>& sums) {
  const std::size_t n = sums.size();
  double inner = 0.0, outer = 0.0;
  for (std::size_t i = 0; i < n; ++i) (i >= n / 4 && i < n - n / 4 ? inner : outer) += sums[i];
  return outer > inner ? 1 : inner > outer ? -1 : 0;
}
}  // namespace

int zero_frequency_vote(const std::vector<double>& row_sums, const std::vector<double>& column_sums) {
  const int rows = axis_vote(row_sums), cols = axis_vote(column_sums);
  return rows == cols ? rows : 0;
}

ZeroFrequencyEvidence detect_zero_frequency(const FrameSource& source, const std::vector<std::uint8_t>& good_pixels,
                                            MPI_Comm comm, std::uint64_t sample) {
  const std::uint64_t frames = source.frames();
  const std::uint64_t count = std::min<std::uint64_t>(std::max<std::uint64_t>(sample, 1), frames);
  const FrameRange mine = partition_frames(frames, mpi::size(comm), mpi::rank(comm));
  std::int64_t votes[3] = {0, 0, 0};  // sampled, corner, centre
  mpi::run_phase(comm, [&] {
    std::vector<double> buffer((source.frame_bytes() + sizeof(double) - 1) / sizeof(double));
    std::vector<double> rows(source.rows()), cols(source.cols());
    for (std::uint64_t i = 0; i < count; ++i) {
      // Frame i of the sample: the middle of the i-th of `count` equal parts of the scan.
      const std::uint64_t k = (2 * i + 1) * frames / (2 * count);
      if (k < mine.begin || k >= mine.end) continue;
      source.read_frames(k, 1, buffer.data());
      std::fill(rows.begin(), rows.end(), 0.0);
      std::fill(cols.begin(), cols.end(), 0.0);
      visit_pixel_type(source.pixel_type(), [&](auto pixel) {
        const auto* values = reinterpret_cast<const decltype(pixel)*>(buffer.data());
        for (std::size_t r = 0; r < rows.size(); ++r) {
          for (std::size_t c = 0; c < cols.size(); ++c) {
            const std::size_t p = r * cols.size() + c;
            const auto value = static_cast<double>(values[p]);
            if ((!good_pixels.empty() && good_pixels[p] == 0) || !std::isfinite(value) || value <= 0.0) continue;
            rows[r] += value;
            cols[c] += value;
          }
        }
      });
      double total = 0.0;
      for (const double v : rows) total += v;
      if (!(total > 0.0)) continue;  // no signal: no vote
      ++votes[0];
      const int vote = zero_frequency_vote(rows, cols);
      votes[1] += vote > 0;
      votes[2] += vote < 0;
    }
  });
  std::vector<std::int64_t> sums(votes, votes + 3);
  mpi::all_sum(comm, sums);
  ZeroFrequencyEvidence evidence;
  evidence.sampled = sums[0];
  evidence.at_corner = sums[1];
  evidence.at_centre = sums[2];
  const auto clear = [&](std::int64_t mine_, std::int64_t other) {
    return 2 * mine_ > evidence.sampled && mine_ > 2 * other;
  };
  evidence.at_corner_verdict = clear(evidence.at_corner, evidence.at_centre);
  evidence.decided = evidence.at_corner_verdict || clear(evidence.at_centre, evidence.at_corner);
  return evidence;
}

}  // namespace ptyroi
