//! Commands: framing the command line, dispatch on the parsed command, sequencing and
//! parameter policy for MAIL and RCPT, STARTTLS.

use bytes::Bytes;

use super::UnqualifiedDomains;
use super::replies::{self, syntax_reply};
use super::state::{Pending, Phase};
use super::{
    AbortReason, CloseReason, Event, HelloKind, HelloRequest, MailRequest, RcptRequest, Server,
    VrfyRequest,
};
use crate::error::{DecodeError, SyntaxErrorKind};
use crate::line::LineFrame;
use crate::syntax::parse_command;
use crate::types::{Body, Command, ForwardPath, Host, Mailbox, ReversePath};

/// RFC 3461 4.4: the longest ENVID value.
const ENVID_MAX: usize = 100;
/// RFC 3461 4.2: the longest ORCPT value.
const ORCPT_MAX: usize = 500;

/// Verbs of RFC 5321 and its relatives that exist but are not offered (`502`).
const KNOWN_UNSUPPORTED: &[&str] = &[
    "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML", "VERB", "ONEX", "XCLIENT", "XFORWARD",
];

impl Server {
    /// Consumes buffered input until it runs out or a decision is needed.
    pub(super) fn process(&mut self) {
        while self.pending.is_none() {
            let more = match self.phase {
                Phase::Command | Phase::Sasl(_) => self.step_line(),
                Phase::Data(_) => self.step_data(),
                Phase::Bdat(_) => self.step_bdat(),
                Phase::AwaitingTls => {
                    let n = self.rx.len();
                    self.rx.clear();
                    self.note_injection(n);
                    false
                }
                Phase::Closed => false,
            };
            if !more {
                break;
            }
        }
        self.check_overflow();
    }

    pub(super) fn step_line(&mut self) -> bool {
        match self.framer.next_line(&mut self.rx) {
            None => false,
            Some(LineFrame::TooLong { .. }) => {
                if matches!(self.phase, Phase::Sasl(_)) {
                    self.leave_sasl();
                    self.error(&replies::SASL_LINE_TOO_LONG);
                } else {
                    self.error(&replies::LINE_TOO_LONG);
                }
                true
            }
            Some(LineFrame::Line(line)) => {
                if matches!(self.phase, Phase::Sasl(_)) {
                    self.sasl_line(&line);
                } else {
                    self.command_line(&line);
                }
                true
            }
        }
    }

    /// One command line: parse, then answer a syntax error, or gate and dispatch.
    pub(super) fn command_line(&mut self, line: &Bytes) {
        match parse_command(line, &self.cfg.grammar) {
            Ok(cmd) => {
                if self.admits(&cmd) {
                    self.dispatch(cmd, line);
                }
            }
            Err(DecodeError::Syntax { offset, kind }) => self.syntax_error(line, offset, kind),
            Err(_) => self.error(&replies::UNRECOGNIZED),
        }
    }

    /// A line the grammar refused.
    fn syntax_error(&mut self, line: &Bytes, offset: usize, kind: SyntaxErrorKind) {
        if kind == SyntaxErrorKind::ChunkSize {
            // RFC 3030 2: the chunk's octets cannot be skipped, and reading them as
            // commands would let a chunk smuggle commands. Answer and close.
            self.send_std(&replies::ARGUMENTS);
            return self.finish(CloseReason::Unrecoverable);
        }
        let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
        if self.refused {
            return self.error(&replies::REFUSED_SEQUENCE);
        }
        self.error(&syntax_reply(kind, offset < verb_end))
    }

    /// The session-wide gates before a parsed command runs: a refused session honours
    /// QUIT only (RFC 5321 3.1), and with TLS required only the commands RFC 3207 4
    /// lists pass before it. False when the command was answered here.
    fn admits(&mut self, cmd: &Command<'_>) -> bool {
        if self.refused {
            match cmd {
                Command::Quit => self.quit(),
                _ => self.error(&replies::REFUSED_SEQUENCE),
            }
            return false;
        }
        let before_tls = matches!(
            cmd,
            Command::Ehlo(_)
                | Command::Helo(_)
                | Command::Lhlo(_)
                | Command::Noop(_)
                | Command::Rset
                | Command::StartTls
                | Command::Quit
        );
        if !self.cfg.require_tls || self.tls || before_tls {
            return true;
        }
        match cmd {
            Command::Bdat { size, .. } => self.discard_bdat(*size, replies::TLS_REQUIRED, 1),
            _ => self.error(&replies::TLS_REQUIRED),
        }
        false
    }

