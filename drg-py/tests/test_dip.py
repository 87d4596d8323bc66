"""drg.dip against the reference results of ../shared/testdata/dip."""

from pathlib import Path
import warnings
from typing import Tuple

import pandas as pd
import pytest

import drg

TOLERANCE = {"points": 1e-4, "score": 1e-4 + 1e-9, "coef": 1e-4, "coef_0": 1e-4 + 1e-9, "coef_1": 1e-4 + 1e-9,
             "coef_2": 1e-4 + 1e-9, "point_value": 1e-4}
MONEY = {"avg_cost", "self_pay", "cost", "revenue", "fund_due", "prepay", "balance", "fund_item_cost", "budget", "pool"}
STR = {"group": str, "hospital_level": str, "dx": str, "procedures": str, "treatment": str, "kind": str, "reason": str}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=STR, keep_default_na=False, na_values={"severity": [""]})


def blank(v: object) -> bool:
    return v is None or v == "" or (isinstance(v, float) and pd.isna(v))


def compare(name: str, actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected.columns), name
    assert len(actual) == len(expected), name
    problems = []
    for column in expected.columns:
        for i, (a, e) in enumerate(zip(actual[column].tolist(), expected[column].tolist())):
            if column in TOLERANCE or column in MONEY:
                ok = abs(float(a) - float(e)) <= TOLERANCE.get(column, 0.01 + 1e-9)
            elif column == "reason":
                ok = blank(a) == blank(e)
            elif column == "severity":
                ok = (pd.isna(a) and pd.isna(e)) or int(a) == int(e)
            else:
                ok = ("" if blank(a) else a) == e
            if not ok:
                problems.append(f"{name} row {i} ({actual.iloc[i, 0]!s}) {column}: {a!r}, expected {e!r}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:30])


@pytest.fixture(scope="module")
def dip_data(shared: Path) -> Tuple[Path, pd.DataFrame, pd.DataFrame, Path]:
    d = shared / "testdata" / "dip"
    history = pd.read_csv(d / "history.csv", dtype={"hospital_level": str})
    period = pd.read_csv(d / "period.csv", dtype={"hospital_level": str})
    return d, history, period, shared / "rulepacks" / "chs-drg-1.1"


def test_run_from_history_reproduces_expected(dip_data: Tuple[Path, pd.DataFrame, pd.DataFrame, Path]) -> None:
    d, history, period, pack = dip_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = drg.dip.run(d / "policy.toml", period, history=history, pack=pack)
    assert set(out) == {"catalogue", "groups", "case_points", "settlement", "period"}
    assert sum(issubclass(w.category, drg.dip.DipWarning) for w in caught) == 83
    for name, frame in out.items():
        compare(name, frame, read(d / "expected" / f"{name}.csv"))
    assert abs(out["settlement"].fund_due.sum() - out["period"].pool[0]) < 1e-3


def test_run_with_the_published_catalogue(dip_data: Tuple[Path, pd.DataFrame, pd.DataFrame, Path]) -> None:
    d, _, period, pack = dip_data
    published = read(d / "expected" / "catalogue.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", drg.dip.DipWarning)
        for catalogue in (d / "expected" / "catalogue.csv", published):
            out = drg.dip.run(d / "policy.toml", period, catalogue=catalogue, pack=pack)
            assert "catalogue" not in out
            for name, frame in out.items():
                compare(name, frame, read(d / "expected-published" / f"{name}.csv"))


def test_build_and_group_frame(dip_data: Tuple[Path, pd.DataFrame, pd.DataFrame, Path]) -> None:
    d, history, period, pack = dip_data
    catalogue = drg.dip.build(d / "policy.toml", history, pack=pack)
    compare("catalogue", catalogue, read(d / "expected" / "catalogue.csv"))
    grouped = drg.dip.group_frame(d / "policy.toml", catalogue, period, pack=pack)
    assert list(grouped.columns) == list(period.columns) + ["status", "group", "severity", "reason"]
    expected = read(d / "expected" / "groups.csv")
    compare("groups", grouped[["id", "status", "group", "severity", "reason"]], expected)


def test_explain_and_errors(dip_data: Tuple[Path, pd.DataFrame, pd.DataFrame, Path], tmp_path: Path) -> None:
    d, _, _, pack = dip_data
    case = {"id": "x", "sex": "1", "age_years": 60, "total_cost": 9000, "hospital_level": "3",
            "diagnoses": ["C15.900", "J18.900"]}
    e = drg.dip.explain(d / "policy.toml", d / "expected" / "catalogue.csv", case, pack=pack)
    assert e["status"] == "comprehensive" and e["group"] == "C15#C"
    lines = e["explain"]
    assert isinstance(lines, list) and any("too rare" in line for line in lines)
    bad = tmp_path / "policy.toml"
    bad.write_text((d / "policy.toml").read_text().replace("low_ratio = 0.5", "low_ratio = 5"))
    with pytest.raises(drg.dip.DipError, match="low_ratio"):
        drg.dip.build(bad, pd.DataFrame({"id": [], "sex": [], "age_years": [], "diagnoses": []}))
    lines = (d / "expected" / "catalogue.csv").read_text().splitlines()
    lines[2] = lines[2].replace("core", "kernel", 1)
    cat = tmp_path / "cat.csv"
    cat.write_text("\n".join(lines))
    with pytest.raises(drg.dip.DipError, match="line 3: kind"):
        drg.dip.group_frame(d / "policy.toml", cat, pd.DataFrame({"id": ["a"], "sex": ["1"], "age_years": [3], "diagnoses": ["K35.800"]}))
