#pragma once
// A row-major rows × cols image: the complex objects and probes of the simulator and of the
// reconstruction, and their real-valued maps.
#include <complex>
#include <cstddef>
#include <vector>

namespace ptyroi::numerics {

template <class T>
struct Image {
  int rows = 0;
  int cols = 0;
  std::vector<T> values;

  Image() = default;
  Image(int rows_, int cols_, T fill = T{})
      : rows(rows_), cols(cols_), values(static_cast<std::size_t>(rows_) * cols_, fill) {}
  T& operator()(int row, int col) { return values[static_cast<std::size_t>(row) * cols + col]; }
  const T& operator()(int row, int col) const { return values[static_cast<std::size_t>(row) * cols + col]; }
};

using Complex = std::complex<double>;
using ComplexImage = Image<Complex>;

}  // namespace ptyroi::numerics
