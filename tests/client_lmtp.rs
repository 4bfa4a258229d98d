//! Client transcripts for LMTP (RFC 2033), whole and streamed messages: scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use common::client::{Harness, config, relay_config, result_of};
use smtp_sansio::client::{ClientError, Event, MessageStatus};
use smtp_sansio::types::MailParams;

#[test]
fn lmtp_per_recipient_replies_after_the_body() {
    let mut c = config();
    c.lmtp = true;
    let mut h = Harness::new(c);
    h.send(
        "a@x.example",
        &["b@y.example", "c@y.example", "d@y.example"],
        b"hi\r\n",
    );
    h.run(
        "S: 220 lmtp
         C: LHLO client.example
         S: 250-lmtp
         S: 250 PIPELINING
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: RCPT TO:<c@y.example>
         C: RCPT TO:<d@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 550 unknown
         S: 250 ok
         S: 354 go
         C: hi
         C: .
         S: 250 2.0.0 b delivered
         S: 452 4.2.2 d over quota",
    );
    let deliveries: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DeliveryResult {
                recipient, reply, ..
            } => Some((recipient.to_string(), reply.code().get())),
            _ => None,
        })
        .collect();
    assert_eq!(
        deliveries,
        vec![
            ("<b@y.example>".to_owned(), 250),
            ("<d@y.example>".to_owned(), 452)
        ]
    );
    assert_eq!(h.results(), vec![MessageStatus::PartiallyAccepted]);
}

/// An LMTP session of two accepted recipients whose delivery replies are `b` and `c`.
fn lmtp_outcome(b: &str, c: &str) -> Vec<MessageStatus> {
    let mut cfg = config();
    cfg.lmtp = true;
    let mut h = Harness::new(cfg);
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    h.run(
        "S: 220 lmtp
         C: LHLO client.example
         S: 250 lmtp
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: RCPT TO:<c@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: hi
         C: .",
    );
    h.feed(format!("{b}\r\n").as_bytes());
    assert!(h.results().is_empty(), "one delivery reply is still due");
    h.feed(format!("{c}\r\n").as_bytes());
    h.results()
}

#[test]
fn lmtp_outcome_counts_every_delivery_reply() {
    assert_eq!(
        lmtp_outcome("250 delivered", "250 delivered"),
        vec![MessageStatus::Accepted]
    );
    assert_eq!(
        lmtp_outcome("550 no", "452 full"),
        vec![MessageStatus::Rejected]
    );
    assert_eq!(
        lmtp_outcome("452 full", "250 delivered"),
        vec![MessageStatus::PartiallyAccepted]
    );
}

#[test]
fn lmtp_has_no_helo_fallback() {
    let mut c = config();
    c.lmtp = true;
    let mut h = Harness::new(c);
    h.run(
        "S: 220 lmtp
         C: LHLO client.example
         S: 500 what
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::HelloRejected(_)]));
}

/// LMTP with BDAT: a streamed message to two recipients, two chunks, and the
/// delivery replies `b` and `c`.
fn lmtp_bdat_outcome(b: &str, c: &str) -> Option<(MessageStatus, Option<u16>)> {
    let mut cfg = relay_config();
    cfg.lmtp = true;
    cfg.use_chunking = true;
    let mut h = Harness::new(cfg);
    h.replies("220 lmtp");
    h.replies("250-lmtp\n250-PIPELINING\n250 CHUNKING");
    h.expect_out("LHLO relay.example\r\n");
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.rcpt(id, "c@example.net");
    h.replies("250 OK\n250 OK\n250 OK");
    h.chunk(id, b"one\r\n");
    h.replies("250 chunk");
    h.end(id);
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\n\
         BDAT 5\r\none\r\nBDAT 0 LAST\r\n",
    );
    h.take_events();
    h.replies(b);
    let first = h.take_events();
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(matches!(first[0], Event::DeliveryResult { .. }));
    h.replies(c);
    result_of(&h.take_events())
}

#[test]
fn lmtp_bdat_outcome_counts_every_delivery_reply() {
    assert_eq!(
        lmtp_bdat_outcome("250 ok", "250 ok"),
        Some((MessageStatus::Accepted, None))
    );
    assert_eq!(
        lmtp_bdat_outcome("550 no", "452 full"),
        Some((MessageStatus::Rejected, None))
    );
    assert_eq!(
        lmtp_bdat_outcome("452 full", "250 ok"),
        Some((MessageStatus::PartiallyAccepted, None))
    );
}
