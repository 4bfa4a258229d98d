//! A whole server session driven by an arbitrary sequence of transport and application
//! actions, under a configuration chosen by the first bytes: one of the presets, or any
//! limits, timeouts (up to `Duration::MAX`) and names the configuration can hold.
//!
//! Asserts:
//! * no panic, whatever the order of input, answers, time, TLS, EOF and shutdown;
//! * everything `poll_transmit` returns, concatenated, is a sequence of complete, valid
//!   replies (`decode_reply`), never a partial one;
//! * output stays bounded relative to input (no amplification, no runaway buffers);
//! * a ticket is honoured only if it is the newest unanswered one; stale or foreign
//!   tickets, and answers that do not fit, come back as `Err` with the argument;
//! * `tls_established` succeeds exactly after `Event::StartTls`;
//! * `MessageEnd.size` is the number of octets delivered through `MessageChunk`;
//! * after `Event::Closed` (and draining), `is_closed()` holds and nothing more is ever
//!   transmitted or reported;
//! * split invariance (second config byte, bit 0): the same input bytes fed whole and in
//!   the fuzzer's pieces, with every decision accepted at once, give the same output
//!   bytes and the same events (message bodies compared whole).
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::data::BareLineEndings;
use smtp_sansio::decode_reply;
use smtp_sansio::server::{Event, Server, ServerConfig, Ticket, UsageErrorKind};
use smtp_sansio::types::{EnhancedStatus, Mechanism, Reply, ReplyCode, Text};

/// Canned client lines, so that sessions get past the greeting.
const SAY: &[&[u8]] = &[
    b"EHLO client.example\r\n",
    b"HELO client.example\r\n",
    b"LHLO client.example\r\n",
    b"MAIL FROM:<alice@example.org>\r\n",
    b"MAIL FROM:<> SIZE=100 BODY=8BITMIME\r\n",
    b"MAIL FROM:<a@b> BODY=BINARYMIME SMTPUTF8\r\n",
    b"MAIL FROM:<a@b> RET=FULL ENVID=x+2Dy AUTH=<> REQUIRETLS MT-PRIORITY=3\r\n",
    b"RCPT TO:<bob@example.org>\r\n",
    b"RCPT TO:<Postmaster>\r\n",
    b"RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d\r\n",
    b"RCPT TO:<\xc3\xa9@\xc3\xa9.example>\r\n",
    b"DATA\r\n",
    b"Subject: hi\r\n\r\nbody\r\n.\r\n",
    b"..dot\r\n",
    b"\r\n.\r\n",
    b"x\n.\nMAIL FROM:<evil@x>\r\n",
    b"BDAT 5\r\nhello",
    b"BDAT 0 LAST\r\n",
    b"BDAT 3 LAST\r\nabc",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"HELP\r\n",
    b"VRFY bob\r\n",
    b"EXPN list\r\n",
    b"STARTTLS\r\n",
    b"STARTTLS\r\nMAIL FROM:<injected@x>\r\n",
    b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n",
    b"AUTH PLAIN\r\n",
    b"AGFsaWNlAHNlY3JldA==\r\n",
    b"AUTH LOGIN\r\n",
    b"YWxpY2U=\r\n",
    b"c2VjcmV0\r\n",
    b"AUTH XOAUTH2 dXNlcj1h\r\n",
    b"AUTH CRAM-MD5\r\n",
    b"*\r\n",
    b"=\r\n",
    b"QUIT\r\n",
    b"TURN\r\n",
    b"MAIL FROM:<a@b> SIZE=99999999999\r\n",
];

#[derive(Arbitrary, Debug)]
enum Op {
    Feed { bytes: Vec<u8>, cuts: Vec<u16> },
    Say(u8),
    AcceptPending(u8),
    RespondPending { which: u8, class: u8, status: bool },
    RespondEach { which: u8, n: u8 },
    Challenge { which: u8, bytes: Vec<u8> },
    AdvanceTime(u16),
    TimeoutNow,
    TlsEstablished,
    Eof,
    Shutdown,
    ForeignTicket,
}

#[derive(Arbitrary, Debug)]
struct Input {
    cfg: u8,
    cfg2: u8,
    /// Any limits, timeouts and names the API accepts, instead of the two presets.
    wild: Option<Wild>,
    ops: Vec<Op>,
}

