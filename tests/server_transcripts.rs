//! Server transcripts, one per line of the "Wire format" and "Server side" floor in
//! `conformance.md`, written as RFC-style `C:`/`S:` dialogues (see `common/mod.rs`).

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{
    Decision, EHLO_DEFAULT, Ev, GREETING, Harness, Policy, after_ehlo, after_ehlo_tls, refuse,
    reply, transcript, transcript_with,
};
use smtp_sansio::Grammar;
use smtp_sansio::server::{
    AbortReason, CloseReason, Event, HelloKind, Server, ServerConfig, UsageErrorKind, Violation,
};
use smtp_sansio::types::{Body, MailAuth, MailParams, Mechanism, Notify, RcptParams, Ret};

fn cfg() -> ServerConfig {
    ServerConfig::default()
}

fn auth_cfg() -> ServerConfig {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
    c
}

fn default() -> Harness {
    after_ehlo(cfg(), Policy::accept_all())
}

// ---------------------------------------------------------------------------------------
// Wire format

/// RFC 5321 2.3.8: a bare LF inside a command line does not end it.
#[test]
fn rfc5321_2_3_8_bare_lf_is_not_a_command_line_end() {
    let h = transcript(&format!(
        "{GREETING}\
         C: NOOP\\nQUIT\\r\\n
         S: 500 5.5.2 Invalid character in command
         C: NOOP\\rQUIT\\r\\n
         S: 500 5.5.2 Invalid character in command
         A: open
         C: NOOP
         S: 250 2.0.0 OK"
    ));
    assert!(!h.log.contains(&Ev::Closed(CloseReason::Quit)));
}

/// RFC 5321 4.5.3.1.4: 512 octets with the CRLF is the longest command line.
#[test]
fn rfc5321_4_5_3_1_4_command_line_512_octets() {
    let fits = format!("NOOP {}", "x".repeat(512 - 7));
    let over = format!("NOOP {}", "x".repeat(512 - 6));
    transcript(&format!(
        "{GREETING}\
         C: {fits}
         S: 250 2.0.0 OK
         C: {over}
         S: 500 5.5.2 Line too long
         C: NOOP
         S: 250 2.0.0 OK"
    ));
}

/// The command line limit is configurable.
#[test]
fn rfc5321_4_5_3_1_4_command_line_limit_configurable() {
    let mut c = cfg();
    c.limits.command_line = 10;
    transcript_with(
        c,
        Policy::accept_all(),
        "S: 220 localhost ESMTP ready
         C: NOOP 123
         S: 250 2.0.0 OK
         C: NOOP 1234
         S: 500 5.5.2 Line too long
         C: NOOP
         S: 250 2.0.0 OK",
    );
}

/// RFC 5321 4.5.3.1.6: a text line of 1000 octets with CRLF is fine, 1001 fails the
/// message with 500 5.3.4 after its end, and the session stays usable.
#[test]
fn rfc5321_4_5_3_1_6_text_line_1000_octets() {
    let fits = "a".repeat(998);
    let over = "a".repeat(999);
    let mut h = default();
    h.run(&format!(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {fits}\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {over}\\r\\n.\\r\\n
         S: 500 5.3.4 Message line too long
         C: NOOP
         S: 250 2.0.0 OK"
    ));
    assert_eq!(h.messages, vec![format!("{fits}\r\n").into_bytes()]);
    assert!(h.log.contains(&Ev::Aborted(AbortReason::LineTooLong)));
}

/// RFC 4954 4: SASL responses of at least 12288 octets are accepted; one over the
/// configured limit is 500 5.5.6 (RFC 4954 6) and the session goes on.
#[test]
fn rfc4954_4_sasl_response_12288_octets() {
    let raw = vec![b'z'; 9210];
    let b64 = smtp_sansio::sasl::base64_encode(&raw);
    assert_eq!(b64.len() + 2, 12282);
    let over = "A".repeat(12288 - 1);
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::new("X-BIG").unwrap()];
    let policy = Policy::accept_all().sasl(|s| match &s.response {
        None => Decision::Challenge(Vec::new()),
        Some(_) => Decision::Accept,
    });
    let mut h = after_ehlo_tls(c, policy);
    h.run(&format!(
        "C: AUTH X-BIG
         S: 334 \n\
         C: {over}
         S: 500 5.5.6 Authentication Exchange line is too long
         C: AUTH X-BIG
         S: 334 \n\
         C: {b64}
         S: 235 2.7.0 Authentication successful"
    ));
    assert!(h.log.contains(&Ev::Sasl {
        mechanism: "X-BIG".into(),
        response: Some(raw)
    }));
}

/// RFC 5321 2.4: verbs and parameter keywords are case-insensitive; local parts are
/// kept exactly as sent.
#[test]
fn rfc5321_2_4_verbs_case_insensitive_local_part_exact() {
    let mut h = transcript(
        "S: 220 localhost ESMTP ready
         C: ehlo client.example
         S~ 250 HELP
         C: mail from:<John.Doe@Example.COM> size=10 body=8bitmime
         S: 250 2.1.0 Sender OK
         C: RcPt To:<Mixed.Case@Example.ORG>
         S: 250 2.1.5 Recipient OK
         C: dAtA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: hi\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted
         C: qUiT
         S: 221 2.0.0 Bye",
    );
    assert_eq!(h.senders(), vec!["<John.Doe@Example.COM>"]);
    assert_eq!(h.recipients(), vec!["<Mixed.Case@Example.ORG>"]);
    h.run("A: closed");
}

/// RFC 2034 / 3463: with ENHANCEDSTATUSCODES every reply but the greeting carries one;
/// without, none does, not even the application's.
#[test]
fn rfc2034_enhanced_status_codes_on_and_off() {
    let mut c = cfg();
    c.extensions.enhanced_status_codes = false;
    let h = transcript_with(
        c,
        Policy::accept_all().refuse_rcpt_containing("nobody"),
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
         S: 250 HELP
         C: MAIL FROM:<a@example.com>
         S: 250 Sender OK
         C: RCPT TO:<nobody@example.com>
         S: 550 No such user
         C: FOO
         S: 500 Syntax error, command unrecognized",
    );
    assert!(!String::from_utf8_lossy(&h.out).contains("5.1.1"));
}

// ---------------------------------------------------------------------------------------
// Greeting (RFC 5321 3.1, 4.2)

#[test]
fn rfc5321_3_1_greeting_220() {
    let mut c = cfg();
    c.hostname = "mx.example.org".into();
    c.greeting = "ESMTP at your service".into();
    transcript_with(
        c,
        Policy::accept_all(),
        "S: 220 mx.example.org ESMTP at your service",
    );
}

#[test]
fn rfc5321_3_1_refused_greeting_only_quit() {
    let mut h = Harness::refused(cfg(), Policy::accept_all());
    h.run(
        "S: 554 localhost No SMTP service here
         C: EHLO client.example
         S: 503 5.5.1 No service here, send QUIT
         C: MAIL FROM:<a@example.com>
         S: 503 5.5.1 No service here, send QUIT
         C: NOOP
         S: 503 5.5.1 No service here, send QUIT
         C: QUIT
         S: 221 2.0.0 Bye
         A: closed",
    );
    assert!(
        !h.log
            .iter()
            .any(|e| matches!(e, Ev::Hello(..) | Ev::Mail(_)))
    );
    assert_eq!(h.log.last(), Some(&Ev::Closed(CloseReason::Quit)));
}

