//! One mail transaction, whole ([`Client::send_message`](super::Client::send_message)) or
//! streamed ([`Client::start_transaction`](super::Client::start_transaction)): its phase,
//! its recipients with their results, and its body. A whole message is a transaction
//! whose recipients, body and end were all handed over before MAIL; the engine that
//! moves transactions through their phases (`engine.rs`) does not know the difference.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::rules::{BodyScan, ContentRules, LineEnds, RcptNeeds};
use super::{Event, MessageError, MessageId, MessageStatus, UsageError, UsageErrorKind};
use crate::data::DotStuffer;
use crate::types::{ForwardPath, MailParams, RcptParams, Reply, ReversePath};

/// Body input stuffed per [`Client::poll_transmit`](super::Client::poll_transmit) call:
/// large enough for efficient writes, small enough that the stuffed copy stays small.
const BODY_PIECE: usize = 64 * 1024;

/// Where a transaction stands. Which reply is due next is kept apart, in the session's
/// `Expect` queue; with PIPELINING (RFC 2920) MAIL, the RCPTs and DATA are in flight
/// together, so a transaction can be in `DataSent` while RCPT replies are still due.
///
/// ```text
///   Queued ── the server lacks what it needs, or a rule of the wire fails ──► reported NotSent
///     │  session ready, no reply due, no RSET owed:
///     │  MAIL (with the RCPTs, and DATA once body is given, when pipelining)
///     ▼
///   Envelope ── MAIL refused / every RCPT refused / cancelled ───────────────┐
///     │ body given: DATA               │ body given, every RCPT answered,    │
///     ▼                                │ one accepted: first BDAT chunk      │
///   DataSent ── 354 ──► Body ◄─────────┘                                     │
///     │ │                 │ "." queued / BDAT LAST sent                      │
///     │ │                 ▼                                                  │
///     │ │               Ending ── final reply (LMTP: one per recipient) ──┐  │
///     │ │ 354 with no recipient accepted: empty message  (RFC 2920 3.1)   │  │
///     │ └──────────────────────────────────────────────────────────────┐  │  │
///     │ refused                        Body ── refused chunk, cancelled │  │  │
///     ▼                                 (BDAT) ───────────────────────┐ │  │  │
///   Decided ◄─────────────────────────────────────────────────────────┴─┴──┴──┘
///     │  no reply of the transaction still due (RSET follows if the server's
///     ▼  transaction is open, RFC 5321 4.1.1.5)
///   reported (MessageResult)
/// ```
///
/// Cancelling in `DataSent` or `Body` under DATA closes the connection instead: nothing
/// else ends a DATA body without delivering it (RFC 5321 4.1.1.4).
#[derive(Debug)]
pub(super) enum TxnPhase {
    /// Waiting for the session and the transactions before it; nothing sent.
    Queued {
        from: ReversePath<'static>,
        params: MailParams<'static>,
    },
    /// MAIL sent; RCPTs go out as recipients come (pipelined) or one per reply.
    Envelope,
    /// DATA sent; the `354` is due.
    DataSent,
    /// The body flows: after the `354`, or as BDAT chunks.
    Body,
    /// The end of data is queued; the final reply (or replies) is due.
    Ending,
    /// The outcome is known; replies of the transaction still due are drained.
    Decided {
        status: MessageStatus,
        reply: Option<Reply>,
    },
}

/// How the body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Data,
    Bdat,
}

/// What was settled when MAIL went out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) pipelined: bool,
    pub(super) mode: Mode,
    /// MAIL carried SMTPUTF8.
    pub(super) smtputf8: bool,
    /// The server offers DSN.
    pub(super) dsn: bool,
    /// What the body may hold.
    pub(super) rules: ContentRules,
    /// BDAT of text: line ends are written as CRLF as the body comes.
    pub(super) normalise: bool,
}

