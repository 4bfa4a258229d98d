//! Client transcripts for the MAIL parameters of the extensions (SIZE RFC 1870, 8BITMIME
//! RFC 6152, SMTPUTF8 RFC 6531, DSN RFC 3461, CHUNKING/BINARYMIME RFC 3030, REQUIRETLS
//! RFC 8689) and what the client refuses to send: scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use bytes::Bytes;
use common::client::{Harness, config, envelope, fp, rp, tls_config};
use common::esc;
use smtp_sansio::client::{
    ClientError, CloseReason, Envelope, MessageError, MessageStatus, StartTlsPolicy,
};
use smtp_sansio::types::{Body, Domain, Host, MailParams, Notify, Orcpt, RcptParams, XText};

// ----- MAIL parameters ---------------------------------------------------------------

#[test]
fn size_declared_when_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"12345\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 1000
         C: MAIL FROM:<a@x.example> SIZE=7",
    );
}

#[test]
fn size_over_limit_is_not_sent() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"0123456789\r\n");
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 5
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::TooLarge {
            size: 12,
            limit: 5
        })]
    );
}

#[test]
fn eightbitmime_needed_and_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], "café\r\n".as_bytes());
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 8BITMIME
         C: MAIL FROM:<a@x.example> BODY=8BITMIME",
    );
}

#[test]
fn eightbitmime_needed_and_not_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], "café\r\n".as_bytes());
    h.send("a@x.example", &["b@y.example"], b"plain\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::EightBitMimeNotOffered)]
    );
}

#[test]
fn smtputf8_needed_and_offered() {
    let mut h = Harness::new(config());
    h.send("jöran@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-8BITMIME
         S: 250 SMTPUTF8
         C: MAIL FROM:<jöran@x.example> SMTPUTF8",
    );
}

#[test]
fn smtputf8_needed_and_not_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["用户@例子.广告"], b"hi\r\n");
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 8BITMIME
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::SmtpUtf8NotOffered)]
    );
}

#[test]
fn dsn_params_only_when_offered() {
    let mut notify = RcptParams::default();
    notify.notify = Some(Notify::on(false, true, true).unwrap());
    let mut h = Harness::new(config());
    let env = Envelope::new(rp("a@x.example")).to_with(fp("b@y.example"), notify);
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.client
        .send_message(h.now, env, Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 DSN
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example> NOTIFY=FAILURE,DELAY",
    );
    let mut h = Harness::new(config());
    let mut p = MailParams::default();
    p.ret = Some(smtp_sansio::types::Ret::Hdrs);
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    h.client.send_message(h.now, env, Bytes::new()).unwrap();
    h.client
        .send_message(
            h.now,
            envelope("c@x.example", &["b@y.example"]),
            Bytes::new(),
        )
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<c@x.example>",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::DsnNotOffered)]
    );
}

#[test]
fn binarymime_needs_chunking() {
    let mut h = Harness::new(config());
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]).with_params(p),
            Bytes::from_static(b"\0\x01\n"),
        )
        .unwrap();
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::BinaryMimeNotOffered)]
    );
}

#[test]
fn binarymime_needs_binarymime_as_well_as_chunking() {
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let mut h = Harness::new(config());
    let body = Bytes::from_static(b"\0\x01\n");
    h.client
        .send_message(h.now, env.clone(), body.clone())
        .unwrap();
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 BINARYMIME
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::BinaryMimeNotOffered)]
    );
    let mut h = Harness::new(config());
    h.client.send_message(h.now, env, body).unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-CHUNKING
         S: 250 BINARYMIME
         C: MAIL FROM:<a@x.example> BODY=BINARYMIME",
    );
}

#[test]
fn chunking_offered_but_not_chosen_sends_data() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA",
    );
}

#[test]
fn body_7bit_is_declared_only_to_an_8bitmime_server() {
    let mut p = MailParams::default();
    p.body = Some(Body::SevenBit);
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 8BITMIME
         C: MAIL FROM:<a@x.example> BODY=7BIT",
    );
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env, Bytes::from_static(b"hi\r\n"))
        .unwrap();
    // RFC 6152 2: BODY= exists only with 8BITMIME.
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: MAIL FROM:<a@x.example>");
}

