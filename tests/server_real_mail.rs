//! What makes mail handled by the server machine real mail: enhanced status codes on
//! every reply (RFC 2034), the reply codes the RFCs name, envelope domain policy
//! (RFC 5321 2.3.5, RFC 6409 4.2), DSN parameter limits and UTF-8 original recipients
//! (RFC 3461, RFC 6533), the facts trace fields are made of, configurations refused
//! at construction, and loop detection (RFC 5321 6.3).

mod common;

use std::time::{Duration, Instant};

use common::*;
use smtp_sansio::server::{
    AbortReason, ConfigError, HelloKind, Server, ServerConfig, UnqualifiedDomains, Violation,
};
use smtp_sansio::types::{Domain, ForwardPath, Mailbox, ReversePath};
use smtp_sansio::{Grammar, decode_command};

fn cfg() -> ServerConfig {
    ServerConfig::default()
}

fn in_transaction(cfg: ServerConfig, policy: Policy) -> Harness {
    let mut h = after_ehlo(cfg, policy);
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK",
    );
    h
}

// ---------------------------------------------------------------------------------------
// RFC 2034: once ENHANCEDSTATUSCODES is offered, every reply carries one.

/// RFC 2034 3: an application reply without an enhanced code gets the one of its
/// decision, or the class default.
#[test]
fn rfc2034_3_application_reply_without_code_gets_one() {
    let policy = Policy::accept_all()
        .mail(|_| refuse("250 Fine by me"))
        .rcpt(|r| {
            if r.to.to_string().contains("nobody") {
                refuse("550 No such user")
            } else if r.to.to_string().contains("later") {
                refuse("450 Mailbox busy")
            } else {
                refuse("250 Will do")
            }
        })
        .message(|_, _| refuse("250 Queued as 42"));
    let mut h = after_ehlo(cfg(), policy);
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Fine by me
         C: RCPT TO:<nobody@example.com>
         S: 550 5.0.0 No such user
         C: RCPT TO:<later@example.com>
         S: 450 4.0.0 Mailbox busy
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Will do
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: hi\\r\\n.\\r\\n
         S: 250 2.0.0 Queued as 42",
    );
}

/// RFC 2034 3: a reply that already carries a code keeps it.
#[test]
fn rfc2034_3_application_code_kept() {
    let policy = Policy::accept_all().rcpt(|_| refuse("550 5.1.1 No such user"));
    let mut h = in_transaction_with_refusal(policy);
    h.run("C: NOOP\nS: 250 2.0.0 OK");
}

fn in_transaction_with_refusal(policy: Policy) -> Harness {
    let mut h = after_ehlo(cfg(), policy);
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 550 5.1.1 No such user",
    );
    h
}

/// RFC 2034 3 (every line of a multi-line reply) and RFC 4954 6 (535 is 5.7.8).
#[test]
fn rfc2034_3_multiline_reply_and_auth_refusal_get_codes_on_every_line() {
    let mut c = cfg();
    c.auth_mechanisms = vec![smtp_sansio::types::Mechanism::PLAIN];
    let policy = Policy::accept_all()
        .auth(|_| refuse("535 Wrong password"))
        .mail(|_| refuse("451-Greylisted\r\n451 Come back later"));
    let mut h = after_ehlo_tls(c, policy);
    h.run(
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 535 5.7.8 Wrong password
         C: MAIL FROM:<a@example.com>
         S: 451-4.0.0 Greylisted
         S: 451 4.0.0 Come back later",
    );
}

/// Without ENHANCEDSTATUSCODES no reply carries one, the application's included.
#[test]
fn rfc2034_codes_stripped_when_not_offered() {
    let mut c = cfg();
    c.extensions.enhanced_status_codes = false;
    let policy = Policy::accept_all().rcpt(|_| refuse("550 5.1.1 No such user"));
    let mut h = after_ehlo(c, policy);
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 Sender OK
         C: RCPT TO:<b@example.com>
         S: 550 No such user",
    );
}

