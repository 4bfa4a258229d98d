//! Lines walked while a read is copied. Where the block check refuses a block (most
//! often a line of 256 octets or more, which has no LF in some block), `DataDecoder::push`
//! goes on line by line over the read: each line end is searched for on the read and
//! the lines are copied in batches right after, from the first-level cache. The decoder
//! then takes the walked lines as one run instead of searching the copy again, so a
//! body of long lines is read from memory once, as the block check does for short ones.

use bytes::BytesMut;

use super::ends::LineEnds;
use super::fast::Prefetch;
use super::{CR, DOT, LF};

/// Lines shorter than this, [`SHORT_RUN`] of them in a row, end the walk: the block
/// check, run in place by the decoder, takes short lines for fewer instructions per
/// octet than a search per line.
const SHORT: usize = 256;
const SHORT_RUN: usize = 8;

/// Octets walked before they are copied: still in the first-level cache, and few calls.
const BATCH: usize = 4096;

/// What is left of a read after the blocks, when shorter than this, is not walked: the
/// decoder's own search costs as much.
pub(super) const MIN_WALK: usize = 1024;

/// A run of lines in the buffer that [`copy_walked`] vouches for: it starts at a line
/// start, or where the read handed to it starts, inside a line; every line that ends
/// in it ends in a real CRLF, has no other CR or LF, is within the line limit (counted
/// from the line's start, before the run for the first one) and does not start with
/// "."; it ends at a line start, and at least one octet follows it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Walked {
    /// Offset of the run in the buffer as `copy_walked` left it.
    pub(super) start: usize,
    pub(super) len: usize,
}

/// The offset of the CR of the first CRLF in `s` from `from`, when the first CR or LF
/// there is one (a bare one, or a CR as the last octet, gives `None`).
#[inline(always)]
fn crlf_at(ends: &LineEnds, s: &[u8], from: usize) -> Option<usize> {
    let i = from + ends.find(s.get(from..)?)?;
    (s.get(i) == Some(&CR) && s.get(i + 1) == Some(&LF)).then_some(i)
}

/// Appends `input` to `buf`, walking its lines for as long as they are clean, within
/// `max_line` (CRLF counted), and not a run of short ones. `open`: how many octets of
/// the first line come before `input` (0: `input` starts a line), or `None` when that is
/// not known, and the walk starts after the first line end. Returns the walked run, if
/// any line ended in it.
pub(super) fn copy_walked(
    input: &[u8],
    buf: &mut BytesMut,
    max_line: Option<usize>,
    open: Option<usize>,
) -> Option<Walked> {
    let ends = LineEnds::get();
    let ahead = Prefetch::get();
    let base = buf.len();
    let mut copied = 0;
    let (begin, mut open) = match open {
        Some(open) => (0, open),
        None => (crlf_at(ends, input, 0).map_or(input.len(), |cr| cr + 2), 0),
    };
    let mut line = begin;
    let mut short = 0;
    // Stop before a line the decoder must see (a dot line), before a line that ends the
    // read (something must follow the run), and before anything not clean.
    while input.get(line).is_some_and(|&b| b != DOT || open > 0) {
        let Some(cr) = crlf_at(ends, input, line) else {
            break;
        };
        let len = open + cr - line;
        if max_line.is_some_and(|m| len.saturating_add(2) > m) || cr + 2 >= input.len() {
            break;
        }
        (line, open) = (cr + 2, 0);
        if line - copied >= BATCH {
            buf.extend_from_slice(&input[copied..line]);
            copied = line;
            // The batch after the next, as the block check asks ahead of itself.
            if let Some(ahead) = ahead {
                let after = input.get(line + BATCH..).unwrap_or_default();
                ahead.range(&after[..after.len().min(BATCH)]);
            }
        }
        short = if len < SHORT { short + 1 } else { 0 };
        if short == SHORT_RUN {
            break;
        }
    }
    buf.extend_from_slice(&input[copied..]);
    (line > begin).then_some(Walked {
        start: base + begin,
        len: line - begin,
    })
}

