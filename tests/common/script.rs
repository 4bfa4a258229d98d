//! The transcript dialect both harnesses read (`server.rs` and `client.rs`), and the
//! byte helpers their failure messages use.
//!
//! Script lines:
//! - `C: text`  — bytes the client sends: the text with escapes `\r`, `\n`, `\0`, `\t`,
//!   `\\`, `\xNN` decoded, and CRLF appended unless the line spells out a `\r` or `\n`.
//! - `C~ text`  — the same bytes, never with a CRLF appended.
//! - `S: text`  — one reply line the server sends: the decoded text, then CRLF.
//! - `S~ text`  — the next whole reply (all `ddd-` lines) ends with the line `text`.
//! - `A: verb`  — the application or transport acts (each harness lists its verbs).
//! - blank lines and lines starting with `#` are ignored.
//!
//! The server harness feeds `C:` lines and matches `S:` lines against what the server
//! writes; the client harness feeds `S:` lines and matches `C:` lines against what the
//! client writes.

use smtp_sansio::types::Reply;

/// Bytes as an escaped string, so a failure shows exactly what crossed the wire.
pub fn esc(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

/// Decodes the script escapes `\r \n \0 \t \\ \xNN`; returns the bytes and whether a
/// `\r` or `\n` escape was used.
pub fn unescape(s: &str) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut explicit_eol = false;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => {
                    out.push(b'\r');
                    explicit_eol = true;
                }
                b'n' => {
                    out.push(b'\n');
                    explicit_eol = true;
                }
                b'0' => out.push(0),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = s.get(i + 2..i + 4).expect("\\x needs two hex digits");
                    out.push(u8::from_str_radix(hex, 16).expect("bad \\x escape"));
                    i += 4;
                    continue;
                }
                other => panic!("unknown escape \\{}", other as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    (out, explicit_eol)
}

/// A reply in wire form, e.g. `reply("451 4.3.0 Try later")`.
pub fn reply(s: &str) -> Reply {
    s.parse()
        .unwrap_or_else(|e| panic!("test reply {s:?} does not parse: {e}"))
}

/// One parsed script line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// `C:` or `C~`: the client's bytes, CRLF included where the dialect adds one.
    Client(Vec<u8>),
    /// `S:`: one reply line, without its CRLF.
    Server(Vec<u8>),
    /// `S~`: the last line of the next whole reply, without its CRLF.
    ServerLast(Vec<u8>),
    /// `A:`: an action verb and the rest of the line.
    Act(&'a str, &'a str),
}

/// The lines of `script` with a name for failure messages (`script line N: ...`); blank
/// lines and `#` comments are skipped, and an unknown tag panics.
pub fn lines(script: &str) -> impl Iterator<Item = (String, Line<'_>)> {
    script.lines().enumerate().filter_map(|(n, raw)| {
        let line = raw.trim_start();
        let at = format!("script line {}: {line:?}", n + 1);
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let (tag, rest) = line.split_at(line.len().min(3));
        let parsed = match tag {
            "C: " | "C~ " => {
                let (mut bytes, explicit) = unescape(rest);
                if tag == "C: " && !explicit {
                    bytes.extend_from_slice(b"\r\n");
                }
                Line::Client(bytes)
            }
            "S: " => Line::Server(unescape(rest).0),
            "S~ " => Line::ServerLast(unescape(rest).0),
            "A: " => {
                let (verb, arg) = rest.split_once(' ').unwrap_or((rest, ""));
                Line::Act(verb, arg)
            }
            _ => panic!("{at}: lines start with `C: `, `C~ `, `S: `, `S~ `, `A: ` or `#`"),
        };
        Some((at, parsed))
    })
}