// ---------------------------------------------------------------------------------------
// EHLO / HELO (RFC 5321 4.1.1.1, 4.1.4)

#[test]
fn rfc5321_4_1_1_1_ehlo_lists_extensions() {
    let h = transcript(&format!("{GREETING}C: EHLO client.example\n{EHLO_DEFAULT}"));
    assert_eq!(
        h.log,
        vec![Ev::Hello(HelloKind::Ehlo, "client.example".into())]
    );
}

/// Extensions switched off are not announced.
#[test]
fn rfc5321_4_1_1_1_ehlo_lists_only_extensions_in_force() {
    let mut c = cfg();
    c.extensions.pipelining = false;
    c.extensions.chunking = false;
    c.extensions.dsn = false;
    c.extensions.smtputf8 = false;
    c.limits.message_size = Some(1000);
    c.starttls = true;
    transcript_with(
        c,
        Policy::accept_all(),
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-SIZE 1000
         S: 250-8BITMIME
         S: 250-ENHANCEDSTATUSCODES
         S: 250-STARTTLS
         S: 250 HELP",
    );
}

#[test]
fn rfc5321_4_1_1_1_helo_single_line() {
    let h = transcript(&format!(
        "{GREETING}\
         C: HELO client.example
         S: 250 localhost Hello
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK"
    ));
    assert_eq!(
        h.log[0],
        Ev::Hello(HelloKind::Helo, "client.example".into())
    );
}

/// RFC 5321 4.1.3: address literals instead of a domain.
#[test]
fn rfc5321_4_1_3_ehlo_address_literals() {
    let h = transcript(&format!(
        "{GREETING}\
         C: EHLO [192.0.2.1]
         S~ 250 HELP
         C: EHLO [IPv6:2001:db8::1]
         S~ 250 HELP
         C: HELO [192.0.2.7]
         S: 250 localhost Hello"
    ));
    assert_eq!(
        h.log,
        vec![
            Ev::Hello(HelloKind::Ehlo, "[192.0.2.1]".into()),
            Ev::Hello(HelloKind::Ehlo, "[IPv6:2001:db8::1]".into()),
            Ev::Hello(HelloKind::Helo, "[192.0.2.7]".into()),
        ]
    );
}

#[test]
fn rfc5321_4_1_1_1_ehlo_missing_argument_501() {
    let h = transcript(&format!(
        "{GREETING}\
         C: EHLO
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: HELO
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: EHLO not a domain!
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: MAIL FROM:<a@example.com>
         S: 503 5.5.1 Send EHLO or HELO first"
    ));
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Hello(..))));
}

/// The application may refuse EHLO; the client then has no session.
#[test]
fn rfc5321_4_1_1_1_ehlo_refused_by_application() {
    transcript_with(
        cfg(),
        Policy::accept_all().hello(|h| {
            if h.host.to_string() == "spammer.example" {
                refuse("550 5.7.1 Go away")
            } else {
                Decision::Accept
            }
        }),
        "S: 220 localhost ESMTP ready
         C: EHLO spammer.example
         S: 550 5.7.1 Go away
         C: MAIL FROM:<a@example.com>
         S: 503 5.5.1 Send EHLO or HELO first
         C: EHLO good.example
         S~ 250 HELP",
    );
}

/// RFC 5321 4.1.4: EHLO in the middle of a transaction resets it.
#[test]
fn rfc5321_4_1_4_ehlo_resets_transaction() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: EHLO client.example
         S~ 250 HELP
         C: DATA
         S: 503 5.5.1 Need MAIL command
         C: RCPT TO:<b@example.com>
         S: 503 5.5.1 Need MAIL command
         C: MAIL FROM:<c@example.com>
         S: 250 2.1.0 Sender OK",
    );
}

// ---------------------------------------------------------------------------------------
// MAIL / RCPT paths (RFC 5321 4.1.1.2, 4.1.1.3, 4.1.2, 4.5.1)

#[test]
fn rfc5321_4_5_5_null_reverse_path() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<>"]);
}

/// RFC 5321 4.5.1: `<Postmaster>` without a domain is recognised in any case.
#[test]
fn rfc5321_4_5_1_postmaster_any_case() {
    // A policy that refuses every mailbox still lets the postmaster through, because the
    // machine hands it over as ForwardPath::Postmaster.
    let policy = Policy::accept_all().rcpt(|r| match r.to {
        smtp_sansio::types::ForwardPath::Postmaster => Decision::Accept,
        _ => refuse("550 5.1.1 No such user"),
    });
    let mut h = after_ehlo(cfg(), policy);
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<Postmaster>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<postmaster>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<POSTMASTER>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<user@example.com>
         S: 550 5.1.1 No such user",
    );
    assert_eq!(
        h.recipients(),
        vec![
            "<Postmaster>",
            "<Postmaster>",
            "<Postmaster>",
            "<user@example.com>"
        ]
    );
}

/// RFC 5321 4.1.1.3: source routes are parsed and ignored.
#[test]
fn rfc5321_4_1_1_3_source_routes_ignored() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<@a.example,@b.example:user@d.example>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<@hop.example:rcpt@d.example>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<user@d.example>"]);
    assert_eq!(h.recipients(), vec!["<rcpt@d.example>"]);
}

/// RFC 5321 4.1.2: quoted local parts are kept with their quotes.
#[test]
fn rfc5321_4_1_2_quoted_local_parts() {
    let mut h = default();
    h.run(
        r#"C: MAIL FROM:<"john doe"@example.com>
           S: 250 2.1.0 Sender OK
           C: RCPT TO:<"a\\"b"@example.com>
           S: 250 2.1.5 Recipient OK"#,
    );
    assert_eq!(h.senders(), vec![r#"<"john doe"@example.com>"#]);
    assert_eq!(h.recipients(), vec![r#"<"a\"b"@example.com>"#]);
}

/// RFC 5321 4.1.3: address literals in mailboxes.
#[test]
fn rfc5321_4_1_3_address_literals_in_paths() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<user@[192.0.2.1]>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<user@[IPv6:2001:db8::1]>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<user@[192.0.2.1]>"]);
    assert_eq!(h.recipients(), vec!["<user@[IPv6:2001:db8::1]>"]);
}

/// A space after the colon is accepted by default.
#[test]
fn rfc5321_4_1_1_2_space_after_colon_lenient() {
    let mut h = default();
    h.run(
        "C: MAIL FROM: <a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO: <b@example.com>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<a@example.com>"]);
}

/// ... and refused under `Grammar::strict()`.
#[test]
fn rfc5321_4_1_1_2_space_after_colon_strict() {
    let mut c = cfg();
    c.grammar = Grammar::strict();
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM: <a@example.com>
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO: <b@example.com>
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<a@example.com>"]);
}

// ---------------------------------------------------------------------------------------
// Sequence errors (RFC 5321 4.1.4, 3.3; RFC 3030)

#[test]
fn rfc5321_4_1_4_rcpt_before_mail_503() {
    let h = transcript(&format!(
        "{GREETING}\
         C: EHLO client.example
         S~ 250 HELP
         C: RCPT TO:<b@example.com>
         S: 503 5.5.1 Need MAIL command"
    ));
    assert!(h.recipients().is_empty());
}

#[test]
fn rfc5321_4_1_4_mail_before_ehlo_503() {
    let h = transcript(&format!(
        "{GREETING}\
         C: MAIL FROM:<a@example.com>
         S: 503 5.5.1 Send EHLO or HELO first
         C: RCPT TO:<b@example.com>
         S: 503 5.5.1 Send EHLO or HELO first
         C: DATA
         S: 503 5.5.1 Send EHLO or HELO first"
    ));
    assert!(h.senders().is_empty());
}

#[test]
fn rfc5321_4_1_4_nested_mail_503() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: MAIL FROM:<b@example.com>
         S: 503 5.5.1 Sender already given",
    );
    assert_eq!(h.senders(), vec!["<a@example.com>"]);
}

