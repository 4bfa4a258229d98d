//! Whole and streamed messages are one engine: each rule of the client's transactions,
//! run both ways (`send_message`, and `start_transaction` / `add_recipient` /
//! `body_chunk` / `body_end` with everything given before MAIL is due) against the same
//! scripted server, gives the same bytes in the same writes and the same events. The
//! streamed API adds `MailResult` and `DataReady`; nothing else may differ.

use std::time::Instant;

use bytes::Bytes;
use smtp_sansio::client::{
    Client, ClientConfig, Envelope, Event, MessageError, MessageStatus, StartTlsPolicy,
};
use smtp_sansio::types::{
    Body, Domain, ForwardPath, Host, MailParams, Mailbox, Notify, RcptParams, ReversePath,
};

fn config() -> ClientConfig {
    let mut c = ClientConfig::new(Host::Domain(Domain::new("client.example").unwrap()));
    c.starttls = StartTlsPolicy::Never;
    c
}

/// One message of a run.
#[derive(Clone)]
struct Msg {
    from: &'static str,
    to: Vec<(&'static str, RcptParams<'static>)>,
    params: MailParams<'static>,
    body: &'static [u8],
}

fn msg(from: &'static str, to: &[&'static str], body: &'static [u8]) -> Msg {
    Msg {
        from,
        to: to.iter().map(|t| (*t, RcptParams::default())).collect(),
        params: MailParams::default(),
        body,
    }
}

fn rp(s: &str) -> ReversePath<'static> {
    ReversePath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

fn fp(s: &str) -> ForwardPath<'static> {
    ForwardPath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

/// What the server does at one step.
enum Step {
    /// Reply lines, joined with CRLF.
    S(&'static str),
    /// The TLS handshake after `220` to STARTTLS; `true` when the certificate was
    /// verified.
    Tls(bool),
}

use Step::{S, Tls};

/// What the client did: the bytes it wrote after each step (before the first step at
/// index 0), and its events.
#[derive(Debug, PartialEq)]
struct Run {
    writes: Vec<String>,
    events: Vec<Event>,
}

struct Driver {
    c: Client,
    now: Instant,
    msgs: Vec<Msg>,
    streamed: bool,
    /// The next message to hand over.
    next: usize,
    events: Vec<Event>,
}

impl Driver {
    fn send_whole(&mut self, m: &Msg) {
        let mut env = Envelope::new(rp(m.from)).with_params(m.params.clone());
        for (to, p) in &m.to {
            env = env.to_with(fp(to), p.clone());
        }
        self.c
            .send_message(self.now, env, Bytes::from_static(m.body))
            .unwrap();
    }

    /// The streamed way: MAIL parameters, every recipient, the body in two pieces cut
    /// in the middle, and its end, in one go.
    fn send_streamed(&mut self, m: &Msg) {
        let now = self.now;
        let id = self
            .c
            .start_transaction(now, rp(m.from), m.params.clone())
            .unwrap();
        for (to, p) in &m.to {
            // A transaction refused before MAIL is gone at once; the rest is moot.
            if self.c.add_recipient(now, id, fp(to), p.clone()).is_err() {
                return;
            }
        }
        let (a, b) = m.body.split_at(m.body.len() / 2);
        let _ = self.c.body_chunk(now, id, a);
        let _ = self.c.body_chunk(now, id, b);
        let _ = self.c.body_end(now, id);
    }

    /// Hands over the next message (streamed: one at a time); after the last, QUIT.
    fn hand_over(&mut self) {
        let Some(m) = self.msgs.get(self.next).cloned() else {
            self.c.quit(self.now);
            return;
        };
        self.next += 1;
        if self.streamed {
            self.send_streamed(&m);
        } else {
            self.send_whole(&m);
            self.hand_over();
        }
    }

