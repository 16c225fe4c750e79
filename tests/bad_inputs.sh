#!/usr/bin/env bash
# The bad-input matrix: every malformed input or option under `mpiexec -n 2` with a timeout.
# Each failing case must exit in time with its documented status (README: 1 input, 2 usage, 3 I/O), print exactly one error line containing the
# expected words (and no HDF5-DIAG text), and leave no output, summary or temporary file.
# Cases with defined, successful behaviour (NaN/Inf pixels) are checked for their result.
# Usage: bad_inputs.sh PTYROI MAKE_BAD_INPUTS SCAN.h5 WORKDIR
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and these machines run as root
ptyroi=$1 make_bad_inputs=$2 scan=$3 work=$4
cleanup_mounts() { for m in "$work/full" "$work/readonly"; do mountpoint -q "$m" 2>/dev/null && umount "$m"; done; }
cleanup_mounts
rm -rf "$work" && mkdir -p "$work/out"
trap cleanup_mounts EXIT
in=$work/in
"$make_bad_inputs" "$in" >/dev/null || { echo "make_bad_inputs failed"; exit 1; }
mpiexec=(mpiexec -q --oversubscribe -n 2)
out=$work/out
passed=0 failed=0 skipped=0

expect_error() {  # NAME EXIT-STATUS EXPECTED-WORDS ARGS...
  local name=$1 expected_status=$2 words=$3; shift 3
  local start; start=$(date +%s)
  timeout 60 "${mpiexec[@]}" "$ptyroi" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"
  local status=$? problems=()
  [ "$status" -ne 124 ] || problems+=("timed out (hang)")
  [ "$status" -eq "$expected_status" ] || problems+=("exit status $status, expected $expected_status")
  grep -qF -- "$words" "$out/$name.stderr" || problems+=("no '$words' in stderr")
  local lines; lines=$(grep -c . "$out/$name.stderr")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr")
  grep -q 'HDF5-DIAG' "$out/$name.stderr" "$out/$name.stdout" && problems+=("HDF5-DIAG text")
  [ ! -e "$out/$name.h5" ] || problems+=("output written")
  [ ! -e "$out/$name.json" ] || problems+=("summary written")
  find "$work" -name '*.partial' | grep -q . && problems+=("temporary file left")
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1)); printf 'ok      %-22s %2ss  exit %s  %s\n' "$name" "$(( $(date +%s) - start ))" "$status" "$(head -c 150 "$out/$name.stderr")"
  else
    failed=$((failed + 1)); echo "FAILED  $name: ${problems[*]}"; sed 's/^/        /' "$out/$name.stderr" | head -5
  fi
}
outputs() { echo --output "$out/$1.h5" --summary "$out/$1.json"; }
g=(--grid 3x4)

printf 'not an HDF5 file\n' >"$work/text.h5"
printf 'input = x.h5\nbordr = 2\n' >"$work/typo.cfg"
mkdir -p "$work/a_directory.cfg"
: >"$out/existing.h5"

