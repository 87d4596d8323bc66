//! The C ABI of drg: `libdrg.so` / `libdrg.a`, declared in `include/drg.h`.
//!
//! Conventions, the same for every function:
//!
//! - Handles (`drg_grouper`, `drg_points`) are opaque, immutable once open, and
//!   safe to share between threads.
//! - Functions that can fail return `DRG_OK` (0) or an error code, or `NULL`;
//!   `drg_last_error()` then tells why, on the calling thread. Every call that
//!   can fail clears it first, so after a success it is `NULL`.
//! - Every pointer is checked; strings must be NUL-terminated UTF-8.
//! - Strings the library allocates are freed with `drg_string_free`; strings it
//!   points to inside a handle live as long as the handle.
//! - No panic crosses the boundary: one becomes `DRG_ERROR_INTERNAL`, and
//!   nothing is printed on the host's standard error (see `guard`).
//!
//! Every `unsafe extern "C" fn` says in `# Safety` what it requires of its
//! caller (cbindgen carries it into include/drg.h); every `unsafe` block says
//! in `// SAFETY:` why that holds there.
//!
//! The engine is drg-core; nothing here decides a group.

#![allow(non_camel_case_types)]
#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::missing_safety_doc,
    clippy::undocumented_unsafe_blocks
)]

mod perdiem;
pub use perdiem::*;
mod dip;

mod packs;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;
use std::sync::Arc;

use drg_core::case::{Case, Field, Sex};
use drg_core::points::{self, Category, PointsCase, Policy, Weights};
use drg_core::{GroupOptions, GroupResult, Grouper, Pack, Status};

/// Success.
pub const DRG_OK: c_int = 0;
/// A required pointer was NULL.
pub const DRG_ERROR_NULL: c_int = 1;
/// A string was not valid UTF-8.
pub const DRG_ERROR_UTF8: c_int = 2;
/// JSON input could not be read.
pub const DRG_ERROR_JSON: c_int = 3;
/// The rule pack could not be loaded.
pub const DRG_ERROR_PACK: c_int = 4;
/// An argument cannot be used: a code of the pack too long for its field of
/// `drg_result`, a cost that cannot be scored. (A case field out of range,
/// such as a sex other than 0, 1 or 2, is not an error of the call: the
/// result is `DRG_STATUS_INVALID` with the reason.)
pub const DRG_ERROR_ARGUMENT: c_int = 5;
/// The points policy or weights table could not be loaded.
pub const DRG_ERROR_POINTS: c_int = 6;
/// A bug in the library (a caught panic). Please report it.
pub const DRG_ERROR_INTERNAL: c_int = 99;

/// Room for a code (MDC, ADRG, DRG) with its NUL in `drg_result`.
pub const DRG_CODE_SIZE: usize = 16;
// The loader refuses a code that would not fit (with its NUL).
const _: () = assert!(DRG_CODE_SIZE - 1 == drg_core::pack::MAX_CODE_BYTES);
/// Room for the reason with its NUL in `drg_result`; longer reasons are cut at
/// a character boundary (`drg_group_json` has them whole).
pub const DRG_REASON_SIZE: usize = 256;

/// A grouper: one rule pack, compiled. Opaque; immutable and thread-safe.
pub struct drg_grouper {
    grouper: Grouper,
    /// NUL-terminated DRG names, by DRG code, for `drg_result.drg_name`.
    drg_names: HashMap<String, CString>,
}

/// The status of a grouping.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum drg_status {
    DRG_STATUS_GROUPED = 0,
    DRG_STATUS_UNGROUPABLE = 1,
    DRG_STATUS_AMBIGUOUS = 2,
    DRG_STATUS_INVALID = 3,
}

/// One discharge, for `drg_group`. Integers use -1 for missing; strings and
/// arrays may be NULL when missing (an array with a count of 0).
#[repr(C)]
pub struct drg_case {
    /// The case's id (NULL or "" makes the case invalid).
    pub id: *const c_char,
    /// 0 missing, 1 male, 2 female. Any other value makes the case invalid
    /// (`DRG_OK`, status `DRG_STATUS_INVALID`, the reason naming the sex), as a
    /// bad sex does in a CSV row.
    pub sex: c_int,
    pub age_years: c_int,
    /// The whole age in days; needed when age_years is 0.
    pub age_days: c_int,
    /// Birth weight in grams; 0 or less is missing.
    pub weight_g: c_int,
    /// Length of stay in days.
    pub los_days: c_int,
    /// 离院方式 ("1" … "9"), or NULL.
    pub discharge: *const c_char,
    /// Department code, or NULL.
    pub dept: *const c_char,
    /// ICU hours; negative is missing.
    pub icu_hours: f64,
    /// Diagnosis codes, the principal first.
    pub diagnoses: *const *const c_char,
    pub n_diagnoses: usize,
    /// Procedure codes, the principal first.
    pub procedures: *const *const c_char,
    pub n_procedures: usize,
}

