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

from typing import Any, Dict, List, Optional

from . import _drg
from ._drg import DEFAULT_PACK, PACKS_NOTICE, GroupResult, compile_pack, normalize_code, packs
from .errors import CaseError, DrgError, InputError, InternalError, PackError, PointsError, PolicyError

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


class Grouper(_drg.Grouper):
    """Groups discharges with one rule pack.

    ``Grouper(pack=None, translate_codes=False)``: ``pack`` is the id of a
    bundled pack (:func:`packs`: ``"chs-drg-2.0"``, ``"wuhan-2022"``, …,
    ``"demo"``) or a drgpack/1 directory or compiled pack file
    (:func:`compile_pack`); an existing path wins, an id never contains
    ``/``. Without it ``$DRG_PACK``, else ``"chs-drg-2.0"``, the national
    scheme in force. Raises :class:`PackError` for a pack that cannot be loaded.
    A Grouper is immutable and can be shared between threads.
    """

    def group_frame(self, df: Any, explain: bool = False) -> Any:
        """A copy of the pandas DataFrame ``df`` (columns of specs/cases.md) with
        the result columns ``status, mdc, adrg, drg, drg_name, reason, warnings``
        added (and ``trace`` with ``explain=True``). A row that cannot be read is
        an ``invalid`` row naming its position; no row is ever lost."""
        _refuse_duplicate_columns(df.columns)
        columns = frame_columns(df.columns, lambda name: df[name].tolist(), len(df))
        results = self._group_columns(columns, len(df), explain)
        out = df.copy()
        for name, values in results.items():
            out[name] = values
        return out

    def group_arrow(self, table: Any, explain: bool = False) -> Any:
        """A pyarrow Table with the result columns added (or replaced), as
        :meth:`group_frame` does for a DataFrame."""
        import pyarrow as pa

        _refuse_duplicate_columns(table.column_names)
        columns = frame_columns(table.column_names, lambda name: table.column(name).to_pylist(), table.num_rows)
        results = self._group_columns(columns, table.num_rows, explain)
        for name, values in results.items():
            array = pa.array(values, type=pa.string())
            if name in table.column_names:
                table = table.set_column(table.column_names.index(name), name, array)
            else:
                table = table.append_column(name, array)
        return table


def _refuse_duplicate_columns(names: Any) -> None:
    """A column named twice is refused, as the CLI refuses a header naming a
    column twice: which of the two holds the field cannot be told."""
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"the column {str(name)[:40]!r} appears twice; rename or drop one")
        seen.add(name)


def _columns(names: Any, values_of: Any) -> Dict[str, List[Any]]:
    return {name: values_of(name) for name in CASE_FIELDS if name in list(names)}


from . import points  # noqa: E402  (points uses Grouper)
from .indicators import ReportWarning, report, report_html  # noqa: E402  (report groups with Grouper)
from . import dip  # noqa: E402
from .read import frame_columns, read_cases  # noqa: E402
from .diff import pack_diff  # noqa: E402  (pack_diff uses Grouper)
