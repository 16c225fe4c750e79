// make_bad_inputs OUTDIR: writes the malformed and edge-case HDF5 inputs of ptyroi's bad-input test matrix.
//
// Serial HDF5 C API only (every file is opened with H5P_DEFAULT), so it needs no MPI even though it links
// against the parallel HDF5 flavour. Every file is self-contained: unless the case is about the positions it
// holds /positions_x and /positions_y (float64 [K], metres) for a row-major raster with a step of 1e-7 m.
// Prints one line per file; any HDF5 error ends the program with a message and exit status 1.
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int kRows = 3, kCols = 4, kFrames = kRows * kCols;  // the 3x4 raster, K = 12
constexpr int kSide = 16;                                     // 16x16 frames
constexpr double kStep = 1e-7;                                // scan step, metres
// The HDF Group assigns filter ids 512..32767 to published filters; 32999 is not assigned to any, so no
// installed plugin can decode the chunks of bad_filter.h5. (32768..65535 is the range for private ids.)
constexpr H5Z_filter_t kTestFilterId = 32999;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Closes an HDF5 handle when it goes out of scope, so that an exception leaks nothing.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5 error: " + what);
}

Handle checked(hid_t id, herr_t (*close)(hid_t), const std::string& what) {
  if (id < 0) throw std::runtime_error("HDF5 error: " + what);
  return Handle(id, close);
}

template <typename T>
hid_t native_type();
template <>
hid_t native_type<std::uint16_t>() {
  return H5T_NATIVE_UINT16;
}
template <>
hid_t native_type<std::uint32_t>() {
  return H5T_NATIVE_UINT32;
}
template <>
hid_t native_type<std::int16_t>() {
  return H5T_NATIVE_INT16;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}
template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}

Handle create_file(const fs::path& path) {
  return checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                 "cannot create " + path.string());
}

// Creates the dataset `name` of `type` and shape `dims` (through `dcpl`, default layout when H5P_DEFAULT)
// and writes `data` to it, unless the dataset is empty. Missing parent groups are created.
void write_raw(hid_t file, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
               const std::vector<hsize_t>& max_dims, const void* data, hid_t dcpl = H5P_DEFAULT) {
  Handle space = checked(
      H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.empty() ? nullptr : max_dims.data()),
      H5Sclose, "cannot create the dataspace of " + name);
  Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a link-creation list");
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot ask for intermediate groups");
  Handle dataset = checked(H5Dcreate2(file, name.c_str(), type, space.get(), lcpl.get(), dcpl, H5P_DEFAULT), H5Dclose,
                           "cannot create dataset " + name);
  hsize_t elements = 1;
  for (hsize_t d : dims) elements *= d;
  if (elements > 0) {
    check(H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write dataset " + name);
  }
}

template <typename T>
void write_array(hid_t file, const std::string& name, const std::vector<hsize_t>& dims, const std::vector<T>& values,
                 hid_t dcpl = H5P_DEFAULT) {
  write_raw(file, name, native_type<T>(), dims, {}, values.data(), dcpl);
}

struct Positions {
  std::vector<double> x, y;
};

// Row-major raster positions in metres: frame k at column k % cols, row k / cols.
Positions raster(int rows, int cols) {
  Positions p;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      p.x.push_back(c * kStep);
      p.y.push_back(r * kStep);
    }
  }
  return p;
}

void write_positions(hid_t file, const Positions& p) {
  write_array(file, "/positions_x", {p.x.size()}, p.x);
  write_array(file, "/positions_y", {p.y.size()}, p.y);
}

void write_positions(hid_t file, int rows, int cols) { write_positions(file, raster(rows, cols)); }