    /// Runs a command that passed the gates; the parsed command alone decides.
    fn dispatch(&mut self, cmd: Command<'_>, line: &Bytes) {
        match cmd {
            // Slices of the line, not copies (see tests/alloc.rs).
            Command::Ehlo(host) => self.hello(HelloKind::Ehlo, host.into_shared(line)),
            Command::Helo(host) => self.hello(HelloKind::Helo, host.into_shared(line)),
            Command::Lhlo(host) => self.hello(HelloKind::Lhlo, host.into_shared(line)),
            Command::Mail { from, params } => {
                self.mail(from.into_shared(line), params.into_owned())
            }
            Command::Rcpt { to, params } => self.rcpt(to.into_shared(line), params.into_owned()),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                self.reset_transaction();
                self.send_std(&replies::OK);
            }
            Command::Noop(_) => self.send_std(&replies::OK),
            Command::Help(_) => self.send_std(&replies::HELP),
            Command::Quit => self.quit(),
            Command::Vrfy(q) if self.cfg.ask_vrfy => {
                let ticket = self.ticket(Pending::Vrfy);
                let query = q.as_str().to_owned();
                self.events
                    .push_back(Event::Vrfy(VrfyRequest { ticket, query }));
            }
            // Not errors: RFC 5321 7.3 makes 252 the answer of a site that does not
            // verify or expand.
            Command::Vrfy(_) => self.send_std(&replies::VRFY),
            Command::Expn(_) => self.send_std(&replies::EXPN),
            Command::StartTls => self.starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth(
                mechanism.into_owned(),
                initial_response.map(|s| s.expose().as_bytes().to_vec()),
            ),
            Command::Other { verb, .. } => {
                let known = KNOWN_UNSUPPORTED
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(verb.as_str()));
                self.error(if known {
                    &replies::NOT_IMPLEMENTED
                } else {
                    &replies::UNRECOGNIZED
                });
            }
        }
    }

    /// EHLO, HELO or LHLO: LMTP takes LHLO only, SMTP never (RFC 2033 4.1).
    fn hello(&mut self, kind: HelloKind, host: Host<'static>) {
        if self.cfg.lmtp != (kind == HelloKind::Lhlo) {
            return self.error(if self.cfg.lmtp {
                &replies::USE_LHLO
            } else {
                &replies::UNRECOGNIZED
            });
        }
        // RFC 5321 4.1.4: a new EHLO resets any transaction.
        self.reset_transaction();
        let ticket = self.ticket(Pending::Hello(kind, host.clone()));
        self.events
            .push_back(Event::Hello(HelloRequest { ticket, kind, host }));
    }

    pub(super) fn quit(&mut self) {
        self.abort_message(AbortReason::ConnectionLost);
        self.send_std(&replies::BYE);
        self.finish(CloseReason::Quit);
    }

    /// RSET, EHLO: the transaction goes, the session stays (RFC 5321 4.1.1.5).
    pub(super) fn reset_transaction(&mut self) {
        if self.txn.as_ref().is_some_and(|t| t.bdat) {
            self.events
                .push_back(Event::MessageAborted(AbortReason::Reset));
        }
        self.txn = None;
    }

    pub(super) fn mail(
        &mut self,
        from: crate::types::ReversePath<'static>,
        params: crate::types::MailParams<'static>,
    ) {
        let Some(hello) = self.hello else {
            return self.error(&replies::NEED_HELLO);
        };
        if self.cfg.require_auth && !self.authenticated {
            return self.error(&replies::AUTH_REQUIRED);
        }
        if self.txn.is_some() {
            return self.error(&replies::NESTED_MAIL);
        }
        let x = &self.cfg.extensions;
        let esmtp = hello != HelloKind::Helo;
        let unsupported = (!esmtp && !params.is_empty())
            || (params.body == Some(Body::EightBitMime) || params.body == Some(Body::SevenBit))
                && !x.eight_bit_mime
            || params.body == Some(Body::BinaryMime) && !(x.binary_mime && x.chunking)
            || params.smtputf8 && !x.smtputf8
            || (params.ret.is_some() || params.envid.is_some()) && !x.dsn
            || params.auth.is_some() && !self.auth_offered()
            || params.requiretls && !x.requiretls
            || params.mt_priority.is_some() && !x.mt_priority
            || !params.other.is_empty();
        if unsupported {
            return self.error(&replies::UNKNOWN_PARAM);
        }
        // RFC 3461 4.4: an ENVID value is at most 100 characters.
        if params
            .envid
            .as_ref()
            .is_some_and(|e| e.encoded_len() > ENVID_MAX)
        {
            return self.error(&replies::BAD_PARAM_VALUE);
        }
        if params.requiretls && !self.tls {
            return self.error(&replies::REQUIRETLS_NEEDS_TLS);
        }
        if let (Some(n), Some(limit)) = (params.size, self.cfg.limits.message_size) {
            if n > limit {
                // RFC 1870 6: a declared size over the limit is a permanent failure.
                return self.send_std(&replies::TOO_BIG);
            }
        }
        if !from.is_ascii() && !params.smtputf8 {
            return self.error(&replies::NEED_SMTPUTF8_MAIL);
        }
        let from = match from {
            ReversePath::Mailbox(m) => match self.qualified(m) {
                Some(m) => ReversePath::Mailbox(m),
                None => return self.send_std(&replies::SENDER_NOT_QUALIFIED),
            },
            ReversePath::Null => ReversePath::Null,
        };
        let ticket = self.ticket(Pending::Mail(from.clone(), params.clone()));
        self.events.push_back(Event::Mail(MailRequest {
            ticket,
            from,
            params,
        }));
    }

    pub(super) fn rcpt(
        &mut self,
        to: crate::types::ForwardPath<'static>,
        params: crate::types::RcptParams<'static>,
    ) {
        if self.hello.is_none() {
            return self.error(&replies::NEED_HELLO);
        }
        let dsn = self.cfg.extensions.dsn;
        let smtputf8 = self.cfg.extensions.smtputf8;
        let max = self.cfg.limits.recipients;
        let to = match to {
            ForwardPath::Mailbox(m) => match self.qualified(m) {
                Some(m) => ForwardPath::Mailbox(m),
                None => return self.send_std(&replies::RCPT_NOT_QUALIFIED),
            },
            // RFC 5321 4.5.1: the bare form has no domain and is always accepted.
            ForwardPath::Postmaster => ForwardPath::Postmaster,
        };
        let Some(t) = self.txn.as_mut() else {
            return self.error(&replies::NEED_MAIL);
        };
        if t.bdat {
            return self.error(&replies::RCPT_AFTER_BDAT);
        }
        // RFC 6533 3: a UTF-8 original recipient needs DSN and SMTPUTF8 both offered.
        let utf8_orcpt = params
            .orcpt
            .as_ref()
            .is_some_and(|o| o.addr_type().eq_ignore_ascii_case("utf-8"));
        if (params.notify.is_some() || params.orcpt.is_some()) && !dsn
            || utf8_orcpt && !smtputf8
            || !params.other.is_empty()
        {
            return self.error(&replies::UNKNOWN_PARAM);
        }
        // RFC 3461 4.2: an ORCPT value is at most 500 characters.
        if params
            .orcpt
            .as_ref()
            .is_some_and(|o| o.encoded_len() > ORCPT_MAX)
        {
            return self.error(&replies::BAD_PARAM_VALUE);
        }
        if !to.is_ascii() && !t.params.smtputf8 {
            return self.error(&replies::NEED_SMTPUTF8);
        }
        if t.rcpts.len() >= max {
            // RFC 5321 4.5.3.1.10: a transient failure, the client retries later.
            return self.send_std(&replies::TOO_MANY_RCPTS);
        }
        t.rcpt_attempts += 1;
        let ticket = self.ticket(Pending::Rcpt(to.clone()));
        self.events
            .push_back(Event::Rcpt(RcptRequest { ticket, to, params }));
    }

    /// Applies [`UnqualifiedDomains`] to an envelope mailbox: the mailbox to go on with,
    /// or `None` to refuse it.
    pub(super) fn qualified(&self, m: Mailbox<'static>) -> Option<Mailbox<'static>> {
        if m.is_fully_qualified() {
            return Some(m);
        }
        match &self.cfg.unqualified_domains {
            UnqualifiedDomains::Accept => Some(m),
            UnqualifiedDomains::Refuse => None,
            UnqualifiedDomains::Qualify(suffix) => m.qualified(suffix),
        }
    }

    pub(super) fn starttls(&mut self) {
        if self.tls {
            return self.error(&replies::TLS_ACTIVE);
        }
        if !self.cfg.starttls {
            return self.send_std(&replies::TLS_UNAVAILABLE);
        }
        self.reset_transaction();
        self.send_std(&replies::TLS_READY);
        // RFC 3207 4.2 / CVE-2011-0411: whatever was pipelined behind STARTTLS came in
        // clear and must not run inside TLS.
        let n = self.rx.len();
        self.rx.clear();
        self.framer.reset();
        self.note_injection(n);
        self.phase = Phase::AwaitingTls;
        self.events.push_back(Event::StartTls);
    }
}
