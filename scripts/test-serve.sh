#!/usr/bin/env bash
# drg serve beyond cargo test: the coder's page driven in headless Chromium
# (selenium, in a virtual environment under target/) against a real
# `drg serve`, with screenshots kept in target/serve-test/; and the Java
# examples (examples/java): grouping a CSV through libdrg.so with JNA,
# compared with `drg group`, and calling `drg serve` with the JDK's
# HttpClient. Installs chromium, chromium-driver, a JDK and JNA when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shared=$root/../shared
out=$root/target/serve-test
mkdir -p "$out"

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
# grep reads all of fc-list (no -q): an early exit would fail the pipe under pipefail.
fc-list 2>/dev/null | grep -i "noto sans cjk" >/dev/null || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null
fi

cargo build --release --locked -p drg-ffi -p drg-cli
drg=$root/target/release/drg

echo "== drg serve: the page in headless Chromium"
venv=target/serve-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q selenium pytest
DRG_BIN=$drg SHARED=$shared ARTEFACTS=$out "$venv/bin/python" -m pytest -q drg-serve/tests/page
echo "screenshots: $out/page-grouped.png, $out/page-swapped.png"

echo "== Java: examples/java"
jna=/usr/share/java/jna.jar
classes=$root/target/java
rm -rf "$classes" && mkdir -p "$classes"
javac -Xlint:all -Werror -cp "$jna" -d "$classes" examples/java/GroupCsv.java examples/java/ServeClient.java
java_run=(java -cp "$jna:$classes" -Djna.library.path="$root/target/release" -Djna.nosys=true)
passed=0
failed=0
# Line by line, the same JSON; except that `drg group` starts the reason of
# an invalid row with its line ("line 14: sex: ..."), which a call for one
# case (drg_group_json, POST /v1/group) cannot know.
same_results() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
expected, got = (open(p, encoding="utf-8").read().splitlines() for p in sys.argv[1:3])
if len(expected) != len(got):
    sys.exit(f"{len(expected)} lines expected, {len(got)} got")
differ = []
for e, g in zip(expected, got):
    e, g = json.loads(e), json.loads(g)
    if e["status"] == "invalid" and e["reason"]:
        e["reason"] = re.sub(r"^line \d+: ", "", e["reason"])
    if e != g:
        differ.append(e["id"])
if differ:
    sys.exit(f"{len(differ)} results differ: {differ[:20]}")
PY
}
check() { # name, expected file, got file
  if same_results "$2" "$3"; then
    passed=$((passed + 1)); echo "ok: $1"
  else
    failed=$((failed + 1)); echo "FAILED: $1"
  fi
}

"${java_run[@]}" GroupCsv examples/cases.csv > "$out/java-demo.jsonl"
"$drg" group -q --pack demo --format jsonl examples/cases.csv > "$out/drg-demo.jsonl"
check "GroupCsv through libdrg.so = drg group (examples/cases.csv, demo pack)" "$out/drg-demo.jsonl" "$out/java-demo.jsonl"

pack=$shared/rulepacks/chs-drg-1.1
"${java_run[@]}" GroupCsv "$shared/testdata/chs-drg-1.1/cases.csv" "$pack" > "$out/java-1.1.jsonl"
"$drg" group -q --format jsonl --pack "$pack" "$shared/testdata/chs-drg-1.1/cases.csv" > "$out/drg-1.1.jsonl"
check "GroupCsv through libdrg.so = drg group (50,000 CHS-DRG 1.1 cases)" "$out/drg-1.1.jsonl" "$out/java-1.1.jsonl"

"$drg" serve --addr 127.0.0.1:0 2> "$out/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$out/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$out/serve.log" | head -1)
case_json='{"id":"J1","sex":"1","age_years":30,"diagnoses":["K35.800","E11.900"],"procedures":["47.0901"]}'
"${java_run[@]}" ServeClient "$url" "$case_json" > "$out/java-serve.json"
printf '%s\n' "$case_json" | "$drg" group -q --format jsonl - > "$out/drg-serve.json"
check "ServeClient through drg serve = drg group" "$out/drg-serve.json" "$out/java-serve.json"
kill -TERM "$serve_pid"
if wait "$serve_pid"; then
  passed=$((passed + 1)); echo "ok: drg serve exits 0 on SIGTERM"
else
  failed=$((failed + 1)); echo "FAILED: drg serve did not exit 0 on SIGTERM"
fi

echo "java: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
