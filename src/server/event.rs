//! What the server machine tells the application, and the tickets it answers with.

use bytes::Bytes;

pub use crate::error::{UsageError, UsageErrorKind};
use crate::trace::{DateTime, Protocol, Received};
use crate::types::{
    ForwardPath, Host, MailParams, Mechanism, RcptParams, Reply, ReversePath, Secret,
};

/// Names one decision the machine waits for. It must be answered with
/// [`Server::accept`](super::Server::accept) or [`Server::respond`](super::Server::respond)
/// (or, for SASL steps, [`Server::sasl_challenge`](super::Server::sasl_challenge)); until
/// then no further command is processed.
#[must_use = "the session stalls until the ticket is answered"]
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    pub(crate) conn: u64,
    pub(crate) seq: u64,
}

/// An event from the server machine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// EHLO, HELO or LHLO: accept (the crate replies with the greeting or the extension
    /// list) or refuse with a reply.
    Hello(HelloRequest),
    /// MAIL FROM, already checked for syntax, sequence and parameters.
    Mail(MailRequest),
    /// RCPT TO, already checked for syntax, sequence, limits and parameters.
    Rcpt(RcptRequest),
    /// A message body begins (after `354`, or with the first BDAT chunk), with the
    /// session facts a delivering or relaying application needs for its trace fields.
    MessageStart(MessageStart),
    /// A piece of the message body, dot-unstuffed, exactly as it will be stored. Pieces
    /// share the receive buffer's memory (no copy).
    MessageChunk(Bytes),
    /// The body is complete; answer once it is safely stored (RFC 5321 6.1). In LMTP
    /// mode, answer with one reply per accepted recipient.
    MessageEnd(MessageEnd),
    /// The message in progress was dropped (too big, bare line endings, overlong line,
    /// transaction reset, connection lost). Discard what was received of it. Inside DATA
    /// a failing message stops producing chunks at once, and this event comes when its
    /// end has been read, with a reason that does not depend on how the input was split.
    MessageAborted(AbortReason),
    /// AUTH PLAIN or LOGIN: the decoded credentials; accept (`235`) or refuse (`535`).
    Auth(AuthRequest),
    /// A step of any other SASL mechanism: reply with a challenge, accept or refuse.
    SaslStep(SaslStep),
    /// VRFY when [`ServerConfig::ask_vrfy`](super::ServerConfig::ask_vrfy) is set.
    Vrfy(VrfyRequest),
    /// The `220` to STARTTLS is queued. The transport MUST write all pending output,
    /// drop whatever it has read but not fed to the machine, run the TLS handshake and
    /// then call [`Server::tls_established`](super::Server::tls_established).
    StartTls,
    /// Something the peer did wrong, answered on the wire already; for logs.
    Violation(Violation),
    /// The session is over: write the pending output, then close the connection.
    Closed(CloseReason),
}

/// Which greeting verb a [`HelloRequest`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelloKind {
    /// `EHLO`
    Ehlo,
    /// `HELO`
    Helo,
    /// `LHLO`
    Lhlo,
}

/// EHLO/HELO/LHLO to decide on.
#[derive(Debug)]
#[non_exhaustive]
pub struct HelloRequest {
    /// Answer with this.
    pub ticket: Ticket,
    /// Which verb.
    pub kind: HelloKind,
    /// The name the client gave.
    pub host: Host<'static>,
}

/// MAIL FROM to decide on.
#[derive(Debug)]
#[non_exhaustive]
pub struct MailRequest {
    /// Answer with this.
    pub ticket: Ticket,
    /// The reverse path.
    pub from: ReversePath<'static>,
    /// The parameters, validated against the extensions offered.
    pub params: MailParams<'static>,
}

/// RCPT TO to decide on.
#[derive(Debug)]
#[non_exhaustive]
pub struct RcptRequest {
    /// Answer with this.
    pub ticket: Ticket,
    /// The forward path. RFC 5321 4.5.1 requires accepting `<Postmaster>`.
    pub to: ForwardPath<'static>,
    /// The parameters, validated against the extensions offered.
    pub params: RcptParams<'static>,
}

/// The facts of the session and transaction a message body belongs to: what a
/// `Received:` field (RFC 5321 4.4) and a `Return-Path:` field are made of.
///
/// An application that delivers or relays the message MUST prepend a `Received:` field
/// (RFC 5321 4.4, 3.6.3; [`MessageStart::received`] builds one), and one that delivers it
/// finally MUST add `Return-Path:` ([`crate::trace::return_path`]) above it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MessageStart {
    /// The greeting verb the client used.
    pub hello: HelloKind,
    /// The name the client gave in EHLO, HELO or LHLO.
    pub hello_host: Host<'static>,
    /// True when the session runs over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// True after a successful AUTH.
    pub authenticated: bool,
    /// The reverse path of the transaction.
    pub from: ReversePath<'static>,
    /// True when MAIL carried `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// The recipients accepted, in order (for `Delivered-To:` fields, say). A
    /// `Received:` field names the recipient in its `for` clause only when there is
    /// exactly one (RFC 5321 4.4 warns against listing several).
    pub recipients: Vec<ForwardPath<'static>>,
}

impl MessageStart {
    /// The `with` protocol of this message's `Received:` field (RFC 3848, RFC 6531
    /// 3.7.3): ESMTP, ESMTPS, ESMTPA, ESMTPSA, LMTP..., UTF8SMTP... or SMTP after HELO.
    pub fn protocol(&self) -> Protocol {
        Protocol::from_session(self.hello, self.tls, self.authenticated, self.smtputf8)
    }

