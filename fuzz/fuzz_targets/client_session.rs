//! A whole client session driven by an arbitrary sequence of server replies (canned or
//! raw bytes) and application actions, under a configuration chosen by the first byte
//! (or any sizes and timeouts the configuration can hold).
//!
//! Asserts:
//! * no panic, whatever the server says and whatever the application calls;
//! * every message id comes from `send_message`/`start_transaction`; each gets at most
//!   one `MessageResult`, and once the session is closed every one has exactly one;
//!   per-recipient, MAIL and DataReady events name an issued message that has no result
//!   yet;
//! * `is_closed()` ⇔ `Closed` seen; `poll_timeout()` is `None` once closed;
//!   after `Closed` and one drain nothing more is transmitted or reported;
//! * between `StartTls` (once pending bytes are written) and `tls_established`, nothing
//!   is transmitted; `tls_established` succeeds exactly when a `StartTls` is pending;
//! * misuse (wrong id, out-of-order calls) returns `Err`;
//! * split invariance: a twin client fed each op's server bytes whole, while the other
//!   gets them in the fuzzer's pieces, transmits the same bytes and reports the same
//!   events (until the first `StartTls`, where the injection check depends on reads by
//!   design).
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::client::{
    AuthConfig, Client, ClientConfig, ClientError, Event, Envelope, MessageId, StartTlsPolicy,
};
use smtp_sansio::types::{
    Body, Domain, ForwardPath, Host, LocalPart, MailParams, Mailbox, Mechanism, Notify,
    RcptParams, ReversePath, XText,
};

/// Canned server replies, so that sessions get past the greeting and the hello.
const REPLY: &[&[u8]] = &[
    b"220 mx.example ESMTP\r\n",
    b"220-mx.example\r\n220 ready\r\n",
    b"250 ok\r\n",
    b"250 2.1.0 ok\r\n",
    b"251 will forward\r\n",
    b"252 cannot verify\r\n",
    b"354 go ahead\r\n",
    b"334 \r\n",
    b"334 VXNlcm5hbWU6\r\n",
    b"334 UGFzc3dvcmQ6\r\n",
    b"334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n",
    b"334 not base64!\r\n",
    b"235 2.7.0 authenticated\r\n",
    b"221 bye\r\n",
    b"421 4.3.2 shutting down\r\n",
    b"450 4.2.0 busy\r\n",
    b"451 4.3.0 error\r\n",
    b"452 4.5.3 too many recipients\r\n",
    b"500 5.5.2 syntax\r\n",
    b"501 5.5.4 bad args\r\n",
    b"502 5.5.1 not implemented\r\n",
    b"503 5.5.1 bad sequence\r\n",
    b"504 5.5.4 not supported\r\n",
    b"530 5.7.0 auth required\r\n",
    b"535 5.7.8 bad credentials\r\n",
    b"538 5.7.11 encryption required\r\n",
    b"550 5.1.1 no such user\r\n",
    b"552 5.3.4 too big\r\n",
    b"554 5.3.0 transaction failed\r\n",
    b"555 5.5.4 parameter not recognised\r\n",
    b"220 2.0.0 start TLS\r\n",
    b"220 2.0.0 start TLS\r\n250 injected\r\n",
    b"250-first\r\n",
    b"250 ok\r\n250 ok\r\n250 ok\r\n",
    b"250-a\r\n251 b\r\n",
    b"999 nope\r\n",
    b"25\r\n",
    b"\r\n",
];

/// EHLO keywords; the op's mask picks which appear.
const CAPS: &[&str] = &[
    "PIPELINING",
    "CHUNKING",
    "STARTTLS",
    "AUTH PLAIN LOGIN",
    "AUTH XOAUTH2 OAUTHBEARER",
    "SIZE 200",
    "8BITMIME",
    "SMTPUTF8",
    "DSN",
    "BINARYMIME",
    "ENHANCEDSTATUSCODES",
    "REQUIRETLS",
    "MT-PRIORITY",
    "SIZE",
    "AUTH=PLAIN",
    "X-UNKNOWN a b c",
];

#[derive(Arbitrary, Debug)]
enum Op {
    Reply { which: u8, cuts: Vec<u16> },
    Ehlo { mask: u16, code: bool, cuts: Vec<u16> },
    Feed { bytes: Vec<u8>, cuts: Vec<u16> },
    Send { from: u8, rcpts: u8, params: u8, body: Vec<u8> },
    Start { from: u8, params: u8 },
    AddRcpt { which: u8, params: u8, stale: bool },
    Chunk { bytes: Vec<u8>, stale: bool },
    End { stale: bool },
    Abort { stale: bool },
    SaslRespond(Vec<u8>),
    SaslCancel,
    AdvanceTime(u16),
    TimeoutNow,
    TlsEstablished,
    Eof,
    Quit,
}

