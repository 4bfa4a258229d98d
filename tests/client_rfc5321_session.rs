//! Client transcripts for the session: greeting, EHLO/HELO, reply framing, closing,
//! timeouts and misuse (RFC 5321 3.1, 4.1.1.1, 4.2, 4.5.3.2): scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::client::{EHLO_PIPE, Harness, config, envelope, plaintext_ok, rp};
use common::esc;
use proptest::prelude::*;
use smtp_sansio::client::{
    AuthConfig, ClientError, CloseReason, Envelope, Event, MessageStatus, StartTlsPolicy,
    UsageErrorKind,
};
use smtp_sansio::types::MailParams;

// ----- greeting and hello -----------------------------------------------------------

#[test]
fn greeting_554_sends_quit() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 554 5.3.2 no service for you
         C: QUIT
         S: 221 bye",
    );
    assert!(matches!(h.errors()[..], [ClientError::GreetingRefused(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert!(h.client.is_closed());
}

#[test]
fn ehlo_5xx_falls_back_to_helo() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 old.example
         C: EHLO client.example
         S: 502 what
         C: HELO client.example
         S: 250 old.example
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: hi
         C: .
         S: 250 queued",
    );
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
    assert!(h.events.contains(&Event::Ready));
}

#[test]
fn ehlo_and_helo_rejected_fails() {
    let mut h = Harness::new(config());
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 550 no
         C: HELO client.example
         S: 550 no
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::HelloRejected(_)]));
}

// ----- reply framing ------------------------------------------------------------------

fn session_script() -> (&'static [u8], Vec<u8>) {
    let server: &[u8] = b"220-mx.example ESMTP\r\n220 welcome\r\n250-mx.example\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME\r\n250 2.1.0 ok\r\n550 5.1.1 nope\r\n250 2.1.5 ok\r\n354 go\r\n250-2.0.0 queued\r\n250 2.0.0 as 1234\r\n221 bye\r\n";
    let client = b"EHLO client.example\r\nMAIL FROM:<a@x.example> SIZE=13\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n".to_vec();
    (server, client)
}

/// Feeds `server` in the given pieces; returns the events and the client's bytes.
fn run_split(pieces: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    let mut h = Harness::new(config());
    h.send(
        "a@x.example",
        &["b@y.example", "c@y.example"],
        b"hello\n.dot\n",
    );
    // Graceful: QUIT goes out once the message is done.
    h.client.quit(h.now);
    for p in pieces {
        h.feed(p);
    }
    let out = h.take_output();
    (h.events, out)
}

#[test]
fn several_replies_in_one_read() {
    let (server, client) = session_script();
    let (events, out) = run_split(&[server]);
    assert_eq!(esc(&out), esc(&client));
    assert!(events.contains(&Event::Closed {
        reason: CloseReason::Quit
    }));
}

#[test]
fn replies_split_at_every_byte_boundary() {
    let (server, client) = session_script();
    let (whole_events, whole_out) = run_split(&[server]);
    assert_eq!(esc(&whole_out), esc(&client));
    for i in 0..=server.len() {
        let (a, b) = server.split_at(i);
        let (events, out) = run_split(&[a, b]);
        assert_eq!(events, whole_events, "split at {i}");
        assert_eq!(esc(&out), esc(&whole_out), "split at {i}");
    }
    let bytes: Vec<&[u8]> = server.chunks(1).collect();
    let (events, out) = run_split(&bytes);
    assert_eq!(events, whole_events);
    assert_eq!(out, whole_out);
}

