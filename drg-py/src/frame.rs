//! Grouping columns (`group_frame`, `group_arrow`) at engine speed (issue 17).
//!
//! A column comes in either as Arrow chunks, read through the Arrow C data
//! interface (the PyCapsule protocol `__arrow_c_array__`/`__arrow_c_stream__`
//! that pyarrow ≥ 14 implements) without a Python object per cell, or as a
//! Python list (no pyarrow, or a column Arrow cannot hold). Cases are built
//! from the Arrow memory and grouped on every core with the GIL released; the
//! result columns go back as Arrow arrays ([`ResultColumn`]).
//!
//! A cell means the same whichever way it comes: [`Cell`] is the one
//! reading of a value, shared by the list path (`cell_of_python`) and the
//! Arrow path (`cell_of_arrow`), and applied to a case in one place.

use std::ffi::CString;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{make_array, Array, ArrayRef, OffsetSizeTrait};
use arrow_data::ArrayData;
use arrow_schema::DataType;
use drg_core::case::{Case, Field, FieldError};
use drg_core::GroupResult as CoreResult;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyCapsule, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::errors::{self, CaseError};

/// A cell's value as grouping reads it: missing, text, or a number.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell<T> {
    Missing,
    Text(T),
    Number(f64),
}

impl<T: AsRef<str>> Cell<T> {
    /// Sets `field` of `case` from the cell.
    pub(crate) fn apply(&self, case: &mut Case, field: Field) -> Result<(), FieldError> {
        match self {
            Cell::Missing => case.set_field(field, ""),
            Cell::Text(text) => case.set_field(field, text.as_ref()),
            Cell::Number(n) => case.set_number(field, *n),
        }
    }
}

fn field_error(field: Field, message: String) -> FieldError {
    FieldError { field: field.name(), message }
}

/// A Python value as a cell: None, str, int, float (NaN is missing), a numpy
/// number, pandas' NA/NaT, or for the code fields a list of codes.
pub(crate) fn cell_of_python(field: Field, v: &Bound<'_, PyAny>) -> Result<Cell<String>, FieldError> {
    let err = |message: String| field_error(field, message);
    if v.is_none() {
        return Ok(Cell::Missing);
    }
    if v.is_instance_of::<PyBool>() {
        return Err(err("a boolean is not accepted here".into()));
    }
    if v.is_instance_of::<PyString>() {
        return v.extract::<String>().map(Cell::Text).map_err(|e: PyErr| err(e.to_string()));
    }
    if v.is_instance_of::<PyInt>() {
        let i: i64 = v.extract().map_err(|_| err(format!("{v} is out of range")))?;
        return Ok(Cell::Number(i as f64));
    }
    if v.is_instance_of::<PyFloat>() {
        return v.extract::<f64>().map(Cell::Number).map_err(|e| err(e.to_string()));
    }
    let type_name = crate::type_name(v);
    // pandas' missing values other than NaN.
    if type_name == "NAType" || type_name == "NaTType" {
        return Ok(Cell::Missing);
    }
    if matches!(field, Field::Diagnoses | Field::Procedures) {
        if let Ok(items) = v.try_iter() {
            let mut joined = String::new();
            for item in items {
                let item = item.map_err(|e| err(e.to_string()))?;
                if item.is_none() {
                    continue;
                }
                if let Ok(f) = item.extract::<f64>() {
                    if f.is_nan() && !item.is_instance_of::<PyString>() {
                        continue;
                    }
                }
                let code: String = item.extract().map_err(|_| err(format!("{item} is not a code string")))?;
                joined.push_str(&code);
                joined.push('|');
            }
            return Ok(Cell::Text(joined));
        }
    }
    match v.extract::<f64>() {
        Ok(f) => Ok(Cell::Number(f)),
        Err(_) => Err(err(format!("a value of type {type_name} is not accepted here"))),
    }
}

/// Whether Arrow values of this type are read natively for `field`; any
/// other type goes through Python values (`to_pylist`), so that it means
/// exactly what it meant as a Python value.
fn arrow_reads(field: Field, data_type: &DataType) -> bool {
    use DataType::*;
    let text = |t: &DataType| matches!(t, Utf8 | LargeUtf8 | Utf8View | Null);
    match data_type {
        Null | Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float32 | Float64 => true,
        Utf8 | LargeUtf8 | Utf8View => true,
        List(item) | LargeList(item) => matches!(field, Field::Diagnoses | Field::Procedures) && text(item.data_type()),
        _ => false,
    }
}