// ---------------------------------------------------------------------------------------
// Reply codes.

/// RFC 5321 7.3: a site without EXPN or VRFY answers 252, and that is no error: a
/// client asking many times is not disconnected for it.
#[test]
fn rfc5321_7_3_disabled_vrfy_and_expn_252_not_counted_as_errors() {
    let mut c = cfg();
    c.limits.errors = 3;
    let mut h = after_ehlo(c, Policy::accept_all());
    for _ in 0..5 {
        h.run(
            "C: VRFY alice
             S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery
             C: EXPN staff
             S: 252 2.5.0 Cannot EXPN, but will accept message and attempt delivery",
        );
    }
    h.run("C: NOOP\nS: 250 2.0.0 OK\nA: open");
    assert_eq!(h.count(|e| matches!(e, Ev::Violation(_))), 0);
}

/// RFC 6531 3.5: `550 5.6.7` at MAIL (`553` belongs to RCPT).
#[test]
fn rfc6531_3_5_non_ascii_mail_from_without_smtputf8_550_5_6_7() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<j\\xc3\\xb6rg@example.com>
         S: 550 5.6.7 Non-ASCII address requires SMTPUTF8",
    );
}

// ---------------------------------------------------------------------------------------
// Configuration that cannot exist on the wire.

#[test]
fn default_configuration_is_valid() {
    assert_eq!(cfg().validate(), Ok(()));
    let mut lmtp = cfg();
    lmtp.lmtp = true;
    assert_eq!(lmtp.validate(), Ok(()));
}

/// RFC 6531 3.1 item 8: SMTPUTF8 needs 8BITMIME.
#[test]
fn rfc6531_3_1_smtputf8_without_8bitmime_refused_at_construction() {
    let mut c = cfg();
    c.extensions.eight_bit_mime = false;
    let err = Server::new(c.clone(), Instant::now()).err();
    assert_eq!(err, Some(ConfigError::SmtpUtf8WithoutEightBitMime));
    assert!(err.is_some_and(|e| e.to_string().contains("8BITMIME")));
    c.extensions.smtputf8 = false;
    assert!(Server::new(c, Instant::now()).is_ok());
}

/// RFC 2033 5: an LMTP server MUST offer PIPELINING and ENHANCEDSTATUSCODES.
#[test]
fn rfc2033_5_lmtp_without_pipelining_or_enhanced_codes_refused_at_construction() {
    for off in ["pipelining", "enhancedstatuscodes"] {
        let mut c = cfg();
        c.lmtp = true;
        match off {
            "pipelining" => c.extensions.pipelining = false,
            _ => c.extensions.enhanced_status_codes = false,
        }
        assert_eq!(
            Server::new(c.clone(), Instant::now()).err(),
            Some(ConfigError::LmtpWithoutPipeliningAndEnhancedStatusCodes),
            "{off}"
        );
        assert!(Server::refuse(c.clone(), Instant::now()).is_err());
        assert!(Server::new_tls(c, Instant::now()).is_err());
    }
}

/// RFC 5321 4.5.3.1.8 (100 recipients) and 4.5.3.2.7 (5 minutes): limits below the
/// minimums are refused unless forced.
#[test]
fn rfc5321_4_5_3_limits_below_rfc_minimums_refused_unless_forced() {
    let mut c = cfg();
    c.limits.recipients = 99;
    let Some(ConfigError::BelowMinimum {
        setting, minimum, ..
    }) = c.validate().err()
    else {
        panic!("99 recipients accepted")
    };
    assert_eq!((setting, minimum), ("limits.recipients", 100));
    c.allow_below_rfc_minimums = true;
    assert!(Server::new(c, Instant::now()).is_ok());

    let mut c = cfg();
    c.timeouts.command = Duration::from_secs(299);
    assert!(matches!(
        Server::new(c.clone(), Instant::now()).err(),
        Some(ConfigError::BelowMinimum { minimum: 300, .. })
    ));
    c.allow_below_rfc_minimums = true;
    assert!(Server::new(c, Instant::now()).is_ok());

    for set in [
        |c: &mut ServerConfig| c.limits.command_line = 511,
        |c: &mut ServerConfig| c.limits.text_line = Some(999),
        |c: &mut ServerConfig| c.limits.sasl_line = 12287,
    ] {
        let mut c = cfg();
        set(&mut c);
        assert!(c.validate().is_err());
    }
}

