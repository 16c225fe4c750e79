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
expect_error contiguous_short 1 "holds only" --input "$in/contiguous_short.h5" "${g[@]}" $(outputs contiguous_short)
expect_error unwritten_chunks 1 "4 of 12 frames lie in chunks never written (the first is frame 6" --input "$in/unwritten_chunks.h5" "${g[@]}" $(outputs unwritten_chunks)
expect_error vds_missing_source 1 "source file 'vds_absent_source.h5' (dataset '/frames', frames 6..11) does not exist" --input "$in/vds_missing_source.h5" "${g[@]}" $(outputs vds_missing_source)
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

# --- issue 13: unreadable types, masks and positions that leave nothing, values beyond range ------
mkdir -p "$work/a_directory"
expect_error input_is_directory 1 "--input '$work/a_directory' is a directory" --input "$work/a_directory" "${g[@]}" $(outputs input_is_directory)
expect_error positions_csv_is_directory 1 "positions file '$work/a_directory' is a directory" --input "$in/good.h5" --positions "$work/a_directory" $(outputs positions_csv_is_directory)
expect_error mask_file_is_directory 1 "'$work/a_directory' is a directory" --input "$in/good.h5" "${g[@]}" --mask "$work/a_directory:/mask" $(outputs mask_file_is_directory)
expect_error input_list_is_directory 1 "--input-list '$work/a_directory' is a directory" --input-list "$work/a_directory"
expect_error positions_string_dtype 1 "positions '/positions_x' in '$in/positions_strings.h5' (default) holds 8-byte string values" --input "$in/positions_strings.h5" $(outputs positions_string_dtype)
expect_error mask_compound_dtype 1 "--mask '/mask' in '$in/mask_compound.h5' holds 2-byte compound values" --input "$in/mask_compound.h5" "${g[@]}" --mask /mask $(outputs mask_compound_dtype)
expect_error mask_all_bad 1 "mask (/mask) of '$in/mask_all_bad.h5' marks all 16x16 pixels bad" --input "$in/mask_all_bad.h5" "${g[@]}" --mask /mask $(outputs mask_all_bad)
expect_error mask_crop_all_bad 1 "no good pixel in the 8x8 crop window" --input "$in/mask_centre_bad.h5" "${g[@]}" --mask /mask --crop 8 $(outputs mask_crop_all_bad)
expect_error max_valid_negative 2 "--max-valid -1 leaves out every pixel of the uint32 frames" --input "$in/good.h5" "${g[@]}" --max-valid -1 $(outputs max_valid_negative)
expect_error max_valid_below_all 2 "is above max_valid 1 (--max-valid" --input "$in/float64.h5" "${g[@]}" --max-valid 1 $(outputs max_valid_below_all)
expect_error positions_all_equal 1 "/positions_y): all 12 frames are at (1e-06, 2e-06)" --input "$in/positions_equal.h5" $(outputs positions_all_equal)
expect_error positions_duplicated 1 "/positions_y): frames 4 and 5 are both at" --input "$in/positions_duplicated.h5" $(outputs positions_duplicated)
expect_error float_sum_overflow 1 "frame 3 of dataset '/data' in '$in/sum_overflow.h5': its pixels sum to inf" --input "$in/sum_overflow.h5" "${g[@]}" $(outputs float_sum_overflow)
expect_error float_moment_overflow 1 "frame 6 of dataset '/data' in '$in/moment_overflow.h5': its centre-of-mass moments" --input "$in/moment_overflow.h5" "${g[@]}" $(outputs float_moment_overflow)
expect_error float_map_overflow 1 "smoothed absorption map of frame 1 of dataset '/data'" --input "$in/map_overflow.h5" "${g[@]}" $(outputs float_map_overflow)
expect_error crop_negative 2 "--crop -1 is out of range" --input "$in/good.h5" "${g[@]}" --crop -1 $(outputs crop_negative)
expect_error crop_beam_centre_huge 2 "--crop 8 around the beam centre (1e+30, 1e+30)" --input "$in/good.h5" "${g[@]}" --crop 8 --beam-center 1e30,1e30 $(outputs crop_beam_centre_huge)
expect_error nexus_beam_centre_unset 1 "beam centre (3.4e+38, 7.5) from the file's beam_center_x/y lies outside" --input "$in/nexus_beam_unset.h5" --crop 8 $(outputs nexus_beam_centre_unset)
expect_error nexus_beam_centre_negative 1 "beam centre (-1e+20, 7.5) from the file's beam_center_x/y lies outside" --input "$in/nexus_beam_negative.h5" --crop 8 $(outputs nexus_beam_centre_negative)
expect_error grid_product_wraps 2 "--grid '515771281x71530714304' is out of range" --input "$in/good.h5" --grid 515771281x71530714304 $(outputs grid_product_wraps)
expect_error grid_two_to_the_32 2 "--grid '4294967296x4294967296' is out of range" --input "$in/good.h5" --grid 4294967296x4294967296 $(outputs grid_two_to_the_32)
expect_error block_frames_negative 2 "--block-frames -1 is out of range" --input "$in/good.h5" "${g[@]}" --block-frames -1 $(outputs block_frames_negative)

