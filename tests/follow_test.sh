#!/usr/bin/env bash
# ptyroi --follow on acquisitions played back by a writer process (tests/follow_writer.py) while
# `mpiexec ptyroi --follow` runs: real processes, real files, no mocks. For each acquisition:
#   - the live summary is polled as a display would (tests/follow_check.py poll): every version whole
#     JSON, at least three live updates with a RoI and frames_done increasing, then "done";
#   - the final outputs equal a batch run on the finished files, bitwise (every dataset: /roi/mask,
#     the features, the patterns), on 1 and 2 ranks; the live mask ends as the final /roi;
#   - no temporary file is left.
# Then the failures: an input that never appears, a rank failing while following, usage errors, a
# SIGTERM: one error line, the documented status, no final output.
# Usage: follow_test.sh PTYROI PTYROI_SIMULATE PYTHON3 WORKDIR
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ptyroi=$1 simulate=$2 python=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
writer=("$python" "$here/follow_writer.py")
check=("$python" "$here/follow_check.py")
mpiexec=(mpiexec -q --oversubscribe)
rm -rf "$work" && mkdir -p "$work"
cd "$work" || exit 1
mkdir -p src
passed=0 failed=0
report() {  # NAME PROBLEMS...
  local name=$1; shift
  if [ $# -eq 0 ]; then passed=$((passed + 1)); echo "ok      $name"
  else failed=$((failed + 1)); echo "FAILED  $name: $*"; fi
}

# The scans: a NeXus master with 9 data files of 20 frames (bitshuffle-LZ4, mask, flag value, hot
# pixels), positions in a CSV (um); the same kind of scan as a plain file (for the SWMR writer).
"${mpiexec[@]}" -n 2 "$simulate" --layout nexus --frames-per-file 20 --rows 12 --cols 14 --frame-size 64 --seed 4 \
  --gaps --hot-pixels 5 --output src/eiger_master.h5 >/dev/null || { echo "cannot simulate"; exit 1; }
"${mpiexec[@]}" -n 2 "$simulate" --rows 12 --cols 14 --frame-size 64 --seed 5 --gaps --hot-pixels 5 \
  --output src/plain.h5 >/dev/null || { echo "cannot simulate"; exit 1; }

# follow NAME RANKS WRITER_ARGS -- PTYROI_ARGS -- LIVE_ARGS: plays the acquisition back, follows it
# (PTYROI_ARGS and LIVE_ARGS), checks, and runs the batch on the finished files (PTYROI_ARGS).
follow() {
  local name=$1 ranks=$2; shift 2
  local writer_args=() ptyroi_args=() live_args=()
  while [ "$1" != "--" ]; do writer_args+=("$1"); shift; done
  shift
  while [ "$1" != "--" ]; do ptyroi_args+=("$1"); shift; done
  shift
  live_args=("$@")
  mkdir -p "$name"
  local problems=()
  "${writer[@]}" "${writer_args[@]}" >"$name/writer.log" 2>"$name/writer.err" &
  local writer_pid=$!
  "${check[@]}" poll "$name/roi.json" "$name/poll.log" --timeout 90 >"$name/poll.out" 2>&1 &
  local poll_pid=$!
  local start=$SECONDS
  timeout 120 "${mpiexec[@]}" -n "$ranks" "$ptyroi" --follow "${ptyroi_args[@]}" "${live_args[@]}" --output "$name/roi.h5" \
    --summary "$name/roi.json" --preview "$name/preview" >"$name/stdout" 2>"$name/stderr"
  local status=$?
  wait "$writer_pid" || problems+=("the writer failed: $(tail -1 "$name/writer.err")")
  wait "$poll_pid" || problems+=("$(tail -1 "$name/poll.out")")
  [ "$status" -eq 0 ] || problems+=("exit status $status: $(head -1 "$name/stderr")")
  "${check[@]}" updates "$name/poll.log" 3 >"$name/updates.out" || problems+=("$(grep FAILED "$name/updates.out")")
  for n in 1 2; do
    "${mpiexec[@]}" -n $n "$ptyroi" "${ptyroi_args[@]}" --output "$name/batch_n$n.h5" --quiet \
      2>"$name/batch_n$n.err" || problems+=("the batch run on $n ranks failed: $(head -1 "$name/batch_n$n.err")")
    "${check[@]}" same "$name/roi.h5" "$name/batch_n$n.h5" >"$name/same_n$n.out" \
      || problems+=("not the batch output ($n ranks): $(grep FAILED "$name/same_n$n.out" | head -3)")
  done
  # The live mask ends as the final record (mask-only: /roi alone).
  "$python" - "$name/roi.live.h5" "$name/roi.h5" >"$name/live_mask.out" 2>&1 <<'EOF' || problems+=("$(tail -1 "$name/live_mask.out")")
import sys, h5py, numpy as np
live, final = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for name in ("roi/mask", "roi/features/total_intensity", "roi/features/com_x", "roi/indexes"):
    if np.asarray(live[name][()]).tobytes() != np.asarray(final[name][()]).tobytes():
        sys.exit("the live mask file's %s is not the final one" % name)
EOF
  [ "$(ls "$name/preview"/*.png 2>/dev/null | wc -l)" -eq 7 ] || problems+=("not 7 previews")
  find "$name" -name '*.partial' | grep -q . && problems+=("temporary files left: $(find "$name" -name '*.partial')")
  "${check[@]}" latency "$name/writer.log" "$name/poll.log" >"$name/latency.out" 2>&1
  report "$name ($((SECONDS - start)) s; $(cut -d: -f2- "$name/updates.out" | cut -c1-60); $(cut -d, -f2- "$name/latency.out" | cut -c1-60))" \
    "${problems[@]}"
}

nexus_input=(--positions-scale 1e-6 --border 1)
# DECTRIS-like: the master first with every link and nimages, the data files copied in one by one.
follow nexus_upfront 2 nexus src/eiger_master.h5 nexus_upfront/live --delay 0.4 -- \
  --input nexus_upfront/live/eiger_master.h5 --positions nexus_upfront/live/eiger_positions.csv "${nexus_input[@]}" \
  -- --update-frames 10 --idle-timeout 20
# The master replaced with one more link per data file, no nimages: ends at --expect-frames.
follow nexus_grow 3 nexus src/eiger_master.h5 nexus_grow/live --master grow --no-nimages --delay 0.4 -- \
  --input nexus_grow/live/eiger_master.h5 --positions nexus_grow/live/eiger_positions.csv "${nexus_input[@]}" \
  -- --update-every 0.3 --expect-frames 168 --idle-timeout 20
# One file written with SWMR, 12 frames per step, positions datasets growing behind the stack;
# nothing says how many frames: ends after --idle-timeout, once the writer has closed the file.
follow swmr 2 swmr src/plain.h5 swmr/live.h5 --frames-per-step 12 --delay 0.3 -- \
  --input swmr/live.h5 --border 1 -- --update-every 0.3 --idle-timeout 2

# --- failures -------------------------------------------------------------------------------------
# one_error NAME STATUS PATTERN COMMAND...: exit STATUS, one stderr line matching PATTERN, no output.
one_error() {
  local name=$1 want=$2 pattern=$3; shift 3
  mkdir -p "$name"
  local start=$SECONDS
  timeout 60 "$@" >"$name/stdout" 2>"$name/stderr"
  local status=$? problems=()
  [ "$status" -eq "$want" ] || problems+=("exit status $status, expected $want")
  [ "$(grep -c . "$name/stderr")" -eq 1 ] || problems+=("not one line on stderr: $(head -3 "$name/stderr")")
  grep -q -- "$pattern" "$name/stderr" || problems+=("no '$pattern' in: $(head -1 "$name/stderr")")
  [ ! -e "$name/roi.h5" ] || problems+=("final output written")
  find "$name" -name '*.partial' | grep -q . && problems+=("temporary files left")
  report "$name ($((SECONDS - start)) s)" "${problems[@]}"
}
one_error never_appears 1 "cannot be used after waiting 1 s (--idle-timeout)" \
  "${mpiexec[@]}" -n 2 "$ptyroi" --follow --input never_appears/none_master.h5 --grid 12x14 --idle-timeout 1 \
  --output never_appears/roi.h5 --summary never_appears/roi.json
one_error follow_with_list 2 "--follow watches one acquisition" \
  "${mpiexec[@]}" -n 2 "$ptyroi" --follow --input-list src/none.txt --idle-timeout 1
one_error update_without_follow 2 "are for --follow" \
  "${mpiexec[@]}" -n 2 "$ptyroi" --input src/plain.h5 --update-every 2
one_error bad_update_every 2 "--update-every must be" \
  "${mpiexec[@]}" -n 2 "$ptyroi" --follow --input src/plain.h5 --update-every -1

# Rank 1 fails reading frames while the acquisition goes on: the whole run ends within seconds with
# rank 1's line (status 3), no final output, and the live summary says it failed.
name=rank_fails
mkdir -p $name
"${writer[@]}" nexus src/eiger_master.h5 $name/live --delay 0.4 >$name/writer.log 2>&1 &
writer_pid=$!
start=$SECONDS
PTYROI_FAULT=1:features timeout 60 "${mpiexec[@]}" -n 2 "$ptyroi" --follow --input $name/live/eiger_master.h5 \
  --positions $name/live/eiger_positions.csv "${nexus_input[@]}" --update-frames 20 \
  --output $name/roi.h5 --summary $name/roi.json >$name/stdout 2>$name/stderr
status=$? problems=()
elapsed=$((SECONDS - start))
wait $writer_pid
[ "$status" -eq 3 ] || problems+=("exit status $status, expected 3")
[ "$elapsed" -le 10 ] || problems+=("took $elapsed s")
[ "$(grep -c . $name/stderr)" -eq 1 ] || problems+=("not one line on stderr")
grep -q "injected fault (PTYROI_FAULT) on rank 1 in phase features" $name/stderr || problems+=("no line naming rank 1")
[ ! -e $name/roi.h5 ] || problems+=("final output written")
find $name -name '*.partial' | grep -q . && problems+=("temporary files left")
# The live summary, written before the failure, now says so.
"$python" -c 'import json, sys; f = json.load(open(sys.argv[1]))["follow"]; sys.exit(f["state"] != "failed" or "injected fault" not in f["note"])' \
  $name/roi.json 2>/dev/null || problems+=("no live summary saying the run failed")
report "$name ($elapsed s)" "${problems[@]}"

# SIGTERM while following (a batch system's time limit): non-zero, no temporary file, no final output.
name=sigterm
mkdir -p $name
"${writer[@]}" nexus src/eiger_master.h5 $name/live --delay 0.4 >$name/writer.log 2>&1 &
writer_pid=$!
"${mpiexec[@]}" -n 2 "$ptyroi" --follow --input $name/live/eiger_master.h5 --positions $name/live/eiger_positions.csv \
  "${nexus_input[@]}" --update-frames 20 --output $name/roi.h5 --summary $name/roi.json --preview $name/preview \
  >$name/stdout 2>$name/stderr &
launcher=$!
for _ in $(seq 1 100); do [ -e $name/roi.live.h5 ] && break; sleep 0.1; done
problems=()
[ -e $name/roi.live.h5 ] || problems+=("no live mask within 10 s")
kill -TERM $launcher
for _ in $(seq 1 300); do kill -0 $launcher 2>/dev/null || break; sleep 0.1; done
if kill -0 $launcher 2>/dev/null; then problems+=("still running 30 s after SIGTERM"); kill -KILL $launcher; fi
wait $launcher
status=$?
wait $writer_pid
[ "$status" -ne 0 ] || problems+=("exit status 0")
[ ! -e $name/roi.h5 ] || problems+=("final output written")
find $name -name '*.partial' | grep -q . && problems+=("temporary files left")
report "$name (exit $status)" "${problems[@]}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
