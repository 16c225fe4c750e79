#!/usr/bin/env bash
# What --border auto, --plan and --partitions cannot do, under `mpiexec -n 2` with a timeout: each
# case must exit with its documented status (README: 1 input, 2 usage), print exactly one error
# line containing the expected words, and leave no output, plan, summary or temporary file.
# Usage: plan_refusals.sh PTYROI SCAN.h5 (no instrument, a raster) PLAN_SCAN.h5 (10 keV, 75 µm) WORKDIR
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ptyroi=$1 scan=$2 plan_scan=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
mpiexec=(mpiexec -q --oversubscribe -n 2)
passed=0 failed=0

expect_error() {  # NAME EXIT-STATUS EXPECTED-WORDS ARGS...
  local name=$1 expected_status=$2 words=$3; shift 3
  timeout 120 "${mpiexec[@]}" "$ptyroi" "$@" --output "$work/$name.h5" --summary "$work/$name.json" \
    >"$work/$name.stdout" 2>"$work/$name.stderr"
  local status=$? problems=()
  [ "$status" -ne 124 ] || problems+=("timed out (hang)")
  [ "$status" -eq "$expected_status" ] || problems+=("exit status $status, expected $expected_status")
  grep -qF -- "$words" "$work/$name.stderr" || problems+=("no '$words' in stderr")
  local lines; lines=$(grep -c . "$work/$name.stderr")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr")
  for f in "$work/$name.h5" "$work/$name.json" "$work/$name.csv" "$work/${name}_part0.h5"; do
    [ ! -e "$f" ] || problems+=("$(basename "$f") written")
  done
  find "$work" -name '*.partial' | grep -q . && problems+=("temporary file left")
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1)); printf 'ok      %-24s exit %s  %s\n' "$name" "$status" "$(head -c 160 "$work/$name.stderr")"
  else
    failed=$((failed + 1)); echo "FAILED  $name: ${problems[*]}"; sed 's/^/        /' "$work/$name.stderr" | head -5
  fi
}

instrument=(--energy 10 --distance 0.3871 --pixel-size 75e-6)
plan() { echo --plan "$work/$1.csv" --plan-step 2.5e-8; }

# --border auto without what the optics formula needs (the test scan carries no instrument).
expect_error auto_no_energy 2 "--border auto needs the photon energy: the input has none, give --energy KEV" \
  --input "$scan" --border auto
expect_error auto_no_distance 2 "--border auto needs the sample-detector distance: the input has none, give --distance M" \
  --input "$scan" --border auto --energy 10
expect_error auto_no_pixel_size 2 "--border auto needs the detector pixel size: the input has none, give --pixel-size M" \
  --input "$scan" --border auto --energy 10 --distance 2
expect_error auto_without_metres 2 "--border auto needs scan positions in metres" \
  --input "$scan" --positions none --grid 23x31 --border auto "${instrument[@]}"
# A crop inside the bright-field disc: no edge to measure (input).
expect_error auto_disc_cut 1 "reaches the edge of the 8x8 analysed frame" \
  --input "$plan_scan" --border auto --crop 8
# --plan
expect_error plan_without_metres 2 "--plan needs scan positions in metres" \
  --input "$scan" --positions none --grid 23x31 $(plan plan_without_metres)
expect_error plan_step_too_fine 2 "is too fine for this scan" \
  --input "$plan_scan" --plan "$work/plan_step_too_fine.csv" --plan-step 1e-14
expect_error plan_without_step 2 "--plan needs --plan-step DIST" --input "$plan_scan" --plan "$work/plan_without_step.csv"
: >"$work/existing.csv"
expect_error plan_exists 2 "--plan '$work/existing.csv' already exists; pass --overwrite" \
  --input "$plan_scan" --plan "$work/existing.csv" --plan-step 2.5e-8
[ -s "$work/existing.csv" ] && { failed=$((failed + 1)); echo "FAILED  plan_exists: the existing plan was replaced"; }
expect_error plan_is_input 2 "is the input" --input "$plan_scan" --plan "$plan_scan" --plan-step 2.5e-8
# --partitions
expect_error partitions_beyond_roi 2 "--partitions 5000 needs at least as many RoI frames" \
  --input "$plan_scan" --partitions 5000
expect_error halo_without_metres 2 "--halo is a distance in metres" \
  --input "$scan" --positions none --grid 23x31 --partitions 4 --halo 1e-7
expect_error partition_files_without_output 2 "--partition-files needs --partitions" \
  --input "$plan_scan" --partition-files
: >"$work/taken_part1.h5"
expect_error taken 2 "taken_part1.h5' already exists" --input "$plan_scan" --partitions 2 --partition-files
[ -e "$work/taken_part1.h5" ] || { failed=$((failed + 1)); echo "FAILED  taken: the existing partition file was removed"; }

echo "plan refusals: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
