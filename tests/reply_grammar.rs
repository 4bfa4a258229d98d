//! Known-answer tables for replies (RFC 5321 4.2), enhanced status codes (RFC 3463) and
//! EHLO keywords (RFC 5321 4.1.1.1 and the extensions that define them).

use smtp_sansio::types::{
    Capabilities, Capability, EhloParam, EnhancedStatus, Mechanism, Reply, ReplyCode, Text,
};
use smtp_sansio::{DecodeError, SyntaxErrorKind, decode_reply, parse_reply_line};

use SyntaxErrorKind::{Reply as ReplyKind, ReplyCodeMismatch};

/// Bytes as an escaped string, so that a failing row shows exactly what was fed in.
fn esc(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Replies (RFC 5321 4.2)

fn lines(r: &Reply) -> Vec<&str> {
    r.lines().iter().map(Text::as_str).collect()
}

#[test]
fn reply_line_known_answers() {
    type Case = (
        &'static [u8],
        Result<(u16, bool, &'static [u8]), DecodeError>,
    );
    let bad = |offset| {
        Err(DecodeError::Syntax {
            offset,
            kind: ReplyKind,
        })
    };
    let cases: Vec<Case> = vec![
        (b"250 OK", Ok((250, true, b"OK"))),
        (b"250-first", Ok((250, false, b"first"))),
        (b"250", Ok((250, true, b""))),
        (b"250 ", Ok((250, true, b""))),
        (b"250-", Ok((250, false, b""))),
        (b"250  two", Ok((250, true, b" two"))),
        (
            b"220 mx.example ESMTP \xff\xfe",
            Ok((220, true, b"mx.example ESMTP \xff\xfe")),
        ),
        (b"200 x", Ok((200, true, b"x"))),
        (b"559 x", Ok((559, true, b"x"))),
        (b"599 x", bad(0)),
        (b"354 Go ahead", Ok((354, true, b"Go ahead"))),
        (b"421-a\tb\0c", Ok((421, false, b"a\tb\0c"))),
        (b"", bad(0)),
        (b"25", bad(0)),
        (b"2500", bad(3)),
        (b"250x", bad(3)),
        (b"250_", bad(3)),
        (b"25x OK", bad(0)),
        (b"x50 OK", bad(0)),
        (b" 250 OK", bad(0)),
        (b"199 x", bad(0)),
        (b"100 x", bad(0)),
        (b"099 x", bad(0)),
        (b"600 x", bad(0)),
        (b"999 x", bad(0)),
        (b"260 x", bad(0)),
        (b"570 x", bad(0)),
        (b"2 5 x", bad(0)),
        (b"-250 x", bad(0)),
        (b"250 a\rb", bad(5)),
        (b"250-a\n", bad(5)),
        (b"250 \r", bad(4)),
    ];
    let mut failures = Vec::new();
    for (input, want) in &cases {
        let got = parse_reply_line(input).map(|l| (l.code.get(), l.last, l.text));
        if got != *want {
            failures.push(format!(
                "  \"{}\"\n    want {want:?}\n    got  {got:?}",
                esc(input)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn decode_reply_known_answers() {
    type Case = (
        &'static [u8],
        Result<(&'static [u8], u16, Vec<&'static str>), DecodeError>,
    );
    let syn = |offset, kind| Err(DecodeError::Syntax { offset, kind });
    let cases: Vec<Case> = vec![
        (b"250 OK\r\n", Ok((b"", 250, vec!["OK"]))),
        (b"250\r\n", Ok((b"", 250, vec![""]))),
        (b"250 \r\n", Ok((b"", 250, vec![""]))),
        (b"221 Bye\r\nextra", Ok((b"extra", 221, vec!["Bye"]))),
        (b"250 a\r\n250 b\r\n", Ok((b"250 b\r\n", 250, vec!["a"]))),
        (
            b"250-mx.example greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
            Ok((
                b"",
                250,
                vec![
                    "mx.example greets you",
                    "PIPELINING",
                    "SIZE 1000",
                    "8BITMIME",
                ],
            )),
        ),
        (b"250-\r\n250-\r\n250\r\n", Ok((b"", 250, vec!["", "", ""]))),
        (
            b"550-5.1.1 no\r\n550 5.1.1 such user\r\nX",
            Ok((b"X", 550, vec!["5.1.1 no", "5.1.1 such user"])),
        ),
        (
            b"220 \xff\xfeok\r\n",
            Ok((b"", 220, vec!["\u{fffd}\u{fffd}ok"])),
        ),
        // Incomplete until the last line's CRLF.
        (b"", Err(DecodeError::Incomplete)),
        (b"2", Err(DecodeError::Incomplete)),
        (b"250 OK", Err(DecodeError::Incomplete)),
        (b"250 OK\r", Err(DecodeError::Incomplete)),
        (b"250 OK\n", Err(DecodeError::Incomplete)),
        (b"250-a\r\n", Err(DecodeError::Incomplete)),
        (b"250-a\r\n250", Err(DecodeError::Incomplete)),
        (b"250-a\r\n250-b\r\n250 c\r", Err(DecodeError::Incomplete)),
        // Errors, with the offset into the input.
        (b"250-a\r\n251 b\r\n", syn(7, ReplyCodeMismatch)),
        (b"250-a\r\n250-b\r\n550 c\r\n", syn(14, ReplyCodeMismatch)),
        (b"250-a\r\n25x b\r\n", syn(7, ReplyKind)),
        (b"250-a\r\nfoo\r\n", syn(7, ReplyKind)),
        (b"250-a\r\n\r\n", syn(7, ReplyKind)),
        (b"\r\n", syn(0, ReplyKind)),
        (b"600 x\r\n", syn(0, ReplyKind)),
        (b"199 x\r\n", syn(0, ReplyKind)),
        (b"260 x\r\n", syn(0, ReplyKind)),
        (b"250 a\nb\r\n", syn(5, ReplyKind)),
        (b"250-a\r\n250 b\rc\r\n", syn(12, ReplyKind)),
        (b"250+a\r\n", syn(3, ReplyKind)),
        // A bad first line is reported even before the rest has arrived.
        (b"xyz\r\n250", syn(0, ReplyKind)),
    ];
    let mut failures = Vec::new();
    for (input, want) in &cases {
        let got = decode_reply(input);
        let ok = match (&got, want) {
            (Ok((rest, reply)), Ok((wrest, code, wlines))) => {
                rest == wrest && reply.code().get() == *code && lines(reply) == *wlines
            }
            (Err(e), Err(we)) => e == we,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "  \"{}\"\n    want {want:?}\n    got  {got:?}",
                esc(input)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn reply_encode_known_answers() {
    let t = |s: &'static str| Text::new(s).unwrap();
    let st = |c, s, d| EnhancedStatus::new(c, s, d).unwrap();
    let rows: Vec<(Reply, &[u8])> = vec![
        (Reply::new(ReplyCode::OK, t("OK")), b"250 OK\r\n"),
        (Reply::new(ReplyCode::OK, t("")), b"250 \r\n"),
        (Reply::from_lines(ReplyCode::READY, []), b"220 \r\n"),
        (
            Reply::from_lines(ReplyCode::OK, [t("a"), t("b"), t("c")]),
            b"250-a\r\n250-b\r\n250 c\r\n",
        ),
        (
            Reply::with_status(ReplyCode::OK, st(2, 1, 0), [t("Sender ok")]),
            b"250 2.1.0 Sender ok\r\n",
        ),
        (
            Reply::with_status(ReplyCode::OK, st(2, 0, 0), [t("")]),
            b"250 2.0.0\r\n",
        ),
        (
            Reply::with_status(ReplyCode::OK, st(2, 0, 0), []),
            b"250 2.0.0\r\n",
        ),
        (
            Reply::with_status(
                ReplyCode::MAILBOX_UNAVAILABLE,
                st(5, 7, 1),
                [t("no"), t("way")],
            ),
            b"550-5.7.1 no\r\n550 5.7.1 way\r\n",
        ),
    ];
    for (reply, wire) in rows {
        let out = reply.to_bytes();
        assert_eq!(&out[..], wire, "\"{}\" vs \"{}\"", esc(&out), esc(wire));
        let (rest, back) = decode_reply(&out).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, reply, "\"{}\"", esc(wire));
    }
}

#[test]
fn enhanced_status_and_text_lines() {
    type Case = (&'static [u8], Option<(u8, u16, u16)>, Vec<&'static str>);
    let cases: Vec<Case> = vec![
        (
            b"250 2.1.0 Sender ok\r\n",
            Some((2, 1, 0)),
            vec!["Sender ok"],
        ),
        (b"250 2.0.0\r\n", Some((2, 0, 0)), vec![""]),
        (
            b"550-5.1.1 no\r\n550 5.1.1 such user\r\n",
            Some((5, 1, 1)),
            vec!["no", "such user"],
        ),
        (b"550 5.999.999 x\r\n", Some((5, 999, 999)), vec!["x"]),
        (
            b"451 4.3.0  two spaces\r\n",
            Some((4, 3, 0)),
            vec![" two spaces"],
        ),
        // Leading zeros are allowed by RFC 3463 (1*3digit); the prefix still goes.
        (b"250 2.01.000 ok\r\n", Some((2, 1, 0)), vec!["ok"]),
        // Class must match the reply code's class (RFC 3463 2).
        (b"250 5.1.1 odd\r\n", None, vec!["5.1.1 odd"]),
        (b"550 2.0.0 odd\r\n", None, vec!["2.0.0 odd"]),
        // Not a status code at all.
        (b"250 OK\r\n", None, vec!["OK"]),
        (b"250 2.1.0x\r\n", None, vec!["2.1.0x"]),
        (b"250 2.1\r\n", None, vec!["2.1"]),
        (b"250 2.1.\r\n", None, vec!["2.1."]),
        (b"250 2.1000.0 x\r\n", None, vec!["2.1000.0 x"]),
        (b"250 22.1.0 x\r\n", None, vec!["22.1.0 x"]),
        (b"250 3.1.0 x\r\n", None, vec!["3.1.0 x"]),
        (b"354 3.0.0 x\r\n", None, vec!["3.0.0 x"]),
        (b"250 \r\n", None, vec![""]),
        // Only the first line decides; later lines lose the prefix only if they have it.
        (b"250-2.0.0 a\r\n250 b\r\n", Some((2, 0, 0)), vec!["a", "b"]),
        (b"250-a\r\n250 2.0.0 b\r\n", None, vec!["a", "2.0.0 b"]),
        (
            b"250-2.0.0 a\r\n250 2.0.01 b\r\n",
            Some((2, 0, 0)),
            vec!["a", "2.0.01 b"],
        ),
    ];
    let mut failures = Vec::new();
    for (input, status, text) in &cases {
        let (_, reply) = decode_reply(input).unwrap();
        let got_status = reply
            .enhanced_status()
            .map(|s| (s.class(), s.subject(), s.detail()));
        let got_text: Vec<&str> = reply.text_lines().collect();
        if got_status != *status || got_text != *text {
            failures.push(format!(
                "  \"{}\"\n    want {status:?} {text:?}\n    got  {got_status:?} {got_text:?}",
                esc(input)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(EnhancedStatus::new(5, 7, 11).unwrap().to_string(), "5.7.11");
}

#[test]
fn reply_code_classes() {
    let c = |n| ReplyCode::new(n).unwrap();
    assert!(c(250).is_positive() && !c(250).is_intermediate());
    assert!(c(334).is_intermediate() && c(354).is_intermediate());
    assert!(c(421).is_transient() && !c(421).is_permanent());
    assert!(c(554).is_permanent() && c(554).class() == 5);
    assert_eq!(ReplyCode::OK, c(250));
    assert_eq!(ReplyCode::PARAMETERS_NOT_RECOGNIZED.get(), 555);
}

// ---------------------------------------------------------------------------------------
// EHLO capabilities (RFC 5321 4.1.1.1 and the extensions' keywords)

fn caps(wire: &[u8]) -> Capabilities {
    let (rest, reply) = decode_reply(wire).unwrap_or_else(|e| panic!("\"{}\": {e}", esc(wire)));
    assert!(rest.is_empty());
    Capabilities::from_reply(&reply)
}

fn mechs(v: &[&'static str]) -> Vec<Mechanism<'static>> {
    v.iter().map(|m| Mechanism::new(*m).unwrap()).collect()
}

fn cap_other(k: &str, p: &[&str]) -> Capability<'static> {
    Capability::other(k, p).unwrap_or_else(|e| panic!("{k} {p:?}: {e}"))
}

#[test]
fn ehlo_lines_known_answers() {
    let rows: Vec<(&str, Option<Capability<'static>>)> = vec![
        ("SIZE", Some(Capability::Size(None))),
        ("SIZE 0", Some(Capability::Size(Some(0)))),
        ("SIZE 35882577", Some(Capability::Size(Some(35_882_577)))),
        ("size 10", Some(Capability::Size(Some(10)))),
        (
            "SIZE 18446744073709551615",
            Some(Capability::Size(Some(u64::MAX))),
        ),
        (
            "SIZE 18446744073709551616",
            Some(cap_other("SIZE", &["18446744073709551616"])),
        ),
        ("SIZE 10M", Some(cap_other("SIZE", &["10M"]))),
        ("SIZE 1 2", Some(cap_other("SIZE", &["1", "2"]))),
        ("PIPELINING", Some(Capability::Pipelining)),
        ("pipelining", Some(Capability::Pipelining)),
        ("8BITMIME", Some(Capability::EightBitMime)),
        ("SMTPUTF8", Some(Capability::SmtpUtf8)),
        ("STARTTLS", Some(Capability::StartTls)),
        ("CHUNKING", Some(Capability::Chunking)),
        ("BINARYMIME", Some(Capability::BinaryMime)),
        ("DSN", Some(Capability::Dsn)),
        ("ENHANCEDSTATUSCODES", Some(Capability::EnhancedStatusCodes)),
        ("REQUIRETLS", Some(Capability::RequireTls)),
        ("MT-PRIORITY", Some(Capability::MtPriority(None))),
        (
            "MT-PRIORITY MIXER",
            Some(Capability::MtPriority(Some(
                EhloParam::new("MIXER").unwrap(),
            ))),
        ),
        (
            "MT-PRIORITY A B",
            Some(cap_other("MT-PRIORITY", &["A", "B"])),
        ),
        ("VRFY", Some(Capability::Vrfy)),
        ("EXPN", Some(Capability::Expn)),
        ("HELP", Some(Capability::Help)),
        ("AUTH", Some(Capability::Auth(vec![]))),
        (
            "AUTH PLAIN LOGIN",
            Some(Capability::Auth(mechs(&["PLAIN", "LOGIN"]))),
        ),
        (
            "auth plain xoauth2",
            Some(Capability::Auth(mechs(&["PLAIN", "XOAUTH2"]))),
        ),
        (
            "AUTH SCRAM-SHA-256 GSS_API",
            Some(Capability::Auth(mechs(&["SCRAM-SHA-256", "GSS_API"]))),
        ),
        ("AUTH PL@IN", Some(cap_other("AUTH", &["PL@IN"]))),
        ("AUTH=LOGIN PLAIN", None),
        ("PIPELINING x", Some(cap_other("PIPELINING", &["x"]))),
        ("STARTTLS now", Some(cap_other("STARTTLS", &["now"]))),
        (
            "X-EXPS GSSAPI NTLM",
            Some(cap_other("X-EXPS", &["GSSAPI", "NTLM"])),
        ),
        (
            "XCLIENT NAME ADDR=1",
            Some(cap_other("XCLIENT", &["NAME", "ADDR=1"])),
        ),
        ("DELIVERBY 240", Some(cap_other("DELIVERBY", &["240"]))),
        (
            "LIMITS RCPTMAX=100",
            Some(cap_other("LIMITS", &["RCPTMAX=100"])),
        ),
        ("FUTURE-1", Some(cap_other("FUTURE-1", &[]))),
        // Not ehlo-lines: skipped.
        ("", None),
        (" SIZE", None),
        ("SIZE ", None),
        ("SIZE  10", None),
        ("-X", None),
        ("X_Y", None),
        ("X a\tb", None),
        ("X ü", None),
        ("ÜBER", None),
    ];
    let mut failures = Vec::new();
    for (line, want) in &rows {
        let wire = format!("250-mx.example\r\n250 {line}\r\n");
        let c = caps(wire.as_bytes());
        let got: Vec<&Capability<'static>> = c.iter().collect();
        let ok = match want {
            Some(w) => got == [w],
            None => got.is_empty(),
        };
        if !ok {
            failures.push(format!(
                "  \"{}\"\n    want {want:?}\n    got  {got:?}",
                esc(line.as_bytes())
            ));
        }
        assert_eq!(c.greeting(), "mx.example");
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn capabilities_accessors() {
    let c = caps(
        b"250-mx.example.org Hello [192.0.2.1]\r\n\
          250-SIZE 52428800\r\n\
          250-8BITMIME\r\n\
          250-PIPELINING\r\n\
          250-auth PLAIN login\r\n\
          250-AUTH=LOGIN PLAIN\r\n\
          250-AUTH XOAUTH2\r\n\
          250-CHUNKING\r\n\
          250-BINARYMIME\r\n\
          250-SMTPUTF8\r\n\
          250-DSN\r\n\
          250-ENHANCEDSTATUSCODES\r\n\
          250-REQUIRETLS\r\n\
          250-STARTTLS\r\n\
          250-X-FOO bar\r\n\
          250 HELP\r\n",
    );
    assert_eq!(c.greeting(), "mx.example.org Hello [192.0.2.1]");
    assert_eq!(c.size(), Some(Some(52_428_800)));
    let m: Vec<&str> = c.auth_mechanisms().iter().map(|m| m.as_str()).collect();
    assert_eq!(m, ["PLAIN", "LOGIN", "XOAUTH2"]);
    assert!(c.eight_bit_mime() && c.pipelining() && c.chunking() && c.binary_mime());
    assert!(c.smtputf8() && c.dsn() && c.enhanced_status_codes() && c.requiretls());
    assert!(c.starttls());
    assert!(c.has("x-foo") && c.has("help") && c.has("AUTH") && !c.has("VRFY"));
    assert_eq!(c.iter().count(), 14);

    let none = caps(b"250 mx\r\n");
    assert_eq!(none.size(), None);
    assert!(!none.pipelining() && !none.starttls() && none.auth_mechanisms().is_empty());
    assert_eq!(none.iter().count(), 0);
    assert_eq!(caps(b"250-mx\r\n250 SIZE\r\n").size(), Some(None));
    assert_eq!(caps(b"250-mx\r\n250 SIZE 0\r\n").size(), Some(None));
}

#[test]
fn capabilities_to_reply_known_answer() {
    let c = Capabilities::new(
        Text::new("mx.example greets you").unwrap(),
        vec![
            Capability::Size(Some(1000)),
            Capability::Size(None),
            Capability::Auth(mechs(&["plain", "login"])),
            Capability::MtPriority(Some(EhloParam::new("STANAG4406").unwrap())),
            Capability::Pipelining,
            cap_other("X-Y", &["a", "b=c"]),
        ],
    );
    let out = c.to_reply().to_bytes();
    let want: &[u8] =
        b"250-mx.example greets you\r\n250-SIZE 1000\r\n250-SIZE\r\n250-AUTH PLAIN LOGIN\r\n\
        250-MT-PRIORITY STANAG4406\r\n250-PIPELINING\r\n250 X-Y a b=c\r\n";
    assert_eq!(&out[..], want, "\"{}\"", esc(&out));
    assert_eq!(caps(&out), c);
}

#[test]
fn capability_other_refuses_known_or_bad_keywords() {
    for (k, p) in [
        ("PIPELINING", &[][..]),
        ("size", &["10"][..]),
        ("AUTH", &["PLAIN"][..]),
        ("", &[][..]),
        ("-X", &[][..]),
        ("X", &[""][..]),
        ("X", &["a b"][..]),
        ("X", &["ü"][..]),
        ("X Y", &[][..]),
    ] {
        assert!(Capability::other(k, p).is_err(), "{k:?} {p:?}");
    }
    assert_eq!(cap_other("size", &["x"]).keyword(), "size");
    assert_eq!(Capability::Size(None).keyword(), "SIZE");
}
