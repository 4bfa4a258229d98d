//! The server harness: runs transcripts in the dialect of `script.rs` against a
//! [`Server`] on a virtual clock, with an application policy answering every ticket.
//!
//! `C:`/`C~` lines are one `handle_input` call each; `S:` and `S~` lines match what the
//! server wrote. `A:` verbs: `accept`, `respond <reply>`, `tls`, `eof`, `advance <secs>`,
//! `timeout`, `closed`, `open`.
//!
//! Before every `C:`/`A:` line and at the end, all output must have been matched by `S:`
//! lines: a reply that the script does not expect is a failure, so "no 250 before the
//! application accepts" is checked just by not writing one.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use smtp_sansio::server::{
    AbortReason, AuthRequest, CloseReason, Event, HelloKind, HelloRequest, MailRequest, MessageEnd,
    MessageStart, RcptRequest, SaslStep, Server, ServerConfig, Ticket, Violation, VrfyRequest,
};
use smtp_sansio::types::{Mechanism, Reply};

use super::script::{Line, esc, lines, reply};

/// What the application answers to one decision.
#[derive(Debug, Clone)]
pub enum Decision {
    /// `accept(ticket)`.
    Accept,
    /// `respond(ticket, reply)`.
    Respond(Reply),
    /// `respond_each(ticket, replies)` (LMTP).
    Each(Vec<Reply>),
    /// `sasl_challenge(ticket, bytes)`.
    Challenge(Vec<u8>),
    /// Keep the ticket; the script answers later with `A: accept` / `A: respond`.
    Hold,
}

/// Shorthand for `Decision::Respond(reply(s))`.
pub fn refuse(s: &str) -> Decision {
    Decision::Respond(reply(s))
}

type Rule<T> = Box<dyn FnMut(&T) -> Decision>;
type MessageRule = Box<dyn FnMut(&MessageEnd, &[u8]) -> Decision>;

/// The application's policy: every rule defaults to accepting.
#[derive(Default)]
pub struct Policy {
    pub hello: Option<Rule<HelloRequest>>,
    pub mail: Option<Rule<MailRequest>>,
    pub rcpt: Option<Rule<RcptRequest>>,
    /// Sees the message end and the whole body received.
    pub message: Option<MessageRule>,
    pub auth: Option<Rule<AuthRequest>>,
    pub sasl: Option<Rule<SaslStep>>,
    pub vrfy: Option<Rule<VrfyRequest>>,
}

impl Policy {
    pub fn accept_all() -> Self {
        Self::default()
    }
    pub fn hello(mut self, f: impl FnMut(&HelloRequest) -> Decision + 'static) -> Self {
        self.hello = Some(Box::new(f));
        self
    }
    pub fn mail(mut self, f: impl FnMut(&MailRequest) -> Decision + 'static) -> Self {
        self.mail = Some(Box::new(f));
        self
    }
    pub fn rcpt(mut self, f: impl FnMut(&RcptRequest) -> Decision + 'static) -> Self {
        self.rcpt = Some(Box::new(f));
        self
    }
    /// Refuses every recipient whose path contains `needle` with `550 5.1.1`.
    pub fn refuse_rcpt_containing(self, needle: &'static str) -> Self {
        self.rcpt(move |r| {
            if r.to.to_string().contains(needle) {
                refuse("550 5.1.1 No such user")
            } else {
                Decision::Accept
            }
        })
    }
    pub fn message(mut self, f: impl FnMut(&MessageEnd, &[u8]) -> Decision + 'static) -> Self {
        self.message = Some(Box::new(f));
        self
    }
    pub fn auth(mut self, f: impl FnMut(&AuthRequest) -> Decision + 'static) -> Self {
        self.auth = Some(Box::new(f));
        self
    }
    pub fn sasl(mut self, f: impl FnMut(&SaslStep) -> Decision + 'static) -> Self {
        self.sasl = Some(Box::new(f));
        self
    }
    pub fn vrfy(mut self, f: impl FnMut(&VrfyRequest) -> Decision + 'static) -> Self {
        self.vrfy = Some(Box::new(f));
        self
    }
}

fn decide<T>(rule: &mut Option<Rule<T>>, req: &T) -> Decision {
    rule.as_mut().map_or(Decision::Accept, |f| f(req))
}

