//! Known-answer tables for the command grammar (RFC 5321 4.1): verbs, EHLO/HELO/LHLO,
//! commands without arguments, BDAT, AUTH, framing and encoding, under the strict and the lenient grammar
//! (tables in `common/grammar.rs`); replies are in `reply_grammar.rs`.

mod common;

use common::esc;
use common::grammar::*;
use smtp_sansio::types::{
    Body, Command, Domain, ForwardPath, MailAuth, MailParams, Mechanism, Notify, Orcpt, RcptParams,
    Ret, ReversePath,
};
use smtp_sansio::{DecodeError, Grammar, SyntaxErrorKind, decode_command, parse_command};

use SyntaxErrorKind::{Arguments, Byte, ChunkSize, Verb};

#[test]
fn default_grammar_is_lenient() {
    assert_eq!(Grammar::default(), Grammar::lenient());
    assert_ne!(Grammar::strict(), Grammar::lenient());
    let s = Grammar::strict();
    assert!(!s.allow_space_after_colon && !s.allow_trailing_space && !s.allow_underscore_in_domain);
    let l = Grammar::lenient();
    assert!(l.allow_space_after_colon && l.allow_trailing_space && l.allow_underscore_in_domain);
}

// ---------------------------------------------------------------------------------------
// EHLO / HELO / LHLO (RFC 5321 4.1.1.1, 4.1.3; RFC 2033 4.1)

#[test]
fn hello_commands() {
    run(&[
        r(b"EHLO example.org", K(Command::Ehlo(hd("example.org")))),
        r(b"ehlo Example.ORG", K(Command::Ehlo(hd("example.org")))),
        r(b"eHlO a", K(Command::Ehlo(hd("a")))),
        r(
            b"HELO mx1.example.org",
            K(Command::Helo(hd("mx1.example.org"))),
        ),
        r(b"LHLO lmtp.local", K(Command::Lhlo(hd("lmtp.local")))),
        r(b"lhlo x-y.z9", K(Command::Lhlo(hd("x-y.z9")))),
        r(b"EHLO 1.2.3.4", K(Command::Ehlo(hd("1.2.3.4")))),
        r(b"EHLO a--b.c", K(Command::Ehlo(hd("a--b.c")))),
        r(
            "EHLO bücher.example".as_bytes(),
            K(Command::Ehlo(hd("bücher.example"))),
        ),
        r(
            "EHLO 例え.テスト".as_bytes(),
            K(Command::Ehlo(hd("例え.テスト"))),
        ),
        // Address literals (RFC 5321 4.1.3).
        r(b"EHLO [192.0.2.1]", K(Command::Ehlo(v4(192, 0, 2, 1)))),
        r(b"EHLO [0.0.0.0]", K(Command::Ehlo(v4(0, 0, 0, 0)))),
        r(
            b"EHLO [255.255.255.255]",
            K(Command::Ehlo(v4(255, 255, 255, 255))),
        ),
        r(b"HELO [010.001.0.9]", K(Command::Helo(v4(10, 1, 0, 9)))),
        r(
            b"EHLO [IPv6:2001:db8::1]",
            K(Command::Ehlo(v6("2001:db8::1"))),
        ),
        r(b"EHLO [ipv6:::1]", K(Command::Ehlo(v6("::1")))),
        r(b"EHLO [IPV6:::]", K(Command::Ehlo(v6("::")))),
        r(
            b"EHLO [IPv6:::ffff:192.0.2.1]",
            K(Command::Ehlo(v6("::ffff:192.0.2.1"))),
        ),
        r(
            b"EHLO [IPv6:2001:db8:0:0:0:0:0:1]",
            K(Command::Ehlo(v6("2001:db8::1"))),
        ),
        r(
            b"EHLO [x-tag:some!content~]",
            K(Command::Ehlo(general("x-tag", "some!content~"))),
        ),
        r(b"EHLO [a:b:c]", K(Command::Ehlo(general("a", "b:c")))),
        // Bad hosts.
        r(b"EHLO", E(Arguments)),
        r(b"HELO", E(Arguments)),
        r(b"LHLO", E(Arguments)),
        r(b"EHLO  a.b", E(Arguments)),
        r(b"EHLO a.b c", E(Arguments)),
        r(b"EHLO -a.b", E(Arguments)),
        r(b"EHLO a-.b", E(Arguments)),
        r(b"EHLO a..b", E(Arguments)),
        r(b"EHLO .a", E(Arguments)),
        r(b"EHLO a.", E(Arguments)),
        r(b"EHLO a@b", E(Arguments)),
        r(b"EHLO a/b", E(Arguments)),
        r(b"EHLO [1.2.3.256]", E(Arguments)),
        r(b"EHLO [1.2.3]", E(Arguments)),
        r(b"EHLO [1.2.3.4.5]", E(Arguments)),
        r(b"EHLO [0001.2.3.4]", E(Arguments)),
        r(b"EHLO [1.2.3.4", E(Arguments)),
        r(b"EHLO [1.2.3.4] x", E(Arguments)),
        r(b"EHLO [1.2.3.4]]", E(Arguments)),
        r(b"EHLO [1.2.3.4x]", E(Arguments)),
        r(b"EHLO 1.2.3.4]", E(Arguments)),
        r(b"EHLO []", E(Arguments)),
        r(b"EHLO [IPv6:2001:db8::g]", E(Arguments)),
        r(b"EHLO [IPv6:1:2:3:4:5:6:7:8:9]", E(Arguments)),
        r(b"EHLO [IPv6:1.2.3.4]", E(Arguments)),
        r(b"EHLO [IPv6:]", E(Arguments)),
        r(b"EHLO [tag-:x]", E(Arguments)),
        r(b"EHLO [tag:]", E(Arguments)),
        r(b"EHLO [tag:a b]", E(Arguments)),
        r(b"EHLO [t\\g:x]", E(Arguments)),
        // Underscores: lenient only.
        r2(
            b"EHLO my_host.example",
            E(Arguments),
            K(Command::Ehlo(hd_lenient("my_host.example"))),
        ),
        r2(b"EHLO _a", E(Arguments), K(Command::Ehlo(hd_lenient("_a")))),
        // Trailing spaces: lenient only.
        r2(b"EHLO a.b ", E(Arguments), K(Command::Ehlo(hd("a.b")))),
        r2(b"EHLO a.b   ", E(Arguments), K(Command::Ehlo(hd("a.b")))),
        r(b"EHLO ", E(Arguments)),
    ]);
}

