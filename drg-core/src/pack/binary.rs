//! Compiled packs: a whole pack in one versioned, checksummed file.
//!
//! ```text
//! offset  size  what
//!      0     8  magic "DRGPACK\0"
//!      8     4  format version (little endian), FILE_VERSION
//!     12     4  CRC-32 of the payload
//!     16     8  payload length in bytes
//!     24     …  payload
//! ```
//!
//! The payload is the compiled pack as it is in memory: interned codes and
//! names as contiguous text with offsets, list rows, CC tables, maps and the
//! expression trees. All integers are little endian; a string is its length
//! (u32) and UTF-8 bytes; a sequence is its length (u32) and its items.
//! Reading checks every length against what is left, so a damaged file is
//! refused, never a crash.

use rustc_hash::FxHashMap;

use super::*;

const MAGIC: &[u8; 8] = b"DRGPACK\0";
/// The version of the payload layout; bumped whenever it changes. Version 2
/// added `if_no_adrg` and `retry_ungroupable`; a file of version 1 is refused
/// with a message to compile the pack again.
pub const FILE_VERSION: u32 = 2;
const HEADER_LEN: usize = 24;

/// Whether `bytes` begin like a compiled pack (to tell a file from a directory's
/// pack.json, say).
pub(crate) fn looks_compiled(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

pub(crate) fn encode(pack: &Pack) -> Vec<u8> {
    let mut e = Enc(Vec::with_capacity(8 << 20));
    pack.write(&mut e);
    let payload = e.0;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FILE_VERSION.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Reads a compiled pack; `file` names it in messages and becomes its source.
pub(crate) fn decode(bytes: &[u8], file: &str) -> Result<Pack, PackError> {
    let fail = |message: String| PackError::new(file, message);
    if !bytes.starts_with(MAGIC) {
        return Err(fail("not a compiled drg pack (no DRGPACK header); give a pack directory or a file of `drg pack compile`".into()));
    }
    if bytes.len() < HEADER_LEN {
        return Err(fail(format!("truncated: {} bytes, shorter than the header", bytes.len())));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FILE_VERSION {
        return Err(fail(format!(
            "compiled with pack file format {version}; this drg reads format {FILE_VERSION}: compile the pack again with this drg (`drg pack compile`)"
        )));
    }
    let checksum = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    let length = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let payload = &bytes[HEADER_LEN..];
    if (payload.len() as u64) < length {
        return Err(fail(format!("truncated: the header says {length} bytes of data, the file has {}", payload.len())));
    }
    if (payload.len() as u64) > length {
        return Err(fail(format!("{} bytes after the end of the data", payload.len() as u64 - length)));
    }
    if crc32fast::hash(payload) != checksum {
        return Err(fail("corrupted: the checksum does not match the data".into()));
    }
    let mut d = Dec { buf: payload, pos: 0 };
    let mut pack = Pack::read(&mut d).map_err(|e| fail(format!("corrupted: {e} (at byte {} of the data)", d.pos)))?;
    if d.pos != payload.len() {
        return Err(fail("corrupted: data left after the pack".into()));
    }
    pack.info.source = file.to_string();
    Ok(pack)
}

struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("fewer than 2^32 items"));
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn u32s(&mut self, v: &[u32]) {
        self.len(v.len());
        for &x in v {
            self.u32(x);
        }
    }
    fn u64s(&mut self, v: &[u64]) {
        self.len(v.len());
        for &x in v {
            self.u64(x);
        }
    }
    fn strs<S: AsRef<str>>(&mut self, v: &[S]) {
        self.len(v.len());
        for s in v {
            self.str(s.as_ref());
        }
    }
}

struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

type DecResult<T> = Result<T, String>;

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> DecResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or("unexpected end of data")?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }
    fn u8(&mut self) -> DecResult<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> DecResult<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> DecResult<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn f64(&mut self) -> DecResult<f64> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn bool(&mut self) -> DecResult<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("{other} is not a boolean")),
        }
    }
    /// A length of items of at least `min_size` bytes each, checked against
    /// what is left (so a damaged length cannot ask for a huge allocation).
    fn len(&mut self, min_size: usize) -> DecResult<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size.max(1)) > self.buf.len() - self.pos {
            return Err(format!("a length of {n} runs past the end"));
        }
        Ok(n)
    }
    fn str(&mut self) -> DecResult<&'a str> {
        let n = self.len(1)?;
        std::str::from_utf8(self.take(n)?).map_err(|_| "a string is not UTF-8".to_string())
    }
    fn boxed(&mut self) -> DecResult<Box<str>> {
        Ok(self.str()?.into())
    }
    fn u32s(&mut self) -> DecResult<Vec<u32>> {
        let n = self.len(4)?;
        Ok(self.take(n * 4)?.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4"))).collect())
    }
    fn u64s(&mut self) -> DecResult<Vec<u64>> {
        let n = self.len(8)?;
        Ok(self.take(n * 8)?.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8"))).collect())
    }
    fn strs(&mut self) -> DecResult<Vec<Box<str>>> {
        let n = self.len(4)?;
        (0..n).map(|_| self.boxed()).collect()
    }
}

/// Checks that an index read from the file is below `bound`.
fn below(v: u32, bound: usize, what: &str) -> DecResult<u32> {
    if (v as usize) < bound {
        Ok(v)
    } else {
        Err(format!("{what} {v} is out of range (< {bound})"))
    }
}

/// A translation table (codes/diagnosis_map.tsv or procedure_map.tsv, resolved).
type Translation = FxHashMap<CodeId, Option<CodeId>>;

/// The compiled file holds the parts of a pack in the order of
/// specs/rulepack.md's Layout: what pack.json says of the pack, the codes
/// and their names, the lists and maps, cc.tsv and cc_exclusions.tsv, the
/// code maps, the rules, and the retry rule of Evaluation step 3.
impl Pack {
    fn write(&self, e: &mut Enc) {
        write_info(e, &self.info);
        write_codes(e, &self.codes);
        e.strs(&self.lists.names);
        e.u64(self.lists.width as u64);
        e.u64s(&self.lists.rows);
        write_maps(e, &self.maps);
        self.write_cc(e);
        for t in [&self.dx_translation, &self.proc_translation] {
            write_translation(e, t);
        }
        write_rules(e, &self.mdcs);
        e.u8(match self.retry {
            Retry::Never => 0,
            Retry::EachOtherProcedure => 1,
        });
    }

    /// cc.tsv and cc_exclusions.tsv, with the names of the exclusion tables.
    fn write_cc(&self, e: &mut Enc) {
        e.u32s(&self.cc.offsets);
        e.len(self.cc.items.len());
        for item in &self.cc.items {
            e.u8(matches!(item.level, CcLevel::Mcc) as u8);
            e.u32(item.table);
        }
        e.u32s(&self.exclusions.offsets);
        e.u32s(&self.exclusions.items);
        e.strs(&self.tables);
    }

    fn read(d: &mut Dec<'_>) -> DecResult<Pack> {
        let info = read_info(d)?;
        let codes = read_codes(d)?;
        let n_codes = codes.code_ends.len();
        let lists = read_lists(d, n_codes)?;
        let maps = read_maps(d, n_codes)?;
        let (cc, exclusions, tables) = read_cc(d, n_codes)?;
        let dx_translation = read_translation(d, n_codes)?;
        let proc_translation = read_translation(d, n_codes)?;
        let mdcs = read_rules(d, &Limits { lists: lists.names.len(), maps: maps.len() })?;
        let retry = match d.u8()? {
            0 => Retry::Never,
            1 => Retry::EachOtherProcedure,
            other => return Err(format!("unknown retry rule {other}")),
        };
        let grouper_index = GrouperIndex::default();
        Ok(Pack { info, codes, lists, maps, cc, exclusions, tables, dx_translation, proc_translation, mdcs, retry, grouper_index })
    }
}

/// What pack.json says of the pack: id, name, description, counts, warnings.
fn write_info(e: &mut Enc, i: &PackInfo) {
    e.str(&i.id);
    e.str(&i.name);
    e.str(&i.description);
    for n in [i.counts.mdc, i.counts.adrg, i.counts.drg] {
        e.u64(n as u64);
    }
    e.strs(&i.warnings);
}

fn read_info(d: &mut Dec<'_>) -> DecResult<PackInfo> {
    let (id, name, description) = (d.str()?.to_string(), d.str()?.to_string(), d.str()?.to_string());
    let counts = Counts { mdc: d.u64()? as usize, adrg: d.u64()? as usize, drg: d.u64()? as usize };
    let warnings = d.strs()?.into_iter().map(String::from).collect();
    Ok(PackInfo { id, name, description, counts, source: String::new(), warnings })
}

/// The interned codes and their names in codes/diagnoses.tsv and
/// codes/procedures.tsv.
fn write_codes(e: &mut Enc, c: &CodeTable) {
    e.str(&c.text);
    e.u32s(&c.code_ends);
    e.str(&c.names);
    for spans in [&c.dx_names, &c.proc_names] {
        e.len(spans.len());
        for &(a, b) in spans.iter() {
            e.u32(a);
            e.u32(b);
        }
    }
}

fn read_codes(d: &mut Dec<'_>) -> DecResult<CodeTable> {
    let text = d.str()?.to_string();
    let code_ends = d.u32s()?;
    let mut previous = 0;
    for &end in &code_ends {
        if end < previous || end as usize > text.len() || !text.is_char_boundary(end as usize) {
            return Err("the code offsets are not in order".into());
        }
        previous = end;
    }
    let n_codes = code_ends.len();
    let names = d.str()?.to_string();
    let mut spans = [Vec::new(), Vec::new()];
    for s in &mut spans {
        let n = d.len(8)?;
        if n != n_codes {
            return Err("the name table does not match the codes".into());
        }
        *s = (0..n).map(|_| Ok((d.u32()?, d.u32()?))).collect::<DecResult<Vec<_>>>()?;
        for &(a, b) in s.iter() {
            if a != u32::MAX && (a > b || names.get(a as usize..b as usize).is_none()) {
                return Err("a name span is out of range".into());
            }
        }
    }
    let [dx_names, proc_names] = spans;
    let mut codes = CodeTable { text, code_ends, index: Default::default(), names, dx_names, proc_names };
    codes.rebuild_index();
    Ok(codes)
}

/// pack.json `lists` (with `$or_procedures`), as bit rows.
fn read_lists(d: &mut Dec<'_>, n_codes: usize) -> DecResult<Lists> {
    let list_names = d.strs()?;
    let width = u32::try_from(d.u64()?).map_err(|_| "the list rows are too wide")?;
    let rows = d.u64s()?;
    let w = width as usize;
    if w == 0 || w < list_names.len().div_ceil(64) || rows.len() % w != 0 || rows.len() / w > n_codes {
        return Err("the list rows do not match the lists".into());
    }
    Ok(Lists { names: list_names, width, rows })
}

/// pack.json `maps`.
fn write_maps(e: &mut Enc, maps: &[ValueMap]) {
    e.len(maps.len());
    for m in maps {
        e.str(&m.name);
        e.strs(&m.values);
        let mut pairs: Vec<(CodeId, u32)> = m.by_code.iter().map(|(&k, &v)| (k, v)).collect();
        pairs.sort_unstable();
        e.len(pairs.len());
        for (k, v) in pairs {
            e.u32(k);
            e.u32(v);
        }
    }
}

fn read_maps(d: &mut Dec<'_>, n_codes: usize) -> DecResult<Vec<ValueMap>> {
    let n_maps = d.len(12)?;
    let mut maps = Vec::with_capacity(n_maps);
    for _ in 0..n_maps {
        let name = d.boxed()?;
        let values = d.strs()?;
        let n = d.len(8)?;
        let mut by_code = FxHashMap::default();
        for _ in 0..n {
            let code = below(d.u32()?, n_codes, "a map's code")?;
            let value = below(d.u32()?, values.len(), "a map's value")?;
            by_code.insert(code, value);
        }
        maps.push(ValueMap { name, values, by_code });
    }
    Ok(maps)
}

/// cc.tsv, cc_exclusions.tsv and the names of the exclusion tables.
#[allow(clippy::type_complexity)]
fn read_cc(d: &mut Dec<'_>, n_codes: usize) -> DecResult<(ByCode<CcEntry>, ByCode<u32>, Vec<Box<str>>)> {
    let cc_offsets = d.u32s()?;
    let n = d.len(5)?;
    let cc_items = (0..n)
        .map(|_| {
            let level = if d.bool()? { CcLevel::Mcc } else { CcLevel::Cc };
            Ok(CcEntry { level, table: d.u32()? })
        })
        .collect::<DecResult<Vec<_>>>()?;
    let excl_offsets = d.u32s()?;
    let excl_items = d.u32s()?;
    let tables = d.strs()?;
    check_by_code(&cc_offsets, cc_items.len(), n_codes)?;
    check_by_code(&excl_offsets, excl_items.len(), n_codes)?;
    for t in cc_items.iter().map(|c| c.table).chain(excl_items.iter().copied()) {
        below(t, tables.len(), "an exclusion table")?;
    }
    let cc = ByCode { offsets: cc_offsets, items: cc_items };
    Ok((cc, ByCode { offsets: excl_offsets, items: excl_items }, tables))
}

/// codes/diagnosis_map.tsv or codes/procedure_map.tsv, resolved (`u32::MAX`
/// for a chain that runs into a cycle).
fn write_translation(e: &mut Enc, t: &Translation) {
    let mut pairs: Vec<(CodeId, Option<CodeId>)> = t.iter().map(|(&k, &v)| (k, v)).collect();
    pairs.sort_unstable();
    e.len(pairs.len());
    for (k, v) in pairs {
        e.u32(k);
        e.u32(v.unwrap_or(u32::MAX));
    }
}

fn read_translation(d: &mut Dec<'_>, n_codes: usize) -> DecResult<Translation> {
    let mut t = FxHashMap::default();
    let n = d.len(8)?;
    for _ in 0..n {
        let from = below(d.u32()?, n_codes, "a translated code")?;
        let to = match d.u32()? {
            u32::MAX => None,
            to => Some(below(to, n_codes, "a translation target")?),
        };
        t.insert(from, to);
    }
    Ok(t)
}

/// pack.json `mdcs`: the rules, MDC by MDC, with their compiled expressions.
fn write_rules(e: &mut Enc, mdcs: &[Mdc]) {
    e.len(mdcs.len());
    for m in mdcs {
        write_rule(e, &m.code, &m.name, &m.when);
        e.u8(m.stop_if_no_adrg as u8);
        e.len(m.adrgs.len());
        for a in &m.adrgs {
            write_rule(e, &a.code, &a.name, &a.when);
            e.u8(a.ambiguous as u8);
            e.u8(a.continue_if_no_drg as u8);
            e.len(a.drgs.len());
            for d in &a.drgs {
                write_rule(e, &d.code, &d.name, &d.when);
            }
        }
    }
}

/// What every MDC, ADRG and DRG starts with: its code, name and `when`.
fn write_rule(e: &mut Enc, code: &str, name: &str, when: &Expr) {
    e.str(code);
    e.str(name);
    write_expr(e, when);
}

/// Reads back what [`write_rule`] wrote.
fn read_rule(d: &mut Dec<'_>, limits: &Limits) -> DecResult<(Box<str>, Box<str>, Expr)> {
    Ok((d.boxed()?, d.boxed()?, read_expr(d, limits, 0)?))
}

fn read_rules(d: &mut Dec<'_>, limits: &Limits) -> DecResult<Vec<Mdc>> {
    let n_mdcs = d.len(13)?;
    let mut mdcs = Vec::with_capacity(n_mdcs);
    for _ in 0..n_mdcs {
        let (code, name, when) = read_rule(d, limits)?;
        let stop_if_no_adrg = d.bool()?;
        let n_adrgs = d.len(15)?;
        let mut adrgs = Vec::with_capacity(n_adrgs);
        for _ in 0..n_adrgs {
            let (code, name, when) = read_rule(d, limits)?;
            let (ambiguous, continue_if_no_drg) = (d.bool()?, d.bool()?);
            let n_drgs = d.len(9)?;
            let drgs = (0..n_drgs)
                .map(|_| read_rule(d, limits).map(|(code, name, when)| Drg { code, name, when }))
                .collect::<DecResult<Vec<_>>>()?;
            adrgs.push(Adrg { code, name, guard: when.guard(), when, drgs, ambiguous, continue_if_no_drg });
        }
        mdcs.push(Mdc { code, name, guard: when.guard(), when, adrgs, stop_if_no_adrg });
    }
    Ok(mdcs)
}

fn check_by_code(offsets: &[u32], n_items: usize, n_codes: usize) -> DecResult<()> {
    let ok = offsets.len() == n_codes + 1
        && offsets.first() == Some(&0)
        && offsets.last().map(|&l| l as usize) == Some(n_items)
        && offsets.windows(2).all(|w| w[0] <= w[1]);
    if ok {
        Ok(())
    } else {
        Err("a CC table's offsets are inconsistent".into())
    }
}

struct Limits {
    lists: usize,
    maps: usize,
}

const SELS: [CodeSel; 6] = [CodeSel::Pdx, CodeSel::DxAny, CodeSel::SdxAny, CodeSel::Pproc, CodeSel::ProcAny, CodeSel::SprocAny];
const FIELDS: [NumField; 8] = [
    NumField::AgeYears,
    NumField::AgeDays,
    NumField::WeightG,
    NumField::LosDays,
    NumField::IcuHours,
    NumField::SdxCount,
    NumField::ProcCount,
    NumField::DxCount,
];
const OPS: [CmpOp; 6] = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne];

