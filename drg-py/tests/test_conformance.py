"""group_frame and group_many on every case of the national 1.1 scheme."""

from pathlib import Path
import csv

import pandas as pd
import pytest

import drg
from conftest import differences, read_expected


@pytest.fixture(scope="module")
def national(shared: Path) -> drg.Grouper:
    return drg.Grouper(shared / "rulepacks" / "chs-drg-1.1")


def test_group_frame_agrees_on_every_case(shared: Path, national: drg.Grouper) -> None:
    cases = pd.read_csv(shared / "testdata" / "chs-drg-1.1" / "cases.csv", dtype=str, keep_default_na=False)
    out = national.group_frame(cases)
    expected = read_expected(shared / "testdata" / "chs-drg-1.1" / "expected.csv")
    assert len(out) == len(expected) == 50_000
    rows = zip(out["id"], out["status"], out["mdc"], out["adrg"], out["drg"])
    diffs = differences(expected, rows)
    assert not diffs, f"{len(diffs)} cases differ: " + " ".join(d.split(":")[0] for d in diffs) + "\n" + "\n".join(diffs[:20])


def test_group_frame_with_inferred_dtypes_agrees_too(shared: Path, national: drg.Grouper) -> None:
    # pandas' own reading: numbers as int64/float64, empty cells as NaN.
    cases = pd.read_csv(shared / "testdata" / "chs-drg-1.1" / "cases.csv")
    out = national.group_frame(cases)
    expected = read_expected(shared / "testdata" / "chs-drg-1.1" / "expected.csv")
    diffs = differences(expected, zip(out["id"], out["status"], out["mdc"], out["adrg"], out["drg"]))
    assert not diffs, f"{len(diffs)} cases differ:\n" + "\n".join(diffs[:20])


def test_group_many_agrees_on_every_case(shared: Path, national: drg.Grouper) -> None:
    with open(shared / "testdata" / "chs-drg-1.1" / "cases.csv", newline="", encoding="utf-8") as f:
        cases = list(csv.DictReader(f))
    results = national.group_many(cases)
    expected = read_expected(shared / "testdata" / "chs-drg-1.1" / "expected.csv")
    diffs = differences(expected, ((r.id, r.status, r.mdc, r.adrg, r.drg) for r in results))
    assert len(results) == 50_000
    assert not diffs, f"{len(diffs)} cases differ:\n" + "\n".join(diffs[:20])