#[test]
fn overlong_domain_is_refused() {
    let label = "a".repeat(63);
    let ok = [label.as_str(); 4].join(".");
    assert_eq!(ok.len(), 255);
    assert!(Domain::new(ok.clone()).is_ok());
    let line = format!("EHLO {ok}");
    assert!(parse_command(line.as_bytes(), &Grammar::strict()).is_ok());
    let too_long = format!("{ok}b");
    assert!(Domain::new(too_long.clone()).is_err());
    let line = format!("EHLO {too_long}");
    let got = parse_command(line.as_bytes(), &Grammar::strict());
    assert!(
        matches!(
            got,
            Err(DecodeError::Syntax {
                kind: Arguments,
                ..
            })
        ),
        "{got:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Commands without arguments, BDAT, VRFY/EXPN/HELP/NOOP, AUTH, unknown verbs

#[test]
fn argumentless_commands() {
    run(&[
        r(b"DATA", K(Command::Data)),
        r(b"data", K(Command::Data)),
        r(b"RSET", K(Command::Rset)),
        r(b"rSeT", K(Command::Rset)),
        r(b"QUIT", K(Command::Quit)),
        r(b"quit", K(Command::Quit)),
        r(b"STARTTLS", K(Command::StartTls)),
        r(b"starttls", K(Command::StartTls)),
        r(b"DATA x", EAt(4, Arguments)),
        r(b"RSET x", EAt(4, Arguments)),
        r(b"QUIT now", EAt(4, Arguments)),
        r(b"STARTTLS x", EAt(8, Arguments)),
        r2(b"DATA ", EAt(4, Arguments), K(Command::Data)),
        r2(b"QUIT  ", E(Arguments), K(Command::Quit)),
        r2(b"STARTTLS ", E(Arguments), K(Command::StartTls)),
        r2(b"RSET ", E(Arguments), K(Command::Rset)),
        r(b"DATA\t", E(Verb)),
        r(b"DATAX", K(other("DATAX", None))),
    ]);
}

/// A BDAT line that does not parse reports `ChunkSize` (RFC 3030 2): its chunk cannot be
/// framed, so a server must not read on.
#[test]
fn bdat_sizes() {
    run(&[
        r(b"BDAT 0", K(bdat(0, false))),
        r(b"BDAT 0 LAST", K(bdat(0, true))),
        r(b"BDAT 1000 LAST", K(bdat(1000, true))),
        r(b"bdat 86 last", K(bdat(86, true))),
        r(b"BDAT 86 LaSt", K(bdat(86, true))),
        r(b"BDAT 007", K(bdat(7, false))),
        r(b"BDAT 18446744073709551615", K(bdat(u64::MAX, false))),
        r(b"BDAT 18446744073709551616", EAt(5, ChunkSize)),
        r(b"BDAT 99999999999999999999999999", E(ChunkSize)),
        r(b"BDAT", EAt(4, ChunkSize)),
        r(b"BDAT -1", E(ChunkSize)),
        r(b"BDAT +1", E(ChunkSize)),
        r(b"BDAT 1x", E(ChunkSize)),
        r(b"BDAT x", E(ChunkSize)),
        r(b"BDAT 1 FIRST", EAt(6, ChunkSize)),
        r(b"BDAT 1 LAST x", E(ChunkSize)),
        r(b"BDAT 1 LASTX", E(ChunkSize)),
        r(b"BDAT 1  LAST", E(ChunkSize)),
        r(b"BDAT  1", E(ChunkSize)),
        r2(b"BDAT 1 ", E(ChunkSize), K(bdat(1, false))),
        r2(b"BDAT 1 LAST ", E(ChunkSize), K(bdat(1, true))),
        r2(b"BDAT ", E(ChunkSize), E(ChunkSize)),
    ]);
}

#[test]
fn free_argument_commands() {
    run(&[
        r(b"VRFY postmaster", K(Command::Vrfy(arg("postmaster")))),
        r(b"vrfy John Smith", K(Command::Vrfy(arg("John Smith")))),
        r(b"VRFY <a@b>", K(Command::Vrfy(arg("<a@b>")))),
        r("VRFY jörg".as_bytes(), K(Command::Vrfy(arg("jörg")))),
        r(b"EXPN staff", K(Command::Expn(arg("staff")))),
        r(b"expn \"list\"", K(Command::Expn(arg("\"list\"")))),
        r(b"VRFY", EAt(4, Arguments)),
        r(b"EXPN", E(Arguments)),
        r(b"VRFY  x", E(Arguments)),
        r(b"VRFY a\x01b", E(Arguments)),
        r(b"VRFY a\x7fb", E(Arguments)),
        r2(b"VRFY x ", E(Arguments), K(Command::Vrfy(arg("x")))),
        r2(b"VRFY ", E(Arguments), E(Arguments)),
        r(b"HELP", K(Command::Help(None))),
        r(b"help MAIL", K(Command::Help(Some(arg("MAIL"))))),
        r(b"HELP a b\tc", K(Command::Help(Some(arg("a b\tc"))))),
        r(b"NOOP", K(Command::Noop(None))),
        r(b"noop", K(Command::Noop(None))),
        r(
            b"NOOP anything at all",
            K(Command::Noop(Some(arg("anything at all")))),
        ),
        r2(b"NOOP ", E(Arguments), K(Command::Noop(None))),
        r2(b"HELP   ", E(Arguments), K(Command::Help(None))),
        r(b"NOOP  x", E(Arguments)),
        r(b"NOOP \x1b", E(Arguments)),
    ]);
}

#[test]
fn auth_command() {
    run(&[
        r(b"AUTH PLAIN", K(auth("PLAIN", None))),
        r(b"auth plain", K(auth("PLAIN", None))),
        r(b"auth Login", K(auth("LOGIN", None))),
        r(b"AUTH xoauth2", K(auth("XOAUTH2", None))),
        r(
            b"AUTH oAuthBearer bj1h",
            K(auth("OAUTHBEARER", Some("bj1h"))),
        ),
        r(b"AUTH PLAINX", K(auth("PLAINX", None))),
        r("AUTH LOGIN \u{e9}".as_bytes(), EAt(10, Arguments)),
        r(
            b"AUTH LOGIN",
            K(Command::Auth {
                mechanism: Mechanism::LOGIN,
                initial_response: None,
            }),
        ),
        r(b"AUTH PLAIN =", K(auth("PLAIN", Some("=")))),
        r(
            b"AUTH PLAIN AGFsaWNlAHB3",
            K(auth("PLAIN", Some("AGFsaWNlAHB3"))),
        ),
        r(
            b"AUTH XOAUTH2 dXNlcj1h+/9=",
            K(auth("XOAUTH2", Some("dXNlcj1h+/9="))),
        ),
        r(b"AUTH SCRAM-SHA-256", K(auth("SCRAM-SHA-256", None))),
        // The other mechanisms the parser knows by name, in any case; and names that
        // only start like one of them, or differ from one in its "-".
        r(b"AUTH cram-MD5", K(auth("CRAM-MD5", None))),
        r(b"AUTH External =", K(auth("EXTERNAL", Some("=")))),
        r(
            b"AUTH scram-sha-1 biws",
            K(auth("SCRAM-SHA-1", Some("biws"))),
        ),
        r(b"AUTH Scram-Sha-256", K(auth("SCRAM-SHA-256", None))),
        r(b"AUTH SCRAM-SHA-1-PLUS", K(auth("SCRAM-SHA-1-PLUS", None))),
        r(b"AUTH CRAM_MD5", K(auth("CRAM_MD5", None))),
        r(b"AUTH SCRAM-SHA_256", K(auth("SCRAM-SHA_256", None))),
        r(b"AUTH X_MECH", K(auth("X_MECH", None))),
        r(
            b"AUTH ABCDEFGHIJKLMNOPQRST",
            K(auth("ABCDEFGHIJKLMNOPQRST", None)),
        ),
        r(b"AUTH ABCDEFGHIJKLMNOPQRSTU", EAt(5, Arguments)),
        r(b"AUTH", EAt(4, Arguments)),
        r(b"AUTH PL@IN", E(Arguments)),
        r(b"AUTH PL.IN", E(Arguments)),
        r("AUTH PLÄIN".as_bytes(), E(Arguments)),
        r(b"AUTH PLAIN a b", EAt(10, Arguments)),
        // The grammar takes any visible token; base64 validity is the SASL layer's call.
        r(b"AUTH PLAIN a*b", K(auth("PLAIN", Some("a*b")))),
        r(b"AUTH PLAIN  a", E(Arguments)),
        r(b"AUTH  PLAIN", E(Arguments)),
        r2(b"AUTH PLAIN ", E(Arguments), K(auth("PLAIN", None))),
        r2(b"AUTH PLAIN = ", E(Arguments), K(auth("PLAIN", Some("=")))),
    ]);
    // The initial response never shows in Debug output.
    let c = parse_command(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==", &Grammar::strict()).unwrap();
    assert!(!format!("{c:?}").contains("AGFsaWNlAHNlY3JldA"), "{c:?}");
}

#[test]
fn unknown_and_bad_verbs() {
    run(&[
        r(
            b"XCLIENT ADDR=1.2.3.4",
            K(other("XCLIENT", Some("ADDR=1.2.3.4"))),
        ),
        r(b"x-foo", K(other("x-foo", None))),
        r(b"TURN", K(other("TURN", None))),
        r(b"ETRN @example.org", K(other("ETRN", Some("@example.org")))),
        // Arguments of an unknown verb are kept as plain text, edge spaces dropped.
        r(b"FOO  two spaces", K(other("FOO", Some("two spaces")))),
        r(b"STARTTLSX", K(other("STARTTLSX", None))),
        r(b"EHLOEHLO a", K(other("EHLOEHLO", Some("a")))),
        r(b"A1-2", K(other("A1-2", None))),
        r(b"123", K(other("123", None))),
        r("FOO ärger".as_bytes(), K(other("FOO", Some("ärger")))),
        r(b"FOO a\tb", K(other("FOO", Some("a\tb")))),
        r2(b"FOO ", K(other("FOO", None)), K(other("FOO", None))),
        r(b"FOO x ", K(other("FOO", Some("x")))),
        r(b"FOO \x01", K(other("FOO", None))),
        // The four-letter fast path must not take a space into the verb, nor stop a
        // longer verb at four bytes.
        r(b"ABC  X", K(other("ABC", Some("X")))),
        r(b"AB C", K(other("AB", Some("C")))),
        r(b"MAILX FROM:<>", K(other("MAILX", Some("FROM:<>")))),
        r(b"DATAX", K(other("DATAX", None))),
        // A byte that folds onto a letter under `| 0x20` but is not one.
        r(b"D\x01TA", E(Verb)),
        r(b"RCP\x14 TO:<a@b>", E(Verb)),
        r(b"MAIL FROM\x1a<a@b>", E(Arguments)),
        r(b"RCPT TO\x1a<a@b>", E(Arguments)),
        r(b"STARTTL\x13", E(Verb)),
        r(b"@AIL FROM:<a@b>", E(Verb)),
        r(b"MAI\x0c FROM:<a@b>", E(Verb)),
        // An unknown verb with a forbidden byte in arguments it would drop.
        r(b"FOO a\rb", EAt(5, Byte)),
        r(b"FOO x\x00", EAt(5, Byte)),
        r(b"FOO \x01\n", EAt(5, Byte)),
        // Not a Keyword (RFC 5321 4.1.1: Keyword = Ldh-str).
        r(b"", EAt(0, Verb)),
        r(b" DATA", EAt(0, Verb)),
        r(b"MAIL:FROM:<>", EAt(0, Verb)),
        r(b"DA_TA", E(Verb)),
        r(b"DATA\x0b", E(Verb)),
        r(b"\tQUIT", E(Verb)),
        r("DÄTA".as_bytes(), E(Verb)),
        r(b"-", E(Verb)),
        r(b"FOO-", E(Verb)),
        r(b"FOO- bar", E(Verb)),
        r(b"<>", E(Verb)),
        r2(b" ", EAt(0, Verb), EAt(0, Verb)),
    ]);
}

#[test]
fn forbidden_bytes() {
    run(&[
        r(b"\0", EAt(0, Byte)),
        // Inside a full 8-byte word of the line (the word-at-a-time scan), alone and
        // together.
        r(b"NOOP abc\rdefghijk", EAt(8, Byte)),
        r(b"NOOP abc\ndefghijk", EAt(8, Byte)),
        r(b"NOOP abc\0defghijk", EAt(8, Byte)),
        r(b"NOOP a\0\rbcdefghij", EAt(6, Byte)),
        r(b"NOOP a\r\nbcdefghij", EAt(6, Byte)),
        r(b"\x80\x80\x80\x80\x80\x80\x80\x80", EAt(0, Byte)),
        r(b"NOOP abc\x80\x80\x80\x80\x80\x80\x80\x80", EAt(8, Byte)),
        r(b"NOOP\0", EAt(4, Byte)),
        r(b"NOOP a\0b", EAt(6, Byte)),
        r(b"MAIL FROM:<a\0@b>", EAt(12, Byte)),
        r(b"DATA\r", EAt(4, Byte)),
        r(b"DA\rTA", EAt(2, Byte)),
        r(b"DATA\n", EAt(4, Byte)),
        r(b"\nQUIT", EAt(0, Byte)),
        r(b"NOOP \xff", EAt(5, Byte)),
        r(b"\xc3", EAt(0, Byte)),
        r(b"VRFY a\xc3\x28", EAt(6, Byte)),
        r(b"MAIL FROM:<\xed\xa0\x80@x>", EAt(11, Byte)),
        r(b"EHLO \xc0\xaf", EAt(5, Byte)),
        // A forbidden byte wins over a trailing space or a bad verb.
        r(b"?? \0 ", EAt(3, Byte)),
    ]);
}

// ---------------------------------------------------------------------------------------
// decode_command: framing, remainder, Incomplete

#[test]
fn decode_command_framing() {
    type Case = (
        &'static [u8],
        Result<(&'static [u8], Command<'static>), DecodeError>,
    );
    let cases: Vec<Case> = vec![
        (b"QUIT\r\n", Ok((b"", Command::Quit))),
        (b"QUIT\r\nNOOP\r\n", Ok((b"NOOP\r\n", Command::Quit))),
        (b"RSET\r\nDA", Ok((b"DA", Command::Rset))),
        (
            b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
            Ok((b"RCPT TO:<c@d>\r\nDATA\r\n", mail(from("a", "b")))),
        ),
        (b"BDAT 3 LAST\r\nabc", Ok((b"abc", bdat(3, true)))),
        (b"FOO\r\n\r\n", Ok((b"\r\n", other("FOO", None)))),
        (b"", Err(DecodeError::Incomplete)),
        (b"QUIT", Err(DecodeError::Incomplete)),
        (b"QUIT\r", Err(DecodeError::Incomplete)),
        // A bare LF is not a line end (RFC 5321 2.3.8): still waiting for CRLF.
        (b"QUIT\n", Err(DecodeError::Incomplete)),
        (b"QUIT\n\n", Err(DecodeError::Incomplete)),
        (b"QUIT\r\r", Err(DecodeError::Incomplete)),
        (b"\n", Err(DecodeError::Incomplete)),
        // Once CRLF arrives, the bare LF or CR inside the line is an error.
        (
            b"QU\nIT\r\n",
            Err(DecodeError::Syntax {
                offset: 2,
                kind: Byte,
            }),
        ),
        (
            b"QUIT\n\r\n",
            Err(DecodeError::Syntax {
                offset: 4,
                kind: Byte,
            }),
        ),
        (
            b"QUIT\r\r\n",
            Err(DecodeError::Syntax {
                offset: 4,
                kind: Byte,
            }),
        ),
        (
            b"\r\n",
            Err(DecodeError::Syntax {
                offset: 0,
                kind: Verb,
            }),
        ),
        (
            b"\r\nQUIT\r\n",
            Err(DecodeError::Syntax {
                offset: 0,
                kind: Verb,
            }),
        ),
        (
            b"DATA x\r\nQUIT\r\n",
            Err(DecodeError::Syntax {
                offset: 4,
                kind: Arguments,
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (input, want) in &cases {
        for g in [Grammar::strict(), Grammar::lenient()] {
            let got = decode_command(input, &g);
            let ok = match (&got, want) {
                (Ok((rest, c)), Ok((wrest, wc))) => rest == wrest && c == wc,
                (Err(e), Err(we)) => e == we,
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "  \"{}\" ({g:?})\n    want {want:?}\n    got  {got:?}",
                    esc(input)
                ));
            }
        }
    }
    // Lenient trailing spaces are trimmed before the CRLF, not after.
    let got = decode_command(b"QUIT  \r\nX", &Grammar::lenient());
    assert_eq!(got, Ok((&b"X"[..], Command::Quit)));
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn decode_command_is_incomplete_at_every_prefix() {
    let line: &[u8] = b"MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME\r\n";
    for n in 0..line.len() {
        assert_eq!(
            decode_command(&line[..n], &Grammar::strict()),
            Err(DecodeError::Incomplete),
            "prefix \"{}\"",
            esc(&line[..n])
        );
    }
    let (rest, c) = decode_command(line, &Grammar::strict()).unwrap();
    assert!(rest.is_empty());
    assert_eq!(c.verb(), "MAIL");
}

#[test]
fn verbs_are_upper_case() {
    let rows: &[(&[u8], &str)] = &[
        (b"ehlo a", "EHLO"),
        (b"helo a", "HELO"),
        (b"lhlo a", "LHLO"),
        (b"mail from:<>", "MAIL"),
        (b"rcpt to:<postmaster>", "RCPT"),
        (b"data", "DATA"),
        (b"bdat 1", "BDAT"),
        (b"rset", "RSET"),
        (b"vrfy a", "VRFY"),
        (b"expn a", "EXPN"),
        (b"help", "HELP"),
        (b"noop", "NOOP"),
        (b"quit", "QUIT"),
        (b"starttls", "STARTTLS"),
        (b"auth plain", "AUTH"),
        (b"xtra", "xtra"),
    ];
    for &(input, verb) in rows {
        let c = parse_command(input, &Grammar::strict()).unwrap();
        assert_eq!(c.verb(), verb, "\"{}\"", esc(input));
    }
}

#[test]
fn encode_known_answers() {
    let mut p = MailParams::default();
    p.size = Some(10);
    p.body = Some(Body::BinaryMime);
    p.smtputf8 = true;
    p.ret = Some(Ret::Full);
    p.envid = Some(xt("a b+c=d"));
    p.auth = Some(MailAuth::Identity(xt("x@y")));
    p.requiretls = true;
    p.mt_priority = Some(pri(-4));
    p.other = vec![param("X", None), param("Y", Some("z"))];
    let mut rp = RcptParams::default();
    rp.notify = Some(Notify::on(true, false, true).unwrap());
    rp.orcpt = Some(Orcpt::new("rfc822", xt("ü@x")).unwrap());
    let rows: Vec<(Command<'static>, &[u8])> = vec![
        (Command::Ehlo(v6("2001:db8::1")), b"EHLO [IPv6:2001:db8::1]\r\n"),
        (Command::Helo(general("x", "y")), b"HELO [x:y]\r\n"),
        (Command::Lhlo(v4(1, 2, 3, 4)), b"LHLO [1.2.3.4]\r\n"),
        (Command::Mail { from: ReversePath::Null, params: p }, b"MAIL FROM:<> SIZE=10 BODY=BINARYMIME SMTPUTF8 RET=FULL ENVID=a+20b+2Bc+3Dd AUTH=x@y REQUIRETLS MT-PRIORITY=-4 X Y=z\r\n"),
        (Command::Rcpt { to: ForwardPath::Postmaster, params: rp }, b"RCPT TO:<Postmaster> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;+C3+BC@x\r\n"),
        (mail_p(from("a", "b"), |p| p.auth = Some(MailAuth::Unknown)), b"MAIL FROM:<a@b> AUTH=<>\r\n"),
        (rcpt_p(to("a", "b"), |p| p.notify = Some(Notify::Never)), b"RCPT TO:<a@b> NOTIFY=NEVER\r\n"),
        (
            mail_p(ReversePath::Null, |p| p.auth = Some(MailAuth::Identity(xt("<>")))),
            b"MAIL FROM:<> AUTH=+3C+3E\r\n",
        ),
        (Command::Data, b"DATA\r\n"),
        (bdat(0, true), b"BDAT 0 LAST\r\n"),
        (bdat(u64::MAX, false), b"BDAT 18446744073709551615\r\n"),
        (Command::Rset, b"RSET\r\n"),
        (Command::Vrfy(arg("a b")), b"VRFY a b\r\n"),
        (Command::Expn(arg("l")), b"EXPN l\r\n"),
        (Command::Help(None), b"HELP\r\n"),
        (Command::Noop(Some(arg("x"))), b"NOOP x\r\n"),
        (Command::Quit, b"QUIT\r\n"),
        (Command::StartTls, b"STARTTLS\r\n"),
        (auth("plain", Some("=")), b"AUTH PLAIN =\r\n"),
        (other("x-y", Some("z")), b"x-y z\r\n"),
    ];
    for (cmd, wire) in rows {
        let mut out = bytes::BytesMut::new();
        cmd.encode(&mut out);
        assert_eq!(&out[..], wire, "\"{}\" vs \"{}\"", esc(&out), esc(wire));
        let (rest, back) = decode_command(&out, &Grammar::strict()).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, cmd, "\"{}\"", esc(wire));
    }
}
