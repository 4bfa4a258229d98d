//! The replies the machine writes on its own, with the codes the RFCs name, and the
//! writers every reply goes out through.

use super::state::Pending;
use super::{AbortReason, Event, HelloKind, Server, Violation};
use crate::error::SyntaxErrorKind;
use crate::sasl;
use crate::types::{EnhancedStatus, Reply, ReplyCode};

/// A fixed reply: code, enhanced status (RFC 3463; `None` where RFC 2034 wants none,
/// as on `354`), text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Std {
    pub code: ReplyCode,
    pub status: Option<EnhancedStatus>,
    pub text: &'static str,
}

const fn s(code: u16, c: u8, sub: u16, d: u16, text: &'static str) -> Std {
    Std {
        code: ReplyCode::known(code),
        status: Some(EnhancedStatus::known(c, sub, d)),
        text,
    }
}

impl Std {
    /// The reply as a value, for events that report it.
    pub(super) fn to_reply(self) -> Reply {
        match self.status {
            Some(st) => Reply::fixed(self.code, st, self.text),
            None => Reply::new(self.code, crate::types::Text::fixed(self.text)),
        }
    }
}

pub(crate) const OK: Std = s(250, 2, 0, 0, "OK");
pub(crate) const SENDER_OK: Std = s(250, 2, 1, 0, "Sender OK");
pub(crate) const RCPT_OK: Std = s(250, 2, 1, 5, "Recipient OK");
pub(crate) const MESSAGE_OK: Std = s(250, 2, 0, 0, "Message accepted");
/// RFC 2034 covers 2xx, 4xx and 5xx replies only.
pub(crate) const START_DATA: Std = Std {
    code: ReplyCode::START_MAIL_INPUT,
    status: None,
    text: "End data with <CR><LF>.<CR><LF>",
};
pub(crate) const BYE: Std = s(221, 2, 0, 0, "Bye");
pub(crate) const HELP: Std = s(
    214,
    2,
    0,
    0,
    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS AUTH",
);
pub(crate) const VRFY: Std = s(
    252,
    2,
    5,
    0,
    "Cannot VRFY user, but will accept message and attempt delivery",
);
pub(crate) const TLS_READY: Std = s(220, 2, 0, 0, "Ready to start TLS");
pub(crate) const AUTH_OK: Std = s(235, 2, 7, 0, "Authentication successful");

pub(crate) const UNRECOGNIZED: Std = s(500, 5, 5, 2, "Syntax error, command unrecognized");
pub(crate) const BAD_BYTES: Std = s(500, 5, 5, 2, "Invalid character in command");
/// A command line over the limit: a syntax error (RFC 5321 4.5.3.1.4, RFC 3463 X.5.2).
pub(crate) const LINE_TOO_LONG: Std = s(500, 5, 5, 2, "Line too long");
/// A SASL response over the limit: RFC 4954 6 registers X.5.6 for exactly this.
pub(crate) const SASL_LINE_TOO_LONG: Std =
    s(500, 5, 5, 6, "Authentication Exchange line is too long");
