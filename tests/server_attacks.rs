//! Attacks and bad input against the server machine ("Attacks and bad input" in
//! `conformance.md`): one named test per attack. None may panic, hang, execute smuggled
//! commands, or grow memory beyond the configured limits.

mod common;

use common::{Decision, Ev, Harness, Policy, after_ehlo, after_ehlo_tls, esc};
use smtp_sansio::data::BareLineEndings;
use smtp_sansio::server::{AbortReason, CloseReason, ServerConfig, Violation};
use smtp_sansio::types::Mechanism;

fn cfg() -> ServerConfig {
    ServerConfig::default()
}

// ---------------------------------------------------------------------------------------
// SMTP smuggling: only CRLF "." CRLF ends DATA (RFC 5321 4.1.1.4, 2.3.8).

const OPEN: &[u8] = b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n";
const HEAD: &[u8] = b"Subject: test\r\n\r\nreal body";
const PAYLOAD: &[u8] =
    b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nsmuggled\r\n";

/// The whole client input: a transaction whose body holds `seq` then smuggled commands,
/// then the real end of data and a NOOP.
fn attack_input(seq: &[u8]) -> Vec<u8> {
    [OPEN, HEAD, seq, PAYLOAD, b".\r\nNOOP\r\n"].concat()
}

/// Runs the attack fed whole and fed byte by byte; both must behave the same.
fn smuggle(seq: &[u8], bare: BareLineEndings) -> Harness {
    let mut c = cfg();
    c.bare_line_endings = bare;
    let input = attack_input(seq);
    let mut whole = after_ehlo(c.clone(), Policy::accept_all());
    whole.feed(&input);
    let mut bytes = after_ehlo(c, Policy::accept_all());
    for b in &input {
        bytes.feed(std::slice::from_ref(b));
    }
    assert_eq!(
        esc(&whole.out),
        esc(&bytes.out),
        "split changed the replies"
    );
    assert_eq!(whole.log, bytes.log, "split changed the events");
    // The smuggled commands never ran.
    assert_eq!(whole.senders(), vec!["<a@example.com>"], "{}", whole.dump());
    assert_eq!(
        whole.recipients(),
        vec!["<b@example.com>"],
        "{}",
        whole.dump()
    );
    assert_eq!(
        whole.count(|e| *e == Ev::MessageStart),
        1,
        "{}",
        whole.dump()
    );
    whole
}

