#!/usr/bin/env bash
# Fault injection under real MPI: one chosen rank fails (PTYROI_FAULT=RANK:PHASE) in every phase,
# on rank 0 and on a non-zero rank. Each run must end within the timeout with the one error line
# and leave no output file. Then a rank that hangs in the write phase and a SIGTERM or SIGUSR1 from
# the batch system: the run must exit 128 + the signal and leave neither the output nor its
# temporary file. Then several jobs on one output, temporaries of others, a pair that cannot be
# completed, failures after the write, a disk filling up, and the fsync/rename system calls.
# Usage: fault_injection.sh PTYROI SCAN.h5 GRID WORKDIR
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and these machines run as root
ptyroi=$1 scan=$2 grid=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
mpiexec=(mpiexec -q --oversubscribe -n 2)
passed=0 failed=0
report() {  # NAME PROBLEMS...
  local name=$1; shift
  if [ $# -eq 0 ]; then passed=$((passed + 1)); echo "ok      $name"
  else failed=$((failed + 1)); echo "FAILED  $name: $*"; fi
}

for phase in open features reduce kmeans write; do
  for rank in 0 1; do
    name="fault_${phase}_rank${rank}"
    start=$(date +%s)
    PTYROI_FAULT="$rank:$phase" timeout 60 "${mpiexec[@]}" "$ptyroi" --input "$scan" --grid "$grid" \
      --output "$work/$name.h5" --summary "$work/$name.json" >"$work/$name.stdout" 2>"$work/$name.stderr"
    status=$? problems=()
    [ "$status" -ne 0 ] || problems+=("exit status 0")
    [ "$status" -ne 124 ] || problems+=("timed out (hang)")
    grep -q "injected fault (PTYROI_FAULT) on rank $rank in phase $phase" "$work/$name.stderr" \
      || problems+=("no error line naming rank $rank and phase $phase")
    [ "$(grep -c . "$work/$name.stderr")" -eq 1 ] || problems+=("not exactly one line on stderr")
    [ ! -e "$work/$name.h5" ] || problems+=("output file written")
    [ ! -e "$work/$name.json" ] || problems+=("summary written")
    ls "$work"/*.partial >/dev/null 2>&1 && problems+=("temporary file left")
    report "$name ($(( $(date +%s) - start )) s)" "${problems[@]}"
  done
done

# A signal from the batch system while rank 1 hangs in the write phase (SIGTERM: a time limit or
# scancel; SIGUSR1: Slurm's --signal, PBS's qsig, forwarded by mpiexec to the ranks): the temporary
# file exists, then must vanish; 128 + the signal, one line naming the signal, no output.
for signal in TERM USR1; do
  name=sig${signal,,}_during_write
  PTYROI_FAULT="1:write:hang" "${mpiexec[@]}" "$ptyroi" --input "$scan" --grid "$grid" \
    --output "$work/$name.h5" --summary "$work/$name.json" >"$work/$name.stdout" 2>"$work/$name.stderr" &
  launcher=$!
  # The temporary file has a name unique to the run: $name.h5.<pid>-<random>.partial.
  partial() { compgen -G "$work/$name.h5.*.partial" >/dev/null; }
  for _ in $(seq 1 300); do partial && break; sleep 0.1; done
  problems=()
  partial || problems+=("the temporary file never appeared")
  sleep 0.5
  kill -"$signal" "$launcher"
  for _ in $(seq 1 300); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$launcher" 2>/dev/null; then problems+=("still running 30 s after SIG$signal"); kill -KILL "$launcher"; fi
  wait "$launcher"; status=$?
  # SIGUSR1 is forwarded and mpiexec passes on the ranks' 128 + 10; SIGTERM OpenMPI's mpiexec
  # handles itself (it forwards it, then exits 1).
  expected=$((128 + $(kill -l "$signal")))
  [ "$signal" = TERM ] && expected=1
  [ "$status" -eq "$expected" ] || problems+=("exit status $status, expected $expected")
  lines=$(grep -c . "$work/$name.stderr")
  if [ "$signal" = TERM ]; then
    # mpiexec may end the ranks' output forwarding before rank 0's line gets through: at most one.
    [ "$lines" -le 1 ] || problems+=("$lines lines on stderr")
    [ "$lines" -eq 0 ] || grep -q "stopped by SIGTERM" "$work/$name.stderr" || problems+=("a line not naming SIGTERM")
  else
    [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr, expected 1")
    grep -q "stopped by SIG$signal" "$work/$name.stderr" || problems+=("no line naming SIG$signal")
  fi
  partial && problems+=("temporary file left")
  [ ! -e "$work/$name.h5" ] || problems+=("output file written")
  [ ! -e "$work/$name.json" ] || problems+=("summary written")
  report "$name (exit $status)" "${problems[@]}"
done

# --- several jobs, one output -----------------------------------------------------------------
check_file=$(dirname "$0")/check_roi_file.py
consistent() {  # FILE: complete and consistent (its mask, count and patterns agree with the input)
  /usr/bin/python3 "$check_file" "$1" "$scan" >"$work/check.out" 2>&1 || { cat "$work/check.out"; return 1; }
}
no_partials() { ! find "$1" -name '*.partial' | grep -q .; }
run_ptyroi() {  # STDERR-FILE ARGS...: a run with a timeout, stdout discarded
  local stderr=$1; shift
  timeout 120 "${mpiexec[@]}" "$ptyroi" --input "$scan" --grid "$grid" -q "$@" >/dev/null 2>"$stderr"
}

# A race made certain: job A pauses in its write phase while job B writes the same --output and
# commits; A then finds the file there. B wins, A exits 2 with one line and commits nothing (not
# its summary either), B's file is complete, no temporary file is left.
dir=$work/race && mkdir -p "$dir"
name=concurrent_output_race
PTYROI_FAULT='*:write:sleep=3' run_ptyroi "$dir/a.stderr" --output "$dir/x.h5" --summary "$dir/a.json" &
job_a=$!
for _ in $(seq 1 300); do compgen -G "$dir/x.h5.*.partial" >/dev/null && break; sleep 0.05; done
run_ptyroi "$dir/b.stderr" --output "$dir/x.h5" --summary "$dir/b.json"; status_b=$?
wait "$job_a"; status_a=$?
problems=()
[ "$status_b" -eq 0 ] || problems+=("job B exit $status_b: $(cat "$dir/b.stderr")")
[ "$status_a" -eq 2 ] || problems+=("job A exit $status_a, expected 2")
[ "$(grep -c . "$dir/a.stderr")" -eq 1 ] && grep -q "already exists" "$dir/a.stderr" \
  || problems+=("job A: not one 'already exists' line: $(cat "$dir/a.stderr")")
[ ! -e "$dir/a.json" ] || problems+=("job A committed its summary")
[ -f "$dir/b.json" ] || problems+=("job B has no summary")
consistent "$dir/x.h5" || problems+=("the output is not consistent")
no_partials "$dir" || problems+=("temporary file left")
report "$name" "${problems[@]}"

# Two jobs started together on one --output (no --overwrite), three times: exactly one wins, the
# other exits 2 with one line, the file is complete and consistent, no temporary file is left.
name=concurrent_output_simultaneous
problems=()
for round in 1 2 3; do
  dir=$work/simultaneous_$round && mkdir -p "$dir"
  run_ptyroi "$dir/a.stderr" --output "$dir/x.h5" & job_a=$!
  run_ptyroi "$dir/b.stderr" --output "$dir/x.h5" & job_b=$!
  wait "$job_a"; status_a=$?
  wait "$job_b"; status_b=$?
  statuses=$(printf '%s\n' "$status_a" "$status_b" | sort | tr '\n' ' ')
  [ "$statuses" = "0 2 " ] || problems+=("round $round: exit statuses $status_a and $status_b, expected 0 and 2")
  loser=$dir/a.stderr; [ "$status_a" -eq 0 ] && loser=$dir/b.stderr
  [ "$(grep -c . "$loser")" -eq 1 ] && grep -q "already exists" "$loser" \
    || problems+=("round $round: the losing job did not say 'already exists' in one line: $(cat "$loser")")
  consistent "$dir/x.h5" || problems+=("round $round: the output is not consistent")
  no_partials "$dir" || problems+=("round $round: temporary file left")
done
report "$name" "${problems[@]}"

# Temporary-looking files that are not this run's survive its failure: another job's X.partial and
# an (empty) directory named like one of ptyroi's own temporaries.
dir=$work/foreign && mkdir -p "$dir"
name=foreign_partials_survive
printf 'another job is writing this\n' >"$dir/x.h5.partial"
mkdir "$dir/x.h5.4242-0123456789ab.partial"
PTYROI_FAULT="1:write" run_ptyroi "$dir/stderr" --output "$dir/x.h5"; status=$?
problems=()
[ "$status" -eq 3 ] || problems+=("exit status $status, expected 3")
[ "$(grep -c . "$dir/stderr")" -eq 1 ] || problems+=("not exactly one line on stderr")
[ "$(cat "$dir/x.h5.partial" 2>/dev/null)" = "another job is writing this" ] || problems+=("x.h5.partial removed or changed")
[ -d "$dir/x.h5.4242-0123456789ab.partial" ] || problems+=("the directory named like a temporary was removed")
[ ! -e "$dir/x.h5" ] || problems+=("output written")
[ "$(find "$dir" -name '*.partial' | wc -l)" -eq 2 ] || problems+=("temporary files: $(find "$dir" -name '*.partial')")
report "$name" "${problems[@]}"

# PtychoShelves pair: the _para file appears (another job) while this run writes; the _dp file is
# committed first, then _para is refused: the _dp file is taken back. Neither of this run's files
# is left, the other job's _para is untouched, exit 2 with one line.
dir=$work/pair && mkdir -p "$dir"
name=ptychoshelves_pair_both_or_neither
PTYROI_FAULT='*:write:sleep=2' run_ptyroi "$dir/stderr" --format ptychoshelves --output "$dir/scan" &
job=$!
for _ in $(seq 1 300); do compgen -G "$dir/scan_dp.hdf5.*.partial" >/dev/null && break; sleep 0.05; done
printf 'another job\n' >"$dir/scan_para.hdf5"
wait "$job"; status=$?
problems=()
[ "$status" -eq 2 ] || problems+=("exit status $status, expected 2")
[ "$(grep -c . "$dir/stderr")" -eq 1 ] && grep -q "scan_para.hdf5' already exists" "$dir/stderr" \
  || problems+=("not one line naming scan_para.hdf5: $(cat "$dir/stderr")")
[ ! -e "$dir/scan_dp.hdf5" ] || problems+=("scan_dp.hdf5 left without its _para")
[ "$(cat "$dir/scan_para.hdf5")" = "another job" ] || problems+=("the other job's scan_para.hdf5 was changed")
no_partials "$dir" || problems+=("temporary file left")
report "$name" "${problems[@]}"

# A failure after the RoI file is written but before the commit (here: the preview directory
# turns into a file meanwhile, and an image name is taken by another job) commits nothing.
dir=$work/late && mkdir -p "$dir"
name=late_failure_commits_nothing
PTYROI_FAULT='*:write:sleep=2' run_ptyroi "$dir/a.stderr" --output "$dir/a.h5" --summary "$dir/a.json" \
  --preview "$dir/a_preview" &
job=$!
for _ in $(seq 1 300); do compgen -G "$dir/a.h5.*.partial" >/dev/null && break; sleep 0.05; done
printf 'not a directory\n' >"$dir/a_preview"
wait "$job"; status=$?
problems=()
[ "$status" -eq 3 ] || problems+=("preview directory blocked: exit status $status, expected 3")
[ "$(grep -c . "$dir/a.stderr")" -eq 1 ] && grep -q "preview directory" "$dir/a.stderr" \
  || problems+=("not one line about the preview directory: $(cat "$dir/a.stderr")")
mkdir -p "$dir/b_preview"
PTYROI_FAULT='*:write:sleep=2' run_ptyroi "$dir/b.stderr" --output "$dir/b.h5" --summary "$dir/b.json" \
  --preview "$dir/b_preview" &
job=$!
for _ in $(seq 1 300); do compgen -G "$dir/b.h5.*.partial" >/dev/null && break; sleep 0.05; done
printf 'another job\n' >"$dir/b_preview/roi.png"
wait "$job"; status=$?
[ "$status" -eq 2 ] || problems+=("preview image taken: exit status $status, expected 2")
grep -q "roi.png' already exists" "$dir/b.stderr" || problems+=("no line about roi.png: $(cat "$dir/b.stderr")")
[ "$(ls "$dir/b_preview")" = "roi.png" ] || problems+=("images committed beside the other job's: $(ls "$dir/b_preview")")
for f in a.h5 a.json b.h5 b.json; do [ ! -e "$dir/$f" ] || problems+=("$f committed"); done
no_partials "$dir" || problems+=("temporary file left")
report "$name" "${problems[@]}"

# A disk that fills up during the write (a small tmpfs, filled by another process while the ranks
# pause in their write phase): exit 3, one line saying "no space left on device" and where, and
# nothing of the run left (OpenMPI's own lines about the failed writes are folded in, not printed).
mkdir -p "$work/full"
if mount -t tmpfs -o size=8m tmpfs "$work/full" 2>/dev/null; then
  name=disk_full_during_write
  PTYROI_FAULT='*:write:sleep=2' run_ptyroi "$work/$name.stderr" --output "$work/full/x.h5" \
    --summary "$work/full/x.json" &
  job=$!
  for _ in $(seq 1 300); do compgen -G "$work/full/x.h5.*.partial" >/dev/null && break; sleep 0.05; done
  dd if=/dev/zero of="$work/full/filler" bs=64k 2>/dev/null
  wait "$job"; status=$?
  problems=()
  [ "$status" -eq 3 ] || problems+=("exit status $status, expected 3")
  [ "$(grep -c . "$work/$name.stderr")" -eq 1 ] || problems+=("$(grep -c . "$work/$name.stderr") lines on stderr")
  grep -q "no space left on device writing --output '$work/full/x.h5' in '$work/full'" "$work/$name.stderr" \
    || problems+=("no 'no space left on device' line naming the output: $(head -c 300 "$work/$name.stderr")")
  [ "$(ls "$work/full")" = "filler" ] || problems+=("left on the disk: $(ls "$work/full")")
  report "$name" "${problems[@]}"
  umount "$work/full"
else
  echo "skip    disk_full_during_write: cannot mount a small tmpfs here"
fi

# Durability: the temporary file is flushed (fsync) before it is renamed into place, and its
# directory after, for the RoI file and the summary alike; the rename refuses to replace (renameat2
# RENAME_NOREPLACE). Seen in the system calls themselves (strace -f -y).
name=durability_fsync_rename
if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
  dir=$work/durable && mkdir -p "$dir"
  # LeakSanitizer cannot run under ptrace: off for this run of a sanitizer build.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -y -qq -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$dir/trace" \
    "${mpiexec[@]}" "$ptyroi" --input "$scan" --grid "$grid" -q --output "$dir/x.h5" --summary "$dir/x.json" \
    >/dev/null 2>"$dir/stderr"
  status=$?
  problems=()
  [ "$status" -eq 0 ] || problems+=("exit status $status: $(cat "$dir/stderr")")
  for f in x.h5 x.json; do
    sync_line=$(grep -n "fsync([0-9]*<$dir/$f\.[^>]*\.partial>) = 0" "$dir/trace" | head -1 | cut -d: -f1)
    rename_line=$(grep -n "renameat2(.*$dir/$f\.[^\"]*\.partial\".*\"$dir/$f\", RENAME_NOREPLACE) = 0" "$dir/trace" \
      | head -1 | cut -d: -f1)
    dir_line=$(awk -v after="${rename_line:-0}" -v d="<$dir>" 'NR > after && index($0, "fsync(") && index($0, d) {print NR; exit}' "$dir/trace")
    [ -n "$sync_line" ] || problems+=("$f: no fsync of its temporary file")
    [ -n "$rename_line" ] || problems+=("$f: no renameat2(..., RENAME_NOREPLACE) into place")
    [ -n "$dir_line" ] || problems+=("$f: no fsync of the directory after the rename")
    if [ -n "$sync_line" ] && [ -n "$rename_line" ] && [ "$sync_line" -gt "$rename_line" ]; then
      problems+=("$f: fsync after the rename")
    fi
  done
  report "$name" "${problems[@]}"
else
  echo "skip    $name: strace is not installed or cannot trace here (apt-get install strace)"
fi

# An input that changes while the run reads it (a transfer still running, a writer that reopened it):
# truncated (MPI-IO would read zeros past the new end) or appended to while every rank is paused in
# the features phase. The run must end with exit 1 and the one line naming the file, and leave nothing.
for change in truncated appended; do
  name=input_${change}_during_read
  copy="$work/$name.input.h5"
  cp "$scan" "$copy"
  PTYROI_FAULT='*:features:sleep=5' timeout 60 "${mpiexec[@]}" "$ptyroi" --input "$copy" --grid "$grid" \
    --output "$work/$name.h5" --summary "$work/$name.json" >"$work/$name.stdout" 2>"$work/$name.stderr" &
  launcher=$!
  sleep 2.5
  size=$(stat -c %s "$copy")
  if [ "$change" = truncated ]; then truncate -s $((size / 2)) "$copy"; else head -c 65536 /dev/zero >>"$copy"; fi
  wait "$launcher"; status=$?
  problems=()
  [ "$status" -eq 1 ] || problems+=("exit status $status, expected 1")
  [ "$(grep -c . "$work/$name.stderr")" -eq 1 ] || problems+=("not exactly one line on stderr")
  grep -qF "input '$copy' changed while it was being read (size $size" "$work/$name.stderr" \
    || problems+=("no line naming the changed input")
  [ ! -e "$work/$name.h5" ] || problems+=("output file written")
  [ ! -e "$work/$name.json" ] || problems+=("summary written")
  compgen -G "$work/$name.h5.*.partial" >/dev/null && problems+=("temporary file left")
  report "$name" "${problems[@]}"
  [ ${#problems[@]} -eq 0 ] || sed 's/^/        /' "$work/$name.stderr" | head -5
  rm -f "$copy"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
