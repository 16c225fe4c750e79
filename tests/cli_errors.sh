#!/usr/bin/env bash
# Bad input through the real executable on 2 ranks: each case must exit non-zero within the
# timeout, print exactly one error line naming the culprit, and leave no output behind.
# Usage: cli_errors.sh PTYROI SCAN.h5 WORKDIR
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and these machines run as root
ptyroi=$1 scan=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
mpiexec=(mpiexec -q --oversubscribe -n 2)  # -q: no mpiexec banner on a non-zero exit
passed=0 failed=0

expect_error() {  # NAME EXPECTED-WORDS ARGS...
  local name=$1 words=$2; shift 2
  local out="$work/$name.h5"
  timeout 60 "${mpiexec[@]}" "$ptyroi" "$@" >"$work/$name.stdout" 2>"$work/$name.stderr"
  local status=$? problems=()
  [ "$status" -ne 0 ] || problems+=("exit status 0")
  [ "$status" -ne 124 ] || problems+=("timed out (hang)")
  grep -qF -- "$words" "$work/$name.stderr" || problems+=("no '$words' in stderr")
  local lines; lines=$(grep -c . "$work/$name.stderr")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr, expected 1")
  grep -q 'HDF5-DIAG' "$work/$name.stderr" "$work/$name.stdout" && problems+=("HDF5-DIAG text")
  if ls "$work"/*.partial >/dev/null 2>&1; then problems+=("a .partial file was left"); fi
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1)); echo "ok      $name: $(head -c 160 "$work/$name.stderr")"
  else
    failed=$((failed + 1)); echo "FAILED  $name: ${problems[*]}"; sed 's/^/        /' "$work/$name.stderr" | head -5
  fi
}

printf 'not an HDF5 file\n' >"$work/text.h5"
touch "$work/existing.h5"
grid=(--grid 23x31)

expect_error missing_input "nonexistent.h5" --input "$work/nonexistent.h5" "${grid[@]}"
expect_error not_hdf5 "text.h5" --input "$work/text.h5" "${grid[@]}"
expect_error missing_dataset "/no/such" --input "$scan" --dataset /no/such "${grid[@]}"
expect_error rank1_dataset "expected 3" --input "$scan" --dataset /positions_x "${grid[@]}"
expect_error malformed_grid "--grid" --input "$scan" --grid 12
expect_error grid_mismatch "713 frames" --input "$scan" --grid 10x10
expect_error unknown_option "frobnicate" --input "$scan" --frobnicate 3
expect_error missing_positions "/nope" --input "$scan" "${grid[@]}" --positions-x /nope --positions-y /positions_y
expect_error output_exists "already exists" --input "$scan" "${grid[@]}" --output "$work/existing.h5"
expect_error output_dir_missing "not writable" --input "$scan" "${grid[@]}" --output "$work/no/dir/out.h5"
expect_error bad_clusters "--clusters" --input "$scan" --clusters 1
expect_error no_input "--input" --grid 23x31

# And the good path on the same file leaves exactly the output and the summary.
if timeout 120 "${mpiexec[@]}" "$ptyroi" --input "$scan" "${grid[@]}" --output "$work/good.h5" \
     --summary "$work/good.json" --quiet 2>"$work/good.stderr" && [ -f "$work/good.h5" ] \
     && [ -f "$work/good.json" ] && ! ls "$work"/*.partial >/dev/null 2>&1 && [ ! -s "$work/good.stderr" ]; then
  passed=$((passed + 1)); echo "ok      good_run"
else
  failed=$((failed + 1)); echo "FAILED  good_run"; cat "$work/good.stderr"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
