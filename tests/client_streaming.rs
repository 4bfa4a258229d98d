//! Client transcripts for streamed transactions (`start_transaction`,
//! `add_recipient`, `body_chunk`, `body_end`, `abort_transaction`): scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use bytes::Bytes;
use common::client::{Harness, fp, rcpt_codes, relay_config, result_of, rp};
use smtp_sansio::client::{CloseReason, Envelope, Event, MessageStatus, UsageErrorKind};
use smtp_sansio::types::{MailParams, RcptParams, ReplyCode};

#[test]
fn pipelined_data_streams_and_stuffs_across_chunks() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "8BITMIME"]);
    let id = h.start("a@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
    h.rcpt(id, "b@example.net");
    h.rcpt(id, "c@example.net");
    h.expect_out("RCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\n");
    h.replies("250 2.1.0 OK\n550 5.1.1 no such user\n250 2.1.5 OK");
    let ev = h.take_events();
    assert!(matches!(&ev[0], Event::MailResult { reply, .. } if reply.code() == ReplyCode::OK));
    assert_eq!(
        rcpt_codes(&ev),
        [
            ("<b@example.net>".into(), 550),
            ("<c@example.net>".into(), 250)
        ]
    );
    // Chunks before the 354 are held; DATA goes with the first.
    h.chunk(id, b"Subject: x\r\n\r\nline\r");
    h.expect_out("DATA\r\n");
    h.chunk(id, b"\n.dot");
    assert!(h.client.pending_output() > 0);
    h.expect_out("");
    h.replies("354 go on");
    assert!(matches!(h.take_events()[..], [Event::DataReady { .. }]));
    h.expect_out("Subject: x\r\n\r\nline\r\n..dot");
    h.chunk(id, b" line\r\n.");
    h.expect_out(" line\r\n..");
    h.end(id);
    h.expect_out("\r\n.\r\n");
    h.replies("250 2.0.0 queued as 1");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
    // The same connection carries the next transaction.
    let id2 = h.start("<>", MailParams::default());
    assert_ne!(id, id2);
    h.expect_out("MAIL FROM:<>\r\n");
}

#[test]
fn lock_step_without_pipelining() {
    let mut h = Harness::ready(relay_config(), &["8BITMIME"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.rcpt(id, "c@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
    h.replies("250 OK");
    h.expect_out("RCPT TO:<b@example.net>\r\n");
    h.chunk(id, b"body\r\n");
    h.expect_out("");
    h.replies("250 OK");
    h.expect_out("RCPT TO:<c@example.net>\r\n");
    h.replies("251 will forward");
    h.expect_out("DATA\r\n");
    h.end(id);
    h.replies("354 go");
    h.expect_out("body\r\n.\r\n");
    h.replies("250 OK");
    let ev = h.take_events();
    assert_eq!(result_of(&ev), Some((MessageStatus::Accepted, Some(250))));
}

#[test]
fn transaction_waits_for_the_session() {
    let mut h = Harness::new(relay_config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("");
    h.replies("220 mx ESMTP");
    h.expect_out("EHLO relay.example\r\n");
    h.replies("250-mx\n250 PIPELINING");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
}

#[test]
fn all_recipients_refused_no_body_then_rset() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n550 5.1.1 unknown");
    h.chunk(id, b"never sent\r\n");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRSET\r\n");
    let ev = h.take_events();
    assert_eq!(
        result_of(&ev),
        Some((MessageStatus::NoValidRecipients, Some(550)))
    );
    assert_eq!(
        h.client.body_chunk(h.now, id, b"x"),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn mail_refused_reports_mail_result_then_message_result() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("452 4.3.1 try later\n503 5.5.1 need MAIL");
    let ev = h.take_events();
    assert!(matches!(&ev[0], Event::MailResult { reply, .. } if reply.code().get() == 452));
    assert_eq!(result_of(&ev), Some((MessageStatus::Rejected, Some(452))));
    assert!(
        h.client
            .start_transaction(h.now, rp("a@example.org"), MailParams::default())
            .is_ok()
    );
}

#[test]
fn bdat_when_chunking_is_used() {
    let mut cfg = relay_config();
    cfg.use_chunking = true;
    let mut h = Harness::ready(cfg, &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.take_events();
    h.chunk(id, b"Subject: a\r\n\r\n");
    assert!(matches!(h.take_events()[..], [Event::DataReady { .. }]));
    h.chunk(id, b".x\r\n");
    h.end(id);
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n\
         BDAT 14\r\nSubject: a\r\n\r\nBDAT 4\r\n.x\r\nBDAT 0 LAST\r\n",
    );
    h.replies("250 2.0.0 14 octets\n250 2.0.0 4 octets\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn abort_before_body_sends_rset_and_session_goes_on() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.client.abort_transaction(h.now, id).unwrap();
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.replies("250 OK\n250 OK");
    h.expect_out("RSET\r\n");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Aborted, None))
    );
    h.replies("250 OK");
    h.start("a@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn abort_inside_data_closes_the_connection() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, b"partial");
    h.replies("354 go");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\npartial");
    h.take_events();
    // Not yet written when the abort comes: it never goes out.
    h.client.body_chunk(h.now, id, b" more").unwrap();
    h.client.abort_transaction(h.now, id).unwrap();
    h.expect_out("");
    let ev = h.take_events();
    assert_eq!(result_of(&ev), Some((MessageStatus::Aborted, None)));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::Aborted
        }
    )));
    assert!(h.client.is_closed());
}

