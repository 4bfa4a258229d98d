//! Server transcripts for the ESMTP extensions: SIZE (RFC 1870), ENHANCEDSTATUSCODES
//! (RFC 2034), SMTPUTF8 (RFC 6531), 8BITMIME (RFC 6152), DSN (RFC 3461), AUTH= (RFC 4954)
//! and REQUIRETLS (RFC 8689), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{
    Decision, Ev, Harness, Policy, after_ehlo, after_ehlo_tls, auth_cfg, cfg, default, small_cfg,
    transcript_with,
};
use smtp_sansio::server::{AbortReason, ServerConfig};
use smtp_sansio::types::{Body, MailAuth, MailParams, Notify, RcptParams, Ret};

// ---------------------------------------------------------------------------------------
// SIZE (RFC 1870)

#[test]
fn rfc1870_6_declared_size_over_limit_552() {
    let mut h = after_ehlo(small_cfg(100), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com> SIZE=101
         S: 552 5.3.4 Message size exceeds fixed limit
         C: MAIL FROM:<a@example.com> SIZE=100
         S: 250 2.1.0 Sender OK",
    );
    assert_eq!(h.senders().len(), 1);
}

/// Data beyond the limit is read to the end and dropped, then 552; the session stays
/// usable and nothing of the message is delivered.
#[test]
fn rfc1870_body_over_limit_read_to_end_then_552() {
    let big = "x".repeat(60);
    let mut h = after_ehlo(small_cfg(50), Policy::accept_all());
    h.run(&format!(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: {big}\\r\\nMAIL FROM:<evil@example.com>\\r\\n
         C: {big}\\r\\n
         C: .
         S: 552 5.3.4 Message size exceeds fixed limit
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: small\\r\\n.\\r\\n
         S: 250 2.0.0 Message accepted"
    ));
    assert_eq!(h.count(|e| *e == Ev::Aborted(AbortReason::TooBig)), 1);
    assert_eq!(h.messages, vec![b"small\r\n".to_vec()]);
    assert!(!h.senders().contains(&"<evil@example.com>".to_string()));
}

/// The same for BDAT: a chunk that would pass the limit is consumed and refused.
#[test]
fn rfc1870_bdat_over_limit_consumed_then_552() {
    let mut h = after_ehlo(small_cfg(5), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com>
         S: 250 2.1.5 Recipient OK
         C: BDAT 3\\r\\nabc
         S: 250 2.0.0 3 octets received
         C: BDAT 6 LAST\\r\\nNOOP\\r\\n
         S: 552 5.3.4 Message size exceeds fixed limit
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(h.log.contains(&Ev::Aborted(AbortReason::TooBig)));
    assert!(h.messages.is_empty());
}

/// RFC 1870 4: a message of exactly the declared maximum is within the limit; one
/// octet more is not.
#[test]
fn rfc1870_4_message_of_exactly_the_limit_is_accepted() {
    let mut cfg = ServerConfig::default();
    cfg.limits.message_size = Some(10);
    let mut h = Harness::new(cfg, Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S~ 250 HELP
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: 12345678
         C: .
         S: 250 2.0.0 Message accepted
         C: MAIL FROM:<s@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<a@example.com>
         S: 250 2.1.5 Recipient OK
         C: DATA
         S: 354 End data with <CR><LF>.<CR><LF>
         C: 123456789
         C: .
         S: 552 5.3.4 Message size exceeds fixed limit",
    );
}

// ---------------------------------------------------------------------------------------
// ENHANCEDSTATUSCODES (RFC 2034)

/// RFC 2034 / 3463: with ENHANCEDSTATUSCODES every reply but the greeting carries one;
/// without, none does, not even the application's.
#[test]
fn rfc2034_enhanced_status_codes_on_and_off() {
    let mut c = cfg();
    c.extensions.enhanced_status_codes = false;
    let h = transcript_with(
        c,
        Policy::accept_all().refuse_rcpt_containing("nobody"),
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250 HELP
         C: MAIL FROM:<a@example.com>
         S: 250 Sender OK
         C: RCPT TO:<nobody@example.com>
         S: 550 No such user
         C: FOO
         S: 500 Syntax error, command unrecognized",
    );
    assert!(!String::from_utf8_lossy(&h.out).contains("5.1.1"));
}

// ---------------------------------------------------------------------------------------
// SMTPUTF8, 8BITMIME, DSN, AUTH=, REQUIRETLS: typed parameters

/// RFC 6531 3.5: a non-ASCII address needs SMTPUTF8 on MAIL: `550 5.6.7` at MAIL,
/// `553 5.6.7` at RCPT.
#[test]
fn rfc6531_3_5_non_ascii_address_needs_smtputf8_550_mail_553_rcpt() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<j\\xc3\\xb6rg@example.com>
         S: 550 5.6.7 Non-ASCII address requires SMTPUTF8
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<j\\xc3\\xb6rg@b\\xc3\\xbccher.example>
         S: 553 5.6.7 Non-ASCII address requires SMTPUTF8
         C: RSET
         S: 250 2.0.0 OK
         C: MAIL FROM:<j\\xc3\\xb6rg@example.com> SMTPUTF8
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<j\\xc3\\xb6rg@b\\xc3\\xbccher.example>
         S: 250 2.1.5 Recipient OK",
    );
    assert_eq!(h.senders(), vec!["<a@example.com>", "<jörg@example.com>"]);
    assert_eq!(h.recipients(), vec!["<jörg@bücher.example>"]);
}

