#include "ptyroi/core/frame_window.hpp"

#include <cstring>

#include "ptyroi/core/frame_moments.hpp"

namespace ptyroi {

bool FrameWindow::is_rectangle() const {
  if (runs.size() != 1) return runs.empty();
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r] != rows[r - 1] + 1) return false;
  }
  return true;
}

std::size_t stored_index(std::size_t analysed, std::size_t n, bool fftshift) {
  return fftshift ? (analysed + n - n / 2) % n : analysed;
}

FrameWindow frame_window(const PixelSelection& selection, std::size_t rows, std::size_t cols) {
  const bool windowed = selection.window_rows > 0;
  const std::size_t row0 = windowed ? selection.window_row : 0, col0 = windowed ? selection.window_col : 0;
  const std::size_t n_rows = windowed ? selection.window_rows : rows;
  const std::size_t n_cols = windowed ? selection.window_cols : cols;
  FrameWindow window;
  window.stored_cols = cols;
  window.analysed_cols = n_cols;
  window.rows.resize(n_rows);
  for (std::size_t r = 0; r < n_rows; ++r) window.rows[r] = stored_index(row0 + r, rows, selection.fftshift);
  for (std::size_t c = 0; c < n_cols; ++c) {
    const std::size_t stored = stored_index(col0 + c, cols, selection.fftshift);
    if (!window.runs.empty() && window.runs.back().stored_col + window.runs.back().count == stored) {
      ++window.runs.back().count;
    } else {
      window.runs.push_back({stored, c, 1});
    }
  }
  return window;
}

void extract_window(const void* stored, PixelType type, const FrameWindow& window, void* analysed) {
  const std::size_t pixel = pixel_type_size(type);
  const auto* in = static_cast<const unsigned char*>(stored);
  auto* out = static_cast<unsigned char*>(analysed);
  for (std::size_t r = 0; r < window.rows.size(); ++r) {
    const unsigned char* row = in + window.rows[r] * window.stored_cols * pixel;
    unsigned char* target = out + r * window.analysed_cols * pixel;
    for (const auto& run : window.runs) {
      std::memcpy(target + run.analysed_col * pixel, row + run.stored_col * pixel, run.count * pixel);
    }
  }
}

}  // namespace ptyroi
