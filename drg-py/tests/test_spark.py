"""examples/spark_group.py on a local Spark cluster, against expected.csv."""

from pathlib import Path
import csv
import subprocess
import sys
from typing import List, Tuple

from conftest import differences, read_expected


def test_spark_example_groups_every_case(shared: Path, root: Path, tmp_path: Path) -> None:
    out = tmp_path / "grouped"
    subprocess.run(
        [sys.executable, str(root / "examples" / "spark_group.py"),
         "--pack", str(shared / "rulepacks" / "chs-drg-1.1"),
         "--input", str(shared / "testdata" / "chs-drg-1.1" / "cases.csv"),
         "--output", str(out), "--master", "local[2]"],
        check=True, timeout=600,
    )
    rows: List[Tuple[str, str, str, str, str]] = []
    for part in sorted(out.glob("part-*.csv")):
        with open(part, newline="", encoding="utf-8") as f:
            rows.extend((r["id"], r["status"], r["mdc"], r["adrg"], r["drg"]) for r in csv.DictReader(f))
    expected = read_expected(shared / "testdata" / "chs-drg-1.1" / "expected.csv")
    assert len(rows) == 50_000
    diffs = differences(expected, rows)
    assert not diffs, f"{len(diffs)} cases differ:\n" + "\n".join(diffs[:20])