/// RFC 1870, 6152, 3461, 4954 5, 8689: parameters arrive typed.
#[test]
fn rfc3461_dsn_and_other_params_typed() {
    let mails: Rc<RefCell<Vec<MailParams<'static>>>> = Rc::default();
    let rcpts: Rc<RefCell<Vec<RcptParams<'static>>>> = Rc::default();
    let (m, r) = (mails.clone(), rcpts.clone());
    let mut c = auth_cfg();
    c.auth_requires_tls = true;
    let policy = Policy::accept_all()
        .mail(move |req| {
            m.borrow_mut().push(req.params.clone());
            Decision::Accept
        })
        .rcpt(move |req| {
            r.borrow_mut().push(req.params.clone());
            Decision::Accept
        });
    let mut h = after_ehlo_tls(c, policy);
    h.run(
        "C: MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=QQ314159 AUTH=a+40example.com REQUIRETLS
         S: 250 2.1.0 Sender OK
         C: RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.com
         S: 250 2.1.5 Recipient OK
         C: RCPT TO:<c@example.com> NOTIFY=NEVER
         S: 250 2.1.5 Recipient OK
         C: RSET
         S: 250 2.0.0 OK
         C: MAIL FROM:<> BODY=7BIT AUTH=<> RET=FULL
         S: 250 2.1.0 Sender OK
         C: RSET
         S: 250 2.0.0 OK
         C: MAIL FROM:<a@example.com> RET=SOMETIMES
         S: 501 5.5.4 Invalid parameter value
         C: MAIL FROM:<a@example.com> SIZE=1 SIZE=2
         S: 501 5.5.4 Duplicate parameter",
    );
    let mails = mails.borrow();
    assert_eq!(mails.len(), 2);
    let p = &mails[0];
    assert_eq!(p.size, Some(1000));
    assert_eq!(p.body, Some(Body::EightBitMime));
    assert_eq!(p.ret, Some(Ret::Hdrs));
    assert_eq!(p.envid.as_ref().map(|x| x.as_str()), Some("QQ314159"));
    assert!(matches!(&p.auth, Some(MailAuth::Identity(x)) if x.as_str() == "a@example.com"));
    assert!(p.requiretls);
    assert_eq!(mails[1].body, Some(Body::SevenBit));
    assert_eq!(mails[1].auth, Some(MailAuth::Unknown));
    assert_eq!(mails[1].ret, Some(Ret::Full));
    let rcpts = rcpts.borrow();
    assert_eq!(
        rcpts[0].notify,
        Some(Notify::On {
            success: true,
            failure: true,
            delay: false
        })
    );
    let orcpt = rcpts[0].orcpt.as_ref().expect("ORCPT");
    assert!(orcpt.addr_type().eq_ignore_ascii_case("rfc822"));
    assert_eq!(orcpt.address().as_str(), "b@example.com");
    assert_eq!(rcpts[1].notify, Some(Notify::Never));
}

/// RFC 8689: REQUIRETLS only inside TLS, and only announced there.
#[test]
fn rfc8689_requiretls_needs_tls() {
    let mut h = default();
    h.run(
        "C: MAIL FROM:<a@example.com> REQUIRETLS
         S: 530 5.7.10 REQUIRETLS needs a TLS session",
    );
    assert!(h.senders().is_empty());
    let mut t = Harness::new_tls(cfg(), Policy::accept_all());
    t.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250-ENHANCEDSTATUSCODES
         S: 250-REQUIRETLS
         S: 250 HELP
         C: MAIL FROM:<a@example.com> REQUIRETLS
         S: 250 2.1.0 Sender OK",
    );
}
