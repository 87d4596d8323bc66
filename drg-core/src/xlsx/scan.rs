//! A scanner for the XML of a worksheet: the tags, text and CDATA of a
//! sheet part as it inflates, without a general XML event reader's work per
//! byte (the sheet is most of a workbook: a 1,000,000-row export is hundreds
//! of megabytes of `<c>` elements). Tags are found with `memchr`, names are
//! compared as bytes (local names: a `x:` prefix is dropped), attribute
//! values are handed over raw, and text keeps its entities until
//! [`unescape_into`] decodes them. Comments, processing instructions and
//! declarations are skipped; what is not XML (a tag or comment cut off by the
//! end of the part, a bad entity, one piece longer than [`MAX_PIECE`]) is an
//! error.

use std::io::Read;

/// The longest single piece (a tag, a text, a comment) the scanner holds:
/// far above a cell's 32,767 characters, and it bounds the memory a hostile
/// sheet can make the reader take.
pub(super) const MAX_PIECE: usize = 16 << 20;

/// What the scanner found next.
pub(super) enum Token<'a> {
    /// A start tag, `<name attributes>`, or an empty element `<name …/>`
    /// (`empty`): its local name and its raw attribute text.
    Start { name: &'a [u8], attributes: &'a [u8], empty: bool },
    /// An end tag's local name.
    End { name: &'a [u8] },
    /// Character data between tags, entities not yet decoded.
    Text(&'a [u8]),
    /// The content of a `<![CDATA[…]]>` section.
    CData(&'a [u8]),
}

/// The sheet's bytes as [`Token`]s, read through a buffer that keeps only
/// the piece being scanned and what follows it.
pub(super) struct Scanner<R: Read> {
    input: R,
    buf: Vec<u8>,
    /// The first byte not yet scanned.
    start: usize,
    /// The end of the bytes read.
    end: usize,
    eof: bool,
}

/// Where the piece at the start of the unscanned bytes ends, and what it is.
enum Piece {
    Text(usize),
    /// A start tag: its end (after `>`), the name's end, and whether it is empty.
    Start { end: usize, name_end: usize, empty: bool },
    End(usize),
    CData(usize),
    /// A comment, processing instruction or declaration, skipped.
    Skip(usize),
}

impl<R: Read> Scanner<R> {
    pub(super) fn new(input: R) -> Self {
        Scanner { input, buf: vec![0; 1 << 18], start: 0, end: 0, eof: false }
    }

    /// The next token; `None` at the end of the part.
    pub(super) fn next_token(&mut self) -> Result<Option<Token<'_>>, String> {
        let piece = loop {
            if self.start == self.end && !self.read_more()? {
                return Ok(None);
            }
            let piece = match find_piece(&self.buf[self.start..self.end], self.eof)? {
                Some(piece) => piece,
                None if self.read_more()? => continue,
                // The end of the part: what is left is text, or cut off.
                None => match find_piece(&self.buf[self.start..self.end], true)? {
                    Some(piece) => piece,
                    None => return Err(cut_off(&self.buf[self.start..self.end])),
                },
            };
            match piece {
                Piece::Skip(len) => self.start += len,
                piece => break piece,
            }
        };
        let data = &self.buf[self.start..self.end];
        let (len, token) = match piece {
            Piece::Skip(_) => unreachable!("skipped in the loop above"),
            Piece::Text(len) => (len, Token::Text(&data[..len])),
            Piece::CData(len) => (len, Token::CData(&data[b"<![CDATA[".len()..len - b"]]>".len()])),
            Piece::End(len) => (len, Token::End { name: local_name(data[2..len - 1].trim_ascii()) }),
            Piece::Start { end, name_end, empty } => {
                let attributes_end = if empty { end - 2 } else { end - 1 };
                let token = Token::Start { name: local_name(&data[1..name_end]), attributes: &data[name_end..attributes_end.max(name_end)], empty };
                (end, token)
            }
        };
        self.start += len;
        Ok(Some(token))
    }

    /// Keeps the unscanned bytes and reads more after them; false at the end
    /// of the part (nothing more was read).
    fn read_more(&mut self) -> Result<bool, String> {
        if self.eof {
            return Ok(false);
        }
        match crate::io::refill(&mut self.input, &mut self.buf, &mut self.start, &mut self.end, MAX_PIECE) {
            Ok(None) => Err(format!("a piece of XML longer than {} MB", MAX_PIECE >> 20)),
            Ok(Some(0)) => {
                self.eof = true;
                Ok(false)
            }
            Ok(Some(_)) => Ok(true),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The piece `data` starts with, or `None` when `data` ends inside it (and
/// more may come: at the end of the part, text simply ends there).
fn find_piece(data: &[u8], eof: bool) -> Result<Option<Piece>, String> {
    if data[0] != b'<' {
        return Ok(match find(b'<', data) {
            Some(len) => Some(Piece::Text(len)),
            None if eof => Some(Piece::Text(data.len())),
            None => None,
        });
    }
    let after = |open: &[u8], close: &[u8]| memchr::memmem::find(&data[open.len()..], close).map(|at| open.len() + at + close.len());
    Ok(match data.get(1) {
        None => None,
        Some(b'/') => find(b'>', data).map(|at| Piece::End(at + 1)),
        Some(b'?') => after(b"<?", b"?>").map(Piece::Skip),
        Some(b'!') if data.starts_with(b"<!--") => after(b"<!--", b"-->").map(Piece::Skip),
        Some(b'!') if data.starts_with(b"<![CDATA[") => after(b"<![CDATA[", b"]]>").map(Piece::CData),
        // `<![CDATA[` or `<!--` not yet complete in the buffer.
        Some(b'!') if data.len() < b"<![CDATA[".len() && !eof => None,
        Some(b'!') => declaration_end(data).map(Piece::Skip),
        Some(_) => start_tag(data)?,
    })
}

/// A `<!DOCTYPE …>` or other declaration's end, past an internal subset in
/// brackets.
fn declaration_end(data: &[u8]) -> Option<usize> {
    let gt = memchr::memchr(b'>', data)?;
    match memchr::memchr(b'[', &data[..gt]) {
        None => Some(gt + 1),
        Some(open) => memchr::memmem::find(&data[open..], b"]>").map(|at| open + at + 2),
    }
}

/// A start tag's extent: to the `>` that is outside any quoted attribute value.
fn start_tag(data: &[u8]) -> Result<Option<Piece>, String> {
    let name_end = data[1..].iter().position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')).map(|at| at + 1);
    let Some(name_end) = name_end else { return Ok(None) };
    if name_end == 1 {
        return Err(format!("a tag without a name: {}", shown(data)));
    }
    let mut at = name_end;
    loop {
        let Some(found) = data[at..].iter().position(|&b| matches!(b, b'>' | b'"' | b'\'')) else { return Ok(None) };
        let i = at + found;
        match data[i] {
            b'>' => {
                let empty = data[i - 1] == b'/';
                return Ok(Some(Piece::Start { end: i + 1, name_end, empty }));
            }
            quote => match find(quote, &data[i + 1..]) {
                Some(close) => at = i + 1 + close + 1,
                None => return Ok(None),
            },
        }
    }
}

/// The first `byte` in `data`. The spans searched in a sheet are short
/// (a tag, a cell's value), where a plain loop beats `memchr`'s set-up.
#[inline]
fn find(byte: u8, data: &[u8]) -> Option<usize> {
    data.iter().position(|&b| b == byte)
}

/// A name without its namespace prefix.
fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// The error for a piece the part ends inside.
fn cut_off(data: &[u8]) -> String {
    format!("the part ends inside {}", shown(data))
}

/// The start of a piece, for a message.
fn shown(data: &[u8]) -> String {
    let prefix = &data[..data.len().min(40)];
    format!("{:?}{}", String::from_utf8_lossy(prefix), if data.len() > 40 { "…" } else { "" })
}

/// The attributes of a start tag: (local name, raw value) pairs. A malformed
/// attribute ends the list (as an XML reader without checks skips it).
pub(super) fn attributes(raw: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        rest = rest.trim_ascii_start();
        let eq = find(b'=', rest)?;
        let name = rest[..eq].trim_ascii_end();
        let value = rest[eq + 1..].trim_ascii_start();
        let quote = *value.first().filter(|&&q| q == b'"' || q == b'\'')?;
        let close = find(quote, &value[1..])?;
        rest = &value[1 + close + 1..];
        Some((local_name(name), &value[1..1 + close]))
    })
}

/// Text with its entities decoded (`&lt;`, `&gt;`, `&amp;`, `&quot;`,
/// `&apos;`, `&#NN;`, `&#xHH;`), appended to `out`; an unknown or malformed
/// entity is an error.
pub(super) fn unescape_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut rest = text;
    while let Some(amp) = memchr::memchr(b'&', rest) {
        out.extend_from_slice(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.iter().take(12).position(|&b| b == b';').ok_or_else(|| format!("an entity without its ';': {}", shown(&rest[amp..])))?;
        let entity = &after[..semi];
        let decoded = match entity {
            b"lt" => '<',
            b"gt" => '>',
            b"amp" => '&',
            b"quot" => '"',
            b"apos" => '\'',
            [b'#', b'x' | b'X', hex @ ..] => character(hex, 16, entity)?,
            [b'#', decimal @ ..] => character(decimal, 10, entity)?,
            _ => return Err(format!("an unknown entity &{};", String::from_utf8_lossy(entity))),
        };
        let mut utf8 = [0u8; 4];
        out.extend_from_slice(decoded.encode_utf8(&mut utf8).as_bytes());
        rest = &after[semi + 1..];
    }
    out.extend_from_slice(rest);
    Ok(())
}

/// A character reference's character.
fn character(digits: &[u8], radix: u32, entity: &[u8]) -> Result<char, String> {
    std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|d| u32::from_str_radix(d, radix).ok())
        .and_then(char::from_u32)
        .filter(|&c| c != '\0')
        .ok_or_else(|| format!("a character reference &{}; that is no character", String::from_utf8_lossy(entity)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens of `xml` read through a reader that hands over `chunk`
    /// bytes at a time (pieces then cross the buffer's refills).
    fn tokens(xml: &[u8], chunk: usize) -> Result<Vec<String>, String> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut scanner = Scanner::new(Trickle(xml, chunk));
        scanner.buf = vec![0; 16];
        let mut out = Vec::new();
        while let Some(token) = scanner.next_token()? {
            let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            out.push(match token {
                Token::Start { name, attributes, empty } => {
                    let attrs: Vec<String> = super::attributes(attributes).map(|(k, v)| format!("{}={}", s(k), s(v))).collect();
                    format!("<{}{}{}>", s(name), attrs.iter().map(|a| format!(" {a}")).collect::<String>(), if empty { "/" } else { "" })
                }
                Token::End { name } => format!("</{}>", s(name)),
                Token::Text(t) => {
                    let mut text = Vec::new();
                    unescape_into(t, &mut text)?;
                    format!("text {}", s(&text))
                }
                Token::CData(t) => format!("cdata {}", s(t)),
            });
        }
        Ok(out)
    }

    #[test]
    fn a_sheet_scans_alike_whatever_the_reads() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE x [<!ENTITY a "b">]><x:worksheet xmlns:x="ns"><!-- a > comment --><x:sheetData><row r="2" spans='1:3'><c r="A2" t="inlineStr"><is><t>K35.800 &amp; &lt;&#x41;&#66;&gt;</t></is></c><c r="B2" s="1" a=">"><v>12.5</v></c><c r="C2"/></row><row r="3"><c><v><![CDATA[<raw & text>]]></v></c></row></x:sheetData></x:worksheet>"#;
        let expected = tokens(xml, 1 << 20).unwrap();
        assert_eq!(
            expected[..8],
            ["text \n", "<worksheet x=ns>", "<sheetData>", "<row r=2 spans=1:3>", "<c r=A2 t=inlineStr>", "<is>", "<t>", "text K35.800 & <AB>"]
        );
        assert!(expected.contains(&"<c r=B2 s=1 a=>>".to_string()));
        assert!(expected.contains(&"<c r=C2/>".to_string()));
        assert!(expected.contains(&"cdata <raw & text>".to_string()));
        assert_eq!(expected.last().unwrap(), "</worksheet>");
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(tokens(xml, chunk).unwrap(), expected, "reads of {chunk} bytes");
        }
    }

    #[test]
    fn what_is_not_xml_is_an_error() {
        for (xml, says) in [
            (&b"<row><c r=\"A1\""[..], "ends inside"),
            (b"<row><!-- no end", "ends inside"),
            (b"<v>a &nbsp; b</v>", "unknown entity"),
            (b"<v>a &#0; b</v>", "no character"),
            (b"<v>a & b</v>", "without its ';'"),
            (b"< >", "without a name"),
        ] {
            let e = tokens(xml, 3).unwrap_err();
            assert!(e.contains(says), "{:?}: {e}", String::from_utf8_lossy(xml));
        }
        assert_eq!(tokens(b"", 3).unwrap(), Vec::<String>::new());
        assert_eq!(tokens(b"trailing text", 3).unwrap(), ["text trailing text"]);
    }

    #[test]
    fn a_piece_longer_than_the_limit_is_refused_not_held() {
        let mut scanner = Scanner::new(std::io::repeat(b'a'));
        let e = scanner.next_token().err().expect("an endless text is refused");
        assert!(e.contains("longer than"), "{e}");
        assert!(scanner.buf.len() <= MAX_PIECE);
    }
}