/// The result of one message whose parameters a plain server (no extensions) must
/// refuse.
fn refused_by_plain_server(env: Envelope) -> Vec<MessageStatus> {
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env, Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: QUIT");
    h.results()
}

#[test]
fn each_dsn_parameter_alone_needs_dsn() {
    let mut p = MailParams::default();
    p.envid = Some(XText::new("QQ314159").unwrap());
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let not_sent = vec![MessageStatus::NotSent(MessageError::DsnNotOffered)];
    assert_eq!(refused_by_plain_server(env), not_sent);
    let mut r = RcptParams::default();
    r.orcpt = Some(Orcpt::new("rfc822", XText::new("b@y.example").unwrap()).unwrap());
    let env = Envelope::new(rp("a@x.example")).to_with(fp("b@y.example"), r);
    assert_eq!(refused_by_plain_server(env), not_sent);
}

#[test]
fn requiretls_needs_the_extension_and_a_tls_session() {
    let mut p = MailParams::default();
    p.requiretls = true;
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    // Offered, but this session is not encrypted.
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 REQUIRETLS\nC: QUIT");
    let refused = vec![MessageStatus::NotSent(MessageError::RequireTlsUnavailable)];
    assert_eq!(h.results(), refused);
    // Offered after STARTTLS: sent.
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.client
        .send_message(h.now, env, Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go");
    h.client.tls_established_verified(h.now).unwrap();
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 REQUIRETLS
         C: MAIL FROM:<a@x.example> REQUIRETLS",
    );
}

#[test]
fn size_exactly_at_the_limit_is_sent() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"123\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 5
         C: MAIL FROM:<a@x.example> SIZE=5",
    );
}

// ----- what the client refuses to send (RFC 1870 5, 5321 4.5.3.1.6, 6531 3.7.1, 6152, 8689)

/// Queues one message with an owned body.
fn send_owned(h: &mut Harness, body: Vec<u8>) {
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::from(body),
        )
        .unwrap();
    h.drain();
}

#[test]
fn size_declares_the_octets_sent_after_crlf_normalisation() {
    // Bare LF and bare CR go as CRLF, the unterminated last line gets its CRLF under DATA,
    // and the transparency dot is not counted (RFC 1870 5): "a\r\n" ".b\r\n" "c\r\n".
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"a\n.b\rc");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 1000
         C: MAIL FROM:<a@x.example> SIZE=10
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: a
         C: ..b
         C: c
         C: .",
    );
    // BDAT: normalised, and nothing added at the end; the declared size is the chunk's.
    let mut c = config();
    c.use_chunking = true;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"a\n.b\rc");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-CHUNKING
         S: 250 SIZE 1000
         C: MAIL FROM:<a@x.example> SIZE=8
         S: 250 ok
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n");
    assert_eq!(esc(&h.take_output()), esc(b"BDAT 8 LAST\r\na\r\n.b\r\nc"));
    // The limit is judged on the same count: 4 raw octets, 5 sent.
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"abc\n");
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 SIZE 4\nC: QUIT");
    let too_large = MessageError::TooLarge { size: 5, limit: 4 };
    assert_eq!(h.results(), vec![MessageStatus::NotSent(too_large)]);
}

#[test]
fn line_over_998_octets_is_refused_before_anything_is_sent() {
    let long = |n: usize| {
        let mut b = b"Subject: x\r\n\r\n".to_vec();
        b.extend(std::iter::repeat_n(b'y', n));
        b.extend_from_slice(b"\r\nend\r\n");
        b
    };
    for chunking in [false, true] {
        let mut c = config();
        c.use_chunking = chunking;
        let mut h = Harness::new(c);
        send_owned(&mut h, long(999));
        send_owned(&mut h, long(998));
        // Only the second message's MAIL goes out; the first is never offered.
        h.run(
            "S: 220 mx
             C: EHLO client.example
             S: 250-mx
             S: 250-CHUNKING
             S: 250 SIZE
             C: MAIL FROM:<a@x.example> SIZE=1019",
        );
        let refused = MessageError::LineTooLong { line: 3 };
        assert_eq!(
            h.results(),
            vec![MessageStatus::NotSent(refused)],
            "chunking {chunking}"
        );
    }
    // The limit excludes the line end, whichever form it takes in the input.
    let mut h = Harness::new(config());
    let mut body = vec![b'z'; 998];
    body.push(b'\n');
    body.extend(vec![b'z'; 999]);
    send_owned(&mut h, body);
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: QUIT");
    let refused = MessageError::LineTooLong { line: 2 };
    assert_eq!(h.results(), vec![MessageStatus::NotSent(refused)]);
}

