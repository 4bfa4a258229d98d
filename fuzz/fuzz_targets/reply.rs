//! Arbitrary bytes into the reply parser.
//!
//! Asserts: no panic; every reply `decode_reply` takes from the stream re-encodes to bytes
//! that decode to an equal reply with nothing left over (and encoding is a fixed point);
//! a prefix cut before the last CRLF of a reply is `Incomplete`, never an error or a
//! different reply; every line `parse_reply_line` accepts re-formats to a line that parses
//! back equal; the accessors (`enhanced_status`, `text_lines`, `FromStr`) never panic and
//! agree with each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_sansio::types::Reply;
use smtp_sansio::{DecodeError, decode_reply, parse_reply_line};

fn check_reply(r: &Reply) {
    let wire = r.to_bytes();
    let (rest, back) = decode_reply(&wire)
        .unwrap_or_else(|e| panic!("encoded reply does not parse ({e}): {wire:?}"));
    assert!(rest.is_empty(), "encode wrote more than one reply: {wire:?}");
    assert_eq!(&back, r, "round trip changed the reply: {wire:?}");
    assert_eq!(back.to_bytes(), wire, "encoding is not a fixed point");
    assert!(!r.lines().is_empty());
    let texts: Vec<&str> = r.text_lines().collect();
    assert_eq!(texts.len(), r.lines().len());
    if let Some(st) = r.enhanced_status() {
        assert_eq!(st.class(), r.code().class());
    }
    // FromStr reads the wire form back (its CRLF may be left off).
    if let Ok(s) = std::str::from_utf8(&wire) {
        let parsed: Reply = s.parse().expect("FromStr refuses an encoded reply");
        assert_eq!(&parsed, r);
        let trimmed = &s[..s.len() - 2];
        let parsed: Reply = trimmed.parse().expect("FromStr refuses a reply without CRLF");
        assert_eq!(&parsed, r);
    }
}

fuzz_target!(|data: &[u8]| {
    // Single lines.
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Ok(l) = parse_reply_line(line) {
            let mut again = l.code.get().to_string().into_bytes();
            again.push(if l.last { b' ' } else { b'-' });
            again.extend_from_slice(l.text);
            assert_eq!(parse_reply_line(&again), Ok(l), "{line:?} vs {again:?}");
            assert!(line.ends_with(l.text));
            assert!((200..=599).contains(&l.code.get()));
        }
    }

    // The stream as a sequence of replies.
    let mut input = data;
    let mut n = 0;
    while n < 64 {
        match decode_reply(input) {
            Ok((rest, reply)) => {
                let used = input.len() - rest.len();
                assert!(used >= 5 && input[..used].ends_with(b"\r\n"));
                check_reply(&reply);
                // Incomplete input is a state: cutting before the final CRLF never errs.
                for k in [used - 1, used - 2, used / 2] {
                    assert_eq!(
                        decode_reply(&input[..k]),
                        Err(DecodeError::Incomplete),
                        "prefix {k} of {:?}",
                        &input[..used]
                    );
                }
                assert_eq!(decode_reply(&input[..used]), Ok((&b""[..], reply)));
                input = rest;
                n += 1;
            }
            Err(DecodeError::Incomplete) => {
                assert!(!input.windows(2).any(|w| w == b"\r\n") || input.len() >= 2);
                break;
            }
            Err(_) => break,
        }
    }
});
