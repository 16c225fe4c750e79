#!/usr/bin/python3
"""Reads ptyroi's outputs the way each reconstruction code's loader does, and checks every
pattern-position pair, the mask and the instrument values against the input.

The loading rules are facts read from each client's source (notes/clients.md; nothing copied):
  ptypy     PtyPy 0.9.0 ptypy/experiment/hdf5_loader.py Hdf5Loader, with the README's parameter tree
  ptychodus ptychodus 1.2 plugins/cxi_file.py (CXI diffraction + position readers),
            model/reconstructor/matcher.py (pairing), plugins/bad_pixels.py, the settings INI
  foldslice fold_slice load_data.m (h5read '/dp', orientation [1 0 0]), hdf5_pos.m (/ppX, /ppY),
            matlab_aps.m (single, sqrt), fftshift_2D, initial_checks.m (lambda from keV)
  tike      tike docs/source/examples/ptycho.ipynb (npz keys data/scan with a leading 1),
            ptycho.py Reconstruction (square, float32 scan), position.py check_allowed_positions,
            object.py get_padded_object, io.py position_units_to_pixels
The input is read independently here (h5py, numpy): frames, the detector's own mask, the flag
value 2^bit_depth-1, positions (CSV or datasets), the crop window and the instrument values, and
the expected written frame is built from them: window, pixels that are not data set to 0.

Usage: client_rules.py CLIENT OUTPUT --input FILE [input options]   (exit 0: every check passed)
       client_rules.py same OUTPUT_A OUTPUT_B                       (bitwise the same but timings)
       client_rules.py npz FILE                                     (the .npz writer's test file)
       client_rules.py make-inputs SCAN DIR                         (corner.h5, rect.h5, nopos.h5)
"""
import argparse
import configparser
import os
import sys
import zipfile

import h5py
import numpy as np

ELECTRON_VOLT = 1.602176634e-19  # J
HC = 6.62607015e-34 * 299792458.0  # J m
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return bool(condition)


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * max(abs(a), abs(b))


