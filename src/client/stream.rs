//! Streamed transactions: MAIL, RCPT and the body handed to the machine step by step, as
//! a relay learns them from its own client, instead of a whole message up front.
//!
//! ```text
//!   start_transaction ──► (session ready) MAIL ──► MailResult
//!   add_recipient ───────► RCPT (pipelined, or after the previous reply) ──► RecipientResult
//!   body_chunk / body_end ─► DATA ──354──► DataReady, stuffed body flows, "." ──► MessageResult
//!                         └► BDAT n ... BDAT n LAST (CHUNKING) ───────────────► MessageResult
//!   abort_transaction ───► RSET (before the body, or under BDAT)
//!                         └► connection dropped (inside a DATA body: RFC 5321 has no
//!                            way to cancel DATA short of closing, 4.1.1.4 / 6.1)
//! ```

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::{
    Client, ClientEvent, CloseReason, Expect, MessageError, MessageId, MessageStatus, State,
    UsageError, rules, txn,
};
use crate::data::DotStuffer;
use crate::types::{
    Body, Command, ForwardPath, MailParams, RcptParams, Reply, ReplyCode, ReversePath,
};
use rules::{BodyScan, ContentRules};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Data,
    Bdat,
}

/// The streamed transaction in progress.
#[derive(Debug)]
pub(super) struct Stream {
    pub(super) id: MessageId,
    /// Taken when MAIL goes out.
    mail: Option<(ReversePath<'static>, MailParams<'static>)>,
    mode: Mode,
    pipelined: bool,
    /// MAIL went out with SMTPUTF8.
    utf8: bool,
    mail_ok: bool,
    /// Every recipient added; `Expect::Rcpt(i)` indexes this.
    recipients: Vec<(ForwardPath<'static>, RcptParams<'static>)>,
    /// How many RCPTs went out.
    sent: usize,
    answered: usize,
    accepted: Vec<usize>,
    last_rcpt_reply: Option<Reply>,
    /// DATA sent, or the first BDAT about to go.
    body_started: bool,
    /// `354` received.
    data_open: bool,
    /// Raw body bytes that cannot go out yet (no `354`, or a BDAT reply awaited in
    /// lock-step).
    held: BytesMut,
    stuffer: DotStuffer,
    /// Every body byte handed over so far, measured (line lengths, 8-bit octets).
    scan: BodyScan,
    /// What the body may hold, fixed when MAIL went out.
    rules: Option<ContentRules>,
    ended: bool,
    end_sent: bool,
    lmtp_delivered: usize,
    result: Option<(MessageStatus, Option<Reply>)>,
}

impl Stream {
    fn decide(&mut self, status: MessageStatus, reply: Option<Reply>) {
        if self.result.is_none() {
            self.result = Some((status, reply));
        }
    }

    pub(super) fn mail_sent(&self) -> bool {
        self.mail.is_none()
    }
}

