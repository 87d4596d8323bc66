#!/usr/bin/env bash
# Peak memory of `drg group` on 1,000,000 and 10,000,000 rows, every id
# checked for duplicates (docs/performance.md, "Memory: the duplicate-id
# check"), with CPU seconds (user + sys, which the load of the machine does
# not change) and rows per CPU second. The inputs are bench.sh's
# (target/bench/cases_1m.csv and cases_10m.csv, made from ../shared's 1.1
# cases, each repeat with its own ids), plus the 1M rows twice over, so that
# half the rows are duplicates. The 10M input is removed at the end unless
# KEEP=1.
#   bash scripts/bench-memory.sh
#   DRG=target/debug/drg bash scripts/bench-memory.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
dir=target/bench
mkdir -p "$dir"
if [ -z "${DRG:-}" ]; then
    cargo build --release --locked -p drg-cli >&2
    DRG=target/release/drg
fi
[ -x /usr/bin/time ] || apt-get install -y time >&2

python3 - "$shared" "$dir" "$DRG" <<'PY'
import os, re, subprocess, sys

shared, out, drg = sys.argv[1], sys.argv[2], sys.argv[3]
cases = os.path.join(shared, "testdata", "chs-drg-1.1", "cases.csv")
with open(cases, encoding="utf-8") as f:
    header, *rows = f.read().splitlines()

def make(n, name=None, copies=1):
    """n rows of the shared cases, each repeat with its own ids ("C001-7");
    with copies=2 the whole file once more, every id a duplicate."""
    path = os.path.join(out, name or f"cases_{n // 1_000_000}m.csv")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(header + "\n")
            for _ in range(copies):
                for r in range(n // len(rows)):
                    f.write("\n".join(f"{id_}-{r},{rest}" for id_, rest in (row.split(",", 1) for row in rows)) + "\n")
    return path

def run(path):
    """Peak resident MB, CPU seconds and wall seconds of `drg group` on path."""
    args = ["/usr/bin/time", "-v", drg, "group", "--pack", os.path.join(shared, "rulepacks", "chs-drg-1.1"),
            "-o", os.devnull, path]
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    def field(name):
        return float(re.search(rf"{re.escape(name)}: ([0-9.:]+)", done.stderr).group(1).split(":")[-1])
    summary = next((l for l in done.stderr.splitlines() if l.startswith("drg group:")), "")
    cpu = field("User time (seconds)") + field("System time (seconds)")
    return field("Maximum resident set size (kbytes)") / 1024, cpu, summary

n_rows = {"1m": 1_000_000, "10m": 10_000_000, "1m_twice": 2_000_000}
inputs = [("1m", make(1_000_000)), ("1m_twice", make(1_000_000, "cases_1m_twice.csv", 2)), ("10m", make(10_000_000))]
print(f"{'drg group, CSV → /dev/null':<44} {'peak memory':>11} {'CPU s':>7} {'rows per CPU s':>14}  target")
ok = True
for name, path in inputs:
    mb, cpu, summary = run(path)
    rows_n = n_rows[name]
    met = mb <= 45
    ok &= met
    label = {"1m": "1,000,000 rows", "10m": "10,000,000 rows", "1m_twice": "2,000,000 rows, each id twice"}[name]
    print(f"{label:<44} {mb:>8.0f} MB {cpu:>7.1f} {rows_n / cpu:>14,.0f}  ≤ 45 MB: {'yes' if met else 'NO'}")
    print(f"    {summary}", file=sys.stderr)
if os.environ.get("KEEP") != "1":
    for name, path in inputs:
        if name != "1m":
            os.remove(path)
sys.exit(0 if ok else 1)
PY
