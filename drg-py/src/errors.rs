//! The one place Rust errors become Python exceptions.
//!
//! The classes are defined in Python (`drg/errors.py`: `DrgError` and its
//! subclasses, two of which are also `ValueError`s, which a native class
//! cannot be); this module imports them. `PackError::new_err(…)`,
//! `CaseError::new_err(…)` and `PointsError::new_err(…)` keep working for
//! code written before the hierarchy (they are the same classes as
//! `PackError`, `InputError` and `PolicyError`).

use pyo3::prelude::*;

pyo3::import_exception!(drg.errors, DrgError);
pyo3::import_exception!(drg.errors, InputError);
pyo3::import_exception!(drg.errors, PackError);
pyo3::import_exception!(drg.errors, PolicyError);
pyo3::import_exception!(drg.errors, DipError);
pyo3::import_exception!(drg.errors, InternalError);
pyo3::import_exception!(drg.errors, CaseError);
pyo3::import_exception!(drg.errors, PointsError);

/// Bad input: cases, columns, frames.
pub fn input(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// The one place a drg-core error becomes a Python exception: the class
/// from the error's kind, the message unchanged.
pub fn core(e: impl Into<drg_core::Error>) -> PyErr {
    use drg_core::ErrorKind;
    let e = e.into();
    let message = e.to_string();
    match e.kind() {
        ErrorKind::Pack => PackError::new_err(message),
        ErrorKind::Input => InputError::new_err(message),
        ErrorKind::Policy => PolicyError::new_err(message),
        ErrorKind::Dip => DipError::new_err(message),
        _ => DrgError::new_err(message),
    }
}

/// A rule pack that cannot be loaded (through [`core`]).
pub fn pack(e: impl Into<drg_core::Error>) -> PyErr {
    core(e)
}

/// A points policy, weights table or point-calculation step that cannot be
/// used (through [`core`]).
pub fn policy(e: impl Into<drg_core::Error>) -> PyErr {
    core(e)
}

/// Runs the body of an entry point; a Rust panic in it (on this thread or on
/// the threads drg starts for it) becomes `drg.InternalError` instead of
/// pyo3's `PanicException` (a `BaseException` that `except Exception` does
/// not catch), and prints nothing on standard error.
pub fn guard<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match drg_core::panic::catch_quietly(body) {
        Ok(result) => result,
        Err(what) => Err(InternalError::new_err(format!("internal error in drg (please report it): {what}"))),
    }
}
