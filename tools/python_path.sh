#!/usr/bin/env bash
# Puts the built Python module on the path of python3, so that `python3 -c "import ptyroi"` works in
# a new shell: a ptyroi.pth naming DIR in the site-packages of Debian's /usr/bin/python3 and of the
# python3 first on PATH when that is another CPython of the same version (e.g. pyenv's). Such a
# python3 also gets Debian's dist-packages (numpy, mpi4py, pytest) appended to its path when it has
# no numpy of its own; its own packages still come first. Safe to run again.
# Usage: tools/python_path.sh DIR   (tools/build.sh runs it with build/release/python)
set -euo pipefail
dir=$(realpath "$1")
[ -f "$dir/ptyroi/__init__.py" ] || { echo "python_path: no ptyroi package in $dir" >&2; exit 1; }
version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
wanted=$(version /usr/bin/python3)
interpreters=(/usr/bin/python3)
on_path=$(command -v python3 || true)
[ -n "$on_path" ] && [ "$(realpath "$on_path")" != "$(realpath /usr/bin/python3)" ] && interpreters+=("$on_path")
for python in "${interpreters[@]}"; do
  have=$(version "$python")
  if [ "$have" != "$wanted" ]; then
    echo "python_path: $python is Python $have; the module is built for $wanted (Debian's python3): not registered"
    continue
  fi
  site=$("$python" -c 'import site; print(site.getsitepackages()[0])')
  mkdir -p "$site"
  # Judged without an earlier ptyroi.pth, which may have added Debian's packages itself.
  rm -f "$site/ptyroi.pth"
  lines="$dir"
  # Judged without our own .pth: the one from an earlier run may be what makes numpy importable.
  rm -f "$site/ptyroi.pth"
  if [ "$python" != /usr/bin/python3 ] && ! "$python" -c 'import numpy' 2>/dev/null; then
    lines+=$'\n/usr/lib/python3/dist-packages'
  fi
  printf '%s\n' "$lines" >"$site/ptyroi.pth"
  echo "python_path: $python imports ptyroi from $dir ($site/ptyroi.pth)"
done
