//! Client transcripts for STARTTLS (RFC 3207) and response injection: scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use common::client::{Harness, tls_config};
use smtp_sansio::client::{
    ClientError, CloseReason, Event, MessageStatus, StartTlsPolicy, UsageErrorKind,
};

#[test]
fn starttls_required_upgrades_and_says_ehlo_again() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-STARTTLS
         S: 250 PIPELINING
         C: STARTTLS
         S: 220 2.0.0 go ahead",
    );
    assert_eq!(h.events.last(), Some(&Event::StartTls));
    assert!(h.client.capabilities().is_some());
    h.client.tls_established(h.now).unwrap();
    assert!(
        h.client.capabilities().is_none(),
        "capabilities forgotten after TLS"
    );
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 PIPELINING",
    );
    // Ready and idle: nothing more is sent until a message or QUIT is asked for.
    assert!(h.events.contains(&Event::Ready));
    assert!(!h.client.is_closed());
}

#[test]
fn starttls_required_not_offered_fails_with_quit() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.send("a@x.example", &["b@y.example"], b"secret\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 PIPELINING
         C: QUIT
         S: 221 bye",
    );
    assert_eq!(h.errors(), vec![&ClientError::StartTlsNotOffered]);
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn starttls_required_refused_fails() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 454 4.7.0 TLS not available
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::StartTlsRejected(_)]));
}

#[test]
fn starttls_opportunistic_skips_when_not_offered() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Opportunistic));
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>",
    );
    assert!(h.errors().is_empty());
}

#[test]
fn starttls_opportunistic_goes_on_after_454() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Opportunistic));
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 454 4.7.0 not now
         C: MAIL FROM:<a@x.example>",
    );
    assert!(h.errors().is_empty());
}

#[test]
fn starttls_never_ignores_the_offer() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Never));
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: MAIL FROM:<a@x.example>",
    );
}

#[test]
fn response_injection_after_starttls() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS",
    );
    // The 220 and a forged EHLO reply in the same read (CVE-2011-0411).
    h.feed(b"220 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n");
    assert_eq!(h.take_output(), b"");
    assert_eq!(
        h.errors(),
        vec![&ClientError::StartTlsInjection { bytes: 26 }]
    );
    assert!(
        !h.events.contains(&Event::StartTls),
        "no upgrade on a poisoned stream"
    );
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    assert_eq!(
        h.client.tls_established(h.now),
        Err(UsageErrorKind::NotAwaitingTls.into())
    );
}

#[test]
fn response_injection_in_a_later_read() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 220 go ahead",
    );
    h.feed(b"250 forged\r\n");
    assert_eq!(
        h.errors(),
        vec![&ClientError::StartTlsInjection { bytes: 12 }]
    );
    assert_eq!(h.take_output(), b"");
}