/// The text of item `i` of a string array of any of the three layouts.
fn text_at(array: &dyn Array, i: usize) -> Option<&str> {
    if array.is_null(i) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(i)),
        DataType::Utf8View => Some(array.as_string_view().value(i)),
        _ => None,
    }
}

/// The codes of a list cell joined with `|` into `joined` (as a Python list
/// of codes is), nulls left out.
fn join_list<O: OffsetSizeTrait>(array: &dyn Array, i: usize, joined: &mut String) {
    let list = array.as_list::<O>();
    let items = list.value(i);
    for j in 0..items.len() {
        if let Some(code) = text_at(items.as_ref(), j) {
            joined.push_str(code);
            joined.push('|');
        }
    }
}

/// Item `i` of an Arrow array of a type [`arrow_reads`] accepts, as a cell;
/// `scratch` holds a joined code list. Text arrays do not come here: their
/// chunks are [`Chunk::Utf8`], [`Chunk::LargeUtf8`] or [`Chunk::View`].
fn cell_of_arrow<'a>(field: Field, array: &'a dyn Array, i: usize, scratch: &'a mut String) -> Result<Cell<&'a str>, FieldError> {
    if array.is_null(i) {
        return Ok(Cell::Missing);
    }
    let number = |n: f64| Ok(Cell::Number(n));
    match array.data_type() {
        DataType::Null => Ok(Cell::Missing),
        DataType::Boolean => Err(field_error(field, "a boolean is not accepted here".into())),
        DataType::Int8 => number(array.as_primitive::<Int8Type>().value(i) as f64),
        DataType::Int16 => number(array.as_primitive::<Int16Type>().value(i) as f64),
        DataType::Int32 => number(array.as_primitive::<Int32Type>().value(i) as f64),
        DataType::Int64 => number(array.as_primitive::<Int64Type>().value(i) as f64),
        DataType::UInt8 => number(array.as_primitive::<UInt8Type>().value(i) as f64),
        DataType::UInt16 => number(array.as_primitive::<UInt16Type>().value(i) as f64),
        DataType::UInt32 => number(array.as_primitive::<UInt32Type>().value(i) as f64),
        DataType::UInt64 => {
            // As a Python int: beyond i64 it is out of range.
            let v = array.as_primitive::<UInt64Type>().value(i);
            match i64::try_from(v) {
                Ok(v) => number(v as f64),
                Err(_) => Err(field_error(field, format!("{v} is out of range"))),
            }
        }
        DataType::Float32 => number(array.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => number(array.as_primitive::<Float64Type>().value(i)),
        DataType::List(_) | DataType::LargeList(_) => {
            scratch.clear();
            if matches!(array.data_type(), DataType::List(_)) {
                join_list::<i32>(array, i, scratch);
            } else {
                join_list::<i64>(array, i, scratch);
            }
            Ok(Cell::Text(scratch.as_str()))
        }
        // Text is read by `Chunk::set`, and other types are sent through
        // Python values by `arrow_reads`: none comes here.
        other => Err(field_error(field, format!("a value of type {other} is not read from Arrow here"))),
    }
}

/// Imports one Arrow array (`__arrow_c_array__`) or every chunk of an Arrow
/// stream (`__arrow_c_stream__`) exported by `object`.
pub(crate) fn import_arrow(object: &Bound<'_, PyAny>, chunks: &mut Vec<ArrayRef>) -> PyResult<()> {
    let py = object.py();
    let arrow_error = |e: arrow_schema::ArrowError| errors::input(format!("an Arrow column could not be read: {e}"));
    if object.hasattr("__arrow_c_stream__")? {
        let capsule = object.call_method1("__arrow_c_stream__", (py.None(),))?.cast_into::<PyCapsule>()?;
        let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?.cast::<FFI_ArrowArrayStream>();
        // SAFETY: the capsule holds a valid stream (the protocol's promise);
        // it is moved out and an empty (released) one left in its place, so
        // that the capsule's destructor does not release it a second time.
        let mut stream = unsafe { std::ptr::replace(pointer.as_ptr(), FFI_ArrowArrayStream::empty()) };
        let (Some(get_schema), Some(get_next)) = (stream.get_schema, stream.get_next) else {
            return Err(errors::input("an Arrow stream without its functions"));
        };
        let mut schema = FFI_ArrowSchema::empty();
        // SAFETY: both pointers are valid for the call; a non-zero return
        // leaves `schema` released, which its Drop accepts.
        if unsafe { get_schema(&mut stream, &mut schema) } != 0 {
            return Err(errors::input("an Arrow stream refused its schema"));
        }
        loop {
            let mut array = FFI_ArrowArray::empty();
            // SAFETY: as for get_schema.
            if unsafe { get_next(&mut stream, &mut array) } != 0 {
                return Err(errors::input("an Arrow stream failed while it was read"));
            }
            if array.is_released() {
                return Ok(());
            }
            // SAFETY: `array` was just produced by the stream for `schema`.
            let data = unsafe { from_ffi(array, &schema) }.map_err(arrow_error)?;
            chunks.push(make_array(data));
        }
    }
    let pair = object.call_method1("__arrow_c_array__", (py.None(),))?.cast_into::<PyTuple>()?;
    let schema = pair.get_item(0)?.cast_into::<PyCapsule>()?;
    let array = pair.get_item(1)?.cast_into::<PyCapsule>()?;
    let schema = schema.pointer_checked(Some(c"arrow_schema"))?.cast::<FFI_ArrowSchema>();
    let array = array.pointer_checked(Some(c"arrow_array"))?.cast::<FFI_ArrowArray>();
    // SAFETY: the capsules hold a valid schema and array. The array is moved
    // out (an empty one left for the capsule's destructor); the schema is
    // only borrowed while its capsule (`pair`) is alive.
    let data = unsafe {
        let array = std::ptr::replace(array.as_ptr(), FFI_ArrowArray::empty());
        from_ffi(array, schema.as_ref())
    }
    .map_err(arrow_error)?;
    chunks.push(make_array(data));
    Ok(())
}

/// An Arrow chunk, its type looked at once: a text cell of the three string
/// layouts is then read without asking the array its type again.
enum Chunk {
    Utf8(arrow_array::StringArray),
    LargeUtf8(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
    /// Numbers, lists and nulls: every other type [`arrow_reads`] accepts,
    /// read by [`cell_of_arrow`].
    Other(ArrayRef),
}

impl Chunk {
    fn new(array: ArrayRef) -> Chunk {
        match array.data_type() {
            DataType::Utf8 => Chunk::Utf8(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Chunk::LargeUtf8(array.as_string::<i64>().clone()),
            DataType::Utf8View => Chunk::View(array.as_string_view().clone()),
            _ => Chunk::Other(array),
        }
    }

    fn len(&self) -> usize {
        match self {
            Chunk::Utf8(a) => a.len(),
            Chunk::LargeUtf8(a) => a.len(),
            Chunk::View(a) => a.len(),
            Chunk::Other(a) => a.len(),
        }
    }

    /// Sets `field` of `case` from item `i`: text straight from the array
    /// (a null is missing), any other type by [`cell_of_arrow`].
    #[inline(always)]
    fn set(&self, case: &mut Case, field: Field, i: usize, scratch: &mut String) -> Result<(), FieldError> {
        let text = match self {
            Chunk::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Chunk::LargeUtf8(a) => a.is_valid(i).then(|| a.value(i)),
            Chunk::View(a) => a.is_valid(i).then(|| a.value(i)),
            Chunk::Other(a) => return cell_of_arrow(field, a.as_ref(), i, scratch)?.apply(case, field),
        };
        case.set_cell(field, text.unwrap_or(""))
    }
}

/// One case column of the input.
enum Column {
    /// Arrow chunks in order, with the row each starts at.
    Arrow { chunks: Vec<Chunk>, starts: Vec<usize> },
    /// Python values (read with the GIL, a block at a time by the reading thread).
    Python(Py<PyList>),
}

impl Column {
    /// Reads `values`: a list of Python values, or a tuple of Arrow arrays
    /// or streams (the chunks of one column). Arrow chunks of a type read
    /// natively stay Arrow; others become their Python values.
    fn read(name: &str, field: Field, values: &Bound<'_, PyAny>) -> PyResult<(Column, usize)> {
        let py = values.py();
        if let Ok(list) = values.cast::<PyList>() {
            return Ok((Column::Python(list.clone().unbind()), list.len()));
        }
        let Ok(parts) = values.cast::<PyTuple>() else {
            return Err(CaseError::new_err(format!("column {name} must be a list")));
        };
        let mut chunks = Vec::new();
        for part in parts.iter() {
            import_arrow(&part, &mut chunks)?;
        }
        if chunks.iter().all(|c| arrow_reads(field, c.data_type())) {
            let chunks: Vec<Chunk> = chunks.into_iter().map(Chunk::new).collect();
            let mut starts = Vec::with_capacity(chunks.len());
            let mut len = 0;
            for c in &chunks {
                starts.push(len);
                len += c.len();
            }
            return Ok((Column::Arrow { chunks, starts }, len));
        }
        let list = PyList::empty(py);
        for part in parts.iter() {
            for v in part.call_method0("to_pylist")?.try_iter()? {
                list.append(v?)?;
            }
        }
        let len = list.len();
        Ok((Column::Python(list.unbind()), len))
    }
}

/// The result columns, in order; `trace` only with explain.
pub(crate) const RESULT_NAMES: [&str; 8] = ["status", "mdc", "adrg", "drg", "drg_name", "reason", "warnings", "trace"];

/// Rows one worker reads, groups and turns into result columns at a time.
const BLOCK: usize = 2_048;

/// What the reading thread hands a worker: rows `from..to`, with the cells
/// of the Python-valued columns (if any) for those rows, read with the GIL.
struct Block {
    from: usize,
    to: usize,
    python_cells: Vec<Vec<Result<Cell<String>, FieldError>>>,
}

/// A block grouped: its results, their columns, and the ids to check.
struct Grouped<'g> {
    from: usize,
    results: Vec<CoreResult<'g>>,
    columns: Vec<arrow_array::StringArray>,
    ids: BlockIds,
}

/// The ids of a block's cases in one buffer (not a `String` a row); `None`
/// for a row whose id could not be read, which is not checked.
#[derive(Default)]
struct BlockIds {
    bytes: Vec<u8>,
    spans: Vec<Option<(usize, usize)>>,
}

impl BlockIds {
    fn push(&mut self, id: Option<&str>) {
        self.spans.push(id.map(|id| {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(id.as_bytes());
            (start, self.bytes.len())
        }));
    }

    fn iter(&self) -> impl Iterator<Item = Option<&[u8]>> {
        self.spans.iter().map(|span| span.map(|(start, end)| &self.bytes[start..end]))
    }
}

/// What a worker keeps from block to block: the cases rows are read into,
/// the scratch text of a joined code list, and per input where the last row
/// read was.
struct RowReader {
    cases: [Case; 2],
    scratch: String,
    in_chunk: Vec<InChunk>,
}

/// The chunk of an Arrow column a worker last read from: chunk `k`, which
/// holds rows `start..start + len`.
#[derive(Clone, Copy, Default)]
struct InChunk {
    k: usize,
    start: usize,
    len: usize,
}

impl InChunk {
    /// The chunk that holds `row` and the row's place in it. Rows are read
    /// in order within a block, so it is nearly always the chunk of the row
    /// before: one comparison. Otherwise the chunk starts are searched (the
    /// last chunk starting at or before `row`, which an empty chunk never
    /// is).
    #[inline(always)]
    fn locate(&mut self, starts: &[usize], chunks: &[Chunk], row: usize) -> (usize, usize) {
        let i = row.wrapping_sub(self.start);
        if i < self.len {
            return (self.k, i);
        }
        let k = starts.partition_point(|&s| s <= row) - 1;
        *self = InChunk { k, start: starts[k], len: chunks[k].len() };
        (k, row - self.start)
    }
}

/// Groups `columns` (a dict of case columns named as the case fields, each a
/// list or a tuple of Arrow chunks) and returns the result columns.
///
/// The rows go through the pipeline `drg group` runs on: this thread hands
/// out blocks of rows (reading the cells of Python-valued columns with the
/// GIL, a block at a time, so memory stays flat); the workers read, group
/// and build the result columns of a block without the GIL; one thread takes
/// the blocks in row order, checks the ids for duplicates and appends the
/// columns. Every core stays busy, whichever is slowed by another process.
pub(crate) fn group_columns<'py>(
    py: Python<'py>,
    grouper: &drg_core::Grouper,
    columns: &Bound<'py, PyDict>,
    n_rows: usize,
    explain: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mut inputs: Vec<(Field, Column)> = Vec::new();
    for (key, values) in columns.iter() {
        let name: String = key.extract()?;
        let Some(field) = Field::from_name(&name) else { continue };
        let (column, len) = Column::read(&name, field, &values)?;
        if len != n_rows {
            return Err(CaseError::new_err(format!("column {name} has {len} values, expected {n_rows}")));
        }
        inputs.push((field, column));
    }
    // Without a single case column, n_rows is only a number (an empty frame
    // with a RangeIndex of 10**12 has it): nothing backs it, and every row
    // would be invalid. Refused, before any memory is taken for it.
    if inputs.is_empty() && n_rows > 0 {
        return Err(errors::input(format!(
            "none of the case columns ({}) is there; {n_rows} rows cannot be grouped",
            drg_core::io::REQUIRED_COLUMNS.map(|f| f.name()).join(", ")
        )));
    }
    let mut out = ResultBuilders::new(n_rows, explain);
    // The rows are in memory already: so are their ids.
    let mut seen = drg_core::ids::DuplicateIds::in_memory().counting_rows();
    let inputs = &inputs;
    let (read, written) = py.detach(|| {
        drg_core::parallel::ordered_pipeline(
            drg_core::parallel::default_threads(),
            || RowReader { cases: [Case::default(), Case::default()], scratch: String::new(), in_chunk: vec![InChunk::default(); inputs.len()] },
            |reader, block: Block, _: &dyn Fn(())| group_block(grouper, inputs, reader, block, explain),
            |grouped: PyResult<Grouped<'_>>| check_and_append(grouped?, &mut seen, &mut out, explain),
            |feeder| feed_blocks(inputs, n_rows, feeder),
        )
    });
    written?;
    read?;
    out.finish(py)
}

/// Hands the rows to the workers a block at a time, with the cells of the
/// Python-valued columns read (with the GIL) for each block.
fn feed_blocks(inputs: &[(Field, Column)], n_rows: usize, feeder: &mut drg_core::parallel::Feeder<'_, Block, ()>) -> PyResult<()> {
    let python_lists: Vec<(Field, &Py<PyList>)> = inputs
        .iter()
        .filter_map(|(field, column)| match column {
            Column::Python(list) => Some((*field, list)),
            Column::Arrow { .. } => None,
        })
        .collect();
    for from in (0..n_rows).step_by(BLOCK) {
        let to = (from + BLOCK).min(n_rows);
        let mut python_cells = Vec::with_capacity(python_lists.len());
        if !python_lists.is_empty() {
            Python::attach(|py| -> PyResult<()> {
                for (field, list) in &python_lists {
                    let list = list.bind(py);
                    let mut cells = Vec::with_capacity(to - from);
                    for i in from..to {
                        cells.push(cell_of_python(*field, &list.get_item(i)?));
                    }
                    python_cells.push(cells);
                }
                Ok(())
            })?;
        }
        if !feeder.send(Block { from, to, python_cells }) {
            // The appending thread stopped on an error, which it returns.
            break;
        }
    }
    Ok(())
}

/// Checks a grouped block's ids for duplicates, in row order, and appends
/// its result columns to `out`. A block with a duplicate id has its
/// columns built again, the warnings added (rare: a file of cases seldom
/// repeats an id).
fn check_and_append(mut grouped: Grouped<'_>, seen: &mut drg_core::ids::DuplicateIds, out: &mut ResultBuilders, explain: bool) -> PyResult<()> {
    let mut warned = false;
    for ((row, result), id) in (grouped.from..).zip(grouped.results.iter_mut()).zip(grouped.ids.iter()) {
        if let Some(id) = id {
            if let Some(warning) = seen.warning(id, row as u64).expect("an in-memory check reads no file") {
                result.warnings.push(warning);
                warned = true;
            }
        }
    }
    if warned {
        grouped.columns = ResultBuilders::of_block(&grouped.results, explain)?;
    }
    out.append(&grouped.columns)
}

/// Reads and groups the rows of `block`, and builds their result columns.
fn group_block<'g>(
    grouper: &'g drg_core::Grouper,
    inputs: &[(Field, Column)],
    reader: &mut RowReader,
    block: Block,
    explain: bool,
) -> PyResult<Grouped<'g>> {
    let Block { from, to, python_cells } = block;
    let mut results = Vec::with_capacity(to - from);
    let mut ids = BlockIds::default();
    ids.spans.reserve(to - from);
    let RowReader { cases, scratch, in_chunk } = reader;
    // Each row read one row ahead of its grouping (see
    // `Grouper::read_ahead`).
    grouper.read_ahead(
        cases,
        to - from,
        |i, case| read_row(inputs, &python_cells, from + i, i, case, (scratch, in_chunk)),
        |i, case, read| match read {
            Ok(()) => {
                results.push(grouper.group_with(case, explain));
                ids.push(Some(&case.id));
            }
            Err(e) => {
                results.push(CoreResult::invalid(format!("row {}: {e}", from + i)));
                // Its id is checked for duplicates all the same, as in
                // `group_many`, `drg group` and the service: read on its
                // own, the row's other cells having stopped at the error.
                ids.push(read_id(inputs, &python_cells, from + i, i, case).then_some(&case.id));
            }
        },
    );
    let columns = ResultBuilders::of_block(&results, explain)?;
    Ok(Grouped { from, results, columns, ids })
}

