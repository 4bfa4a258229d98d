//! The server machine: bytes from a client in, events and reply bytes out.
//!
//! See the crate documentation for the run loop. In short: feed every read to
//! [`Server::handle_input`], then drain [`Server::poll_event`] (answering each ticket) and
//! [`Server::poll_transmit`] (writing every buffer), and call [`Server::handle_timeout`]
//! when [`Server::poll_timeout`] says.

mod config;
mod event;
mod replies;
mod session;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};

pub use config::{ConfigError, Extensions, Limits, ServerConfig, Timeouts, UnqualifiedDomains};
pub use event::{
    AbortReason, AuthRequest, CloseReason, Event, HelloKind, HelloRequest, MailRequest, MessageEnd,
    MessageStart, RcptRequest, SaslStep, Ticket, UsageError, UsageErrorKind, Violation,
    VrfyRequest,
};

use crate::data::{BdatDecoder, DataDecoder};
use crate::line::LineFramer;
use crate::trace::HeaderScan;
use crate::types::{
    EnhancedStatus, ForwardPath, Host, MailParams, Mechanism, Reply, ReplyCode, ReversePath,
};
use replies::Std;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

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
enum Phase {
    Command,
    Sasl(SaslState),
    Data(DataIn),
    Bdat(BdatIn),
    AwaitingTls,
    Closed,
}

#[derive(Debug)]
enum SaslState {
    Plain,
    LoginUser,
    LoginPass(String),
    Custom(Mechanism<'static>),
}

#[derive(Debug)]
struct DataIn {
    decoder: DataDecoder,
    /// The first problem seen: chunks are no longer delivered. The reason reported is
    /// decided at the end of data over the whole message.
    aborted: Option<AbortReason>,
}

#[derive(Debug)]
struct BdatIn {
    decoder: BdatDecoder,
    size: u64,
    last: bool,
    /// Set when the chunk is read only to be dropped: the reply, sent this many times
    /// (LMTP: once per recipient for a refused BDAT LAST) once the chunk is consumed.
    discard: Option<(Std, usize)>,
}

#[derive(Debug)]
struct Transaction {
    from: ReversePath<'static>,
    params: MailParams<'static>,
    rcpts: Vec<ForwardPath<'static>>,
    rcpt_attempts: usize,
    bdat: bool,
    size: u64,
    /// The header so far, for the hop count (RFC 5321 6.3).
    header: HeaderScan,
}

#[derive(Debug)]
enum Pending {
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
    rearm: bool,
    /// The encoded EHLO/HELO/LHLO reply for (kind, TLS state): it depends on nothing
    /// else, so it is built once and copied out afterwards.
    hello_reply: Option<(HelloKind, bool, Vec<u8>)>,
}

/// `s` as one line of reply text: a CR or LF in the configured names becomes a space, so
/// that configuration can never write a second reply.
fn one_line(s: String) -> String {
    if s.contains(['\r', '\n']) {
        s.replace(['\r', '\n'], " ")
    } else {
        s
    }
}

impl Server {
    /// A session that greets the client with `220` at once. Fails, starting nothing, when
    /// the configuration cannot exist on the wire ([`ServerConfig::validate`]).
    ///
    /// `config` is a [`ServerConfig`] or an `Arc` of one: a server with many sessions
    /// passes clones of one `Arc`, so the configuration is not copied per connection.
    pub fn new(config: impl Into<Arc<ServerConfig>>, now: Instant) -> Result<Self, ConfigError> {
        let mut s = Self::blank(config, now)?;
        let greeting = one_line(format!("220 {} {}", s.cfg.hostname, s.cfg.greeting)) + "\r\n";
        s.tx.put_slice(greeting.as_bytes());
        Ok(s)
    }

