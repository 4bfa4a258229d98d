//! Known-answer tables for the command grammar (RFC 5321 4.1 and the extensions' verbs and
//! parameters), under the strict and the lenient grammar; replies are in `reply_grammar.rs`.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use smtp_sansio::types::{
    AddressLiteral, Argument, Body, Command, Domain, EnhancedStatus, ForwardPath, Host,
    InitialResponse, Keyword, LocalPart, MailAuth, MailParams, Mailbox, Mechanism, MtPriority,
    Notify, Orcpt, Param, RcptParams, ReplyCode, Ret, ReversePath, Text, XText,
};
use smtp_sansio::{DecodeError, Grammar, SyntaxErrorKind, decode_command, parse_command};

use SyntaxErrorKind::{
    Arguments, Byte, DuplicateParameter, ParameterValue, UnknownParameter, Verb,
};

/// Bytes as an escaped string, so that a failing row shows exactly what was fed in.
fn esc(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Builders for expected values.

fn dom(s: &'static str) -> Domain<'static> {
    Domain::new(s).unwrap_or_else(|e| panic!("test domain {s:?}: {e}"))
}

fn hd(s: &'static str) -> Host<'static> {
    Host::Domain(dom(s))
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Host<'static> {
    Host::Literal(AddressLiteral::Ipv4(Ipv4Addr::new(a, b, c, d)))
}

fn v6(s: &str) -> Host<'static> {
    Host::Literal(AddressLiteral::Ipv6(s.parse::<Ipv6Addr>().unwrap()))
}

fn general(tag: &'static str, content: &'static str) -> Host<'static> {
    Host::Literal(AddressLiteral::general(tag, content).unwrap())
}

fn mbox(local: &'static str, host: Host<'static>) -> Mailbox<'static> {
    Mailbox::new(
        LocalPart::new(local).unwrap_or_else(|e| panic!("{local:?}: {e}")),
        host,
    )
}

fn from(local: &'static str, host: &'static str) -> ReversePath<'static> {
    ReversePath::Mailbox(mbox(local, hd(host)))
}

fn to(local: &'static str, host: &'static str) -> ForwardPath<'static> {
    ForwardPath::Mailbox(mbox(local, hd(host)))
}

fn mail(from: ReversePath<'static>) -> Command<'static> {
    Command::Mail {
        from,
        params: MailParams::default(),
    }
}

fn mail_p(
    from: ReversePath<'static>,
    f: impl FnOnce(&mut MailParams<'static>),
) -> Command<'static> {
    let mut params = MailParams::default();
    f(&mut params);
    Command::Mail { from, params }
}

fn rcpt(to: ForwardPath<'static>) -> Command<'static> {
    Command::Rcpt {
        to,
        params: RcptParams::default(),
    }
}

fn rcpt_p(to: ForwardPath<'static>, f: impl FnOnce(&mut RcptParams<'static>)) -> Command<'static> {
    let mut params = RcptParams::default();
    f(&mut params);
    Command::Rcpt { to, params }
}

fn xt(s: &'static str) -> XText<'static> {
    XText::new(s).unwrap()
}

fn param(k: &'static str, v: Option<&'static str>) -> Param<'static> {
    Param::new(k, v.map(Cow::Borrowed)).unwrap()
}

fn arg(s: &'static str) -> Argument<'static> {
    Argument::new(s).unwrap()
}

fn auth(mech: &'static str, ir: Option<&'static str>) -> Command<'static> {
    Command::Auth {
        mechanism: Mechanism::new(mech).unwrap(),
        initial_response: ir.map(|s| InitialResponse::new(s).unwrap()),
    }
}

fn other(verb: &'static str, args: Option<&'static str>) -> Command<'static> {
    Command::Other {
        verb: Keyword::new(verb).unwrap(),
        args: args.map(|a| Argument::new(a).unwrap()),
    }
}

fn bdat(size: u64, last: bool) -> Command<'static> {
    Command::Bdat { size, last }
}

// ---------------------------------------------------------------------------------------
// Command table machinery.

