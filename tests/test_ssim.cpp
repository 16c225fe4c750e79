// SSIM (Wang et al. 2004) against values computed independently by scikit-image on fixed images
// (tests/data/ssim, written and checked by tests/ssim_reference.py), against a direct 2-D window
// sum, and its defining properties.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ptyroi/core/error.hpp"
#include "ptyroi/recon/ssim.hpp"

#ifndef PTYROI_SSIM_DATA_DIR
#error "PTYROI_SSIM_DATA_DIR must name tests/data/ssim"
#endif

namespace {

struct Image {
  int rows = 0;
  int cols = 0;
  std::vector<double> values;
};

const std::string kDataDir = PTYROI_SSIM_DATA_DIR;

Image load_image(const std::string& name) {
  const std::string path = kDataDir + "/" + name + ".txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string hash;
  Image image;
  in >> hash >> image.rows >> image.cols;
  double value = 0.0;
  while (in >> value) image.values.push_back(value);
  if (hash != "#" || image.values.size() != static_cast<std::size_t>(image.rows) * image.cols) {
    throw std::runtime_error(path + ": malformed image");
  }
  return image;
}

struct Case {
  std::string name, first, second;
  double data_range = 0.0;
};

std::vector<std::string> data_lines(const std::string& file) {
  std::ifstream in(kDataDir + "/" + file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

std::vector<Case> read_cases() {
  std::vector<Case> cases;
  for (const std::string& line : data_lines("cases.txt")) {
    std::istringstream fields(line);
    Case c;
    fields >> c.name >> c.first >> c.second >> c.data_range;
    cases.push_back(c);
  }
  return cases;
}

std::map<std::string, double> read_expected() {
  std::map<std::string, double> expected;
  for (const std::string& line : data_lines("expected.txt")) {
    std::istringstream fields(line);
    std::string name;
    double value = 0.0;
    fields >> name >> value;
    expected[name] = value;
  }
  return expected;
}

// SSIM at one window position by the definition: the 11 × 11 weights as a product of the 1-D
// Gaussian, moments summed over the window directly.
double ssim_at(const Image& a, const Image& b, int row, int col, double data_range) {
  std::vector<double> g(11);
  double sum = 0.0;
  for (int d = -5; d <= 5; ++d) sum += g[d + 5] = std::exp(-d * d / (2 * 1.5 * 1.5));
  double ma = 0, mb = 0, maa = 0, mbb = 0, mab = 0;
  for (int i = 0; i < 11; ++i) {
    for (int j = 0; j < 11; ++j) {
      const double w = g[i] * g[j] / (sum * sum);
      const double va = a.values[(row + i) * a.cols + col + j];
      const double vb = b.values[(row + i) * b.cols + col + j];
      ma += w * va;
      mb += w * vb;
      maa += w * va * va;
      mbb += w * vb * vb;
      mab += w * va * vb;
    }
  }
  const double c1 = std::pow(0.01 * data_range, 2);
  const double c2 = std::pow(0.03 * data_range, 2);
  return (2 * ma * mb + c1) * (2 * (mab - ma * mb) + c2) /
         ((ma * ma + mb * mb + c1) * ((maa - ma * ma) + (mbb - mb * mb) + c2));
}

}  // namespace

TEST(Ssim, MatchesScikitImageOnStoredImages) {
  const std::vector<Case> cases = read_cases();
  const std::map<std::string, double> expected = read_expected();
  ASSERT_GE(cases.size(), 8u);
  double worst = 0.0;
  for (const Case& c : cases) {
    ASSERT_EQ(expected.count(c.name), 1u) << c.name;
    const Image a = load_image(c.first);
    const Image b = load_image(c.second);
    ptyroi::SsimParameters parameters;
    parameters.data_range = c.data_range;
    const double value = ptyroi::structural_similarity(a.values, b.values, a.rows, a.cols, parameters);
    const double difference = std::abs(value - expected.at(c.name));
    worst = std::max(worst, difference);
    EXPECT_NEAR(value, expected.at(c.name), 1e-10) << c.name;
  }
  std::cout << "largest |C++ - scikit-image| over " << cases.size() << " cases: " << worst << '\n';
}

TEST(Ssim, MapMatchesDirectWindowSums) {
  const Image a = load_image("blobs_a");
  const Image b = load_image("blobs_a_noisy");
  ptyroi::SsimParameters parameters;
  parameters.data_range = 1.6;
  const std::vector<double> map = ptyroi::ssim_map(a.values, b.values, a.rows, a.cols, parameters);
  const int map_cols = a.cols - 10;
  ASSERT_EQ(map.size(), static_cast<std::size_t>((a.rows - 10) * map_cols));
  for (const auto& [row, col] :
       std::vector<std::pair<int, int>>{{0, 0}, {3, 17}, {a.rows - 11, a.cols - 11}, {12, 0}}) {
    EXPECT_NEAR(map[row * map_cols + col], ssim_at(a, b, row, col, 1.6), 1e-12) << row << "," << col;
  }
}

TEST(Ssim, GaussianWindowIsNormalisedAndSymmetric) {
  const std::vector<double> w = ptyroi::gaussian_window(1.5, 5);
  ASSERT_EQ(w.size(), 11u);
  double sum = 0.0;
  for (double v : w) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-15);
  for (int d = 0; d <= 5; ++d) EXPECT_DOUBLE_EQ(w[5 - d], w[5 + d]);
  EXPECT_NEAR(w[6] / w[5], std::exp(-1.0 / (2 * 2.25)), 1e-15);
}

TEST(Ssim, IdenticalImagesGiveOneAndTheIndexIsSymmetric) {
  const Image a = load_image("blobs_a");
  const Image b = load_image("blobs_b");
  ptyroi::SsimParameters parameters;
  parameters.data_range = 1.6;
  EXPECT_NEAR(ptyroi::structural_similarity(a.values, a.values, a.rows, a.cols, parameters), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(ptyroi::structural_similarity(a.values, b.values, a.rows, a.cols, parameters),
                   ptyroi::structural_similarity(b.values, a.values, a.rows, a.cols, parameters));
  // Two equal constants: every term is (x + C)/(x + C) = 1.
  const std::vector<double> flat(13 * 17, 0.3);
  EXPECT_NEAR(ptyroi::structural_similarity(flat, flat, 13, 17, parameters), 1.0, 1e-15);
  // A different image scores below 1, and noise lowers it further.
  EXPECT_LT(ptyroi::structural_similarity(a.values, b.values, a.rows, a.cols, parameters), 0.5);
}

TEST(Ssim, RejectsBadArguments) {
  const std::vector<double> small(10 * 10, 1.0);
  EXPECT_THROW(ptyroi::structural_similarity(small, small, 10, 10), ptyroi::InputError);
  const std::vector<double> a(12 * 12, 1.0);
  const std::vector<double> b(12 * 13, 1.0);
  EXPECT_THROW(ptyroi::structural_similarity(a, b, 12, 12), ptyroi::InputError);
  ptyroi::SsimParameters zero_range;
  zero_range.data_range = 0.0;
  EXPECT_THROW(ptyroi::structural_similarity(a, a, 12, 12, zero_range), ptyroi::InputError);
}
