//! Dot-stuffing for clients (RFC 5321 4.5.2).

use bytes::{BufMut, BytesMut};

use super::ends::LineEnds;
use super::{CR, CRLF, DOT, LF};

/// Streaming dot-stuffer for DATA (RFC 5321 4.5.2): normalises bare CR and
/// bare LF to CRLF, doubles a leading '.'.
#[derive(Debug, Clone)]
pub struct DotStuffer {
    /// The output so far is empty or ends with CRLF.
    at_line_start: bool,
    /// The last input byte was a CR, already written as CRLF; an LF at the
    /// start of the next chunk completes that same CRLF.
    swallow_lf: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl DotStuffer {
    /// Creates a stuffer at the start of a message body.
    pub fn new() -> Self {
        Self {
            at_line_start: true,
            swallow_lf: false,
        }
    }

    /// Appends the stuffed form of `chunk` to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut BytesMut) {
        let mut rest = chunk;
        if self.swallow_lf && !rest.is_empty() {
            self.swallow_lf = false;
            if let Some((&LF, tail)) = rest.split_first() {
                rest = tail;
            }
        }
        out.reserve(rest.len() + 8);
        let ends = LineEnds::get();
        while let Some(&first) = rest.first() {
            if self.at_line_start && first == DOT {
                out.put_u8(DOT);
            }
            self.at_line_start = false;
            let Some(i) = ends.find(rest) else {
                out.extend_from_slice(rest);
                return;
            };
            let (text, tail) = rest.split_at(i);
            out.extend_from_slice(text);
            // Every kind of line ending goes out as CRLF (RFC 5321 2.3.8).
            out.extend_from_slice(CRLF);
            self.at_line_start = true;
            rest = match tail {
                [CR, LF, more @ ..] => more,
                [CR] => {
                    self.swallow_lf = true;
                    &[]
                }
                [_, more @ ..] => more,
                [] => &[],
            };
        }
    }

    /// Ends the body: adds CRLF if the body did not end with one (and was
    /// non-empty), then ".\r\n". The stuffer is then ready for a new body.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if !self.at_line_start {
            out.extend_from_slice(CRLF);
        }
        out.extend_from_slice(b".\r\n");
        *self = Self::new();
    }
}

/// Convenience: whole-body stuffing, end-of-data indication included.
pub fn dot_stuff(body: &[u8]) -> BytesMut {
    let mut out = BytesMut::with_capacity(body.len() + body.len() / 64 + 8);
    let mut stuffer = DotStuffer::new();
    stuffer.push(body, &mut out);
    stuffer.finish(&mut out);
    out
}
