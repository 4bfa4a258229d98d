//! Server transcripts for STARTTLS (RFC 3207), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use common::{Ev, Policy, after_ehlo, default, tls_cfg, transcript_with};

#[test]
fn rfc3207_4_starttls_with_parameters_501() {
    let mut h = after_ehlo(tls_cfg(), Policy::accept_all());
    h.run(
        "C: STARTTLS now
         S: 501 5.5.4 Syntax error in parameters or arguments
         A: open",
    );
    assert!(!h.log.contains(&Ev::StartTls));
}

#[test]
fn rfc3207_4_starttls_unavailable_454() {
    let mut h = default();
    h.run(
        "C: STARTTLS
         S: 454 4.7.0 TLS not available
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(!h.log.contains(&Ev::StartTls));
}

/// RFC 3207 4.2: after the handshake all state is forgotten: EHLO again, STARTTLS no
/// longer offered, a second STARTTLS refused.
#[test]
fn rfc3207_4_2_state_reset_after_tls() {
    let mut h = after_ehlo(tls_cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         A: tls
         C: RCPT TO:<b@example.com>
         S: 503 5.5.1 Send EHLO or HELO first
         C: MAIL FROM:<a@example.com>
         S: 503 5.5.1 Send EHLO or HELO first
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250-ENHANCEDSTATUSCODES
         S: 250-REQUIRETLS
         S: 250 HELP
         C: RCPT TO:<b@example.com>
         S: 503 5.5.1 Need MAIL command
         C: STARTTLS
         S: 503 5.5.1 TLS already active",
    );
    assert!(h.server.is_tls());
    assert_eq!(h.count(|e| *e == Ev::StartTls), 1);
}

/// The EHLO before TLS lists STARTTLS.
#[test]
fn rfc3207_2_starttls_offered_before_tls() {
    transcript_with(
        tls_cfg(),
        Policy::accept_all(),
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250-ENHANCEDSTATUSCODES
         S: 250-STARTTLS
         S: 250 HELP",
    );
}

/// RFC 3207 4: with TLS required, everything but EHLO/HELO/NOOP/RSET/STARTTLS/QUIT gets
/// 530 before TLS.
#[test]
fn rfc3207_4_require_tls_530() {
    let mut c = tls_cfg();
    c.require_tls = true;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 530 5.7.0 Must issue a STARTTLS command first
         C: NOOP
         S: 250 2.0.0 OK
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         A: tls
         C: EHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
}

/// An empty read while the TLS handshake is pending is not plaintext injected behind
/// STARTTLS: no violation is reported for it.
#[test]
fn rfc3207_empty_read_before_handshake_is_no_injection() {
    let mut h = after_ehlo(tls_cfg(), Policy::accept_all());
    h.run("C: STARTTLS\nS: 220 2.0.0 Ready to start TLS");
    h.server.handle_input(h.now, b"");
    h.pump();
    h.tls();
    assert!(
        !h.log.iter().any(|e| matches!(e, Ev::Violation(_))),
        "{:?}",
        h.log
    );
}
