#pragma once
// The instrument behind the patterns: photon energy (or wavelength), sample–detector distance,
// detector pixel size and beam centre, read from where the input's layout keeps them (units
// attributes honoured) and replaced by what the user gives. Reconstruction codes need them; the
// object-plane pixel size λz/(N·p) follows from them for frames of N pixels.
//   cxi    /entry_1/instrument_1/source_1/energy (J), …/source_1/wavelength (m),
//          /entry_1/instrument_1/detector_1/distance, x_pixel_size, y_pixel_size (m)  (CXI 1.5: SI)
//   nexus  /entry/instrument/beam/incident_wavelength (Å) or incident_energy (eV),
//          …/detector/detectorSpecific/photon_energy (eV), …/detector/detector_distance,
//          x_pixel_size, y_pixel_size (m), beam_center_x/_y (pixels)
//   any    root attributes energy_kev, wavelength_m, detector_distance_m, detector_pixel_size_m
//          (what ptyroi-simulate writes into plain and PtychoShelves files), for what is still missing
// The units in brackets apply when a dataset has no `units` attribute.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptyroi/io/input_layout.hpp"

namespace ptyroi {

// h·c and e, exact in the SI since 2019.
inline constexpr double kPlanckTimesLightSpeed = 6.62607015e-34 * 299792458.0;  // J·m
inline constexpr double kElectronVolt = 1.602176634e-19;                        // J

// One value in SI units (J, m, pixels) and where it came from: a dataset path or an option.
struct InstrumentValue {
  double value = 0.0;
  std::string source;
};

struct InstrumentMetadata {
  std::optional<InstrumentValue> energy;         // photon energy, J
  std::optional<InstrumentValue> wavelength;     // m
  std::optional<InstrumentValue> distance;       // sample–detector, m
  std::optional<InstrumentValue> pixel_size_x;   // detector pixel along a row (x = column), m
  std::optional<InstrumentValue> pixel_size_y;   // along a column, m
  std::optional<InstrumentValue> beam_center_x;  // pixels of the stored frame (0 = first column)
  std::optional<InstrumentValue> beam_center_y;  // pixels (0 = first row)
  // Values found but not usable (unknown units, ≤ 0, NaN): which ("energy", "distance", "pixel size")
  // and what is wrong.
  std::vector<std::pair<std::string, std::string>> problems;

  // Energy and wavelength from one another: λ = h·c / E.
  std::optional<double> photon_energy_J() const;
  std::optional<double> wavelength_m() const;
  // The object-plane pixel λ·z / (n·p) for frames of `cols` (x) or `rows` (y) pixels.
  std::optional<double> object_pixel_x_m(std::uint64_t cols) const;
  std::optional<double> object_pixel_y_m(std::uint64_t rows) const;
  bool has_energy() const { return energy || wavelength; }
  bool has_pixel_size() const { return pixel_size_x && pixel_size_y; }
};

// What the user gives instead (--energy, --distance, --pixel-size, --beam-center).
struct InstrumentOverrides {
  std::optional<double> energy_keV;
  std::optional<double> distance_m;
  std::optional<double> pixel_size_m;                    // square pixels: both axes
  std::optional<std::pair<double, double>> beam_center;  // (x, y) pixels
};

// Reads what the input holds (serial HDF5, one process). Missing values stay unset; a value that
// is there but unusable is left unset and described in `problems`. Never throws for metadata.
InstrumentMetadata read_instrument(hid_t file, const InputDescription& input);

// The overrides replace what was read (and its problems); a given energy replaces a read
// wavelength as well.
void apply_overrides(InstrumentMetadata& metadata, const InstrumentOverrides& overrides);

// A length or energy with its units attribute in SI (m or J); nullopt for units it does not know.
// Lengths: m, mm, um/µm/micron, nm, A/Å/angstrom, cm; energies: J, eV, keV.
std::optional<double> length_in_metres(double value, const std::string& units);
std::optional<double> energy_in_joules(double value, const std::string& units);

}  // namespace ptyroi
