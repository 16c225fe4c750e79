#!/usr/bin/env bash
# Installs the Debian packages (tools/setup.sh) and builds ptyroi with a CMake preset.
# Usage: tools/build.sh [PRESET]   (release by default; see CMakePresets.json)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
bash tools/setup.sh
log=$(mktemp)
# Quiet unless something fails: then the whole log.
if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j "$(nproc)"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "build: failed (preset $preset)" >&2
  exit 1
fi
rm -f "$log"
echo "build: ptyroi built in build/$preset"
# The release build's Python module is the one `python3 -c "import ptyroi"` finds.
if [ "$preset" = release ] && [ -f "build/$preset/python/ptyroi/__init__.py" ]; then
  bash tools/python_path.sh "build/$preset/python"
fi