/// The result of `drg_group`. Codes are NUL-terminated, empty when none.
#[repr(C)]
pub struct drg_result {
    pub status: drg_status,
    pub mdc: [c_char; DRG_CODE_SIZE],
    pub adrg: [c_char; DRG_CODE_SIZE],
    pub drg: [c_char; DRG_CODE_SIZE],
    /// The DRG's name (UTF-8), owned by the grouper: valid until
    /// `drg_grouper_close`. NULL unless grouped.
    pub drg_name: *const c_char,
    /// Why the case is invalid, ungroupable or ambiguous; empty otherwise.
    pub reason: [c_char; DRG_REASON_SIZE],
    /// How many warnings (unknown codes…) the case has; their text is in
    /// `drg_group_json`.
    pub n_warnings: c_int,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_error(message: impl Into<String>) {
    let message = message.into().replace('\0', " ");
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(CString::new(message).expect("no NUL")));
}

fn clear_error() {
    LAST_ERROR.with(|e| *e.borrow_mut() = None);
}

/// Runs `body`, turning a panic into `on_panic` and an error message. Every
/// exported function that can do more than return a constant runs inside it.
/// The panic is caught quietly: drg_core's panic hook prints nothing for it
/// (nor for a panic on the threads `drg_group_batch` starts), so no Rust
/// message or backtrace reaches the host application's standard error.
fn guard<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    clear_error();
    match drg_core::panic::catch_quietly(body) {
        Ok(v) => v,
        Err(what) => {
            set_error(format!("internal error (please report it): {what}"));
            on_panic
        }
    }
}

/// The shape of every `drg_*_open`: `open` runs under [`guard`]; the handle
/// it makes is boxed for the caller (who frees it with the matching close),
/// and its failure is recorded for `drg_last_error()` and gives NULL.
fn open_handle<T>(open: impl FnOnce() -> Result<T, Failure>) -> *mut T {
    guard(ptr::null_mut(), || match open() {
        Ok(handle) => Box::into_raw(Box::new(handle)),
        Err(f) => {
            f.report();
            ptr::null_mut()
        }
    })
}

/// A failed call: its code and message.
struct Failure(c_int, String);

impl Failure {
    fn report(self) -> c_int {
        set_error(self.1);
        self.0
    }

    /// A drg-core error: its code from its kind, its message unchanged.
    fn core(e: impl Into<drg_core::Error>) -> Failure {
        let e = e.into();
        Failure(error_code(e.kind()), e.to_string())
    }

    /// A drg-core error in a file the caller named (`weights.csv: line 3: …`).
    fn core_in(file: &str, e: impl Into<drg_core::Error>) -> Failure {
        Failure::core(e.into().in_file(file))
    }
}

/// The one place a kind of drg-core error becomes a C error code.
fn error_code(kind: drg_core::ErrorKind) -> c_int {
    use drg_core::ErrorKind;
    match kind {
        ErrorKind::Pack => DRG_ERROR_PACK,
        ErrorKind::Policy => DRG_ERROR_POINTS,
        ErrorKind::Dip => dip::DRG_ERROR_DIP,
        // Cases and columns: C callers pass cases as structs or JSON, so a
        // case that cannot be read is an argument that cannot be used.
        ErrorKind::Input => DRG_ERROR_ARGUMENT,
        _ => DRG_ERROR_ARGUMENT,
    }
}

/// A string argument; NULL is an error.
///
/// # Safety
///
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure(DRG_ERROR_NULL, format!("{what} is NULL")));
    }
    // SAFETY: p is not NULL, and the caller guarantees it is NUL-terminated
    // and valid for 'a.
    let text = unsafe { CStr::from_ptr(p) };
    text.to_str()
        .map_err(|e| Failure(DRG_ERROR_UTF8, format!("{what} is not valid UTF-8 ({e})")))
}