/// Every numeric knob of the configuration, at any value its type can hold (zero and
/// the largest included), and the names that go into the greeting and EHLO reply.
#[derive(Arbitrary, Debug)]
struct Wild {
    command_line: u16,
    text_line: Option<u16>,
    sasl_line: u16,
    recipients: u8,
    message_size: Option<u32>,
    bdat_discard: u32,
    errors: u8,
    buffered_input: u16,
    command_secs: u64,
    data_secs: u64,
    huge: u8,
    hostname: String,
    greeting: String,
}

fn config_of(inp: &Input) -> ServerConfig {
    let mut c = config(inp.cfg, inp.cfg2);
    if let Some(w) = &inp.wild {
        let l = &mut c.limits;
        l.command_line = usize::from(w.command_line);
        l.text_line = w.text_line.map(usize::from);
        l.sasl_line = usize::from(w.sasl_line);
        l.recipients = usize::from(w.recipients);
        l.message_size = w.message_size.map(u64::from);
        l.bdat_discard = u64::from(w.bdat_discard);
        l.errors = u32::from(w.errors);
        l.buffered_input = usize::from(w.buffered_input);
        // The extremes of each type too.
        if w.huge & 1 != 0 {
            l.command_line = usize::MAX;
            l.sasl_line = usize::MAX;
            l.buffered_input = usize::MAX;
        }
        if w.huge & 2 != 0 {
            l.message_size = Some(u64::MAX);
            l.bdat_discard = u64::MAX;
            l.errors = u32::MAX;
            l.recipients = usize::MAX;
        }
        if w.huge & 4 != 0 {
            l.text_line = Some(usize::MAX);
        }
        c.timeouts.command = Duration::from_secs(w.command_secs);
        c.timeouts.data = Duration::from_secs(w.data_secs);
        if w.huge & 8 != 0 {
            c.timeouts.command = Duration::MAX;
            c.timeouts.data = Duration::MAX;
        }
        // Bounded so that the output budget below still means something.
        c.hostname = w.hostname.chars().take(100).collect();
        c.greeting = w.greeting.chars().take(100).collect();
    }
    c
}

fn config(cfg: u8, cfg2: u8) -> ServerConfig {
    let mut c = ServerConfig::default();
    c.lmtp = cfg & 1 != 0;
    if cfg & 2 != 0 {
        c.auth_mechanisms = vec![
            Mechanism::PLAIN,
            Mechanism::LOGIN,
            Mechanism::XOAUTH2,
            Mechanism::new("CRAM-MD5").unwrap(),
        ];
        c.auth_requires_tls = cfg & 32 == 0;
    }
    c.starttls = cfg & 4 != 0;
    if cfg & 8 != 0 {
        c.limits.command_line = 64;
        c.limits.text_line = Some(40);
        c.limits.sasl_line = 100;
        c.limits.recipients = 2;
        c.limits.message_size = Some(60);
        c.limits.errors = 5;
        c.limits.buffered_input = 300;
    }
    c.require_tls = cfg & 16 != 0 && c.starttls;
    c.require_auth = cfg & 64 != 0 && cfg & 2 != 0;
    if cfg2 & 2 != 0 {
        c.bare_line_endings = BareLineEndings::Normalize;
    }
    c.ask_vrfy = cfg2 & 4 != 0;
    c.extensions.enhanced_status_codes = cfg2 & 8 == 0;
    c.extensions.mt_priority = cfg2 & 16 != 0;
    c.extensions.chunking = cfg2 & 32 == 0;
    c.extensions.pipelining = cfg2 & 64 == 0;
    if cfg2 & 128 != 0 {
        c.limits.text_line = None;
        c.limits.message_size = None;
    }
    // Combinations that cannot exist on the wire are refused by `Server::new` (tests/
    // covers that); the fuzzer explores the sessions of valid ones.
    if c.lmtp {
        c.extensions.pipelining = true;
        c.extensions.enhanced_status_codes = true;
    }
    c.allow_below_rfc_minimums = true;
    c
}

