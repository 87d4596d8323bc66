"""drg.points.run with per-diem care and the year, against ../shared/testdata/perdiem."""

from pathlib import Path
import pandas as pd
import pytest

import drg

TOLERANCE = {"points": 1e-4, "base_points": 1e-4, "weight": 1e-4, "coef": 1e-4, "point_value": 1e-4,
             "bedday_points": 1e-4, "assessment_coef": 1e-4, "avg_los": 0.005 + 1e-9, "score": 1e-9}
MONEY = {"avg_cost", "self_pay", "cost", "revenue", "fund_due", "prepay", "balance", "fund_item_cost", "budget", "pool",
         "daily_cost", "prepaid", "clearing"}
NAMES = ["weights", "perdiem", "case_points", "settlement", "period", "monthly", "clearing"]


def compare(name: str, actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns), name
    assert len(actual) == len(expected), name
    problems = []
    for column in expected.columns:
        for i, (a, e) in enumerate(zip(actual[column].tolist(), expected[column].tolist())):
            if isinstance(e, float) and pd.isna(e):
                ok = a is None or (isinstance(a, float) and pd.isna(a))
            elif column in TOLERANCE or column in MONEY:
                ok = abs(float(a) - float(e)) <= TOLERANCE.get(column, 0.01 + 1e-9)
            else:
                ok = str(a).lower() == str(e).lower()
            if not ok:
                problems.append(f"{name} row {i} {column}: {a!r}, expected {e!r}")
    assert not problems, "\n".join(problems[:20])


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"hospital_level": str, "dept": str, "discharge_date": str})


def test_the_reference_year(shared: Path) -> None:
    data = shared / "testdata" / "perdiem"
    out = drg.points.run(data / "policy.toml", read(data / "history.csv"), read(data / "period.csv"),
                         scores=data / "scores.csv")
    assert set(out) == set(NAMES)
    for name in NAMES:
        expected = pd.read_csv(data / "expected" / f"{name}.csv", dtype={"drg": str, "month": str},
                               keep_default_na=False, na_values={"drg": [""], "score": [""]})
        compare(name, out[name], expected)
    clearing = out["clearing"]
    assert clearing["assessment_coef"].tolist()[:2] == [1.05, 0.9]


def test_scores_as_a_dict_and_bad_scores(shared: Path) -> None:
    data = shared / "testdata" / "perdiem"
    history, period = read(data / "history.csv"), read(data / "period.csv").iloc[:500]
    out = drg.points.run(data / "policy.toml", history, period, scores={"H001": 95})
    assert out["clearing"]["assessment_coef"].tolist()[0] == 1.05
    twice = pd.DataFrame({"hospital": ["H001", "H001"], "score": [90, 80]})
    with pytest.raises(drg.PointsError, match="row 1: hospital H001 is listed twice"):
        drg.points.run(data / "policy.toml", history, period, scores=twice)
    with pytest.raises(drg.PointsError, match="score 120"):
        drg.points.run(data / "policy.toml", history, period, scores={"H001": 120})


def test_a_bad_discharge_date_is_refused_naming_the_row(shared: Path) -> None:
    data = shared / "testdata" / "perdiem"
    period = read(data / "period.csv").iloc[:10].copy()
    period.loc[3, "discharge_date"] = "2025-02-30"
    with pytest.raises(drg.PointsError, match="period: row 3: discharge_date"):
        drg.points.run(data / "policy.toml", read(data / "history.csv"), period)
