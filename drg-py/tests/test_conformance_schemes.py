"""The national CHS-DRG 2.0 scheme (if_no_adrg) and Zhejiang's (retry_ungroupable),
every case, as test_conformance.py does for 1.1."""

from pathlib import Path
import csv
from typing import List

import pandas as pd
import pytest

import drg
from conftest import differences, read_expected


def _ids(diffs: List[str]) -> str:
    return f"{len(diffs)} cases differ: " + " ".join(d.split(":")[0] for d in diffs) + "\n" + "\n".join(diffs[:20])


@pytest.mark.parametrize("scheme, n", [("chs-drg-2.0", 50_000), ("zhejiang-2022", 5_000)])
def test_group_frame_agrees_on_every_case(shared: Path, scheme: str, n: int) -> None:
    grouper = drg.Grouper(shared / "rulepacks" / scheme)
    cases = pd.read_csv(shared / "testdata" / scheme / "cases.csv", dtype=str, keep_default_na=False)
    out = grouper.group_frame(cases)
    expected = read_expected(shared / "testdata" / scheme / "expected.csv")
    assert len(out) == len(expected) == n
    diffs = differences(expected, zip(out["id"], out["status"], out["mdc"], out["adrg"], out["drg"]))
    assert not diffs, _ids(diffs)


def test_group_many_agrees_on_every_2_0_case(shared: Path) -> None:
    grouper = drg.Grouper(shared / "rulepacks" / "chs-drg-2.0")
    with open(shared / "testdata" / "chs-drg-2.0" / "cases.csv", newline="", encoding="utf-8") as f:
        cases = list(csv.DictReader(f))
    results = grouper.group_many(cases)
    expected = read_expected(shared / "testdata" / "chs-drg-2.0" / "expected.csv")
    diffs = differences(expected, ((r.id, r.status, r.mdc, r.adrg, r.drg) for r in results))
    assert len(results) == 50_000
    assert not diffs, _ids(diffs)


def test_a_retried_case_carries_the_warning_and_its_trail(shared: Path) -> None:
    grouper = drg.Grouper(shared / "rulepacks" / "zhejiang-2022")
    # C77310000016 of the Zhejiang test data groups only on its second procedure.
    case = {"id": "C77310000016", "sex": "2", "age_years": "98", "age_days": "36046",
            "diagnoses": "B67.600x002", "procedures": "79.3600x020|93.8400|99.8200x004"}
    expected = read_expected(shared / "testdata" / "zhejiang-2022" / "expected.csv")["C77310000016"]
    r = grouper.group(case, explain=True)
    assert (r.status, r.mdc, r.adrg, r.drg) == (expected["status"], expected["mdc"], expected["adrg"], expected["drg"])
    assert any("alone: the case gave no group with principal procedure 79.3600x020" in w for w in r.warnings), r.warnings
    trail = "\n".join(r.trace)
    assert "retry_ungroupable: evaluated again with procedure 93.8400 alone" in trail, trail


def test_invisible_format_characters_in_codes_change_nothing(shared: Path) -> None:
    grouper = drg.Grouper(shared / "rulepacks" / "chs-drg-2.0")
    # D0010000016 of the 2.0 test data (CD19).
    clean = {"id": "1", "sex": "1", "age_years": "60", "age_days": "22093",
             "diagnoses": "Q10.302|K70.304+I98.2*|R61.100", "procedures": "16.0101|33.2100"}
    dirty = dict(clean, diagnoses="\u200bQ10.302\u202e|\ufeffK70.304+I98.2*\u2069|R61.100",
                 procedures="16.\u200d0101|\u206633.2100")
    a, b = grouper.group(clean), grouper.group(dirty)
    assert (a.status, a.drg) == ("grouped", "CD19"), (a.status, a.drg, a.reason)
    assert (b.status, b.drg) == (a.status, a.drg)
    assert b.warnings == a.warnings, b.warnings


def test_an_age_in_days_that_disagrees_with_the_years_is_invalid(shared: Path) -> None:
    grouper = drg.Grouper(shared / "rulepacks" / "chs-drg-2.0")
    r = grouper.group({"id": "1", "sex": "1", "age_years": "30", "age_days": "5", "diagnoses": "K35.800"})
    assert r.status == "invalid"
    assert (r.reason or "").startswith("age_days: 5 disagrees with age_years 30"), r.reason