fn make(cfg: u8, c: ServerConfig, now: Instant) -> Server {
    let made = match cfg >> 7 {
        0 => Server::new(c, now),
        _ if c.starttls => Server::new_tls(c, now),
        _ => Server::refuse(c, now),
    };
    made.expect("the harness builds valid configurations only")
}

fn pieces<'a>(data: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .take(16)
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for p in at {
        out.push(&data[prev..p]);
        prev = p;
    }
    out.push(&data[prev..]);
    out
}

fn reply(class: u8, status: bool) -> Reply {
    let class = 2 + class % 4;
    let code = ReplyCode::new(u16::from(class) * 100 + 50 + u16::from(class == 3) * 4).unwrap();
    let text = Text::new("fuzz says so").unwrap();
    match EnhancedStatus::new(class, 7, 1) {
        Ok(st) if status => Reply::with_status(code, st, [text]),
        _ => Reply::new(code, text),
    }
}

struct Harness {
    s: Server,
    now: Instant,
    /// Unanswered tickets with their issue number.
    tickets: Vec<(Ticket, u64)>,
    issued: u64,
    wire: Vec<u8>,
    parsed: usize,
    input_lines: usize,
    ops: usize,
    closed: bool,
    awaiting_tls: bool,
    body_len: u64,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(ev) = self.s.poll_event() {
            assert!(!self.closed, "event after Closed: {ev:?}");
            let t = match ev {
                Event::Hello(r) => Some(r.ticket),
                Event::Mail(r) => Some(r.ticket),
                Event::Rcpt(r) => Some(r.ticket),
                Event::Auth(r) => Some(r.ticket),
                Event::SaslStep(r) => Some(r.ticket),
                Event::Vrfy(r) => Some(r.ticket),
                Event::MessageStart(_) => {
                    self.body_len = 0;
                    None
                }
                Event::MessageChunk(b) => {
                    assert!(!b.is_empty(), "empty MessageChunk");
                    self.body_len += b.len() as u64;
                    None
                }
                Event::MessageEnd(e) => {
                    assert_eq!(e.size, self.body_len, "MessageEnd.size != octets delivered");
                    self.body_len = 0;
                    Some(e.ticket)
                }
                Event::MessageAborted(_) => {
                    self.body_len = 0;
                    None
                }
                Event::StartTls => {
                    self.awaiting_tls = true;
                    None
                }
                Event::Closed(_) => {
                    self.closed = true;
                    self.awaiting_tls = false;
                    None
                }
                _ => None,
            };
            if let Some(t) = t {
                self.issued += 1;
                self.tickets.push((t, self.issued));
            }
        }
        while let Some(out) = self.s.poll_transmit() {
            assert!(!out.is_empty(), "empty transmit");
            self.wire.extend_from_slice(&out);
        }
        assert_eq!(self.s.is_closed(), self.closed, "is_closed disagrees with Event::Closed");
        // Everything written is whole, valid replies.
        while self.parsed < self.wire.len() {
            match decode_reply(&self.wire[self.parsed..]) {
                Ok((rest, _)) => self.parsed = self.wire.len() - rest.len(),
                Err(e) => panic!(
                    "server wrote an invalid or partial reply ({e}): {:?}",
                    String::from_utf8_lossy(&self.wire[self.parsed..])
                ),
            }
        }
        let budget = 2048 + 1024 * (self.input_lines + self.ops);
        assert!(
            self.wire.len() <= budget,
            "output {} bytes for {} input lines and {} ops",
            self.wire.len(),
            self.input_lines,
            self.ops
        );
    }

    fn pick(&mut self, which: u8) -> Option<(Ticket, u64)> {
        if self.tickets.is_empty() {
            return None;
        }
        let n = self.tickets.len();
        // 0 is the newest, the usual choice.
        let i = n - 1 - usize::from(which) % n;
        Some(self.tickets.remove(i))
    }

    fn answered(&mut self, ok: bool, id: u64, t: Option<Ticket>) {
        if ok {
            assert_eq!(id, self.issued, "a stale ticket (#{id} of {}) was honoured", self.issued);
            assert!(!self.closed, "a ticket was honoured after Closed");
        } else if let Some(t) = t {
            self.tickets.push((t, id));
            self.tickets.sort_by_key(|x| x.1);
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.input_lines += bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        self.s.handle_input(self.now, bytes);
        self.drain();
    }

    fn run(&mut self, op: &Op) {
        self.ops += 1;
        let wire_before = self.wire.len();
        let was_closed = self.closed;
        match op {
            Op::Feed { bytes, cuts } => {
                for p in pieces(bytes, cuts) {
                    self.feed(p);
                }
            }
            Op::Say(i) => self.feed(SAY[usize::from(*i) % SAY.len()]),
            Op::AcceptPending(w) => {
                if let Some((t, id)) = self.pick(*w) {
                    match self.s.accept(t) {
                        Ok(()) => self.answered(true, id, None),
                        Err(e) => {
                            assert_eq!(e.kind, UsageErrorKind::WrongTicket);
                            self.answered(false, id, Some(e.into_inner()));
                        }
                    }
                }
            }
            Op::RespondPending { which, class, status } => {
                if let Some((t, id)) = self.pick(*which) {
                    let r = reply(*class, *status);
                    match self.s.respond(t, r.clone()) {
                        Ok(()) => {
                            assert!(!r.code().is_intermediate(), "a 3xx answer was taken");
                            self.answered(true, id, None)
                        }
                        Err(e) => {
                            let (t, back) = e.value;
                            assert_eq!(back, r, "respond handed back another reply");
                            self.answered(false, id, Some(t));
                        }
                    }
                }
            }
            Op::RespondEach { which, n } => {
                if let Some((t, id)) = self.pick(*which) {
                    let rs: Vec<Reply> = (0..n % 5).map(|i| reply(i, i % 2 == 0)).collect();
                    match self.s.respond_each(t, rs) {
                        Ok(()) => self.answered(true, id, None),
                        Err(e) => {
                            let (t, _) = e.into_inner();
                            self.answered(false, id, Some(t));
                        }
                    }
                }
            }
            Op::Challenge { which, bytes } => {
                if let Some((t, id)) = self.pick(*which) {
                    match self.s.sasl_challenge(t, bytes) {
                        Ok(()) => self.answered(true, id, None),
                        Err(e) => self.answered(false, id, Some(e.into_inner())),
                    }
                }
            }
            Op::AdvanceTime(secs) => {
                self.now += Duration::from_secs(u64::from(*secs));
                self.s.handle_timeout(self.now);
            }
            Op::TimeoutNow => {
                if let Some(d) = self.s.poll_timeout() {
                    if d > self.now {
                        self.now = d;
                    }
                }
                self.s.handle_timeout(self.now);
            }
            Op::TlsEstablished => {
                let expect = self.awaiting_tls;
                let r = self.s.tls_established(self.now);
                assert_eq!(r.is_ok(), expect, "tls_established: {r:?}, StartTls seen: {expect}");
                if r.is_ok() {
                    self.awaiting_tls = false;
                }
            }
            Op::Eof => self.s.handle_eof(self.now),
            Op::Shutdown => self.s.shutdown(),
            Op::ForeignTicket => {
                let mut other = Server::new(ServerConfig::default(), self.now)
                    .expect("the default configuration is valid");
                other.handle_input(self.now, b"EHLO x\r\n");
                while let Some(ev) = other.poll_event() {
                    if let Event::Hello(r) = ev {
                        let e = self.s.accept(r.ticket).expect_err("foreign ticket honoured");
                        assert_eq!(e.kind, UsageErrorKind::WrongTicket);
                    }
                }
            }
        }
        self.drain();
        if was_closed {
            assert_eq!(self.wire.len(), wire_before, "output after Closed");
        }
    }
}

