"""ptyroi: the region of interest of an X-ray ptychography scan from its diffraction patterns.

Lin, Jiang, Deng & Di, "Physics-inspired unsupervised classification for region of interest in
X-ray ptychography". The same C++ library as the ``ptyroi`` program, so the same numbers:

>>> import numpy as np, ptyroi
>>> result = ptyroi.find_roi(frames, grid=(85, 188), border=2)   # frames: [K, N, M] numpy array
>>> result.mask            # uint8 [K], 1 = frame in the region of interest
>>> ptyroi.run(["--input", "scan.h5", "--border", "2", "--output", "scan_roi.h5"])  # as the program

Plain ``python3`` runs on one process; under ``mpiexec`` with mpi4py every rank calls the same
function with the same arguments (``comm=MPI.COMM_WORLD`` by default) and the frames are shared
among the ranks (each needs only its own part: see ``partition``).
"""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _ptyroi
from ._ptyroi import Error, InputError, InternalError, IoError, UsageError  # noqa: F401

__version__ = _ptyroi.version
__all__ = ["find_roi", "run", "read_frames", "read_record", "partition", "plan_fine_scan", "partition_roi",
           "RoiResult", "FineScanPlan", "Partitions", "Error", "UsageError", "InputError", "IoError",
           "InternalError", "__version__"]


def _comm_handle(comm):
    """An mpi4py communicator as the Fortran handle the C++ side turns back into an MPI_Comm."""
    if comm is None:
        return None
    try:
        return int(comm.py2f())
    except AttributeError as error:
        raise UsageError("comm must be an mpi4py communicator (e.g. MPI.COMM_WORLD)") from error


def _as_frames(frames) -> np.ndarray:
    """[K, N, M] (or with leading singleton axes), C order, native byte order, a supported dtype."""
    array = np.asarray(frames)
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise UsageError(f"frames must be a [K, N, M] array, got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    elif array.dtype.kind == "f" and array.dtype.itemsize < 4:
        array = array.astype(np.float32)
    elif array.dtype.kind not in "uif":
        raise UsageError(f"frames of dtype {array.dtype}: expected integers or floats")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return np.ascontiguousarray(array)


@dataclass
class FineScanPlan:
    """A fine scan of the RoI region (see plan_fine_scan): x, y in metres, in visiting order."""

    x: np.ndarray
    y: np.ndarray
    step: float
    pattern: str
    field_points: int             # a fine raster at `step` over the whole coarse field
    pieces: int                   # raster: connected pieces of the region
    path_length: float            # of the visiting order, metres
    typewriter_path_length: float  # of the same points in typewriter rows

    @property
    def points(self) -> int:
        return len(self.x)

    @property
    def share(self) -> float:
        """points / field_points: the fine scan next to a fine raster over the coarse field."""
        return self.points / self.field_points if self.field_points else 0.0


@dataclass
class Partitions:
    """The RoI frames in `parts` compact groups of equal size (see partition_roi).

    labels: int32 [K], each frame's partition, -1 outside the RoI; core[p], halo[p]: partition p's
    frames and its halo (the RoI frames of other partitions within halo_distance), ascending."""

    labels: np.ndarray
    core: List[np.ndarray]
    halo: List[np.ndarray]
    halo_distance: float

    @property
    def parts(self) -> int:
        return len(self.core)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(c) for c in self.core])

    def frames(self, part: int) -> np.ndarray:
        """Partition `part`'s frames with its halo, ascending: what its worker reconstructs."""
        return np.union1d(self.core[part], self.halo[part])


def _positions(x, y, mask):
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    m = (np.asarray(mask).ravel() != 0).astype(np.uint8)
    return xs.tolist(), ys.tolist(), m.tolist()


def plan_fine_scan(x, y, mask, step: float, *, pattern: str = "raster", scan: str = "auto",
                   grid: Optional[Tuple[int, int]] = None) -> FineScanPlan:
    """A fine scan at `step` (metres) of the RoI region of a coarse scan: x, y its positions in
    metres, mask its RoI (1 = in). The region is the union of the RoI frames' cells (a raster's
    grid cells; for other scans the Voronoi cells within the scan's field), as ``ptyroi --plan``.
    pattern: "raster" (serpentine rows) or "spiral" (from the centre outward)."""
    xs, ys, m = _positions(x, y, mask)
    grid_shape = None if grid is None else (int(grid[0]), int(grid[1]))
    return FineScanPlan(**_ptyroi.plan_fine_scan(xs, ys, m, float(step), str(pattern), str(scan), grid_shape))


