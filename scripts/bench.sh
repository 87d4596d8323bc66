#!/usr/bin/env bash
# The speed and memory targets, measured on this machine and printed as one
# table (docs/performance.md explains them). Builds what it needs; makes the
# 1,000,000- and 10,000,000-row inputs from ../shared's 1.1 cases under
# target/bench (about 1.2 GB, removed at the end unless KEEP=1).
#   bash scripts/bench.sh            # criterion benches: cargo bench -p drg-benches
#   BENCH_ONLY=group bash scripts/bench.sh   # only the targets of issue 17
#     (Grouper::group and drg group on 1M rows) and drg pack diff
# With valgrind installed it also counts instructions per grouped case and
# per row end to end (figures that do not depend on the machine's load).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
dir=target/bench
mkdir -p "$dir"

cargo build --release --locked -p drg-cli -p drg-benches >&2
target/release/drg pack compile "$shared/rulepacks/chs-drg-1.1" -o "$dir/chs-drg-1.1.drgpack" >&2
serve_status=0
if [ "${BENCH_ONLY:-}" != group ]; then
  bash scripts/bench-serve.sh "$dir/chs-drg-1.1.drgpack" || serve_status=$? # drg serve
fi

python3 - "$shared" "$dir" <<'PY'
import os, subprocess, sys, time

shared, out = sys.argv[1], sys.argv[2]
cases = os.path.join(shared, "testdata", "chs-drg-1.1", "cases.csv")
with open(cases, encoding="utf-8") as f:
    header, *rows = f.read().splitlines()

