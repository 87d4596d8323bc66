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
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Tuple, Union, cast

from . import _drg
from ._types import PathArg

if TYPE_CHECKING:
    import pandas as pd

    from . import Grouper

#: A weights table: the path of a weights.csv, or a DataFrame with its columns.
Weights = Union[PathArg, "pd.DataFrame"]

__all__ = ["report", "report_html", "Report", "ReportWarning"]

_FIELDS = ("hospital", "dept", "discharge", "los_days", "total_cost")


class ReportWarning(UserWarning):
    """A value the indicators could not use, and why."""


class Report(NamedTuple):
    """The three tables: per DRG, per hospital (or department), the scheme."""

    drgs: "pd.DataFrame"
    hospitals: "pd.DataFrame"
    scheme: "pd.DataFrame"


def _weights_csv(weights: Weights) -> str:
    if isinstance(weights, (str, os.PathLike)):
        with open(weights, encoding="utf-8-sig") as f:
            return f.read()
    # A DataFrame such as drg.points.run(...)["weights"]: its unstable column
    # is bool, which the weights reader spells true/false.
    df = weights.copy()
    if "unstable" in df.columns:
        df["unstable"] = [str(v).lower() for v in df["unstable"].tolist()]
    return str(df.to_csv(index=False))


def _columns(df: "pd.DataFrame", grouper: "Optional[Grouper]") -> Dict[str, List[object]]:
    columns: Dict[str, List[object]] = {name: df[name].tolist() for name in _FIELDS if name in df.columns}
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


def _run(df: "pd.DataFrame", weights: Weights, by_dept: bool, risk_from: "Optional[pd.DataFrame]", grouper: "Optional[Grouper]",
         title: str) -> Dict[str, object]:
    raw = _drg._report(
        _columns(df, grouper),
        _weights_csv(weights),
        by_dept,
        None if risk_from is None else _columns(risk_from, grouper),
        title,
    )
    for what, row, reason in cast(List[Tuple[str, int, str]], raw["problems"]):
        warnings.warn(f"{what}: row {row}: {reason}", ReportWarning, stacklevel=3)
    unweighted = cast(Dict[str, int], raw["unweighted"])
    if unweighted:
        n = sum(unweighted.values())
        drgs = " ".join(sorted(unweighted))
        warnings.warn(f"{n} grouped rows are in DRGs without a weight (left out of total_weight and CMI): {drgs}",
                      ReportWarning, stacklevel=3)
    return raw


def report(df: "pd.DataFrame", weights: Weights, by_dept: bool = False, risk_from: "Optional[pd.DataFrame]" = None,
           grouper: "Optional[Grouper]" = None) -> Report:
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
    def table(name: str) -> "pd.DataFrame":
        return pd.DataFrame(cast(Dict[str, List[object]], raw[name]))

    return Report(table("drgs"), table("hospitals"), table("scheme"))


def report_html(df: "pd.DataFrame", weights: Weights, by_dept: bool = False, risk_from: "Optional[pd.DataFrame]" = None,
                grouper: "Optional[Grouper]" = None, title: str = "DataFrame") -> str:
    """The page ``drg report`` writes as report.html, for the same inputs as
    :func:`report`: one self-contained HTML document (save it, or show it in
    a notebook with ``IPython.display.HTML``)."""
    return str(_run(df, weights, by_dept, risk_from, grouper, title)["html"])
