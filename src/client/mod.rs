//! The client state machine: submission (RFC 6409), relay (RFC 5321) and LMTP (RFC 2033).
//!
//! The machine does all the protocol work: it waits for the greeting, says EHLO (HELO as
//! fallback), upgrades with STARTTLS and authenticates as configured, then sends each
//! queued message with MAIL, RCPT and DATA or BDAT, pipelined where the server allows,
//! and ends with QUIT. The application only moves bytes and reads events.
//!
//! # The run loop
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use smtp_sansio::client::{Client, ClientConfig, Event, Envelope, StartTlsPolicy};
//! use smtp_sansio::types::{ForwardPath, Mailbox, ReversePath};
//!
//! let mut config = ClientConfig::default();
//! config.starttls = StartTlsPolicy::Never;
//! let now = Instant::now();
//! let mut client = Client::new(config, now);
//! let from = ReversePath::Mailbox(Mailbox::parse("a@example.org")?.into_owned());
//! let to = ForwardPath::Mailbox(Mailbox::parse("b@example.net")?.into_owned());
//! client.send_message(now, Envelope::new(from).to(to), Bytes::from_static(b"Subject: hi\r\n\r\nhello\r\n"))?;
//!
//! // What a server would say, all in one read here (a real loop reads a socket).
//! let server: &[&[u8]] = &[
//!     b"220 mx.example.net ESMTP\r\n",
//!     b"250-mx.example.net\r\n250 PIPELINING\r\n",
//!     b"250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 go on\r\n",
//!     b"250 2.0.0 queued\r\n",
//!     b"221 2.0.0 bye\r\n",
//! ];
//! let mut wire = Vec::new();
//! for input in server {
//!     client.handle_input(now, input);
//!     // Duty 1: drain events after every input.
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::MessageResult { .. } => client.quit(now),
//!             Event::StartTls => { /* write pending bytes, handshake, tls_established */ }
//!             _ => {}
//!         }
//!     }
//!     // Duty 2: write everything out, in order.
//!     while let Some(bytes) = client.poll_transmit() {
//!         wire.extend_from_slice(&bytes);
//!     }
//!     // Duty 3: read with this deadline; call handle_timeout when it passes.
//!     let _deadline: Option<Instant> = client.poll_timeout();
//! }
//! assert!(wire.ends_with(b"\r\n.\r\nQUIT\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Duties of the application: feed every byte read to [`Client::handle_input`] (and
//! [`Client::handle_eof`] when the peer closes); after every call drain
//! [`Client::poll_event`] and [`Client::poll_transmit`]; call [`Client::handle_timeout`]
//! once [`Client::poll_timeout`]'s instant has passed; on [`Event::StartTls`]
//! write what is pending, run the TLS handshake, then call
//! [`Client::tls_established_verified`] if the server's certificate was verified,
//! [`Client::tls_established`] if not; on [`Event::Closed`] write what is pending
//! and close the connection.
//!
//! # What the client refuses to send
//!
//! The same rules hold for whole messages ([`Client::send_message`]) and streamed ones
//! ([`Client::start_transaction`]), checked by one engine (a whole message is a streamed
//! transaction given all at once); a message that breaks one ends as
//! [`MessageStatus::NotSent`] with the [`MessageError`] that names it.
//!
//! - **A wrong `SIZE`.** For a whole message `SIZE=` is the octet count as sent: line
//!   ends normalised to CRLF, the CRLF added after an unterminated last line under DATA,
//!   no dot-stuffing (RFC 1870 5). A streamed body whose end was not given before MAIL
//!   is not known: the client passes the caller's estimate and never makes one up.
//! - **Lines over 998 octets** (CRLF excluded; RFC 5321 4.5.3.1.6, RFC 5322 2.1.1):
//!   [`MessageError::LineTooLong`], before MAIL for a whole message; mid-stream the
//!   transaction is cancelled (RSET, or inside DATA a closed connection) so the server
//!   never accepts part of it. `BODY=BINARYMIME` has no lines and is exempt. Long lines
//!   are never wrapped: that would change the message.
//! - **A hello name with U-labels.** EHLO/HELO/LHLO take A-labels or an address literal
//!   only (RFC 6531 3.7.1): the session sends QUIT instead and fails with
//!   [`ClientError::HelloNameNotAscii`]; [`ClientConfig::validate`] says so up front.
//! - **Undeclared 8-bit content to a server without 8BITMIME** (RFC 5321 2.4, RFC 6152):
//!   a message with an octet of 0x80 or above given before MAIL is declared `BODY=8BITMIME` when
//!   the server offers it, otherwise not sent ([`MessageError::EightBitMimeNotOffered`]).
//!   Body streamed after MAIL cannot be declared: declare `BODY=8BITMIME` up front;
//!   undeclared 8-bit octets to a server without 8BITMIME cancel the transaction.
//! - **`REQUIRETLS` over unverified TLS** (RFC 8689 4.2.1): only after
//!   [`Client::tls_established_verified`]; after [`Client::tls_established`] the message
//!   fails before MAIL with [`MessageError::RequireTlsUnverified`].