/// A text line in DATA over the limit (RFC 5321 4.5.3.1.6): the message, not the
/// command, is at fault (RFC 3463 X.3.4).
pub(crate) const TEXT_LINE_TOO_LONG: Std = s(500, 5, 3, 4, "Message line too long");
pub(crate) const USE_LHLO: Std = s(500, 5, 5, 1, "This is an LMTP server: use LHLO");
pub(crate) const ARGUMENTS: Std = s(501, 5, 5, 4, "Syntax error in parameters or arguments");
pub(crate) const BAD_ARG_BYTES: Std = s(501, 5, 5, 2, "Invalid character in arguments");
pub(crate) const BAD_PARAM_VALUE: Std = s(501, 5, 5, 4, "Invalid parameter value");
pub(crate) const DUPLICATE_PARAM: Std = s(501, 5, 5, 4, "Duplicate parameter");
pub(crate) const NOT_IMPLEMENTED: Std = s(502, 5, 5, 1, "Command not implemented");
/// RFC 5321 7.3: a site that disables EXPN answers 252, which claims nothing.
pub(crate) const EXPN: Std = s(
    252,
    2,
    5,
    0,
    "Cannot EXPN, but will accept message and attempt delivery",
);
pub(crate) const NEED_HELLO: Std = s(503, 5, 5, 1, "Send EHLO or HELO first");
pub(crate) const NEED_EHLO: Std = s(503, 5, 5, 1, "Send EHLO first");
pub(crate) const NESTED_MAIL: Std = s(503, 5, 5, 1, "Sender already given");
pub(crate) const NEED_MAIL: Std = s(503, 5, 5, 1, "Need MAIL command");
pub(crate) const NEED_RCPT: Std = s(503, 5, 5, 1, "Need RCPT command");
pub(crate) const DATA_AFTER_BDAT: Std = s(503, 5, 5, 1, "DATA not allowed after BDAT");
pub(crate) const RCPT_AFTER_BDAT: Std = s(503, 5, 5, 1, "RCPT not allowed after BDAT");
pub(crate) const BINARYMIME_NEEDS_BDAT: Std = s(503, 5, 5, 1, "BODY=BINARYMIME requires BDAT");
pub(crate) const REFUSED_SEQUENCE: Std = s(503, 5, 5, 1, "No service here, send QUIT");
pub(crate) const TLS_ACTIVE: Std = s(503, 5, 5, 1, "TLS already active");
pub(crate) const AUTH_DONE: Std = s(503, 5, 5, 1, "Already authenticated");
pub(crate) const AUTH_IN_TXN: Std = s(503, 5, 5, 1, "AUTH not permitted during a mail transaction");
pub(crate) const NO_VALID_RCPTS: Std = s(554, 5, 5, 1, "No valid recipients");
pub(crate) const UNKNOWN_MECH: Std = s(504, 5, 5, 4, "Unrecognized authentication mechanism");
pub(crate) const UNKNOWN_PARAM: Std =
    s(555, 5, 5, 4, "Parameter not recognized or not implemented");
pub(crate) const AUTH_CANCELLED: Std = s(501, 5, 0, 0, "Authentication cancelled");
pub(crate) const BAD_BASE64: Std = s(501, 5, 5, 2, "Cannot decode response");
pub(crate) const BAD_SASL: Std = s(501, 5, 5, 2, "Malformed authentication response");
pub(crate) const TOO_MANY_RCPTS: Std = s(452, 4, 5, 3, "Too many recipients");
pub(crate) const TOO_BIG: Std = s(552, 5, 3, 4, "Message size exceeds fixed limit");
/// RCPT with a non-ASCII address without SMTPUTF8 on MAIL (RFC 6531 3.5).
pub(crate) const NEED_SMTPUTF8: Std = s(553, 5, 6, 7, "Non-ASCII address requires SMTPUTF8");
/// MAIL with a non-ASCII reverse path and no SMTPUTF8 parameter (RFC 6531 3.5: 550).
pub(crate) const NEED_SMTPUTF8_MAIL: Std = s(550, 5, 6, 7, "Non-ASCII address requires SMTPUTF8");
/// RFC 5321 6.3 loop detection; RFC 3463 X.4.6 "routing loop detected".
pub(crate) const TOO_MANY_HOPS: Std = s(554, 5, 4, 6, "Too many hops, mail loop suspected");
pub(crate) const BARE_LINE_ENDING: Std = s(550, 5, 6, 0, "Message contains bare CR or LF");
/// RFC 5321 2.3.5, RFC 6409 4.2; RFC 3463 X.1.8 (sender) and X.1.2 (recipient).
pub(crate) const SENDER_NOT_QUALIFIED: Std =
    s(553, 5, 1, 8, "Sender domain must be fully qualified");