    /// A `Received:` field for this message from the session's facts: `by` is this
    /// server's name (usually [`ServerConfig::hostname`](super::ServerConfig::hostname)),
    /// `date` the time of receipt (the crate reads no clock). Add what only the transport
    /// knows with the builder: [`Received::peer`], [`Received::tls`], [`Received::id`].
    ///
    /// ```
    /// # use smtp_sansio::server::MessageStart;
    /// # fn stamp(start: &MessageStart) -> Result<Vec<u8>, smtp_sansio::InvalidValue> {
    /// use smtp_sansio::trace::{DateTime, return_path};
    /// use std::time::SystemTime;
    ///
    /// let date = DateTime::from_system_time(SystemTime::now(), 0)?;
    /// let received = start
    ///     .received("mx.example.org", date)
    ///     .peer("192.0.2.7".parse().expect("an address"))
    ///     .id("1A2B3C");
    /// // Final delivery: Return-Path on top, then Received, then the message.
    /// let mut head = return_path(&start.from);
    /// head.extend_from_slice(&received.to_bytes());
    /// # Ok(head) }
    /// ```
    pub fn received(&self, by: &str, date: DateTime) -> Received {
        let r = Received::new(by, self.protocol(), date).from_host(&self.hello_host);
        match self.recipients.as_slice() {
            [only] => r.recipient(only),
            _ => r,
        }
    }
}

/// The end of a message body.
#[derive(Debug)]
#[non_exhaustive]
pub struct MessageEnd {
    /// Answer with this once the message is stored (or refused).
    pub ticket: Ticket,
    /// Octets of body delivered through [`Event::MessageChunk`].
    pub size: u64,
    /// Recipients accepted for this message, in order; LMTP wants one reply for each.
    pub recipients: Vec<ForwardPath<'static>>,
}

/// Why a message was dropped before its end was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbortReason {
    /// Larger than the configured limit (`552 5.3.4` after the end).
    TooBig,
    /// A bare CR or LF under [`BareLineEndings::Reject`](crate::data::BareLineEndings).
    BareLineEnding,
    /// A text line over the limit (`500 5.5.6` after the end).
    LineTooLong,
    /// The connection closed or timed out mid-message.
    ConnectionLost,
    /// RSET or EHLO ended a BDAT transaction before its last chunk.
    Reset,
    /// More `Received:` fields than [`Limits::hops`](super::Limits::hops): a mail loop
    /// (RFC 5321 6.3; `554 5.4.6`).
    TooManyHops,
}

/// Decoded AUTH PLAIN / LOGIN credentials.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthRequest {
    /// Answer with this.
    pub ticket: Ticket,
    /// `PLAIN` or `LOGIN`.
    pub mechanism: Mechanism<'static>,
    /// The authorization identity asked for (PLAIN only), if any.
    pub authzid: Option<String>,
    /// The authentication identity (user name).
    pub authcid: String,
    /// The password.
    pub password: Secret<String>,
}

/// One client response in an application-driven SASL exchange.
#[derive(Debug)]
#[non_exhaustive]
pub struct SaslStep {
    /// Answer with this.
    pub ticket: Ticket,
    /// The mechanism.
    pub mechanism: Mechanism<'static>,
    /// The decoded response; `None` when AUTH came without an initial response.
    pub response: Option<Secret<Vec<u8>>>,
}

/// VRFY to answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct VrfyRequest {
    /// Answer with this.
    pub ticket: Ticket,
    /// The argument as sent.
    pub query: String,
}

/// A peer violation the machine has already answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A command that could not be parsed or was out of sequence; the reply sent.
    Command {
        /// The reply the machine sent.
        reply: Reply,
    },
    /// Bytes arrived after STARTTLS and before the TLS handshake; they were discarded
    /// (CVE-2011-0411).
    StartTlsInjection {
        /// How many octets were dropped.
        octets: usize,
    },
}

/// Why the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent QUIT.
    Quit,
    /// The peer closed the connection.
    PeerClosed,
    /// No input within the timeout (`421 4.4.2` sent).
    Timeout,
    /// Too many errors (`421 4.7.0` sent).
    TooManyErrors,
    /// Too much input while a decision was pending (`421 4.7.0` sent).
    InputOverflow,
    /// The input can no longer be framed (a BDAT chunk whose size is unreadable, or a
    /// refused one larger than [`Limits::bdat_discard`](super::Limits::bdat_discard));
    /// the reply was sent and the session ends.
    Unrecoverable,
    /// The application ended the session with [`Server::shutdown`](super::Server::shutdown).
    Application,
}

/// How the application answers a decision ([`Server::answer`](super::Server::answer);
/// [`Server::accept`](super::Server::accept) and its siblings are shorthands).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// The standard positive reply (for EHLO, the extension list).
    Accept,
    /// This reply: 2xx accepts with its text, 4xx/5xx refuses.
    Reply(Reply),
    /// LMTP: one reply per accepted recipient, in order (RFC 2033 4.2).
    Each(Vec<Reply>),
    /// A `334` challenge in an application-driven SASL exchange.
    Challenge(Vec<u8>),
}

/// The error of every call that answers a decision: hands back the ticket and the
/// answer; the decision stays pending.
pub type AnswerError = UsageError<(Ticket, Answer)>;