/// A string argument that may be NULL (missing).
///
/// # Safety
///
/// As for [`str_arg`].
unsafe fn opt_str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: the caller's guarantee is str_arg's.
        unsafe { str_arg(p, what) }.map(Some)
    }
}

/// The library's version, e.g. "0.1.0". A static string.
#[no_mangle]
pub extern "C" fn drg_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// This thread's last error, or NULL. Valid until the next call into the
/// library from this thread.
#[no_mangle]
pub extern "C" fn drg_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ref().map_or(ptr::null(), |s| s.as_ptr()))
}

/// Opens a rule pack: the id of a bundled pack ("chs-drg-2.0", "wuhan-2022",
/// "demo"; see `drg_packs_json`) or the path of a drgpack/1 directory or
/// compiled pack (an existing path wins; an id never contains '/'). NULL on
/// error.
///
/// # Safety
///
/// `pack_path` is NULL (an error) or a NUL-terminated string valid for the
/// call. The grouper returned is freed with `drg_grouper_close`, once.
#[no_mangle]
pub unsafe extern "C" fn drg_grouper_open(pack_path: *const c_char) -> *mut drg_grouper {
    // SAFETY: the same requirements as this function's.
    unsafe { drg_grouper_open_with(pack_path, 0) }
}

/// Like `drg_grouper_open`; with `translate_codes` non-zero, legacy codes are
/// translated through the pack's code maps before grouping.
///
/// # Safety
///
/// As for `drg_grouper_open`.
#[no_mangle]
pub unsafe extern "C" fn drg_grouper_open_with(
    pack_path: *const c_char,
    translate_codes: c_int,
) -> *mut drg_grouper {
    open_handle(|| {
        // SAFETY: pack_path is NULL or a valid string (this function's
        // requirement).
        let path = unsafe { str_arg(pack_path, "pack_path") }?;
        let pack = drg_packs::open(path).map_err(Failure::core)?;
        Ok(new_grouper(pack, translate_codes != 0))
    })
}

/// Opens the built-in demo pack (for trying the library; not for payment).
#[no_mangle]
pub extern "C" fn drg_grouper_open_demo() -> *mut drg_grouper {
    guard(ptr::null_mut(), || {
        Box::into_raw(Box::new(new_grouper(Pack::demo(), false)))
    })
}

fn new_grouper(pack: Pack, translate_codes: bool) -> drg_grouper {
    let drg_names = pack
        .mdcs()
        .iter()
        .flat_map(|m| &m.adrgs)
        .flat_map(|a| &a.drgs)
        .map(|d| {
            (
                d.code.to_string(),
                CString::new(d.name.replace('\0', " ")).expect("no NUL"),
            )
        })
        .collect();
    let grouper = Grouper::with_options(Arc::new(pack), GroupOptions { translate_codes });
    drg_grouper { grouper, drg_names }
}

/// Closes a grouper. NULL is a no-op.
///
/// # Safety
///
/// `g` is NULL or a grouper returned by a `drg_grouper_open*` function and
/// not closed yet. Closing it twice is undefined behaviour, as for `free`.
/// No other call may be using it, and the `drg_name` pointers of its results
/// are invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn drg_grouper_close(g: *mut drg_grouper) {
    if !g.is_null() {
        // SAFETY: g came from Box::into_raw in drg_grouper_open* and is
        // closed once, unused by any other call (this function's requirement).
        guard((), || drop(unsafe { Box::from_raw(g) }));
    }
}

/// The pack's id, name and counts as a newly allocated JSON object
/// (`{"id": …, "name": …, "counts": {"mdc": …, "adrg": …, "drg": …}}`);
/// free it with `drg_string_free`. NULL on error.
///
/// # Safety
///
/// `g` is NULL (an error) or an open grouper.
#[no_mangle]
pub unsafe extern "C" fn drg_grouper_info_json(g: *const drg_grouper) -> *mut c_char {
    guard(ptr::null_mut(), || {
        // SAFETY: g is NULL or an open grouper (this function's requirement).
        let Some(g) = (unsafe { g.as_ref() }) else {
            set_error("g is NULL");
            return ptr::null_mut();
        };
        let info = g.grouper.pack().info();
        let value = serde_json::json!({
            "id": info.id, "name": info.name, "description": info.description,
            "counts": {"mdc": info.counts.mdc, "adrg": info.counts.adrg, "drg": info.counts.drg},
            "warnings": info.warnings,
        });
        to_c_string(value.to_string())
    })
}

