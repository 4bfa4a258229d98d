//! Properties of the server machine (design.md "Properties worth proving"):
//! split invariance, and bounded, well-formed output for arbitrary input.

mod common;

use common::{Harness, Policy, esc};
use proptest::prelude::*;
use smtp_sansio::data::BareLineEndings;
use smtp_sansio::decode_reply;
use smtp_sansio::server::ServerConfig;

/// Small limits, so that the abort paths (too big, long line, too many recipients,
/// error limit) are reached by short scripts.
fn small_cfg(bare: BareLineEndings) -> ServerConfig {
    let mut c = ServerConfig::default();
    c.bare_line_endings = bare;
    c.limits.text_line = Some(40);
    c.limits.message_size = Some(300);
    c.limits.recipients = 3;
    c.limits.errors = 12;
    c
}

/// Bytes that matter to framing, mostly: plain text, dots, CR, LF, space; now and then
/// anything. A mapped `u8` is much cheaper to generate than a union of strategies.
fn pick(b: u8) -> u8 {
    const TABLE: &[u8] = b"aaaaaaaa....\r\r\r\n\n\n  MDB";
    match TABLE.get(usize::from(b) % (TABLE.len() + 2)) {
        Some(&c) => c,
        None => b,
    }
}

fn body_byte() -> impl Strategy<Value = u8> {
    any::<u8>().prop_map(pick)
}

/// One client action of a plausible session, as bytes.
fn item() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => Just(b"EHLO client.example\r\n".to_vec()),
        1 => Just(b"HELO client.example\r\n".to_vec()),
        3 => Just(b"MAIL FROM:<a@example.com>\r\n".to_vec()),
        1 => Just(b"MAIL FROM:<> SIZE=100 BODY=8BITMIME\r\n".to_vec()),
        3 => Just(b"RCPT TO:<b@example.com>\r\n".to_vec()),
        1 => Just(b"RCPT TO:<bad@example.com>\r\n".to_vec()),
        3 => prop::collection::vec(body_byte(), 0..120).prop_map(|body| {
            [&b"DATA\r\n"[..], &body, b"\r\n.\r\n"].concat()
        }),
        2 => (prop::collection::vec(any::<u8>(), 0..40), any::<bool>()).prop_map(|(chunk, last)| {
            let head = format!("BDAT {}{}\r\n", chunk.len(), if last { " LAST" } else { "" });
            [head.as_bytes(), &chunk].concat()
        }),
        1 => Just(b"RSET\r\n".to_vec()),
        1 => Just(b"NOOP\r\n".to_vec()),
        1 => Just(b"VRFY x\r\n".to_vec()),
        1 => Just(b"FOO bar\r\n".to_vec()),
        1 => Just(b"MAIL FROM:broken\r\n".to_vec()),
        1 => prop::collection::vec(body_byte(), 0..60).prop_map(|mut l| {
            l.extend_from_slice(b"\r\n");
            l
        }),
        1 => Just(b"QUIT\r\n".to_vec()),
    ]
}

fn session() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(item(), 0..25).prop_map(|items| items.concat())
}

/// Splits `input` at the given points.
fn pieces<'a>(input: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for p in points {
        out.push(&input[prev..p]);
        prev = p;
    }
    out.push(&input[prev..]);
    out
}

fn run(cfg: ServerConfig, reads: &[&[u8]]) -> Harness {
    let mut h = Harness::new(cfg, Policy::accept_all().refuse_rcpt_containing("bad"));
    for r in reads {
        h.feed(r);
    }
    h.eof();
    h
}

