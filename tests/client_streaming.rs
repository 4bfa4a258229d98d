//! Client transcripts for streamed transactions (`start_transaction`, `add_recipient`,
//! `body_chunk`, `body_end`, `abort_transaction`): scripted server replies in, exact
//! client bytes and events out, no sockets.

use std::time::Instant;

use bytes::Bytes;
use smtp_sansio::client::{
    Client, ClientConfig, CloseReason, Envelope, Event, MessageError, MessageId, MessageStatus,
    StartTlsPolicy, UsageErrorKind,
};
use smtp_sansio::types::{
    Body, Domain, ForwardPath, Host, MailParams, Mailbox, RcptParams, ReplyCode, ReversePath,
};

fn config() -> ClientConfig {
    let mut c = ClientConfig::new(Host::Domain(Domain::new("relay.example").unwrap()));
    c.starttls = StartTlsPolicy::Never;
    c
}

fn rp(s: &str) -> ReversePath<'static> {
    if s == "<>" {
        return ReversePath::Null;
    }
    ReversePath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

fn fp(s: &str) -> ForwardPath<'static> {
    ForwardPath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

struct H {
    c: Client,
    now: Instant,
    events: Vec<Event>,
    out: Vec<u8>,
}

impl H {
    fn new(config: ClientConfig) -> Self {
        let now = Instant::now();
        Self {
            c: Client::new(config, now),
            now,
            events: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Greeting and EHLO with these extension lines.
    fn ready(config: ClientConfig, ext: &[&str]) -> Self {
        let mut h = Self::new(config);
        h.feed("220 mx.example ESMTP");
        let mut ehlo = String::from("250");
        ehlo.push(if ext.is_empty() { ' ' } else { '-' });
        ehlo.push_str("mx.example");
        for (i, e) in ext.iter().enumerate() {
            let sep = if i + 1 == ext.len() { ' ' } else { '-' };
            ehlo.push_str(&format!("\r\n250{sep}{e}"));
        }
        h.expect_out("EHLO relay.example\r\n");
        h.feed(&ehlo);
        assert!(h.events.iter().any(|e| matches!(e, Event::Ready)));
        h.events.clear();
        h
    }

    fn drain(&mut self) {
        while let Some(e) = self.c.poll_event() {
            self.events.push(e);
        }
        while let Some(b) = self.c.poll_transmit() {
            self.out.extend_from_slice(&b);
        }
    }

    /// Feeds reply lines (joined with CRLF).
    fn feed(&mut self, lines: &str) {
        let mut bytes = lines.replace("\r\n", "\n").replace('\n', "\r\n");
        bytes.push_str("\r\n");
        self.c.handle_input(self.now, bytes.as_bytes());
        self.drain();
    }

    fn expect_out(&mut self, want: &str) {
        self.drain();
        let got = std::mem::take(&mut self.out);
        assert_eq!(
            got.escape_ascii().to_string(),
            want.as_bytes().escape_ascii().to_string()
        );
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.drain();
        std::mem::take(&mut self.events)
    }

    fn start(&mut self, from: &str, params: MailParams<'static>) -> MessageId {
        let id = self
            .c
            .start_transaction(self.now, rp(from), params)
            .unwrap();
        self.drain();
        id
    }

    fn rcpt(&mut self, id: MessageId, to: &str) {
        self.c
            .add_recipient(self.now, id, fp(to), RcptParams::default())
            .unwrap();
        self.drain();
    }

    fn chunk(&mut self, id: MessageId, b: &[u8]) {
        self.c.body_chunk(self.now, id, b).unwrap();
        self.drain();
    }

    fn end(&mut self, id: MessageId) {
        self.c.body_end(self.now, id).unwrap();
        self.drain();
    }
}

fn params(f: impl FnOnce(&mut MailParams<'static>)) -> MailParams<'static> {
    let mut p = MailParams::default();
    f(&mut p);
    p
}

fn result_of(events: &[Event]) -> Option<(MessageStatus, Option<u16>)> {
    events.iter().find_map(|e| match e {
        Event::MessageResult { status, reply, .. } => {
            Some((status.clone(), reply.as_ref().map(|r| r.code().get())))
        }
        _ => None,
    })
}

fn rcpt_codes(events: &[Event]) -> Vec<(String, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RecipientResult {
                recipient, reply, ..
            } => Some((recipient.to_string(), reply.code().get())),
            _ => None,
        })
        .collect()
}

#[test]
fn pipelined_data_streams_and_stuffs_across_chunks() {
    let mut h = H::ready(config(), &["PIPELINING", "8BITMIME"]);
    let id = h.start("a@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
    h.rcpt(id, "b@example.net");
    h.rcpt(id, "c@example.net");
    h.expect_out("RCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\n");
    h.feed("250 2.1.0 OK\n550 5.1.1 no such user\n250 2.1.5 OK");
    let ev = h.take_events();
    assert!(matches!(&ev[0], Event::MailResult { reply, .. } if reply.code() == ReplyCode::OK));
    assert_eq!(
        rcpt_codes(&ev),
        [
            ("<b@example.net>".into(), 550),
            ("<c@example.net>".into(), 250)
        ]
    );
    // Chunks before the 354 are held; DATA goes with the first.
    h.chunk(id, b"Subject: x\r\n\r\nline\r");
    h.expect_out("DATA\r\n");
    h.chunk(id, b"\n.dot");
    assert!(h.c.pending_output() > 0);
    h.expect_out("");
    h.feed("354 go on");
    assert!(matches!(h.take_events()[..], [Event::DataReady { .. }]));
    h.expect_out("Subject: x\r\n\r\nline\r\n..dot");
    h.chunk(id, b" line\r\n.");
    h.expect_out(" line\r\n..");
    h.end(id);
    h.expect_out("\r\n.\r\n");
    h.feed("250 2.0.0 queued as 1");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
    // The same connection carries the next transaction.
    let id2 = h.start("<>", MailParams::default());
    assert_ne!(id, id2);
    h.expect_out("MAIL FROM:<>\r\n");
}

#[test]
fn lock_step_without_pipelining() {
    let mut h = H::ready(config(), &["8BITMIME"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.rcpt(id, "c@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
    h.feed("250 OK");
    h.expect_out("RCPT TO:<b@example.net>\r\n");
    h.chunk(id, b"body\r\n");
    h.expect_out("");
    h.feed("250 OK");
    h.expect_out("RCPT TO:<c@example.net>\r\n");
    h.feed("251 will forward");
    h.expect_out("DATA\r\n");
    h.end(id);
    h.feed("354 go");
    h.expect_out("body\r\n.\r\n");
    h.feed("250 OK");
    let ev = h.take_events();
    assert_eq!(result_of(&ev), Some((MessageStatus::Accepted, Some(250))));
}

#[test]
fn transaction_waits_for_the_session() {
    let mut h = H::new(config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("");
    h.feed("220 mx ESMTP");
    h.expect_out("EHLO relay.example\r\n");
    h.feed("250-mx\n250 PIPELINING");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
}

#[test]
fn all_recipients_refused_no_body_then_rset() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n550 5.1.1 unknown");
    h.chunk(id, b"never sent\r\n");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRSET\r\n");
    let ev = h.take_events();
    assert_eq!(
        result_of(&ev),
        Some((MessageStatus::NoValidRecipients, Some(550)))
    );
    assert_eq!(
        h.c.body_chunk(h.now, id, b"x"),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn mail_refused_reports_mail_result_then_message_result() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("452 4.3.1 try later\n503 5.5.1 need MAIL");
    let ev = h.take_events();
    assert!(matches!(&ev[0], Event::MailResult { reply, .. } if reply.code().get() == 452));
    assert_eq!(result_of(&ev), Some((MessageStatus::Rejected, Some(452))));
    assert!(
        h.c.start_transaction(h.now, rp("a@example.org"), MailParams::default())
            .is_ok()
    );
}

#[test]
fn bdat_when_chunking_is_used() {
    let mut cfg = config();
    cfg.use_chunking = true;
    let mut h = H::ready(cfg, &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.take_events();
    h.chunk(id, b"Subject: a\r\n\r\n");
    assert!(matches!(h.take_events()[..], [Event::DataReady { .. }]));
    h.chunk(id, b".x\r\n");
    h.end(id);
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n\
         BDAT 14\r\nSubject: a\r\n\r\nBDAT 4\r\n.x\r\nBDAT 0 LAST\r\n",
    );
    h.feed("250 2.0.0 14 octets\n250 2.0.0 4 octets\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn missing_extensions_refuse_before_mail() {
    let cases: Vec<(MailParams<'static>, &str, MessageError)> = vec![
        (
            params(|p| p.smtputf8 = true),
            "a@example.org",
            MessageError::SmtpUtf8NotOffered,
        ),
        (
            MailParams::default(),
            "j\u{f6}rg@example.org",
            MessageError::SmtpUtf8NotOffered,
        ),
        (
            params(|p| p.body = Some(Body::EightBitMime)),
            "a@example.org",
            MessageError::EightBitMimeNotOffered,
        ),
        (
            params(|p| p.size = Some(2000)),
            "a@example.org",
            MessageError::TooLarge {
                size: 2000,
                limit: 1000,
            },
        ),
    ];
    for (params, from, err) in cases {
        let mut h = H::ready(config(), &["PIPELINING", "SIZE 1000"]);
        let id = h.c.start_transaction(h.now, rp(from), params).unwrap();
        h.expect_out("");
        let ev = h.take_events();
        assert!(
            matches!(&ev[..], [Event::MessageResult { message, status: MessageStatus::NotSent(e), reply: None }] if *message == id && *e == err),
            "{ev:?}"
        );
    }
}

#[test]
fn size_kept_under_limit_and_dropped_without_extension() {
    let params = params(|p| {
        p.size = Some(10);
        p.body = Some(Body::SevenBit);
    });
    let mut h = H::ready(config(), &["SIZE 1000"]);
    h.start("a@example.org", params.clone());
    h.expect_out("MAIL FROM:<a@example.org> SIZE=10\r\n");
    let mut h = H::ready(config(), &[]);
    h.start("a@example.org", params);
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn abort_before_body_sends_rset_and_session_goes_on() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.c.abort_transaction(h.now, id).unwrap();
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.feed("250 OK\n250 OK");
    h.expect_out("RSET\r\n");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Aborted, None))
    );
    h.feed("250 OK");
    h.start("a@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn abort_inside_data_closes_the_connection() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, b"partial");
    h.feed("354 go");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\npartial");
    h.take_events();
    // Not yet written when the abort comes: it never goes out.
    h.c.body_chunk(h.now, id, b" more").unwrap();
    h.c.abort_transaction(h.now, id).unwrap();
    h.expect_out("");
    let ev = h.take_events();
    assert_eq!(result_of(&ev), Some((MessageStatus::Aborted, None)));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::Aborted
        }
    )));
    assert!(h.c.is_closed());
}

#[test]
fn service_closing_mid_transaction_aborts_it() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n421 4.3.2 shutting down");
    let ev = h.take_events();
    assert_eq!(result_of(&ev), Some((MessageStatus::Aborted, None)));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::ServiceUnavailable(r)
        } if r.code().get() == 421
    )));
    assert_eq!(
        h.c.body_end(h.now, id),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn one_open_transaction_at_a_time_and_order_is_checked() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    assert_eq!(
        h.c.start_transaction(h.now, rp("a@example.org"), MailParams::default())
            .map_err(|e| e.kind),
        Err(UsageErrorKind::TransactionOpen)
    );
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"x");
    assert_eq!(
        h.c.add_recipient(h.now, id, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::OutOfOrder.into())
    );
    h.end(id);
    assert_eq!(
        h.c.body_end(h.now, id),
        Err(UsageErrorKind::OutOfOrder.into())
    );
}