proptest! {
    #[test]
    fn reply_split_invariance(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let (server, _) = session_script();
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(server.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut prev = 0;
        for p in points {
            pieces.push(&server[prev..p]);
            prev = p;
        }
        pieces.push(&server[prev..]);
        let whole = run_split(&[server]);
        let split = run_split(&pieces);
        prop_assert_eq!(split.0, whole.0);
        prop_assert_eq!(split.1, whole.1);
    }
}

#[test]
fn multiline_mismatched_codes_is_error() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example");
    h.feed(b"250-mx\r\n251 PIPELINING\r\n");
    assert!(matches!(h.errors()[..], [ClientError::MalformedReply(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    assert_eq!(h.take_output(), b"QUIT\r\n");
}

#[test]
fn malformed_reply_is_error_not_panic() {
    for bad in [
        &b"hello\r\n"[..],
        b"2500 x\r\n",
        b"099 x\r\n",
        b"250x\r\n",
        b"\r\n",
        b"25\r\n",
        b"\0\0\0\r\n",
    ] {
        let mut h = Harness::new(config());
        h.feed(bad);
        assert!(
            matches!(h.errors()[..], [ClientError::MalformedReply(_)]),
            "{}",
            esc(bad)
        );
        assert!(h.client.is_closed());
    }
}

#[test]
fn overlong_reply_line_is_bounded_error() {
    let mut h = Harness::new(config());
    h.feed(b"220 ");
    for _ in 0..1000 {
        h.feed(&[b'x'; 1024]);
        if h.client.is_closed() {
            break;
        }
    }
    assert!(matches!(h.errors()[..], [ClientError::ReplyTooLong { .. }]));
}

#[test]
fn too_many_reply_lines_is_error() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example");
    for _ in 0..300 {
        h.feed(b"250-X-FOO\r\n");
    }
    assert_eq!(h.errors(), vec![&ClientError::TooManyReplyLines]);
}

#[test]
fn reply_421_mid_session_closes() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 421 4.3.2 shutting down"
    ));
    assert!(
        matches!(h.closed(), Some(CloseReason::ServiceUnavailable(r)) if r.code().get() == 421)
    );
    assert!(h.errors().is_empty());
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    h.feed(b"250 more\r\n");
    assert_eq!(h.take_output(), b"");
}

#[test]
fn unexpected_reply_is_error() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.feed(b"250 unsolicited\r\n");
    assert!(matches!(h.errors()[..], [ClientError::UnexpectedReply(_)]));
}

#[test]
fn eof_mid_session_is_connection_lost() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run("S: 220 mx\nC: EHLO client.example");
    h.client.handle_eof(h.now);
    h.drain();
    assert_eq!(h.errors(), vec![&ClientError::ConnectionLost]);
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
}

#[test]
fn eof_after_quit_sent_is_a_clean_close() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.client.quit(h.now);
    h.run("C: QUIT");
    // Many servers drop the connection without waiting to send 221.
    h.client.handle_eof(h.now);
    h.drain();
    assert!(h.errors().is_empty());
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
}

