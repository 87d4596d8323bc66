#!/usr/bin/env bash
# Reading Excel: an .xlsx of 1,000,000 rows (Chinese headers, one column per
# code) read and grouped by `drg group`; the workbook is generated here from
# ../shared's 1.1 cases under target/bench and removed at the end (KEEP=1
# keeps it). Prints rows/s, rows per CPU-second and peak memory. Target:
# >= 200,000 rows/s.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
dir=target/bench
rows=${ROWS:-1000000}
mkdir -p "$dir"
cargo build --release --locked -p drg-cli -p drg-benches >&2
book="$dir/cases_${rows}.xlsx"
[ -f "$book" ] || target/release/make_xlsx "$shared/testdata/chs-drg-1.1/cases.csv" "$rows" "$book"
target/release/drg pack compile "$shared/rulepacks/chs-drg-1.1" -o "$dir/chs-drg-1.1.drgpack" >&2
python3 - "$book" "$dir/chs-drg-1.1.drgpack" "$rows" <<'PY'
import os, subprocess, sys, time
book, pack, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
child = subprocess.Popen(["target/release/drg", "group", "-q", "--pack", pack, "-o", os.devnull, book])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
if status != 0:
    sys.exit(f"drg group failed ({status})")
rate = rows / seconds
cpu = usage.ru_utime + usage.ru_stime
print(f"drg group, .xlsx -> CSV, {rows:,} rows: {rate:,.0f} rows/s ({seconds:.1f} s), "
      f"peak memory {usage.ru_maxrss / 1024:.0f} MB, workbook {os.path.getsize(book) / 1e6:.0f} MB; "
      f"target >= 200,000 rows/s: {'met' if rate >= 200_000 else 'NOT met'}")
print(f"  CPU {cpu:.1f} s (user {usage.ru_utime:.1f} + sys {usage.ru_stime:.1f}): {rows / cpu:,.0f} rows per CPU-second, "
      f"{cpu / seconds:.2f} cores busy on average")
sys.exit(0 if rate >= 200_000 else 1)
PY
[ "${KEEP:-0}" = 1 ] || rm -f "$book"
