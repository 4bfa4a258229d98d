//! Mail transactions: MAIL, RCPT, DATA or BDAT, pipelined or in lock-step.

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::rules::{self, BodyScan, ContentRules};
use super::{Client, ClientError, ClientEvent, Expect, MessageError, MessageStatus, Queued, State};
use crate::data::DotStuffer;
use crate::types::{Body, Command, ForwardPath, MailParams, RcptParams, Reply, ReplyCode};

/// Body input stuffed per [`Client::poll_transmit`] call: large enough for efficient
/// writes, small enough that the stuffed copy stays small.
const BODY_PIECE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Data,
    Bdat,
}

/// The message being sent.
#[derive(Debug)]
pub(super) struct Txn {
    pub(super) id: MessageId,
    recipients: Vec<(ForwardPath<'static>, RcptParams<'static>)>,
    pipelined: bool,
    mode: Mode,
    body: Bytes,
    mail_ok: bool,
    /// Indices of the recipients the server accepted.
    accepted: Vec<usize>,
    last_rcpt_reply: Option<Reply>,
    bdat_pos: usize,
    lmtp_delivered: usize,
    /// Decided outcome; later replies of the transaction are only drained.
    result: Option<(MessageStatus, Option<Reply>)>,
}

use super::MessageId;

impl Txn {
    fn decide(&mut self, status: MessageStatus, reply: Option<Reply>) {
        if self.result.is_none() {
            self.result = Some((status, reply));
        }
    }

    fn recipient(&self, i: usize) -> Option<ForwardPath<'static>> {
        self.recipients.get(i).map(|(p, _)| p.clone())
    }
}

/// One element of the output queue.
#[derive(Debug)]
pub(super) enum Out {
    /// Ready bytes: commands, BDAT chunks.
    Bytes(Bytes),
    /// A DATA body, stuffed piece by piece as it is polled.
    Body(DataStream),
}

/// DATA body output, produced lazily so a large body is never held twice.
#[derive(Debug)]
pub(super) struct DataStream {
    body: Bytes,
    pos: usize,
    stuffer: DotStuffer,
    done: bool,
}

impl DataStream {
    /// The next stuffed piece; the last one carries the end of data.
    pub(super) fn next_piece(&mut self) -> Bytes {
        let mut out = BytesMut::new();
        while out.is_empty() && !self.done {
            let end = self.body.len().min(self.pos.saturating_add(BODY_PIECE));
            if let Some(chunk) = self.body.get(self.pos..end) {
                self.stuffer.push(chunk, &mut out);
            }
            self.pos = end;
            if self.pos >= self.body.len() {
                // Final CRLF if missing, then "." CRLF (RFC 5321 4.1.1.4).
                self.stuffer.finish(&mut out);
                self.done = true;
            }
        }
        out.freeze()
    }

    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// Body octets not yet stuffed and handed out.
    pub(super) fn remaining(&self) -> usize {
        self.body.len().saturating_sub(self.pos)
    }
}