#[test]
fn eof_after_a_failure_quit_is_an_error_close() {
    let mut h = Harness::new(config());
    h.run("S: 554 no service\nC: QUIT");
    h.client.handle_eof(h.now);
    h.drain();
    assert!(matches!(h.errors()[..], [ClientError::GreetingRefused(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn calls_after_close_report_nothing_more() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.client.quit(h.now);
    h.run("C: QUIT\nS: 221 bye");
    let seen = h.events.len();
    h.client.handle_eof(h.now);
    h.client.handle_input(h.now, b"250 late\r\n");
    h.client
        .handle_timeout(h.now + Duration::from_secs(100_000));
    h.drain();
    assert_eq!(h.events.len(), seen, "{:?}", &h.events[seen..]);
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
}

#[test]
fn reply_line_count_limit_is_inclusive() {
    let mut c = config();
    c.max_reply_lines = 3;
    let mut h = Harness::new(c.clone());
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-PIPELINING
         S: 250 8BITMIME",
    );
    assert!(h.errors().is_empty(), "exactly the limit is accepted");
    assert!(h.client.capabilities().is_some_and(|c| c.pipelining()));

    let mut h = Harness::new(c);
    h.run("S: 220 mx\nC: EHLO client.example");
    h.feed(b"250-mx\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
    assert!(h.errors().is_empty());
    h.feed(b"250 SIZE 100\r\n");
    assert_eq!(h.errors(), vec![&ClientError::TooManyReplyLines]);
}

#[test]
fn quit_drops_a_streamed_transaction_whose_mail_never_went_out() {
    let mut h = Harness::new(config());
    let id = h
        .client
        .start_transaction(h.now, rp("a@x.example"), MailParams::default())
        .unwrap();
    h.client.quit(h.now);
    h.drain();
    assert!(h.events.contains(&Event::MessageResult {
        message: id,
        status: MessageStatus::Aborted,
        reply: None,
    }));
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: QUIT\nS: 221 bye");
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
}

#[test]
fn message_ids_count_from_one_in_queue_order() {
    let mut h = Harness::new(config());
    let a = h
        .client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::new(),
        )
        .unwrap();
    let b = h
        .client
        .send_message(
            h.now,
            envelope("a@x.example", &["c@y.example"]),
            Bytes::new(),
        )
        .unwrap();
    assert_eq!((a.get(), b.get()), (1, 2));
    assert_eq!(format!("{a} {b}"), "#1 #2");
}

// ----- timeouts ---------------------------------------------------------------------------

#[test]
fn greeting_timeout_on_virtual_clock() {
    let mut h = Harness::new(config());
    let t0 = h.now;
    assert_eq!(h.client.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    h.client.handle_timeout(t0 + Duration::from_secs(299));
    h.drain();
    assert!(h.events.is_empty(), "spurious call is harmless");
    h.client.handle_timeout(t0 + Duration::from_secs(300));
    h.drain();
    assert!(matches!(
        h.errors()[..],
        [ClientError::Timeout(smtp_sansio::client::Phase::Greeting)]
    ));
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn per_phase_timeouts_on_virtual_clock() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    let t0 = h.now;
    h.run("S: 220 mx\nC: EHLO client.example");
    assert_eq!(h.client.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    h.now = t0 + Duration::from_secs(10);
    h.run("S: 250 mx\nC: MAIL FROM:<a@x.example>");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.now + Duration::from_secs(300)),
        "MAIL: 5 minutes"
    );
    h.run("S: 250 ok\nC: RCPT TO:<b@y.example>\nS: 250 ok\nC: DATA");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.now + Duration::from_secs(120)),
        "DATA: 2 minutes"
    );
    h.run("S: 354 go\nC: hi\nC: .");
    // The body was handed out: the next call restarts the clock (the write took time).
    let t1 = h.now + Duration::from_secs(3600);
    h.client.handle_timeout(t1);
    h.drain();
    assert!(h.errors().is_empty());
    assert_eq!(
        h.client.poll_timeout(),
        Some(t1 + Duration::from_secs(600)),
        "end of data: 10 minutes"
    );
    h.client.handle_timeout(t1 + Duration::from_secs(600));
    h.drain();
    assert!(matches!(
        h.errors()[..],
        [ClientError::Timeout(smtp_sansio::client::Phase::DataTerm)]
    ));
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn each_phase_uses_its_configured_timeout() {
    let secs = Duration::from_secs;
    let mut c = config();
    c.use_pipelining = false;
    let mut t = c.timeouts;
    (t.greeting, t.other, t.mail, t.rcpt) = (secs(1), secs(2), secs(3), secs(4));
    (t.data_init, t.data_block, t.data_term) = (secs(5), secs(6), secs(7));
    c.timeouts = t;
    let mut h = Harness::new(c);
    let left = |h: &Harness| h.client.poll_timeout().map(|d| d - h.now);
    assert_eq!(left(&h), Some(secs(1)), "greeting");
    h.run("S: 220 mx\nC: EHLO client.example");
    assert_eq!(left(&h), Some(secs(2)), "EHLO");
    h.run("S: 250 mx");
    // Idle: the first command after a pause starts its own timer.
    assert_eq!(left(&h), None);
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run("C: MAIL FROM:<a@x.example>");
    assert_eq!(left(&h), Some(secs(3)), "MAIL");
    h.run("S: 250 ok\nC: RCPT TO:<b@y.example>");
    assert_eq!(left(&h), Some(secs(4)), "RCPT");
    h.run("S: 250 ok\nC: DATA");
    assert_eq!(left(&h), Some(secs(5)), "DATA");
    h.feed(b"354 go\r\n");
    // The body is queued but not yet written: the block timer runs.
    assert_eq!(left(&h), Some(secs(6)), "body");
}

#[test]
fn timeout_error_names_the_phase() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.client.handle_timeout(h.now + Duration::from_secs(300));
    h.drain();
    let errors = h.errors();
    assert_eq!(
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["timed out waiting for the reply to MAIL"]
    );
}

#[test]
fn no_timer_while_idle() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    assert_eq!(h.client.poll_timeout(), None);
    h.client
        .handle_timeout(h.now + Duration::from_secs(100_000));
    h.drain();
    assert!(h.errors().is_empty());
}