def make(n):
    path = os.path.join(out, f"cases_{n // 1_000_000}m.csv")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(header + "\n")
            # Each repeat of the shared cases gets its own ids ("C001-7").
            for r in range(n // len(rows)):
                f.write("\n".join(f"{id_}-{r},{rest}" for id_, rest in (row.split(",", 1) for row in rows)) + "\n")
    return path

only_group = os.environ.get("BENCH_ONLY") == "group"

def run(args):
    """Wall seconds, peak resident memory (MB) and CPU seconds (user +
    system, every thread) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{' '.join(args)} failed ({status})")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime

def instructions(args):
    """Instructions a command executes (valgrind's count, all threads), or
    None without valgrind."""
    import re, shutil
    if not shutil.which("valgrind"):
        return None
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"] + args,
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(re.search(r"I\s+refs:\s+([0-9,]+)", done.stderr).group(1).replace(",", ""))

def group_instructions(pack):
    """Instructions inside Grouper::group per call, over the parsed 1.1 mix."""
    import re, shutil
    if not shutil.which("valgrind"):
        return None
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           "--toggle-collect=drg_core::grouper::Grouper::group", "target/release/figures"],
                          check=True, capture_output=True, text=True)
    calls = next(float(l.split()[1]) for l in done.stdout.splitlines() if l.startswith("group_calls "))
    return int(re.search(r"Collected\s*:\s*([0-9]+)", done.stderr).group(1)) / calls

figures = {}
for line in subprocess.run(["target/release/figures", os.path.join(out, "chs-drg-1.1.drgpack")],
                           check=True, capture_output=True, text=True).stdout.splitlines():
    name, value, _unit = line.split()
    figures[name] = float(value)

# The scheme from its JSON directory in ../shared, which drg compiles on
# every run (as every earlier figure was measured); and the same scheme as
# drg ships it, opened by name as the README runs it (about 30 ms less
# before the first row).
group = ["target/release/drg", "group", "-q", "--pack", os.path.join(shared, "rulepacks", "chs-drg-1.1"), "-o", os.devnull]
group_by_name = group[:3] + ["--pack", "chs-drg-1.1"] + group[5:]
one_m = make(1_000_000)
# Five runs of each, in turns, the median by wall time quoted (the host's
# speed moves by a fifth from one minute to the next) and the range shown
# beside it.
pairs = [(run(group + [one_m]), run(group_by_name + [one_m])) for _ in range(5)]
def median_and_range(runs):
    runs = sorted(runs, key=lambda r: r[0])
    return runs[len(runs) // 2], f"{1e6 / runs[-1][0]:,.0f}–{1e6 / runs[0][0]:,.0f} rows/s"
(s1, _, cpu1), range1 = median_and_range([p[0] for p in pairs])
(s1_name, _, _), range1_name = median_and_range([p[1] for p in pairs])
mem1 = max(r[1] for p in pairs for r in p)
if not only_group:
    ten_m = make(10_000_000)
    s10, mem10, _ = run(group + [ten_m])

# Instructions a row end to end: 100,000 rows less an input of the header
# alone (opening the pack and starting up are not the rows' cost). Under
# valgrind the threads take turns, so this is every thread's work.
def first_rows(n):
    path = os.path.join(out, f"cases_{n}.csv")
    if not os.path.exists(path):
        with open(one_m, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i > n:
                    break
                dst.write(line)
    return path
compiled = ["--pack", os.path.join(out, "chs-drg-1.1.drgpack")]
i_rows, i_none = (instructions(group[:3] + compiled + group[5:] + [first_rows(n)]) for n in (100_000, 0))
per_row = (i_rows - i_none) / 100_000 if i_rows is not None else None
per_case = group_instructions(os.path.join(out, "chs-drg-1.1.drgpack"))

if not only_group:
    # drg report: the shared points period (grouped rows) repeated to 1,000,000.
    report_1m = os.path.join(out, "report_period_1m.csv")
    if not os.path.exists(report_1m):
        with open(os.path.join(shared, "testdata", "points", "period.csv"), encoding="utf-8") as f:
            p_header, *p_rows = f.read().splitlines()
        with open(report_1m, "w", encoding="utf-8") as f:
            f.write(p_header + "\n")
            for r in range(1_000_000 // len(p_rows)):
                f.write("\n".join(f"{id_}-{r},{rest}" for id_, rest in (row.split(",", 1) for row in p_rows)) + "\n")
    s_report, mem_report, _ = run(["target/release/drg", "report", "--weights",
                                os.path.join(shared, "testdata", "points", "expected", "weights.csv"),
                                report_1m, "--out-dir", os.path.join(out, "report")])
# drg pack diff: both national schemes over the same million rows, one pass.
sd, memd, cpud = run(["target/release/drg", "pack", "diff", "-q", "chs-drg-1.1", "chs-drg-2.0", one_m,
                      "--out-dir", os.path.join(out, "pack-diff")])

def open_by_name_ms(pack):
    """The best of 5 openings of a bundled pack by name (`drg pack check` times it)."""
    import re
    best = float("inf")
    for _ in range(5):
        text = subprocess.run(["target/release/drg", "pack", "check", pack], check=True, capture_output=True, text=True).stdout
        best = min(best, float(re.search(r"loaded in ([0-9.]+) ms", text).group(1)))
    return best

def fmt_instructions(n, target):
    return (f"{n:,.0f} instructions", target, n <= float(target.split()[1].replace(",", ""))) if n is not None else ("(no valgrind)", target, True)

table = [
    ("Grouper::group, one thread, parsed 1.1 mix", f"{figures['group_one_thread']:,.0f} cases/s", "≥ 3,000,000 cases/s", figures["group_one_thread"] >= 3e6),
    ("Grouper::group, instructions a case", *fmt_instructions(per_case, "≤ 1,000 a case")),
    ("drg group, CSV → CSV, 1,000,000 rows, 2 cores, median of 5", f"{1e6 / s1:,.0f} rows/s", "≥ 2,000,000 rows/s", 1e6 / s1 >= 2e6),
    ("drg group, the 5 runs, slowest to fastest", range1, "(the median is the figure)", True),
    ("drg group, the bundled pack by name instead, median of 5", f"{1e6 / s1_name:,.0f} rows/s", f"(runs {range1_name})", True),
    ("drg group, 1,000,000 rows, per CPU-second (the median run)", f"{1e6 / cpu1:,.0f} rows/s", f"(CPU {cpu1:.2f} s, wall {s1:.2f} s)", True),
    ("drg group, utilisation (CPU s / wall s)", f"{cpu1 / s1:.2f} cores", f"(of {os.cpu_count()})", True),
    ("drg group, instructions a row end to end", *fmt_instructions(per_row, "≤ 6,000 a row")),
    ("peak memory of drg group, 1,000,000 rows", f"{mem1:.0f} MB", "≤ 100 MB", mem1 <= 100),
]
if not only_group:
    open11, open20 = open_by_name_ms("chs-drg-1.1"), open_by_name_ms("chs-drg-2.0")
    binary_mb = os.path.getsize("target/release/drg") / 1e6
    table += [
        ("drg group, 10,000,000 rows", f"{1e7 / s10:,.0f} rows/s", "(the same)", True),
        ("peak memory of drg group, 10,000,000 rows", f"{mem10:.0f} MB", "≤ 100 MB, as for 1M", mem10 <= 100 and mem10 <= mem1 * 1.25 + 5),
        ("drg report, 1,000,000 grouped rows", f"{s_report:.2f} s", "≤ 3 s", s_report <= 3),
        ("peak memory of drg report, 1,000,000 rows", f"{mem_report:.0f} MB", "(hospitals × DRGs, not rows)", True),
        ("open CHS-DRG 1.1 from its directory", f"{figures['open_dir']:.1f} ms", "≤ 100 ms", figures["open_dir"] <= 100),
        ("open CHS-DRG 1.1 from a compiled file", f"{figures['open_file']:.1f} ms", "≤ 10 ms", figures["open_file"] <= 10),
        ("open bundled chs-drg-1.1 by name", f"{open11:.1f} ms", "≤ 15 ms", open11 <= 15),
        ("open bundled chs-drg-2.0 by name", f"{open20:.1f} ms", "≤ 15 ms", open20 <= 15),
        ("target/release/drg with the 27 bundled packs", f"{binary_mb:.1f} MB", "≤ 40 MB", binary_mb <= 40),
    ]
table += [
    ("drg pack diff 1.1 → 2.0, 1,000,000 rows, 2 cores", f"{1e6 / sd:,.0f} cases/s", "≥ 500,000 cases/s", 1e6 / sd >= 5e5),
    ("drg pack diff, per CPU-second", f"{1e6 / cpud:,.0f} cases/s", f"(utilisation {cpud / sd:.2f} cores)", True),
    ("peak memory of drg pack diff, 1,000,000 rows", f"{memd:.0f} MB", "≤ 100 MB", memd <= 100),
]
w = [max(len(r[i]) for r in table) for i in range(3)]
print(f"{'what':<{w[0]}}  {'measured':>{w[1]}}  {'target':<{w[2]}}  met")
for what, measured, target, ok in table:
    print(f"{what:<{w[0]}}  {measured:>{w[1]}}  {target:<{w[2]}}  {'yes' if ok else 'NO'}")
if os.environ.get("KEEP") != "1" and not only_group:
    os.remove(ten_m)
sys.exit(0 if all(r[3] for r in table) else 1)
PY
if [ "${BENCH_ONLY:-}" != group ]; then
  bash scripts/bench-perdiem.sh
  bash scripts/bench-dip.sh
  bash scripts/bench-xlsx.sh   # reading .xlsx: 1,000,000 rows (docs/performance.md)
  bash scripts/bench-python.sh # Python group_frame/group_arrow beside drg group (docs/performance.md)
fi
exit "$serve_status"
