//! Server transcripts for BDAT and BINARYMIME (RFC 3030), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use common::{Ev, Harness, Policy, after_ehlo, cfg, default};
use smtp_sansio::server::{AbortReason, CloseReason, ServerConfig};

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
// Sequence errors and RSET (RFC 3030 2)

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

// ---------------------------------------------------------------------------------------
// Recipients, limits and timers

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
