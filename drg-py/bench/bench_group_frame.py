"""Rows per second of Grouper.group_frame (a pandas DataFrame) and
Grouper.group_arrow (a pyarrow Table) on 1,000,000 rows (the shared national
1.1 cases repeated, each repeat with its own ids), beside `drg group` on the
same rows, with the CPU seconds of each (the figure that does not depend on
the load of a shared machine).

    python drg-py/bench/bench_group_frame.py [--rows N] [--pack DIR] [--cli target/release/drg] [--runs 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Tuple

import pandas as pd
import pyarrow as pa

import drg

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


def timed(run: Callable[[], object]) -> Tuple[float, float]:
    """Wall and CPU seconds (this process, every thread) of one call."""
    cpu = time.process_time()
    wall = time.perf_counter()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def child_timed(args: List[str]) -> Tuple[float, float]:
    """Wall and CPU seconds (user + sys) of one child process."""
    wall = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - wall
    if status != 0:
        sys.exit(f"{' '.join(args)} failed ({status})")
    return seconds, usage.ru_utime + usage.ru_stime


def best(runs: int, measure: Callable[[], Tuple[float, float]]) -> Tuple[float, float]:
    """The run with the least CPU time, of `runs`."""
    return min((measure() for _ in range(runs)), key=lambda t: t[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pack", default=str(SHARED / "rulepacks" / "chs-drg-1.1"))
    parser.add_argument("--cases", default=str(SHARED / "testdata" / "chs-drg-1.1" / "cases.csv"))
    parser.add_argument("--cli", help="the drg binary, to time `drg group` on the same rows")
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the one with the least CPU time is shown")
    args = parser.parse_args()

    cases = pd.read_csv(args.cases, dtype=str, keep_default_na=False)
    repeats = -(-args.rows // len(cases))
    frames = []
    for r in range(repeats):
        copy = cases.copy()
        copy["id"] = copy["id"] + f"-{r}"
        frames.append(copy)
    frame = pd.concat(frames, ignore_index=True).iloc[: args.rows]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    n = len(frame)

    started = time.perf_counter()
    grouper = drg.Grouper(args.pack)
    opened = time.perf_counter() - started
    print(f"drg {drg.__version__}, pack {grouper.pack_info()['id']} opened in {opened * 1000:.0f} ms; "
          f"{os.cpu_count()} cores; pandas {pd.__version__}, pyarrow {pa.__version__}; best of {args.runs} by CPU time")

    out = grouper.group_frame(frame)
    grouped = int((out["status"] == "grouped").sum())
    rows: List[Tuple[str, float, float]] = []
    rows.append(("group_frame (pandas)", *best(args.runs, lambda: timed(lambda: grouper.group_frame(frame)))))
    rows.append(("group_arrow (pyarrow)", *best(args.runs, lambda: timed(lambda: grouper.group_arrow(table)))))
    if args.cli:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "cases.csv")
            frame.to_csv(path, index=False)
            cli = [args.cli, "group", "-q", "--pack", args.pack, "-o", os.devnull, path]
            rows.append(("drg group (CSV → CSV)", *best(args.runs, lambda: child_timed(cli))))
    print(f"{n:,} rows ({grouped:,} grouped)")
    for what, wall, cpu in rows:
        print(f"{what:<24} {n / wall:>12,.0f} rows/s  {wall:6.2f} s wall  {cpu:6.2f} CPU-s  {n / cpu:>12,.0f} rows per CPU-second")
    if args.cli:
        cli_rate = n / rows[-1][1]
        print(f"group_frame at {n / rows[0][1] / cli_rate:.2f}× and group_arrow at {n / rows[1][1] / cli_rate:.2f}× the CLI's rate")


if __name__ == "__main__":
    main()
