//! The value types' own contracts, one by one: accessors, case rules of equality and
//! hashing, `Display`, the ASCII checks that decide SMTPUTF8. (Parsing and encoding of
//! whole commands and replies are in `grammar_*.rs`, `reply_grammar.rs` and `roundtrip.rs`.)

use std::borrow::Cow;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use smtp_sansio::types::{Domain, ForwardPath, Host, LocalPart, Mailbox, Param, ReversePath};

fn hash_of<T: Hash>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

#[test]
fn domain_compares_and_hashes_without_case_and_keeps_its_spelling() {
    let a = Domain::new("Mail.Example.ORG").unwrap();
    let b = Domain::new("mail.example.org").unwrap();
    let c = Domain::new("mail.example.net").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(hash_of(&a), hash_of(&b));
    assert_ne!(hash_of(&a), hash_of(&c));
    assert_eq!(a.to_string(), "Mail.Example.ORG");
    assert_eq!(a.as_str(), "Mail.Example.ORG");
}

#[test]
fn ascii_checks_see_u_labels_and_utf8_local_parts() {
    let ascii = Domain::new("example.org").unwrap();
    let idn = Domain::new("b\u{fc}cher.example").unwrap();
    assert!(ascii.is_ascii());
    assert!(!idn.is_ascii());
    assert!(Host::Domain(ascii.clone()).is_ascii());
    assert!(!Host::Domain(idn.clone()).is_ascii());
    let lit = Mailbox::parse("a@[192.0.2.1]").unwrap();
    assert!(lit.host().is_ascii());

    let plain = Mailbox::new(LocalPart::new("a").unwrap(), Host::Domain(ascii.clone()));
    let utf8_local = Mailbox::new(LocalPart::new("j\u{f6}rg").unwrap(), Host::Domain(ascii));
    let utf8_host = Mailbox::new(LocalPart::new("a").unwrap(), Host::Domain(idn));
    assert!(plain.is_ascii());
    assert!(!utf8_local.is_ascii());
    assert!(!utf8_host.is_ascii());
    assert!(ReversePath::Null.is_ascii());
    assert!(ReversePath::Mailbox(plain.clone()).is_ascii());
    assert!(!ReversePath::Mailbox(utf8_local.clone()).is_ascii());
    assert!(ForwardPath::Mailbox(plain).is_ascii());
    assert!(!ForwardPath::Mailbox(utf8_host).is_ascii());
}

#[test]
fn unknown_param_keeps_keyword_and_value() {
    let p = Param::new("X-Trace", Some(Cow::Borrowed("abc=1"))).unwrap_err();
    // `=` is not an esmtp-value character.
    assert!(p.to_string().contains("esmtp-value"), "{p}");
    let p = Param::new("X-Trace", Some(Cow::Borrowed("abc"))).unwrap();
    assert_eq!(p.keyword(), "X-Trace");
    assert_eq!(p.value(), Some("abc"));
    let flag = Param::new("X-FLAG", None).unwrap();
    assert_eq!(flag.keyword(), "X-FLAG");
    assert_eq!(flag.value(), None);
}

#[test]
fn params_know_when_they_are_empty() {
    use smtp_sansio::types::{MailParams, Notify, RcptParams};
    assert!(RcptParams::default().is_empty());
    let mut r = RcptParams::default();
    r.notify = Some(Notify::Never);
    assert!(!r.is_empty());
    let mut r = RcptParams::default();
    r.other.push(Param::new("X-A", None).unwrap());
    assert!(!r.is_empty());
    assert!(MailParams::default().is_empty());
    let mut m = MailParams::default();
    m.smtputf8 = true;
    assert!(!m.is_empty());
}

#[test]
fn body_displays_its_keyword_value() {
    use smtp_sansio::types::Body;
    assert_eq!(Body::SevenBit.to_string(), "7BIT");
    assert_eq!(Body::EightBitMime.to_string(), "8BITMIME");
    assert_eq!(Body::BinaryMime.to_string(), "BINARYMIME");
}

