//! Server transcripts for the error limit, the input bound while deciding and the
//! timeouts (RFC 5321 4.5.3.2), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use std::time::Duration;

use common::{Decision, Ev, Harness, Policy, after_ehlo, cfg, default, transcript_with};
use smtp_sansio::server::{AbortReason, CloseReason, ServerConfig};

#[test]
fn error_limit_421_4_7_0_and_close() {
    let mut c = cfg();
    c.limits.errors = 3;
    let h = transcript_with(
        c,
        Policy::accept_all(),
        "S: 220 localhost ESMTP ready
         C: FOO
         S: 500 5.5.2 Syntax error, command unrecognized
         C: NOOP
         S: 250 2.0.0 OK
         C: RCPT TO:<a@example.com>
         S: 503 5.5.1 Send EHLO or HELO first
         C: BAR\\r\\nNOOP\\r\\n
         S: 500 5.5.2 Syntax error, command unrecognized
         S: 421 4.7.0 Too many errors, closing connection
         A: closed
         C: NOOP",
    );
    assert_eq!(h.log.last(), Some(&Ev::Closed(CloseReason::TooManyErrors)));
}

/// `buffered_input` is the most input kept while a decision is pending: exactly that
/// much is kept, one octet more closes the session.
#[test]
fn input_while_deciding_bounded_exactly_at_the_limit() {
    let mut c = cfg();
    c.limits.buffered_input = 1000;
    let mut h = Harness::new(c, Policy::accept_all().hello(|_| Decision::Hold));
    h.run("S: 220 localhost ESMTP ready\nC: EHLO client.example");
    let mut held = b"NOOP\r\n".repeat(166);
    held.extend_from_slice(b"NOOP");
    assert_eq!(held.len(), 1000);
    h.feed(&held);
    assert!(!h.server.is_closed(), "closed at exactly the limit");
    h.feed(b"\r");
    assert!(h.server.is_closed(), "kept more than the limit");
    assert_eq!(h.log.last(), Some(&Ev::Closed(CloseReason::InputOverflow)));
}

/// RFC 5321 4.5.3.2: the machine names its deadline; before it nothing happens, after
/// it `421 4.4.2` and close.
#[test]
fn rfc5321_4_5_3_2_timeout_421() {
    let mut h = Harness::new(cfg(), Policy::accept_all());
    let t0 = h.t0;
    assert_eq!(h.server.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    h.run(
        "S: 220 localhost ESMTP ready
         A: advance 299
         A: timeout
         A: open
         C: NOOP
         S: 250 2.0.0 OK",
    );
    // Input moves the deadline.
    assert_eq!(
        h.server.poll_timeout(),
        Some(t0 + Duration::from_secs(299 + 300))
    );
    h.run(
        "A: advance 299
         A: timeout
         A: open
         A: advance 1
         A: timeout
         S: 421 4.4.2 Timeout, closing connection
         A: closed",
    );
    assert_eq!(h.log, vec![Ev::Closed(CloseReason::Timeout)]);
    assert_eq!(h.server.poll_timeout(), None);
}

/// A timeout inside DATA drops the message.
#[test]
fn rfc5321_4_5_3_2_timeout_in_data_aborts_message() {
    let mut c = cfg();
    c.timeouts.data = Duration::from_secs(600);
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: partial",
    );
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(600))
    );
    h.run(
        "A: advance 599
         A: timeout
         A: advance 1
         A: timeout
         S: 421 4.4.2 Timeout, closing connection
         A: closed",
    );
    let tail: Vec<_> = h.log.iter().rev().take(2).cloned().collect();
    assert_eq!(
        tail,
        vec![
            Ev::Closed(CloseReason::Timeout),
            Ev::Aborted(AbortReason::ConnectionLost)
        ]
    );
    assert!(h.messages.is_empty());
}

/// No deadline runs while the application decides; afterwards it is measured afresh
/// from the `now` the answer carries, with no extra round trip through the timer.
#[test]
fn rfc5321_4_5_3_2_no_timeout_while_deciding() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    assert_eq!(h.server.poll_timeout(), None);
    h.run(
        "A: advance 10000
         A: timeout
         A: accept
         S: 250 2.1.0 Sender OK",
    );
    assert!(!h.server.is_closed());
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_secs(300))
    );
}

/// Spurious and out-of-order timeouts are harmless.
#[test]
fn rfc5321_4_5_3_2_spurious_timeouts_harmless() {
    let mut h = default();
    let t0 = h.t0;
    for _ in 0..5 {
        h.server.handle_timeout(t0);
    }
    h.server.handle_timeout(t0 + Duration::from_secs(100));
    h.server.handle_timeout(t0);
    h.pump();
    h.run("C: NOOP\nS: 250 2.0.0 OK");
}

/// The idle deadline is measured from the last command, not from the greeting.
#[test]
fn rfc5321_4_5_3_2_idle_deadline_restarts_at_each_command() {
    let mut h = default();
    h.run(
        "A: advance 200
         C: NOOP
         S: 250 2.0.0 OK
         A: advance 200
         A: timeout
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.t0 + Duration::from_secs(700))
    );
}

/// A transport that reads its clock per call can hand the machine an older reading than
/// one it already gave; the deadline then counts from the latest time seen, never
/// earlier.
#[test]
fn rfc5321_4_5_3_2_stale_clock_reading_never_shortens_the_deadline() {
    let mut h = default();
    let t0 = h.t0;
    h.server.handle_timeout(t0 + Duration::from_secs(250));
    h.pump();
    h.server
        .handle_input(t0 + Duration::from_secs(10), b"NOOP\r\n");
    h.pump();
    h.run("S: 250 2.0.0 OK");
    assert_eq!(h.server.poll_timeout(), Some(t0 + Duration::from_secs(550)));
    h.server.handle_timeout(t0 + Duration::from_secs(400));
    h.pump();
    assert!(!h.server.is_closed(), "timed out from a stale reading");
}

/// A message refused at its end (RFC 5321 4.5.3.1.10) leaves the session in command
/// state with a fresh command timer (4.5.3.2.7), not an expired one.
#[test]
fn rfc5321_4_5_3_2_7_timer_restarts_after_a_message_refused_at_its_end() {
    let mut cfg = ServerConfig::default();
    cfg.limits.message_size = Some(10);
    let mut h = Harness::new(cfg, Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: this body is too long for the limit
         C: .
         S: 552 5.3.4 Message size exceeds fixed limit",
    );
    h.advance(60);
    h.timeout();
    h.assert_drained("one minute after the refusal");
    h.run("C: NOOP\nS: 250 2.0.0 OK");
}

/// RFC 5321 4.5.3.2.5: the DATA block timer (3 minutes) runs from the 354, not an
/// expired one: a client pausing a minute before its body is still served.
#[test]
fn rfc5321_4_5_3_2_5_data_block_timer_starts_at_354() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>",
    );
    h.advance(60);
    h.timeout();
    h.assert_drained("one minute after the 354");
    h.run("C: body\nC: .\nS: 250 2.0.0 Message accepted");
}
