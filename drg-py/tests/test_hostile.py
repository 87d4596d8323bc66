"""Hostile input through the Python API: a clear error or an invalid row,
never a crash, and one result per input row."""

from pathlib import Path
import math
from typing import Dict, Iterator

import pandas as pd
import pytest

import drg


@pytest.fixture(scope="module")
def g() -> drg.Grouper:
    return drg.Grouper("demo")


def test_an_empty_frame(g: drg.Grouper) -> None:
    out = g.group_frame(pd.DataFrame({"id": [], "sex": [], "age_years": [], "diagnoses": []}))
    assert len(out) == 0 and "status" in out.columns
    assert g.group_many([]) == []


def test_huge_fields_and_many_codes(g: drg.Grouper) -> None:
    big = "K" * (10 << 20)
    many = ["K35.800"] + ["E11.900"] * 10_000
    results = g.group_many([
        {"id": "big", "sex": 1, "age_years": 30, "diagnoses": [big]},
        {"id": "many", "sex": 1, "age_years": 30, "diagnoses": many},
        {"id": "bigid" * 100_000, "sex": 1, "age_years": 30, "diagnoses": "K35.800"},
    ])
    assert [r.status for r in results] == ["ungroupable", "grouped", "grouped"]
    reason = results[0].reason
    assert reason is not None and len(reason) < 200 and reason.endswith("(10485760 bytes)")
    assert results[1].drg == "GU13"


def test_nul_and_odd_numbers(g: drg.Grouper) -> None:
    df = pd.DataFrame({
        "id": ["nul", "inf", "neg", "nan", "wide", "text"],
        "sex": ["1", "1", "1", "1", "１", "1"],
        "age_years": [30, math.inf, -1, float("nan"), "３０", "1e999"],
        "diagnoses": ["K35.800\x00", "K35.800", "K35.800", "K35.800", "K35.800", "K35.800"],
    })
    out = g.group_frame(df)
    assert out["status"].tolist() == ["grouped", "invalid", "invalid", "invalid", "grouped", "invalid"]
    assert out["reason"][1].startswith("row 1: age_years: inf is not a number")
    assert out["reason"][2] == "age_years: -1 is negative"
    assert out["reason"][3] == "age_years: missing"


def test_duplicate_ids_are_reported_and_kept(g: drg.Grouper) -> None:
    df = pd.DataFrame({"id": ["a", "b", "a"], "sex": ["1"] * 3, "age_years": [30] * 3, "diagnoses": ["K35.800"] * 3})
    out = g.group_frame(df)
    assert out["warnings"].tolist() == ["", "", "duplicate id: also in row 0"]
    assert out["status"].tolist() == ["grouped"] * 3
    results = g.group_many(df.to_dict("records"))  # type: ignore[arg-type]  # (Hashable keys)
    assert results[2].warnings == ["duplicate id: also in row 0"]


def test_wrong_types_are_invalid_rows(g: drg.Grouper) -> None:
    results = g.group_many([
        {"id": "x", "sex": object(), "age_years": 30, "diagnoses": "K35.800"},
        {"id": "y", "sex": 1, "age_years": [30], "diagnoses": "K35.800"},
        {"id": "z", "sex": 1, "age_years": 30, "diagnoses": [1, 2]},
    ])
    assert [r.status for r in results] == ["invalid"] * 3
    assert all((r.reason or "").startswith(f"item {i}: ") for i, r in enumerate(results))


def test_a_deeply_nested_pack_is_refused(tmp_path: Path, root: Path) -> None:
    import shutil

    pack = tmp_path / "deep"
    shutil.copytree(root / "drg-core" / "demo-pack", pack)
    expr = "true"
    for _ in range(10_000):
        expr = '{"not": ' + expr + "}"
    text = (pack / "pack.json").read_text(encoding="utf-8")
    (pack / "pack.json").write_text(text.replace('"when": {"pdx_in": "MDCE.dx"}', '"when": ' + expr, 1), encoding="utf-8")
    with pytest.raises(drg.PackError, match="recursion limit"):
        drg.Grouper(pack)
    with pytest.raises(drg.PackError, match="is a file"):
        drg.Grouper(root / "README.md")


# Issue 15, items 17-19: one exception base, nothing aborts the interpreter,
# the caller's own errors reach it unchanged.

def test_one_exception_base_with_the_old_names_kept() -> None:
    assert issubclass(drg.InputError, drg.DrgError) and issubclass(drg.InputError, ValueError)
    assert issubclass(drg.PackError, drg.DrgError) and issubclass(drg.PackError, ValueError)
    assert issubclass(drg.PolicyError, drg.DrgError) and issubclass(drg.PolicyError, ValueError)
    assert issubclass(drg.InternalError, drg.DrgError)
    assert drg.CaseError is drg.InputError and drg.PointsError is drg.PolicyError
    with pytest.raises(drg.DrgError):
        drg.Grouper("/no/such/pack")
    with pytest.raises(drg.InputError):
        drg.Grouper().group({"id": "1", "age_years": "abc"})


def test_a_column_named_twice_is_an_input_error(g: drg.Grouper) -> None:
    df = pd.DataFrame([["1", "1", 30, "K35.800", "2"]], columns=["id", "sex", "age_years", "diagnoses", "sex"])
    with pytest.raises(drg.InputError, match="'sex' appears twice"):
        g.group_frame(df)
    df = pd.DataFrame([["1", 1, 30, "K35.800", "x", "y"]], columns=["id", "sex", "age_years", "diagnoses", "ward", "ward"])
    with pytest.raises(ValueError, match="appears twice"):
        g.group_frame(df)


def test_a_column_named_twice_in_arrow_and_points(g: drg.Grouper, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    table = pa.table([["1"], ["1"]], names=["id", "id"])
    with pytest.raises(drg.InputError, match="appears twice"):
        g.group_arrow(table)
    df = pd.DataFrame([["1", "H1", 100.0, 200.0]], columns=["id", "hospital", "total_cost", "total_cost"])
    with pytest.raises(drg.DrgError, match="appears twice"):
        drg.points.run(tmp_path / "policy.toml", df, df)


def test_a_frame_of_10_to_the_12_rows_without_columns_is_refused(g: drg.Grouper) -> None:
    # Before: the interpreter aborted (a Rust allocation of 10**12 rows).
    with pytest.raises(drg.InputError, match="none of the case columns"):
        g.group_frame(pd.DataFrame(index=pd.RangeIndex(10**12)))
    with pytest.raises(drg.InputError):
        g._group_columns({}, 10**12)
    with pytest.raises(drg.InputError):
        g._group_columns({"id": ["1"]}, 10**12)
    # An empty frame is still an empty result.
    assert len(g.group_frame(pd.DataFrame(index=pd.RangeIndex(0)))) == 0


def test_the_iterables_own_error_reaches_the_caller_unchanged(g: drg.Grouper) -> None:
    class Mine(Exception):
        pass

    def cases() -> Iterator[Dict[str, object]]:
        yield {"id": "1", "sex": 1, "age_years": 30, "diagnoses": ["K35.800"]}
        raise Mine("from the caller's generator")

    with pytest.raises(Mine, match="from the caller's generator") as caught:
        g.group_many(cases())
    assert type(caught.value) is Mine
    with pytest.raises(TypeError):
        g.group_many(5)  # type: ignore[arg-type]