// ---- split invariance ----

#[derive(Debug, PartialEq)]
enum Seen {
    Ev(String),
    Out(Vec<u8>),
}

fn auto(cfg: u8, c: &ServerConfig, parts: &[&[u8]]) -> Vec<Seen> {
    let now = Instant::now();
    let mut s = make(cfg, c.clone(), now);
    let mut log = Vec::new();
    let mut body = Vec::new();
    let mut out = Vec::new();
    let step = |s: &mut Server, log: &mut Vec<Seen>, body: &mut Vec<u8>, out: &mut Vec<u8>| loop {
        let mut answered = false;
        while let Some(ev) = s.poll_event() {
            let t = match ev {
                Event::Hello(r) => {
                    log.push(Seen::Ev(format!("hello {:?} {}", r.kind, r.host)));
                    Some(r.ticket)
                }
                Event::Mail(r) => {
                    log.push(Seen::Ev(format!("mail {} {:?}", r.from, r.params)));
                    Some(r.ticket)
                }
                Event::Rcpt(r) => {
                    log.push(Seen::Ev(format!("rcpt {} {:?}", r.to, r.params)));
                    Some(r.ticket)
                }
                Event::Auth(r) => {
                    log.push(Seen::Ev(format!("auth {} {:?} {}", r.mechanism, r.authzid, r.authcid)));
                    Some(r.ticket)
                }
                Event::SaslStep(r) => {
                    log.push(Seen::Ev(format!(
                        "sasl {} {:?}",
                        r.mechanism,
                        r.response.as_ref().map(|x| x.expose().clone())
                    )));
                    Some(r.ticket)
                }
                Event::Vrfy(r) => {
                    log.push(Seen::Ev(format!("vrfy {}", r.query)));
                    Some(r.ticket)
                }
                Event::MessageChunk(b) => {
                    body.extend_from_slice(&b);
                    None
                }
                Event::MessageEnd(e) => {
                    log.push(Seen::Ev(format!(
                        "end {} {:?} {:?}",
                        e.size,
                        e.recipients,
                        String::from_utf8_lossy(body)
                    )));
                    body.clear();
                    Some(e.ticket)
                }
                Event::MessageAborted(r) => {
                    // What arrived of an aborted message depends on the pieces; only the
                    // abort itself is compared.
                    body.clear();
                    log.push(Seen::Ev(format!("aborted {r:?}")));
                    None
                }
                other => {
                    log.push(Seen::Ev(format!("{other:?}")));
                    None
                }
            };
            if let Some(t) = t {
                let _ = s.accept(t);
                answered = true;
            }
        }
        while let Some(o) = s.poll_transmit() {
            out.extend_from_slice(&o);
        }
        if !answered {
            break;
        }
    };
    step(&mut s, &mut log, &mut body, &mut out);
    for p in parts {
        s.handle_input(now, p);
        step(&mut s, &mut log, &mut body, &mut out);
    }
    s.handle_eof(now);
    step(&mut s, &mut log, &mut body, &mut out);
    log.push(Seen::Out(out));
    log
}

