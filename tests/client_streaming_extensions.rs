//! Client transcripts for streamed transactions and the extensions: parameters follow
//! what the server offered, and what the client refuses to send, streamed (the same rules
//! as whole messages) (`start_transaction`,
//! `add_recipient`, `body_chunk`, `body_end`, `abort_transaction`): scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use common::client::{Harness, fp, params, relay_config, result_of, rp};
use smtp_sansio::client::{
    CloseReason, Event, MessageError, MessageStatus, StartTlsPolicy, UsageErrorKind,
};
use smtp_sansio::types::{Body, Domain, Host, MailParams, RcptParams};

#[test]
fn missing_extensions_refuse_before_mail() {
    let cases: Vec<(MailParams<'static>, &str, MessageError)> = vec![
        (
            params(|p| p.smtputf8 = true),
            "a@example.org",
            MessageError::SmtpUtf8NotOffered,
        ),
        (
            MailParams::default(),
            "j\u{f6}rg@example.org",
            MessageError::SmtpUtf8NotOffered,
        ),
        (
            params(|p| p.body = Some(Body::EightBitMime)),
            "a@example.org",
            MessageError::EightBitMimeNotOffered,
        ),
        (
            params(|p| p.size = Some(2000)),
            "a@example.org",
            MessageError::TooLarge {
                size: 2000,
                limit: 1000,
            },
        ),
    ];
    for (params, from, err) in cases {
        let mut h = Harness::ready(relay_config(), &["PIPELINING", "SIZE 1000"]);
        let id = h.client.start_transaction(h.now, rp(from), params).unwrap();
        h.expect_out("");
        let ev = h.take_events();
        assert!(
            matches!(&ev[..], [Event::MessageResult { message, status: MessageStatus::NotSent(e), reply: None }] if *message == id && *e == err),
            "{ev:?}"
        );
    }
}

#[test]
fn size_kept_under_limit_and_dropped_without_extension() {
    let params = params(|p| {
        p.size = Some(10);
        p.body = Some(Body::SevenBit);
    });
    let mut h = Harness::ready(relay_config(), &["SIZE 1000"]);
    h.start("a@example.org", params.clone());
    h.expect_out("MAIL FROM:<a@example.org> SIZE=10\r\n");
    let mut h = Harness::ready(relay_config(), &[]);
    h.start("a@example.org", params);
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
}

/// The MAIL line a streamed transaction with these parameters sends to a server
/// offering `ext`, or the reason it is refused before MAIL.
fn plan(ext: &[&str], params: MailParams<'static>) -> Result<String, MessageError> {
    let mut h = Harness::ready(relay_config(), ext);
    h.start("a@example.org", params);
    h.drain();
    match result_of(&h.events) {
        Some((MessageStatus::NotSent(e), None)) => Err(e),
        other => {
            assert_eq!(other, None);
            Ok(String::from_utf8(h.take_output()).unwrap())
        }
    }
}

#[test]
fn stream_parameters_follow_the_offered_extensions() {
    let mail = |tail: &str| Ok(format!("MAIL FROM:<a@example.org>{tail}\r\n"));
    let binary = || params(|p| p.body = Some(Body::BinaryMime));
    assert_eq!(
        plan(&["CHUNKING", "BINARYMIME"], binary()),
        mail(" BODY=BINARYMIME")
    );
    for ext in [&["CHUNKING"][..], &["BINARYMIME"], &[]] {
        assert_eq!(plan(ext, binary()), Err(MessageError::BinaryMimeNotOffered));
    }
    let eight = params(|p| p.body = Some(Body::EightBitMime));
    assert_eq!(plan(&["8BITMIME"], eight), mail(" BODY=8BITMIME"));
    let seven = params(|p| p.body = Some(Body::SevenBit));
    assert_eq!(plan(&["8BITMIME"], seven), mail(" BODY=7BIT"));
    for dsn in [
        params(|p| p.ret = Some(smtp_sansio::types::Ret::Hdrs)),
        params(|p| p.envid = Some(smtp_sansio::types::XText::new("x1").unwrap())),
    ] {
        assert_eq!(plan(&[], dsn.clone()), Err(MessageError::DsnNotOffered));
        assert!(plan(&["DSN"], dsn).is_ok());
    }
    // REQUIRETLS is offered, but this session is not encrypted.
    let tls = params(|p| p.requiretls = true);
    assert_eq!(
        plan(&["REQUIRETLS"], tls),
        Err(MessageError::RequireTlsUnavailable)
    );
    let size = params(|p| p.size = Some(1000));
    assert_eq!(plan(&["SIZE 1000"], size), mail(" SIZE=1000"));
}

#[test]
fn chunking_offered_but_not_chosen_streams_with_data() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.end(id);
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
}

