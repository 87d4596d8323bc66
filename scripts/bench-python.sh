#!/usr/bin/env bash
# Python at engine speed (issue 17): group_frame, group_arrow and `drg group`
# on the same 1,000,000 rows, with rows/s, CPU seconds and the ratio to the
# CLI (docs/performance.md). Installs the package (release build) into the
# test virtual environment target/venv, with pandas and pyarrow.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q pandas pyarrow >&2
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps ./drg-py >&2
cargo build --release --locked -p drg-cli >&2
"$venv/bin/python" drg-py/bench/bench_group_frame.py --cli target/release/drg "$@"
