//! Known-answer tables for the MAIL and RCPT paths (RFC 5321 4.1.1.2, 4.1.1.3, 4.1.2,
//! 4.5.1) and local-part quoting, under the strict and the lenient grammar
//! (tables in `common/grammar.rs`); replies are in `reply_grammar.rs`.

mod common;

use common::esc;
use common::grammar::*;
use smtp_sansio::SyntaxErrorKind;
use smtp_sansio::types::{ForwardPath, LocalPart, Notify, ReversePath};

use SyntaxErrorKind::Arguments;

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

/// What an `[IPv6:...]` literal in EHLO parses to: the address, or `None` when the line
/// is refused or holds any other kind of host.
fn ehlo_ipv6(text: &str) -> Option<std::net::Ipv6Addr> {
    use smtp_sansio::types::{AddressLiteral, Command, Host};
    let line = format!("EHLO [IPv6:{text}]");
    match smtp_sansio::parse_command(line.as_bytes(), &smtp_sansio::Grammar::strict()) {
        Ok(Command::Ehlo(Host::Literal(AddressLiteral::Ipv6(a)))) => Some(a),
        _ => None,
    }
}

/// The IPv6 literal parser reads the text forms exactly as the standard library's
/// `Ipv6Addr` parser does, which it replaced: the edge cases of "::", of the embedded
/// IPv4 address and of group counts, by hand.
#[test]
fn ipv6_literals_agree_with_std_at_the_edges() {
    let cases = [
        "::",
        "::1",
        "1::",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4::5:6:7:8",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "ffff:FFFF:0:00:000:0000:abcd:ABCD",
        "00000::1",
        "12345::",
        "1:::2",
        ":::",
        ":1::",
        "1::2::3",
        "1:",
        ":1",
        "1:2:3:4:5:6:7:",
        "::ffff:192.0.2.1",
        "::192.0.2.1",
        "1:2:3:4:5:6:192.0.2.1",
        "1:2:3:4:5::192.0.2.1",
        "1:2:3:4:5:6::192.0.2.1",
        "1:2:3:4:5:6:7:192.0.2.1",
        "192.0.2.1::",
        "192.0.2.1",
        "::01.2.3.4",
        "::1.02.3.4",
        "::0.0.0.0",
        "::255.255.255.255",
        "::256.1.1.1",
        "::1.2.3",
        "::1.2.3.4.5",
        "::1.2.3.4:5",
        "::1..3.4",
        "::1234.1.1.1",
        "::a.1.1.1",
        "::1.2.3.4.",
        ".::1",
        "::.",
        "1:2:3:4:5:6:7:8.",
    ];
    for text in cases {
        assert_eq!(ehlo_ipv6(text), text.parse().ok(), "{text:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

    /// Addresses built the way real ones are (groups, at most one "::", an IPv4 tail),
    /// with group counts and digit counts around their limits, and half of them with one
    /// octet inserted or removed: the parser accepts exactly what `Ipv6Addr`'s does, with
    /// the same address.
    #[test]
    fn ipv6_literals_agree_with_std(
        groups in proptest::collection::vec("[0-9a-fA-F]{1,4}|[0-9a-f]{0,5}", 0..10),
        gap in proptest::option::of(0usize..10),
        v4 in proptest::option::of(
            "(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}|[0-9]{1,4}(\\.[0-9]{0,4}){1,4}",
        ),
        edit in proptest::option::of((0usize..64, proptest::bool::ANY, "[0-9a-fA-Fg:.\\]]")),
    ) {
        let mut text = String::new();
        for (k, g) in groups.iter().enumerate() {
            if gap == Some(k) {
                text.push_str("::");
            } else if k > 0 {
                text.push(':');
            }
            text.push_str(g);
        }
        if gap.is_some_and(|at| at >= groups.len()) {
            text.push_str("::");
        }
        if let Some(v4) = v4 {
            if !text.is_empty() && !text.ends_with("::") {
                text.push(':');
            }
            text.push_str(&v4);
        }
        if let Some((at, insert, c)) = edit {
            let at = at % (text.len() + 1);
            if insert {
                text.insert_str(at, &c);
            } else if at < text.len() {
                text.remove(at);
            }
        }
        proptest::prop_assert_eq!(ehlo_ipv6(&text), text.parse().ok(), "{:?}", text);
    }
}