# --- clobbering: no output is an input (by any name), a link, a device or a directory, or exists
#     without --overwrite; no two outputs are one file. Inputs are checked to be left as they were.
ln -f "$in/good.h5" "$work/hard_link_to_good.h5"
ln -sf "$in/good.h5" "$work/symlink_to_good.h5"
ln -sf "$out/never_created.json" "$work/dangling.json"
printf 'x,y\n' >"$work/positions.csv"; for k in $(seq 0 11); do printf '%d,%d\n' $((k % 4)) $((k / 4)) >>"$work/positions.csv"; done
: >"$out/existing.json"
mkdir -p "$work/previews_taken" && : >"$work/previews_taken/roi.png"
: >"$work/previews_is_a_file"
good_sum=$(md5sum <"$in/good.h5")
expect_error output_is_input 2 "--output '$in/good.h5' is the input" --input "$in/good.h5" "${g[@]}" --output "$in/good.h5" --overwrite
expect_error output_symlink_to_input 2 "is the input '$in/good.h5'" --input "$in/good.h5" "${g[@]}" --output "$work/symlink_to_good.h5" --overwrite
expect_error summary_is_input 2 "--summary '$in/good.h5' is the input" --input "$in/good.h5" "${g[@]}" --summary "$in/good.h5"
expect_error summary_hard_link_to_input 2 "--summary '$work/hard_link_to_good.h5' is the input" --input "$in/good.h5" "${g[@]}" --summary "$work/hard_link_to_good.h5" --overwrite
expect_error summary_is_mask_file 2 "--summary '$in/mask_good.h5' is the input" --input "$in/good.h5" "${g[@]}" --mask "$in/mask_good.h5:/mask" --summary "$in/mask_good.h5" --overwrite
expect_error summary_is_positions_file 2 "--summary '$work/positions.csv' is the input" --input "$in/good.h5" --positions "$work/positions.csv" --summary "$work/positions.csv" --overwrite
expect_error output_is_nexus_data_file 2 "is the input '$in/nexus_external_data_000001.h5'" --input "$in/nexus_external_master.h5" --output "$in/nexus_external_data_000001.h5" --overwrite
expect_error summary_dev_stdout 2 "--summary '/dev/stdout' exists and is a symbolic link" --input "$in/good.h5" "${g[@]}" --summary /dev/stdout --overwrite
expect_error summary_dev_null 2 "--summary '/dev/null' exists and is a device" --input "$in/good.h5" "${g[@]}" --summary /dev/null --overwrite
expect_error summary_dangling_symlink 2 "exists and is a symbolic link" --input "$in/good.h5" "${g[@]}" --summary "$work/dangling.json" --overwrite
[ ! -e "$out/never_created.json" ] || { failed=$((failed + 1)); echo "FAILED  summary_dangling_symlink: wrote through the link"; }
expect_error summary_exists 2 "--summary '$out/existing.json' already exists" --input "$in/good.h5" "${g[@]}" --summary "$out/existing.json"
expect_error summary_is_output 2 "--output '$out/summary_is_output.h5' and --summary '$out/summary_is_output.h5' name the same file" --input "$in/good.h5" "${g[@]}" --output "$out/summary_is_output.h5" --summary "$out/summary_is_output.h5"
expect_error output_is_directory 2 "--output '$out' exists and is a directory" --input "$in/good.h5" "${g[@]}" --output "$out" --overwrite
expect_error output_names_directory 2 "names a directory, not a file" --input "$in/good.h5" "${g[@]}" --output "$out/"
expect_error preview_image_exists 2 "--preview '$work/previews_taken/roi.png' already exists" --input "$in/good.h5" "${g[@]}" --preview "$work/previews_taken" $(outputs preview_image_exists)
expect_error preview_dir_is_a_file 2 "--preview '$work/previews_is_a_file' exists and is not a directory" --input "$in/good.h5" "${g[@]}" --preview "$work/previews_is_a_file" $(outputs preview_dir_is_a_file)
expect_error preview_raster_too_wide 2 "--preview cannot draw the 1x32768 raster" --input "$in/long_row.h5" --grid 1x32768 --format mask-only --preview "$out/long_row_preview" $(outputs preview_raster_too_wide)
[ ! -e "$out/long_row_preview" ] || { failed=$((failed + 1)); echo "FAILED  preview_raster_too_wide: preview directory left"; }
[ "$(md5sum <"$in/good.h5")" = "$good_sum" ] && [ "$(cat "$work/previews_taken/roi.png")" = "" ] \
  || { failed=$((failed + 1)); echo "FAILED  clobbering: an input or a taken file was changed"; }

