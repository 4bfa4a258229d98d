//! The fast path's internals; everything observable is tested in `tests/data.rs`.
use super::*;
use crate::data::{BareLineEndings, DataDecoder, DataStep, push_reads};
use bytes::BytesMut;

fn lines(n: usize) -> Vec<u8> {
    b"abcdefghijklmnopqrstuvwxyz0123456789\r\n".repeat(n)
}

/// The block check, one property at a time, at the edges of its window.
#[test]
fn block_check_edges() {
    let clean = lines(20); // 760 bytes: two whole blocks and two more octets
    assert_eq!(clean_run(&clean, 0, false), 2 * BLOCK);
    assert_eq!(check(&clean[..BLOCK + 2]), Verdict::Clean);
    // Two octets after a block must be there: a pair or a dot line may start at the edge.
    assert_eq!(clean_run(&clean[..BLOCK + 1], 0, false), 0);
    assert_eq!(clean_run(&clean[..BLOCK + 2], 0, false), BLOCK);
    // A CR as the block's last byte is clean only with its LF just after it.
    let mut edge = vec![b'a'; BLOCK - 2];
    edge.extend_from_slice(b"\r\r\nx");
    assert_eq!(check(&edge), Verdict::Refused, "bare CR at byte 254");
    let mut edge = vec![b'a'; 100];
    edge.extend_from_slice(b"\r\n");
    edge.resize(BLOCK - 1, b'a');
    edge.extend_from_slice(b"\r\nx");
    assert_eq!((edge[BLOCK - 1], edge.len()), (b'\r', BLOCK + 2));
    assert_eq!(check(&edge), Verdict::Clean, "CR at 255, LF at 256");
    edge[BLOCK] = b'x';
    assert_eq!(check(&edge), Verdict::Refused, "CR at 255, then not LF");
    edge[BLOCK] = b'\n';
    edge[BLOCK + 1] = b'.';
    assert_eq!(check(&edge), Verdict::DotLine, "a dot line starts at 257");
    assert_eq!(clean_run(&edge, 0, false), BLOCK + 1);
    // Each bare line ending alone, in the first block or a later one.
    for at in [100, 400] {
        for bad in [&b"\n"[..], b"\r", b"\n\r", b"\r\r\n", b"\r\n\n"] {
            let mut s = clean.clone();
            s[at..at + bad.len()].copy_from_slice(bad);
            let want = if at == 100 { 0 } else { BLOCK };
            assert_eq!(clean_run(&s, 0, false), want, "{bad:?} at {at}");
        }
    }
    // A dot line: the run stops at its start, past the LF.
    for at in [38, 38 * 5, 38 * 7, 38 * 13] {
        let mut s = clean.clone();
        s[at] = b'.';
        assert_eq!(clean_run(&s, 0, false), at, "dot line at {at}");
    }
    // An LF as the very first byte is the caller's to check.
    let mut s = clean.clone();
    s[0] = b'\n';
    assert_eq!(clean_run(&s, 0, false), 2 * BLOCK);
    // A block with no LF at all (a line of 256 bytes or more) is refused.
    let mut long = vec![b'a'; 300];
    long.extend_from_slice(&lines(20));
    assert_eq!(clean_run(&long, 0, false), 0);
    assert_eq!(clean_run(&long, 302, false), 2 * BLOCK);
}

/// The verdict, octet by octet, as `Verdict` defines it.
fn reference(w: &[u8; BLOCK + 2]) -> Verdict {
    let mut lf = false;
    let mut dot = false;
    for k in 0..BLOCK {
        if (w[k] == CR) != (w[k + 1] == LF) {
            return Verdict::Refused;
        }
        lf |= w[k + 1] == LF;
        dot |= w[k] == CR && w[k + 2] == DOT;
    }
    match (lf, dot) {
        (false, _) => Verdict::Refused,
        (true, false) => Verdict::Clean,
        (true, true) => Verdict::DotLine,
    }
}

/// The blocks from the start of `s` that pass one after the other (up to `max`),
/// octet by octet: good pairs and an LF among octets 1 to 256, or with `gaps` no LF
/// there after a block with one.
fn reference_run(s: &[u8], gaps: bool, max: usize) -> usize {
    let (mut n, mut lf_before) = (0, gaps);
    while let Some(w) = s.get(n * BLOCK..n * BLOCK + BLOCK + 2) {
        let pairs = (0..BLOCK).all(|k| (w[k] == CR) == (w[k + 1] == LF));
        let lf = w[1..=BLOCK].contains(&LF);
        if n == max || !pairs || !(lf || gaps && lf_before) {
            break;
        }
        lf_before = lf;
        n += 1;
    }
    n
}

