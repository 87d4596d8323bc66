#!/usr/bin/env bash
# report.html in a real browser: `drg report` on the shared points period,
# then the page opened in headless Chromium (through chromedriver and
# selenium in target/venv), asserting no console errors, no network request,
# a CJK font for the Chinese labels, and every chart's elements. Keeps a
# full-page screenshot as target/report-test/report.png.
# Installs chromium, chromium-driver and fonts-noto-cjk with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# grep reads all of fc-list (grep -q would close the pipe early and fail under pipefail).
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null
fi

venv=target/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q selenium

cargo build -q --locked -p drg-cli
out=target/report-test
rm -rf "$out"
target/debug/drg report --weights ../shared/testdata/points/expected/weights.csv \
  ../shared/testdata/points/period.csv --out-dir "$out"

"$venv/bin/python" scripts/check_report_page.py "$out/report.html" "$out/report.png"
