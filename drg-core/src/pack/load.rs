//! Reading and compiling a drgpack/1 pack.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;

use super::expr::{self, Names};
use super::*;
use crate::codes::normalize_code;

/// Reads a file of the pack by its path inside the pack; `Ok(None)` when it
/// does not exist.
pub(crate) type ReadFile<'a, 'f> = dyn Fn(&str) -> Result<Option<Cow<'a, str>>, PackError> + 'f;

const PACK_JSON: &str = "pack.json";
const CC: &str = "cc.tsv";
const CC_EXCLUSIONS: &str = "cc_exclusions.tsv";
const OR_PROCEDURES_TSV: &str = "or_procedures.tsv";
const DIAGNOSES: &str = "codes/diagnoses.tsv";
const PROCEDURES: &str = "codes/procedures.tsv";
const DIAGNOSIS_MAP: &str = "codes/diagnosis_map.tsv";
const PROCEDURE_MAP: &str = "codes/procedure_map.tsv";

pub(crate) fn from_dir(dir: &Path) -> Result<Pack, PackError> {
    let shown = dir.display().to_string();
    // Links are followed only while they stay inside the pack (SECURITY.md):
    // every file is resolved and must lie under the pack's own resolved place.
    let root = dir
        .canonicalize()
        .map_err(|e| PackError::new(&shown, format!("cannot open: {e}")))?;
    let read = |name: &str| -> Result<Option<Cow<'static, str>>, PackError> {
        let path = dir.join(name);
        let shown = path.display().to_string();
        let real = match path.canonicalize() {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link is not a missing file: say what it is.
                return match std::fs::symlink_metadata(&path) {
                    Ok(_) => Err(PackError::new(shown, "is a link to nothing (a dangling link)")),
                    Err(_) => Ok(None),
                };
            }
            Err(e) => return Err(PackError::new(shown, format!("cannot open: {e}"))),
        };
        if !real.starts_with(&root) {
            return Err(PackError::new(
                shown,
                format!("is a link that leaves the pack (to {}); a pack reads only its own files", real.display()),
            ));
        }
        let meta = std::fs::metadata(&real).map_err(|e| PackError::new(&shown, format!("cannot open: {e}")))?;
        if !meta.is_file() {
            return Err(PackError::new(shown, "is not a regular file (a directory, device, FIFO or socket); a pack file must be one"));
        }
        let bytes = read_limited(&real, MAX_FILE_BYTES).map_err(|e| PackError::new(&shown, e))?;
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Some(Cow::Owned(s))),
            Err(e) => Err(PackError::new(
                shown,
                format!("not valid UTF-8 (byte {}); pack files are UTF-8", e.utf8_error().valid_up_to()),
            )),
        }
    };
    load(&shown, &read)
}

/// Reads a whole file of at most `limit` bytes; a larger one is refused
/// without reading past the limit (the size is checked again while reading, as
/// a file can grow or lie about its size).
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let too_big = || format!("larger than {} MiB, the limit for a pack file", limit >> 20);
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// The files of a pack being loaded: their names in messages, and reading
/// them (Layout, in specs/rulepack.md).
struct PackFiles<'a, 'r, 'f> {
    label: &'r str,
    read: &'r ReadFile<'a, 'f>,
}

impl<'a> PackFiles<'a, '_, '_> {
    /// The name of a file of the pack in messages: `label/name`.
    fn shown(&self, name: &str) -> String {
        if self.label.ends_with('/') {
            format!("{}{name}", self.label)
        } else {
            format!("{}/{name}", self.label)
        }
    }

    /// A file every drgpack/1 pack has.
    fn required(&self, name: &str) -> Result<Cow<'a, str>, PackError> {
        (self.read)(name)?.ok_or_else(|| PackError::new(self.shown(name), "missing: a drgpack/1 pack must have this file"))
    }

    /// A file a pack may leave out.
    fn optional(&self, name: &str) -> Result<Option<Cow<'a, str>>, PackError> {
        (self.read)(name)
    }
}

/// What pack.json says of the pack itself: `format` (checked), `id`, `name`,
/// `description`, `retry_ungroupable`.
struct Header {
    id: String,
    name: String,
    description: String,
    retry: Retry,
}