/// Sets the id of `case` alone from row `row` (row `at` of the block's
/// Python cells), for a row whose other cells could not all be read: true
/// when there is an id column and its cell could be read.
fn read_id(inputs: &[(Field, Column)], python_cells: &[Vec<Result<Cell<String>, FieldError>>], row: usize, at: usize, case: &mut Case) -> bool {
    let mut python = python_cells.iter();
    for (field, column) in inputs {
        let cells = matches!(column, Column::Python(_)).then(|| python.next().expect("one cell vector per Python column"));
        if *field == Field::Id {
            return set_field(case, *field, column, cells, (row, at), &mut String::new(), &mut InChunk::default()).is_ok();
        }
    }
    false
}

/// Sets every input field of `case` from row `row` (row `at` of the
/// block's Python cells); the first field that cannot be read is the error.
/// `in_chunk` holds where each input's row before was.
fn read_row(
    inputs: &[(Field, Column)],
    python_cells: &[Vec<Result<Cell<String>, FieldError>>],
    row: usize,
    at: usize,
    case: &mut Case,
    (scratch, in_chunk): (&mut String, &mut [InChunk]),
) -> Result<(), FieldError> {
    // The case is reused row after row (its strings keep their capacity, as
    // in `drg group`): every input field is set again on every row before
    // the case is grouped, and the fields of no input column stay unset.
    let mut python = python_cells.iter();
    for ((field, column), in_chunk) in inputs.iter().zip(in_chunk.iter_mut()) {
        let cells = matches!(column, Column::Python(_)).then(|| python.next().expect("one cell vector per Python column"));
        set_field(case, *field, column, cells, (row, at), scratch, in_chunk)?;
    }
    Ok(())
}

