#!/usr/bin/env bash
# What a --format's reader cannot do without: each case must stop before any frame is read with
# exit status 2, one error line naming what is missing and the option that supplies it, and no
# output file (of any of the format's files) or temporary left; a format that only recommends the
# instrument values writes and notes what is missing in its summary.
# Usage: format_refusals.sh PTYROI SCAN.h5 INPUTS_DIR WORKDIR
# (INPUTS_DIR from client_rules.py make-inputs: rect.h5, nopos.h5)
set -u
ptyroi=$1 scan=$2 inputs=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
mpiexec=(mpiexec -q --oversubscribe -n 2)
passed=0 failed=0

expect_refusal() {  # NAME OUTPUT EXPECTED-WORDS ARGS...
  local name=$1 output=$2 words=$3; shift 3
  timeout 60 "${mpiexec[@]}" "$ptyroi" "$@" --output "$work/$output" >"$work/$name.stdout" 2>"$work/$name.stderr"
  local status=$? problems=()
  [ "$status" -eq 2 ] || problems+=("exit status $status, expected 2")
  grep -qF -- "$words" "$work/$name.stderr" || problems+=("no '$words' in stderr")
  local lines; lines=$(grep -c . "$work/$name.stderr")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr")
  local left; left=$(find "$work" -type f ! -name '*.stdout' ! -name '*.stderr')
  [ -z "$left" ] || problems+=("files left: $left")
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1)); echo "ok      $name: $(head -c 200 "$work/$name.stderr")"
  else
    failed=$((failed + 1)); echo "FAILED  $name: ${problems[*]}"; sed 's/^/        /' "$work/$name.stderr" | head -5
  fi
}

expect_refusal ptychodus_no_instrument p.cxi \
  "--format ptychodus: ptychodus's CXI reader needs the photon energy, the detector distance and the detector pixel size, which the input does not give: add --energy KEV, --distance M and --pixel-size M" \
  --input "$scan" --format ptychodus
expect_refusal ptychodus_no_distance p.cxi \
  "needs the detector distance, which the input does not give: add --distance M" \
  --input "$scan" --format ptychodus --energy 10 --pixel-size 75e-6
expect_refusal tike_no_instrument t.npz "--format tike: tike needs the photon energy" --input "$scan" --format tike
expect_refusal tike_not_square t.npz "tike needs square frames and these are 64x48: add --crop N" \
  --input "$inputs/rect.h5" --format tike --energy 10 --distance 2 --pixel-size 75e-6
expect_refusal foldslice_not_square data_roi0 "--format ptychoshelves: fold_slice's APS loader needs square frames" \
  --input "$inputs/rect.h5" --format ptychoshelves
expect_refusal foldslice_grid_steps data_roi0 "fold_slice's APS loader needs scan positions in metres" \
  --input "$inputs/nopos.h5" --grid 23x31 --format ptychoshelves
expect_refusal tike_grid_steps t.npz "tike needs scan positions in metres and these are none" \
  --input "$inputs/nopos.h5" --grid 23x31 --format tike --energy 10 --distance 2 --pixel-size 75e-6
expect_refusal energy_zero c.cxi "--energy must be a positive number" --input "$scan" --energy 0
expect_refusal pixel_size_negative c.cxi "--pixel-size must be a positive number" --input "$scan" --pixel-size -1

# The CXI format only recommends them (PtyPy takes typed values): the file is written, stderr stays
# empty, and the summary (text and JSON) notes what ptychodus's CXI reader would lack.
"${mpiexec[@]}" "$ptyroi" --input "$scan" --format cxi --output "$work/noted.cxi" --summary "$work/noted.json" \
  >"$work/noted.stdout" 2>"$work/noted.stderr"
status=$?
note="--format cxi: ptychodus's CXI reader needs the photon energy, the detector distance and the detector pixel size"
if [ "$status" -eq 0 ] && [ -f "$work/noted.cxi" ] && [ ! -s "$work/noted.stderr" ] &&
  grep -qF "  note           $note" "$work/noted.stdout" && grep -qF "\"$note" "$work/noted.json"; then
  passed=$((passed + 1)); echo "ok      cxi_notes: $(grep -F note "$work/noted.stdout" | head -c 200)"
else
  failed=$((failed + 1)); echo "FAILED  cxi_notes: exit $status"; cat "$work/noted.stderr" "$work/noted.stdout"
fi
echo "format refusals: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
