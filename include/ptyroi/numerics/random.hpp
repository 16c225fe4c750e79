#pragma once
// Reproducible random streams for the simulator and the reconstruction: seeds decorrelated by
// SplitMix64's finaliser, uniform doubles from the top 53 bits. Unlike std::uniform_real_distribution
// (implementation-defined), these give the same numbers with every standard library.
#include <cstdint>
#include <random>

namespace ptyroi {

// SplitMix64's finaliser: decorrelates nearby seeds (and frame numbers) before they seed an engine.
std::uint64_t mix(std::uint64_t value);

// Uniform on [0, 1).
double uniform(std::mt19937_64& engine);

}  // namespace ptyroi
