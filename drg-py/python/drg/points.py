"""DRG point calculation (specs/points.md) on pandas DataFrames.

    >>> out = drg.points.run("policy.toml", history_df, period_df)
    >>> out["period"].point_value[0]

``run`` returns a dict of DataFrames named as the report files:
``weights``, ``case_points``, ``settlement`` and ``period``, with unrounded
numbers. Rows left out (a missing or negative cost) are reported as
:class:`PointsWarning` warnings naming the step and the row's position.
"""

import warnings
from typing import Any, Dict, Optional

from . import _drg

__all__ = ["run", "PointsWarning"]


class PointsWarning(UserWarning):
    """A row that point calculation left out, and why."""


def run(policy: Any, history: Any, period: Any, grouper: Optional[Any] = None) -> Dict[str, Any]:
    """Calibration on ``history``, scoring of ``period``, and settlement.

    Rows with ``status`` and ``drg`` are used as grouped; rows without them
    (no such columns, or an empty status) are grouped first with ``grouper``
    (default: ``drg.Grouper()``, i.e. ``$DRG_PACK``, else chs-drg-2.0).
    Raises :class:`drg.PointsError` for a policy that cannot be used, an
    empty history or a period without points.
    """
    import pandas as pd

    raw = _drg._points_run(str(policy), _points_columns(history, grouper), _points_columns(period, grouper))
    for step, row, reason in raw.pop("skipped"):
        warnings.warn(f"{step}: row {row}: {reason}; left out", PointsWarning, stacklevel=2)
    return {name: pd.DataFrame(columns) for name, columns in raw.items()}


def _points_columns(df: Any, grouper: Optional[Any]) -> Dict[str, Any]:
    columns = {name: df[name].tolist() for name in ("id", "hospital", "hospital_level", "total_cost", "self_pay") if name in df.columns}
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
    return columns
