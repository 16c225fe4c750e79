#!/usr/bin/env bash
# Same-run benchmark of ptyroi against dd and cp on the paper-scale scan (issue 4).
#
#   1. Makes the scans with ptyroi-simulate, unless present: 15,980 frames of 256 x 256 uint32 on an
#      85 x 188 raster (4.19 GB), the same scan compressed with bitshuffle-LZ4 (HDF5 filter 32008,
#      as Eiger detectors write), and a 4,000-frame scan (20 x 200) for the memory comparison.
#   2. Warms the page cache, then runs REPS repetitions of: dd of the scan, the ptyroi feature pass
#      on 1 and 2 ranks, the whole pipeline on 2 ranks with and without writing the RoI subset, cp
#      of as many bytes as the subset, and ptyroi on the compressed copy on 1 and 2 ranks. The order
#      of the commands changes from one repetition to the next (rotated, every other one reversed).
#   3. Measures the peak resident memory of every rank (/usr/bin/time -f %M) for K = 4,000 and
#      K = 15,980, and prints the machine, the date and a Markdown table of medians, GB/s, ratios
#      to dd (to cp for the subset write) and the issue's targets.
#   4. Then, in the same run, tools/bench_codec.sh (bitshuffle-LZ4 and deflate feature passes decoded
#      in-process and through --decoder hdf5, 1 and 2 ranks, an h5py read of the same files) and
#      tools/bench_memory.sh (peak RSS per rank at K = 10^5, 10^6, 10^7 frames of 16 x 16, 8 ranks
#      oversubscribed), each with its own table; --no-codec and --no-memory leave them out.
#
# ptyroi's phases are its own --summary timings (maximum over ranks); dd, cp and the mpiexec wall
# times are measured here. Timings stay out of the unit tests: this is the only place they live.
#
# Usage: tools/bench.sh [--work DIR] [--reps N] [--small] [--prepare] [--no-build] [--build-dir DIR] [--no-codec] [--no-memory]
#   --work DIR      scans, outputs and raw results (default /tmp/ptyroi-bench; never inside the repo)
#   --reps N        repetitions (default 5); each number in the table is the median over them
#   --small         a 20 x 30 scan (600 frames) and a 10 x 15 one for memory: for trying the script
#   --prepare       only make the scans (e.g. while the machine is busy), measure nothing
#   --no-build      use the binaries as built (default: tools/build.sh release first)
#   --build-dir DIR where ptyroi and ptyroi-simulate are (default build/release)
#   --no-codec      leave out tools/bench_codec.sh (its scans in DIR/codec)
#   --no-memory     leave out tools/bench_memory.sh (its scans in DIR/memory; 5.2 GB at K = 10^7;
#                   with --small it stops at K = 10^6)
# The files stay in DIR for the next run; delete DIR to start afresh. Raw numbers: DIR/raw.tsv,
# the report: DIR/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

work=/tmp/ptyroi-bench
reps=5
small=0
prepare=0
build=1
bin=build/release
codec=1
memory=1
usage() { sed -n '/^# Usage:/,/^# the report/s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
  case $1 in
    --work) work=${2:?--work needs a directory}; shift 2 ;;
    --reps) reps=${2:?--reps needs a number}; shift 2 ;;
    --small) small=1; shift ;;
    --prepare) prepare=1; shift ;;
    --no-build) build=0; shift ;;
    --build-dir) bin=${2:?--build-dir needs a directory}; shift 2 ;;
    --no-codec) codec=0; shift ;;
    --no-memory) memory=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
fail() { echo "bench: error: $*" >&2; exit 1; }
case $reps in '' | *[!0-9]* | 0) fail "--reps must be a positive integer (got '$reps')" ;; esac

# --- the scans --------------------------------------------------------------------------------
if [ "$small" = 1 ]; then
  rows=20 cols=30 small_rows=10 small_cols=15 tag=small
else
  rows=85 cols=188 small_rows=20 small_cols=200 tag=paper
fi
frame=256
pixel_bytes=4
frames=$((rows * cols))
small_frames=$((small_rows * small_cols))
frame_bytes=$((frame * frame * pixel_bytes))
raw_bytes=$((frames * frame_bytes))
small_bytes=$((small_frames * frame_bytes))
block_frames=$(((4 << 20) / frame_bytes)) # ptyroi's default --block-frames: the frames that fit in 4 MiB
[ "$block_frames" -ge 1 ] || block_frames=1
border=2

