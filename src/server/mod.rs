//! The server machine: bytes from a client in, events and reply bytes out.
//!
//! See the crate documentation for the run loop. In short: feed every read to
//! [`Server::handle_input`], then drain [`Server::poll_event`] (answering each ticket) and
//! [`Server::poll_transmit`] (writing every buffer), and call [`Server::handle_timeout`]
//! when [`Server::poll_timeout`] says.

mod auth;
mod body;
mod command;
mod config;
mod event;
mod replies;
mod state;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::{Bytes, BytesMut};

pub use config::{ConfigError, Extensions, Limits, ServerConfig, Timeouts, UnqualifiedDomains};
pub use event::{
    AbortReason, Answer, AnswerError, AuthRequest, CloseReason, Event, HelloKind, HelloRequest,
    MailRequest, MessageEnd, MessageStart, RcptRequest, SaslStep, Ticket, UsageError,
    UsageErrorKind, Violation, VrfyRequest,
};

use crate::line::LineFramer;
use crate::types::{Host, Reply};
use replies::known_status;
use state::{Pending, Phase, SaslState, Transaction};

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The least the receive buffer grows by (see `handle_input`).
const RX_GROWTH: usize = 2048;

/// A server-side SMTP session. Owns no socket: see the crate docs for the run loop.
#[derive(Debug)]
pub struct Server {
    id: u64,
    seq: u64,
    /// Shared, so thousands of sessions under one configuration hold one copy of it.
    cfg: Arc<ServerConfig>,
    rx: BytesMut,
    tx: BytesMut,
    events: VecDeque<Event>,
    framer: LineFramer,
    phase: Phase,
    pending: Option<Pending>,
    hello: Option<HelloKind>,
    /// The name given with the accepted EHLO, HELO or LHLO (for trace fields).
    hello_host: Option<Host<'static>>,
    refused: bool,
    tls: bool,
    authenticated: bool,
    errors: u32,
    txn: Option<Transaction>,
    last_now: Instant,
    deadline: Option<Instant>,
    /// The encoded EHLO/HELO/LHLO reply for (kind, TLS state): it depends on nothing
    /// else, so it is built once and copied out afterwards.
    hello_reply: Option<(HelloKind, bool, Vec<u8>)>,
}

impl Server {
    /// A session that greets the client with `220` at once. Fails, starting nothing, when
    /// the configuration cannot exist on the wire ([`ServerConfig::validate`]).
    ///
    /// `config` is a [`ServerConfig`] or an `Arc` of one: a server with many sessions
    /// passes clones of one `Arc`, so the configuration is not copied per connection.
    pub fn new(config: impl Into<Arc<ServerConfig>>, now: Instant) -> Result<Self, ConfigError> {
        let mut s = Self::blank(config, now)?;
        s.greet(false);
        Ok(s)
    }

    /// A session that refuses service with a `554` greeting (RFC 5321 3.1): it then answers
    /// every command but QUIT with `503` until the client quits.
    pub fn refuse(config: impl Into<Arc<ServerConfig>>, now: Instant) -> Result<Self, ConfigError> {
        let mut s = Self::blank(config, now)?;
        s.greet(true);
        s.refused = true;
        Ok(s)
    }

    /// A session whose transport is already encrypted (implicit TLS, RFC 8314): STARTTLS
    /// is not offered and AUTH is allowed at once.
    pub fn new_tls(
        config: impl Into<Arc<ServerConfig>>,
        now: Instant,
    ) -> Result<Self, ConfigError> {
        let mut s = Self::new(config, now)?;
        s.tls = true;
        Ok(s)
    }

    fn blank(config: impl Into<Arc<ServerConfig>>, now: Instant) -> Result<Self, ConfigError> {
        let config = config.into();
        config.validate()?;
        let framer = LineFramer::new(config.limits.command_line);
        let deadline = now.checked_add(config.timeouts.command);
        Ok(Self {
            id: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
            seq: 0,
            cfg: config,
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            events: VecDeque::new(),
            framer,
            phase: Phase::Command,
            pending: None,
            hello: None,
            hello_host: None,
            refused: false,
            tls: false,
            authenticated: false,
            errors: 0,
            txn: None,
            last_now: now,
            deadline,
            hello_reply: None,
        })
    }

