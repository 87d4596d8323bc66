//! # drg-core
//!
//! The engine of drg: groups inpatient discharges into CHS-DRG groups
//! (MDC → ADRG → DRG) from rule packs that hold each scheme as data.
//!
//! ```
//! use std::sync::Arc;
//! use drg_core::{Case, Grouper, Pack, Sex, Status};
//!
//! let grouper = Grouper::new(Arc::new(Pack::demo()));
//! let case = Case {
//!     id: "1".into(),
//!     sex: Some(Sex::Male),
//!     age_years: Some(30),
//!     diagnoses: vec!["k35.800".into(), "E11.900".into()],
//!     procedures: vec!["47.0901".into()],
//!     ..Case::default()
//! };
//! let result = grouper.group(&case);
//! assert_eq!(result.status, Status::Grouped);
//! assert_eq!(result.drg, Some("GC23"));
//! ```
//!
//! - [`codes`]: ICD code normalisation.
//! - [`pack`]: loading and compiling drgpack/1 rule packs.
//! - [`Grouper`]: grouping, with an explain trail on request.
//! - [`io`]: reading cases from CSV and JSON.
//! - [`points`]: DRG points: calibration, case scoring, settlement.
//! - [`report`]: DRG indicators (CMI, cost and time index, low-risk mortality, RIV).
//! - [`dip`]: DIP (按病种分值付费): catalogue, grouping, scoring, settlement.
//! - [`diff`]: what a change of scheme does to cases (`drg pack diff`).
//! - [`Error`]: every error, with its file, line or key as fields.
//! - [`ids`]: the duplicate-id check, for any number of rows.

#![warn(missing_docs)]

pub mod case;
pub mod codes;
pub mod dip;
mod demo;
pub mod error;
pub mod diff;
pub mod grouper;
pub mod ids;
pub mod columns;
pub mod io;
pub mod parallel;
pub mod read;
pub mod xlsx;
pub mod pack;
pub mod panic;
pub mod points;
pub mod report;

pub use case::{Case, Field, FieldError, Sex};
pub use error::{Error, ErrorKind};
pub use grouper::{GroupOptions, GroupResult, Grouper, Status, TraceStep};
pub use pack::{Pack, PackError, PackInfo, Vocabulary};

/// The library's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
