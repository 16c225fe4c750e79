#include "ptyroi/io/instrument.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "ptyroi/io/h5.hpp"

namespace ptyroi {

std::optional<double> InstrumentMetadata::photon_energy_J() const {
  if (energy) return energy->value;
  if (wavelength) return kPlanckTimesLightSpeed / wavelength->value;
  return std::nullopt;
}

std::optional<double> InstrumentMetadata::wavelength_m() const {
  if (wavelength) return wavelength->value;
  if (energy) return kPlanckTimesLightSpeed / energy->value;
  return std::nullopt;
}

std::optional<double> InstrumentMetadata::object_pixel_x_m(std::uint64_t cols) const {
  const auto lambda = wavelength_m();
  if (!lambda || !distance || !pixel_size_x || cols == 0) return std::nullopt;
  return *lambda * distance->value / (static_cast<double>(cols) * pixel_size_x->value);
}

std::optional<double> InstrumentMetadata::object_pixel_y_m(std::uint64_t rows) const {
  const auto lambda = wavelength_m();
  if (!lambda || !distance || !pixel_size_y || rows == 0) return std::nullopt;
  return *lambda * distance->value / (static_cast<double>(rows) * pixel_size_y->value);
}

namespace {

std::string lower(std::string text) {
  // Trimmed and lower case; "µm"/"Å" stay as UTF-8 bytes.
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t") + 1);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::optional<double> length_in_metres(double value, const std::string& units) {
  const std::string u = lower(units);
  if (u == "m" || u == "meter" || u == "meters" || u == "metre" || u == "metres") return value;
  if (u == "cm") return value * 1e-2;
  if (u == "mm" || u == "millimeter" || u == "millimetre") return value * 1e-3;
  if (u == "um" || u == "µm" || u == "\xce\xbcm" || u == "micron" || u == "microns" || u == "micrometer" ||
      u == "micrometre")
    return value * 1e-6;
  if (u == "nm" || u == "nanometer" || u == "nanometre") return value * 1e-9;
  // "Å" is U+00C5 or U+212B in UTF-8 (bytes above 127 are left as they are by the lowering).
  if (u == "a" || u == "\xc3\x85" || u == "\xe2\x84\xab" || u == "angstrom" || u == "angstroms") return value * 1e-10;
  return std::nullopt;
}

std::optional<double> energy_in_joules(double value, const std::string& units) {
  const std::string u = lower(units);
  if (u == "j" || u == "joule" || u == "joules") return value;
  if (u == "ev") return value * kElectronVolt;
  if (u == "kev") return value * 1e3 * kElectronVolt;
  return std::nullopt;
}

namespace {

enum class Quantity { length, energy, pixels };

// Reads one positive finite scalar at `path` in SI units, or records why not. A missing dataset
// is not a problem: the value is simply not there.
class Reader {
 public:
  Reader(hid_t file, std::vector<std::pair<std::string, std::string>>& problems) : file_(file), problems_(problems) {}

  // `item`: what the value is for ("energy", "distance", "pixel size"), to file problems under.
  std::optional<InstrumentValue> dataset(const char* item, const std::string& path, Quantity quantity,
                                         const char* default_units) {
    item_ = item;
    if (!h5::is_dataset(file_, path)) return std::nullopt;
    h5::Handle dataset(H5Dopen2(file_, path.c_str(), H5P_DEFAULT));
    if (!dataset) return problem(path, "cannot be opened");
    h5::Handle type(H5Dget_type(dataset.get()));
    h5::Handle space(H5Dget_space(dataset.get()));
    const H5T_class_t type_class = type ? H5Tget_class(type.get()) : H5T_NO_CLASS;
    if ((type_class != H5T_INTEGER && type_class != H5T_FLOAT) || !space ||
        H5Sget_simple_extent_npoints(space.get()) != 1) {
      H5Eclear2(H5E_DEFAULT);
      return problem(path, "is not one number");
    }
    double value = 0.0;
    if (H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return problem(path, "cannot be read");
    }
    std::string units = default_units;
    bool units_given = false;
    try {
      if (const auto text = h5::read_string_attribute(dataset.get(), "units"); text && !lower(*text).empty()) {
        units = *text;
        units_given = true;
      }
    } catch (const Error&) {
      // An unreadable units attribute: the default units apply.
    }
    return checked(path, value, quantity, units, units_given);
  }

  std::optional<InstrumentValue> root_attribute(const char* item, const std::string& name, Quantity quantity,
                                                const char* units) {
    item_ = item;
    h5::Handle root(H5Oopen(file_, "/", H5P_DEFAULT));
    std::optional<double> value;
    try {
      if (root) value = h5::read_number_attribute(root.get(), name);
    } catch (const Error&) {
      value.reset();
    }
    H5Eclear2(H5E_DEFAULT);
    if (!value) return std::nullopt;
    return checked("attribute /" + name, *value, quantity, units, false);
  }

 private:
  std::optional<InstrumentValue> problem(const std::string& where, const std::string& what) {
    problems_.emplace_back(item_, where + " " + what);
    return std::nullopt;
  }

  std::optional<InstrumentValue> checked(const std::string& where, double value, Quantity quantity,
                                         const std::string& units, bool units_given) {
    std::optional<double> si = value;
    if (quantity == Quantity::length) si = length_in_metres(value, units);
    if (quantity == Quantity::energy) si = energy_in_joules(value, units);
    if (!si) return problem(where, "has units '" + units + "', which ptyroi does not know");
    const bool positive = quantity == Quantity::pixels ? *si >= 0.0 : *si > 0.0;
    if (!std::isfinite(*si) || !positive) {
      std::ostringstream text;
      text << "holds " << value << ", not a " << (quantity == Quantity::pixels ? "pixel position" : "positive value");
      return problem(where, text.str());
    }
    return InstrumentValue{*si, units_given ? where + " (" + units + ")" : where};
  }

