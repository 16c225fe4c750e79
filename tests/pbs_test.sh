#!/usr/bin/env bash
# jobs/pbs/ptyroi.pbs as PBS would run it. Debian has no PBS server, so the script's body runs the
# way a PBS MOM starts it: in another directory (PBS starts jobs in the home directory), with
# PBS_O_WORKDIR (where qsub ran), PBS_JOBID, PBS_JOBNAME, PBS_ENVIRONMENT and PBS_NODEFILE (this
# host twice: 2 MPI slots) set, and the input in PTYROI_INPUT as qsub -v passes it. Checks: a
# simulated scan gives exit status 0, 2 ranks, and SCAN_roi.h5 (valid HDF5) + SCAN_roi.json next to
# the scan; a missing input, a text file posing as a scan, and a bad ptyroi option each give a
# non-zero exit status (1, 1, 2: ptyroi's own), a clear message and no output. Then the Slurm
# scripts with no batch system at all (plain bash, mpiexec on this machine): one scan, and a list
# of good, broken, good scans run in turn. Every run has a time limit.
# Usage: pbs_test.sh BUILD_DIR WORKDIR   (BUILD_DIR holds ptyroi and ptyroi-simulate)
set -u -o pipefail
export LC_ALL=C
[ $# -eq 2 ] || { echo "usage: pbs_test.sh BUILD_DIR WORKDIR" >&2; exit 2; }
build=$(realpath -- "$1") || exit 2
repo=$(cd "$(dirname -- "$0")/.." && pwd)
ptyroi=$build/ptyroi simulate=$build/ptyroi-simulate
[ -x "$ptyroi" ] && [ -x "$simulate" ] || { echo "pbs_test: no ptyroi / ptyroi-simulate in $build" >&2; exit 2; }
command -v h5ls >/dev/null || { echo "pbs_test: h5ls not found (apt-get install hdf5-tools)" >&2; exit 2; }
mkdir -p "$(dirname -- "$2")" && work=$(realpath -m -- "$2") || exit 2
case $work in /|/tmp|/root|"$HOME") echo "pbs_test: refusing WORKDIR $work" >&2; exit 2 ;; esac
rm -rf "$work" && mkdir -p "$work"/{submit,home,data/series} || exit 2
t0=$(date +%s)

passed=0 failed=0
check() {  # NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok      $1"
  else failed=$((failed + 1)); echo "FAILED  $1"; fi
}
valid_roi() {  # STEM: STEM_roi.h5 is readable HDF5 with the RoI subset, STEM_roi.json a summary
  local listing
  listing=$(h5ls -r "$1_roi.h5" 2>/dev/null) || return 1
  grep -q '^/roi/mask ' <<<"$listing" && grep -q '^/entry_1/data_1/data ' <<<"$listing" \
    && grep -q '"roi_frames"' "$1_roi.json" 2>/dev/null
}
no_output() { [ ! -e "$1_roi.h5" ] && [ ! -e "$1_roi.json" ] && [ ! -e "$1_roi.h5.partial" ]; }
one_error_line() {  # LOG FILE: exactly one line of ptyroi's error, and it names FILE
  [ "$(grep -c '^ptyroi: error: ' "$1")" -eq 1 ] && grep '^ptyroi: error: ' "$1" | grep -qF -- "$2"
}

# Scans: a good one, and a text file named like a scan.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
data=$work/data
"$simulate" --output "$data/scan.h5" --rows 12 --cols 16 --frame-size 64 --seed 5 >/dev/null \
  && "$simulate" --output "$data/series/a.h5" --rows 10 --cols 12 --frame-size 64 --seed 6 >/dev/null \
  && "$simulate" --output "$data/series/c.h5" --rows 9 --cols 11 --frame-size 64 --seed 7 >/dev/null \
  || { echo "pbs_test: ptyroi-simulate failed" >&2; exit 1; }
echo "not an HDF5 file" >"$data/broken.h5"
cp "$data/broken.h5" "$data/series/b.h5"
printf 'a.h5\nb.h5\nc.h5\n' >"$data/series/list.txt"
host=$(uname -n)
printf '%s\n%s\n' "$host" "$host" >"$work/nodefile"

# --- PBS -----------------------------------------------------------------------------------------------
jobno=0
pbs_run() {  # NAME [VAR=VALUE...]: runs ptyroi.pbs as PBS would; sets $status and $log
  local name=$1
  shift
  jobno=$((jobno + 1))
  log=$work/submit/ptyroi.o$jobno  # where PBS would put the job's joined output
  (
    cd "$work/home" || exit 1
    exec env -u PTYROI_ARGS -u PTYROI_INPUT -u PTYROI_BORDER -u PTYROI_OVERWRITE -u PTYROI_NTASKS \
      -u SLURM_JOB_ID -u SLURM_NTASKS \
      PBS_O_WORKDIR="$work/submit" PBS_JOBID="$jobno.pbs-test" PBS_JOBNAME=ptyroi \
      PBS_ENVIRONMENT=PBS_BATCH PBS_NODEFILE="$work/nodefile" PTYROI_BIN="$ptyroi" "$@" \
      timeout 120 bash "$repo/jobs/pbs/ptyroi.pbs"
  ) >"$log" 2>&1
  status=$?
  echo "        ($name: exit status $status, log $log)"
}

