"""The Python module against known answers and against the ptyroi program (same numbers).

ctest runs this with PTYROI_TEST_SCAN (the simulated 23 x 31 scan) and PTYROI_TEST_OUTDIR, where
the e2e tests left the program's outputs e2e_n1.h5/.json (1 rank) and e2e_n2.h5 (2 ranks) made with
--grid 23x31 --border 2 --block-frames 16.
"""
import json
import os
import subprocess

import numpy as np
import pytest

import ptyroi

ROWS, COLS, N = 12, 16, 8


def rectangle_scan(dtype=np.uint16):
    """Frames of a 12 x 16 raster; those in rows 3..7, columns 5..10 absorb (darker). Every value
    fits in uint8 and float16 exactly, so every dtype holds the same numbers."""
    frames = np.full((ROWS * COLS, N, N), 200, dtype=np.int64)
    inside = np.zeros(ROWS * COLS, bool)
    near = np.zeros(ROWS * COLS, bool)
    for k in range(ROWS * COLS):
        r, c = divmod(k, COLS)
        inside[k] = 3 <= r < 8 and 5 <= c < 11
        near[k] = 2 <= r < 9 and 4 <= c < 12
        if inside[k]:
            frames[k] = 80
    frames += (np.arange(N * N) % 7).reshape(N, N)
    return frames.astype(dtype), inside, near


def test_rectangle_is_found_within_one_step():
    frames, inside, near = rectangle_scan()
    result = ptyroi.find_roi(frames, grid=(ROWS, COLS))
    assert result.mask.dtype == np.uint8 and result.mask.shape == (ROWS * COLS,)
    assert np.all(result.mask[inside] == 1), "every absorbing frame is in the RoI"
    assert np.all(near[result.mask == 1]), "the 3x3 smoothing spreads the RoI by at most one step"
    assert result.roi_frames == int(result.mask.sum()) == len(result.indexes)
    np.testing.assert_array_equal(result.total_intensity, frames.reshape(len(frames), -1).sum(axis=1))
    # The border grows the RoI by one 3x3 dilation per step (a raster).
    grown = ptyroi.find_roi(frames, grid=(ROWS, COLS), border=1)
    before = result.mask.reshape(ROWS, COLS).astype(bool)
    dilated = np.zeros_like(before)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            shifted = np.zeros_like(before)
            shifted[max(dr, 0):ROWS + min(dr, 0), max(dc, 0):COLS + min(dc, 0)] = \
                before[max(-dr, 0):ROWS - max(dr, 0), max(-dc, 0):COLS - max(dc, 0)]
            dilated |= shifted
    np.testing.assert_array_equal(grown.mask.reshape(ROWS, COLS).astype(bool), dilated)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int16, np.int32, np.int64,
                                   np.float32, np.float64, ">u4", "<i8", np.float16])
def test_every_dtype_gives_the_same_answer(dtype):
    frames, _, _ = rectangle_scan(np.uint16)
    reference = ptyroi.find_roi(frames, grid=(ROWS, COLS))
    result = ptyroi.find_roi(frames.astype(dtype), grid=(ROWS, COLS))
    np.testing.assert_array_equal(result.mask, reference.mask)
    np.testing.assert_array_equal(result.total_intensity, reference.total_intensity)
    np.testing.assert_array_equal(result.com_x, reference.com_x)


def test_leading_singleton_axis_and_mask_and_positions():
    frames, inside, _ = rectangle_scan()
    ys, xs = np.divmod(np.arange(ROWS * COLS), COLS)
    by_grid = ptyroi.find_roi(frames, grid=(ROWS, COLS))
    by_positions = ptyroi.find_roi(frames[np.newaxis], x=xs * 1e-6, y=ys * 1e-6)
    np.testing.assert_array_equal(by_grid.mask, by_positions.mask)
    assert by_positions.neighbourhood.startswith("raster 12x16")
    # A mask that hides every pixel but one column: features from that column only.
    bad = np.ones((N, N), np.float32)
    bad[:, 3] = 0.0
    masked = ptyroi.find_roi(frames, grid=(ROWS, COLS), mask=bad)
    np.testing.assert_array_equal(masked.total_intensity, frames[:, :, 3].sum(axis=1))


def test_errors_keep_their_category():
    frames, _, _ = rectangle_scan()
    with pytest.raises(ptyroi.UsageError, match="border 40 reaches beyond"):
        ptyroi.find_roi(frames, grid=(ROWS, COLS), border=40)
    with pytest.raises(ptyroi.UsageError, match="has 25 cells"):
        ptyroi.find_roi(frames, grid=(5, 5))
    with pytest.raises(ptyroi.InputError, match="has signal"):
        ptyroi.find_roi(np.zeros_like(frames), grid=(ROWS, COLS))
    with pytest.raises(ptyroi.Error):
        ptyroi.find_roi(np.zeros((4, 4), np.uint16), grid=(2, 2))
    assert issubclass(ptyroi.InputError, ptyroi.Error)


def scan_and_outputs():
    scan, outdir = os.environ.get("PTYROI_TEST_SCAN"), os.environ.get("PTYROI_TEST_OUTDIR")
    if not scan or not outdir or not os.path.exists(os.path.join(outdir, "e2e_n2.h5")):
        pytest.skip("needs the ctest fixtures (PTYROI_TEST_SCAN, the e2e outputs)")
    return scan, outdir