/// Lines of `lens` octets with their CRLF, cycled until `total` octets.
fn lines_of(lens: &[usize], total: usize) -> Vec<u8> {
    let mut s = Vec::new();
    for (i, &len) in lens.iter().cycle().enumerate() {
        if s.len() >= total {
            break;
        }
        s.extend((0..len - 2).map(|k| b'a' + ((k + i) % 26) as u8));
        s.extend_from_slice(b"\r\n");
    }
    s
}

/// With gaps, the check passes a block with no LF after one with an LF, and never
/// two in a row: lines of up to 511 octets pass wherever they fall, lines of 768 or
/// more never do, and between the two it depends on where the LFs fall; without
/// gaps, every block needs its LF. Both builds agree with the model.
#[test]
fn gaps_pass_one_block_without_lf() {
    // Each body, and whether the run with gaps and the one without cover it.
    let bodies = [
        (
            lines_of(&[40, 300, 511, 257, 400, 480], 40_000),
            Some(true),
            false,
        ),
        (lines_of(&[90, 767, 30, 700, 512, 600], 40_000), None, false),
        (
            lines_of(&[40, 768, 40, 800, 20], 40_000),
            Some(false),
            false,
        ),
        (lines_of(&[40, 72, 255, 2], 40_000), Some(true), true),
    ];
    for (body, with_gaps, without) in &bodies {
        for (gaps, whole) in [(true, *with_gaps), (false, Some(*without))] {
            let want = reference_run(body, gaps, usize::MAX);
            assert_eq!(clean_run(body, 0, gaps), want * BLOCK, "gaps {gaps}");
            for arch in [pulp::Arch::Scalar, pulp::Arch::new()] {
                let (n, _) = run_on::<false>(arch, body, RUN, false, gaps, gaps);
                assert_eq!(n, want.min(RUN), "gaps {gaps}");
            }
            if let Some(whole) = whole {
                let covered = want * BLOCK + BLOCK + 2 >= body.len();
                assert_eq!(covered, whole, "gaps {gaps}: {want} blocks");
            }
        }
        // Every line is checked: after the first LF, none that ends in the run
        // reaches the bound.
        let n = clean_run(body, 0, true);
        let first = body.iter().position(|&b| b == LF).unwrap() + 1;
        if n > first {
            assert!(vouches(body, first, n - first, true, true));
        }
    }
    // With gaps, the first block of a run may have no LF (the line open there is
    // the caller's to bound), but not the first two.
    let mut s = vec![b'a'; 100]; // the first LF at 399, in block 1
    s.extend_from_slice(&lines_of(&[300], 4000));
    assert!(clean_run(&s, 0, true) + 2 * BLOCK >= s.len());
    assert_eq!(clean_run(&s, 0, false), 0);
    s[..400].fill(b'a'); // the first LF at 699, in block 2
    assert_eq!(clean_run(&s, 0, true), BLOCK);
}