#[test]
fn service_closing_mid_transaction_aborts_it() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n421 4.3.2 shutting down");
    let ev = h.take_events();
    assert_eq!(result_of(&ev), Some((MessageStatus::Aborted, None)));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::ServiceUnavailable(r)
        } if r.code().get() == 421
    )));
    assert_eq!(
        h.client.body_end(h.now, id),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn one_open_transaction_at_a_time_and_order_is_checked() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    assert_eq!(
        h.client
            .start_transaction(h.now, rp("a@example.org"), MailParams::default())
            .map_err(|e| e.kind),
        Err(UsageErrorKind::TransactionOpen)
    );
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"x");
    assert_eq!(
        h.client
            .add_recipient(h.now, id, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::OutOfOrder.into())
    );
    h.end(id);
    assert_eq!(
        h.client.body_end(h.now, id),
        Err(UsageErrorKind::OutOfOrder.into())
    );
}

#[test]
fn whole_messages_and_streams_share_a_session() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    h.client
        .send_message(h.now, env, Bytes::from_static(b"whole\r\n"))
        .unwrap();
    let id = h.start("s@example.org", MailParams::default());
    h.rcpt(id, "t@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
    h.replies("250 OK\n250 OK\n354 go");
    h.expect_out("whole\r\n.\r\n");
    h.replies("250 OK");
    h.expect_out("MAIL FROM:<s@example.org>\r\nRCPT TO:<t@example.net>\r\n");
    h.replies("250 OK\n250 OK");
    h.end(id);
    h.expect_out("DATA\r\n");
    h.replies("354 go");
    h.expect_out(".\r\n");
    h.replies("250 OK");
    let ev = h.take_events();
    let results = ev
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::MessageResult {
                    status: MessageStatus::Accepted,
                    ..
                }
            )
        })
        .count();
    assert_eq!(results, 2);
    h.client.quit(h.now);
    h.expect_out("QUIT\r\n");
}

#[test]
fn whole_message_queued_behind_a_running_stream_waits_for_it() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("s@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<s@example.org>\r\n");
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    h.client
        .send_message(h.now, env, Bytes::from_static(b"whole\r\n"))
        .unwrap();
    // The stream's MAIL is out: it owns the session until its outcome.
    h.rcpt(id, "t@example.net");
    h.expect_out("RCPT TO:<t@example.net>\r\n");
    h.replies("250 OK\n250 OK");
    h.end(id);
    h.expect_out("DATA\r\n");
    h.replies("354 go");
    h.expect_out(".\r\n");
    h.replies("250 OK");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
}

#[test]
fn no_new_transaction_once_quit_is_asked() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    h.client
        .send_message(h.now, env, Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.client.quit(h.now);
    assert_eq!(
        h.client
            .start_transaction(h.now, rp("a@example.org"), MailParams::default())
            .map_err(|e| e.kind),
        Err(UsageErrorKind::Closed)
    );
}

#[test]
fn recipients_refused_once_the_body_flows() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, b"x");
    h.replies("354 go");
    h.chunk(id, b"y");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nxy");
    assert_eq!(
        h.client
            .add_recipient(h.now, id, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::OutOfOrder.into())
    );
}

