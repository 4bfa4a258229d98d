//! What the client machine reports, and the values the application hands it.

use std::fmt;

use thiserror::Error;

use crate::error::DecodeError;
use crate::types::{
    Capabilities, ForwardPath, MailParams, Mechanism, RcptParams, Reply, ReversePath,
};

/// Names one message handed to [`Client::send_message`](super::Client::send_message), or
/// one streamed transaction opened with
/// [`Client::start_transaction`](super::Client::start_transaction); every event about it
/// carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub(crate) u64);

impl MessageId {
    /// The number, counting from 1 in the order messages were queued.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One recipient of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recipient {
    /// The forward path.
    pub path: ForwardPath<'static>,
    /// RCPT parameters (DSN `NOTIFY`/`ORCPT`, others).
    pub params: RcptParams<'static>,
}

/// The envelope of a message (RFC 5321 2.3.1): reverse path, recipients and the MAIL
/// parameters the application wishes for.
///
/// The client adds `SIZE`, `BODY` and `SMTPUTF8` itself when the server offers them and
/// the message needs them; the application sets only DSN (`RET`, `ENVID`, and per
/// recipient `NOTIFY`, `ORCPT`), `REQUIRETLS`, `MT-PRIORITY`, `AUTH=`, or an explicit
/// `BODY=BINARYMIME`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// The reverse path (`<>` for bounces).
    pub from: ReversePath<'static>,
    /// The recipients, in the order RCPT is sent.
    pub recipients: Vec<Recipient>,
    /// MAIL parameters wished for.
    pub params: MailParams<'static>,
}

impl Envelope {
    /// An envelope without recipients yet.
    pub fn new(from: ReversePath<'static>) -> Self {
        Self {
            from,
            recipients: Vec::new(),
            params: MailParams::default(),
        }
    }

    /// Adds a recipient without parameters.
    #[must_use]
    pub fn to(self, path: ForwardPath<'static>) -> Self {
        self.to_with(path, RcptParams::default())
    }

    /// Adds a recipient with parameters.
    #[must_use]
    pub fn to_with(mut self, path: ForwardPath<'static>, params: RcptParams<'static>) -> Self {
        self.recipients.push(Recipient { path, params });
        self
    }

    /// Sets the MAIL parameters.
    #[must_use]
    pub fn with_params(mut self, params: MailParams<'static>) -> Self {
        self.params = params;
        self
    }
}

