//! Error types.
//!
//! Two families, never mixed: [`server::UsageError`](crate::server::UsageError) (and the client's) is a mistake by the embedding application
//! (calling an action in the wrong state); [`DecodeError`] and [`InvalidValue`] describe
//! bytes or values that break the protocol's rules. A peer's violation is answered on the
//! wire by the state machines and only reported as information.

use thiserror::Error;

/// A value offered to a constructor breaks the protocol's grammar.
///
/// Fault: the caller that tried to build the value. Not fatal to anything.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
#[error("invalid {what}: {why}")]
pub struct InvalidValue {
    /// Which kind of value was being built.
    pub what: &'static str,
    /// Which rule it broke.
    pub why: &'static str,
}

impl InvalidValue {
    pub(crate) const fn new(what: &'static str, why: &'static str) -> Self {
        Self { what, why }
    }
}

/// Why input bytes could not be decoded.
///
/// Fault: the peer that sent them (or the caller, when decoding its own data).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// More bytes are needed (no CRLF yet). Not an error of the peer: read more and retry.
    #[error("incomplete input")]
    Incomplete,
    /// The bytes break the grammar.
    #[error("syntax error at offset {offset}: {kind}")]
    Syntax {
        /// Byte offset into the line where the problem was found.
        offset: usize,
        /// What was wrong.
        kind: SyntaxErrorKind,
    },
}

/// The kind of a syntax error, chosen so that a server can pick the reply code that
/// RFC 5321 4.2.4, RFC 1869 and RFC 6531 name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// The command verb is not a verb at all (RFC 5321: `500`).
    #[error("bad command verb")]
    Verb,
    /// The arguments do not match the command's grammar (RFC 5321: `501`).
    #[error("bad arguments")]
    Arguments,
    /// A MAIL/RCPT parameter keyword is not known (RFC 5321 4.1.1.11: `555`).
    #[error("unknown parameter")]
    UnknownParameter,
    /// A known MAIL/RCPT parameter has a bad value (`501`).
    #[error("bad parameter value")]
    ParameterValue,
    /// A MAIL/RCPT parameter appears twice (`501`).
    #[error("duplicate parameter")]
    DuplicateParameter,
    /// The line holds a NUL, a bare CR or LF, or bytes that are not UTF-8 (`500`).
    #[error("forbidden byte in line")]
    Byte,
    /// A reply line breaks `Reply-line` (RFC 5321 4.2).
    #[error("bad reply")]
    Reply,
    /// The lines of a multi-line reply carry different codes (RFC 5321 4.2.1).
    #[error("reply code changes within a multi-line reply")]
    ReplyCodeMismatch,
}

impl DecodeError {
    pub(crate) const fn syntax(offset: usize, kind: SyntaxErrorKind) -> Self {
        Self::Syntax { offset, kind }
    }
}