/// What a walked run must satisfy, checked octet by octet (for debug assertions):
/// `buf[pos..pos + n]` holds the end of a line that began `open` octets before `pos`
/// (`None`: not known, its length unchecked) and whole lines after it, each ending in
/// CRLF with no other CR or LF, within `max_line`, none but the first starting with
/// "."; an octet follows the run.
pub(super) fn vouches(
    buf: &[u8],
    pos: usize,
    n: usize,
    max_line: Option<usize>,
    open: Option<usize>,
) -> bool {
    let (Some(s), Some(_)) = (buf.get(pos..pos + n), buf.get(pos + n)) else {
        return false;
    };
    if n == 0 || s[n - 1] != LF {
        return false;
    }
    s.split_inclusive(|&b| b == LF)
        .enumerate()
        .all(|(k, line)| {
            let body = &line[..line.len() - 1];
            let before = if k == 0 { open } else { Some(0) };
            body.last() == Some(&CR)
                && !body[..body.len() - 1].iter().any(|&b| b == CR || b == LF)
                && (before != Some(0) || line.first() != Some(&DOT))
                && before.is_none_or(|o| max_line.is_none_or(|m| o + line.len() <= m))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{BareLineEndings, DataDecoder, push_reads};

    fn body(lines: &[usize]) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, &n) in lines.iter().enumerate() {
            b.extend((0..n).map(|i| b"abcdefghij"[(i + k) % 10]));
            b.extend_from_slice(b"\r\n");
        }
        b
    }

    /// The copy is exact whatever the walk does, and the run it reports holds what the
    /// decoder relies on; it stops where it must.
    #[test]
    fn walk_copies_exactly_and_stops_where_it_must() {
        let long = body(&[300, 998, 500, 700, 998, 400, 600, 998]);
        let mut cases: Vec<(Vec<u8>, Option<usize>, &str)> = vec![
            (long.clone(), Some(1000), "clean"),
            (long.clone(), None, "no limit"),
        ];
        // Each edit must end the run before the line it touches (the fourth).
        for (edit, what) in [
            (b"\n".as_slice(), "bare LF"),
            (b"\r", "bare CR"),
            (b"\r\r\n", "CR CR LF"),
        ] {
            let mut b = long.clone();
            b[2000..2000 + edit.len()].copy_from_slice(edit);
            cases.push((b, Some(1000), what));
        }
        let mut dot = long.clone();
        dot[302 + 1000] = DOT; // the third line starts with "."
        cases.push((dot, Some(1000), "dot line"));
        cases.push((long.clone(), Some(999), "line over the limit"));
        cases.push((body(&[10; 40]), Some(1000), "short lines"));
        cases.push((long[..long.len() - 1].to_vec(), Some(1000), "CR at the end"));
        for (input, max, what) in &cases {
            for held in [&b""[..], b"\r\n", b"ab\r\n"] {
                let mut buf = BytesMut::from(held);
                let run = copy_walked(input, &mut buf, *max, Some(0));
                let mut want = held.to_vec();
                want.extend_from_slice(input);
                assert_eq!(&buf[..], &want[..], "{what}");
                let len = run.map_or(0, |r| {
                    assert_eq!(r.start, held.len(), "{what}");
                    assert!(
                        vouches(&buf, r.start, r.len, *max, Some(0)),
                        "{what}: {r:?}"
                    );
                    r.len
                });
                let want_len = match *what {
                    // All lines but the last, which ends the read.
                    "clean" | "no limit" | "CR at the end" => long.len() - 1000,
                    "bare LF" | "bare CR" | "CR CR LF" => 302 + 1000 + 502,
                    "dot line" => 302 + 1000,
                    "line over the limit" => 302,
                    _ => SHORT_RUN * 12,
                };
                assert_eq!(len, want_len, "{what}");
            }
        }
    }

    /// The first line counts the octets before the read, and may start with "." only
    /// when it began before the read; when its start is not known it is not walked.
    #[test]
    fn walk_measures_the_line_open_before_the_read() {
        let long = body(&[300, 998, 500, 700]);
        for (open, max, first) in [(698, 1000, true), (699, 1000, false), (5000, 1000, false)] {
            let run = copy_walked(&long, &mut BytesMut::new(), Some(max), Some(open));
            assert_eq!(run.is_some(), first, "open {open}");
        }
        let mut dot = long.clone();
        dot[0] = DOT;
        assert!(copy_walked(&dot, &mut BytesMut::new(), Some(1000), Some(0)).is_none());
        let run = copy_walked(&dot, &mut BytesMut::new(), Some(1000), Some(5));
        assert_eq!(run.map(|r| r.len), Some(302 + 1000 + 502));
        // Not known: the walk starts after the first line, whatever its length.
        let run = copy_walked(&long, &mut BytesMut::new(), Some(1000), None);
        assert_eq!(run.map(|r| (r.start, r.len)), Some((302, 1000 + 502)));
        let run = copy_walked(&dot, &mut BytesMut::new(), Some(1000), None);
        assert_eq!(run.map(|r| (r.start, r.len)), Some((302, 1000 + 502)));
    }

    /// Fed by `push` in 64 KiB reads, a body of long lines (which the block check
    /// refuses) and one of lines of any length up to 998 go nearly all through runs
    /// that `push` walked, so the decoder does not search them again.
    #[test]
    fn pushed_long_lines_are_walked() {
        let mut long = Vec::new();
        let mut mixed = Vec::new();
        for i in 0..3000usize {
            long.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, 990 + i % 9));
            long.extend_from_slice(b"\r\n");
            mixed.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, i * 7919 % 999));
            mixed.extend_from_slice(b"\r\n");
        }
        for body in [&long, &mixed] {
            let mut wire = body.clone();
            wire.extend_from_slice(b".\r\n");
            for max in [Some(1000), None] {
                let mut dec = DataDecoder::new(BareLineEndings::Reject, max);
                let out = push_reads(&mut dec, &wire, 64 * 1024);
                assert!(dec.is_done() && !dec.saw_long_line());
                assert!(out == *body);
                assert!(
                    dec.fast * 100 >= body.len() * 90,
                    "{} of {} (max {max:?})",
                    dec.fast,
                    body.len()
                );
            }
        }
    }
}
