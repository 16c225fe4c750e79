#!/usr/bin/env bash
# Runs a test that reads the real detector files in place, or skips it (ctest: exit 77, shown as
# "Skipped") with the reason when they are not there — as in a user's clone without ../shared.
# CI has them: .ci/run stops before testing when they are missing.
# Usage: real_data.sh REAL_DATA_DIR COMMAND [ARGUMENTS...]
dir=$1
shift
if [ ! -d "$dir" ]; then
  echo "skipped: the real detector files are not at $dir (a clone without ../shared/data/real); CI provides them"
  exit 77
fi
exec "$@"