/// Default policy: the message is refused 550 5.6.0 after its real end and nothing is
/// delivered; the session stays usable.
fn rejected(seq: &[u8]) {
    let mut h = smuggle(seq, BareLineEndings::default());
    assert_eq!(h.message_ends(), 0, "{}", h.dump());
    assert_eq!(
        h.count(|e| *e == Ev::Aborted(AbortReason::BareLineEnding)),
        1,
        "{}",
        h.dump()
    );
    h.run(
        "S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 354 End data with <CR><LF>.<CR><LF>
         S: 550 5.6.0 Message contains bare CR or LF
         S: 250 2.0.0 OK
         A: open
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
}

/// Normalising policy: one message, accepted, with each bare ending turned into CRLF.
fn normalised(seq: &[u8], stored_seq: &[u8]) {
    let mut h = smuggle(seq, BareLineEndings::Normalize);
    assert_eq!(h.message_ends(), 1, "{}", h.dump());
    let want = [HEAD, stored_seq, PAYLOAD].concat();
    assert_eq!(esc(&h.messages[0]), esc(&want));
    h.run(
        "S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 354 End data with <CR><LF>.<CR><LF>
         S: 250 2.0.0 Message accepted
         S: 250 2.0.0 OK",
    );
}

#[test]
fn smuggling_lf_dot_lf() {
    rejected(b"\n.\n");
    normalised(b"\n.\n", b"\r\n.\r\n");
}

#[test]
fn smuggling_lf_dot_crlf() {
    rejected(b"\n.\r\n");
    normalised(b"\n.\r\n", b"\r\n.\r\n");
}

#[test]
fn smuggling_cr_dot_cr() {
    rejected(b"\r.\r");
    normalised(b"\r.\r", b"\r\n.\r\n");
}

#[test]
fn smuggling_cr_dot_crlf() {
    rejected(b"\r.\r\n");
    normalised(b"\r.\r\n", b"\r\n.\r\n");
}

#[test]
fn smuggling_crlf_dot_cr() {
    rejected(b"\r\n.\r");
    // The dot begins a real line, so it is a transparency dot and goes (RFC 5321 4.5.2).
    normalised(b"\r\n.\r", b"\r\n\r\n");
}

#[test]
fn smuggling_crlf_dot_lf() {
    rejected(b"\r\n.\n");
    normalised(b"\r\n.\n", b"\r\n\r\n");
}

/// `CRLF NUL "." CRLF` holds no bare line ending: it is ordinary (if odd) content, the
/// message is one message with the smuggled commands inside it, under either policy.
#[test]
fn smuggling_crlf_nul_dot_crlf() {
    for bare in [BareLineEndings::Reject, BareLineEndings::Normalize] {
        let mut h = smuggle(b"\r\n\0.\r\n", bare);
        assert_eq!(h.message_ends(), 1, "{}", h.dump());
        assert_eq!(
            esc(&h.messages[0]),
            esc(&[HEAD, b"\r\n\0.\r\n", PAYLOAD].concat())
        );
        h.run(
            "S: 250 2.1.0 Sender OK
             S: 250 2.1.5 Recipient OK
             S: 354 End data with <CR><LF>.<CR><LF>
             S: 250 2.0.0 Message accepted
             S: 250 2.0.0 OK",
        );
    }
}

/// More friends: a dot line with trailing space, `CR CR LF . CR LF`, `LF CR . CR LF`.
#[test]
fn smuggling_other_variants_never_end_data() {
    for seq in [
        &b"\r\n. \r\n"[..],
        b"\n\r.\r\n",
        b"\r\n.\r\r\n",
        b"\r\n..\r\n",
    ] {
        let h = smuggle(seq, BareLineEndings::default());
        assert_eq!(
            h.message_ends() + h.count(|e| matches!(e, Ev::Aborted(_))),
            1,
            "seq \"{}\": {}",
            esc(seq),
            h.dump()
        );
    }
}

// ---------------------------------------------------------------------------------------
// STARTTLS injection (CVE-2011-0411, RFC 3207 4.2)

fn tls_cfg() -> ServerConfig {
    let mut c = cfg();
    c.starttls = true;
    c
}

#[test]
fn starttls_injection_discarded() {
    let mut h = after_ehlo(tls_cfg(), Policy::accept_all());
    h.run(
        "C: STARTTLS\\r\\nMAIL FROM:<evil@x.example>\\r\\n
         S: 220 2.0.0 Ready to start TLS",
    );
    let injected = b"MAIL FROM:<evil@x.example>\r\n".len();
    assert!(
        h.log.contains(&Ev::Violation(Violation::StartTlsInjection {
            octets: injected
        })),
        "{}",
        h.dump()
    );
    h.run(
        "A: tls
         C: EHLO client.example
         S~ 250 HELP
         C: RCPT TO:<victim@example.com>
         S: 503 5.5.1 Need MAIL command",
    );
    assert!(
        h.senders().is_empty(),
        "the injected MAIL ran: {}",
        h.dump()
    );
}

/// Bytes that arrive after the STARTTLS line but before the handshake completes are
/// dropped and reported, never executed inside TLS.
#[test]
fn starttls_bytes_while_awaiting_tls_dropped() {
    let mut h = after_ehlo(tls_cfg(), Policy::accept_all());
    h.run(
        "C: STARTTLS\\r\\nMAI
         S: 220 2.0.0 Ready to start TLS
         C: L FROM:<evil@x.example>\\r\\n
         C: RCPT TO:<v@example.com>\\r\\nDATA\\r\\n",
    );
    assert!(!h.server.wants_input());
    assert_eq!(h.server.poll_timeout(), None);
    let dropped: usize = h
        .log
        .iter()
        .filter_map(|e| match e {
            Ev::Violation(Violation::StartTlsInjection { octets }) => Some(*octets),
            _ => None,
        })
        .sum();
    assert_eq!(
        dropped,
        "MAIL FROM:<evil@x.example>\r\nRCPT TO:<v@example.com>\r\nDATA\r\n".len()
    );
    h.run(
        "A: tls
         C: MAIL FROM:<a@example.com>
         S: 503 5.5.1 Send EHLO or HELO first",
    );
    assert!(h.senders().is_empty() && h.recipients().is_empty());
}

// ---------------------------------------------------------------------------------------
// Bad bytes in commands

#[test]
fn nul_byte_in_command() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: NOOP\\0\\r\\n
         S: 500 5.5.2 Invalid character in command
         C: RSET\\0MAIL FROM:<evil@example.com>\\r\\n
         S: 500 5.5.2 Invalid character in command
         C: MAIL FROM:<a\\0@example.com>\\r\\n
         S: 501 5.5.2 Invalid character in arguments
         C: \\0\\r\\n
         S: 500 5.5.2 Invalid character in command
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
    assert_eq!(h.senders(), vec!["<a@example.com>"]);
}