fn to_c_string(s: String) -> *mut c_char {
    CString::new(s.replace('\0', "\\u0000"))
        .expect("no NUL")
        .into_raw()
}

/// Frees a string the library allocated. NULL is a no-op.
///
/// # Safety
///
/// `s` is NULL or a string returned by this library (`drg_group_json`,
/// `drg_grouper_info_json`) and not freed yet; freeing it twice, or freeing
/// any other pointer (`drg_last_error`, `drg_version`, `drg_name`), is
/// undefined behaviour, as for `free`.
#[no_mangle]
pub unsafe extern "C" fn drg_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: s came from CString::into_raw in this library and is freed
        // once (this function's requirement).
        guard((), || drop(unsafe { CString::from_raw(s) }));
    }
}

/// Groups one case given as a JSON object with the field names of
/// specs/cases.md. Returns a newly allocated JSON object with `id` and the
/// result columns (and `"trace": [{depth, held, text}…]` when `explain` is
/// non-zero); free it with `drg_string_free`. NULL on error (a NULL or
/// non-UTF-8 argument, JSON that is not an object); a case whose fields
/// cannot be read is an `invalid` result, not an error.
///
/// # Safety
///
/// `g` is NULL (an error) or an open grouper; `case_json` is NULL (an error)
/// or a NUL-terminated string valid for the call.
#[no_mangle]
pub unsafe extern "C" fn drg_group_json(
    g: *const drg_grouper,
    case_json: *const c_char,
    explain: c_int,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        let grouped = (|| -> Result<String, Failure> {
            // SAFETY: g is NULL or an open grouper (this function's requirement).
            let g =
                unsafe { g.as_ref() }.ok_or_else(|| Failure(DRG_ERROR_NULL, "g is NULL".into()))?;
            // SAFETY: case_json is NULL or a valid string (this function's
            // requirement).
            let text = unsafe { str_arg(case_json, "case_json") }?;
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| Failure(DRG_ERROR_JSON, format!("case_json: {e}")))?;
            let object = value
                .as_object()
                .ok_or_else(|| Failure(DRG_ERROR_JSON, "case_json is not a JSON object".into()))?;
            let json = match Case::from_json_object(object) {
                Ok((case, _)) => g.grouper.group_with(&case, explain != 0).to_json(&case.id),
                Err(e) => {
                    GroupResult::invalid(e.to_string()).to_json(&drg_core::case::json_id(object))
                }
            };
            Ok(json.to_string())
        })();
        match grouped {
            Ok(s) => to_c_string(s),
            Err(f) => {
                f.report();
                ptr::null_mut()
            }
        }
    })
}

/// Reads a `drg_case`. A value out of range is an invalid case (its reason),
/// not an error; a non-UTF-8 string is an error of the call.
///
/// # Safety
///
/// The strings of `c` are NULL or valid NUL-terminated strings; `diagnoses`
/// and `procedures` are NULL or arrays of at least `n_diagnoses` and
/// `n_procedures` string pointers (each NULL or valid), all valid for the
/// call.
unsafe fn read_case(c: &drg_case) -> Result<Result<Case, String>, Failure> {
    // SAFETY: the strings of c are NULL or valid (this function's requirement).
    let (id, discharge, dept) = unsafe {
        (
            opt_str_arg(c.id, "case.id")?,
            opt_str_arg(c.discharge, "case.discharge")?,
            opt_str_arg(c.dept, "case.dept")?,
        )
    };
    let mut case = Case {
        id: id.unwrap_or("").trim().to_string(),
        discharge: discharge.map(str::to_string).filter(|s| !s.is_empty()),
        dept: dept.map(str::to_string).filter(|s| !s.is_empty()),
        ..Case::default()
    };
    let int = |v: c_int| (v >= 0).then_some(v as i64);
    case.age_years = int(c.age_years);
    case.age_days = int(c.age_days);
    case.los_days = int(c.los_days);
    case.weight_g = (c.weight_g > 0).then_some(c.weight_g as f64);
    case.icu_hours = (c.icu_hours >= 0.0 && c.icu_hours.is_finite()).then_some(c.icu_hours);
    for (field, array, n) in [
        (Field::Diagnoses, c.diagnoses, c.n_diagnoses),
        (Field::Procedures, c.procedures, c.n_procedures),
    ] {
        if n == 0 {
            continue;
        }
        if array.is_null() {
            return Err(Failure(
                DRG_ERROR_NULL,
                format!("case.{} is NULL with a count of {n}", field.name()),
            ));
        }
        // Not with_capacity(n): a wrong count must not become a huge
        // allocation before the first code is read.
        let mut codes = Vec::new();
        for i in 0..n {
            // SAFETY: array is not NULL and holds at least n pointers, each
            // NULL or a valid string (this function's requirement).
            let code =
                unsafe { opt_str_arg(*array.add(i), &format!("case.{}[{i}]", field.name())) }?;
            if let Some(code) = code {
                codes.push(code.to_string());
            }
        }
        if field == Field::Diagnoses {
            case.diagnoses = codes;
        } else {
            case.procedures = codes;
        }
    }
    case.sex = match c.sex {
        0 => None,
        1 => Some(Sex::Male),
        2 => Some(Sex::Female),
        other => {
            return Ok(Err(format!(
                "sex: {other} is not 0 (missing), 1 (male) or 2 (female)"
            )))
        }
    };
    Ok(Ok(case))
}

