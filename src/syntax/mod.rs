//! The nom grammar. Private: the public entry points are [`parse_command`],
//! [`decode_command`], [`decode_reply`] and [`parse_reply_line`], which never expose nom.
//!
//! Each function is named after the RFC 5321 (or extension) ABNF rule it implements and
//! quotes that rule. Lines arrive framed (CRLF found by `line.rs`), so every parser here
//! works on complete input.

pub(crate) mod address;
pub(crate) mod command;
pub(crate) mod ehlo;
pub(crate) mod params;
pub(crate) mod reply;

use std::borrow::Cow;

use nom::IResult;

pub use command::{decode_command, parse_command};
pub use reply::{ReplyLine, decode_reply, parse_reply_line};

pub(crate) type Res<'a, T> = IResult<&'a [u8], T>;

/// Which deviations from the strict RFC 5321 grammar the command parser tolerates.
///
/// Lenient by default, as real clients commonly send these; each flag is a runtime
/// switch, never a compile-time feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grammar {
    /// `MAIL FROM: <a@b>`: spaces between the colon and the path.
    pub allow_space_after_colon: bool,
    /// Spaces at the end of a command line.
    pub allow_trailing_space: bool,
    /// `_` inside domain labels (seen in EHLO from hosts with such names).
    pub allow_underscore_in_domain: bool,
}

impl Grammar {
    /// The RFC 5321 ABNF exactly.
    pub const fn strict() -> Self {
        Self {
            allow_space_after_colon: false,
            allow_trailing_space: false,
            allow_underscore_in_domain: false,
        }
    }

    /// The common deviations accepted (the default).
    pub const fn lenient() -> Self {
        Self {
            allow_space_after_colon: true,
            allow_trailing_space: true,
            allow_underscore_in_domain: true,
        }
    }
}

impl Default for Grammar {
    fn default() -> Self {
        Self::lenient()
    }
}

/// What every parser of a command line needs: the grammar, and the line itself as text,
/// checked as UTF-8 once so that no field has to be checked again.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    pub(crate) g: Grammar,
    line: &'a str,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(line: &'a str, g: &Grammar) -> Self {
        Self { g: *g, line }
    }

    /// `sub`, a slice of the line cut at ASCII bytes, as text. The slice is found by its
    /// address, so this costs two char-boundary checks rather than a UTF-8 scan; `None`
    /// only if `sub` lies outside the line or cuts a character (a parser bug).
    #[inline(always)]
    pub(crate) fn text(&self, sub: &'a [u8]) -> Option<Cow<'a, str>> {
        let off = (sub.as_ptr() as usize).wrapping_sub(self.line.as_ptr() as usize);
        self.line
            .get(off..off.checked_add(sub.len())?)
            .map(Cow::Borrowed)
    }
}

/// A slice of a line already checked as UTF-8, cut at ASCII boundaries, as text.
/// Fails (as a nom error) only if that promise is broken.
pub(crate) fn utf8(i: &[u8]) -> Option<Cow<'_, str>> {
    std::str::from_utf8(i).ok().map(Cow::Borrowed)
}

pub(crate) fn fail<T>(i: &[u8]) -> Res<'_, T> {
    Err(nom::Err::Error(nom::error::Error::new(
        i,
        nom::error::ErrorKind::Verify,
    )))
}