#[test]
fn eight_bit_bytes_in_command() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: NO\\xffOP
         S: 500 5.5.2 Invalid character in command
         C: MAIL FROM:<a\\xff@example.com>
         S: 501 5.5.2 Invalid character in arguments
         C: MAIL FROM:<a\\xc3@example.com>
         S: 501 5.5.2 Invalid character in arguments
         C: \\x80\\x81\\x82
         S: 500 5.5.2 Invalid character in command
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(h.senders().is_empty());
}

#[test]
fn overlong_command_line_500_5_5_2_and_connection_usable() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    // If the line were cut at 512 octets, the tail would read as `QUIT`.
    let line = format!("NOOP {}QUIT", "A".repeat(512 - 5));
    h.run(&format!(
        "C: {line}
         S: 500 5.5.2 Line too long
         A: open
         C: MAIL FROM:<{}@example.com>
         S: 500 5.5.2 Line too long
         C: NOOP
         S: 250 2.0.0 OK",
        "x".repeat(100_000)
    ));
    assert!(h.senders().is_empty());
    assert!(
        h.log
            .iter()
            .filter(|e| matches!(e, Ev::Violation(_)))
            .count()
            == 2
    );
}

/// 1 GiB without a CRLF, in 64 KiB reads: no output, nothing held, and afterwards the
/// connection still works.
#[test]
fn endless_input_without_crlf_stays_bounded() {
    endless(1 << 30);
}

fn endless(total: usize) {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    let piece = vec![b'A'; 64 * 1024];
    let t = h.now;
    for _ in 0..total / piece.len() {
        h.server.handle_input(t, &piece);
        assert!(h.server.poll_event().is_none());
        assert!(h.server.poll_transmit().is_none());
        assert!(h.server.wants_input());
    }
    h.run(
        "C: \\r\\nNOOP\\r\\n
         S: 500 5.5.2 Line too long
         S: 250 2.0.0 OK",
    );
}

/// The same inside DATA: the overlong line stops delivery at once, nothing accumulates,
/// and the message fails after its end.
#[test]
fn endless_data_line_stays_bounded() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>\\r\\nRCPT TO:<b@example.com>\\r\\nDATA\\r\\n
         S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 354 End data with <CR><LF>.<CR><LF>",
    );
    let piece = vec![b'A'; 64 * 1024];
    for _ in 0..(64 << 20) / piece.len() {
        h.feed(&piece);
        assert!(h.body.len() <= 1000, "aborted body still delivered");
    }
    h.run(
        "C: \\r\\n.\\r\\nNOOP\\r\\n
         S: 552 5.3.4 Message size exceeds fixed limit
         S: 250 2.0.0 OK",
    );
    // 64 MiB is over the 32 MiB default too; size is the verdict that wins.
    assert!(h.log.contains(&Ev::Aborted(AbortReason::TooBig)));
    assert!(h.messages.is_empty());
}

/// While the application decides, input piles up only to `buffered_input`; then 421.
#[test]
fn input_while_deciding_bounded() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    let piece = vec![b'N'; 64 * 1024];
    let mut n = 0;
    while !h.server.is_closed() {
        h.feed(&piece);
        n += 1;
        assert!(n <= 8, "never closed");
    }
    h.run("S: 421 4.7.0 Too much pipelined input, closing connection");
    assert_eq!(h.log.last(), Some(&Ev::Closed(CloseReason::InputOverflow)));
}

// ---------------------------------------------------------------------------------------
// Floods