#[test]
fn whole_messages_and_streams_share_a_session() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    h.c.send_message(h.now, env, Bytes::from_static(b"whole\r\n"))
        .unwrap();
    let id = h.start("s@example.org", MailParams::default());
    h.rcpt(id, "t@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
    h.feed("250 OK\n250 OK\n354 go");
    h.expect_out("whole\r\n.\r\n");
    h.feed("250 OK");
    h.expect_out("MAIL FROM:<s@example.org>\r\nRCPT TO:<t@example.net>\r\n");
    h.feed("250 OK\n250 OK");
    h.end(id);
    h.expect_out("DATA\r\n");
    h.feed("354 go");
    h.expect_out(".\r\n");
    h.feed("250 OK");
    let ev = h.take_events();
    let results = ev
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::MessageResult {
                    status: MessageStatus::Accepted,
                    ..
                }
            )
        })
        .count();
    assert_eq!(results, 2);
    h.c.quit(h.now);
    h.expect_out("QUIT\r\n");
}

#[test]
fn whole_message_queued_behind_a_running_stream_waits_for_it() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("s@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<s@example.org>\r\n");
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    h.c.send_message(h.now, env, Bytes::from_static(b"whole\r\n"))
        .unwrap();
    // The stream's MAIL is out: it owns the session until its outcome.
    h.rcpt(id, "t@example.net");
    h.expect_out("RCPT TO:<t@example.net>\r\n");
    h.feed("250 OK\n250 OK");
    h.end(id);
    h.expect_out("DATA\r\n");
    h.feed("354 go");
    h.expect_out(".\r\n");
    h.feed("250 OK");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
}