/// A normalised event: message bodies are joined, so the log does not depend on how the
/// input was split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Hello(HelloKind, String),
    Mail(String),
    Rcpt(String),
    MessageStart,
    /// `MessageEnd`, with the body joined from its chunks and the size reported.
    Message {
        body: Vec<u8>,
        size: u64,
        recipients: Vec<String>,
    },
    Aborted(AbortReason),
    Auth {
        mechanism: String,
        authzid: Option<String>,
        authcid: String,
        password: String,
    },
    Sasl {
        mechanism: String,
        response: Option<Vec<u8>>,
    },
    Vrfy(String),
    StartTls,
    Violation(Violation),
    Closed(CloseReason),
}

/// A server with its policy, virtual clock, output and event log.
pub struct Harness {
    pub server: Server,
    pub policy: Policy,
    pub t0: Instant,
    pub now: Instant,
    /// All bytes the server wrote.
    pub out: Vec<u8>,
    /// Output not yet matched by `S:` lines.
    pub pending: Vec<u8>,
    /// Normalised events, in order.
    pub log: Vec<Ev>,
    /// Bodies delivered with `MessageEnd`, in order.
    pub messages: Vec<Vec<u8>>,
    /// Chunks of the message in progress.
    pub body: Vec<u8>,
    /// A ticket kept by `Decision::Hold`.
    pub held: Option<Ticket>,
    /// Buffers returned by `poll_transmit` during the last pump.
    pub last_transmits: Vec<Vec<u8>>,
    /// Largest single `poll_transmit` buffer seen.
    pub max_transmit: usize,
    /// The facts of every `MessageStart`, in order.
    pub starts: Vec<MessageStart>,
}

/// Transcripts reach limits with short inputs, so they may set limits below the RFC
/// minimums; the minimums themselves are tested in `server_config.rs`.
fn small_limits_allowed(mut cfg: ServerConfig) -> ServerConfig {
    cfg.allow_below_rfc_minimums = true;
    cfg
}

impl Harness {
    pub fn new(cfg: ServerConfig, policy: Policy) -> Self {
        let t0 = Instant::now();
        Self::with(
            Server::new(small_limits_allowed(cfg), t0).expect("valid configuration"),
            policy,
            t0,
        )
    }

    /// A session refused with a `554` greeting (RFC 5321 3.1).
    pub fn refused(cfg: ServerConfig, policy: Policy) -> Self {
        let t0 = Instant::now();
        Self::with(
            Server::refuse(small_limits_allowed(cfg), t0).expect("valid configuration"),
            policy,
            t0,
        )
    }

    pub fn with(server: Server, policy: Policy, t0: Instant) -> Self {
        let mut h = Self {
            server,
            policy,
            t0,
            now: t0,
            out: Vec::new(),
            pending: Vec::new(),
            log: Vec::new(),
            messages: Vec::new(),
            body: Vec::new(),
            held: None,
            last_transmits: Vec::new(),
            max_transmit: 0,
            starts: Vec::new(),
        };
        h.pump();
        h
    }