expect_error missing_input 1 "cannot be read" --input "$in/nonexistent.h5" "${g[@]}" $(outputs missing_input)
expect_error not_hdf5 1 "is not an HDF5 file" --input "$work/text.h5" "${g[@]}" $(outputs not_hdf5)
expect_error truncated_file 1 "truncated" --input "$in/truncated.h5" "${g[@]}" $(outputs truncated_file)
expect_error missing_dataset 1 "no dataset '/no/such'" --input "$in/good.h5" --dataset /no/such "${g[@]}" $(outputs missing_dataset)
expect_error no_default_dataset 1 "no pattern stack" --input "$in/external_missing.h5" --layout plain "${g[@]}" $(outputs no_default_dataset)
expect_error layout_without_stack 1 "no pattern stack" --input "$in/good.h5" --layout cxi "${g[@]}" $(outputs layout_without_stack)
expect_error rank2_dataset 1 "has 2 dimensions" --input "$in/rank2.h5" "${g[@]}" $(outputs rank2_dataset)
expect_error rank4_dataset 1 "has 4 dimensions" --input "$in/rank4.h5" "${g[@]}" $(outputs rank4_dataset)
expect_error empty_dataset 1 "is empty" --input "$in/empty.h5" $(outputs empty_dataset)
expect_error single_frame 1 "a single frame" --input "$in/single.h5" --grid 1x1 $(outputs single_frame)
expect_error string_dtype 1 "string values" --input "$in/strings.h5" "${g[@]}" $(outputs string_dtype)
expect_error compound_dtype 1 "compound values" --input "$in/compound.h5" "${g[@]}" $(outputs compound_dtype)
expect_error all_zero_frames 1 "has signal" --input "$in/all_zero.h5" "${g[@]}" $(outputs all_zero_frames)
expect_error identical_frames 1 "no contrast" --input "$in/identical.h5" "${g[@]}" $(outputs identical_frames)
expect_error positions_missing 1 "no scan positions" --input "$in/no_positions.h5" $(outputs positions_missing)
expect_error positions_count 1 "holds 11 positions but the stack has 12 frames" --input "$in/positions_short.h5" "${g[@]}" $(outputs positions_count)
expect_error positions_nan 1 "non-finite value at frame 4" --input "$in/positions_nan.h5" "${g[@]}" $(outputs positions_nan)
expect_error positions_other_file 1 "no dataset '/px'" --input "$in/good.h5" "${g[@]}" --positions-x "$in/good.h5:/px" --positions-y /positions_y $(outputs positions_other_file)
expect_error grid_mismatch 2 "has 20 cells but the stack has 12 frames" --input "$in/good.h5" --grid 4x5 $(outputs grid_mismatch)
expect_error grid_malformed 2 "--grid '3by4'" --input "$in/good.h5" --grid 3by4 $(outputs grid_malformed)
expect_error unknown_option 2 "unrecognised option '--frobnicate'" --input "$in/good.h5" --frobnicate 1 $(outputs unknown_option)
expect_error config_typo 2 "bordr" --config "$work/typo.cfg" $(outputs config_typo)
expect_error config_missing 2 "cannot read" --config "$work/nonexistent.cfg" $(outputs config_missing)
expect_error config_not_a_file 2 "not a readable file" --config "$work/a_directory.cfg" $(outputs config_not_a_file)
expect_error mask_wrong_shape 1 "is 8x8 but the frames are 16x16" --input "$in/mask_wrong_shape.h5" "${g[@]}" --mask /mask $(outputs mask_wrong_shape)
expect_error filter_missing 1 "HDF5 filter 32999" --input "$in/bad_filter.h5" "${g[@]}" $(outputs filter_missing)
expect_error external_link_missing 1 "missing_data_000001.h5" --input "$in/external_missing.h5" --dataset /entry/data/data_000001 "${g[@]}" $(outputs external_link_missing)
expect_error output_dir_missing 2 "is not writable" --input "$in/good.h5" "${g[@]}" --output "$out/no/such/dir/x.h5"
expect_error output_exists 2 "already exists" --input "$in/good.h5" "${g[@]}" --output "$out/existing.h5"
expect_error border_beyond_grid 2 "border 50 reaches beyond the 3x4 scan" --input "$in/good.h5" "${g[@]}" --border 50 $(outputs border_beyond_grid)
expect_error clusters_range 2 "--clusters 0" --input "$in/good.h5" "${g[@]}" --clusters 0 $(outputs clusters_range)
expect_error block_frames_range 2 "--block-frames 0" --input "$in/good.h5" "${g[@]}" --block-frames 0 $(outputs block_frames_range)
expect_error no_input 2 "--input is required" --grid 3x4 $(outputs no_input)

