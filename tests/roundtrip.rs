//! `decode(encode(x)) == x` for everything the public constructors can build, and
//! "never panics, and what parses re-encodes to itself" for arbitrary bytes.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::sample::select;

use smtp_sansio::types::{
    AddressLiteral, Argument, Body, Capabilities, Capability, Command, Domain, EhloParam,
    EnhancedStatus, ForwardPath, Host, InitialResponse, LocalPart, MailAuth, MailParams, Mailbox,
    Mechanism, MtPriority, Notify, Orcpt, Param, RcptParams, Reply, ReplyCode, Ret, ReversePath,
    Text, XText,
};
use smtp_sansio::{
    DecodeError, Grammar, decode_command, decode_reply, parse_command, parse_reply_line,
};

/// Bytes as an escaped string for failure messages.
fn esc(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

const KNOWN_VERBS: &[&str] = &[
    "EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "VRFY", "EXPN", "HELP", "NOOP",
    "QUIT", "STARTTLS", "AUTH",
];

const MAIL_KEYWORDS: &[&str] = &[
    "SIZE",
    "BODY",
    "SMTPUTF8",
    "RET",
    "ENVID",
    "AUTH",
    "REQUIRETLS",
    "MT-PRIORITY",
];

const RCPT_KEYWORDS: &[&str] = &["NOTIFY", "ORCPT"];

// ---------------------------------------------------------------------------------------
// Addresses

/// One label: ASCII letter-digit-hyphen or U-labels, built to pass `Domain::new`.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?",
        1 => "[a-z0-9äöüßé日本語δ]([a-z0-9äöüßé日本語δ-]{0,6}[a-z0-9äöüßé日本語δ])?",
    ]
}

fn domain() -> impl Strategy<Value = Domain<'static>> {
    prop::collection::vec(label(), 1..5).prop_map(|ls| {
        let s = ls.join(".");
        Domain::new(s.clone()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    })
}

fn address_literal() -> impl Strategy<Value = AddressLiteral<'static>> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| AddressLiteral::Ipv4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| AddressLiteral::Ipv6(Ipv6Addr::from(a))),
        // Small numbers too, so that the `::` and IPv4-mapped text forms show up.
        (any::<u16>(), 0usize..8).prop_map(|(v, at)| {
            let mut seg = [0u16; 8];
            seg[at] = v;
            AddressLiteral::Ipv6(Ipv6Addr::from(seg))
        }),
        any::<[u8; 4]>().prop_map(|a| AddressLiteral::Ipv6(Ipv4Addr::from(a).to_ipv6_mapped())),
        (
            "-?[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?",
            "[!-Z^-~]{1,12}"
        )
            .prop_filter_map("general literal", |(t, c)| AddressLiteral::general(t, c)
                .ok()),
    ]
}

fn host() -> impl Strategy<Value = Host<'static>> {
    prop_oneof![
        3 => domain().prop_map(Host::Domain),
        1 => address_literal().prop_map(Host::Literal),
    ]
}

/// `atext` plus some UTF-8.
const ATEXT: &str = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~äöü日-]";

fn local_part() -> impl Strategy<Value = LocalPart<'static>> {
    let atom = prop::string::string_regex(&format!("{ATEXT}{{1,6}}")).unwrap();
    prop_oneof![
        prop::collection::vec(atom, 1..4).prop_map(|a| LocalPart::new(a.join(".")).unwrap()),
        // Anything printable, quoted where needed.
        "[ -~äöü日]{0,12}".prop_map(|s| {
            let lp = LocalPart::quote(&s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(lp.unquoted(), s.as_str());
            lp
        }),
    ]
}

fn mailbox() -> impl Strategy<Value = Mailbox<'static>> {
    (local_part(), host()).prop_map(|(l, h)| Mailbox::new(l, h))
}

fn reverse_path() -> impl Strategy<Value = ReversePath<'static>> {
    prop_oneof![1 => Just(ReversePath::Null), 4 => mailbox().prop_map(ReversePath::Mailbox)]
}

fn forward_path() -> impl Strategy<Value = ForwardPath<'static>> {
    prop_oneof![1 => Just(ForwardPath::Postmaster), 4 => mailbox().prop_map(ForwardPath::Mailbox)]
}

// ---------------------------------------------------------------------------------------
// Parameters

