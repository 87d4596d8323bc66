import csv
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = (ROOT / ".." / "shared").resolve()


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared beside the checkout. Missing is a failure, never a skip."""
    assert (SHARED / "README.md").is_file(), f"the reference material is missing at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def read_expected(path: Path) -> Dict[str, Dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def differences(expected: Dict[str, Dict[str, str]], rows: Iterable[Sequence[object]]) -> List[str]:
    """(id, status, mdc, adrg, drg) rows against expected.csv: status and DRG
    always, MDC and ADRG where the reference has them."""
    diffs = []
    seen = set()
    for row in rows:
        # Missing values are None (results), NaN (pandas) or "" (CSV).
        id_, status, mdc, adrg, drg = (x if isinstance(x, str) else "" for x in row)
        seen.add(id_)
        e = expected.get(id_)
        if e is None:
            diffs.append(f"{id_}: not expected")
        elif (
            e["status"] != status
            or e["drg"] != drg
            or (e["mdc"] and e["mdc"] != mdc)
            or (e["adrg"] and e["adrg"] != adrg)
        ):
            diffs.append(f"{id_}: expected {e['status']} {e['mdc']}/{e['adrg']}/{e['drg']}, got {status} {mdc}/{adrg}/{drg}")
    diffs.extend(f"{i}: no result" for i in sorted(set(expected) - seen))
    return diffs
