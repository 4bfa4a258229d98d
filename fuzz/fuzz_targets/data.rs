//! Message bodies: dot-stuffing (client side), DATA decoding (server side), BDAT counting.
//!
//! Asserts:
//! * `dot_stuff(body)` equals a `DotStuffer` fed the body in arbitrary pieces;
//! * the stuffed output holds `CRLF . CRLF` only as its last five bytes (and starts with
//!   `. CRLF` only for the empty body): nothing in a body can end DATA early;
//! * `DataDecoder` (either bare-line-ending policy) fed the stuffed bytes in arbitrary
//!   pieces ends exactly at the last byte and yields the body with its line endings
//!   normalised to CRLF and a final CRLF added, flagging no bare line ending;
//! * arbitrary raw input gives identical output fed whole or in arbitrary pieces
//!   (body, end, leftover, flags), and fed through `DataDecoder::push` (which checks
//!   while it copies) as through `extend_from_slice`; it ends exactly at the first `CRLF . CRLF` (or a
//!   leading `. CRLF`) and nowhere else, and holds back at most 2 bytes on `NeedMore`;
//! * `BdatDecoder` hands out exactly `size` octets, whatever the pieces.
#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::data::{BareLineEndings, BdatDecoder, DataDecoder, DataStep, DotStuffer, dot_stuff};

#[derive(Arbitrary, Debug)]
struct Input {
    body: Vec<u8>,
    push_cuts: Vec<u16>,
    dec_cuts: Vec<u16>,
    normalize: bool,
    max_line: Option<u16>,
    bdat_size: u16,
}

fn pieces<'a>(data: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for p in at {
        out.push(&data[prev..p]);
        prev = p;
    }
    out.push(&data[prev..]);
    out
}

