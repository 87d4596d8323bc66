#!/usr/bin/env bash
# The DIP speed and memory targets (docs/performance.md, "DIP"): building a
# catalogue from 1,000,000 history rows, and `drg dip run` with a catalogue
# on 1,000,000 and 5,000,000 period rows (rows/s end to end, peak memory).
# Inputs are made from ../shared/testdata/dip under target/bench (removed at
# the end unless KEEP=1). Called by scripts/bench.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
dir=target/bench
mkdir -p "$dir"
cargo build --release --locked -p drg-cli >&2

python3 - "$shared" "$dir" <<'PY'
import os, subprocess, sys, time

shared, out = sys.argv[1], sys.argv[2]
dip = os.path.join(shared, "testdata", "dip")
pack = os.path.join(shared, "rulepacks", "chs-drg-1.1")
policy = os.path.join(dip, "policy.toml")

def make(source, n):
    path = os.path.join(out, f"dip_{os.path.basename(source)[:-4]}_{n // 1_000_000}m.csv")
    if not os.path.exists(path):
        with open(source, encoding="utf-8") as f:
            header, *rows = f.read().splitlines()
        with open(path, "w", encoding="utf-8") as f:
            f.write(header + "\n")
            written, r = 0, 0
            while written < n:
                take = rows[: n - written]
                # Each repeat gets its own ids ("P0402000001-7").
                f.write("\n".join(f"{id_}-{r},{rest}" for id_, rest in (row.split(",", 1) for row in take)) + "\n")
                written += len(take)
                r += 1
    return path

def run(args):
    """Wall seconds, peak resident memory (MB) and CPU seconds (user +
    system) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{' '.join(args)} failed ({status})")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime

drg = "target/release/drg"
history = make(os.path.join(dip, "history.csv"), 1_000_000)
catalogue = os.path.join(out, "dip_catalogue.csv")
sb, memb, cpub = run([drg, "dip", "build", "-q", "--policy", policy, "--pack", pack, "--history", history, "-o", catalogue])
period1 = make(os.path.join(dip, "period.csv"), 1_000_000)
period5 = make(os.path.join(dip, "period.csv"), 5_000_000)
runs = []
for p in (period1, period5):
    runs.append(run([drg, "dip", "run", "-q", "--policy", policy, "--pack", pack, "--catalogue", catalogue,
                     "--period", p, "--out-dir", os.path.join(out, "dip_run")]))
(s1, mem1, cpu1), (s5, mem5, cpu5) = runs
cores = os.cpu_count() or 1

table = [
    ("drg dip build, 1,000,000 history rows, 2 cores", f"{sb:.2f} s", "≤ 3 s", sb <= 3),
    ("peak memory of drg dip build, 1,000,000 rows", f"{memb:.0f} MB", "(grows with history)", True),
    ("drg dip run --catalogue, 1,000,000 period rows", f"{1e6 / s1:,.0f} rows/s", "≥ 500,000 rows/s", 1e6 / s1 >= 5e5),
    ("the same, per second of CPU (user + system)", f"{1e6 / cpu1:,.0f} rows/s", "(load-independent)", True),
    ("CPU utilisation of drg dip run, 1,000,000 rows", f"{100 * cpu1 / s1:.0f}%", f"(of {cores * 100}%: {cores} cores)", True),
    ("drg dip run --catalogue, 5,000,000 period rows", f"{5e6 / s5:,.0f} rows/s", "(the same)", True),
    ("peak memory of drg dip run, 1,000,000 rows", f"{mem1:.0f} MB", "flat", True),
    ("peak memory of drg dip run, 5,000,000 rows", f"{mem5:.0f} MB", "as for 1M", mem5 <= mem1 * 1.25 + 5),
]
w = [max(len(r[i]) for r in table) for i in range(3)]
print(f"{'what':<{w[0]}}  {'measured':>{w[1]}}  {'target':<{w[2]}}  met")
for what, measured, target, ok in table:
    print(f"{what:<{w[0]}}  {measured:>{w[1]}}  {target:<{w[2]}}  {'yes' if ok else 'NO'}")
if os.environ.get("KEEP") != "1":
    for p in (history, period1, period5):
        os.remove(p)
sys.exit(0 if all(r[3] for r in table) else 1)
PY