// ---------------------------------------------------------------------------------------
// Envelope domains (RFC 5321 2.3.5, RFC 6409 4.2) and the postmaster (RFC 5321 4.5.1).

/// RFC 5321 2.3.5 / RFC 6409 4.2: with refusal configured, one-label domains are refused
/// at MAIL (`553 5.1.8`) and RCPT (`550 5.1.2`); address literals and the bare
/// postmaster pass.
#[test]
fn rfc5321_2_3_5_unqualified_envelope_domains_refused() {
    let mut c = cfg();
    c.unqualified_domains = UnqualifiedDomains::Refuse;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<alice@mailhost>
         S: 553 5.1.8 Sender domain must be fully qualified
         C: MAIL FROM:<alice@[192.0.2.1]>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<bob@localhost>
         S: 550 5.1.2 Recipient domain must be fully qualified
         C: RCPT TO:<Postmaster>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<bob@example.org>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), ["<alice@[192.0.2.1]>"]);
    assert_eq!(h.recipients(), ["<Postmaster>", "<bob@example.org>"]);
    assert_eq!(h.count(|e| matches!(e, Ev::Violation(_))), 0);
}

/// RFC 6409 4.2: completing one-label domains with a configured domain; the
/// application sees the completed address.
#[test]
fn rfc6409_4_2_unqualified_envelope_domains_completed() {
    let mut c = cfg();
    let suffix = Domain::new("example.org").expect("domain");
    c.unqualified_domains = UnqualifiedDomains::Qualify(suffix);
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<alice@mailhost>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<bob@printer>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<carol@example.net>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), ["<alice@mailhost.example.org>"]);
    assert_eq!(
        h.recipients(),
        ["<bob@printer.example.org>", "<carol@example.net>"]
    );
}

/// The default passes one-label domains on: a local sink gets `user@localhost`.
#[test]
fn unqualified_domains_accepted_by_default() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<alice@localhost>
         S: 250 2.1.0 Sender OK",
    );
    assert_eq!(h.senders(), ["<alice@localhost>"]);
}

/// RFC 5321 4.5.1: the postmaster is reported as such, bare or with a domain, so that
/// the application delivers it locally instead of relaying it.
#[test]
fn rfc5321_4_5_1_postmaster_reported_as_such() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<POSTMASTER>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.recipients(), ["<Postmaster>"]);
    assert!(ForwardPath::Postmaster.is_postmaster());
    let with_domain = Mailbox::parse("PostMaster@example.org").expect("mailbox");
    assert!(ForwardPath::Mailbox(with_domain).is_postmaster());
    let other = Mailbox::parse("postmaster.x@example.org").expect("mailbox");
    assert!(!ForwardPath::Mailbox(other).is_postmaster());
}

/// The strict grammar rejects `_` in envelope domains; the lenient one (the default,
/// for EHLO names seen in the wild) takes it.
#[test]
fn strict_grammar_rejects_underscore_in_envelope_domains() {
    let strict = Grammar::strict();
    for line in [
        &b"MAIL FROM:<a@my_host.example.org>\r\n"[..],
        b"RCPT TO:<b@my_host.example.org>\r\n",
    ] {
        assert!(decode_command(line, &strict).is_err(), "{}", esc(line));
        assert!(
            decode_command(line, &Grammar::lenient()).is_ok(),
            "{}",
            esc(line)
        );
    }
    let mut c = cfg();
    c.grammar = strict;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@my_host.example.org>
         S: 501 5.5.4 Syntax error in parameters or arguments",
    );
}