#[test]
fn recipients_refused_after_body_end() {
    let mut c = relay_config();
    c.use_pipelining = false;
    let mut h = Harness::ready(c, &[]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.end(id);
    assert_eq!(
        h.client
            .add_recipient(h.now, id, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::OutOfOrder.into())
    );
}

#[test]
fn body_after_the_outcome_is_dropped_not_held() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    // MAIL refused; the RCPT reply is still due, so the transaction is not over yet.
    h.replies("550 5.7.1 no");
    h.chunk(id, b"never held");
    assert_eq!(h.client.pending_output(), 0);
    h.replies("503 5.5.1 need MAIL");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Rejected, Some(550)))
    );
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
}

#[test]
fn abort_after_mail_refused_needs_no_rset() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.replies("550 5.7.1 no");
    h.client.abort_transaction(h.now, id).unwrap();
    h.replies("503 5.5.1 need MAIL");
    // No transaction was ever open on the server: nothing to reset.
    h.expect_out("");
    h.start("c@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<c@example.org>\r\n");
}

#[test]
fn abort_after_body_end_still_reports_the_outcome() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.end(id);
    h.replies("354 go");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n.\r\n");
    h.client.abort_transaction(h.now, id).unwrap();
    assert!(!h.client.is_closed());
    h.replies("250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn pending_output_counts_held_body() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    // DATA is written with the first body bytes; they wait for the 354.
    h.client.body_chunk(h.now, id, b"12345").unwrap();
    assert_eq!(h.client.pending_output(), "DATA\r\n".len() + 5);
    h.expect_out("DATA\r\n");
    assert_eq!(h.client.pending_output(), 5);
    h.replies("250 OK\n250 OK\n354 go");
    h.expect_out("12345");
    assert_eq!(h.client.pending_output(), 0);
}

#[test]
fn another_message_id_is_not_the_stream() {
    let mut h = Harness::new(relay_config());
    let env = Envelope::new(rp("a@example.org")).to(fp("b@example.net"));
    let whole = h
        .client
        .send_message(h.now, env, Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.start("s@example.org", MailParams::default());
    assert_eq!(
        h.client
            .add_recipient(h.now, whole, fp("c@example.net"), RcptParams::default()),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn stream_started_during_the_tls_handshake_waits_for_the_new_ehlo() {
    let mut c = relay_config();
    c.starttls = smtp_sansio::client::StartTlsPolicy::Required;
    let mut h = Harness::new(c);
    h.replies("220 mx");
    h.replies("250-mx\n250 STARTTLS");
    h.replies("220 go");
    h.expect_out("EHLO relay.example\r\nSTARTTLS\r\n");
    h.start("a@example.org", MailParams::default());
    h.expect_out("");
    h.client.tls_established(h.now).unwrap();
    h.expect_out("EHLO relay.example\r\n");
    h.replies("250 mx");
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
}

#[test]
fn bdat_stops_after_a_refused_chunk() {
    let mut cfg = relay_config();
    cfg.use_chunking = true;
    let mut h = Harness::ready(cfg, &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, b"abc\r\n");
    h.chunk(id, b"def\r\n");
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n\
         BDAT 5\r\nabc\r\nBDAT 5\r\ndef\r\n",
    );
    h.replies("552 5.3.4 too big");
    // The second chunk's reply is still due; nothing more may follow the refusal.
    h.end(id);
    h.expect_out("");
    h.replies("503 5.5.1 out of sequence");
    // RSET puts both sides back in step.
    h.expect_out("RSET\r\n");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Rejected, Some(552)))
    );
}

#[test]
fn rfc2920_recovery_in_a_stream_sends_no_body() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"secret\r\n");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
    h.replies("250 OK\n550 no such user\n354 go ahead anyway");
    // An empty message ends the DATA the server should have refused.
    h.expect_out(".\r\n");
    h.replies("554 no valid recipients");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::NoValidRecipients, Some(550)))
    );
}

#[test]
fn courtesy_quit_survives_a_malformed_reply_mid_stream() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.replies("2x0 garbage");
    h.expect_out("QUIT\r\n");
    assert!(h.client.is_closed());
}

#[test]
fn connection_lost_inside_data_drops_the_unsent_body() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, b"x");
    h.replies("354 go");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nx");
    h.client.body_chunk(h.now, id, b"not yet written").unwrap();
    h.client.handle_eof(h.now);
    assert_eq!(h.client.pending_output(), 0);
    h.expect_out("");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Aborted, None))
    );
}
