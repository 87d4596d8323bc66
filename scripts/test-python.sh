#!/usr/bin/env bash
# The Python package: builds and installs it with `pip install ./drg-py` into
# a virtual environment under target/, with pandas, pyarrow, pytest and
# pyspark (and Java for Spark, if missing), then runs its pytest suite:
# API and errors, conformance of group_frame and group_many on the 50,000
# national cases, the points reference run, and the Spark example on local[2];
# and `mypy --strict` on the package and its tests (the typed stub
# drg/_drg.pyi and py.typed are what users' type checkers read).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null; then
  echo "installing Java for Spark"
  { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; } >/dev/null
fi

venv=target/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q pytest pandas pyarrow pyspark mypy pandas-stubs pyarrow-stubs
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps ./drg-py

cd drg-py
"../$venv/bin/python" -m pytest -q tests
# The package's sources with its stub of the native module (_drg.pyi), and
# the tests and benchmark as a user's code that calls it.
MYPYPATH=python "../$venv/bin/python" -m mypy --strict -p drg
MYPYPATH=python "../$venv/bin/python" -m mypy --strict tests bench
