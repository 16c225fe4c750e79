#!/usr/bin/env bash
# The batch scripts under a real Slurm: a one-node cluster on this machine (Debian's slurm-wlm
# and munge, installed here if missing), private to WORKDIR: its own munge key and munged socket,
# its own slurm.conf, state, spool, logs and free ports, daemons started in the background, not
# through systemd. Then:
#   - jobs/slurm/ptyroi.sbatch on a simulated scan with 2 tasks: completes with exit code 0, runs
#     ptyroi through srun --mpi=pmix, writes SCAN_roi.h5 (valid HDF5 with the RoI) and
#     SCAN_roi.json next to the scan;
#   - the same script on a missing input: fails with exit code 1 and says so in its log;
#   - jobs/slurm/ptyroi_series_array.sbatch as --array=1-3%2 over a list of good, broken (a text
#     file), good scans: tasks 1 and 3 exit 0 with outputs next to their inputs, task 2 exits
#     non-zero, its log holds ptyroi's one error line and it leaves no output.
# Every wait is bounded; on any exit (success, failure, timeout, signal) the jobs are cancelled,
# the daemons this script started are stopped by their PIDs, and any process still tied to
# WORKDIR (a job step, a rank) is reported as a stray, killed by its PID, and fails the test.
# Exit status: 0 passed, 1 failed, 77 skipped (not root).
# Usage: slurm_test.sh BUILD_DIR WORKDIR   (BUILD_DIR holds ptyroi and ptyroi-simulate)
set -u -o pipefail
umask 022
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C

[ $# -eq 2 ] || { echo "usage: slurm_test.sh BUILD_DIR WORKDIR" >&2; exit 2; }
build=$(realpath -- "$1") || exit 2
repo=$(cd "$(dirname -- "$0")/.." && pwd)
ptyroi=$build/ptyroi simulate=$build/ptyroi-simulate
[ -x "$ptyroi" ] && [ -x "$simulate" ] || { echo "slurm_test: no ptyroi / ptyroi-simulate in $build" >&2; exit 2; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 )) s"; }
note() { echo "slurm_test [$(elapsed)]: $*"; }
passed=0 failed=0
check() {  # NAME CONDITION-STATUS: count and print one result
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok      $1"
  else failed=$((failed + 1)); echo "FAILED  $1"; fi
}
fatal() {  # a step the rest depends on failed: show why and stop (the EXIT trap cleans up)
  echo "slurm_test: FATAL: $*" >&2
  failed=$((failed + 1))
  exit 1
}

# --- 1. Slurm and munge, from Debian -------------------------------------------------------------
pmix_lib=/usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so  # what Slurm's mpi/pmix plugin loads
have_slurm() {
  local c
  for c in slurmctld slurmd slurmstepd sbatch srun squeue scontrol scancel munged munge unmunge; do
    command -v "$c" >/dev/null || return 1
  done
  [ -e "$pmix_lib" ]
}
if [ "$(id -u)" -ne 0 ]; then  # slurmd must be root to start jobs; apt-get too
  echo "slurm_test: SKIPPED: needs root (to install slurm-wlm and munge, and to run slurmd)"
  exit 77
fi
if ! have_slurm; then
  note "installing slurm-wlm, munge and libpmix-dev with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() {
    timeout 180 apt-get -o DPkg::Lock::Timeout=60 install -y -qq --no-install-recommends \
      slurm-wlm munge libpmix-dev >"$TMPDIR_APT/apt.log" 2>&1
  }
  TMPDIR_APT=$(mktemp -d)
  if ! apt_install; then  # a fresh container has no package lists yet, or stale ones
    timeout 120 apt-get -o DPkg::Lock::Timeout=60 update -qq >>"$TMPDIR_APT/apt.log" 2>&1
    apt_install || { tail -n 20 "$TMPDIR_APT/apt.log" >&2; rm -rf "$TMPDIR_APT"; fatal "apt-get install slurm-wlm munge libpmix-dev failed"; }
  fi
  rm -rf "$TMPDIR_APT"
  have_slurm || fatal "slurm-wlm, munge and libpmix-dev installed, but some of their files are missing"
  note "installed"
fi
command -v h5ls >/dev/null || fatal "h5ls not found (apt-get install hdf5-tools)"

