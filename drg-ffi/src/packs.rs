//! The bundled rule packs in C: their list, and opening the default pack.

use std::ffi::c_int;
use std::ptr;

use super::*;

/// The rule packs bundled with the library, as a newly allocated JSON array:
/// `[{"id": "chs-drg-2.0", "name": …, "description": …, "counts": {"mdc": …,
/// "adrg": …, "drg": …}, "provenance": …, "default": true}, …]`, the
/// national schemes first. Each opens by its id with `drg_grouper_open`.
/// They are conversions, not official releases (see "notice"). Free it with
/// `drg_string_free`. NULL on error.
#[no_mangle]
pub extern "C" fn drg_packs_json() -> *mut c_char {
    guard(ptr::null_mut(), || {
        let packs: Vec<serde_json::Value> = drg_packs::bundled()
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id, "name": p.name, "description": p.description,
                    "counts": {"mdc": p.counts.mdc, "adrg": p.counts.adrg, "drg": p.counts.drg},
                    "provenance": p.provenance,
                    "default": p.id == drg_packs::DEFAULT_PACK,
                })
            })
            .collect();
        to_c_string(serde_json::Value::Array(packs).to_string())
    })
}

/// The attribution of the bundled packs (rulepacks/NOTICE.md: converted from
/// OpenDRG, Apache License 2.0). A static string.
#[no_mangle]
pub extern "C" fn drg_packs_notice() -> *const c_char {
    concat!(include_str!("../../rulepacks/NOTICE.md"), "\0").as_ptr().cast()
}

/// Opens the default pack: `$DRG_PACK` (an id or a path), else
/// "chs-drg-2.0", the national scheme in force. `translate_codes` as for
/// `drg_grouper_open_with`. NULL on error.
#[no_mangle]
pub extern "C" fn drg_grouper_open_default(translate_codes: c_int) -> *mut drg_grouper {
    guard(ptr::null_mut(), || match drg_packs::open_or_default(None) {
        Ok(pack) => Box::into_raw(Box::new(new_grouper(pack, translate_codes != 0))),
        Err(e) => {
            Failure::core(e).report();
            ptr::null_mut()
        }
    })
}
