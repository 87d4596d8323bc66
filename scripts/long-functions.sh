#!/usr/bin/env bash
# Lists the functions over 80 lines outside tests (DEVELOPERS.md: functions
# short enough to read at once); exits 1 when there is one.
# Usage: scripts/long-functions.sh [--max N] [PATH...]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/long-functions.py "$@"
