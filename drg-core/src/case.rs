//! The case record: one inpatient discharge (specs/cases.md, "Case fields").
//!
//! A [`Case`] holds typed values. Raw input (a CSV cell, a JSON value) goes
//! through [`Case::set_field`] or [`Case::set_json_field`], which report a value
//! that cannot be read (an unparsable number, an unknown sex) as a
//! [`FieldError`]. Whether a readable case has what grouping needs (a sex, an
//! age, a diagnosis…) is decided by the grouper, which reports it as an
//! `invalid` result.

use std::fmt;


/// The patient's sex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    /// 男 (`1`, `M`).
    Male,
    /// 女 (`2`, `F`).
    Female,
}

impl Sex {
    /// Reads the spellings a discharge record uses: `1`/`2`, `M`/`F` (any case),
    /// `男`/`女`. Anything else is `None`.
    #[inline]
    pub fn parse(s: &str) -> Option<Sex> {
        // `1` and `2`, nearly every cell of a file, compared as bytes
        // without a call; the other spellings out of line.
        match s.as_bytes() {
            b"1" => Some(Sex::Male),
            b"2" => Some(Sex::Female),
            _ => Self::parse_spelt(s),
        }
    }

    #[inline(never)]
    fn parse_spelt(s: &str) -> Option<Sex> {
        match trim(s) {
            "1" | "M" | "m" | "男" | "１" | "Ｍ" => Some(Sex::Male),
            "2" | "F" | "f" | "女" | "２" | "Ｆ" => Some(Sex::Female),
            _ => None,
        }
    }

    /// `M` or `F`, as rule packs write it.
    pub fn letter(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

/// One discharge. Every field but `id` may be missing (`None` or empty).
///
/// `diagnoses[0]` is the principal diagnosis and `procedures[0]` the principal
/// procedure. Codes may be given in any spelling: the grouper normalises them.
///
/// Build one as a struct, or field by field from text as a file gives it:
///
/// ```
/// use drg_core::{Case, Field, Sex};
///
/// let mut case = Case::default();
/// case.set_field(Field::Id, "A1").unwrap();
/// case.set_field(Field::Sex, "女").unwrap();
/// case.set_field(Field::Diagnoses, "K35.800|E11.900").unwrap();
/// assert_eq!(case.sex, Some(Sex::Female));
/// assert_eq!(case.diagnoses, ["K35.800", "E11.900"]);
///
/// let e = case.set_field(Field::AgeYears, "thirty").unwrap_err();
/// assert_eq!(e.field, "age_years");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    /// The case's id (病案号): required, unique within an input.
    pub id: String,
    /// The hospital (医疗机构).
    pub hospital: Option<String>,
    /// The hospital's level (医院等级), which some policies price by.
    pub hospital_level: Option<String>,
    /// The patient's sex.
    pub sex: Option<Sex>,
    /// Age in whole years.
    pub age_years: Option<i64>,
    /// The whole age in days (32,460 for an 88-year-old).
    pub age_days: Option<i64>,
    /// Birth weight in grams; 0 or less counts as missing.
    pub weight_g: Option<f64>,
    /// Length of stay in days.
    pub los_days: Option<i64>,
    /// 离院方式: `1` 医嘱离院 … `5` 死亡, `9` 其他.
    pub discharge: Option<String>,
    /// The discharging department (出院科别).
    pub dept: Option<String>,
    /// 出院日期, as `YYYY-MM-DD` (see [`parse_date`] for the spellings read).
    pub discharge_date: Option<String>,
    /// Hours in intensive care.
    pub icu_hours: Option<f64>,
    /// Total cost of the stay (总费用), in yuan.
    pub total_cost: Option<f64>,
    /// The part the patient paid (自付), in yuan.
    pub self_pay: Option<f64>,
    /// Diagnosis codes (ICD-10), the principal first.
    pub diagnoses: Vec<String>,
    /// Procedure codes (ICD-9-CM3), the principal first.
    pub procedures: Vec<String>,
}

/// A case is where a row of cases is read (see
/// [`crate::Grouper::read_ahead`]).
impl AsRef<Case> for Case {
    fn as_ref(&self) -> &Case {
        self
    }
}

/// A field whose value cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's cases.md name.
    pub field: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The fields of specs/cases.md, by their column names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `id`.
    Id,
    /// `hospital`.
    Hospital,
    /// `hospital_level`.
    HospitalLevel,
    /// `sex`.
    Sex,
    /// `age_years`.
    AgeYears,
    /// `age_days`.
    AgeDays,
    /// `weight_g`.
    WeightG,
    /// `los_days`.
    LosDays,
    /// `discharge`.
    Discharge,
    /// `dept`.
    Dept,
    /// `discharge_date`.
    DischargeDate,
    /// `icu_hours`.
    IcuHours,
    /// `total_cost`.
    TotalCost,
    /// `self_pay`.
    SelfPay,
    /// `diagnoses`.
    Diagnoses,
    /// `procedures`.
    Procedures,
}

impl Field {
    /// Every field, in cases.md's order.
    pub const ALL: [Field; 16] = [
        Field::Id,
        Field::Hospital,
        Field::HospitalLevel,
        Field::Sex,
        Field::AgeYears,
        Field::AgeDays,
        Field::WeightG,
        Field::LosDays,
        Field::Discharge,
        Field::Dept,
        Field::DischargeDate,
        Field::IcuHours,
        Field::TotalCost,
        Field::SelfPay,
        Field::Diagnoses,
        Field::Procedures,
    ];