fn copy_into<const N: usize>(dest: &mut [c_char; N], text: &str, cut: bool) -> Result<(), String> {
    let mut bytes = text.as_bytes();
    if bytes.len() >= N {
        if !cut {
            return Err(format!("{text:?} is longer than {} bytes", N - 1));
        }
        let mut end = N - 1;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        bytes = &bytes[..end];
    }
    for (d, &b) in dest.iter_mut().zip(bytes) {
        *d = b as c_char;
    }
    dest[bytes.len()] = 0;
    Ok(())
}

fn fill_result(g: &drg_grouper, r: &GroupResult<'_>, out: &mut drg_result) -> Result<(), Failure> {
    out.status = match r.status {
        Status::Grouped => drg_status::DRG_STATUS_GROUPED,
        Status::Ungroupable => drg_status::DRG_STATUS_UNGROUPABLE,
        Status::Ambiguous => drg_status::DRG_STATUS_AMBIGUOUS,
        Status::Invalid => drg_status::DRG_STATUS_INVALID,
    };
    let code = |dest: &mut [c_char; DRG_CODE_SIZE], v: Option<&str>| {
        copy_into(dest, v.unwrap_or(""), false)
            .map_err(|e| Failure(DRG_ERROR_ARGUMENT, format!("a code of the pack: {e}")))
    };
    code(&mut out.mdc, r.mdc)?;
    code(&mut out.adrg, r.adrg)?;
    code(&mut out.drg, r.drg)?;
    out.drg_name = r
        .drg
        .and_then(|d| g.drg_names.get(d))
        .map_or(ptr::null(), |n| n.as_ptr());
    copy_into(&mut out.reason, r.reason.as_deref().unwrap_or(""), true).expect("cut to fit");
    out.n_warnings = r.warnings.len().min(c_int::MAX as usize) as c_int;
    Ok(())
}

fn invalid_result(reason: &str, out: &mut drg_result) {
    out.status = drg_status::DRG_STATUS_INVALID;
    out.mdc[0] = 0;
    out.adrg[0] = 0;
    out.drg[0] = 0;
    out.drg_name = ptr::null();
    copy_into(&mut out.reason, reason, true).expect("cut to fit");
    out.n_warnings = 0;
}

/// Groups one case read from `c` into `out` (written on success and on a
/// case error). Returns DRG_OK, or an error code with `drg_last_error()`; a
/// case that lacks what grouping needs is DRG_OK with status INVALID.
///
/// # Safety
///
/// As for [`read_case`].
unsafe fn group_one(g: &drg_grouper, c: &drg_case, out: &mut drg_result) -> c_int {
    // SAFETY: this function's requirement is read_case's.
    let read = match unsafe { read_case(c) } {
        Ok(read) => read,
        Err(f) => {
            invalid_result(&f.1, out);
            return f.report();
        }
    };
    match read {
        Ok(case) => match fill_result(g, &g.grouper.group(&case), out) {
            Ok(()) => DRG_OK,
            Err(f) => {
                invalid_result(&f.1, out);
                f.report()
            }
        },
        Err(reason) => {
            invalid_result(&reason, out);
            DRG_OK
        }
    }
}

