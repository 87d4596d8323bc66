from pathlib import Path
import math
import threading
from typing import List, Optional

import pandas as pd
import pyarrow as pa
import pytest

import drg

APPENDIX = {"id": "1", "sex": "1", "age_years": 30, "diagnoses": ["K35.800"], "procedures": ["47.0901"]}


def test_version_matches_the_crate(root: Path) -> None:
    cargo = (root / "Cargo.toml").read_text()
    version = next(line.split('"')[1] for line in cargo.splitlines() if line.startswith("version = "))
    assert drg.__version__ == version


def test_group_one_case_with_the_demo_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRG_PACK", raising=False)
    g = drg.Grouper("demo")
    r = g.group(APPENDIX)
    assert (r.id, r.status, r.mdc, r.adrg, r.drg) == ("1", "grouped", "MDCG", "GC2", "GC25")
    assert r.drg_name == "阑尾切除术，不伴并发症或合并症"
    assert r.reason is None and r.warnings == [] and r.trace == []
    assert r.to_dict()["drg"] == "GC25"
    assert "GC25" in repr(r)


def test_codes_as_strings_and_numbers_in_any_type() -> None:
    g = drg.Grouper("demo")
    r = g.group({"id": 7, "sex": "男", "age_years": 30.0, "diagnoses": "k35.800|E11.900", "procedures": "47.0901"})
    assert (r.id, r.drg) == ("7", "GC23")
    r = g.group({"id": "n", "sex": 2, "age_years": "0", "age_days": 3, "weight_g": 1800.0, "diagnoses": ("P07.100",)})
    assert r.drg == "PS29"


def test_explain_gives_the_trail() -> None:
    r = drg.Grouper("demo").group(dict(APPENDIX, diagnoses=["K35.800", "E11.900"]), explain=True)
    assert r.drg == "GC23"
    assert any("✓ has CC: secondary diagnosis E11.900" in line for line in r.trace)
    assert r.trace[0].startswith("✗ MDC MDCP")


def test_invalid_cases_are_results_and_unreadable_ones_errors() -> None:
    g = drg.Grouper("demo")
    r = g.group({"id": "x", "age_years": 30, "diagnoses": ["K35.800"]})
    assert r.status == "invalid" and r.reason == "sex: missing"
    with pytest.raises(drg.CaseError, match="age_years"):
        g.group(dict(APPENDIX, age_years="thirty"))
    with pytest.raises(drg.CaseError, match="sex"):
        g.group(dict(APPENDIX, sex="X"))
    with pytest.raises(drg.CaseError):
        g.group(dict(APPENDIX, age_years=True))
    with pytest.raises(drg.CaseError, match="dict"):
        g.group(["not", "a", "dict"])  # type: ignore[arg-type]
    assert issubclass(drg.CaseError, ValueError) and issubclass(drg.PackError, ValueError)


def test_pack_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(drg.PackError, match="cannot open"):
        drg.Grouper(str(tmp_path / "nope"))
    (tmp_path / "pack.json").write_text('{"format": "drgpack/9"}')
    with pytest.raises(drg.PackError, match=r"pack\.json \(\$\.format\)"):
        drg.Grouper(tmp_path)


def test_pack_from_the_environment(monkeypatch: pytest.MonkeyPatch, shared: Path) -> None:
    monkeypatch.setenv("DRG_PACK", str(shared / "rulepacks" / "chs-drg-1.0"))
    info = drg.Grouper().pack_info()
    assert info["id"] == "chs-drg-1.0"
    assert info["counts"] == {"mdc": 26, "adrg": 376, "drg": 618}


def test_codes() -> None:
    g = drg.Grouper("demo")
    assert drg.normalize_code("ｋ３５．８００") == "K35.800"
    assert drg.normalize_code("I10.X05") == "I10.x05"
    assert drg.normalize_code(" - ") is None
    assert g.code_name("k35.800") == "急性阑尾炎，其他未特指"
    assert g.code_name("ZZZ") is None


def test_group_many_keeps_every_row() -> None:
    g = drg.Grouper("demo")
    cases = [APPENDIX, {"id": "b", "sex": "1", "age_years": "abc", "diagnoses": ["K35.800"]}, "junk", dict(APPENDIX, id="d")]
    results = g.group_many(iter(cases))  # type: ignore[arg-type]  # ("junk" is the point)
    assert [r.status for r in results] == ["grouped", "invalid", "invalid", "grouped"]
    assert results[1].id == "b" and (results[1].reason or "").startswith("item 1: age_years")
    assert results[2].reason == "item 2: expected a dict, found str"