pub(crate) const RCPT_NOT_QUALIFIED: Std =
    s(550, 5, 1, 2, "Recipient domain must be fully qualified");
pub(crate) const AUTH_REQUIRED: Std = s(530, 5, 7, 0, "Authentication required");
pub(crate) const TLS_REQUIRED: Std = s(530, 5, 7, 0, "Must issue a STARTTLS command first");
pub(crate) const REQUIRETLS_NEEDS_TLS: Std = s(530, 5, 7, 10, "REQUIRETLS needs a TLS session");
pub(crate) const ENCRYPTION_REQUIRED: Std = s(
    538,
    5,
    7,
    11,
    "Encryption required for requested authentication mechanism",
);
pub(crate) const TLS_UNAVAILABLE: Std = s(454, 4, 7, 0, "TLS not available");
pub(crate) const TIMEOUT: Std = s(421, 4, 4, 2, "Timeout, closing connection");
pub(crate) const TOO_MANY_ERRORS: Std = s(421, 4, 7, 0, "Too many errors, closing connection");
pub(crate) const OVERFLOW: Std = s(421, 4, 7, 0, "Too much pipelined input, closing connection");
pub(crate) const SHUTDOWN: Std = s(421, 4, 3, 2, "Service shutting down, closing connection");

/// `s` as one line of reply text: a CR or LF in the configured names becomes a space, so
/// that configuration can never write a second reply.
pub(super) fn one_line(s: String) -> String {
    if s.contains(['\r', '\n']) {
        s.replace(['\r', '\n'], " ")
    } else {
        s
    }
}

impl Server {
    /// Writes a one-line reply the machine composes: the enhanced status goes out only
    /// while ENHANCEDSTATUSCODES is offered (RFC 2034).
    pub(super) fn write_line(
        &mut self,
        code: ReplyCode,
        status: Option<EnhancedStatus>,
        text: &str,
    ) {
        let status = status.filter(|_| self.cfg.extensions.enhanced_status_codes);
        Reply::encode_line(&mut self.tx, code, false, status, text);
    }

    /// Writes one of the machine's fixed replies.
    pub(super) fn send_std(&mut self, r: &Std) {
        self.write_line(r.code, r.status, r.text);
    }

    /// Writes a reply the application (or a relay's upstream) chose. With
    /// ENHANCEDSTATUSCODES offered every line carries a code (RFC 2034 3): a reply without
    /// one gets `known`, the code that fits the decision it answers.
    pub(super) fn send_reply(&mut self, r: &Reply, known: EnhancedStatus) {
        if self.cfg.extensions.enhanced_status_codes {
            r.with_status_everywhere(known).encode(&mut self.tx);
        } else {
            r.without_status().encode(&mut self.tx);
        }
    }

    /// A protocol error by the client: reply, report, and count toward the error limit.
    pub(super) fn error(&mut self, r: &Std) {
        self.send_std(r);
        let reply = r.to_reply();
        self.events
            .push_back(Event::Violation(Violation::Command { reply }));
        self.count_error();
    }

    pub(super) fn ehlo_reply(&self, kind: HelloKind) -> Reply {
        use crate::types::{Capabilities, Capability, Text};
        let greet = one_line(format!("{} Hello", self.cfg.hostname));
        let greet = Text::new(greet).unwrap_or_else(|_| Text::fixed("localhost"));
        if kind == HelloKind::Helo {
            return Reply::new(crate::types::ReplyCode::OK, greet);
        }
        let x = &self.cfg.extensions;
        let mut caps = Vec::new();
        if x.pipelining {
            caps.push(Capability::Pipelining);
        }
        caps.push(Capability::Size(self.cfg.limits.message_size));
        if x.eight_bit_mime {
            caps.push(Capability::EightBitMime);
        }
        if x.smtputf8 {
            caps.push(Capability::SmtpUtf8);
        }
        if x.chunking {
            caps.push(Capability::Chunking);
            if x.binary_mime {
                caps.push(Capability::BinaryMime);
            }
        }
        if x.dsn {
            caps.push(Capability::Dsn);
        }
        if x.enhanced_status_codes {
            caps.push(Capability::EnhancedStatusCodes);
        }
        if self.cfg.starttls && !self.tls {
            caps.push(Capability::StartTls);
        }
        if self.auth_offered() {
            caps.push(Capability::Auth(self.cfg.auth_mechanisms.clone()));
        }
        if x.requiretls && self.tls {
            caps.push(Capability::RequireTls);
        }
        if x.mt_priority {
            caps.push(Capability::MtPriority(None));
        }
        caps.push(Capability::Help);
        Capabilities::new(greet, caps).to_reply()
    }