/// Groups one case. No allocation. Returns DRG_OK (the result is in `out`,
/// whatever its status) or an error code (NULL pointer, non-UTF-8 string) with
/// `drg_last_error()`; on a case error `out` is still written, as invalid.
///
/// # Safety
///
/// `g` is NULL or an open grouper; `c` is NULL or points to a `drg_case`
/// whose strings are NULL or NUL-terminated, and whose `diagnoses` and
/// `procedures` hold at least `n_diagnoses` and `n_procedures` pointers;
/// `out` is NULL or points to a writable `drg_result`. All stay valid and
/// unchanged for the call. `out->drg_name` then points into the grouper:
/// valid until `drg_grouper_close`.
#[no_mangle]
pub unsafe extern "C" fn drg_group(
    g: *const drg_grouper,
    c: *const drg_case,
    out: *mut drg_result,
) -> c_int {
    guard(DRG_ERROR_INTERNAL, || {
        // SAFETY: each pointer is NULL or valid for the call (this function's
        // requirement); NULL is refused here.
        let (Some(g), Some(c), Some(out)) =
            (unsafe { g.as_ref() }, unsafe { c.as_ref() }, unsafe {
                out.as_mut()
            })
        else {
            set_error("drg_group: g, c and out must not be NULL");
            return DRG_ERROR_NULL;
        };
        // SAFETY: c's strings and arrays are valid (this function's requirement).
        unsafe { group_one(g, c, out) }
    })
}

/// Groups `n` cases into `results` (an array of `n`), on `threads` threads
/// (0 or less: every core; more than 256 is taken as 256, drg-core's
/// `MAX_THREADS`, and if the system refuses a thread its share is grouped on
/// the calling thread). Every result is written. Returns DRG_OK, or the error
/// of the first case that had one (its result is then INVALID) with
/// `drg_last_error()` naming the case's index.
///
/// # Safety
///
/// `g` is NULL or an open grouper; unless `n` is 0, `cases` and `results`
/// are NULL or arrays of at least `n` elements (`results` writable), each
/// case valid as for `drg_group`. All stay valid and unchanged for the call,
/// and `results` is not read or written by anyone else during it.
#[no_mangle]
pub unsafe extern "C" fn drg_group_batch(
    g: *const drg_grouper,
    cases: *const drg_case,
    n: usize,
    results: *mut drg_result,
    threads: c_int,
) -> c_int {
    guard(DRG_ERROR_INTERNAL, || {
        if n == 0 {
            return DRG_OK;
        }
        // SAFETY: g is NULL or an open grouper (this function's requirement).
        let Some(g) = (unsafe { g.as_ref() }) else {
            set_error("drg_group_batch: g is NULL");
            return DRG_ERROR_NULL;
        };
        if cases.is_null() || results.is_null() {
            set_error("drg_group_batch: cases and results must not be NULL");
            return DRG_ERROR_NULL;
        }
        // SAFETY: both are non-NULL arrays of at least n elements, valid and
        // not used by anyone else for the call (this function's requirement).
        let (cases, results) = unsafe {
            (
                std::slice::from_raw_parts(cases, n),
                std::slice::from_raw_parts_mut(results, n),
            )
        };
        // The one thread rule of drg-core: 0 is every core, too many is
        // clamped (nothing is printed: a library does not write to stderr).
        let (threads, _) =
            drg_core::parallel::resolve_threads(usize::try_from(threads).unwrap_or(0));
        let chunk = n.div_ceil(threads.min(n));
        /// A share of the batch for one thread. The pointers inside the cases
        /// (and the names the results point to) are only read, and the caller
        /// keeps them valid and unchanged for the whole call, as for any call.
        struct Share<'a>(usize, &'a [drg_case], &'a mut [drg_result]);
        // SAFETY: a Share is only read (the cases and the strings they point
        // to, unchanged for the call) and written (its own results, which no
        // other thread touches) by the one thread it is moved to.
        unsafe impl Send for Share<'_> {}
        /// Groups one share; its first failure as (index, code, message).
        fn group_share(
            g: &drg_grouper,
            chunk: usize,
            share: Share<'_>,
        ) -> Option<(usize, c_int, String)> {
            let Share(k, cs, rs) = share;
            let mut first = None;
            for (i, (c, r)) in cs.iter().zip(rs.iter_mut()).enumerate() {
                // SAFETY: every case is valid for the call (drg_group_batch's
                // requirement).
                let code = unsafe { group_one(g, c, r) };
                if code != DRG_OK && first.is_none() {
                    let message = LAST_ERROR.with(|e| {
                        e.borrow()
                            .as_ref()
                            .map(|s| s.to_string_lossy().into_owned())
                    });
                    first = Some((k * chunk + i, code, message.unwrap_or_default()));
                }
            }
            first
        }
        // Each share waits in its slot for the thread that takes it; a share
        // whose thread the system refuses (a thread limit, no memory for a
        // stack) is grouped on the calling thread instead, never lost.
        let slots: Vec<std::sync::Mutex<Option<Share<'_>>>> = cases
            .chunks(chunk)
            .zip(results.chunks_mut(chunk))
            .enumerate()
            .map(|(k, (cs, rs))| std::sync::Mutex::new(Some(Share(k, cs, rs))))
            .collect();
        fn take<'a>(slot: &std::sync::Mutex<Option<Share<'a>>>) -> Option<Share<'a>> {
            slot.lock().unwrap_or_else(|e| e.into_inner()).take()
        }
        let failures: Vec<Option<(usize, c_int, String)>> = std::thread::scope(|scope| {
            let mut failures = Vec::new();
            let mut handles = Vec::new();
            for (k, slot) in slots.iter().enumerate() {
                let worker = move || {
                    // Quiet like the calling thread: a panic here is caught
                    // below, not printed.
                    drg_core::panic::set_quiet(true);
                    take(slot).and_then(|share| group_share(g, chunk, share))
                };
                match std::thread::Builder::new().spawn_scoped(scope, worker) {
                    Ok(handle) => handles.push((k, handle)),
                    Err(_) => {
                        failures.push(take(slot).and_then(|share| group_share(g, chunk, share)))
                    }
                }
            }
            for (k, handle) in handles {
                failures.push(handle.join().unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned());
                    Some((
                        k * chunk,
                        DRG_ERROR_INTERNAL,
                        format!(
                            "internal error (please report it): {}",
                            what.unwrap_or_default()
                        ),
                    ))
                }));
            }
            failures
        });
        match failures.into_iter().flatten().min_by_key(|f| f.0) {
            None => DRG_OK,
            Some((index, code, message)) => {
                set_error(format!("case {index}: {message}"));
                code
            }
        }
    })
}

