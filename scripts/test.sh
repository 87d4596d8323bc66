#!/usr/bin/env bash
# Runs every test of the project. The README's test command, and CI's
# (.ci/run). Needs ../shared beside the checkout for the conformance tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f ../shared/README.md ]; then
  echo "error: ../shared is missing: clone the project beside shared/ (the reference packs and cases)" >&2
  exit 1
fi

echo "== Functions short enough to read at once (no function over 80 lines outside tests)"
bash scripts/long-functions.sh

echo "== Rust: unit, CLI and conformance tests"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked  # --all-targets leaves the doc examples out

echo "== C: the C ABI from C, under valgrind"
bash scripts/test-c.sh

echo "== Python: pip install ./drg-py, then pytest (with Spark)"
bash scripts/test-python.sh

echo "== report.html in headless Chromium (drg report, then selenium)"
bash scripts/test-report.sh

echo "== drg serve over sockets, its page in headless Chromium, the Java examples"
bash scripts/test-serve.sh
echo "== Bundled packs: CLI, C and Python from outside the checkout, by name"
bash scripts/test-bundled.sh
