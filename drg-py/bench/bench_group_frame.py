"""Rows per second of Grouper.group_frame on 1,000,000 rows (the shared
national 1.1 cases repeated), to sit beside the Rust figures.

    python drg-py/bench/bench_group_frame.py [--rows N] [--pack DIR]
"""

import argparse
import time
from pathlib import Path

import pandas as pd

import drg

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pack", default=str(SHARED / "rulepacks" / "chs-drg-1.1"))
    parser.add_argument("--cases", default=str(SHARED / "testdata" / "chs-drg-1.1" / "cases.csv"))
    args = parser.parse_args()

    cases = pd.read_csv(args.cases, dtype=str, keep_default_na=False)
    repeats = -(-args.rows // len(cases))
    frame = pd.concat([cases] * repeats, ignore_index=True).iloc[: args.rows]

    started = time.perf_counter()
    grouper = drg.Grouper(args.pack)
    opened = time.perf_counter() - started

    started = time.perf_counter()
    out = grouper.group_frame(frame)
    seconds = time.perf_counter() - started
    grouped = int((out["status"] == "grouped").sum())
    print(f"drg {drg.__version__}, pack {grouper.pack_info()['id']} opened in {opened * 1000:.0f} ms")
    print(f"group_frame: {len(out):,} rows in {seconds:.2f} s = {len(out) / seconds:,.0f} rows/s ({grouped:,} grouped)")


if __name__ == "__main__":
    main()