/// RFC 6531 3.4: a streamed transaction from a non-ASCII sender opens with SMTPUTF8, as
/// a whole message does; without SMTPUTF8 offered it is not sent at all.
#[test]
fn non_ascii_sender_stream_opens_with_smtputf8() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "SMTPUTF8"]);
    let id = h.start("j\u{f6}rg@b\u{fc}cher.example", MailParams::default());
    h.expect_out("MAIL FROM:<j\u{f6}rg@b\u{fc}cher.example> SMTPUTF8\r\n");
    h.rcpt(id, "b@example.net");
    h.expect_out("RCPT TO:<b@example.net>\r\n");

    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("j\u{f6}rg@b\u{fc}cher.example", MailParams::default());
    h.expect_out("");
    let ev = h.take_events();
    assert!(
        ev.iter().any(|e| matches!(e, Event::MessageResult { message, status: MessageStatus::NotSent(MessageError::SmtpUtf8NotOffered), .. } if *message == id)),
        "{ev:?}"
    );
}

/// A non-ASCII recipient added before MAIL goes out puts SMTPUTF8 on MAIL; once MAIL has
/// gone without it, such a recipient is refused locally, never sent (RFC 6531 3.4).
#[test]
fn non_ascii_recipient_in_a_stream_needs_smtputf8_on_mail() {
    // MAIL waits for the session, so the recipient is known in time.
    let mut h = Harness::new(relay_config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "\u{7528}\u{6237}@\u{4f8b}\u{5b50}.example");
    h.replies("220 mx ESMTP");
    h.expect_out("EHLO relay.example\r\n");
    h.replies("250-mx\n250-SMTPUTF8\n250 PIPELINING");
    h.expect_out(
        "MAIL FROM:<a@example.org> SMTPUTF8\r\nRCPT TO:<\u{7528}\u{6237}@\u{4f8b}\u{5b50}.example>\r\n",
    );

    // MAIL already out without SMTPUTF8: the recipient is refused, the rest goes on.
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "SMTPUTF8"]);
    let id = h.start("a@example.org", MailParams::default());
    h.expect_out("MAIL FROM:<a@example.org>\r\n");
    let r = h.client.add_recipient(
        h.now,
        id,
        fp("\u{e9}l\u{e8}ve@example.net"),
        RcptParams::default(),
    );
    assert_eq!(r, Err(UsageErrorKind::NeedsSmtpUtf8.into()));
    h.rcpt(id, "b@example.net");
    h.expect_out("RCPT TO:<b@example.net>\r\n");

    // Asked for up front, SMTPUTF8 lets such recipients follow at any time.
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "SMTPUTF8"]);
    let id = h.start("a@example.org", params(|p| p.smtputf8 = true));
    h.expect_out("MAIL FROM:<a@example.org> SMTPUTF8\r\n");
    h.rcpt(id, "\u{e9}l\u{e8}ve@example.net");
    h.expect_out("RCPT TO:<\u{e9}l\u{e8}ve@example.net>\r\n");
}

// ----- what the client refuses to send, streamed (the same rules as whole messages) -----

fn closed_aborted(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            Event::Closed {
                reason: CloseReason::Aborted
            }
        )
    })
}

fn not_sent(e: MessageError) -> Option<(MessageStatus, Option<u16>)> {
    Some((MessageStatus::NotSent(e), None))
}

#[test]
fn stream_size_is_the_callers_estimate_never_made_up() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "SIZE 100000"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n");
    h.replies("250 OK\n250 OK");
    h.chunk(id, b"a\nb\n");
    h.end(id);
    h.replies("354 go");
    h.expect_out("DATA\r\na\r\nb\r\n.\r\n");
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "SIZE 100000"]);
    h.start("a@example.org", params(|p| p.size = Some(4096)));
    h.expect_out("MAIL FROM:<a@example.org> SIZE=4096\r\n");
}

#[test]
fn stream_line_over_998_octets_before_mail_is_not_sent() {
    let mut h = Harness::new(relay_config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"Subject: x\r\n\r\n");
    h.chunk(id, &[b'y'; 999]);
    h.replies("220 mx");
    h.replies("250-mx\n250 PIPELINING");
    // MAIL never goes.
    h.expect_out("EHLO relay.example\r\n");
    let long = MessageError::LineTooLong { line: 3 };
    assert_eq!(result_of(&h.take_events()), not_sent(long));
    assert!(!h.client.is_closed());
}

#[test]
fn stream_line_over_998_octets_inside_data_closes_the_connection() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"Subject: x\r\n\r\n");
    h.replies("250 OK\n250 OK\n354 go");
    h.chunk(id, &[b'y'; 600]);
    let mut want = String::from(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\n",
    );
    want.push_str(&"y".repeat(600));
    h.expect_out(&want);
    h.take_events();
    // The line goes over 998 octets only in the next piece: none of it goes out, and
    // there is no end of data, so the server can never take the partial message.
    h.chunk(id, &[b'y'; 399]);
    h.expect_out("");
    let ev = h.take_events();
    let long = MessageError::LineTooLong { line: 3 };
    assert_eq!(result_of(&ev), not_sent(long));
    assert!(closed_aborted(&ev), "{ev:?}");
    assert_eq!(
        h.client.body_end(h.now, id),
        Err(UsageErrorKind::NoSuchTransaction.into())
    );
}

