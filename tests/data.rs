//! DATA body decoding (RFC 5321 4.5.2), dot-stuffing and BDAT counting through the
//! public API: known answers, the SMTP-smuggling arrangements of CR, LF and ".", the
//! line-length limit, zero-copy chunks, and properties against a byte-at-a-time model
//! under any split of the input.

use bytes::BytesMut;
use proptest::prelude::*;
use smtp_sansio::data::{
    BareLineEndings, BdatDecoder, DataDecoder, DataStep, DotStuffer, dot_stuff,
};

use BareLineEndings::{Normalize, Reject};

#[path = "../benches/corpus.rs"]
mod corpus;

struct Decoded {
    body: Vec<u8>,
    ended: bool,
    rest: Vec<u8>,
    bare: bool,
    long: bool,
}

/// Feeds `chunks` in order, both by `extend_from_slice` and by `DataDecoder::push`
/// (which checks while it copies), and requires the same result from both.
fn decode(policy: BareLineEndings, max: Option<usize>, chunks: &[&[u8]]) -> Decoded {
    let plain = decode_with(policy, max, chunks, false);
    let pushed = decode_with(policy, max, chunks, true);
    assert_eq!(plain.body, pushed.body, "push changed the body");
    assert_eq!(
        (plain.ended, &plain.rest, plain.bare, plain.long),
        (pushed.ended, &pushed.rest, pushed.bare, pushed.long),
        "push changed the outcome"
    );
    plain
}

/// Feeds `chunks` in order, draining the decoder after each; checks the
/// hold-back bound and that no chunk is empty.
fn decode_with(
    policy: BareLineEndings,
    max: Option<usize>,
    chunks: &[&[u8]],
    push: bool,
) -> Decoded {
    let mut dec = DataDecoder::new(policy, max);
    let mut buf = BytesMut::new();
    let mut body = Vec::new();
    let mut ended = false;
    for chunk in chunks {
        match push {
            true => dec.push(chunk, &mut buf),
            false => buf.extend_from_slice(chunk),
        }
        if ended {
            continue;
        }
        loop {
            match dec.next(&mut buf) {
                DataStep::NeedMore => {
                    assert!(buf.len() <= 2, "held back {:?}", &buf[..]);
                    assert!(!dec.is_done());
                    break;
                }
                DataStep::Chunk(c) => {
                    assert!(!c.is_empty());
                    assert!(!dec.is_done());
                    body.extend_from_slice(&c);
                }
                DataStep::End => {
                    ended = true;
                    assert!(dec.is_done());
                    break;
                }
                other => panic!("unknown step {other:?}"),
            }
        }
    }
    Decoded {
        body,
        ended,
        rest: buf.to_vec(),
        bare: dec.saw_bare_line_ending(),
        long: dec.saw_long_line(),
    }
}

/// Byte-at-a-time model of RFC 5321 4.5.2 decoding over the whole input.
fn model(policy: BareLineEndings, max: Option<usize>, input: &[u8]) -> Decoded {
    let mut d = Decoded {
        body: Vec::new(),
        ended: false,
        rest: Vec::new(),
        bare: false,
        long: false,
    };
    let mut line_len = 0usize;
    let check = |line_len: usize, long: &mut bool| {
        if max.is_some_and(|m| line_len + 2 > m) {
            *long = true;
        }
    };
    let mut i = 0;
    let mut line_start = true;
    loop {
        if line_start {
            let tail = &input[i..];
            if tail.starts_with(b".\r\n") {
                d.ended = true;
                d.rest = input[i + 3..].to_vec();
                return d;
            }
            if b".\r\n".starts_with(tail) && !tail.is_empty() {
                break;
            }
            if tail.first() == Some(&b'.') {
                i += 1;
            }
            line_start = false;
        }
        let Some(&b) = input.get(i) else { break };
        let next = input.get(i + 1).copied();
        if b == b'\r' && next.is_none() {
            break;
        }
        if b == b'\r' && next == Some(b'\n') {
            check(line_len, &mut d.long);
            line_len = 0;
            d.body.extend_from_slice(b"\r\n");
            i += 2;
            line_start = true;
        } else if b == b'\r' || b == b'\n' {
            d.bare = true;
            check(line_len, &mut d.long);
            line_len = 0;
            match policy {
                Reject => d.body.push(b),
                _ => d.body.extend_from_slice(b"\r\n"),
            }
            i += 1;
        } else {
            d.body.push(b);
            line_len += 1;
            check(line_len, &mut d.long);
            i += 1;
        }
    }
    d.rest = input[i..].to_vec();
    d
}

/// `d` reads the input as the model read it (`want`): body, end, what follows, flags.
fn assert_as_model(d: &Decoded, want: &Decoded, case: &str) {
    assert_eq!(d.body, want.body, "{case}");
    assert_eq!(d.ended, want.ended, "{case}");
    assert_eq!(d.rest, want.rest, "{case}");
    assert_eq!(d.bare, want.bare, "{case}");
    assert_eq!(d.long, want.long, "{case}");
}

fn normalise(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match (c, b.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            (b'\r' | b'\n', _) => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn split_at_points<'a>(input: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for p in points {
        chunks.push(&input[prev..p]);
        prev = p;
    }
    chunks.push(&input[prev..]);
    chunks
}