#[derive(Debug, Clone)]
enum Want {
    Ok(Command<'static>),
    /// A syntax error of this kind, offset not checked.
    Err(SyntaxErrorKind),
    /// A syntax error of this kind at this offset.
    ErrAt(usize, SyntaxErrorKind),
}

use Want::{Err as E, ErrAt as EAt, Ok as K};

struct Row {
    input: &'static [u8],
    strict: Want,
    lenient: Want,
}

/// Same answer under both grammars.
fn r(input: &'static [u8], w: Want) -> Row {
    Row {
        input,
        strict: w.clone(),
        lenient: w,
    }
}

/// Different answers: strict first.
fn r2(input: &'static [u8], strict: Want, lenient: Want) -> Row {
    Row {
        input,
        strict,
        lenient,
    }
}

fn matches(got: &Result<Command<'_>, DecodeError>, want: &Want) -> bool {
    match (got, want) {
        (Ok(c), Want::Ok(w)) => c == w,
        (Err(DecodeError::Syntax { kind, .. }), Want::Err(k)) => kind == k,
        (Err(DecodeError::Syntax { offset, kind }), Want::ErrAt(o, k)) => kind == k && offset == o,
        _ => false,
    }
}

fn run(rows: &[Row]) {
    let mut failures = Vec::new();
    for row in rows {
        for (name, g, want) in [
            ("strict", Grammar::strict(), &row.strict),
            ("lenient", Grammar::lenient(), &row.lenient),
        ] {
            let got = parse_command(row.input, &g);
            if !matches(&got, want) {
                failures.push(format!(
                    "  {name:7} \"{}\"\n    want {want:?}\n    got  {got:?}",
                    esc(row.input)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

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

/// A domain that only the lenient grammar accepts, taken from a lenient parse.
fn hd_lenient(s: &'static str) -> Host<'static> {
    assert!(Domain::new(s).is_err(), "{s} should not be a strict domain");
    let line = format!("EHLO {s}");
    match parse_command(line.as_bytes(), &Grammar::lenient()) {
        Ok(Command::Ehlo(h)) => h.into_owned(),
        other => panic!("lenient EHLO {s}: {other:?}"),
    }
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
// MAIL / RCPT paths (RFC 5321 4.1.1.2, 4.1.1.3, 4.1.2, 4.5.1)

#[test]
fn mail_paths() {
    run(&[
        r(b"MAIL FROM:<>", K(mail(ReversePath::Null))),
        r(b"mail from:<>", K(mail(ReversePath::Null))),
        r(b"MaIl FrOm:<>", K(mail(ReversePath::Null))),
        r(b"MAIL FROM:<a@b>", K(mail(from("a", "b")))),
        // quoted-pairSMTP = %d92 %d32-126: a backslash escapes a printable ASCII byte
        // only, never a control byte, DEL or UTF-8.
        r(b"MAIL FROM:<\"a\\ b\"@b>", K(mail(from("\"a\\ b\"", "b")))),
        r(b"MAIL FROM:<\"a\\\x01\"@b>", E(Arguments)),
        r(b"MAIL FROM:<\"a\\\x7f\"@b>", E(Arguments)),
        r("MAIL FROM:<\"a\\\u{e9}\"@b>".as_bytes(), E(Arguments)),
        r(
            b"MAIL FROM:<john.q.public@example.com>",
            K(mail(from("john.q.public", "example.com"))),
        ),
        r(
            b"MAIL FROM:<a+tag@B.Example>",
            K(mail(from("a+tag", "b.example"))),
        ),
        r(
            b"MAIL FROM:<!#$%&'*+-/=?^_`{|}~@x>",
            K(mail(from("!#$%&'*+-/=?^_`{|}~", "x"))),
        ),
        r(
            b"MAIL FROM:<u@[192.0.2.7]>",
            K(mail(ReversePath::Mailbox(mbox("u", v4(192, 0, 2, 7))))),
        ),
        r(
            b"MAIL FROM:<u@[IPv6:fe80::1]>",
            K(mail(ReversePath::Mailbox(mbox("u", v6("fe80::1"))))),
        ),
        r(
            b"MAIL FROM:<u@[x:y]>",
            K(mail(ReversePath::Mailbox(mbox("u", general("x", "y"))))),
        ),
        // Quoted local parts, with escapes, kept exactly as sent.
        r(
            b"MAIL FROM:<\"john doe\"@x>",
            K(mail(from("\"john doe\"", "x"))),
        ),
        r(
            b"MAIL FROM:<\"a\\\"b\"@x>",
            K(mail(from("\"a\\\"b\"", "x"))),
        ),
        r(
            b"MAIL FROM:<\"a\\\\b\"@x>",
            K(mail(from("\"a\\\\b\"", "x"))),
        ),
        r(b"MAIL FROM:<\"\"@x>", K(mail(from("\"\"", "x")))),
        r(b"MAIL FROM:<\"a@b\"@x>", K(mail(from("\"a@b\"", "x")))),
        r(b"MAIL FROM:<\"a>b\"@x>", K(mail(from("\"a>b\"", "x")))),
        r(b"MAIL FROM:<\"a\\ b\"@x>", K(mail(from("\"a\\ b\"", "x")))),
        // UTF-8 (RFC 6531 3.3).
        r(
            "MAIL FROM:<jörg@bücher.de>".as_bytes(),
            K(mail(from("jörg", "bücher.de"))),
        ),
        r(
            "MAIL FROM:<\"ü ü\"@x>".as_bytes(),
            K(mail(from("\"ü ü\"", "x"))),
        ),
        r(
            "MAIL FROM:<用户@例子.广告>".as_bytes(),
            K(mail(from("用户", "例子.广告"))),
        ),
        // Source routes are parsed and dropped (RFC 5321 4.1.1.3, Appendix C).
        r(b"MAIL FROM:<@a,@b:u@d>", K(mail(from("u", "d")))),
        r(b"MAIL FROM:<@a:u@d>", K(mail(from("u", "d")))),
        r(b"MAIL FROM:<@a.b,@c.d,@e:u@d>", K(mail(from("u", "d")))),
        r(b"MAIL FROM:<@a,u@d>", E(Arguments)),
        r(b"MAIL FROM:<@a:>", E(Arguments)),
        r(b"MAIL FROM:<@:u@d>", E(Arguments)),
        r(b"MAIL FROM:<@[1.2.3.4]:u@d>", E(Arguments)),
        // Space after the colon: lenient only (RFC 5321 has none).
        r2(
            b"MAIL FROM: <a@b>",
            EAt(10, Arguments),
            K(mail(from("a", "b"))),
        ),
        r2(b"MAIL FROM:   <>", E(Arguments), K(mail(ReversePath::Null))),
        r2(b"RCPT TO: <a@b>", E(Arguments), K(rcpt(to("a", "b")))),
        // Trailing spaces: lenient only.
        r2(b"MAIL FROM:<a@b> ", E(Arguments), K(mail(from("a", "b")))),
        r2(
            b"MAIL FROM:<a@b> SIZE=1  ",
            E(Arguments),
            K(mail_p(from("a", "b"), |p| p.size = Some(1))),
        ),
        r2(b"RCPT TO:<a@b>  ", E(Arguments), K(rcpt(to("a", "b")))),
        // Malformed.
        r(b"MAIL", EAt(4, Arguments)),
        r(b"MAIL FROM:", E(Arguments)),
        r(b"MAIL FROM:a@b", EAt(10, Arguments)),
        r(b"MAIL FROM:<a@b", E(Arguments)),
        r(b"MAIL FROM:a@b>", E(Arguments)),
        r(b"MAIL FROM <a@b>", EAt(5, Arguments)),
        r(b"MAIL FROM<a@b>", E(Arguments)),
        r(b"MAIL TO:<a@b>", E(Arguments)),
        r(b"MAIL  FROM:<a@b>", E(Arguments)),
        r(b"MAIL FROM:<a>", E(Arguments)),
        r(b"MAIL FROM:<@b>", E(Arguments)),
        r(b"MAIL FROM:<a@>", E(Arguments)),
        r(b"MAIL FROM:<a..b@c>", E(Arguments)),
        r(b"MAIL FROM:<.a@c>", E(Arguments)),
        r(b"MAIL FROM:<a.@c>", E(Arguments)),
        r(b"MAIL FROM:<a b@c>", E(Arguments)),
        r(b"MAIL FROM:<\"a@c>", E(Arguments)),
        r(b"MAIL FROM:<\"a\"b@c>", E(Arguments)),
        r(b"MAIL FROM:<\"a\tb\"@c>", E(Arguments)),
        r(b"MAIL FROM:<a@b>x", EAt(15, Arguments)),
        r(b"MAIL FROM:<a@b><c@d>", E(Arguments)),
        r(b"MAIL FROM:<<a@b>>", E(Arguments)),
        r(b"MAIL FROM:< >", E(Arguments)),
        r2(
            b"MAIL FROM:<a@b_c>",
            E(Arguments),
            K(mail(ReversePath::Mailbox(mbox("a", hd_lenient("b_c"))))),
        ),
        r(b"MAIL FROM:<Postmaster>", E(Arguments)),
    ]);
}

#[test]
fn rcpt_paths() {
    run(&[
        r(b"RCPT TO:<a@b>", K(rcpt(to("a", "b")))),
        r(b"rcpt to:<A@B>", K(rcpt(to("A", "b")))),
        // <Postmaster> without a domain, any case (RFC 5321 4.5.1).
        r(b"RCPT TO:<Postmaster>", K(rcpt(ForwardPath::Postmaster))),
        r(b"RCPT TO:<postmaster>", K(rcpt(ForwardPath::Postmaster))),
        r(b"RCPT TO:<POSTMASTER>", K(rcpt(ForwardPath::Postmaster))),
        r(b"RCPT TO:<pOsTmAsTeR>", K(rcpt(ForwardPath::Postmaster))),
        r(
            b"RCPT TO:<Postmaster> NOTIFY=NEVER",
            K(rcpt_p(ForwardPath::Postmaster, |p| {
                p.notify = Some(Notify::Never)
            })),
        ),
        // With a domain it is an ordinary mailbox, case kept.
        r(b"RCPT TO:<postmaster@x>", K(rcpt(to("postmaster", "x")))),
        r(
            b"RCPT TO:<Postmaster@Example.ORG>",
            K(rcpt(to("Postmaster", "example.org"))),
        ),
        r(
            b"RCPT TO:<@relay:Postmaster@x>",
            K(rcpt(to("Postmaster", "x"))),
        ),
        r(b"RCPT TO:<@a,@b:u@d>", K(rcpt(to("u", "d")))),
        r(
            "RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>".as_bytes(),
            K(rcpt(to("δοκιμή", "παράδειγμα.δοκιμή"))),
        ),
        r(
            b"RCPT TO:<\"quoted\\\\x\"@y>",
            K(rcpt(to("\"quoted\\\\x\"", "y"))),
        ),
        // Malformed.
        r(b"RCPT TO:<>", E(Arguments)),
        r(b"RCPT TO:<Postmaster", E(Arguments)),
        r(b"RCPT TO:<Postmaster >", E(Arguments)),
        r(b"RCPT TO:Postmaster", E(Arguments)),
        r(b"RCPT TO:<Postmaster>x", E(Arguments)),
        r(b"RCPT", E(Arguments)),
        r(b"RCPT TO:", E(Arguments)),
        r(b"RCPT FROM:<a@b>", E(Arguments)),
        r(b"RCPT TO <a@b>", E(Arguments)),
        r(b"RCPT TO:a@b", E(Arguments)),
    ]);
}

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

fn pri(v: i8) -> MtPriority {
    MtPriority::new(v).unwrap()
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

#[test]
fn local_part_quoting() {
    let rows: &[(&str, &str, &str)] = &[
        // (value, wire form, unquoted)
        ("simple", "simple", "simple"),
        ("a.b", "a.b", "a.b"),
        ("a b", "\"a b\"", "a b"),
        ("a\"b", "\"a\\\"b\"", "a\"b"),
        ("a\\b", "\"a\\\\b\"", "a\\b"),
        ("", "\"\"", ""),
        (".a", "\".a\"", ".a"),
        ("a..b", "\"a..b\"", "a..b"),
        ("jörg", "jörg", "jörg"),
        ("a@b", "\"a@b\"", "a@b"),
    ];
    for &(value, wire, unquoted) in rows {
        let lp = LocalPart::quote(value).unwrap();
        assert_eq!(lp.as_str(), wire, "quote(\"{}\")", esc(value.as_bytes()));
        assert_eq!(
            lp.unquoted(),
            unquoted,
            "unquoted(\"{}\")",
            esc(wire.as_bytes())
        );
        assert_eq!(lp.is_quoted(), wire.starts_with('"'));
    }
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
        r(b"BDAT 18446744073709551616", EAt(5, Arguments)),
        r(b"BDAT 99999999999999999999999999", E(Arguments)),
        r(b"BDAT", EAt(4, Arguments)),
        r(b"BDAT -1", E(Arguments)),
        r(b"BDAT +1", E(Arguments)),
        r(b"BDAT 1x", E(Arguments)),
        r(b"BDAT x", E(Arguments)),
        r(b"BDAT 1 FIRST", EAt(6, Arguments)),
        r(b"BDAT 1 LAST x", E(Arguments)),
        r(b"BDAT 1 LASTX", E(Arguments)),
        r(b"BDAT 1  LAST", E(Arguments)),
        r(b"BDAT  1", E(Arguments)),
        r2(b"BDAT 1 ", E(Arguments), K(bdat(1, false))),
        r2(b"BDAT 1 LAST ", E(Arguments), K(bdat(1, true))),
        r2(b"BDAT ", E(Arguments), E(Arguments)),
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