// ----- misuse -------------------------------------------------------------------------------

#[test]
fn usage_errors_never_panic() {
    let mut h = Harness::new(config());
    assert_eq!(
        h.client.tls_established(h.now),
        Err(UsageErrorKind::NotAwaitingTls.into())
    );
    assert_eq!(
        h.client.sasl_cancel(h.now),
        Err(UsageErrorKind::NoSaslChallenge.into())
    );
    assert_eq!(
        h.client
            .send_message(h.now, Envelope::new(rp("a@x.example")), Bytes::new())
            .map_err(|e| e.kind),
        Err(UsageErrorKind::NoRecipients)
    );
    h.client.handle_eof(h.now);
    h.client.handle_eof(h.now);
    h.client.handle_timeout(h.now);
    h.client.handle_input(h.now, b"220 late\r\n");
    h.client.quit(h.now);
    assert_eq!(
        h.client
            .send_message(
                h.now,
                envelope("a@x.example", &["b@y.example"]),
                Bytes::new()
            )
            .map_err(|e| e.kind),
        Err(UsageErrorKind::Closed)
    );
}

proptest! {
    /// Whatever the server sends, the machine neither panics nor stops answering calls.
    #[test]
    fn arbitrary_server_bytes_never_panic(
        chunks in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                prop::sample::select(vec![
                    b"220 mx\r\n".to_vec(), b"250-mx\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n".to_vec(),
                    b"250 ok\r\n".to_vec(), b"354 go\r\n".to_vec(), b"334 \r\n".to_vec(), b"421 bye\r\n".to_vec(),
                    b"550-a\r\n551 b\r\n".to_vec(), b"\r\n".to_vec(),
                ]),
            ],
            0..24,
        ),
        chunking in any::<bool>(),
        lmtp in any::<bool>(),
    ) {
        let mut c = config();
        c.use_chunking = chunking;
        c.lmtp = lmtp;
        c.starttls = StartTlsPolicy::Opportunistic;
        c.auth = Some(plaintext_ok(AuthConfig::password("u", "p")));
        let mut h = Harness::new(c);
        h.send("a@x.example", &["b@y.example", "c@y.example"], b"x\n.\r\ny");
        for (i, chunk) in chunks.iter().enumerate() {
            h.feed(chunk);
            if h.events.contains(&Event::StartTls) && i % 2 == 0 {
                let _ = h.client.tls_established(h.now);
            }
            h.client.handle_timeout(h.now + Duration::from_secs(i as u64 * 100));
            h.drain();
        }
        h.client.handle_eof(h.now);
        h.drain();
        prop_assert!(h.client.is_closed());
        prop_assert_eq!(h.results().len(), 1, "every message gets exactly one result");
    }
}