    fn collect(&mut self) -> String {
        let mut out = Vec::new();
        loop {
            while let Some(b) = self.c.poll_transmit() {
                out.extend_from_slice(&b);
            }
            let Some(e) = self.c.poll_event() else { break };
            let done = matches!(e, Event::MessageResult { .. });
            match e {
                Event::MailResult { .. } | Event::DataReady { .. } => {
                    assert!(self.streamed, "{e:?} for a whole message");
                }
                e => self.events.push(e),
            }
            if done && self.streamed {
                self.hand_over();
            }
        }
        out.escape_ascii().to_string()
    }
}

fn run(config: ClientConfig, msgs: &[Msg], script: &[Step], streamed: bool) -> Run {
    let now = Instant::now();
    let mut d = Driver {
        c: Client::new(config, now),
        now,
        msgs: msgs.to_vec(),
        streamed,
        next: 0,
        events: Vec::new(),
    };
    d.hand_over();
    let mut writes = vec![d.collect()];
    for step in script {
        match step {
            S(lines) => {
                let mut bytes = lines.replace('\n', "\r\n");
                bytes.push_str("\r\n");
                d.c.handle_input(now, bytes.as_bytes());
            }
            Tls(true) => d.c.tls_established_verified(now).unwrap(),
            Tls(false) => d.c.tls_established(now).unwrap(),
        }
        writes.push(d.collect());
    }
    Run {
        writes,
        events: d.events,
    }
}

/// Runs `msgs` whole and streamed against `script` and checks that both ways agree;
/// returns the run.
fn both_ways(config: ClientConfig, msgs: &[Msg], script: &[Step]) -> Run {
    let whole = run(config.clone(), msgs, script, false);
    let streamed = run(config, msgs, script, true);
    assert_eq!(whole, streamed, "whole (left) and streamed (right) differ");
    whole
}

fn wire(r: &Run) -> String {
    r.writes.concat()
}

fn results(r: &Run) -> Vec<MessageStatus> {
    r.events
        .iter()
        .filter_map(|e| match e {
            Event::MessageResult { status, .. } => Some(status.clone()),
            _ => None,
        })
        .collect()
}

const EHLO: &str = "EHLO client.example\\r\\n";

fn ehlo(ext: &'static str) -> Step {
    S(ext)
}

// ----- extensions the message needs ------------------------------------------------------

#[test]
fn dsn_recipient_parameters_need_dsn_on_both_paths() {
    let mut m = msg("a@x.example", &["b@y.example"], b"hi\r\n");
    let mut p = RcptParams::default();
    p.notify = Some(Notify::Never);
    m.to[0].1 = p;
    let r = both_ways(
        config(),
        std::slice::from_ref(&m),
        &[S("220 mx"), ehlo("250-mx\n250 PIPELINING")],
    );
    assert_eq!(
        results(&r),
        [MessageStatus::NotSent(MessageError::DsnNotOffered)]
    );
    assert_eq!(wire(&r), format!("{EHLO}QUIT\\r\\n"));

    let r = both_ways(
        config(),
        &[m],
        &[S("220 mx"), ehlo("250-mx\n250-PIPELINING\n250 DSN")],
    );
    assert!(
        wire(&r).contains("RCPT TO:<b@y.example> NOTIFY=NEVER\\r\\nDATA"),
        "{r:?}"
    );
}

#[test]
fn smtputf8_is_declared_for_a_non_ascii_recipient_on_both_paths() {
    let m = msg("a@x.example", &["\u{e9}l\u{e8}ve@y.example"], b"hi\r\n");
    let r = both_ways(
        config(),
        std::slice::from_ref(&m),
        &[S("220 mx"), ehlo("250-mx\n250-PIPELINING\n250 SMTPUTF8")],
    );
    assert!(
        wire(&r).contains("MAIL FROM:<a@x.example> SMTPUTF8\\r\\n"),
        "{r:?}"
    );
    let r = both_ways(
        config(),
        &[m],
        &[S("220 mx"), ehlo("250-mx\n250 PIPELINING")],
    );
    assert_eq!(
        results(&r),
        [MessageStatus::NotSent(MessageError::SmtpUtf8NotOffered)]
    );
}

#[test]
fn size_is_the_exact_octet_count_on_both_paths() {
    // Bare LF counted as CRLF, the CRLF added to the open last line, no dot-stuffing.
    let m = msg("a@x.example", &["b@y.example"], b"a\n.b\nc");
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250-PIPELINING\n250 SIZE 1000"),
        S("250 ok\n250 ok\n354 go"),
        S("250 queued"),
    ];
    let r = both_ways(config(), &[m], &script);
    assert_eq!(
        r.writes[2],
        "MAIL FROM:<a@x.example> SIZE=10\\r\\nRCPT TO:<b@y.example>\\r\\nDATA\\r\\n"
    );
    assert_eq!(r.writes[3], "a\\r\\n..b\\r\\nc\\r\\n.\\r\\n");
    assert_eq!(results(&r), [MessageStatus::Accepted]);
}

