//! Error types.
//!
//! Two families, never mixed: [`UsageError`], shared by both machines, is a mistake by
//! the embedding application (calling an action in the wrong state); [`DecodeError`] and
//! [`InvalidValue`] describe
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
    /// A `BDAT` line that does not parse (RFC 3030 2): the size of the chunk that
    /// follows cannot be read, so its octets cannot be skipped. A server answers `501`
    /// and closes.
    #[error("BDAT line with no readable chunk size")]
    ChunkSize,
}

impl DecodeError {
    pub(crate) const fn syntax(offset: usize, kind: SyntaxErrorKind) -> Self {
        Self::Syntax { offset, kind }
    }
}

/// A call that does not fit the machine's state, on either side. Hands back what was
/// passed in (`()` where nothing was owned). Fault: the embedding application; the
/// machine is unchanged and the session goes on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct UsageError<T = ()> {
    /// What was wrong.
    pub kind: UsageErrorKind,
    /// The argument, returned.
    pub value: T,
}

impl<T> UsageError<T> {
    pub(crate) fn new(kind: UsageErrorKind, value: T) -> Self {
        Self { kind, value }
    }

    /// Takes back the argument.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The same error handing back `value` instead.
    pub(crate) fn with<U>(self, value: U) -> UsageError<U> {
        UsageError {
            kind: self.kind,
            value,
        }
    }
}

impl From<UsageErrorKind> for UsageError {
    fn from(kind: UsageErrorKind) -> Self {
        Self { kind, value: () }
    }
}

/// Kinds of [`UsageError`]: the first three come from the server machine, the others
/// from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UsageErrorKind {
    /// The ticket is not the one the machine waits for (stale, or another connection's).
    #[error("ticket does not match the pending decision")]
    WrongTicket,
    /// The answer does not fit the decision (e.g. a `334` challenge to MAIL, or the wrong
    /// number of LMTP replies).
    #[error("answer does not fit the pending decision")]
    WrongAnswer,
    /// The machine is not in a state where this call means anything.
    #[error("call does not fit the session state")]
    WrongState,
    /// The session is closed or quitting.
    #[error("the session is closed or quitting")]
    Closed,
    /// A message needs at least one recipient.
    #[error("a message needs at least one recipient")]
    NoRecipients,
    /// `tls_established` without a preceding `StartTls` event.
    #[error("not waiting for a TLS handshake")]
    NotAwaitingTls,
    /// `sasl_respond`/`sasl_cancel` without a pending SASL challenge.
    #[error("no SASL challenge is waiting for an answer")]
    NoSaslChallenge,
    /// [`Client::start_transaction`](crate::client::Client::start_transaction) while a
    /// streamed transaction is open; one runs at a time.
    #[error("a streamed transaction is already open")]
    TransactionOpen,
    /// The id does not name the open streamed transaction (it ended, was aborted, or was
    /// never started with `start_transaction`).
    #[error("no such streamed transaction is open")]
    NoSuchTransaction,
    /// A recipient after the body began, or body after its end.
    #[error("recipients come before the body, body before its end")]
    OutOfOrder,
    /// A non-ASCII recipient for a streamed transaction whose MAIL already went out
    /// without SMTPUTF8 (RFC 6531 3.4); pass `smtputf8` in the MAIL parameters when
    /// such recipients may follow.
    #[error("a non-ASCII recipient needs SMTPUTF8 on MAIL, which already went without it")]
    NeedsSmtpUtf8,
}