def test_group_frame_adds_the_result_columns_and_keeps_bad_rows() -> None:
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "sex": ["1", "2", None, "1"],
            "age_years": [30, 40, 50, float("nan")],
            "diagnoses": ["K35.800|E11.900", ["J18.900", "J96.000"], "K35.800", "K35.800"],
            "procedures": ["47.0901", None, float("nan"), ""],
            "ward": ["3B", "4A", "5C", "6D"],
        }
    )
    out = g_frame = drg.Grouper("demo").group_frame(df)
    assert list(out.columns) == ["id", "sex", "age_years", "diagnoses", "procedures", "ward", *drg.RESULT_COLUMNS]
    assert [None if pd.isna(d) else d for d in out["drg"]] == ["GC23", "ES21", None, None]
    assert out["status"].tolist() == ["grouped", "grouped", "invalid", "invalid"]
    assert out["reason"].tolist()[2:] == ["sex: missing", "age_years: missing"]
    assert "status" not in df.columns, "the input frame is not changed"
    assert g_frame["ward"].tolist() == df["ward"].tolist()


def test_a_value_that_cannot_be_read_is_an_invalid_row_naming_it() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "sex": ["1", "1"], "age_years": ["30", "x"], "diagnoses": ["K35.800", "K35.800"]})
    out = drg.Grouper("demo").group_frame(df)
    assert out["status"].tolist() == ["grouped", "invalid"]
    assert out["reason"][1] == 'row 1: age_years: "x" is not a number'


def test_nullable_pandas_dtypes() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "sex": pd.array([1, None], dtype="Int64"), "age_years": pd.array([30, 40], dtype="Int64"),
                       "diagnoses": pd.array(["K35.800", None], dtype="string")})
    out = drg.Grouper("demo").group_frame(df)
    assert out["status"].tolist() == ["grouped", "invalid"]
    assert out["reason"][1] == "sex: missing; diagnoses: none given"


def test_group_arrow() -> None:
    table = pa.table({"id": ["a", "b"], "sex": ["1", "2"], "age_years": [30, 60],
                      "diagnoses": [["K35.800"], ["J18.900"]], "procedures": [["47.0901"], []]})
    out = drg.Grouper("demo").group_arrow(table)
    assert out.column_names == ["id", "sex", "age_years", "diagnoses", "procedures", *drg.RESULT_COLUMNS]
    assert out.column("drg").to_pylist() == ["GC25", "ES25"]
    again = drg.Grouper("demo").group_arrow(out)
    assert again.column_names == out.column_names, "result columns are replaced, not repeated"


def test_explain_in_a_frame() -> None:
    out = drg.Grouper("demo").group_frame(pd.DataFrame([APPENDIX]), explain=True)
    assert "✓ ADRG GC2" in out["trace"][0]


def test_threads_share_a_grouper() -> None:
    g = drg.Grouper("demo")
    results: List[List[Optional[str]]] = []

    def work() -> None:
        results.append([g.group(dict(APPENDIX, id=str(i))).drg for i in range(200)])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == ["GC25"] * 200 for r in results) and len(results) == 4


def test_a_compiled_pack_groups_like_its_directory(shared: Path, tmp_path: Path) -> None:
    compiled = tmp_path / "chs-drg-1.0.drgpack"
    drg.compile_pack(shared / "rulepacks" / "chs-drg-1.0", compiled)
    from_dir = drg.Grouper(shared / "rulepacks" / "chs-drg-1.0")
    from_file = drg.Grouper(str(compiled))
    assert from_file.pack_info()["source"] == str(compiled)
    cases = pd.read_csv(shared / "testdata" / "chs-drg-1.0" / "cases.csv", dtype=str, keep_default_na=False)
    a, b = from_dir.group_frame(cases), from_file.group_frame(cases)
    assert a["drg"].fillna("").tolist() == b["drg"].fillna("").tolist()
    assert a["status"].tolist() == b["status"].tolist()
    compiled.write_bytes(compiled.read_bytes()[:1000])
    with pytest.raises(drg.PackError, match="truncated"):
        drg.Grouper(compiled)