/// The MAIL line a streamed transaction with these parameters sends to a server
/// offering `ext`, or the reason it is refused before MAIL.
fn plan(ext: &[&str], params: MailParams<'static>) -> Result<String, MessageError> {
    let mut h = H::ready(config(), ext);
    h.start("a@example.org", params);
    h.drain();
    match result_of(&h.events) {
        Some((MessageStatus::NotSent(e), None)) => Err(e),
        other => {
            assert_eq!(other, None);
            Ok(String::from_utf8(std::mem::take(&mut h.out)).unwrap())
        }
    }
}

#[test]
fn stream_parameters_follow_the_offered_extensions() {
    let mail = |tail: &str| Ok(format!("MAIL FROM:<a@example.org>{tail}\r\n"));
    let binary = || params(|p| p.body = Some(Body::BinaryMime));
    assert_eq!(
        plan(&["CHUNKING", "BINARYMIME"], binary()),
        mail(" BODY=BINARYMIME")
    );
    for ext in [&["CHUNKING"][..], &["BINARYMIME"], &[]] {
        assert_eq!(plan(ext, binary()), Err(MessageError::BinaryMimeNotOffered));
    }
    let eight = params(|p| p.body = Some(Body::EightBitMime));
    assert_eq!(plan(&["8BITMIME"], eight), mail(" BODY=8BITMIME"));
    let seven = params(|p| p.body = Some(Body::SevenBit));
    assert_eq!(plan(&["8BITMIME"], seven), mail(" BODY=7BIT"));
    for dsn in [
        params(|p| p.ret = Some(smtp_sansio::types::Ret::Hdrs)),
        params(|p| p.envid = Some(smtp_sansio::types::XText::new("x1").unwrap())),
    ] {
        assert_eq!(plan(&[], dsn.clone()), Err(MessageError::DsnNotOffered));
        assert!(plan(&["DSN"], dsn).is_ok());
    }
    // REQUIRETLS is offered, but this session is not encrypted.
    let tls = params(|p| p.requiretls = true);
    assert_eq!(
        plan(&["REQUIRETLS"], tls),
        Err(MessageError::RequireTlsUnavailable)
    );
    let size = params(|p| p.size = Some(1000));
    assert_eq!(plan(&["SIZE 1000"], size), mail(" SIZE=1000"));
}

