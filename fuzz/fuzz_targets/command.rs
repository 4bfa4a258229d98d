//! Arbitrary bytes into the command parser, under the strict and the lenient grammar.
//!
//! Asserts: no panic; whatever parses survives `into_owned`, encodes, and decodes back
//! (`decode_command`, same grammar) to an equal command with nothing left over; encoding
//! is a fixed point; the strict grammar never accepts what the lenient one refuses or
//! reads differently (lines without trailing spaces); `decode_command` agrees with
//! `parse_command` on the line before the first CRLF, and any shorter prefix is
//! `Incomplete`; an `EHLO [IPv6:...]` line gives the address the standard library's
//! `Ipv6Addr` parser reads from the same text, or is refused when that parser refuses it.
//!
//! Mode: the first byte's low bit set maps every further byte onto the RFC 5321 alphabet
//! (verb letters, `:<>@.[]"\=+, `, digits, tokens, some UTF-8), so the fuzzer reaches deep
//! into paths and parameters instead of dying at the verb.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::types::{AddressLiteral, Command, Host};
use smtp_sansio::{DecodeError, Grammar, decode_command, parse_command};
use std::net::Ipv6Addr;

/// Single bytes and whole terminals the mapped mode draws from.
const TOKENS: &[&[u8]] = &[
    b"E", b"H", b"L", b"O", b"M", b"A", b"I", b"R", b"C", b"P", b"T", b"D", b"S", b"Q", b"U",
    b"B", b"V", b"X", b"N", b"F", b"G", b"a", b"b", b"e", b"x", b"z", b"0", b"1", b"2", b"5",
    b"9", b":", b"<", b">", b"@", b".", b"[", b"]", b"\"", b"\\", b"=", b"+", b",", b" ",
    b" ", b"-", b"_", b";", b"\t", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xc3",
    b"\x00", b"\r", b"\n", b"\r\n", b"EHLO ", b"HELO ", b"LHLO ", b"MAIL FROM:", b"RCPT TO:",
    b"DATA", b"BDAT ", b" LAST", b"RSET", b"VRFY ", b"EXPN ", b"HELP", b"NOOP", b"QUIT",
    b"STARTTLS", b"AUTH ", b"PLAIN", b"<>", b"<Postmaster>", b"[IPv6:", b"::1", b"192.0.2.1",
    b"SIZE=", b"BODY=", b"8BITMIME", b"BINARYMIME", b"7BIT", b" SMTPUTF8", b"RET=FULL",
    b"RET=HDRS", b"ENVID=", b"AUTH=", b"NOTIFY=", b"SUCCESS", b"FAILURE", b"DELAY", b"NEVER",
    b"ORCPT=rfc822;", b" REQUIRETLS", b"MT-PRIORITY=", b"+2B", b"+3D", b"@a,@b:", b"example.org",
    b"user", b"\"q s\"", b"18446744073709551615", b"18446744073709551616",
    b"::", b"ffff", b"A", b"c", b"F", b"0.0.0.0", b"01",
];

fn mapped(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 2);
    for &b in data {
        out.extend_from_slice(TOKENS[usize::from(b) % TOKENS.len()]);
    }
    out
}

fn encode(c: &Command<'_>) -> Vec<u8> {
    let mut b = BytesMut::new();
    c.encode(&mut b);
    b.to_vec()
}

fn check_line(line: &[u8]) {
    let strict = Grammar::strict();
    let lenient = Grammar::lenient();
    let mut results = Vec::new();
    for g in [&strict, &lenient] {
        let r = parse_command(line, g);
        if let Ok(cmd) = &r {
            let owned = cmd.clone().into_owned();
            assert_eq!(&owned, cmd, "into_owned changed the value");
            let wire = encode(&owned);
            assert!(wire.ends_with(b"\r\n"));
            match decode_command(&wire, g) {
                Ok((rest, back)) => {
                    assert!(rest.is_empty(), "encode wrote more than one line: {wire:?}");
                    assert_eq!(back, owned, "round trip changed {line:?} -> {wire:?}");
                    assert_eq!(encode(&back), wire, "encoding is not a fixed point");
                }
                Err(e) => panic!(
                    "encoded form does not parse back ({e}):\n  input {:?}\n  wire  {:?}\n  value {owned:?}",
                    String::from_utf8_lossy(line),
                    String::from_utf8_lossy(&wire),
                ),
            }
            // The verb is reported in upper case for known commands.
            let v = owned.verb();
            assert!(!v.is_empty());
        }
        results.push(r);
    }
    check_ipv6(line, &results[0]);
    // Lenient accepts a superset of strict, with the same reading, except that it trims
    // trailing spaces (which changes free-form arguments).
    if let (Ok(s), false) = (&results[0], line.ends_with(b" ")) {
        match &results[1] {
            Ok(l) => assert_eq!(s, l, "strict and lenient read {line:?} differently"),
            Err(e) => panic!("strict accepts but lenient refuses ({e}): {line:?}"),
        }
    }
}

/// The project's IPv6 literal parser against `Ipv6Addr::from_str`, on EHLO lines.
fn check_ipv6(line: &[u8], strict: &Result<Command<'_>, DecodeError>) {
    let Some(text) = line
        .strip_prefix(b"EHLO [IPv6:")
        .and_then(|t| t.strip_suffix(b"]"))
        .filter(|t| t.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.'))
    else {
        return;
    };
    let want = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<Ipv6Addr>().ok());
    let got = match strict {
        Ok(Command::Ehlo(Host::Literal(AddressLiteral::Ipv6(a)))) => Some(*a),
        _ => None,
    };
    assert_eq!(got, want, "IPv6 literal {:?}", String::from_utf8_lossy(text));
}

fn check_stream(input: &[u8]) {
    let g = Grammar::lenient();
    let crlf = input.windows(2).position(|w| w == b"\r\n");
    let r = decode_command(input, &g);
    match crlf {
        None => assert_eq!(r, Err(DecodeError::Incomplete)),
        Some(p) => {
            let line = parse_command(&input[..p], &g);
            match (r, line) {
                (Ok((rest, a)), Ok(b)) => {
                    assert_eq!(a, b);
                    assert_eq!(rest, &input[p + 2..]);
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("decode_command {a:?} vs parse_command {b:?}"),
            }
            // A prefix that stops before the CRLF is complete is a state, not an error.
            for k in [p, p + 1, p / 2] {
                assert_eq!(decode_command(&input[..k], &g), Err(DecodeError::Incomplete));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = if mode & 1 == 1 { mapped(rest) } else { rest.to_vec() };
    // The first line alone, as the framer would hand it over.
    let first = input
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(&input[..], |p| &input[..p]);
    check_line(first);
    if first.len() != input.len() {
        check_line(&input);
    }
    check_stream(&input);
});
