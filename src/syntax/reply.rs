//! Reply lines (RFC 5321 4.2).

use std::borrow::Cow;

use crate::error::{DecodeError, SyntaxErrorKind};
use crate::types::{Reply, ReplyCode, Text};

/// One reply line, borrowed from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplyLine<'a> {
    /// The code.
    pub code: ReplyCode,
    /// True for `code SP text` (or a bare code): the reply's last line.
    pub last: bool,
    /// The text after the separator (may be empty).
    pub text: &'a [u8],
}

/// Parses one reply line without its CRLF:
/// `Reply-code [ SP textstring ]` (last) or `Reply-code "-" [ textstring ]` (more follow).
///
/// Text is taken as any bytes but CR and LF; RFC 5321's `textstring` is stricter, but
/// real servers send 8-bit text and a client gains nothing from refusing it.
pub fn parse_reply_line(line: &[u8]) -> Result<ReplyLine<'_>, DecodeError> {
    let bad = |o| DecodeError::syntax(o, SyntaxErrorKind::Reply);
    let (digits, rest) = line.split_at_checked(3).ok_or(bad(0))?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad(0));
    }
    let n = digits
        .iter()
        .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    let code = ReplyCode::new(n).map_err(|_| bad(0))?;
    let (last, text) = match rest {
        [] => (true, rest),
        [b' ', t @ ..] => (true, t),
        [b'-', t @ ..] => (false, t),
        _ => return Err(bad(3)),
    };
    if let Some(p) = text.iter().position(|&b| b == b'\r' || b == b'\n') {
        return Err(bad(4 + p));
    }
    Ok(ReplyLine { code, last, text })
}

/// Parses a whole reply from the front of `input` and returns the bytes after it.
/// [`DecodeError::Incomplete`] until the last line's CRLF has arrived.
pub fn decode_reply(input: &[u8]) -> Result<(&[u8], Reply), DecodeError> {
    let mut pos = 0;
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let rest = input.get(pos..).unwrap_or_default();
        let Some(end) = crlf(rest) else {
            return Err(DecodeError::Incomplete);
        };
        let l = parse_reply_line(&rest[..end]).map_err(|e| match e {
            DecodeError::Syntax { offset, kind } => DecodeError::syntax(pos + offset, kind),
            other => other,
        })?;
        if *code.get_or_insert(l.code) != l.code {
            return Err(DecodeError::syntax(pos, SyntaxErrorKind::ReplyCodeMismatch));
        }
        lines.push(line_text(l.text));
        pos += end + 2;
        if l.last {
            return Ok((&input[pos..], Reply::from_lines(l.code, lines)));
        }
    }
}

/// The position of the first CRLF: a byte search for LF (cheap to start, unlike a
/// substring search), falling back to the full search after a bare LF.
fn crlf(s: &[u8]) -> Option<usize> {
    let lf = memchr::memchr(b'\n', s)?;
    if lf > 0 && s[lf - 1] == b'\r' {
        Some(lf - 1)
    } else {
        memchr::memmem::find(s, b"\r\n")
    }
}

/// Reply text as a [`Text`]; bytes that are not UTF-8 are replaced, not refused.
pub(crate) fn line_text(t: &[u8]) -> Text {
    let s: Cow<'static, str> = Cow::Owned(String::from_utf8_lossy(t).into_owned());
    // Cannot fail: the line was split at CRLF and checked for stray CR/LF.
    Text::new(s).unwrap_or_else(|_| Text::fixed(""))
}

impl std::str::FromStr for Reply {
    type Err = DecodeError;

    /// Parses wire form, e.g. `"451 4.3.0 Try again later"`; the final CRLF may be left
    /// out, and multi-line replies are written with CRLF between lines. The whole string
    /// must be one reply.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wire: Cow<'_, str> = if s.ends_with("\r\n") {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(format!("{s}\r\n"))
        };
        let (rest, reply) = decode_reply(wire.as_bytes())?;
        if rest.is_empty() {
            Ok(reply)
        } else {
            Err(DecodeError::syntax(
                wire.len() - rest.len(),
                SyntaxErrorKind::Reply,
            ))
        }
    }
}