#[test]
fn chunking_offered_but_not_chosen_streams_with_data() {
    let mut h = H::ready(config(), &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.end(id);
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
}

#[test]
fn no_new_transaction_once_quit_is_asked() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    h.c.send_message(h.now, env, Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.c.quit(h.now);
    assert_eq!(
        h.c.start_transaction(h.now, rp("a@example.org"), MailParams::default())
            .map_err(|e| e.kind),
        Err(UsageErrorKind::Closed)
    );
}

#[test]
fn recipients_refused_once_the_body_flows() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, b"x");
    h.feed("354 go");
    h.chunk(id, b"y");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nxy");
    assert_eq!(
        h.c.add_recipient(h.now, id, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::OutOfOrder.into())
    );
}

#[test]
fn recipients_refused_after_body_end() {
    let mut c = config();
    c.use_pipelining = false;
    let mut h = H::ready(c, &[]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.end(id);
    assert_eq!(
        h.c.add_recipient(h.now, id, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::OutOfOrder.into())
    );
}

#[test]
fn body_after_the_outcome_is_dropped_not_held() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    // MAIL refused; the RCPT reply is still due, so the transaction is not over yet.
    h.feed("550 5.7.1 no");
    h.chunk(id, b"never held");
    assert_eq!(h.c.pending_output(), 0);
    h.feed("503 5.5.1 need MAIL");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Rejected, Some(550)))
    );
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
}