#[test]
fn rfc5321_4_1_4_data_without_rcpt_503() {
    let mut h = default();
    h.run(
        "C: DATA
         S: 503 5.5.1 Need MAIL command
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: DATA
         S: 503 5.5.1 Need RCPT command",
    );
    assert!(!h.log.contains(&Ev::MessageStart));
}

/// RFC 2920 3.1: DATA after pipelined RCPTs that all failed gets 554.
#[test]
fn rfc2920_3_1_data_after_all_rcpt_refused_554() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().refuse_rcpt_containing("bad"));
    h.run(
        "C: MAIL FROM:<a@example.com>\\r\\nRCPT TO:<bad1@example.com>\\r\\nRCPT TO:<bad2@example.com>\\r\\nDATA\\r\\nSubject: x\\r\\n
         S: 250 2.1.0 Sender OK
         S: 550 5.1.1 No such user
         S: 550 5.1.1 No such user
         S: 554 5.5.1 No valid recipients
         S: 500 5.5.2 Syntax error, command unrecognized",
    );
    assert!(!h.log.contains(&Ev::MessageStart));
}

/// RFC 3030 2: after BDAT LAST the transaction is over.
#[test]
fn rfc3030_2_bdat_after_bdat_last_503() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 3 LAST\\r\\nabc
         S: 250 2.0.0 Message accepted
         C: BDAT 4\\r\\nNOOP
         S: 503 5.5.1 Need MAIL command
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert_eq!(h.messages, vec![b"abc".to_vec()]);
}

/// RFC 3030 2: DATA and BDAT do not mix in one transaction.
#[test]
fn rfc3030_2_data_after_bdat_503() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 3\\r\\nabc
         S: 250 2.0.0 3 octets received
         C: DATA
         S: 503 5.5.1 DATA not allowed after BDAT
         C: BDAT 3 LAST\\r\\ndef
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.messages, vec![b"abcdef".to_vec()]);
}

// ---------------------------------------------------------------------------------------
// Error replies (RFC 5321 4.2.4, 4.1.1.11)

#[test]
fn rfc5321_4_2_4_unknown_verb_500() {
    let h = transcript(&format!(
        "{GREETING}\
         C: FOO bar
         S: 500 5.5.2 Syntax error, command unrecognized
         C: X-
         S: 500 5.5.2 Syntax error, command unrecognized
         C: \\r\\n
         S: 500 5.5.2 Syntax error, command unrecognized"
    ));
    assert_eq!(
        h.count(|e| matches!(e, Ev::Violation(Violation::Command { .. }))),
        3
    );
}

#[test]
fn rfc5321_4_2_4_known_unsupported_502() {
    transcript(&format!(
        "{GREETING}\
         C: TURN
         S: 502 5.5.1 Command not implemented
         C: ETRN example.com
         S: 502 5.5.1 Command not implemented
         C: EXPN staff
         S: 252 2.5.0 Cannot EXPN, but will accept message and attempt delivery"
    ));
}

#[test]
fn rfc5321_4_2_4_syntax_error_501() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:a@example.com
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: MAIL TO:<a@example.com>
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<>
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: RCPT TO:<b@>
         S: 501 5.5.4 Syntax error in parameters or arguments
         C: QUIT now
         S: 501 5.5.4 Syntax error in parameters or arguments
         A: open",
    );
}

/// RFC 5321 4.1.1.11 / RFC 1869: an unknown MAIL or RCPT parameter gets 555.
#[test]
fn rfc5321_4_1_1_11_unknown_parameter_555() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> FOO=BAR
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com> XYZZY
         S: 555 5.5.4 Parameter not recognized or not implemented",
    );
    assert!(h.recipients().is_empty());
}

/// A parameter of an extension that is switched off is not recognised either.
#[test]
fn rfc5321_4_1_1_11_parameter_of_extension_off_555() {
    let mut c = cfg();
    c.extensions.dsn = false;
    c.extensions.smtputf8 = false;
    c.extensions.eight_bit_mime = false;
    c.extensions.chunking = false;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com> RET=FULL
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com> ENVID=abc
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com> SMTPUTF8
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com> BODY=8BITMIME
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com> BODY=BINARYMIME
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com> REQUIRETLS
         S: 530 5.7.10 REQUIRETLS needs a TLS session
         C: MAIL FROM:<a@example.com> AUTH=<>
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com> NOTIFY=NEVER
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: RCPT TO:<b@example.com> ORCPT=rfc822;b@example.com
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders().len(), 1);
}

/// After HELO (not EHLO) no ESMTP parameter is recognised at all.
#[test]
fn rfc5321_4_1_1_11_parameters_after_helo_555() {
    transcript(&format!(
        "{GREETING}\
         C: HELO client.example
         S: 250 localhost Hello
         C: MAIL FROM:<a@example.com> SIZE=10
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK"
    ));
}

/// A RCPT parameter on MAIL (and a MAIL one on RCPT) is an unknown parameter: 555
/// (RFC 5321 4.1.1.11), even with DSN offered.
#[test]
fn rfc5321_4_1_1_11_parameter_of_the_other_command_555() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> NOTIFY=NEVER
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com> SIZE=10
         S: 555 5.5.4 Parameter not recognized or not implemented",
    );
}

/// Each extension's MAIL parameter is refused (555) exactly when that extension is
/// not offered, one at a time (RFC 6710 MT-PRIORITY, RFC 8689 REQUIRETLS).
#[test]
fn rfc5321_4_1_1_11_each_parameter_refused_only_without_its_extension() {
    let mut c = cfg();
    c.extensions.mt_priority = false;
    c.extensions.requiretls = false;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com> MT-PRIORITY=3
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: MAIL FROM:<a@example.com> REQUIRETLS
         S: 555 5.5.4 Parameter not recognized or not implemented",
    );
    let mut c = cfg();
    c.extensions.mt_priority = true;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com> MT-PRIORITY=3
         S: 250 2.1.0 Sender OK",
    );
}

// ---------------------------------------------------------------------------------------
// RSET, NOOP, VRFY, HELP, QUIT (RFC 5321 4.1.1.5 - 4.1.1.10)

