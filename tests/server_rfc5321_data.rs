//! Server transcripts for DATA (RFC 5321 4.1.1.4, 4.5.2, 6.1), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use common::{Decision, Ev, Policy, after_ehlo, cfg, default, refuse};

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
