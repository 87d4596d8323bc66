"""drg: CHS-DRG grouping and DRG points (点数法), with a Rust engine.

    >>> import drg
    >>> g = drg.Grouper("demo")                 # default: $DRG_PACK, else chs-drg-2.0
    >>> r = g.group({"id": "1", "sex": "1", "age_years": 30,
    ...              "diagnoses": ["K35.800"], "procedures": ["47.0901"]})
    >>> r.status, r.drg
    ('grouped', 'GC25')

``Grouper.group_frame`` groups a pandas DataFrame, ``Grouper.group_arrow`` a
pyarrow Table, both on every core with the GIL released; ``drg.points.run``
does point calculation on DataFrames.
"""

import os
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Mapping, Optional, Set, Union

from . import _drg
from ._drg import DEFAULT_PACK, PACKS_NOTICE, GroupResult, compile_pack, normalize_code, packs
from ._types import ColumnInput, PackInfo
from .errors import CaseError, DrgError, InputError, InternalError, PackError, PointsError, PolicyError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from ._drg import ResultColumn

__version__: str = _drg.__version__

__all__ = [
    "Grouper",
    "GroupResult",
    "DrgError",
    "InputError",
    "PackError",
    "PolicyError",
    "InternalError",
    "CaseError",
    "PointsError",
    "normalize_code",
    "compile_pack",
    "packs",
    "pack_diff",
    "DEFAULT_PACK",
    "PACKS_NOTICE",
    "CASE_FIELDS",
    "RESULT_COLUMNS",
    "points",
    "report",
    "report_html",
    "ReportWarning",
    "dip",
    "read_cases",
    "__version__",
]

#: The case fields of specs/cases.md, by their column names.
CASE_FIELDS = (
    "id", "hospital", "hospital_level", "sex", "age_years", "age_days", "weight_g", "los_days",
    "discharge", "dept", "icu_hours", "total_cost", "self_pay", "diagnoses", "procedures",
)

#: The columns group_frame and group_arrow add.
RESULT_COLUMNS = ("status", "mdc", "adrg", "drg", "drg_name", "reason", "warnings")


class Grouper:
    """Groups discharges with one rule pack.

    ``Grouper(pack=None, translate_codes=False)``: ``pack`` is the id of a
    bundled pack (:func:`packs`: ``"chs-drg-2.0"``, ``"wuhan-2022"``, …,
    ``"demo"``) or a drgpack/1 directory or compiled pack file
    (:func:`compile_pack`); an existing path wins, an id never contains
    ``/``. Without it ``$DRG_PACK``, else ``"chs-drg-2.0"``, the national
    scheme in force. Raises :class:`PackError` for a pack that cannot be loaded.
    A Grouper is immutable and can be shared between threads.
    """

    __slots__ = ("_native",)

    def __init__(self, pack: Union[str, "os.PathLike[str]", None] = None, translate_codes: bool = False) -> None:
        self._native = _drg.Grouper(pack, translate_codes)

    def group(self, case: Mapping[str, object], explain: bool = False) -> GroupResult:
        """Groups one case, a dict with the field names of specs/cases.md
        (:data:`CASE_FIELDS`); ``diagnoses``/``procedures`` may be lists or
        ``|``-joined strings. Raises :class:`InputError` when a field cannot
        be read; a case that lacks what grouping needs is a result with status
        ``invalid``. ``explain=True`` fills ``GroupResult.trace``."""
        return self._native.group(case, explain)

    def group_many(self, cases: Iterable[Mapping[str, object]], explain: bool = False) -> List[GroupResult]:
        """Groups an iterable of dicts on every core (the GIL is released), one
        result per item in order. An item that cannot be read is an
        ``invalid`` result naming the item, never an exception."""
        return self._native.group_many(cases, explain)

    def pack_info(self) -> PackInfo:
        """The pack's id, name, description, counts and load warnings."""
        return self._native.pack_info()

    def code_name(self, code: str) -> Optional[str]:
        """The name of a diagnosis or procedure code, in any spelling; None if
        the pack does not know it."""
        return self._native.code_name(code)

    def __repr__(self) -> str:
        return repr(self._native)

    def _group_columns(
        self, columns: Mapping[str, ColumnInput], n_rows: int, explain: bool = False
    ) -> Dict[str, "ResultColumn"]:
        return self._native._group_columns(columns, n_rows, explain)

    def group_frame(self, df: "pd.DataFrame", explain: bool = False) -> "pd.DataFrame":
        """A copy of the pandas DataFrame ``df`` (columns of specs/cases.md) with
        the result columns ``status, mdc, adrg, drg, drg_name, reason, warnings``
        added (and ``trace`` with ``explain=True``). A row that cannot be read is
        an ``invalid`` row naming its position; no row is ever lost.

        With pyarrow installed, the columns are read and the results built as
        Arrow arrays, without a Python object per cell."""
        from ._frame import frame_case_columns, to_pandas_column

        _refuse_duplicate_columns(df.columns)
        columns = frame_case_columns(df)
        results = self._native._group_columns(columns, len(df), explain)
        out = df.copy()
        for name, column in results.items():
            out[name] = to_pandas_column(column)
        return out

    def group_arrow(self, table: "pa.Table", explain: bool = False) -> "pa.Table":
        """A pyarrow Table with the result columns added (or replaced), as
        :meth:`group_frame` does for a DataFrame; the columns are read through
        the Arrow C data interface."""
        import pyarrow as pa

        from ._frame import table_case_columns

        _refuse_duplicate_columns(table.column_names)
        columns = table_case_columns(table)
        results = self._native._group_columns(columns, table.num_rows, explain)
        for name, column in results.items():
            array = pa.array(column, type=pa.string())
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), name, array)
            else:
                table = table.append_column(name, array)
        return table


def _refuse_duplicate_columns(names: Iterable[object]) -> None:
    """A column named twice is refused, as the CLI refuses a header naming a
    column twice: which of the two holds the field cannot be told."""
    seen: Set[object] = set()
    for name in names:
        if name in seen:
            raise InputError(f"the column {str(name)[:40]!r} appears twice; rename or drop one")
        seen.add(name)


def _columns(names: Iterable[object], values_of: "Callable[[str], List[object]]") -> Dict[str, List[object]]:
    return {name: values_of(name) for name in CASE_FIELDS if name in list(names)}


from . import points  # noqa: E402  (points uses Grouper)
from .indicators import ReportWarning, report, report_html  # noqa: E402  (report groups with Grouper)
from . import dip  # noqa: E402
from .read import frame_columns, read_cases  # noqa: E402
from .diff import pack_diff  # noqa: E402  (pack_diff uses Grouper)