    /// The column (or JSON key) name.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Hospital => "hospital",
            Field::HospitalLevel => "hospital_level",
            Field::Sex => "sex",
            Field::AgeYears => "age_years",
            Field::AgeDays => "age_days",
            Field::WeightG => "weight_g",
            Field::LosDays => "los_days",
            Field::Discharge => "discharge",
            Field::Dept => "dept",
            Field::DischargeDate => "discharge_date",
            Field::IcuHours => "icu_hours",
            Field::TotalCost => "total_cost",
            Field::SelfPay => "self_pay",
            Field::Diagnoses => "diagnoses",
            Field::Procedures => "procedures",
        }
    }

    /// The field of a column name; names are exact (specs/cases.md).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl Case {
    /// Sets a field from its text (a CSV cell). An empty text means missing.
    /// Strings already in the case are reused, so parsing row after row into
    /// one case allocates little.
    pub fn set_field(&mut self, field: Field, text: &str) -> Result<(), FieldError> {
        self.set_cell(field, text)
    }

    /// [`Case::set_field`], inlined into the caller: for a reader's loop
    /// over a row's cells (the CSV reader, the Arrow columns of Python),
    /// where one call a cell costs more than most cells' work.
    #[inline(always)]
    pub fn set_cell(&mut self, field: Field, text: &str) -> Result<(), FieldError> {
        let err = |message: String| FieldError { field: field.name(), message };
        #[inline(always)]
        fn set_text(slot: &mut Option<String>, text: &str) {
            let t = trim(text);
            match slot {
                _ if t.is_empty() => *slot = None,
                Some(s) => {
                    s.clear();
                    s.push_str(t);
                }
                None => *slot = Some(t.to_string()),
            }
        }
        match field {
            Field::Id => {
                self.id.clear();
                self.id.push_str(trim(text));
            }
            Field::Hospital => set_text(&mut self.hospital, text),
            // Names (三级甲等, 医嘱离院) become codes; see crate::columns.
            Field::HospitalLevel if !text.is_ascii() => {
                set_text(&mut self.hospital_level, crate::columns::hospital_level_code(text).unwrap_or(text))
            }
            Field::Discharge if !text.is_ascii() => {
                set_text(&mut self.discharge, crate::columns::discharge_code(text).unwrap_or(text))
            }
            Field::HospitalLevel => set_text(&mut self.hospital_level, text),
            Field::Discharge => set_text(&mut self.discharge, text),
            Field::Dept => set_text(&mut self.dept, text),
            Field::DischargeDate => self.discharge_date = parse_date(text).map_err(err)?,
            Field::Sex => {
                self.sex = match Sex::parse(text) {
                    None if trim(text).is_empty() => None,
                    sex => Some(sex.ok_or_else(|| {
                        err(format!("{:?} is not one of 1, 2, M, F, 男, 女", crate::codes::for_message(text.trim())))
                    })?),
                }
            }
            // The plain spelling read here (the common cell), anything else
            // by the general path: the same value or message either way.
            Field::AgeYears => self.age_years = whole_fast(field, text).map_err(err)?,
            Field::AgeDays => self.age_days = whole_fast(field, text).map_err(err)?,
            Field::LosDays => self.los_days = whole_fast(field, text).map_err(err)?,
            Field::WeightG => self.weight_g = number_fast(field, text).map_err(err)?,
            Field::IcuHours => self.icu_hours = number_fast(field, text).map_err(err)?,
            Field::TotalCost => self.total_cost = number_fast(field, text).map_err(err)?,
            Field::SelfPay => self.self_pay = number_fast(field, text).map_err(err)?,
            Field::Diagnoses => set_codes(text, &mut self.diagnoses),
            Field::Procedures => set_codes(text, &mut self.procedures),
        }
        Ok(())
    }

    /// Sets a field from a number, as bindings receive them (a pandas cell, a
    /// JSON number). NaN means missing (pandas' missing value); an infinity is
    /// an error; a fraction in a whole-number field is an error. Text fields
    /// take the number's digits (`3.0` → `"3"`); code fields refuse numbers.
    pub fn set_number(&mut self, field: Field, value: f64) -> Result<(), FieldError> {
        let err = |message: String| FieldError { field: field.name(), message };
        if value.is_nan() {
            return self.set_field(field, "");
        }
        if !value.is_finite() {
            return Err(err(format!("{value} is not a number")));
        }
        // A zero has no sign, as when it is read from text (`-0` is 0).
        let value = value + 0.0;
        let whole = || {
            if value.fract() == 0.0 && value.abs() < 9.0e15 {
                Ok(Some(value as i64))
            } else {
                Err(err(format!("{value} is not a whole number")))
            }
        };
        match field {
            Field::AgeYears => self.age_years = whole()?,
            Field::AgeDays => self.age_days = whole()?,
            Field::LosDays => self.los_days = whole()?,
            Field::WeightG => self.weight_g = Some(value),
            Field::IcuHours => self.icu_hours = Some(value),
            Field::TotalCost => self.total_cost = Some(value),
            Field::SelfPay => self.self_pay = Some(value),
            Field::Diagnoses | Field::Procedures => return Err(err("expected codes, found a number".into())),
            Field::DischargeDate => return Err(err("expected a date such as 2025-03-01, found a number".into())),
            Field::Id | Field::Hospital | Field::HospitalLevel | Field::Sex | Field::Discharge | Field::Dept => {
                let text = if value.fract() == 0.0 && value.abs() < 9.0e15 {
                    (value as i64).to_string()
                } else {
                    value.to_string()
                };
                return self.set_field(field, &text);
            }
        }
        Ok(())
    }

    /// Sets a field from a JSON value: a number, a string holding one, `null`
    /// (missing), or for the code fields an array of strings or a `|`-joined
    /// string.
    pub fn set_json_field(
        &mut self,
        field: Field,
        value: &serde_json::Value,
    ) -> Result<(), FieldError> {
        use serde_json::Value;
        let err = |message: String| FieldError { field: field.name(), message };
        match value {
            Value::Null => self.set_field(field, ""),
            Value::String(s) => self.set_field(field, s),
            Value::Number(n) => match json_number_text(field, n) {
                Some(text) => self.set_field(field, &text),
                None => Err(err("expected an array of codes or a string".into())),
            },
            Value::Array(items) if matches!(field, Field::Diagnoses | Field::Procedures) => {
                let mut codes = Vec::with_capacity(items.len());
                let mut n = 0;
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => n = put_codes(s, &mut codes, n),
                        Value::Null => {}
                        other => {
                            return Err(err(format!(
                                "item {i} is {}, expected a code string",
                                json_kind(other)
                            )))
                        }
                    }
                }
                codes.truncate(n);
                if field == Field::Diagnoses {
                    self.diagnoses = codes;
                } else {
                    self.procedures = codes;
                }
                Ok(())
            }
            other => Err(err(format!("{} is not accepted here", json_kind(other)))),
        }
    }

    /// Reads a case from a JSON object with the field names of specs/cases.md.
    ///
    /// Unknown keys are returned (in key order) so that callers can carry them
    /// through. The first field that cannot be read is the error.
    pub fn from_json_object(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(Case, Vec<(String, serde_json::Value)>), FieldError> {
        let mut case = Case::default();
        let mut extra = Vec::new();
        let mut first_error = None;
        for (key, value) in object {
            match Field::from_name(key) {
                Some(field) => {
                    if let Err(e) = case.set_json_field(field, value) {
                        first_error.get_or_insert(e);
                    }
                }
                None => extra.push((key.clone(), value.clone())),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok((case, extra)),
        }
    }
}

/// A JSON case read straight from its text, without building a
/// `serde_json::Value` first: the common line of a JSONL file or an NDJSON
/// batch (an object of cases.md's names, strings, numbers, arrays of code
/// strings, and unknown lower-case keys). Anything else — a syntax error, a
/// duplicate key, an alias, an escaped key or code, a value a field refuses
/// — is `None`, and the caller reads the line through the `Value` path,
/// which gives the same case for the common line and the messages for the
/// rest.
pub(crate) fn plain_json_case(text: &str) -> Option<(Case, Vec<(String, serde_json::Value)>)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let PlainJsonCase(case, extra) = serde::Deserialize::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some((case, extra))
}