/// Point scoring: a policy and a weights table. Opaque; immutable and
/// thread-safe.
pub struct drg_points {
    policy: Policy,
    weights: Weights,
    /// Per-diem bed-day points (empty unless opened by drg_points_open_perdiem).
    perdiem: points::PerDiemRates,
}

/// The payment category of a scored case.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum drg_category {
    DRG_CATEGORY_NORMAL = 0,
    /// 高倍率
    DRG_CATEGORY_HIGH = 1,
    /// 低倍率
    DRG_CATEGORY_LOW = 2,
    DRG_CATEGORY_UNGROUPED = 3,
    /// Paid by the bed-day (按床日, specs/perdiem.md): see drg_points_score_stay.
    DRG_CATEGORY_PERDIEM = 4,
}

impl From<Category> for drg_category {
    fn from(category: Category) -> Self {
        match category {
            Category::Normal => drg_category::DRG_CATEGORY_NORMAL,
            Category::High => drg_category::DRG_CATEGORY_HIGH,
            Category::Low => drg_category::DRG_CATEGORY_LOW,
            Category::Ungrouped => drg_category::DRG_CATEGORY_UNGROUPED,
            Category::PerDiem => drg_category::DRG_CATEGORY_PERDIEM,
        }
    }
}

/// One case to score.
#[repr(C)]
pub struct drg_points_case {
    /// The hospital's id (for its own coefficient); may be NULL.
    pub hospital: *const c_char,
    /// The hospital's level ("1", "2", "3"); may be NULL.
    pub hospital_level: *const c_char,
    /// The case's DRG, or NULL / "" when it was not grouped.
    pub drg: *const c_char,
    /// 住院总费用, yuan; must be ≥ 0.
    pub total_cost: f64,
}

/// The points of one case.
#[repr(C)]
pub struct drg_score {
    pub category: drg_category,
    /// 0 when ungrouped.
    pub base_points: f64,
    /// 1 when ungrouped.
    pub coef: f64,
    pub points: f64,
}

