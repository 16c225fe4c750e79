#!/usr/bin/env bash
# Fault injection under real MPI: one chosen rank fails (PTYROI_FAULT=RANK:PHASE) in every phase,
# on rank 0 and on a non-zero rank. Each run must end within the timeout with the one error line
# and leave no output file. Then a rank that hangs in the write phase and a SIGTERM from the batch
# system: the run must exit non-zero and leave neither the output nor its temporary file.
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

# SIGTERM while rank 1 hangs in the write phase: the temporary file exists, then must vanish.
name=sigterm_during_write
PTYROI_FAULT="1:write:hang" "${mpiexec[@]}" "$ptyroi" --input "$scan" --grid "$grid" \
  --output "$work/$name.h5" >"$work/$name.stdout" 2>"$work/$name.stderr" &
launcher=$!
# The temporary file has a name unique to the run: $name.h5.<pid>-<random>.partial.
partial() { compgen -G "$work/$name.h5.*.partial" >/dev/null; }
for _ in $(seq 1 300); do partial && break; sleep 0.1; done
problems=()
partial || problems+=("the temporary file never appeared")
sleep 0.5
kill -TERM "$launcher"
for _ in $(seq 1 300); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$launcher" 2>/dev/null; then problems+=("still running 30 s after SIGTERM"); kill -KILL "$launcher"; fi
wait "$launcher"; status=$?
[ "$status" -ne 0 ] || problems+=("exit status 0")
partial && problems+=("temporary file left")
[ ! -e "$work/$name.h5" ] || problems+=("output file written")
report "$name (exit $status)" "${problems[@]}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