/// See [`plain_json_case`].
struct PlainJsonCase(Case, Vec<(String, serde_json::Value)>);

/// A JSON number as a field's text, as serde_json spells it; `None` for
/// the code fields, which take strings or arrays of strings only.
fn json_number_text(field: Field, n: &serde_json::Number) -> Option<String> {
    (!matches!(field, Field::Diagnoses | Field::Procedures)).then(|| n.to_string())
}

/// The one error of the direct path: "read this line the general way".
fn not_plain<E: serde::de::Error>() -> E {
    E::custom("not a plain case object")
}

impl<'de> serde::Deserialize<'de> for PlainJsonCase {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PlainJsonCaseVisitor)
    }
}

struct PlainJsonCaseVisitor;

impl<'de> serde::de::Visitor<'de> for PlainJsonCaseVisitor {
    type Value = PlainJsonCase;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a case object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<PlainJsonCase, A::Error> {
        let mut case = Case::default();
        let mut extra: Vec<(String, serde_json::Value)> = Vec::new();
        let mut seen = 0u32;
        while let Some(key) = map.next_key::<&'de str>()? {
            match Field::from_name(key) {
                Some(field) => {
                    // A key given twice: the general path keeps the last
                    // value in the first one's place.
                    let bit = 1u32 << field as u32;
                    if seen & bit != 0 {
                        return Err(not_plain());
                    }
                    seen |= bit;
                    map.next_value_seed(JsonFieldSeed { case: &mut case, field })?;
                }
                None => {
                    let plain_key = key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit());
                    if !plain_key || extra.iter().any(|(k, _)| k == key) {
                        return Err(not_plain());
                    }
                    extra.push((key.to_string(), map.next_value()?));
                }
            }
        }
        Ok(PlainJsonCase(case, extra))
    }
}

/// One field's value, set on the case as [`Case::set_json_field`] sets it.
struct JsonFieldSeed<'c> {
    case: &'c mut Case,
    field: Field,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonFieldSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl JsonFieldSeed<'_> {
    fn set<E: serde::de::Error>(self, text: &str) -> Result<(), E> {
        self.case.set_field(self.field, text).map_err(|_| not_plain())
    }

    /// A number, as [`Case::set_json_field`] takes it.
    fn set_number<E: serde::de::Error>(self, n: serde_json::Number) -> Result<(), E> {
        let text = json_number_text(self.field, &n).ok_or_else(not_plain)?;
        self.set(&text)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonFieldSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a case field")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.set("")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.set(v)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.set(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.set_number(v.into())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.set_number(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.set_number(serde_json::Number::from_f64(v).ok_or_else(not_plain)?)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let list = match self.field {
            Field::Diagnoses => &mut self.case.diagnoses,
            Field::Procedures => &mut self.case.procedures,
            _ => return Err(not_plain()),
        };
        let mut n = 0;
        // An escaped code is not a borrowed string: it takes the general path.
        while let Some(item) = seq.next_element::<Option<&'de str>>()? {
            if let Some(text) = item {
                n = put_codes(text, list, n);
            }
        }
        release_codes(list, n);
        Ok(())
    }
}

/// [`crate::codes::split_codes_into`], with the common field read from its bytes: an ASCII
/// field is split at `|`, `,` and `;` and each item checked for canonical
/// form in the same pass, eight bytes at a time; an item already in
/// canonical form is copied as it is (the general path decodes characters
/// for the full-width separators, which an ASCII field cannot hold).
fn set_codes(text: &str, out: &mut Vec<String>) {
    let n = put_codes(text, out, 0);
    release_codes(out, n);
}

/// The most code strings a thread keeps for reuse (a few cases' worth).
const SPARE_CODES: usize = 256;

