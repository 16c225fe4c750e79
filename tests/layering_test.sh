#!/usr/bin/env bash
# The layers as the folder tree promises them (README "Layout"): the core includes neither HDF5 nor
# the I/O or application layers; the public headers (core, io, ptyroi.hpp) include no application,
# simulator or reconstruction header, mention no CLI Options and use no compiler extension; the
# library sources never include the application. Usage: layering_test.sh SOURCE_DIR
set -u
cd "$1"
problems=0
fail() { echo "FAILED  $*"; problems=$((problems + 1)); }
check() {  # DESCRIPTION PATTERN FILES...
  local what=$1 pattern=$2; shift 2
  local hits; hits=$(grep -nE "$pattern" "$@" 2>/dev/null)
  if [ -n "$hits" ]; then fail "$what:"; echo "$hits" | sed 's/^/        /'; else echo "ok      $what"; fi
}
core=(include/ptyroi/core/*.hpp src/core/*.cpp)
public=(include/ptyroi/core/*.hpp include/ptyroi/io/*.hpp include/ptyroi/ptyroi.hpp)
library=(include/ptyroi/core/*.hpp include/ptyroi/io/*.hpp src/core/*.cpp src/io/*.cpp src/io/formats/*)
check "core includes no HDF5, I/O or application" '#include [<"](hdf5|H5[A-Za-z]*\.h|ptyroi/(io|app|simulate|recon)/)' "${core[@]}"
check "public headers include no application, simulator or reconstruction" '#include "ptyroi/(app|simulate|recon|numerics)/' "${public[@]}"
check "public headers mention no CLI Options" '\bOptions\b|program_options' "${public[@]}"
check "public headers use no compiler extension" '__extension__|__int128' "${public[@]}"
check "library sources include no application header" '#include "ptyroi/app/' "${library[@]}"
check "library sources hold no test hook" 'PTYROI_FAULT|inject_fault' "${library[@]}"
[ "$problems" -eq 0 ]