def partition_roi(x, y, mask, parts: int, *, halo: Optional[float] = None, scan: str = "auto",
                  grid: Optional[Tuple[int, int]] = None) -> Partitions:
    """The RoI frames (mask != 0) at positions x, y split into `parts` compact groups of equal size
    (recursive coordinate bisection), each with the RoI frames of the others within `halo` (the
    positions' unit; default 2 scan steps), as ``ptyroi --partitions``. The same for any rank count."""
    xs, ys, m = _positions(x, y, mask)
    grid_shape = None if grid is None else (int(grid[0]), int(grid[1]))
    return Partitions(**_ptyroi.partition_roi(xs, ys, m, int(parts), None if halo is None else float(halo),
                                              str(scan), grid_shape))


@dataclass
class RoiResult:
    """What find_roi found, for every frame of the scan (in frame order) on every rank.

    mask: uint8 [K], 1 = frame in the RoI (after the border); indexes: the RoI frames, ascending.
    total_intensity, com_x, com_y (NaN without signal), com_magnitude: the per-frame features T, O
    and c; absorption_map, scattering_map: the smoothed maps; absorption_roi, scattering_roi: the
    selected cluster of each; absorption, scattering: centroids, sizes, selected cluster, log floor.
    """

    mask: np.ndarray
    roi_before_border: np.ndarray
    total_intensity: np.ndarray
    com_x: np.ndarray
    com_y: np.ndarray
    com_magnitude: np.ndarray
    absorption_map: np.ndarray
    scattering_map: np.ndarray
    absorption_roi: np.ndarray
    scattering_roi: np.ndarray
    absorption: Dict[str, Any]
    scattering: Dict[str, Any]
    frames: int
    whole_scan: bool
    roi_frames: int
    frames_without_signal: int
    non_finite_pixels: int
    invalid_pixels: int
    com_mean: Tuple[float, float]
    com_std: Tuple[float, float]
    neighbourhood: str
    scan_step: float
    border: int
    ranks: int
    timings: Dict[str, float] = field(default_factory=dict)
    fftshift: bool = False
    zero_frequency: str = ""
    probe: Optional[Dict[str, Any]] = None  # border="auto": the probe measured and the border it made
    x: Optional[np.ndarray] = None          # the positions find_roi was given (metres), if any
    y: Optional[np.ndarray] = None
    grid: Optional[Tuple[int, int]] = None
    scan: str = "auto"

    @property
    def indexes(self) -> np.ndarray:
        return np.flatnonzero(self.mask)

    def _positions_or_cells(self):
        if self.x is not None:
            return self.x, self.y
        if self.grid is None:
            raise UsageError("this result has neither positions nor a grid")
        cells = np.arange(self.frames)
        return (cells % self.grid[1]).astype(np.float64), (cells // self.grid[1]).astype(np.float64)

    def plan(self, step: float, pattern: str = "raster") -> FineScanPlan:
        """A fine scan at `step` metres of this RoI (after the border): see plan_fine_scan."""
        if self.x is None:
            raise UsageError("plan needs positions in metres: call find_roi with x and y")
        return plan_fine_scan(self.x, self.y, self.mask, step, pattern=pattern, scan=self.scan, grid=self.grid)

    def partitions(self, parts: int, halo: Optional[float] = None) -> Partitions:
        """This RoI in `parts` partitions with halos: see partition_roi (a grid without positions
        counts in cells)."""
        x, y = self._positions_or_cells()
        return partition_roi(x, y, self.mask, parts, halo=halo, scan=self.scan, grid=self.grid)

    @property
    def roi_fraction(self) -> float:
        return self.roi_frames / self.frames if self.frames else 0.0


def find_roi(frames, x: Optional[Sequence[float]] = None, y: Optional[Sequence[float]] = None, *,
             grid: Optional[Tuple[int, int]] = None, border=0, energy: Optional[float] = None,
             distance: Optional[float] = None, pixel_size: Optional[float] = None,
             clusters: int = 2, iterations: int = 10,
             log: bool = True, scan: str = "auto", contrast_test: bool = True, contrast_threshold: float = 2.0,
             mask=None, max_valid: Optional[float] = None,
             fftshift="auto", crop: int = 0, beam_center: Optional[Tuple[float, float]] = None,
             block_frames: int = 0, first_frame: int = 0, total_frames: Optional[int] = None,
             comm=None) -> RoiResult:
    """Finds the region of interest of the frames [K, N, M] (any integer or float dtype).

    x, y: the scan positions (metres, one per frame; x along the fast detector axis), or grid:
    (rows, cols) of a row-major raster (frame k at row k // cols). border: grow (> 0) or shrink (< 0)
    the RoI by that many scan steps, or "auto": grow by the radius of a focused probe measured from
    the bright-field disc of the mean pattern, which needs positions in metres, energy (keV),
    distance (m) and pixel_size (the detector's, m); result.probe says what was measured. clusters, iterations, log: the k-means (the paper: 2, 10, on the
    log of the smoothed maps). contrast_test: a map selects frames only when its clusters stand out
    of its noise by contrast_threshold (False: the paper's behaviour); whole_scan in the result says
    that neither map had contrast, so every frame is the RoI. scan: "auto" (a raster when the positions form one), "grid" or
    "irregular". mask: [N, M], non-zero = bad pixel; max_valid: pixels above it are left out;
    fftshift: True when the frames are stored with zero frequency at the corner, False when centred,
    "auto" (default) to decide from a sample of frames (result.zero_frequency says what was found);
    crop: analyse only the crop x crop pixels of the centred frames around beam_center (x, y) pixels
    (default the frame centre). comm: an mpi4py communicator
    (default MPI_COMM_WORLD). Under MPI a rank may hold only part of the scan: frames are then
    frames [first_frame, first_frame + len(frames)) of total_frames, and must include the rank's
    share (``partition(total_frames, ranks, rank)``); x and y still hold every frame's position.
    Raises UsageError, InputError, IoError (subclasses of ptyroi.Error).
    """
    array = _as_frames(frames)
    border_auto = isinstance(border, str) and border == "auto"
    if isinstance(border, str) and not border_auto:
        raise UsageError(f"border {border!r} is not a whole number of scan steps or 'auto'")
    if border_auto:
        for name, value, unit in (("energy", energy, "KEV"), ("distance", distance, "M"),
                                  ("pixel_size", pixel_size, "M")):
            if value is None:
                raise UsageError(f"border='auto' needs the {name.replace('_', ' ')}: give {name}={unit}")
    good = None
    if mask is not None:
        bad = np.asarray(mask)
        if bad.shape != array.shape[1:]:
            raise UsageError(f"mask has shape {bad.shape}; the frames are {array.shape[1:]}")
        good = (bad == 0).astype(np.uint8).ravel().tolist()
    xs = None if x is None else np.asarray(x, dtype=np.float64).ravel().tolist()
    ys = None if y is None else np.asarray(y, dtype=np.float64).ravel().tolist()
    grid_shape = None if grid is None else (int(grid[0]), int(grid[1]))
    centre = None if beam_center is None else (float(beam_center[0]), float(beam_center[1]))
    result = _ptyroi.find_roi(array, xs, ys, grid_shape, 0 if border_auto else int(border), border_auto,
                              None if energy is None else float(energy), None if distance is None else float(distance),
                              None if pixel_size is None else float(pixel_size), int(clusters), int(iterations), bool(log),
                              str(scan), good, None if max_valid is None else float(max_valid),
                              bool(contrast_test), float(contrast_threshold),
                              None if isinstance(fftshift, str) and fftshift == "auto" else bool(fftshift),
                              int(crop), centre, int(block_frames), int(first_frame),
                              None if total_frames is None else int(total_frames), _comm_handle(comm))
    result["x"] = None if xs is None else np.asarray(xs)
    result["y"] = None if ys is None else np.asarray(ys)
    result["grid"] = grid_shape
    result["scan"] = str(scan)
    return RoiResult(**result)


def run(arguments, *, verbose: bool = False, comm=None) -> Dict[str, Any]:
    """Runs the ptyroi program on one scan with its command-line options, e.g.
    ``run(["--input", "scan.h5", "--border", "2", "--output", "scan_roi.h5"])`` or the same as one
    string; writes what the options ask for and returns the --summary JSON as a dict. With
    ``--follow`` it follows an acquisition in progress to its end (the live files are written as it
    goes) and returns the final summary."""
    if isinstance(arguments, str):
        import shlex
        arguments = shlex.split(arguments)
    return json.loads(_ptyroi.run([str(a) for a in arguments], bool(verbose), _comm_handle(comm)))


def read_frames(path: str, *, layout: str = "auto", dataset: str = "") -> np.ndarray:
    """A file's pattern stack [K, N, M] in its own pixel type, as ptyroi reads it (NeXus masters with
    their data files, CXI, PtychoShelves, plain)."""
    return _ptyroi.read_frames(str(path), layout, dataset)


def read_record(path: str) -> Dict[str, Any]:
    """The /roi record of a ptyroi output: mask, indexes, positions_x/y, the features, input_file;
    with --partitions also partition (each frame's, -1 outside the RoI), partition_core and
    partition_halo (per partition, frame numbers) and partition_halo_m; a --partition-files file
    also partition_index and partition_core_rows (1 = the partition's own row, 0 = halo)."""
    return _ptyroi.read_record(str(path))


def partition(frames: int, ranks: int, rank: int) -> Tuple[int, int]:
    """The frames [begin, end) rank `rank` of `ranks` analyses: what it needs in memory."""
    return _ptyroi.partition(int(frames), int(ranks), int(rank))