/// Loads a pack whose files `read` gives; `label` is the pack's place (a
/// directory) and prefixes file names in messages. The steps follow
/// specs/rulepack.md: pack.json (header, lists, maps, the rules, counts),
/// then the TSV files of the Layout.
pub(crate) fn load<'a>(label: &str, read: &ReadFile<'a, '_>) -> Result<Pack, PackError> {
    let files = PackFiles { label, read };
    let mut b = Builder::default();

    // pack.json first, so that the codes of the lists get the smallest ids and
    // the lists' bit sets stay small.
    let json_file = files.shown(PACK_JSON);
    let json = parse_pack_json(&files.required(PACK_JSON)?, &json_file)?;
    let top = json.as_object().ok_or_else(|| PackError::at(&json_file, "$", "expected a JSON object"))?;
    // A key this loader does not know could be a rule it would silently
    // ignore: every level of pack.json is checked.
    known_keys(top, TOP_KEYS, "$", &json_file)?;
    let header = read_header(top, &json_file)?;
    let mut list_codes = read_lists(top, &json_file, &mut b)?;
    read_maps(top, &json_file, &mut b)?;
    // The operating-room procedures are the list `$or_procedures`.
    list_codes.push((OR_PROCEDURES.into(), read_or_procedures(&files, &mut b)?));
    b.set_lists(list_codes);
    let counts = read_rules(top, &json_file, &mut b)?;
    let warnings = check_counts(top, &json_file, counts)?;
    drop(json);

    let (cc_pairs, excl_pairs) = read_cc(&files, &mut b)?;
    read_vocabularies(&files, &mut b)?;
    let [dx_translation, proc_translation] = read_code_maps(&files, &mut b)?;

    let n = b.codes.len();
    let Header { id, name, description, retry } = header;
    Ok(Pack {
        info: PackInfo { id, name, description, counts, source: label.to_string(), warnings },
        cc: ByCode::build(n, cc_pairs),
        exclusions: ByCode::build(n, excl_pairs),
        codes: b.codes,
        lists: b.lists,
        maps: b.maps,
        tables: b.tables,
        dx_translation,
        proc_translation,
        mdcs: b.mdcs,
        retry,
        grouper_index: GrouperIndex::default(),
    })
}

/// pack.json as JSON; a syntax error names its line and column.
fn parse_pack_json(text: &str, json_file: &str) -> Result<Value, PackError> {
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| PackError::at_line(json_file, e.line() as u64, Some(e.column() as u64), e.to_string()))
}

/// pack.json: `format`, `id`, `name`, `description`, `retry_ungroupable`.
fn read_header(top: &serde_json::Map<String, Value>, json_file: &str) -> Result<Header, PackError> {
    match top.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(PackError::at(json_file, "$.format", format!("unknown format {other}; this loader reads \"{FORMAT}\"")))
        }
        None => return Err(PackError::at(json_file, "$.format", format!("missing; expected \"{FORMAT}\""))),
    }
    let string = |key: &str, required: bool| -> Result<String, PackError> {
        match top.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            None if !required => Ok(String::new()),
            Some(_) => Err(PackError::at(json_file, format!("$.{key}"), "expected a string")),
            None => Err(PackError::at(json_file, format!("$.{key}"), "missing")),
        }
    };
    let (id, name, description) = (string("id", true)?, string("name", false)?, string("description", false)?);
    let retry = match top.get("retry_ungroupable") {
        None => Retry::Never,
        Some(Value::String(s)) if s == "each_other_procedure" => Retry::EachOtherProcedure,
        Some(other) => {
            return Err(PackError::at(
                json_file,
                "$.retry_ungroupable",
                format!("expected \"each_other_procedure\", found {other}"),
            ))
        }
    };
    Ok(Header { id, name, description, retry })
}

/// Each named list with its codes, interned, in pack.json's order.
type ListCodes = Vec<(Box<str>, Vec<CodeId>)>;