# --------------------------------------------------------------------------------------------------
# The input, read independently of ptyroi.
# --------------------------------------------------------------------------------------------------
class Input:
    def __init__(self, args):
        self.path = args.input
        f = h5py.File(args.input, "r")
        detector = "entry/instrument/detector"
        blocks = sorted(k for k in f["entry/data"].keys() if k.startswith("data_0")) if "entry/data" in f else []
        mask = None
        flag = None
        beam = None
        # Instrument values in SI units; None: not in the file.
        self.energy_J = self.distance = self.pixel_x = self.pixel_y = None
        if blocks:
            self.layout = "nexus"
            frames = np.concatenate([f["entry/data/" + b][()] for b in blocks])
            for name in (detector + "/pixel_mask", detector + "/detectorSpecific/pixel_mask"):
                if name in f:
                    mask = f[name][()]
                    break
            if detector + "/bit_depth_image" in f:
                flag = 2.0 ** float(f[detector + "/bit_depth_image"][()]) - 1
            if detector + "/beam_center_x" in f:
                beam = (float(f[detector + "/beam_center_x"][()]), float(f[detector + "/beam_center_y"][()]))
            units = {"angstrom": 1e-10, "m": 1.0, "mm": 1e-3, "um": 1e-6}
            w = f["entry/instrument/beam/incident_wavelength"]
            self.energy_J = HC / (float(w[()]) * units[w.attrs["units"].decode() if isinstance(w.attrs["units"], bytes) else w.attrs["units"]])

            def length(name):
                d = f[detector + "/" + name]
                u = d.attrs["units"]
                return float(d[()]) * units[u.decode() if isinstance(u, bytes) else u]

            self.distance = length("detector_distance")
            self.pixel_x = length("x_pixel_size")
            self.pixel_y = length("y_pixel_size")
        elif "entry_1" in f:
            self.layout = "cxi"
            frames = f["entry_1/data_1/data"][()]
            if "entry_1/instrument_1/detector_1/mask" in f:
                mask = f["entry_1/instrument_1/detector_1/mask"][()]
            self.energy_J = float(f["entry_1/instrument_1/source_1/energy"][()])
            self.distance = float(f["entry_1/instrument_1/detector_1/distance"][()])
            self.pixel_x = float(f["entry_1/instrument_1/detector_1/x_pixel_size"][()])
            self.pixel_y = float(f["entry_1/instrument_1/detector_1/y_pixel_size"][()])
            xyz = f["entry_1/sample_1/geometry_1/translation"][()]
            self.x, self.y = xyz[:, 0], xyz[:, 1]
        else:
            self.layout = "plain"
            frames = f["data"][()]
            if "pixel_mask" in f:
                mask = f["pixel_mask"][()]
            if "positions_x" in f:
                self.x, self.y = f["positions_x"][()], f["positions_y"][()]
            if "energy_kev" in f.attrs:  # what ptyroi-simulate writes into plain files
                self.energy_J = float(f.attrs["energy_kev"]) * 1e3 * ELECTRON_VOLT
                self.distance = float(f.attrs["detector_distance_m"])
                self.pixel_x = self.pixel_y = float(f.attrs["detector_pixel_size_m"])
        self.step_m = float(f.attrs["step_pixels"]) * float(f.attrs["pixel_size_m"]) if "step_pixels" in f.attrs else None
        if args.positions:
            table = np.genfromtxt(args.positions, delimiter=",", names=True)
            self.x = np.array([float(v) * args.positions_scale for v in table["x_um"]])
            self.y = np.array([float(v) * args.positions_scale for v in table["y_um"]])
        if args.energy is not None:
            self.energy_J = args.energy * 1e3 * ELECTRON_VOLT
        if args.distance is not None:
            self.distance = args.distance
        if args.pixel_size is not None:
            self.pixel_x = self.pixel_y = args.pixel_size
        k, rows, cols = frames.shape
        good = np.ones((rows, cols), bool) if (mask is None or args.no_file_mask) else (mask == 0)
        # The analysed frame: centred (fftshift of a corner-stored frame, the file's beam centre moved
        # with it), then the crop window: N pixels around the beam centre (given, the file's, else the
        # frame centre).
        if args.fftshift:
            frames = np.fft.fftshift(frames, axes=(1, 2))
            good = np.fft.fftshift(good)
            if beam:
                beam = ((beam[0] + cols // 2) % cols, (beam[1] + rows // 2) % rows)
        r0 = c0 = 0
        n_rows, n_cols = rows, cols
        if args.crop:
            cx, cy = beam if beam else ((cols - 1) / 2, (rows - 1) / 2)
            if args.beam_center:
                cx, cy = (float(v) for v in args.beam_center.split(","))
            c0 = int(np.floor(cx + 0.5)) - args.crop // 2
            r0 = int(np.floor(cy + 0.5)) - args.crop // 2
            n_rows = n_cols = args.crop
        self.frames = frames[:, r0:r0 + n_rows, c0:c0 + n_cols]
        self.good = good[r0:r0 + n_rows, c0:c0 + n_cols]
        self.max_valid = args.max_valid
        if flag is not None and frames.dtype.kind in "ui":
            self.max_valid = flag - 1 if self.max_valid is None else min(self.max_valid, flag - 1)
        self.dtype = frames.dtype
        self.rows, self.cols = n_rows, n_cols

    def expected(self, k):
        """Frame k as written: the window, pixels that are not data 0, zero frequency centred."""
        frame = self.frames[k].astype(np.float64)
        bad = ~self.good | ~np.isfinite(frame)
        if self.max_valid is not None:
            bad |= frame > self.max_valid
        frame[bad] = 0
        return frame

    def bad_pixels(self):
        return ~self.good

    def wavelength(self):
        return HC / self.energy_J


def roi_record(path):
    with h5py.File(path, "r") as f:
        indexes = f["roi/indexes"][()]
        mask = f["roi/mask"][()]
        attrs = dict(f["roi"].attrs)
    check(np.array_equal(indexes, np.flatnonzero(mask > 0)), path + ": /roi/indexes are the frames /roi/mask keeps")
    check(np.all(np.diff(indexes) > 0), path + ": /roi/indexes ascending, no frame twice")
    check(len(indexes) > 0, path + ": the RoI holds frames")
    return indexes, attrs


def check_common_record(path, truth, attrs):
    """The record's instrument values and scan step, against the input."""
    n = truth.rows
    if truth.energy_J is not None:
        check(close(attrs["energy_J"], truth.energy_J), "/roi energy_J %r = %r" % (attrs.get("energy_J"), truth.energy_J))
        dx = truth.wavelength() * truth.distance / (truth.cols * truth.pixel_x)
        dy = truth.wavelength() * truth.distance / (n * truth.pixel_y)
        check(np.allclose(attrs["object_pixel_size_m"], [dx, dy], rtol=1e-12, atol=0),
              "/roi object_pixel_size_m %r = lambda z / (N p) %r" % (attrs.get("object_pixel_size_m"), [dx, dy]))
    if truth.step_m is not None:
        check(close(attrs["scan_step_m"], truth.step_m, 1e-9),
              "/roi scan_step_m %r = the raster's spacing %r" % (attrs["scan_step_m"], truth.step_m))


def frames_equal(written, truth, k, what):
    expected = truth.expected(k).astype(written.dtype)
    return check(np.array_equal(written, expected), "%s: frame %d is the input's (window, bad pixels 0)" % (what, k))


def beam_centred(mean_frame, what):
    # The direct beam (the centre of mass of the mean frame) at 0-based (N//2, M//2), as PtyPy
    # (center='fftshift'), ptychodus (FFTShiftDiffractionPatterns) and fold_slice (fftshift_2D) expect.
    rows, cols = mean_frame.shape
    total = mean_frame.sum()
    r = (mean_frame.sum(axis=1) * np.arange(rows)).sum() / total
    c = (mean_frame.sum(axis=0) * np.arange(cols)).sum() / total
    check(abs(r - rows // 2) <= 1 and abs(c - cols // 2) <= 1,
          "%s: beam at (%.2f, %.2f), expected (%d, %d) +-1" % (what, r, c, rows // 2, cols // 2))
    # A frame with zero frequency at the corner has its centre of mass mid-frame too: the light must
    # also be there, not at the (wrapped) corners.
    y, x = np.mgrid[0:rows, 0:cols]
    radius = min(rows, cols) / 8
    centre = ((y - rows // 2) ** 2 + (x - cols // 2) ** 2) <= radius ** 2
    corner = (np.minimum(y, rows - y) ** 2 + np.minimum(x, cols - x) ** 2) <= radius ** 2
    check(mean_frame[centre].sum() > 2 * mean_frame[corner].sum(),
          "%s: the light around (N//2, M//2), not at the corners" % what)


# --------------------------------------------------------------------------------------------------
# PtyPy 0.9.0 Hdf5Loader with the README's recipe.
# --------------------------------------------------------------------------------------------------
KEV_PER_JOULE = 1.0 / (1e3 * ELECTRON_VOLT)  # recorded_energy.multiplier: J -> keV
PTYPY_RECIPE = {
    "intensities": {"key": "entry_1/data_1/data"},
    "positions": {"slow_key": "entry_1/data_1/translation", "slow_index": 1, "slow_multiplier": 1.0,
                  "fast_key": "entry_1/data_1/translation", "fast_index": 0, "fast_multiplier": 1.0},
    "recorded_energy": {"key": "entry_1/instrument_1/source_1/energy", "multiplier": 6.241509074460763e15,
                        "offset": 0.0},
    "recorded_distance": {"key": "entry_1/instrument_1/detector_1/distance", "multiplier": 1.0},
    "recorded_psize": {"key": "entry_1/instrument_1/detector_1/x_pixel_size", "multiplier": 1.0},
    "mask": {"key": "roi/good_pixels", "invert": False},
}


def ptypy(output, truth):
    indexes, attrs = roi_record(output)
    check_common_record(output, truth, attrs)
    r = PTYPY_RECIPE
    check(close(r["recorded_energy"]["multiplier"], KEV_PER_JOULE), "the recipe's J -> keV multiplier")
    with h5py.File(output, "r") as f:
        data = f[r["intensities"]["key"]]
        check(data.ndim == 3, "intensities (K, N, M)")
        p = r["positions"]
        slow = f[p["slow_key"]][()][:, p["slow_index"]] * p["slow_multiplier"]
        fast = f[p["fast_key"]][()][:, p["fast_index"]] * p["fast_multiplier"]
        # 1-D positions as long as the frames: a "mapped arbitrary" scan, frame j at (slow[j], fast[j]).
        check(slow.shape == fast.shape == data.shape[:-2], "positions (K,) like the frames")
        for key in ("recorded_energy", "recorded_distance", "recorded_psize"):
            d = f[r[key]["key"]]
            # A dataset with shape[0] > 1 would make it a spectro scan; .item() needs one value.
            check(d.shape == (), key + " is a scalar")
        energy_kev = float(f[r["recorded_energy"]["key"]][()].item()) * r["recorded_energy"]["multiplier"] + \
            r["recorded_energy"]["offset"]
        distance = f[r["recorded_distance"]["key"]][()].item() * r["recorded_distance"]["multiplier"]
        psize = f[r["recorded_psize"]["key"]][()].item() * r["recorded_psize"]["multiplier"]
        check(close(energy_kev, truth.energy_J / (1e3 * ELECTRON_VOLT), 1e-9), "energy %r keV" % energy_kev)
        check(close(distance, truth.distance), "distance %r m" % distance)
        check(close(psize, truth.pixel_x), "psize %r m" % psize)
        # The mask: the loader returns it as the weight, frame['mask'] = weight > 0.
        m = f[r["mask"]["key"]][()]
        check(m.shape == data.shape[1:], "mask (N, M)")
        w = (1 - m) if r["mask"]["invert"] else m
        check(np.array_equal(w > 0, ~truth.bad_pixels()), "mask: weight > 0 exactly at the good pixels")
        # The CXI mask with invert=True works too: 1 - mask in its own (unsigned) type stays 0/1.
        cxi_mask = f["entry_1/instrument_1/detector_1/mask"][()]
        check(np.array_equal((1 - cxi_mask) > 0, ~truth.bad_pixels()), "CXI mask with invert=True")
        for j, k in enumerate(indexes):
            frames_equal(data[j], truth, k, "ptypy intensities[%d]" % j)
            check(slow[j] == truth.y[k] and fast[j] == truth.x[k], "ptypy frame %d at the position of frame %d" % (j, k))
        beam_centred(np.mean(data[()], axis=0), "ptypy")


# --------------------------------------------------------------------------------------------------
# ptychodus 1.2: CXI readers, matcher, NPY bad pixels, settings.
# --------------------------------------------------------------------------------------------------
def ptychodus(output, truth):
    stem = output[:-4] if output.endswith(".cxi") else os.path.splitext(output)[0]
    indexes, attrs = roi_record(output)
    check_common_record(output, truth, attrs)
    with h5py.File(output, "r") as f:
        data = f["/entry_1/data_1/data"]
        check(isinstance(data, h5py.Dataset), "/entry_1/data_1/data is a dataset")
        num_patterns, height, width = data.shape  # the reader unpacks three dims
        distance = float(f["/entry_1/instrument_1/detector_1/distance"][()])
        pixel_w = float(f["/entry_1/instrument_1/detector_1/x_pixel_size"][()])
        pixel_h = float(f["/entry_1/instrument_1/detector_1/y_pixel_size"][()])
        energy_ev = float(f["/entry_1/instrument_1/source_1/energy"][()]) / ELECTRON_VOLT
        check(close(distance, truth.distance) and close(pixel_w, truth.pixel_x) and close(pixel_h, truth.pixel_y),
              "distance and pixel sizes")
        check(close(energy_ev, truth.energy_J / ELECTRON_VOLT, 1e-12), "energy %r eV" % energy_ev)
        pattern_indexes = np.arange(num_patterns)  # CXIDiffractionFileReader: indexes = arange
        xyz = f["/entry_1/data_1/translation"][()]
        positions = [(idx, x, y) for idx, (x, y, z) in enumerate(xyz)]  # CXIPositionFileReader
        # The matcher: common indexes, patterns taken by index value as row number, positions found
        # by a forward-only search (ascending indexes).
        common = sorted(set(pattern_indexes) & set(p[0] for p in positions))
        check(len(common) == num_patterns == len(positions), "every pattern has a position and none is dropped")
        patterns = np.take(data[()], common, axis=0)
        it = iter(positions)
        for row, index in enumerate(common):
            point = next(p for p in it if p[0] == index)
            k = indexes[row]
            frames_equal(patterns[row], truth, k, "ptychodus pattern %d" % index)
            check(point[1] == truth.x[k] and point[2] == truth.y[k],
                  "ptychodus pattern %d paired with frame %d's position" % (index, k))
        beam_centred(np.mean(data[()], axis=0), "ptychodus")
        # The assembled-patterns keys (batch diffraction.h5): /indexes are row numbers.
        check(isinstance(f["patterns"], h5py.Dataset) and f["patterns"].shape == data.shape, "/patterns")
        check(np.array_equal(f["indexes"][()], np.arange(num_patterns)), "/indexes = 0..K-1")
        bad = f["bad_pixels"][()]
        check(bad.ndim == 2 and np.array_equal(bad != 0, truth.bad_pixels()), "/bad_pixels, non-zero = bad")
    # The bad-pixel file: NPY_Bad_Pixels = numpy.load, True = bad, a 2-D map like the frames.
    npy = stem + "_bad_pixels.npy"
    with open(npy, "rb") as file:
        header = file.read(10)
    check(header[:8] == b"\x93NUMPY\x01\x00", ".npy version 1.0")
    bad = np.load(npy)
    check(bad.dtype == np.bool_ and bad.shape == (height, width), ".npy bool (N, M)")
    check(np.array_equal(bad, truth.bad_pixels()), ".npy True exactly at the bad pixels (%d)" % bad.sum())
    # The settings, read as ptychodus's configparser does (keys case-insensitive).
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(stem + "_ptychodus.ini")

    def boolean(text):  # BooleanParameter.set_value_from_string
        return text.lower() in ("1", "true", "t", "yes", "y")

    check(int(ini["Detector"]["WidthInPixels"]) == width and int(ini["Detector"]["HeightInPixels"]) == height,
          "INI detector extent")
    check(float(ini["Detector"]["PixelWidthInMeters"]) == pixel_w, "INI pixel width")
    check(float(ini["Detector"]["PixelHeightInMeters"]) == pixel_h, "INI pixel height")
    check(ini["Detector"]["BadPixelsFileType"] == "NPY_Bad_Pixels", "INI bad-pixel reader")
    check(os.path.samefile(ini["Detector"]["BadPixelsFilePath"], npy) and os.path.isabs(ini["Detector"]["BadPixelsFilePath"]),
          "INI bad-pixel file")
    for group in ("Diffraction", "ProbePositions"):
        check(ini[group]["FileType"] == "CXI", group + " FileType CXI")
        check(os.path.isabs(ini[group]["FilePath"]) and os.path.samefile(ini[group]["FilePath"], output),
              group + " FilePath")
    check(not boolean(ini["Diffraction"]["CropEnabled"]), "INI crop off")
    check(float(ini["Products"]["DetectorDistanceInMeters"]) == distance, "INI distance")
    check(close(float(ini["Products"]["ProbeEnergyInElectronVolts"]), energy_ev, 1e-15), "INI energy")


# --------------------------------------------------------------------------------------------------
# fold_slice / PtychoShelves: APS loaders with ptycho_recon's parameters.
# --------------------------------------------------------------------------------------------------
def foldslice(base_path, truth, scan_format, scan_number, roi_label, template_pixel):
    folder = base_path + (scan_format % scan_number)
    dp_file = folder + "/data_roi" + roi_label + "_dp.hdf5"  # get_filenames_aps.m
    para_file = folder + "/data_roi" + roi_label + "_para.hdf5"  # hdf5_pos.m
    check(os.path.exists(dp_file) and os.path.exists(para_file), "the loaders' file names: " + dp_file)
    indexes, attrs = roi_record(dp_file)
    check_common_record(dp_file, truth, attrs)
    with h5py.File(dp_file, "r") as f:
        dp = f["dp"]
        check(dp.dtype == np.dtype("<f4"), "/dp float32 (single): sqrt works, concatenation onto single([]) stays single")
        k_roi, n, m = dp.shape
        check(n == m and n <= 1024, "/dp frames Ndp x Ndp (eiger_APS geometry 1024)")
        stack = dp[()]
    # h5read reverses the dims: MATLAB A(c, r, k) = C[k][r][c]; orientation [1 0 0] (eiger_APS) is
    # permute(A, [2 1 3]), giving B(r, c, k) = C[k][r][c]: the frames as the input holds them.
    a = stack.transpose(2, 1, 0)
    b = a.transpose(1, 0, 2)
    with h5py.File(para_file, "r") as f:
        ppx = f["ppX"][()].flatten(order="F")
        ppy = f["ppY"][()].flatten(order="F")
    check(ppx.dtype == np.float64 and ppx.size == k_roi == ppy.size, "/ppX, /ppY: K values each")  # matlab_aps count check
    check(np.all(np.isfinite(stack)) and stack.min() >= 0, "/dp finite and >= 0")
    # positions_real = [-ppY, -ppX], negated again (ptycho_adjust_positions): (row, col) = (ppY, ppX) m.
    energy_kev = truth.energy_J / (1e3 * ELECTRON_VOLT)
    lam = 1.23984193e-9 / energy_kev  # initial_checks.m
    dx_spec = lam * truth.distance / (n * template_pixel)  # initialize_ptycho.m
    rows, cols = ppy / dx_spec, ppx / dx_spec
    rows, cols = rows - rows.min(), cols - cols.min()
    ty = truth.y[indexes] / dx_spec
    tx = truth.x[indexes] / dx_spec
    check(np.allclose(rows, ty - ty.min(), rtol=0, atol=1e-9) and np.allclose(cols, tx - tx.min(), rtol=0, atol=1e-9),
          "fold_slice positions (pixels) of every frame")
    for j, k in enumerate(indexes):
        frames_equal(b[:, :, j], truth, k, "fold_slice fmag frame %d" % j)
        check(ppx[j] == truth.x[k] and ppy[j] == truth.y[k], "fold_slice frame %d at frame %d's position" % (j, k))
    # fftshift_2D (p = ceil(m/2), idx = [p+1:m 1:p]) moves 0-based pixel N/2 to the corner: the beam
    # must be there before it.
    p = -(-n // 2)
    idx = np.r_[p:n, 0:p]
    check(idx[0] == n // 2, "fftshift_2D's first pixel is 0-based N/2")
    beam_centred(b.mean(axis=2), "fold_slice")
    # Bad pixels are 0 in /dp: the loader through ptycho_recon reads no mask.
    bad = truth.bad_pixels()
    check(np.all(stack[:, bad] == 0), "bad pixels 0 in /dp")


# --------------------------------------------------------------------------------------------------
# tike: the example's npz, Reconstruction's checks, check_allowed_positions.
# --------------------------------------------------------------------------------------------------
def tike_wavelength_m(energy_kev):
    # tike.constants.wavelength: 2 pi hbar c / E in cm (hbar in keV s, c in cm/s), /100 in io.py.
    return 2 * np.pi * 6.58211928e-19 * 2.99792458e10 / energy_kev / 100


def tike(output, truth):
    prefix = output[:-4] if output.endswith(".npz") else output
    npz = prefix + ".npz"
    indexes, attrs = roi_record(prefix + "_roi.h5")
    check_common_record(prefix + "_roi.h5", truth, attrs)
    check(zipfile.ZipFile(npz).testzip() is None, ".npz CRCs")
    d = np.load(npz)
    data = d["data"][0]
    scan = d["scan"][0]
    check(d["data"].shape[0] == 1 and d["scan"].shape[0] == 1, "a leading axis of 1 ([0] in the example)")
    check(data.ndim == 3 and data.shape[-2] == data.shape[-1], "data (K, N, N): square")
    check(data.shape[0] == scan.shape[0], "data.shape[0] == scan.shape[0]")
    check(data.dtype == np.float32, "data float32 (itemsize > 2 would be converted)")
    check(scan.dtype == np.float32 and scan.shape[1] == 2, "scan float32 (N, 2)")
    check(np.all(np.isfinite(data)) and data.min() >= 0, "data finite and >= 0")
    n = data.shape[-1]
    energy_kev = float(d["energy_keV"])
    check(close(energy_kev, truth.energy_J / (1e3 * ELECTRON_VOLT), 1e-12), "energy_keV")
    # position_units_to_pixels: pixel_per_meter = p N / (z lambda), tike's lambda (CODATA 2010 hbar).
    ppm = truth.pixel_x * n / (truth.distance * tike_wavelength_m(energy_kev))
    check(close(float(d["pixel_size_m"]), 1 / ppm, 1e-7), "pixel_size_m = lambda z / (N p)")
    check(close(float(d["pixel_size_m"]), truth.wavelength() * truth.distance / (n * truth.pixel_x)),
          "pixel_size_m (CODATA)")
    expected = np.stack([truth.y[indexes] * ppm, truth.x[indexes] * ppm], axis=1)
    expected = expected - np.floor(expected.min(axis=0)) + 1
    check(np.allclose(scan, expected, rtol=0, atol=2e-4), "scan (row, col) in object pixels, offset")
    s = np.floor(scan)
    check(np.array_equal(s.min(axis=0), [1, 1]), "floor(scan).min = (1, 1): check_allowed_positions' lower bound")
    psi = s.max(axis=0) - s.min(axis=0) + n + 2  # get_padded_object's object shape
    check(np.all(s.max(axis=0) <= psi - n - 1), "probe inside the object")
    padded = scan + 1 - np.floor(scan.min(axis=0))  # get_padded_object, in float32
    check(np.allclose(padded, scan, rtol=0, atol=1e-4), "get_padded_object leaves the scan where it is")
    for j, k in enumerate(indexes):
        frames_equal(np.fft.fftshift(data[j]), truth, k, "tike data[%d] (fftshift)" % j)
    check(np.array_equal(d["frame_indexes"], indexes), "frame_indexes")
    measured = d["measured_pixels"]
    check(measured.dtype == np.bool_ and measured.shape == (n, n), "measured_pixels bool (N, N)")
    check(np.array_equal(np.fft.fftshift(measured), ~truth.bad_pixels()),
          "measured_pixels True at the good pixels, corner layout")
    # The direct beam at the corner: at the centre once fftshift moves the corner there.
    beam_centred(np.fft.fftshift(data.mean(axis=0)), "tike (fftshift of the corner layout)")


# --------------------------------------------------------------------------------------------------
# Rank independence and the .npz writer.
# --------------------------------------------------------------------------------------------------
VARYING = ("ranks", "input_file")


def same(a, b):
    if a.endswith(".npz"):
        with open(a, "rb") as x, open(b, "rb") as y:
            check(x.read() == y.read(), "%s and %s are the same bytes" % (a, b))
        return
    fa, fb = h5py.File(a, "r"), h5py.File(b, "r")
    names_a, names_b = [], []
    fa.visit(names_a.append)
    fb.visit(names_b.append)
    check(names_a == names_b, "the same objects in %s and %s" % (a, b))
    for name in names_a:
        oa, ob = fa[name], fb[name]
        if isinstance(oa, h5py.Dataset):
            check(oa.dtype == ob.dtype and np.array_equal(oa[()], ob[()], equal_nan=oa.dtype.kind == "f"),
                  "dataset %s bitwise the same" % name)
        for key in oa.attrs:
            if key.startswith("time_") or key in VARYING:
                continue
            va, vb = oa.attrs[key], ob.attrs.get(key)
            check(vb is not None and np.array_equal(va, vb), "attribute %s of %s the same" % (key, name))


def npz_test_file(path):
    check(zipfile.ZipFile(path).testzip() is None, path + ": CRCs")
    d = np.load(path)
    data = d["data"]
    check(data.dtype == np.float32 and data.shape[1:] == (3, 5), path + ": data (K, 3, 5) float32")
    check(np.array_equal(data.reshape(-1), np.arange(data.size, dtype=np.float32)), path + ": every rank's part in place")
    check(float(d["scalar"]) == 2.5 and d["flags"].dtype == np.bool_ and list(d["flags"]) == [True, False, True],
          path + ": small members")


def make_inputs(scan, directory):
    """Inputs the formats' tests need besides the simulated ones, from the plain test scan:
    corner.h5  frames stored with zero frequency at the corner (numpy ifftshift), positions, a
               /pixel_mask (a bad row and column near the stored corner, as a detector gap would be),
               and the instrument as root attributes (energy_kev, detector_distance_m,
               detector_pixel_size_m)
    rect.h5    64 x 48 frames with positions (not square)
    nopos.h5   frames without positions (a --grid places them: no metres)"""
    os.makedirs(directory, exist_ok=True)
    with h5py.File(scan, "r") as f:
        frames, x, y = f["data"][()], f["positions_x"][()], f["positions_y"][()]
        attrs = dict(f.attrs)
    with h5py.File(os.path.join(directory, "corner.h5"), "w") as f:
        f["data"] = np.fft.ifftshift(frames, axes=(1, 2))
        f["positions_x"], f["positions_y"] = x, y
        mask = np.zeros(frames.shape[1:], np.uint32)
        mask[3, :] = 1
        mask[:, 60] = 1
        f["pixel_mask"] = mask
        for key in ("step_pixels", "pixel_size_m"):
            f.attrs[key] = attrs[key]
        f.attrs["energy_kev"], f.attrs["detector_distance_m"], f.attrs["detector_pixel_size_m"] = 8.0, 1.5, 55e-6
    with h5py.File(os.path.join(directory, "rect.h5"), "w") as f:
        f["data"] = frames[:, :, 8:56]
        f["positions_x"], f["positions_y"] = x, y
    with h5py.File(os.path.join(directory, "nopos.h5"), "w") as f:
        f["data"] = frames


def check_summary(path, truth):
    """The JSON summary: scan_step_m (the raster's spacing) and the instrument."""
    import json
    with open(path) as file:
        summary = json.load(file)
    if truth.step_m is not None:
        check(close(summary["scan_step_m"], truth.step_m, 1e-9),
              "summary scan_step_m %r = %r" % (summary["scan_step_m"], truth.step_m))
    if truth.energy_J is not None:
        check(close(summary["instrument"]["energy_keV"], truth.energy_J / (1e3 * ELECTRON_VOLT), 1e-12),
              "summary energy_keV")
        check(close(summary["instrument"]["distance_m"], truth.distance), "summary distance_m")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=["ptypy", "ptychodus", "foldslice", "tike", "same", "npz", "make-inputs"])
    parser.add_argument("output")
    parser.add_argument("other", nargs="?")
    parser.add_argument("--input")
    parser.add_argument("--positions")
    parser.add_argument("--positions-scale", type=float, default=1.0)
    parser.add_argument("--crop", type=int, default=0)
    parser.add_argument("--beam-center")
    parser.add_argument("--max-valid", type=float)
    parser.add_argument("--no-file-mask", action="store_true")
    parser.add_argument("--fftshift", action="store_true")
    parser.add_argument("--energy", type=float)
    parser.add_argument("--distance", type=float)
    parser.add_argument("--pixel-size", type=float)
    parser.add_argument("--scan-format", default="%d")
    parser.add_argument("--scan-number", type=int, default=1)
    parser.add_argument("--roi-label", default="0")
    parser.add_argument("--template-pixel", type=float, default=75e-6)  # eiger_APS
    parser.add_argument("--summary", help="also check this JSON summary")
    args = parser.parse_args()
    if args.client == "make-inputs":
        make_inputs(args.output, args.other)
        return 0
    if args.client == "same":
        same(args.output, args.other)
    elif args.client == "npz":
        npz_test_file(args.output)
    else:
        truth = Input(args)
        if args.client == "ptypy":
            ptypy(args.output, truth)
        elif args.client == "ptychodus":
            ptychodus(args.output, truth)
        elif args.client == "foldslice":
            foldslice(args.output, truth, args.scan_format, args.scan_number, args.roi_label, args.template_pixel)
        else:
            tike(args.output, truth)
        if args.summary:
            check_summary(args.summary, truth)
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    print("client_rules %s: every check passed" % args.client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