#[test]
fn rfc5321_4_1_1_5_rset_keeps_ehlo_state() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> SIZE=10
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: RSET
         S: 250 2.0.0 OK
         C: DATA
         S: 503 5.5.1 Need MAIL command
         C: MAIL FROM:<c@example.com> SIZE=20
         S: 250 2.1.0 Sender OK",
    );
    // SIZE is still accepted: the EHLO state survived.
    assert_eq!(h.senders(), vec!["<a@example.com>", "<c@example.com>"]);
}

/// RSET during a BDAT transaction drops the partial message.
#[test]
fn rfc3030_rset_aborts_bdat_transaction() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 2\\r\\nab
         S: 250 2.0.0 2 octets received
         C: RSET
         S: 250 2.0.0 OK",
    );
    assert!(h.log.contains(&Ev::Aborted(AbortReason::Reset)));
    assert!(h.messages.is_empty());
}

#[test]
fn rfc5321_4_1_1_9_noop_250() {
    transcript(&format!(
        "{GREETING}\
         C: NOOP
         S: 250 2.0.0 OK
         C: NOOP anything at all
         S: 250 2.0.0 OK"
    ));
}

#[test]
fn rfc5321_3_5_3_vrfy_252_by_default() {
    let h = transcript(&format!(
        "{GREETING}\
         C: VRFY alice
         S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery"
    ));
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Vrfy(_))));
}

#[test]
fn rfc5321_3_5_3_vrfy_answered_by_application() {
    let mut c = cfg();
    c.ask_vrfy = true;
    let h = transcript_with(
        c,
        Policy::accept_all().vrfy(|v| {
            if v.query == "alice" {
                Decision::Respond(reply("250 2.1.5 Alice <alice@example.com>"))
            } else {
                refuse("550 5.1.1 Unknown user")
            }
        }),
        "S: 220 localhost ESMTP ready
         C: VRFY alice
         S: 250 2.1.5 Alice <alice@example.com>
         C: VRFY bob
         S: 550 5.1.1 Unknown user",
    );
    assert_eq!(
        h.log,
        vec![Ev::Vrfy("alice".into()), Ev::Vrfy("bob".into())]
    );
}

#[test]
fn rfc5321_4_1_1_8_help_214() {
    transcript(&format!(
        "{GREETING}\
         C: HELP
         S: 214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS AUTH
         C: HELP MAIL
         S: 214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS AUTH"
    ));
}

/// RFC 5321 4.1.1.10: 221, then the connection closes; nothing more is read.
#[test]
fn rfc5321_4_1_1_10_quit_221_then_closed() {
    let h = transcript(&format!(
        "{GREETING}\
         C: QUIT\\r\\nNOOP\\r\\n
         S: 221 2.0.0 Bye
         A: closed
         C: NOOP"
    ));
    assert_eq!(h.log, vec![Ev::Closed(CloseReason::Quit)]);
    assert_eq!(h.server.poll_timeout(), None);
}

// ---------------------------------------------------------------------------------------
// Recipients (RFC 5321 4.5.3.1.8, 4.5.3.1.10)

#[test]
fn rfc5321_4_5_3_1_8_at_least_100_recipients() {
    let mut script = String::from("C: MAIL FROM:<a@example.com>\nS: 250 2.1.0 Sender OK\n");
    for i in 0..100 {
        script.push_str(&format!(
            "C: RCPT TO:<r{i}@example.com>\nS: 250 2.1.5 Recipient OK\n"
        ));
    }
    script.push_str(
        "C: RCPT TO:<r100@example.com>
         S: 452 4.5.3 Too many recipients
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: x\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted",
    );
    let mut h = default();
    h.run(&script);
    let Some(Ev::Message { recipients, .. }) =
        h.log.iter().find(|e| matches!(e, Ev::Message { .. }))
    else {
        panic!("no message\n{}", h.dump());
    };
    assert_eq!(recipients.len(), 100);
}

#[test]
fn rfc5321_4_5_3_1_10_recipient_limit_452_configurable() {
    let mut c = cfg();
    c.limits.recipients = 2;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<r1@example.com>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<r2@example.com>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<r3@example.com>
         S: 452 4.5.3 Too many recipients
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(
        h.recipients().len(),
        2,
        "the third never reached the application"
    );
}

// ---------------------------------------------------------------------------------------
// DATA (RFC 5321 4.1.1.4, 4.5.2, 6.1)

#[test]
fn rfc5321_4_5_2_data_dot_unstuffing_byte_exact() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: Subject: dots\\r\\n\\r\\n..one dot\\r\\n...two dots\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(
        h.messages,
        vec![b"Subject: dots\r\n\r\n.one dot\r\n..two dots\r\n".to_vec()]
    );
    assert_eq!(h.log[3], Ev::MessageStart);
}

/// Binary-ish content and a body split in many reads come out byte-exact.
#[test]
fn rfc5321_4_5_2_data_body_across_reads() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> BODY=8BITMIME
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C~ line \\xc3\\xa9\\xff\\t end\\r
         C~ \\n.
         C~ .x\\r\\n\\r
         C~ \\n.\\r
         C~ \\n
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(
        h.messages,
        vec![b"line \xc3\xa9\xff\t end\r\n.x\r\n\r\n".to_vec()]
    );
}

/// A `.` line right after the 354 ends an empty message.
#[test]
fn rfc5321_4_1_1_4_empty_message() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.messages, vec![Vec::<u8>::new()]);
}

/// RFC 5321 6.1: the final reply waits for the application; the machine never says 250
/// on its own.
#[test]
fn rfc5321_6_1_final_reply_only_after_application_accepts() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().message(|_, _| Decision::Hold));
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: body\\r\\n.\\r\\nNOOP\\r\\n",
    );
    // Nothing was written after the body, not even the pipelined NOOP's reply.
    assert!(h.pending.is_empty());
    assert!(h.held.is_some());
    assert_eq!(h.server.poll_timeout(), None, "no deadline while deciding");
    h.run(
        "A: accept
         S: 250 2.0.0 Message accepted
         S: 250 2.0.0 OK",
    );
}

/// The application's refusal is passed on, and the session goes on.
#[test]
fn rfc5321_6_1_storage_failure_reply_from_application() {
    let mut h = after_ehlo(
        cfg(),
        Policy::accept_all().message(|_, _| refuse("451 4.3.0 Cannot store message")),
    );
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: body\\r\\n.\\r\\n
         S: 451 4.3.0 Cannot store message
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
}

/// Several messages on one connection.
#[test]
fn rfc5321_3_3_several_transactions() {
    let mut h = default();
    for body in ["one", "two"] {
        h.run(&format!(
            "C: MAIL FROM:<a@example.com>
             S: 250 2.1.0 Sender OK
             C: RCPT TO:<b@example.com>
             S: 250 2.1.5 Recipient OK
             C: DATA
             S: 354 End data with <CR><LF>.<CR><LF>
             C: {body}\\r\\n.\\r\\n
             S: 250 2.0.0 Message accepted"
        ));
    }
    assert_eq!(h.messages, vec![b"one\r\n".to_vec(), b"two\r\n".to_vec()]);
}

// ---------------------------------------------------------------------------------------
// SIZE (RFC 1870)

fn small_cfg(limit: u64) -> ServerConfig {
    let mut c = cfg();
    c.limits.message_size = Some(limit);
    c
}

