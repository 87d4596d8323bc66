"""group_frame and group_arrow through the Arrow C data interface (issue 17):
the same results, dtypes and row order as the path through Python lists,
for every kind of column."""

import math
from typing import Dict, List, Optional

import pandas as pd
import pyarrow as pa
import pytest

import drg
from drg import _frame
from drg._types import ColumnInput

RESULTS = list(drg.RESULT_COLUMNS)


@pytest.fixture(scope="module")
def g() -> drg.Grouper:
    return drg.Grouper("demo")


def by_lists(g: drg.Grouper, df: pd.DataFrame, explain: bool = False) -> Dict[str, List[Optional[str]]]:
    """The result columns with every case column handed over as a Python list
    (the path without pyarrow)."""
    columns: Dict[str, ColumnInput] = {name: df[name].tolist() for name in drg.CASE_FIELDS if name in df.columns}
    return {k: v.to_pylist() for k, v in g._group_columns(columns, len(df), explain).items()}


def same(a: List[Optional[str]], b: List[object]) -> bool:
    """Equal, counting None and NaN as the same missing value."""
    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    return len(a) == len(b) and all((missing(x) and missing(y)) or x == y for x, y in zip(a, b))


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "a"],
        "sex": pd.array(["1", None, "2", "1", "M", "1"], dtype="string"),
        "age_years": [30, 40, 50, 60, 70, 30],
        "age_days": pd.array([None, None, 5, None, None, None], dtype="Int64"),
        "los_days": [3.0, float("nan"), 4.0, 2.5, 1.0, 3.0],
        "total_cost": [1e4, None, 2e4, 3e4, float("inf"), 1e4],
        "hospital": ["H1", None, "H2", "H1", "H1", "H1"],
        "diagnoses": [["K35.800", None], ["K35.800"], None, ["I21.000", "E11.900"], [], ["K35.800"]],
        "procedures": ["47.0901", "", None, "", "", "47.0901"],
    }, index=[10, 3, 7, 1, 0, 99])


def test_every_kind_of_column_agrees_with_the_list_path(g: drg.Grouper) -> None:
    df = mixed_frame()
    out = g.group_frame(df)
    lists = by_lists(g, df)
    for name in RESULTS:
        assert same(lists[name], out[name].tolist()), (name, lists[name], out[name].tolist())
    # The index is kept and the rows stay in place.
    assert list(out.index) == list(df.index)
    assert out["warnings"].tolist()[5] == "duplicate id: also in row 0"


def test_the_frame_is_the_same_without_pyarrow(g: drg.Grouper, monkeypatch: pytest.MonkeyPatch) -> None:
    df = mixed_frame()
    fast = g.group_frame(df, explain=True)
    monkeypatch.setattr(_frame, "_pyarrow", lambda: None)
    slow = g.group_frame(df, explain=True)
    pd.testing.assert_frame_equal(fast, slow)