#[test]
fn binarymime_is_exempt_from_the_line_limit() {
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    let mut h = Harness::new(config());
    let body = vec![0xFFu8; 3000];
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]).with_params(p),
            Bytes::from(body),
        )
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-CHUNKING
         S: 250 BINARYMIME
         C: MAIL FROM:<a@x.example> BODY=BINARYMIME
         S: 250 ok
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n");
    let out = h.take_output();
    assert!(
        out.starts_with(b"BDAT 3000 LAST\r\n"),
        "{}",
        esc(&out[..20])
    );
}

#[test]
fn ehlo_name_with_a_u_label_is_never_sent() {
    let host = Host::Domain(Domain::new("bücher.example").unwrap());
    let mut c = config();
    c.hello_host = host;
    assert_eq!(c.validate(), Err(ClientError::HelloNameNotAscii));
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run("S: 220 mx\nC: QUIT\nS: 221 bye");
    assert_eq!(h.errors(), vec![&ClientError::HelloNameNotAscii]);
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    // The same name in A-labels goes as given.
    let mut c = config();
    c.hello_host = Host::Domain(Domain::new("xn--bcher-kva.example").unwrap());
    assert_eq!(c.validate(), Ok(()));
    let mut h = Harness::new(c);
    h.run("S: 220 mx\nC: EHLO xn--bcher-kva.example");
}

#[test]
fn undeclared_8bit_content_is_never_sent_without_8bitmime() {
    // DATA and BDAT alike; an explicit BODY=7BIT does not make the content 7-bit.
    for (chunking, declared) in [(false, None), (true, None), (false, Some(Body::SevenBit))] {
        let mut c = config();
        c.use_chunking = chunking;
        let mut p = MailParams::default();
        p.body = declared;
        let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
        let mut h = Harness::new(c.clone());
        h.client
            .send_message(h.now, env.clone(), Bytes::from_static(b"caf\xc3\xa9\r\n"))
            .unwrap();
        h.client.quit(h.now);
        h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 CHUNKING\nC: QUIT");
        let refused = MessageStatus::NotSent(MessageError::EightBitMimeNotOffered);
        assert_eq!(h.results(), vec![refused], "chunking {chunking}");
        // Offered: declared.
        let mut h = Harness::new(c);
        h.client
            .send_message(h.now, env, Bytes::from_static(b"caf\xc3\xa9\r\n"))
            .unwrap();
        h.run(
            "S: 220 mx
             C: EHLO client.example
             S: 250-mx
             S: 250-CHUNKING
             S: 250 8BITMIME
             C: MAIL FROM:<a@x.example> BODY=8BITMIME",
        );
    }
}

#[test]
fn requiretls_is_only_sent_over_verified_tls() {
    let mut p = MailParams::default();
    p.requiretls = true;
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.client
        .send_message(
            h.now,
            envelope("c@x.example", &["b@y.example"]),
            Bytes::from_static(b"hi\r\n"),
        )
        .unwrap();
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go");
    // TLS is up, but nobody checked the certificate: the REQUIRETLS message never goes,
    // the next one does.
    h.client.tls_established(h.now).unwrap();
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 REQUIRETLS
         C: MAIL FROM:<c@x.example>",
    );
    let refused = MessageStatus::NotSent(MessageError::RequireTlsUnverified);
    assert_eq!(h.results(), vec![refused]);
}
