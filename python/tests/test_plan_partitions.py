"""Fine-scan plans, partitions and border="auto" from Python (issue 17): known answers on rasters
small enough to count by hand, and the same numbers as the ptyroi program's files.

ctest runs this with PTYROI_TEST_OUTDIR, where the plan tests left plan_fly.h5 (a simulated fly
scan, 10 keV, 75 um pixels) and the program's run on it on 2 ranks: plan_fly_roi.h5 (--border auto
--partitions 8), plan_fly_plan.csv (--plan-step 2.5e-8) and plan_fly.json.
"""
import json
import math
import os

import numpy as np
import pytest

import ptyroi

OUT = os.environ.get("PTYROI_TEST_OUTDIR", "")
H = 2.5e-8  # the fine step of the plan tests


def raster(rows, cols, step=1e-7):
    cells = np.arange(rows * cols)
    return (cells % cols) * step, (cells // cols) * step


def test_raster_plan_of_a_rectangle_counted_by_hand():
    # 10 x 12 raster of 100 nm, RoI the 4 x 5 cells at rows 3..6, columns 2..6: at 25 nm, 16 points
    # per cell in 16 rows of 20, visited in serpentine rows: 16 x 19 steps along, 15 steps up.
    x, y = raster(10, 12)
    r, c = np.divmod(np.arange(120), 12)
    mask = (r >= 3) & (r <= 6) & (c >= 2) & (c <= 6)
    plan = ptyroi.plan_fine_scan(x, y, mask, H)
    assert plan.points == 320 and plan.field_points == 1920 and plan.pieces == 1
    assert plan.share == pytest.approx(1 / 6)
    assert np.all((plan.x > 2e-7 - 5e-8) & (plan.x < 6e-7 + 5e-8) & (plan.y > 3e-7 - 5e-8) & (plan.y < 6e-7 + 5e-8))
    assert plan.path_length == pytest.approx((16 * 19 + 15) * H, rel=1e-12)
    assert plan.typewriter_path_length == pytest.approx(16 * 19 * H + 15 * math.hypot(19 * H, H), rel=1e-12)
    steps = np.hypot(np.diff(plan.x), np.diff(plan.y))
    np.testing.assert_allclose(steps, H, rtol=1e-9)  # every move one step
    spiral = ptyroi.plan_fine_scan(x, y, mask, H, pattern="spiral")
    assert abs(spiral.points - 320) <= 0.03 * 320
    assert np.all((spiral.x > 1.5e-7) & (spiral.x < 6.5e-7) & (spiral.y > 2.5e-7) & (spiral.y < 6.5e-7))


def test_partitions_of_a_full_raster_are_its_quadrants():
    # 20 x 30 raster, all RoI, 4 parts: cut across x at column 15, then each half across y at row 10.
    x, y = raster(20, 30)
    r, c = np.divmod(np.arange(600), 30)
    parts = ptyroi.partition_roi(x, y, np.ones(600), 4, halo=1e-7)
    np.testing.assert_array_equal(parts.labels, (c >= 15) * 2 + (r >= 10))
    np.testing.assert_array_equal(parts.sizes, [150] * 4)
    # Partition 0's halo within one step: column 15 beside it and row 10 below it (not the diagonal).
    expected = np.flatnonzero(((c == 15) & (r < 10)) | ((r == 10) & (c < 15)))
    np.testing.assert_array_equal(parts.halo[0], expected)
    np.testing.assert_array_equal(parts.frames(0), np.union1d(parts.core[0], expected))
    # Default halo: 2 steps.
    assert ptyroi.partition_roi(x, y, np.ones(600), 4).halo_distance == pytest.approx(2e-7)


def test_refusals_name_what_is_missing():
    x, y = raster(4, 5)
    with pytest.raises(ptyroi.UsageError, match="--partitions 30 needs at least as many RoI frames"):
        ptyroi.partition_roi(x, y, np.ones(20), 30)
    with pytest.raises(ptyroi.UsageError, match="--plan-pattern 'zigzag'"):
        ptyroi.plan_fine_scan(x, y, np.ones(20), H, pattern="zigzag")
    with pytest.raises(ptyroi.UsageError, match="one value per frame"):
        ptyroi.plan_fine_scan(x, y, np.ones(3), H)
    frames = np.ones((20, 8, 8), np.uint16)
    with pytest.raises(ptyroi.UsageError, match="border='auto' needs the energy: give energy=KEV"):
        ptyroi.find_roi(frames, x, y, border="auto")
    with pytest.raises(ptyroi.UsageError, match="border 'two'"):
        ptyroi.find_roi(frames, x, y, border="two")


@pytest.fixture(scope="module")
def fly():
    path = os.path.join(OUT, "plan_fly.h5")
    if not os.path.exists(path):
        pytest.skip("the plan tests' fly scan is not there (ctest -L plan makes it)")
    stack = ptyroi.read_frames(path)
    import h5py
    with h5py.File(path, "r") as f:
        x, y = f["positions_x"][()], f["positions_y"][()]
    return ptyroi.find_roi(stack, x, y, border="auto", energy=10, distance=_distance(path), pixel_size=75e-6)


def _distance(path):
    import h5py
    with h5py.File(path, "r") as f:
        return float(f.attrs["detector_distance_m"])


def test_border_auto_plan_and_partitions_match_the_program(fly):
    record = ptyroi.read_record(os.path.join(OUT, "plan_fly_roi.h5"))
    with open(os.path.join(OUT, "plan_fly.json")) as f:
        summary = json.load(f)
    # The same probe, border and RoI as the program on 2 ranks.
    assert fly.probe["probe_radius_m"] == summary["probe"]["probe_radius_m"]
    assert fly.border == summary["probe"]["border_steps"] == summary["parameters"]["border_steps"]
    np.testing.assert_array_equal(fly.mask, record["mask"])
    # The same plan as its CSV (written with 10 significant digits).
    csv = np.loadtxt(os.path.join(OUT, "plan_fly_plan.csv"), delimiter=",", comments="#", skiprows=5)
    plan = fly.plan(H)
    assert plan.points == len(csv) == summary["plan"]["points"]
    np.testing.assert_allclose(plan.x, csv[:, 0], rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(plan.y, csv[:, 1], rtol=1e-9, atol=1e-18)
    assert plan.share == pytest.approx(summary["plan"]["share_of_field"], rel=1e-12)
    # The same partitions as /roi/partition.
    parts = fly.partitions(8)
    np.testing.assert_array_equal(parts.labels, record["partition"])
    for p in range(8):
        np.testing.assert_array_equal(parts.core[p], record["partition_core"][p])
        np.testing.assert_array_equal(parts.halo[p], record["partition_halo"][p])
    part = ptyroi.read_record(os.path.join(OUT, "plan_fly_roi_part3.h5"))
    assert part["partition_index"] == 3
    np.testing.assert_array_equal(part["indexes"], parts.frames(3))
    np.testing.assert_array_equal(part["partition_core_rows"], parts.labels[part["indexes"]] == 3)
