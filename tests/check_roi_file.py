#!/usr/bin/env python3
"""check_roi_file.py OUTPUT INPUT: a committed CXI RoI file is complete and consistent.

/roi/mask sums to the roi_frames attribute, /roi/indexes lists exactly the masked frames, and
/entry_1/data_1/data holds, in order, the input's frames at those indexes (the crop window, if
any), bit for bit. Prints one line; exit status 0 when consistent, 1 otherwise. Uses h5py
(Debian's python3-h5py, serial HDF5).
"""
import sys

import h5py
import numpy as np


def main(output, source):
    with h5py.File(output, "r") as out, h5py.File(source, "r") as inp:
        roi = out["/roi"]
        mask = roi["mask"][...]
        indexes = roi["indexes"][...]
        roi_frames = int(roi.attrs["roi_frames"])
        frames = int(roi.attrs["frames"])
        problems = []
        if mask.shape != (frames,):
            problems.append(f"/roi/mask has shape {mask.shape}, expected ({frames},)")
        if int(mask.astype(np.int64).sum()) != roi_frames:
            problems.append(f"/roi/mask sums to {int(mask.sum())} but roi_frames = {roi_frames}")
        if not np.array_equal(np.flatnonzero(mask), indexes):
            problems.append("/roi/indexes are not the frames /roi/mask selects")
        patterns = out["/entry_1/data_1/data"]
        if patterns.shape[0] != roi_frames:
            problems.append(f"{patterns.shape[0]} patterns for {roi_frames} RoI frames")
        dataset = roi.attrs["input_dataset"]
        dataset = dataset.decode() if isinstance(dataset, bytes) else str(dataset)
        row0, col0, rows, cols = (int(v) for v in roi.attrs["frame_window"])
        stack = inp[dataset]
        for i, k in enumerate(indexes[: patterns.shape[0]]):
            frame = stack[int(k)]
            if rows > 0:
                frame = frame[row0 : row0 + rows, col0 : col0 + cols]
            if not np.array_equal(patterns[i], frame):
                problems.append(f"pattern {i} differs from input frame {k}")
                break
        if problems:
            print(f"{output}: " + "; ".join(problems))
            return 1
        print(f"{output}: consistent ({roi_frames} of {frames} frames, patterns equal the input frames)")
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
