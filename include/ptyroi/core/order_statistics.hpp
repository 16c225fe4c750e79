#pragma once
// Exact order statistics of values spread over ranks: the k-th smallest of all values, found by
// bisection over the doubles' order-preserving 64-bit keys (64 rounds of one all-reduce of a count),
// so the answer is one of the values, bitwise the same for any number of ranks. Used for robust
// spreads (median absolute deviation) without gathering the values.
#include <mpi.h>

#include <cstdint>
#include <vector>

namespace ptyroi {

// A key whose unsigned order is the order of the doubles (−0 before +0; NaN must not occur).
std::uint64_t order_key(double value);
double from_order_key(std::uint64_t key);

// The k-th smallest (0-based) of the finite values of every rank. Collective; throws InputError
// when there are not k + 1 values.
double kth_smallest(const std::vector<double>& local, std::int64_t k, MPI_Comm comm);

// The lower median (the ⌊(n−1)/2⌋-th smallest) of all values. Collective.
double lower_median(const std::vector<double>& local, MPI_Comm comm);

// 1.4826 × the median absolute deviation from the median (both lower medians): the standard
// deviation of normally distributed values, robust to a minority of outliers. Collective. Takes
// the values by value: pass an rvalue to let it work in their memory.
double robust_spread(std::vector<double> local, MPI_Comm comm);

}  // namespace ptyroi