fn xtext(max_chars: usize) -> impl Strategy<Value = XText<'static>> {
    prop_oneof![
        Just("<>".to_owned()),
        Just("+".to_owned()),
        Just("=".to_owned()),
        "[!-~]{1,20}",
        prop::string::string_regex(&format!("(?s:.{{1,{max_chars}}})")).unwrap(),
    ]
    .prop_map(|s| XText::new(s).unwrap())
}

/// Unknown parameters with distinct keywords, none of them typed in `known`.
fn others(known: &'static [&'static str]) -> impl Strategy<Value = Vec<Param<'static>>> {
    let one = (
        "[A-Za-z0-9][A-Za-z0-9-]{0,10}",
        prop::option::of("[!-<>-~äöü]{1,10}"),
    )
        .prop_filter_map("unknown esmtp-param", move |(k, v)| {
            if known.iter().any(|n| n.eq_ignore_ascii_case(&k)) {
                return None;
            }
            Param::new(k, v.map(Cow::Owned)).ok()
        });
    prop::collection::vec(one, 0..4).prop_map(|mut v| {
        let mut seen = Vec::<String>::new();
        v.retain(|p| {
            let k = p.keyword().to_ascii_uppercase();
            let fresh = !seen.contains(&k);
            seen.push(k);
            fresh
        });
        v
    })
}

fn mail_params() -> impl Strategy<Value = MailParams<'static>> {
    let body = prop::option::of(select(vec![
        Body::SevenBit,
        Body::EightBitMime,
        Body::BinaryMime,
    ]));
    let ret = prop::option::of(select(vec![Ret::Full, Ret::Hdrs]));
    // RFC 3461 4.4: ENVID is at most 100 characters; 25 chars of UTF-8 stay below that.
    let auth = prop::option::of(prop_oneof![
        1 => Just(MailAuth::Unknown),
        3 => xtext(40).prop_map(MailAuth::Identity),
    ]);
    (
        (prop::option::of(any::<u64>()), body, any::<bool>(), ret),
        (prop::option::of(xtext(25)), auth, any::<bool>()),
        (
            prop::option::of((-9i8..=9).prop_map(|v| MtPriority::new(v).unwrap())),
            others(MAIL_KEYWORDS),
        ),
    )
        .prop_map(
            |((size, body, smtputf8, ret), (envid, auth, requiretls), (mt_priority, other))| {
                let mut p = MailParams::default();
                p.size = size;
                p.body = body;
                p.smtputf8 = smtputf8;
                p.ret = ret;
                p.envid = envid;
                p.auth = auth;
                p.requiretls = requiretls;
                p.mt_priority = mt_priority;
                p.other = other;
                p
            },
        )
}

fn notify() -> impl Strategy<Value = Notify> {
    prop_oneof![
        Just(Notify::Never),
        (any::<bool>(), any::<bool>(), any::<bool>())
            .prop_filter_map("at least one condition", |(s, f, d)| Notify::on(s, f, d)
                .ok()),
    ]
}

fn orcpt() -> impl Strategy<Value = Orcpt<'static>> {
    // Candidates from all of RFC 5322 `atext` (and a few bytes beyond it): whatever the
    // constructor lets through must survive the wire.
    ("[a-zA-Z0-9!#$%&'*+/=?^_`{|}~;()ü-]{1,10}", xtext(40))
        .prop_filter_map("ORCPT addr-type", |(t, x)| Orcpt::new(t, x).ok())
}

fn rcpt_params() -> impl Strategy<Value = RcptParams<'static>> {
    (
        prop::option::of(notify()),
        prop::option::of(orcpt()),
        others(RCPT_KEYWORDS),
    )
        .prop_map(|(notify, orcpt, other)| {
            let mut p = RcptParams::default();
            p.notify = notify;
            p.orcpt = orcpt;
            p.other = other;
            p
        })
}

// ---------------------------------------------------------------------------------------
// Commands

fn argument() -> impl Strategy<Value = Argument<'static>> {
    "[!-~äöü][ -~\täöü]{0,20}".prop_filter_map("argument", |s| Argument::new(s).ok())
}

fn mechanism() -> impl Strategy<Value = Mechanism<'static>> {
    "[A-Za-z0-9_-]{1,20}".prop_map(|s| Mechanism::new(s).unwrap())
}

fn initial_response() -> impl Strategy<Value = InitialResponse<'static>> {
    prop_oneof![Just("=".to_owned()), "[A-Za-z0-9+/]{1,60}={0,2}"]
        .prop_map(|s| InitialResponse::new(s).unwrap())
}