/// pack.json `lists`: each named list's codes, interned.
fn read_lists(
    top: &serde_json::Map<String, Value>,
    json_file: &str,
    b: &mut Builder,
) -> Result<ListCodes, PackError> {
    let mut list_codes = Vec::new();
    let lists = match top.get("lists") {
        None => return Ok(list_codes),
        Some(Value::Object(lists)) => lists,
        Some(_) => return Err(PackError::at(json_file, "$.lists", "expected an object of named code lists")),
    };
    for (list_name, items) in lists {
        let at = format!("$.lists[{list_name:?}]");
        let Value::Array(items) = items else {
            return Err(PackError::at(json_file, at, "expected an array of codes"));
        };
        let mut ids = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let code = item
                .as_str()
                .and_then(normalize_code)
                .ok_or_else(|| PackError::at(json_file, format!("{at}[{i}]"), "expected a code string"))?;
            ids.push(b.codes.intern(&code));
        }
        list_codes.push((list_name.as_str().into(), ids));
    }
    Ok(list_codes)
}

/// pack.json `maps`: each named map of code to value.
fn read_maps(top: &serde_json::Map<String, Value>, json_file: &str, b: &mut Builder) -> Result<(), PackError> {
    let maps = match top.get("maps") {
        None => return Ok(()),
        Some(Value::Object(maps)) => maps,
        Some(_) => return Err(PackError::at(json_file, "$.maps", "expected an object of named maps")),
    };
    for (map_name, entries) in maps {
        let at = format!("$.maps[{map_name:?}]");
        let Value::Object(entries) = entries else {
            return Err(PackError::at(json_file, at, "expected an object of code: value"));
        };
        let mut map = ValueMap { name: map_name.as_str().into(), ..Default::default() };
        let mut value_ids: FxHashMap<&str, u32> = FxHashMap::default();
        for (code, value) in entries {
            let entry_at = format!("{at}[{code:?}]");
            let code = normalize_code(code).ok_or_else(|| PackError::at(json_file, &entry_at, "empty code"))?;
            let value = value.as_str().ok_or_else(|| PackError::at(json_file, &entry_at, "expected a string value"))?;
            let next = value_ids.len() as u32;
            let v = *value_ids.entry(value).or_insert_with(|| {
                map.values.push(value.into());
                next
            });
            map.by_code.insert(b.codes.intern(&code), v);
        }
        b.maps.push(map);
    }
    Ok(())
}

/// or_procedures.tsv: the codes of the list `$or_procedures`.
fn read_or_procedures(files: &PackFiles<'_, '_, '_>, b: &mut Builder) -> Result<Vec<CodeId>, PackError> {
    let or_file = files.shown(OR_PROCEDURES_TSV);
    let mut or_ids = Vec::new();
    read_tsv(&files.required(OR_PROCEDURES_TSV)?, &or_file, 2, |line, f| {
        or_ids.push(b.codes.intern(&tsv_code(f[0], &or_file, line)?));
        Ok(())
    })?;
    Ok(or_ids)
}

/// What the rules of pack.json have shown so far, for the checks across
/// MDCs: an MDC code stands once, an ADRG belongs to one MDC, a DRG to one
/// ADRG. Each code is kept with its MDC or ADRG and the path of its first entry.
#[derive(Default)]
struct SeenCodes {
    mdcs: FxHashMap<String, String>,
    adrg_mdc: FxHashMap<String, (String, String)>,
    /// The distinct codes of ADRGs that are not ambiguous (what `counts` counts).
    adrgs: FxHashSet<String>,
    drg_adrg: FxHashMap<String, (String, String)>,
}

/// pack.json `mdcs`: the rules, MDC by MDC in evaluation order; gives what
/// `counts` counts.
fn read_rules(top: &serde_json::Map<String, Value>, json_file: &str, b: &mut Builder) -> Result<Counts, PackError> {
    let mdcs = match top.get("mdcs") {
        Some(Value::Array(mdcs)) => mdcs,
        Some(_) => return Err(PackError::at(json_file, "$.mdcs", "expected an array of MDCs")),
        None => return Err(PackError::at(json_file, "$.mdcs", "missing")),
    };
    let mut seen = SeenCodes::default();
    for (mi, m) in mdcs.iter().enumerate() {
        let mdc = read_mdc(m, &format!("$.mdcs[{mi}]"), json_file, b, &mut seen)?;
        b.mdcs.push(mdc);
    }
    // What `counts` counts (specs/rulepack.md): the distinct MDC codes, the
    // distinct codes of ADRGs that are not ambiguous (QY groups are not ADRGs
    // of the scheme), the distinct DRG codes.
    Ok(Counts { mdc: seen.mdcs.len(), adrg: seen.adrgs.len(), drg: seen.drg_adrg.len() })
}