// The reference frames, pixel [k][i][j] at k * n * m + i * m + j: a background of 2 counts plus a Gaussian
// spot whose total and centre vary with k, so that both the transmission T and the centre of mass differ
// from frame to frame and ptyroi has real contrast to cluster.
std::vector<double> good_frames(int frames, int n, int m) {
  const double pi = std::acos(-1.0);
  const double sigma = n / 8.0;
  std::vector<double> pixels(static_cast<std::size_t>(frames) * n * m);
  for (int k = 0; k < frames; ++k) {
    const double total = 4000.0 * (1.0 + 0.5 * std::sin(0.9 * k));
    const double cx = (m - 1) / 2.0 + 0.15 * m * std::sin(1.3 * k);
    const double cy = (n - 1) / 2.0 + 0.15 * n * std::cos(0.7 * k);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < m; ++j) {
        const double r2 = (j - cx) * (j - cx) + (i - cy) * (i - cy);
        pixels[(static_cast<std::size_t>(k) * n + i) * m + j] =
            2.0 + total * std::exp(-r2 / (2 * sigma * sigma)) / (2 * pi * sigma * sigma);
      }
    }
  }
  return pixels;
}

template <typename T>
std::vector<T> rounded(const std::vector<double>& values) {
  std::vector<T> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = static_cast<T>(std::lround(values[i]));
  return out;
}

std::vector<hsize_t> stack_dims(int frames, int n = kSide, int m = kSide) {
  return {static_cast<hsize_t>(frames), static_cast<hsize_t>(n), static_cast<hsize_t>(m)};
}

// A good file: uint32 /data [K, 16, 16] with the reference pattern, plus the raster positions.
void write_good_scan(hid_t file) {
  write_array(file, "/data", stack_dims(kFrames), rounded<std::uint32_t>(good_frames(kFrames, kSide, kSide)));
  write_positions(file, kRows, kCols);
}

void report(const fs::path& path, const std::string& what) { std::cout << path.string() << ": " << what << '\n'; }

// The pass-through filter of bad_filter.h5: leaves the chunk as it is in both directions.
size_t pass_through(unsigned /*flags*/, size_t /*cd_nelmts*/, const unsigned /*cd_values*/[], size_t nbytes,
                    size_t* /*buf_size*/, void** /*buf*/) {
  return nbytes;
}

void register_test_filter() {
  H5Z_class2_t filter_class{};
  filter_class.version = H5Z_CLASS_T_VERS;
  filter_class.id = kTestFilterId;
  filter_class.encoder_present = 1;
  filter_class.decoder_present = 1;
  filter_class.name = "ptyroi-test-filter";
  filter_class.filter = pass_through;
  check(H5Zregister(&filter_class), "cannot register the test filter");
}

