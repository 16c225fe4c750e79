#!/usr/bin/env bash
# The installed package works for another project: installs this build into a fresh prefix, then
# configures tests/consumer (find_package(ptyroi), ptyroi::ptyroi) against it, builds it and runs
# it on 1 and 2 MPI ranks. Usage: consumer_test.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
# Only the public layers are installed: no application, simulator or test headers.
for hidden in app simulate recon numerics; do
  if [ -e "$work/prefix/include/ptyroi/$hidden" ]; then echo "installed include/ptyroi/$hidden"; exit 1; fi
done
cmake -S "$here/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j 2 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
for ranks in 1 2; do
  mpiexec --oversubscribe -n "$ranks" "$work/build/consumer"
done
echo "consumer_test: find_package(ptyroi) from $work/prefix, built and run on 1 and 2 ranks"
