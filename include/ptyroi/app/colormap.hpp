#pragma once
// Colours of the preview images: viridis for scalar maps, a grey ramp under overlays, a colour wheel
// for the centre-of-mass vector field and a colour-blind-safe palette for categories.
#include <cstddef>
#include <cstdint>

namespace ptyroi {

// sRGB components in [0, 1].
struct Rgb {
  double r = 0.0;
  double g = 0.0;
  double b = 0.0;
};

// The same colour as 8-bit channels (rounded), as a PNG stores it.
struct Rgb8 {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;
};
Rgb8 to_rgb8(Rgb colour);

// viridis, perceptually uniform and readable in grey and by colour-blind viewers: t = 0 is the dark
// purple end, t = 1 the yellow end; t is clamped to [0, 1] (NaN gives the t = 0 colour).
Rgb viridis(double t);

// Grey ramp from dark (t = 0) to light (t = 1), kept away from black and white so that coloured
// outlines and tints drawn over it stay visible.
Rgb grey_ramp(double t);

// A direction and strength, as HSV with full saturation: hue = angle in radians (0 red, 2π/3
// green, 4π/3 blue), value = magnitude clamped to [0, 1] (0 black). The usual colour wheel of
// differential-phase-contrast / centre-of-mass images.
Rgb colour_wheel(double angle, double magnitude);

// Okabe & Ito's colour-blind-safe categorical palette without its black: orange, sky blue,
// bluish green, yellow, blue, vermillion, reddish purple; index wraps around.
Rgb category_colour(std::size_t index);

// Named members of that palette, for fixed roles.
Rgb okabe_ito_blue();
Rgb okabe_ito_vermillion();
Rgb okabe_ito_bluish_green();

}  // namespace ptyroi