#[derive(Arbitrary, Debug)]
struct Input {
    cfg: u8,
    cfg2: u8,
    /// Any sizes and timeouts the configuration can hold, instead of the presets.
    wild: Option<Wild>,
    ops: Vec<Op>,
}

/// Every numeric knob of the configuration at any value (zero and the largest too).
#[derive(Arbitrary, Debug)]
struct Wild {
    bdat_chunk_size: u16,
    max_reply_line: u16,
    max_reply_lines: u8,
    secs: [u64; 7],
    huge: u8,
}

fn config_of(input: &Input) -> ClientConfig {
    let mut c = config(input.cfg, input.cfg2);
    if let Some(w) = &input.wild {
        c.bdat_chunk_size = usize::from(w.bdat_chunk_size);
        c.max_reply_line = usize::from(w.max_reply_line);
        c.max_reply_lines = usize::from(w.max_reply_lines);
        if w.huge & 1 != 0 {
            c.bdat_chunk_size = usize::MAX;
        }
        if w.huge & 2 != 0 {
            c.max_reply_line = usize::MAX;
            c.max_reply_lines = usize::MAX;
        }
        let d = |i: usize| {
            if w.huge & 4 != 0 {
                Duration::MAX
            } else {
                Duration::from_secs(w.secs[i])
            }
        };
        let t = &mut c.timeouts;
        t.greeting = d(0);
        t.mail = d(1);
        t.rcpt = d(2);
        t.data_init = d(3);
        t.data_block = d(4);
        t.data_term = d(5);
        t.other = d(6);
    }
    c
}

fn config(cfg: u8, cfg2: u8) -> ClientConfig {
    let mut c = ClientConfig::default();
    c.lmtp = cfg & 1 != 0;
    c.starttls = match (cfg >> 1) & 3 {
        0 => StartTlsPolicy::Never,
        1 => StartTlsPolicy::Required,
        _ => StartTlsPolicy::Opportunistic,
    };
    c.auth = match (cfg >> 3) & 3 {
        0 => None,
        1 => Some(AuthConfig::password("alice", "secret")),
        2 => Some(AuthConfig::bearer("alice", "token")),
        _ => Some(AuthConfig::custom(
            Mechanism::new("X-CUSTOM").unwrap_or(Mechanism::PLAIN),
            None,
        )),
    };
    if let Some(a) = c.auth.as_mut() {
        a.allow_plaintext_without_tls = cfg & 32 != 0;
    }
    c.use_pipelining = cfg & 64 != 0;
    c.use_chunking = cfg & 128 != 0;
    c.bdat_chunk_size = if cfg2 & 1 != 0 { 5 } else { 64 * 1024 };
    if cfg2 & 2 != 0 {
        c.max_reply_line = 40;
        c.max_reply_lines = 4;
    }
    c
}

fn mailbox(i: u8) -> Mailbox<'static> {
    let (local, host) = match i % 4 {
        0 => ("alice", "example.org"),
        1 => ("b.o b", "b.example"),
        2 => ("\u{e9}l\u{e8}ve", "\u{e9}cole.example"),
        _ => ("postmaster", "mx.example"),
    };
    let local = LocalPart::quote(local).unwrap_or_else(|_| LocalPart::quote("x").unwrap());
    Mailbox::new(local, Host::Domain(Domain::new(host).unwrap()))
}

fn reverse(i: u8) -> ReversePath<'static> {
    if i & 4 != 0 {
        ReversePath::Null
    } else {
        ReversePath::Mailbox(mailbox(i))
    }
}

fn mail_params(p: u8) -> MailParams<'static> {
    let mut m = MailParams::default();
    m.body = match p & 3 {
        0 => None,
        1 => Some(Body::SevenBit),
        2 => Some(Body::EightBitMime),
        _ => Some(Body::BinaryMime),
    };
    m.requiretls = p & 4 != 0;
    if p & 8 != 0 {
        m.envid = XText::new("env+2Did").ok();
    }
    m.smtputf8 = p & 16 != 0;
    if p & 32 != 0 {
        m.size = Some(1000);
    }
    m
}

fn rcpt_params(p: u8) -> RcptParams<'static> {
    let mut r = RcptParams::default();
    if p & 1 != 0 {
        r.notify = Notify::on(true, p & 2 != 0, false).ok();
    }
    r
}

fn pieces<'a>(b: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|&c| usize::from(c) % (b.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for k in at {
        out.push(&b[last..k]);
        last = k;
    }
    out.push(&b[last..]);
    out
}

/// Two clients that must behave identically: `whole` gets each op's server bytes in one
/// call, `split` in pieces.
struct Twin {
    whole: Client,
    split: Client,
    /// Still comparing (stops at the first STARTTLS).
    compare: bool,
}

