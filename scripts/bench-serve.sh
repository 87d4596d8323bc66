#!/usr/bin/env bash
# The speed and memory targets of `drg serve` (issue 14), on 127.0.0.1 with a
# bounded client (benches/src/bin/serve_load.rs, keep-alive connections, a
# fixed number of requests): single-case requests/s and p99 over 1,000,000
# requests with the server's memory sampled every 100,000, and cases/s
# through NDJSON batches. Client and server share this machine's cores, as
# they would not in production. Called by scripts/bench.sh; runs alone too:
#   bash scripts/bench-serve.sh [COMPILED_PACK]
# REQUESTS, CONNECTIONS, BATCHES, BATCH_CASES override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
dir=target/bench
mkdir -p "$dir"
requests=${REQUESTS:-1000000}
connections=${CONNECTIONS:-16}
batches=${BATCHES:-200}
batch_cases=${BATCH_CASES:-10000}

cargo build --release --locked -p drg-cli -p drg-benches >&2
pack=${1:-$dir/chs-drg-1.1.drgpack}
[ -f "$pack" ] || target/release/drg pack compile "$shared/rulepacks/chs-drg-1.1" -o "$pack" >&2

python3 - "$shared" "$dir" "$batch_cases" <<'PY'
import csv, json, os, sys
shared, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(os.path.join(shared, "testdata", "chs-drg-1.1", "cases.csv"), encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
with open(os.path.join(out, "serve_one.json"), "w", encoding="utf-8") as f:
    json.dump(rows[0], f, ensure_ascii=False)
with open(os.path.join(out, "serve_batch.ndjson"), "w", encoding="utf-8") as f:
    for i in range(n):
        f.write(json.dumps(rows[i % len(rows)], ensure_ascii=False) + "\n")
PY

target/release/drg serve --addr 127.0.0.1:0 --pack "$pack" 2> "$dir/serve.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do grep -q "listening on" "$dir/serve.log" && break; sleep 0.05; done
addr=$(grep -o 'http://[0-9.:]*' "$dir/serve.log" | head -1 | sed 's|http://||')

load=target/release/serve_load
"$load" "$addr" /v1/group "$dir/serve_one.json" 20000 "$connections" > /dev/null # warm up
"$load" "$addr" /v1/group "$dir/serve_one.json" "$requests" "$connections" "$pid" > "$dir/serve_single.txt"
"$load" "$addr" /v1/group/batch "$dir/serve_batch.ndjson" "$batches" 2 "$pid" > "$dir/serve_batch.txt"
kill -TERM "$pid"
wait "$pid"
trap - EXIT

python3 - "$dir" "$requests" "$connections" "$batches" "$batch_cases" <<'PY'
import os, sys
out, requests, connections, batches, batch_cases = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def read(name):
    return {l.split()[0]: float(l.split()[1]) for l in open(f"{out}/{name}") if l.strip()}
one, batch = read("serve_single.txt"), read("serve_batch.txt")
cases_per_s = batches * batch_cases / batch["seconds"]
cases_per_cpu_s = batches * batch_cases / batch["server_cpu"]
requests_per_cpu_s = requests / one["server_cpu"]
rss = [one[f"rss_{i}"] for i in range(11)]
table = [
    (f"drg serve, POST /v1/group, {requests:,} requests, {connections} connections", f"{one['rate']:,.0f} req/s", "≥ 20,000 req/s", one["rate"] >= 20000),
    ("  latency p50 / p99 / p99.9", f"{one['p50']:.2f} / {one['p99']:.2f} / {one['p999']:.2f} ms", "p99 < 5 ms", one["p99"] < 5),
    ("  server memory after 10% / 100% of the requests", f"{rss[1]:.0f} / {rss[10]:.0f} MB", "flat", rss[10] <= rss[1] * 1.1 + 5),
    (f"drg serve, NDJSON batches of {batch_cases:,}, 2 connections", f"{cases_per_s:,.0f} cases/s", "≥ 300,000 cases/s", cases_per_s >= 300000),
    ("  the server's CPU: single-case requests per CPU-second", f"{requests_per_cpu_s:,.0f} req/s", "(capacity of one busy core)", True),
    ("  the server's CPU: batch cases per CPU-second", f"{cases_per_cpu_s:,.0f} cases/s", "(capacity of one busy core)", True),
    ("  the server's CPU use during the batches", f"{batch['server_cpu'] / batch['seconds']:.2f} cores", f"(of {os.cpu_count()})", True),
]
w = [max(len(r[i]) for r in table) for i in range(3)]
print(f"{'what':<{w[0]}}  {'measured':>{w[1]}}  {'target':<{w[2]}}  met")
for what, measured, target, ok in table:
    print(f"{what:<{w[0]}}  {measured:>{w[1]}}  {target:<{w[2]}}  {'yes' if ok else 'NO'}")
print("server memory every 100,000 requests (MB): " + " ".join(f"{r:.0f}" for r in rss))
sys.exit(0 if all(r[3] for r in table) else 1)
PY
