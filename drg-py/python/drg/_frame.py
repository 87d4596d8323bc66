"""Handing pandas and pyarrow columns to the native grouper, and its result
columns back (issue 17).

A case column goes as Arrow (a pyarrow Array or ChunkedArray, read in Rust
through the Arrow C data interface, no Python object per cell) when pyarrow
is installed and can hold the column; otherwise as a list of its Python
values, which the native grouper reads one by one. Either way a cell means
the same: the native side decides what it means, in one place.
"""

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union, cast

from ._types import ColumnInput
from .read import frame_columns

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd
    import pyarrow as pa

    from ._drg import ResultColumn

__all__ = ["frame_case_columns", "table_case_columns", "to_pandas_column"]


def _pyarrow() -> "Optional[ModuleType]":
    """pyarrow, if it is installed (it makes group_frame several times
    faster; without it the columns go as Python lists)."""
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


#: What pandas infers an object column to hold, for the columns that go to
#: Arrow with exactly their Python values. A "mixed" column (say 1.5 and
#: True, which Arrow would read as 1.5 and 1.0) goes as Python values.
_ARROW_OBJECTS = {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean"}


def _arrow_holds(series: "pd.Series[Any]") -> bool:
    """Whether a pandas column goes to Arrow with the values a Python list of
    it has: strings, numbers, booleans. Dates, categories, periods, lists and
    mixed objects go as Python values, as before."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "O":
            return pd.api.types.infer_dtype(series, skipna=True) in _ARROW_OBJECTS
        return dtype.kind in "biuf"
    if isinstance(dtype, (pd.CategoricalDtype, pd.PeriodDtype, pd.IntervalDtype, pd.SparseDtype, pd.DatetimeTZDtype)):
        return False
    return getattr(dtype, "kind", "") in "biufO" and pd.api.types.infer_dtype(series, skipna=True) in _ARROW_OBJECTS


def _series_input(series: "pd.Series[Any]") -> ColumnInput:
    pa = _pyarrow()
    if pa is not None and _arrow_holds(series):
        try:
            array = pa.array(series, from_pandas=True)
        except Exception:  # noqa: BLE001  (a column Arrow cannot hold goes as Python values)
            pass
        else:
            return _chunks(array)
    values: List[object] = series.tolist()
    return values


def _chunks(array: object) -> ColumnInput:
    """The Arrow arrays of a column: each chunk of a ChunkedArray (every
    pyarrow ≥ 14 array exports itself through ``__arrow_c_array__``)."""
    chunks = getattr(array, "chunks", None)
    return tuple(chunks) if chunks is not None else (array,)  # type: ignore[return-value]


def frame_case_columns(df: "pd.DataFrame") -> Dict[str, ColumnInput]:
    """The case columns of a DataFrame for ``Grouper._group_columns``: named
    as in cases.md (aliases and wide code columns understood, see
    :func:`drg.read.frame_columns`)."""
    return frame_columns(
        df.columns,
        lambda name: df[name].tolist(),
        len(df),
        column_of=lambda name: _series_input(df[name]),
    )


def table_case_columns(table: "pa.Table") -> Dict[str, ColumnInput]:
    """The case columns of a pyarrow Table, as :func:`frame_case_columns`."""
    return frame_columns(
        table.column_names,
        lambda name: table.column(str(name)).to_pylist(),
        table.num_rows,
        column_of=lambda name: _chunks(table.column(str(name))),
    )


def to_pandas_column(column: "ResultColumn") -> "Union[pd.api.extensions.ExtensionArray, List[Optional[str]]]":
    """A result column as values for a DataFrame column: what pandas makes
    of the list of str/None it holds."""
    pa = _pyarrow()
    if pa is None:
        return column.to_pylist()
    array = pa.array(column, type=pa.string())
    if array.null_count == len(array):
        # Empty, or only None: pandas' own inference (object, or float for
        # an empty frame), as a list of them has always given.
        return cast(List[Optional[str]], array.to_pylist())
    # The values, not the Series: a Series would be aligned on its index.
    return cast("pd.api.extensions.ExtensionArray", array.to_pandas().array)
