#!/usr/bin/env bash
# The whole thing on a fresh machine: install, build, simulate a scan of particles on empty
# background, find its region of interest with 2 MPI ranks, and draw the preview pictures.
# Usage: tools/demo.sh [WORKDIR]   (default: build/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-build/demo}
bash tools/build.sh release
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$work"
bin=build/release
if [ ! -f "$work/scan.h5" ]; then
  mpiexec --oversubscribe -n 2 "$bin/ptyroi-simulate" --output "$work/scan.h5" --rows 40 --cols 60 \
    --frame-size 128 --object particles --seed 1
fi
mpiexec --oversubscribe -n 2 "$bin/ptyroi" --config configs/demo.cfg --input "$work/scan.h5" \
  --output "$work/scan_roi.h5" --summary "$work/scan_roi.json" --preview "$work/preview" --overwrite
echo "RoI subset: $work/scan_roi.h5   summary: $work/scan_roi.json   pictures: $work/preview/*.png"
