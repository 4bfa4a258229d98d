//! The transaction engine: MAIL, RCPT, DATA or BDAT, pipelined (RFC 2920) or in
//! lock-step, for every transaction, whole or streamed. Transactions wait in
//! `Client::txns` in the order they go; the front one, once its MAIL is out, owns the
//! session until its outcome. See [`TxnPhase`] for the phases.

use std::time::Instant;

use bytes::Bytes;

use super::rules::{self, ContentRules, RcptNeeds};
use super::transaction::{Mode, Out, Plan, Transaction, TxnPhase};
use super::{Client, ClientError, CloseReason, Event, Expect, MessageError, MessageStatus};
use super::{MessageId, State};
use crate::types::{Body, Capabilities, Command, MailParams, Reply, ReplyCode, ReversePath};

impl Client {
    /// Moves the session on as far as it can go now: the running transaction, then RSET,
    /// the next transaction, or QUIT.
    pub(super) fn drive(&mut self, now: Instant) {
        while self.state == State::Ready {
            if self.txns.front().is_some_and(Transaction::started) {
                self.pump(now);
                if self.txns.front().is_some_and(Transaction::started) {
                    return;
                }
                continue;
            }
            if !self.expect.is_empty() {
                return;
            }
            if self.needs_rset {
                // A transaction was left open on the server: RFC 5321 4.1.1.5.
                return self.send(now, &Command::Rset, Expect::Rset);
            }
            if self.txns.is_empty() {
                if self.quit_requested {
                    self.state = State::Quitting;
                    self.send(now, &Command::Quit, Expect::Quit);
                }
                return;
            }
            self.start(now);
        }
    }

    /// Sends MAIL for the front transaction, or reports why it cannot go.
    fn start(&mut self, now: Instant) {
        let Some(mut t) = self.txns.pop_front() else {
            return;
        };
        let placeholder = TxnPhase::Envelope;
        let TxnPhase::Queued { from, params } = std::mem::replace(&mut t.phase, placeholder) else {
            return self.txns.push_front(t);
        };
        match self.plan(&t, &from, params) {
            Ok((params, plan)) => {
                t.begin(plan);
                self.txns.push_front(t);
                self.send(now, &Command::Mail { from, params }, Expect::Mail);
            }
            Err(e) => {
                t.decide(MessageStatus::NotSent(e), None);
                self.events.push_back(t.into_result());
            }
        }
    }

    /// Every rule a transaction must meet before MAIL (see `rules.rs`), and the MAIL
    /// parameters and plan for this server.
    fn plan(
        &self,
        t: &Transaction,
        from: &ReversePath<'static>,
        mut p: MailParams<'static>,
    ) -> Result<(MailParams<'static>, Plan), MessageError> {
        let default = Capabilities::default();
        let caps = self.caps.as_ref().unwrap_or(&default);
        let c = &t.content;
        if c.scan().eight_bit() && p.body != Some(Body::BinaryMime) {
            // RFC 6152 3: 8-bit content is declared; `declare_body` refuses it when the
            // server lacks 8BITMIME (RFC 5321 2.4).
            p.body = Some(Body::EightBitMime);
        }
        rules::declare_body(caps, &mut p)?;
        let binary = p.body == Some(Body::BinaryMime);
        let mode = if binary || (self.config.use_chunking && caps.chunking()) {
            Mode::Bdat
        } else {
            Mode::Data
        };
        let content = ContentRules::new(caps, &p);
        content.check(c.scan())?;
        let needs = t
            .recipients
            .iter()
            .map(|r| RcptNeeds::of(&r.path, &r.params));
        let (utf8, dsn) = needs.fold((false, false), |(u, d), n| (u || n.smtputf8, d || n.dsn));
        // RFC 6531 3.4: a non-ASCII address only in a transaction opened with SMTPUTF8.
        if utf8 || p.smtputf8 || !from.is_ascii() {
            if !caps.smtputf8() {
                return Err(MessageError::SmtpUtf8NotOffered);
            }
            p.smtputf8 = true;
        }
        if (dsn || p.ret.is_some() || p.envid.is_some()) && !caps.dsn() {
            return Err(MessageError::DsnNotOffered);
        }
        rules::check_requiretls(caps, &p, self.tls, self.tls_verified)?;
        p.size = match caps.size() {
            // SIZE= exists only with the extension (RFC 1870 6).
            None => None,
            Some(limit) => {
                // RFC 1870 5/6: the octets as they go when the whole body is known,
                // else the caller's estimate; never made up.
                let size = if c.ended {
                    Some(c.size(mode, binary))
                } else {
                    p.size
                };
                if let (Some(size), Some(limit)) = (size, limit) {
                    if size > limit {
                        return Err(MessageError::TooLarge { size, limit });
                    }
                }
                size
            }
        };
        let plan = Plan {
            pipelined: self.config.use_pipelining && caps.pipelining(),
            mode,
            smtputf8: p.smtputf8,
            dsn: caps.dsn(),
            rules: content,
            normalise: mode == Mode::Bdat && !binary,
        };
        Ok((p, plan))
    }