mod auth;
mod config;
mod engine;
mod event;
mod rules;
mod stream;
mod transaction;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};

pub use crate::error::{UsageError, UsageErrorKind};
pub use config::{AuthConfig, ClientConfig, ClientTimeouts, Credentials, StartTlsPolicy};
pub use event::{
    ClientError, CloseReason, Envelope, Event, MessageError, MessageId, MessageStatus, Phase,
    Recipient,
};

use crate::error::{DecodeError, SyntaxErrorKind};
use crate::line::{LineFrame, LineFramer};
use crate::syntax::reply::line_text;
use crate::types::{Capabilities, Command, Reply, ReplyCode, Text};
use crate::{parse_reply_line, types::Secret};
use transaction::{Out, Transaction};

/// Where the session stands. Transactions run inside `Ready` (their phases are
/// `transaction::TxnPhase`, their engine `engine.rs`); which reply
/// is due next is kept apart in the `Expect` queue, so pipelined replies are matched to
/// their commands strictly in order (RFC 2920 3.1).
///
/// ```text
///   new ──► Greeting ──220──► Hello ──250──┬──────────────────────────┬──► Auth ──235──► Ready ◄─┐
///              │                 │  5xx:   │ STARTTLS offered         │ (if configured)   │      │
///              │554              │  HELO   ▼ (policy ≠ Never)         │                   │ MAIL/RCPT/DATA
///              ▼                 │      StartTls ──220──► AwaitTls ───┘ tls_established:  │ BDAT/RSET
///           Quitting ◄───────────┘  (failure: QUIT)   │  (extra bytes:      EHLO again    └──────┘
///              │                                      │   injection ──► Closed)          │ quit()
///              └──221/EOF──► Closed ◄── 421, timeout, malformed reply, EOF ──────────────┘──► Quitting
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for the `220` greeting.
    Greeting,
    /// EHLO/LHLO or the HELO fallback sent.
    Hello,
    /// STARTTLS sent.
    StartTls,
    /// `220` to STARTTLS received; the application runs the TLS handshake.
    AwaitTls,
    /// AUTH exchange in progress.
    Auth(auth::AuthState),
    /// Session set up; messages flow.
    Ready,
    /// QUIT sent.
    Quitting,
    /// Over.
    Closed,
}

/// The reply due for a command already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Auth,
    Mail,
    Rcpt(usize),
    Data,
    /// The reply after the end of data (SMTP) or the one reply to an empty message sent
    /// after all recipients failed (RFC 2920 3.1).
    DataEnd,
    /// LMTP: the delivery reply for the accepted recipient with this index.
    LmtpRcpt(usize),
    Bdat {
        last: bool,
    },
    Rset,
    Quit,
}

impl Expect {
    fn in_transaction(self) -> bool {
        matches!(
            self,
            Self::Mail
                | Self::Rcpt(_)
                | Self::Data
                | Self::DataEnd
                | Self::LmtpRcpt(_)
                | Self::Bdat { .. }
        )
    }
}