#[test]
fn pipelined_command_flood() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    let n = 20_000;
    let input = b"NOOP\r\n".repeat(n);
    h.server.handle_input(h.now, &input);
    assert!(!h.server.wants_input(), "much output waiting: stop reading");
    h.pump();
    let reply = b"250 2.0.0 OK\r\n";
    assert_eq!(h.pending.len(), n * reply.len());
    assert!(h.pending.chunks(reply.len()).all(|c| c == reply));
    h.pending.clear();
    assert!(h.server.wants_input());

    // Invalid commands: the error limit ends it after 20 replies and a 421.
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.feed(&b"FOO\r\n".repeat(n));
    let out = String::from_utf8(h.pending.clone()).unwrap();
    assert_eq!(out.lines().count(), 21, "{out}");
    assert!(out.ends_with("421 4.7.0 Too many errors, closing connection\r\n"));
    assert!(h.server.is_closed());
    assert_eq!(h.log.last(), Some(&Ev::Closed(CloseReason::TooManyErrors)));
}

// ---------------------------------------------------------------------------------------
// BDAT sizes

fn in_transaction(c: ServerConfig) -> Harness {
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>\\r\\nRCPT TO:<b@example.com>\\r\\n
         S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK",
    );
    h
}

#[test]
fn huge_bdat_size() {
    // A refused chunk too large to skip (over Limits::bdat_discard) is answered at once
    // (no silent wait) and the session closes, so none of the octets that follow is ever
    // taken for a command.
    let mut h = in_transaction(cfg());
    h.run(
        "C: BDAT 18446744073709551615 LAST
         S: 552 5.3.4 Message size exceeds fixed limit
         A: closed",
    );
    assert!(h.log.contains(&Ev::Aborted(AbortReason::TooBig)));
    assert!(h.log.contains(&Ev::Closed(CloseReason::Unrecoverable)));
    h.feed(&b"MAIL FROM:<evil@example.org>\r\n".repeat(100));
    assert!(h.server.poll_transmit().is_none(), "nothing after close");
    assert!(h.messages.is_empty() && h.body.is_empty());

    // Also without a transaction: refused, and still too big to skip.
    let mut h = Harness::new(cfg(), Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S~ 250 HELP
         C: BDAT 99999999999 LAST
         S: 503 5.5.1 Need MAIL command
         A: closed",
    );

    // Without a size limit the chunk streams to the application in pieces no larger
    // than what was read.
    let mut c = cfg();
    c.limits.message_size = None;
    let mut h = in_transaction(c);
    h.feed(b"BDAT 18446744073709551615\r\n");
    let piece = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        h.server.handle_input(h.now, &piece);
        while let Some(ev) = h.server.poll_event() {
            match ev {
                smtp_sansio::server::Event::MessageChunk(c) => assert!(c.len() <= piece.len()),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(h.server.poll_transmit().is_none());
    }
    h.eof();
    assert!(h.log.contains(&Ev::Aborted(AbortReason::ConnectionLost)));
}

/// A size that does not fit 64 bits (or is no number) cannot be counted, so the octets
/// after it cannot be skipped: 501 and close, never a panic, never the payload run as
/// commands.
#[test]
fn overflowing_bdat_size() {
    for line in [
        "BDAT 18446744073709551616",
        "BDAT 99999999999999999999999999999999 LAST",
        "BDAT -1",
    ] {
        let mut h = in_transaction(cfg());
        h.run(&format!(
            "C: {line}
             S: 501 5.5.4 Syntax error in parameters or arguments
             A: closed"
        ));
        h.feed(b"MAIL FROM:<evil@example.org>\r\n");
        assert!(
            h.server.poll_transmit().is_none(),
            "{line}: nothing after close"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Abrupt end of input

fn eof_closes(mut h: Harness, aborted: bool) {
    let before = h.log.len();
    let out_before = h.out.len();
    h.eof();
    let tail = &h.log[before..];
    let want: Vec<Ev> = if aborted {
        vec![
            Ev::Aborted(AbortReason::ConnectionLost),
            Ev::Closed(CloseReason::PeerClosed),
        ]
    } else {
        vec![Ev::Closed(CloseReason::PeerClosed)]
    };
    assert_eq!(tail, &want[..], "{}", h.dump());
    assert_eq!(h.out.len(), out_before, "nothing written to a closed peer");
    assert!(h.server.is_closed());
    assert_eq!(h.server.poll_timeout(), None);
    // A second EOF or more input changes nothing.
    h.eof();
    h.feed(b"NOOP\r\n");
    assert_eq!(h.log.len(), before + want.len());
    assert!(h.messages.is_empty());
}

#[test]
fn abrupt_eof_in_every_state() {
    // In the greeting.
    let mut h = Harness::new(cfg(), Policy::accept_all());
    h.run("S: 220 localhost ESMTP ready");
    eof_closes(h, false);

    // Mid-line, after EHLO.
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run("C~ MAIL FROM:<a@exa");
    eof_closes(h, false);

    // Inside a transaction, before any body.
    let h = in_transaction(cfg());
    eof_closes(h, false);

    // Mid-DATA.
    let mut h = in_transaction(cfg());
    h.run(
        "C: DATA\\r\\nhalf a bo
         S: 354 End data with <CR><LF>.<CR><LF>",
    );
    eof_closes(h, true);

    // Mid-BDAT chunk, and between chunks.
    let mut h = in_transaction(cfg());
    h.run("C: BDAT 10\\r\\nabc");
    eof_closes(h, true);
    let mut h = in_transaction(cfg());
    h.run("C: BDAT 3\\r\\nabc\nS: 250 2.0.0 3 octets received");
    eof_closes(h, true);

    // While the message waits for its final reply.
    let mut h = after_ehlo(cfg(), Policy::accept_all().message(|_, _| Decision::Hold));
    h.run(
        "C: MAIL FROM:<a@example.com>\\r\\nRCPT TO:<b@example.com>\\r\\nDATA\\r\\nx\\r\\n.\\r\\n
         S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 354 End data with <CR><LF>.<CR><LF>",
    );
    assert!(h.held.is_some());
    // The body reached the application; the final reply never will.
    h.messages.clear();
    eof_closes(h, true);

    // Mid-AUTH.
    let mut ac = cfg();
    ac.auth_mechanisms = vec![Mechanism::LOGIN];
    let mut h = after_ehlo_tls(ac, Policy::accept_all());
    h.run("C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC~ dXNl");
    eof_closes(h, false);

    // While awaiting the TLS handshake.
    let mut h = after_ehlo(tls_cfg(), Policy::accept_all());
    h.run("C: STARTTLS\nS: 220 2.0.0 Ready to start TLS");
    eof_closes(h, false);
}

// ---------------------------------------------------------------------------------------
// AUTH and DATA limits

/// No credentials cross in clear by default: AUTH is not offered, is refused with 538,
/// and the credentials never reach the application.
#[test]
fn auth_before_tls_refused() {
    let mut c = tls_cfg();
    c.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
    let mut h = Harness::new(c, Policy::accept_all());
    h.run(
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
         S: 250 HELP
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: AUTH LOGIN
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: dXNlcg==
         S: 500 5.5.2 Syntax error, command unrecognized",
    );
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Auth { .. })));
    assert!(!h.server.is_authenticated());
}

/// Password guessing: every AUTH the application refuses counts toward the error limit,
/// so one connection gets `limits.errors` tries, pipelined or not, then `421 4.7.0`.
#[test]
fn auth_brute_force_closed_at_error_limit() {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
    c.limits.errors = 3;
    let policy = Policy::accept_all()
        .auth(|_| common::refuse("535 5.7.8 Authentication credentials invalid"));
    let mut h = after_ehlo_tls(c, policy);
    let before = h.out.len();
    // Pipelined guesses (PLAIN with an initial response), and one through LOGIN.
    h.feed(b"AUTH PLAIN AHVzZXIAZ3Vlc3Mx\r\nAUTH LOGIN dXNlcg==\r\nZ3Vlc3My\r\nAUTH PLAIN AHVzZXIAZ3Vlc3Mz\r\nAUTH PLAIN AHVzZXIAZ3Vlc3M0\r\n");
    let out = String::from_utf8_lossy(&h.out[before..]).into_owned();
    assert_eq!(
        out,
        "535 5.7.8 Authentication credentials invalid\r\n\
         334 UGFzc3dvcmQ6\r\n\
         535 5.7.8 Authentication credentials invalid\r\n\
         535 5.7.8 Authentication credentials invalid\r\n\
         421 4.7.0 Too many errors, closing connection\r\n",
        "{}",
        h.dump()
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 3, "{}", h.dump());
    assert_eq!(
        h.count(|e| *e == Ev::Closed(CloseReason::TooManyErrors)),
        1,
        "{}",
        h.dump()
    );
    assert!(!h.server.is_authenticated());
}

/// RFC 5321 4.5.3.1.6: a text line over 1000 octets fails the message, after its end.
#[test]
fn data_line_too_long_rejected() {
    let mut h = in_transaction(cfg());
    let long = "L".repeat(5000);
    h.run(&format!(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: short\\r\\n{long}\\r\\nMAIL FROM:<evil@example.com>\\r\\n.\\r\\n
         S: 500 5.3.4 Message line too long
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK"
    ));
    assert_eq!(h.message_ends(), 0);
    assert!(h.log.contains(&Ev::Aborted(AbortReason::LineTooLong)));
    assert_eq!(h.senders(), vec!["<a@example.com>", "<a@example.com>"]);

    // With the limit lifted, the same line is delivered.
    let mut c = cfg();
    c.limits.text_line = None;
    let mut h = in_transaction(c);
    h.run(&format!(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {long}\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted"
    ));
    assert_eq!(h.messages, vec![format!("{long}\r\n").into_bytes()]);
}

/// Back-pressure: `wants_input` is false while a decision is pending and half the input
/// bound is buffered, or while 64 KiB of replies wait to be written; true otherwise.
#[test]
fn flood_back_pressure_through_wants_input() {
    use smtp_sansio::server::{Event, Server, ServerConfig};
    let now = std::time::Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.limits.buffered_input = 1000;
    let mut s = Server::new(cfg, now).expect("valid configuration");
    assert_eq!(s.config().limits.buffered_input, 1000);
    assert!(s.wants_input());
    s.handle_input(now, b"EHLO a.example\r\n");
    let hello = match s.poll_event() {
        Some(Event::Hello(h)) => h,
        other => panic!("{other:?}"),
    };
    assert!(s.wants_input(), "pending, nothing buffered");
    s.handle_input(now, &b"NOOP\r\n".repeat(83)); // 498 octets
    assert!(s.wants_input(), "pending, under half the bound");
    s.handle_input(now, b"NOOP\r\n"); // 504
    assert!(!s.wants_input(), "pending, half the bound buffered");
    s.accept(hello.ticket).expect("accept");
    assert!(s.wants_input(), "answered: the buffered NOOPs ran");
    s.handle_input(now, &b"NOOP\r\n".repeat(6000)); // 84,000 octets of replies
    assert!(!s.wants_input(), "replies waiting to be written");
    while s.poll_transmit().is_some() {}
    assert!(s.wants_input());
    assert!(!s.is_closed());
}

/// The back-pressure thresholds are exact: input stops being wanted at half the input
/// bound buffered, and at 64 KiB of replies unwritten, not one octet later.
#[test]
fn flood_back_pressure_thresholds_are_exact() {
    use smtp_sansio::server::{Event, Server, ServerConfig};
    let now = std::time::Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.limits.buffered_input = 1000;
    let mut s = Server::new(cfg, now).expect("valid configuration");
    while s.poll_transmit().is_some() {}
    s.handle_input(now, b"EHLO a.example\r\n");
    let hello = match s.poll_event() {
        Some(Event::Hello(h)) => h,
        other => panic!("{other:?}"),
    };
    // One NOOP with trailing spaces, 500 octets with its CRLF, held while pending.
    let mut line = b"NOOP".to_vec();
    line.resize(498, b' ');
    line.push(b'\r');
    s.handle_input(now, &line);
    assert!(s.wants_input(), "pending, one octet under half the bound");
    s.handle_input(now, b"\n");
    assert!(!s.wants_input(), "pending, exactly half the bound");
    s.accept(hello.ticket).expect("accept");
    while s.poll_transmit().is_some() {}
    while s.poll_event().is_some() {}
    // Replies of 46 octets (an unknown verb) and 14 (NOOP): 4 × 46 + 4668 × 14 is
    // 65,536, less one NOOP first.
    let mut flood = b"X\r\n".repeat(4);
    flood.extend_from_slice(&b"NOOP\r\n".repeat(4667));
    s.handle_input(now, &flood);
    while s.poll_event().is_some() {}
    assert!(s.wants_input(), "14 octets under 64 KiB of replies");
    s.handle_input(now, b"NOOP\r\n");
    assert!(!s.wants_input(), "exactly 64 KiB of replies");
    let mut out = 0;
    while let Some(b) = s.poll_transmit() {
        out += b.len();
    }
    assert_eq!(out, 64 * 1024);
}