fn split_invariance(inp: &Input) {
    let mut c = config_of(inp);
    // STARTTLS drops whatever was read with it, so the result depends on the reads
    // by design; so does overflowing the pending-input bound.
    c.starttls = false;
    c.require_tls = false;
    c.limits.buffered_input = 1 << 20;
    let mut all = Vec::new();
    let mut parts: Vec<&[u8]> = Vec::new();
    for op in &inp.ops {
        match op {
            Op::Feed { bytes, cuts } => {
                all.extend_from_slice(bytes);
                parts.extend(pieces(bytes, cuts));
            }
            Op::Say(i) => {
                let b = SAY[usize::from(*i) % SAY.len()];
                all.extend_from_slice(b);
                parts.push(b);
            }
            _ => {}
        }
    }
    let whole = auto(inp.cfg, &c, &[&all]);
    let split = auto(inp.cfg, &c, &parts);
    if whole != split {
        let n = whole.iter().zip(&split).take_while(|(a, b)| a == b).count();
        panic!(
            "split changes the session at step {n}:\n whole {:?}\n split {:?}",
            whole.get(n..),
            split.get(n..)
        );
    }
}

fuzz_target!(|inp: Input| {
    if inp.ops.len() > 64 {
        return;
    }
    let now = Instant::now();
    let s = make(inp.cfg, config_of(&inp), now);
    let mut h = Harness {
        s,
        now,
        tickets: Vec::new(),
        issued: 0,
        wire: Vec::new(),
        parsed: 0,
        input_lines: 0,
        ops: 0,
        closed: false,
        awaiting_tls: false,
        body_len: 0,
    };
    h.drain();
    for op in &inp.ops {
        h.run(op);
    }
    if inp.cfg2 & 1 != 0 {
        split_invariance(&inp);
    }
});