#[test]
fn abort_after_mail_refused_needs_no_rset() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.feed("550 5.7.1 no");
    h.c.abort_transaction(h.now, id).unwrap();
    h.feed("503 5.5.1 need MAIL");
    // No transaction was ever open on the server: nothing to reset.
    h.expect_out("");
    h.start("c@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<c@example.org>\r\n");
}

#[test]
fn abort_after_body_end_still_reports_the_outcome() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.end(id);
    h.feed("354 go");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n.\r\n");
    h.c.abort_transaction(h.now, id).unwrap();
    assert!(!h.c.is_closed());
    h.feed("250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn pending_output_counts_held_body() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    // DATA is written with the first body bytes; they wait for the 354.
    h.c.body_chunk(h.now, id, b"12345").unwrap();
    assert_eq!(h.c.pending_output(), "DATA\r\n".len() + 5);
    h.expect_out("DATA\r\n");
    assert_eq!(h.c.pending_output(), 5);
    h.feed("250 OK\n250 OK\n354 go");
    h.expect_out("12345");
    assert_eq!(h.c.pending_output(), 0);
}

#[test]
fn another_message_id_is_not_the_stream() {
    let mut h = H::new(config());
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    let whole =
        h.c.send_message(h.now, env, Bytes::from_static(b"x\r\n"))
            .unwrap();
    h.start("s@example.org", MailParams::default());
    assert_eq!(
        h.c.add_recipient(h.now, whole, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn stream_started_during_the_tls_handshake_waits_for_the_new_ehlo() {
    let mut c = config();
    c.starttls = smtp_sansio::client::StartTlsPolicy::Required;
    let mut h = H::new(c);
    h.feed("220 mx");
    h.feed("250-mx\n250 STARTTLS");
    h.feed("220 go");
    h.expect_out("EHLO relay.example\r\nSTARTTLS\r\n");
    h.start("a@example.org", MailParams::default());
    h.expect_out("");
    h.c.tls_established(h.now).unwrap();
    h.expect_out("EHLO relay.example\r\n");
    h.feed("250 mx");
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn bdat_stops_after_a_refused_chunk() {
    let mut cfg = config();
    cfg.use_chunking = true;
    let mut h = H::ready(cfg, &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, b"abc\r\n");
    h.chunk(id, b"def\r\n");
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n\
         BDAT 5\r\nabc\r\nBDAT 5\r\ndef\r\n",
    );
    h.feed("552 5.3.4 too big");
    // The second chunk's reply is still due; nothing more may follow the refusal.
    h.end(id);
    h.expect_out("");
    h.feed("503 5.5.1 out of sequence");
    // RSET puts both sides back in step.
    h.expect_out("RSET\r\n");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Rejected, Some(552)))
    );
}

#[test]
fn rfc2920_recovery_in_a_stream_sends_no_body() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"secret\r\n");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
    h.feed("250 OK\n550 no such user\n354 go ahead anyway");
    // An empty message ends the DATA the server should have refused.
    h.expect_out(".\r\n");
    h.feed("554 no valid recipients");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::NoValidRecipients, Some(550)))
    );
}

