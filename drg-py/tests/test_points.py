"""drg.points.run against the reference results of ../shared/testdata/points."""

from pathlib import Path
import pandas as pd
import pytest

import drg

TOLERANCE = {"points": 1e-4, "base_points": 1e-4, "weight": 1e-4, "coef": 1e-4, "point_value": 1e-4}
MONEY = {"avg_cost", "self_pay", "cost", "revenue", "fund_due", "prepay", "balance", "fund_item_cost", "budget", "pool"}


def compare(name: str, actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns), name
    assert len(actual) == len(expected), name
    problems = []
    for column in expected.columns:
        for i, (a, e) in enumerate(zip(actual[column].tolist(), expected[column].tolist())):
            if column in TOLERANCE or column in MONEY:
                tol = TOLERANCE.get(column, 0.01 + 1e-9)
                ok = abs(float(a) - float(e)) <= tol
            elif isinstance(e, float) and pd.isna(e):
                ok = a is None or (isinstance(a, float) and pd.isna(a))
            else:
                ok = str(a).lower() == str(e).lower()
            if not ok:
                problems.append(f"{name} row {i} {column}: {a!r}, expected {e!r}")
    assert not problems, "\n".join(problems[:20])


def test_the_reference_run(shared: Path) -> None:
    points = shared / "testdata" / "points"
    history = pd.read_csv(points / "history.csv", dtype={"hospital_level": str})
    period = pd.read_csv(points / "period.csv", dtype={"hospital_level": str})
    out = drg.points.run(points / "policy.toml", history, period)
    assert set(out) == {"weights", "case_points", "settlement", "period"}
    for name in out:
        expected = pd.read_csv(points / "expected" / f"{name}.csv", dtype={"drg": str}, keep_default_na=False,
                               na_values={"drg": [""]})
        compare(name, out[name], expected)
    settlement, period_line = out["settlement"], out["period"]
    assert abs(settlement["fund_due"].sum() - period_line["pool"][0]) < 1e-3


def test_rows_without_results_are_grouped_and_bad_costs_reported(shared: Path) -> None:
    history = pd.DataFrame({"id": ["h1", "h2", "h3"], "hospital": ["H1"] * 3, "hospital_level": ["3"] * 3,
                            "sex": ["1"] * 3, "age_years": [30, 40, 50],
                            "diagnoses": ["K35.800", "K35.800", "K35.800"], "procedures": ["47.0901"] * 3,
                            "total_cost": [9000.0, 11000.0, None], "self_pay": [1000.0] * 3})
    period = history.iloc[:2].copy()
    with pytest.warns(drg.points.PointsWarning, match="calibration: row 2: total_cost is missing"):
        out = drg.points.run(shared / "testdata" / "points" / "policy.toml", history, period, grouper=drg.Grouper("demo"))
    weights = out["weights"]
    assert weights["drg"].tolist() == ["GC25", "*"]
    assert weights["avg_cost"][0] == 10000.0
    assert out["case_points"]["category"].tolist() == ["normal", "normal"]


def test_a_bad_policy_raises(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[settlement]\nbudget = -1\n")
    df = pd.DataFrame({"id": ["a"], "hospital": ["H"], "total_cost": [1.0], "status": ["grouped"], "drg": ["X"]})
    with pytest.raises(drg.PointsError, match="settlement.budget"):
        drg.points.run(policy, df, df)