#[test]
fn rfc1870_6_declared_size_over_limit_552() {
    let mut h = after_ehlo(small_cfg(100), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com> SIZE=101
         S: 552 5.3.4 Message size exceeds fixed limit
         C: MAIL FROM:<a@example.com> SIZE=100
         S: 250 2.1.0 Sender OK",
    );
    assert_eq!(h.senders().len(), 1);
}

/// Data beyond the limit is read to the end and dropped, then 552; the session stays
/// usable and nothing of the message is delivered.
#[test]
fn rfc1870_body_over_limit_read_to_end_then_552() {
    let big = "x".repeat(60);
    let mut h = after_ehlo(small_cfg(50), Policy::accept_all());
    h.run(&format!(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {big}\\r\\nMAIL FROM:<evil@example.com>\\r\\n
         C: {big}\\r\\n
         C: .
         S: 552 5.3.4 Message size exceeds fixed limit
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: small\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted"
    ));
    assert_eq!(h.count(|e| *e == Ev::Aborted(AbortReason::TooBig)), 1);
    assert_eq!(h.messages, vec![b"small\r\n".to_vec()]);
    assert!(!h.senders().contains(&"<evil@example.com>".to_string()));
}

/// The same for BDAT: a chunk that would pass the limit is consumed and refused.
#[test]
fn rfc1870_bdat_over_limit_consumed_then_552() {
    let mut h = after_ehlo(small_cfg(5), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 3\\r\\nabc
         S: 250 2.0.0 3 octets received
         C: BDAT 6 LAST\\r\\nNOOP\\r\\n
         S: 552 5.3.4 Message size exceeds fixed limit
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(h.log.contains(&Ev::Aborted(AbortReason::TooBig)));
    assert!(h.messages.is_empty());
}

// ---------------------------------------------------------------------------------------
// BDAT (RFC 3030)

#[test]
fn rfc3030_2_bdat_chunks_reply_each_then_last() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 7\\r\\nhel.\\r\\nl
         S: 250 2.0.0 7 octets received
         C~ BDAT 5\\r\\no
         C~ \\r\\n.\\r
         S: 250 2.0.0 5 octets received
         C: BDAT 0 LAST
         S: 250 2.0.0 Message accepted",
    );
    // No dot handling at all inside BDAT.
    assert_eq!(h.messages, vec![b"hel.\r\nlo\r\n.\r".to_vec()]);
    assert_eq!(h.count(|e| *e == Ev::MessageStart), 1);
}

#[test]
fn rfc3030_2_bdat_0_last_empty_message() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 0 LAST
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.messages, vec![Vec::<u8>::new()]);
}

/// RFC 3030 2: a refused chunk whose size was readable is still consumed, so its bytes
/// are never taken for commands.
#[test]
fn rfc3030_2_refused_bdat_chunk_still_consumed() {
    let mut h = default();
    h.run(
        "C: BDAT 12\\r\\nNOOP\\r\\nQUIT\\r\\n
         S: 503 5.5.1 Need MAIL command
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: BDAT 12 LAST\\r\\nNOOP\\r\\nQUIT\\r\\n
         S: 503 5.5.1 Need RCPT command
         A: open
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(!h.log.contains(&Ev::Closed(CloseReason::Quit)));
}

/// Without CHUNKING, BDAT is 502 but its octets are still skipped.
#[test]
fn rfc3030_2_bdat_without_chunking_502_consumed() {
    let mut c = cfg();
    c.extensions.chunking = false;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: BDAT 6\\r\\nQUIT\\r\\n
         S: 502 5.5.1 Command not implemented
         C: NOOP
         S: 250 2.0.0 OK",
    );
}

/// RFC 3030 3: BODY=BINARYMIME only with BDAT.
#[test]
fn rfc3030_3_binarymime_only_with_bdat() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> BODY=BINARYMIME
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 503 5.5.1 BODY=BINARYMIME requires BDAT
         C: BDAT 4 LAST\\r\\n\\x00\\x01\\r\\xff
         S: 250 2.0.0 Message accepted",
    );
    assert_eq!(h.messages, vec![b"\x00\x01\r\xff".to_vec()]);
}

// ---------------------------------------------------------------------------------------
// SMTPUTF8, 8BITMIME, DSN, AUTH=, REQUIRETLS: typed parameters

/// RFC 6531 3.5: a non-ASCII address needs SMTPUTF8 on MAIL: `550 5.6.7` at MAIL,
/// `553 5.6.7` at RCPT.
#[test]
fn rfc6531_3_5_non_ascii_address_needs_smtputf8_550_mail_553_rcpt() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<j\\xc3\\xb6rg@example.com>
         S: 550 5.6.7 Non-ASCII address requires SMTPUTF8
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<j\\xc3\\xb6rg@b\\xc3\\xbccher.example>
         S: 553 5.6.7 Non-ASCII address requires SMTPUTF8
         C: RSET
         S: 250 2.0.0 OK
         C: MAIL FROM:<j\\xc3\\xb6rg@example.com> SMTPUTF8
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<j\\xc3\\xb6rg@b\\xc3\\xbccher.example>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<a@example.com>", "<jörg@example.com>"]);
    assert_eq!(h.recipients(), vec!["<jörg@bücher.example>"]);
}

/// RFC 1870, 6152, 3461, 4954 5, 8689: parameters arrive typed.
#[test]
fn rfc3461_dsn_and_other_params_typed() {
    let mails: Rc<RefCell<Vec<MailParams<'static>>>> = Rc::default();
    let rcpts: Rc<RefCell<Vec<RcptParams<'static>>>> = Rc::default();
    let (m, r) = (mails.clone(), rcpts.clone());
    let mut c = auth_cfg();
    c.auth_requires_tls = true;
    let policy = Policy::accept_all()
        .mail(move |req| {
            m.borrow_mut().push(req.params.clone());
            Decision::Accept
        })
        .rcpt(move |req| {
            r.borrow_mut().push(req.params.clone());
            Decision::Accept
        });
    let mut h = after_ehlo_tls(c, policy);
    h.run(
        "C: MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=QQ314159 AUTH=a+40example.com REQUIRETLS
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.com
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<c@example.com> NOTIFY=NEVER
         S: 250 2.1.5 Recipient OK
         C: RSET
         S: 250 2.0.0 OK
         C: MAIL FROM:<> BODY=7BIT AUTH=<> RET=FULL
         S: 250 2.1.0 Sender OK
         C: RSET
         S: 250 2.0.0 OK
         C: MAIL FROM:<a@example.com> RET=SOMETIMES
         S: 501 5.5.4 Invalid parameter value
         C: MAIL FROM:<a@example.com> SIZE=1 SIZE=2
         S: 501 5.5.4 Duplicate parameter",
    );
    let mails = mails.borrow();
    assert_eq!(mails.len(), 2);
    let p = &mails[0];
    assert_eq!(p.size, Some(1000));
    assert_eq!(p.body, Some(Body::EightBitMime));
    assert_eq!(p.ret, Some(Ret::Hdrs));
    assert_eq!(p.envid.as_ref().map(|x| x.as_str()), Some("QQ314159"));
    assert!(matches!(&p.auth, Some(MailAuth::Identity(x)) if x.as_str() == "a@example.com"));
    assert!(p.requiretls);
    assert_eq!(mails[1].body, Some(Body::SevenBit));
    assert_eq!(mails[1].auth, Some(MailAuth::Unknown));
    assert_eq!(mails[1].ret, Some(Ret::Full));
    let rcpts = rcpts.borrow();
    assert_eq!(
        rcpts[0].notify,
        Some(Notify::On {
            success: true,
            failure: true,
            delay: false
        })
    );
    let orcpt = rcpts[0].orcpt.as_ref().expect("ORCPT");
    assert!(orcpt.addr_type().eq_ignore_ascii_case("rfc822"));
    assert_eq!(orcpt.address().as_str(), "b@example.com");
    assert_eq!(rcpts[1].notify, Some(Notify::Never));
}