# Series: outputs are checked before the first scan starts.
mkdir -p "$work/series_a" "$work/series_b" "$work/series_c"
cp "$in/good.h5" "$work/series_a/scan.h5"; cp "$in/good.h5" "$work/series_b/scan.h5"
cp "$in/good.h5" "$work/series_c/scan.h5"; cp "$in/good.h5" "$work/series_c/scan_roi.h5"
printf '%s\n' "$work/series_a/scan.h5" "$work/series_b/scan.h5" >"$work/series_same_names.txt"
printf '%s\n' "$work/series_c/scan.h5" "$work/series_c/scan_roi.h5" >"$work/series_output_is_input.txt"
printf '%s\n' "$work/series_a/scan.h5" >"$work/series_one.txt"
: >"$out/existing.csv"
expect_error series_same_output_name 2 "would both write '$out/series/scan_roi.h5'" --input-list "$work/series_same_names.txt" --output-dir "$out/series" "${g[@]}"
expect_error series_output_is_input 2 "'$work/series_c/scan_roi.h5' is the input" --input-list "$work/series_output_is_input.txt" "${g[@]}"
expect_error series_summary_exists 2 "--series-summary '$out/existing.csv' already exists" --input-list "$work/series_one.txt" --series-summary "$out/existing.csv" --output-dir "$out/series" "${g[@]}"
expect_error series_summary_is_list 2 "--series-summary '$work/series_one.txt' is the input" --input-list "$work/series_one.txt" --series-summary "$work/series_one.txt" --overwrite "${g[@]}"
[ ! -e "$out/series" ] || [ -z "$(ls -A "$out/series")" ] || { failed=$((failed + 1)); echo "FAILED  series: outputs written: $(ls "$out/series")"; }

# Previews of a scan with one position far off (an encoder glitch): memory and time bounded by the
# frame count, not by the extent. (10^6 m off is refused as no scan's extent; the previews of such
# positions are tested in test_preview.cpp.)
for far in 1cm; do
  name=preview_position_${far}_off
  rm -rf "$out/$name"
  /usr/bin/time -f '%e %M' -o "$out/$name.time" timeout 60 "${mpiexec[@]}" "$ptyroi" -q \
    --input "$in/positions_${far}_off.h5" --preview "$out/$name" >/dev/null 2>"$out/$name.stderr"
  status=$?
  read -r seconds kilobytes <"$out/$name.time" 2>/dev/null || seconds=999 kilobytes=999999999
  if [ "$status" -eq 0 ] && [ "$(ls "$out/$name" | wc -l)" -eq 7 ] && ! grep -qv '^ptyroi: notice:' "$out/$name.stderr" \
     && [ "${kilobytes:-999999999}" -lt 400000 ] && awk -v s="$seconds" 'BEGIN {exit !(s < 20)}'; then
    passed=$((passed + 1)); echo "ok      $name: 7 images, ${seconds} s, $((kilobytes / 1024)) MiB"
  else
    failed=$((failed + 1)); echo "FAILED  $name: exit $status, ${seconds} s, ${kilobytes} KiB"; head -3 "$out/$name.stderr"
  fi
