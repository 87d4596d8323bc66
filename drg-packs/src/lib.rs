//! # drg-packs
//!
//! The rule packs that ship with drg, and the one rule for choosing a pack.
//!
//! Every pack of `rulepacks/` (the national CHS-DRG 2.0, 1.1 and 1.0 schemes
//! and 24 local schemes, converted from OpenDRG: see `rulepacks/NOTICE.md`) is
//! compiled at build time by the drg-core being built and embedded,
//! compressed, in the library: a pack opens by its id with no file at hand.
//!
//! ```
//! let pack = drg_packs::open("wuhan-2022").unwrap();      // an id, or a path
//! assert_eq!(pack.info().id, "wuhan-2022");
//! let default = drg_packs::open_or_default(None).unwrap(); // $DRG_PACK, else chs-drg-2.0
//! # let _ = default;
//! ```
//!
//! **How a pack argument is read** ([`parse`]): an argument that names an
//! existing file or directory is that path (a compiled pack or a drgpack/1
//! directory); otherwise it is the id of a bundled pack (`drg pack list`), or
//! `demo` for the hand-written demo pack. An id never contains `/` or `\`, so
//! `./wuhan-2022` always means the directory. Anything else is refused with
//! the list of ids.
//!
//! **Which pack, when none is named** ([`resolve`]): the argument, else
//! `$DRG_PACK` (read the same way; empty counts as unset), else
//! [`DEFAULT_PACK`], the national scheme in force. The CLI, the C ABI and
//! Python all call this; no other code reads `$DRG_PACK`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use drg_core::pack::Counts;
use drg_core::{Pack, PackError};

/// The pack used when none is named: CHS-DRG 2.0, the national scheme in force since 2025.
pub const DEFAULT_PACK: &str = "chs-drg-2.0";

/// The id of the hand-written demo pack (not for payment).
pub const DEMO_PACK: &str = "demo";

/// The environment variable that names the pack when no argument does.
pub const PACK_ENV: &str = "DRG_PACK";

/// The attribution every shipped copy of the packs carries (rulepacks/NOTICE.md).
pub const NOTICE: &str = include_str!("../../rulepacks/NOTICE.md");

/// The licence of the OpenDRG sources the packs were converted from.
pub const OPENDRG_LICENSE: &str = include_str!("../../rulepacks/LICENSE-OpenDRG.txt");

/// One line saying what the bundled packs are.
pub const PROVENANCE: &str = "converted from OpenDRG (Apache-2.0): conversions, not official releases of the NHSA or \
     of any region; check results against your region's own grouper";

/// A pack compiled into drg.
#[derive(Debug)]
pub struct BundledPack {
    /// The id it opens by, e.g. `chs-drg-2.0`.
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Where it comes from (always a conversion, not an official release).
    pub provenance: &'static str,
    /// MDCs, ADRGs and DRGs, as the loader counted them.
    pub counts: Counts,
    /// Bytes of the compiled pack.
    pub size: usize,
    /// Stored uncompressed (the two most used national packs, to open fast).
    raw: bool,
    /// The compiled pack, zstd-compressed unless `raw`.
    compressed: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

impl BundledPack {
    /// Opens the pack (decompresses and reads the compiled form: a few ms).
    pub fn open(&self) -> Result<Pack, PackError> {
        let label = format!("bundled pack {}", self.id);
        if self.raw {
            let pack = Pack::from_bytes(self.compressed, &label);
            release_pages(self.compressed);
            return pack;
        }
        let bytes = zstd::bulk::decompress(self.compressed, self.size)
            .map_err(|e| PackError::new(label.clone(), format!("cannot decompress: {e}")))?;
        Pack::from_bytes(&bytes, &label)
    }

    /// Whether this is one of the national CHS-DRG schemes.
    pub fn is_national(&self) -> bool {
        self.id.starts_with("chs-drg-")
    }

    /// Bytes the pack takes in the binary.
    pub fn compressed_size(&self) -> usize {
        self.compressed.len()
    }
}

/// Lets the system take back the memory pages of a pack embedded as it is,
/// once it has been read. They are pages of the binary's file, read from it
/// again if the pack is opened again, and would otherwise stay counted in
/// the process's resident memory for its whole life (5.7 MB for CHS-DRG 1.1,
/// 6.5 MB for 2.0). Only where the pages are known to come from a file (a
/// read-only mapping with an inode in `/proc/self/maps`): in a binary
/// unpacked into anonymous memory (UPX and the like) dropping them would lose
/// the bytes, so they stay.
#[cfg(target_os = "linux")]
fn release_pages(bytes: &'static [u8]) {
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => return,
    };
    let start = (bytes.as_ptr() as usize).next_multiple_of(page);
    let end = (bytes.as_ptr() as usize + bytes.len()) / page * page;
    if end <= start || !file_backed(start, end) {
        return;
    }
    // SAFETY: [start, end) is whole pages inside `bytes`, in a read-only
    // mapping of a file: MADV_DONTNEED only unmaps them from this process,
    // and the next read faults them in again from the file, unchanged.
    // Nothing is written through them, so no data can be lost.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
    }
}

