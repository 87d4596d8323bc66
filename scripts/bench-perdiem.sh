#!/usr/bin/env bash
# `drg points run` with per-diem categories, discharge dates and assessment
# scores (specs/perdiem.md) on 1,000,000 and 2,000,000 period rows made from
# ../shared/testdata/perdiem (under target/bench, removed at the end unless
# KEEP=1): rows a second end to end, and peak memory, which must not grow
# with the period. docs/performance.md, "Per-diem and the year".
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/testdata/perdiem
dir=target/bench
mkdir -p "$dir"
cargo build --release --locked -p drg-cli >&2

python3 - "$data" "$dir" <<'PY'
import os, subprocess, sys, time

data, out = sys.argv[1], sys.argv[2]
with open(os.path.join(data, "period.csv"), encoding="utf-8") as f:
    header, *rows = f.read().splitlines()

def make(n):
    path = os.path.join(out, f"perdiem_period_{n // 1_000_000}m.csv")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(header + "\n")
            for r in range(n // len(rows)):
                f.write("\n".join(f"{id_}-{r},{rest}" for id_, rest in (row.split(",", 1) for row in rows)) + "\n")
    return path

def run(period, out_dir):
    args = ["target/release/drg", "points", "run", "--policy", os.path.join(data, "policy.toml"),
            "--history", os.path.join(data, "history.csv"), "--period", period,
            "--scores", os.path.join(data, "scores.csv"), "--out-dir", out_dir]
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{' '.join(args)} failed ({status})")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime

one, two = make(1_000_000), make(2_000_000)
s1, mem1, cpu1 = run(one, os.path.join(out, "perdiem_out_1m"))
s2, mem2, cpu2 = run(two, os.path.join(out, "perdiem_out_2m"))
cores = os.cpu_count() or 1
table = [
    ("drg points run, per-diem + dates, 1,000,000 period rows", f"{1e6 / s1:,.0f} rows/s", "≥ 500,000 rows/s", 1e6 / s1 >= 5e5),
    ("the same, per second of CPU (user + system)", f"{1e6 / cpu1:,.0f} rows/s", "(load-independent)", True),
    ("CPU utilisation, 1,000,000 rows", f"{100 * cpu1 / s1:.0f}%", f"(of {cores * 100}%: {cores} cores)", True),
    ("the same, 2,000,000 period rows", f"{2e6 / s2:,.0f} rows/s", "(the same)", True),
    ("peak memory, 1,000,000 rows", f"{mem1:.0f} MB", "flat", True),
    ("peak memory, 2,000,000 rows", f"{mem2:.0f} MB", "as for 1M (±25%)", mem2 <= mem1 * 1.25 + 5),
]
w = [max(len(r[i]) for r in table) for i in range(3)]
for what, measured, target, ok in table:
    print(f"{what:<{w[0]}}  {measured:>{w[1]}}  {target:<{w[2]}}  {'yes' if ok else 'NO'}")
if os.environ.get("KEEP") != "1":
    for p in (one, two):
        os.remove(p)
sys.exit(0 if all(r[3] for r in table) else 1)
PY
