"""drg.read_cases and group_frame with the column names hospitals export
(specs/columns.md), on the national cases reshaped at test time."""

from pathlib import Path
import csv
from typing import Dict, List, Tuple

import pandas as pd
import pytest

import drg
from conftest import differences, read_expected

SEX = {"1": "男", "2": "女"}
DISCHARGE = {"1": "医嘱离院", "2": "医嘱转院", "4": "非医嘱离院", "5": "死亡", "9": "其他"}


def _national(shared: Path) -> List[Dict[str, str]]:
    with open(shared / "testdata" / "chs-drg-1.1" / "cases.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _export_rows(cases: List[Dict[str, str]]) -> Tuple[List[str], List[List[str]]]:
    """The cases as an HIS writes them: Chinese headers, names for codes,
    units and thousands separators, one column per code."""
    n_dx = max(len([c for c in r["diagnoses"].split("|") if c]) for r in cases)
    n_px = max(len([c for c in r["procedures"].split("|") if c]) for r in cases)
    header = ["病案号", "医疗机构编码", "医院等级", "性别", "年龄（岁）", "年龄（天）", "新生儿出生体重（克）",
              "实际住院天数", "离院方式", "住院总费用", "主要诊断编码"]
    header += [f"其他诊断编码{n}" for n in range(1, n_dx)]
    header += [f"手术操作编码{n}" for n in range(1, n_px + 1)]
    rows = []
    for r in cases:
        dx = [c for c in r["diagnoses"].split("|") if c]
        px = [c for c in r["procedures"].split("|") if c]
        cost = r["total_cost"]
        rows.append([
            r["id"], r["hospital"], r["hospital_level"], SEX.get(r["sex"], r["sex"]), r["age_years"], r["age_days"],
            r["weight_g"], (r["los_days"] + "天") if r["los_days"] else "", DISCHARGE.get(r["discharge"], r["discharge"]),
            f"{float(cost):,.2f}" if cost else "",
        ] + [dx[i] if i < len(dx) else "" for i in range(n_dx)] + [px[i] if i < len(px) else "" for i in range(n_px)])
    return header, rows


def test_read_cases_of_an_export_groups_as_the_original(shared: Path, tmp_path: Path) -> None:
    header, rows = _export_rows(_national(shared))
    path = tmp_path / "export.csv"
    with open(path, "w", newline="", encoding="gbk") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    df = drg.read_cases(path, encoding="gbk")
    assert list(df.columns[:15]) == list(drg.CASE_FIELDS)
    expected = read_expected(shared / "testdata" / "chs-drg-1.1" / "expected.csv")
    # A row that cannot be read is one the reference finds invalid (the shared
    # cases include a bad sex or no principal diagnosis on purpose).
    unreadable = df.loc[df["read_error"].notna(), "id"].tolist()
    assert unreadable, "the shared cases include unreadable rows"
    assert [i for i in unreadable if expected[i]["status"] != "invalid"] == []
    out = drg.Grouper(pack=shared / "rulepacks" / "chs-drg-1.1").group_frame(df)
    diffs = differences(expected, out[["id", "status", "mdc", "adrg", "drg"]].itertuples(index=False))
    assert not diffs, f"{len(diffs)} differ: {diffs[:20]}"


def test_group_frame_takes_aliased_and_wide_columns(shared: Path) -> None:
    header, rows = _export_rows(_national(shared)[:3000])
    df = pd.DataFrame(rows, columns=header).replace("", None)
    out = drg.Grouper(pack=shared / "rulepacks" / "chs-drg-1.1").group_frame(df)
    expected = read_expected(shared / "testdata" / "chs-drg-1.1" / "expected.csv")
    expected = {k: v for k, v in expected.items() if k in set(df["病案号"])}
    results = zip(out["病案号"], out["status"], out["mdc"], out["adrg"], out["drg"])
    diffs = differences(expected, results)
    assert not diffs, f"{len(diffs)} differ: {diffs[:20]}"


def test_an_ambiguous_header_is_refused_naming_the_columns() -> None:
    df = pd.DataFrame({"病案号": ["1"], "性别": ["男"], "年龄": [30], "diagnoses": ["K35.800"], "主要诊断编码": ["K35.800"]})
    with pytest.raises(drg.CaseError, match="主要诊断编码"):
        drg.Grouper().group_frame(df)


def test_read_cases_with_a_mapping_file(tmp_path: Path) -> None:
    (tmp_path / "map.toml").write_text('[columns]\nid = "住院流水号"\n[wide]\ndiagnoses = { all = "诊断代码{n}" }\n', encoding="utf-8")
    (tmp_path / "x.csv").write_text("住院流水号,性别,年龄,诊断代码1,诊断代码2\nA1,男,30,K35.800,E11.900\n", encoding="utf-8")
    df = drg.read_cases(tmp_path / "x.csv", columns=tmp_path / "map.toml")
    assert df.loc[0, "id"] == "A1" and df.loc[0, "diagnoses"] == "K35.800|E11.900" and df.loc[0, "sex"] == "1"
    with pytest.raises(drg.CaseError, match="columns.nope"):
        (tmp_path / "bad.toml").write_text('[columns]\nnope = "x"\n', encoding="utf-8")
        drg.read_cases(tmp_path / "x.csv", columns=tmp_path / "bad.toml")
