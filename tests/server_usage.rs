//! Misuse of the server by the application (`UsageError`): every wrong call hands its
//! argument back and never panics. Transcripts as in `common/script.rs`.

mod common;

use std::time::Instant;

use common::{Decision, Harness, Policy, after_ehlo, cfg, default, reply};
use smtp_sansio::server::{Answer, Event, Server, UsageErrorKind};

/// A ticket of another connection, or one made stale by EOF, is refused and handed back.
#[test]
fn usage_stale_or_foreign_ticket() {
    let mut a = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    let mut b = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    a.run("C: MAIL FROM:<a@example.com>");
    b.run("C: MAIL FROM:<b@example.com>");
    let ta = a.held.take().unwrap();
    let err = b.server.accept(Instant::now(), ta).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongTicket);
    let (ta, _) = err.into_inner();
    b.pump();
    b.assert_drained("after a foreign ticket");
    a.server.accept(Instant::now(), ta).unwrap();
    a.pump();
    a.run("S: 250 2.1.0 Sender OK");
    // EOF makes b's ticket stale.
    let tb = b.held.take().unwrap();
    b.eof();
    let err = b.server.accept(Instant::now(), tb).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongTicket);
}

/// A ticket answered twice: the second answer (with the ticket handed back from a failed
/// call) is refused.
#[test]
fn usage_ticket_answered_after_session_moved_on() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    let t = h.held.take().unwrap();
    h.server.shutdown();
    h.pump();
    h.run("S: 421 4.3.2 Service shutting down, closing connection\nA: closed");
    let err = h
        .server
        .respond(Instant::now(), t, reply("550 5.7.1 no"))
        .unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongTicket);
}

/// 3xx is the machine's own business: `respond` with 354 is refused and hands back both.
#[test]
fn usage_respond_with_354_refused() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    let t = h.held.take().unwrap();
    let r354 = reply("354 go ahead");
    let err = h
        .server
        .respond(Instant::now(), t, r354.clone())
        .unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, r) = err.into_inner();
    assert_eq!(r, Answer::Reply(r354));
    h.pump();
    h.assert_drained("after a 354 answer");
    h.server.accept(Instant::now(), t).unwrap();
    h.pump();
    h.run("S: 250 2.1.0 Sender OK");
}

/// A 2xx to EHLO through `respond` is refused (use `accept`, which lists extensions).
#[test]
fn usage_respond_2xx_to_ehlo_refused() {
    let mut h = Harness::new(cfg(), Policy::accept_all().hello(|_| Decision::Hold));
    h.run("S: 220 localhost ESMTP ready\nC: EHLO client.example");
    let t = h.held.take().unwrap();
    let err = h
        .server
        .respond(Instant::now(), t, reply("250 hi"))
        .unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, _) = err.into_inner();
    h.server.accept(Instant::now(), t).unwrap();
    h.pump();
    h.run("S~ 250 HELP");
}

/// `sasl_challenge` to a MAIL ticket is the wrong answer.
#[test]
fn usage_sasl_challenge_to_mail_refused() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    let t = h.held.take().unwrap();
    let err = h
        .server
        .sasl_challenge(Instant::now(), t, b"x")
        .unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    h.server.accept(Instant::now(), err.into_inner().0).unwrap();
    h.pump();
    h.run("S: 250 2.1.0 Sender OK");
}

/// `tls_established` when no STARTTLS was asked for is an error, and changes nothing.
#[test]
fn usage_tls_established_when_not_asked() {
    let mut h = default();
    let err = h.server.tls_established(h.now).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongState);
    assert!(!h.server.is_tls());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
}

/// Tickets are answered once: the same decision cannot be accepted twice.
#[test]
fn usage_events_need_answers_before_progress() {
    let t0 = Instant::now();
    let mut s = Server::new(cfg(), t0).expect("valid configuration");
    let _ = s.poll_transmit();
    s.handle_input(t0, b"EHLO a.example\r\nNOOP\r\n");
    let Some(Event::Hello(h)) = s.poll_event() else {
        panic!("expected Hello")
    };
    assert!(s.poll_event().is_none());
    assert!(s.poll_transmit().is_none(), "NOOP must wait behind EHLO");
    s.accept(Instant::now(), h.ticket).unwrap();
    let out = s.poll_transmit().unwrap();
    assert!(
        out.ends_with(b"250 HELP\r\n250 2.0.0 OK\r\n"),
        "{}",
        common::esc(&out)
    );
}