def test_same_numbers_as_the_program():
    scan, outdir = scan_and_outputs()
    frames = ptyroi.read_frames(scan)
    assert frames.shape == (23 * 31, 64, 64) and frames.dtype == np.uint32
    result = ptyroi.find_roi(frames, grid=(23, 31), border=2, block_frames=5)
    for ranks in (1, 2):
        record = ptyroi.read_record(os.path.join(outdir, f"e2e_n{ranks}.h5"))
        np.testing.assert_array_equal(result.mask, record["mask"])
        np.testing.assert_array_equal(result.indexes, record["indexes"])
        for name in ("total_intensity", "com_x", "com_y", "com_magnitude", "absorption_map", "scattering_map"):
            np.testing.assert_array_equal(getattr(result, name), record[name], err_msg=name)  # bitwise, NaN = NaN
    with open(os.path.join(outdir, "e2e_n1.json")) as f:
        summary = json.load(f)
    assert result.roi_frames == summary["roi_frames"]
    assert list(result.absorption["centroids"]) == summary["absorption"]["centroids"]


def test_run_on_a_file_with_the_programs_options(tmp_path):
    scan, outdir = scan_and_outputs()
    output = tmp_path / "roi.h5"
    summary = ptyroi.run(["--input", scan, "--grid", "23x31", "--border", "2", "--output", str(output)])
    record = ptyroi.read_record(str(output))
    np.testing.assert_array_equal(record["mask"], ptyroi.read_record(os.path.join(outdir, "e2e_n1.h5"))["mask"])
    assert summary["roi_frames"] == int(record["mask"].sum())
    with pytest.raises(ptyroi.UsageError, match="already exists"):
        ptyroi.run(f"--input {scan} --grid 23x31 --output {output}")
    with pytest.raises(ptyroi.UsageError):
        ptyroi.run(["--input", scan, "--frobnicate"])


def test_import_in_a_new_python_process():
    """`python3 -c "import ptyroi"` as a user would type it (the module found by its path hook)."""
    completed = subprocess.run(["python3", "-c", "import ptyroi, numpy; print(ptyroi.__version__)"],
                               capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                                   if k != "PYTHONPATH"})
    if completed.returncode != 0 and "No module named 'ptyroi'" in completed.stderr and \
            not os.environ.get("PTYROI_REQUIRE_PATH_HOOK"):
        pytest.skip("ptyroi is not on this python3's path (tools/build.sh puts it there)")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == ptyroi.__version__


def test_zero_frequency_at_the_corner_is_detected_on_a_real_scan():
    """The real APS spiral scan (512 x 512 frames, an annular beam, cross-shaped module gaps) and the
    same frames stored as numpy.fft.ifftshift of themselves: the default fftshift="auto" detects
    each and finds the same features and RoI."""
    real = os.environ.get("PTYROI_REAL_DATA", "")
    path = os.path.join(real, "aps-spiral", "test235.h5")
    if not os.path.exists(path):
        pytest.skip(f"the real files are not at {real or '(PTYROI_REAL_DATA unset)'}")
    frames = ptyroi.read_frames(path)
    # Any positions do: both runs get the same (a small zig-zag, so the scan covers an area).
    x = np.arange(len(frames), dtype=float) * 1e-7
    y = (np.arange(len(frames)) % 5) * 1e-7
    centred = ptyroi.find_roi(frames, x, y, border=1)
    shifted = ptyroi.find_roi(np.fft.ifftshift(frames, axes=(1, 2)), x, y, border=1)
    assert centred.zero_frequency.startswith("detected at the centre"), centred.zero_frequency
    assert shifted.zero_frequency.startswith("detected at the corner"), shifted.zero_frequency
    assert shifted.fftshift and not centred.fftshift
    np.testing.assert_array_equal(shifted.mask, centred.mask)
    np.testing.assert_array_equal(shifted.total_intensity, centred.total_intensity)
    np.testing.assert_array_equal(shifted.com_x, centred.com_x)
    np.testing.assert_array_equal(shifted.com_y, centred.com_y)
    # Told the wrong layout, the centres of mass are those of a different picture.
    wrong = ptyroi.find_roi(np.fft.ifftshift(frames, axes=(1, 2)), x, y, border=1, fftshift=False)
    assert not np.allclose(wrong.com_x, centred.com_x)


def test_follow_an_acquisition_gives_the_batch_result(tmp_path):
    """--follow through run(): a SWMR file written frame block by frame block by another process
    (tests/follow_writer.py); the final record equals a batch run's on the finished file."""
    source = os.environ.get("PTYROI_TEST_SCAN")
    if not source:
        pytest.skip("PTYROI_TEST_SCAN not set")
    import sys
    writer = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "follow_writer.py")
    live = str(tmp_path / "live.h5")
    played = subprocess.Popen([sys.executable, writer, "swmr", source, live, "--frames-per-step", "60",
                               "--delay", "0.1"], stdout=subprocess.DEVNULL)
    try:
        summary = ptyroi.run(["--follow", "--input", live, "--border", "2", "--update-every", "0.3",
                              "--idle-timeout", "3", "--output", str(tmp_path / "live_roi.h5"),
                              "--summary", str(tmp_path / "live_roi.json")])
    finally:
        assert played.wait(timeout=60) == 0
    assert summary["follow"]["state"] == "done" and summary["follow"]["frames_done"] == summary["frames"]
    assert summary["follow"]["updates"] >= 2
    ptyroi.run(["--input", live, "--border", "2", "--output", str(tmp_path / "batch_roi.h5")])
    followed, batch = ptyroi.read_record(str(tmp_path / "live_roi.h5")), ptyroi.read_record(str(tmp_path / "batch_roi.h5"))
    for key in ("mask", "indexes", "total_intensity", "com_x", "com_y", "absorption_map", "scattering_map"):
        assert np.asarray(followed[key]).tobytes() == np.asarray(batch[key]).tobytes(), key