# The real-data options (layouts, positions files, crops, formats, series).
printf 'x,y\n' >"$work/short.csv"; for k in 1 2 3 4 5; do printf '%d,%d\n' "$k" "$k" >>"$work/short.csv"; done
printf 'x,y\n1,2\n3\n' >"$work/ragged.csv"
expect_error layout_unknown 2 "--layout 'eiger'" --input "$in/good.h5" --layout eiger "${g[@]}" $(outputs layout_unknown)
expect_error format_unknown 2 "--format 'tiff'" --input "$in/good.h5" --format tiff "${g[@]}" $(outputs format_unknown)
expect_error crop_too_large 2 "does not fit in the 16x16 frames" --input "$in/good.h5" --crop 20 "${g[@]}" $(outputs crop_too_large)
expect_error crop_off_centre 2 "does not fit" --input "$in/good.h5" --crop 8 --beam-center 2,2 "${g[@]}" $(outputs crop_off_centre)
expect_error beam_center_malformed 2 "--beam-center 'middle'" --input "$in/good.h5" --crop 8 --beam-center middle "${g[@]}" $(outputs beam_center_malformed)
expect_error fftshift_value 2 "--fftshift 'maybe' is not one of auto, yes, no" --input "$in/good.h5" --fftshift maybe "${g[@]}" $(outputs fftshift_value)
expect_error positions_csv_missing 1 "positions file '$work/none.csv' cannot be read" --input "$in/good.h5" --positions "$work/none.csv" $(outputs positions_csv_missing)
expect_error positions_csv_count 1 "holds 5 positions but the stack has 12 frames" --input "$in/good.h5" --positions "$work/short.csv" $(outputs positions_csv_count)
expect_error positions_csv_ragged 1 "line 3" --input "$in/good.h5" --positions "$work/ragged.csv" $(outputs positions_csv_ragged)
expect_error positions_csv_column 2 "'z' is neither a column name" --input "$in/good.h5" --positions "$work/short.csv" --positions-columns x,z $(outputs positions_csv_column)
expect_error positions_scale_zero 2 "--positions-scale" --input "$in/good.h5" --positions-scale 0 "${g[@]}" $(outputs positions_scale_zero)
expect_error positions_look_like_pixels 1 "--positions-unit" --input "$scan" --positions-scale 1e9 $(outputs positions_look_like_pixels)
expect_error positions_unit_unknown 2 "--positions-unit 'inch'" --input "$in/good.h5" --positions-unit inch "${g[@]}" $(outputs positions_unit_unknown)
expect_error positions_none_without_grid 2 "--positions none needs --grid" --input "$in/good.h5" --positions none $(outputs positions_none_without_grid)
expect_error grid_and_irregular 2 "contradict" --input "$in/good.h5" --scan irregular "${g[@]}" $(outputs grid_and_irregular)
expect_error input_list_missing 1 "--input-list '$work/none.txt' cannot be read" --input-list "$work/none.txt"
expect_error input_list_with_output 2 "use --output-dir" --input-list "$work/short.csv" --output "$out/input_list_with_output.h5"

# Read-only output directory and a full disk: small tmpfs mounts, where the machine allows them.
mkdir -p "$work/readonly" "$work/full"
if mount -t tmpfs -o size=1m,ro tmpfs "$work/readonly" 2>/dev/null; then
  expect_error output_dir_readonly 2 "is not writable" --input "$in/good.h5" "${g[@]}" --output "$work/readonly/x.h5"
else
  skipped=$((skipped + 1)); echo "skip    output_dir_readonly: cannot mount a read-only tmpfs here"
fi
if mount -t tmpfs -o size=512k tmpfs "$work/full" 2>/dev/null; then
  # The 23x31 test scan's subset (several MB) cannot fit in 512 KiB: refused before writing.
  expect_error disk_full 3 "not enough space" --input "$scan" --grid 23x31 --output "$work/full/x.h5"
  [ -z "$(ls -A "$work/full")" ] || { failed=$((failed + 1)); echo "FAILED  disk_full: files left: $(ls "$work/full")"; }
else
  skipped=$((skipped + 1)); echo "skip    disk_full: cannot mount a small tmpfs here"
fi

# Defined behaviour, not an error: NaN/Inf pixels are left out of the sums and counted
# (frame 3 is all NaN: 256 pixels; frame 5 has 4), and a frame left with no signal is counted.
name=nan_inf_pixels
timeout 60 "${mpiexec[@]}" "$ptyroi" --input "$in/nan_frames.h5" "${g[@]}" $(outputs $name) -q \
  >"$out/$name.stdout" 2>"$out/$name.stderr"
if [ $? -eq 0 ] && grep -q '"non_finite_pixels": 260' "$out/$name.json" \
   && grep -q '"frames_without_signal": 1' "$out/$name.json" && [ -f "$out/$name.h5" ]; then
  passed=$((passed + 1)); echo "ok      $name: succeeds, 260 NaN/Inf pixels and 1 frame without signal reported"
else
  failed=$((failed + 1)); echo "FAILED  $name"; cat "$out/$name.stderr"
fi

# And the good path on the same inputs leaves exactly the output and the summary, nothing else.
name=good_run
if timeout 60 "${mpiexec[@]}" "$ptyroi" --input "$in/good.h5" "${g[@]}" $(outputs $name) -q 2>"$out/$name.stderr" \
   && [ -f "$out/$name.h5" ] && [ -f "$out/$name.json" ] && ! grep -qv '^ptyroi: notice: ' "$out/$name.stderr" \
   && ! find "$work" -name '*.partial' | grep -q .; then
  passed=$((passed + 1)); echo "ok      $name"
else
  failed=$((failed + 1)); echo "FAILED  $name"; cat "$out/$name.stderr"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