/// The bookkeeping for the properties, fed from `split`'s events and output.
#[derive(Default)]
struct Book {
    issued: Vec<MessageId>,
    /// Results per id.
    results: HashMap<u64, u32>,
    closed: bool,
    /// Closed seen and output drained once: nothing may come any more.
    silent: bool,
    /// StartTls seen and pending output drained: nothing may be written until
    /// `tls_established`.
    tls_pending: bool,
    tls_quiet: bool,
    stream: Option<MessageId>,
}

impl Book {
    fn open(&self, id: MessageId) {
        assert!(self.issued.contains(&id), "event for unknown message {id:?}");
        assert!(
            !self.results.contains_key(&id.get()),
            "event for message {id:?} after its result"
        );
    }
}

fn drain(t: &mut Twin, book: &mut Book) {
    let mut out_a = Vec::new();
    let mut out_b = Vec::new();
    let mut ev_a = Vec::new();
    let mut ev_b = Vec::new();
    // Events first, then output, repeated: output may be unlocked by events only through
    // calls, so one pass of each is enough, but loop for safety.
    for _ in 0..4 {
        while let Some(e) = t.split.poll_event() {
            ev_b.push(e);
        }
        while let Some(b) = t.split.poll_transmit() {
            out_b.extend_from_slice(&b);
        }
        while let Some(e) = t.whole.poll_event() {
            ev_a.push(e);
        }
        while let Some(b) = t.whole.poll_transmit() {
            out_a.extend_from_slice(&b);
        }
    }
    if book.silent {
        assert!(ev_b.is_empty(), "events after Closed: {ev_b:?}");
        assert!(out_b.is_empty(), "output after Closed");
    }
    if book.tls_quiet {
        assert!(
            out_b.is_empty() || book.closed || ev_b.iter().any(|e| matches!(e, Event::Closed { .. })),
            "output while the TLS handshake is pending: {:?}",
            String::from_utf8_lossy(&out_b)
        );
    }
    for e in &ev_b {
        assert!(!book.closed, "event after Closed: {e:?}");
        match e {
            Event::MessageResult { message, .. } => {
                book.open(*message);
                book.results.insert(message.get(), 1);
                if book.stream == Some(*message) {
                    book.stream = None;
                }
            }
            Event::RecipientResult { message, .. }
            | Event::DeliveryResult { message, .. }
            | Event::MailResult { message, .. }
            | Event::DataReady { message } => book.open(*message),
            Event::StartTls => {
                book.tls_pending = true;
                t.compare = false;
            }
            Event::Closed { .. } => book.closed = true,
            _ => {}
        }
    }
    if ev_a.iter().any(|e| matches!(e, Event::StartTls)) {
        t.compare = false;
    }
    if t.compare {
        // How many injected bytes were seen depends on where the reads end.
        let norm = |v: &[Event]| -> Vec<Event> {
            v.iter()
                .map(|e| match e {
                    Event::Error(ClientError::StartTlsInjection { .. }) => {
                        Event::Error(ClientError::StartTlsInjection { bytes: 0 })
                    }
                    e => e.clone(),
                })
                .collect()
        };
        assert_eq!(norm(&ev_a), norm(&ev_b), "events differ when the replies are split");
        assert_eq!(out_a, out_b, "output differs when the replies are split");
    }
    if book.closed {
        book.silent = true;
        book.tls_pending = false;
        book.tls_quiet = false;
        for id in &book.issued {
            assert_eq!(
                book.results.get(&id.get()),
                Some(&1),
                "message {id:?} has no result at close"
            );
        }
    } else if book.tls_pending {
        book.tls_quiet = true;
    }
    assert_eq!(t.split.is_closed(), book.closed, "is_closed() disagrees with Closed");
    if book.closed {
        assert!(t.split.poll_timeout().is_none(), "a timer after Closed");
    }
}

fn feed(t: &mut Twin, now: Instant, bytes: &[u8], cuts: &[u16]) {
    t.whole.handle_input(now, bytes);
    for p in pieces(bytes, cuts) {
        t.split.handle_input(now, p);
    }
}

/// Applies `f` to both clients and checks they answer alike.
fn both<R: PartialEq + std::fmt::Debug>(t: &mut Twin, f: impl Fn(&mut Client) -> R) -> R {
    let a = f(&mut t.whole);
    let b = f(&mut t.split);
    if t.compare {
        assert_eq!(a, b, "the twins answered a call differently");
    }
    b
}