thread_local! {
    /// Code strings dropped from a case's lists on this thread, for the next
    /// case read here: the number of codes changes from row to row, and a
    /// list that grows again takes these back instead of allocating (one
    /// allocation and one free a code, else).
    static SPARE: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Shortens `out` to `n` codes, keeping the strings dropped for reuse.
fn release_codes(out: &mut Vec<String>, n: usize) {
    if out.len() > n {
        SPARE.with_borrow_mut(|spare| {
            // One string at a time, the last first (their order does not
            // matter): cheaper than a drain for the few codes a row drops.
            while out.len() > n && spare.len() < SPARE_CODES {
                if let Some(code) = out.pop() {
                    spare.push(code);
                }
            }
        });
        out.truncate(n);
    }
}

/// `code` as a new string, in a spare one's memory when there is one.
fn new_code(code: &str) -> String {
    match SPARE.with_borrow_mut(Vec::pop) {
        Some(mut spare) => {
            spare.clear();
            spare.push_str(code);
            spare
        }
        None => code.to_string(),
    }
}

/// The codes of `text` written into `out` from slot `n` on, reusing the
/// slots' memory; the number of slots then used.
///
/// An ASCII field is read eight bytes at a time: in each word the bytes that
/// are not plain (see [`plain_bytes`]) are found at once, and only those are
/// looked at one by one (a separator ends an item; an `x`, `X` or other byte
/// decides whether the item is canonical). A field with a non-ASCII byte
/// takes the general path, from slot `n` again.
fn put_codes(text: &str, out: &mut Vec<String>, n: usize) -> usize {
    use crate::io::{word_at, HIGH_BITS};
    let bytes = text.as_bytes();
    let first = n;
    let mut n = n;
    // The current item's first byte, and whether it is canonical so far.
    let mut start = 0;
    let mut canonical = true;
    let mut base = 0;
    while base < bytes.len() {
        let (word, valid) = word_at(bytes, base);
        if word & HIGH_BITS != 0 {
            n = first;
            crate::codes::split_codes(text).iter().for_each(|code| put_at(out, &mut n, code));
            return n;
        }
        let mut special = !plain_bytes(word) & valid;
        while special != 0 {
            let at = base + (special.trailing_zeros() / 8) as usize;
            special &= special - 1;
            match BYTE_CLASS[bytes[at] as usize] {
                ByteClass::Separator => {
                    put_code(&text[start..at], canonical, out, &mut n);
                    start = at + 1;
                    canonical = true;
                }
                // The first byte of an item counts as following a `+`.
                class => canonical &= x_is_canonical(class, if at == start { b'+' } else { bytes[at - 1] }),
            }
        }
        base += 8;
    }
    put_code(&text[start..], canonical, out, &mut n);
    n
}

/// Bit 7 of each byte of `word` (of ASCII bytes) that is plain for
/// [`BYTE_CLASS`] (digits, `.`, upper-case letters but `X`), nearly all the
/// bytes of a code; `+` and `*` are not flagged here, and are looked up.
#[inline(always)]
fn plain_bytes(word: u64) -> u64 {
    use crate::io::{bytes_equal, bytes_within};
    let digits = bytes_within(word, b'0', b'9') | bytes_equal(word, b'.');
    let letters = bytes_within(word, b'A', b'Z') & !bytes_equal(word, b'X');
    digits | letters
}

/// One item of an ASCII code field: as it is when canonical, else
/// normalised (and dropped when nothing of a code is left).
#[inline(always)]
fn put_code(item: &str, canonical: bool, out: &mut Vec<String>, n: &mut usize) {
    if canonical && !item.is_empty() {
        put_at(out, n, item);
    } else {
        put_normalized(item, out, n);
    }
}

/// [`put_code`] for an item not in canonical form (or empty).
#[inline(never)]
fn put_normalized(item: &str, out: &mut Vec<String>, n: &mut usize) {
    if let Some(code) = crate::codes::normalize_code(item) {
        put_at(out, n, &code);
    }
}

/// `code` written into slot `n` of `out` (reusing its memory), and `n`
/// moved on.
#[inline(always)]
fn put_at(out: &mut Vec<String>, n: &mut usize, code: &str) {
    match out.get_mut(*n) {
        Some(slot) => {
            slot.clear();
            slot.push_str(code);
        }
        None => out.push(new_code(code)),
    }
    *n += 1;
}

/// What a byte of an ASCII code field is, for [`put_codes`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum ByteClass {
    /// Upper-case letters but X, digits, `.`, `+`, `*`.
    Plain,
    /// `|`, `,` or `;`: ends an item.
    Separator,
    /// `x`: canonical as the extension marker, not after a `+`.
    LowerX,
    /// `X`: canonical first or after a `+` only.
    UpperX,
    /// Anything else: the item needs normalising.
    Other,
}

const BYTE_CLASS: [ByteClass; 256] = {
    let mut t = [ByteClass::Other; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'A'..=b'W' | b'Y' | b'Z' | b'0'..=b'9' | b'.' | b'+' | b'*' => ByteClass::Plain,
            b'|' | b',' | b';' => ByteClass::Separator,
            b'x' => ByteClass::LowerX,
            b'X' => ByteClass::UpperX,
            _ => ByteClass::Other,
        };
        b += 1;
    }
    t
};

/// Whether a byte of class `x`, `X` or other is canonical after `prev`
/// in an ASCII code: `x` as the extension marker, not after a `+`; `X`
/// first or after a `+` only. With the plain bytes, an item made only of
/// such bytes, not empty, is in canonical form (what `normalize_code`
/// would return unchanged).
#[inline]
fn x_is_canonical(class: ByteClass, prev: u8) -> bool {
    match class {
        ByteClass::LowerX => prev != b'+',
        ByteClass::UpperX => prev == b'+',
        ByteClass::Plain => true,
        ByteClass::Separator | ByteClass::Other => false,
    }
}

/// `str::trim`, without looking up Unicode's whitespace when the text
/// starts and ends with a visible ASCII character, as nearly every cell
/// does: neither end is then whitespace.
#[inline]
pub(crate) fn trim(text: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| (0x21..0x7f).contains(&b));
    let bytes = text.as_bytes();
    if bytes.is_empty() || (visible(bytes.first()) && visible(bytes.last())) {
        text
    } else {
        text.trim()
    }
}

/// The id of a JSON case object as text, even when the case cannot be read
/// (so that its `invalid` result still carries it); empty without one.
pub fn json_id(object: &serde_json::Map<String, serde_json::Value>) -> String {
    match object.get("id") {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// What a JSON value is, for messages ("a string", "an array"…).
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a number: half-width or full-width digits, an optional sign and
/// decimal point. Empty means missing; `NaN`, infinities and anything else are
/// errors. A zero has no sign: `-0` and `-0.00` read as 0, so that nothing
/// derived from the cell is written `-0`.
pub fn parse_number(text: &str) -> Result<Option<f64>, String> {
    let t = trim(text);
    if t.is_empty() {
        return Ok(None);
    }
    let half: String;
    let t = if t.is_ascii() {
        t
    } else {
        half = t
            .chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '。' => '.',
                _ => c,
            })
            .collect();
        half.trim()
    };
    let ok_chars = t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    match t.parse::<f64>() {
        // Adding +0 turns -0 into +0 and leaves every other value as it is.
        Ok(v) if ok_chars && v.is_finite() => Ok(Some(v + 0.0)),
        _ => Err(format!("{:?} is not a number", crate::codes::for_message(text.trim()))),
    }
}

