#!/usr/bin/env bash
# Builds the `asan` preset (-fsanitize=address,undefined) and runs the test suite under
# AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer. Any sanitizer report fails the
# test that produced it; any HDF5-DIAG text in the output fails the run.
# Usage: tools/test_sanitizers.sh [extra ctest arguments]   (CI: .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
preset=asan
bash tools/build.sh "$preset"
# A guard against a build that silently lost the sanitizers (e.g. a stale cache).
for exe in ptyroi ptyroi-simulate tests/ptyroi_unit_tests tests/ptyroi_mpi_tests tests/ptyroi_e2e_tests; do
  libs=$(ldd "build/$preset/$exe")  # not `ldd | grep -q`: with pipefail, grep's early exit fails ldd
  if [[ $libs != *libasan.so* || $libs != *libubsan.so* ]]; then
    echo "test_sanitizers: build/$preset/$exe is not linked with ASan and UBSan" >&2
    exit 1
  fi
done

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The sanitizer settings. ctest passes its environment to every test, and mpiexec passes its
# environment to the ranks it starts on this machine, so exporting here reaches every rank.
#
# ASAN_OPTIONS
#   detect_leaks=1             run LeakSanitizer at exit (the default on x86-64 Linux; explicit).
#   halt_on_error=1            the first error ends the process with a non-zero status (the
#                              default for ASan; explicit, so a -fsanitize-recover build keeps it).
#   fast_unwind_on_malloc=0    record allocation stacks with the DWARF unwinder. The Debian
#                              builds of OpenMPI, PMIx, hwloc and libevent have no frame pointers,
#                              so the default frame-pointer unwinder stops at the first frame
#                              inside them and the MPI_Init / MPI_Finalize / progress-thread
#                              frames that lsan.supp matches are never recorded. (It also gives
#                              full stacks for any real leak.)
#   detect_stack_use_after_return=1  also catch pointers to dead stack frames.
#   check_initialization_order=1:strict_init_order=1  catch static-initialisation-order bugs.
#   intercept_tls_get_addr=0   work around a bug of GCC 12's sanitizer runtime (google/sanitizers
#                              #1322): its __tls_get_addr interceptor takes any dynamic-TLS block
#                              that happens to start 16 bytes into a page for a glibc 2.19 block
#                              and records the two words before it as the block's range. With
#                              Debian 12's glibc 2.36 that range is garbage, and LeakSanitizer's
#                              tracer segfaults scanning it at exit ("Tracer caught signal 11",
#                              "LeakSanitizer has encountered a fatal error") -- seen on singleton
#                              ptyroi / ptyroi-simulate runs, depending on where malloc put a block.
#                              The cost: dynamic TLS (thread_local of dlopen'ed libraries, i.e.
#                              MPI's components) is not scanned for pointers; ptyroi's own
#                              thread_local variables are static TLS and still are.
#   (verify_asan_link_order=0 is not needed: every instrumented binary links libasan first and
#   mpiexec itself is not instrumented; nothing is LD_PRELOADed.)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:intercept_tls_get_addr=0"
# LSAN_OPTIONS
#   suppressions=...           the MPI stack's own never-freed allocations (see the file).
#   print_suppressions=0       no "Suppressions used" table at exit: it would add lines to the
#                              stderr of runs whose stderr the bad-input and fault-injection
#                              tests require to be exactly one error line.
export LSAN_OPTIONS="suppressions=$root/tools/sanitizers/lsan.supp:print_suppressions=0"
# UBSAN_OPTIONS
#   halt_on_error=1            -fsanitize=undefined recovers by default: it prints and carries
#                              on, so the test would still pass. This makes UB exit non-zero.
#   print_stacktrace=1         a stack with every report.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

log=build/$preset/ctest-output.log
stamp=build/$preset/ctest-start.stamp
touch "$stamp"
status=0
# Unit, MPI (1-4 ranks), end to end (layouts, formats, series, configs, reconstruction), the
# bad-input matrix and fault injection (whose error and early-exit paths are where leaks hide); not
# the batch-job tests (slurm, pbs), which exercise daemons rather than ptyroi's code. No test
# selected is an error. ~5 min on 2 cores.
ctest --preset "$preset" -j 2 --no-tests=error -L 'unit|mpi|e2e|cli|badinput|faults' "$@" 2>&1 | tee "$log" || status=$?
# HDF5's own error printing is silenced everywhere; any HDF5-DIAG text is a bug: in ctest's output,
# or in the stdout/stderr files this run's script tests (bad inputs, faults) kept of each mpiexec.
diag_files=()
while IFS= read -r -d '' f; do diag_files+=("$f"); done < <(
  find build/"$preset"/tests/data -newer "$stamp" \( -name '*.stdout' -o -name '*.stderr' \) -print0 2>/dev/null)
if grep -q 'HDF5-DIAG' "$log" build/"$preset"/Testing/Temporary/LastTest.log "${diag_files[@]}" 2>/dev/null; then
  echo "HDF5-DIAG text found in the sanitizer test output" >&2
  status=1
fi
exit "$status"