fn position<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).expect("a known variant") as u8
}

fn write_expr(e: &mut Enc, x: &Expr) {
    match x {
        Expr::Const(b) => {
            e.u8(0);
            e.u8(*b as u8);
        }
        Expr::All(items) | Expr::Any(items) => {
            e.u8(if matches!(x, Expr::All(_)) { 1 } else { 2 });
            e.len(items.len());
            for item in items.iter() {
                write_expr(e, item);
            }
        }
        Expr::Not(inner) => {
            e.u8(3);
            write_expr(e, inner);
        }
        Expr::InList(sel, list) => {
            e.u8(4);
            e.u8(position(&SELS, sel));
            e.u32(list.0);
        }
        Expr::HasMcc => e.u8(5),
        Expr::HasCc => e.u8(6),
        Expr::Sex(s) => {
            e.u8(7);
            e.u8(matches!(s, crate::case::Sex::Female) as u8);
        }
        Expr::DischargeIn(values) | Expr::DeptIn(values) => {
            e.u8(if matches!(x, Expr::DischargeIn(_)) { 8 } else { 9 });
            e.strs(values);
        }
        Expr::DistinctValuesGe { map, min } => {
            e.u8(10);
            e.u32(map.0);
            e.u32(*min);
        }
        Expr::Compare(field, cmps) => {
            e.u8(11);
            e.u8(position(&FIELDS, field));
            e.len(cmps.len());
            for (op, n) in cmps.iter() {
                e.u8(position(&OPS, op));
                e.f64(*n);
            }
        }
    }
}