/// Opens a points policy (TOML, specs/points.md) and a weights table (the
/// weights.csv of `drg points calibrate`). NULL on error.
///
/// # Safety
///
/// `policy_path` and `weights_path` are NULL (an error) or NUL-terminated
/// strings valid for the call. The handle returned is freed with
/// `drg_points_close`, once.
#[no_mangle]
pub unsafe extern "C" fn drg_points_open(
    policy_path: *const c_char,
    weights_path: *const c_char,
) -> *mut drg_points {
    open_handle(|| {
        // SAFETY: both are NULL or valid strings (this function's requirement).
        let (policy_path, weights_path) = unsafe {
            (
                str_arg(policy_path, "policy_path")?,
                str_arg(weights_path, "weights_path")?,
            )
        };
        let policy =
            Policy::load(policy_path).map_err(Failure::core)?;
        let file = std::fs::File::open(weights_path)
            .map_err(|e| Failure(DRG_ERROR_POINTS, format!("{weights_path}: {e}")))?;
        let weights = points::read_weights_csv(std::io::BufReader::new(file))
            .map_err(|e| Failure::core_in(weights_path, e))?;
        Ok(drg_points {
            policy,
            weights,
            perdiem: Default::default(),
        })
    })
}

/// Closes a points handle. NULL is a no-op.
///
/// # Safety
///
/// `p` is NULL or a handle returned by `drg_points_open` and not closed yet.
/// Closing it twice is undefined behaviour, as for `free`; no other call may
/// be using it.
#[no_mangle]
pub unsafe extern "C" fn drg_points_close(p: *mut drg_points) {
    if !p.is_null() {
        // SAFETY: p came from Box::into_raw in drg_points_open and is closed
        // once, unused by any other call (this function's requirement).
        guard((), || drop(unsafe { Box::from_raw(p) }));
    }
}

/// Scores one case into `out`. Returns DRG_OK or an error code (NULL pointer,
/// non-UTF-8 string, a negative or non-finite cost) with `drg_last_error()`.
///
/// # Safety
///
/// `p` is NULL or an open points handle; `c` is NULL or points to a
/// `drg_points_case` whose strings are NULL or NUL-terminated; `out` is NULL
/// or points to a writable `drg_score`. All stay valid for the call.
#[no_mangle]
pub unsafe extern "C" fn drg_points_score(
    p: *const drg_points,
    c: *const drg_points_case,
    out: *mut drg_score,
) -> c_int {
    guard(DRG_ERROR_INTERNAL, || {
        // SAFETY: each pointer is NULL or valid for the call (this function's
        // requirement); NULL is refused here.
        let (Some(p), Some(c), Some(out)) =
            (unsafe { p.as_ref() }, unsafe { c.as_ref() }, unsafe {
                out.as_mut()
            })
        else {
            set_error("drg_points_score: p, c and out must not be NULL");
            return DRG_ERROR_NULL;
        };
        let scored = (|| -> Result<points::CaseScore, Failure> {
            // SAFETY: the strings of c are NULL or valid (this function's
            // requirement).
            let (hospital, level, drg) = unsafe {
                (
                    opt_str_arg(c.hospital, "c.hospital")?,
                    opt_str_arg(c.hospital_level, "c.hospital_level")?,
                    opt_str_arg(c.drg, "c.drg")?,
                )
            };
            let case = PointsCase {
                id: String::new(),
                hospital: hospital.unwrap_or("").to_string(),
                hospital_level: level.map(str::to_string),
                drg: drg
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
                total_cost: Some(c.total_cost),
                self_pay: None,
            };
            points::score(&p.policy, &p.weights, &case)
                .map_err(|skip| Failure(DRG_ERROR_ARGUMENT, format!("c.total_cost: {skip}")))
        })();
        match scored {
            Ok(s) => {
                out.category = drg_category::from(s.category);
                out.base_points = s.base_points;
                out.coef = s.coef;
                out.points = s.points;
                DRG_OK
            }
            Err(f) => f.report(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_drg_error_internal_with_a_message() {
        let code = guard(DRG_ERROR_INTERNAL, || -> c_int { panic!("a bug") });
        assert_eq!(code, DRG_ERROR_INTERNAL);
        // SAFETY: drg_last_error returns NULL or this thread's message.
        let message = unsafe { CStr::from_ptr(drg_last_error()) }
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(message, "internal error (please report it): a bug");
        assert_eq!(guard(DRG_ERROR_INTERNAL, || DRG_OK), DRG_OK);
        assert!(drg_last_error().is_null());
    }
}
