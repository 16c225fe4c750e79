#include "ptyroi/core/order_statistics.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "ptyroi/core/error.hpp"
#include "ptyroi/core/mpi.hpp"

namespace ptyroi {

std::uint64_t order_key(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  // Negative numbers: all bits flipped (larger magnitude, smaller key); positive: sign bit set.
  return (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}

double from_order_key(std::uint64_t key) {
  const std::uint64_t bits = (key >> 63) != 0 ? key & ~(std::uint64_t{1} << 63) : ~key;
  double value = 0.0;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

double kth_smallest(const std::vector<double>& local, std::int64_t k, MPI_Comm comm) {
  // The keys are made on the fly in each pass (no copy of the values: memory stays at the caller's).
  std::int64_t finite = 0;
  for (const double v : local) finite += std::isfinite(v) ? 1 : 0;
  const std::int64_t total = mpi::all_sum(comm, finite);
  if (k < 0 || k >= total) {
    throw InputError("the " + std::to_string(k) + "-th smallest of " + std::to_string(total) + " values was asked for");
  }
  // The smallest key t with at least k + 1 keys <= t.
  std::uint64_t low = 0, high = ~std::uint64_t{0};
  while (low < high) {
    const std::uint64_t middle = low + (high - low) / 2;
    std::int64_t count = 0;
    for (const double v : local) count += std::isfinite(v) && order_key(v) <= middle ? 1 : 0;
    if (mpi::all_sum(comm, count) >= k + 1) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return from_order_key(low);
}

namespace {
std::int64_t finite_count(const std::vector<double>& local, MPI_Comm comm) {
  std::int64_t count = 0;
  for (const double v : local) count += std::isfinite(v) ? 1 : 0;
  return mpi::all_sum(comm, count);
}
}  // namespace

double lower_median(const std::vector<double>& local, MPI_Comm comm) {
  return kth_smallest(local, (finite_count(local, comm) - 1) / 2, comm);
}

double robust_spread(std::vector<double> local, MPI_Comm comm) {
  const double median = lower_median(local, comm);
  // The deviations replace the values in place (non-finite ones stay non-finite and are skipped).
  for (double& v : local) {
    if (std::isfinite(v)) v = std::abs(v - median);
  }
  return 1.4826 * lower_median(local, comm);
}

}  // namespace ptyroi
