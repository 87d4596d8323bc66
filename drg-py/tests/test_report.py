"""drg.report against the reference tables of ../shared/testdata/report."""

from pathlib import Path
import csv
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import List

import pandas as pd
import pytest

import drg

# The decimals of specs/report.md, by column.
DECIMALS = {
    "mortality": 4, "cost_cv": 4, "group_rate": 4, "cmi": 4, "cost_index": 4, "time_index": 4,
    "low_risk_mortality": 4, "riv_cost": 4, "riv_los": 4, "total_weight": 4, "avg_cost": 2, "avg_los": 2,
}


def printed(column: str, value: object) -> str:
    """A value as the spec prints it: the shortest repr rounded half away from zero."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column in DECIMALS:
        d = Decimal(repr(float(value)))  # type: ignore[arg-type]
        q = Decimal(1).scaleb(-DECIMALS[column])
        return str(abs(d).quantize(q, rounding=ROUND_HALF_UP).copy_sign(d) if d else d.quantize(q))
    return str(value)


def mismatches(name: str, actual: pd.DataFrame, expected_path: Path) -> List[str]:
    with open(expected_path, newline="", encoding="utf-8") as f:
        expected = list(csv.reader(f))
    header, rows = expected[0], expected[1:]
    problems = []
    if list(actual.columns) != header:
        return [f"{name}: columns {list(actual.columns)}, expected {header}"]
    got = [[printed(c, v) for c, v in zip(header, row)] for row in actual.itertuples(index=False)]
    if len(got) != len(rows):
        problems.append(f"{name}: {len(got)} rows, expected {len(rows)}")
    for g, e in zip(got, rows):
        if g != e:
            problems.append(f"{name}: got {','.join(g)}\n    expected {','.join(e)}")
    return problems


@pytest.fixture(scope="module")
def period(shared: Path) -> pd.DataFrame:
    return pd.read_csv(shared / "testdata" / "points" / "period.csv", dtype={"hospital_level": str, "dept": str, "discharge": str})


def test_the_reference_tables_row_by_row(shared: Path, period: pd.DataFrame) -> None:
    weights = shared / "testdata" / "points" / "expected" / "weights.csv"
    out = drg.report(period, weights)
    drgs, hospitals, scheme = out
    assert out.hospitals is hospitals
    problems = []
    for name, table in (("drgs", drgs), ("hospitals", hospitals), ("scheme", scheme)):
        problems += mismatches(name, table, shared / "testdata" / "report" / "expected" / f"{name}.csv")
    assert not problems, "\n".join(problems[:30])


def test_weights_as_a_dataframe_and_the_page(shared: Path, period: pd.DataFrame) -> None:
    weights = pd.read_csv(shared / "testdata" / "points" / "expected" / "weights.csv")
    weights["unstable"] = weights["unstable"].astype(bool)
    scheme = drg.report(period, weights).scheme
    assert scheme["drgs_used"][0] == 628
    html = drg.report_html(period, weights, title="period")
    assert html.startswith("<!DOCTYPE html>") and 'id="chart-cmi-cost"' in html


def test_ungrouped_frames_are_grouped_and_bad_values_warned(shared: Path) -> None:
    df = pd.DataFrame({
        "id": ["1", "2", "3"], "hospital": ["H1", "H1", "H2"], "dept": ["内科", None, "外科"],
        "sex": ["1", "1", "2"], "age_years": [30, 40, 50],
        "diagnoses": ["K35.800", "K35.800", "K35.800"], "procedures": ["47.0901"] * 3,
        "total_cost": [9000.0, "abc", 11000.0], "los_days": [5, 6, 7], "discharge": ["死亡", "1", "5"],
    })
    weights = shared / "testdata" / "points" / "expected" / "weights.csv"
    with pytest.warns(drg.ReportWarning, match=r"cases: row 1: total_cost: \"abc\" is not a number"):
        drgs, hospitals, scheme = drg.report(df, weights, by_dept=True, grouper=drg.Grouper("demo"))
    assert list(hospitals["dept"]) == ["", "内科", "外科"]
    assert drgs["deaths"].sum() == 2, "死亡 is discharge 5"
    # A cost that cannot be read makes the row invalid for grouping, as in drg group.
    assert (scheme["cases"][0], scheme["grouped"][0]) == (3, 2)


def test_a_bad_weights_table_raises(tmp_path: Path, period: pd.DataFrame) -> None:
    bad = tmp_path / "w.csv"
    bad.write_text("drg,weight\nA,1\n")
    with pytest.raises(ValueError, match="no column n"):
        drg.report(period, bad)