/// LMTP with BDAT: a streamed message to two recipients, two chunks, and the
/// delivery replies `b` and `c`.
fn lmtp_bdat_outcome(b: &str, c: &str) -> Option<(MessageStatus, Option<u16>)> {
    let mut cfg = config();
    cfg.lmtp = true;
    cfg.use_chunking = true;
    let mut h = H::new(cfg);
    h.feed("220 lmtp");
    h.feed("250-lmtp\n250-PIPELINING\n250 CHUNKING");
    h.expect_out("LHLO relay.example\r\n");
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.rcpt(id, "c@example.net");
    h.feed("250 OK\n250 OK\n250 OK");
    h.chunk(id, b"one\r\n");
    h.feed("250 chunk");
    h.end(id);
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\n\
         BDAT 5\r\none\r\nBDAT 0 LAST\r\n",
    );
    h.take_events();
    h.feed(b);
    let first = h.take_events();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(matches!(first[0], Event::DeliveryResult { .. }));
    h.feed(c);
    result_of(&h.take_events())
}

#[test]
fn lmtp_bdat_outcome_counts_every_delivery_reply() {
    assert_eq!(
        lmtp_bdat_outcome("250 ok", "250 ok"),
        Some((MessageStatus::Accepted, None))
    );
    assert_eq!(
        lmtp_bdat_outcome("550 no", "452 full"),
        Some((MessageStatus::Rejected, None))
    );
    assert_eq!(
        lmtp_bdat_outcome("452 full", "250 ok"),
        Some((MessageStatus::PartiallyAccepted, None))
    );
}

#[test]
fn courtesy_quit_survives_a_malformed_reply_mid_stream() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.feed("2x0 garbage");
    h.expect_out("QUIT\r\n");
    assert!(h.c.is_closed());
}

#[test]
fn connection_lost_inside_data_drops_the_unsent_body() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, b"x");
    h.feed("354 go");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nx");
    h.c.body_chunk(h.now, id, b"not yet written").unwrap();
    h.c.handle_eof(h.now);
    assert_eq!(h.c.pending_output(), 0);
    h.expect_out("");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Aborted, None))
    );
}

/// RFC 6531 3.4: a streamed transaction from a non-ASCII sender opens with SMTPUTF8, as
/// a whole message does; without SMTPUTF8 offered it is not sent at all.
#[test]
fn non_ascii_sender_stream_opens_with_smtputf8() {
    let mut h = H::ready(config(), &["PIPELINING", "SMTPUTF8"]);
    let id = h.start("j\u{f6}rg@b\u{fc}cher.example", MailParams::default());
    h.expect_out("MAIL FROM:<j\u{f6}rg@b\u{fc}cher.example> SMTPUTF8\r\n");
    h.rcpt(id, "b@example.net");
    h.expect_out("RCPT TO:<b@example.net>\r\n");

    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("j\u{f6}rg@b\u{fc}cher.example", MailParams::default());
    h.expect_out("");
    let ev = h.take_events();
    assert!(
        ev.iter().any(|e| matches!(e, Event::MessageResult { message, status: MessageStatus::NotSent(MessageError::SmtpUtf8NotOffered), .. } if *message == id)),
        "{ev:?}"
    );
}