    /// Sends what the running transaction can send now, and reports it once decided.
    fn pump(&mut self, now: Instant) {
        self.pump_recipients(now);
        self.pump_body_start(now);
        self.pump_body(now);
        self.finish_if_done();
    }

    /// The active transaction: the front one, once its MAIL is out.
    fn active(&mut self) -> Option<&mut Transaction> {
        self.txns.front_mut().filter(|t| t.started())
    }

    /// A command may go now: pipelining, or nothing is due (RFC 2920 3.1).
    fn may_send(&self, pipelined: bool) -> bool {
        pipelined || self.expect.is_empty()
    }

    fn pump_recipients(&mut self, now: Instant) {
        loop {
            let free = self.expect.is_empty();
            let Some(t) = self.active() else { return };
            let go = !t.decided() && (t.pipelined() || free) && t.sent < t.recipients.len();
            let Some(r) = t.recipients.get(t.sent).filter(|_| go) else {
                return;
            };
            let cmd = Command::Rcpt {
                to: r.path.clone(),
                params: r.params.clone(),
            };
            let i = t.sent;
            t.sent += 1;
            self.send(now, &cmd, Expect::Rcpt(i));
        }
    }

    /// Starts the body once some is given and every RCPT is out: DATA, or the first BDAT
    /// chunk once a recipient is known to be accepted.
    fn pump_body_start(&mut self, now: Instant) {
        let Some(t) = self.txns.front() else { return };
        let wants = t.content.held_len() > 0 || t.content.ended;
        let ready = matches!(t.phase, TxnPhase::Envelope) && t.sent == t.recipients.len();
        if !ready || !wants || !self.may_send(t.pipelined()) {
            return;
        }
        let all_answered = t.answered == t.recipients.len();
        let Some(t) = self.active() else { return };
        if all_answered && !t.any_accepted() {
            // Nothing to deliver to: no body goes out (RFC 5321 3.3), and the open
            // transaction is reset.
            let reply = t.last_rcpt_reply.clone();
            t.decide(MessageStatus::NoValidRecipients, reply);
            self.needs_rset = true;
            return;
        }
        match t.mode() {
            Mode::Data => {
                t.phase = TxnPhase::DataSent;
                self.send(now, &Command::Data, Expect::Data);
            }
            // BDAT carries the body with the command: it waits for the RCPT replies, so
            // no body goes to a server that accepted no recipient.
            Mode::Bdat if all_answered => {
                t.phase = TxnPhase::Body;
                let message = t.id;
                if t.streamed {
                    self.events.push_back(Event::DataReady { message });
                }
            }
            Mode::Bdat => {}
        }
    }

    fn pump_body(&mut self, now: Instant) {
        loop {
            let Some(t) = self.active() else { return };
            if !matches!(t.phase, TxnPhase::Body) {
                return;
            }
            match t.mode() {
                Mode::Data => return self.pump_data(now),
                Mode::Bdat => {
                    if !self.pump_bdat(now) {
                        return;
                    }
                }
            }
        }
    }

    /// Hands what is held of a DATA body to its output.
    fn pump_data(&mut self, now: Instant) {
        self.flush_staging();
        let out = self.tx.iter_mut().rev().find_map(|o| match o {
            Out::Body(d) if !d.ended => Some(d),
            _ => None,
        });
        let Some(t) = self.txns.front_mut() else {
            return;
        };
        if let Some(d) = t.feed_data(out) {
            self.tx.push_back(Out::Body(d));
        }
        if let Some(t) = self.active().filter(|t| t.content.ended) {
            t.phase = TxnPhase::Ending;
            self.expect_final(now);
        }
    }

