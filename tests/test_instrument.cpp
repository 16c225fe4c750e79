// Instrument metadata (io/instrument.hpp): units honoured, each layout's places, what is missing
// or unusable reported, and the options replacing what the file says.
#include "ptyroi/io/instrument.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "ptyroi/io/h5.hpp"

namespace ptyroi {
namespace {

TEST(Instrument, UnitsOfLengthsAndEnergies) {
  EXPECT_EQ(length_in_metres(2.0, "m"), 2.0);
  EXPECT_DOUBLE_EQ(*length_in_metres(150.0, "mm"), 0.15);
  EXPECT_DOUBLE_EQ(*length_in_metres(75.0, "um"), 75e-6);
  EXPECT_DOUBLE_EQ(*length_in_metres(75.0, "\xc2\xb5m"), 75e-6);  // µm
  EXPECT_DOUBLE_EQ(*length_in_metres(1.24, "angstrom"), 1.24e-10);
  EXPECT_DOUBLE_EQ(*length_in_metres(1.24, "\xc3\x85"), 1.24e-10);  // Å
  EXPECT_DOUBLE_EQ(*length_in_metres(0.124, " nm "), 1.24e-10);
  EXPECT_FALSE(length_in_metres(1.0, "furlong"));
  EXPECT_EQ(energy_in_joules(1e-15, "J"), 1e-15);
  EXPECT_DOUBLE_EQ(*energy_in_joules(8000.0, "eV"), 8000.0 * kElectronVolt);
  EXPECT_DOUBLE_EQ(*energy_in_joules(8.0, "keV"), 8000.0 * kElectronVolt);
  EXPECT_FALSE(energy_in_joules(8.0, "m"));
}

class InstrumentFile : public ::testing::Test {
 protected:
  void SetUp() override {
    h5::silence_error_printing();
    path_ = ::testing::TempDir() + "instrument_" + std::to_string(getpid()) + ".h5";
    file_ = h5::checked(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create " + path_);
  }
  void TearDown() override {
    file_.reset();
    std::remove(path_.c_str());
  }
  void scalar(const std::string& path, double value, const char* units = nullptr) {
    h5::Handle dataset = h5::create_dataset(file_.get(), path, H5T_IEEE_F64LE, {});
    h5::check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), "write " + path);
    if (units != nullptr) h5::write_attribute(dataset.get(), "units", std::string(units));
  }
  InstrumentMetadata read(InputLayout layout) {
    InputDescription input;
    input.layout = layout;
    return read_instrument(file_.get(), input);
  }
  std::string path_;
  h5::Handle file_;
};

TEST_F(InstrumentFile, NexusWithUnitsAttributes) {
  scalar("/entry/instrument/beam/incident_wavelength", 1.0, "angstrom");
  scalar("/entry/instrument/detector/detector_distance", 150.0, "mm");
  scalar("/entry/instrument/detector/x_pixel_size", 75.0, "um");
  scalar("/entry/instrument/detector/y_pixel_size", 75e-6);  // no units: metres
  const InstrumentMetadata m = read(InputLayout::nexus);
  ASSERT_TRUE(m.wavelength && m.distance && m.pixel_size_x && m.pixel_size_y);
  EXPECT_DOUBLE_EQ(*m.wavelength_m(), 1e-10);
  EXPECT_DOUBLE_EQ(*m.photon_energy_J(), kPlanckTimesLightSpeed / 1e-10);
  EXPECT_DOUBLE_EQ(m.distance->value, 0.15);
  EXPECT_DOUBLE_EQ(m.pixel_size_x->value, 75e-6);
  EXPECT_EQ(m.pixel_size_x->source, "/entry/instrument/detector/x_pixel_size (um)");
  EXPECT_DOUBLE_EQ(*m.object_pixel_x_m(64), 1e-10 * 0.15 / (64 * 75e-6));
  EXPECT_TRUE(m.problems.empty());
}

TEST_F(InstrumentFile, NexusWavelengthWithoutUnitsIsInAngstrom) {
  scalar("/entry/instrument/beam/incident_wavelength", 1.24);
  scalar("/entry/instrument/detector/detectorSpecific/photon_energy", 12000.0, "eV");  // the wavelength wins
  EXPECT_DOUBLE_EQ(*read(InputLayout::nexus).wavelength_m(), 1.24e-10);
}

TEST_F(InstrumentFile, CxiInSiUnitsAndItsEnergyWins) {
  const double energy = 8e3 * kElectronVolt;
  scalar("/entry_1/instrument_1/source_1/energy", energy);
  scalar("/entry_1/instrument_1/source_1/wavelength", 2e-10);  // disagrees: the energy is what CXI readers read
  scalar("/entry_1/instrument_1/detector_1/distance", 2.0);
  scalar("/entry_1/instrument_1/detector_1/x_pixel_size", 172e-6);
  scalar("/entry_1/instrument_1/detector_1/y_pixel_size", 172e-6);
  const InstrumentMetadata m = read(InputLayout::cxi);
  EXPECT_EQ(*m.photon_energy_J(), energy);
  EXPECT_DOUBLE_EQ(*m.wavelength_m(), kPlanckTimesLightSpeed / energy);
  EXPECT_EQ(m.energy->source, "/entry_1/instrument_1/source_1/energy");
  // The NeXus places are not looked at for a CXI file, nor the CXI ones for a plain file.
  EXPECT_FALSE(read(InputLayout::plain).has_energy());
}

TEST_F(InstrumentFile, UnusableValuesAreProblemsThatAnOptionReplaces) {
  scalar("/entry/instrument/beam/incident_wavelength", 1.0, "furlong");
  scalar("/entry/instrument/detector/detector_distance", -1.0, "m");
  scalar("/entry/instrument/detector/x_pixel_size", 75e-6, "m");
  InstrumentMetadata m = read(InputLayout::nexus);
  EXPECT_FALSE(m.has_energy());
  EXPECT_FALSE(m.distance);
  EXPECT_FALSE(m.has_pixel_size());  // y is missing
  ASSERT_EQ(m.problems.size(), 2u);
  EXPECT_EQ(m.problems[0].first, "energy");
  EXPECT_NE(m.problems[0].second.find("units 'furlong'"), std::string::npos) << m.problems[0].second;
  EXPECT_EQ(m.problems[1].first, "distance");
  InstrumentOverrides overrides;
  overrides.energy_keV = 10.0;
  overrides.pixel_size_m = 55e-6;
  apply_overrides(m, overrides);
  EXPECT_DOUBLE_EQ(*m.photon_energy_J(), 10e3 * kElectronVolt);
  EXPECT_EQ(m.energy->source, "--energy");
  EXPECT_EQ(m.pixel_size_x->value, 55e-6);
  EXPECT_EQ(m.pixel_size_y->value, 55e-6);
  ASSERT_EQ(m.problems.size(), 1u);  // the distance's remains
  EXPECT_EQ(m.problems[0].first, "distance");
}

TEST_F(InstrumentFile, SimulatorRootAttributesForAnyLayout) {
  h5::Handle root = h5::checked(H5Oopen(file_.get(), "/", H5P_DEFAULT), "open /");
  h5::write_attribute(root.get(), "energy_kev", 9.5);
  h5::write_attribute(root.get(), "detector_distance_m", 1.5);
  h5::write_attribute(root.get(), "detector_pixel_size_m", 55e-6);
  const InstrumentMetadata m = read(InputLayout::ptychoshelves);
  EXPECT_DOUBLE_EQ(*m.photon_energy_J(), 9.5e3 * kElectronVolt);
  EXPECT_EQ(m.distance->value, 1.5);
  EXPECT_EQ(m.pixel_size_y->value, 55e-6);
  // A given energy replaces the wavelength too.
  InstrumentMetadata w;
  w.wavelength = InstrumentValue{1e-10, "file"};
  InstrumentOverrides overrides;
  overrides.energy_keV = 8.0;
  apply_overrides(w, overrides);
  EXPECT_FALSE(w.wavelength);
  EXPECT_DOUBLE_EQ(*w.wavelength_m(), kPlanckTimesLightSpeed / (8e3 * kElectronVolt));
}

}  // namespace
}  // namespace ptyroi