/// Every byte the server wrote parses as whole replies, none over 512 octets a line.
fn assert_valid_replies(out: &[u8]) -> Result<(), TestCaseError> {
    let mut rest = out;
    while !rest.is_empty() {
        match decode_reply(rest) {
            Ok((r, _)) => rest = r,
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "bad reply ({e}) at \"{}\"",
                    esc(&rest[..rest.len().min(200)])
                )));
            }
        }
    }
    for line in out.split(|&b| b == b'\n') {
        prop_assert!(line.len() <= 511, "reply line of {} octets", line.len() + 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A session fed whole, or split at arbitrary points, gives the same replies and the
    /// same events (message bodies compared joined).
    #[test]
    fn split_invariance(
        input in session(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        normalize in any::<bool>(),
    ) {
        let bare = if normalize { BareLineEndings::Normalize } else { BareLineEndings::Reject };
        let whole = run(small_cfg(bare), &[&input]);
        let split = run(small_cfg(bare), &pieces(&input, &cuts));
        prop_assert_eq!(esc(&whole.out), esc(&split.out), "input \"{}\"", esc(&input));
        prop_assert_eq!(&whole.log, &split.log, "input \"{}\"", esc(&input));
        assert_valid_replies(&whole.out)?;
    }

    /// Byte-at-a-time is the most extreme split.
    #[test]
    fn split_invariance_byte_by_byte(input in session()) {
        let bare = BareLineEndings::Reject;
        let whole = run(small_cfg(bare), &[&input]);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let split = run(small_cfg(bare), &bytes);
        prop_assert_eq!(esc(&whole.out), esc(&split.out), "input \"{}\"", esc(&input));
        prop_assert_eq!(&whole.log, &split.log, "input \"{}\"", esc(&input));
    }

    /// Arbitrary bytes in arbitrary pieces, every ticket accepted: no panic, every reply
    /// well formed, output per read bounded, message chunks no larger than the input.
    #[test]
    fn arbitrary_input_is_answered_with_valid_replies(
        reads in prop::collection::vec(prop::collection::vec(body_byte(), 0..160), 0..20),
        prefix in prop::sample::select(vec![
            &b""[..],
            b"EHLO x\r\n",
            b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n",
            b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 100\r\n",
        ]),
    ) {
        let mut h = Harness::new(small_cfg(BareLineEndings::Reject), Policy::accept_all());
        h.feed(prefix);
        for r in &reads {
            let before = h.out.len();
            h.feed(r);
            let written = h.out.len() - before;
            // At most one reply (plus a possible 421) per input line, each a few dozen
            // octets; never output out of proportion to the input.
            prop_assert!(written <= 200 + r.len() * 80, "{} octets for {} in", written, r.len());
            prop_assert!(h.body.len() <= 300 + 200, "body kept growing: {}", h.body.len());
        }
        h.eof();
        assert_valid_replies(&h.out)?;
        prop_assert!(h.server.is_closed());
    }
}

/// Regression: the reason a message fails must not depend on where reads were split.
/// A long line followed by a bare LF used to give `550 5.6.0` when both came in one read
/// and `500 5.5.2` when the read ended between them.
#[test]
fn abort_reason_independent_of_read_boundaries() {
    let open = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n".to_vec();
    let long = vec![b'a'; 50];
    let tail = b"\nb\r\n.\r\n".to_vec();
    let input = [open.clone(), long.clone(), tail.clone()].concat();
    let cfg = small_cfg(BareLineEndings::Reject);
    let whole = run(cfg.clone(), &[&input]);
    let split = run(cfg.clone(), &[&open, &long, &tail]);
    assert_eq!(esc(&whole.out), esc(&split.out));
    assert_eq!(whole.log, split.log);
    // Too big and bare LF in one read, or apart.
    let big = vec![b'a'; 30];
    let mut body = Vec::new();
    for _ in 0..12 {
        body.extend_from_slice(&big);
        body.extend_from_slice(b"\r\n");
    }
    let input = [open.clone(), body.clone(), tail.clone()].concat();
    let whole = run(cfg.clone(), &[&input]);
    let split = run(cfg, &[&open, &body, &tail]);
    assert_eq!(esc(&whole.out), esc(&split.out));
    assert_eq!(whole.log, split.log);
}