/// RFC 8689: REQUIRETLS only inside TLS, and only announced there.
#[test]
fn rfc8689_requiretls_needs_tls() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> REQUIRETLS
         S: 530 5.7.10 REQUIRETLS needs a TLS session",
    );
    assert!(h.senders().is_empty());
    let mut t = Harness::new_tls(cfg(), Policy::accept_all());
    t.run(
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
         S: 250-REQUIRETLS
         S: 250 HELP
         C: MAIL FROM:<a@example.com> REQUIRETLS
         S: 250 2.1.0 Sender OK",
    );
}

// ---------------------------------------------------------------------------------------
// PIPELINING (RFC 2920)

/// A whole group in one read: every reply, in order, in one transmit buffer; nothing
/// after DATA is lost.
#[test]
fn rfc2920_3_1_group_replies_in_order_one_drain() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().refuse_rcpt_containing("bad"));
    h.feed(
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<bad@example.com>\r\n\
          RCPT TO:<c@example.com>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\n\
          MAIL FROM:<d@example.com>\r\nRCPT TO:<e@example.com>\r\nBDAT 4 LAST\r\nabcd\
          NOOP\r\nQUIT\r\n",
    );
    assert_eq!(
        h.last_transmits.len(),
        1,
        "one drain: {:?}",
        h.last_transmits
    );
    h.run(
        "S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 550 5.1.1 No such user
         S: 250 2.1.5 Recipient OK
         S: 354 End data with <CR><LF>.<CR><LF>
         S: 250 2.0.0 Message accepted
         S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 250 2.0.0 Message accepted
         S: 250 2.0.0 OK
         S: 221 2.0.0 Bye
         A: closed",
    );
    assert_eq!(
        h.messages,
        vec![b"Subject: hi\r\n\r\nbody\r\n".to_vec(), b"abcd".to_vec()]
    );
}

/// Commands are handled strictly in order: while a decision is pending nothing behind
/// it runs, and it all runs once the application answers.
#[test]
fn rfc2920_3_1_strict_order_behind_pending_decision() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>\\r\\nRCPT TO:<b@example.com>\\r\\nDATA\\r\\nx\\r\\n.\\r\\nNOOP\\r\\n");
    assert!(
        h.recipients().is_empty(),
        "RCPT ran before MAIL was decided"
    );
    h.run(
        "A: accept
         S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 354 End data with <CR><LF>.<CR><LF>
         S: 250 2.0.0 Message accepted
         S: 250 2.0.0 OK",
    );
    assert_eq!(h.last_transmits.len(), 1);
}

/// The group split at every byte gives the same replies.
#[test]
fn rfc2920_group_byte_by_byte() {
    let input =
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n.hi\r\n.\r\nQUIT\r\n";
    let mut whole = default();
    whole.feed(input);
    let mut bytes = default();
    for b in input {
        bytes.feed(std::slice::from_ref(b));
    }
    assert_eq!(common::esc(&whole.out), common::esc(&bytes.out));
    assert_eq!(whole.log, bytes.log);
    assert_eq!(whole.messages, vec![b"hi\r\n".to_vec()]);
}

// ---------------------------------------------------------------------------------------
// STARTTLS (RFC 3207)

fn tls_cfg() -> ServerConfig {
    let mut c = cfg();
    c.starttls = true;
    c
}

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

// ---------------------------------------------------------------------------------------
// AUTH (RFC 4954, 4616)

#[test]
fn rfc4616_auth_plain_initial_response() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.log.contains(&Ev::Auth {
        mechanism: "PLAIN".into(),
        authzid: None,
        authcid: "user".into(),
        password: "pass".into(),
    }));
    assert!(h.server.is_authenticated());
}

#[test]
fn rfc4954_4_auth_plain_via_334() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN
         S: 334 \n\
         C: YWRtaW4AdXNlcgBwYXNz
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.log.contains(&Ev::Auth {
        mechanism: "PLAIN".into(),
        authzid: Some("admin".into()),
        authcid: "user".into(),
        password: "pass".into(),
    }));
}

#[test]
fn rfc4954_auth_login_two_steps() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: dXNlcg==
         S: 334 UGFzc3dvcmQ6
         C: cGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.log.contains(&Ev::Auth {
        mechanism: "LOGIN".into(),
        authzid: None,
        authcid: "user".into(),
        password: "pass".into(),
    }));
}

#[test]
fn rfc4954_auth_login_with_initial_response() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: auth login dXNlcg==
         S: 334 UGFzc3dvcmQ6
         C: cGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
}

/// LOGIN with an empty user name (`=`, the RFC 4954 4 empty response) is malformed:
/// 501 at once, no password prompt.
#[test]
fn rfc4954_auth_login_empty_user_501() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: =
         S: 501 5.5.2 Malformed authentication response
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Auth { .. })));
}

/// RFC 4954 4: `*` cancels the exchange with 501.
#[test]
fn rfc4954_4_star_cancels_501() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: *
         S: 501 5.0.0 Authentication cancelled
         C: AUTH PLAIN =
         S: 501 5.5.2 Malformed authentication response
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 1);
}

#[test]
fn rfc4954_4_bad_base64_501() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN !!!notbase64
         S: 501 5.5.2 Cannot decode response
         C: AUTH PLAIN
         S: 334 \n\
         C: AHVz%%ZXIAcGFzcw==
         S: 501 5.5.2 Cannot decode response
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Auth { .. })));
}

#[test]
fn rfc4954_6_failure_535_from_application() {
    let mut h = after_ehlo_tls(
        auth_cfg(),
        Policy::accept_all().auth(|a| {
            if a.password.expose() == "right" {
                Decision::Accept
            } else {
                refuse("535 5.7.8 Authentication credentials invalid")
            }
        }),
    );
    let good = smtp_sansio::sasl::base64_encode(b"\0user\0right");
    h.run(&format!(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 535 5.7.8 Authentication credentials invalid
         C: AUTH PLAIN {good}
         S: 235 2.7.0 Authentication successful"
    ));
    assert!(h.server.is_authenticated());
}

#[test]
fn rfc4954_4_no_auth_inside_transaction_503() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 503 5.5.1 AUTH not permitted during a mail transaction",
    );
    assert!(!h.server.is_authenticated());
}

#[test]
fn rfc4954_4_no_auth_after_success_503() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 503 5.5.1 Already authenticated",
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 1);
}

