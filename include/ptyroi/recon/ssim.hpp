#pragma once
// The structural similarity index (SSIM) of Wang, Bovik, Sheikh and Simoncelli, "Image quality
// assessment: from error visibility to structural similarity", IEEE TIP 13, 600 (2004): local
// means, variances and covariance under an 11 × 11 Gaussian window (σ = 1.5), combined per pixel as
//   S = (2 μa μb + C1)(2 σab + C2) / ((μa² + μb² + C1)(σa² + σb² + C2)),  C1 = (K1 L)², C2 = (K2 L)²,
// with population (not sample) moments, and averaged over every position where the whole window
// lies inside the image. This is what scikit-image's structural_similarity computes with
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False and the same data_range: it filters
// the whole image and then drops the (window − 1)/2 border pixels, which are exactly the positions
// whose window would leave the image.
#include <vector>

namespace ptyroi {

struct SsimParameters {
  double data_range = 1.0;  // L: the dynamic range of the images (max − min possible value)
  double sigma = 1.5;       // Gaussian window standard deviation, pixels
  int radius = 5;           // window of 2·radius + 1 pixels per side (11)
  double k1 = 0.01;
  double k2 = 0.03;
};

// The normalised 1-D Gaussian weights w(d) ∝ exp(−d²/2σ²), d = −radius … radius; the 2-D window
// is their outer product (separable).
std::vector<double> gaussian_window(double sigma, int radius);

// The SSIM map over the positions where the window fits: (rows − 2·radius) × (cols − 2·radius),
// row-major. Images are row-major rows × cols. Throws InputError on mismatched sizes, an image
// smaller than the window or a data range that is not positive and finite.
std::vector<double> ssim_map(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols,
                             const SsimParameters& parameters = {});

// The mean of ssim_map: the SSIM of the two images. Symmetric in a and b; 1 for identical images.
double structural_similarity(const std::vector<double>& a, const std::vector<double>& b, int rows, int cols,
                             const SsimParameters& parameters = {});

}  // namespace ptyroi