if [ "$build" = 1 ]; then
  bash tools/build.sh release
else
  bash tools/setup.sh # only installs what is missing (needs root then)
fi
bin=$(cd "$bin" && pwd)
for exe in ptyroi ptyroi-simulate; do
  [ -x "$bin/$exe" ] || fail "$bin/$exe is missing: build first (cmake --build --preset release)"
done
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time is missing: apt-get install time"

work=$(realpath -m "$work")
case $work/ in "$(pwd -P)"/*) fail "--work '$work' is inside the repository: use a directory outside it" ;; esac
mkdir -p "$work"

raw=$work/$tag.h5
compressed=$work/${tag}_bslz4.h5
small_scan=$work/${tag}_k$small_frames.h5

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run_mpi() { mpiexec -q --oversubscribe -n "$@"; }

# A scan is present when its /data has the expected shape (and filter, for the compressed copy);
# scans are written to a temporary name and renamed when complete, so a present file is whole.
has_scan() { # FILE FRAMES [compressed]
  [ -f "$1" ] && h5ls "$1/data" 2>/dev/null | grep -q "{$2, $frame, $frame}" || return 1
  [ -z "${3:-}" ] || h5dump -p -H -d /data "$1" 2>/dev/null | grep -q 'FILTER_ID 32008'
}

# Disk: every missing scan at its raw size (the compressed one too, as a worst case), plus the
# RoI subset, the cp source and the cp copy, each budgeted at half the scan.
need=$((3 * raw_bytes / 2))
has_scan "$raw" "$frames" || need=$((need + raw_bytes))
has_scan "$compressed" "$frames" compressed || need=$((need + raw_bytes))
has_scan "$small_scan" "$small_frames" || need=$((need + small_bytes))
avail=$(df --output=avail -B1 "$work" | tail -n 1 | tr -d ' ')
gb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e9 }'; }
if [ "$avail" -lt "$need" ]; then
  fail "not enough free space in $work: need $(gb "$need") GB (missing scans + room for the RoI subset and its cp copy), have $(gb "$avail") GB; free some or use --work DIR elsewhere"
fi
echo "bench: $work: $(gb "$avail") GB free, up to $(gb "$need") GB needed"

simulate() { # FILE ROWS COLS [extra ptyroi-simulate options]
  local file=$1 r=$2 c=$3
  shift 3
  if has_scan "$file" $((r * c)) ${1:+compressed}; then
    echo "bench: using $file"
    return
  fi
  echo "bench: simulating $file ($((r * c)) frames of ${frame}x$frame uint32, $r x $c raster${*:+, $*})"
  rm -f "$file" "$file.tmp"
  run_mpi 2 "$bin/ptyroi-simulate" --output "$file.tmp" --rows "$r" --cols "$c" --frame-size "$frame" \
    --dtype uint32 --seed 1 "$@"
  mv "$file.tmp" "$file"
}
simulate "$raw" "$rows" "$cols"
# The same scan (same seed, so the same patterns) with bitshuffle-LZ4, written by ptyroi-simulate's
# collective filtered writes on 2 ranks: no serial h5repack pass over the raw file is needed.
simulate "$compressed" "$rows" "$cols" --compression bitshuffle-lz4
simulate "$small_scan" "$small_rows" "$small_cols"
compressed_bytes=$(stat -c %s "$compressed")
if [ "$prepare" = 1 ]; then
  echo "bench: scans ready in $work (--prepare: nothing measured)"
  exit 0
fi

# --- warm up ----------------------------------------------------------------------------------
inputs_bytes=$(($(stat -c %s "$raw") + compressed_bytes + $(stat -c %s "$small_scan")))
mem_avail=$(awk '/^MemAvailable:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
if [ "$mem_avail" -lt $((inputs_bytes + 2 * raw_bytes / 2)) ]; then
  echo "bench: warning: $(gb "$mem_avail") GB of memory available for $(gb "$inputs_bytes") GB of scans plus the subset: the page cache may not hold them, the numbers may include disk reads" >&2
fi
echo "bench: warming the page cache"
cat "$raw" "$compressed" "$small_scan" >/dev/null

raw_tsv=$work/raw.tsv
runs=$work/runs
rm -rf "$runs"
mkdir -p "$runs"
printf 'rep\tcommand\tmetric\tvalue\n' >"$raw_tsv"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$raw_tsv"; }
now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# Top-level and timing values of a ptyroi summary (nlohmann::json's two-space indentation).
json_top() { sed -n "s/^  \"$2\": \([^,]*\),\{0,1\}\$/\1/p" "$1"; }
json_timing() { sed -n "s/^    \"$2\": \([^,]*\),\{0,1\}\$/\1/p" "$1"; }

ptyroi_args=(--grid "${rows}x$cols" --border "$border" --quiet)
subset=$work/roi.h5
cp_source=$work/cp_source.h5
cp_copy=$work/cp_copy.h5

# One measured command: NAME REP. Outputs of the previous repetition are removed before the clock
# starts, so neither ptyroi nor cp pays for unlinking a 1 GB file.
measure() {
  local name=$1 rep=$2 start stop summary=$runs/$1.$2.json
  case $name in
    dd)
      start=$(now)
      dd if="$raw" of=/dev/null bs=4M status=none
      stop=$(now)
      record "$rep" dd wall_s "$(elapsed "$start" "$stop")"
      return ;;
    cp)
      rm -f "$cp_copy"
      start=$(now)
      cp "$cp_source" "$cp_copy"
      stop=$(now)
      record "$rep" cp wall_s "$(elapsed "$start" "$stop")"
      return ;;
  esac
  local ranks input=$raw extra=()
  case $name in
    features_1) ranks=1 ;;
    features_2) ranks=2 ;;
    write_2) ranks=2 extra=(--output "$subset"); rm -f "$subset" ;;
    bslz4_1) ranks=1 input=$compressed ;;
    bslz4_2) ranks=2 input=$compressed ;;
    *) fail "internal: unknown command $name" ;;
  esac
  start=$(now)
  run_mpi "$ranks" "$bin/ptyroi" --input "$input" "${ptyroi_args[@]}" --summary "$summary" "${extra[@]}"
  stop=$(now)
  record "$rep" "$name" wall_s "$(elapsed "$start" "$stop")"
  local key
  for key in open_s features_s statistics_s maps_s kmeans_s selection_s write_s total_s; do
    record "$rep" "$name" "$key" "$(json_timing "$summary" "$key")"
  done
  record "$rep" "$name" bytes_read "$(json_top "$summary" bytes_read)"
  record "$rep" "$name" roi_frames "$(json_top "$summary" roi_frames)"
}

# One untimed pass of every command warms the binaries, the libraries and the output path, and
# leaves the subset file whose size cp copies.
echo "bench: untimed warm-up pass"
commands=(dd features_1 features_2 write_2 bslz4_1 bslz4_2)
for c in "${commands[@]}"; do measure "$c" 0; done
subset_bytes=$(stat -c %s "$subset")
cp "$subset" "$cp_source"
cat "$cp_source" >/dev/null
measure cp 0
commands+=(cp)

load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
n=${#commands[@]}
for ((rep = 1; rep <= reps; rep++)); do
  order=()
  for ((i = 0; i < n; i++)); do order+=("${commands[$(((i + rep - 1) % n))]}"); done
  if ((rep % 2 == 0)); then
    reversed=()
    for ((i = n - 1; i >= 0; i--)); do reversed+=("${order[i]}"); done
    order=("${reversed[@]}")
  fi
  echo "bench: repetition $rep/$reps: ${order[*]}"
  for c in "${order[@]}"; do measure "$c" "$rep"; done
done
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)

# --- peak resident memory per rank -------------------------------------------------------------
# Each rank runs under /usr/bin/time, which writes its maximum RSS (KiB) to a file named after the
# rank (OMPI_COMM_WORLD_RANK is set by mpiexec before the rank starts).
rss_tsv=$work/rss.tsv
printf 'K\tmode\trank\tmax_rss_kib\n' >"$rss_tsv"
rss_run() { # K FILE GRID MODE
  local k=$1 file=$2 grid=$3 mode=$4 extra=() prefix=$runs/rss.$1.$4
  [ "$mode" = write ] && extra=(--output "$work/rss_roi.h5")
  rm -f "$work/rss_roi.h5" "$prefix".*
  # shellcheck disable=SC2016  # expanded by the rank's own shell, not here
  run_mpi 2 bash -c 'exec /usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$prefix" \
    "$bin/ptyroi" --input "$file" --grid "$grid" --border "$border" --quiet "${extra[@]}"
  local rank
  for rank in 0 1; do printf '%s\t%s\t%s\t%s\n' "$k" "$mode" "$rank" "$(tail -n 1 "$prefix.$rank")" >>"$rss_tsv"; done
}
echo "bench: peak memory per rank, K = $small_frames and K = $frames"
for mode in features write; do
  rss_run "$small_frames" "$small_scan" "${small_rows}x$small_cols" "$mode"
  rss_run "$frames" "$raw" "${rows}x$cols" "$mode"
done
rm -f "$work/rss_roi.h5" "$cp_copy"

# --- the report --------------------------------------------------------------------------------
# median COMMAND METRIC
median() {
  awk -F '\t' -v c="$1" -v m="$2" '$1 > 0 && $2 == c && $3 == m { print $4 }' "$raw_tsv" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.9g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# median over repetitions of (maps_s + kmeans_s) / total_s of one command
median_share() {
  awk -F '\t' -v c="$1" '$1 > 0 && $2 == c { v[$1, $3] = $4; r[$1] = 1 }
    END { for (i in r) print (v[i, "maps_s"] + v[i, "kmeans_s"]) / v[i, "total_s"] }' "$raw_tsv" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
verdict() { awk "BEGIN { print ($1) ? \"**pass**\" : \"**FAIL**\" }"; }

dd_s=$(median dd wall_s)
cp_s=$(median cp wall_s)
f1=$(median features_1 features_s)
f2=$(median features_2 features_s)
t2=$(median features_2 total_s)
w2_total=$(median write_2 total_s)
w2_write=$(median write_2 write_s)
b1=$(median bslz4_1 features_s)
b2=$(median bslz4_2 features_s)
bytes_read=$(median features_2 bytes_read)
roi_frames=$(median write_2 roi_frames)
subset_pattern_bytes=$((roi_frames * frame_bytes))
share=$(median_share features_2)
raw_file_bytes=$(stat -c %s "$raw")
for c in bslz4_1 bslz4_2; do
  [ "$(median "$c" roi_frames)" = "$roi_frames" ] ||
    echo "bench: warning: the compressed copy gives $(median "$c" roi_frames) RoI frames, the raw scan $roi_frames" >&2
done

rss() { awk -F '\t' -v k="$1" -v m="$2" -v r="$3" '$1 == k && $2 == m && $3 == r { printf "%.1f", $4 / 1024 }' "$rss_tsv"; }
block_mib=$(calc "%.0f" "$block_frames * $frame_bytes / 1048576")
rss_limit=$((128 + block_mib))
rss_ok=1
rss_rows=""
for mode in features write; do
  for rank in 0 1; do
    a=$(rss "$small_frames" "$mode" "$rank")
    b=$(rss "$frames" "$mode" "$rank")
    growth=$(calc "%+.1f" "100 * ($b - $a) / $a")
    ok=$(awk -v a="$a" -v b="$b" -v l="$rss_limit" 'BEGIN { d = (b - a) / a; if (d < 0) d = -d; print (d <= 0.10 && a <= l && b <= l) ? 1 : 0 }')
    [ "$ok" = 1 ] || rss_ok=0
    label=$([ "$mode" = write ] && echo "whole pipeline + subset write" || echo "whole pipeline, no write")
    rss_rows+="| $label | $rank | $a | $b | $growth% |"$'\n'
  done
done

ratio_dd() { calc "%.2f×" "$1 / $dd_s"; }
gbps() { calc "%.2f" "$1 / $2 / 1e9"; }
report=$work/results.md
{
  echo "### ptyroi benchmark ($tag scan, $reps repetitions, medians)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "- machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- software: $("$bin/ptyroi" --version 2>/dev/null | head -n 1 || echo ptyroi), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' + local changes'), HDF5 $(dpkg-query -W -f '${Version}' libhdf5-openmpi-103-1 2>/dev/null), OpenMPI $(dpkg-query -W -f '${Version}' openmpi-bin 2>/dev/null), bitshuffle $(dpkg-query -W -f '${Version}' bitshuffle 2>/dev/null)"
  echo "- load average: $load_before before the repetitions, $load_after after"
  echo "- scan: $frames frames of ${frame}×$frame uint32 on a ${rows}×$cols raster, $(gb "$raw_file_bytes") GB ($(gb "$bytes_read") GB of patterns); bitshuffle-LZ4 copy $(calc "%.1f" "$compressed_bytes / 1e6") MB ($(calc "%.1f" "$raw_file_bytes / $compressed_bytes"):1); page cache warm"
  echo "- RoI subset: $roi_frames frames, file $(gb "$subset_bytes") GB; ptyroi --border $border, --block-frames $block_frames"
  echo
  echo "| what | median s | GB/s | ratio | target | |"
  echo "| --- | --- | --- | --- | --- | --- |"
  echo "| \`dd bs=4M\` of the scan file | $(calc "%.3f" "$dd_s") | $(gbps "$raw_file_bytes" "$dd_s") | 1.00× dd | | |"
  echo "| feature pass (read + T + CoM), 1 rank | $(calc "%.3f" "$f1") | $(gbps "$bytes_read" "$f1") | $(ratio_dd "$f1") | | |"
  echo "| feature pass, 2 ranks | $(calc "%.3f" "$f2") | $(gbps "$bytes_read" "$f2") | $(ratio_dd "$f2") | ≤ 1.5× dd | $(verdict "$f2 <= 1.5 * $dd_s") |"
  echo "| whole pipeline, 2 ranks, no subset (\`total_s\`) | $(calc "%.3f" "$t2") | $(gbps "$bytes_read" "$t2") | $(ratio_dd "$t2") | ≤ 2× dd | $(verdict "$t2 <= 2 * $dd_s") |"
  echo "| … its maps + k-means | $(calc "%.4f" "$(median features_2 maps_s) + $(median features_2 kmeans_s)") | | $(calc "%.2f%%" "100 * $share") of total | ≤ 1% | $(verdict "$share <= 0.01") |"
  echo "| … mpiexec wall time (start-up included) | $(calc "%.3f" "$(median features_2 wall_s)") | | $(ratio_dd "$(median features_2 wall_s)") | | |"
  echo "| whole pipeline, 2 ranks, with subset (\`total_s\`) | $(calc "%.3f" "$w2_total") | | $(ratio_dd "$w2_total") | | |"
  echo "| … writing the subset (\`write_s\`) | $(calc "%.3f" "$w2_write") | $(gbps "$subset_pattern_bytes" "$w2_write") | $(calc "%.2f× cp" "$w2_write / $cp_s") | ≤ 1.5× cp | $(verdict "$w2_write <= 1.5 * $cp_s") |"
  echo "| \`cp\` of a file of the subset's size | $(calc "%.3f" "$cp_s") | $(gbps "$subset_bytes" "$cp_s") | $(ratio_dd "$cp_s") | | |"
  echo "| bitshuffle-LZ4 copy, feature pass, 1 rank | $(calc "%.3f" "$b1") | $(gbps "$bytes_read" "$b1") | $(ratio_dd "$b1") | | |"
  echo "| bitshuffle-LZ4 copy, feature pass, 2 ranks | $(calc "%.3f" "$b2") | $(gbps "$bytes_read" "$b2") | $(ratio_dd "$b2"); speed-up over 1 rank $(calc "%.2f×" "$b1 / $b2") | ≥ 1.8× faster than 1 rank | $(verdict "$b1 >= 1.8 * $b2") |"
  echo
  echo "GB/s of ptyroi rows: pattern bytes (decompressed) over the time; \`*_s\` are ptyroi's own --summary timings (maximum over ranks)."
  echo
  echo "Peak resident memory per rank (MiB, \`/usr/bin/time -f %M\`, 2 ranks); target: flat in K (within 10%) and ≤ 128 MiB + one read block ($block_mib MiB) = $rss_limit MiB: $(verdict "$rss_ok == 1")"
  echo
  echo "| run | rank | K = $small_frames | K = $frames | change |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s' "$rss_rows"
} >"$report"
echo
cat "$report"
echo
echo "bench: raw numbers in $raw_tsv and $rss_tsv, this report in $report"

# --- the compressed-input and memory-scaling benchmarks, in the same run --------------------------
if [ "$codec" = 1 ]; then
  echo
  bash tools/bench_codec.sh --no-build --build-dir "$bin" --work "$work/codec" --reps "$reps"
fi
if [ "$memory" = 1 ]; then
  echo
  max_k=10000000
  [ "$small" = 1 ] && max_k=1000000
  bash tools/bench_memory.sh --no-build --build-dir "$bin" --work "$work/memory" --max-k "$max_k"
fi