/// One recipient and what the server said to it.
#[derive(Debug)]
pub(super) struct Rcpt {
    pub(super) path: ForwardPath<'static>,
    pub(super) params: RcptParams<'static>,
    pub(super) accepted: bool,
}

/// The body as handed over: pieces not yet on their way out, and what is known of all of
/// it (SIZE, 8-bit octets, line lengths).
#[derive(Debug, Default)]
pub(super) struct Content {
    /// Pieces that cannot go out yet (no `354`, a BDAT reply awaited in lock-step); under
    /// BDAT of text already written with CRLF line ends.
    held: VecDeque<Bytes>,
    held_len: usize,
    /// Every octet handed over, measured as it goes on the wire.
    scan: BodyScan,
    /// Octets handed over, as given (the size of a binary body).
    raw: u64,
    /// Line-end state of the BDAT normaliser across pieces.
    ends: LineEnds,
    pub(super) ended: bool,
}

impl Content {
    /// Octets held.
    pub(super) fn held_len(&self) -> usize {
        self.held_len
    }

    /// The RFC 1870 size of the whole body: octets as they go, line ends as CRLF, no
    /// dot-stuffing; under DATA with the CRLF added to an open last line. A binary body
    /// goes as given.
    pub(super) fn size(&self, mode: Mode, binary: bool) -> u64 {
        if binary {
            self.raw
        } else {
            self.scan.octets(mode == Mode::Data)
        }
    }

    pub(super) fn scan(&self) -> &BodyScan {
        &self.scan
    }

    /// Up to `max` octets from the front of what is held.
    pub(super) fn take_up_to(&mut self, max: usize) -> Option<Bytes> {
        let front = self.held.front_mut()?;
        let piece = if front.len() <= max {
            self.held.pop_front()?
        } else {
            front.split_to(max)
        };
        self.held_len = self.held_len.saturating_sub(piece.len());
        Some(piece)
    }

    fn take_all(&mut self) -> VecDeque<Bytes> {
        self.held_len = 0;
        std::mem::take(&mut self.held)
    }

    fn hold(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.held_len = self.held_len.saturating_add(piece.len());
            self.held.push_back(piece);
        }
    }
}

/// A mail transaction. See [`TxnPhase`] for its life.
#[derive(Debug)]
pub(super) struct Transaction {
    pub(super) id: MessageId,
    /// Opened with `start_transaction`: the MAIL reply and the moment the body may flow
    /// are reported as events too.
    pub(super) streamed: bool,
    pub(super) phase: TxnPhase,
    /// Settled when MAIL goes out.
    pub(super) plan: Option<Plan>,
    pub(super) recipients: Vec<Rcpt>,
    /// RCPTs sent, and answered.
    pub(super) sent: usize,
    pub(super) answered: usize,
    pub(super) mail_ok: bool,
    pub(super) last_rcpt_reply: Option<Reply>,
    /// LMTP: recipients delivered (RFC 2033 4.2).
    pub(super) delivered: usize,
    pub(super) content: Content,
}

impl Transaction {
    pub(super) fn new(
        id: MessageId,
        from: ReversePath<'static>,
        params: MailParams<'static>,
        streamed: bool,
    ) -> Self {
        Self {
            id,
            streamed,
            phase: TxnPhase::Queued { from, params },
            plan: None,
            recipients: Vec::new(),
            sent: 0,
            answered: 0,
            mail_ok: false,
            last_rcpt_reply: None,
            delivered: 0,
            content: Content::default(),
        }
    }

    /// MAIL went out.
    pub(super) fn started(&self) -> bool {
        !matches!(self.phase, TxnPhase::Queued { .. })
    }

    pub(super) fn decided(&self) -> bool {
        matches!(self.phase, TxnPhase::Decided { .. })
    }

    /// The first outcome stands; later replies are only drained.
    pub(super) fn decide(&mut self, status: MessageStatus, reply: Option<Reply>) {
        if !self.decided() {
            self.phase = TxnPhase::Decided { status, reply };
        }
    }

