#!/bin/bash
# A tomography series in one allocation: two good scans around a broken one. The broken scan is
# reported and the series goes on; outputs are named from the inputs; the series CSV has one row
# per scan; the exit status says that one failed.
# Usage: series_test.sh PTYROI SCAN WORKDIR
set -u
ptyroi=$1 scan=$2 work=$3
rm -rf "$work" && mkdir -p "$work/in" "$work/out"
cp "$scan" "$work/in/angle_000.h5"
cp "$scan" "$work/in/angle_002.h5"
printf 'not an HDF5 file\n' >"$work/in/angle_001.h5"
printf '# three angles\nin/angle_000.h5\nin/angle_001.h5\n\nin/angle_002.h5\n' >"$work/list.txt"
fail() { echo "FAILED: $*"; exit 1; }

timeout 300 mpiexec -q --oversubscribe -n 2 "$ptyroi" --input-list "$work/list.txt" --output-dir "$work/out" \
  --border 1 --quiet 2>"$work/stderr"
status=$?
[ "$status" -eq 1 ] || fail "exit status $status, expected 1 (one scan failed)"
grep -q "angle_001.h5.*the series goes on" "$work/stderr" || fail "no error line for the broken scan: $(cat "$work/stderr")"
for angle in 000 002; do
  h5ls "$work/out/angle_${angle}_roi.h5/roi/mask" >/dev/null || fail "angle $angle: no RoI file"
  grep -q '"roi_frames"' "$work/out/angle_${angle}_roi.json" || fail "angle $angle: no summary"
done
[ ! -e "$work/out/angle_001_roi.h5" ] || fail "the broken scan left an output"
csv=$work/out/ptyroi_series.csv
[ "$(grep -c . "$csv")" -eq 4 ] || fail "series CSV has $(grep -c . "$csv") lines, expected header + 3"
grep -q '^.*angle_000.h5,ok,713,' "$csv" || fail "angle 000 not ok in the CSV"
grep -q '^.*angle_001.h5,failed,' "$csv" || fail "angle 001 not failed in the CSV"
grep -q '^.*angle_002.h5,ok,713,' "$csv" || fail "angle 002 not ok in the CSV"
grep -q '"failed": 1' "$work/out/ptyroi_series.json" || fail "series JSON does not count one failure"
# Both good angles are the same scan: the same RoI.
roi0=$(awk -F, '/angle_000/ {print $4}' "$csv") roi2=$(awk -F, '/angle_002/ {print $4}' "$csv")
[ "$roi0" = "$roi2" ] && [ "$roi0" -gt 0 ] || fail "RoI sizes differ or are empty: $roi0 vs $roi2"
echo "series: 3 scans, 1 failed and reported, outputs and CSV as expected (RoI $roi0 of 713 frames)"
