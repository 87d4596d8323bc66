from os import PathLike
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

__version__: str

class GroupResult:
    id: str
    status: str
    mdc: Optional[str]
    adrg: Optional[str]
    drg: Optional[str]
    drg_name: Optional[str]
    reason: Optional[str]
    warnings: List[str]
    trace: List[str]
    def to_dict(self) -> Dict[str, Any]: ...

class Grouper:
    def __init__(self, pack: Optional[Union[str, PathLike]] = None, translate_codes: bool = False) -> None: ...
    def group(self, case: Mapping[str, Any], explain: bool = False) -> GroupResult: ...
    def group_many(self, cases: Iterable[Mapping[str, Any]], explain: bool = False) -> List[GroupResult]: ...
    def _group_columns(self, columns: Dict[str, List[Any]], n_rows: int, explain: bool = False) -> Dict[str, List[Any]]: ...
    def pack_info(self) -> Dict[str, Any]: ...
    def code_name(self, code: str) -> Optional[str]: ...

def normalize_code(code: str) -> Optional[str]: ...
def compile_pack(pack: Union[str, PathLike], output: Union[str, PathLike]) -> None: ...
def _points_run(
    policy_path: Union[str, PathLike], history: Dict[str, List[Any]], period: Dict[str, List[Any]]
) -> Dict[str, Any]: ...
def _report(
    columns: Dict[str, List[Any]],
    weights_csv: str,
    by_dept: bool = False,
    risk_from: Optional[Dict[str, List[Any]]] = None,
    title: str = "DataFrame",
) -> Dict[str, Any]: ...
def _points_year(
    policy_path: Union[str, PathLike],
    history: Dict[str, List[Any]],
    period: Dict[str, List[Any]],
    scores: Optional[Dict[str, float]] = None,
) -> Dict[str, Any]: ...

class DipError(ValueError): ...

def _dip_build(
    policy: str, history: Dict[str, List[Any]], n_rows: int, pack: Optional[str] = None
) -> Dict[str, List[Any]]: ...
def _dip_run(
    policy: str,
    period: Dict[str, List[Any]],
    n_rows: int,
    history: Optional[Dict[str, List[Any]]] = None,
    history_rows: int = 0,
    catalogue_csv: Optional[str] = None,
    pack: Optional[str] = None,
    score: bool = True,
) -> Dict[str, Any]: ...
def _dip_explain(policy: str, catalogue_csv: str, case: Mapping[str, Any], pack: Optional[str] = None) -> str: ...

def packs() -> List[Dict[str, Any]]: ...

DEFAULT_PACK: str
PACKS_NOTICE: str