#[test]
fn capabilities_report_exactly_what_was_offered() {
    use smtp_sansio::decode_reply;
    use smtp_sansio::types::Capabilities;
    let caps = |ehlo: &str| {
        let (_, r) = decode_reply(ehlo.as_bytes()).unwrap();
        Capabilities::from_reply(&r)
    };
    let none = caps("250 mx.example\r\n");
    let all = caps(
        "250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-CHUNKING\r\n250-8BITMIME\r\n\
         250-BINARYMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250 REQUIRETLS\r\n",
    );
    type Check = (&'static str, fn(&Capabilities) -> bool);
    let checks: [Check; 9] = [
        ("PIPELINING", Capabilities::pipelining),
        ("STARTTLS", Capabilities::starttls),
        ("CHUNKING", Capabilities::chunking),
        ("8BITMIME", Capabilities::eight_bit_mime),
        ("BINARYMIME", Capabilities::binary_mime),
        ("SMTPUTF8", Capabilities::smtputf8),
        ("DSN", Capabilities::dsn),
        ("ENHANCEDSTATUSCODES", Capabilities::enhanced_status_codes),
        ("REQUIRETLS", Capabilities::requiretls),
    ];
    for (name, has) in checks {
        assert!(!has(&none), "{name} reported without being offered");
        assert!(has(&all), "{name} offered but not reported");
        // Offered alone, it is the only one reported.
        let one = caps(&format!("250-mx.example\r\n250 {name}\r\n"));
        for (other, has_other) in checks {
            assert_eq!(
                has_other(&one),
                other == name,
                "{other} with only {name} offered"
            );
        }
    }
}

#[test]
fn mechanism_displays_and_initial_response_stays_redacted() {
    use smtp_sansio::types::{InitialResponse, Mechanism};
    let m = Mechanism::new("cram-md5").unwrap();
    assert_eq!(m.to_string(), "CRAM-MD5");
    let ir = InitialResponse::new("AGFsaWNlAHNlY3JldA==").unwrap();
    let dbg = format!("{ir:?}");
    assert!(!dbg.contains("AGFsaWNl"), "{dbg}");
    assert!(dbg.contains("redacted"), "{dbg}");
    assert_eq!(ir.expose(), "AGFsaWNlAHNlY3JldA==");
}

#[test]
fn reply_code_classes_and_display() {
    use smtp_sansio::types::ReplyCode;
    for (code, class) in [(250, 2), (354, 3), (421, 4), (550, 5)] {
        let c = ReplyCode::new(code).unwrap();
        assert_eq!(c.to_string(), code.to_string());
        assert_eq!(c.class(), class);
        assert_eq!(c.is_positive(), class == 2, "{code}");
        assert_eq!(c.is_intermediate(), class == 3, "{code}");
        assert_eq!(c.is_transient(), class == 4, "{code}");
        assert_eq!(c.is_permanent(), class == 5, "{code}");
    }
}

#[test]
fn enhanced_status_is_read_from_reply_text() {
    use smtp_sansio::decode_reply;
    for (wire, want) in [
        ("250 2.1.5 Recipient OK\r\n", Some((2, 1, 5))),
        ("550 5.7.1 Relaying denied\r\n", Some((5, 7, 1))),
        ("452 4.5.3 Too many recipients\r\n", Some((4, 5, 3))),
        ("554 5.123.999 Odd but valid\r\n", Some((5, 123, 999))),
        ("250 OK\r\n", None),
    ] {
        let (_, r) = decode_reply(wire.as_bytes()).unwrap();
        let got = r
            .enhanced_status()
            .map(|s| (s.class(), s.subject(), s.detail()));
        assert_eq!(got, want, "{wire:?}");
    }
}

#[test]
fn reply_displays_every_line_and_from_str_takes_exactly_one_reply() {
    use smtp_sansio::error::{DecodeError, SyntaxErrorKind};
    use smtp_sansio::types::Reply;
    let r: Reply = "550-5.7.1 first\r\n550 5.7.1 second".parse().unwrap();
    assert_eq!(r.to_string(), "550 5.7.1 first / 550 5.7.1 second");
    let one: Reply = "250 OK".parse().unwrap();
    assert_eq!(one.to_string(), "250 OK");
    // Two replies: the error points at the second.
    let e = "250 ok\r\n250 b".parse::<Reply>().unwrap_err();
    assert_eq!(
        e,
        DecodeError::Syntax {
            offset: 8,
            kind: SyntaxErrorKind::Reply
        }
    );
}

#[test]
fn local_parts_compare_hash_and_debug_byte_for_byte() {
    let a = LocalPart::new("Alice").unwrap();
    let b = LocalPart::new("alice").unwrap();
    let a2 = LocalPart::new(String::from("Alice")).unwrap();
    // Only the destination may fold a local part's case (RFC 5321 2.4).
    assert_ne!(a, b);
    assert_eq!(a, a2);
    assert_ne!(hash_of(&a), hash_of(&b));
    assert_eq!(hash_of(&a), hash_of(&a2));
    assert_eq!(format!("{a:?}"), "LocalPart(\"Alice\")");
}

/// The codec layer's types validate with the shared lexical rules and never reach into
/// the grammar: `types/` builds nothing from `syntax/`, so the two cannot import each
/// other in a cycle (parsing entry points on the types live in `syntax/`).
#[test]
fn types_never_import_the_grammar() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/types");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        for (n, line) in src.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            assert!(
                !code.contains("syntax"),
                "{}:{}: {line}",
                path.display(),
                n + 1
            );
        }
        seen += 1;
    }
    assert!(seen >= 5, "read {seen} files of src/types");
}
