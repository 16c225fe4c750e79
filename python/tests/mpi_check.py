"""Under mpiexec with mpi4py: find_roi on MPI.COMM_WORLD — from the whole stack on every rank, and
from each rank's own part only — equals the one-process result (MPI.COMM_SELF) bitwise.
Usage: mpiexec -n P python3 mpi_check.py"""
import sys

import numpy as np
from mpi4py import MPI

import ptyroi

comm = MPI.COMM_WORLD
rng = np.random.default_rng(7)
rows, cols, n = 17, 19, 16
frames = rng.poisson(200.0, size=(rows * cols, n, n)).astype(np.uint32)
frames[40:90] //= 3          # an absorbing band
frames[150:160, 4:9, 10:14] += 500  # scattering: a shifted centre of mass
alone = ptyroi.find_roi(frames, grid=(rows, cols), border=1, comm=MPI.COMM_SELF)
shared = ptyroi.find_roi(frames, grid=(rows, cols), border=1, comm=comm)
begin, end = ptyroi.partition(len(frames), comm.size, comm.rank)
part = ptyroi.find_roi(frames[begin:end], grid=(rows, cols), border=1, first_frame=begin, total_frames=len(frames),
                       comm=comm)
failures = []
for name in ("mask", "total_intensity", "com_x", "com_y", "com_magnitude", "absorption_map", "scattering_map"):
    for label, result in (("whole stack", shared), ("own part", part)):
        if not np.array_equal(getattr(alone, name), getattr(result, name), equal_nan=True):
            failures.append(f"{name} ({label})")
if shared.ranks != comm.size or alone.ranks != 1:
    failures.append("ranks")
failures = comm.allgather(failures)
if comm.rank == 0:
    bad = sorted({f for rank in failures for f in rank})
    print(f"mpi_check on {comm.size} ranks: RoI {alone.roi_frames} of {alone.frames} frames; "
          + ("identical to one process" if not bad else "DIFFERENT: " + ", ".join(bad)))
sys.exit(1 if any(failures) else 0)
