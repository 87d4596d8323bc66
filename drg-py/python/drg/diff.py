"""``drg.pack_diff``: what a change of scheme does to a DataFrame of cases."""

from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Union, cast

from . import _drg
from ._types import ColumnInput, PathArg

if TYPE_CHECKING:
    import pandas as pd

    from . import Grouper

#: A weights table: a dict drg → weight, a DataFrame with ``drg`` and
#: ``weight`` columns, or the path of a CSV of ``drg points calibrate``.
WeightsArg = Union[Mapping[str, float], "pd.DataFrame", PathArg, None]


def _weights(w: WeightsArg) -> Optional[Dict[str, float]]:
    """A weights table: a dict drg → weight, a DataFrame with ``drg`` and
    ``weight`` columns, or a path to a CSV of ``drg points calibrate``."""
    if w is None:
        return None
    if isinstance(w, Mapping):
        return dict(w)
    import pandas as pd

    if not isinstance(w, pd.DataFrame):
        w = pd.read_csv(w, dtype={"drg": str})
    return {str(d): float(x) for d, x in zip(w["drg"], w["weight"]) if str(d) != "*"}


def pack_diff(
    df: "pd.DataFrame",
    old: "Union[PathArg, Grouper]",
    new: "Union[PathArg, Grouper]",
    weights_old: WeightsArg = None,
    weights_new: WeightsArg = None,
) -> "Dict[str, pd.DataFrame]":
    """Groups every row of ``df`` under the packs ``old`` and ``new`` (ids,
    paths or :class:`drg.Grouper` objects) and returns a dict of DataFrames,
    as ``drg pack diff`` writes them:

    - ``cases``: ``id, hospital``, the status/mdc/adrg/drg under both
      (``old_*``, ``new_*``), ``changed`` and ``mdc_changed`` (and the weights);
    - ``transitions``: ``old, new, cases, share_of_old, share_of_all``, most
      cases first (a group is the DRG code, or the status when not grouped);
    - ``hospitals``: with weights, each hospital's CMI under both and the change;
    - ``summary``: one row of counts.
    """
    import pandas as pd

    from . import Grouper, _columns

    g_old = old if isinstance(old, Grouper) else Grouper(old)
    g_new = new if isinstance(new, Grouper) else Grouper(new)
    columns: Dict[str, ColumnInput] = dict(_columns(df.columns, lambda name: df[name].tolist()))
    r_old = {k: v.to_pylist() for k, v in g_old._group_columns(columns, len(df), False).items()}
    r_new = {k: v.to_pylist() for k, v in g_new._group_columns(columns, len(df), False).items()}
    keys = ("status", "mdc", "adrg", "drg")
    hospital = [None if h is None or h != h else str(h) for h in df["hospital"].tolist()] if "hospital" in df.columns else [None] * len(df)
    w_old, w_new = _weights(weights_old), _weights(weights_new)
    tables = _drg._pack_diff_tables(hospital, [r_old[k] for k in keys], [r_new[k] for k in keys], w_old, w_new)
    cases = pd.DataFrame({"id": df["id"].astype(str).tolist() if "id" in df.columns else [None] * len(df), "hospital": hospital})
    for side, r in (("old", r_old), ("new", r_new)):
        for k in keys:
            cases[f"{side}_{k}"] = r[k]
    for name, values in tables["cases"].items():
        cases[name] = cast(List[Union[str, float, None]], values)
    return {
        "cases": cases,
        "transitions": pd.DataFrame(tables["transitions"]),
        "hospitals": pd.DataFrame(tables["hospitals"]),
        "summary": pd.DataFrame([tables["summary"]]),
    }