fn all_splits(policy: BareLineEndings, input: &[u8]) -> Decoded {
    let whole = decode(policy, None, &[input]);
    for k in 0..=input.len() {
        let two = decode(policy, None, &[&input[..k], &input[k..]]);
        assert_eq!(two.body, whole.body, "split at {k}");
        assert_eq!(two.ended, whole.ended);
        assert_eq!(two.rest, whole.rest);
        assert_eq!(two.bare, whole.bare);
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    let single = decode(policy, None, &bytes);
    assert_eq!(single.body, whole.body);
    assert_eq!(single.ended, whole.ended);
    whole
}

#[test]
fn known_answers() {
    // (input, body, ended, rest)
    type Case<'a> = (&'a [u8], &'a [u8], bool, &'a [u8]);
    let cases: &[Case] = &[
        (b".\r\n", b"", true, b""),
        (b".\r\nQUIT\r\n", b"", true, b"QUIT\r\n"),
        (b"a\r\nb\r\n.\r\n", b"a\r\nb\r\n", true, b""),
        (
            b"a\r\n.\r\nMAIL FROM:<>\r\n",
            b"a\r\n",
            true,
            b"MAIL FROM:<>\r\n",
        ),
        (b"..x\r\n.\r\n", b".x\r\n", true, b""),
        (b"..\r\n.\r\n", b".\r\n", true, b""),
        (b"a\r\n..\r\n.\r\n", b"a\r\n.\r\n", true, b""),
        (b"a\r\n...\r\n.\r\n", b"a\r\n..\r\n", true, b""),
        (b"a.b\r\n.\r\n", b"a.b\r\n", true, b""),
        (b"\r\n.\r\n", b"\r\n", true, b""),
        (b"\r\n\r\n.\r\n", b"\r\n\r\n", true, b""),
        (b"a\r\n.", b"a\r\n", false, b"."),
        (b"a\r\n.\r", b"a\r\n", false, b".\r"),
        (b"a\r", b"a", false, b"\r"),
        (b"abc", b"abc", false, b""),
        (b".x", b"x", false, b""),
        (b"a\r\n.\r\n.\r\n", b"a\r\n", true, b".\r\n"),
    ];
    for &(input, body, ended, rest) in cases {
        for policy in [Reject, Normalize] {
            let d = all_splits(policy, input);
            assert_eq!(d.body, body, "{input:?}");
            assert_eq!(d.ended, ended, "{input:?}");
            assert_eq!(d.rest, rest, "{input:?}");
            assert!(!d.bare, "{input:?}");
        }
    }
}

#[test]
fn bare_line_endings_by_policy() {
    // (input, Reject body, Normalize body)
    let cases: &[(&[u8], &[u8], &[u8])] = &[
        (b"a\nb\r\n.\r\n", b"a\nb\r\n", b"a\r\nb\r\n"),
        (b"a\rb\r\n.\r\n", b"a\rb\r\n", b"a\r\nb\r\n"),
        (b"\n\r\n.\r\n", b"\n\r\n", b"\r\n\r\n"),
        (b"a\r\r\n.\r\n", b"a\r\r\n", b"a\r\n\r\n"),
        (
            b"a\n\n\r\r\r\n.\r\n",
            b"a\n\n\r\r\r\n",
            b"a\r\n\r\n\r\n\r\n\r\n",
        ),
    ];
    for &(input, reject, normalize) in cases {
        let d = all_splits(Reject, input);
        assert_eq!(d.body, reject, "{input:?}");
        assert!(d.ended && d.bare);
        let d = all_splits(Normalize, input);
        assert_eq!(d.body, normalize, "{input:?}");
        assert!(d.ended && d.bare);
    }
}

/// `before` is sent, then a real end of data and a pipelined command.
/// Nothing in `before` may end the data; the decoded body is checked.
fn smuggling(before: &[u8], reject: &[u8], normalize: &[u8], bare: bool) {
    let mut input = before.to_vec();
    input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
    for (policy, want) in [(Reject, reject), (Normalize, normalize)] {
        // No prefix that stops short of the real terminator may end.
        let cut = before.len() + 5;
        for k in 0..cut {
            let d = decode(policy, None, &[&input[..k]]);
            assert!(!d.ended, "{policy:?} ended after {k} bytes");
        }
        let d = all_splits(policy, &input);
        let mut body = want.to_vec();
        body.extend_from_slice(b"\r\n");
        assert!(d.ended);
        assert_eq!(d.body, body, "{policy:?}");
        assert_eq!(d.rest, b"QUIT\r\n");
        assert_eq!(d.bare, bare);
    }
}