    /// The outcome, once decided.
    pub(super) fn outcome(self) -> (MessageStatus, Option<Reply>) {
        match self.phase {
            TxnPhase::Decided { status, reply } => (status, reply),
            _ => (MessageStatus::Aborted, None),
        }
    }

    pub(super) fn mode(&self) -> Mode {
        self.plan.map_or(Mode::Data, |p| p.mode)
    }

    pub(super) fn pipelined(&self) -> bool {
        self.plan.is_some_and(|p| p.pipelined)
    }

    /// DATA went out and its body is not complete: only closing the connection can stop
    /// the server from taking what it has as a message.
    pub(super) fn inside_data(&self) -> bool {
        self.mode() == Mode::Data && matches!(self.phase, TxnPhase::DataSent | TxnPhase::Body)
    }

    /// Indices of the recipients the server accepted, in RCPT order.
    pub(super) fn accepted(&self) -> impl Iterator<Item = usize> + '_ {
        self.recipients
            .iter()
            .enumerate()
            .filter(|(_, r)| r.accepted)
            .map(|(i, _)| i)
    }

    pub(super) fn any_accepted(&self) -> bool {
        self.recipients.iter().any(|r| r.accepted)
    }

    pub(super) fn recipient(&self, i: usize) -> Option<ForwardPath<'static>> {
        self.recipients.get(i).map(|r| r.path.clone())
    }

    /// Adds a recipient. Once MAIL is out, one that needs SMTPUTF8 MAIL did not carry is
    /// refused (RFC 6531 3.4), and one with DSN parameters for a server without DSN
    /// makes the message one that cannot be sent as asked (`Ok(Err(..))`, RFC 3461 4),
    /// as it would have before MAIL.
    pub(super) fn add_recipient(
        &mut self,
        path: ForwardPath<'static>,
        params: RcptParams<'static>,
    ) -> Result<Result<(), MessageError>, UsageError> {
        if self.content.ended || self.content.raw > 0 || !self.at_envelope() {
            return Err(UsageErrorKind::OutOfOrder.into());
        }
        let needs = RcptNeeds::of(&path, &params);
        if let Some(plan) = self.plan {
            if needs.smtputf8 && !plan.smtputf8 {
                return Err(UsageErrorKind::NeedsSmtpUtf8.into());
            }
            if needs.dsn && !plan.dsn {
                return Ok(Err(MessageError::DsnNotOffered));
            }
        }
        self.recipients.push(Rcpt {
            path,
            params,
            accepted: false,
        });
        Ok(Ok(()))
    }

    fn at_envelope(&self) -> bool {
        matches!(
            self.phase,
            TxnPhase::Queued { .. } | TxnPhase::Envelope | TxnPhase::Decided { .. }
        )
    }

    /// Takes the next piece of the body. Once MAIL settled what the body may hold, the
    /// body so far is checked before any of it goes (`Ok(Err(..))` names the broken
    /// rule); before MAIL the check comes with MAIL. After the outcome it is dropped.
    pub(super) fn push_body(
        &mut self,
        piece: Bytes,
    ) -> Result<Result<(), MessageError>, UsageError> {
        if self.content.ended {
            return Err(UsageErrorKind::OutOfOrder.into());
        }
        if self.decided() || piece.is_empty() {
            return Ok(Ok(()));
        }
        let c = &mut self.content;
        c.scan.push(&piece);
        c.raw = c.raw.saturating_add(piece.len() as u64);
        if let Some(plan) = self.plan {
            if let Err(e) = plan.rules.check(&c.scan) {
                return Ok(Err(e));
            }
            if plan.normalise {
                let piece = c.ends.normalise(piece);
                c.hold(piece);
                return Ok(Ok(()));
            }
        }
        c.hold(piece);
        Ok(Ok(()))
    }

    /// The body is complete.
    pub(super) fn end_body(&mut self) -> Result<(), UsageError> {
        if self.content.ended {
            return Err(UsageErrorKind::OutOfOrder.into());
        }
        self.content.ended = true;
        Ok(())
    }

    /// MAIL goes out with `plan`; a text body held so far is written with CRLF line ends
    /// now if it goes by BDAT.
    pub(super) fn begin(&mut self, plan: Plan) {
        self.phase = TxnPhase::Envelope;
        self.plan = Some(plan);
        if plan.normalise {
            let c = &mut self.content;
            for piece in c.take_all() {
                let piece = c.ends.normalise(piece);
                c.hold(piece);
            }
        }
    }

    /// Drops the body held; the transaction is being cancelled.
    pub(super) fn drop_body(&mut self) {
        self.content.take_all();
    }

    /// Moves what is held of a DATA body to `out`, its output; the output is returned
    /// when there was none yet and there is something to put in it.
    pub(super) fn feed_data(&mut self, out: Option<&mut DataOut>) -> Option<DataOut> {
        let pieces = self.content.take_all();
        let ended = self.content.ended;
        match out {
            Some(d) => {
                d.len = pieces.iter().fold(d.len, |n, p| n.saturating_add(p.len()));
                d.pieces.extend(pieces);
                d.ended = ended;
                None
            }
            None if pieces.is_empty() && !ended => None,
            None => Some(DataOut::new(self.id, pieces, ended)),
        }
    }

    /// The LMTP outcome once every delivery reply is in (RFC 2033 4.2).
    pub(super) fn lmtp_status(&self) -> MessageStatus {
        match self.delivered {
            0 => MessageStatus::Rejected,
            n if n == self.accepted().count() => MessageStatus::Accepted,
            _ => MessageStatus::PartiallyAccepted,
        }
    }

    /// The result event.
    pub(super) fn into_result(self) -> Event {
        let message = self.id;
        let (status, reply) = self.outcome();
        Event::MessageResult {
            message,
            status,
            reply,
        }
    }
}