/// One MDC of pack.json, at `at`, with its ADRGs.
fn read_mdc(m: &Value, at: &str, json_file: &str, b: &Builder, seen: &mut SeenCodes) -> Result<Mdc, PackError> {
    object_keys(m, MDC_KEYS, at, json_file)?;
    let mdc_code = group_code(m, at, json_file)?;
    if let Some(first) = seen.mdcs.insert(mdc_code.clone(), at.to_string()) {
        return Err(PackError::at(
            json_file,
            format!("{at}.code"),
            format!("MDC {mdc_code} is listed twice (first at {first}); an MDC code stands once"),
        ));
    }
    let stop_if_no_adrg = stop_or_continue(m, "if_no_adrg", false, at, json_file)?;
    let when = b.compile(node_field(m, "when", at, json_file)?, &format!("{at}.when"), json_file)?;
    let adrgs = match node_field(m, "adrgs", at, json_file)? {
        Value::Array(a) => a,
        _ => return Err(PackError::at(json_file, format!("{at}.adrgs"), "expected an array of ADRGs")),
    };
    let adrgs = adrgs
        .iter()
        .enumerate()
        .map(|(ai, a)| read_adrg(a, &format!("{at}.adrgs[{ai}]"), &mdc_code, json_file, b, seen))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Mdc {
        name: node_string(m, "name", at, json_file).unwrap_or_default().into(),
        guard: when.guard(),
        when,
        adrgs,
        code: mdc_code.into(),
        stop_if_no_adrg,
    })
}

/// One ADRG of pack.json, at `at` in MDC `mdc_code`, with its DRGs.
fn read_adrg(
    a: &Value,
    at: &str,
    mdc_code: &str,
    json_file: &str,
    b: &Builder,
    seen: &mut SeenCodes,
) -> Result<Adrg, PackError> {
    object_keys(a, ADRG_KEYS, at, json_file)?;
    let adrg_code = group_code(a, at, json_file)?;
    // The same ADRG may stand more than once in its MDC (alternative
    // entry conditions), but never in two MDCs.
    match seen.adrg_mdc.entry(adrg_code.clone()) {
        Entry::Occupied(e) if e.get().0 != mdc_code => {
            return Err(PackError::at(
                json_file,
                format!("{at}.code"),
                format!("ADRG {adrg_code} is already in MDC {} (at {}); an ADRG belongs to one MDC", e.get().0, e.get().1),
            ))
        }
        Entry::Occupied(_) => {}
        Entry::Vacant(v) => {
            v.insert((mdc_code.to_string(), at.to_string()));
        }
    }
    let ambiguous = match a.get("ambiguous") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(PackError::at(json_file, format!("{at}.ambiguous"), "expected true or false")),
    };
    let continue_if_no_drg = !stop_or_continue(a, "if_no_drg", true, at, json_file)?;
    let when = b.compile(node_field(a, "when", at, json_file)?, &format!("{at}.when"), json_file)?;
    let drgs = match a.get("drgs") {
        None if ambiguous => Vec::new(),
        Some(Value::Array(items)) if ambiguous && !items.is_empty() => {
            return Err(PackError::at(
                json_file,
                format!("{at}.drgs"),
                "an ambiguous (QY) ADRG has no DRGs: a case that reaches it is ambiguous, so these would never be used",
            ))
        }
        Some(Value::Array(items)) => read_drgs(items, at, &adrg_code, json_file, b, seen)?,
        Some(_) => return Err(PackError::at(json_file, format!("{at}.drgs"), "expected an array of DRGs")),
        None => return Err(PackError::at(json_file, format!("{at}.drgs"), "missing (only an ambiguous ADRG has no DRGs)")),
    };
    if !ambiguous {
        seen.adrgs.insert(adrg_code.clone());
    }
    Ok(Adrg {
        name: node_string(a, "name", at, json_file).unwrap_or_default().into(),
        code: adrg_code.into(),
        guard: when.guard(),
        when,
        drgs,
        ambiguous,
        continue_if_no_drg,
    })
}