/// Something that happened; drain with [`Client::poll_event`](super::Client::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server's greeting (RFC 5321 3.1), whatever its code.
    Greeting(Reply),
    /// The server's extensions from EHLO/LHLO (empty after a HELO fallback). Comes again
    /// after STARTTLS, as the earlier list must be forgotten (RFC 3207 4.2).
    Capabilities(Capabilities),
    /// The server said `220` to STARTTLS. The application MUST write every pending
    /// [`Client::poll_transmit`](super::Client::poll_transmit) buffer, then run the TLS
    /// handshake on the same connection, then call
    /// [`Client::tls_established`](super::Client::tls_established). It MUST NOT feed the
    /// machine any bytes read before the handshake.
    StartTls,
    /// AUTH succeeded with this mechanism (`235`, RFC 4954 4).
    Authenticated {
        /// The mechanism used.
        mechanism: Mechanism<'static>,
    },
    /// An application-driven mechanism got a `334` challenge (decoded from base64). Answer
    /// with [`Client::sasl_respond`](super::Client::sasl_respond) or
    /// [`Client::sasl_cancel`](super::Client::sasl_cancel).
    SaslChallenge {
        /// The mechanism in progress.
        mechanism: Mechanism<'static>,
        /// The decoded challenge (may be empty).
        challenge: Vec<u8>,
    },
    /// The session is set up (greeting, EHLO, STARTTLS and AUTH as configured); queued
    /// messages now go out. Comes once per session.
    Ready,
    /// The server's reply to the MAIL of a streamed transaction
    /// ([`Client::start_transaction`](super::Client::start_transaction)); 2yz means the
    /// transaction is open. After a refusal the transaction's
    /// [`Event::MessageResult`] follows.
    MailResult {
        /// The transaction.
        message: MessageId,
        /// The MAIL reply.
        reply: Reply,
    },
    /// A streamed transaction may send its body now: the server said `354` to DATA, or
    /// (with CHUNKING) every RCPT was answered, one accepted, and the first BDAT chunk
    /// is about to go. Body bytes given before this were held and now flow.
    DataReady {
        /// The transaction.
        message: MessageId,
    },
    /// The server's reply to one RCPT.
    RecipientResult {
        /// The message.
        message: MessageId,
        /// The recipient, as given in the envelope.
        recipient: ForwardPath<'static>,
        /// The RCPT reply; 2yz means accepted.
        reply: Reply,
    },
    /// LMTP only (RFC 2033 4.2): the delivery reply for one accepted recipient after the
    /// message body.
    DeliveryResult {
        /// The message.
        message: MessageId,
        /// The recipient.
        recipient: ForwardPath<'static>,
        /// The reply; 2yz means delivered.
        reply: Reply,
    },
    /// The outcome of one message; every message handed to `send_message` gets exactly
    /// one.
    MessageResult {
        /// The message.
        message: MessageId,
        /// What became of it.
        status: MessageStatus,
        /// The reply that decided it, when one did (`None` for LMTP, whose replies come as
        /// [`Event::DeliveryResult`], and for messages never sent).
        reply: Option<Reply>,
    },
    /// The session failed. Always fatal: a [`Event::Closed`] follows (at once, or
    /// after the `221` to the QUIT the client sends when the dialogue is still in step).
    Error(ClientError),
    /// The session is over. Write what `poll_transmit` still returns, then close the
    /// connection. Nothing more happens.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageStatus {
    /// The server took responsibility for it (final `250`; RFC 5321 6.1). With LMTP,
    /// every accepted recipient got a 2yz delivery reply.
    Accepted,
    /// LMTP: some accepted recipients were delivered, others not (see the
    /// [`Event::DeliveryResult`] events).
    PartiallyAccepted,
    /// MAIL, DATA, a BDAT chunk or the final reply was refused; the reply says how
    /// (4yz: try again later, 5yz: do not).
    Rejected,
    /// Every RCPT was refused, so no body was sent.
    NoValidRecipients,
    /// Not delivered, because the client refused to send it to this server: the server
    /// lacks an extension the message needs, or the content breaks a rule of the wire
    /// (see [`MessageError`]). Whole messages are refused before MAIL. A streamed body
    /// is checked as it comes; when it breaks a rule midway the transaction is cancelled
    /// so that the server can never accept the partial message (RSET, or inside DATA a
    /// closed connection, [`CloseReason::Aborted`]). Fault: neither side; the message
    /// must go elsewhere or be converted.
    NotSent(MessageError),
    /// The session ended before the server answered. The message may or may not have
    /// been delivered if its body had already gone out (RFC 5321 6.1 accepts a duplicate
    /// rather than a loss: send again).
    Aborted,
}

/// Why a message could not be offered to this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The body holds 8-bit bytes and the server does not offer 8BITMIME (RFC 6152 3).
    #[error("message has 8-bit content but the server does not offer 8BITMIME")]
    EightBitMimeNotOffered,
    /// `BODY=BINARYMIME` needs both CHUNKING and BINARYMIME (RFC 3030 3).
    #[error("BINARYMIME needs CHUNKING and BINARYMIME, not both offered")]
    BinaryMimeNotOffered,
    /// A non-ASCII address needs SMTPUTF8 (RFC 6531 3.4).
    #[error("an address is not ASCII but the server does not offer SMTPUTF8")]
    SmtpUtf8NotOffered,
    /// DSN parameters were asked for but DSN is not offered (RFC 3461 4).
    #[error("DSN parameters requested but the server does not offer DSN")]
    DsnNotOffered,
    /// REQUIRETLS needs the extension and a TLS session (RFC 8689 4.1).
    #[error("REQUIRETLS requested but not offered or the session is not under TLS")]
    RequireTlsUnavailable,
    /// REQUIRETLS needs TLS whose server certificate was verified (RFC 8689 4.2.1), and
    /// the application reported the handshake with
    /// [`Client::tls_established`](super::Client::tls_established), not
    /// [`Client::tls_established_verified`](super::Client::tls_established_verified).
    /// Fault: the connection's security; the message must go over a verified one.
    #[error("REQUIRETLS requested but the server's certificate was not verified")]
    RequireTlsUnverified,
    /// A line of the body is longer than 998 octets without its CRLF (RFC 5321
    /// 4.5.3.1.6, RFC 5322 2.1.1). Fault: the message; encode it (quoted-printable,
    /// base64) or send it as `BODY=BINARYMIME`, which has no line limit.
    #[error("line {line} of the message is longer than 998 octets")]
    LineTooLong {
        /// The line, counting from 1.
        line: usize,
    },
    /// The message exceeds the server's SIZE limit (RFC 1870 4).
    #[error("message of {size} octets exceeds the server's SIZE limit of {limit}")]
    TooLarge {
        /// The message size.
        size: u64,
        /// The announced limit.
        limit: u64,
    },
}

