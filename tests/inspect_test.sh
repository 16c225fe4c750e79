#!/bin/bash
# `ptyroi inspect` against what the files hold (read here with the HDF5 command-line tools), and
# its suggested command line run as printed. With REAL_DATA (the directory of the real files) only
# the real PETRA III CXI file is inspected; with REAL_DATA empty, the simulated files.
# Usage: inspect_test.sh PTYROI TEST_DATA REAL_DATA WORKDIR
set -u
ptyroi=$1 data=$2 real=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAILED: $*"; exit 1; }
expect() { # FILE PATTERN WHAT
  grep -qE -- "$2" "$1" || fail "$3: no line matching '$2' in: $(cat "$1")"
}
# Non-zero values of a mask dataset, counted from h5dump's text.
bad_pixels() {
  h5dump -y -w0 -d "$2" "$1" | sed -n '/DATA {/,/}/p' | tr -c '0-9\n' ' ' | tr ' ' '\n' | grep -c '^[1-9]'
}

if [ -n "$real" ]; then
  # A real CXI file (PETRA III P25): compressed chunks, a mask, positions off a grid.
  cxi=$real/petra3-p25/PETRAIII_P25_Near_Field_Ptycho.cxi
  "$ptyroi" inspect "$cxi" >"$work/cxi.txt" 2>&1 || fail "inspect of $cxi exited non-zero"
  shape=$(h5ls "$cxi/entry_1/instrument_1/detector_1/data" | sed -n 's/.*{\([0-9]*\), \([0-9]*\), \([0-9]*\)}.*/\1x\2x\3/p')
  expect "$work/cxi.txt" "^ +$shape int32, chunks" "real CXI shape ($shape)"
  mask=/entry_1/instrument_1/detector_1/mask
  expect "$work/cxi.txt" "^  mask +$mask: $(bad_pixels "$cxi" $mask) bad of 10000 pixels" "real CXI mask"
  expect "$work/cxi.txt" '^  scan +not on a grid: irregular' "real CXI scan"
  echo "inspect: the real PETRA III CXI file as expected"
  exit 0
fi

# 1. A NeXus master (simulated Eiger: 5 linked bitshuffle-LZ4 data files, gap rows, hot pixels).
master=$data/eiger_master.h5
"$ptyroi" inspect "$master" >"$work/master.txt" 2>&1 || fail "inspect of $master exited non-zero"
expect "$work/master.txt" '^  layout +nexus \(detected\)' "master layout"
[ "$(grep -c '^  stack ' "$work/master.txt")" -eq 5 ] || fail "master: expected 5 stack datasets"
expect "$work/master.txt" 'filters: bitshuffle \(32008\) available' "master filter"
expect "$work/master.txt" '^  frames +300 of 64x64 uint32 \(5 data files\)' "master frames"
mask=/entry/instrument/detector/detectorSpecific/pixel_mask
expect "$work/master.txt" "^  mask +$mask: $(bad_pixels "$master" $mask) bad of 4096 pixels" "master mask"
expect "$work/master.txt" '^  flag value +2\^32-1' "master flag value"
# Named as the series mode names them: _master dropped.
expect "$work/master.txt" "--output ./eiger_roi.h5 " "master suggested output (in the working directory)"
expect "$work/master.txt" '^  zero frequency at the centre \(' "master zero frequency"

# 2. A simulated CXI raster: the suggested command runs as printed and writes what it names.
cp "$data/cxi_scan.cxi" "$work/"
"$ptyroi" inspect "$work/cxi_scan.cxi" >"$work/raster.txt" 2>&1 || fail "inspect of the CXI raster exited non-zero"
expect "$work/raster.txt" '^  scan +raster 12x14 \(inferred\)' "raster scan"
suggested=$(sed -n 's/^  suggested *mpiexec -n 2 ptyroi //p' "$work/raster.txt")
[ -n "$suggested" ] || fail "no suggested command: $(cat "$work/raster.txt")"
eval "set -- $suggested"
cd "$work" || fail "cannot enter $work"
timeout 300 mpiexec -q --oversubscribe -n 2 "$ptyroi" "$@" --quiet >"$work/run.json" 2>"$work/run.err" ||
  fail "the suggested command failed: $(cat "$work/run.err")"
h5ls "$work/cxi_scan_roi.h5/roi/mask" >/dev/null || fail "the suggested command wrote no $work/cxi_scan_roi.h5"
[ -f "$work/cxi_scan_preview/roi.png" ] || fail "the suggested command drew no preview"

# 3. Not an HDF5 file: one line, non-zero exit.
"$ptyroi" inspect "$data/eiger_positions.csv" >"$work/bad.txt" 2>&1 && fail "inspect of a CSV file succeeded"
[ "$(grep -c . "$work/bad.txt")" -eq 1 ] || fail "expected one error line: $(cat "$work/bad.txt")"
expect "$work/bad.txt" "eiger_positions.csv' is not an HDF5 file" "error names the file"
echo "inspect: NeXus master, a raster whose suggested command ran, and a non-HDF5 file: as expected"
