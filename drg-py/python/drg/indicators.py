"""DRG indicators (specs/report.md) on pandas DataFrames.

    >>> drgs, hospitals, scheme = drg.report(period_df, "weights.csv")
    >>> hospitals[["hospital", "cmi", "cost_index", "low_risk_mortality"]]

``report`` returns the three tables of ``drg report`` (drgs.csv,
hospitals.csv, scheme.csv) as DataFrames with unrounded numbers (None where
a ratio has no denominator). Values that cannot be read are reported as
:class:`ReportWarning` warnings naming the row; grouped rows in DRGs without
a weight are reported the same way.
"""

import os
import warnings
from typing import Any, Dict, NamedTuple, Optional

from . import _drg

__all__ = ["report", "report_html", "Report", "ReportWarning"]

_FIELDS = ("hospital", "dept", "discharge", "los_days", "total_cost")


class ReportWarning(UserWarning):
    """A value the indicators could not use, and why."""


class Report(NamedTuple):
    """The three tables: per DRG, per hospital (or department), the scheme."""

    drgs: Any
    hospitals: Any
    scheme: Any


def _weights_csv(weights: Any) -> str:
    if isinstance(weights, (str, os.PathLike)):
        with open(weights, encoding="utf-8-sig") as f:
            return f.read()
    # A DataFrame such as drg.points.run(...)["weights"]: its unstable column
    # is bool, which the weights reader spells true/false.
    df = weights.copy()
    if "unstable" in df.columns:
        df["unstable"] = [str(v).lower() for v in df["unstable"].tolist()]
    return df.to_csv(index=False)


def _columns(df: Any, grouper: Optional[Any]) -> Dict[str, Any]:
    columns = {name: df[name].tolist() for name in _FIELDS if name in df.columns}
    if "status" in df.columns and "drg" in df.columns:
        columns["status"] = df["status"].tolist()
        columns["drg"] = df["drg"].tolist()
    else:
        from . import Grouper

        g = grouper if grouper is not None else Grouper()
        grouped = g.group_frame(df)
        columns["status"] = grouped["status"].tolist()
        columns["drg"] = grouped["drg"].tolist()
    return columns


def _run(df: Any, weights: Any, by_dept: bool, risk_from: Optional[Any], grouper: Optional[Any], title: str) -> Dict[str, Any]:
    raw = _drg._report(
        _columns(df, grouper),
        _weights_csv(weights),
        by_dept,
        None if risk_from is None else _columns(risk_from, grouper),
        title,
    )
    for what, row, reason in raw["problems"]:
        warnings.warn(f"{what}: row {row}: {reason}", ReportWarning, stacklevel=3)
    if raw["unweighted"]:
        n = sum(raw["unweighted"].values())
        drgs = " ".join(sorted(raw["unweighted"]))
        warnings.warn(f"{n} grouped rows are in DRGs without a weight (left out of total_weight and CMI): {drgs}",
                      ReportWarning, stacklevel=3)
    return raw


def report(df: Any, weights: Any, by_dept: bool = False, risk_from: Optional[Any] = None,
           grouper: Optional[Any] = None) -> Report:
    """The DRG indicators of the cases in ``df``.

    ``weights`` is a weights table: a path to the ``weights.csv`` of
    ``drg points calibrate``, or a DataFrame with its columns (e.g.
    ``drg.points.run(...)["weights"]``). ``df`` has the case columns
    (hospital, dept, discharge, los_days, total_cost, …); its ``status`` and
    ``drg`` columns are used when present, otherwise it is grouped first with
    ``grouper`` (default ``drg.Grouper()``). ``by_dept=True`` gives one
    hospitals row per hospital and department. ``risk_from`` (a DataFrame
    like ``df``) grades the DRGs' mortality risk on another set of cases.
    Raises ``ValueError`` for a weights table that cannot be read.
    """
    import pandas as pd

    raw = _run(df, weights, by_dept, risk_from, grouper, "DataFrame")
    return Report(pd.DataFrame(raw["drgs"]), pd.DataFrame(raw["hospitals"]), pd.DataFrame(raw["scheme"]))


def report_html(df: Any, weights: Any, by_dept: bool = False, risk_from: Optional[Any] = None,
                grouper: Optional[Any] = None, title: str = "DataFrame") -> str:
    """The page ``drg report`` writes as report.html, for the same inputs as
    :func:`report`: one self-contained HTML document (save it, or show it in
    a notebook with ``IPython.display.HTML``)."""
    return _run(df, weights, by_dept, risk_from, grouper, title)["html"]
