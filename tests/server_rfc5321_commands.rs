//! Server transcripts for the RFC 5321 command set: wire format, greeting, EHLO/HELO,
//! paths, sequence and error replies, RSET/NOOP/VRFY/HELP/QUIT, recipients, written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use common::{
    Decision, EHLO_DEFAULT, Ev, GREETING, Harness, Policy, after_ehlo, cfg, default, refuse, reply,
    transcript, transcript_with,
};
use smtp_sansio::Grammar;
use smtp_sansio::server::{AbortReason, CloseReason, HelloKind, Violation};

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
// Sequence errors (RFC 5321 4.1.4, 3.3)

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
