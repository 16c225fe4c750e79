#!/usr/bin/env bash
# Installs the Debian packages (tools/setup.sh) and builds ptyroi with a CMake preset.
# Usage: tools/build.sh [PRESET]   (release by default; see CMakePresets.json)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
bash tools/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
