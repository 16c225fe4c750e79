#!/usr/bin/env bash
# Reproduces the validation of Lin et al. (Fig. 6): reconstructing only the RoI keeps the image.
#
#   bash tools/validate.sh [--size default|large] [--runs N] [--iterations N] [--threads N]
#                          [--out DIR] [--build-dir DIR] [--no-build]
#
# 1. ptyroi-simulate: a far-field scan of particles on empty background with a focused probe, and
#    its ground truth (--truth-object).
# 2. ptyroi at borders -8 -4 -2 0 2 4 (2 MPI ranks): the RoI subset files.
# 3. ptyroi-recon (rPIE, object and probe, 2 threads), N runs with different random starts (seed
#    1..N): from all frames, then from each subset, each compared over the area the full scan
#    covers with the full reconstruction of the same seed and with the true object (SSIM of the
#    phase, Wang et al. 2004), timed.
# 4. tools/plot_validation.py: validation.csv (per border), validation_runs.csv (per run),
#    validation.md (the table), validation.png (SSIM vs border, data fraction on a second axis),
#    and the targets checked.
#
# Default size: a 32 x 32 raster of 64 x 64 frames (1,024 patterns): 2.5 to 4 minutes on 2 cores
# after the build (measured). --size large: 48 x 48 (2,304 patterns), about 6 minutes. Results go
# to build/validation (--out).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

size=default
runs=5
iterations=100
threads=2
out=build/validation
build_dir=build/release
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "validate: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# The scan: particles on empty background (ptyroi-simulate's model), focused probe of radius
# frame/8 (first Airy zero), 60% overlap (step 0.8 x radius), 1e6 photons per frame.
case "$size" in
  default) rows=32; cols=32; frame=64; particles=4; coverage=0.1 ;;
  large) rows=48; cols=48; frame=64; particles=8; coverage=0.1 ;;
  *) echo "validate: error: --size must be default or large (got '$size')" >&2; exit 2 ;;
esac
probe_radius=$((frame / 8))
borders=(-8 -4 -2 0 2 4)

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
python=/usr/bin/python3  # Debian's, where python3-skimage and python3-matplotlib live
if [ "$build" = 1 ]; then
  bash tools/setup.sh
  log=$(mktemp)
  if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release &&
         cmake --build "$build_dir" -j 2 --target ptyroi ptyroi-simulate ptyroi-recon; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "validate: error: the build failed ($build_dir)" >&2
    exit 1
  fi
  rm -f "$log"
fi
for program in ptyroi ptyroi-simulate ptyroi-recon; do
  [ -x "$build_dir/$program" ] || { echo "validate: error: $build_dir/$program is missing (build it, or drop --no-build)" >&2; exit 1; }
done
"$python" -c 'import numpy, matplotlib' 2>/dev/null ||
  { echo "validate: error: /usr/bin/python3 needs numpy and matplotlib (apt-get install python3-matplotlib)" >&2; exit 1; }

start=$SECONDS  # the validation proper, after the build
mkdir -p "$out/roi" "$out/recon"
out=$(cd "$out" && pwd)
scan=$out/scan.h5
bin=$(cd "$build_dir" && pwd)
mpi=(mpiexec -q --oversubscribe -n 2)

echo "validate: simulating a ${rows}x${cols} scan of ${frame}x${frame} frames ($particles particles, coverage $coverage)"
"${mpi[@]}" "$bin/ptyroi-simulate" --output "$scan" --truth-object --rows "$rows" --cols "$cols" \
  --frame-size "$frame" --particles "$particles" --coverage "$coverage" --seed 1 | sed 's/^/  /'

for border in "${borders[@]}"; do
  "${mpi[@]}" "$bin/ptyroi" --input "$scan" --border "$border" --output "$out/roi/border_$border.h5" \
    --summary "$out/roi/border_$border.json" --overwrite --quiet
  printf '  border %3d: %s\n' "$border" \
    "$("$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d of %d frames (%.1f%%)" % (d["roi_frames"], d["frames"], 100*d["roi_fraction"]))' "$out/roi/border_$border.json")"
done

recon=("$bin/ptyroi-recon" --iterations "$iterations" --threads "$threads" --truth "$scan"
       --region-margin "$probe_radius" --overwrite --quiet)
for run in $(seq 1 "$runs"); do
  full=$out/recon/full_s$run
  reference=()
  [ "$run" -gt 1 ] && reference=(--reference "$out/recon/full_s1.h5")  # run-to-run spread of the full scan
  "${recon[@]}" --input "$scan" --seed "$run" --output "$full.h5" --summary "$full.json" "${reference[@]}"
  for border in "${borders[@]}"; do
    subset=$out/recon/border_${border}_s$run
    "${recon[@]}" --input "$out/roi/border_$border.h5" --seed "$run" --reference "$full.h5" \
      --output "$subset.h5" --summary "$subset.json"
  done
  echo "validate: run $run of $runs done ($((SECONDS - start)) s)"
done

"$python" tools/plot_validation.py "$out" --borders "${borders[@]}" --runs "$runs" \
  --scan "${rows}x${cols} raster of ${frame}x${frame} frames, $particles particles, $iterations rPIE iterations" \
  --elapsed "$((SECONDS - start))"
echo "validate: $((SECONDS - start)) s after the build; results in $out (validation.csv, validation.md, validation.png)"
