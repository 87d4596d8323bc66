//! Per-diem care through the C ABI (specs/perdiem.md): opening a points
//! handle with the per-diem bed-day points, and scoring a case that may be
//! paid by the bed-day. Existing callers of `drg_points_open` and
//! `drg_points_score` are unchanged.

use std::ffi::c_char;
use std::os::raw::c_int;

use drg_core::points::{self, CareFacts, PointsCase, Policy};

use super::{
    copy_into, drg_category, drg_points, guard, open_handle, opt_str_arg, set_error, str_arg, Failure,
    DRG_CODE_SIZE, DRG_ERROR_ARGUMENT, DRG_ERROR_INTERNAL, DRG_ERROR_NULL, DRG_ERROR_POINTS,
    DRG_OK,
};

/// The version of the C ABI: 2 added per-diem scoring
/// (`drg_points_open_perdiem`, `drg_points_score_stay`,
/// `DRG_CATEGORY_PERDIEM`). A caller built against an older header keeps
/// working unchanged.
pub const DRG_ABI_VERSION: c_int = 2;

/// The ABI version of the library loaded (`DRG_ABI_VERSION` of its header).
#[no_mangle]
pub extern "C" fn drg_abi_version() -> c_int {
    DRG_ABI_VERSION
}

/// One case to score when it may be per-diem: `drg_points_case` plus what
/// decides it (department, principal diagnosis, length of stay).
#[repr(C)]
pub struct drg_points_stay {
    /// The hospital's id (for its own coefficient); may be NULL.
    pub hospital: *const c_char,
    /// The hospital's level ("1", "2", "3"); may be NULL.
    pub hospital_level: *const c_char,
    /// The case's DRG, or NULL / "" when it was not grouped.
    pub drg: *const c_char,
    /// 住院总费用, yuan; must be ≥ 0.
    pub total_cost: f64,
    /// 科室 (exact text, as the policy's `depts`); may be NULL.
    pub dept: *const c_char,
    /// The diagnoses (codes separated by `|`), the first being the principal
    /// diagnosis; may be NULL.
    pub diagnoses: *const c_char,
    /// 住院天数; 0 or less: not a per-diem case.
    pub los_days: i64,
    /// Non-zero when the case is invalid (never per-diem).
    pub invalid: c_int,
}

/// The points of a case that may be per-diem.
#[repr(C)]
pub struct drg_stay_score {
    /// DRG_CATEGORY_PERDIEM for a case paid by the bed-day.
    pub category: drg_category,
    /// For a per-diem case: bed-day points × paid days.
    pub base_points: f64,
    pub coef: f64,
    pub points: f64,
    /// The per-diem category code (e.g. "PSY"), or the DRG priced, or "".
    pub code: [c_char; DRG_CODE_SIZE],
}

/// Opens a points policy with its weights table and per-diem table (the
/// perdiem.csv of `drg points calibrate --perdiem-output`). `perdiem_path`
/// may be NULL only for a policy without `[perdiem]`. NULL on error.
///
/// # Safety
/// Every non-NULL argument must be a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn drg_points_open_perdiem(
    policy_path: *const c_char,
    weights_path: *const c_char,
    perdiem_path: *const c_char,
) -> *mut drg_points {
    // SAFETY: every pointer used below is one this function's "# Safety"
    // requires the caller to pass valid (or NULL where it says so); each is
    // checked for NULL before use.
    unsafe {
        open_handle(|| {
            let policy_path = str_arg(policy_path, "policy_path")?;
            let weights_path = str_arg(weights_path, "weights_path")?;
            let perdiem_path = opt_str_arg(perdiem_path, "perdiem_path")?;
            let policy = Policy::load(policy_path)
                .map_err(Failure::core)?;
            let open = |path: &str| {
                std::fs::File::open(path)
                    .map(std::io::BufReader::new)
                    .map_err(|e| Failure(DRG_ERROR_POINTS, format!("{path}: {e}")))
            };
            let weights = points::read_weights_csv(open(weights_path)?)
                .map_err(|e| Failure::core_in(weights_path, e))?;
            let perdiem = match perdiem_path {
                Some(path) => points::read_perdiem_csv(open(path)?)
                    .map_err(|e| Failure::core_in(path, e))?,
                None if policy.perdiem.is_some() => {
                    return Err(Failure(
                        DRG_ERROR_POINTS,
                        "perdiem_path is NULL but the policy has per-diem categories".into(),
                    ))
                }
                None => Default::default(),
            };
            Ok(drg_points {
                policy,
                weights,
                perdiem,
            })
        })
    }
}

/// Scores a case that may be per-diem into `out`: decides its per-diem
/// category (specs/perdiem.md §1) and scores it by the bed-day, else as
/// `drg_points_score` does. Returns DRG_OK or an error code (NULL pointer,
/// non-UTF-8 string, a negative or non-finite cost) with `drg_last_error()`.
///
/// # Safety
/// `p` must come from `drg_points_open*` and not be closed; `c` and `out`
/// must point to valid structs; the strings of `c` must be NULL or valid
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn drg_points_score_stay(
    p: *const drg_points,
    c: *const drg_points_stay,
    out: *mut drg_stay_score,
) -> c_int {
    // SAFETY: every pointer used below is one this function's "# Safety"
    // requires the caller to pass valid (or NULL where it says so); each is
    // checked for NULL before use.
    unsafe {
        guard(DRG_ERROR_INTERNAL, || {
            let (Some(p), Some(c), Some(out)) = (p.as_ref(), c.as_ref(), out.as_mut()) else {
                set_error("drg_points_score_stay: p, c and out must not be NULL");
                return DRG_ERROR_NULL;
            };
            let scored = (|| -> Result<points::CaseScore, Failure> {
                let case = PointsCase {
                    id: String::new(),
                    hospital: opt_str_arg(c.hospital, "c.hospital")?
                        .unwrap_or("")
                        .to_string(),
                    hospital_level: opt_str_arg(c.hospital_level, "c.hospital_level")?
                        .map(str::to_string),
                    drg: opt_str_arg(c.drg, "c.drg")?
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_string),
                    total_cost: Some(c.total_cost),
                    self_pay: None,
                };
                let facts = CareFacts {
                    invalid: c.invalid != 0,
                    los_days: Some(c.los_days),
                    dept: opt_str_arg(c.dept, "c.dept")?,
                    diagnoses: opt_str_arg(c.diagnoses, "c.diagnoses")?,
                };
                let stay = p.policy.perdiem_stay(&facts);
                points::score_stay(&p.policy, &p.weights, &p.perdiem, &case, stay)
                    .map_err(|skip| Failure(DRG_ERROR_ARGUMENT, format!("c.total_cost: {skip}")))
            })();
            match scored {
                Ok(s) => {
                    out.category = drg_category::from(s.category);
                    out.base_points = s.base_points;
                    out.coef = s.coef;
                    out.points = s.points;
                    if let Err(e) = copy_into(&mut out.code, s.drg.as_deref().unwrap_or(""), false)
                    {
                        return Failure(DRG_ERROR_ARGUMENT, format!("the code: {e}")).report();
                    }
                    DRG_OK
                }
                Err(f) => f.report(),
            }
        })
    }
}