def test_an_all_missing_result_column_keeps_pandas_inference(g: drg.Grouper, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reason missing, and an empty frame: pandas infers their dtypes
    from the values, as it did from the lists."""
    df = pd.DataFrame({"id": ["1", "2"], "sex": ["1", "1"], "age_years": [30, 40], "diagnoses": ["K35.800", "K35.800"]})
    fast, fast_empty = g.group_frame(df), g.group_frame(df.iloc[:0])
    monkeypatch.setattr(_frame, "_pyarrow", lambda: None)
    pd.testing.assert_frame_equal(fast, g.group_frame(df))
    pd.testing.assert_frame_equal(fast_empty, g.group_frame(df.iloc[:0]))


def test_columns_arrow_reads_as_python_values(g: drg.Grouper) -> None:
    """Mixed objects, dates and categories go as Python values: a boolean
    among numbers is refused in its row, as before."""
    df = pd.DataFrame({
        "id": ["1", "2", "3"],
        "sex": pd.Categorical(["1", "2", "1"]),
        "age_years": pd.Series([1.5, True, 30], dtype=object),
        "diagnoses": ["K35.800", "K35.800", "K35.800"],
    })
    out = g.group_frame(df)
    lists = by_lists(g, df)
    for name in RESULTS:
        assert same(lists[name], out[name].tolist()), name
    assert out["reason"][1].startswith("row 1: age_years: a boolean")


def test_group_arrow_reads_chunks_and_every_string_layout(g: drg.Grouper) -> None:
    df = mixed_frame().reset_index(drop=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    whole = g.group_arrow(table)
    # Several chunks, large strings, string views, dictionary-encoded and
    # narrow integer columns group alike.
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2, 1), table.slice(3)])
    assert chunked.column("id").num_chunks == 3
    # Empty chunks, and columns chunked at other rows than their neighbours
    # (each column's chunk is followed row by row).
    ids = table.column("id").combine_chunks()
    uneven = pa.concat_tables([table.slice(0, 0), table.slice(0, 1), table.slice(1, 0), table.slice(1)])
    uneven = uneven.set_column(0, "id", pa.chunked_array([ids.slice(0, 3), ids.slice(3, 0), ids.slice(3)]))
    assert uneven.column("id").num_chunks == 3 and uneven.column("sex").num_chunks == 4
    variants = [
        chunked,
        uneven,
        table.set_column(0, "id", table.column("id").cast(pa.large_string())),
        table.set_column(0, "id", table.column("id").cast(pa.string_view())),
        table.set_column(0, "id", table.column("id").dictionary_encode()),
        table.set_column(2, "age_years", table.column("age_years").cast(pa.int8())),
        table.set_column(2, "age_years", table.column("age_years").cast(pa.uint16())),
        table.set_column(7, "diagnoses", table.column("diagnoses").cast(pa.large_list(pa.large_string()))),
    ]
    # Every text column at once in each layout (each is read by its own path).
    for layout in (pa.large_string(), pa.string_view()):
        every = table
        for i, field in enumerate(table.schema):
            if field.type == pa.string():
                every = every.set_column(i, field.name, every.column(i).cast(layout))
        variants.append(every)
    for variant in variants:
        out = g.group_arrow(variant)
        for name in RESULTS:
            assert out.column(name).to_pylist() == whole.column(name).to_pylist(), name
            assert out.schema.field(name).type == pa.string()
    lists = by_lists(g, df)
    for name in RESULTS:
        assert same(lists[name], whole.column(name).to_pylist()), name


def test_a_length_mismatch_and_an_unknown_column_type(g: drg.Grouper) -> None:
    columns: Dict[str, ColumnInput] = {"id": (pa.array(["1", "2"]),), "sex": ["1"]}
    with pytest.raises(drg.InputError, match="column sex has 1 values, expected 2"):
        g._group_columns(columns, 2)
    dates: Dict[str, ColumnInput] = {"id": (pa.array(["1"]),), "discharge_date": (pa.array([pd.Timestamp("2025-03-01")]),)}
    reason = g._group_columns(dates, 1)["reason"].to_pylist()[0]
    assert reason is not None and reason.startswith("row 0: discharge_date: a value of type"), reason


def test_a_result_column_is_handed_over_once(g: drg.Grouper) -> None:
    out = g._group_columns({"id": ["1"]}, 1)
    column = out["status"]
    assert len(column) == 1
    assert pa.array(column, type=pa.string()).to_pylist() == ["invalid"]
    with pytest.raises(drg.InputError, match="already handed"):
        column.to_pylist()


def test_an_unreadable_row_has_its_id_checked_on_every_path(g: drg.Grouper) -> None:
    """A row that cannot be read (a boolean age) still has its id checked for
    duplicates, and remembered: its id column handed over as Arrow memory or
    as Python values, as `group_many` does."""
    df = pd.DataFrame({
        "id": ["a", "a", "b", "b", "c", "c"],
        "sex": ["1"] * 6,
        "age_years": pd.Series([30, True, True, 40, True, True], dtype=object),
        "diagnoses": ["K35.800"] * 6,
    })

    def duplicates(warnings: List[str]) -> List[str]:
        return ["; ".join(w for w in (x or "").split("; ") if w.startswith("duplicate id")) for x in warnings]

    out = g.group_frame(df)
    # Rows 1, 2, 4 and 5 cannot be read.
    assert [s == "invalid" for s in out["status"]] == [False, True, True, False, True, True]
    expected = ["", "duplicate id: also in row 0", "", "duplicate id: also in row 2", "", "duplicate id: also in row 4"]
    assert duplicates(out["warnings"].tolist()) == expected
    assert duplicates([str(w) for w in by_lists(g, df)["warnings"]]) == expected
    many = g.group_many(df.to_dict("records"))  # type: ignore[arg-type]
    assert duplicates(["; ".join(r.warnings) for r in many]) == expected


def test_many_blocks_keep_row_order_and_every_duplicate(g: drg.Grouper) -> None:
    """Rows go to the workers in blocks of a few thousand and come back in
    row order, whichever worker finishes first. An id repeated in a later
    block names the first row that had it; a row that could not be read has
    its id checked too, as in `group` lists and `drg group`. A column of
    mixed Python values (read with the GIL, block by block) goes the same
    way."""
    base = mixed_frame().reset_index(drop=True)
    # Every row of the base can be read (no infinity, no fraction of a day).
    base.loc[4, "total_cost"] = 5e4
    base.loc[3, "los_days"] = 2.0
    n = 9_000
    df = pd.concat([base] * (n // len(base) + 1), ignore_index=True).iloc[:n].copy()
    df["id"] = [f"r{i}" for i in range(n)]
    ages = df["age_years"].astype(object)
    unreadable = [2_500, 6_001]
    for row in unreadable:
        ages[row] = True
    df["age_years"] = ages
    # Row 7's id again in three later blocks, once in a row that cannot be
    # read; an unreadable row's id "zz" first, then a readable one, which
    # names it.
    df.loc[[3_000, 2_500, 8_999], "id"] = "r7"
    df.loc[4_100, "id"] = "r2100"
    df.loc[6_001, "id"] = "zz"
    df.loc[7_000, "id"] = "zz"
    out = g.group_frame(df)
    first: Dict[str, int] = {}
    for row, record in enumerate(df.to_dict("records")):
        case = {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        id = str(case["id"])
        got = out.iloc[row]
        duplicate = [f"duplicate id: also in row {first[id]}"] if id in first else []
        first.setdefault(id, row)
        if row in unreadable:
            assert got["status"] == "invalid" and got["reason"].startswith(f"row {row}: age_years: a boolean"), row
            assert got["warnings"] == "; ".join(duplicate), row
            continue
        one = g.group(case)
        warnings = list(one.warnings) + duplicate
        expected = [one.status, one.mdc, one.adrg, one.drg, one.drg_name, one.reason, "; ".join(warnings)]
        assert same(expected, [got[name] for name in RESULTS[:7]]), (row, expected, list(got))
    assert out["warnings"][8_999] == "duplicate id: also in row 7"
    assert out["warnings"][2_500] == "duplicate id: also in row 7"
    assert out["warnings"][7_000] == "duplicate id: also in row 6001"