/// The DRGs of the ADRG at `adrg_at` (code `adrg_code`).
fn read_drgs(
    items: &[Value],
    adrg_at: &str,
    adrg_code: &str,
    json_file: &str,
    b: &Builder,
    seen: &mut SeenCodes,
) -> Result<Vec<Drg>, PackError> {
    let mut in_entry: FxHashMap<String, String> = FxHashMap::default();
    let mut drgs = Vec::with_capacity(items.len());
    for (di, d) in items.iter().enumerate() {
        let at = format!("{adrg_at}.drgs[{di}]");
        object_keys(d, DRG_KEYS, &at, json_file)?;
        let drg_code = group_code(d, &at, json_file)?;
        if let Some(first) = in_entry.insert(drg_code.clone(), at.clone()) {
            return Err(PackError::at(
                json_file,
                format!("{at}.code"),
                format!("DRG {drg_code} is listed twice in this ADRG (first at {first})"),
            ));
        }
        let when = b.compile(node_field(d, "when", &at, json_file)?, &format!("{at}.when"), json_file)?;
        match seen.drg_adrg.entry(drg_code.clone()) {
            Entry::Occupied(e) if e.get().0 != adrg_code => {
                return Err(PackError::at(
                    json_file,
                    format!("{at}.code"),
                    format!("DRG {drg_code} is already used by ADRG {} (at {})", e.get().0, e.get().1),
                ))
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(v) => {
                v.insert((adrg_code.to_string(), at.clone()));
            }
        }
        drgs.push(Drg { code: drg_code.into(), name: node_string(d, "name", &at, json_file).unwrap_or_default().into(), when });
    }
    Ok(drgs)
}

/// pack.json `counts`, checked against what was read. It is informative: a
/// difference is a warning, not a refusal.
fn check_counts(top: &serde_json::Map<String, Value>, json_file: &str, counts: Counts) -> Result<Vec<String>, PackError> {
    let mut warnings = Vec::new();
    let declared = match top.get("counts") {
        None => return Ok(warnings),
        Some(Value::Object(declared)) => declared,
        Some(_) => return Err(PackError::at(json_file, "$.counts", "expected an object")),
    };
    known_keys(declared, COUNTS_KEYS, "$.counts", json_file)?;
    for (key, read) in [("mdc", counts.mdc), ("adrg", counts.adrg), ("drg", counts.drg)] {
        match declared.get(key).map(Value::as_u64) {
            None => {}
            Some(Some(n)) if n == read as u64 => {}
            Some(Some(n)) => warnings.push(format!(
                "{json_file} ($.counts.{key}): says {n}, but the pack has {read} distinct {} codes{}",
                key.to_uppercase(),
                if key == "adrg" { " (ambiguous QY entries are not counted)" } else { "" }
            )),
            Some(None) => return Err(PackError::at(json_file, format!("$.counts.{key}"), "expected a whole number")),
        }
    }
    Ok(warnings)
}

/// cc.tsv and cc_exclusions.tsv: each CC/MCC code with its level and
/// exclusion table, and each principal code with the tables it excludes.
#[allow(clippy::type_complexity)]
fn read_cc(files: &PackFiles<'_, '_, '_>, b: &mut Builder) -> Result<(Vec<(CodeId, CcEntry)>, Vec<(CodeId, u32)>), PackError> {
    let cc_file = files.shown(CC);
    let mut cc_pairs = Vec::new();
    read_tsv(&files.required(CC)?, &cc_file, 3, |line, f| {
        let id = b.codes.intern(&tsv_code(f[0], &cc_file, line)?);
        let level = match f[1].trim() {
            "MCC" => CcLevel::Mcc,
            "CC" => CcLevel::Cc,
            other => {
                return Err(PackError::at_line(&cc_file, line as u64, None, format!("level {other:?} is neither MCC nor CC")))
            }
        };
        let table = b.table(f[2]);
        cc_pairs.push((id, CcEntry { level, table }));
        Ok(())
    })?;
    let excl_file = files.shown(CC_EXCLUSIONS);
    let mut excl_pairs = Vec::new();
    read_tsv(&files.required(CC_EXCLUSIONS)?, &excl_file, 2, |line, f| {
        let id = b.codes.intern(&tsv_code(f[0], &excl_file, line)?);
        let table = b.table(f[1]);
        excl_pairs.push((id, table));
        Ok(())
    })?;
    excl_pairs.sort_unstable();
    excl_pairs.dedup();
    Ok((cc_pairs, excl_pairs))
}

/// codes/diagnoses.tsv and codes/procedures.tsv: the scheme's vocabularies.
fn read_vocabularies(files: &PackFiles<'_, '_, '_>, b: &mut Builder) -> Result<(), PackError> {
    for (name, vocabulary) in [(DIAGNOSES, Vocabulary::Diagnosis), (PROCEDURES, Vocabulary::Procedure)] {
        let vocab_file = files.shown(name);
        let text = files.required(name)?;
        read_tsv(&text, &vocab_file, 2, |line, f| {
            let id = b.codes.intern(&tsv_code(f[0], &vocab_file, line)?);
            b.codes.set_name(id, vocabulary, f[1].trim());
            Ok(())
        })?;
    }
    Ok(())
}

/// codes/diagnosis_map.tsv and codes/procedure_map.tsv (optional): legacy-code
/// translation, each chain followed to its end.
fn read_code_maps(files: &PackFiles<'_, '_, '_>, b: &mut Builder) -> Result<[FxHashMap<CodeId, Option<CodeId>>; 2], PackError> {
    let mut translations = [FxHashMap::default(), FxHashMap::default()];
    for (i, name) in [DIAGNOSIS_MAP, PROCEDURE_MAP].into_iter().enumerate() {
        let Some(text) = files.optional(name)? else { continue };
        let map_file = files.shown(name);
        let mut direct: FxHashMap<CodeId, CodeId> = FxHashMap::default();
        read_tsv(&text, &map_file, 2, |line, f| {
            let from = b.codes.intern(&tsv_code(f[0], &map_file, line)?);
            let to = b.codes.intern(&tsv_code(f[1], &map_file, line)?);
            if from != to {
                direct.insert(from, to);
            }
            Ok(())
        })?;
        translations[i] = resolve_chains(&direct);
    }
    Ok(translations)
}

/// Follows `a → b → c` to its end for every code. A code whose chain runs
/// into a cycle maps to `None`: it cannot be translated, and the grouper says
/// so in a warning (the national maps hold such cycles, so refusing the pack
/// would refuse the national scheme).
fn resolve_chains(direct: &FxHashMap<CodeId, CodeId>) -> FxHashMap<CodeId, Option<CodeId>> {
    let mut resolved = FxHashMap::default();
    for &start in direct.keys() {
        let mut seen = vec![start];
        let mut at = start;
        let mut end = None;
        while let Some(&next) = direct.get(&at) {
            if seen.contains(&next) {
                end = None;
                break;
            }
            seen.push(next);
            at = next;
            end = Some(next);
        }
        resolved.insert(start, end);
    }
    resolved
}

#[derive(Default)]
struct Builder {
    codes: CodeTable,
    lists: Lists,
    list_ids: FxHashMap<String, ListId>,
    maps: Vec<ValueMap>,
    tables: Vec<Box<str>>,
    table_ids: FxHashMap<Box<str>, u32>,
    mdcs: Vec<Mdc>,
}

impl Builder {
    fn table(&mut self, name: &str) -> u32 {
        let name = name.trim();
        if let Some(&t) = self.table_ids.get(name) {
            return t;
        }
        let t = self.tables.len() as u32;
        self.tables.push(name.into());
        self.table_ids.insert(name.into(), t);
        t
    }

    fn compile(&self, v: &Value, path: &str, file: &str) -> Result<Expr, PackError> {
        expr::compile(v, path, file, self)
    }

    /// Builds the lists' bit sets and their ids by name.
    fn set_lists(&mut self, list_codes: ListCodes) {
        let names: Vec<String> = list_codes.iter().map(|(n, _)| n.to_string()).collect();
        let (lists, ids) = Lists::build(list_codes);
        self.lists = lists;
        self.list_ids = names.into_iter().zip(ids).collect();
    }
}

impl Names for Builder {
    fn list(&self, name: &str) -> Option<ListId> {
        self.list_ids.get(name).copied()
    }

    fn map(&self, name: &str) -> Option<MapId> {
        self.maps.iter().position(|m| &*m.name == name).map(|i| MapId(i as u32))
    }
}

/// The keys pack.json may have at each level.
const TOP_KEYS: &[&str] =
    &["format", "id", "name", "description", "counts", "mdcs", "lists", "maps", "retry_ungroupable"];
const COUNTS_KEYS: &[&str] = &["mdc", "adrg", "drg"];
const MDC_KEYS: &[&str] = &["code", "name", "when", "adrgs", "if_no_adrg"];
const ADRG_KEYS: &[&str] = &["code", "name", "when", "drgs", "if_no_drg", "ambiguous"];
const DRG_KEYS: &[&str] = &["code", "name", "when"];

/// Refuses a key that is not in `known`, naming its JSON path.
fn known_keys(object: &serde_json::Map<String, Value>, known: &[&str], at: &str, file: &str) -> Result<(), PackError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) => Err(PackError::at(
            file,
            format!("{at}.{key}"),
            format!("unknown key {key:?} (a drgpack/1 loader knows {}); a rule it does not know is refused, not ignored", known.join(", ")),
        )),
    }
}