/// Sets `field` of `case` from one input column at row `row`: an Arrow
/// column's item (`in_chunk` where the row before was), or a Python
/// column's cell `at` of the block (`cells`, its cells).
#[inline(always)]
fn set_field(
    case: &mut Case,
    field: Field,
    column: &Column,
    cells: Option<&Vec<Result<Cell<String>, FieldError>>>,
    (row, at): (usize, usize),
    scratch: &mut String,
    in_chunk: &mut InChunk,
) -> Result<(), FieldError> {
    match (column, cells) {
        (Column::Arrow { chunks, starts }, _) => {
            let (k, i) = in_chunk.locate(starts, chunks, row);
            chunks[k].set(case, field, i, scratch)
        }
        (Column::Python(_), Some(cells)) => cells[at].clone()?.apply(case, field),
        (Column::Python(_), None) => unreachable!("a Python column comes with its cells"),
    }
}

/// The result columns being built.
struct ResultBuilders {
    columns: Vec<StringBuilder>,
    explain: bool,
}

/// A string array holds at most 2 GiB of text (32-bit offsets, the type
/// pyarrow and pandas expect): refused rather than overflowed.
const TOO_MUCH_TEXT: &str =
    "a result column would hold more than 2 GiB of text (explain=True on millions of rows?); group the frame in parts";