# --- 2. the cluster's files -------------------------------------------------------------------------
mkdir -p "$(dirname -- "$2")" || fatal "cannot create $2"
work=$(realpath -m -- "$2")
case $work in /|/tmp|/root|"$HOME") fatal "refusing WORKDIR $work" ;; esac
conf=$work/etc/slurm.conf
strays() {  # PIDs of this cluster's processes: its slurm.conf in their environment (daemons, jobs,
            # ranks), or a Slurm or munge daemon or job step with its cwd or an open file in WORKDIR
  local pid exe
  {
    grep -laF "SLURM_CONF=$conf" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
    for pid in $(find /proc/[0-9]*/cwd /proc/[0-9]*/fd -maxdepth 1 \( -lname "$work" -o -lname "$work/*" \) \
                   2>/dev/null | cut -d/ -f3 | sort -u); do
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
      case ${exe##*/} in slurmstepd | slurmd | slurmctld | munged) echo "$pid" ;; esac
    done
  } | sort -un | grep -vx -e "$$"
}
args_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }  # (procps may not be installed)
# What a killed earlier run of this WORKDIR left (daemons, job steps): stopped by their PIDs.
cd / || exit 1
for pid in $(strays); do
  note "killing PID $pid left by an earlier run in $work: $(args_of "$pid")"
  kill -KILL "$pid" 2>/dev/null
done
rm -rf "$work"
mkdir -p "$work"/{etc,state,spool,log,run,key,data/series,jobs} || fatal "cannot create $work"
chmod 700 "$work/key"
chmod 755 "$work" "$work/run"  # munged wants its socket's directory searchable by all
export SLURM_CONF=$conf