/// Reads a date as `YYYY-MM-DD`. Accepted: `YYYY-MM-DD`, `YYYY/MM/DD`,
/// `YYYYMMDD` and `YYYY年M月D日` (one- or two-digit month and day in the
/// separated forms), each optionally followed by a time after a space or `T`
/// (`2025-03-01 08:30:00`), which is dropped. Empty means missing; a date
/// that does not exist (`2025-02-30`) is an error.
///
/// ```
/// use drg_core::case::parse_date;
/// assert_eq!(parse_date("2025/3/1 08:30").unwrap().as_deref(), Some("2025-03-01"));
/// assert_eq!(parse_date("2024年2月29日").unwrap().as_deref(), Some("2024-02-29"));
/// assert!(parse_date("2025-02-29").is_err());
/// ```
pub fn parse_date(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || format!("{:?} is not a date (YYYY-MM-DD)", crate::codes::for_message(t));
    // The date part: up to a time, if any.
    let date = match t.find([' ', 'T']) {
        Some(i) if t[i..].trim_start_matches([' ', 'T']).starts_with(|c: char| c.is_ascii_digit()) => &t[..i],
        Some(_) => return Err(bad()),
        None => t,
    };
    let parts: Vec<&str> = if let Some(rest) = date.strip_suffix('日') {
        rest.split(['年', '月']).collect()
    } else if date.contains('-') {
        date.split('-').collect()
    } else if date.contains('/') {
        date.split('/').collect()
    } else if date.len() == 8 && date.is_ascii() {
        vec![&date[..4], &date[4..6], &date[6..]]
    } else {
        return Err(bad());
    };
    let [y, m, d] = parts[..] else { return Err(bad()) };
    let number = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(y, 4).filter(|_| y.len() == 4), number(m, 2), number(d, 2)) else {
        return Err(bad());
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > days_in_month {
        return Err(format!("{:?} does not exist", crate::codes::for_message(t)));
    }
    Ok(Some(format!("{year:04}-{month:02}-{day:02}")))
}

/// A number cell: its plain spelling (and an empty cell) read inline, as
/// nearly every cell is written; anything else by [`number_as_written`].
#[inline(always)]
fn number_fast(field: Field, text: &str) -> Result<Option<f64>, String> {
    match plain_decimal(text) {
        Some(value) => Ok(Some(value)),
        None if text.is_empty() => Ok(None),
        None => number_as_written(field, text),
    }
}

/// [`number_fast`] for a whole number.
#[inline(always)]
fn whole_fast(field: Field, text: &str) -> Result<Option<i64>, String> {
    match plain_whole(text) {
        Some(whole) => Ok(Some(whole)),
        None if text.is_empty() => Ok(None),
        None => whole_of(number_as_written(field, text)?, text),
    }
}

/// A number as exports write it, the general path of [`number_fast`] and
/// [`whole_fast`] (any spelling, the plain one too): as [`parse_number`]
/// reads it, else with thousands separators and the field's unit
/// (`12,345.60`, `5天`; specs/columns.md). Out of line: few cells get here.
#[inline(never)]
fn number_as_written(field: Field, text: &str) -> Result<Option<f64>, String> {
    parse_number(text).or_else(|e| crate::columns::lenient_number(field, text).map(Some).ok_or(e))
}

/// A number read from `text` as a whole number: an error for a fraction.
fn whole_of(value: Option<f64>, text: &str) -> Result<Option<i64>, String> {
    match value {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(Some(v as i64)),
        Some(_) => Err(format!("{:?} is not a whole number", crate::codes::for_message(text.trim()))),
    }
}

/// The common spelling of a number, read from its bytes: ASCII digits, an
/// optional leading `-`, at most 15 digits (exact as an `f64`, so the value
/// is the one [`parse_number`] gives). Anything else is `None`, for the
/// general path.
#[inline]
fn plain_whole(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        bytes => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut value = 0i64;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        value = value * 10 + d as i64;
    }
    Some(if negative { -value } else { value })
}

/// [`plain_whole`] with an optional fraction (`68226.06`): at most 15
/// digits in all, so that the digits are exact as an `f64` and dividing by a
/// power of ten (exact too) rounds once, to the value `str::parse` gives.
/// One pass over the bytes: the digits as one whole number, and where the
/// point is.
#[inline]
fn plain_decimal(text: &str) -> Option<f64> {
    const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let (negative, body) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        bytes => (false, bytes),
    };
    // 15 digits and a point at most.
    if body.len() > 16 {
        return None;
    }
    let mut digits = 0u64;
    let mut point = usize::MAX;
    for (at, &b) in body.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d <= 9 {
            digits = digits * 10 + d as u64;
        } else if b == b'.' && point == usize::MAX {
            point = at;
        } else {
            return None;
        }
    }
    if point == usize::MAX {
        // As `plain_whole`: `-0` is 0.
        if body.is_empty() || body.len() > 15 {
            return None;
        }
        let whole = digits as i64;
        return Some(if negative { -whole } else { whole } as f64);
    }
    // `12.` and `.5` and `-.5` take the general path.
    let fraction = body.len() - point - 1;
    if point == 0 || fraction == 0 {
        return None;
    }
    let magnitude = digits as f64 / POWERS[fraction];
    // `-0.00` is 0, as `parse_number` reads it: adding +0 drops the sign of
    // a zero only.
    Some(if negative { -magnitude } else { magnitude } + 0.0)
}

