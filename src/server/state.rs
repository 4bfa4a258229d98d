//! The session's state: the phases and their diagram, the pending decision, the
//! transaction, and the transitions every part of the machine shares (timer, tickets,
//! closing, aborting a message, answering a decision).

use std::time::Instant;

use bytes::BytesMut;

use super::replies;
use super::{AbortReason, CloseReason, Event, HelloKind, Server, Ticket, Violation};
use crate::data::{BdatDecoder, DataDecoder};
use crate::trace::HeaderScan;
use crate::types::{EnhancedStatus, ForwardPath, Host, MailParams, Mechanism, Reply, ReversePath};
use replies::{Std, known_status};

/// The session states. Input is consumed only while no decision is pending.
///
/// ```text
///            new()                      refuse()
///              |                           |
///              v                           v
///   +----> Command <-----------+        Refused --QUIT--> Closed
///   |        |  |  |   \       |
///   |  DATA  |  |  | AUTH \ STARTTLS
///   |   354  |  |  |       \   |
///   |        v  |  v        v  |
///   |     Data  | Sasl   AwaitingTls --tls_established()--> Command (state reset)
///   |        |  |  |
///   |   .CRLF|  |BDAT n
///   |        v  v
///   +-- (MessageEnd decision) <-- Bdat (LAST)
///
///   any state --QUIT / EOF / timeout / error limit--> Closed
/// ```
#[derive(Debug)]
pub(super) enum Phase {
    Command,
    Sasl(SaslState),
    Data(DataIn),
    Bdat(BdatIn),
    AwaitingTls,
    Closed,
}

