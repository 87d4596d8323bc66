//! DIP (specs/dip.md) through the C ABI: open a catalogue with its policy and
//! pack, then group and score one case at a time, as a struct or as JSON.
//! A `drg_dip` is immutable once open and safe to share between threads.

use std::ffi::{c_char, c_int};
use std::ptr;
use std::sync::Arc;

use drg_core::dip::{self, Dip, DipError, DipPolicy, DipStatus, KeyMaker};
use drg_core::{Case, Pack};

use crate::{
    copy_into, drg_case, drg_category, guard, open_handle, opt_str_arg, read_case, set_error, str_arg,
    to_c_string, Failure, DRG_ERROR_JSON, DRG_ERROR_NULL, DRG_OK, DRG_REASON_SIZE,
};

/// The DIP policy or catalogue could not be loaded.
pub const DRG_ERROR_DIP: c_int = 11;
/// Room for a DIP group code with its NUL in `drg_dip_result`; a longer code
/// (a core group of many procedures) is an error of `drg_dip_group`, and
/// whole in `drg_dip_group_json`.
pub const DRG_DIP_GROUP_SIZE: usize = 256;

/// A DIP catalogue with its policy and pack. Opaque; immutable and thread-safe.
pub struct drg_dip {
    dip: Dip,
}

/// How a case was grouped into a DIP catalogue.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum drg_dip_status {
    /// Its combination (principal diagnosis × procedures) is a core group.
    DRG_DIP_CORE = 0,
    /// It fell into its comprehensive group (diagnosis category × treatment).
    DRG_DIP_COMPREHENSIVE = 1,
    /// Neither group is priced.
    DRG_DIP_UNGROUPED = 2,
    /// The case lacks what grouping needs.
    DRG_DIP_INVALID = 3,
}

/// One discharge for DIP: the case and what scoring needs.
#[repr(C)]
pub struct drg_dip_case {
    /// The discharge (id, sex, ages, codes…), as for `drg_group`.
    pub base: drg_case,
    /// The hospital's id (for its own coefficient); may be NULL.
    pub hospital: *const c_char,
    /// The hospital's level ("1", "2", "3"); may be NULL.
    pub hospital_level: *const c_char,
    /// 住院总费用, yuan. A case whose cost is not above 0 is grouped but not
    /// scored (`scored` is 0).
    pub total_cost: f64,
}

/// The DIP group and points of one case.
#[repr(C)]
pub struct drg_dip_result {
    pub status: drg_dip_status,
    /// The group's code (`K35.8:47.0901`, `K35#S`), empty when none.
    pub group: [c_char; DRG_DIP_GROUP_SIZE],
    /// 0, 1 or 2 (CC/MCC); -1 for an invalid case.
    pub severity: c_int,
    /// 1 when the case was scored (its total_cost is above 0), else 0 and
    /// the fields below are 0.
    pub scored: c_int,
    pub category: drg_category,
    /// The adjusted score (分值 × severity coefficient); 0 when ungrouped.
    pub score: f64,
    /// The hospital coefficient; 1 when ungrouped.
    pub coef: f64,
    pub points: f64,
    /// Why the case is invalid; empty otherwise.
    pub reason: [c_char; DRG_REASON_SIZE],
}

/// Opens a DIP policy (TOML), a catalogue (the catalogue.csv of `drg dip
/// build`, or a region's published one) and a rule pack (a directory or a
/// compiled pack file; NULL for the built-in demo pack). NULL on error, with
/// `drg_last_error()` naming the file and place.
#[no_mangle]
pub unsafe extern "C" fn drg_dip_open(
    policy_path: *const c_char,
    catalogue_path: *const c_char,
    pack_path: *const c_char,
) -> *mut drg_dip {
    // SAFETY: every pointer used below is one this function's "# Safety"
    // requires the caller to pass valid (or NULL where it says so); each is
    // checked for NULL before use.
    unsafe {
        open_handle(|| {
            let policy_path = str_arg(policy_path, "policy_path")?;
            let catalogue_path = str_arg(catalogue_path, "catalogue_path")?;
            let pack = match opt_str_arg(pack_path, "pack_path")? {
                Some(p) => Pack::open(p).map_err(Failure::core)?,
                None => Pack::demo(),
            };
            let policy = DipPolicy::load(policy_path).map_err(|e| Failure::core(DipError::Policy(e)))?;
            let file = std::fs::File::open(catalogue_path)
                .map_err(|e| Failure(DRG_ERROR_DIP, format!("{catalogue_path}: {e}")))?;
            let catalogue = dip::read_catalogue_csv(std::io::BufReader::new(file))
                .map_err(|e| Failure::core_in(catalogue_path, e))?;
            let keys = KeyMaker::new(Arc::new(pack), &policy);
            Ok(drg_dip { dip: Dip::new(policy, keys, catalogue) })
        })
    }
}

/// Closes a DIP handle. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn drg_dip_close(d: *mut drg_dip) {
    // SAFETY: every pointer used below is one this function's "# Safety"
    // requires the caller to pass valid (or NULL where it says so); each is
    // checked for NULL before use.
    unsafe {
        if !d.is_null() {
            guard((), || drop(Box::from_raw(d)));
        }
    }
}

