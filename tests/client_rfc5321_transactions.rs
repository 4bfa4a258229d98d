//! Client transcripts for whole-message transactions: recipients, PIPELINING (RFC 2920),
//! the body under DATA and BDAT (RFC 5321 4.5.2, RFC 3030): scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use bytes::Bytes;
use common::client::{EHLO_PIPE, Harness, config, envelope, tls_config};
use common::esc;
use smtp_sansio::client::{CloseReason, MessageStatus, StartTlsPolicy, UsageErrorKind};

// ----- recipients, pipelining -----------------------------------------------------------

#[test]
fn per_recipient_failures_message_goes_on() {
    let mut h = Harness::new(config());
    h.send(
        "a@x.example",
        &["b@y.example", "nobody@y.example", "c@y.example"],
        b"hi\r\n",
    );
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: RCPT TO:<nobody@y.example>
         C: RCPT TO:<c@y.example>
         C: DATA
         S: 250 2.1.0 ok
         S: 250 2.1.5 ok
         S: 550 5.1.1 no such user
         S: 250 2.1.5 ok
         S: 354 go
         C: hi
         C: .
         S: 250 2.0.0 queued"
    ));
    assert_eq!(h.recipient_codes(), vec![250, 550, 250]);
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

#[test]
fn pipelined_flight_is_exactly_one_transmit() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    h.feed(b"220 mx\r\n");
    h.writes.clear();
    h.feed(b"250-mx\r\n250 PIPELINING\r\n");
    assert_eq!(h.writes.len(), 1);
    assert_eq!(
        esc(&h.writes[0]),
        esc(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\n")
    );
}

#[test]
fn all_recipients_rejected_pipelined_data_refused_then_rset() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 550 no
         S: 554 5.5.1 no valid recipients
         C: RSET"
    ));
    // The outcome is known before the RSET that tidies up after it is answered.
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
    h.run("S: 250 ok");
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
}

#[test]
fn all_recipients_rejected_lockstep_no_data() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 550 no
         C: RCPT TO:<c@y.example>
         S: 450 later
         C: RSET
         S: 250 ok",
    );
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
    assert_eq!(h.recipient_codes(), vec![550, 450]);
}

#[test]
fn rfc2920_recovery_354_after_all_rcpt_failed() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"must not be sent\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 550 no
         S: 354 go ahead anyway
         C: .
         S: 554 no valid recipients"
    ));
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
}

#[test]
fn mail_rejected_in_pipelined_group_is_drained() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.send("c@x.example", &["b@y.example"], b"hi\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 550 5.7.1 sender refused
         S: 503 5.5.1 need MAIL
         S: 503 5.5.1 need RCPT
         C: MAIL FROM:<c@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA"
    ));
    assert_eq!(h.results(), vec![MessageStatus::Rejected]);
}

#[test]
fn lockstep_without_pipelining() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: RCPT TO:<c@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: hi
         C: .
         S: 250 queued",
    );
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

#[test]
fn pipelining_disabled_by_config() {
    let mut c = config();
    c.use_pipelining = false;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"hi");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>"
    ));
}

#[test]
fn several_messages_per_connection_and_quit() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"one\r\n");
    h.send("a@x.example", &["c@y.example"], b"two\r\n");
    h.send("a@x.example", &["d@y.example"], b"three\r\n");
    h.client.quit(h.now);
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 354 go
         C: one
         C: .
         S: 250 queued
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<c@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 451 try later
         C: RSET
         S: 250 ok
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<d@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 354 go
         C: three
         C: .
         S: 250 queued
         C: QUIT
         S: 221 bye"
    ));
    assert_eq!(
        h.results(),
        vec![
            MessageStatus::Accepted,
            MessageStatus::Rejected,
            MessageStatus::Accepted
        ]
    );
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
    assert_eq!(
        h.client
            .send_message(
                h.now,
                envelope("a@x.example", &["b@y.example"]),
                Bytes::new()
            )
            .map_err(|e| e.kind),
        Err(UsageErrorKind::Closed)
    );
}

// ----- body -----------------------------------------------------------------------------