/// Why a session failed. Each variant says who is at fault; all are fatal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The greeting was not `220` (`554`: no service, RFC 5321 3.1). Fault: server policy.
    #[error("server refused the session: {0}")]
    GreetingRefused(Reply),
    /// EHLO and HELO (or LHLO) were both refused. Fault: server policy.
    #[error("server refused EHLO/HELO: {0}")]
    HelloRejected(Reply),
    /// STARTTLS is required by policy but not offered. Fault: server (or an attacker who
    /// stripped it from the EHLO reply).
    #[error("STARTTLS required but not offered")]
    StartTlsNotOffered,
    /// STARTTLS is required by policy but the server refused it.
    #[error("STARTTLS required but refused: {0}")]
    StartTlsRejected(Reply),
    /// Bytes arrived after the `220` to STARTTLS and before the TLS handshake: someone
    /// tries to inject replies that would be taken as coming from inside TLS
    /// (CVE-2011-0411 class). They were dropped. Fault: server or attacker.
    #[error("{bytes} bytes received after the 220 to STARTTLS before TLS (response injection)")]
    StartTlsInjection {
        /// How many bytes were dropped.
        bytes: usize,
    },
    /// Credentials are configured but the server offers no AUTH.
    #[error("authentication configured but the server offers no AUTH")]
    AuthNotOffered,
    /// None of the configured mechanisms is offered.
    #[error("no configured SASL mechanism is offered by the server")]
    NoCommonMechanism,
    /// Credentials would go in clear; refused by policy (`allow_plaintext_without_tls`).
    /// Fault: configuration or server (no STARTTLS).
    #[error("refusing to send credentials without TLS")]
    AuthRequiresTls,
    /// AUTH failed (`535` and friends, or the exchange was cancelled).
    #[error("authentication failed: {0}")]
    AuthFailed(Reply),
    /// A reply broke the grammar of RFC 5321 4.2 (bad code, mixed codes in a
    /// multi-line reply). Fault: server.
    #[error("malformed reply: {0}")]
    MalformedReply(DecodeError),
    /// A reply line exceeded `max_reply_line`; the session ends as soon as the limit
    /// is passed, without buffering more. Fault: server.
    #[error("reply line longer than {limit} octets")]
    ReplyTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// A reply had more than `max_reply_lines` lines. Fault: server.
    #[error("reply has too many lines")]
    TooManyReplyLines,
    /// The configured hello name ([`ClientConfig::hello_host`](super::ClientConfig))
    /// holds a U-label; EHLO, HELO and LHLO take A-labels or an address literal only
    /// (RFC 6531 3.7.1, RFC 5321 4.1.1.1). Nothing was said but QUIT. Fault:
    /// configuration; convert the name to A-labels (`xn--`, RFC 5891) first.
    #[error("the hello name is not ASCII; EHLO needs A-labels (RFC 6531 3.7.1)")]
    HelloNameNotAscii,
    /// A reply came when none was due. Fault: server.
    #[error("unexpected reply: {0}")]
    UnexpectedReply(Reply),
    /// No reply within the RFC 5321 4.5.3.2 time.
    #[error("timed out waiting for the reply to {0}")]
    Timeout(Phase),
    /// The server closed the connection without `421` or `221`.
    #[error("connection closed by the server")]
    ConnectionLost,
}

/// What the client was waiting for, in [`ClientError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// The greeting.
    Greeting,
    /// EHLO, HELO or LHLO.
    Hello,
    /// STARTTLS.
    StartTls,
    /// AUTH.
    Auth,
    /// MAIL.
    Mail,
    /// RCPT.
    Rcpt,
    /// The `354` to DATA.
    DataInit,
    /// Sending the body, or a BDAT chunk's reply.
    DataBlock,
    /// The reply after the end of data.
    DataTerm,
    /// RSET.
    Rset,
    /// QUIT.
    Quit,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Greeting => "greeting",
            Self::Hello => "EHLO",
            Self::StartTls => "STARTTLS",
            Self::Auth => "AUTH",
            Self::Mail => "MAIL",
            Self::Rcpt => "RCPT",
            Self::DataInit => "DATA",
            Self::DataBlock => "data block",
            Self::DataTerm => "end of data",
            Self::Rset => "RSET",
            Self::Quit => "QUIT",
        })
    }
}

/// Why the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// QUIT was answered (or the server closed after QUIT).
    Quit,
    /// The server sent `421`: service not available, closing (RFC 5321 3.8).
    ServiceUnavailable(Reply),
    /// The [`Event::Error`] before this event ended it.
    Error,
    /// A streamed transaction was cancelled inside its DATA body, by the application
    /// ([`Client::abort_transaction`](super::Client::abort_transaction)) or by the client
    /// because the body broke a rule ([`MessageStatus::NotSent`]): closing the
    /// connection is the only way to keep the partial message from being delivered.
    Aborted,
}