fn other_verb() -> impl Strategy<Value = Command<'static>> {
    let verb = "[A-Za-z0-9-]{0,10}[A-Za-z0-9]".prop_filter("unknown verb", |v| {
        !KNOWN_VERBS.iter().any(|k| k.eq_ignore_ascii_case(v))
    });
    // Arguments: whatever `Argument::new` accepts (printable text, no edge spaces).
    let args = prop::option::of("[^\0\r\n]{0,20}[^\0\r\n ]").prop_filter_map(
        "valid argument",
        |a| match a {
            None => Some(None),
            Some(a) => Argument::new(a).ok().map(Some),
        },
    );
    (verb, args).prop_filter_map("valid verb", |(verb, args)| {
        Command::other(&verb, args.as_ref().map(|a| a.as_str()))
            .ok()
            .map(Command::into_owned)
    })
}

fn command() -> impl Strategy<Value = Command<'static>> {
    prop_oneof![
        1 => host().prop_map(Command::Ehlo),
        1 => host().prop_map(Command::Helo),
        1 => host().prop_map(Command::Lhlo),
        3 => (reverse_path(), mail_params()).prop_map(|(from, params)| Command::Mail { from, params }),
        3 => (forward_path(), rcpt_params()).prop_map(|(to, params)| Command::Rcpt { to, params }),
        1 => Just(Command::Data),
        1 => (any::<u64>(), any::<bool>()).prop_map(|(size, last)| Command::Bdat { size, last }),
        1 => (0u64..10, any::<bool>()).prop_map(|(size, last)| Command::Bdat { size, last }),
        1 => Just(Command::Rset),
        1 => argument().prop_map(Command::Vrfy),
        1 => argument().prop_map(Command::Expn),
        1 => prop::option::of(argument()).prop_map(Command::Help),
        1 => prop::option::of(argument()).prop_map(Command::Noop),
        1 => Just(Command::Quit),
        1 => Just(Command::StartTls),
        1 => (mechanism(), prop::option::of(initial_response()))
            .prop_map(|(mechanism, initial_response)| Command::Auth { mechanism, initial_response }),
        2 => other_verb(),
    ]
}

fn encode_command(c: &Command<'_>) -> BytesMut {
    let mut out = BytesMut::new();
    c.encode(&mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Replies and capabilities

fn reply_code() -> impl Strategy<Value = ReplyCode> {
    (2u16..=5, 0u16..=5, 0u16..=9)
        .prop_map(|(a, b, c)| ReplyCode::new(a * 100 + b * 10 + c).unwrap())
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![Just(String::new()), "[ -~]{0,30}", "[^\r\n]{0,30}",]
        .prop_map(|s| Text::new(s).unwrap())
}

fn enhanced_status() -> impl Strategy<Value = EnhancedStatus> {
    (select(vec![2u8, 4, 5]), 0u16..=999, 0u16..=999)
        .prop_map(|(c, s, d)| EnhancedStatus::new(c, s, d).unwrap())
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (reply_code(), text()).prop_map(|(c, t)| Reply::new(c, t)),
        (
            reply_code(),
            enhanced_status(),
            prop::collection::vec(text(), 0..4)
        )
            .prop_map(|(c, st, ls)| Reply::with_status(c, st, ls)),
        (reply_code(), prop::collection::vec(text(), 0..6))
            .prop_map(|(c, ls)| Reply::from_lines(c, ls)),
    ]
}

fn ehlo_param() -> impl Strategy<Value = String> {
    "[!-~]{1,10}"
}

fn capability() -> impl Strategy<Value = Capability<'static>> {
    prop_oneof![
        1 => prop::option::of(any::<u64>()).prop_map(Capability::Size),
        1 => Just(Capability::Pipelining),
        1 => Just(Capability::EightBitMime),
        1 => Just(Capability::SmtpUtf8),
        1 => Just(Capability::StartTls),
        1 => prop::collection::vec(mechanism(), 0..4).prop_map(Capability::Auth),
        1 => Just(Capability::Chunking),
        1 => Just(Capability::BinaryMime),
        1 => Just(Capability::Dsn),
        1 => Just(Capability::EnhancedStatusCodes),
        1 => Just(Capability::RequireTls),
        1 => prop::option::of(ehlo_param())
            .prop_map(|p| Capability::MtPriority(p.map(|p| EhloParam::new(p).unwrap()))),
        1 => Just(Capability::Vrfy),
        1 => Just(Capability::Expn),
        1 => Just(Capability::Help),
        3 => ("[A-Za-z0-9][A-Za-z0-9-]{0,10}", prop::collection::vec(ehlo_param(), 0..4))
            .prop_filter_map("unknown keyword", |(k, ps)| {
                let ps: Vec<&str> = ps.iter().map(String::as_str).collect();
                Capability::other(&k, &ps).ok()
            }),
    ]
}