#[test]
fn size_over_the_limit_is_not_sent_on_both_paths() {
    let m = msg("a@x.example", &["b@y.example"], b"0123456789\r\n");
    let r = both_ways(config(), &[m], &[S("220 mx"), ehlo("250-mx\n250 SIZE 11")]);
    assert_eq!(
        results(&r),
        [MessageStatus::NotSent(MessageError::TooLarge {
            size: 12,
            limit: 11
        })]
    );
}

#[test]
fn eight_bit_body_is_declared_8bitmime_on_both_paths() {
    let m = msg("a@x.example", &["b@y.example"], b"caf\xc3\xa9\r\n");
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250-PIPELINING\n250 8BITMIME"),
        S("250 ok\n250 ok\n354 go"),
        S("250 queued"),
    ];
    let r = both_ways(config(), std::slice::from_ref(&m), &script);
    assert!(
        wire(&r).contains("MAIL FROM:<a@x.example> BODY=8BITMIME\\r\\n"),
        "{r:?}"
    );
    assert_eq!(results(&r), [MessageStatus::Accepted]);
    let r = both_ways(
        config(),
        &[m],
        &[S("220 mx"), ehlo("250-mx\n250 PIPELINING")],
    );
    assert_eq!(
        results(&r),
        [MessageStatus::NotSent(MessageError::EightBitMimeNotOffered)]
    );
}

#[test]
fn binarymime_goes_by_bdat_on_both_paths() {
    let mut m = msg("a@x.example", &["b@y.example"], b"\x00\xff\nbinary\r");
    m.params.body = Some(Body::BinaryMime);
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250-PIPELINING\n250-CHUNKING\n250 BINARYMIME"),
        S("250 ok\n250 ok"),
        S("250 queued"),
    ];
    let r = both_ways(config(), std::slice::from_ref(&m), &script);
    // As given: no line-end rewriting, no dot-stuffing.
    assert_eq!(r.writes[3], "BDAT 10 LAST\\r\\n\\x00\\xff\\nbinary\\r");
    assert_eq!(results(&r), [MessageStatus::Accepted]);
    let r = both_ways(
        config(),
        &[m],
        &[S("220 mx"), ehlo("250-mx\n250 BINARYMIME")],
    );
    assert_eq!(
        results(&r),
        [MessageStatus::NotSent(MessageError::BinaryMimeNotOffered)]
    );
}

#[test]
fn requiretls_needs_verified_tls_on_both_paths() {
    let mut m = msg("a@x.example", &["b@y.example"], b"hi\r\n");
    m.params.requiretls = true;
    for verified in [true, false] {
        let mut c = config();
        c.starttls = StartTlsPolicy::Required;
        let script = [
            S("220 mx"),
            ehlo("250-mx\n250 STARTTLS"),
            S("220 go"),
            Tls(verified),
            ehlo("250-mx\n250 REQUIRETLS"),
        ];
        let r = both_ways(c, std::slice::from_ref(&m), &script);
        if verified {
            assert!(
                wire(&r).ends_with("MAIL FROM:<a@x.example> REQUIRETLS\\r\\n"),
                "{r:?}"
            );
        } else {
            assert_eq!(
                results(&r),
                [MessageStatus::NotSent(MessageError::RequireTlsUnverified)]
            );
        }
    }
}

// ----- how the transaction runs -----------------------------------------------------------

#[test]
fn pipelined_group_is_one_write_on_both_paths() {
    let m = msg("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250 PIPELINING"),
        S("250 ok\n550 no\n250 ok\n354 go"),
        S("250 queued"),
    ];
    let r = both_ways(config(), &[m], &script);
    assert_eq!(
        r.writes[2],
        "MAIL FROM:<a@x.example>\\r\\nRCPT TO:<b@y.example>\\r\\nRCPT TO:<c@y.example>\\r\\nDATA\\r\\n"
    );
    assert_eq!(results(&r), [MessageStatus::Accepted]);
}