#[test]
fn rfc4954_4_unknown_mechanism_504() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH CRAM-MD5
         S: 504 5.5.4 Unrecognized authentication mechanism
         C: AUTH NOT_A_MECH_NAME_THAT_IS_TOO_LONG
         S: 501 5.5.4 Syntax error in parameters or arguments",
    );
}

/// RFC 4954 4: AUTH requires EHLO.
#[test]
fn rfc4954_4_auth_before_ehlo_503() {
    let mut h = Harness::new_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 503 5.5.1 Send EHLO first",
    );
}

/// By default no plaintext mechanism is offered or allowed before TLS (538 5.7.11).
#[test]
fn rfc4954_4_auth_before_tls_538() {
    let mut c = auth_cfg();
    c.starttls = true;
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
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         A: tls
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
         S: 250-AUTH PLAIN LOGIN
         S: 250-REQUIRETLS
         S: 250 HELP
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 1);
}

/// Allowed in clear when configured so.
#[test]
fn rfc4954_auth_in_clear_when_configured() {
    let mut c = auth_cfg();
    c.auth_requires_tls = false;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
}

/// RFC 6409 4.3 / RFC 4954 6: with authentication required, MAIL before AUTH is 530.
#[test]
fn rfc4954_6_require_auth_mail_530() {
    let mut c = auth_cfg();
    c.require_auth = true;
    let mut h = after_ehlo_tls(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 530 5.7.0 Authentication required
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
    assert_eq!(h.senders().len(), 1);
}

/// RFC 4422: any other mechanism is a series of steps the application answers.
#[test]
fn rfc4422_custom_mechanism_sasl_steps() {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::new("X-TEST").unwrap()];
    let policy = Policy::accept_all().sasl(|s| match s.response.as_ref().map(|r| r.expose()) {
        None => Decision::Challenge(b"nonce".to_vec()),
        Some(r) if r == b"answer" => Decision::Accept,
        Some(_) => refuse("535 5.7.8 Wrong answer"),
    });
    let mut h = after_ehlo_tls(c, policy);
    h.run(
        "C: AUTH X-TEST
         S: 334 bm9uY2U=
         C: YW5zd2Vy
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(
        h.log
            .iter()
            .filter(|e| matches!(e, Ev::Sasl { .. }))
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            Ev::Sasl {
                mechanism: "X-TEST".into(),
                response: None
            },
            Ev::Sasl {
                mechanism: "X-TEST".into(),
                response: Some(b"answer".to_vec())
            },
        ]
    );
    assert!(h.server.is_authenticated());
}

/// A custom mechanism with an initial response, refused by the application.
#[test]
fn rfc4422_custom_mechanism_initial_response_refused() {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::XOAUTH2];
    let mut h = after_ehlo_tls(
        c,
        Policy::accept_all().sasl(|_| refuse("535 5.7.8 Bad token")),
    );
    h.run(
        "C: AUTH XOAUTH2 dG9rZW4=
         S: 535 5.7.8 Bad token
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(h.log.contains(&Ev::Sasl {
        mechanism: "XOAUTH2".into(),
        response: Some(b"token".to_vec())
    }));
    assert!(!h.server.is_authenticated());
}

// ---------------------------------------------------------------------------------------
// Error limit, timeouts

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

/// No deadline runs while the application decides; afterwards it is measured afresh.
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
    let due = h.server.poll_timeout().expect("a deadline");
    assert!(due <= h.now, "the machine asks to be called to re-arm");
    h.timeout();
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

// ---------------------------------------------------------------------------------------
// LMTP (RFC 2033)

fn lmtp_cfg() -> ServerConfig {
    let mut c = cfg();
    c.lmtp = true;
    c
}

#[test]
fn rfc2033_4_1_lhlo_and_ehlo_refused() {
    let h = transcript_with(
        lmtp_cfg(),
        Policy::accept_all(),
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S: 500 5.5.1 This is an LMTP server: use LHLO
         C: HELO client.example
         S: 500 5.5.1 This is an LMTP server: use LHLO
         C: LHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250-ENHANCEDSTATUSCODES
         S: 250 HELP",
    );
    assert_eq!(
        h.log.last(),
        Some(&Ev::Hello(HelloKind::Lhlo, "client.example".into()))
    );
}

/// LHLO is not a verb for an SMTP server.
#[test]
fn rfc2033_lhlo_refused_by_smtp_server() {
    transcript(&format!(
        "{GREETING}\
         C: LHLO client.example
         S: 500 5.5.2 Syntax error, command unrecognized"
    ));
}

/// RFC 2033 4.2: one reply per accepted recipient, in order, from `respond_each`.
#[test]
fn rfc2033_4_2_one_reply_per_accepted_recipient() {
    let policy = Policy::accept_all()
        .refuse_rcpt_containing("nobody")
        .message(|end, _| {
            assert_eq!(end.recipients.len(), 2);
            Decision::Each(vec![
                reply("250 2.0.0 <a@example.com> delivered"),
                reply("452 4.2.2 <c@example.com> mailbox full"),
            ])
        });
    let mut h = Harness::new(lmtp_cfg(), policy);
    h.run(
        "S: 220 localhost ESMTP ready
         C: LHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<nobody@example.com>
         S: 550 5.1.1 No such user
         C: RCPT TO:<c@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: hi\\r\\n.\\r\\n
         S: 250 2.0.0 <a@example.com> delivered
         S: 452 4.2.2 <c@example.com> mailbox full",
    );
}

/// `accept` in LMTP writes the standard reply once per recipient.
#[test]
fn rfc2033_4_2_accept_replies_per_recipient() {
    let mut h = Harness::new(lmtp_cfg(), Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: LHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>\\r\\nRCPT TO:<a@example.com>\\r\\nRCPT TO:<b@example.com>\\r\\nBDAT 2 LAST\\r\\nhi
         S: 250 2.1.0 Sender OK
         S: 250 2.1.5 Recipient OK
         S: 250 2.1.5 Recipient OK
         S: 250 2.0.0 Message accepted
         S: 250 2.0.0 Message accepted",
    );
}

/// The wrong number of LMTP replies is the application's mistake: a usage error that
/// hands the replies back, and the session still waits for a right answer.
#[test]
fn rfc2033_4_2_wrong_reply_count_usage_error() {
    let mut h = Harness::new(
        lmtp_cfg(),
        Policy::accept_all().message(|_, _| Decision::Hold),
    );
    h.run(
        "S: 220 localhost ESMTP ready
         C: LHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .",
    );
    let t = h.held.take().unwrap();
    let err = h
        .server
        .respond_each(t, vec![reply("250 2.0.0 only one")])
        .unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, replies) = err.into_inner();
    assert_eq!(replies, vec![reply("250 2.0.0 only one")]);
    h.pump();
    h.assert_drained("after the refused answer");
    h.server
        .respond_each(t, vec![reply("250 2.0.0 one"), reply("250 2.0.0 two")])
        .unwrap();
    h.pump();
    h.run("S: 250 2.0.0 one\nS: 250 2.0.0 two");
}