// ---------------------------------------------------------------------------------------
// DSN parameters (RFC 3461) and UTF-8 original recipients (RFC 6533).

/// RFC 3461 4.4: ENVID at most 100 characters.
#[test]
fn rfc3461_4_4_envid_over_100_characters_refused() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(&format!(
        "C: MAIL FROM:<a@example.com> ENVID={}
         S: 501 5.5.4 Invalid parameter value
         C: MAIL FROM:<a@example.com> ENVID={}
         S: 250 2.1.0 Sender OK",
        "e".repeat(101),
        "e".repeat(100)
    ));
}

/// RFC 3461 4.2: ORCPT at most 500 characters.
#[test]
fn rfc3461_4_2_orcpt_over_500_characters_refused() {
    let mut c = cfg();
    c.limits.command_line = 2048;
    let mut h = in_transaction(c, Policy::accept_all());
    let local = |n: usize| "o".repeat(n - "rfc822;@example.com".len());
    h.run(&format!(
        "C: RCPT TO:<c@example.com> ORCPT=rfc822;{}@example.com
         S: 501 5.5.4 Invalid parameter value
         C: RCPT TO:<c@example.com> ORCPT=rfc822;{}@example.com
         S: 250 2.1.5 Recipient OK",
        local(501),
        local(500)
    ));
}

/// RFC 6533 3: `ORCPT=utf-8;` with raw UTF-8 and `\x{HEX}` escapes, accepted where DSN
/// and SMTPUTF8 are offered; the application sees the decoded address.
#[test]
fn rfc6533_3_utf8_orcpt_accepted_with_dsn_and_smtputf8() {
    let mut h = after_ehlo(cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com> SMTPUTF8
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com> ORCPT=utf-8;j\\xc3\\xb6rg@example.com
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<c@example.com> ORCPT=utf-8;j\\\\x{F6}rg\\\\x{2B}tag@example.com
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<d@example.com> ORCPT=utf-8;bad\\\\x{zz}@example.com
         S: 501 5.5.4 Invalid parameter value
         C: RCPT TO:<d@example.com> ORCPT=utf-8;a+b@example.com
         S: 501 5.5.4 Invalid parameter value",
    );
    let line = "RCPT TO:<c@example.com> ORCPT=utf-8;j\\x{F6}rg\\x{2B}tag@example.com\r\n";
    let (_, cmd) = decode_command(line.as_bytes(), &Grammar::default()).expect("parses");
    let smtp_sansio::types::Command::Rcpt { params, .. } = &cmd else {
        panic!("{cmd:?}")
    };
    let orcpt = params.orcpt.as_ref().expect("orcpt");
    assert_eq!(orcpt.addr_type(), "utf-8");
    assert_eq!(orcpt.address().as_str(), "jörg+tag@example.com");
    // It encodes back to the escaped form, which parses to the same value.
    let mut wire = bytes::BytesMut::new();
    cmd.encode(&mut wire);
    assert!(esc(&wire).contains("utf-8;j\\\\x{F6}rg\\\\x{2B}tag@example.com"));
    let (_, again) = decode_command(&wire, &Grammar::default()).expect("round trip");
    assert_eq!(again, cmd);
}

/// RFC 6533 3: without SMTPUTF8 offered, a UTF-8 original recipient is a parameter of
/// an extension not in force (`555`).
#[test]
fn rfc6533_3_utf8_orcpt_refused_without_smtputf8_offered() {
    let mut c = cfg();
    c.extensions.smtputf8 = false;
    let mut h = in_transaction(c, Policy::accept_all());
    h.run(
        "C: RCPT TO:<c@example.com> ORCPT=utf-8;c@example.com
         S: 555 5.5.4 Parameter not recognized or not implemented
         C: RCPT TO:<c@example.com> ORCPT=rfc822;c@example.com
         S: 250 2.1.5 Recipient OK",
    );
}