    /// Feeds bytes as one read, then answers events and collects output.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.server.handle_input(self.now, bytes);
        self.pump();
    }

    /// Drains events (answering tickets by policy) and then output.
    pub fn pump(&mut self) {
        while let Some(ev) = self.server.poll_event() {
            self.on_event(ev);
        }
        self.last_transmits.clear();
        while let Some(b) = self.server.poll_transmit() {
            self.max_transmit = self.max_transmit.max(b.len());
            self.out.extend_from_slice(&b);
            self.pending.extend_from_slice(&b);
            self.last_transmits.push(b.to_vec());
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Hello(r) => {
                self.log.push(Ev::Hello(r.kind, r.host.to_string()));
                let d = decide(&mut self.policy.hello, &r);
                self.answer(r.ticket, d);
            }
            Event::Mail(r) => {
                self.log.push(Ev::Mail(r.from.to_string()));
                let d = decide(&mut self.policy.mail, &r);
                self.answer(r.ticket, d);
            }
            Event::Rcpt(r) => {
                self.log.push(Ev::Rcpt(r.to.to_string()));
                let d = decide(&mut self.policy.rcpt, &r);
                self.answer(r.ticket, d);
            }
            Event::MessageStart(start) => {
                self.body.clear();
                self.log.push(Ev::MessageStart);
                self.starts.push(start);
            }
            Event::MessageChunk(c) => {
                assert!(!c.is_empty(), "empty MessageChunk");
                self.body.extend_from_slice(&c);
            }
            Event::MessageEnd(end) => {
                let body = std::mem::take(&mut self.body);
                assert_eq!(end.size, body.len() as u64, "MessageEnd.size vs chunks");
                self.log.push(Ev::Message {
                    body: body.clone(),
                    size: end.size,
                    recipients: end.recipients.iter().map(ToString::to_string).collect(),
                });
                let d = match self.policy.message.as_mut() {
                    Some(f) => f(&end, &body),
                    None => Decision::Accept,
                };
                self.messages.push(body);
                self.answer(end.ticket, d);
            }
            Event::MessageAborted(r) => {
                self.body.clear();
                self.log.push(Ev::Aborted(r));
            }
            Event::Auth(r) => {
                self.log.push(Ev::Auth {
                    mechanism: r.mechanism.as_str().to_owned(),
                    authzid: r.authzid.clone(),
                    authcid: r.authcid.clone(),
                    password: r.password.expose().clone(),
                });
                let d = decide(&mut self.policy.auth, &r);
                self.answer(r.ticket, d);
            }
            Event::SaslStep(r) => {
                self.log.push(Ev::Sasl {
                    mechanism: r.mechanism.as_str().to_owned(),
                    response: r.response.as_ref().map(|s| s.expose().clone()),
                });
                let d = decide(&mut self.policy.sasl, &r);
                self.answer(r.ticket, d);
            }
            Event::Vrfy(r) => {
                self.log.push(Ev::Vrfy(r.query.clone()));
                let d = decide(&mut self.policy.vrfy, &r);
                self.answer(r.ticket, d);
            }
            Event::StartTls => self.log.push(Ev::StartTls),
            Event::Violation(v) => self.log.push(Ev::Violation(v)),
            Event::Closed(r) => self.log.push(Ev::Closed(r)),
            other => panic!("unexpected event {other:?}"),
        }
    }

    /// Gives `d` for `t`; a usage error here is a bug in the machine or the test.
    pub fn answer(&mut self, t: Ticket, d: Decision) {
        let r = match d {
            Decision::Accept => self.server.accept(self.now, t).map_err(|e| e.kind),
            Decision::Respond(r) => self.server.respond(self.now, t, r).map_err(|e| e.kind),
            Decision::Each(v) => self.server.respond_each(self.now, t, v).map_err(|e| e.kind),
            Decision::Challenge(c) => self
                .server
                .sasl_challenge(self.now, t, &c)
                .map_err(|e| e.kind),
            Decision::Hold => {
                assert!(self.held.is_none(), "two tickets held at once");
                self.held = Some(t);
                Ok(())
            }
        };
        if let Err(kind) = r {
            panic!("answering a ticket failed: {kind}");
        }
    }

    /// Answers the held ticket and pumps.
    pub fn release(&mut self, d: Decision) {
        let t = self.held.take().expect("no ticket held");
        self.answer(t, d);
        self.pump();
    }

    pub fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
    }

    pub fn timeout(&mut self) {
        self.server.handle_timeout(self.now);
        self.pump();
    }

    pub fn eof(&mut self) {
        self.server.handle_eof(self.now);
        self.pump();
    }

    pub fn tls(&mut self) {
        self.server
            .tls_established(self.now)
            .expect("tls_established refused");
        self.pump();
    }

    /// Takes the next reply line (without CRLF) from the unmatched output.
    pub fn next_line(&mut self) -> Option<Vec<u8>> {
        let i = self.pending.windows(2).position(|w| w == b"\r\n")?;
        let line = self.pending[..i].to_vec();
        self.pending.drain(..i + 2);
        Some(line)
    }

    /// Panics unless all output has been matched.
    pub fn assert_drained(&self, at: &str) {
        assert!(
            self.pending.is_empty(),
            "{at}: unexpected server output \"{}\"\nwhole output: \"{}\"",
            esc(&self.pending),
            esc(&self.out)
        );
    }

    /// Runs a script (see the module docs).
    pub fn run(&mut self, script: &str) -> &mut Self {
        for (at, line) in lines(script) {
            match line {
                Line::Client(bytes) => {
                    self.assert_drained(&at);
                    self.feed(&bytes);
                }
                Line::Server(want) => {
                    let got = self.next_line();
                    assert!(
                        got.as_deref() == Some(&want[..]),
                        "{at}: expected \"{}\", got {}\nwhole output: \"{}\"",
                        esc(&want),
                        got.map_or("nothing".into(), |g| format!("\"{}\"", esc(&g))),
                        esc(&self.out)
                    );
                }
                Line::ServerLast(want) => {
                    let mut last = None;
                    while let Some(l) = self.next_line() {
                        let more = l.get(3) == Some(&b'-');
                        last = Some(l);
                        if !more {
                            break;
                        }
                    }
                    assert!(
                        last.as_deref() == Some(&want[..]),
                        "{at}: expected a reply ending \"{}\", got {}\nwhole output: \"{}\"",
                        esc(&want),
                        last.map_or("nothing".into(), |g| format!("\"{}\"", esc(&g))),
                        esc(&self.out)
                    );
                }
                Line::Act(verb, arg) => {
                    self.assert_drained(&at);
                    match verb {
                        "accept" => self.release(Decision::Accept),
                        "respond" => self.release(refuse(arg)),
                        "tls" => self.tls(),
                        "eof" => self.eof(),
                        "advance" => self.advance(arg.parse().expect("advance <secs>")),
                        "timeout" => self.timeout(),
                        "closed" => assert!(self.server.is_closed(), "{at}: not closed"),
                        "open" => assert!(!self.server.is_closed(), "{at}: closed"),
                        other => panic!("{at}: unknown action {other}"),
                    }
                }
            }
        }
        self.assert_drained("end of script");
        self
    }

    /// Number of log entries matching `f`.
    pub fn count(&self, f: impl Fn(&Ev) -> bool) -> usize {
        self.log.iter().filter(|e| f(e)).count()
    }

    /// The message-related part of the log, for "exactly one message" checks.
    pub fn message_ends(&self) -> usize {
        self.count(|e| matches!(e, Ev::Message { .. }))
    }

    /// All MAIL FROM paths the application was asked about.
    pub fn senders(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|e| match e {
                Ev::Mail(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    /// All RCPT TO paths the application was asked about.
    pub fn recipients(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|e| match e {
                Ev::Rcpt(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    /// Text of the log for failure messages.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for e in &self.log {
            let _ = writeln!(s, "  {e:?}");
        }
        let _ = write!(s, "output: \"{}\"", esc(&self.out));
        s
    }
}

/// Runs `script` against a default server that accepts everything.
pub fn transcript(script: &str) -> Harness {
    let mut h = Harness::new(ServerConfig::default(), Policy::accept_all());
    h.run(script);
    h
}

/// Runs `script` with the given configuration and policy.
pub fn transcript_with(cfg: ServerConfig, policy: Policy, script: &str) -> Harness {
    let mut h = Harness::new(cfg, policy);
    h.run(script);
    h
}

/// The EHLO reply of the default configuration, line by line.
pub const EHLO_DEFAULT: &str = "\
S: 250-localhost Hello
S: 250-PIPELINING
S: 250-SIZE 33554432
S: 250-8BITMIME
S: 250-SMTPUTF8
S: 250-CHUNKING
S: 250-BINARYMIME
S: 250-DSN
S: 250-ENHANCEDSTATUSCODES
S: 250 HELP
";

/// The greeting of the default configuration.
pub const GREETING: &str = "S: 220 localhost ESMTP ready\n";

impl Harness {
    /// A session on an implicitly encrypted transport (RFC 8314), e.g. for AUTH tests.
    pub fn new_tls(cfg: ServerConfig, policy: Policy) -> Self {
        let t0 = Instant::now();
        Self::with(
            Server::new_tls(small_limits_allowed(cfg), t0).expect("valid configuration"),
            policy,
            t0,
        )
    }
}

/// A default-hostname session that has been greeted and has sent `EHLO client.example`.
pub fn after_ehlo(cfg: ServerConfig, policy: Policy) -> Harness {
    let mut h = Harness::new(cfg, policy);
    h.run("S: 220 localhost ESMTP ready\nC: EHLO client.example\nS~ 250 HELP");
    h
}

/// As [`after_ehlo`], on an implicit-TLS session.
pub fn after_ehlo_tls(cfg: ServerConfig, policy: Policy) -> Harness {
    let mut h = Harness::new_tls(cfg, policy);
    h.run("S: 220 localhost ESMTP ready\nC: EHLO client.example\nS~ 250 HELP");
    h
}

/// The default configuration.
pub fn cfg() -> ServerConfig {
    ServerConfig::default()
}

/// The default configuration with AUTH PLAIN and LOGIN offered.
pub fn auth_cfg() -> ServerConfig {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
    c
}

/// A default session after `EHLO client.example`.
pub fn default() -> Harness {
    after_ehlo(cfg(), Policy::accept_all())
}

/// The default configuration with this message size limit (RFC 1870).
pub fn small_cfg(limit: u64) -> ServerConfig {
    let mut c = cfg();
    c.limits.message_size = Some(limit);
    c
}

/// The default configuration with STARTTLS offered (RFC 3207).
pub fn tls_cfg() -> ServerConfig {
    let mut c = cfg();
    c.starttls = true;
    c
}

/// The default configuration as an LMTP server (RFC 2033).
pub fn lmtp_cfg() -> ServerConfig {
    let mut c = cfg();
    c.lmtp = true;
    c
}