done

# Read-only output directory and a full disk: small tmpfs mounts, where the machine allows them.
mkdir -p "$work/readonly" "$work/full"
if mount -t tmpfs -o size=1m,ro tmpfs "$work/readonly" 2>/dev/null; then
  expect_error output_dir_readonly 2 "is not writable" --input "$in/good.h5" "${g[@]}" --output "$work/readonly/x.h5"
  expect_error preview_dir_readonly 2 "--preview '$work/readonly/previews' cannot be created" --input "$in/good.h5" "${g[@]}" --preview "$work/readonly/previews" $(outputs preview_dir_readonly)
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

# --allow-missing-frames: the 4 frames of unwritten chunks (6, 7, 10, 11) are left out, counted and not selected,
# the same for any rank count.
name=allow_missing_frames
masks=()
for n in 1 2 3; do
  timeout 60 mpiexec -q --oversubscribe -n $n "$ptyroi" --input "$in/unwritten_chunks.h5" "${g[@]}" --allow-missing-frames \
    --no-contrast-test --output "$out/$name$n.h5" --summary "$out/$name$n.json" -q >"$out/$name.stdout" 2>"$out/$name.stderr" \
    && grep -q '"missing_frames": 4' "$out/$name$n.json" \
    && masks+=("$(/usr/bin/python3 -c 'import h5py, sys; print(h5py.File(sys.argv[1])["/roi/mask"][()].ravel().tolist())' "$out/$name$n.h5")")
done
if [ ${#masks[@]} -eq 3 ] && [ "${masks[0]}" = "${masks[1]}" ] && [ "${masks[0]}" = "${masks[2]}" ] \
   && /usr/bin/python3 -c 'import sys; m = eval(sys.argv[1]); sys.exit(any(m[k] for k in (6, 7, 10, 11)) or not any(m))' "${masks[0]}"; then
  passed=$((passed + 1)); echo "ok      $name: exit 0, missing_frames 4, frames 6 7 10 11 not selected, mask ${masks[0]} on 1/2/3 ranks"
else
  failed=$((failed + 1)); echo "FAILED  $name: masks '${masks[*]}'"; cat "$out/$name.stderr"
fi

# A VDS (two source files) reads like the same frames stored plainly: the same mask.
name=vds_reads
timeout 60 "${mpiexec[@]}" "$ptyroi" --input "$in/vds.h5" "${g[@]}" --no-contrast-test --output "$out/$name.h5" -q 2>"$out/$name.stderr"
vds_status=$?
timeout 60 "${mpiexec[@]}" "$ptyroi" --input "$in/good.h5" "${g[@]}" --no-contrast-test --output "$out/${name}_plain.h5" -q 2>>"$out/$name.stderr"
mask_of() { /usr/bin/python3 -c 'import h5py, sys; print(h5py.File(sys.argv[1])["/roi/mask"][()].ravel().tolist())' "$1" 2>/dev/null; }
if [ $vds_status -eq 0 ] && [ -n "$(mask_of "$out/$name.h5")" ] && [ "$(mask_of "$out/$name.h5")" = "$(mask_of "$out/${name}_plain.h5")" ] \
   && "$ptyroi" inspect "$in/vds.h5" | grep -q 'virtual (VDS) of 2 sources'; then
  passed=$((passed + 1)); echo "ok      $name: the VDS gives the plain file's mask $(mask_of "$out/$name.h5"); inspect shows it virtual"
else
  failed=$((failed + 1)); echo "FAILED  $name (exit $vds_status)"; cat "$out/$name.stderr"
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
