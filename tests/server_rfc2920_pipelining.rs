//! Server transcripts for PIPELINING (RFC 2920), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use common::{Decision, Ev, Policy, after_ehlo, cfg, default};

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
