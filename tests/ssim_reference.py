#!/usr/bin/python3
"""Independent SSIM values for the C++ implementation's test (tests/test_ssim.cpp).

The images in tests/data/ssim/ are fixed text files (first line "# rows cols", then one row per
line); cases.txt lists the pairs and their data range. expected.txt holds scikit-image's
structural_similarity for each case with the settings of Wang et al. 2004:
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, K1=0.01, K2=0.03, data_range as listed.

    tests/ssim_reference.py --check DIR      recompute with scikit-image, compare with DIR/expected.txt
    tests/ssim_reference.py --write DIR      (re)write DIR/expected.txt from scikit-image
    tests/ssim_reference.py --generate DIR   (re)write the images and cases.txt (deterministic)

Needs Debian's python3-numpy and python3-skimage (run with /usr/bin/python3).
"""
import argparse
import pathlib
import sys

import numpy as np

TOLERANCE = 1e-12  # skimage now vs the stored values: the same library, so only rounding may differ


def load_image(path):
    with open(path) as f:
        header = f.readline().split()
        if len(header) != 3 or header[0] != "#":
            raise SystemExit(f"{path}: expected a first line '# rows cols'")
        rows, cols = int(header[1]), int(header[2])
        values = np.loadtxt(f, dtype=np.float64, ndmin=2)
    if values.shape != (rows, cols):
        raise SystemExit(f"{path}: header says {rows}x{cols}, found {values.shape}")
    return values


def save_image(path, image):
    with open(path, "w") as f:
        f.write(f"# {image.shape[0]} {image.shape[1]}\n")
        for row in image:
            f.write(" ".join(f"{v:.6f}" for v in row) + "\n")


def read_cases(directory):
    cases = []
    for line in (directory / "cases.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, first, second, data_range = line.split()
        cases.append((name, first, second, float(data_range)))
    return cases


def skimage_ssim(a, b, data_range):
    from skimage.metrics import structural_similarity

    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 K1=0.01, K2=0.03, data_range=data_range)


def blobs(rng, rows, cols, count):
    """Smooth phase-like image: Gaussian blobs of random size, height and sign."""
    y, x = np.mgrid[0:rows, 0:cols]
    image = np.zeros((rows, cols))
    for _ in range(count):
        cy, cx = rng.uniform(0, rows), rng.uniform(0, cols)
        width = rng.uniform(2.0, 7.0)
        image += rng.uniform(-0.4, 1.2) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2))
    return image


def generate(directory):
    rng = np.random.RandomState(20040601)  # legacy generator: the same numbers on every numpy
    directory.mkdir(parents=True, exist_ok=True)
    rows, cols = 40, 52
    a = blobs(rng, rows, cols, 9)
    images = {
        "blobs_a": a,
        "blobs_a_noisy": a + rng.normal(0.0, 0.05, a.shape),
        "blobs_a_shifted": np.roll(a, 1, axis=1),
        "blobs_b": blobs(rng, rows, cols, 9),
        "uniform_a": rng.uniform(0.0, 1.0, (rows, cols)),
        "uniform_b": rng.uniform(0.0, 1.0, (rows, cols)),
        "ramp": np.add.outer(np.linspace(-0.8, 0.3, rows), np.linspace(0.0, 0.5, cols)),
        "tiny_a": rng.uniform(-1.0, 1.0, (11, 11)),
        "tiny_b": rng.uniform(-1.0, 1.0, (11, 11)),
        "flat": np.full((rows, cols), 0.25),
    }
    images["ramp_noisy"] = images["ramp"] + rng.normal(0.0, 0.02, (rows, cols))
    for name, image in images.items():
        save_image(directory / f"{name}.txt", image)
    (directory / "cases.txt").write_text(
        "# name first second data_range  (images: <name>.txt in this directory)\n"
        "identical blobs_a blobs_a 1.6\n"
        "noisy blobs_a blobs_a_noisy 1.6\n"
        "shifted blobs_a blobs_a_shifted 1.6\n"
        "different blobs_a blobs_b 1.6\n"
        "uniform_noise uniform_a uniform_b 1.0\n"
        "ramp_noisy ramp ramp_noisy 1.6\n"
        "ramp_wide_range ramp ramp_noisy 2.0\n"
        "flat_vs_blobs flat blobs_a 1.6\n"
        "tiny tiny_a tiny_b 2.0\n")


def compute(directory):
    return [(name, skimage_ssim(load_image(directory / f"{first}.txt"), load_image(directory / f"{second}.txt"),
                                data_range))
            for name, first, second, data_range in read_cases(directory)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", action="store_true")
    group.add_argument("--generate", action="store_true")
    parser.add_argument("directory", type=pathlib.Path)
    args = parser.parse_args()
    try:
        import skimage
    except ImportError:
        sys.exit("ssim_reference: error: scikit-image is missing (apt-get install python3-skimage; "
                 "run with /usr/bin/python3)")
    if args.generate:
        generate(args.directory)
        return
    values = compute(args.directory)
    expected_path = args.directory / "expected.txt"
    if args.write:
        with open(expected_path, "w") as f:
            f.write(f"# name ssim  (scikit-image {skimage.__version__} structural_similarity, gaussian_weights=True,"
                    " sigma=1.5, use_sample_covariance=False, K1=0.01, K2=0.03)\n")
            for name, value in values:
                f.write(f"{name} {value!r}\n")
        return
    stored = {}
    for line in expected_path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split()
            stored[name] = float(value)
    worst = 0.0
    for name, value in values:
        if name not in stored:
            sys.exit(f"ssim_reference: error: case {name} is missing from {expected_path}")
        difference = abs(value - stored[name])
        worst = max(worst, difference)
        print(f"{name:16s} skimage {value:.15f}  stored {stored[name]:.15f}  |diff| {difference:.1e}")
    print(f"scikit-image {skimage.__version__}: largest difference from the stored values {worst:.1e}"
          f" (tolerance {TOLERANCE:.0e})")
    if worst > TOLERANCE:
        sys.exit(1)


if __name__ == "__main__":
    main()