/// A non-ASCII recipient added before MAIL goes out puts SMTPUTF8 on MAIL; once MAIL has
/// gone without it, such a recipient is refused locally, never sent (RFC 6531 3.4).
#[test]
fn non_ascii_recipient_in_a_stream_needs_smtputf8_on_mail() {
    // MAIL waits for the session, so the recipient is known in time.
    let mut h = H::new(config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "\u{7528}\u{6237}@\u{4f8b}\u{5b50}.example");
    h.feed("220 mx ESMTP");
    h.expect_out("EHLO relay.example\r\n");
    h.feed("250-mx\n250-SMTPUTF8\n250 PIPELINING");
    h.expect_out(
        "MAIL FROM:<a@example.org> SMTPUTF8\r\nRCPT TO:<\u{7528}\u{6237}@\u{4f8b}\u{5b50}.example>\r\n",
    );

    // MAIL already out without SMTPUTF8: the recipient is refused, the rest goes on.
    let mut h = H::ready(config(), &["PIPELINING", "SMTPUTF8"]);
    let id = h.start("a@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
    let r = h.c.add_recipient(
        h.now,
        id,
        fp("\u{e9}l\u{e8}ve@example.net"),
        RcptParams::default(),
    );
    assert_eq!(r, Err(UsageErrorKind::NeedsSmtpUtf8.into()));
    h.rcpt(id, "b@example.net");
    h.expect_out("RCPT TO:<b@example.net>\r\n");

    // Asked for up front, SMTPUTF8 lets such recipients follow at any time.
    let mut h = H::ready(config(), &["PIPELINING", "SMTPUTF8"]);
    let id = h.start("a@example.org", params(|p| p.smtputf8 = true));
    h.expect_out("MAIL FROM:<a@example.org> SMTPUTF8\r\n");
    h.rcpt(id, "\u{e9}l\u{e8}ve@example.net");
    h.expect_out("RCPT TO:<\u{e9}l\u{e8}ve@example.net>\r\n");
}

// ----- what the client refuses to send, streamed (the same rules as whole messages) -----

fn closed_aborted(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            Event::Closed {
                reason: CloseReason::Aborted
            }
        )
    })
}

fn not_sent(e: MessageError) -> Option<(MessageStatus, Option<u16>)> {
    Some((MessageStatus::NotSent(e), None))
}

#[test]
fn stream_size_is_the_callers_estimate_never_made_up() {
    let mut h = H::ready(config(), &["PIPELINING", "SIZE 100000"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.feed("250 OK\n250 OK");
    h.chunk(id, b"a\nb\n");
    h.end(id);
    h.feed("354 go");
    h.expect_out("DATA\r\na\r\nb\r\n.\r\n");
    let mut h = H::ready(config(), &["PIPELINING", "SIZE 100000"]);
    h.start("a@example.org", params(|p| p.size = Some(4096)));
    h.expect_out("MAIL FROM:<a@example.org> SIZE=4096\r\n");
}

#[test]
fn stream_line_over_998_octets_before_mail_is_not_sent() {
    let mut h = H::new(config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"Subject: x\r\n\r\n");
    h.chunk(id, &[b'y'; 999]);
    h.feed("220 mx");
    h.feed("250-mx\n250 PIPELINING");
    // MAIL never goes.
    h.expect_out("EHLO relay.example\r\n");
    let long = MessageError::LineTooLong { line: 3 };
    assert_eq!(result_of(&h.take_events()), not_sent(long));
    assert!(!h.c.is_closed());
}

#[test]
fn stream_line_over_998_octets_inside_data_closes_the_connection() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"Subject: x\r\n\r\n");
    h.feed("250 OK\n250 OK\n354 go");
    h.chunk(id, &[b'y'; 600]);
    let mut want = String::from(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\n",
    );
    want.push_str(&"y".repeat(600));
    h.expect_out(&want);
    h.take_events();
    // The line goes over 998 octets only in the next piece: none of it goes out, and
    // there is no end of data, so the server can never take the partial message.
    h.chunk(id, &[b'y'; 399]);
    h.expect_out("");
    let ev = h.take_events();
    let long = MessageError::LineTooLong { line: 3 };
    assert_eq!(result_of(&ev), not_sent(long));
    assert!(closed_aborted(&ev), "{ev:?}");
    assert_eq!(
        h.c.body_end(h.now, id),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn stream_line_of_998_octets_goes() {
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, &[b'y'; 500]);
    h.chunk(id, &[b'y'; 498]);
    h.chunk(id, b"\r\n");
    h.end(id);
    h.feed("354 go\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn stream_line_over_998_octets_under_bdat_sends_rset() {
    let mut cfg = config();
    cfg.use_chunking = true;
    let mut h = H::ready(cfg, &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, b"abc\r\n");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5\r\nabc\r\n");
    h.chunk(id, &[b'z'; 1000]);
    h.expect_out("");
    // The chunk's reply is due first; then RSET discards what the server holds.
    h.feed("250 2.0.0 5 octets");
    h.expect_out("RSET\r\n");
    let long = MessageError::LineTooLong { line: 2 };
    assert_eq!(result_of(&h.take_events()), not_sent(long));
    h.feed("250 OK");
    assert!(!h.c.is_closed());
}

#[test]
fn stream_binarymime_is_exempt_from_the_line_limit() {
    let mut h = H::ready(config(), &["PIPELINING", "CHUNKING", "BINARYMIME"]);
    let id = h.start("a@example.org", params(|p| p.body = Some(Body::BinaryMime)));
    h.rcpt(id, "b@example.net");
    h.feed("250 OK\n250 OK");
    h.chunk(id, &[0xFF; 2000]);
    h.end(id);
    h.feed("250 2.0.0 2000 octets\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn stream_session_with_a_u_label_hello_name_sends_no_ehlo() {
    let mut cfg = config();
    cfg.hello_host = Host::Domain(Domain::new("bücher.example").unwrap());
    let mut h = H::new(cfg);
    h.start("a@example.org", MailParams::default());
    h.feed("220 mx");
    h.expect_out("QUIT\r\n");
    let ev = h.take_events();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Error(smtp_sansio::client::ClientError::HelloNameNotAscii)
    )));
    assert_eq!(result_of(&ev), Some((MessageStatus::Aborted, None)));
}