pbs_run "good scan" PTYROI_INPUT=../data/scan.h5 PTYROI_ARGS="--grid 12x16 --border 1"
[ "$status" -eq 0 ]
check "PBS, good scan: exit status 0" $?
valid_roi "$data/scan"
check "PBS, good scan: scan_roi.h5 (valid HDF5 with /roi/mask) and scan_roi.json next to scan.h5" $?
grep -qE '"ranks": *2\b' "$data/scan_roi.json" && grep -qF -- "--hostfile $work/nodefile -n 2" "$log" \
  && grep -qF "job $jobno.pbs-test" "$log"
check "PBS, good scan: 2 ranks from PBS_NODEFILE, the job id in the log" $?
grep -qE '"border_steps": *1\b' "$data/scan_roi.json"
check "PBS, good scan: PTYROI_ARGS reached ptyroi (--border 1 in the summary)" $?

pbs_run "again, output exists" PTYROI_INPUT="$data/scan.h5"
[ "$status" -eq 2 ] && one_error_line "$log" "$data/scan_roi.h5"
check "PBS, output already there: exit status 2 (usage) and ptyroi's one error line (got $status)" $?
pbs_run "again, PTYROI_OVERWRITE=1" PTYROI_INPUT="$data/scan.h5" PTYROI_OVERWRITE=1
[ "$status" -eq 0 ] && valid_roi "$data/scan"
check "PBS, PTYROI_OVERWRITE=1: exit status 0, output replaced (got $status)" $?

cp "$data/scan.h5" "$data/eiger_master.h5"
pbs_run "a master file" PTYROI_INPUT=../data/eiger_master.h5
[ "$status" -eq 0 ] && valid_roi "$data/eiger" && no_output "$data/eiger_master"
check "PBS, SCAN_master.h5: outputs named SCAN_roi.h5 and SCAN_roi.json, as ptyroi --input-list does (got $status)" $?

pbs_run "missing input" PTYROI_INPUT=../data/no_such_scan.h5
[ "$status" -eq 1 ] && grep -qF "input scan '../data/no_such_scan.h5' does not exist" "$log" \
  && ! grep -q '^ptyroi ' "$log"
check "PBS, missing input: exit status 1, says so, launches nothing (got $status)" $?

pbs_run "no input"
[ "$status" -eq 2 ] && grep -qF "no input scan" "$log"
check "PBS, no input given: exit status 2 and a usage message (got $status)" $?

pbs_run "text file" PTYROI_INPUT=../data/broken.h5
[ "$status" -eq 1 ] && one_error_line "$log" "$data/broken.h5" && no_output "$data/broken"
check "PBS, a text file as the scan: exit status 1, ptyroi's one error line, no output (got $status)" $?

pbs_run "bad option" PTYROI_INPUT=../data/scan.h5 PTYROI_ARGS="--no-such-option" PTYROI_OVERWRITE=1
[ "$status" -eq 2 ]
check "PBS, a bad ptyroi option: ptyroi's usage exit status 2 is the job's (got $status)" $?

# --- the Slurm scripts with no batch system ---------------------------------------------------------
plain_run() {  # SCRIPT ARGS...: plain bash, in the submit directory; sets $status and $log
  jobno=$((jobno + 1))
  log=$work/submit/plain-$jobno.out
  (
    cd "$work/submit" || exit 1
    exec env -u SLURM_JOB_ID -u SLURM_NTASKS -u SLURM_ARRAY_TASK_ID -u PTYROI_LAUNCHER \
      PTYROI_BIN="$ptyroi" PTYROI_NTASKS=2 timeout 120 bash "$@"
  ) >"$log" 2>&1
  status=$?
  echo "        (plain bash $(basename "$1"): exit status $status, log $log)"
}
plain_run "$repo/jobs/slurm/ptyroi.sbatch" ../data/series/a.h5 --grid 10x12
[ "$status" -eq 0 ] && valid_roi "$data/series/a" && grep -qE '"ranks": *2\b' "$data/series/a_roi.json"
check "plain bash ptyroi.sbatch: exit status 0, a_roi.h5 and a_roi.json next to a.h5, 2 ranks (got $status)" $?
rm -f "$data"/series/a_roi.*
plain_run "$repo/jobs/slurm/ptyroi_series_array.sbatch" ../data/series/list.txt
[ "$status" -eq 1 ] && valid_roi "$data/series/a" && valid_roi "$data/series/c" && no_output "$data/series/b" \
  && one_error_line "$log" "$data/series/b.h5" && grep -qF "2 of 3 scans done, 1 failed" "$log"
check "plain bash ptyroi_series_array.sbatch: the broken scan fails only itself, exit status 1 (got $status)" $?

echo "pbs_test: $passed passed, $failed failed in $(( $(date +%s) - t0 )) s"
[ "$failed" -eq 0 ]