#[cfg(not(target_os = "linux"))]
fn release_pages(_: &'static [u8]) {}

/// Whether `[start, end)` lies in one read-only mapping of a file, by
/// `/proc/self/maps` (`start-end perms offset dev inode path`).
#[cfg(target_os = "linux")]
fn file_backed(start: usize, end: usize) -> bool {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return false };
    maps.lines().any(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms), Some(_), Some(_), Some(inode)) = (fields.next(), fields.next(), fields.next(), fields.next(), fields.next()) else {
            return false;
        };
        let Some((from, to)) = range.split_once('-') else { return false };
        let (Ok(from), Ok(to)) = (usize::from_str_radix(from, 16), usize::from_str_radix(to, 16)) else { return false };
        from <= start && end <= to && perms.starts_with('r') && !perms.contains('w') && inode != "0"
    })
}

/// Every bundled pack: the national schemes, newest first, then the local ones by id.
pub fn bundled() -> &'static [BundledPack] {
    PACKS
}

/// The bundled pack with this id.
pub fn find(id: &str) -> Option<&'static BundledPack> {
    PACKS.iter().find(|p| p.id == id)
}

/// Where a pack comes from, as an argument names it.
#[derive(Clone, Debug)]
pub enum PackSource {
    /// The hand-written demo pack (`demo`).
    Demo,
    /// A pack compiled into drg.
    Bundled(&'static BundledPack),
    /// A drgpack/1 directory or a compiled pack file.
    Path(PathBuf),
}

impl PackSource {
    /// Opens the pack.
    pub fn open(&self) -> Result<Pack, PackError> {
        match self {
            PackSource::Demo => Ok(Pack::demo()),
            PackSource::Bundled(p) => p.open(),
            PackSource::Path(path) => Pack::open(path),
        }
    }
}

impl std::fmt::Display for PackSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackSource::Demo => f.write_str(DEMO_PACK),
            PackSource::Bundled(p) => f.write_str(p.id),
            PackSource::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Reads a pack argument: an existing path, else a bundled id or `demo`.
/// See the crate documentation for the rule.
pub fn parse(arg: impl AsRef<OsStr>) -> Result<PackSource, PackError> {
    let arg = arg.as_ref();
    let path = Path::new(arg);
    if path.exists() {
        return Ok(PackSource::Path(path.to_path_buf()));
    }
    let text = arg.to_string_lossy();
    let looks_like_id = !text.is_empty() && !text.contains(['/', '\\']);
    if looks_like_id {
        if text == DEMO_PACK {
            return Ok(PackSource::Demo);
        }
        if let Some(p) = find(&text) {
            return Ok(PackSource::Bundled(p));
        }
    }
    let ids: Vec<&str> = PACKS.iter().map(|p| p.id).collect();
    let message = if looks_like_id {
        format!("no such file or directory, and no bundled pack has this id (bundled: {}, and {DEMO_PACK})", ids.join(", "))
    } else {
        "cannot open: no such file or directory".to_string()
    };
    Err(PackError::new(text.into_owned(), message))
}

/// The pack to use: `arg`, else `$DRG_PACK`, else [`DEFAULT_PACK`]. An empty
/// argument or variable counts as none.
pub fn resolve(arg: Option<&OsStr>) -> Result<PackSource, PackError> {
    if let Some(arg) = arg.filter(|a| !a.is_empty()) {
        return parse(arg);
    }
    match std::env::var_os(PACK_ENV).filter(|v| !v.is_empty()) {
        Some(value) => parse(&value).map_err(|mut e| {
            e.message = format!("{} (from ${PACK_ENV})", e.message);
            e
        }),
        None => Ok(PackSource::Bundled(find(DEFAULT_PACK).expect("the default pack is bundled"))),
    }
}

/// Opens a pack by bundled id (`wuhan-2022`, `demo`) or by path.
pub fn open(id_or_path: impl AsRef<OsStr>) -> Result<Pack, PackError> {
    parse(id_or_path)?.open()
}

/// Opens `arg`, else `$DRG_PACK`, else [`DEFAULT_PACK`] ([`resolve`]).
pub fn open_or_default(arg: Option<&OsStr>) -> Result<Pack, PackError> {
    resolve(arg)?.open()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::{Read, Seek, SeekFrom};

    /// How many pages of `bytes` this process has mapped in
    /// (`/proc/self/pagemap`: eight bytes a page, bit 63 set when present).
    fn present_pages(bytes: &[u8]) -> usize {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let first = bytes.as_ptr() as usize / page;
        let last = (bytes.as_ptr() as usize + bytes.len() - 1) / page;
        let mut map = std::fs::File::open("/proc/self/pagemap").unwrap();
        map.seek(SeekFrom::Start(first as u64 * 8)).unwrap();
        let mut entries = vec![0u8; (last - first + 1) * 8];
        map.read_exact(&mut entries).unwrap();
        entries.chunks_exact(8).filter(|e| u64::from_le_bytes((*e).try_into().unwrap()) >> 63 == 1).count()
    }

    #[test]
    fn an_embedded_pack_gives_its_pages_back_and_opens_the_same_again() {
        let bundled = super::find("chs-drg-1.1").unwrap();
        assert!(bundled.raw, "CHS-DRG 1.1 is embedded as it is");
        let pages = bundled.compressed.len() / 4096;
        let first = bundled.open().unwrap();
        // Only the two pages at the ends, shared with other data, may stay.
        assert!(present_pages(bundled.compressed) <= 2, "{} of ~{pages} pages still mapped", present_pages(bundled.compressed));
        // Read again, the bytes come back from the file, unchanged.
        let sum = bundled.compressed.iter().fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(u64::from(b)));
        assert!(present_pages(bundled.compressed) >= pages, "read in again");
        std::hint::black_box(sum);
        let again = bundled.open().unwrap();
        assert_eq!(first.to_bytes(), again.to_bytes());
    }
}
