"""DIP, 按病种分值付费 (specs/dip.md), on pandas DataFrames.

    >>> cat = drg.dip.build("policy.toml", history_df, pack="chs-drg-1.1/")
    >>> groups = drg.dip.group_frame("policy.toml", cat, cases_df, pack="chs-drg-1.1/")
    >>> out = drg.dip.run("policy.toml", period_df, history=history_df, pack="chs-drg-1.1/")
    >>> out["period"].point_value[0]

DataFrames hold the case fields of specs/cases.md as columns. A catalogue
is a DataFrame (from :func:`build`, or a region's published catalogue read
with ``pd.read_csv``) or the path of a catalogue CSV. Numbers are unrounded.
Rows without points (a missing or non-positive total_cost) are reported as
:class:`DipWarning` warnings. Errors (a bad policy, catalogue row or empty
history) raise :class:`drg.DipError`, naming the file and place.
"""

import json
import os
import warnings
from typing import TYPE_CHECKING, Dict, Iterable, List, Mapping, Optional, Union, cast

from . import _drg
from ._types import PathArg

if TYPE_CHECKING:
    import pandas as pd

#: A catalogue: a DataFrame (from :func:`build`, or read with ``pd.read_csv``)
#: or the path of a catalogue CSV.
Catalogue = Union["pd.DataFrame", PathArg]
#: What :func:`explain` returns: the JSON of ``drg dip explain`` as a dict.
Explained = Dict[str, object]

__all__ = ["build", "group_frame", "run", "explain", "DipError", "DipWarning"]

from .errors import DipError  # noqa: E402


class DipWarning(UserWarning):
    """A row DIP scoring left out, or a policy entry that names no group."""


def _fields(df: "pd.DataFrame") -> Dict[str, List[object]]:
    from . import CASE_FIELDS

    return {name: df[name].tolist() for name in CASE_FIELDS if name in df.columns}


def _catalogue_csv(catalogue: Catalogue) -> str:
    if isinstance(catalogue, (str, os.PathLike)):
        with open(catalogue, encoding="utf-8-sig") as f:
            return f.read()
    return str(catalogue.to_csv(index=False))


def _pack(pack: Optional[PathArg]) -> Optional[str]:
    return None if pack is None else str(pack)


def build(policy: PathArg, history: "pd.DataFrame", pack: Optional[PathArg] = None) -> "pd.DataFrame":
    """The catalogue (目录库) built from the ``history`` DataFrame (dip.md §2):
    one row per priced group, then the overall row (group ``*``)."""
    import pandas as pd

    return pd.DataFrame(_drg._dip_build(str(policy), _fields(history), len(history), _pack(pack)))


def group_frame(policy: PathArg, catalogue: Catalogue, df: "pd.DataFrame", pack: Optional[PathArg] = None) -> "pd.DataFrame":
    """A copy of ``df`` with the columns ``status, group, severity, reason``
    of dip.md §3 added; no row is ever lost."""
    raw = _drg._dip_run(str(policy), _fields(df), len(df), catalogue_csv=_catalogue_csv(catalogue),
                        pack=_pack(pack), score=False)
    _warn(cast(List[str], raw.pop("warnings")))
    groups = cast(Dict[str, List[object]], raw["groups"])
    out = df.copy()
    for name in ("status", "group", "severity", "reason"):
        out[name] = cast(List[Optional[str]], groups[name])
    return out


def run(
    policy: PathArg,
    period: "pd.DataFrame",
    history: "Optional[pd.DataFrame]" = None,
    catalogue: Optional[Catalogue] = None,
    pack: Optional[PathArg] = None,
) -> "Dict[str, pd.DataFrame]":
    """The whole of dip.md on ``period``, with a catalogue built from
    ``history`` or a published ``catalogue``: a dict of DataFrames named as
    the report files (``catalogue`` only when built here, ``groups``,
    ``case_points``, ``settlement``, ``period``)."""
    import pandas as pd

    if (history is None) == (catalogue is None):
        raise DipError("give either history or catalogue")
    if history is not None:
        raw = _drg._dip_run(str(policy), _fields(period), len(period), history=_fields(history),
                            history_rows=len(history), pack=_pack(pack))
    else:
        assert catalogue is not None
        raw = _drg._dip_run(str(policy), _fields(period), len(period), catalogue_csv=_catalogue_csv(catalogue),
                            pack=_pack(pack))
    _warn(cast(List[str], raw.pop("warnings")))
    return {name: pd.DataFrame(cast(Dict[str, List[object]], columns)) for name, columns in raw.items()}


def explain(policy: PathArg, catalogue: Catalogue, case: Mapping[str, object], pack: Optional[PathArg] = None) -> Explained:
    """One case (a dict) explained: its keys, group and why, severity and the
    secondary diagnosis that set it, and its points."""
    return cast(Explained, json.loads(_drg._dip_explain(str(policy), _catalogue_csv(catalogue), case, _pack(pack))))


def _warn(messages: Iterable[str]) -> None:
    for message in messages:
        warnings.warn(message, DipWarning, stacklevel=3)