#[test]
fn body_smuggling_sequences_never_end_data_early() {
    let body: &'static [u8] =
        b"a\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r.\r\nf\r\n.\rg\r\n\0.\r\n.\r\n.\r\n..\r\n.x\r\n\0\r\nend";
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], body);
    h.feed(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    let out = h.take_output();
    let data_start = out.windows(6).position(|w| w == b"DATA\r\n").unwrap() + 6;
    let sent = &out[data_start..];
    let end = sent.windows(5).position(|w| w == b"\r\n.\r\n").unwrap();
    assert_eq!(
        end + 5,
        sent.len(),
        "end of data only at the very end: {}",
        esc(sent)
    );
    assert_eq!(
        esc(sent),
        esc(b"a\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..\r\nf\r\n..\r\ng\r\n\0.\r\n..\r\n..\r\n...\r\n..x\r\n\0\r\nend\r\n.\r\n")
    );
    // No bare CR or LF anywhere.
    for (i, &b) in sent.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(sent[i - 1], b'\r');
        }
        if b == b'\r' {
            assert_eq!(sent[i + 1], b'\n');
        }
    }
}

#[test]
fn empty_body_is_just_the_end_of_data() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: .
         S: 250 ok",
    );
}

#[test]
fn message_queued_during_the_tls_handshake_waits_for_the_new_ehlo() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go");
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    assert_eq!(h.take_output(), b"", "nothing may be written in clear now");
    h.client.tls_established(h.now).unwrap();
    h.run("C: EHLO client.example\nS: 250 mx\nC: MAIL FROM:<a@x.example>");
}

#[test]
fn message_queued_while_rset_is_answered_waits_for_it() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 550 no
         C: RSET",
    );
    h.send("c@x.example", &["d@y.example"], b"hi\r\n");
    assert_eq!(h.take_output(), b"");
    h.run("S: 250 ok\nC: MAIL FROM:<c@x.example>");
}

#[test]
fn pending_output_counts_commands_and_unsent_body() {
    let mut h = Harness::new(config());
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::from_static(b"0123456789\r\n"),
        )
        .unwrap();
    h.client
        .handle_input(h.now, b"220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n");
    // The body the machine holds counts from the start, as for a streamed transaction.
    assert_eq!(
        h.client.pending_output(),
        b"EHLO client.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
            .len()
            + 12
    );
    h.drain();
    assert_eq!(h.client.pending_output(), 12);
    h.client.handle_input(h.now, b"354 go\r\n");
    // The body counts as the octets handed in, before stuffing.
    assert_eq!(h.client.pending_output(), 12);
    h.drain();
    assert_eq!(h.client.pending_output(), 0);
}

#[test]
fn large_body_streams_in_pieces() {
    let body: Vec<u8> = b"0123456789abcdef\n"
        .iter()
        .copied()
        .cycle()
        .take(1 << 20)
        .collect();
    let mut h = Harness::new(config());
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::from(body.clone()),
        )
        .unwrap();
    h.feed(b"220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    let pieces = h.writes.len();
    let out = h.take_output();
    // About 64 KiB of body per write: few writes, none too large.
    assert!((10..=24).contains(&pieces), "{pieces} writes");
    let expected = smtp_sansio::data::dot_stuff(&body);
    assert!(out.ends_with(&expected));
}

#[test]
fn bdat_chunks_pipelined() {
    let mut c = config();
    c.use_chunking = true;
    c.bdat_chunk_size = 4;
    let mut h = Harness::new(c);
    // Line endings are normalised to CRLF before chunking; no dot-stuffing with BDAT.
    h.send("a@x.example", &["b@y.example"], b"abc\n.efg\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-PIPELINING
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n250 ok\r\n");
    assert_eq!(
        esc(&h.take_output()),
        esc(b"BDAT 4\r\nabc\rBDAT 4\r\n\n.efBDAT 3 LAST\r\ng\r\n")
    );
    h.feed(b"250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n");
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

#[test]
fn bdat_chunks_lockstep_and_failure_then_rset() {
    let mut c = config();
    c.use_chunking = true;
    c.bdat_chunk_size = 5;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"line1\r\nline2\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n");
    assert_eq!(esc(&h.take_output()), esc(b"BDAT 5\r\nline1"));
    h.feed(b"250 ok\r\n");
    assert_eq!(esc(&h.take_output()), esc(b"BDAT 5\r\n\r\nlin"));
    h.feed(b"552 5.3.4 too big\r\n");
    h.run("C: RSET\nS: 250 ok");
    assert_eq!(h.results(), vec![MessageStatus::Rejected]);
}

#[test]
fn bdat_empty_body() {
    let mut c = config();
    c.use_chunking = true;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: BDAT 0 LAST
         S: 250 ok",
    );
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}