/// Reads a whole number (`30`, `30.0`; not `30.5`).
pub fn parse_whole(text: &str) -> Result<Option<i64>, String> {
    whole_of(parse_number(text)?, text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    proptest! {
        /// The shortcut of `trim` changes nothing: it is `str::trim`.
        #[test]
        fn trim_is_str_trim(text in "[ a1\t\u{3000}\u{a0}\u{feff}x,é]{0,6}") {
            prop_assert_eq!(super::trim(&text), text.trim());
        }
    }

    #[test]
    fn sex_spellings() {
        for s in ["1", "M", "m", "男", " 1 "] {
            assert_eq!(Sex::parse(s), Some(Sex::Male), "{s}");
        }
        for s in ["2", "F", "f", "女"] {
            assert_eq!(Sex::parse(s), Some(Sex::Female), "{s}");
        }
        for s in ["0", "3", "", "male", "9"] {
            assert_eq!(Sex::parse(s), None, "{s}");
        }
        // A sex cell reads as `Sex::parse` reads it (`1` and `2` on a path
        // of their own), blank as missing.
        for s in ["1", "2", " 1", "2 ", "12", "M", "女", "１", "", " ", "\u{3000}", "0", "x"] {
            let mut case = Case { sex: Some(Sex::Female), ..Case::default() };
            match case.set_field(Field::Sex, s) {
                Ok(()) if s.trim().is_empty() => assert_eq!(case.sex, None, "{s:?}"),
                Ok(()) => assert_eq!(case.sex, Sex::parse(s), "{s:?}"),
                Err(e) => assert_eq!((Sex::parse(s), e.field), (None, "sex"), "{s:?}"),
            }
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("30").unwrap(), Some(30.0));
        assert_eq!(parse_number(" 1500.5 ").unwrap(), Some(1500.5));
        assert_eq!(parse_number("３０").unwrap(), Some(30.0));
        assert_eq!(parse_number("").unwrap(), None);
        assert_eq!(parse_number("-1").unwrap(), Some(-1.0));
        assert!(parse_number("abc").is_err());
        assert!(parse_number("NaN").is_err());
        assert!(parse_number("inf").is_err());
        assert!(parse_number("1e999").is_err());
        assert_eq!(parse_whole("30.0").unwrap(), Some(30));
        assert!(parse_whole("30.5").is_err());
    }

    #[test]
    fn plain_numbers_read_from_bytes_agree_with_the_general_path() {
        for t in ["0", "7", "30", "-1", "-0", "000123", "999999999999999", "1234567890123456", "12.5", "+3", "-", "", " 3", "3 ", "1e3", "３"] {
            let general_whole = match parse_number(t) {
                Ok(Some(v)) if v.fract() == 0.0 && v.abs() < 9.0e15 => Some(v as i64),
                _ => None,
            };
            if let Some(fast) = plain_whole(t) {
                assert_eq!(Some(fast), general_whole, "{t}");
            }
        }
        for t in ["68226.06", "0.1", "-0.5", "-0.0", "10464.36", "2350.8", "1.000000000000", "99999999999999.9", "0.000000000000001", "12.", ".5", "-.5", "1.-5", "1.+5", "1..2", "1.2.3", "-1.25", "123456789012.345", "1234567890123.4567"] {
            let general = parse_number(t).ok().flatten();
            if let Some(fast) = plain_decimal(t) {
                assert_eq!(Some(fast.to_bits()), general.map(f64::to_bits), "{t}");
            }
        }
        assert_eq!(plain_decimal("68226.06"), Some(68226.06));
        assert_eq!(plain_whole("1234567890123456"), None, "16 digits take the general path");
        assert_eq!(number_as_written(Field::TotalCost, "12345").unwrap(), Some(12345.0));
        assert_eq!(number_as_written(Field::TotalCost, "12345.67").unwrap(), Some(12345.67));
    }

    /// A zero has no sign however it is written and whichever path reads it
    /// (a cost of `-0` once read as +0 inline and -0 by the general path).
    #[test]
    fn zeros_read_without_a_sign_on_every_path() {
        for t in ["-0", "-0.0", "-0.00", "0", "0.0", "-00", " -0 ", "－０", "-0e3", "-0,000.00", "-0元"] {
            let fast = number_fast(Field::TotalCost, t).unwrap().unwrap_or_else(|| panic!("{t:?} is read"));
            let general = number_as_written(Field::TotalCost, t).unwrap().unwrap();
            assert_eq!(fast.to_bits(), 0.0f64.to_bits(), "{t:?} inline");
            assert_eq!(general.to_bits(), 0.0f64.to_bits(), "{t:?} in general");
        }
        assert_eq!(parse_number("-0.5").unwrap(), Some(-0.5), "only a zero loses its sign");
        // A number from a binding (a pandas cell) too.
        let mut case = Case::default();
        case.set_number(Field::TotalCost, -0.0).unwrap();
        case.set_number(Field::Id, -0.0).unwrap();
        assert_eq!((case.total_cost.map(f64::to_bits), case.id.as_str()), (Some(0), "0"));
    }

    /// `plain_decimal` as it was before it read the bytes in one pass: the
    /// reference the one-pass reading must equal, bit for bit.
    fn two_pass_plain_decimal(text: &str) -> Option<f64> {
        const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
        let Some(dot) = text.bytes().position(|b| b == b'.') else {
            return plain_whole(text).map(|v| v as f64);
        };
        let (whole, fraction) = (&text[..dot], &text[dot + 1..]);
        if fraction.is_empty() || whole.is_empty() || whole == "-" || fraction.starts_with(['-', '+']) {
            return None;
        }
        let negative = whole.starts_with('-');
        let digits = whole.len() - negative as usize + fraction.len();
        if digits > 15 {
            return None;
        }
        let w = plain_whole(whole)?;
        let f = plain_whole(fraction)?;
        let scale = POWERS[fraction.len()];
        let magnitude = (w.abs() as f64 * scale + f as f64) / scale;
        // The one change since: a zero has no sign (`-0.0` is 0).
        Some(if negative { -magnitude } else { magnitude } + 0.0)
    }

    proptest! {
        /// The one-pass `plain_decimal` gives the bits the two-pass one
        /// gave and the number `parse_number` gives, reads every plain
        /// spelling, and
        /// the inline number paths of `set_cell` give what the general
        /// path, which has no shortcut, gives (value or message).
        #[test]
        fn plain_decimals_agree_with_the_general_path(
            text in "-?[0-9]{0,9}[.]?[0-9]{0,9}|[-+0-9.e ]{0,6}|-?[0-9]{1,8}[.][0-9]{1,7}",
        ) {
            prop_assert_eq!(plain_decimal(&text).map(f64::to_bits), two_pass_plain_decimal(&text).map(f64::to_bits), "{:?}", text);
            if let Some(fast) = plain_decimal(&text) {
                // The same number (`-0` reads as 0 here, as it always has:
                // the sign of a zero is not kept).
                let general = parse_number(&text).ok().flatten();
                prop_assert_eq!(Some(fast), general, "{:?}", text);
            }
            let bits = |r: Result<Option<f64>, String>| r.map(|v| v.map(f64::to_bits));
            prop_assert_eq!(bits(number_fast(Field::TotalCost, &text)), bits(number_as_written(Field::TotalCost, &text)), "{:?}", text);
            let general_whole = number_as_written(Field::LosDays, &text).and_then(|v| whole_of(v, &text));
            prop_assert_eq!(whole_fast(Field::LosDays, &text), general_whole, "{:?}", text);
            let plain = text.strip_prefix('-').unwrap_or(&text);
            let digits = plain.bytes().filter(u8::is_ascii_digit).count();
            let shape = match plain.split_once('.') {
                Some((w, f)) => !w.is_empty() && !f.is_empty() && w.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit()),
                None => !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_digit()),
            };
            if shape && digits <= 15 {
                prop_assert!(plain_decimal(&text).is_some(), "{:?} takes the fast path", text);
            }
        }
    }

    #[test]
    fn plain_json_cases_read_as_the_value_path_reads_them() {
        let plain = [
            r#"{"id": "C1", "hospital": "H004", "hospital_level": "2", "sex": "1", "age_years": 4, "age_days": 1792, "los_days": 6, "discharge": "1", "total_cost": 68226.06, "self_pay": 6523.57, "diagnoses": ["G70.900", "D69.802", "q87.800x902|A04.800x001"], "procedures": ["71.7900x001"]}"#,
            r#"{"id":7,"sex":"女","age_years":"0","age_days":3,"weight_g":1800.5,"diagnoses":"P07.100|P59.900","dept":"NICU","ward":"3B","note":{"a":[1,2]}}"#,
            r#"{"id":"x","sex":2,"age_years":30.0,"diagnoses":["Ｋ３５．８００", null, "I10,E11.900"],"procedures":null,"total_cost":1e3,"self_pay":-0,"los_days":-1}"#,
            r#"{"id":"y","sex":"M","age_years":1e2,"diagnoses":[],"hospital_level":"三级甲等","discharge":"医嘱离院","discharge_date":"2025-03-01"}"#,
            r#"{}"#,
        ];
        for text in plain {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let general = Case::from_json_object(value.as_object().unwrap());
            assert_eq!(plain_json_case(text), Some(general.unwrap()), "{text}");
        }
        // What the direct path leaves to the general one, for its messages
        // or its rules.
        for text in [
            r#"{"id":"1","id":"2"}"#,
            r#"{"ward":1,"ward":2}"#,
            r#"{"病案号":"1"}"#,
            r#"{"Age":"1"}"#,
            r#"{"age_years":true}"#,
            r#"{"age_years":"x"}"#,
            r#"{"diagnoses":5}"#,
            r#"{"diagnoses":[5]}"#,
            r#"{"sex":[1]}"#,
            r#"{"diagnoses":["K35\u002e800"]}"#,
            r#"{"id":"1"} x"#,
            r#"{"id":"1""#,
            r#"[{"id":"1"}]"#,
            r#""id""#,
        ] {
            assert_eq!(plain_json_case(text), None, "{text}");
        }
    }

    proptest! {
        /// The byte loop of `put_codes` splits and normalises as the
        /// general path does, whatever the mix of separators, cases, `x`
        /// markers, signs and non-code bytes; and a list that shrinks or
        /// grows from row to row keeps no stale code.
        #[test]
        fn code_fields_read_from_bytes_as_split_codes_reads_them(
            fields in proptest::collection::vec("[A-Za-z0-9xX.+*|,;\\- \t、Ｋ]{0,24}", 1..5),
        ) {
            let mut fast = Vec::new();
            for field in &fields {
                set_codes(field, &mut fast);
                prop_assert_eq!(&fast, &crate::codes::split_codes(field), "{:?}", field);
            }
        }
    }

    /// A code field of awkward items: canonical codes, lower case, `x`
    /// markers after a `+` or not, spaces and tabs, empty items, items longer
    /// than two words, after a first item of any length (so that the items
    /// fall at every offset in an 8-byte word), and now and then a
    /// full-width separator or a non-ASCII byte.
    fn awkward_code_field() -> impl Strategy<Value = String> {
        let item = prop_oneof![
            4 => proptest::sample::select(vec!["G70.900", "Q87.800x902", "A04.800x001", "71.7900x001", "M20.508", "K35.800X001", "54.4+X15", "54.4+x15", "A18.3+H32.0*", "x59.900", "X59.900", "XA00", "d48.900x014", " I10 ", "\tI10", "-", "", "Q87.800x902Q87.800x902Q87.800x902"]).prop_map(String::from),
            3 => "[A-Z0-9.x]{0,20}",
            3 => "[A-Za-z0-9xX.+* \t\\-/:@_]{0,24}",
        ];
        let sep = proptest::sample::select(vec!["|", "|", "|", ",", ";", "||", "｜", "，", "；", "、", "Ｋ"]);
        ("[A-Z0-9.]{0,9}", proptest::collection::vec((sep, item), 0..7)).prop_map(|(first, rest)| {
            let mut field = first;
            for (sep, item) in rest {
                field.push_str(sep);
                field.push_str(&item);
            }
            field
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The word-at-a-time reading of `put_codes` gives the codes of
        /// `split_codes`, from any slot on, over lists of any earlier length.
        #[test]
        fn awkward_code_fields_read_as_split_codes_reads_them(
            fields in proptest::collection::vec(awkward_code_field(), 1..5),
            ascii_only in proptest::bool::ANY,
        ) {
            let mut fast = Vec::new();
            for field in &fields {
                let field: String = if ascii_only { field.chars().filter(char::is_ascii).collect() } else { field.clone() };
                set_codes(&field, &mut fast);
                prop_assert_eq!(&fast, &crate::codes::split_codes(&field), "{:?}", field);
                // From a later slot, as a JSON list's second string is read.
                let mut list = vec!["old".to_string(); 3];
                let n = put_codes(&field, &mut list, 1);
                release_codes(&mut list, n);
                prop_assert_eq!(&list[1..], &crate::codes::split_codes(&field)[..], "{:?}", field);
            }
        }
    }

    #[test]
    fn ascii_code_lists_split_as_the_general_path_does() {
        let mut fast = vec!["old".to_string(); 9];
        for field in ["", "-", "K35.800", "k35.800||I10.X05;-,,e11.900 ", "|", "A00,B00;C00|D00", " x59.900 | 54.4X15 ", "K35.800、I10", "Ｋ３５．８００|I10", "K35.800X001|X59.900|xA00|54.4+X15|54.4+x15", "+X|X+X|d48.900x014+h36.8*|*|.|+", "K35.800\u{200b}|\tI10 |A-1"] {
            set_codes(field, &mut fast);
            assert_eq!(fast, crate::codes::split_codes(field), "{field:?}");
        }
    }

    #[test]
    fn infinities_and_nan_do_not_parse_in_any_spelling() {
        for t in ["inf", "-inf", "+inf", "Infinity", "INF", "nan", "NaN", "-nan", "1e400", "-1e400", "ｉｎｆ"] {
            assert!(parse_number(t).is_err(), "{t}");
            assert!(parse_whole(t).is_err(), "{t}");
            let mut c = Case::default();
            assert!(c.set_field(Field::AgeYears, t).is_err(), "{t}");
            assert!(c.set_field(Field::WeightG, t).is_err(), "{t}");
        }
        let mut c = Case::default();
        assert!(c.set_json_field(Field::LosDays, &json!("Infinity")).is_err());
    }

    #[test]
    fn discharge_dates() {
        for (text, date) in [
            ("2025-03-01", "2025-03-01"),
            ("2025-3-1", "2025-03-01"),
            ("2025/03/01", "2025-03-01"),
            ("20250301", "2025-03-01"),
            ("2025年3月1日", "2025-03-01"),
            ("2025年03月01日", "2025-03-01"),
            ("2025-03-01 08:30:00", "2025-03-01"),
            ("2025-03-01T08:30", "2025-03-01"),
            (" 2024-02-29 ", "2024-02-29"),
            ("2000-02-29", "2000-02-29"),
        ] {
            assert_eq!(parse_date(text).unwrap().as_deref(), Some(date), "{text}");
        }
        assert_eq!(parse_date("").unwrap(), None);
        for text in ["2025-02-29", "1900-02-29", "2025-13-01", "2025-04-31", "2025-00-10", "2025-01-00", "25-03-01",
                     "2025-03", "2025.03.01", "20250230", "2025031", "2025-03-01 later", "tomorrow", "2025-03-01-02", "２０２５-03-01"] {
            assert!(parse_date(text).is_err(), "{text}");
        }
        let mut c = Case::default();
        c.set_field(Field::DischargeDate, "2025/3/1").unwrap();
        assert_eq!(c.discharge_date.as_deref(), Some("2025-03-01"));
        let e = c.set_field(Field::DischargeDate, "2025-02-30").unwrap_err();
        assert_eq!(e.to_string(), "discharge_date: \"2025-02-30\" does not exist");
        c.set_field(Field::DischargeDate, "").unwrap();
        assert_eq!(c.discharge_date, None, "optional");
        assert_eq!(Field::from_name("discharge_date"), Some(Field::DischargeDate));
    }

    #[test]
    fn text_fields() {
        let mut c = Case::default();
        c.set_field(Field::Sex, "女").unwrap();
        c.set_field(Field::AgeYears, "0").unwrap();
        c.set_field(Field::Diagnoses, "p07.100|q21.1、-").unwrap();
        assert_eq!(c.sex, Some(Sex::Female));
        assert_eq!(c.age_years, Some(0));
        assert_eq!(c.diagnoses, vec!["P07.100", "Q21.1"]);
        let e = c.set_field(Field::Sex, "3").unwrap_err();
        assert_eq!(e.field, "sex");
        let e = c.set_field(Field::LosDays, "x").unwrap_err();
        assert_eq!(e.to_string(), "los_days: \"x\" is not a number");
    }

    #[test]
    fn numbers_from_bindings() {
        let mut c = Case::default();
        c.set_number(Field::AgeYears, 30.0).unwrap();
        c.set_number(Field::Sex, 2.0).unwrap();
        c.set_number(Field::Id, 12345.0).unwrap();
        c.set_number(Field::WeightG, f64::NAN).unwrap();
        c.set_number(Field::TotalCost, 1234.5).unwrap();
        assert_eq!((c.age_years, c.sex, c.id.as_str(), c.weight_g, c.total_cost), (Some(30), Some(Sex::Female), "12345", None, Some(1234.5)));
        c.set_number(Field::AgeYears, f64::NAN).unwrap();
        assert_eq!(c.age_years, None, "NaN is missing");
        assert!(c.set_number(Field::AgeYears, 30.5).is_err());
        assert!(c.set_number(Field::LosDays, f64::INFINITY).is_err());
        assert!(c.set_number(Field::Sex, 3.0).is_err());
        assert!(c.set_number(Field::Diagnoses, 1.0).is_err());
    }

    #[test]
    fn json_objects() {
        let v = json!({"id": "1", "sex": 1, "age_years": "30", "weight_g": null,
                       "diagnoses": ["k35.800", "I10.X05"], "procedures": "47.0901|-",
                       "ward": "3B"});
        let (c, extra) = Case::from_json_object(v.as_object().unwrap()).unwrap();
        assert_eq!(c.id, "1");
        assert_eq!(c.sex, Some(Sex::Male));
        assert_eq!(c.age_years, Some(30));
        assert_eq!(c.weight_g, None);
        assert_eq!(c.diagnoses, vec!["K35.800", "I10.x05"]);
        assert_eq!(c.procedures, vec!["47.0901"]);
        assert_eq!(extra, vec![("ward".to_string(), json!("3B"))]);

        let bad = json!({"id": "2", "age_years": true});
        let e = Case::from_json_object(bad.as_object().unwrap()).unwrap_err();
        assert_eq!(e.field, "age_years");
        let bad = json!({"id": "3", "diagnoses": [1]});
        assert!(Case::from_json_object(bad.as_object().unwrap()).is_err());
    }
}