fn capabilities() -> impl Strategy<Value = Capabilities> {
    (text(), prop::collection::vec(capability(), 0..8)).prop_map(|(g, l)| Capabilities::new(g, l))
}

// ---------------------------------------------------------------------------------------
// Arbitrary input

/// Bytes that look enough like SMTP to reach deep into the grammar.
fn smtpish_line() -> impl Strategy<Value = Vec<u8>> {
    let heads: Vec<&'static [u8]> = vec![
        b"EHLO ",
        b"HELO ",
        b"LHLO ",
        b"MAIL FROM:",
        b"mail from: ",
        b"RCPT TO:",
        b"rcpt to:<",
        b"DATA",
        b"BDAT ",
        b"RSET",
        b"VRFY ",
        b"EXPN ",
        b"HELP",
        b"NOOP ",
        b"QUIT",
        b"STARTTLS",
        b"AUTH ",
        b"XFOO ",
        b"",
    ];
    let pieces: Vec<&'static [u8]> = vec![
        b"<",
        b">",
        b"<>",
        b"@",
        b"a",
        b"B",
        b"1",
        b"9",
        b".",
        b"-",
        b"_",
        b" ",
        b" ",
        b":",
        b",",
        b"\"",
        b"\\",
        b"[",
        b"]",
        b"IPv6:",
        b"::",
        b"192.0.2.1",
        b"=",
        b"+",
        b"+2B",
        b"SIZE=",
        b"BODY=8BITMIME",
        b"SMTPUTF8",
        b"RET=HDRS",
        b"ENVID=",
        b"AUTH=",
        b"<>",
        b"REQUIRETLS",
        b"MT-PRIORITY=",
        b"NOTIFY=",
        b"SUCCESS",
        b",DELAY",
        b"NEVER",
        b"ORCPT=",
        b"rfc822;",
        b"LAST",
        b"PLAIN",
        b"\xc3\xbc",
        b"\xff",
        b"\t",
        b"\0",
        b"\r",
        b"\n",
        b"Postmaster",
        b"@x,@y:",
    ];
    (select(heads), prop::collection::vec(select(pieces), 0..16)).prop_map(|(h, ps)| {
        let mut v = h.to_vec();
        for p in ps {
            v.extend_from_slice(p);
        }
        v
    })
}

fn any_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        3 => smtpish_line(),
    ]
}

fn replyish() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"250",
        b"251",
        b"550",
        b"199",
        b"600",
        b"25x",
        b" ",
        b"-",
        b"OK",
        b"2.1.0",
        b"\r\n",
        b"\r",
        b"\n",
        b"\xff",
        b"PIPELINING",
        b"SIZE 10",
        b"AUTH PLAIN",
    ];
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        3 => prop::collection::vec(select(pieces), 0..12).prop_map(|ps| ps.concat()),
    ]
}

// ---------------------------------------------------------------------------------------
// Properties