// ---------------------------------------------------------------------------------------
// The facts trace fields are made of (RFC 5321 4.4).

/// `MessageStart` carries the session's facts: EHLO name and kind, TLS, AUTH, reverse
/// path, SMTPUTF8 and the recipient when there is exactly one.
#[test]
fn rfc5321_4_4_message_start_carries_trace_facts() {
    let mut h = Harness::new(cfg(), Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example.net
         S~ 250 HELP
         C: MAIL FROM:<a@example.com> SMTPUTF8
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: hi\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted
         C: HELO other.example
         S: 250 localhost Hello
         C: MAIL FROM:<>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<c@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 2 LAST\\r\\nhi
         S: 250 2.0.0 Message accepted",
    );
    let [first, second] = &h.starts[..] else {
        panic!("{:?}", h.starts)
    };
    assert_eq!(first.hello, HelloKind::Ehlo);
    assert_eq!(first.hello_host.to_string(), "client.example.net");
    assert!(!first.tls && !first.authenticated && first.smtputf8);
    assert_eq!(first.from.to_string(), "<a@example.com>");
    let names = |s: &smtp_sansio::server::MessageStart| {
        s.recipients
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(first), ["<b@example.com>"]);
    assert_eq!(second.hello, HelloKind::Helo);
    assert_eq!(second.hello_host.to_string(), "other.example");
    assert_eq!(second.from, ReversePath::Null);
    assert_eq!(names(second), ["<b@example.com>", "<c@example.com>"]);
    assert!(!second.smtputf8);
}

/// TLS and AUTH show in the facts.
#[test]
fn message_start_reports_tls_and_auth() {
    let mut c = cfg();
    c.auth_mechanisms = vec![smtp_sansio::types::Mechanism::PLAIN];
    let mut h = after_ehlo_tls(c, Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
         S: 235 2.7.0 Authentication successful
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: .\\r\\n
         S: 250 2.0.0 Message accepted",
    );
    assert!(h.starts[0].tls && h.starts[0].authenticated);
    assert!(
        !h.log
            .iter()
            .any(|e| matches!(e, Ev::Violation(Violation::Command { .. })))
    );
}

// ---------------------------------------------------------------------------------------
// Loop detection (RFC 5321 6.3).

fn received_fields(n: usize) -> String {
    (0..n)
        .map(|i| format!("Received: from hop{i}.example by hop{}.example; Thu, 3 Dec 2026 10:00:00 +0000\\r\\n", i + 1))
        .collect()
}

/// RFC 5321 6.3: a header with more `Received:` fields than the limit (100 by default)
/// is a loop: `554 5.4.6`, nothing delivered, and the session goes on without an error
/// counted against the client.
#[test]
fn rfc5321_6_3_mail_loop_refused_554_5_4_6_nothing_delivered() {
    let mut h = in_transaction(cfg(), Policy::accept_all());
    h.run(&format!(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {}Subject: loop\\r\\n\\r\\nbody\\r\\n.\\r\\n
         S: 554 5.4.6 Too many hops, mail loop suspected
         C: NOOP
         S: 250 2.0.0 OK",
        received_fields(101)
    ));
    assert_eq!(h.message_ends(), 0);
    assert!(h.body.is_empty(), "delivered: {}", esc(&h.body));
    assert!(h.log.contains(&Ev::Aborted(AbortReason::TooManyHops)));
    assert_eq!(h.count(|e| matches!(e, Ev::Violation(_))), 0);
}

/// RFC 5321 6.3: at the limit the message goes through; `Received:` lines in the body
/// (after the empty line) are not hops.
#[test]
fn rfc5321_6_3_hops_at_the_limit_and_in_the_body_pass() {
    let mut h = in_transaction(cfg(), Policy::accept_all());
    h.run(&format!(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {}Subject: ok\\r\\n\\r\\n{}.\\r\\n
         S: 250 2.0.0 Message accepted",
        received_fields(100),
        received_fields(50)
    ));
    assert_eq!(h.message_ends(), 1);
}