impl Client {
    /// Opens a streamed transaction: MAIL FROM goes out as soon as the session is ready
    /// (after the greeting, EHLO, STARTTLS and AUTH as configured, and after the
    /// messages queued with [`Client::send_message`]). Its reply comes as
    /// [`ClientEvent::MailResult`]; recipients follow with [`Client::add_recipient`],
    /// the body with [`Client::body_chunk`] and [`Client::body_end`], and the outcome
    /// as [`ClientEvent::MessageResult`] carrying the returned id.
    ///
    /// This is the API for a relay, which learns the envelope and body piece by piece
    /// and must answer its own client with the next hop's verdict on each. One streamed
    /// transaction is open at a time.
    ///
    /// The parameters are checked against the server's extensions when MAIL is sent; a
    /// mismatch ends the transaction at once with [`MessageStatus::NotSent`]:
    /// `SMTPUTF8` (or a non-ASCII reverse path) needs SMTPUTF8; `BODY=8BITMIME` needs
    /// 8BITMIME; `BODY=BINARYMIME` needs CHUNKING and BINARYMIME; `RET`/`ENVID` need
    /// DSN; `REQUIRETLS` needs the extension and TLS with a verified certificate
    /// ([`Client::tls_established_verified`]); a declared `SIZE` above the announced
    /// limit is [`MessageError::TooLarge`]. Meaning-free parameters are adjusted
    /// instead: `SIZE` and `BODY=7BIT` are left out when the server lacks the extension
    /// that defines them (RFC 1870, RFC 6152). Other parameters go as given.
    ///
    /// `SIZE` is the caller's estimate: the client cannot count a body it has not seen,
    /// so it never declares one itself. RFC 1870 6 asks for the octets as they will go
    /// (lines ending in CRLF, no dot-stuffing), rounded up rather than down; a relay
    /// passing its client's `SIZE` on adds the length of the trace fields it prepends.
    ///
    /// The body is checked as it comes (see [`Client::body_chunk`]): a line over 998
    /// octets, or an 8-bit octet when `BODY=8BITMIME` was not declared and the server
    /// lacks 8BITMIME, cancels the transaction. Declare `BODY=8BITMIME` (or
    /// `BINARYMIME`) up front whenever the body may hold 8-bit octets: after MAIL it is
    /// too late to say so. When the server offers 8BITMIME an undeclared 8-bit body still
    /// goes, as the server has said it can carry it.
    ///
    /// ```
    /// use std::time::Instant;
    /// use smtp_sansio::client::{Client, ClientConfig, ClientEvent, MessageStatus, StartTlsPolicy};
    /// use smtp_sansio::types::{ForwardPath, MailParams, Mailbox, RcptParams, ReversePath};
    ///
    /// let mut config = ClientConfig::default();
    /// config.starttls = StartTlsPolicy::Never;
    /// let now = Instant::now();
    /// let mut client = Client::new(config, now);
    /// let from = ReversePath::Mailbox(Mailbox::parse("a@example.org")?.into_owned());
    /// let to = ForwardPath::Mailbox(Mailbox::parse("b@example.net")?.into_owned());
    /// let txn = client.start_transaction(from, MailParams::default(), now)?;
    /// client.add_recipient(txn, to, RcptParams::default(), now)?;
    ///
    /// let mut wire = Vec::new();
    /// let mut step = |client: &mut Client, input: &[u8], wire: &mut Vec<u8>| {
    ///     client.handle_input(now, input);
    ///     let mut events = Vec::new();
    ///     while let Some(e) = client.poll_event() { events.push(e) }
    ///     while let Some(b) = client.poll_transmit() { wire.extend_from_slice(&b) }
    ///     events
    /// };
    /// step(&mut client, b"220 mx ESMTP\r\n", &mut wire);
    /// step(&mut client, b"250-mx\r\n250 PIPELINING\r\n", &mut wire);
    /// let events = step(&mut client, b"250 2.1.0 OK\r\n250 2.1.5 OK\r\n", &mut wire);
    /// assert!(matches!(events[0], ClientEvent::MailResult { .. }));
    /// assert!(matches!(events[1], ClientEvent::RecipientResult { .. }));
    /// // The body streams in pieces; DATA goes with the first one.
    /// client.body_chunk(txn, b"Subject: hi\r\n\r\n", now)?;
    /// step(&mut client, b"", &mut wire);
    /// let events = step(&mut client, b"354 go on\r\n", &mut wire);
    /// assert!(matches!(events[0], ClientEvent::DataReady { .. }));
    /// client.body_chunk(txn, b".hello\r\n", now)?;
    /// client.body_end(txn, now)?;
    /// let events = step(&mut client, b"250 2.0.0 queued\r\n", &mut wire);
    /// assert!(matches!(
    ///     events[0],
    ///     ClientEvent::MessageResult { status: MessageStatus::Accepted, .. }
    /// ));
    /// assert!(wire.ends_with(b"DATA\r\nSubject: hi\r\n\r\n..hello\r\n.\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_transaction(
        &mut self,
        from: ReversePath<'static>,
        params: MailParams<'static>,
        now: Instant,
    ) -> Result<MessageId, UsageError> {
        if self.quit_requested || matches!(self.state, State::Quitting | State::Closed) {
            return Err(UsageError::Closed);
        }
        if self.stream.is_some() {
            return Err(UsageError::TransactionOpen);
        }
        self.next_id += 1;
        let id = MessageId(self.next_id);
        self.stream = Some(Stream {
            id,
            mail: Some((from, params)),
            mode: Mode::Data,
            pipelined: false,
            utf8: false,
            mail_ok: false,
            recipients: Vec::new(),
            sent: 0,
            answered: 0,
            accepted: Vec::new(),
            last_rcpt_reply: None,
            body_started: false,
            data_open: false,
            held: BytesMut::new(),
            stuffer: DotStuffer::new(),
            scan: BodyScan::default(),
            rules: None,
            ended: false,
            end_sent: false,
            lmtp_delivered: 0,
            result: None,
        });
        self.pump(now);
        Ok(id)
    }

    /// Adds a recipient to the streamed transaction `txn`. RCPT goes out at once when
    /// the server pipelines (RFC 2920), otherwise after the previous reply; the server's
    /// verdict comes as [`ClientEvent::RecipientResult`]. Recipients must all be added
    /// before the first [`Client::body_chunk`] or [`Client::body_end`]. A non-ASCII
    /// recipient needs SMTPUTF8 on MAIL (RFC 6531 3.4): it is added there if MAIL has not
    /// gone out yet, and refused with [`UsageError::NeedsSmtpUtf8`] if it went without;
    /// pass `smtputf8` to [`Client::start_transaction`] when such recipients may come.
    pub fn add_recipient(
        &mut self,
        txn: MessageId,
        to: ForwardPath<'static>,
        params: RcptParams<'static>,
        now: Instant,
    ) -> Result<(), UsageError> {
        let s = self.stream_mut(txn)?;
        if s.ended || s.body_started || !s.held.is_empty() {
            return Err(UsageError::OutOfOrder);
        }
        if !to.is_ascii() {
            // RFC 6531 3.4: such a recipient needs SMTPUTF8 on MAIL. Before MAIL goes
            // out it is added there; after, it is too late for this transaction.
            match s.mail.as_mut() {
                Some((_, p)) => p.smtputf8 = true,
                None if !s.utf8 => return Err(UsageError::NeedsSmtpUtf8),
                None => {}
            }
        }
        s.recipients.push((to, params));
        self.pump(now);
        Ok(())
    }

    /// Appends body bytes (header and content, as they will be stored) to the streamed
    /// transaction `txn`. The first call ends the recipient list and sends DATA (or the
    /// first BDAT chunk when CHUNKING is used). Under DATA, bare CR and LF become CRLF
    /// and dot-stuffing is applied across calls (RFC 5321 4.5.2); under BDAT the bytes
    /// go as given, so they MUST already use CRLF line endings (RFC 3030 3).
    ///
    /// Bytes that cannot go out yet (before the `354`) are held; see
    /// [`Client::pending_output`] to bound them. Once the transaction has been decided
    /// (refused DATA, a failed chunk) the bytes are dropped.
    ///
    /// Each piece is checked before any of it goes out. A line longer than 998 octets
    /// (CRLF excluded; RFC 5321 4.5.3.1.6) unless `BODY=BINARYMIME`, or an 8-bit octet
    /// the server cannot take (RFC 5321 2.4, RFC 6152), cancels the transaction as
    /// [`Client::abort_transaction`] does: RSET before the body or under BDAT, a closed
    /// connection inside a DATA body ([`CloseReason::Aborted`]), so that the server never
    /// accepts part of the message. The outcome is [`MessageStatus::NotSent`] with
    /// [`MessageError::LineTooLong`] or [`MessageError::EightBitMimeNotOffered`]; the call
    /// itself succeeds. Body given before MAIL went out is checked when MAIL is due, and
    /// MAIL is then not sent.
    pub fn body_chunk(
        &mut self,
        txn: MessageId,
        chunk: &[u8],
        now: Instant,
    ) -> Result<(), UsageError> {
        let s = self.stream_mut(txn)?;
        if s.ended {
            return Err(UsageError::OutOfOrder);
        }
        if s.result.is_none() && !chunk.is_empty() {
            s.scan.push(chunk);
            // Before MAIL the rules are not known yet; `pump` checks what was held then.
            if let Some(Err(e)) = s.rules.map(|r| r.check(&s.scan)) {
                self.cancel_stream(now, MessageStatus::NotSent(e));
                return Ok(());
            }
            if s.mode == Mode::Data && s.data_open {
                let mut out = BytesMut::with_capacity(chunk.len() + 16);
                s.stuffer.push(chunk, &mut out);
                self.push_bytes(out.freeze());
                self.grace = true;
            } else {
                s.held.extend_from_slice(chunk);
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Ends the body of the streamed transaction `txn` (the end-of-data `.` or the
    /// `BDAT ... LAST`). The outcome comes as [`ClientEvent::MessageResult`].
    pub fn body_end(&mut self, txn: MessageId, now: Instant) -> Result<(), UsageError> {
        let s = self.stream_mut(txn)?;
        if s.ended {
            return Err(UsageError::OutOfOrder);
        }
        s.ended = true;
        // The body write takes time the machine cannot see (see handle_timeout).
        self.grace = true;
        self.pump(now);
        Ok(())
    }

    /// Gives up the streamed transaction `txn`; its [`ClientEvent::MessageResult`] says
    /// [`MessageStatus::Aborted`]. Before the body, or under BDAT, RSET resets the
    /// server and the session goes on (RFC 5321 4.1.1.5). Inside a DATA body nothing
    /// can cancel the message but closing the connection, so the session ends with
    /// [`CloseReason::Aborted`]: write what is pending, then close. After
    /// [`Client::body_end`] the message is out of the client's hands and its outcome
    /// still comes.
    pub fn abort_transaction(&mut self, txn: MessageId, now: Instant) -> Result<(), UsageError> {
        self.stream_mut(txn)?;
        self.cancel_stream(now, MessageStatus::Aborted);
        Ok(())
    }

    /// Ends the open streamed transaction with `status` so that the server can never
    /// accept what it has of the message: nothing sent yet, RSET, or inside a DATA body
    /// a closed connection (RFC 5321 4.1.1.4 has no other way). After the end of data
    /// the outcome is the server's.
    fn cancel_stream(&mut self, now: Instant, status: MessageStatus) {
        let Some(s) = self.stream.as_mut() else {
            return;
        };
        let id = s.id;
        if !s.mail_sent() {
            self.stream = None;
            self.push_result(id, status, None);
            self.next_step(now);
            return;
        }
        if s.end_sent || s.result.is_some() {
            return;
        }
        if s.mode == Mode::Data && s.body_started {
            self.stream = None;
            self.push_result(id, status, None);
            // Whatever of the body is still unsent must never reach the server.
            self.staging.clear();
            self.tx.clear();
            self.close(CloseReason::Aborted);
            return;
        }
        s.held.clear();
        s.decide(status, None);
        self.needs_rset = true;
        self.finish_stream_if_done(now);
    }

    /// Octets handed to the machine and not yet taken by [`Client::poll_transmit`]:
    /// commands, body bytes held until the server is ready for them, and queued body.
    /// A relay SHOULD stop reading its own client while this is above its limit, so a
    /// slow next hop slows the sender instead of filling memory.
    pub fn pending_output(&self) -> usize {
        let queued: usize = self
            .tx
            .iter()
            .map(|o| match o {
                txn::Out::Bytes(b) => b.len(),
                txn::Out::Body(s) => s.remaining(),
            })
            .sum();
        let held = self.stream.as_ref().map_or(0, |s| s.held.len());
        queued + self.staging.len() + held
    }

    fn stream_mut(&mut self, txn: MessageId) -> Result<&mut Stream, UsageError> {
        match self.stream.as_mut() {
            Some(s) if s.id == txn => Ok(s),
            _ => Err(UsageError::NoSuchTransaction),
        }
    }

    /// True when replies now due belong to the streamed transaction.
    pub(super) fn stream_owns_replies(&self) -> bool {
        self.txn.is_none() && self.stream.as_ref().is_some_and(Stream::mail_sent)
    }

    fn push_result(&mut self, message: MessageId, status: MessageStatus, reply: Option<Reply>) {
        self.events.push_back(ClientEvent::MessageResult {
            message,
            status,
            reply,
        });
    }

    /// Works out the MAIL parameters for this server and how the body will go.
    fn stream_plan(
        &self,
        from: &ReversePath<'static>,
        params: &MailParams<'static>,
    ) -> Result<(MailParams<'static>, Mode, bool, ContentRules), MessageError> {
        let caps = self.caps.clone().unwrap_or_default();
        let mut p = params.clone();
        let pipelined = self.config.use_pipelining && caps.pipelining();
        rules::declare_body(&caps, &mut p)?;
        let binary = p.body == Some(Body::BinaryMime);
        let mode = if binary || (self.config.use_chunking && caps.chunking()) {
            Mode::Bdat
        } else {
            Mode::Data
        };
        // RFC 6531 3.4: a non-ASCII address only in a transaction opened with SMTPUTF8.
        if p.smtputf8 || !from.is_ascii() {
            if !caps.smtputf8() {
                return Err(MessageError::SmtpUtf8NotOffered);
            }
            p.smtputf8 = true;
        }
        if (p.ret.is_some() || p.envid.is_some()) && !caps.dsn() {
            return Err(MessageError::DsnNotOffered);
        }
        self.check_requiretls(&caps, &p)?;
        let rules = ContentRules::new(&caps, &p);
        // Body handed over before MAIL is held; it is checked now, before MAIL goes.
        if let Some(s) = self.stream.as_ref() {
            rules.check(&s.scan)?;
        }
        match (caps.size(), p.size) {
            // SIZE= exists only with the extension (RFC 1870 6); it is an estimate.
            (None, _) => p.size = None,
            (Some(Some(limit)), Some(size)) if size > limit => {
                return Err(MessageError::TooLarge { size, limit });
            }
            _ => {}
        }
        Ok((p, mode, pipelined, rules))
    }

    /// Sends whatever the streamed transaction can send now.
    pub(super) fn pump(&mut self, now: Instant) {
        if self.state != State::Ready || self.txn.is_some() {
            return;
        }
        // Whole messages queued earlier need no check here: `next_step` starts them
        // before it pumps the stream, and MAIL below waits for any reply still due.
        // Once the stream's MAIL is out, the stream owns the session until its outcome.
        let mail = match self.stream.as_mut() {
            None => return,
            Some(s) => s.mail.take(),
        };
        if let Some((from, params)) = mail {
            if !self.expect.is_empty() || self.needs_rset {
                if let Some(s) = self.stream.as_mut() {
                    s.mail = Some((from, params));
                }
                return;
            }
            match self.stream_plan(&from, &params) {
                Ok((params, mode, pipelined, rules)) => {
                    if let Some(s) = self.stream.as_mut() {
                        s.mode = mode;
                        s.pipelined = pipelined;
                        s.utf8 = params.smtputf8;
                        s.rules = Some(rules);
                    }
                    self.send(now, &Command::Mail { from, params }, Expect::Mail);
                }
                Err(e) => {
                    if let Some(s) = self.stream.take() {
                        self.push_result(s.id, MessageStatus::NotSent(e), None);
                    }
                    return self.next_step(now);
                }
            }
        }
        self.pump_recipients(now);
        self.pump_body_start(now);
        self.pump_body(now);
        self.finish_stream_if_done(now);
    }

    fn pump_recipients(&mut self, now: Instant) {
        loop {
            let Some(s) = self.stream.as_mut() else {
                return;
            };
            let free = s.pipelined || self.expect.is_empty();
            if s.result.is_some() || !free || s.sent >= s.recipients.len() {
                return;
            }
            let i = s.sent;
            s.sent += 1;
            let Some((to, params)) = s.recipients.get(i).cloned() else {
                return;
            };
            self.send(now, &Command::Rcpt { to, params }, Expect::Rcpt(i));
        }
    }

    fn pump_body_start(&mut self, now: Instant) {
        let Some(s) = self.stream.as_mut() else {
            return;
        };
        let wants = !s.held.is_empty() || s.ended;
        let free = s.pipelined || self.expect.is_empty();
        if s.result.is_some() || s.body_started || !wants || !free || s.sent < s.recipients.len() {
            return;
        }
        if s.answered == s.recipients.len() && s.accepted.is_empty() {
            // Nothing to deliver to: no body goes out (RFC 5321 3.3), and the open
            // transaction is reset.
            let reply = s.last_rcpt_reply.clone();
            s.decide(MessageStatus::NoValidRecipients, reply);
            self.needs_rset = true;
            return;
        }
        s.body_started = true;
        match s.mode {
            Mode::Data => self.send(now, &Command::Data, Expect::Data),
            Mode::Bdat => {
                let message = s.id;
                self.events.push_back(ClientEvent::DataReady { message });
            }
        }
    }

    fn pump_body(&mut self, now: Instant) {
        loop {
            let Some(s) = self.stream.as_mut() else {
                return;
            };
            if s.result.is_some() || !s.body_started || s.end_sent {
                return;
            }
            match s.mode {
                Mode::Data => {
                    if !s.data_open {
                        return;
                    }
                    let mut out = BytesMut::new();
                    if !s.held.is_empty() {
                        let held = s.held.split();
                        s.stuffer.push(&held, &mut out);
                    }
                    let end = s.ended;
                    if end {
                        s.stuffer.finish(&mut out);
                        s.end_sent = true;
                    }
                    self.push_bytes(out.freeze());
                    if end {
                        self.expect_stream_final(now);
                    }
                    return;
                }
                Mode::Bdat => {
                    let free = s.pipelined || self.expect.is_empty();
                    if !free || (s.held.is_empty() && !s.ended) {
                        return;
                    }
                    let chunk: Bytes = s.held.split().freeze();
                    let last = s.ended;
                    s.end_sent = last;
                    Command::Bdat {
                        size: chunk.len() as u64,
                        last,
                    }
                    .encode(&mut self.staging);
                    self.push_bytes(chunk);
                    if last && self.config.lmtp {
                        self.expect_stream_final(now);
                    } else {
                        self.push_expect(now, Expect::Bdat { last });
                    }
                    if last {
                        return;
                    }
                }
            }
        }
    }

    /// The reply (or, for LMTP, one per accepted recipient) after the end of data.
    fn expect_stream_final(&mut self, now: Instant) {
        let accepted = self
            .stream
            .as_ref()
            .map(|s| s.accepted.clone())
            .unwrap_or_default();
        if self.config.lmtp {
            for i in accepted {
                self.push_expect(now, Expect::LmtpRcpt(i));
            }
        } else {
            self.push_expect(now, Expect::DataEnd);
        }
    }

    pub(super) fn on_stream_reply(&mut self, now: Instant, expect: Expect, reply: Reply) {
        let Some(s) = self.stream.as_mut() else {
            return;
        };
        let ok = reply.code().is_positive();
        let message = s.id;
        match expect {
            Expect::Mail => {
                s.mail_ok = ok;
                if !ok {
                    s.decide(MessageStatus::Rejected, Some(reply.clone()));
                }
                self.events
                    .push_back(ClientEvent::MailResult { message, reply });
            }
            Expect::Rcpt(i) => {
                s.answered += 1;
                if ok && s.mail_ok {
                    s.accepted.push(i);
                }
                s.last_rcpt_reply = Some(reply.clone());
                if let Some((recipient, _)) = s.recipients.get(i).cloned() {
                    let ev = ClientEvent::RecipientResult {
                        message,
                        recipient,
                        reply,
                    };
                    self.events.push_back(ev);
                }
            }
            Expect::Data => {
                if reply.code() == ReplyCode::START_MAIL_INPUT {
                    if s.result.is_none() && !s.accepted.is_empty() {
                        s.data_open = true;
                        self.events.push_back(ClientEvent::DataReady { message });
                    } else {
                        // RFC 2920 3.1: DATA was accepted though no recipient was; send
                        // an empty message and drop whatever the server says to it.
                        let reply = s.last_rcpt_reply.clone();
                        s.decide(MessageStatus::NoValidRecipients, reply);
                        self.push_bytes(Bytes::from_static(b".\r\n"));
                        self.push_expect(now, Expect::DataEnd);
                    }
                } else {
                    let status = if s.accepted.is_empty() {
                        MessageStatus::NoValidRecipients
                    } else {
                        MessageStatus::Rejected
                    };
                    s.decide(status, Some(reply));
                    self.needs_rset = true;
                }
            }
            Expect::DataEnd => {
                let status = if ok {
                    MessageStatus::Accepted
                } else {
                    MessageStatus::Rejected
                };
                s.decide(status, Some(reply));
            }
            Expect::LmtpRcpt(i) => {
                s.lmtp_delivered += usize::from(ok);
                if let Some((recipient, _)) = s.recipients.get(i).cloned() {
                    let ev = ClientEvent::DeliveryResult {
                        message,
                        recipient,
                        reply,
                    };
                    self.events.push_back(ev);
                }
                if !self.expect.iter().any(|e| matches!(e, Expect::LmtpRcpt(_))) {
                    let Some(s) = self.stream.as_mut() else {
                        return;
                    };
                    let status = match s.lmtp_delivered {
                        0 => MessageStatus::Rejected,
                        n if n == s.accepted.len() => MessageStatus::Accepted,
                        _ => MessageStatus::PartiallyAccepted,
                    };
                    s.decide(status, None);
                }
            }
            Expect::Bdat { last } => {
                if !ok {
                    // RFC 3030 2: after a failed chunk the state is unclear; RSET.
                    s.decide(MessageStatus::Rejected, Some(reply));
                    self.needs_rset = true;
                } else if last {
                    s.decide(MessageStatus::Accepted, Some(reply));
                }
            }
            _ => {}
        }
        self.pump(now);
    }

    /// Reports the outcome once it is decided and no reply of the transaction is due.
    fn finish_stream_if_done(&mut self, now: Instant) {
        let decided = self.stream.as_ref().is_some_and(|s| s.result.is_some());
        if !decided || self.expect.iter().any(|e| e.in_transaction()) {
            return;
        }
        if let Some(s) = self.stream.take() {
            let (status, reply) = s.result.unwrap_or((MessageStatus::Aborted, None));
            self.push_result(s.id, status, reply);
        }
        self.next_step(now);
    }

    /// Ends the streamed transaction as aborted (the session is closing).
    pub(super) fn abort_stream(&mut self) {
        if let Some(s) = self.stream.take() {
            if s.body_started && s.mode == Mode::Data && !s.end_sent {
                // Inside DATA anything more would be read as body: send nothing.
                self.staging.clear();
                self.tx.clear();
            }
            self.push_result(s.id, MessageStatus::Aborted, None);
        }
    }
}