  hid_t file_;
  std::vector<std::pair<std::string, std::string>>& problems_;
  const char* item_ = "";
};

void keep_first(std::optional<InstrumentValue>& slot, std::optional<InstrumentValue> value) {
  if (!slot && value) slot = std::move(value);
}

}  // namespace

InstrumentMetadata read_instrument(hid_t file, const InputDescription& input) {
  InstrumentMetadata m;
  Reader read(file, m.problems);
  switch (input.layout) {
    case InputLayout::cxi: {
      // CXI 1.5: SI units "with no exceptions" (energy in J).
      const std::string source = "/entry_1/instrument_1/source_1/";
      const std::string detector = "/entry_1/instrument_1/detector_1/";
      keep_first(m.energy, read.dataset("energy", source + "energy", Quantity::energy, "J"));
      keep_first(m.wavelength, read.dataset("energy", source + "wavelength", Quantity::length, "m"));
      keep_first(m.distance, read.dataset("distance", detector + "distance", Quantity::length, "m"));
      keep_first(m.pixel_size_x, read.dataset("pixel size", detector + "x_pixel_size", Quantity::length, "m"));
      keep_first(m.pixel_size_y, read.dataset("pixel size", detector + "y_pixel_size", Quantity::length, "m"));
      break;
    }
    case InputLayout::nexus: {
      // NXmx: NXbeam's incident_wavelength (Å by the DECTRIS convention) or incident_energy; DECTRIS
      // also keeps photon_energy (eV). Lengths carry their units.
      const std::string detector = "/entry/instrument/detector/";
      keep_first(m.wavelength,
                 read.dataset("energy", "/entry/instrument/beam/incident_wavelength", Quantity::length, "angstrom"));
      keep_first(m.energy, read.dataset("energy", "/entry/instrument/beam/incident_energy", Quantity::energy, "eV"));
      if (!m.wavelength) {
        keep_first(m.energy,
                   read.dataset("energy", detector + "detectorSpecific/photon_energy", Quantity::energy, "eV"));
      }
      keep_first(m.distance, read.dataset("distance", detector + "detector_distance", Quantity::length, "m"));
      keep_first(m.distance, read.dataset("distance", detector + "distance", Quantity::length, "m"));
      keep_first(m.pixel_size_x, read.dataset("pixel size", detector + "x_pixel_size", Quantity::length, "m"));
      keep_first(m.pixel_size_y, read.dataset("pixel size", detector + "y_pixel_size", Quantity::length, "m"));
      break;
    }
    case InputLayout::ptychoshelves:
    case InputLayout::plain:
    case InputLayout::automatic:
      break;
  }
  // One of the two, so that they cannot disagree: CXI's energy, NeXus's wavelength.
  if (m.energy && m.wavelength) {
    if (input.layout == InputLayout::nexus) {
      m.energy.reset();
    } else {
      m.wavelength.reset();
    }
  }
  if (input.has_beam_center) {
    const std::string detector = "/entry/instrument/detector/";
    m.beam_center_x = InstrumentValue{input.beam_center_x, detector + "beam_center_x"};
    m.beam_center_y = InstrumentValue{input.beam_center_y, detector + "beam_center_y"};
  }
  // Whatever is still missing, from the root attributes ptyroi-simulate writes.
  if (!m.energy && !m.wavelength) {
    keep_first(m.energy, read.root_attribute("energy", "energy_kev", Quantity::energy, "keV"));
    if (!m.energy) keep_first(m.wavelength, read.root_attribute("energy", "wavelength_m", Quantity::length, "m"));
  }
  keep_first(m.distance, read.root_attribute("distance", "detector_distance_m", Quantity::length, "m"));
  if (!m.pixel_size_x && !m.pixel_size_y) {
    if (auto pixel = read.root_attribute("pixel size", "detector_pixel_size_m", Quantity::length, "m")) {
      m.pixel_size_x = m.pixel_size_y = std::move(pixel);
    }
  }
  return m;
}

void apply_overrides(InstrumentMetadata& m, const InstrumentOverrides& o) {
  const auto drop_problems = [&](const std::string& item) {
    m.problems.erase(std::remove_if(m.problems.begin(), m.problems.end(),
                                    [&](const auto& problem) { return problem.first == item; }),
                     m.problems.end());
  };
  if (o.energy_keV) drop_problems("energy");
  if (o.distance_m) drop_problems("distance");
  if (o.pixel_size_m) drop_problems("pixel size");
  if (o.energy_keV) {
    m.energy = InstrumentValue{*o.energy_keV * 1e3 * kElectronVolt, "--energy"};
    m.wavelength.reset();
  }
  if (o.distance_m) m.distance = InstrumentValue{*o.distance_m, "--distance"};
  if (o.pixel_size_m) m.pixel_size_x = m.pixel_size_y = InstrumentValue{*o.pixel_size_m, "--pixel-size"};
  if (o.beam_center) {
    m.beam_center_x = InstrumentValue{o.beam_center->first, "--beam-center"};
    m.beam_center_y = InstrumentValue{o.beam_center->second, "--beam-center"};
  }
}

}  // namespace ptyroi
