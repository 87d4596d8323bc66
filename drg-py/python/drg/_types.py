"""Types shared by the typed stub of the native module (``_drg.pyi``) and
the Python layer: what the native functions take and give back."""

import os
from typing import Dict, List, Optional, Protocol, Tuple, TypedDict, Union

__all__ = ["ArrowArrayExportable", "ArrowStreamExportable", "ColumnInput", "ColumnPlan", "PackCounts", "PackInfo", "PackEntry", "PathArg"]

#: A file or directory: a str or a path object.
PathArg = Union[str, "os.PathLike[str]"]


class ArrowArrayExportable(Protocol):
    """An object exporting an Arrow array (the PyCapsule protocol; a
    ``pyarrow.Array`` is one)."""

    def __arrow_c_array__(self, requested_schema: Optional[object] = None) -> Tuple[object, object]: ...


class ArrowStreamExportable(Protocol):
    """An object exporting an Arrow stream (a ``pyarrow.ChunkedArray`` is one)."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...


#: One case column handed to the native grouper: its Python values, or the
#: Arrow arrays/streams that hold it, in order.
ColumnInput = Union[List[object], Tuple[Union[ArrowArrayExportable, ArrowStreamExportable], ...]]


class PackCounts(TypedDict):
    mdc: int
    adrg: int
    drg: int


class PackInfo(TypedDict):
    """``Grouper.pack_info()``."""

    id: str
    name: str
    description: str
    counts: PackCounts
    source: str
    warnings: List[str]


class ColumnPlan(TypedDict):
    """How column names are understood (``_column_plan``): the header of each
    field, the headers of each wide code list in order, and the principal
    diagnosis's header."""

    fields: Dict[str, str]
    wide: Dict[str, List[str]]
    principal: Dict[str, str]


class PackEntry(TypedDict):
    """One bundled pack in ``drg.packs()``."""

    id: str
    name: str
    description: str
    counts: PackCounts
    provenance: str
    default: bool