/// Over SMTP one reply ends a message whatever the number of recipients: answering
/// with one per recipient would put the dialogue out of step.
#[test]
fn rfc5321_4_1_1_4_respond_each_over_smtp_takes_one_reply() {
    let mut h = Harness::new(
        ServerConfig::default(),
        Policy::accept_all().message(|_, _| Decision::Hold),
    );
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .",
    );
    let t = h.held.take().unwrap();
    let two = vec![reply("250 2.0.0 one"), reply("250 2.0.0 two")];
    let err = h.server.respond_each(t, two).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, _) = err.into_inner();
    h.pump();
    h.assert_drained("after the refused answer");
    h.server
        .respond_each(t, vec![reply("250 2.0.0 queued")])
        .unwrap();
    h.pump();
    h.run("S: 250 2.0.0 queued");
}

/// RFC 1870 4: a message of exactly the declared maximum is within the limit; one
/// octet more is not.
#[test]
fn rfc1870_4_message_of_exactly_the_limit_is_accepted() {
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
         C: 12345678
         C: .
         S: 250 2.0.0 Message accepted
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: 123456789
         C: .
         S: 552 5.3.4 Message size exceeds fixed limit",
    );
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

/// RFC 3030 2 with RFC 2920 3.1: BDAT after every RCPT was refused is "no valid
/// recipients" (554); BDAT before any RCPT is a sequence error (503).
#[test]
fn rfc3030_2_bdat_without_valid_recipients() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().refuse_rcpt_containing("nobody"));
    h.run(
        "C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C~ BDAT 3 LAST\\r\\nabc
         S: 503 5.5.1 Need RCPT command
         C: RCPT TO:<nobody@example.com>
         S: 550 5.1.1 No such user
         C~ BDAT 3 LAST\\r\\nabc
         S: 554 5.5.1 No valid recipients",
    );
}

/// RFC 1870 with RFC 3030: chunks adding up to exactly the size limit are accepted.
#[test]
fn rfc3030_2_bdat_total_of_exactly_the_limit_is_accepted() {
    let mut cfg = ServerConfig::default();
    cfg.limits.message_size = Some(10);
    let mut h = after_ehlo(cfg, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C~ BDAT 4\\r\\nabcd
         S: 250 2.0.0 4 octets received
         C~ BDAT 6 LAST\\r\\nefghij
         S: 250 2.0.0 Message accepted",
    );
}

/// RFC 3030 2 with RFC 5321 4.5.3.2.5: the chunk's timer runs from the BDAT command; a
/// chunk that follows a minute later is still read.
#[test]
fn rfc3030_2_bdat_chunk_timer_starts_at_the_command() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C~ BDAT 5 LAST\\r\\n",
    );
    h.advance(60);
    h.timeout();
    h.assert_drained("one minute after BDAT");
    h.run(
        "C~ hello
         S: 250 2.0.0 Message accepted",
    );
}

/// RFC 3030 2: a refused chunk is read and dropped up to `Limits::bdat_discard` octets
/// (the session goes on); one larger cannot be skipped in reasonable time, so it is
/// refused and the session closes.
#[test]
fn rfc3030_2_refused_chunk_skipped_up_to_the_discard_limit() {
    let mut cfg = ServerConfig::default();
    cfg.limits.bdat_discard = 10;
    let mut h = after_ehlo(cfg, Policy::accept_all());
    h.run(
        "C~ BDAT 10\\r\\n0123456789
         S: 503 5.5.1 Need MAIL command
         C: NOOP
         S: 250 2.0.0 OK
         C~ BDAT 11\\r\\n
         S: 503 5.5.1 Need MAIL command",
    );
    assert!(h.server.is_closed());
}

/// RFC 3030 2: a BDAT chunk over the size limit is answered 552 and is not a protocol
/// error (it does not count towards the error limit), while a BDAT out of sequence is.
#[test]
fn rfc3030_2_refused_bdat_chunks_and_the_error_limit() {
    let mut cfg = ServerConfig::default();
    cfg.limits.message_size = Some(10);
    cfg.limits.errors = 2;
    let mut h = Harness::new(cfg, Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C~ BDAT 20\\r\\n01234567890123456789
         S: 552 5.3.4 Message size exceeds fixed limit
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C~ BDAT 20 LAST\\r\\n01234567890123456789
         S: 552 5.3.4 Message size exceeds fixed limit
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert_eq!(
        h.count(|e| matches!(e, Ev::Violation(_))),
        0,
        "{}",
        h.dump()
    );
    h.run(
        "C~ BDAT 3\\r\\nabc
         S: 503 5.5.1 Need MAIL command
         C~ BDAT 3\\r\\nabc
         S: 503 5.5.1 Need MAIL command
         S: 421 4.7.0 Too many errors, closing connection",
    );
}

// ---------------------------------------------------------------------------------------
// Misuse by the application (UsageError)

/// A ticket of another connection, or one made stale by EOF, is refused and handed back.
#[test]
fn usage_stale_or_foreign_ticket() {
    let mut a = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    let mut b = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    a.run("C: MAIL FROM:<a@example.com>");
    b.run("C: MAIL FROM:<b@example.com>");
    let ta = a.held.take().unwrap();
    let err = b.server.accept(ta).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongTicket);
    let ta = err.into_inner();
    b.pump();
    b.assert_drained("after a foreign ticket");
    a.server.accept(ta).unwrap();
    a.pump();
    a.run("S: 250 2.1.0 Sender OK");
    // EOF makes b's ticket stale.
    let tb = b.held.take().unwrap();
    b.eof();
    let err = b.server.accept(tb).unwrap_err();
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
    let err = h.server.respond(t, reply("550 5.7.1 no")).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongTicket);
}

/// 3xx is the machine's own business: `respond` with 354 is refused and hands back both.
#[test]
fn usage_respond_with_354_refused() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    let t = h.held.take().unwrap();
    let r354 = reply("354 go ahead");
    let err = h.server.respond(t, r354.clone()).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, r) = err.into_inner();
    assert_eq!(r, r354);
    h.pump();
    h.assert_drained("after a 354 answer");
    h.server.accept(t).unwrap();
    h.pump();
    h.run("S: 250 2.1.0 Sender OK");
}

/// A 2xx to EHLO through `respond` is refused (use `accept`, which lists extensions).
#[test]
fn usage_respond_2xx_to_ehlo_refused() {
    let mut h = Harness::new(cfg(), Policy::accept_all().hello(|_| Decision::Hold));
    h.run("S: 220 localhost ESMTP ready\nC: EHLO client.example");
    let t = h.held.take().unwrap();
    let err = h.server.respond(t, reply("250 hi")).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, _) = err.into_inner();
    h.server.accept(t).unwrap();
    h.pump();
    h.run("S~ 250 HELP");
}

/// `sasl_challenge` to a MAIL ticket is the wrong answer.
#[test]
fn usage_sasl_challenge_to_mail_refused() {
    let mut h = after_ehlo(cfg(), Policy::accept_all().mail(|_| Decision::Hold));
    h.run("C: MAIL FROM:<a@example.com>");
    let t = h.held.take().unwrap();
    let err = h.server.sasl_challenge(t, b"x").unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    h.server.accept(err.into_inner()).unwrap();
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
    s.accept(h.ticket).unwrap();
    let out = s.poll_transmit().unwrap();
    assert!(
        out.ends_with(b"250 HELP\r\n250 2.0.0 OK\r\n"),
        "{}",
        common::esc(&out)
    );
}