    /// Writes `334 base64(c)` (RFC 4954 4); an empty challenge is `334 `.
    pub(super) fn challenge(&mut self, c: &[u8]) {
        let mut text = Vec::new();
        sasl::base64_encode_into(c, &mut text);
        // base64 is ASCII: the conversion cannot fail.
        let text = std::str::from_utf8(&text).unwrap_or_default();
        self.write_line(ReplyCode::AUTH_CHALLENGE, None, text);
    }

    /// The first reply of a session: `220` with our name, or `554` for a refused one
    /// (RFC 5321 3.1). No enhanced code: the client has not asked for any yet.
    pub(super) fn greet(&mut self, refused: bool) {
        let (code, text) = if refused {
            (
                ReplyCode::TRANSACTION_FAILED,
                format!("{} No SMTP service here", self.cfg.hostname),
            )
        } else {
            (
                ReplyCode::READY,
                format!("{} {}", self.cfg.hostname, self.cfg.greeting),
            )
        };
        self.write_line(code, None, &one_line(text));
    }
}

/// The enhanced status code for an application's reply that carries none (RFC 2034 3):
/// the one RFC 3463 and RFC 4954 give for that decision and outcome, else the class
/// default.
pub(super) fn known_status(pending: &Pending, code: ReplyCode) -> EnhancedStatus {
    let (class, (subject, detail)) = (
        code.class(),
        match (pending, code.get()) {
            // RFC 4954 6 and RFC 3463 X.7.z: the authentication outcomes.
            (Pending::Auth | Pending::Sasl(_), 235) => (7, 0),
            (_, 454) => (7, 0),
            (_, 530) => (7, 0),
            (_, 534) => (7, 9),
            (_, 535) => (7, 8),
            (_, 538) => (7, 11),
            // RFC 3463 X.1.0 (other address status), X.1.5 (destination address valid).
            (Pending::Mail(..), 250) => (1, 0),
            (Pending::Rcpt(_), 250 | 251) => (1, 5),
            _ => (0, 0),
        },
    );
    EnhancedStatus::known(class, subject, detail)
}

pub(super) fn syntax_reply(kind: SyntaxErrorKind, in_verb: bool) -> Std {
    match kind {
        SyntaxErrorKind::Verb => UNRECOGNIZED,
        SyntaxErrorKind::Byte if in_verb => BAD_BYTES,
        SyntaxErrorKind::Byte => BAD_ARG_BYTES,
        SyntaxErrorKind::UnknownParameter => UNKNOWN_PARAM,
        SyntaxErrorKind::ParameterValue => BAD_PARAM_VALUE,
        SyntaxErrorKind::DuplicateParameter => DUPLICATE_PARAM,
        _ => ARGUMENTS,
    }
}

pub(super) fn abort_reply(reason: AbortReason) -> Std {
    match reason {
        AbortReason::TooBig => TOO_BIG,
        AbortReason::BareLineEnding => BARE_LINE_ENDING,
        AbortReason::LineTooLong => TEXT_LINE_TOO_LONG,
        AbortReason::TooManyHops => TOO_MANY_HOPS,
        _ => TOO_BIG,
    }
}