/// One element of the output queue.
#[derive(Debug)]
pub(super) enum Out {
    /// Ready bytes: commands, BDAT chunks.
    Bytes(Bytes),
    /// A DATA body, stuffed piece by piece as it is polled, so that a large body is never
    /// held twice.
    Body(DataOut),
}

/// The output of one DATA body. It stays in the output queue until its end of data is
/// handed out; nothing is queued behind an unfinished body.
#[derive(Debug)]
pub(super) struct DataOut {
    /// The transaction whose body this is.
    pub(super) id: MessageId,
    pieces: VecDeque<Bytes>,
    /// Octets in `pieces`.
    len: usize,
    stuffer: DotStuffer,
    /// The end of data follows the pieces.
    pub(super) ended: bool,
    done: bool,
}

impl DataOut {
    fn new(id: MessageId, pieces: VecDeque<Bytes>, ended: bool) -> Self {
        let len = pieces.iter().map(Bytes::len).sum();
        Self {
            id,
            pieces,
            len,
            stuffer: DotStuffer::new(),
            ended,
            done: false,
        }
    }

    /// The next stuffed piece, if any body is there; the last one carries the end of
    /// data (a final CRLF if missing, then "." CRLF, RFC 5321 4.1.1.4).
    pub(super) fn next_piece(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let mut out = BytesMut::new();
        let mut budget = BODY_PIECE;
        while budget > 0 {
            let Some(front) = self.pieces.front_mut() else {
                break;
            };
            let part = if front.len() <= budget {
                self.pieces.pop_front()?
            } else {
                front.split_to(budget)
            };
            budget -= part.len();
            self.len = self.len.saturating_sub(part.len());
            self.stuffer.push(&part, &mut out);
        }
        if self.pieces.is_empty() && self.ended {
            self.stuffer.finish(&mut out);
            self.done = true;
        }
        (!out.is_empty()).then(|| out.freeze())
    }

    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// Body octets not yet stuffed and handed out.
    pub(super) fn remaining(&self) -> usize {
        self.len
    }
}