fn clear(out: &mut drg_dip_result) {
    out.status = drg_dip_status::DRG_DIP_INVALID;
    out.group[0] = 0;
    out.severity = -1;
    out.scored = 0;
    out.category = drg_category::DRG_CATEGORY_UNGROUPED;
    out.score = 0.0;
    out.coef = 0.0;
    out.points = 0.0;
    out.reason[0] = 0;
}

/// Groups and scores one case into `out`. A case that lacks what grouping
/// needs is a result (`DRG_DIP_INVALID` with its reason), not an error.
/// Returns DRG_OK or an error code (a NULL pointer, a non-UTF-8 string).
#[no_mangle]
pub unsafe extern "C" fn drg_dip_group(
    d: *const drg_dip,
    c: *const drg_dip_case,
    out: *mut drg_dip_result,
) -> c_int {
    // SAFETY: every pointer used below is one this function's "# Safety"
    // requires the caller to pass valid (or NULL where it says so); each is
    // checked for NULL before use.
    unsafe {
        guard(crate::DRG_ERROR_INTERNAL, || {
            let (Some(d), Some(c), Some(out)) = (d.as_ref(), c.as_ref(), out.as_mut()) else {
                set_error("drg_dip_group: d, c and out must not be NULL");
                return DRG_ERROR_NULL;
            };
            clear(out);
            // The case (or why it is invalid), its hospital and level.
            type Read<'a> = (Result<Case, String>, Option<&'a str>, Option<&'a str>);
            let read = (|| -> Result<Read<'_>, Failure> {
                Ok((
                    read_case(&c.base)?,
                    opt_str_arg(c.hospital, "c.hospital")?,
                    opt_str_arg(c.hospital_level, "c.hospital_level")?,
                ))
            })();
            let (case, hospital, level) = match read {
                Ok(r) => r,
                Err(f) => return f.report(),
            };
            let mut case = match case {
                Ok(case) => case,
                Err(reason) => {
                    let _ = copy_into(&mut out.reason, &reason, true);
                    return DRG_OK;
                }
            };
            case.hospital = hospital.map(str::to_string);
            case.hospital_level = level.map(str::to_string);
            case.total_cost = Some(c.total_cost);
            let (g, s) = d.dip.group_and_score(&case);
            out.status = match g.status {
                DipStatus::Core => drg_dip_status::DRG_DIP_CORE,
                DipStatus::Comprehensive => drg_dip_status::DRG_DIP_COMPREHENSIVE,
                DipStatus::Ungrouped => drg_dip_status::DRG_DIP_UNGROUPED,
                DipStatus::Invalid => drg_dip_status::DRG_DIP_INVALID,
            };
            if let Err(e) = copy_into(&mut out.group, g.group_code(), false) {
                clear(out);
                return Failure(
                    crate::DRG_ERROR_ARGUMENT,
                    format!("group code {e}: use drg_dip_group_json"),
                )
                .report();
            }
            out.severity = g.severity.map_or(-1, c_int::from);
            let _ = copy_into(&mut out.reason, g.reason.as_deref().unwrap_or(""), true);
            if let Some(s) = s {
                out.scored = 1;
                out.category = drg_category::from(s.category);
                out.score = s.score;
                out.coef = s.coef;
                out.points = s.points;
            }
            DRG_OK
        })
    }
}

/// Groups, scores and explains one case given as a JSON object (the field
/// names of specs/cases.md, with `hospital`, `hospital_level` and
/// `total_cost`). Returns a newly allocated JSON object: `id`, `status`,
/// `group`, `severity`, `reason`, `keys` (dx4, dx3, procedures, treatment,
/// core and comprehensive keys, the secondary diagnosis that set the
/// severity), `score` (category, score, coef, ratio, points; null without a
/// cost above 0) and `explain` (lines of text). Free it with
/// `drg_string_free`. NULL on error.
#[no_mangle]
pub unsafe extern "C" fn drg_dip_group_json(
    d: *const drg_dip,
    case_json: *const c_char,
) -> *mut c_char {
    // SAFETY: every pointer used below is one this function's "# Safety"
    // requires the caller to pass valid (or NULL where it says so); each is
    // checked for NULL before use.
    unsafe {
        guard(ptr::null_mut(), || {
            let done = (|| -> Result<String, Failure> {
                let d = d
                    .as_ref()
                    .ok_or_else(|| Failure(DRG_ERROR_NULL, "d is NULL".into()))?;
                let text = str_arg(case_json, "case_json")?;
                let value: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| Failure(DRG_ERROR_JSON, format!("case_json: {e}")))?;
                let object = value.as_object().ok_or_else(|| {
                    Failure(DRG_ERROR_JSON, "case_json is not a JSON object".into())
                })?;
                let json = match Case::from_json_object(object) {
                    Ok((case, _)) => d.dip.explain(&case).to_json(&case.id),
                    Err(e) => serde_json::json!({
                        "id": drg_core::case::json_id(object), "status": "invalid", "group": null,
                        "severity": null, "reason": e.to_string(), "keys": null, "score": null, "explain": [],
                    }),
                };
                Ok(json.to_string())
            })();
            match done {
                Ok(s) => to_c_string(s),
                Err(f) => {
                    f.report();
                    ptr::null_mut()
                }
            }
        })
    }
}