/// 512 cases unless `PROPTEST_CASES` asks for another number (for longer local runs).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn command_roundtrip(cmd in command()) {
        let wire = encode_command(&cmd);
        prop_assert!(wire.ends_with(b"\r\n"));
        for g in [Grammar::strict(), Grammar::lenient()] {
            match decode_command(&wire, &g) {
                Ok((rest, back)) => {
                    prop_assert!(rest.is_empty(), "remainder \"{}\"", esc(rest));
                    prop_assert_eq!(&back, &cmd, "\"{}\" {:?}", esc(&wire), g);
                    // Borrowed or owned, the value is the same.
                    prop_assert_eq!(&back.into_owned(), &cmd);
                }
                Err(e) => prop_assert!(false, "\"{}\" {:?}: {}", esc(&wire), g, e),
            }
        }
        // Every proper prefix is incomplete.
        for n in [0, wire.len() / 2, wire.len() - 1] {
            prop_assert_eq!(decode_command(&wire[..n], &Grammar::strict()), Err(DecodeError::Incomplete));
        }
        // Followed by more input, the remainder is that input.
        let mut two = wire.clone();
        two.extend_from_slice(b"QUIT\r\n");
        let (rest, back) = decode_command(&two, &Grammar::strict()).unwrap();
        prop_assert_eq!(rest, &b"QUIT\r\n"[..]);
        prop_assert_eq!(back, cmd);
    }

    #[test]
    fn reply_roundtrip(reply in reply()) {
        let wire = reply.to_bytes();
        let (rest, back) = decode_reply(&wire).map_err(|e| TestCaseError::fail(format!("\"{}\": {e}", esc(&wire))))?;
        prop_assert!(rest.is_empty());
        prop_assert_eq!(&back, &reply, "\"{}\"", esc(&wire));
        prop_assert_eq!(decode_reply(&wire[..wire.len() - 1]), Err(DecodeError::Incomplete));
        let mut more = wire.clone();
        more.extend_from_slice(b"221 bye\r\n");
        let (rest, back) = decode_reply(&more).unwrap();
        prop_assert_eq!(rest, &b"221 bye\r\n"[..]);
        prop_assert_eq!(back, reply);
    }

    #[test]
    fn reply_status_reads_back(code in reply_code(), st in enhanced_status(), ls in prop::collection::vec(text(), 1..4)) {
        let reply = Reply::with_status(code, st, ls.clone());
        let (_, back) = decode_reply(&reply.to_bytes()).unwrap();
        if st.class() == code.class() {
            prop_assert_eq!(back.enhanced_status(), Some(st));
            let got: Vec<&str> = back.text_lines().collect();
            let want: Vec<&str> = ls.iter().map(Text::as_str).collect();
            prop_assert_eq!(got, want);
        } else {
            prop_assert_eq!(back.enhanced_status(), None);
        }
    }

    #[test]
    fn capabilities_roundtrip(caps in capabilities()) {
        let wire = caps.to_reply().to_bytes();
        let (rest, reply) = decode_reply(&wire).map_err(|e| TestCaseError::fail(format!("\"{}\": {e}", esc(&wire))))?;
        prop_assert!(rest.is_empty());
        prop_assert_eq!(reply.code(), ReplyCode::OK);
        prop_assert_eq!(Capabilities::from_reply(&reply), caps, "\"{}\"", esc(&wire));
    }

    #[test]
    fn arbitrary_command_lines(line in any_line()) {
        for g in [Grammar::strict(), Grammar::lenient()] {
            let Ok(cmd) = parse_command(&line, &g) else { continue };
            let cmd = cmd.into_owned();
            let wire = encode_command(&cmd);
            match decode_command(&wire, &g) {
                Ok((rest, back)) => {
                    prop_assert!(rest.is_empty());
                    prop_assert_eq!(&back, &cmd, "\"{}\" -> \"{}\"", esc(&line), esc(&wire));
                }
                Err(e) => prop_assert!(false, "\"{}\" -> \"{}\": {}", esc(&line), esc(&wire), e),
            }
        }
        // Framed: same answer as the bare line when the line has no LF of its own.
        let mut framed = line.clone();
        framed.extend_from_slice(b"\r\n");
        let framed_result = decode_command(&framed, &Grammar::lenient());
        if !line.contains(&b'\n') {
            let bare = parse_command(&line, &Grammar::lenient());
            prop_assert_eq!(framed_result.map(|(r, c)| (r.len(), c)), bare.map(|c| (0, c)));
        }
    }

    #[test]
    fn arbitrary_reply_bytes(input in replyish()) {
        if let Ok((rest, reply)) = decode_reply(&input) {
            prop_assert!(input.ends_with(rest));
            let wire = reply.to_bytes();
            let (rest2, back) = decode_reply(&wire).unwrap();
            prop_assert!(rest2.is_empty());
            prop_assert_eq!(back, reply, "\"{}\"", esc(&input));
        }
        let line = input.split(|&b| b == b'\n').next().unwrap_or_default();
        if let Ok(l) = parse_reply_line(line) {
            let mut again = l.code.get().to_string().into_bytes();
            again.push(if l.last { b' ' } else { b'-' });
            again.extend_from_slice(l.text);
            let back = parse_reply_line(&again).unwrap();
            prop_assert_eq!(back, l, "\"{}\"", esc(line));
        }
    }
}
