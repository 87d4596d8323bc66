"""Bundled packs by name, drg.packs(), and drg.pack_diff against groupings made independently."""

from pathlib import Path
from typing import List

import pandas as pd
import pytest

import drg


def test_packs_lists_every_bundled_pack() -> None:
    packs = drg.packs()
    assert len(packs) == 27
    assert [p["id"] for p in packs[:3]] == ["chs-drg-2.0", "chs-drg-1.1", "chs-drg-1.0"]
    assert [p["id"] for p in packs if p["default"]] == ["chs-drg-2.0"] == [drg.DEFAULT_PACK]
    for p in packs:
        assert "not an official release" in p["provenance"]
        assert set(p["counts"]) == {"mdc", "adrg", "drg"}
    assert "OpenDRG" in drg.PACKS_NOTICE and "Apache License 2.0" in drg.PACKS_NOTICE


def test_a_pack_opens_by_its_id_and_the_default_is_2_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRG_PACK", raising=False)
    assert drg.Grouper().pack_info()["id"] == "chs-drg-2.0"
    wuhan = drg.Grouper("wuhan-2022").pack_info()
    listed = {p["id"]: p for p in drg.packs()}["wuhan-2022"]
    assert wuhan["id"] == "wuhan-2022" and wuhan["counts"] == listed["counts"]
    monkeypatch.setenv("DRG_PACK", "chs-drg-1.0")
    assert drg.Grouper().pack_info()["id"] == "chs-drg-1.0"
    with pytest.raises(drg.PackError, match="no bundled pack has this id"):
        drg.Grouper("wuhan-2099")


def test_pack_diff_agrees_with_two_independent_groupings(shared: Path) -> None:
    cases = pd.read_csv(shared / "testdata" / "chs-drg-1.1" / "cases.csv", dtype=str, keep_default_na=False).head(5000)
    weights = pd.read_csv(shared / "testdata" / "points" / "expected" / "weights.csv", dtype={"drg": str})
    out = drg.pack_diff(cases, "chs-drg-1.1", "chs-drg-2.0", weights_old=weights, weights_new=weights)
    old = drg.Grouper("chs-drg-1.1").group_frame(cases)
    new = drg.Grouper("chs-drg-2.0").group_frame(cases)

    def group(frame: pd.DataFrame) -> List[object]:
        return [d if s == "grouped" else s for s, d in zip(frame["status"], frame["drg"])]

    g_old, g_new = group(old), group(new)
    c = out["cases"]
    assert list(c["id"]) == list(cases["id"])
    assert list(c["old_status"]) == list(old["status"]) and list(c["new_status"]) == list(new["status"])
    assert list(c["changed"]) == [a != b for a, b in zip(g_old, g_new)]

    expected = pd.Series(list(zip(g_old, g_new))).value_counts()
    t = out["transitions"]
    assert len(t) == len(expected)
    for row in t.itertuples(index=False):
        assert row.cases == expected[(row.old, row.new)]  # type: ignore[index]
    assert list(t["cases"]) == sorted(t["cases"], reverse=True)

    w = dict(zip(weights["drg"], weights["weight"]))
    frame = pd.DataFrame({"hospital": cases["hospital"], "w": [w.get(d) if s == "grouped" else None for s, d in zip(old["status"], old["drg"])]})
    cmi = frame.dropna().groupby("hospital")["w"].mean()
    h = out["hospitals"].set_index("hospital")
    for hospital, value in cmi.items():
        assert h.loc[hospital, "cmi_old"] == pytest.approx(value, rel=1e-12)  # type: ignore[index]

    s = out["summary"].iloc[0]
    assert s["cases"] == 5000 and s["changed"] == sum(a != b for a, b in zip(g_old, g_new))