#[derive(Debug)]
pub(super) enum SaslState {
    Plain,
    LoginUser,
    LoginPass(String),
    Custom(Mechanism<'static>),
}

#[derive(Debug)]
pub(super) struct DataIn {
    pub(super) decoder: DataDecoder,
    /// The first problem seen: chunks are no longer delivered. The reason reported is
    /// decided at the end of data over the whole message.
    pub(super) aborted: Option<AbortReason>,
}

#[derive(Debug)]
pub(super) struct BdatIn {
    pub(super) decoder: BdatDecoder,
    pub(super) size: u64,
    pub(super) last: bool,
    /// Set when the chunk is read only to be dropped: the reply, sent this many times
    /// (LMTP: once per recipient for a refused BDAT LAST) once the chunk is consumed.
    pub(super) discard: Option<(Std, usize)>,
}

#[derive(Debug)]
pub(super) struct Transaction {
    pub(super) from: ReversePath<'static>,
    pub(super) params: MailParams<'static>,
    pub(super) rcpts: Vec<ForwardPath<'static>>,
    pub(super) rcpt_attempts: usize,
    pub(super) bdat: bool,
    pub(super) size: u64,
    /// The header so far, for the hop count (RFC 5321 6.3).
    pub(super) header: HeaderScan,
}

#[derive(Debug)]
pub(super) enum Pending {
    Hello(HelloKind, Host<'static>),
    Mail(ReversePath<'static>, MailParams<'static>),
    Rcpt(ForwardPath<'static>),
    /// The end of a message; the replies it takes (LMTP: one per recipient).
    Message {
        replies: usize,
    },
    Auth,
    Sasl(Mechanism<'static>),
    Vrfy,
}

/// How much of a message the hop counter reads at most: a header without its empty
/// line (or a body that has none) must not make every octet go through it. 100
/// `Received:` fields take a few tens of KiB.
const HEADER_SCAN_LIMIT: u64 = 1024 * 1024;

impl Transaction {
    /// Counts a body chunk and reads the header part of it for the hop count
    /// (RFC 5321 6.3).
    pub(super) fn take_chunk(&mut self, chunk: &[u8]) {
        let before = self.size;
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.header.in_header() && before < HEADER_SCAN_LIMIT {
            let room = usize::try_from(HEADER_SCAN_LIMIT - before).unwrap_or(usize::MAX);
            self.header.feed(chunk.get(..room).unwrap_or(chunk));
        }
    }
}

impl Server {
    pub(super) fn touch(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
        self.arm_timer();
    }

    /// Starts the timer of the current phase from the latest time seen; a timeout too
    /// long for the clock leaves no deadline.
    pub(super) fn arm_timer(&mut self) {
        self.deadline = self.last_now.checked_add(self.current_timeout());
    }

    pub(super) fn current_timeout(&self) -> std::time::Duration {
        match self.phase {
            Phase::Data(_) | Phase::Bdat(_) => self.cfg.timeouts.data,
            _ => self.cfg.timeouts.command,
        }
    }

    pub(super) fn ticket(&mut self, pending: Pending) -> Ticket {
        self.seq += 1;
        self.pending = Some(pending);
        Ticket {
            conn: self.id,
            seq: self.seq,
        }
    }

    pub(super) fn ticket_matches(&self, t: &Ticket) -> bool {
        self.pending.is_some()
            && t.conn == self.id
            && t.seq == self.seq
            && !matches!(self.phase, Phase::Closed)
    }

    pub(super) fn take_pending(&mut self, now: Instant, t: &Ticket) -> Option<Pending> {
        if !self.ticket_matches(t) {
            return None;
        }
        // The application's decision took its own time; measure the next wait afresh.
        self.touch(now);
        self.pending.take()
    }

    pub(super) fn note_injection(&mut self, octets: usize) {
        if octets > 0 {
            self.events
                .push_back(Event::Violation(Violation::StartTlsInjection { octets }));
        }
    }

    /// One more error toward [`Limits::errors`](super::Limits::errors); at the limit, `421 4.7.0` and close.
    pub(super) fn count_error(&mut self) {
        self.errors = self.errors.saturating_add(1);
        if self.errors >= self.cfg.limits.errors {
            self.send_std(&replies::TOO_MANY_ERRORS);
            self.finish(CloseReason::TooManyErrors);
        }
    }

    pub(super) fn finish(&mut self, reason: CloseReason) {
        self.phase = Phase::Closed;
        self.pending = None;
        self.rx = BytesMut::new();
        self.deadline = None;
        self.events.push_back(Event::Closed(reason));
    }

    /// Drops a message whose body has started, telling the application. Every caller
    /// closes the session next, so the phase is left for `finish` to end.
    pub(super) fn abort_message(&mut self, reason: AbortReason) {
        // A BDAT message has started once a chunk was taken for it (`txn.bdat`); a chunk
        // being skipped after a refusal belongs to no transaction that has.
        let started = matches!(self.phase, Phase::Data(_))
            || matches!(self.pending, Some(Pending::Message { .. }))
            || self.txn.as_ref().is_some_and(|t| t.bdat);
        if started {
            self.events.push_back(Event::MessageAborted(reason));
        }
        self.txn = None;
    }

    pub(super) fn accepted(&mut self, pending: Pending, custom: Option<Reply>) {
        let known = custom.as_ref().map_or(EnhancedStatus::known(2, 0, 0), |r| {
            known_status(&pending, r.code())
        });
        let std = match pending {
            Pending::Hello(kind, host) => {
                self.hello = Some(kind);
                self.hello_host = Some(host);
                let tls = self.tls;
                match &self.hello_reply {
                    Some((k, t, bytes)) if *k == kind && *t == tls => {
                        self.tx.extend_from_slice(bytes);
                    }
                    _ => {
                        let mut out = BytesMut::new();
                        self.ehlo_reply(kind).encode(&mut out);
                        self.tx.extend_from_slice(&out);
                        self.hello_reply = Some((kind, tls, out.to_vec()));
                    }
                }
                return;
            }
            Pending::Mail(from, params) => {
                self.txn = Some(Transaction {
                    from,
                    params,
                    rcpts: Vec::new(),
                    rcpt_attempts: 0,
                    bdat: false,
                    size: 0,
                    header: HeaderScan::new(),
                });
                replies::SENDER_OK
            }
            Pending::Rcpt(path) => {
                if let Some(t) = self.txn.as_mut() {
                    t.rcpts.push(path);
                }
                replies::RCPT_OK
            }
            Pending::Message { replies: n } => {
                // LMTP: one reply per recipient (RFC 2033 4.2).
                self.txn = None;
                for _ in 0..n {
                    match &custom {
                        Some(r) => self.send_reply(r, known),
                        None => self.send_std(&replies::MESSAGE_OK),
                    }
                }
                return;
            }
            Pending::Auth | Pending::Sasl(_) => {
                self.authenticated = true;
                self.leave_sasl();
                replies::AUTH_OK
            }
            Pending::Vrfy => replies::VRFY,
        };
        match custom {
            Some(r) => self.send_reply(&r, known),
            None => self.send_std(&std),
        }
    }

    pub(super) fn refused_decision(&mut self, pending: Pending, reply: Reply) {
        let known = known_status(&pending, reply.code());
        match pending {
            Pending::Message { replies: n } => {
                self.txn = None;
                for _ in 0..n {
                    self.send_reply(&reply, known);
                }
                return;
            }
            Pending::Auth | Pending::Sasl(_) => {
                // A refused AUTH counts as an error, so that one connection cannot try
                // passwords without end.
                self.leave_sasl();
                self.send_reply(&reply, known);
                self.count_error();
                return;
            }
            Pending::Hello(..) | Pending::Mail(..) | Pending::Rcpt(_) | Pending::Vrfy => {}
        }
        self.send_reply(&reply, known);
    }

    pub(super) fn check_overflow(&mut self) {
        if self.pending.is_some() && self.rx.len() > self.cfg.limits.buffered_input {
            self.pending = None;
            self.abort_message(AbortReason::ConnectionLost);
            self.send_std(&replies::OVERFLOW);
            self.finish(CloseReason::InputOverflow);
        }
    }
}
