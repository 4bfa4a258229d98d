//! Command handling: sequencing, parameter policy, DATA/BDAT streaming, AUTH steps.

use bytes::Bytes;

use super::UnqualifiedDomains;
use super::replies::{self, Std};
use super::{
    AbortReason, AuthRequest, BdatIn, CloseReason, DataIn, Event, HelloKind, HelloRequest,
    MailRequest, MessageEnd, MessageStart, Pending, Phase, RcptRequest, SaslState, SaslStep,
    Server, VrfyRequest,
};
use crate::data::{BareLineEndings, BdatDecoder, DataDecoder, DataStep};
use crate::error::{DecodeError, SyntaxErrorKind};
use crate::line::LineFrame;
use crate::sasl::{self, SaslResponse};
use crate::syntax::parse_command;
use crate::types::{Body, Command, ForwardPath, Mailbox, Mechanism, ReversePath, Secret};

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

    fn step_line(&mut self) -> bool {
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

    fn step_data(&mut self) -> bool {
        let Phase::Data(d) = &mut self.phase else {
            return false;
        };
        match d.decoder.next(&mut self.rx) {
            DataStep::NeedMore => false,
            DataStep::Chunk(chunk) => {
                self.data_chunk(chunk);
                true
            }
            DataStep::End => {
                // Decided on the whole message, never on the first chunk that showed a
                // problem: chunk boundaries follow the reads, and the reply must not.
                let reason = self.abort_reason();
                self.phase = Phase::Command;
                self.arm_timer();
                match reason {
                    None => self.message_end(),
                    Some(reason) => {
                        self.events.push_back(Event::MessageAborted(reason));
                        // LMTP owes one reply per recipient, refusals included
                        // (RFC 2033 4.2).
                        let n = self.end_of_data_replies();
                        self.txn = None;
                        for _ in 0..n {
                            self.send_std(&abort_reply(reason));
                        }
                    }
                }
                true
            }
        }
    }

    /// True when the header read so far has more `Received:` fields than allowed
    /// (RFC 5321 6.3).
    fn too_many_hops(&self) -> bool {
        self.txn
            .as_ref()
            .is_some_and(|t| t.header.received() > self.cfg.limits.hops)
    }

    /// Why the message in DATA fails, from facts about all of it so far, in a fixed
    /// order: a mail loop (RFC 5321 6.3), size (RFC 1870), bare line endings (RFC 5321
    /// 2.3.8), line length (4.5.3.1.6).
    fn abort_reason(&self) -> Option<AbortReason> {
        let Phase::Data(d) = &self.phase else {
            return None;
        };
        let size = self.txn.as_ref().map_or(0, |t| t.size);
        let reject_bare = self.cfg.bare_line_endings == BareLineEndings::Reject;
        if self.too_many_hops() {
            Some(AbortReason::TooManyHops)
        } else if self.cfg.limits.message_size.is_some_and(|l| size > l) {
            Some(AbortReason::TooBig)
        } else if reject_bare && d.decoder.saw_bare_line_ending() {
            Some(AbortReason::BareLineEnding)
        } else if d.decoder.saw_long_line() {
            Some(AbortReason::LineTooLong)
        } else {
            None
        }
    }

    /// Delivers a body chunk, or drops it once the message is known to fail. Octets are
    /// counted either way, so the verdict at the end sees the whole message.
    fn data_chunk(&mut self, chunk: Bytes) {
        if let Some(t) = self.txn.as_mut() {
            t.size = t.size.saturating_add(chunk.len() as u64);
            // The header is scanned before the chunk goes out: the chunk that shows a
            // loop is not delivered.
            if t.header.in_header() {
                t.header.feed(&chunk);
            }
        }
        let failing = self.abort_reason();
        let Phase::Data(d) = &mut self.phase else {
            return;
        };
        if d.aborted.is_none() {
            d.aborted = failing;
        }
        if d.aborted.is_none() {
            self.events.push_back(Event::MessageChunk(chunk));
        }
    }

    fn step_bdat(&mut self) -> bool {
        let Phase::Bdat(b) = &mut self.phase else {
            return false;
        };
        if let Some(chunk) = b.decoder.next(&mut self.rx) {
            if b.discard.is_none() {
                if let Some(t) = self.txn.as_mut() {
                    t.size += chunk.len() as u64;
                    if t.header.in_header() {
                        t.header.feed(&chunk);
                    }
                }
                if self.too_many_hops() {
                    // RFC 5321 6.3: a loop. The rest of the chunk is read and dropped;
                    // the transaction is over.
                    let last = matches!(&self.phase, Phase::Bdat(b) if b.last);
                    let n = if last { self.end_of_data_replies() } else { 1 };
                    self.events
                        .push_back(Event::MessageAborted(AbortReason::TooManyHops));
                    self.txn = None;
                    if let Phase::Bdat(b) = &mut self.phase {
                        b.discard = Some((replies::TOO_MANY_HOPS, n));
                    }
                } else {
                    self.events.push_back(Event::MessageChunk(chunk));
                }
            }
        }
        let Phase::Bdat(b) = &mut self.phase else {
            return false;
        };
        if !b.decoder.is_done() {
            return false;
        }
        let (size, last, discard) = (b.size, b.last, b.discard);
        self.phase = Phase::Command;
        match discard {
            // Refusals of the message, not errors of the client.
            Some((r, n)) if r == replies::TOO_BIG || r == replies::TOO_MANY_HOPS => {
                for _ in 0..n {
                    self.send_std(&r);
                }
            }
            Some((r, n)) => {
                self.error(&r);
                for _ in 1..n {
                    self.send_std(&r);
                }
            }
            None if last => self.message_end(),
            None => {
                let line = format!(
                    "250 {}{size} octets received\r\n",
                    self.status_prefix(2, 0, 0)
                );
                self.tx.extend_from_slice(line.as_bytes());
            }
        }
        true
    }

    /// How many replies end the message: one, or with LMTP one per accepted recipient
    /// (RFC 2033 4.2).
    pub(super) fn end_of_data_replies(&self) -> usize {
        if self.cfg.lmtp {
            self.txn.as_ref().map_or(1, |t| t.rcpts.len().max(1))
        } else {
            1
        }
    }

    fn status_prefix(&self, c: u8, s: u16, d: u16) -> String {
        if self.cfg.extensions.enhanced_status_codes {
            format!("{c}.{s}.{d} ")
        } else {
            String::new()
        }
    }

    /// Reports the start of a body with the facts trace fields are made of.
    fn message_start(&mut self) {
        // A transaction exists only after an accepted EHLO, HELO or LHLO.
        let (Some(t), Some(hello), Some(host)) = (&self.txn, self.hello, &self.hello_host) else {
            return;
        };
        let start = MessageStart {
            hello,
            hello_host: host.clone(),
            tls: self.tls,
            authenticated: self.authenticated,
            from: t.from.clone(),
            smtputf8: t.params.smtputf8,
            recipients: t.rcpts.clone(),
        };
        self.events.push_back(Event::MessageStart(start));
    }

    fn message_end(&mut self) {
        let replies = self.end_of_data_replies();
        // The list moves into the event: the transaction ends with this message.
        let (size, recipients) = self
            .txn
            .as_mut()
            .map_or((0, Vec::new()), |t| (t.size, std::mem::take(&mut t.rcpts)));
        let ticket = self.ticket(Pending::Message { replies });
        self.events.push_back(Event::MessageEnd(MessageEnd {
            ticket,
            size,
            recipients,
        }));
    }

    fn command_line(&mut self, line: &Bytes) {
        let grammar = self.cfg.grammar;
        let cmd = match parse_command(line, &grammar) {
            Ok(c) => c,
            Err(DecodeError::Syntax { offset, kind }) => {
                let verb_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
                if line
                    .get(..verb_end)
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"BDAT"))
                {
                    // RFC 3030 2: octets follow a BDAT line; with no readable size they
                    // cannot be skipped, and reading them as commands would let a chunk
                    // smuggle commands. Answer and close.
                    self.send_std(&replies::ARGUMENTS);
                    return self.finish(CloseReason::Unrecoverable);
                }
                if self.refused {
                    return self.error(&replies::REFUSED_SEQUENCE);
                }
                return self.error(&syntax_reply(kind, offset < verb_end));
            }
            Err(_) => return self.error(&replies::UNRECOGNIZED),
        };
        if self.refused {
            // RFC 5321 3.1: after a 554 greeting only QUIT is honoured.
            return match cmd {
                Command::Quit => self.quit(),
                _ => self.error(&replies::REFUSED_SEQUENCE),
            };
        }
        if self.cfg.require_tls
            && !self.tls
            && !matches!(
                cmd,
                Command::Ehlo(_)
                    | Command::Helo(_)
                    | Command::Lhlo(_)
                    | Command::Noop(_)
                    | Command::Rset
                    | Command::StartTls
                    | Command::Quit
            )
        {
            if let Command::Bdat { size, .. } = cmd {
                return self.discard_bdat(size, replies::TLS_REQUIRED, 1);
            }
            return self.error(&replies::TLS_REQUIRED);
        }
        match cmd {
            Command::Ehlo(host) | Command::Helo(host) | Command::Lhlo(host) => {
                let verb = line.get(..4).unwrap_or_default();
                let kind = if verb.eq_ignore_ascii_case(b"EHLO") {
                    HelloKind::Ehlo
                } else if verb.eq_ignore_ascii_case(b"HELO") {
                    HelloKind::Helo
                } else {
                    HelloKind::Lhlo
                };
                if self.cfg.lmtp != (kind == HelloKind::Lhlo) {
                    return self.error(if self.cfg.lmtp {
                        &replies::USE_LHLO
                    } else {
                        &replies::UNRECOGNIZED
                    });
                }
                // RFC 5321 4.1.4: a new EHLO resets any transaction.
                self.reset_transaction();
                // Slices of the line, not copies (see tests/alloc.rs).
                let host = host.into_shared(line);
                let ticket = self.ticket(Pending::Hello(kind, host.clone()));
                self.events
                    .push_back(Event::Hello(HelloRequest { ticket, kind, host }));
            }
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
            Command::Vrfy(q) => {
                if self.cfg.ask_vrfy {
                    let ticket = self.ticket(Pending::Vrfy);
                    self.events.push_back(Event::Vrfy(VrfyRequest {
                        ticket,
                        query: q.as_str().to_owned(),
                    }));
                } else {
                    self.send_std(&replies::VRFY);
                }
            }
            // Not an error: RFC 5321 7.3 makes 252 the answer of a site without EXPN.
            Command::Expn(_) => self.send_std(&replies::EXPN),
            Command::StartTls => self.starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                self.auth(
                    mechanism.into_owned(),
                    initial_response.map(|s| s.expose().as_bytes().to_vec()),
                );
            }
            Command::Other { verb, .. } => {
                if KNOWN_UNSUPPORTED
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(verb.as_str()))
                {
                    self.error(&replies::NOT_IMPLEMENTED);
                } else {
                    self.error(&replies::UNRECOGNIZED);
                }
            }
        }
    }

    fn quit(&mut self) {
        self.abort_message(AbortReason::ConnectionLost);
        self.send_std(&replies::BYE);
        self.finish(CloseReason::Quit);
    }

    /// RSET, EHLO: the transaction goes, the session stays (RFC 5321 4.1.1.5).
    fn reset_transaction(&mut self) {
        if self.txn.as_ref().is_some_and(|t| t.bdat) {
            self.events
                .push_back(Event::MessageAborted(AbortReason::Reset));
        }
        self.txn = None;
    }

    fn mail(
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

    fn rcpt(
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
    fn qualified(&self, m: Mailbox<'static>) -> Option<Mailbox<'static>> {
        if m.is_fully_qualified() {
            return Some(m);
        }
        match &self.cfg.unqualified_domains {
            UnqualifiedDomains::Accept => Some(m),
            UnqualifiedDomains::Refuse => None,
            UnqualifiedDomains::Qualify(suffix) => m.qualified(suffix),
        }
    }

    fn data(&mut self) {
        if self.hello.is_none() {
            return self.error(&replies::NEED_HELLO);
        }
        let Some(t) = self.txn.as_ref() else {
            return self.error(&replies::NEED_MAIL);
        };
        if t.bdat {
            return self.error(&replies::DATA_AFTER_BDAT);
        }
        if t.params.body == Some(Body::BinaryMime) {
            return self.error(&replies::BINARYMIME_NEEDS_BDAT);
        }
        if t.rcpts.is_empty() {
            // RFC 2920 3.1: after pipelined RCPTs that all failed, DATA gets 554.
            return self.error(if t.rcpt_attempts > 0 {
                &replies::NO_VALID_RCPTS
            } else {
                &replies::NEED_RCPT
            });
        }
        self.send_std(&replies::START_DATA);
        let decoder = DataDecoder::new(self.cfg.bare_line_endings, self.cfg.limits.text_line);
        self.phase = Phase::Data(DataIn {
            decoder,
            aborted: None,
        });
        self.arm_timer();
        self.message_start();
    }

    fn bdat(&mut self, size: u64, last: bool) {
        // RFC 3030 2: a chunk whose size could be read is consumed even when refused, so
        // its octets are never taken for commands.
        if !self.cfg.extensions.chunking {
            return self.discard_bdat(size, replies::NOT_IMPLEMENTED, 1);
        }
        if self.hello.is_none() {
            return self.discard_bdat(size, replies::NEED_HELLO, 1);
        }
        let limit = self.cfg.limits.message_size;
        let Some(t) = self.txn.as_mut() else {
            return self.discard_bdat(size, replies::NEED_MAIL, 1);
        };
        if t.rcpts.is_empty() {
            let r = if t.rcpt_attempts > 0 {
                replies::NO_VALID_RCPTS
            } else {
                replies::NEED_RCPT
            };
            return self.discard_bdat(size, r, 1);
        }
        let first = !t.bdat;
        t.bdat = true;
        let too_big = limit.is_some_and(|l| t.size.saturating_add(size) > l);
        if first {
            self.message_start();
        }
        if too_big {
            self.events
                .push_back(Event::MessageAborted(AbortReason::TooBig));
            // LMTP: the reply to BDAT LAST is one per recipient (RFC 2033 4.2).
            let n = if last { self.end_of_data_replies() } else { 1 };
            self.txn = None;
            return self.discard_bdat(size, replies::TOO_BIG, n);
        }
        self.phase = Phase::Bdat(BdatIn {
            decoder: BdatDecoder::new(size),
            size,
            last,
            discard: None,
        });
        self.arm_timer();
    }

    fn discard_bdat(&mut self, size: u64, reply: Std, replies: usize) {
        // A refused chunk is read to its end to keep the session in step (RFC 3030 2),
        // but one too large to skip in reasonable time (2^64 octets never arrive) gets
        // its reply at once and the session closes: the stream cannot be resynchronised.
        if size > self.cfg.limits.bdat_discard {
            for _ in 0..replies {
                self.send_std(&reply);
            }
            return self.finish(CloseReason::Unrecoverable);
        }
        self.phase = Phase::Bdat(BdatIn {
            decoder: BdatDecoder::new(size),
            size,
            last: false,
            discard: Some((reply, replies)),
        });
    }

    fn starttls(&mut self) {
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

    fn auth(&mut self, mech: Mechanism<'static>, ir: Option<Vec<u8>>) {
        if self.cfg.auth_mechanisms.is_empty() {
            return self.error(&replies::NOT_IMPLEMENTED);
        }
        if self.hello != Some(HelloKind::Ehlo) && self.hello != Some(HelloKind::Lhlo) {
            return self.error(&replies::NEED_EHLO);
        }
        if self.authenticated {
            return self.error(&replies::AUTH_DONE);
        }
        if self.txn.is_some() {
            return self.error(&replies::AUTH_IN_TXN);
        }
        if self.cfg.auth_requires_tls && !self.tls {
            return self.error(&replies::ENCRYPTION_REQUIRED);
        }
        if !self.cfg.auth_mechanisms.contains(&mech) {
            return self.error(&replies::UNKNOWN_MECH);
        }
        let response = match ir {
            None => None,
            Some(ir) => match sasl::parse_sasl_response(&ir) {
                Ok(SaslResponse::Data(d)) => Some(d.into_inner()),
                Ok(SaslResponse::Cancel) => return self.error(&replies::AUTH_CANCELLED),
                Err(_) => return self.error(&replies::BAD_BASE64),
            },
        };
        if mech == Mechanism::PLAIN {
            match response {
                Some(data) => self.plain(&data),
                None => {
                    self.tx.extend_from_slice(b"334 \r\n");
                    self.enter_sasl(SaslState::Plain);
                }
            }
        } else if mech == Mechanism::LOGIN {
            match response {
                Some(user) => self.login_user(&user),
                None => {
                    self.challenge(sasl::LOGIN_USERNAME_CHALLENGE);
                    self.enter_sasl(SaslState::LoginUser);
                }
            }
        } else {
            self.enter_sasl(SaslState::Custom(mech.clone()));
            let ticket = self.ticket(Pending::Sasl(mech.clone()));
            let response = response.map(Secret::new);
            self.events.push_back(Event::SaslStep(SaslStep {
                ticket,
                mechanism: mech,
                response,
            }));
        }
    }

    /// Writes `334 base64(c)` (RFC 4954 4).
    pub(super) fn challenge(&mut self, c: &[u8]) {
        let mut line = b"334 ".to_vec();
        sasl::base64_encode_into(c, &mut line);
        line.extend_from_slice(b"\r\n");
        self.tx.extend_from_slice(&line);
    }

    fn sasl_line(&mut self, line: &[u8]) {
        let data = match sasl::parse_sasl_response(line) {
            Ok(SaslResponse::Data(d)) => d.into_inner(),
            Ok(SaslResponse::Cancel) => {
                self.leave_sasl();
                return self.error(&replies::AUTH_CANCELLED);
            }
            Err(_) => {
                self.leave_sasl();
                return self.error(&replies::BAD_BASE64);
            }
        };
        let state = std::mem::replace(&mut self.phase, Phase::Command);
        let Phase::Sasl(state) = state else { return };
        self.phase = Phase::Sasl(SaslState::Plain);
        match state {
            SaslState::Plain => self.plain(&data),
            SaslState::LoginUser => self.login_user(&data),
            SaslState::LoginPass(user) => match sasl::decode_login_field(&data) {
                Ok(password) => self.credentials(Mechanism::LOGIN, None, user, password),
                Err(_) => {
                    self.leave_sasl();
                    self.error(&replies::BAD_SASL);
                }
            },
            SaslState::Custom(mech) => {
                self.phase = Phase::Sasl(SaslState::Custom(mech.clone()));
                let ticket = self.ticket(Pending::Sasl(mech.clone()));
                self.events.push_back(Event::SaslStep(SaslStep {
                    ticket,
                    mechanism: mech,
                    response: Some(Secret::new(data)),
                }));
            }
        }
    }

    fn plain(&mut self, data: &[u8]) {
        match sasl::decode_plain(data) {
            Ok(c) => self.credentials(
                Mechanism::PLAIN,
                c.authzid,
                c.authcid,
                c.password.into_inner(),
            ),
            Err(_) => {
                self.leave_sasl();
                self.error(&replies::BAD_SASL);
            }
        }
    }

    fn login_user(&mut self, data: &[u8]) {
        match sasl::decode_login_field(data) {
            Ok(user) if !user.is_empty() => {
                self.challenge(sasl::LOGIN_PASSWORD_CHALLENGE);
                self.enter_sasl(SaslState::LoginPass(user));
            }
            _ => {
                self.leave_sasl();
                self.error(&replies::BAD_SASL);
            }
        }
    }

    fn credentials(
        &mut self,
        mechanism: Mechanism<'static>,
        authzid: Option<String>,
        authcid: String,
        password: String,
    ) {
        self.enter_sasl(SaslState::Plain);
        let ticket = self.ticket(Pending::Auth);
        self.events.push_back(Event::Auth(AuthRequest {
            ticket,
            mechanism,
            authzid,
            authcid,
            password: Secret::new(password),
        }));
    }
}

fn syntax_reply(kind: SyntaxErrorKind, in_verb: bool) -> Std {
    match kind {
        SyntaxErrorKind::Verb => replies::UNRECOGNIZED,
        SyntaxErrorKind::Byte if in_verb => replies::BAD_BYTES,
        SyntaxErrorKind::Byte => replies::BAD_ARG_BYTES,
        SyntaxErrorKind::UnknownParameter => replies::UNKNOWN_PARAM,
        SyntaxErrorKind::ParameterValue => replies::BAD_PARAM_VALUE,
        SyntaxErrorKind::DuplicateParameter => replies::DUPLICATE_PARAM,
        _ => replies::ARGUMENTS,
    }
}

fn abort_reply(reason: AbortReason) -> Std {
    match reason {
        AbortReason::TooBig => replies::TOO_BIG,
        AbortReason::BareLineEnding => replies::BARE_LINE_ENDING,
        AbortReason::LineTooLong => replies::TEXT_LINE_TOO_LONG,
        AbortReason::TooManyHops => replies::TOO_MANY_HOPS,
        _ => replies::TOO_BIG,
    }
}
