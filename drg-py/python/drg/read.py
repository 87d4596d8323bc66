"""Reading what hospitals export (specs/columns.md): Excel workbooks, GBK
CSVs, Chinese headers, one column per code. drg-core decides everything;
this module only builds DataFrames."""

import os
from typing import TYPE_CHECKING, Callable, Dict, Hashable, Iterable, List, Optional, Union

from . import _drg
from ._types import ColumnInput

if TYPE_CHECKING:
    import pandas as pd

_CASE_FIELDS = (
    "id", "hospital", "hospital_level", "sex", "age_years", "age_days", "weight_g", "los_days",
    "discharge", "dept", "icu_hours", "total_cost", "self_pay", "diagnoses", "procedures",
)


def read_cases(path: Union[str, "os.PathLike[str]"], sheet: Optional[str] = None, encoding: Optional[str] = None,
               columns: Union[str, "os.PathLike[str]", None] = None) -> "pd.DataFrame":
    """Reads a file of cases (CSV, JSONL or .xlsx; Chinese headers, 病案首页
    codes, wide code columns, a ``columns`` mapping file) into a pandas
    DataFrame with cases.md's column names, the carried-through columns, and
    ``read_error`` (None, or why the row could not be read)::

        df = drg.read_cases("结算清单.xlsx")
        out = drg.Grouper().group_frame(df)
    """
    import pandas as pd

    data = _drg._read_cases(str(path), sheet, encoding, None if columns is None else str(columns))
    return pd.DataFrame(data)


def _missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    return type(v).__name__ in ("NAType", "NaTType")


def _code_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def frame_columns(
    names: Iterable[Hashable],
    values_of: Callable[[Hashable], List[object]],
    n_rows: int,
    column_of: Optional[Callable[[Hashable], ColumnInput]] = None,
) -> Dict[str, ColumnInput]:
    """The case columns of a frame whose columns may be aliases or wide code
    columns, named as in cases.md (wide columns joined with ``|``).
    ``values_of`` gives a column's Python values; ``column_of``, if given, a
    column named once as it goes to the native grouper (Arrow arrays)."""
    column = column_of if column_of is not None else values_of
    names = list(names)
    plan = _drg._column_plan([str(n) for n in names])
    by_text = {str(n): n for n in names}
    out: Dict[str, ColumnInput] = {}
    for field, header in plan["fields"].items():
        if field in _CASE_FIELDS:
            out[field] = column(by_text[header])
    for lst, headers in plan["wide"].items():
        cells = [values_of(by_text[h]) for h in headers]
        principal = plan["principal"].get(lst)
        p_index = headers.index(principal) if principal is not None else None
        joined: List[object] = []
        for i in range(n_rows):
            if p_index is not None and (_missing(cells[p_index][i]) or not str(cells[p_index][i]).strip()):
                # The principal diagnosis is missing: the case is invalid,
                # whatever the other cells hold.
                joined.append(None)
                continue
            joined.append("|".join(_code_text(c[i]) for c in cells if not _missing(c[i])))
        out[lst] = joined
    return out
