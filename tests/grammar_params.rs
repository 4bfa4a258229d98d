//! Known-answer tables for the MAIL parameters (RFC 1870, 6152, 3030, 6531, 3461, 4954,
//! 8689, 6710) and the RCPT parameters (RFC 3461 4.1, 4.2), and the value types' constructors, under the strict and the lenient grammar
//! (tables in `common/grammar.rs`); replies are in `reply_grammar.rs`.

mod common;

use std::borrow::Cow;

use common::esc;
use common::grammar::*;
use smtp_sansio::types::{
    AddressLiteral, Argument, Body, Command, Domain, EnhancedStatus, LocalPart, MailAuth, Mailbox,
    Mechanism, MtPriority, Notify, Orcpt, Param, ReplyCode, Ret, ReversePath, Text, XText,
};
use smtp_sansio::{Grammar, SyntaxErrorKind, decode_command};

use SyntaxErrorKind::{Arguments, DuplicateParameter, ParameterValue, UnknownParameter};

// ---------------------------------------------------------------------------------------
// MAIL parameters (RFC 1870, 6152, 3030, 6531, 3461, 4954, 8689, 6710)

#[test]
fn mail_parameters() {
    let ab = || from("a", "b");
    run(&[
        // SIZE (RFC 1870)
        r(b"MAIL FROM:<a@b> SIZE=0", K(mail_p(ab(), |p| p.size = Some(0)))),
        r(b"MAIL FROM:<a@b> SIZE=1000000", K(mail_p(ab(), |p| p.size = Some(1_000_000)))),
        r(b"MAIL FROM:<a@b> size=007", K(mail_p(ab(), |p| p.size = Some(7)))),
        r(
            b"MAIL FROM:<a@b> SIZE=18446744073709551615",
            K(mail_p(ab(), |p| p.size = Some(u64::MAX))),
        ),
        r(b"MAIL FROM:<a@b> SIZE=18446744073709551616", EAt(16, ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE=99999999999999999999", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE=000000000000000000001", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE=", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> X=", E(Arguments)),
        r(b"MAIL FROM:<a@b> SIZE=-1", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE=+1", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE=1k", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> SIZE=1 SIZE=1", EAt(23, DuplicateParameter)),
        r(b"MAIL FROM:<a@b> SIZE=1 size=2", E(DuplicateParameter)),
        // BODY (RFC 6152, RFC 3030)
        r(b"MAIL FROM:<a@b> BODY=7BIT", K(mail_p(ab(), |p| p.body = Some(Body::SevenBit)))),
        r(b"MAIL FROM:<a@b> BODY=8bitmime", K(mail_p(ab(), |p| p.body = Some(Body::EightBitMime)))),
        r(b"MAIL FROM:<a@b> body=BinaryMIME", K(mail_p(ab(), |p| p.body = Some(Body::BinaryMime)))),
        r(b"MAIL FROM:<a@b> BODY=8BIT", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> BODY", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> BODY=7BIT BODY=7BIT", E(DuplicateParameter)),
        // SMTPUTF8 (RFC 6531)
        r(b"MAIL FROM:<a@b> SMTPUTF8", K(mail_p(ab(), |p| p.smtputf8 = true))),
        r(b"MAIL FROM:<a@b> smtputf8", K(mail_p(ab(), |p| p.smtputf8 = true))),
        r(b"MAIL FROM:<a@b> SMTPUTF8=yes", EAt(16, ParameterValue)),
        r(b"MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8", E(DuplicateParameter)),
        // RET (RFC 3461 4.3)
        r(b"MAIL FROM:<a@b> RET=FULL", K(mail_p(ab(), |p| p.ret = Some(Ret::Full)))),
        r(b"MAIL FROM:<a@b> ret=hdrs", K(mail_p(ab(), |p| p.ret = Some(Ret::Hdrs)))),
        r(b"MAIL FROM:<a@b> RET=NONE", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> RET", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> RET=FULL RET=HDRS", E(DuplicateParameter)),
        // ENVID (RFC 3461 4.4): xtext; the 100-character advice binds senders, not parsers.
        r(b"MAIL FROM:<a@b> ENVID=QQ314159", K(mail_p(ab(), |p| p.envid = Some(xt("QQ314159"))))),
        r(b"MAIL FROM:<a@b> ENVID=a+2Bb+20c", K(mail_p(ab(), |p| p.envid = Some(xt("a+b c"))))),
        r(b"MAIL FROM:<a@b> ENVID=+3D", K(mail_p(ab(), |p| p.envid = Some(xt("="))))),
        r(b"MAIL FROM:<a@b> ENVID=+C3+BC", K(mail_p(ab(), |p| p.envid = Some(xt("ü"))))),
        r(b"MAIL FROM:<a@b> ENVID=+2b", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> ENVID=+2", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> ENVID=+", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> ENVID=+GG", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> ENVID=+FF", E(ParameterValue)),
        r("MAIL FROM:<a@b> ENVID=ü".as_bytes(), E(ParameterValue)),
        r(b"MAIL FROM:<a@b> ENVID", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> ENVID=a ENVID=b", E(DuplicateParameter)),
        // AUTH= (RFC 4954 5)
        r(b"MAIL FROM:<a@b> AUTH=<>", K(mail_p(ab(), |p| p.auth = Some(MailAuth::Unknown)))),
        r(
            b"MAIL FROM:<a@b> AUTH=e+3Dmc2@example.com",
            K(mail_p(ab(), |p| p.auth = Some(MailAuth::Identity(xt("e=mc2@example.com"))))),
        ),
        r(
            b"MAIL FROM:<a@b> auth=+3C+3E",
            K(mail_p(ab(), |p| p.auth = Some(MailAuth::Identity(xt("<>"))))),
        ),
        r(b"MAIL FROM:<a@b> AUTH", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> AUTH=+zz", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> AUTH=<> AUTH=<>", E(DuplicateParameter)),
        // REQUIRETLS (RFC 8689)
        r(b"MAIL FROM:<a@b> REQUIRETLS", K(mail_p(ab(), |p| p.requiretls = true))),
        r(b"MAIL FROM:<a@b> RequireTLS", K(mail_p(ab(), |p| p.requiretls = true))),
        r(b"MAIL FROM:<a@b> REQUIRETLS=1", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> REQUIRETLS REQUIRETLS", E(DuplicateParameter)),
        // MT-PRIORITY (RFC 6710)
        r(b"MAIL FROM:<a@b> MT-PRIORITY=-9", K(mail_p(ab(), |p| p.mt_priority = Some(pri(-9))))),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=9", K(mail_p(ab(), |p| p.mt_priority = Some(pri(9))))),
        r(b"MAIL FROM:<a@b> mt-priority=+3", K(mail_p(ab(), |p| p.mt_priority = Some(pri(3))))),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=0", K(mail_p(ab(), |p| p.mt_priority = Some(pri(0))))),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=-0", K(mail_p(ab(), |p| p.mt_priority = Some(pri(0))))),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=10", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=-10", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=+", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=x", E(ParameterValue)),
        // Bytes next to the digits ("/" is "0" - 1, ":" is "9" + 1) after a sign.
        r(b"MAIL FROM:<a@b> MT-PRIORITY=+/", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=-/", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=+:", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=/", E(ParameterValue)),
        // After a parameter: a space and another, or the end; the offset names the byte.
        r(b"MAIL FROM:<a@b> SIZE=1=2", EAt(22, Arguments)),
        r(b"MAIL FROM:<a@b> SIZE=1 BODY=7BIT=", EAt(32, Arguments)),
        r2(
            b"MAIL FROM:<a@b> SIZE=1 ",
            EAt(22, Arguments),
            K(mail_p(ab(), |p| p.size = Some(1))),
        ),
        r(b"MAIL FROM:<a@b> MT-PRIORITY", E(ParameterValue)),
        r(b"MAIL FROM:<a@b> MT-PRIORITY=1 MT-PRIORITY=1", E(DuplicateParameter)),
        // Unknown keywords are kept in order, as sent.
        r(
            b"MAIL FROM:<a@b> X-FOO=bar XYZ",
            K(mail_p(ab(), |p| p.other = vec![param("X-FOO", Some("bar")), param("XYZ", None)])),
        ),
        // A RCPT parameter on MAIL is unknown here.
        r(b"MAIL FROM:<a@b> NOTIFY=NEVER", E(UnknownParameter)),
        r(
            "MAIL FROM:<a@b> X=ü".as_bytes(),
            K(mail_p(ab(), |p| p.other = vec![param("X", Some("ü"))])),
        ),
        // An unknown keyword may repeat (only its extension could say otherwise).
        r(
            b"MAIL FROM:<a@b> X-FOO=1 x-foo=2",
            K(mail_p(ab(), |p| {
                p.other = vec![param("X-FOO", Some("1")), param("x-foo", Some("2"))]
            })),
        ),
        r(
            b"MAIL FROM:<a@b> X-FOO X-FOO",
            K(mail_p(ab(), |p| {
                p.other = vec![param("X-FOO", None), param("X-FOO", None)]
            })),
        ),
        // All together.
        r(
            b"MAIL FROM:<> SIZE=5 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id AUTH=<> REQUIRETLS MT-PRIORITY=-2 Z=1",
            K(mail_p(ReversePath::Null, |p| {
                p.size = Some(5);
                p.body = Some(Body::EightBitMime);
                p.smtputf8 = true;
                p.ret = Some(Ret::Hdrs);
                p.envid = Some(xt("id"));
                p.auth = Some(MailAuth::Unknown);
                p.requiretls = true;
                p.mt_priority = Some(pri(-2));
                p.other = vec![param("Z", Some("1"))];
            })),
        ),
        // esmtp-param syntax.
        r(b"MAIL FROM:<a@b> =1", EAt(16, Arguments)),
        r(b"MAIL FROM:<a@b> -X", E(Arguments)),
        r(b"MAIL FROM:<a@b> X_Y", E(Arguments)),
        r(b"MAIL FROM:<a@b> X=a=b", E(Arguments)),
        r(b"MAIL FROM:<a@b> X=\x7f", E(Arguments)),
        r(b"MAIL FROM:<a@b> X=\t", E(Arguments)),
        r(b"MAIL FROM:<a@b>  SIZE=1", E(Arguments)),
        r(b"MAIL FROM:<a@b> SIZE=1  BODY=7BIT", E(Arguments)),
        r(b"MAIL FROM:<a@b>SIZE=1", E(Arguments)),
    ]);
}

#[test]
fn constructors_refuse_invalid_values() {
    // Command::other: a verb with a variant of its own would not parse back as Other.
    for known in ["MAIL", "rcpt", "StartTLS", "LHLO", "bdat", "EXPN"] {
        assert!(Command::other(known, None).is_err(), "{known}");
    }
    assert_eq!(
        Command::other("XCLIENT", Some("ADDR=1.2.3.4")).unwrap(),
        other("XCLIENT", Some("ADDR=1.2.3.4"))
    );
    assert!(Command::other("MAILX", None).is_ok());
    // Mailbox::parse: `local@domain` under the strict grammar, UTF-8 allowed.
    let m = Mailbox::parse("J.Doe@Example.org").unwrap();
    assert_eq!(m, mbox("J.Doe", hd("example.org")));
    assert_eq!(m.local_part().as_str(), "J.Doe");
    assert_eq!(
        Mailbox::parse("\"a b\"@[192.0.2.1]").unwrap(),
        mbox("\"a b\"", v4(192, 0, 2, 1))
    );
    assert!(Mailbox::parse("jörg@bücher.example").is_ok());
    for bad in [
        "<a@b>",
        "a@b ",
        "a",
        "@b",
        "a@",
        "a@b_c.example",
        "a..b@c",
        "a@b@c",
    ] {
        assert!(Mailbox::parse(bad).is_err(), "{bad:?}");
    }
    for v in [-10i8, 10, i8::MIN, i8::MAX] {
        assert!(MtPriority::new(v).is_err(), "MT-PRIORITY {v}");
    }
    for v in -9i8..=9 {
        assert_eq!(MtPriority::new(v).unwrap().get(), v);
    }
    assert!(Notify::on(false, false, false).is_err());
    assert!(XText::new("").is_err());
    assert!(Orcpt::new("", xt("a")).is_err());
    assert!(Orcpt::new("rfc 822", xt("a")).is_err());
    assert!(Orcpt::new("a;b", xt("a")).is_err());
    assert!(
        Orcpt::new("a=b", xt("a")).is_err(),
        "'=' cannot appear in an esmtp-value"
    );
    assert!(Param::new("", None).is_err());
    assert!(Param::new("-X", None).is_err());
    assert!(Param::new("X_Y", None).is_err());
    assert!(Param::new("X", Some(Cow::Borrowed(""))).is_err());
    assert!(Param::new("X", Some(Cow::Borrowed("a=b"))).is_err());
    assert!(Param::new("X", Some(Cow::Borrowed("a b"))).is_err());
    assert!(Mechanism::new("").is_err());
    assert!(Mechanism::new("ABCDEFGHIJKLMNOPQRSTU").is_err());
    assert!(Mechanism::new("PL@IN").is_err());
    assert_eq!(
        Mechanism::new("scram-sha-1").unwrap().as_str(),
        "SCRAM-SHA-1"
    );
    assert!(Argument::new("").is_err());
    assert!(Argument::new(" a").is_err());
    assert!(Argument::new("a ").is_err());
    assert!(Argument::new("a\r\nb").is_err());
    assert!(Argument::new("a\0b").is_err());
    assert!(Domain::new("a_b").is_err());
    assert!(Domain::new("a.").is_err());
    assert!(Domain::new("").is_err());
    assert!(LocalPart::new("a b").is_err());
    assert!(LocalPart::new("\"a").is_err());
    assert!(LocalPart::quote("a\tb").is_err());
    assert!(AddressLiteral::general("IPv6", "1").is_err());
    assert!(AddressLiteral::general("ipv6", "::1").is_err());
    assert!(AddressLiteral::general("a", "").is_err());
    assert!(AddressLiteral::general("a", "b]").is_err());
    assert!(AddressLiteral::general("a-", "b").is_err());
    assert!(AddressLiteral::general("a b", "c").is_err());
    assert!(Text::new("a\rb").is_err());
    assert!(Text::new("a\nb").is_err());
    for c in [0u16, 100, 199, 160, 260, 599, 600, 999, 1000] {
        assert!(ReplyCode::new(c).is_err(), "reply code {c}");
    }
    for c in [200u16, 250, 354, 421, 555, 559] {
        assert_eq!(ReplyCode::new(c).unwrap().get(), c);
    }
    assert!(EnhancedStatus::new(3, 0, 0).is_err());
    assert!(EnhancedStatus::new(2, 1000, 0).is_err());
    assert!(EnhancedStatus::new(5, 0, 1000).is_err());
}

/// `AUTH=` with the identity `<>` must not turn into `AUTH=<>` (unknown) on the wire.
#[test]
fn mail_auth_identity_that_looks_like_null() {
    let c = mail_p(ReversePath::Null, |p| {
        p.auth = Some(MailAuth::Identity(xt("<>")))
    });
    let mut out = bytes::BytesMut::new();
    c.encode(&mut out);
    let (_, back) = decode_command(&out, &Grammar::strict()).unwrap();
    assert_eq!(back, c, "\"{}\"", esc(&out));
}

// ---------------------------------------------------------------------------------------
// RCPT parameters (RFC 3461 4.1, 4.2)

#[test]
fn rcpt_parameters() {
    let ab = || to("a", "b");
    let on = |s, f, d| Some(Notify::on(s, f, d).unwrap());
    run(&[
        r(
            b"RCPT TO:<a@b> NOTIFY=NEVER",
            K(rcpt_p(ab(), |p| p.notify = Some(Notify::Never))),
        ),
        r(
            b"RCPT TO:<a@b> notify=never",
            K(rcpt_p(ab(), |p| p.notify = Some(Notify::Never))),
        ),
        r(
            b"RCPT TO:<a@b> NOTIFY=SUCCESS",
            K(rcpt_p(ab(), |p| p.notify = on(true, false, false))),
        ),
        r(
            b"RCPT TO:<a@b> NOTIFY=FAILURE",
            K(rcpt_p(ab(), |p| p.notify = on(false, true, false))),
        ),
        r(
            b"RCPT TO:<a@b> NOTIFY=DELAY",
            K(rcpt_p(ab(), |p| p.notify = on(false, false, true))),
        ),
        r(
            b"RCPT TO:<a@b> NOTIFY=DELAY,success",
            K(rcpt_p(ab(), |p| p.notify = on(true, false, true))),
        ),
        r(
            b"RCPT TO:<a@b> NOTIFY=FAILURE,DELAY,SUCCESS",
            K(rcpt_p(ab(), |p| p.notify = on(true, true, true))),
        ),
        r(b"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", E(ParameterValue)),
        r(b"RCPT TO:<a@b> NOTIFY=SUCCESS,NEVER", E(ParameterValue)),
        r(b"RCPT TO:<a@b> NOTIFY=SUCCESS,SUCCESS", E(ParameterValue)),
        r(b"RCPT TO:<a@b> NOTIFY=SUCCESS,", E(ParameterValue)),
        r(b"RCPT TO:<a@b> NOTIFY=,SUCCESS", E(ParameterValue)),
        r(b"RCPT TO:<a@b> NOTIFY=ALWAYS", E(ParameterValue)),
        r(b"RCPT TO:<a@b> NOTIFY", E(ParameterValue)),
        r(
            b"RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER",
            E(DuplicateParameter),
        ),
        // ORCPT (RFC 3461 4.2)
        r(
            b"RCPT TO:<a@b> ORCPT=rfc822;a@b",
            K(rcpt_p(ab(), |p| {
                p.orcpt = Some(Orcpt::new("rfc822", xt("a@b")).unwrap())
            })),
        ),
        r(
            b"RCPT TO:<a@b> ORCPT=rfc822;x+2By+20z@b",
            K(rcpt_p(ab(), |p| {
                p.orcpt = Some(Orcpt::new("rfc822", xt("x+y z@b")).unwrap())
            })),
        ),
        r(
            b"RCPT TO:<a@b> ORCPT=utf-8;a;b",
            K(rcpt_p(ab(), |p| {
                p.orcpt = Some(Orcpt::new("utf-8", xt("a;b")).unwrap())
            })),
        ),
        r(b"RCPT TO:<a@b> ORCPT=rfc822", E(ParameterValue)),
        r(b"RCPT TO:<a@b> ORCPT=rfc822;", E(ParameterValue)),
        r(b"RCPT TO:<a@b> ORCPT=;a@b", E(ParameterValue)),
        r(b"RCPT TO:<a@b> ORCPT=rfc822;a+2", E(ParameterValue)),
        r(b"RCPT TO:<a@b> ORCPT=rfc(822;a", E(ParameterValue)),
        r(b"RCPT TO:<a@b> ORCPT", E(ParameterValue)),
        r(b"RCPT TO:<a@b> ORCPT=a;b ORCPT=a;b", E(DuplicateParameter)),
        // Mail parameters are unknown on RCPT.
        r(b"RCPT TO:<a@b> SIZE=1", E(UnknownParameter)),
        // Error offsets point into the parameters, after the path.
        r(b"RCPT TO:<a@b>x", EAt(13, Arguments)),
        // A space after the path with no parameter: strict refuses, lenient trims.
        r2(
            b"RCPT TO:<a@b> ",
            EAt(13, Arguments),
            K(rcpt_p(ab(), |_| {})),
        ),
        r2(
            b"MAIL FROM:<a@b> ",
            EAt(15, Arguments),
            K(mail_p(from("a", "b"), |_| {})),
        ),
        r(b"RCPT TO:<a@b> X=1 NOTIFY=BAD", EAt(18, ParameterValue)),
        r(
            b"RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER",
            EAt(27, DuplicateParameter),
        ),
        r(b"RCPT TO:<a@b> X-Y SMTPUTF8", E(UnknownParameter)),
        r(
            b"RCPT TO:<a@b> NOTIFY=NEVER ORCPT=rfc822;a@b X-Y=z",
            K(rcpt_p(ab(), |p| {
                p.notify = Some(Notify::Never);
                p.orcpt = Some(Orcpt::new("rfc822", xt("a@b")).unwrap());
                p.other = vec![param("X-Y", Some("z"))];
            })),
        ),
        r(
            b"RCPT TO:<a@b> X X",
            K(rcpt_p(ab(), |p| {
                p.other = vec![param("X", None), param("X", None)]
            })),
        ),
        r(b"RCPT TO:<a@b> X=", E(Arguments)),
    ]);
}