    /// Sends one BDAT chunk if one may go (RFC 3030 2); true if another may follow at once.
    fn pump_bdat(&mut self, now: Instant) -> bool {
        let chunk_size = self.config.bdat_chunk_size.max(1);
        let free = self.expect.is_empty();
        let Some(t) = self.active() else { return false };
        let held = t.content.held_len();
        if !(t.pipelined() || free) || (held == 0 && !t.content.ended) {
            return false;
        }
        let size = held.min(chunk_size);
        let last = t.content.ended && size == held;
        let pipelined = t.pipelined();
        if last {
            t.phase = TxnPhase::Ending;
        }
        let mut pieces = Vec::new();
        let mut left = size;
        while left > 0 {
            let Some(piece) = t.content.take_up_to(left) else {
                break;
            };
            left -= piece.len();
            pieces.push(piece);
        }
        let cmd = Command::Bdat {
            size: size as u64,
            last,
        };
        cmd.encode(&mut self.staging);
        for piece in pieces {
            self.push_bytes(piece);
        }
        if last && self.config.lmtp {
            self.expect_final(now);
        } else {
            self.push_expect(now, Expect::Bdat { last });
        }
        !last && pipelined
    }

    /// The reply after the end of data, or with LMTP one per accepted recipient
    /// (RFC 2033 4.2).
    fn expect_final(&mut self, now: Instant) {
        if !self.config.lmtp {
            return self.push_expect(now, Expect::DataEnd);
        }
        let accepted: Vec<usize> = self
            .active()
            .map(|t| t.accepted().collect())
            .unwrap_or_default();
        for i in accepted {
            self.push_expect(now, Expect::LmtpRcpt(i));
        }
    }

    /// Reports the outcome once it is decided and no reply of the transaction is due.
    fn finish_if_done(&mut self) {
        let due = self.expect.iter().any(|e| e.in_transaction());
        if due || !self.txns.front().is_some_and(Transaction::decided) {
            return;
        }
        if let Some(t) = self.txns.pop_front() {
            self.events.push_back(t.into_result());
        }
    }

    /// The one handler for every reply of a transaction.
    pub(super) fn on_txn_reply(&mut self, now: Instant, expect: Expect, reply: Reply) {
        let lmtp_due = self.expect.iter().any(|e| matches!(e, Expect::LmtpRcpt(_)));
        // The field, not `active()`: events are pushed while `t` is held.
        let Some(t) = self.txns.front_mut().filter(|t| t.started()) else {
            return self.fatal(ClientError::UnexpectedReply(reply));
        };
        let ok = reply.code().is_positive();
        let message = t.id;
        match expect {
            Expect::Mail => {
                t.mail_ok = ok;
                if !ok {
                    t.decide(MessageStatus::Rejected, Some(reply.clone()));
                }
                if t.streamed {
                    self.events.push_back(Event::MailResult { message, reply });
                }
            }
            Expect::Rcpt(i) => {
                t.answered += 1;
                let mail_ok = t.mail_ok;
                if let Some(r) = t.recipients.get_mut(i) {
                    r.accepted = ok && mail_ok;
                }
                t.last_rcpt_reply = Some(reply.clone());
                if let Some(recipient) = t.recipient(i) {
                    let ev = Event::RecipientResult {
                        message,
                        recipient,
                        reply,
                    };
                    self.events.push_back(ev);
                }
            }
            Expect::Data => self.on_data_reply(now, reply),
            Expect::DataEnd => {
                let status = if ok {
                    MessageStatus::Accepted
                } else {
                    MessageStatus::Rejected
                };
                t.decide(status, Some(reply));
            }
            Expect::LmtpRcpt(i) => {
                t.delivered += usize::from(ok);
                if let Some(recipient) = t.recipient(i) {
                    let ev = Event::DeliveryResult {
                        message,
                        recipient,
                        reply,
                    };
                    self.events.push_back(ev);
                }
                if !lmtp_due {
                    let status = t.lmtp_status();
                    t.decide(status, None);
                }
            }
            Expect::Bdat { last } => {
                if !ok {
                    // RFC 3030 2: after a failed chunk the transaction state is unclear;
                    // RSET puts both sides back in step.
                    t.decide(MessageStatus::Rejected, Some(reply));
                    self.needs_rset = true;
                } else if last {
                    t.decide(MessageStatus::Accepted, Some(reply));
                }
            }
            _ => return self.fatal(ClientError::UnexpectedReply(reply)),
        }
        self.drive(now);
    }