#[test]
fn lock_step_without_pipelining_on_both_paths() {
    let m = msg("a@x.example", &["b@y.example", "c@y.example"], b"hi");
    let script = [
        S("220 mx"),
        ehlo("250 mx"),
        S("250 ok"),
        S("250 ok"),
        S("251 forwarded"),
        S("354 go"),
        S("250 queued"),
    ];
    let r = both_ways(config(), &[m], &script);
    let want = [
        "",
        EHLO,
        "MAIL FROM:<a@x.example>\\r\\n",
        "RCPT TO:<b@y.example>\\r\\n",
        "RCPT TO:<c@y.example>\\r\\n",
        "DATA\\r\\n",
        "hi\\r\\n.\\r\\n",
        "QUIT\\r\\n",
    ];
    assert_eq!(r.writes, want);
}

#[test]
fn lmtp_per_recipient_outcomes_on_both_paths() {
    let mut c = config();
    c.lmtp = true;
    let m = msg(
        "a@x.example",
        &["b@y.example", "c@y.example", "d@y.example"],
        b"hi\r\n",
    );
    let script = [
        S("220 lmtp"),
        ehlo("250-lmtp\n250 PIPELINING"),
        S("250 ok\n250 ok\n550 no\n250 ok\n354 go"),
        S("250 delivered\n452 full"),
    ];
    let r = both_ways(c, &[m], &script);
    assert!(r.writes[1].starts_with("LHLO client.example"));
    let deliveries = r
        .events
        .iter()
        .filter(|e| matches!(e, Event::DeliveryResult { .. }))
        .count();
    assert_eq!(deliveries, 2);
    assert_eq!(results(&r), [MessageStatus::PartiallyAccepted]);
}

#[test]
fn bdat_chunks_with_crlf_line_ends_on_both_paths() {
    let mut c = config();
    c.use_chunking = true;
    c.bdat_chunk_size = 4;
    let m = msg("a@x.example", &["b@y.example"], b"abc\n.efg\r\n");
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250-PIPELINING\n250 CHUNKING"),
        S("250 ok\n250 ok"),
        S("250 ok\n250 ok\n250 queued"),
    ];
    let r = both_ways(c, &[m], &script);
    assert_eq!(
        r.writes[3],
        "BDAT 4\\r\\nabc\\rBDAT 4\\r\\n\\n.efBDAT 3 LAST\\r\\ng\\r\\n"
    );
    assert_eq!(results(&r), [MessageStatus::Accepted]);
}

#[test]
fn chunking_offered_but_not_chosen_uses_data_on_both_paths() {
    let m = msg("a@x.example", &["b@y.example"], b".hi\r\n");
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250-PIPELINING\n250 CHUNKING"),
        S("250 ok\n250 ok\n354 go"),
        S("250 queued"),
    ];
    let r = both_ways(config(), &[m], &script);
    assert_eq!(r.writes[3], "..hi\\r\\n.\\r\\n");
}

#[test]
fn line_over_998_octets_is_not_sent_on_both_paths() {
    let mut body = b"Subject: x\r\n\r\n".to_vec();
    body.extend_from_slice(&[b'y'; 999]);
    let body: &'static [u8] = body.leak();
    let m = msg("a@x.example", &["b@y.example"], body);
    let r = both_ways(
        config(),
        &[m],
        &[S("220 mx"), ehlo("250-mx\n250 PIPELINING")],
    );
    assert_eq!(
        results(&r),
        [MessageStatus::NotSent(MessageError::LineTooLong {
            line: 3
        })]
    );
    assert_eq!(wire(&r), format!("{EHLO}QUIT\\r\\n"));
}