void make_all(const fs::path& dir) {
  fs::create_directories(dir);
  const std::vector<double> good = good_frames(kFrames, kSide, kSide);
  const std::size_t frame_pixels = kSide * kSide;

  {  // The reference valid scan; every other case differs from it in one respect.
    const fs::path path = dir / "good.h5";
    Handle f = create_file(path);
    write_good_scan(f.get());
    report(path, "valid 3x4 scan, /data uint32 [12,16,16]");
  }
  {  // A stack must be [K, N, M]: a flattened [K, N*M] stack is rank 2.
    const fs::path path = dir / "rank2.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", {kFrames, frame_pixels}, rounded<std::uint32_t>(good));
    write_positions(f.get(), kRows, kCols);
    report(path, "/data uint32 rank 2 [12,256]");
  }
  {  // ... and a stack with an extra axis (e.g. two detector modules) is rank 4.
    const fs::path path = dir / "rank4.h5";
    Handle f = create_file(path);
    std::vector<std::uint32_t> pixels;
    const std::vector<std::uint32_t> frames = rounded<std::uint32_t>(good);
    for (int k = 0; k < kFrames; ++k) {
      for (int copy = 0; copy < 2; ++copy) {
        pixels.insert(pixels.end(), frames.begin() + k * frame_pixels, frames.begin() + (k + 1) * frame_pixels);
      }
    }
    write_array(f.get(), "/data", {kFrames, 2, kSide, kSide}, pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "/data uint32 rank 4 [12,2,16,16]");
  }
  {  // No frames at all: a scan aborted before its first exposure. A 0 extent needs chunking with an
     // unlimited maximum for /data; the positions are plain 0-length datasets.
    const fs::path path = dir / "empty.h5";
    Handle f = create_file(path);
    Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a dataset-creation list");
    const hsize_t chunk[3] = {1, kSide, kSide};
    check(H5Pset_chunk(dcpl.get(), 3, chunk), "cannot set the chunk shape");
    write_raw(f.get(), "/data", H5T_NATIVE_UINT32, stack_dims(0), {H5S_UNLIMITED, kSide, kSide}, nullptr, dcpl.get());
    write_positions(f.get(), 0, 0);
    report(path, "/data uint32 [0,16,16] (chunked, unlimited), positions [0]");
  }
  {  // A single frame: no spread of the centre of mass, a 1x1 grid and nothing for k-means to split.
    const fs::path path = dir / "single.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", stack_dims(1), rounded<std::uint32_t>(good_frames(1, kSide, kSide)));
    write_positions(f.get(), 1, 1);
    report(path, "K = 1: /data uint32 [1,16,16], positions [1]");
  }
  {  // Right shape, but the pixels are text: HDF5 cannot convert strings to numbers.
    const fs::path path = dir / "strings.h5";
    Handle f = create_file(path);
    Handle type = checked(H5Tcopy(H5T_C_S1), H5Tclose, "cannot copy the string type");
    check(H5Tset_size(type.get(), 4), "cannot set the string size");
    std::vector<char> text(good.size() * 4, '\0');  // three decimal digits and a terminating NUL each
    for (std::size_t i = 0; i < good.size(); ++i) {
      const long value = std::lround(good[i]) % 1000;
      text[i * 4 + 0] = static_cast<char>('0' + value / 100);
      text[i * 4 + 1] = static_cast<char>('0' + value / 10 % 10);
      text[i * 4 + 2] = static_cast<char>('0' + value % 10);
    }
    write_raw(f.get(), "/data", type.get(), stack_dims(kFrames), {}, text.data());
    write_positions(f.get(), kRows, kCols);
    report(path, "/data [12,16,16] of fixed-length strings (size 4)");
  }
  {  // Right shape, but each pixel is a record: HDF5 cannot convert a compound to a number either.
    const fs::path path = dir / "compound.h5";
    Handle f = create_file(path);
    struct Pixel {
      std::int32_t a;
      float b;
    };
    Handle type = checked(H5Tcreate(H5T_COMPOUND, sizeof(Pixel)), H5Tclose, "cannot create the compound type");
    check(H5Tinsert(type.get(), "a", HOFFSET(Pixel, a), H5T_NATIVE_INT32), "cannot insert member a");
    check(H5Tinsert(type.get(), "b", HOFFSET(Pixel, b), H5T_NATIVE_FLOAT), "cannot insert member b");
    std::vector<Pixel> pixels(good.size());
    for (std::size_t i = 0; i < good.size(); ++i) {
      pixels[i] = {static_cast<std::int32_t>(std::lround(good[i])), static_cast<float>(good[i])};
    }
    write_raw(f.get(), "/data", type.get(), stack_dims(kFrames), {}, pixels.data());
    write_positions(f.get(), kRows, kCols);
    report(path, "/data [12,16,16] of compound {int32 a; float b}");
  }
  {  // Non-finite float pixels (dead detector modules, failed corrections): frame 3 has a NaN sum and so
     // no signal; frame 5 has a few +Inf and NaN pixels among good ones.
    const fs::path path = dir / "nan_frames.h5";
    Handle f = create_file(path);
    std::vector<float> pixels(good.begin(), good.end());
    for (std::size_t i = 0; i < frame_pixels; ++i) pixels[3 * frame_pixels + i] = static_cast<float>(kNaN);
    const std::size_t frame5 = 5 * frame_pixels;
    pixels[frame5 + 0] = static_cast<float>(kInf);
    pixels[frame5 + 17] = static_cast<float>(kInf);
    pixels[frame5 + 100] = static_cast<float>(kNaN);
    pixels[frame5 + 255] = static_cast<float>(kNaN);
    write_array(f.get(), "/data", stack_dims(kFrames), pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "/data float32 [12,16,16], frame 3 all NaN, frame 5 with +Inf and NaN pixels");
  }
  {  // No frame has signal (shutter closed): ptyroi must stop with an error saying so.
    const fs::path path = dir / "all_zero.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", stack_dims(kFrames), std::vector<std::uint16_t>(good.size(), 0));
    write_positions(f.get(), kRows, kCols);
    report(path, "/data uint16 [12,16,16], every pixel 0");
  }
  {  // Every frame alike: zero spread of T and of the centre of mass, so every map is flat and k-means
     // starts with equal centroids.
    const fs::path path = dir / "identical.h5";
    Handle f = create_file(path);
    const std::vector<std::uint32_t> frame0 = rounded<std::uint32_t>(good_frames(1, kSide, kSide));
    std::vector<std::uint32_t> pixels;
    for (int k = 0; k < kFrames; ++k) pixels.insert(pixels.end(), frame0.begin(), frame0.end());
    write_array(f.get(), "/data", stack_dims(kFrames), pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "/data uint32 [12,16,16], all 12 frames equal and non-zero");
  }
  {  // Neither /positions_* nor the CXI translation: ptyroi has no positions to find.
    const fs::path path = dir / "no_positions.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    report(path, "good /data, no position datasets");
  }
  {  // One position fewer than frames (a scan log cut short).
    const fs::path path = dir / "positions_short.h5";
    Handle f = create_file(path);
    Positions p = raster(kRows, kCols);
    p.x.pop_back();
    p.y.pop_back();
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    write_positions(f.get(), p);
    report(path, "good /data, positions of length 11");
  }
  {  // A missing encoder reading stored as NaN.
    const fs::path path = dir / "positions_nan.h5";
    Handle f = create_file(path);
    Positions p = raster(kRows, kCols);
    p.x[4] = kNaN;
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    write_positions(f.get(), p);
    report(path, "good /data, positions_x[4] = NaN");
  }
  {  // Chunks that need a filter the reader does not have (a compression plugin missing on the cluster): the
     // metadata reads fine, the first frame read fails.
    const fs::path path = dir / "bad_filter.h5";
    register_test_filter();
    Handle f = create_file(path);
    Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a dataset-creation list");
    const hsize_t chunk[3] = {1, kSide, kSide};
    check(H5Pset_chunk(dcpl.get(), 3, chunk), "cannot set the chunk shape");
    check(H5Pset_filter(dcpl.get(), kTestFilterId, H5Z_FLAG_MANDATORY, 0, nullptr), "cannot add the test filter");
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good), dcpl.get());
    write_positions(f.get(), kRows, kCols);
    report(path, "/data uint32 [12,16,16], chunks (1,16,16) through unregistered filter " +
                     std::to_string(kTestFilterId) + " \"ptyroi-test-filter\"");
  }
  {  // An Eiger-style master file whose data file was not copied: the link exists, its target does not.
    const fs::path path = dir / "external_missing.h5";
    const std::string target = "missing_data_000001.h5";
    fs::remove(dir / target);  // the case needs the target to be absent
    Handle f = create_file(path);
    Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a link-creation list");
    check(H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot ask for intermediate groups");
    check(H5Lcreate_external(target.c_str(), "/entry/data/data", f.get(), "/entry/data/data_000001", lcpl.get(),
                             H5P_DEFAULT),
          "cannot create the external link");
    write_positions(f.get(), kRows, kCols);
    report(path, "/entry/data/data_000001 -> external " + target + ":/entry/data/data (absent), positions");
  }
  {  // A detector mask whose shape does not match the frames.
    const fs::path path = dir / "mask_wrong_shape.h5";
    Handle f = create_file(path);
    write_good_scan(f.get());
    write_array(f.get(), "/mask", {8, 8}, std::vector<std::uint8_t>(64, 0));
    report(path, "good scan plus /mask uint8 [8,8] (frames are 16x16)");
  }
  {  // A valid detector mask: a few bad (non-zero) pixels, some on the spot.
    const fs::path path = dir / "mask_good.h5";
    Handle f = create_file(path);
    write_good_scan(f.get());
    std::vector<std::uint8_t> mask(frame_pixels, 0);
    for (std::size_t i : {0, 7 * kSide + 7, 8 * kSide + 8, 15 * kSide + 3}) mask[i] = 1;
    write_array(f.get(), "/mask", {kSide, kSide}, mask);
    report(path, "good scan plus /mask uint8 [16,16] with 4 non-zero pixels");
  }
  {  // Valid scans in other pixel types: float64 (not rounded, fractional counts) ...
    const fs::path path = dir / "float64.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", stack_dims(kFrames), good);
    write_positions(f.get(), kRows, kCols);
    report(path, "valid 3x4 scan, /data float64 [12,16,16]");
  }
  {  // ... and signed int16 with a few negative pixels (over-subtracted dark current); frame sums stay > 0.
    const fs::path path = dir / "int16.h5";
    Handle f = create_file(path);
    std::vector<std::int16_t> pixels = rounded<std::int16_t>(good);
    for (int k = 0; k < kFrames; ++k) {
      pixels[k * frame_pixels + 0] = -3;
      pixels[k * frame_pixels + 15] = -1;
      pixels[k * frame_pixels + 15 * kSide] = static_cast<std::int16_t>(-7 - k);
    }
    write_array(f.get(), "/data", stack_dims(kFrames), pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "valid 3x4 scan, /data int16 [12,16,16] with negative pixels, positive frame sums");
  }
  // --- issue 13: types, masks and positions that leave nothing to work with, values beyond range ---
  {  // Positions stored as text (a scan log copied verbatim): not numbers.
    const fs::path path = dir / "positions_strings.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    Handle type = checked(H5Tcopy(H5T_C_S1), H5Tclose, "cannot copy the string type");
    check(H5Tset_size(type.get(), 8), "cannot set the string size");
    const std::vector<char> text(kFrames * 8, '1');
    write_raw(f.get(), "/positions_x", type.get(), {kFrames}, {}, text.data());
    write_array(f.get(), "/positions_y", {kFrames}, raster(kRows, kCols).y);
    report(path, "good /data, /positions_x of 8-byte strings");
  }
  {  // A mask of records: HDF5 cannot turn a compound into a number.
    const fs::path path = dir / "mask_compound.h5";
    Handle f = create_file(path);
    write_good_scan(f.get());
    Handle type = checked(H5Tcreate(H5T_COMPOUND, 2), H5Tclose, "cannot create the compound type");
    check(H5Tinsert(type.get(), "bad", 0, H5T_NATIVE_UINT8), "cannot insert member bad");
    check(H5Tinsert(type.get(), "kind", 1, H5T_NATIVE_UINT8), "cannot insert member kind");
    const std::vector<std::uint8_t> records(2 * frame_pixels, 0);
    write_raw(f.get(), "/mask", type.get(), {kSide, kSide}, {}, records.data());
    report(path, "good scan plus /mask [16,16] of compound {uint8 bad; uint8 kind}");
  }
  {  // A mask marking every pixel bad (inverted convention: 1 = good).
    const fs::path path = dir / "mask_all_bad.h5";
    Handle f = create_file(path);
    write_good_scan(f.get());
    write_array(f.get(), "/mask", {kSide, kSide}, std::vector<std::uint8_t>(frame_pixels, 1));
    report(path, "good scan plus /mask uint8 [16,16], every pixel bad");
  }
  {  // A mask whose bad pixels cover the centre: a crop of the centre has no good pixel.
    const fs::path path = dir / "mask_centre_bad.h5";
    Handle f = create_file(path);
    write_good_scan(f.get());
    std::vector<std::uint8_t> mask(frame_pixels, 0);
    for (int r = 4; r < 12; ++r) {
      for (int c = 4; c < 12; ++c) mask[r * kSide + c] = 1;
    }
    write_array(f.get(), "/mask", {kSide, kSide}, mask);
    report(path, "good scan plus /mask uint8 [16,16], the central 8x8 bad");
  }
  {  // Every frame at one position (an encoder that never moved).
    const fs::path path = dir / "positions_equal.h5";
    Handle f = create_file(path);
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    write_positions(f.get(), Positions{std::vector<double>(kFrames, 1e-6), std::vector<double>(kFrames, 2e-6)});
    report(path, "good /data, all 12 positions equal");
  }
  {  // Two frames at one position (a stalled encoder for one step).
    const fs::path path = dir / "positions_duplicated.h5";
    Handle f = create_file(path);
    Positions p = raster(kRows, kCols);
    p.x[5] = p.x[4];
    p.y[5] = p.y[4];
    write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    write_positions(f.get(), p);
    report(path, "good /data, frames 4 and 5 at the same position");
  }
  {  // One position 1 cm off and one 1e6 m off (encoder glitches): the previews must stay small.
    for (const auto& [name, offset] : {std::pair<const char*, double>{"positions_1cm_off.h5", 1e-2},
                                       std::pair<const char*, double>{"positions_1e6m_off.h5", 1e6}}) {
      const fs::path path = dir / name;
      Handle f = create_file(path);
      Positions p = raster(kRows, kCols);
      p.x[7] += offset;
      write_array(f.get(), "/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
      write_positions(f.get(), p);
      report(path, "good /data, position 7 moved by " + std::to_string(offset) + " m in x");
    }
  }
  {  // Finite float64 pixels whose sum overflows: frame 3 sums to +inf.
    const fs::path path = dir / "sum_overflow.h5";
    Handle f = create_file(path);
    std::vector<double> pixels = good;
    pixels[3 * frame_pixels + 0] = 1e308;
    pixels[3 * frame_pixels + 1] = 1e308;
    write_array(f.get(), "/data", stack_dims(kFrames), pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "/data float64 [12,16,16], frame 3 holds two pixels of 1e308 (sum +inf)");
  }
  {  // A finite total whose centre-of-mass moment overflows: frame 6 is 1.7e308 at column 15.
    const fs::path path = dir / "moment_overflow.h5";
    Handle f = create_file(path);
    std::vector<double> pixels = good;
    std::fill(pixels.begin() + 6 * frame_pixels, pixels.begin() + 7 * frame_pixels, 0.0);
    pixels[6 * frame_pixels + 15] = 1.7e308;
    write_array(f.get(), "/data", stack_dims(kFrames), pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "/data float64 [12,16,16], frame 6 = 1.7e308 at column 15 (moment beyond float64)");
  }
  {  // Finite totals whose neighbourhood mean overflows: frames 0, 1, 2 each total 7e307 (at pixel 0,
     // so their centres of mass stay finite); the smoothed map at frame 1 sums three of them.
    const fs::path path = dir / "map_overflow.h5";
    Handle f = create_file(path);
    std::vector<double> pixels = good;
    for (int k = 0; k < 3; ++k) {
      std::fill(pixels.begin() + k * frame_pixels, pixels.begin() + (k + 1) * frame_pixels, 0.0);
      pixels[k * frame_pixels] = 7e307;
    }
    write_array(f.get(), "/data", stack_dims(kFrames), pixels);
    write_positions(f.get(), kRows, kCols);
    report(path, "/data float64 [12,16,16], frames 0-2 total 7e307 each (their 3x3 mean overflows)");
  }
  {  // NeXus masters whose beam centre is an "unset" value: 3.4e38 (float32 max) and -1e20.
    for (const auto& [name, beam_x] : {std::pair<const char*, double>{"nexus_beam_unset.h5", 3.4e38},
                                       std::pair<const char*, double>{"nexus_beam_negative.h5", -1e20}}) {
      const fs::path path = dir / name;
      Handle f = create_file(path);
      write_array(f.get(), "/entry/data/data_000001", stack_dims(kFrames), rounded<std::uint32_t>(good));
      write_array(f.get(), "/entry/instrument/detector/beam_center_x", {1}, std::vector<double>{beam_x});
      write_array(f.get(), "/entry/instrument/detector/beam_center_y", {1}, std::vector<double>{7.5});
      write_positions(f.get(), kRows, kCols);
      report(path, "NeXus /entry/data/data_000001, beam_center_x = " + std::to_string(beam_x));
    }
  }
  {  // A NeXus master whose frames live in a data file (external link): the data file is an input
     // too, which no output may replace.
    const fs::path data_path = dir / "nexus_external_data_000001.h5";
    {
      Handle data = create_file(data_path);
      write_array(data.get(), "/entry/data/data", stack_dims(kFrames), rounded<std::uint32_t>(good));
    }
    const fs::path path = dir / "nexus_external_master.h5";
    Handle f = create_file(path);
    Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a link-creation list");
    check(H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot ask for intermediate groups");
    check(H5Lcreate_external(data_path.filename().c_str(), "/entry/data/data", f.get(), "/entry/data/data_000001",
                             lcpl.get(), H5P_DEFAULT),
          "cannot create the external link");
    write_positions(f.get(), kRows, kCols);
    report(path, "NeXus master, /entry/data/data_000001 -> " + data_path.filename().string());
  }
  {  // One row of 32768 frames (2x2 pixels): a raster wider than a PNG preview can be.
    const fs::path path = dir / "long_row.h5";
    constexpr int frames = 32768;
    Handle f = create_file(path);
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(frames) * 4);
    for (std::size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<std::uint8_t>(1 + (i * 37 + i / 4 * 11) % 200);
    write_array(f.get(), "/data", {frames, 2, 2}, pixels);
    report(path, "/data uint8 [32768,2,2], no positions (use --grid 1x32768)");
  }
  {  // A copy cut short (full disk, interrupted transfer): a valid 12x64x64 contiguous file truncated to half
     // its size, so the superblock reads but the recorded end of file lies beyond the real one.
    const fs::path path = dir / "truncated.h5";
    {
      Handle f = create_file(path);
      write_array(f.get(), "/data", stack_dims(kFrames, 64, 64), rounded<std::uint32_t>(good_frames(kFrames, 64, 64)));
      write_positions(f.get(), kRows, kCols);
      check(H5Fflush(f.get(), H5F_SCOPE_GLOBAL), "cannot flush " + path.string());
    }
    const auto full = fs::file_size(path);
    fs::resize_file(path, full / 2);
    report(path, "12x64x64 uint32 contiguous scan truncated from " + std::to_string(full) + " to " +
                     std::to_string(full / 2) + " bytes");
  }
  {  // A truncated copy whose superblock still agrees with its size (its end-of-file address patched, as a
     // copy whose last blocks were lost): HDF5 opens it, and the stack's storage reaches past the end.
    const fs::path path = dir / "contiguous_short.h5";
    {
      Handle f = create_file(path);
      write_positions(f.get(), kRows, kCols);
      write_array(f.get(), "/data", stack_dims(kFrames, 64, 64), rounded<std::uint32_t>(good_frames(kFrames, 64, 64)));
    }
    haddr_t offset = 0;
    {
      Handle f = checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "cannot open " + path.string());
      Handle d = checked(H5Dopen2(f.get(), "/data", H5P_DEFAULT), H5Dclose, "cannot open /data");
      offset = H5Dget_offset(d.get());
    }
    const std::uint64_t cut = offset + 12 * 64 * 64 * 4 / 2;
    if (cut >= fs::file_size(path)) throw std::runtime_error("contiguous_short.h5: /data is not at the end");
    fs::resize_file(path, cut);
    // Superblock version 0: the end-of-file address is the 8 bytes at offset 40.
    std::FILE* file = std::fopen(path.c_str(), "r+b");
    if (file == nullptr) throw std::runtime_error("cannot reopen " + path.string());
    unsigned char version = 1;
    std::fseek(file, 8, SEEK_SET);
    const bool v0 = std::fread(&version, 1, 1, file) == 1 && version == 0;
    unsigned char address[8];
    for (int i = 0; i < 8; ++i) address[i] = static_cast<unsigned char>(cut >> (8 * i));
    std::fseek(file, 40, SEEK_SET);
    const bool written = v0 && std::fwrite(address, 1, 8, file) == 8;
    std::fclose(file);
    if (!written) throw std::runtime_error("contiguous_short.h5: not a version 0 superblock");
    report(path, "12x64x64 uint32 contiguous /data cut in half, its superblock's end of file patched to match");
  }
  {  // An aborted acquisition: chunks [2,16,16], those of frames 6-7 and 10-11 never written.
    const fs::path path = dir / "unwritten_chunks.h5";
    Handle f = create_file(path);
    write_positions(f.get(), kRows, kCols);
    Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a dataset-creation list");
    const hsize_t chunk[3] = {2, kSide, kSide};
    check(H5Pset_chunk(dcpl.get(), 3, chunk), "cannot set the chunk shape");
    const std::vector<hsize_t> dims = stack_dims(kFrames);
    Handle space = checked(H5Screate_simple(3, dims.data(), nullptr), H5Sclose, "cannot create a dataspace");
    Handle d =
        checked(H5Dcreate2(f.get(), "/data", H5T_NATIVE_UINT32, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                H5Dclose, "cannot create /data");
    const std::vector<std::uint32_t> pixels = rounded<std::uint32_t>(good);
    for (hsize_t first : {0, 2, 4, 8}) {
      const hsize_t start[3] = {first, 0, 0}, count[3] = {2, kSide, kSide};
      Handle file_space = checked(H5Dget_space(d.get()), H5Sclose, "cannot get the dataspace");
      check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), "cannot select");
      Handle memory = checked(H5Screate_simple(3, count, nullptr), H5Sclose, "cannot create a dataspace");
      check(H5Dwrite(d.get(), H5T_NATIVE_UINT32, memory.get(), file_space.get(), H5P_DEFAULT,
                     pixels.data() + first * frame_pixels),
            "cannot write frames");
    }
    report(path, "chunked [2,16,16] /data, frames 6-7 and 10-11 never written");
  }
  {  // Virtual datasets (VDS): /data of 12 frames mapped from two source files (frames 0-5, 6-11), with
     // relative names (HDF5 finds them next to the VDS); the same pixels as good.h5. And one whose second
     // source file does not exist.
    const std::vector<std::uint32_t> pixels = rounded<std::uint32_t>(good);
    const std::vector<hsize_t> half = stack_dims(kFrames / 2);
    for (int part = 0; part < 2; ++part) {
      Handle f = create_file(dir / ("vds_source_" + std::to_string(part) + ".h5"));
      write_array(f.get(), "/frames", half,
                  std::vector<std::uint32_t>(pixels.begin() + part * (kFrames / 2) * frame_pixels,
                                             pixels.begin() + (part + 1) * (kFrames / 2) * frame_pixels));
    }
    for (const std::string name : {"vds", "vds_missing_source"}) {
      const fs::path path = dir / (name + ".h5");
      Handle f = create_file(path);
      write_positions(f.get(), kRows, kCols);
      Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a dataset-creation list");
      const std::vector<hsize_t> dims = stack_dims(kFrames);
      Handle space = checked(H5Screate_simple(3, dims.data(), nullptr), H5Sclose, "cannot create a dataspace");
      Handle source_space = checked(H5Screate_simple(3, half.data(), nullptr), H5Sclose, "cannot create a dataspace");
      for (int part = 0; part < 2; ++part) {
        const hsize_t start[3] = {static_cast<hsize_t>(part * kFrames / 2), 0, 0};
        check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, half.data(), nullptr), "cannot select");
        const std::string source = name == "vds" || part == 0 ? "vds_source_" + std::to_string(part) + ".h5"
                                                              : std::string("vds_absent_source.h5");
        check(H5Pset_virtual(dcpl.get(), space.get(), source.c_str(), "/frames", source_space.get()),
              "cannot map a VDS source");
      }
      check(H5Sselect_all(space.get()), "cannot select all");
      Handle d =
          checked(H5Dcreate2(f.get(), "/data", H5T_NATIVE_UINT32, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                  H5Dclose, "cannot create the VDS");
      report(path, name == "vds" ? "virtual /data [12,16,16] from vds_source_0.h5 and vds_source_1.h5"
                                 : "virtual /data whose second source vds_absent_source.h5 does not exist");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUTDIR\n";
    return 2;
  }
  try {
    make_all(argv[1]);
  } catch (const std::exception& error) {
    std::cerr << "make_bad_inputs: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