#[test]
fn stream_line_of_998_octets_goes() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, &[b'y'; 500]);
    h.chunk(id, &[b'y'; 498]);
    h.chunk(id, b"\r\n");
    h.end(id);
    h.replies("354 go\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn stream_line_over_998_octets_under_bdat_sends_rset() {
    let mut cfg = relay_config();
    cfg.use_chunking = true;
    let mut h = Harness::ready(cfg, &["PIPELINING", "CHUNKING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, b"abc\r\n");
    h.expect_out("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5\r\nabc\r\n");
    h.chunk(id, &[b'z'; 1000]);
    h.expect_out("");
    // The chunk's reply is due first; then RSET discards what the server holds.
    h.replies("250 2.0.0 5 octets");
    h.expect_out("RSET\r\n");
    let long = MessageError::LineTooLong { line: 2 };
    assert_eq!(result_of(&h.take_events()), not_sent(long));
    h.replies("250 OK");
    assert!(!h.client.is_closed());
}

#[test]
fn stream_binarymime_is_exempt_from_the_line_limit() {
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "CHUNKING", "BINARYMIME"]);
    let id = h.start("a@example.org", params(|p| p.body = Some(Body::BinaryMime)));
    h.rcpt(id, "b@example.net");
    h.replies("250 OK\n250 OK");
    h.chunk(id, &[0xFF; 2000]);
    h.end(id);
    h.replies("250 2.0.0 2000 octets\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn stream_session_with_a_u_label_hello_name_sends_no_ehlo() {
    let mut cfg = relay_config();
    cfg.hello_host = Host::Domain(Domain::new("bücher.example").unwrap());
    let mut h = Harness::new(cfg);
    h.start("a@example.org", MailParams::default());
    h.replies("220 mx");
    h.expect_out("QUIT\r\n");
    let ev = h.take_events();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Error(smtp_sansio::client::ClientError::HelloNameNotAscii)
    )));
    assert_eq!(result_of(&ev), Some((MessageStatus::Aborted, None)));
}

#[test]
fn stream_undeclared_8bit_to_a_server_without_8bitmime_is_cancelled() {
    // Inside DATA: the connection is dropped before the 8-bit line goes.
    let mut h = Harness::ready(relay_config(), &["PIPELINING"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"Subject: x\r\n\r\n");
    h.replies("250 OK\n250 OK\n354 go");
    h.take_events();
    h.expect_out(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\n",
    );
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.expect_out("");
    let ev = h.take_events();
    assert_eq!(
        result_of(&ev),
        not_sent(MessageError::EightBitMimeNotOffered)
    );
    assert!(closed_aborted(&ev), "{ev:?}");
    // Handed over before MAIL: MAIL never goes.
    let mut h = Harness::new(relay_config());
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.replies("220 mx");
    h.replies("250 mx");
    h.expect_out("EHLO relay.example\r\n");
    let ev = h.take_events();
    assert_eq!(
        result_of(&ev),
        not_sent(MessageError::EightBitMimeNotOffered)
    );
}

#[test]
fn stream_8bit_content_goes_to_an_8bitmime_server() {
    // Declared up front, as it should be...
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "8BITMIME"]);
    let id = h.start(
        "a@example.org",
        params(|p| p.body = Some(Body::EightBitMime)),
    );
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.end(id);
    h.replies("250 OK\n250 OK\n354 go\n250 2.0.0 queued");
    h.expect_out(
        "MAIL FROM:<a@example.org> BODY=8BITMIME\r\nRCPT TO:<b@example.net>\r\nDATA\r\ncaf\u{e9}\r\n.\r\n",
    );
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
    // ...or not: the server said it carries 8-bit data, so nothing is cancelled.
    let mut h = Harness::ready(relay_config(), &["PIPELINING", "8BITMIME"]);
    let id = h.start("a@example.org", MailParams::default());
    h.rcpt(id, "b@example.net");
    h.chunk(id, b"caf\xc3\xa9\r\n");
    h.end(id);
    h.replies("250 OK\n250 OK\n354 go\n250 2.0.0 queued");
    assert_eq!(
        result_of(&h.take_events()),
        Some((MessageStatus::Accepted, Some(250)))
    );
}

#[test]
fn stream_requiretls_is_only_sent_over_verified_tls() {
    for verified in [false, true] {
        let mut cfg = relay_config();
        cfg.starttls = StartTlsPolicy::Required;
        let mut h = Harness::new(cfg);
        h.start("a@example.org", params(|p| p.requiretls = true));
        h.replies("220 mx");
        h.replies("250-mx\n250 STARTTLS");
        h.replies("220 go");
        h.expect_out("EHLO relay.example\r\nSTARTTLS\r\n");
        if verified {
            h.client.tls_established_verified(h.now).unwrap();
        } else {
            h.client.tls_established(h.now).unwrap();
        }
        h.replies("250-mx\n250 REQUIRETLS");
        if verified {
            h.expect_out("EHLO relay.example\r\nMAIL FROM:<a@example.org> REQUIRETLS\r\n");
        } else {
            h.expect_out("EHLO relay.example\r\n");
            let ev = h.take_events();
            assert_eq!(result_of(&ev), not_sent(MessageError::RequireTlsUnverified));
        }
    }
}