/// Bare CR, bare LF and CRLF all become CRLF, as the stuffer writes them.
fn normalise(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            (b'\r' | b'\n', _) => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[derive(Debug, PartialEq)]
struct Decoded {
    body: Vec<u8>,
    /// Input bytes fed when `End` came, counting from the start.
    ended_at: Option<usize>,
    rest: Vec<u8>,
    bare: bool,
    long: bool,
}

/// Feeds `parts` by `extend_from_slice`, or by `DataDecoder::push` (which checks
/// while it copies) when `push` is set.
fn decode_by(policy: BareLineEndings, max: Option<usize>, parts: &[&[u8]], push: bool) -> Decoded {
    let mut dec = DataDecoder::new(policy, max);
    let mut buf = BytesMut::new();
    let mut body = Vec::new();
    let mut fed = 0usize;
    let mut ended_at = None;
    for part in parts {
        match push {
            true => dec.push(part, &mut buf),
            false => buf.extend_from_slice(part),
        }
        fed += part.len();
        if ended_at.is_some() {
            continue;
        }
        loop {
            match dec.next(&mut buf) {
                DataStep::NeedMore => {
                    assert!(buf.len() <= 2, "NeedMore holding back {:?}", &buf[..]);
                    break;
                }
                DataStep::Chunk(c) => {
                    assert!(!c.is_empty(), "empty chunk");
                    body.extend_from_slice(&c);
                }
                DataStep::End => {
                    assert!(dec.is_done());
                    ended_at = Some(fed - buf.len());
                    break;
                }
                _ => unreachable!(),
            }
        }
    }
    if ended_at.is_some() {
        // Done stays done and leaves the rest alone.
        let before = buf.len();
        assert_eq!(dec.next(&mut buf), DataStep::End);
        assert_eq!(buf.len(), before);
    }
    Decoded {
        body,
        ended_at,
        rest: buf.to_vec(),
        bare: dec.saw_bare_line_ending(),
        long: dec.saw_long_line(),
    }
}

fn decode(policy: BareLineEndings, max: Option<usize>, parts: &[&[u8]]) -> Decoded {
    decode_by(policy, max, parts, false)
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fuzz_target!(|inp: Input| {
    let policy = if inp.normalize {
        BareLineEndings::Normalize
    } else {
        BareLineEndings::Reject
    };
    // Limits from 0 to past 1000, so that lines both shorter and longer than the
    // block check's reach (two 256-octet blocks) meet them.
    let max = inp.max_line.map(|m| usize::from(m % 1200));

    // 1. Stuff, then decode.
    let whole = dot_stuff(&inp.body);
    let mut st = DotStuffer::new();
    let mut split = BytesMut::new();
    for p in pieces(&inp.body, &inp.push_cuts) {
        st.push(p, &mut split);
    }
    st.finish(&mut split);
    assert_eq!(&whole[..], &split[..], "DotStuffer depends on how the body is split");
    assert!(whole.ends_with(b".\r\n"));
    if inp.body.is_empty() {
        assert_eq!(&whole[..], b".\r\n");
    } else {
        assert_eq!(
            find(&whole, b"\r\n.\r\n"),
            Some(whole.len() - 5),
            "end of data inside stuffed output: {:?}",
            &whole[..]
        );
        assert!(!whole.starts_with(b".\r\n"), "stuffed output starts with an end of data");
    }
    let mut want = normalise(&inp.body);
    if !want.is_empty() && !want.ends_with(b"\r\n") {
        want.extend_from_slice(b"\r\n");
    }
    for (pol, push) in [
        (BareLineEndings::Reject, false),
        (BareLineEndings::Normalize, false),
        (policy, true),
    ] {
        let d = decode_by(pol, None, &pieces(&whole, &inp.dec_cuts), push);
        assert_eq!(d.ended_at, Some(whole.len()), "decoder did not end exactly at the end");
        assert!(d.rest.is_empty());
        assert_eq!(d.body, want, "unstuff(stuff(body)) != normalised body");
        assert!(!d.bare, "stuffed output holds a bare line ending");
    }

    // 2. Raw input: split invariance and the only possible end.
    let raw = &inp.body;
    let one = decode(policy, max, &[raw]);
    let many = decode(policy, max, &pieces(raw, &inp.dec_cuts));
    assert_eq!(one, many, "DataDecoder depends on how the input is split");
    let pushed = decode_by(policy, max, &pieces(raw, &inp.dec_cuts), true);
    assert_eq!(one, pushed, "DataDecoder::push differs from extend_from_slice");
    let bytes: Vec<&[u8]> = raw.chunks(1).collect();
    let single = decode(policy, max, &bytes);
    assert_eq!(one, single, "DataDecoder differs byte by byte");
    let expected_end = if raw.starts_with(b".\r\n") {
        Some(3)
    } else {
        find(raw, b"\r\n.\r\n").map(|p| p + 5)
    };
    assert_eq!(one.ended_at, expected_end, "end of data at the wrong place");
    if let Some(e) = one.ended_at {
        assert_eq!(one.rest, &raw[e..]);
    } else {
        assert!(one.rest.len() <= 2);
    }
    if !one.bare {
        // Without bare line endings, both policies read alike.
        let other = match policy {
            BareLineEndings::Reject => BareLineEndings::Normalize,
            _ => BareLineEndings::Reject,
        };
        assert_eq!(decode(other, max, &[raw]), one);
    }

    // 3. BDAT: exactly `size` octets, any pieces.
    let size = u64::from(inp.bdat_size);
    let mut b = BdatDecoder::new(size);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for p in pieces(raw, &inp.push_cuts) {
        buf.extend_from_slice(p);
        while let Some(c) = b.next(&mut buf) {
            assert!(!c.is_empty());
            got.extend_from_slice(&c);
        }
    }
    let n = raw.len().min(usize::from(inp.bdat_size));
    assert_eq!(&got[..], &raw[..n]);
    assert_eq!(&buf[..], &raw[n..]);
    assert_eq!(b.remaining(), size - n as u64);
    assert_eq!(b.is_done(), n as u64 == size);
});