fn read_expr(d: &mut Dec<'_>, limits: &Limits, depth: usize) -> DecResult<Expr> {
    if depth > MAX_DEPTH {
        return Err("expressions nest too deep".into());
    }
    let pick = |all: usize, i: u8, what: &str| if (i as usize) < all { Ok(i as usize) } else { Err(format!("unknown {what} {i}")) };
    Ok(match d.u8()? {
        0 => Expr::Const(d.bool()?),
        tag @ (1 | 2) => {
            let n = d.len(1)?;
            let items = (0..n).map(|_| read_expr(d, limits, depth + 1)).collect::<DecResult<Vec<_>>>()?.into_boxed_slice();
            if tag == 1 {
                Expr::All(items)
            } else {
                Expr::Any(items)
            }
        }
        3 => Expr::Not(Box::new(read_expr(d, limits, depth + 1)?)),
        4 => {
            let sel = SELS[pick(SELS.len(), d.u8()?, "code selector")?];
            Expr::InList(sel, ListId(below(d.u32()?, limits.lists, "a list")?))
        }
        5 => Expr::HasMcc,
        6 => Expr::HasCc,
        7 => Expr::Sex(if d.bool()? { crate::case::Sex::Female } else { crate::case::Sex::Male }),
        tag @ (8 | 9) => {
            let values = d.strs()?.into_boxed_slice();
            if tag == 8 {
                Expr::DischargeIn(values)
            } else {
                Expr::DeptIn(values)
            }
        }
        10 => Expr::DistinctValuesGe { map: MapId(below(d.u32()?, limits.maps, "a map")?), min: d.u32()? },
        11 => {
            let field = FIELDS[pick(FIELDS.len(), d.u8()?, "field")?];
            let n = d.len(9)?;
            let cmps = (0..n)
                .map(|_| Ok((OPS[pick(OPS.len(), d.u8()?, "operator")?], d.f64()?)))
                .collect::<DecResult<Vec<_>>>()?;
            Expr::Compare(field, cmps.into_boxed_slice())
        }
        tag => return Err(format!("unknown expression tag {tag}")),
    })
}