/// The limit is configurable, and a field name split across reads still counts.
#[test]
fn rfc5321_6_3_hop_limit_configurable_and_split_invariant() {
    let mut c = cfg();
    c.limits.hops = 2;
    let msg =
        format!("{}Subject: x\r\n\r\nbody\r\n.\r\n", received_fields(3)).replace("\\r\\n", "\r\n");
    for cut in [1, 7, 9, 40, msg.len() - 3] {
        let mut h = in_transaction(c.clone(), Policy::accept_all());
        h.run("C: DATA\nS: 354 End data with <CR><LF>.<CR><LF>");
        h.feed(&msg.as_bytes()[..cut]);
        h.feed(&msg.as_bytes()[cut..]);
        h.run("S: 554 5.4.6 Too many hops, mail loop suspected");
        assert!(h.body.is_empty(), "cut {cut}: {}", esc(&h.body));
        assert_eq!(h.message_ends(), 0);
    }
}

/// RFC 5321 6.3 under BDAT (RFC 3030): the chunk that shows the loop is answered
/// `554 5.4.6` and the transaction is over.
#[test]
fn rfc5321_6_3_mail_loop_under_bdat() {
    let mut c = cfg();
    c.limits.hops = 2;
    let head = received_fields(2).replace("\\r\\n", "\r\n");
    let more = received_fields(1).replace("\\r\\n", "\r\n") + "\r\nbody";
    let mut h = in_transaction(c, Policy::accept_all());
    h.feed(format!("BDAT {}\r\n{head}", head.len()).as_bytes());
    h.run(&format!("S: 250 2.0.0 {} octets received", head.len()));
    h.feed(format!("BDAT {}\r\n{more}", more.len()).as_bytes());
    h.run(
        "S: 554 5.4.6 Too many hops, mail loop suspected
         C: BDAT 2 LAST\\r\\nxx
         S: 503 5.5.1 Need MAIL command
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(h.log.contains(&Ev::Aborted(AbortReason::TooManyHops)));
    assert_eq!(h.message_ends(), 0);
}

// ---------------------------------------------------------------------------------------
// A held MessageEnd when the session ends (crate docs, run-loop contract).

/// The connection ends (EOF, or shutdown: no deadline runs during a decision) while the application still holds the
/// `MessageEnd` ticket: `MessageAborted(ConnectionLost)` follows, and the ticket is void.
#[test]
fn held_message_end_then_connection_lost_reports_the_abort() {
    for end in ["eof", "shutdown"] {
        let policy = Policy::accept_all().message(|_, _| Decision::Hold);
        let mut h = in_transaction(cfg(), policy);
        h.run(
            "C: DATA
             S: 354 End data with <CR><LF>.<CR><LF>
             C: hi\\r\\n.\\r\\n",
        );
        let ticket = h.held.take().expect("held MessageEnd");
        if end == "eof" {
            h.eof();
        } else {
            h.server.shutdown();
            h.pump();
        }
        assert!(
            h.log.contains(&Ev::Aborted(AbortReason::ConnectionLost)),
            "{end}: {}",
            h.dump()
        );
        assert!(h.server.accept(Instant::now(), ticket).is_err(), "{end}");
    }
}

/// The hop counter reads at most the first MiB of a message: a header with no empty
/// line (or a body without one) costs bounded work. Received fields past it are not
/// counted.
#[test]
fn rfc5321_6_3_hop_count_reads_a_bounded_header() {
    // Lines of 58 octets on the wire, past the first MiB.
    let line = |i: usize| format!("X-Pad-{i:08}: {}\\r\\n", "p".repeat(40));
    let pad: String = (0..1024 * 1024 / 58 + 2).map(line).collect();
    let mut h = in_transaction(cfg(), Policy::accept_all());
    h.run(&format!(
        "C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {pad}{}\\r\\nbody\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted",
        received_fields(101)
    ));
    assert_eq!(h.message_ends(), 1);
}