/// The baseline build of the check and the one picked at run time (AVX2 on most
/// x86-64 machines) agree with the reference on every octet position of CR, LF
/// and "." edits, so a machine without AVX2 runs the same check.
#[test]
fn check_builds_agree_with_the_reference() {
    let clean = lines(8);
    let mut cases = 0;
    for at in 0..BLOCK + 2 {
        for b in [CR, LF, DOT, 0, b'x'] {
            for second in [
                None,
                Some((at + 1) % (BLOCK + 2)),
                Some((at + 37) % (BLOCK + 2)),
            ] {
                let mut w: [u8; BLOCK + 2] = clean[3..BLOCK + 5].try_into().unwrap();
                w[at] = b;
                if let Some(j) = second {
                    w[j] = [LF, DOT, CR][at % 3];
                }
                let want = reference(&w);
                assert_eq!(
                    check_on(pulp::Arch::Scalar, &w),
                    want,
                    "{at} {b} {second:?}"
                );
                assert_eq!(check_on(pulp::Arch::new(), &w), want, "{at} {b} {second:?}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, (BLOCK + 2) * 15);
    // The window must be exactly one block and two octets.
    assert_eq!(
        check_on(pulp::Arch::new(), &clean[..BLOCK + 1]),
        Verdict::Refused
    );
}

/// A run of blocks stops at the first refused one, and after the first dot line
/// when asked to; both builds agree.
#[test]
fn check_run_stops_where_it_should() {
    let mut s = lines(60); // 2280 octets: 8 blocks and change
    s[38 * 20] = DOT; // a dot line in block 2 (octet 760)
    s[38 * 40 - 1] = b'x'; // a bare CR in block 5 (octet 1519)
    for arch in [pulp::Arch::Scalar, pulp::Arch::new()] {
        let run = |s: &[u8], max, stop| run_on::<false>(arch, s, max, stop, false, false);
        assert_eq!(run(&s, 64, false), (5, 1 << 2));
        assert_eq!(run(&s, 64, true), (3, 1 << 2));
        assert_eq!(run(&s, 2, false), (2, 0));
        assert_eq!(run(&s[..BLOCK + 1], 64, false), (0, 0));
    }
}

/// `wire` with the transparency dots of its first `k` octets dropped: those that
/// start a line after a real CRLF, from its third octet on (a dot at the first or
/// second octet is the decoder's), as `copy_checked` drops them.
fn unstuffed_prefix(wire: &[u8], k: usize) -> Vec<u8> {
    (0..k)
        .filter(|&i| !(i >= 2 && wire[i] == DOT && wire[i - 1] == LF && wire[i - 2] == CR))
        .map(|i| wire[i])
        .collect()
}

/// The first octet of `wire` from which the end of data starts (a "." after a real
/// CRLF, then CRLF), from its third octet on.
fn end_of_data(wire: &[u8]) -> Option<usize> {
    (2..wire.len()).find(|&i| {
        wire[i] == DOT && wire[i - 2..i] == *b"\r\n" && wire.get(i + 1..i + 3) == Some(b"\r\n")
    })
}

/// `copy_checked` leaves the wire in the buffer, the first `v` octets it reports with
/// their transparency dots dropped when asked to (and only then), the rest as it came;
/// it drops no dot past the end of data, never ends those octets right after a dot it
/// dropped, and vouches for what `clean_run` passes: without dropping, up to the first
/// block with a dot line, with it past dot lines to the end of data. Whatever the
/// buffer held, wherever the input ends and whatever stops the run.
#[test]
fn copy_checked_is_copy_then_clean_run() {
    let clean = lines(200);
    let mut bodies = vec![clean.clone()];
    for bad in [&b"\r\n."[..], b"\n", b"\r", b"\r\r\n"] {
        for at in [0, 1, 37, 255, 256, 257, 258, 3000, 4095, 4096, 4097, 5000] {
            let mut s = clean.clone();
            s[at..at + bad.len()].copy_from_slice(bad);
            bodies.push(s);
        }
    }
    // Dot lines, many of them, some stuffed twice (a line of content "." or ".x").
    for every in [1, 3] {
        let mut s = clean.clone();
        for line in (0..200).step_by(every) {
            s[38 * line] = DOT;
            if line % 5 == 0 {
                s[38 * line + 1] = DOT;
            }
        }
        bodies.push(s);
    }
    // A dot line at every place around a block's end, and the end of data there.
    for at in [
        BLOCK * 3 - 3,
        BLOCK * 3 - 2,
        BLOCK * 3 - 1,
        BLOCK * 3,
        BLOCK * 3 + 1,
    ] {
        for tail in [&b"..a"[..], b".\r\n", b"..\r\n", b".\ra"] {
            let mut s = clean.clone();
            s[at - 2..at].copy_from_slice(b"\r\n");
            s[at..at + tail.len()].copy_from_slice(tail);
            bodies.push(s);
        }
    }
    // Lines longer than a block, which pass only with gaps, some of them dotted.
    let mut long = lines_of(&[300, 40, 511, 700, 257, 800], 8000);
    for (i, at) in memchr::memchr_iter(LF, &long.clone()).enumerate() {
        if i % 4 == 1 {
            long[at + 1] = DOT;
        }
    }
    bodies.push(long);
    bodies.push(lines_of(&[40, 300, 511, 257, 400, 480], 8000));
    for (body, gaps) in bodies.iter().flat_map(|b| [(b, false), (b, true)]) {
        for held in [&b""[..], b"\r", b"a", b".", b"ab", b"\n."] {
            for len in [0, 1, 255, 256, 257, 258, 4096, 4354, body.len()] {
                for unstuff in [false, true] {
                    let mut buf = BytesMut::from(held);
                    let (v, ()) = copy_checked::<false, _>(
                        &body[..len],
                        &mut buf,
                        gaps,
                        unstuff,
                        |r, b, _| b.extend_from_slice(r),
                    );
                    let mut wire = held.to_vec();
                    wire.extend_from_slice(&body[..len]);
                    let case = format!("held {held:?}, len {len}, gaps {gaps}, {unstuff}");
                    // The wire octets the first `v` of the buffer stand for.
                    let k = wire.len() + v - buf.len();
                    assert_eq!(&buf[v..], &wire[k..], "{case}");
                    let dropping = unstuff && held.is_empty();
                    let head = if dropping {
                        unstuffed_prefix(&wire, k)
                    } else {
                        wire[..k].to_vec()
                    };
                    assert_eq!(&buf[..v], &head[..], "{case}");
                    let passed = reference_run(&wire, gaps, MAX_BLOCKS) * BLOCK;
                    let first_dot = (0..wire.len())
                        .find(|&i| i >= 2 && wire[i] == DOT && wire[i - 1] == LF)
                        .unwrap_or(usize::MAX);
                    if dropping {
                        let end = end_of_data(&wire).unwrap_or(usize::MAX);
                        assert!(k <= end, "{case}: {k} past the end of data at {end}");
                        // Never right after a dot dropped.
                        assert!(
                            k < 3 || !(wire[k - 1] == DOT && wire[k - 3..k - 1] == *b"\r\n"),
                            "{case}: ends after a dropped dot"
                        );
                        let want = passed.min(end);
                        assert!(k + 1 >= want && k <= want, "{case}: {k} for {want}");
                    } else {
                        // Up to the block with the first dot line.
                        let want = passed.min(first_dot.saturating_sub(2) / BLOCK * BLOCK);
                        assert_eq!(k, want, "{case}");
                    }
                    if v > 0 {
                        let from = usize::from(buf[0] == LF);
                        assert!(vouches(&buf, from, v - from, gaps, !dropping), "{case}");
                    }
                }
            }
        }
    }
}

fn decode_all(body: &[u8], max: Option<usize>) -> (Vec<u8>, usize) {
    let mut dec = DataDecoder::new(BareLineEndings::Reject, max);
    let mut buf = BytesMut::from(body);
    buf.extend_from_slice(b".\r\n");
    let mut out = Vec::new();
    loop {
        match dec.next(&mut buf) {
            DataStep::Chunk(c) => out.extend_from_slice(&c),
            DataStep::End => break,
            DataStep::NeedMore => panic!("whole body given"),
        }
    }
    (out, dec.fast)
}

/// Fed by `push` in 64 KiB reads, a body with a dot line every 30 lines goes nearly
/// all through the fast path (the blocks `push` checked).
#[test]
fn pushed_dotted_body_takes_the_fast_path() {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
    let mut body = Vec::new();
    for i in 0..20_000 {
        if i % 30 == 0 {
            body.extend_from_slice(b"..a line that starts with a dot\r\n");
        }
        body.extend_from_slice(line);
    }
    body.extend_from_slice(b".\r\n");
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    push_reads(&mut dec, &body, 64 * 1024);
    assert!(dec.is_done());
    assert!(
        dec.fast * 100 >= body.len() * 97,
        "{} of {}",
        dec.fast,
        body.len()
    );
}

/// After a stretch of lines of one to two blocks, where the check is refused at
/// every try and tried ever less often, the fast path takes up a stretch of short
/// lines again within a few KiB.
#[test]
fn fast_path_resumes_after_long_lines() {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
    let mut body = Vec::new();
    for _ in 0..300 {
        body.extend_from_slice(&[b'x'; 398]);
        body.extend_from_slice(b"\r\n");
    }
    let long = body.len();
    body.extend_from_slice(&line.repeat(2000));
    for max in [None, Some(1000)] {
        let (out, fast) = decode_all(&body, max);
        assert_eq!(out, body);
        let short = body.len() - long;
        assert!(
            fast >= short - 8 * 1024,
            "fast path took {fast} of the {short} octets of short lines (max {max:?})"
        );
    }
}

/// The fast path takes nearly all of a clean body, and resumes after the blocks it
/// has to refuse, with and without a line-length limit.
#[test]
fn fast_path_takes_most_of_a_body() {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
    let plain: Vec<u8> = line.repeat(2000);
    let mut dotted = Vec::new();
    for i in 0..2000 {
        if i % 30 == 0 {
            dotted.extend_from_slice(b"..a line that starts with a dot\r\n");
        }
        dotted.extend_from_slice(line);
    }
    // Lines of 600 octets: refused blocks that do not end the call, so the fast
    // path must find its way back in mid-buffer.
    let mut long = Vec::new();
    for i in 0..2000 {
        if i % 40 == 0 {
            long.extend_from_slice(&[b'x'; 598]);
            long.extend_from_slice(b"\r\n");
        }
        long.extend_from_slice(line);
    }
    for (body, share) in [(&plain, 99), (&dotted, 95), (&long, 60)] {
        for max in [None, Some(1000)] {
            let (out, fast) = decode_all(body, max);
            let dots = body.windows(3).filter(|w| w == b"\n..").count()
                + usize::from(body.starts_with(b".."));
            assert_eq!(out.len(), body.len() - dots);
            assert!(
                fast * 100 >= body.len() * share,
                "fast path took {fast} of {} octets (max {max:?})",
                body.len()
            );
        }
    }
}

/// The tolerant verdict, octet by octet: a CR among octets 0 to 255 or an LF among
/// octets 1 to 256; a dot line where CR, LF and "." follow one another from an octet
/// of the block.
fn reference_tolerant(w: &[u8]) -> Verdict {
    let end = w[..BLOCK].contains(&CR) || w[1..=BLOCK].contains(&LF);
    let dot = (0..BLOCK).any(|k| w[k..k + 3] == [CR, LF, DOT]);
    match (end, dot) {
        (false, _) => Verdict::Refused,
        (true, false) => Verdict::Clean,
        (true, true) => Verdict::DotLine,
    }
}

/// Octets drawn mostly from CR, LF, "." and one letter, so that every arrangement of
/// them at every offset, the block edges included, comes up.
fn crlf_soup(seed: u64, len: usize, letters: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % (3 + letters) {
                0 => CR,
                1 => LF,
                2 => DOT,
                _ => b'a',
            }
        })
        .collect()
}

/// The tolerant check, both builds, against its model on every block of many bodies;
/// and where `clean_run_tolerant` stops: at the first block it refuses, or at the
/// first line start with "." after a real CRLF (never after a bare LF).
#[test]
fn tolerant_check_agrees_with_the_reference() {
    for seed in 1..200u64 {
        let s = crlf_soup(seed, 8 * BLOCK + 2, seed % 120);
        let mut want_run = None;
        let mut blocks = 0;
        for k in 0..8 {
            let w = &s[k * BLOCK..k * BLOCK + BLOCK + 2];
            let v = reference_tolerant(w);
            for arch in [pulp::Arch::Scalar, pulp::Arch::new()] {
                let (n, dots) = run_on::<true>(arch, w, 1, false, false, false);
                let got = match (n, dots) {
                    (0, _) => Verdict::Refused,
                    (_, 0) => Verdict::Clean,
                    _ => Verdict::DotLine,
                };
                assert_eq!(got, v, "seed {seed} block {k}");
            }
            if want_run.is_none() {
                match v {
                    Verdict::Clean => blocks += 1,
                    Verdict::Refused | Verdict::NoLf => want_run = Some(blocks * BLOCK),
                    Verdict::DotLine => {
                        let d = (0..BLOCK).find(|&j| w[j..j + 3] == [CR, LF, DOT]);
                        want_run = d.map(|d| blocks * BLOCK + d + 2);
                    }
                }
            }
        }
        let want = want_run.unwrap_or(8 * BLOCK);
        assert_eq!(clean_run_tolerant(&s, 0), want, "seed {seed}");
    }
    // One line ending alone, at the edges of the octets the check looks at.
    for (b, at, passes) in [
        (CR, 0, true),
        (CR, BLOCK - 1, true),
        (CR, BLOCK, false),
        (LF, 0, false),
        (LF, 1, true),
        (LF, BLOCK, true),
        (LF, BLOCK + 1, false),
    ] {
        let mut w = [b'a'; BLOCK + 2];
        w[at] = b;
        assert_eq!(
            reference_tolerant(&w) == Verdict::Clean,
            passes,
            "{b} at {at}"
        );
        for arch in [pulp::Arch::Scalar, pulp::Arch::new()] {
            let (n, _) = run_on::<true>(arch, &w, 1, false, false, false);
            assert_eq!(n == 1, passes, "{b} at {at}");
        }
    }
}

/// `body` less its transparency dots: the "." of each "\r\n." (after a bare LF, a "."
/// is content).
fn unstuffed(body: &[u8]) -> Vec<u8> {
    let mut want = body.to_vec();
    let mut i = 0;
    while let Some(p) = want[i..].windows(3).position(|w| w == b"\r\n.") {
        want.remove(i + p + 2);
        i += p + 3;
    }
    want
}

/// Once a body has shown a bare LF, lines that end in bare LFs go through the block
/// check as content (they went line by line), and the output is what the octet-by-
/// octet reading gives: everything passed through, transparency dots dropped only
/// after real CRLFs, over-long lines still seen.
#[test]
fn bare_lf_body_takes_the_fast_path() {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\n";
    let mut body = Vec::new();
    for i in 0..2000 {
        match i % 30 {
            0 => body.extend_from_slice(b"\r\n..a transparency dot\r\n"),
            10 => body.extend_from_slice(b"\n.a dot after a bare LF\n"),
            20 => body.extend_from_slice(b"a bare CR\r.\r"),
            _ => {}
        }
        body.extend_from_slice(line);
    }
    body.extend_from_slice(b"\r\n");
    let want = unstuffed(&body);
    for max in [None, Some(1000)] {
        let (out, fast) = decode_all(&body, max);
        assert_eq!(out, want, "max {max:?}");
        assert!(
            fast * 100 >= body.len() * 95,
            "fast path took {fast} of {} octets (max {max:?})",
            body.len()
        );
    }
    // Lines that end in bare CRs alone: each CR ends a line for its length.
    let cr_only =
        b"a line as an old Macintosh ended it, with a CR and nothing after it.\r".repeat(2000);
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    let mut buf = BytesMut::from(&cr_only[..]);
    buf.extend_from_slice(b"\r\n.\r\n");
    let mut out = Vec::new();
    while let DataStep::Chunk(c) = dec.next(&mut buf) {
        out.extend_from_slice(&c);
    }
    assert_eq!(out.len(), cr_only.len() + 2);
    assert!(dec.is_done() && dec.saw_bare_line_ending() && !dec.saw_long_line());
    assert!(dec.fast * 100 >= cr_only.len() * 95, "fast {}", dec.fast);
    // A bare-LF line over the limit among them is seen, in or out of the blocks.
    for at in [0, 40_000, 100_000] {
        let mut long = body.clone();
        let p = at + long[at..].iter().position(|&b| b == LF).unwrap_or(0);
        long.splice(p..p, std::iter::repeat_n(b'y', 999));
        let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
        let mut buf = BytesMut::from(&long[..]);
        buf.extend_from_slice(b".\r\n");
        while let DataStep::Chunk(_) = dec.next(&mut buf) {}
        assert!(
            dec.is_done() && dec.saw_bare_line_ending() && dec.saw_long_line(),
            "{at}"
        );
    }
}

/// Once the decoder has seen a bare LF, `push` checks later reads by the tolerant rule
/// while it copies them, and drops only the dots after a real CRLF: the decoder takes
/// each read through the blocks `push` vouched for, in a chunk or two, dot lines and
/// all, and the output is exact.
#[test]
fn pushed_bare_lf_body_is_checked_while_copied() {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\n";
    let mut body = Vec::new();
    for i in 0..4000 {
        // Dot lines of both kinds in one block, the bare LF's after the CRLF's or before.
        match i % 30 {
            0 => body.extend_from_slice(b"\r\n..a transparency dot\n.then one after an LF\n"),
            15 => body.extend_from_slice(b"\n.a dot after a bare LF\r\n..then a real one\r\n"),
            _ => {}
        }
        body.extend_from_slice(line);
    }
    body.extend_from_slice(b"\r\n");
    let want = unstuffed(&body);
    body.extend_from_slice(b".\r\n");
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    let (mut buf, mut out, mut vouched) = (BytesMut::new(), Vec::new(), 0);
    for (k, read) in body.chunks(64 * 1024).enumerate() {
        dec.push(read, &mut buf);
        let v = dec.vouched.map_or(0, |v| v.checked);
        assert!(
            k == 0 || v * 100 >= read.len() * 98,
            "read {k}: {v} vouched"
        );
        vouched += v;
        let mut chunks = 0;
        while let DataStep::Chunk(c) = dec.next(&mut buf) {
            out.extend_from_slice(&c);
            chunks += 1;
        }
        assert!(k == 0 || chunks <= 3, "read {k}: {chunks} chunks");
    }
    assert!(dec.is_done() && dec.saw_bare_line_ending() && !dec.saw_long_line());
    assert_eq!(out, want);
    assert!(vouched * 2 >= body.len(), "{vouched} of {}", body.len());
}
