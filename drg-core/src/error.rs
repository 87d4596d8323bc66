//! One error type for everything drg-core refuses.
//!
//! Each module keeps its own precise error (a [`PackError`] names the file
//! and the place in it, a [`ScoresCsvError`] the line, …), and each converts
//! into [`Error`], the one type a caller that handles them all matches on.
//! [`Error::kind`] sorts them into the few kinds a shell maps to its own
//! codes (the CLI's exit code, the C ABI's `DRG_ERROR_*`, the Python
//! exception class), each in one place; [`Error::file`], [`Error::line`] and
//! [`Error::key`] give the place as data, never as text to parse.
//!
//! ```
//! use drg_core::{Error, ErrorKind, Pack};
//!
//! let dir = std::env::temp_dir().join(format!("drg-doc-error-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("pack.json"), "{\n  \"format\": \"drgpack/1\",\n  oops\n}").unwrap();
//! let error = Error::from(Pack::open(&dir).unwrap_err());
//! assert_eq!(error.kind(), ErrorKind::Pack);
//! assert!(error.file().unwrap().ends_with("pack.json"));
//! assert_eq!(error.line(), Some(3));
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fmt;

use crate::case::FieldError;
use crate::columns::ColumnsError;
use crate::dip::{CatalogueError, DipError};
use crate::io::InputError;
use crate::pack::{Location, PackError};
use crate::points::{PointsError, PolicyError, ScoresCsvError, WeightsCsvError};
use crate::report::ReportInputError;

/// Anything drg-core refuses: each variant holds the precise error of the
/// module that refused, with its file, line, field or key as fields.
///
/// The message (`Display`) is the module error's own, unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule pack that cannot be loaded (file and place in it).
    #[error(transparent)]
    Pack(#[from] PackError),
    /// An input of cases that cannot be read as a whole.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A field of a case whose value cannot be read.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A header or column map that cannot be read unambiguously.
    #[error(transparent)]
    Columns(#[from] ColumnsError),
    /// Cases that cannot be read for a report.
    #[error(transparent)]
    ReportInput(#[from] ReportInputError),
    /// A points or DIP policy that cannot be used (the file is a field).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A point-calculation step that cannot be done at all.
    #[error(transparent)]
    Points(#[from] PointsError),
    /// A weights table that cannot be read (the line is a field).
    #[error(transparent)]
    WeightsCsv(#[from] WeightsCsvError),
    /// An assessment-scores file that cannot be read (the line is a field).
    #[error(transparent)]
    ScoresCsv(#[from] ScoresCsvError),
    /// A DIP catalogue that cannot be read (the line is a field).
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// A DIP step that cannot be done at all.
    #[error(transparent)]
    Dip(#[from] DipError),
    /// An error of a file the caller opened and read (a weights table, a
    /// catalogue): the file is a field, the error of its content the source.
    #[error("{file}: {source}")]
    InFile {
        /// The file, as the caller named it.
        file: String,
        /// What is wrong in it.
        source: Box<Error>,
    },
}

/// What kind of thing was refused: the few classes a shell maps to its own
/// codes (exit codes, `DRG_ERROR_*`, Python exception classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A rule pack (or its compiled form) that cannot be loaded.
    Pack,
    /// Cases, columns or a column map that cannot be read.
    Input,
    /// A points policy, weights table, scores file or point-calculation step.
    Policy,
    /// A DIP catalogue or DIP step (a DIP policy is a [`ErrorKind::Policy`]).
    Dip,
}

impl ErrorKind {
    /// A short lowercase name: `pack`, `input`, `policy`, `dip`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Pack => "pack",
            ErrorKind::Input => "input",
            ErrorKind::Policy => "policy",
            ErrorKind::Dip => "dip",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The kind of thing refused.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Pack(_) => ErrorKind::Pack,
            Error::Input(_) | Error::Field(_) | Error::Columns(_) | Error::ReportInput(_) => {
                ErrorKind::Input
            }
            Error::Policy(_) | Error::Points(_) | Error::WeightsCsv(_) | Error::ScoresCsv(_) => ErrorKind::Policy,
            Error::Catalogue(_) | Error::Dip(_) => ErrorKind::Dip,
            Error::InFile { source, .. } => source.kind(),
        }
    }

    /// The file to blame, when the error names one: a pack's file, a policy's
    /// file, a column map's file, a workbook.
    pub fn file(&self) -> Option<&str> {
        match self {
            Error::Pack(e) => Some(&e.file),
            Error::Input(e) | Error::ReportInput(ReportInputError::Input(e)) => e.file(),
            Error::Policy(e) => Some(&e.source_name),
            Error::Columns(e) => e.file.as_deref(),
            Error::InFile { file, .. } => Some(file),
            _ => None,
        }
    }

    /// The line of the file to blame (1 is the first line, a CSV's header).
    pub fn line(&self) -> Option<u64> {
        match self {
            Error::Pack(e) => e.line(),
            Error::WeightsCsv(e) => e.line,
            Error::ScoresCsv(e) => e.line,
            Error::Catalogue(e) => e.line,
            Error::Input(e) | Error::ReportInput(ReportInputError::Input(e)) => e.line(),
            Error::InFile { source, .. } => source.line(),
            _ => None,
        }
    }

    /// The key or field to blame: a JSON path in pack.json
    /// (`$.mdcs[3].when`), a case field (`age_years`), a column-map key
    /// (`columns.id`).
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Pack(e) => match &e.location {
                Some(Location::Key(key)) => Some(key),
                _ => None,
            },
            Error::Field(e) => Some(e.field),
            Error::Columns(e) => e.key.as_deref(),
            Error::InFile { source, .. } => source.key(),
            _ => None,
        }
    }

    /// The error blamed on a file the caller opened: its message becomes
    /// `file: message`, and [`Error::file`] gives the file.
    ///
    /// ```
    /// use drg_core::{Error, ErrorKind};
    ///
    /// let weights = drg_core::points::read_weights_csv("drg,n\n".as_bytes()).unwrap_err();
    /// let e = Error::from(weights).in_file("weights.csv");
    /// assert_eq!(e.kind(), ErrorKind::Policy);
    /// assert_eq!((e.file(), e.line()), (Some("weights.csv"), Some(1)));
    /// assert!(e.to_string().starts_with("weights.csv: line 1: no column"));
    /// ```
    pub fn in_file(self, file: impl Into<String>) -> Error {
        Error::InFile { file: file.into(), source: Box::new(self) }
    }
}