impl ResultBuilders {
    fn new(n_rows: usize, explain: bool) -> Self {
        let n = if explain { RESULT_NAMES.len() } else { RESULT_NAMES.len() - 1 };
        // Capacity for the rows only: the bytes grow as needed.
        let columns = (0..n).map(|_| StringBuilder::with_capacity(n_rows.min(1 << 24), 0)).collect();
        ResultBuilders { columns, explain }
    }

    /// The result columns of one block of rows, built apart (on any thread)
    /// to be [`append`](Self::append)ed in order.
    fn of_block(block: &[CoreResult<'_>], explain: bool) -> PyResult<Vec<arrow_array::StringArray>> {
        let mut out = ResultBuilders::new(block.len(), explain);
        for r in block {
            out.push(r)?;
        }
        Ok(out.columns.iter_mut().map(StringBuilder::finish).collect())
    }

    fn push(&mut self, r: &CoreResult<'_>) -> PyResult<()> {
        let warnings = r.warnings_joined();
        let trace = if self.explain { r.trace_text() } else { String::new() };
        let longest = [r.reason.as_deref().unwrap_or(""), &warnings, &trace];
        for (column, text) in self.columns.iter().skip(5).zip(longest) {
            if column.values_slice().len() + text.len() > i32::MAX as usize {
                return Err(errors::input(TOO_MUCH_TEXT));
            }
        }
        let c = &mut self.columns;
        c[0].append_value(r.status.as_str());
        c[1].append_option(r.mdc);
        c[2].append_option(r.adrg);
        c[3].append_option(r.drg);
        c[4].append_option(r.drg_name);
        c[5].append_option(r.reason.as_deref());
        c[6].append_value(warnings);
        if self.explain {
            c[7].append_value(trace.trim_end());
        }
        Ok(())
    }

    /// Appends a block's columns (from [`of_block`](Self::of_block)).
    fn append(&mut self, block: &[arrow_array::StringArray]) -> PyResult<()> {
        for (column, array) in self.columns.iter().zip(block) {
            if column.values_slice().len() + array.value_data().len() > i32::MAX as usize {
                return Err(errors::input(TOO_MUCH_TEXT));
            }
        }
        for (column, array) in self.columns.iter_mut().zip(block) {
            column.append_array(array).map_err(|_| errors::input(TOO_MUCH_TEXT))?;
        }
        Ok(())
    }

    fn finish(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let dict = PyDict::new(py);
        for (name, mut builder) in RESULT_NAMES.iter().zip(self.columns) {
            let array: ArrayRef = Arc::new(builder.finish());
            dict.set_item(name, ResultColumn { data: Some(array.to_data()) })?;
        }
        Ok(dict)
    }
}

/// A result column: an Arrow string array, handed to pyarrow through
/// `__arrow_c_array__` (``pyarrow.array(column)``) without a Python object
/// per cell, or read as a list with `to_pylist()` (no pyarrow needed).
#[pyclass(module = "drg._drg", name = "ResultColumn")]
pub(crate) struct ResultColumn {
    /// None once handed over through `__arrow_c_array__` (the protocol moves
    /// the array).
    data: Option<ArrayData>,
}

impl ResultColumn {
    fn data(&self) -> PyResult<&ArrayData> {
        self.data.as_ref().ok_or_else(|| errors::input("this result column was already handed to Arrow"))
    }
}

#[pymethods]
impl ResultColumn {
    /// The Arrow PyCapsule protocol: (schema, array) capsules of a string
    /// array. `requested_schema` is ignored (the column is always strings).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &mut self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let data = self.data()?;
        let (array, schema) = to_ffi(data).map_err(|e| errors::input(e.to_string()))?;
        self.data = None;
        let schema = PyCapsule::new(py, schema, Some(CString::from(c"arrow_schema")))?;
        let array = PyCapsule::new(py, array, Some(CString::from(c"arrow_array")))?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    /// The values as a list of str (None where missing).
    fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let array = make_array(self.data()?.clone());
        let values: Vec<Option<&str>> = array.as_string::<i32>().iter().collect();
        PyList::new(py, values)
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.data()?.len())
    }
}