    fn on_data_reply(&mut self, now: Instant, reply: Reply) {
        let Some(t) = self.active() else { return };
        let message = t.id;
        if reply.code() != ReplyCode::START_MAIL_INPUT {
            if t.decided() {
                // MAIL was refused, or the outcome is known otherwise: a refused DATA
                // of a pipelined group is only drained.
                return;
            }
            let status = if t.any_accepted() {
                MessageStatus::Rejected
            } else {
                MessageStatus::NoValidRecipients
            };
            t.decide(status, Some(reply));
            // MAIL was accepted, so a transaction is open on the server.
            self.needs_rset = true;
        } else if t.decided() || !t.any_accepted() {
            // RFC 2920 3.1: DATA was accepted though no recipient was; send an empty
            // message (just the end of data) and drop whatever the server says.
            let reply = t.last_rcpt_reply.clone();
            t.decide(MessageStatus::NoValidRecipients, reply);
            self.push_bytes(Bytes::from_static(b".\r\n"));
            self.push_expect(now, Expect::DataEnd);
        } else {
            t.phase = TxnPhase::Body;
            if t.streamed {
                self.events.push_back(Event::DataReady { message });
            }
        }
    }

    /// Ends transaction `id` with `status` so that the server can never accept what it
    /// has of the message: nothing sent yet, RSET, or inside a DATA body a closed
    /// connection (RFC 5321 4.1.1.4 has no other way). After the end of data the outcome
    /// is the server's.
    pub(super) fn cancel(&mut self, now: Instant, id: MessageId, status: MessageStatus) {
        let Some(pos) = self.txns.iter().position(|t| t.id == id) else {
            return;
        };
        let Some(t) = self.txns.get_mut(pos) else {
            return;
        };
        if matches!(t.phase, TxnPhase::Ending | TxnPhase::Decided { .. }) {
            return;
        }
        if !t.started() || t.inside_data() {
            let inside = t.inside_data();
            if let Some(mut t) = self.txns.remove(pos) {
                t.decide(status, None);
                self.events.push_back(t.into_result());
            }
            if inside {
                // Whatever of the body is still unsent must never reach the server.
                self.staging.clear();
                self.tx.clear();
                return self.close(CloseReason::Aborted);
            }
            return self.drive(now);
        }
        t.drop_body();
        t.decide(status, None);
        self.needs_rset = true;
        self.drive(now);
    }

    /// Ends every transaction as aborted (the session is over). An unfinished body must
    /// not go out: the server would read the rest as commands, and inside DATA nothing
    /// may follow at all.
    pub(super) fn abort_messages(&mut self) {
        if self.txns.front().is_some_and(Transaction::inside_data) {
            self.staging.clear();
            self.tx.clear();
        } else if let Some(id) = self.txns.front().map(|t| t.id) {
            // A body whose outcome is known (the server answered it) still goes.
            self.tx.retain(|o| !matches!(o, Out::Body(d) if d.id == id));
        }
        let events: Vec<_> = self
            .txns
            .drain(..)
            .map(|mut t| {
                t.decide(MessageStatus::Aborted, None);
                t.into_result()
            })
            .collect();
        self.events.extend(events);
    }

    /// Part of a DATA body is still to be handed out.
    pub(super) fn body_pending(&self) -> bool {
        self.tx.iter().any(|o| matches!(o, Out::Body(_)))
    }

    /// The next bytes of the output queue (see [`Client::poll_transmit`]).
    pub(super) fn next_output(&mut self) -> Option<Bytes> {
        loop {
            match self.tx.front_mut()? {
                Out::Body(d) => {
                    let piece = d.next_piece();
                    let done = d.is_done();
                    if done {
                        self.tx.pop_front();
                    }
                    if let Some(piece) = piece {
                        self.grace = true;
                        return Some(piece);
                    }
                    if !done {
                        // The rest of the body is not given yet; nothing may pass it.
                        return None;
                    }
                }
                Out::Bytes(_) => {
                    if let Some(Out::Bytes(b)) = self.tx.pop_front() {
                        return Some(b);
                    }
                }
            }
        }
    }

    /// Octets waiting in the output queue.
    pub(super) fn queued_output(&self) -> usize {
        self.tx
            .iter()
            .map(|o| match o {
                Out::Bytes(b) => b.len(),
                Out::Body(d) => d.remaining(),
            })
            .sum()
    }
}
