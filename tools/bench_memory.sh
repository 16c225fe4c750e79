#!/usr/bin/env bash
# Peak resident memory per rank as the scan grows (issue 16): does a rank's memory stay O(K / P)?
#
#   1. Makes the scans with ptyroi-simulate, unless present: K = 10^5, 10^6 and 10^7 frames of
#      16 x 16 uint16 (rasters of 250 x 400, 1000 x 1000 and 2500 x 4000; 5.1 GB at 10^7).
#   2. Runs the whole pipeline (features, statistics, maps, k-means, border 2, summary JSON; no
#      subset file) on RANKS ranks (default 8, oversubscribed) with `--grid ROWSxCOLS --positions
#      none`, each rank under /usr/bin/time -f %M, REPS times (the peak of a rank hardly varies;
#      the medians are reported).
#   3. Writes DIR/memory_results.md and DIR/memory_raw.tsv and prints the table: the largest peak
#      over ranks at each K, rank 0 apart (it writes the summary), the growth from the smallest to
#      the largest K, and that growth against K / P x the bytes per frame a rank must keep.
#
# The bytes per frame a rank keeps for its own frames (ptyroi::RoiResult and the record's positions):
# the features (T, O_x, O_y, has_com and two pixel counts: 48), |c| (8), the --grid column and row
# written as positions (16), the two smoothed maps (16), the two maps' k-means labels (2 x 4) and
# selections, the mask before and after the border (4) = 100 bytes; growth above K / P x 100 bytes
# is state that is not the rank's own frames'.
#
# Usage: tools/bench_memory.sh [--work DIR] [--ranks P] [--reps N] [--max-k K] [--no-build] [--build-dir DIR]
#   --work DIR      scans and raw results (default /tmp/ptyroi-bench-memory; never inside the repo)
#   --ranks P       MPI ranks (default 8; --oversubscribe)
#   --reps N        repetitions per K (default 3)
#   --max-k K       largest K: 100000, 1000000 or 10000000 (default)
#   --no-build      use the binaries as built (default: tools/build.sh release first)
#   --build-dir DIR where ptyroi and ptyroi-simulate are (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

work=/tmp/ptyroi-bench-memory
ranks=8
reps=3
max_k=10000000
build=1
bin=build/release
usage() { sed -n '/^# Usage:/,/^#   --build-dir/s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
  case $1 in
    --work) work=${2:?--work needs a directory}; shift 2 ;;
    --ranks) ranks=${2:?--ranks needs a number}; shift 2 ;;
    --reps) reps=${2:?--reps needs a number}; shift 2 ;;
    --max-k) max_k=${2:?--max-k needs a number}; shift 2 ;;
    --no-build) build=0; shift ;;
    --build-dir) bin=${2:?--build-dir needs a directory}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench_memory: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
fail() { echo "bench_memory: error: $*" >&2; exit 1; }
case $ranks in '' | *[!0-9]* | 0) fail "--ranks must be a positive integer (got '$ranks')" ;; esac
case $reps in '' | *[!0-9]* | 0) fail "--reps must be a positive integer (got '$reps')" ;; esac
case $max_k in 100000 | 1000000 | 10000000) ;; *) fail "--max-k must be 100000, 1000000 or 10000000 (got '$max_k')" ;; esac

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
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run_mpi() { mpiexec -q --oversubscribe -n "$@"; }

sizes=("100000 250 400")
[ "$max_k" -ge 1000000 ] && sizes+=("1000000 1000 1000")
[ "$max_k" -ge 10000000 ] && sizes+=("10000000 2500 4000")
frame=16
bytes_per_frame=100

# A scan is present when its /data has the expected shape; scans are written under a temporary
# name and renamed when complete, so a present file is whole.
has_scan() { [ -f "$1" ] && h5ls "$1/data" 2>/dev/null | grep -q "{$2, $frame, $frame}"; }
need=0
for s in "${sizes[@]}"; do
  read -r k r c <<<"$s"
  has_scan "$work/k$k.h5" "$k" || need=$((need + k * (frame * frame * 2 + 64)))
done
avail=$(df --output=avail -B1 "$work" | tail -n 1 | tr -d ' ')
[ "$avail" -ge "$need" ] || fail "not enough free space in $work: need $((need / 1000000)) MB, have $((avail / 1000000)) MB"
for s in "${sizes[@]}"; do
  read -r k r c <<<"$s"
  file=$work/k$k.h5
  if has_scan "$file" "$k"; then
    echo "bench_memory: using $file"
    continue
  fi
  echo "bench_memory: simulating $file ($k frames of ${frame}x$frame uint16, $r x $c raster)"
  rm -f "$file" "$file.tmp"
  run_mpi 2 "$bin/ptyroi-simulate" --output "$file.tmp" --rows "$r" --cols "$c" --frame-size "$frame" \
    --dtype uint16 --seed 1
  mv "$file.tmp" "$file"
