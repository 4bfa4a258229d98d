//! Server transcripts for LMTP (RFC 2033), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use std::time::Instant;

use common::{
    Decision, Ev, GREETING, Harness, Policy, lmtp_cfg, reply, transcript, transcript_with,
};
use smtp_sansio::server::{Answer, HelloKind, ServerConfig, UsageErrorKind};

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
        .respond_each(Instant::now(), t, vec![reply("250 2.0.0 only one")])
        .unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, replies) = err.into_inner();
    assert_eq!(replies, Answer::Each(vec![reply("250 2.0.0 only one")]));
    h.pump();
    h.assert_drained("after the refused answer");
    h.server
        .respond_each(
            Instant::now(),
            t,
            vec![reply("250 2.0.0 one"), reply("250 2.0.0 two")],
        )
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
    let err = h.server.respond_each(Instant::now(), t, two).unwrap_err();
    assert_eq!(err.kind, UsageErrorKind::WrongAnswer);
    let (t, _) = err.into_inner();
    h.pump();
    h.assert_drained("after the refused answer");
    h.server
        .respond_each(Instant::now(), t, vec![reply("250 2.0.0 queued")])
        .unwrap();
    h.pump();
    h.run("S: 250 2.0.0 queued");
}