fuzz_target!(|input: Input| {
    let start = Instant::now();
    let mut now = start;
    let cfg = config_of(&input);
    let mut t = Twin {
        whole: Client::new(cfg.clone(), now),
        split: Client::new(cfg, now),
        compare: true,
    };
    let mut book = Book::default();
    drain(&mut t, &mut book);
    for op in input.ops.iter().take(64) {
        match op {
            Op::Reply { which, cuts } => {
                let r = REPLY[usize::from(*which) % REPLY.len()];
                feed(&mut t, now, r, cuts);
            }
            Op::Ehlo { mask, code, cuts } => {
                let mut r = String::new();
                let code = if *code { "250" } else { "220" };
                r.push_str(code);
                r.push_str("-mx.example greets you\r\n");
                for (i, c) in CAPS.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        r.push_str(&format!("{code}-{c}\r\n"));
                    }
                }
                r.push_str(code);
                r.push_str(" HELP\r\n");
                feed(&mut t, now, r.as_bytes(), cuts);
            }
            Op::Feed { bytes, cuts } => feed(&mut t, now, bytes, cuts),
            Op::Send { from, rcpts, params, body } => {
                let mut env = Envelope::new(reverse(*from)).with_params(mail_params(*params));
                for i in 0..(rcpts % 4) {
                    env = env.to_with(
                        ForwardPath::Mailbox(mailbox(from.wrapping_add(i))),
                        rcpt_params(rcpts >> 2),
                    );
                }
                let body = Bytes::from(body.clone());
                let r = both(&mut t, |c| c.send_message(now, env.clone(), body.clone()));
                match r {
                    Ok(id) => book.issued.push(id),
                    Err(_) => assert!(rcpts % 4 == 0 || book.closed || book.issued.len() < usize::MAX),
                }
                if rcpts % 4 == 0 {
                    assert!(r.is_err(), "a message without recipients was queued");
                }
            }
            Op::Start { from, params } => {
                let r = both(&mut t, |c| c.start_transaction(now, reverse(*from), mail_params(*params)));
                match r {
                    Ok(id) => {
                        assert!(book.stream.is_none(), "two streamed transactions open");
                        book.issued.push(id);
                        book.stream = Some(id);
                    }
                    Err(_) => {}
                }
            }
            Op::AddRcpt { which, params, stale } => {
                let id = target(&book, *stale);
                let r = both(&mut t, |c| {
                    c.add_recipient(now, id, ForwardPath::Mailbox(mailbox(*which)), rcpt_params(*params))
                });
                check_stale(&book, id, r.is_ok());
            }
            Op::Chunk { bytes, stale } => {
                let id = target(&book, *stale);
                let r = both(&mut t, |c| c.body_chunk(now, id, bytes));
                check_stale(&book, id, r.is_ok());
            }
            Op::End { stale } => {
                let id = target(&book, *stale);
                let r = both(&mut t, |c| c.body_end(now, id));
                check_stale(&book, id, r.is_ok());
            }
            Op::Abort { stale } => {
                let id = target(&book, *stale);
                let r = both(&mut t, |c| c.abort_transaction(now, id));
                check_stale(&book, id, r.is_ok());
            }
            Op::SaslRespond(b) => {
                let _ = both(&mut t, |c| c.sasl_respond(now, smtp_sansio::types::Secret::new(b.clone())));
            }
            Op::SaslCancel => {
                let _ = both(&mut t, |c| c.sasl_cancel(now));
            }
            Op::AdvanceTime(s) => {
                now += Duration::from_secs(u64::from(*s));
                both(&mut t, |c| c.handle_timeout(now));
            }
            Op::TimeoutNow => {
                if let Some(d) = t.split.poll_timeout() {
                    now = now.max(d);
                }
                both(&mut t, |c| c.handle_timeout(now));
            }
            Op::TlsEstablished => {
                let pending = book.tls_pending;
                let r = both(&mut t, |c| c.tls_established(now));
                assert_eq!(r.is_ok(), pending, "tls_established: {r:?}, StartTls pending: {pending}");
                book.tls_pending = false;
                book.tls_quiet = false;
            }
            Op::Eof => both(&mut t, |c| c.handle_eof(now)),
            Op::Quit => both(&mut t, |c| c.quit(now)),
        }
        drain(&mut t, &mut book);
    }
});

/// The open streamed transaction, or (for `stale`, or when none is open) an id that
/// names no open transaction.
fn target(book: &Book, stale: bool) -> MessageId {
    match (book.stream, stale) {
        (Some(id), false) => id,
        _ => book
            .issued
            .iter()
            .copied()
            .find(|id| Some(*id) != book.stream)
            .or(book.stream)
            .unwrap_or_else(|| book.issued.first().copied().unwrap_or_else(no_id)),
    }
}

fn no_id() -> MessageId {
    // An id no call ever returned: take one from a throwaway client.
    let mut c = Client::new(ClientConfig::default(), Instant::now());
    c.start_transaction(Instant::now(), ReversePath::Null, MailParams::default())
        .unwrap_or_else(|_| unreachable!())
}

fn check_stale(book: &Book, id: MessageId, ok: bool) {
    if book.stream != Some(id) {
        assert!(!ok, "a call on {id:?}, which is not the open transaction, succeeded");
    }
}