node=$(uname -n)
node=${node%%.*}
port_free() { ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
ctld_port="" 
for base in 6817 16817 26817 36817; do  # two free neighbouring ports, the usual pair first
  if port_free "$base" && port_free $((base + 1)); then ctld_port=$base; break; fi
done
[ -n "$ctld_port" ] || fatal "no free port pair for slurmctld and slurmd"
slurmd_port=$((ctld_port + 1))

cat >"$conf" <<EOF
# A one-node test cluster on $node, private to $work (written by tests/slurm_test.sh).
ClusterName=ptyroitest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/run/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmdParameters=config_overrides
MailProg=/bin/true
# no cgroups: a container without systemd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
# a shared, loaded 2-core CI machine: messages may wait longer than the 10 s default
MessageTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=30 State=UP
EOF
# slurmd 22.05 loads a cgroup plugin whatever the other plugins are, and its default (autodetect)
# stops slurmd where no cgroup file system is mounted (measured: a chroot) or on a hybrid/read-only
# one (a container). Nothing here uses cgroups: name the v1 plugin, which then stays idle.
echo "CgroupPlugin=cgroup/v1" >"$work/etc/cgroup.conf"

# --- 3. teardown, armed before anything starts ---------------------------------------------------
daemons=()   # "NAME PID" of what this script started
jobs_submitted=()
stop_pid() {  # NAME PID: SIGTERM, up to 15 s, then SIGKILL
  local name=$1 pid=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "slurm_test: $name (PID $pid) ignored SIGTERM for 15 s: SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
teardown() {
  local status=$? i entry pids left
  trap - EXIT
  trap '' INT TERM HUP  # the teardown is bounded: let it finish
  cd / || true
  if [ ${#jobs_submitted[@]} -gt 0 ] && [ ${#daemons[@]} -gt 0 ]; then
    left=$(timeout 10 squeue -h -o %A 2>/dev/null | grep -c .)
    if [ "${left:-0}" -gt 0 ]; then
      note "cancelling $left unfinished job(s)"
      timeout 10 scancel "${jobs_submitted[@]}" 2>/dev/null
      for i in $(seq 1 40); do
        [ "$(timeout 10 squeue -h -o %A 2>/dev/null | grep -c .)" -eq 0 ] && break
        sleep 0.5
      done
    fi
  fi
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do  # slurmd, slurmctld, then munged
    entry=${daemons[i]}
    stop_pid "${entry% *}" "${entry#* }"
  done
  [ ${#daemons[@]} -eq 0 ] || note "stopped ${#daemons[@]} daemon(s)"
  unset SLURM_CONF
  for i in $(seq 1 50); do  # job steps end on their own within moments of their job
    pids=$(strays | tr '\n' ' ')
    [ -z "$pids" ] && break
    sleep 0.2
  done
  if [ -n "$pids" ]; then
    echo "FAILED  no stray processes: left running, now killed by PID:"
    for i in $pids; do echo "  $i $(args_of "$i")"; kill -KILL "$i" 2>/dev/null; done
    failed=$((failed + 1))
    [ "$status" -ne 0 ] || status=1
  elif [ ${#daemons[@]} -gt 0 ]; then
    passed=$((passed + 1)); echo "ok      no stray processes after stopping the daemons"
  fi
  echo "slurm_test: $passed passed, $failed failed in $(elapsed)"
  [ "$failed" -eq 0 ] || [ "$status" -ne 0 ] || status=1
  exit "$status"
}
trap teardown EXIT
trap 'fatal "interrupted by a signal"' INT TERM HUP

show_logs() {
  local f
  for f in "$work"/log/*; do [ -s "$f" ] && { echo "--- $f (last 15 lines)"; tail -n 15 "$f"; }; done >&2
}

# --- 4. munged and the Slurm daemons -----------------------------------------------------------------
cd "$work" || fatal "cannot enter $work"
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$work/key/munge.key" >/dev/null 2>&1 || fatal "mungekey failed"
else
  dd if=/dev/urandom of="$work/key/munge.key" bs=1024 count=1 status=none || fatal "cannot write a munge key"
fi
chmod 400 "$work/key/munge.key"
munged --foreground --force --num-threads=10 --socket="$work/run/munge.socket" --key-file="$work/key/munge.key" \
  --pid-file="$work/run/munged.pid" --seed-file="$work/key/munged.seed" \
  --log-file="$work/log/munged.log" >"$work/log/munged.out" 2>&1 &
daemons+=("munged $!")
up=0
for i in $(seq 1 100); do
  munge -n -S "$work/run/munge.socket" 2>/dev/null | unmunge -S "$work/run/munge.socket" >/dev/null 2>&1 \
    && { up=1; break; }
  kill -0 "${daemons[0]#* }" 2>/dev/null || { show_logs; fatal "munged exited"; }
  sleep 0.1
done
[ "$up" -eq 1 ] || { show_logs; fatal "munged did not answer within 10 s"; }
note "munged up (PID ${daemons[0]#* }); cluster $node, ports $ctld_port/$slurmd_port"

slurmctld -D -f "$conf" >"$work/log/slurmctld.out" 2>&1 &
daemons+=("slurmctld $!")
slurmd -D -N "$node" -f "$conf" >"$work/log/slurmd.out" 2>&1 &
daemons+=("slurmd $!")
state=""
for i in $(seq 1 120); do
  state=$(timeout 5 scontrol show node "$node" 2>/dev/null | sed -n 's/.* State=\([^ ]*\).*/\1/p')
  [ "$state" = IDLE ] && break
  for entry in "${daemons[@]}"; do
    kill -0 "${entry#* }" 2>/dev/null || { show_logs; fatal "${entry% *} exited"; }
  done
  sleep 0.5
done
[ "$state" = IDLE ] || { show_logs; timeout 5 scontrol show node "$node" >&2; fatal "node $node not idle within 60 s (state '$state')"; }
note "slurmctld and slurmd up, node $node idle"

# --- 5. the scans ----------------------------------------------------------------------------------------
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
data=$work/data
"$simulate" --output "$data/scan_a.h5" --rows 12 --cols 16 --frame-size 64 --seed 1 >/dev/null \
  && "$simulate" --output "$data/series/proj_000.h5" --rows 10 --cols 14 --frame-size 64 --seed 2 >/dev/null \
  && "$simulate" --output "$data/series/proj_002.h5" --rows 11 --cols 13 --frame-size 64 --seed 3 >/dev/null \
  || fatal "ptyroi-simulate failed"
echo "this is not an HDF5 file" >"$data/series/proj_001.h5"
printf '# a tomography series: good, broken, good\nproj_000.h5\n\nproj_001.h5\n%s\n' \
  "$data/series/proj_002.h5" >"$data/series/list.txt"
note "simulated 3 scans"

# --- 6. submit ---------------------------------------------------------------------------------------------
cd "$work/jobs" || fatal "cannot enter $work/jobs"
submit() {  # [VAR=VALUE...] -- SBATCH ARGS...: submits with that environment, sets $id
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  id=$(env "${envs[@]}" timeout 30 sbatch --parsable "$@") || fatal "sbatch $* failed"
  id=${id%%;*}
  jobs_submitted+=("$id")
}
# single scan: ptyroi found in PATH, the input relative to the submission directory, an option passed on
submit -u PTYROI_BIN PATH="$build:$PATH" -- --ntasks=2 --time=5 "$repo/jobs/slurm/ptyroi.sbatch" \
  ../data/scan_a.h5 --grid 12x16
single=$id
submit -u PTYROI_BIN -- --ntasks=1 --time=5 "$repo/jobs/slurm/ptyroi.sbatch" ../data/no_such_scan.h5
missing=$id
# the series: ptyroi from PTYROI_BIN, the grid inferred, relative and absolute paths in the list
submit PTYROI_BIN="$ptyroi" -- --array=1-3%2 --ntasks=1 --time=5 \
  "$repo/jobs/slurm/ptyroi_series_array.sbatch" "$data/series/list.txt"
array=$id
note "submitted: single scan $single, missing input $missing, array $array (tasks 1-3)"

# --- 7. wait, bounded --------------------------------------------------------------------------------------
wait_s=${SLURM_TEST_JOB_TIMEOUT:-180}  # a smaller value tests this timeout and the teardown
deadline=$(( $(date +%s) + wait_s ))
while :; do
  queued=$(timeout 10 squeue -h -o %i -j "$single,$missing,$array" 2>/dev/null) || queued="(squeue failed)"
  [ -z "$queued" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    timeout 10 squeue >&2; show_logs
    fatal "jobs still queued or running after $wait_s s: ${queued//$'\n'/ }"
  fi
  sleep 0.5
done
note "all jobs finished"

# --- 8. check ------------------------------------------------------------------------------------------------
# (each condition's status is taken before check runs: no command substitution in check's arguments)
job_field() {  # JOBID FIELD [ARRAY_TASK]: the field of the job (or of that task of an array job)
  timeout 10 scontrol -o show job "$1" 2>/dev/null \
    | { if [ -n "${3:-}" ]; then grep -E " ArrayTaskId=$3( |$)"; else cat; fi; } \
    | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
valid_roi() {  # FILE.h5: readable HDF5 with the RoI subset and its record; FILE.json: a summary
  local listing
  listing=$(h5ls -r "$1.h5" 2>/dev/null) || return 1
  grep -q '^/roi/mask ' <<<"$listing" && grep -q '^/entry_1/data_1/data ' <<<"$listing" \
    && grep -q '"roi_frames"' "$1.json" 2>/dev/null
}
log_has() { grep -qF -- "$2" "$1" 2>/dev/null; }
one_error_line() {  # LOG FILE: exactly one line of ptyroi's error, and it names FILE
  [ "$(grep -c '^ptyroi: error: ' "$1" 2>/dev/null)" -eq 1 ] && grep '^ptyroi: error: ' "$1" | grep -qF -- "$2"
}

log=$work/jobs/ptyroi-$single.out
state=$(job_field "$single" JobState) code=$(job_field "$single" ExitCode)
[ "$state" = COMPLETED ] && [ "$code" = 0:0 ]
check "single scan: job $single COMPLETED with ExitCode 0:0 (got $state $code)" $?
log_has "$log" "launcher: srun --mpi=pmix" && grep -qE '"ranks": *2\b' "$data/scan_a_roi.json" 2>/dev/null
check "single scan: ptyroi ran on 2 ranks through srun --mpi=pmix (log $log)" $?
log_has "$log" "ptyroi exit status 0"
check "single scan: its log ends with ptyroi's exit status 0" $?
valid_roi "$data/scan_a_roi"
check "single scan: scan_a_roi.h5 (valid HDF5 with /roi/mask) and scan_a_roi.json next to scan_a.h5" $?

log=$work/jobs/ptyroi-$missing.out
state=$(job_field "$missing" JobState) code=$(job_field "$missing" ExitCode)
[ "$state" = FAILED ] && [ "$code" = 1:0 ]
check "missing input: job $missing FAILED with ExitCode 1:0 (got $state $code)" $?
log_has "$log" "input scan '../data/no_such_scan.h5' does not exist"
check "missing input: its log says that the input does not exist" $?

for task in 1 2 3; do
  scan=$data/series/proj_00$((task - 1))
  log=$work/jobs/ptyroi-${array}_$task.out
  state=$(job_field "$array" JobState "$task") code=$(job_field "$array" ExitCode "$task")
  if [ "$task" -ne 2 ]; then
    [ "$state" = COMPLETED ] && [ "$code" = 0:0 ]
    check "array task $task: COMPLETED with ExitCode 0:0 (got $state $code)" $?
    valid_roi "${scan}_roi"
    check "array task $task: ${scan##*/}_roi.h5 (valid HDF5) and ${scan##*/}_roi.json next to its input" $?
  else
    [ "$state" = FAILED ] && [[ $code =~ ^[0-9]+:[0-9]+$ ]] && [ "${code%%:*}" -ne 0 ]
    check "array task 2 (a text file): FAILED with a non-zero ExitCode (got $state $code)" $?
    one_error_line "$log" "$scan.h5"
    check "array task 2: its log holds ptyroi's one error line naming the file" $?
    [ ! -e "${scan}_roi.h5" ] && [ ! -e "${scan}_roi.json" ] && ! ls "$data"/series/*.partial >/dev/null 2>&1
    check "array task 2: no output, summary or temporary file" $?
  fi
done
# The normal end: the EXIT trap stops the daemons, looks for strays and prints the totals.
