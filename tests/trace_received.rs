//! Trace fields (RFC 5321 4.4, RFC 3848, RFC 8314 4.3, RFC 6531 3.7.3): the `Received:`
//! field, its date and protocol names, checked by known answers, rules and a small
//! recognizer of the RFC 5321 `Stamp`.

mod common;

use common::client::fp as rcpt;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, UNIX_EPOCH};

use common::esc;
use proptest::prelude::*;
use smtp_sansio::server::HelloKind;
use smtp_sansio::trace::{DateTime, Protocol, Received};
use smtp_sansio::types::{AddressLiteral, Domain, ForwardPath, Host, Mailbox};

/// Thu, 03 Dec 2026 18:59:16 +0000
const T: i64 = 1_796_324_356;

fn date() -> DateTime {
    DateTime::from_unix(T, 0).unwrap()
}

fn host(s: &str) -> Host<'static> {
    Host::Domain(Domain::new(s.to_owned()).unwrap())
}

const V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

// ---------------------------------------------------------------- DateTime

#[test]
fn date_time_known_answers() {
    let table: &[(i64, i16, &str)] = &[
        (0, 0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        (T, 0, "Thu, 03 Dec 2026 18:59:16 +0000"),
        (T, 60, "Thu, 03 Dec 2026 19:59:16 +0100"),
        (T, -330, "Thu, 03 Dec 2026 13:29:16 -0530"),
        (T, 1439, "Fri, 04 Dec 2026 18:58:16 +2359"),
        (T, -1439, "Wed, 02 Dec 2026 19:00:16 -2359"),
        (-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"),
        (951_782_400, 0, "Tue, 29 Feb 2000 00:00:00 +0000"),
        (4_107_542_400, 0, "Mon, 01 Mar 2100 00:00:00 +0000"),
        (-2_208_988_800, 0, "Mon, 01 Jan 1900 00:00:00 +0000"),
        (253_402_300_799, 0, "Fri, 31 Dec 9999 23:59:59 +0000"),
        (1_709_164_800, 0, "Thu, 29 Feb 2024 00:00:00 +0000"),
        (1_735_689_599, 0, "Tue, 31 Dec 2024 23:59:59 +0000"),
    ];
    for &(secs, off, want) in table {
        let got = DateTime::from_unix(secs, off).unwrap().to_string();
        assert_eq!(got, want, "from_unix({secs}, {off})");
    }
}

#[test]
fn date_time_refuses_zone_offsets_beyond_2359() {
    for off in [1440, -1440, i16::MAX, i16::MIN] {
        assert!(DateTime::from_unix(T, off).is_err(), "offset {off}");
    }
}

#[test]
fn date_time_refuses_years_outside_1900_to_9999() {
    assert!(DateTime::from_unix(-2_208_988_801, 0).is_err());
    assert!(DateTime::from_unix(253_402_300_800, 0).is_err());
    assert!(DateTime::from_unix(i64::MAX, 0).is_err());
    assert!(DateTime::from_unix(i64::MIN, 0).is_err());
    assert!(DateTime::from_unix(i64::MAX, 60).is_err());
    // The local year counts: 9999-12-31 23:59:59 UTC is already 10000 at +0100.
    assert!(DateTime::from_unix(253_402_300_799, 60).is_err());
}

#[test]
fn date_time_from_system_time_rounds_towards_the_past() {
    let t = UNIX_EPOCH + Duration::from_millis(1_796_324_356_900);
    assert_eq!(DateTime::from_system_time(t, 0).unwrap(), date());
    let before = UNIX_EPOCH - Duration::from_millis(500);
    assert_eq!(
        DateTime::from_system_time(before, 0).unwrap().to_string(),
        "Wed, 31 Dec 1969 23:59:59 +0000"
    );
    assert!(DateTime::from_system_time(UNIX_EPOCH, 1440).is_err());
}

// ---------------------------------------------------------------- Protocol

#[test]
fn protocol_names_follow_rfc3848_and_rfc6531() {
    use HelloKind::*;
    let table: &[(HelloKind, bool, bool, bool, &str)] = &[
        (Helo, false, false, false, "SMTP"),
        (Helo, true, true, true, "SMTP"),
        (Ehlo, false, false, false, "ESMTP"),
        (Ehlo, false, true, false, "ESMTPA"),
        (Ehlo, true, false, false, "ESMTPS"),
        (Ehlo, true, true, false, "ESMTPSA"),
        (Lhlo, false, false, false, "LMTP"),
        (Lhlo, false, true, false, "LMTPA"),
        (Lhlo, true, false, false, "LMTPS"),
        (Lhlo, true, true, false, "LMTPSA"),
        (Ehlo, false, false, true, "UTF8SMTP"),
        (Ehlo, false, true, true, "UTF8SMTPA"),
        (Ehlo, true, false, true, "UTF8SMTPS"),
        (Ehlo, true, true, true, "UTF8SMTPSA"),
        (Lhlo, false, false, true, "UTF8LMTP"),
        (Lhlo, false, true, true, "UTF8LMTPA"),
        (Lhlo, true, false, true, "UTF8LMTPS"),
        (Lhlo, true, true, true, "UTF8LMTPSA"),
    ];
    for &(kind, tls, auth, utf8, want) in table {
        let p = Protocol::from_session(kind, tls, auth, utf8);
        assert_eq!(
            p.as_str(),
            want,
            "{kind:?} tls={tls} auth={auth} utf8={utf8}"
        );
        assert_eq!(p.to_string(), want);
        assert_eq!(p.is_utf8(), want.starts_with("UTF8"));
    }
}

// ---------------------------------------------------------------- Received: known answers

#[test]
fn received_known_answers() {
    let p = Protocol::Esmtp;
    let table: Vec<(&str, Received, &str)> = vec![
        (
            "helo only",
            Received::new("mx.example", p, date()).from_host(&host("client.example")),
            "Received: from client.example by mx.example with ESMTP;\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "helo and peer",
            Received::new("mx.example", p, date())
                .from_host(&host("c.example"))
                .peer(V4),
            "Received: from c.example ([192.0.2.1]) by mx.example with ESMTP;\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "peer only: the literal stands in for the name",
            Received::new("mx", p, date()).peer(V4),
            "Received: from [192.0.2.1] ([192.0.2.1]) by mx with ESMTP;\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "IPv6 peer, IPv4-mapped peer",
            Received::new("mx", p, date())
                .from_host(&host("a.example"))
                .peer(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
            "Received: from a.example ([IPv6:2001:db8::1]) by mx with ESMTP;\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "mapped",
            Received::new("mx", p, date())
                .from_host(&host("a"))
                .peer(IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped())),
            "Received: from a ([127.0.0.1]) by mx with ESMTP;\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "address literal EHLO",
            Received::new("mx", p, date())
                .from_host(&Host::Literal(AddressLiteral::Ipv4(Ipv4Addr::new(
                    198, 51, 100, 7,
                ))))
                .peer(V4),
            "Received: from [198.51.100.7] ([192.0.2.1]) by mx with ESMTP;\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "all clauses",
            Received::new("mx.example.net", Protocol::Esmtpsa, date())
                .from_host(&host("client.example"))
                .peer(V4)
                .authenticated_as("alice")
                .id("ABC123")
                .recipient(&rcpt("bob@example.net"))
                .tls("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
            "Received: from client.example ([192.0.2.1]) (authenticated as alice)\r\n\
             \tby mx.example.net with ESMTPSA id ABC123 for <bob@example.net>\r\n\
             \ttls TLS_AES_256_GCM_SHA384 (TLSv1.3); Thu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "hex cipher, postmaster",
            Received::new("mx", Protocol::Esmtps, date())
                .from_host(&host("c"))
                .recipient(&ForwardPath::Postmaster)
                .tls("TLSv1.2", "0x1301"),
            "Received: from c by mx with ESMTPS for <Postmaster> tls 0x1301 (TLSv1.2);\r\n\
             \tThu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
        (
            "HELO, no peer",
            Received::new("mx", Protocol::Smtp, date()).from_host(&host("old.example")),
            "Received: from old.example by mx with SMTP; Thu, 03 Dec 2026 18:59:16 +0000\r\n",
        ),
    ];
    for (what, r, want) in table {
        let got = r.to_bytes();
        assert_eq!(esc(&got), esc(want.as_bytes()), "{what}");
        // Display is the same text without the final CRLF.
        assert_eq!(format!("{r}\r\n"), want, "{what}: Display");
    }
}

// ---------------------------------------------------------------- Received: rules

/// Every line of `field`, without its CRLF; checks that CR and LF come only as CRLF.
fn lines(field: &[u8]) -> Vec<&[u8]> {
    assert!(field.ends_with(b"\r\n"), "{}", esc(field));
    let body = &field[..field.len() - 2];
    let lines: Vec<&[u8]> = body
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    for l in &lines {
        assert!(!l.contains(&b'\r'), "bare CR in {}", esc(field));
    }
    lines
}

/// The rules every field obeys whatever the inputs: lines at most 998 octets, each
/// continuation line starts with exactly one WSP after CRLF, no control byte but the
/// folds, and a line over 78 octets holds one clause that could not be folded further.
fn assert_well_formed(field: &[u8]) {
    let ls = lines(field);
    assert!(ls[0].starts_with(b"Received:"), "{}", esc(field));
    for (i, l) in ls.iter().enumerate() {
        assert!(
            l.len() <= 998,
            "line {i} has {} octets: {}",
            l.len(),
            esc(field)
        );
        if i > 0 {
            assert!(
                l.starts_with(b"\t") || l.starts_with(b" "),
                "{}",
                esc(field)
            );
            assert!(l.len() > 1 && !l[1..].starts_with(b" "), "{}", esc(field));
        }
        for &b in l.iter() {
            assert!(
                b == b'\t' || (b >= 0x20 && b != 0x7f),
                "control byte in {}",
                esc(field)
            );
        }
        if l.len() > 78 {
            let text = std::str::from_utf8(l).unwrap();
            let text = text.strip_prefix("Received:").unwrap_or(text);
            let toks = tokens(text).unwrap();
            let starts = toks.iter().filter(|t| starts_clause(t)).count();
            assert_eq!(
                starts,
                1,
                "long line {i} holds {starts} clauses: {}",
                esc(field)
            );
            assert!(!toks.contains(&Tok::Semi) || toks.last() == Some(&Tok::Semi));
        }
    }
    assert!(
        stamp(&unfold(field)).is_ok(),
        "{:?}: {}",
        stamp(&unfold(field)),
        esc(field)
    );
}

fn unfold(field: &[u8]) -> String {
    let s = std::str::from_utf8(field).unwrap();
    let s = s.strip_suffix("\r\n").unwrap();
    s.replace("\r\n\t", "\t").replace("\r\n ", " ")
}

#[test]
fn received_field_is_folded_at_78_columns() {
    let r = Received::new("mx.example.net", Protocol::Esmtpsa, date())
        .from_host(&host("a-rather-long-client-name.subdomain.example.org"))
        .peer(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 3, 4, 5, 6)))
        .authenticated_as("someone with a long name")
        .id("0123456789ABCDEF0123456789")
        .recipient(&rcpt("recipient.with.long.name@destination.example.com"))
        .tls("TLSv1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    let field = r.to_bytes();
    assert_well_formed(&field);
    let ls = lines(&field);
    assert!(ls.len() >= 4, "{}", esc(&field));
    for l in &ls {
        assert!(l.len() <= 78, "{}", esc(&field));
    }
}

#[test]
fn received_field_never_exceeds_998_octets() {
    // Domains are at most 255 octets, but general literals and quoted local parts have
    // no bound of their own.
    let literal = |n: usize| Host::Literal(AddressLiteral::general("x", "a".repeat(n)).unwrap());
    let r = Received::new(&"x".repeat(5000), Protocol::Esmtps, date())
        .from_host(&literal(895)) // 899 octets with brackets: fits, on a line of its own
        .peer(V4)
        .authenticated_as(&"(u)".repeat(3000))
        .id(&"i".repeat(5000))
        .recipient(&rcpt(&format!("\"{}\"@example.org", "l".repeat(800))))
        .tls(&"v".repeat(5000), &"C".repeat(5000));
    let field = r.to_bytes();
    assert_well_formed(&field);
    let s = unfold(&field);
    assert!(
        s.contains(&"a".repeat(895)) && s.contains(&"l".repeat(800)),
        "{s}"
    );
    // Too long for any line: left out, not cut.
    let r = Received::new("mx", Protocol::Esmtp, date())
        .from_host(&literal(990))
        .recipient(&rcpt(&format!("\"{}\"@example.org", "l".repeat(990))))
        .peer(V4);
    let field = r.to_bytes();
    assert_well_formed(&field);
    let s = unfold(&field);
    assert!(!s.contains("aaaa") && !s.contains("llll"), "{s}");
    assert!(
        s.starts_with("Received: from [192.0.2.1] ([192.0.2.1]) by mx with ESMTP;"),
        "{s}"
    );
}

#[test]
fn received_without_from_host_or_peer_is_still_a_received_field() {
    let field = Received::new("mx", Protocol::Esmtp, date()).to_bytes();
    assert_eq!(
        field,
        b"Received: by mx with ESMTP; Thu, 03 Dec 2026 18:59:16 +0000\r\n"
    );
}

#[test]
fn received_field_cannot_be_injected_from_ehlo_name() {
    // The EHLO name is a validated type: a line break cannot even be built into it.
    assert!(Domain::new("evil.example\r\nX-Injected: yes").is_err());
    assert!(Domain::new("evil.example\nX-Injected: yes").is_err());
    assert!(Domain::new("evil\0.example").is_err());
    assert!(AddressLiteral::general("x", "a\r\nX-Injected: yes").is_err());
    // A general literal's content may hold `(`, `)` and `;`: such a name is left out and
    // the peer's address stands in for it.
    let lit = Host::Literal(AddressLiteral::general("x-tag", "a);b(c").unwrap());
    let field = Received::new("mx", Protocol::Esmtp, date())
        .from_host(&lit)
        .peer(V4)
        .to_bytes();
    assert_well_formed(&field);
    assert!(unfold(&field).starts_with("Received: from [192.0.2.1] ([192.0.2.1]) by mx"));
    let lit = Host::Literal(AddressLiteral::general("x-tag", "a.b").unwrap());
    let field = Received::new("mx", Protocol::Esmtp, date())
        .from_host(&lit)
        .peer(V4)
        .to_bytes();
    assert!(unfold(&field).starts_with("Received: from [x-tag:a.b] ([192.0.2.1]) by mx"));
}

#[test]
fn received_free_text_cannot_inject_lines_or_control_bytes() {
    let evil = "x\r\nX-Injected: yes\0\x1b[31m\x7f\u{85}\u{2028};";
    let r = Received::new(evil, Protocol::Utf8Smtpsa, date())
        .from_host(&host("c.example"))
        .authenticated_as(evil)
        .id(evil)
        .tls(evil, evil);
    let field = r.to_bytes();
    assert_well_formed(&field);
    let s = unfold(&field);
    assert!(!s.contains("\r\nX-Injected"), "{s}");
    assert!(
        !s.contains('\0') && !s.contains('\u{85}') && !s.contains('\u{1b}'),
        "{s}"
    );
    assert_eq!(s.matches(';').count(), 1, "{s}");
}

#[test]
fn received_comments_are_balanced() {
    for user in ["a)b", "((", ")", "\\", "x\\)(y", "\\(", "ok (nested) name"] {
        let field = Received::new("mx", Protocol::Esmtpa, date())
            .from_host(&host("c"))
            .authenticated_as(user)
            .to_bytes();
        assert_well_formed(&field);
        let s = unfold(&field);
        let toks = tokens(s.strip_prefix("Received:").unwrap()).unwrap();
        let comment = toks
            .iter()
            .find_map(|t| match t {
                Tok::Comment(c) => Some(c.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(comment, format!("authenticated as {user}"), "{s}");
    }
}

#[test]
fn received_names_the_user_only_when_asked() {
    let field = Received::new("mx", Protocol::Esmtpa, date())
        .from_host(&host("c"))
        .to_bytes();
    assert!(!unfold(&field).contains("authenticated"));
}

#[test]
fn received_writes_utf8_only_for_utf8_protocols() {
    let idn = host("b\u{fc}cher.example");
    let to = rcpt("j\u{f6}rg@b\u{fc}cher.example");
    let utf8 = Received::new("mx", Protocol::Utf8Smtp, date())
        .from_host(&idn)
        .peer(V4)
        .recipient(&to)
        .authenticated_as("j\u{f6}rg")
        .to_bytes();
    assert_well_formed(&utf8);
    let s = unfold(&utf8);
    assert!(
        s.starts_with("Received: from b\u{fc}cher.example ([192.0.2.1])"),
        "{s}"
    );
    assert!(s.contains("for <j\u{f6}rg@b\u{fc}cher.example>"), "{s}");
    assert!(s.contains("(authenticated as j\u{f6}rg)"), "{s}");

    let ascii = Received::new("mx", Protocol::Esmtp, date())
        .from_host(&idn)
        .peer(V4)
        .recipient(&to)
        .authenticated_as("j\u{f6}rg")
        .to_bytes();
    assert_well_formed(&ascii);
    assert!(ascii.is_ascii(), "{}", esc(&ascii));
    let s = unfold(&ascii);
    assert!(
        s.starts_with("Received: from [192.0.2.1] ([192.0.2.1]) "),
        "{s}"
    );
    assert!(!s.contains(" for "), "{s}");
    assert!(s.contains("(authenticated as j?rg)"), "{s}");
}

#[test]
fn received_our_host_name_is_reduced_to_a_domain() {
    let cases = [
        ("mx.example", "mx.example"),
        ("[192.0.2.9]", "[192.0.2.9] ([192.0.2.9])"),
        (
            "[IPv6:2001:db8::9]",
            "[IPv6:2001:db8::9] ([IPv6:2001:db8::9])",
        ),
        ("mx example;x", "mx-example-x"),
        ("", "unknown"),
        ("b\u{fc}cher.example", "b-cher.example"),
    ];
    for (by, want) in cases {
        let field = Received::new(by, Protocol::Esmtp, date())
            .from_host(&host("c"))
            .to_bytes();
        assert_well_formed(&field);
        let s = unfold(&field);
        assert!(s.contains(&format!(" by {want} with ")), "{by:?}: {s}");
    }
}

#[test]
fn received_tls_clause_follows_rfc8314() {
    let cases = [
        ("TLS_AES_128_GCM_SHA256", Some("TLS_AES_128_GCM_SHA256")),
        ("0x1302", Some("0x1302")),
        ("0x13", None),
        ("TLS-AES 128", Some("TLSAES128")),
        ("1TLS", None),
        ("", None),
    ];
    for (cipher, want) in cases {
        let field = Received::new("mx", Protocol::Esmtps, date())
            .from_host(&host("c"))
            .tls("TLSv1.3", cipher)
            .to_bytes();
        assert_well_formed(&field);
        let s = unfold(&field);
        match want {
            Some(w) => assert!(
                s.contains(&format!(" tls {w} (TLSv1.3);")),
                "{cipher:?}: {s}"
            ),
            None => assert!(s.contains(" with ESMTPS (TLSv1.3);"), "{cipher:?}: {s}"),
        }
    }
}

#[test]
fn received_id_is_an_atom() {
    let field = Received::new("mx", Protocol::Esmtp, date())
        .from_host(&host("c"))
        .id("1796324356.M1P42.host name")
        .to_bytes();
    assert!(unfold(&field).contains(" id 1796324356?M1P42?host?name;"));
}

#[test]
fn received_parses_as_rfc5321_stamp() {
    let r = Received::new("mx.example.net", Protocol::Esmtpsa, date())
        .from_host(&host("client.example"))
        .peer(V4)
        .authenticated_as("alice")
        .id("ABC")
        .recipient(&rcpt("\"quoted local\"@example.net"))
        .tls("TLSv1.3", "TLS_AES_128_GCM_SHA256");
    let s = unfold(&r.to_bytes());
    let parsed = stamp(&s).unwrap();
    assert_eq!(parsed.from.as_deref(), Some("client.example"));
    assert_eq!(parsed.tcp_info.as_deref(), Some("[192.0.2.1]"));
    assert_eq!(parsed.by, "mx.example.net");
    assert_eq!(parsed.with.as_deref(), Some("ESMTPSA"));
    assert_eq!(parsed.id.as_deref(), Some("ABC"));
    assert_eq!(
        parsed.for_path.as_deref(),
        Some("<\"quoted local\"@example.net>")
    );
    assert_eq!(
        parsed.extra,
        vec![("tls".to_owned(), "TLS_AES_128_GCM_SHA256".to_owned())]
    );
    assert_eq!(parsed.date, "Thu, 03 Dec 2026 18:59:16 +0000");
    // The recognizer is not a rubber stamp.
    assert!(stamp("Received: by mx with ESMTP; Thu, 03 Dec 2026 18:59:16 +0000").is_err());
    assert!(stamp("Received: from a by mx with ESMTP Thu, 03 Dec 2026 18:59:16 +0000").is_err());
    assert!(stamp("Received: from a by mx with ESMTP; 03 Dec 2026").is_err());
    assert!(
        stamp("Received: from a (x by mx with ESMTP; Thu, 03 Dec 2026 18:59:16 +0000").is_err()
    );
    assert!(stamp("Received: from a by mx id a;b; Thu, 03 Dec 2026 18:59:16 +0000").is_err());
}

/// Found by `received_is_well_formed_for_any_input`: a U-label may hold a C1 control
/// (U+0080..U+009F), which a UTF8* protocol let through in our own host name.
#[test]
fn received_our_host_name_with_a_c1_control_is_reduced() {
    let r = Received::new("mx\u{85}.example", Protocol::Utf8Smtps, date()).to_bytes();
    assert!(
        !String::from_utf8_lossy(&r)
            .chars()
            .any(|c| c.is_control() && c != '\r' && c != '\n' && c != '\t'),
        "{}",
        esc(&r)
    );
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[\\x00-\\x7f]{0,120}",
        "[a-zA-Z0-9()\\\\ ;\r\n]{0,1200}",
    ]
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?|[a-z]{1,3}\u{fc}", 1..20)
        .prop_map(|labels| labels.join("."))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn received_is_well_formed_for_any_input(
        by in text(), id in text(), user in text(), version in text(), cipher in text(),
        helo in prop::option::of(domain()),
        peer in any::<IpAddr>(),
        local in prop::option::of("[a-z.]{1,80}|\"[ -~&&[^\"\\\\]]{1,300}\""),
        rdomain in domain(),
        proto in 0usize..18,
        options in any::<[bool; 4]>(),
    ) {
        let kinds = [HelloKind::Ehlo, HelloKind::Helo, HelloKind::Lhlo];
        let p = Protocol::from_session(kinds[proto % 3], proto & 1 != 0, proto & 2 != 0, proto >= 9);
        let mut r = Received::new(&by, p, date());
        if let Some(h) = helo.as_deref().and_then(|h| Domain::new(h.to_owned()).ok()) {
            r = r.from_host(&Host::Domain(h));
        }
        // With neither a name nor a peer there is no From-domain (tested apart).
        r = r.peer(peer);
        if options[0] { r = r.id(&id); }
        if options[1] { r = r.authenticated_as(&user); }
        if options[2] { r = r.tls(&version, &cipher); }
        if let Some(l) = local {
            let s = format!("{l}@{rdomain}");
            if let Ok(m) = Mailbox::parse(&s) {
                r = r.recipient(&ForwardPath::Mailbox(m));
            }
        }
        let field = r.to_bytes();
        assert_well_formed(&field);
        if !p.is_utf8() {
            prop_assert!(field.is_ascii());
        }
    }
}

// ---------------------------------------------------------------- a small Stamp recognizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    /// The text inside the parentheses, quoted-pairs resolved.
    Comment(String),
    Angle(String),
    Literal(String),
    Semi,
}

fn starts_clause(t: &Tok) -> bool {
    match t {
        Tok::Comment(_) => true,
        Tok::Word(w) => ["from", "by", "with", "id", "for", "via", "tls"]
            .contains(&w.to_ascii_lowercase().as_str()),
        _ => false,
    }
}

/// Splits an unfolded header value into RFC 5322 lexical tokens: words (atoms, dot-atoms,
/// the date's pieces), comments with nesting and quoted-pairs, `<...>` with quoted
/// strings inside, `[...]` literals and `;`.
fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            ' ' | '\t' => i += 1,
            ';' => {
                out.push(Tok::Semi);
                i += 1;
            }
            '(' => {
                let mut depth = 0;
                let mut text = String::new();
                loop {
                    let ch = *c.get(i).ok_or("unbalanced comment")?;
                    match ch {
                        '\\' => {
                            text.push(*c.get(i + 1).ok_or("dangling backslash")?);
                            i += 2;
                            continue;
                        }
                        '(' => {
                            depth += 1;
                            if depth > 1 {
                                text.push(ch);
                            }
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                            text.push(ch);
                        }
                        c if c.is_control() => return Err("control in comment".into()),
                        _ => text.push(ch),
                    }
                    i += 1;
                }
                out.push(Tok::Comment(text));
            }
            '<' => {
                let start = i;
                let mut quoted = false;
                loop {
                    let ch = *c.get(i).ok_or("unterminated <")?;
                    if quoted && ch == '\\' {
                        i += 2;
                        continue;
                    }
                    if ch == '"' {
                        quoted = !quoted;
                    }
                    i += 1;
                    if ch == '>' && !quoted {
                        break;
                    }
                }
                out.push(Tok::Angle(c[start..i].iter().collect()));
            }
            '[' => {
                let start = i;
                while *c.get(i).ok_or("unterminated [")? != ']' {
                    i += 1;
                }
                i += 1;
                out.push(Tok::Literal(c[start..i].iter().collect()));
            }
            ')' | '>' | ']' | '"' | '\\' => return Err(format!("stray {:?}", c[i])),
            _ => {
                let start = i;
                while i < c.len() && !" \t;()<>[]\"\\".contains(c[i]) {
                    if c[i].is_control() {
                        return Err("control byte".into());
                    }
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

#[derive(Debug)]
struct Stamp {
    from: Option<String>,
    tcp_info: Option<String>,
    by: String,
    with: Option<String>,
    id: Option<String>,
    for_path: Option<String>,
    extra: Vec<(String, String)>,
    date: String,
}

fn is_domain_word(w: &str) -> bool {
    !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || !c.is_ascii())
}

fn is_atom(w: &str) -> bool {
    !w.is_empty()
        && w.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
        })
}

/// RFC 5321 4.4 `Time-stamp-line` on an unfolded field (no CRLF):
/// `"Received:" FWS From-domain By-domain Opt-info [CFWS] ";" FWS date-time`.
fn stamp(field: &str) -> Result<Stamp, String> {
    let value = field.strip_prefix("Received:").ok_or("not Received:")?;
    if !value.starts_with([' ', '\t']) {
        return Err("no FWS after the colon".into());
    }
    let toks = tokens(value)?;
    let semi = toks.iter().position(|t| *t == Tok::Semi).ok_or("no ;")?;
    let (clauses, date) = (&toks[..semi], &toks[semi + 1..]);
    // Comments are CFWS: they may stand between clauses; TCP-info is the one right after
    // the From-domain.
    let mut it = clauses.iter().peekable();
    let word = |t: Option<&Tok>| match t {
        Some(Tok::Word(w)) => Some(w.clone()),
        _ => None,
    };
    let ext_domain = |it: &mut std::iter::Peekable<std::slice::Iter<Tok>>| -> Result<(String, Option<String>), String> {
        let name = match it.next() {
            Some(Tok::Word(w)) if is_domain_word(w) => w.clone(),
            Some(Tok::Literal(l)) => l.clone(),
            t => return Err(format!("bad Extended-Domain {t:?}")),
        };
        let tcp = match it.peek() {
            Some(Tok::Comment(c)) if c.starts_with('[') && c.ends_with(']') => {
                let c = c.clone();
                it.next();
                Some(c)
            }
            _ => None,
        };
        if name.starts_with('[') && tcp.is_none() {
            return Err("an address literal needs TCP-info".into());
        }
        Ok((name, tcp))
    };
    let skip_comments = |it: &mut std::iter::Peekable<std::slice::Iter<Tok>>| {
        while matches!(it.peek(), Some(Tok::Comment(_))) {
            it.next();
        }
    };
    if word(it.next()).map(|w| w.eq_ignore_ascii_case("from")) != Some(true) {
        return Err("no From-domain".into());
    }
    let (from, tcp_info) = ext_domain(&mut it)?;
    skip_comments(&mut it);
    if word(it.next()).map(|w| w.eq_ignore_ascii_case("by")) != Some(true) {
        return Err("no By-domain".into());
    }
    let (by, _) = ext_domain(&mut it)?;
    let mut st = Stamp {
        from: Some(from),
        tcp_info,
        by,
        with: None,
        id: None,
        for_path: None,
        extra: Vec::new(),
        date: String::new(),
    };
    // Opt-info = [Via] [With] [ID] [For] [Additional-Registered-Clauses], in this order.
    let order = ["via", "with", "id", "for"];
    let mut next = 0;
    loop {
        skip_comments(&mut it);
        let Some(t) = it.next() else { break };
        let Tok::Word(kw) = t else {
            return Err(format!("clause expected, got {t:?}"));
        };
        let k = kw.to_ascii_lowercase();
        match order.iter().position(|o| *o == k) {
            Some(n) if n >= next && st.extra.is_empty() => {
                next = n + 1;
                let v = it.next().ok_or("clause without value")?;
                match (k.as_str(), v) {
                    ("with", Tok::Word(w)) if is_atom(w) => st.with = Some(w.clone()),
                    ("id", Tok::Word(w)) if is_atom(w) => st.id = Some(w.clone()),
                    ("for", Tok::Angle(a)) => st.for_path = Some(a.clone()),
                    ("via", Tok::Word(w)) if is_atom(w) => {}
                    _ => return Err(format!("bad {k} value {v:?}")),
                }
            }
            Some(_) => return Err(format!("{k} out of order")),
            None if is_atom(&k) => match it.next() {
                Some(Tok::Word(w)) if is_atom(w) => st.extra.push((kw.clone(), w.clone())),
                v => return Err(format!("bad additional clause {kw} {v:?}")),
            },
            None => return Err(format!("bad clause keyword {kw}")),
        }
    }
    // date-time = [ day-of-week "," ] date time [CFWS], written here with the day name.
    let words: Vec<&str> = date
        .iter()
        .map(|t| match t {
            Tok::Word(w) => Ok(w.as_str()),
            t => Err(format!("bad date token {t:?}")),
        })
        .collect::<Result<_, _>>()?;
    let ok = words.len() == 6
        && ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"].contains(&words[0])
        && (1..=2).contains(&words[1].len())
        && words[1].bytes().all(|b| b.is_ascii_digit())
        && [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .contains(&words[2])
        && words[3].len() == 4
        && words[3].bytes().all(|b| b.is_ascii_digit())
        && words[4].len() == 8
        && words[4].bytes().enumerate().all(|(i, b)| {
            if i == 2 || i == 5 {
                b == b':'
            } else {
                b.is_ascii_digit()
            }
        })
        && words[5].len() == 5
        && (words[5].starts_with('+') || words[5].starts_with('-'))
        && words[5][1..].bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(format!("bad date-time {words:?}"));
    }
    st.date = words.join(" ");
    Ok(st)
}