#[test]
fn stream_undeclared_8bit_to_a_server_without_8bitmime_is_cancelled() {
    // Inside DATA: the connection is dropped before the 8-bit line goes.
    let mut h = H::ready(config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"Subject: x\r\n\r\n");
    h.feed("250 OK\n250 OK\n354 go");
    h.take_events();
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\n",
    );
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.expect_out("");
    let ev = h.take_events();
    assert_eq!(
        result_of(&ev),
        not_sent(MessageError::EightBitMimeNotOffered)
    );
    assert!(closed_aborted(&ev), "{ev:?}");
    // Handed over before MAIL: MAIL never goes.
    let mut h = H::new(config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.feed("220 mx");
    h.feed("250 mx");
    h.expect_out("EHLO relay.example\r\n");
    let ev = h.take_events();
    assert_eq!(
        result_of(&ev),
        not_sent(MessageError::EightBitMimeNotOffered)
    );
}

#[test]
fn stream_8bit_content_goes_to_an_8bitmime_server() {
    // Declared up front, as it should be...
    let mut h = H::ready(config(), &["PIPELINING", "8BITMIME"]);
    let id = h.start(
        "a@example.org",
        params(|p| p.body = Some(Body::EightBitMime)),
    );
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.end(id);
    h.feed("250 OK\n250 OK\n354 go\n250 2.0.0 queued");
    h.expect_out(
        "MAIL FROM:<a@example.org> BODY=8BITMIME\r\nRCPT TO:<b@example.net>\r\nDATA\r\ncaf\u{e9}\r\n.\r\n",
    );
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
    // ...or not: the server said it carries 8-bit data, so nothing is cancelled.
    let mut h = H::ready(config(), &["PIPELINING", "8BITMIME"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.end(id);
    h.feed("250 OK\n250 OK\n354 go\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn stream_requiretls_is_only_sent_over_verified_tls() {
    for verified in [false, true] {
        let mut cfg = config();
        cfg.starttls = StartTlsPolicy::Required;
        let mut h = H::new(cfg);
        h.start("a@example.org", params(|p| p.requiretls = true));
        h.feed("220 mx");
        h.feed("250-mx\n250 STARTTLS");
        h.feed("220 go");
        h.expect_out("EHLO relay.example\r\nSTARTTLS\r\n");
        if verified {
            h.c.tls_established_verified(h.now).unwrap();
        } else {
            h.c.tls_established(h.now).unwrap();
        }
        h.feed("250-mx\n250 REQUIRETLS");
        if verified {
            h.expect_out("EHLO relay.example\r\nMAIL FROM:<a@example.org> REQUIRETLS\r\n");
        } else {
            h.expect_out("EHLO relay.example\r\n");
            let ev = h.take_events();
            assert_eq!(result_of(&ev), not_sent(MessageError::RequireTlsUnverified));
        }
    }
}
