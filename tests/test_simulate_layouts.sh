#!/usr/bin/env bash
# ptyroi-simulate in every layout and scan pattern on 1, 2 and 3 ranks: the files must be the
# same for any number of ranks (h5diff; the positions CSV byte for byte), bad options must stop
# with one error line and leave no file, and the 1-rank set is then read back by
# test_simulate_layouts.cpp (ground truth reproduces every frame; one scan, same pixels in every
# layout; each layout's structure).
# Usage: test_simulate_layouts.sh PTYROI_SIMULATE LAYOUT_TESTS WORKDIR
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and these machines run as root
simulate=$1 checker=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
passed=0 failed=0
report() {  # NAME PROBLEMS...
  local name=$1; shift
  if [ $# -eq 0 ]; then passed=$((passed + 1)); echo "ok      $name"
  else failed=$((failed + 1)); echo "FAILED  $name: $*"; fi
}

# One small scan (6 x 9 = 54 frames of 32 x 32, 5 object pixels apart unless a run gives its
# --step), written as each layout, and what real scans add (issue 14).
common=(--rows 6 --cols 9 --frame-size 32 --seed 7 --photons 1e5 --particles 4)
artefacts=(--gaps --hot-pixels 4)
runs=(
  "plain.h5|--truth-object ${artefacts[*]}"
  "plain_clean.h5|"
  "scan_master.h5|--layout nexus --frames-per-file 20 --truth-object ${artefacts[*]}"
  "cxi.h5|--layout cxi ${artefacts[*]}"
  "scan_dp.hdf5|--layout ptychoshelves --truth-object"
  "fly.h5|--scan fly --truth-object"
  "spiral_master.h5|--layout nexus --scan spiral --compression none --truth-object"
  "shepp16.h5|--object shepp-logan --dtype uint16 --chunk-frames 4 --compression gzip --truth-object"
  "fftshift.h5|--fftshift --truth-object ${artefacts[*]}"
  "full_field.h5|--object full-field --truth-object"
  "fly_rows.h5|--scan fly --step 12 --row-step 2 --truth-object"
  "flux.h5|--flux-step 0.15@0.5 --flux-noise 0.02 --truth-object"
  "flux_master.h5|--layout nexus --flux-step 0.15 --fftshift --gaps --positions-unit px --compression none"
  "flux_cxi.h5|--layout cxi --flux-step 0.15@20 --stack-shape 1KNM --dtype float32 --energy-kev 8.8 --detector-pixel-m 172e-6"
  "stack4.h5|--stack-shape 1KNM --positions-layout yx --positions-unit px --dtype int32 --chunk-frames 4 --compression gzip"
  "positions_xyz.h5|--positions-layout xyz --positions-unit nm --distance-m 0.5 --energy-kev 8.8 --monitor"
  "positions_xy.h5|--positions-layout xy --positions-unit um"
)
for ranks in 1 2 3; do
  mkdir -p "$work/n$ranks"
  for run in "${runs[@]}"; do
    name=${run%%|*} extra=${run#*|}
    [[ " $extra " == *" --step "* ]] || extra="--step 5 $extra"
    # shellcheck disable=SC2086  # the extra options are words
    if ! timeout 120 mpiexec -q --oversubscribe -n "$ranks" "$simulate" --output "$work/n$ranks/$name" \
        "${common[@]}" $extra >"$work/n$ranks/$name.stdout" 2>"$work/n$ranks/$name.stderr"; then
      report "simulate $name on $ranks ranks" "failed: $(cat "$work/n$ranks/$name.stderr")"
    fi
  done
done

# The same files, whatever the number of ranks.
for ranks in 2 3; do
  for file in "$work"/n1/*.h5 "$work"/n1/*.hdf5; do
    name=$(basename "$file")
    other="$work/n$ranks/$name"
    problems=()
    [ -f "$other" ] || problems+=("missing")
    [ -f "$other" ] && ! h5diff "$file" "$other" >"$work/h5diff.out" 2>&1 && problems+=("$(head -c 300 "$work/h5diff.out")")
    report "$name on $ranks ranks = on 1 rank" "${problems[@]}"
  done
  for file in "$work"/n1/*.csv; do
    name=$(basename "$file")
    problems=()
    cmp -s "$file" "$work/n$ranks/$name" || problems+=("differs")
    report "$name on $ranks ranks = on 1 rank" "${problems[@]}"
  done
done
expected_files="cxi.h5 fly.h5 plain.h5 plain_clean.h5 scan_data_000001.h5 scan_data_000002.h5 scan_data_000003.h5
scan_dp.hdf5 scan_master.h5 scan_para.hdf5 scan_positions.csv shepp16.h5 spiral_data_000001.h5 spiral_master.h5
spiral_positions.csv fftshift.h5 full_field.h5 fly_rows.h5 flux.h5 flux_master.h5 flux_data_000001.h5
flux_positions.csv flux_cxi.h5 stack4.h5 positions_xyz.h5 positions_xy.h5"
actual=$(cd "$work/n1" && ls -- *.h5 *.hdf5 *.csv | sort | tr '\n' ' ')
problems=()
[ "$actual" = "$(echo $expected_files | tr ' ' '\n' | sort | tr '\n' ' ')" ] || problems+=("files: $actual")
report "every layout writes its files" "${problems[@]}"

# Bad options: exit status 1, one line naming the problem, no file.
bad() {  # NAME EXPECTED-TEXT OPTIONS...
  local name=$1 text=$2; shift 2
  local dir="$work/bad/$name"
  mkdir -p "$dir"
  timeout 60 mpiexec -q --oversubscribe -n 2 "$simulate" "${common[@]}" "$@" >"$dir/stdout" 2>"$dir/stderr"
  local status=$? problems=()
  [ "$status" -eq 1 ] || problems+=("exit status $status")
  grep -q "^ptyroi-simulate: error: .*$text" "$dir/stderr" || problems+=("no error line with '$text'")
  [ "$(grep -c . "$dir/stderr")" -eq 1 ] || problems+=("not one line on stderr: $(cat "$dir/stderr")")
  [ -z "$(ls "$dir" | grep -v -e '^stdout$' -e '^stderr$')" ] || problems+=("files left: $(ls "$dir")")
  report "bad option: $name" "${problems[@]}"
}
bad nexus_name "PREFIX_master.h5" --layout nexus --output "$work/bad/nexus_name/scan.h5"
bad shelves_name "PREFIX_dp.hdf5" --layout ptychoshelves --output "$work/bad/shelves_name/scan.h5"
bad frames_per_file "--frames-per-file applies to --layout nexus only" --frames-per-file 10 \
  --output "$work/bad/frames_per_file/scan.h5"
bad frames_per_file_zero "--frames-per-file must be at least 1" --layout nexus --frames-per-file 0 \
  --output "$work/bad/frames_per_file_zero/scan_master.h5"
bad shelves_gaps "--gaps needs --layout plain, cxi or nexus" --layout ptychoshelves --gaps \
  --output "$work/bad/shelves_gaps/scan_dp.hdf5"
bad scan_pattern "--scan must be raster, fly or spiral" --scan zigzag --output "$work/bad/scan_pattern/scan.h5"
bad layout "--layout must be plain, cxi, nexus or ptychoshelves" --layout hdf5 --output "$work/bad/layout/scan.h5"
bad hot_pixels "--hot-pixels must be between 0 and a quarter" --hot-pixels 257 --output "$work/bad/hot_pixels/scan.h5"
bad row_step_spiral "--row-step applies to raster and fly scans" --scan spiral --row-step 2 \
  --output "$work/bad/row_step_spiral/scan.h5"
bad row_step_zero "--row-step must be at least 1" --row-step 0 --output "$work/bad/row_step_zero/scan.h5"
bad flux_step_text "--flux-step expects FRACTION\[@FRAME\]" --flux-step 0.15@half --output "$work/bad/flux_step_text/scan.h5"
bad flux_step_frame "--flux-step FRAME must be below the 54 frames" --flux-step 0.15@54 \
  --output "$work/bad/flux_step_frame/scan.h5"
bad flux_noise "--flux-noise must be between 0 and 0.2" --flux-noise 0.5 --output "$work/bad/flux_noise/scan.h5"
bad stack_nexus "--stack-shape 1KNM needs --layout plain or cxi" --stack-shape 1KNM --layout nexus \
  --output "$work/bad/stack_nexus/scan_master.h5"
bad positions_cxi "--positions-layout needs --layout plain" --positions-layout yx --layout cxi \
  --output "$work/bad/positions_cxi/scan.h5"
bad positions_unit "--positions-unit must be m, um, nm or px" --positions-unit mm --output "$work/bad/positions_unit/scan.h5"
bad dtype_nexus "--dtype must be uint16 or uint32 with --layout nexus" --dtype float32 --layout nexus \
  --output "$work/bad/dtype_nexus/scan_master.h5"
bad overdetermined "--distance-m and --pixel-size together over-determine" --distance-m 0.5 --pixel-size 1e-8 \
  --output "$work/bad/overdetermined/scan.h5"
bad object "--object must be particles, shepp-logan or full-field" --object star --output "$work/bad/object/scan.h5"

PTYROI_SIM_LAYOUTS_DIR="$work/n1" "$checker" >"$work/checker.out" 2>&1
status=$?
problems=()
[ "$status" -eq 0 ] || problems+=("$(grep -E 'FAILED|Failure|error' "$work/checker.out" | head -20)")
report "layouts read back (test_simulate_layouts)" "${problems[@]}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