done

raw=$work/memory_raw.tsv
runs=$work/runs
rm -rf "$runs"
mkdir -p "$runs"
printf 'K\trep\trank\tmax_rss_kib\troi_frames\ttotal_s\n' >"$raw"
json_top() { sed -n "s/^  \"$2\": \([^,]*\),\{0,1\}\$/\1/p" "$1"; }
json_timing() { sed -n "s/^    \"$2\": \([^,]*\),\{0,1\}\$/\1/p" "$1"; }
for s in "${sizes[@]}"; do
  read -r k r c <<<"$s"
  echo "bench_memory: K = $k"
  cat "$work/k$k.h5" >/dev/null # page cache warm
  for ((rep = 1; rep <= reps; rep++)); do
    prefix=$runs/k$k.$rep
    summary=$prefix.json
    # shellcheck disable=SC2016  # expanded by the rank's own shell, not here
    run_mpi "$ranks" bash -c 'exec /usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$prefix" \
      "$bin/ptyroi" --input "$work/k$k.h5" --grid "${r}x$c" --positions none --border 2 --quiet \
      --summary "$summary"
    for ((rank = 0; rank < ranks; rank++)); do
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$rep" "$rank" "$(tail -n 1 "$prefix.$rank")" \
        "$(json_top "$summary" roi_frames)" "$(json_timing "$summary" total_s)" >>"$raw"
    done
  done
done

# median over repetitions of the largest peak over the ranks selected (awk condition on $3)
peak() { # K RANK-CONDITION
  awk -F '\t' -v k="$1" "NR > 1 && \$1 == k && ($2) { if (\$4 > m[\$2]) m[\$2] = \$4 } END { for (r in m) print m[r] }" "$raw" |
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
median_of() { # K COLUMN
  awk -F '\t' -v k="$1" -v col="$2" 'NR > 1 && $1 == k && $3 == 0 { print $col }' "$raw" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mib() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }
first_k=$(echo "${sizes[0]}" | cut -d ' ' -f 1)
last_k=$(echo "${sizes[-1]}" | cut -d ' ' -f 1)
report=$work/memory_results.md
{
  echo "### ptyroi peak memory per rank ($ranks ranks, $reps repetitions, medians)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  # shellcheck disable=SC1091
  echo "- machine: $(nproc) cores, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"); commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- scans: ${frame}×$frame uint16 from ptyroi-simulate; \`mpiexec -n $ranks --oversubscribe ptyroi --grid ROWSxCOLS --positions none --border 2 --summary\`, no subset file"
  echo
  echo "| K | raster | RoI frames | total_s | peak RSS, rank 0 (MiB) | peak RSS, largest of ranks 1..$((ranks - 1)) (MiB) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for s in "${sizes[@]}"; do
    read -r k r c <<<"$s"
    echo "| $k | ${r}×$c | $(median_of "$k" 5) | $(median_of "$k" 6) | $(mib "$(peak "$k" '$3 == 0')") | $(mib "$(peak "$k" '$3 > 0')") |"
  done
  echo
  if [ "$first_k" != "$last_k" ]; then
    for who in '$3 == 0' '$3 > 0'; do
      a=$(peak "$first_k" "$who")
      b=$(peak "$last_k" "$who")
      share=$(awk -v k1="$first_k" -v k2="$last_k" -v p="$ranks" -v bpf="$bytes_per_frame" 'BEGIN { printf "%.1f", (k2 - k1) / p * bpf / 1048576 }')
      growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
      ok=$(awk -v g="$growth" -v s="$share" -v b="$b" 'BEGIN { print (g < s && b / 1024 <= 256) ? "**pass**" : "**FAIL**" }')
      label=$([ "$who" = '$3 == 0' ] && echo "rank 0" || echo "ranks 1..$((ranks - 1))")
      echo "- $label: K = $first_k → $last_k grows by $growth MiB; the frames' own share (K/P × $bytes_per_frame bytes) is $share MiB; peak at K = $last_k $(mib "$b") MiB; target: growth below the share and peak ≤ 256 MiB: $ok"
    done
  fi
} >"$report"
echo
cat "$report"
echo
echo "bench_memory: raw numbers in $raw, this report in $report"