#[test]
fn smuggling_lf_dot_lf() {
    smuggling(
        b"x\n.\nMAIL FROM:<a@b>",
        b"x\n.\nMAIL FROM:<a@b>",
        b"x\r\n.\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_lf_dot_crlf() {
    smuggling(
        b"x\n.\r\nMAIL FROM:<a@b>",
        b"x\n.\r\nMAIL FROM:<a@b>",
        b"x\r\n.\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_cr_dot_cr() {
    smuggling(
        b"x\r.\rMAIL FROM:<a@b>",
        b"x\r.\rMAIL FROM:<a@b>",
        b"x\r\n.\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_cr_dot_crlf() {
    smuggling(
        b"x\r.\r\nMAIL FROM:<a@b>",
        b"x\r.\r\nMAIL FROM:<a@b>",
        b"x\r\n.\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_crlf_dot_cr() {
    // A real line start: the dot is a transparency dot and is removed.
    smuggling(
        b"x\r\n.\rMAIL FROM:<a@b>",
        b"x\r\n\rMAIL FROM:<a@b>",
        b"x\r\n\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_crlf_dot_lf() {
    smuggling(
        b"x\r\n.\nMAIL FROM:<a@b>",
        b"x\r\n\nMAIL FROM:<a@b>",
        b"x\r\n\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_crlf_dot_cr_crlf() {
    smuggling(
        b"x\r\n.\r\r\nMAIL FROM:<a@b>",
        b"x\r\n\r\r\nMAIL FROM:<a@b>",
        b"x\r\n\r\n\r\nMAIL FROM:<a@b>",
        true,
    );
}

/// Lines of about 70 octets that end in bare LFs, `n` octets or more: a body that has
/// shown a bare LF already, which the block check then passes as content.
fn bare_lf_lines(n: usize) -> Vec<u8> {
    let mut s = Vec::new();
    while s.len() < n {
        s.extend_from_slice(
            b"a line of prose that ends in a bare line feed, as a script wrote it\n",
        );
    }
    s
}

/// Each smuggling arrangement inside a body of bare-LF lines, at offsets all around a
/// block edge, so that the blocks the check passes hold it: only the real `CRLF "."
/// CRLF` ends the data, and the body reads as octet by octet.
#[test]
fn smuggling_inside_bare_lf_blocks() {
    let sequences: [&[u8]; 8] = [
        b"x\n.\nMAIL FROM:<a@b>",
        b"x\n.\r\nMAIL FROM:<a@b>",
        b"x\r.\rMAIL FROM:<a@b>",
        b"x\r.\r\nMAIL FROM:<a@b>",
        b"x\r\n.\rMAIL FROM:<a@b>",
        b"x\r\n.\nMAIL FROM:<a@b>",
        b"x\r\n.\r\r\nMAIL FROM:<a@b>",
        b"x\r\n..\r\nMAIL FROM:<a@b>",
    ];
    for seq in sequences {
        for pad in (0..300).step_by(7) {
            let mut input = bare_lf_lines(2000);
            input.extend(std::iter::repeat_n(b'p', pad));
            input.extend_from_slice(seq);
            input.extend_from_slice(&bare_lf_lines(2000));
            input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            let want = model(Reject, Some(1000), &input);
            assert!(want.ended && want.bare && want.rest == b"QUIT\r\n");
            let cut = input.len() / 2;
            for chunks in [vec![&input[..]], vec![&input[..cut], &input[cut..]]] {
                let d = decode(Reject, Some(1000), &chunks);
                assert_as_model(&d, &want, &format!("{seq:?} after {pad}"));
            }
        }
    }
}

#[test]
fn smuggling_nul_dot() {
    smuggling(
        b"x\r\n\0.\r\nMAIL FROM:<a@b>",
        b"x\r\n\0.\r\nMAIL FROM:<a@b>",
        b"x\r\n\0.\r\nMAIL FROM:<a@b>",
        false,
    );
}

#[test]
fn smuggling_space_dot() {
    smuggling(
        b"x\r\n .\r\nMAIL FROM:<a@b>",
        b"x\r\n .\r\nMAIL FROM:<a@b>",
        b"x\r\n .\r\nMAIL FROM:<a@b>",
        false,
    );
}

#[test]
fn smuggling_dot_lf_first_line() {
    smuggling(
        b".\nMAIL FROM:<a@b>",
        b"\nMAIL FROM:<a@b>",
        b"\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_dot_cr_first_line() {
    smuggling(
        b".\rMAIL FROM:<a@b>",
        b"\rMAIL FROM:<a@b>",
        b"\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn smuggling_lf_cr_dot_cr_lf() {
    // "\n\r" is two bare endings, not a CRLF.
    smuggling(
        b"x\n\r.\n\rMAIL FROM:<a@b>",
        b"x\n\r.\n\rMAIL FROM:<a@b>",
        b"x\r\n\r\n.\r\n\r\nMAIL FROM:<a@b>",
        true,
    );
}

#[test]
fn normalized_ending_is_not_a_line_start() {
    // After "\n" is normalised, ".." must not lose a dot.
    let d = all_splits(Normalize, b"a\n..\r\n.\r\n");
    assert_eq!(d.body, b"a\r\n..\r\n");
    assert!(d.ended);
}

#[test]
fn long_lines_are_flagged_but_passed() {
    let mut input = vec![b'a'; 998];
    input.extend_from_slice(b"\r\n.\r\n");
    let d = decode(Reject, Some(1000), &[&input]);
    assert!(d.ended && !d.long);
    let mut input = vec![b'a'; 999];
    input.extend_from_slice(b"\r\n.\r\n");
    let d = decode(Reject, Some(1000), &[&input]);
    assert!(d.ended && d.long);
    assert_eq!(d.body.len(), 1001);
    // The transparency dot does not count (RFC 5321 4.5.3.1.6).
    let mut input = b".".to_vec();
    input.extend_from_slice(&[b'.'; 998]);
    input.extend_from_slice(b"\r\n.\r\n");
    let d = decode(Reject, Some(1000), &[&input]);
    assert!(d.ended && !d.long);
    // An unterminated line is flagged while still arriving.
    let d = decode(Reject, Some(1000), &[&[b'x'; 1500]]);
    assert!(!d.ended && d.long);
}

#[test]
fn chunks_are_views_of_the_buffer() {
    let mut dec = DataDecoder::new(Reject, None);
    let mut buf = BytesMut::from(&b"hello\r\n..world\r\n.\r\n"[..]);
    let base = buf.as_ptr() as usize;
    let mut seen = Vec::new();
    while let DataStep::Chunk(c) = dec.next(&mut buf) {
        seen.push((c.as_ptr() as usize - base, c.to_vec()));
    }
    assert_eq!(
        seen,
        vec![(0, b"hello\r\n".to_vec()), (8, b".world\r\n".to_vec())]
    );
    assert!(dec.is_done());
    assert_eq!(dec.next(&mut buf), DataStep::End);
}

#[test]
fn big_body_comes_out_in_few_chunks() {
    let mut body = Vec::new();
    while body.len() < 1 << 20 {
        body.extend_from_slice(b"The quick brown fox jumps over the lazy dog 0123456789\r\n");
    }
    body.extend_from_slice(b".\r\n");
    let mut dec = DataDecoder::new(Reject, Some(1000));
    let mut buf = BytesMut::from(&body[..]);
    let mut n = 0;
    let mut total = 0;
    while let DataStep::Chunk(c) = dec.next(&mut buf) {
        n += 1;
        total += c.len();
    }
    assert!(dec.is_done());
    assert_eq!(n, 1);
    assert_eq!(total, body.len() - 3);
}

#[test]
fn stuffer_basics() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"", b".\r\n"),
        (b"a", b"a\r\n.\r\n"),
        (b"a\r\n", b"a\r\n.\r\n"),
        (b".", b"..\r\n.\r\n"),
        (b".\r\n.", b"..\r\n..\r\n.\r\n"),
        (b"a\n.b", b"a\r\n..b\r\n.\r\n"),
        (b"a\r.b\r", b"a\r\n..b\r\n.\r\n"),
        (b"\r\n", b"\r\n.\r\n"),
        (b"a.b\n\n", b"a.b\r\n\r\n.\r\n"),
    ];
    for &(body, want) in cases {
        assert_eq!(&dot_stuff(body)[..], want, "{body:?}");
        let mut s = DotStuffer::new();
        let mut out = BytesMut::new();
        for b in body.chunks(1) {
            s.push(b, &mut out);
        }
        s.finish(&mut out);
        assert_eq!(&out[..], want, "{body:?}");
    }
}

#[test]
fn stuffer_joins_crlf_across_pushes() {
    let mut s = DotStuffer::new();
    let mut out = BytesMut::new();
    s.push(b"a\r", &mut out);
    s.push(b"", &mut out);
    s.push(b"\n.b", &mut out);
    s.finish(&mut out);
    assert_eq!(&out[..], b"a\r\n..b\r\n.\r\n");
}

#[test]
fn bdat_counts_exactly() {
    let mut d = BdatDecoder::new(5);
    let mut buf = BytesMut::from(&b"abc"[..]);
    assert_eq!(d.next(&mut buf).as_deref(), Some(&b"abc"[..]));
    assert_eq!(d.next(&mut buf), None);
    assert_eq!(d.remaining(), 2);
    buf.extend_from_slice(b"\r\n.\r\nBDAT");
    assert_eq!(d.next(&mut buf).as_deref(), Some(&b"\r\n"[..]));
    assert!(d.is_done());
    assert_eq!(d.next(&mut buf), None);
    assert_eq!(&buf[..], b".\r\nBDAT");

    let mut d = BdatDecoder::new(0);
    assert!(d.is_done());
    assert_eq!(d.next(&mut buf), None);

    let mut d = BdatDecoder::new(u64::MAX);
    assert_eq!(d.next(&mut buf).as_deref(), Some(&b".\r\nBDAT"[..]));
    assert_eq!(d.remaining(), u64::MAX - 7);
    assert!(buf.is_empty());
}

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => Just(b'.'),
            3 => Just(b'\r'),
            3 => Just(b'\n'),
            1 => Just(0u8),
            2 => Just(b'a'),
            1 => any::<u8>(),
        ],
        0..120,
    )
}

/// Long bodies made of lines (mostly clean CRLF text, so the block fast path runs),
/// with dotted lines, bare CR/LF, long lines and end markers mixed in.
fn long_body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = (
        prop_oneof![
            14 => Just(&b""[..]),
            1 => Just(&b"."[..]),
            1 => Just(&b".."[..]),
        ],
        prop_oneof![4 => 0usize..90, 1 => 90usize..700, 1 => 0usize..3],
        prop_oneof![
            30 => Just(&b"\r\n"[..]),
            1 => Just(&b"\n"[..]),
            1 => Just(&b"\r"[..]),
            1 => Just(&b"\r\n.\r\n"[..]),
            1 => Just(&b""[..]),
        ],
    );
    prop::collection::vec(line, 0..40).prop_map(|lines| {
        let mut out = Vec::new();
        for (i, (head, n, end)) in lines.into_iter().enumerate() {
            out.extend_from_slice(head);
            out.extend((0..n).map(|k| b"lorem ipsum.dolor"[(k + i) % 17]));
            out.extend_from_slice(end);
        }
        out
    })
}

fn policy_strategy() -> impl Strategy<Value = BareLineEndings> {
    prop_oneof![Just(Reject), Just(Normalize)]
}

/// The line left open at the end of a block region is measured from the byte after
/// the region's last LF: a line of exactly the limit (with its CRLF) that starts
/// inside the region and ends past it is not too long; one octet more is.
#[test]
fn line_open_after_the_block_region_is_measured_exactly() {
    for (content, long) in [(598, false), (599, true)] {
        let mut input = Vec::new();
        for _ in 0..5 {
            input.extend_from_slice(&[b'b'; 98]);
            input.extend_from_slice(b"\r\n");
        }
        input.extend(std::iter::repeat_n(b'c', content));
        input.extend_from_slice(b"\r\n.\r\n");
        let d = decode(Reject, Some(600), &[&input]);
        assert!(d.ended);
        assert_eq!(d.long, long, "content {content}");
    }
}

/// The widest line the block path can pass over: LFs 511 bytes apart, at the first
/// byte of one block and the last of the next (content 509 octets, 511 with CRLF).
/// With a limit of 510 it must still be seen as too long.
#[test]
fn long_line_between_extreme_block_lfs_is_seen() {
    let mut input = Vec::new();
    input.extend_from_slice(&[b'a'; 100]);
    input.extend_from_slice(b"\r\n"); // LF at 101
    input.extend_from_slice(&[b'b'; 153]);
    input.extend_from_slice(b"\r\n"); // LF at 256: first byte of block 1
    input.extend_from_slice(&[b'c'; 509]);
    input.extend_from_slice(b"\r\n"); // LF at 767: last byte of block 2
    assert_eq!(input.len(), 768);
    for _ in 0..4 {
        input.extend_from_slice(&[b'd'; 100]);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(b".\r\n");
    for (max, long) in [(510, true), (511, false)] {
        let d = decode(Reject, Some(max), &[&input]);
        assert!(d.ended);
        assert_eq!(d.long, long, "limit {max}");
    }
}

/// The widest line the block path passes over when a block with no LF may follow one
/// with an LF (limits of 768 and more): LFs 767 octets apart, at the first octet one
/// block marks and the last octet two blocks on. Under every limit around it the line
/// is measured as the byte-at-a-time model measures it.
#[test]
fn long_line_between_extreme_gap_lfs_is_seen() {
    let mut input = b"\r\n".to_vec(); // LF at 1: the first octet block 0 marks
    input.extend_from_slice(&[b'c'; 765]);
    input.extend_from_slice(b"\r\n"); // LF at 768: the last octet block 2 marks
    for _ in 0..8 {
        input.extend_from_slice(&[b'd'; 100]);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(b".\r\n");
    for (max, long) in [(766, true), (767, false), (768, false), (1000, false)] {
        for read in [input.len(), 64, 300] {
            let reads: Vec<&[u8]> = input.chunks(read).collect();
            let d = decode(Reject, Some(max), &reads);
            assert!(d.ended);
            assert_eq!(d.body, model(Reject, Some(max), &input).body);
            assert_eq!(d.long, long, "limit {max}, read {read}");
        }
    }
}

/// Overlong lines: a line one octet over the limit that holds no CR and no LF for
/// several blocks (which `push` passes without looking at each line) must be flagged
/// however the reads and blocks fall, as the byte-at-a-time model flags it; a line
/// exactly at the limit must not be.
#[test]
fn overlong_line_through_blocks_without_lf_is_flagged() {
    for max in [600usize, 767, 768, 1000] {
        for over in [0, 1] {
            for lead in [0, 1, 37, 100, 254, 255, 256, 257, 400] {
                let mut input = Vec::new();
                for i in 0..5 {
                    input.extend((0..30 + i * 7).map(|k| b'a' + (k % 26) as u8));
                    input.extend_from_slice(b"\r\n");
                }
                input.extend(std::iter::repeat_n(b'p', lead));
                input.extend_from_slice(b"\r\n");
                input.extend(std::iter::repeat_n(b'x', max - 2 + over));
                input.extend_from_slice(b"\r\n");
                for _ in 0..5 {
                    input.extend_from_slice(&[b'z'; 50]);
                    input.extend_from_slice(b"\r\n");
                }
                input.extend_from_slice(b".\r\n");
                let want = model(Reject, Some(max), &input);
                assert_eq!(want.long, over == 1);
                for read in [input.len(), 1000, 333, 256, 7] {
                    let reads: Vec<&[u8]> = input.chunks(read).collect();
                    let d = decode(Reject, Some(max), &reads);
                    assert!(d.ended);
                    assert_eq!(d.body, want.body);
                    assert_eq!(
                        d.long, want.long,
                        "max {max}, over {over}, lead {lead}, read {read}"
                    );
                }
            }
        }
    }
}

/// Long lines measured across the check's calls: a line of 998 to 1,025 octets (CRLF
/// counted) through two or three blocks with no LF, put where its blocks straddle the
/// end of one call of the check (every 16 KiB of a whole buffer) or of a 64 KiB read,
/// among other long lines, is flagged exactly when it is over the limit of 1,000, as
/// the byte-at-a-time model flags it, however the reads fall.
#[test]
fn long_line_measured_across_check_calls() {
    let line = |out: &mut Vec<u8>, len: usize, seed: usize| {
        out.extend((0..len - 2).map(|k| b'a' + ((k + seed) % 26) as u8));
        out.extend_from_slice(b"\r\n");
    };
    for (around, lens) in [
        (16_384, [998, 1000, 1001, 1025]),
        (65_536, [999, 1000, 1001, 1024]),
    ] {
        for start in (around - 1100..around + 300).step_by(97) {
            for len in lens {
                let mut input = Vec::new();
                let mut i = 0;
                // Lines of any length up to 998 octets, then one to bring the long line
                // to `start`.
                while input.len() + 1000 + 260 < start {
                    line(&mut input, 2 + (i * 379) % 997, i);
                    i += 1;
                }
                let pad = start - input.len() - 260;
                line(&mut input, pad, i);
                line(&mut input, 260, i + 1);
                assert_eq!(input.len(), start);
                line(&mut input, len, i + 2);
                for k in 0..12 {
                    line(&mut input, [700, 998, 40, 600][k % 4], k);
                }
                input.extend_from_slice(b".\r\n");
                let want = model(Reject, Some(1000), &input);
                assert_eq!(want.long, len > 1000);
                for read in [input.len(), 64 * 1024, 1500] {
                    let reads: Vec<&[u8]> = input.chunks(read).collect();
                    let d = decode(Reject, Some(1000), &reads);
                    let case = format!("line of {len} at {start}, read {read}");
                    assert_as_model(&d, &want, &case);
                }
            }
        }
    }
}

/// Bodies of long lines, which `push` walks line by line as it copies a read (past a
/// block the check refuses): a line one octet over the limit, a line exactly at it, and
/// each smuggling arrangement of CR, LF and "." put among them, must be read as the
/// byte-at-a-time model reads them, however the reads fall.
#[test]
fn overlong_line_and_smuggling_among_walked_long_lines() {
    let mut base = Vec::new();
    for i in 0..120 {
        let n = [300, 997, 700, 512, 260, 998][i % 6];
        base.extend((0..n).map(|k| b'a' + ((k + i) % 26) as u8));
        base.extend_from_slice(b"\r\n");
    }
    let edits: &[&[u8]] = &[
        b"",
        b"y",
        b"\n.\n",
        b"\r.\r",
        b"\n.\r\n",
        b"\r\n.\n",
        b"\r\n..",
        b"\r\n.\r\n",
        b"\n",
        b"\r",
    ];
    for at in [1000, 20_000, 40_790, 65_000, 65_536, 66_000] {
        for edit in edits {
            let mut input = base.clone();
            // Inserted, not written over: "y" makes the line it lands in one longer.
            input.splice(at..at, edit.iter().copied());
            input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            for max in [Some(1000), None] {
                let want = model(Reject, max, &input);
                for read in [input.len(), 64 * 1024, 4096, 1500] {
                    let reads: Vec<&[u8]> = input.chunks(read).collect();
                    let d = decode(Reject, max, &reads);
                    let case = format!("{edit:?} at {at}, read {read}, max {max:?}");
                    assert_as_model(&d, &want, &case);
                }
            }
        }
    }
    // The cases above hold both verdicts: "y" at 1000 lands in a line of 997 octets (998
    // with it: at the limit with its CRLF), at 40,790 in one of 998 (one over).
    for (at, long) in [(1000, false), (40_790, true)] {
        let mut input = base.clone();
        input.insert(at, b'y');
        assert_eq!(model(Reject, Some(1000), &input).long, long, "at {at}");
    }
}

/// A read of long lines that ends right after a CRLF, then the end of data (or a
/// transparency dot) alone in the next read: the line start between the reads must
/// still be seen as one.
#[test]
fn end_of_data_in_the_read_after_walked_lines() {
    let mut lines = Vec::new();
    for i in 0..40 {
        lines.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, 300 + 17 * i));
        lines.extend_from_slice(b"\r\n");
    }
    for next in [&b".\r\nQUIT\r\n"[..], b"..dot\r\n.\r\n", b".", b".\r"] {
        let mut input = lines.clone();
        input.extend_from_slice(next);
        let want = model(Reject, Some(1000), &input);
        let d = decode(Reject, Some(1000), &[&lines, next]);
        assert_eq!(d.body, want.body, "{next:?}");
        assert_eq!((d.ended, &d.rest), (want.ended, &want.rest), "{next:?}");
    }
}

/// Every arrangement that matters to the fast path's 256-octet blocks, at every offset
/// across two block edges: a dot line, an end of data, bare CR and LF, a CR whose LF is
/// one block later. The decoder must read each exactly as the byte-at-a-time model does.
#[test]
fn data_ends_only_at_crlf_dot_crlf_at_every_block_offset() {
    let filler = b"the quick brown fox jumps over.\r\n".repeat(40);
    let inserts: &[&[u8]] = &[
        b"\r\n.",
        b"\r\n..",
        b"\r\n.\r\n",
        b"\n.\n",
        b"\n",
        b"\r",
        b"\r\r\n",
        b"\n\r",
    ];
    for at in 240..540 {
        for insert in inserts {
            let mut input = filler.clone();
            input[at..at + insert.len()].copy_from_slice(insert);
            input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            for policy in [Reject, Normalize] {
                for max in [None, Some(1000)] {
                    let want = model(policy, max, &input);
                    let whole = decode(policy, max, &[&input]);
                    let split = decode(policy, max, &[&input[..at + 1], &input[at + 1..]]);
                    for d in [&whole, &split] {
                        let case = format!("{insert:?} at {at}, {policy:?}");
                        assert_as_model(d, &want, &case);
                    }
                }
            }
        }
    }
}

/// The benchmark's body shapes (prose, base64, quoted-printable, lines near the
/// 998-octet limit, runs of empty lines, dot lines, lines of any length up to 998),
/// stuffed as a client sends them, come back whole from the decoder: read at once, in
/// 64 KiB reads and in odd pieces, with no bare line ending and no line over the limit.
#[test]
fn bench_body_shapes_decode_to_their_bodies() {
    for shape in corpus::SHAPES.iter().chain(corpus::MORE_SHAPES) {
        let mut body = corpus::body(shape, 200 * 1024);
        let wire = dot_stuff(&body);
        // The stuffer ends an unfinished last line (RFC 5321 4.1.1.4).
        if !body.ends_with(b"\r\n") {
            body.extend_from_slice(b"\r\n");
        }
        let reads: Vec<&[u8]> = wire.chunks(64 * 1024).collect();
        let odd: Vec<&[u8]> = wire.chunks(4093).collect();
        for pieces in [vec![&wire[..]], reads, odd] {
            for policy in [Reject, Normalize] {
                let d = decode(policy, Some(1000), &pieces);
                assert!(d.ended, "{shape}");
                assert!(d.rest.is_empty(), "{shape}");
                assert!(!d.bare && !d.long, "{shape}");
                assert!(d.body == body, "{shape}: body differs");
            }
        }
    }
}

proptest! {
    #[test]
    fn stuff_then_decode_round_trips(
        body in body_strategy(),
        push_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        dec_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        policy in policy_strategy(),
    ) {
        let whole = dot_stuff(&body);
        let mut s = DotStuffer::new();
        let mut split = BytesMut::new();
        for piece in split_at_points(&body, &push_cuts) {
            s.push(piece, &mut split);
        }
        s.finish(&mut split);
        prop_assert_eq!(&whole[..], &split[..]);

        // (1) The only end-of-data indication is the final one.
        if body.is_empty() {
            prop_assert_eq!(&whole[..], b".\r\n");
        } else {
            let pos = memchr::memmem::find(&whole, b"\r\n.\r\n");
            prop_assert_eq!(pos, Some(whole.len() - 5));
            prop_assert!(!whole.starts_with(b".\r\n"));
        }

        // (2) Decoding gives back the normalised body.
        let mut want = normalise(&body);
        if !want.is_empty() && !want.ends_with(b"\r\n") {
            want.extend_from_slice(b"\r\n");
        }
        let d = decode(policy, None, &split_at_points(&whole, &dec_cuts));
        prop_assert!(d.ended);
        prop_assert_eq!(d.body, want);
        prop_assert!(d.rest.is_empty());
        prop_assert!(!d.bare);
    }

    /// Lines around the limit and longer than a fast-path block, so the block scan
    /// (which skips line accounting) must leave the long-line verdict unchanged.
    #[test]
    fn long_line_verdict_survives_the_block_fast_path(
        // Short lines keep every block holding an LF (so the block path runs); the
        // longer ones straddle two blocks, where a missed long line would hide.
        lens in prop::collection::vec(
            prop_oneof![0usize..120, 250usize..520, 0usize..1100, 900usize..1400],
            1..30,
        ),
        max in prop_oneof![200usize..700, 760usize..780, 900usize..1100],
        dot_every in 0usize..4,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        policy in policy_strategy(),
    ) {
        let mut input = Vec::new();
        for (i, &n) in lens.iter().enumerate() {
            if dot_every > 0 && i % dot_every == 0 {
                input.push(b'.');
            }
            input.extend((0..n).map(|k| b'a' + (k % 26) as u8));
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b".\r\n");
        let want = model(policy, Some(max), &input);
        let whole = decode(policy, Some(max), &[&input]);
        let split = decode(policy, Some(max), &split_at_points(&input, &cuts));
        for d in [&whole, &split] {
            prop_assert!(d.ended);
            prop_assert_eq!(&d.body, &want.body);
            prop_assert_eq!(d.long, want.long);
        }
    }

    /// Bodies of many short lines, several blocks long, so the block fast path runs:
    /// blocks where every line starts with a dot, or holding a bare CR or LF, must
    /// be refused by it and read exactly as the byte-at-a-time model reads them.
    #[test]
    fn decoder_matches_model_on_multi_block_bodies(
        lines in prop::collection::vec((0u8..8, 0usize..40), 20..120),
        dot_share in 0u8..=4,
        bare_share in 0u8..=2,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        policy in policy_strategy(),
    ) {
        let mut input = Vec::new();
        for (r, len) in lines {
            if r % 4 < dot_share {
                input.push(b'.');
            }
            input.extend((0..len).map(|k| b'a' + (k % 26) as u8));
            // Mostly CRLF; now and then a bare LF or CR, or a dot right after one.
            match r {
                6 if bare_share > 0 => input.push(b'\n'),
                7 if bare_share > 1 => input.extend_from_slice(b"\r.x"),
                _ => input.extend_from_slice(b"\r\n"),
            }
        }
        input.extend_from_slice(b"\r\n.\r\n");
        let want = model(policy, None, &input);
        let whole = decode(policy, None, &[&input]);
        let split = decode(policy, None, &split_at_points(&input, &cuts));
        for d in [&whole, &split] {
            prop_assert_eq!(&d.body, &want.body);
            prop_assert_eq!(d.ended, want.ended);
            prop_assert_eq!(&d.rest, &want.rest);
            prop_assert_eq!(d.bare, want.bare);
            prop_assert_eq!(d.long, want.long);
        }
    }

    /// Bodies whose lines end mostly in bare LFs (a script's "\\n"), with real CRLFs,
    /// bare CRs, dots after each kind and lines over the limit among them: once the
    /// first bare LF is seen the block check passes them as content, and the result
    /// must still be the byte-at-a-time model's, under any split and either policy.
    #[test]
    fn decoder_matches_model_on_bare_lf_bodies(
        lines in prop::collection::vec(
            (0u8..12, prop_oneof![6 => 0usize..90, 1 => 200usize..1100]),
            20..160,
        ),
        max in prop::option::of(prop_oneof![Just(1000usize), 500usize..800]),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        policy in policy_strategy(),
    ) {
        let mut input = Vec::new();
        for (r, len) in lines {
            if r % 5 == 0 {
                input.push(b'.');
            }
            input.extend((0..len).map(|k| b'a' + (k % 26) as u8));
            input.extend_from_slice(match r {
                0..=7 => &b"\n"[..],
                8 | 9 => b"\r\n",
                10 => b"\r",
                _ => b"\r\n.\n",
            });
        }
        input.extend_from_slice(b"\r\n.\r\n");
        let want = model(policy, max, &input);
        assert_as_model(&decode(policy, max, &[&input]), &want, "whole");
        assert_as_model(&decode(policy, max, &split_at_points(&input, &cuts)), &want, "split");
    }

    #[test]
    fn decoder_matches_model_under_any_split(
        input in body_strategy(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        policy in policy_strategy(),
        max in prop::option::of(0usize..12),
    ) {
        let want = model(policy, max, &input);
        let whole = decode(policy, max, &[&input]);
        let split = decode(policy, max, &split_at_points(&input, &cuts));
        for d in [&whole, &split] {
            prop_assert_eq!(&d.body, &want.body);
            prop_assert_eq!(d.ended, want.ended);
            prop_assert_eq!(&d.rest, &want.rest);
            prop_assert_eq!(d.bare, want.bare);
            prop_assert_eq!(d.long, want.long);
            prop_assert!(d.ended || d.rest.len() <= 2);
        }
    }

    #[test]
    fn decoder_matches_model_on_long_bodies(
        input in long_body_strategy(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        policy in policy_strategy(),
        max in prop::option::of(prop_oneof![Just(1000usize), 500usize..800, 0usize..100]),
    ) {
        let want = model(policy, max, &input);
        let whole = decode(policy, max, &[&input]);
        let split = decode(policy, max, &split_at_points(&input, &cuts));
        for d in [&whole, &split] {
            prop_assert_eq!(&d.body, &want.body);
            prop_assert_eq!(d.ended, want.ended);
            prop_assert_eq!(&d.rest, &want.rest);
            prop_assert_eq!(d.bare, want.bare);
            prop_assert_eq!(d.long, want.long);
        }
    }

    #[test]
    fn bdat_takes_exactly_size(
        data in prop::collection::vec(any::<u8>(), 0..64),
        size in 0u64..80,
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut d = BdatDecoder::new(size);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for piece in split_at_points(&data, &cuts) {
            buf.extend_from_slice(piece);
            while let Some(c) = d.next(&mut buf) {
                prop_assert!(!c.is_empty());
                got.extend_from_slice(&c);
            }
        }
        let n = data.len().min(size as usize);
        prop_assert_eq!(&got[..], &data[..n]);
        prop_assert_eq!(&buf[..], &data[n..]);
        prop_assert_eq!(d.remaining(), size - n as u64);
    }
}

/// Lines of prose of `n` octets each (CRLF counted), `count` of them.
fn prose(n: usize, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..count {
        out.extend((0..n - 2).map(|k| b"lorem ipsum dolor sit amet "[(k + i) % 27]));
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `push` drops transparency dots as it copies a read. A stuffed line whose content is
/// "." ("..", CRLF on the wire) must never read as the end of data once its stuffing
/// dot is gone: not when that dot is the last octet `push` vouches for (a block's last
/// octet, with the next block refused for a bare CR), nor at the octets around a
/// block's end, nor where a read ends; the body goes on to the real end.
#[test]
fn smuggling_stuffed_dot_line_where_push_stops() {
    for at in [250, 253, 254, 255, 256, 257, 258, 259, 511, 512, 513, 1023] {
        for refuse in [false, true] {
            let mut wire = prose(40, 60);
            // A line that starts at `at`: "." stuffed, then CRLF.
            let start = at.min(wire.len());
            wire.truncate(start - 2);
            wire.extend_from_slice(b"\r\n..\r\n...x\r\n");
            if refuse {
                // A bare CR in the block after.
                wire.extend_from_slice(b"a bare\rCR here\r\n");
            }
            wire.extend_from_slice(&prose(40, 40));
            wire.extend_from_slice(b".\r\n");
            let want = model(Reject, Some(1000), &wire);
            assert!(want.ended && want.rest.is_empty());
            for read in [wire.len(), at - 1, at, at + 1, at + 2, 64, 300] {
                let reads: Vec<&[u8]> = wire.chunks(read).collect();
                let d = decode(Reject, Some(1000), &reads);
                assert_as_model(&d, &want, &format!("at {at}, refuse {refuse}, read {read}"));
            }
        }
    }
}

/// What follows the end of data in a read is the next command's (pipelined MAIL, or a
/// BDAT chunk whose octets may look like stuffed lines): `push` must leave it exactly
/// as it came, whether the end of data is the read's first line or inside it.
#[test]
fn smuggling_end_of_data_then_pipelined_octets_left_alone() {
    let after: &[u8] = b"MAIL FROM:<a@b.example>\r\nBDAT 18 LAST\r\n\r\n..x\r\n.\r\n..\r\n.y";
    let body = prose(60, 30);
    for (first, cut) in [(false, body.len()), (true, body.len()), (false, 700)] {
        let mut wire = body.clone();
        if first {
            // A stuffed line first, so that a read may start with its dot.
            wire.extend_from_slice(b"..z\r\n");
        }
        let eod = wire.len();
        wire.extend_from_slice(b".\r\n");
        wire.extend_from_slice(after);
        wire.extend_from_slice(&prose(60, 10));
        let want = model(Reject, Some(1000), &wire);
        assert!(want.ended);
        assert_eq!(&want.rest[..after.len()], after);
        for split in [cut, eod, eod + 1, eod + 2, eod + 3, eod - 5] {
            let d = decode(Reject, Some(1000), &[&wire[..split], &wire[split..]]);
            assert_as_model(&d, &want, &format!("first {first}, split {split}"));
        }
    }
}

/// A read that starts inside a long line (which the decoder takes line by line, as the
/// block check does not bound it) and then holds stuffed lines: the decoder must not
/// read the lines `push` unstuffed as stuffed again ("..." on the wire is ".." in the
/// body, and ".." is ".", not the end of data).
#[test]
fn smuggling_long_open_line_then_unstuffed_lines() {
    for open in [300, 700, 990] {
        let mut wire = prose(40, 20);
        let read1 = wire.len() + open;
        wire.extend(std::iter::repeat_n(b'w', 995));
        wire.extend_from_slice(b"\r\n..\r\n...\r\n..a\r\n");
        wire.extend_from_slice(&prose(40, 30));
        wire.extend_from_slice(b"..\r\n");
        wire.extend_from_slice(&prose(40, 30));
        wire.extend_from_slice(b".\r\n");
        let want = model(Reject, Some(1000), &wire);
        assert!(want.ended && !want.long);
        let d = decode(Reject, Some(1000), &[&wire[..read1], &wire[read1..]]);
        assert_as_model(&d, &want, &format!("open {open}"));
    }
}

/// A caller that pushes a second read before draining the first, and moves the buffer
/// in between (reserving room), still gets the body exactly: the dots `push` dropped
/// from the first read are not looked for again.
#[test]
fn push_twice_without_draining_keeps_what_it_dropped() {
    let mut wire = Vec::new();
    for i in 0..400 {
        wire.extend_from_slice(if i % 3 == 0 { b"..\r\n" } else { b"...x\r\n" });
        wire.extend_from_slice(&prose(50, 1));
    }
    wire.extend_from_slice(b".\r\n");
    let want = model(Reject, Some(1000), &wire);
    assert!(want.ended);
    let half = wire.len() / 2;
    for drain_first in [false, true] {
        let mut dec = DataDecoder::new(Reject, Some(1000));
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        dec.push(&wire[..half], &mut buf);
        if drain_first {
            // Takes one chunk only.
            if let DataStep::Chunk(c) = dec.next(&mut buf) {
                body.extend_from_slice(&c);
            }
        }
        // Forces the buffer to move.
        buf.reserve(1 << 20);
        dec.push(&wire[half..], &mut buf);
        loop {
            match dec.next(&mut buf) {
                DataStep::Chunk(c) => body.extend_from_slice(&c),
                DataStep::End => break,
                other => panic!("{other:?} before the end"),
            }
        }
        assert_eq!(body, want.body, "drain first {drain_first}");
    }
}

/// A caller that clears the buffer after a `push` it did not drain, and pushes again:
/// what the first `push` found must not be applied to the new octets (they would then
/// go unchecked for bare line endings and dot lines).
#[test]
fn smuggling_through_a_cleared_buffer_after_push() {
    let mut first = Vec::new();
    for _ in 0..200 {
        first.extend_from_slice(b"..x\r\n");
        first.extend_from_slice(&prose(60, 1));
    }
    // The same length, with a bare-LF end of data that a stale run would skip over.
    let mut second = prose(60, 20);
    second.extend_from_slice(b"\n.\n");
    second.extend_from_slice(&prose(60, 20));
    second.extend_from_slice(b"..\r\n.\r\n");
    second.resize(first.len().max(second.len()), b'z');
    let want = model(Reject, Some(1000), &second);
    let mut dec = DataDecoder::new(Reject, Some(1000));
    let mut buf = BytesMut::new();
    dec.push(&first, &mut buf);
    buf.clear();
    dec.push(&second, &mut buf);
    let mut body = Vec::new();
    while let DataStep::Chunk(c) = dec.next(&mut buf) {
        body.extend_from_slice(&c);
    }
    assert_eq!(body, want.body);
    assert_eq!(dec.is_done(), want.ended);
    assert_eq!(dec.saw_bare_line_ending(), want.bare);
}