    /// A session that refuses service with a `554` greeting (RFC 5321 3.1): it then answers
    /// every command but QUIT with `503` until the client quits.
    pub fn refuse(config: impl Into<Arc<ServerConfig>>, now: Instant) -> Result<Self, ConfigError> {
        let mut s = Self::blank(config, now)?;
        let greeting = one_line(format!("554 {} No SMTP service here", s.cfg.hostname)) + "\r\n";
        s.tx.put_slice(greeting.as_bytes());
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
            rearm: false,
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
        self.rx.extend_from_slice(input);
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
        if self.rearm {
            self.rearm = false;
            self.deadline = now.checked_add(self.current_timeout());
            return;
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
        if self.rearm {
            Some(self.last_now)
        } else {
            self.deadline
        }
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
        self.pending = None;
        self.abort_message(AbortReason::ConnectionLost);
        self.send_std(&replies::SHUTDOWN);
        self.finish(CloseReason::Application);
    }

    /// Accepts a decision with the standard positive reply.
    pub fn accept(&mut self, ticket: Ticket) -> Result<(), UsageError<Ticket>> {
        let Some(pending) = self.take_pending(&ticket) else {
            return Err(UsageError::new(UsageErrorKind::WrongTicket, ticket));
        };
        self.accepted(pending, None);
        self.process();
        Ok(())
    }

    /// Answers a decision with the given reply. A 2xx reply accepts (with that text), a
    /// 4xx/5xx refuses. 3xx is the machine's own business and is refused, as is a 2xx to
    /// EHLO (use [`Server::accept`], which lists the extensions).
    pub fn respond(
        &mut self,
        ticket: Ticket,
        reply: Reply,
    ) -> Result<(), UsageError<(Ticket, Reply)>> {
        let code = reply.code();
        let bad_answer = code.is_intermediate()
            || (code.is_positive() && matches!(self.pending, Some(Pending::Hello(..))));
        if !self.ticket_matches(&ticket) {
            return Err(UsageError::new(
                UsageErrorKind::WrongTicket,
                (ticket, reply),
            ));
        }
        if bad_answer {
            return Err(UsageError::new(
                UsageErrorKind::WrongAnswer,
                (ticket, reply),
            ));
        }
        let Some(pending) = self.take_pending(&ticket) else {
            return Err(UsageError::new(
                UsageErrorKind::WrongTicket,
                (ticket, reply),
            ));
        };
        if code.is_positive() {
            self.accepted(pending, Some(reply));
        } else {
            self.refused_decision(pending, reply);
        }
        self.process();
        Ok(())
    }

    /// LMTP (RFC 2033 4.2): answers a [`MessageEnd`] with one reply per accepted recipient,
    /// in order.
    pub fn respond_each(
        &mut self,
        ticket: Ticket,
        replies: Vec<Reply>,
    ) -> Result<(), UsageError<(Ticket, Vec<Reply>)>> {
        if !self.ticket_matches(&ticket) {
            return Err(UsageError::new(
                UsageErrorKind::WrongTicket,
                (ticket, replies),
            ));
        }
        let Some(Pending::Message { replies: expected }) = self.pending else {
            return Err(UsageError::new(
                UsageErrorKind::WrongAnswer,
                (ticket, replies),
            ));
        };
        if replies.len() != expected || replies.iter().any(|r| r.code().is_intermediate()) {
            return Err(UsageError::new(
                UsageErrorKind::WrongAnswer,
                (ticket, replies),
            ));
        }
        self.pending = None;
        for r in &replies {
            self.send_reply(r, known_status(&Pending::Message { replies: 1 }, r.code()));
        }
        self.txn = None;
        self.process();
        Ok(())
    }

    /// Sends a `334` challenge in an application-driven SASL exchange ([`Event::SaslStep`]);
    /// the client's answer arrives as the next `SaslStep`.
    pub fn sasl_challenge(
        &mut self,
        ticket: Ticket,
        challenge: &[u8],
    ) -> Result<(), UsageError<Ticket>> {
        if !matches!(self.pending, Some(Pending::Sasl(_))) {
            let kind = if self.ticket_matches(&ticket) {
                UsageErrorKind::WrongAnswer
            } else {
                UsageErrorKind::WrongTicket
            };
            return Err(UsageError::new(kind, ticket));
        }
        let Some(Pending::Sasl(mech)) = self.take_pending(&ticket) else {
            return Err(UsageError::new(UsageErrorKind::WrongTicket, ticket));
        };
        self.challenge(challenge);
        self.enter_sasl(SaslState::Custom(mech));
        self.process();
        Ok(())
    }

    // ---- internals shared with session.rs ----

    fn touch(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
        self.rearm = false;
        self.arm_timer();
    }

    /// Starts the timer of the current phase from the latest time seen; a timeout too
    /// long for the clock leaves no deadline.
    fn arm_timer(&mut self) {
        self.deadline = self.last_now.checked_add(self.current_timeout());
    }

    fn current_timeout(&self) -> std::time::Duration {
        match self.phase {
            Phase::Data(_) | Phase::Bdat(_) => self.cfg.timeouts.data,
            _ => self.cfg.timeouts.command,
        }
    }

    fn ticket(&mut self, pending: Pending) -> Ticket {
        self.seq += 1;
        self.pending = Some(pending);
        Ticket {
            conn: self.id,
            seq: self.seq,
        }
    }

    fn ticket_matches(&self, t: &Ticket) -> bool {
        self.pending.is_some()
            && t.conn == self.id
            && t.seq == self.seq
            && !matches!(self.phase, Phase::Closed)
    }

    fn take_pending(&mut self, t: &Ticket) -> Option<Pending> {
        if !self.ticket_matches(t) {
            return None;
        }
        // The application's decision took its own time; measure the next wait afresh.
        self.rearm = true;
        self.pending.take()
    }

    fn note_injection(&mut self, octets: usize) {
        if octets > 0 {
            self.events
                .push_back(Event::Violation(Violation::StartTlsInjection { octets }));
        }
    }

    fn send_std(&mut self, r: &Std) {
        let esc = self.cfg.extensions.enhanced_status_codes && r.status.0 != 0;
        let (c, s, d) = r.status;
        let _ = if esc {
            write!(self.tx, "{} {c}.{s}.{d} {}\r\n", r.code, r.text)
        } else {
            write!(self.tx, "{} {}\r\n", r.code, r.text)
        };
    }

    /// Writes a reply the application (or a relay's upstream) chose. With
    /// ENHANCEDSTATUSCODES offered every line carries a code (RFC 2034 3): a reply without
    /// one gets `known`, the code that fits the decision it answers.
    fn send_reply(&mut self, r: &Reply, known: EnhancedStatus) {
        if self.cfg.extensions.enhanced_status_codes {
            r.with_status_everywhere(known).encode(&mut self.tx);
        } else {
            r.without_status().encode(&mut self.tx);
        }
    }

    /// A protocol error by the client: reply, report, and count toward the error limit.
    fn error(&mut self, r: &Std) {
        self.send_std(r);
        let status = crate::types::EnhancedStatus::known(r.status.0, r.status.1, r.status.2);
        let reply = Reply::fixed(crate::types::ReplyCode::known(r.code), status, r.text);
        self.events
            .push_back(Event::Violation(Violation::Command { reply }));
        self.count_error();
    }

    /// One more error toward [`Limits::errors`]; at the limit, `421 4.7.0` and close.
    fn count_error(&mut self) {
        self.errors = self.errors.saturating_add(1);
        if self.errors >= self.cfg.limits.errors {
            self.send_std(&replies::TOO_MANY_ERRORS);
            self.finish(CloseReason::TooManyErrors);
        }
    }

    fn finish(&mut self, reason: CloseReason) {
        self.phase = Phase::Closed;
        self.pending = None;
        self.rx = BytesMut::new();
        self.deadline = None;
        self.events.push_back(Event::Closed(reason));
    }

    /// Drops a message whose body has started, telling the application. Every caller
    /// closes the session next, so the phase is left for `finish` to end.
    fn abort_message(&mut self, reason: AbortReason) {
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

    fn enter_sasl(&mut self, state: SaslState) {
        self.framer.set_max_len(self.cfg.limits.sasl_line);
        self.phase = Phase::Sasl(state);
    }

    fn leave_sasl(&mut self) {
        self.framer.set_max_len(self.cfg.limits.command_line);
        self.phase = Phase::Command;
    }

    fn ehlo_reply(&self, kind: HelloKind) -> Reply {
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

    fn auth_offered(&self) -> bool {
        !self.cfg.auth_mechanisms.is_empty() && (self.tls || !self.cfg.auth_requires_tls)
    }

    fn accepted(&mut self, pending: Pending, custom: Option<Reply>) {
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

    fn refused_decision(&mut self, pending: Pending, reply: Reply) {
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

    fn check_overflow(&mut self) {
        if self.pending.is_some() && self.rx.len() > self.cfg.limits.buffered_input {
            self.pending = None;
            self.abort_message(AbortReason::ConnectionLost);
            self.send_std(&replies::OVERFLOW);
            self.finish(CloseReason::InputOverflow);
        }
    }
}

/// The enhanced status code for an application's reply that carries none (RFC 2034 3):
/// the one RFC 3463 and RFC 4954 give for that decision and outcome, else the class
/// default.
fn known_status(pending: &Pending, code: ReplyCode) -> EnhancedStatus {
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