/// Rewrites bare CR and bare LF as CRLF (RFC 5321 2.3.8), for BDAT, which has no
/// dot-stuffing pass to do it. Returns the input itself when it is already clean.
fn crlf_normalised(body: &Bytes) -> Bytes {
    let b = &body[..];
    let mut i = 0;
    let mut clean = true;
    while let Some(&c) = b.get(i) {
        match (c, b.get(i + 1)) {
            (b'\r', Some(b'\n')) => i += 2,
            (b'\r' | b'\n', _) => {
                clean = false;
                break;
            }
            _ => i += 1,
        }
    }
    if clean {
        return body.clone();
    }
    let mut out = Vec::with_capacity(b.len() + b.len() / 32 + 2);
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match (c, b.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            (b'\r' | b'\n', _) => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Bytes::from(out)
}

impl Client {
    /// Starts the next thing a ready session has to do: RSET, a queued message or QUIT.
    pub(super) fn next_step(&mut self, now: Instant) {
        if self.state != State::Ready || self.txn.is_some() || !self.expect.is_empty() {
            return;
        }
        if self.needs_rset {
            // A transaction was left open (MAIL accepted, no body): RFC 5321 4.1.1.5.
            return self.send(now, &Command::Rset, Expect::Rset);
        }
        if self.stream_owns_replies() {
            // A streamed transaction is open; it runs to its end first.
            return self.pump(now);
        }
        while let Some(q) = self.queue.pop_front() {
            if self.start_txn(now, q) {
                return;
            }
        }
        if self.stream.is_some() {
            return self.pump(now);
        }
        if self.quit_requested {
            self.state = State::Quitting;
            self.send(now, &Command::Quit, Expect::Quit);
        }
    }

    /// Checks the message against the server's extensions and the rules of the wire
    /// (see `rules.rs`), and works out the MAIL parameters and how the body goes.
    fn prepare(&self, q: &Queued) -> Result<(MailParams<'static>, Mode, Bytes), MessageError> {
        let caps = self.caps.clone().unwrap_or_default();
        let mut p = q.envelope.params.clone();
        let scan = BodyScan::of(&q.body);
        if scan.eight_bit() && p.body != Some(Body::BinaryMime) {
            // RFC 6152 3: 8-bit content is declared; `declare_body` refuses it when the
            // server lacks 8BITMIME (RFC 5321 2.4).
            p.body = Some(Body::EightBitMime);
        }
        rules::declare_body(&caps, &mut p)?;
        let binary = p.body == Some(Body::BinaryMime);
        let mode = if binary || (self.config.use_chunking && caps.chunking()) {
            Mode::Bdat
        } else {
            Mode::Data
        };
        ContentRules::new(&caps, &p).check(&scan)?;
        let non_ascii =
            !q.envelope.from.is_ascii() || q.envelope.recipients.iter().any(|r| !r.path.is_ascii());
        if non_ascii || p.smtputf8 {
            if !caps.smtputf8() {
                return Err(MessageError::SmtpUtf8NotOffered);
            }
            p.smtputf8 = true;
        }
        let dsn = p.ret.is_some()
            || p.envid.is_some()
            || q.envelope
                .recipients
                .iter()
                .any(|r| r.params.notify.is_some() || r.params.orcpt.is_some());
        if dsn && !caps.dsn() {
            return Err(MessageError::DsnNotOffered);
        }
        self.check_requiretls(&caps, &p)?;
        let body = if mode == Mode::Bdat && !binary {
            crlf_normalised(&q.body)
        } else {
            q.body.clone()
        };
        p.size = match caps.size() {
            None => None,
            Some(limit) => {
                // RFC 1870 5: the octets as they go, line ends as CRLF, without
                // dot-stuffing; a binary body goes as given.
                let size = if binary {
                    body.len() as u64
                } else {
                    scan.octets(mode == Mode::Data)
                };
                if let Some(limit) = limit.filter(|&l| size > l) {
                    return Err(MessageError::TooLarge { size, limit });
                }
                // RFC 1870 6: the declared size, so the server can refuse early.
                Some(size)
            }
        };
        Ok((p, mode, body))
    }

    /// Sends MAIL (and, pipelined, the RCPTs and DATA); false when the message could not
    /// be offered at all.
    fn start_txn(&mut self, now: Instant, q: Queued) -> bool {
        let (params, mode, body) = match self.prepare(&q) {
            Ok(x) => x,
            Err(e) => {
                let ev = ClientEvent::MessageResult {
                    message: q.id,
                    status: MessageStatus::NotSent(e),
                    reply: None,
                };
                self.events.push_back(ev);
                return false;
            }
        };
        let pipelined =
            self.config.use_pipelining && self.caps.as_ref().is_some_and(|c| c.pipelining());
        let recipients: Vec<_> = q
            .envelope
            .recipients
            .into_iter()
            .map(|r| (r.path, r.params))
            .collect();
        self.send(
            now,
            &Command::Mail {
                from: q.envelope.from,
                params,
            },
            Expect::Mail,
        );
        if pipelined {
            // RFC 2920 3.1: MAIL, every RCPT and DATA go in one group.
            for (i, (to, params)) in recipients.iter().enumerate() {
                let cmd = Command::Rcpt {
                    to: to.clone(),
                    params: params.clone(),
                };
                self.send(now, &cmd, Expect::Rcpt(i));
            }
            if mode == Mode::Data {
                self.send(now, &Command::Data, Expect::Data);
            }
        }
        self.txn = Some(Txn {
            id: q.id,
            recipients,
            pipelined,
            mode,
            body,
            mail_ok: false,
            accepted: Vec::new(),
            last_rcpt_reply: None,
            bdat_pos: 0,
            lmtp_delivered: 0,
            result: None,
        });
        true
    }

    fn send_rcpt(&mut self, now: Instant, i: usize) {
        let Some((to, params)) = self.txn.as_ref().and_then(|t| t.recipients.get(i)).cloned()
        else {
            return;
        };
        self.send(now, &Command::Rcpt { to, params }, Expect::Rcpt(i));
    }

    /// Replies to the end of the body: one, or with LMTP one per accepted recipient
    /// (RFC 2033 4.2).
    fn expect_final(&mut self, now: Instant) {
        let accepted = self
            .txn
            .as_ref()
            .map(|t| t.accepted.clone())
            .unwrap_or_default();
        if self.config.lmtp {
            for i in accepted {
                self.push_expect(now, Expect::LmtpRcpt(i));
            }
        } else {
            self.push_expect(now, Expect::DataEnd);
        }
    }

    /// Sends the next BDAT chunk, or all of them when pipelining (RFC 3030 4.2).
    fn send_bdat(&mut self, now: Instant) {
        let chunk_size = self.config.bdat_chunk_size.max(1);
        loop {
            let Some(t) = self.txn.as_mut() else { return };
            let start = t.bdat_pos;
            let end = t.body.len().min(start.saturating_add(chunk_size));
            let last = end >= t.body.len();
            let piece = t.body.slice(start.min(end)..end);
            let pipelined = t.pipelined;
            t.bdat_pos = end;
            Command::Bdat {
                size: piece.len() as u64,
                last,
            }
            .encode(&mut self.staging);
            self.push_bytes(piece);
            if last {
                if self.config.lmtp {
                    self.expect_final(now);
                } else {
                    self.push_expect(now, Expect::Bdat { last: true });
                }
                return;
            }
            self.push_expect(now, Expect::Bdat { last: false });
            if !pipelined {
                return;
            }
        }
    }

    /// All recipients have answered: go on to the body, or give up on the message.
    fn after_recipients(&mut self, now: Instant) {
        let Some(t) = self.txn.as_mut() else { return };
        if t.result.is_some() {
            return;
        }
        if t.accepted.is_empty() {
            if t.pipelined && t.mode == Mode::Data {
                // DATA is on its way; its reply decides (RFC 2920 3.1).
                return;
            }
            let reply = t.last_rcpt_reply.clone();
            t.decide(MessageStatus::NoValidRecipients, reply);
            self.needs_rset = true;
            return;
        }
        match (t.mode, t.pipelined) {
            (Mode::Data, true) => {}
            (Mode::Data, false) => self.send(now, &Command::Data, Expect::Data),
            (Mode::Bdat, _) => self.send_bdat(now),
        }
    }

    pub(super) fn on_txn_reply(&mut self, now: Instant, expect: Expect, reply: Reply) {
        let Some(t) = self.txn.as_mut() else {
            return self.fatal(ClientError::UnexpectedReply(reply));
        };
        let ok = reply.code().is_positive();
        match expect {
            Expect::Mail => {
                t.mail_ok = ok;
                if !ok {
                    t.decide(MessageStatus::Rejected, Some(reply));
                } else if !t.pipelined {
                    self.send_rcpt(now, 0);
                }
            }
            Expect::Rcpt(i) => {
                let id = t.id;
                if let Some(recipient) = t.recipient(i) {
                    let ev = ClientEvent::RecipientResult {
                        message: id,
                        recipient,
                        reply: reply.clone(),
                    };
                    self.events.push_back(ev);
                }
                if ok {
                    t.accepted.push(i);
                }
                t.last_rcpt_reply = Some(reply);
                let last = i + 1 >= t.recipients.len();
                if !last {
                    if !t.pipelined && t.mail_ok {
                        self.send_rcpt(now, i + 1);
                    }
                } else if t.mail_ok {
                    self.after_recipients(now);
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
                if let Some(recipient) = t.recipient(i) {
                    let ev = ClientEvent::DeliveryResult {
                        message: t.id,
                        recipient,
                        reply,
                    };
                    self.events.push_back(ev);
                }
                t.lmtp_delivered += usize::from(ok);
                if !self.expect.iter().any(|e| matches!(e, Expect::LmtpRcpt(_))) {
                    let status = match t.lmtp_delivered {
                        0 => MessageStatus::Rejected,
                        n if n == t.accepted.len() => MessageStatus::Accepted,
                        _ => MessageStatus::PartiallyAccepted,
                    };
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
                } else if !t.pipelined && t.result.is_none() {
                    self.send_bdat(now);
                }
            }
            _ => return self.fatal(ClientError::UnexpectedReply(reply)),
        }
        self.maybe_finish(now);
    }

    fn on_data_reply(&mut self, now: Instant, reply: Reply) {
        let Some(t) = self.txn.as_mut() else { return };
        if reply.code() == ReplyCode::START_MAIL_INPUT {
            if t.result.is_none() && !t.accepted.is_empty() {
                let stream = DataStream {
                    body: t.body.clone(),
                    pos: 0,
                    stuffer: DotStuffer::new(),
                    done: false,
                };
                // Queued behind the commands already written and before any that follow.
                self.flush_staging();
                self.tx.push_back(Out::Body(stream));
                self.expect_final(now);
            } else {
                // RFC 2920 3.1: DATA was accepted though no recipient was; send an empty
                // message (just the end of data) and drop whatever the server says.
                let reply = t.last_rcpt_reply.clone();
                t.decide(MessageStatus::NoValidRecipients, reply);
                self.push_bytes(Bytes::from_static(b".\r\n"));
                self.push_expect(now, Expect::DataEnd);
            }
        } else if t.result.is_none() {
            let status = if t.accepted.is_empty() {
                MessageStatus::NoValidRecipients
            } else {
                MessageStatus::Rejected
            };
            t.decide(status, Some(reply));
            // MAIL was accepted, so a transaction is open on the server.
            self.needs_rset = true;
        }
    }

    fn maybe_finish(&mut self, now: Instant) {
        let decided = self.txn.as_ref().is_some_and(|t| t.result.is_some());
        if decided && !self.expect.iter().any(|e| e.in_transaction()) {
            self.finish_txn();
            self.next_step(now);
        }
    }

    fn finish_txn(&mut self) {
        if let Some(t) = self.txn.take() {
            let (status, reply) = t.result.unwrap_or((MessageStatus::Aborted, None));
            self.events.push_back(ClientEvent::MessageResult {
                message: t.id,
                status,
                reply,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious definition: every CRLF, bare CR and bare LF becomes CRLF.
    fn model(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\r' if b.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(b"\r\n");
                    i += 2;
                }
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn crlf_normalised_matches_the_model_on_every_short_input() {
        let alphabet = [b'a', b'\r', b'\n'];
        for len in 0..=7u32 {
            for n in 0..3usize.pow(len) {
                let input: Vec<u8> = (0..len).map(|k| alphabet[n / 3usize.pow(k) % 3]).collect();
                let got = crlf_normalised(&Bytes::from(input.clone()));
                assert_eq!(got, model(&input), "{:?}", input.escape_ascii().to_string());
            }
        }
    }

    #[test]
    fn clean_body_is_not_copied() {
        let body = Bytes::from_static(b"one\r\ntwo\r\n\r\nthree");
        let out = crlf_normalised(&body);
        assert_eq!(out.as_ptr(), body.as_ptr());
        assert_eq!(out, body);
    }
}