/// A sans-I/O SMTP/LMTP client session. See the [module docs](self) for the run loop.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    state: State,
    expect: VecDeque<Expect>,
    rx: BytesMut,
    framer: LineFramer,
    /// Lines of a multi-line reply read so far.
    partial: Option<(ReplyCode, Vec<Text>)>,
    events: VecDeque<Event>,
    tx: VecDeque<Out>,
    /// Commands written since the last flush, sent as one buffer so a pipelined group is
    /// one write (RFC 2920 3.1).
    staging: BytesMut,
    deadline: Option<Instant>,
    /// Body bytes were handed out since the last call that brought a `now`: the next
    /// such call restarts the timer rather than judging it (the write took time the
    /// machine could not see).
    grace: bool,
    caps: Option<Capabilities>,
    tls: bool,
    /// The application said the TLS peer's certificate was verified.
    tls_verified: bool,
    starttls_declined: bool,
    authenticated: bool,
    /// A failure started the QUIT in progress.
    failed: bool,
    quit_requested: bool,
    needs_rset: bool,
    /// Transactions, whole and streamed, in the order they go; the front one runs once
    /// its MAIL is out.
    txns: VecDeque<Transaction>,
    next_id: u64,
}

impl Client {
    /// Starts a session on a freshly opened connection; the greeting timer runs from
    /// `now` (RFC 5321 4.5.3.2.1).
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        let framer = LineFramer::new(config.max_reply_line);
        let mut c = Self {
            state: State::Greeting,
            expect: VecDeque::from([Expect::Greeting]),
            rx: BytesMut::new(),
            framer,
            partial: None,
            events: VecDeque::new(),
            tx: VecDeque::new(),
            staging: BytesMut::new(),
            deadline: None,
            grace: false,
            caps: None,
            tls: false,
            tls_verified: false,
            starttls_declined: false,
            authenticated: false,
            failed: false,
            quit_requested: false,
            needs_rset: false,
            txns: VecDeque::new(),
            next_id: 0,
            config,
        };
        c.rearm(now);
        c
    }

    /// The server's extensions from the latest EHLO/LHLO, if one succeeded since the last
    /// TLS upgrade.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.caps.as_ref()
    }

    /// True once [`Event::Closed`] has been queued.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Bytes read from the server. Never fails: problems become events. Memory stays
    /// bounded by `max_reply_line` beyond the bytes of this call.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        match self.state {
            State::Closed => return,
            State::AwaitTls => {
                if !bytes.is_empty() {
                    self.injection(bytes.len());
                }
                return;
            }
            _ => {}
        }
        if std::mem::take(&mut self.grace) {
            self.rearm(now);
        }
        self.rx.extend_from_slice(bytes);
        while !matches!(self.state, State::Closed | State::AwaitTls) {
            match self.framer.next_line(&mut self.rx) {
                None => break,
                Some(LineFrame::TooLong { .. }) => self.too_long(),
                Some(LineFrame::Line(line)) => self.on_line(now, &line),
            }
        }
        if self.framer.is_skipping() && self.state != State::Closed {
            // No reason to wait for the end of a line that is already too long.
            self.too_long();
        }
    }

    /// The server closed the connection (read returned 0).
    pub fn handle_eof(&mut self, _now: Instant) {
        match self.state {
            State::Closed => {}
            State::Quitting if !self.failed => self.close(CloseReason::Quit),
            State::Quitting => self.close(CloseReason::Error),
            _ => self.close_with(ClientError::ConnectionLost),
        }
    }

    /// Time has passed. Harmless when nothing is due.
    ///
    /// Right after the body went out through [`Client::poll_transmit`], the first call
    /// restarts the timer from `now` instead of firing: writing a large body takes time
    /// the machine cannot see, and RFC 5321 4.5.3.2.5/6 time the server's reply from the
    /// end of the write.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if std::mem::take(&mut self.grace) {
            self.rearm(now);
            return;
        }
        let Some(deadline) = self.deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        if self.state == State::Quitting {
            let reason = if self.failed {
                CloseReason::Error
            } else {
                CloseReason::Quit
            };
            self.close(reason);
            return;
        }
        let phase = self
            .expect
            .front()
            .map_or(Phase::Quit, |e| self.phase_of(*e));
        self.close_with(ClientError::Timeout(phase));
    }

    /// The transport now runs TLS (after [`Event::StartTls`] and a successful
    /// handshake), with a server certificate that was NOT verified, or not known to be
    /// (opportunistic TLS, a test certificate). Everything learnt before is forgotten and
    /// EHLO is sent again (RFC 3207 4.2). Messages asking for `REQUIRETLS` are refused on
    /// such a session ([`MessageError::RequireTlsUnverified`], RFC 8689 4.2.1); call
    /// [`Client::tls_established_verified`] when the certificate was checked.
    pub fn tls_established(&mut self, now: Instant) -> Result<(), UsageError> {
        self.tls_up(now, false)
    }

    /// As [`Client::tls_established`], for a handshake in which the application verified
    /// the server's certificate chain and name (RFC 8689 4.2.1, RFC 6125): the session
    /// may then carry `REQUIRETLS` messages.
    pub fn tls_established_verified(&mut self, now: Instant) -> Result<(), UsageError> {
        self.tls_up(now, true)
    }

    fn tls_up(&mut self, now: Instant, verified: bool) -> Result<(), UsageError> {
        if self.state != State::AwaitTls {
            return Err(UsageErrorKind::NotAwaitingTls.into());
        }
        self.tls = true;
        self.tls_verified = verified;
        self.caps = None;
        self.rx.clear();
        self.framer.reset();
        self.partial = None;
        self.send_hello(now);
        Ok(())
    }

    /// The next event, or `None`; poll again after the next `handle_*` or action call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next bytes to write, in order, or `None`; poll again after the next `handle_*`
    /// or action call. A message body is handed out piece by piece (each piece at most
    /// about 64 KiB), so keep polling until `None`.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.flush_staging();
        self.next_output()
    }

    /// When [`Client::handle_timeout`] should be called next, if ever. Poll again after
    /// every call into the machine.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            None
        } else {
            self.deadline
        }
    }

    /// Ends the session politely: QUIT goes out once the queued messages (and an open
    /// streamed transaction whose MAIL went out) are done; a streamed transaction whose
    /// MAIL has not gone out yet is aborted.
    /// Calling it again, or after the session closed, does nothing.
    pub fn quit(&mut self, now: Instant) {
        if matches!(self.state, State::Quitting | State::Closed) {
            return;
        }
        self.quit_requested = true;
        let unstarted = self.txns.iter().find(|t| t.streamed && !t.started());
        if let Some(id) = unstarted.map(|t| t.id) {
            // Its MAIL never went out: nothing to wait for.
            self.cancel(now, id, MessageStatus::Aborted);
        }
        self.drive(now);
    }

    // ----- reply reading -------------------------------------------------------------

    fn too_long(&mut self) {
        self.fatal(ClientError::ReplyTooLong {
            limit: self.config.max_reply_line,
        });
    }

    fn on_line(&mut self, now: Instant, line: &[u8]) {
        let parsed = match parse_reply_line(line) {
            Ok(l) => l,
            Err(e) => return self.fatal(ClientError::MalformedReply(e)),
        };
        let (code, lines) = self
            .partial
            .get_or_insert_with(|| (parsed.code, Vec::new()));
        if *code != parsed.code {
            let e = DecodeError::syntax(0, SyntaxErrorKind::ReplyCodeMismatch);
            return self.fatal(ClientError::MalformedReply(e));
        }
        lines.push(line_text(parsed.text));
        if lines.len() > self.config.max_reply_lines {
            return self.fatal(ClientError::TooManyReplyLines);
        }
        if parsed.last {
            if let Some((code, lines)) = self.partial.take() {
                self.on_reply(now, Reply::from_lines(code, lines));
            }
        }
    }

    fn on_reply(&mut self, now: Instant, reply: Reply) {
        if reply.code() == ReplyCode::SERVICE_NOT_AVAILABLE {
            // RFC 5321 3.8: the server is closing; whatever was pending is lost.
            return self.close(CloseReason::ServiceUnavailable(reply));
        }
        let Some(expect) = self.expect.pop_front() else {
            return self.fatal(ClientError::UnexpectedReply(reply));
        };
        match expect {
            Expect::Greeting => self.on_greeting(now, reply),
            Expect::Ehlo => self.on_ehlo(now, reply),
            Expect::Helo => self.on_helo(now, reply),
            Expect::StartTls => self.on_starttls(now, reply),
            Expect::Auth => self.on_auth(now, reply),
            Expect::Rset => {
                self.needs_rset = false;
                self.drive(now);
            }
            Expect::Quit => {
                let reason = if self.failed {
                    CloseReason::Error
                } else {
                    CloseReason::Quit
                };
                self.close(reason);
            }
            e => self.on_txn_reply(now, e, reply),
        }
        if self.state != State::Closed {
            self.rearm(now);
        }
    }

    fn on_greeting(&mut self, now: Instant, reply: Reply) {
        let ok = reply.code() == ReplyCode::READY;
        self.events.push_back(Event::Greeting(reply.clone()));
        if ok {
            self.send_hello(now);
        } else {
            // RFC 5321 3.1: after a 554 greeting the client should send QUIT.
            self.fail_and_quit(now, ClientError::GreetingRefused(reply));
        }
    }

    fn send_hello(&mut self, now: Instant) {
        if let Err(e) = rules::check_hello_name(&self.config.hello_host) {
            return self.fail_and_quit(now, e);
        }
        let host = self.config.hello_host.clone();
        // RFC 2033 4.1: LMTP greets with LHLO, which is EHLO under another name.
        let cmd = if self.config.lmtp {
            Command::Lhlo(host)
        } else {
            Command::Ehlo(host)
        };
        self.state = State::Hello;
        self.send(now, &cmd, Expect::Ehlo);
    }

    fn on_ehlo(&mut self, now: Instant, reply: Reply) {
        if reply.code().is_positive() {
            let caps = Capabilities::from_reply(&reply);
            self.events.push_back(Event::Capabilities(caps.clone()));
            self.caps = Some(caps);
            self.after_hello(now);
        } else if reply.code().is_permanent() && !self.config.lmtp {
            // RFC 5321 4.1.4: a server that does not know EHLO answers 5yz; fall back.
            let host = self.config.hello_host.clone();
            self.send(now, &Command::Helo(host), Expect::Helo);
        } else {
            self.fail_and_quit(now, ClientError::HelloRejected(reply));
        }
    }

    fn on_helo(&mut self, now: Instant, reply: Reply) {
        if reply.code().is_positive() {
            let greeting = reply.lines().first().cloned().unwrap_or(Text::fixed(""));
            let caps = Capabilities::new(greeting, Vec::new());
            self.events.push_back(Event::Capabilities(caps.clone()));
            self.caps = Some(caps);
            self.after_hello(now);
        } else {
            self.fail_and_quit(now, ClientError::HelloRejected(reply));
        }
    }

    /// After a successful EHLO/HELO: STARTTLS, then AUTH, then ready.
    fn after_hello(&mut self, now: Instant) {
        let offered = self.caps.as_ref().is_some_and(Capabilities::starttls);
        if !self.tls && !self.starttls_declined && self.config.starttls != StartTlsPolicy::Never {
            if offered {
                self.state = State::StartTls;
                return self.send(now, &Command::StartTls, Expect::StartTls);
            }
            if self.config.starttls == StartTlsPolicy::Required {
                return self.fail_and_quit(now, ClientError::StartTlsNotOffered);
            }
        }
        if self.config.auth.is_some() && !self.authenticated {
            return self.begin_auth(now);
        }
        self.ready(now);
    }

    fn on_starttls(&mut self, now: Instant, reply: Reply) {
        if reply.code() == ReplyCode::READY {
            if !self.rx.is_empty() || self.framer.is_skipping() {
                // RFC 3207 6 / CVE-2011-0411: anything after the 220 was sent before
                // TLS and must never be read as if it came through it.
                let n = self.rx.len();
                return self.injection(n);
            }
            self.state = State::AwaitTls;
            self.events.push_back(Event::StartTls);
        } else if self.config.starttls == StartTlsPolicy::Required {
            self.fail_and_quit(now, ClientError::StartTlsRejected(reply));
        } else {
            self.starttls_declined = true;
            self.after_hello(now);
        }
    }

    fn injection(&mut self, bytes: usize) {
        self.rx.clear();
        self.framer.reset();
        self.close_with(ClientError::StartTlsInjection { bytes });
    }

    fn ready(&mut self, now: Instant) {
        self.state = State::Ready;
        self.events.push_back(Event::Ready);
        self.drive(now);
    }

    // ----- output and timers -----------------------------------------------------------

    /// Writes a command and records the reply it is owed.
    fn send(&mut self, now: Instant, cmd: &Command<'_>, expect: Expect) {
        cmd.encode(&mut self.staging);
        self.push_expect(now, expect);
    }

    /// Writes a raw line (SASL responses) and records the reply it is owed.
    fn send_line(&mut self, now: Instant, line: &[u8], expect: Expect) {
        self.staging.reserve(line.len() + 2);
        self.staging.put_slice(line);
        self.staging.put_slice(b"\r\n");
        self.push_expect(now, expect);
    }

    fn push_expect(&mut self, now: Instant, expect: Expect) {
        self.expect.push_back(expect);
        if self.expect.len() == 1 {
            self.rearm(now);
        }
    }

    /// Queues bytes after the commands written so far.
    fn push_bytes(&mut self, b: Bytes) {
        self.flush_staging();
        if !b.is_empty() {
            self.tx.push_back(Out::Bytes(b));
        }
    }

    /// Moves the commands written so far to the end of the output queue; `staging`
    /// always holds what comes after everything queued, so order is kept.
    fn flush_staging(&mut self) {
        if !self.staging.is_empty() {
            let b = self.staging.split().freeze();
            self.tx.push_back(Out::Bytes(b));
        }
    }

    fn rearm(&mut self, now: Instant) {
        // An absurd configured timeout means "never" rather than an overflow.
        self.deadline = self
            .expect
            .front()
            .and_then(|e| now.checked_add(self.timeout_of(*e)));
    }

    fn timeout_of(&self, e: Expect) -> Duration {
        let t = &self.config.timeouts;
        match self.phase_of(e) {
            Phase::Greeting => t.greeting,
            Phase::Mail => t.mail,
            Phase::Rcpt => t.rcpt,
            Phase::DataInit => t.data_init,
            Phase::DataBlock => t.data_block,
            Phase::DataTerm => t.data_term,
            _ => t.other,
        }
    }

    fn phase_of(&self, e: Expect) -> Phase {
        match e {
            Expect::Greeting => Phase::Greeting,
            Expect::Ehlo | Expect::Helo => Phase::Hello,
            Expect::StartTls => Phase::StartTls,
            Expect::Auth => Phase::Auth,
            Expect::Mail => Phase::Mail,
            Expect::Rcpt(_) => Phase::Rcpt,
            Expect::Data => Phase::DataInit,
            Expect::DataEnd | Expect::LmtpRcpt(_) if self.body_pending() => Phase::DataBlock,
            Expect::DataEnd | Expect::LmtpRcpt(_) | Expect::Bdat { last: true } => Phase::DataTerm,
            Expect::Bdat { last: false } => Phase::DataBlock,
            Expect::Rset => Phase::Rset,
            Expect::Quit => Phase::Quit,
        }
    }

    // ----- ending --------------------------------------------------------------------

    /// A failure with the dialogue still in step: report, QUIT, wait for `221`.
    fn fail_and_quit(&mut self, now: Instant, err: ClientError) {
        self.events.push_back(Event::Error(err));
        self.failed = true;
        self.abort_messages();
        self.expect.clear();
        self.state = State::Quitting;
        self.send(now, &Command::Quit, Expect::Quit);
        self.rearm(now);
    }

    /// A failure after which nothing more can be said (desync, timeout, injection).
    fn close_with(&mut self, err: ClientError) {
        self.events.push_back(Event::Error(err));
        self.close(CloseReason::Error);
    }

    /// Desync from a bad reply: report, send QUIT as a courtesy, close without waiting.
    fn fatal(&mut self, err: ClientError) {
        let in_step = !matches!(
            self.state,
            State::Quitting | State::Closed | State::AwaitTls
        );
        if in_step {
            Command::Quit.encode(&mut self.staging);
        }
        self.close_with(err);
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.abort_messages();
        self.state = State::Closed;
        self.expect.clear();
        self.deadline = None;
        self.grace = false;
        self.partial = None;
        self.rx.clear();
        self.events.push_back(Event::Closed { reason });
    }

    /// Keeps a credential line out of reach of `Debug` while it is built.
    fn send_secret_line(&mut self, now: Instant, line: Secret<String>) {
        self.send_line(now, line.expose().as_bytes(), Expect::Auth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_after_close_is_not_buffered() {
        let now = Instant::now();
        let mut c = Client::new(ClientConfig::default(), now);
        c.handle_eof(now);
        assert!(c.is_closed());
        for _ in 0..100 {
            c.handle_input(now, b"250-a reply nobody reads any more\r\n");
        }
        assert!(c.rx.is_empty(), "a closed session must not hoard input");
    }
}
