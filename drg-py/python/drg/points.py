"""DRG point calculation (specs/points.md) on pandas DataFrames.

    >>> out = drg.points.run("policy.toml", history_df, period_df)
    >>> out["period"].point_value[0]

``run`` returns a dict of DataFrames named as the report files:
``weights``, ``case_points``, ``settlement`` and ``period``, with unrounded
numbers; with a policy that has ``[perdiem]`` categories also ``perdiem``
(bed-day points), and when the period has a ``discharge_date`` column also
``monthly`` (the pre-settlement) and ``clearing`` (the year-end clearing
with each hospital's assessment coefficient; specs/perdiem.md). Rows left out (a missing or negative cost) are reported as
:class:`PointsWarning` warnings naming the step and the row's position.
"""

import warnings
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Tuple, Union, cast

from . import _drg
from ._types import PathArg
from .errors import PointsError

if TYPE_CHECKING:
    import pandas as pd

    from . import Grouper

__all__ = ["run", "PointsWarning"]


class PointsWarning(UserWarning):
    """A row that point calculation left out, and why."""


def run(
    policy: PathArg,
    history: "pd.DataFrame",
    period: "pd.DataFrame",
    grouper: "Optional[Grouper]" = None,
    scores: "Union[pd.DataFrame, PathArg, Mapping[str, float], None]" = None,
) -> "Dict[str, pd.DataFrame]":
    """Calibration on ``history``, scoring of ``period``, and settlement.

    Rows with ``status`` and ``drg`` are used as grouped; rows without them
    (no such columns, or an empty status) are grouped first with ``grouper``
    (default: ``drg.Grouper()``, i.e. ``$DRG_PACK``, else chs-drg-2.0).
    Columns ``dept``, ``diagnoses`` and ``los_days`` decide which cases are
    per-diem; ``discharge_date`` gives each case its month. ``scores`` are
    the hospitals' assessment scores: a DataFrame or CSV path with columns
    ``hospital, score``, or a dict hospital → score.
    Raises :class:`drg.PointsError` for a policy that cannot be used, bad
    scores or discharge dates, an empty history or a period without points.
    """
    import pandas as pd

    raw = _drg._points_year(str(policy), _points_columns(history, grouper), _points_columns(period, grouper), _scores(scores))
    skipped: List[Tuple[str, int, str]] = raw.pop("skipped")  # type: ignore[assignment]
    for step, row, reason in skipped:
        warnings.warn(f"{step}: row {row}: {reason}; left out", PointsWarning, stacklevel=2)
    return {name: pd.DataFrame(cast(Dict[str, List[object]], columns)) for name, columns in raw.items()}


def _points_columns(df: "pd.DataFrame", grouper: "Optional[Grouper]") -> Dict[str, List[object]]:
    from . import _refuse_duplicate_columns

    _refuse_duplicate_columns(df.columns)
    columns: Dict[str, List[object]] = {name: df[name].tolist() for name in ("id", "hospital", "hospital_level", "total_cost", "self_pay") if name in df.columns}
    n = len(df)
    if "status" in df.columns and "drg" in df.columns:
        status = df["status"].tolist()
        drg = df["drg"].tolist()
    else:
        status = [None] * n
        drg = [None] * n
    todo = [i for i, s in enumerate(status) if not isinstance(s, str) or not s.strip()]
    if todo:
        from . import Grouper

        g = grouper if grouper is not None else Grouper()
        grouped = g.group_frame(df.iloc[todo])
        for i, s, d in zip(todo, grouped["status"].tolist(), grouped["drg"].tolist()):
            status[i], drg[i] = s, d
    columns["drg"] = [d if s == "grouped" and isinstance(d, str) and d else None for s, d in zip(status, drg)]
    columns["invalid"] = [s == "invalid" for s in status]
    for name in ("los_days", "dept", "diagnoses", "discharge_date"):
        if name in df.columns:
            columns[name] = df[name].tolist()
    return columns


def _scores(scores: "Union[pd.DataFrame, PathArg, Mapping[str, float], None]") -> Optional[Dict[str, float]]:
    """Assessment scores as a dict, refusing a hospital listed twice."""
    if scores is None:
        return None
    if isinstance(scores, Mapping):
        return {str(k): v for k, v in scores.items()}
    import pandas as pd

    df = scores if isinstance(scores, pd.DataFrame) else pd.read_csv(scores, dtype={"hospital": str})
    for name in ("hospital", "score"):
        if name not in df.columns:
            raise PointsError(f"scores: no column {name} (a scores table has hospital, score)")
    out: Dict[str, float] = {}
    for i, (hospital, score) in enumerate(zip(df["hospital"].tolist(), df["score"].tolist())):
        hospital = str(hospital).strip()
        if hospital in out:
            raise PointsError(f"scores: row {i}: hospital {hospital} is listed twice")
        try:
            out[hospital] = float(score)
        except (TypeError, ValueError):
            raise PointsError(f"scores: row {i}: hospital {hospital}: score {score!r} is not a number in [0, 100]") from None
    return out