#[test]
fn rset_between_messages_after_refused_recipients_on_both_paths() {
    let msgs = [
        msg("a@x.example", &["b@y.example"], b"one\r\n"),
        msg("a@x.example", &["c@y.example"], b"two\r\n"),
    ];
    let script = [
        S("220 mx"),
        ehlo("250 mx"),
        S("250 ok"),
        S("550 no such user"),
        S("250 reset"),
        S("250 ok"),
        S("250 ok"),
        S("354 go"),
        S("250 queued"),
    ];
    let r = both_ways(config(), &msgs, &script);
    assert_eq!(r.writes[4], "RSET\\r\\n");
    assert_eq!(r.writes[5], "MAIL FROM:<a@x.example>\\r\\n");
    assert_eq!(
        results(&r),
        [MessageStatus::NoValidRecipients, MessageStatus::Accepted]
    );
}

#[test]
fn several_queued_messages_on_both_paths() {
    let msgs = [
        msg("a@x.example", &["b@y.example"], b"one\r\n"),
        msg("a@x.example", &["c@y.example"], b"two\r\n"),
        msg("a@x.example", &["d@y.example"], b"three\r\n"),
    ];
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250 PIPELINING"),
        S("250 ok\n250 ok\n354 go"),
        S("250 queued"),
        S("250 ok\n250 ok\n354 go"),
        S("550 content refused"),
        S("250 ok\n250 ok\n354 go"),
        S("250 queued"),
        S("221 bye"),
    ];
    let r = both_ways(config(), &msgs, &script);
    assert_eq!(
        results(&r),
        [
            MessageStatus::Accepted,
            MessageStatus::Rejected,
            MessageStatus::Accepted
        ]
    );
    assert!(wire(&r).ends_with("three\\r\\n.\\r\\nQUIT\\r\\n"));
}

#[test]
fn mail_refused_in_a_pipelined_group_is_drained_without_rset_on_both_paths() {
    let msgs = [
        msg("a@x.example", &["b@y.example"], b"one\r\n"),
        msg("c@x.example", &["b@y.example"], b"two\r\n"),
    ];
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250 PIPELINING"),
        S("550 5.7.1 sender refused\n503 5.5.1 need MAIL\n503 5.5.1 need RCPT"),
    ];
    let r = both_ways(config(), &msgs, &script);
    assert_eq!(
        r.writes[3],
        "MAIL FROM:<c@x.example>\\r\\nRCPT TO:<b@y.example>\\r\\nDATA\\r\\n"
    );
    assert_eq!(results(&r), [MessageStatus::Rejected]);
}

#[test]
fn rfc2920_recovery_sends_an_empty_message_on_both_paths() {
    let m = msg("a@x.example", &["b@y.example"], b"must not be sent\r\n");
    let script = [
        S("220 mx"),
        ehlo("250-mx\n250 PIPELINING"),
        S("250 ok\n550 no\n354 go ahead anyway"),
        S("554 no valid recipients"),
    ];
    let r = both_ways(config(), &[m], &script);
    assert_eq!(r.writes[3], ".\\r\\n");
    assert_eq!(results(&r), [MessageStatus::NoValidRecipients]);
}

/// The drift that made the two engines one: a streamed recipient with `NOTIFY=` added
/// after MAIL went to a server without DSN ends the transaction as a whole message with
/// it would (RFC 3461 4), with RSET, instead of reaching the server.
#[test]
fn dsn_recipient_added_after_mail_ends_the_transaction_not_sent() {
    let now = Instant::now();
    let mut c = Client::new(config(), now);
    c.handle_input(now, b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    let id = c
        .start_transaction(now, rp("a@x.example"), MailParams::default())
        .unwrap();
    let mut p = RcptParams::default();
    p.notify = Some(Notify::Never);
    c.add_recipient(now, id, fp("b@y.example"), p).unwrap();
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        out.extend_from_slice(&b);
    }
    assert_eq!(out, b"EHLO client.example\r\nMAIL FROM:<a@x.example>\r\n");
    c.handle_input(now, b"250 ok\r\n");
    while let Some(b) = c.poll_transmit() {
        out.extend_from_slice(&b);
    }
    assert!(out.ends_with(b"MAIL FROM:<a@x.example>\r\nRSET\r\n"));
    let events: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::MessageResult {
            status: MessageStatus::NotSent(MessageError::DsnNotOffered),
            ..
        }
    )));
}