    /// Feeds bytes read from the client. Never fails: everything the client does wrong is
    /// answered on the wire. Drain events and output afterwards.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.touch(now);
        if matches!(self.phase, Phase::AwaitingTls) {
            // CVE-2011-0411: plaintext that follows STARTTLS must never be executed.
            self.note_injection(input.len());
            return;
        }
        if self.rx.capacity() - self.rx.len() < input.len() {
            // Grow in steps of at least RX_GROWTH: events hold slices of this buffer,
            // so it often cannot be reused in place, and growing only by what each read
            // needs would cost an allocation per command.
            self.rx.reserve(input.len().max(RX_GROWTH));
        }
        match &mut self.phase {
            // The body is checked as it is copied in (one pass over it, not two).
            Phase::Data(d) => d.decoder.push(input, &mut self.rx),
            _ => self.rx.extend_from_slice(input),
        }
        self.process();
    }

    /// [`handle_input`](Self::handle_input) for a buffer the caller owns (for example the
    /// one a read filled): when nothing is buffered the machine takes it over without
    /// copying, so DATA and BDAT chunks become slices of it. Otherwise it is appended
    /// (without a copy when it directly follows the buffered bytes in memory).
    pub fn handle_input_buf(&mut self, now: Instant, input: BytesMut) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.touch(now);
        if matches!(self.phase, Phase::AwaitingTls) {
            self.note_injection(input.len());
            return;
        }
        if self.rx.is_empty() {
            self.rx = input;
        } else {
            self.rx.unsplit(input);
        }
        self.process();
    }

    /// The peer closed its side. Any message in flight is dropped.
    pub fn handle_eof(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.last_now = now;
        self.abort_message(AbortReason::ConnectionLost);
        self.finish(CloseReason::PeerClosed);
    }

    /// Tells the machine the time; acts if a deadline has passed. Spurious calls are
    /// harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        if now > self.last_now {
            self.last_now = now;
        }
        if self.pending.is_some() || matches!(self.phase, Phase::AwaitingTls) {
            return;
        }
        if let Some(d) = self.deadline {
            if now >= d {
                self.abort_message(AbortReason::ConnectionLost);
                self.send_std(&replies::TIMEOUT);
                self.finish(CloseReason::Timeout);
            }
        }
    }

    /// The next event. Poll until `None` after every call that feeds or answers the
    /// machine; answering a ticket may produce more events.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes to write to the client, all pending replies in order. Poll until `None`
    /// after every call that feeds or answers the machine.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.tx.is_empty()).then(|| self.tx.split().freeze())
    }

    /// When [`Server::handle_timeout`] must be called next; `None` while a decision is
    /// pending (the application's time is its own) or after close. Ask again after every
    /// call that feeds or answers the machine.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.phase, Phase::Closed | Phase::AwaitingTls) || self.pending.is_some() {
            return None;
        }
        self.deadline
    }

    /// False when the transport should stop reading for now: a decision is pending with
    /// input already buffered, or much output is waiting to be written, or the session
    /// is over. Reading anyway is safe; past [`Limits::buffered_input`] the session ends.
    pub fn wants_input(&self) -> bool {
        match self.phase {
            Phase::Closed | Phase::AwaitingTls => false,
            _ => {
                self.tx.len() < 64 * 1024
                    && (self.pending.is_none()
                        || self.rx.len() < self.cfg.limits.buffered_input / 2)
            }
        }
    }

    /// True once the session has ended; write the remaining output, then close.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// True after [`Server::tls_established`] or for [`Server::new_tls`].
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True after a successful AUTH.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// The transport finished the TLS handshake after [`Event::StartTls`]. All session
    /// state is forgotten (RFC 3207 4.2): the client must send EHLO again.
    pub fn tls_established(&mut self, now: Instant) -> Result<(), UsageError<()>> {
        if !matches!(self.phase, Phase::AwaitingTls) {
            return Err(UsageError::new(UsageErrorKind::WrongState, ()));
        }
        self.tls = true;
        self.hello = None;
        self.hello_host = None;
        self.authenticated = false;
        self.txn = None;
        self.rx.clear();
        self.framer.reset();
        self.phase = Phase::Command;
        self.touch(now);
        Ok(())
    }

    /// Ends the session from the application's side, e.g. at shutdown: sends
    /// `421 4.3.2` and closes. A message awaiting its final reply is never acknowledged.
    pub fn shutdown(&mut self) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        // A message whose final reply is held is reported lost before the ticket goes.
        self.abort_message(AbortReason::ConnectionLost);
        self.pending = None;
        self.send_std(&replies::SHUTDOWN);
        self.finish(CloseReason::Application);
    }

    /// Accepts a decision with the standard positive reply. `now` restarts the timer: the
    /// application's decision took its own time.
    pub fn accept(&mut self, now: Instant, ticket: Ticket) -> Result<(), AnswerError> {
        self.answer(now, ticket, Answer::Accept)
    }

    /// Answers a decision with the given reply. A 2xx reply accepts (with that text), a
    /// 4xx/5xx refuses. 3xx is the machine's own business and is refused, as is a 2xx to
    /// EHLO (use [`Server::accept`], which lists the extensions).
    pub fn respond(
        &mut self,
        now: Instant,
        ticket: Ticket,
        reply: Reply,
    ) -> Result<(), AnswerError> {
        self.answer(now, ticket, Answer::Reply(reply))
    }

    /// LMTP (RFC 2033 4.2): answers a [`MessageEnd`] with one reply per accepted recipient,
    /// in order.
    pub fn respond_each(
        &mut self,
        now: Instant,
        ticket: Ticket,
        replies: Vec<Reply>,
    ) -> Result<(), AnswerError> {
        self.answer(now, ticket, Answer::Each(replies))
    }

    /// Sends a `334` challenge in an application-driven SASL exchange ([`Event::SaslStep`]);
    /// the client's answer arrives as the next `SaslStep`.
    pub fn sasl_challenge(
        &mut self,
        now: Instant,
        ticket: Ticket,
        challenge: &[u8],
    ) -> Result<(), AnswerError> {
        self.answer(now, ticket, Answer::Challenge(challenge.to_vec()))
    }

    /// Answers the pending decision: what [`accept`](Self::accept),
    /// [`respond`](Self::respond), [`respond_each`](Self::respond_each) and
    /// [`sasl_challenge`](Self::sasl_challenge) do. An answer that does not fit comes back
    /// in the error with its ticket, and the decision stays pending.
    pub fn answer(
        &mut self,
        now: Instant,
        ticket: Ticket,
        answer: Answer,
    ) -> Result<(), AnswerError> {
        if !self.ticket_matches(&ticket) {
            return Err(UsageError::new(
                UsageErrorKind::WrongTicket,
                (ticket, answer),
            ));
        }
        if !self.fits(&answer) {
            return Err(UsageError::new(
                UsageErrorKind::WrongAnswer,
                (ticket, answer),
            ));
        }
        let Some(pending) = self.take_pending(now, &ticket) else {
            return Err(UsageError::new(
                UsageErrorKind::WrongTicket,
                (ticket, answer),
            ));
        };
        match answer {
            Answer::Accept => self.accepted(pending, None),
            Answer::Reply(r) if r.code().is_positive() => self.accepted(pending, Some(r)),
            Answer::Reply(r) => self.refused_decision(pending, r),
            Answer::Each(replies) => {
                for r in &replies {
                    self.send_reply(r, known_status(&pending, r.code()));
                }
                self.txn = None;
            }
            Answer::Challenge(c) => {
                if let Pending::Sasl(mech) = pending {
                    self.challenge(&c);
                    self.enter_sasl(SaslState::Custom(mech));
                }
            }
        }
        self.process();
        Ok(())
    }

    /// True when `answer` fits the pending decision: no 3xx reply (the machine's own
    /// business), no 2xx to EHLO (accept lists the extensions), one reply per recipient
    /// for [`Answer::Each`], challenges only in a SASL exchange.
    fn fits(&self, answer: &Answer) -> bool {
        let pending = self.pending.as_ref();
        match answer {
            Answer::Accept => true,
            Answer::Reply(r) => {
                let code = r.code();
                let hello = matches!(pending, Some(Pending::Hello(..)));
                !(code.is_intermediate() || code.is_positive() && hello)
            }
            Answer::Each(replies) => {
                matches!(pending, Some(Pending::Message { replies: n }) if *n == replies.len())
                    && !replies.iter().any(|r| r.code().is_intermediate())
            }
            Answer::Challenge(_) => matches!(pending, Some(Pending::Sasl(_))),
        }
    }
}