fn object_keys(node: &Value, known: &[&str], at: &str, file: &str) -> Result<(), PackError> {
    match node {
        Value::Object(o) => known_keys(o, known, at, file),
        _ => Err(PackError::at(file, at, "expected an object")),
    }
}

/// An MDC, ADRG or DRG code: a non-empty string that fits the C ABI's code
/// arrays ([`MAX_CODE_BYTES`]).
fn group_code(node: &Value, at: &str, file: &str) -> Result<String, PackError> {
    let code = node_string(node, "code", at, file)?;
    if code.len() > MAX_CODE_BYTES {
        return Err(PackError::at(
            file,
            format!("{at}.code"),
            format!(
                "code {} is {} bytes long; codes are at most {MAX_CODE_BYTES} bytes (the C interface's DRG_CODE_SIZE - 1)",
                crate::codes::for_message(&code),
                code.len()
            ),
        ));
    }
    Ok(code)
}

/// `if_no_adrg` / `if_no_drg`: whether it says "stop" (`default` when absent).
fn stop_or_continue(node: &Value, key: &str, default: bool, at: &str, file: &str) -> Result<bool, PackError> {
    match node.get(key) {
        None => Ok(default),
        Some(Value::String(s)) if s == "stop" => Ok(true),
        Some(Value::String(s)) if s == "continue" => Ok(false),
        Some(other) => Err(PackError::at(
            file,
            format!("{at}.{key}"),
            format!("expected \"stop\" or \"continue\", found {other}"),
        )),
    }
}

fn node_field<'v>(node: &'v Value, key: &str, at: &str, file: &str) -> Result<&'v Value, PackError> {
    match node {
        Value::Object(o) => o.get(key).ok_or_else(|| PackError::at(file, format!("{at}.{key}"), "missing")),
        _ => Err(PackError::at(file, at, "expected an object")),
    }
}

fn node_string(node: &Value, key: &str, at: &str, file: &str) -> Result<String, PackError> {
    match node_field(node, key, at, file)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(PackError::at(file, format!("{at}.{key}"), "expected a non-empty string")),
    }
}

fn tsv_code<'t>(field: &'t str, file: &str, line: usize) -> Result<Cow<'t, str>, PackError> {
    normalize_code(field).ok_or_else(|| PackError::at_line(file, line as u64, None, "empty code"))
}

/// Reads a TSV file: one header line, then rows of exactly `n_fields`
/// tab-separated fields. Blank lines are skipped; `\r\n` line ends and a BOM
/// are accepted.
fn read_tsv<'t>(
    text: &'t str,
    file: &str,
    n_fields: usize,
    mut row: impl FnMut(usize, &[&'t str]) -> Result<(), PackError>,
) -> Result<(), PackError> {
    let mut fields: Vec<&str> = Vec::with_capacity(n_fields);
    let mut header_seen = false;
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        fields.clear();
        fields.extend(line.split('\t'));
        if fields.len() != n_fields {
            return Err(PackError::at_line(
                file,
                line_no as u64,
                None,
                format!("expected {n_fields} tab-separated fields, found {}", fields.len()),
            ));
        }
        if !header_seen {
            header_seen = true;
            continue;
        }
        row(line_no, &fields)?;
    }
    if !header_seen {
        return Err(PackError::at_line(file, 1, None, "empty: expected a header line"));
    }
    Ok(())
}
