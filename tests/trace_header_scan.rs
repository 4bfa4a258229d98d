//! The other trace fields (`Return-Path:`, `Delivered-To:`) and the header scanner behind
//! hop counting (RFC 5321 6.3): known answers and a line model under any split.

mod common;

use common::client::fp as rcpt;

use common::esc;
use proptest::prelude::*;
use smtp_sansio::trace::{HeaderScan, delivered_to, return_path};
use smtp_sansio::types::{ForwardPath, Mailbox, ReversePath};

// ---------------------------------------------------------------- Return-Path, Delivered-To

#[test]
fn return_path_writes_the_reverse_path_and_the_null_path() {
    let from = ReversePath::Mailbox(Mailbox::parse("alice@example.org").unwrap());
    assert_eq!(return_path(&from), b"Return-Path: <alice@example.org>\r\n");
    assert_eq!(return_path(&ReversePath::Null), b"Return-Path: <>\r\n");
    let q = ReversePath::Mailbox(Mailbox::parse("\"a b\"@[192.0.2.1]").unwrap());
    assert_eq!(
        esc(&return_path(&q)),
        esc(b"Return-Path: <\"a b\"@[192.0.2.1]>\r\n")
    );
}

#[test]
fn delivered_to_names_the_recipient() {
    assert_eq!(
        delivered_to(&rcpt("bob@example.net")),
        b"Delivered-To: bob@example.net\r\n"
    );
    assert_eq!(
        delivered_to(&ForwardPath::Postmaster),
        b"Delivered-To: Postmaster\r\n"
    );
}

// ---------------------------------------------------------------- HeaderScan

struct Scan {
    received: usize,
    message_id: bool,
    date: bool,
    end: Option<usize>,
}

fn scan_split(msg: &[u8], cuts: &[usize]) -> Scan {
    let mut s = HeaderScan::new();
    let mut end = None;
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (msg.len() + 1)).collect();
    points.sort_unstable();
    points.push(msg.len());
    for p in points {
        if let Some(off) = s.feed(&msg[start..p]) {
            assert!(end.is_none(), "the end reported twice");
            assert!(!s.in_header());
            end = Some(start + off);
        }
        start = p;
    }
    assert_eq!(s.in_header(), end.is_none());
    Scan {
        received: s.received(),
        message_id: s.has_message_id(),
        date: s.has_date(),
        end,
    }
}

fn scan(msg: &[u8]) -> Scan {
    scan_split(msg, &[])
}

#[test]
fn header_scan_counts_received_fields_in_any_case() {
    let msg = b"Received: a\r\nRECEIVED: b\r\nreceived:c\r\nReCeIvEd: d\r\nSubject: x\r\n\r\nReceived: body\r\n";
    let s = scan(msg);
    assert_eq!(s.received, 4);
    assert_eq!(s.end, Some(msg.len() - 18));
}

#[test]
fn header_scan_ignores_continuation_lines_and_lookalikes() {
    let msg = b"Subject: x\r\n Received: folded\r\n\tReceived: folded\r\nX-Received: y\r\n\
                Received-SPF: pass\r\nReceivedX: z\r\nReceived x: z\r\nReceived\r\n\r\n";
    let s = scan(msg);
    assert_eq!(s.received, 0);
    assert!(!s.message_id && !s.date);
}

#[test]
fn header_scan_tolerates_obsolete_space_before_the_colon() {
    let s = scan(b"Received : a\r\nReceived\t\t: b\r\nDate \t: x\r\nMessage-ID  :<a@b>\r\n\r\n");
    assert_eq!(s.received, 2);
    assert!(s.date && s.message_id);
}

#[test]
fn header_scan_finds_message_id_and_date() {
    let s = scan(b"message-id: <a@b>\r\n\r\n");
    assert!(s.message_id && !s.date);
    let s = scan(b"DATE: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\n");
    assert!(s.date && !s.message_id);
    let s = scan(b"Resent-Date: x\r\nMessage-IDs: y\r\nDat: z\r\n\r\nDate: body\r\n");
    assert!(!s.date && !s.message_id);
}

#[test]
fn header_scan_stops_at_the_first_empty_line() {
    let msg = b"Received: a\r\n\r\nReceived: b\r\nDate: x\r\n\r\n";
    let s = scan(msg);
    assert_eq!((s.received, s.date, s.end), (1, false, Some(13)));
}

#[test]
fn header_scan_empty_header_ends_at_offset_zero() {
    assert_eq!(scan(b"\r\nReceived: x\r\n").end, Some(0));
    assert_eq!(scan(b"\r\nReceived: x\r\n").received, 0);
    assert_eq!(scan(b"").end, None);
}

#[test]
fn header_scan_without_empty_line_never_ends() {
    let s = scan(b"Received: a\r\nSubject: b\r\n");
    assert_eq!((s.received, s.end), (1, None));
}

#[test]
fn header_scan_split_inside_crlf_and_field_name() {
    let msg = b"Received: a\r\nDate: b\r\n\r\nbody";
    for cut in 0..=msg.len() {
        for cut2 in cut..=msg.len() {
            let s = scan_split(msg, &[cut, cut2]);
            assert_eq!(
                (s.received, s.date, s.end),
                (1, true, Some(22)),
                "cuts {cut} {cut2}"
            );
        }
    }
}

/// A line-at-a-time model of the scanner, written from RFC 5322 2.2 and 4.5.
fn model(msg: &[u8]) -> Scan {
    let mut out = Scan {
        received: 0,
        message_id: false,
        date: false,
        end: None,
    };
    let mut pos = 0;
    while pos < msg.len() {
        let line_end = msg[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(msg.len(), |n| pos + n + 1);
        let line = &msg[pos..line_end];
        if line[0] == b'\r' || line[0] == b'\n' {
            out.end = Some(pos);
            return out;
        }
        if line[0] != b' ' && line[0] != b'\t' {
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let mut name = line[..colon].to_ascii_lowercase();
                while name.last().is_some_and(|&b| b == b' ' || b == b'\t') {
                    name.pop();
                }
                if name == b"received" {
                    out.received += 1;
                }
                out.message_id |= name == b"message-id";
                out.date |= name == b"date";
            }
        }
        pos = line_end;
    }
    out
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        &b"Received: from a by b; x\r\n"[..],
        b"received :x\r\n",
        b"RECEIVED\t:x\r\n",
        b" Received: cont\r\n",
        b"\tReceived: cont\r\n",
        b"Message-ID: <a@b>\r\n",
        b"Date: Thu, 03 Dec 2026\r\n",
        b"X-Received: q\r\n",
        b"Subject: Received: no\r\n",
        b"Rece",
        b"ived:",
        b"\r\n",
        b"\r",
        b"\n",
        b"body Received: x\r\n",
        b"Dat",
        b"e:",
    ]);
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn header_scan_matches_the_line_model_for_any_split(
        msg in message(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let whole = scan(&msg);
        let split = scan_split(&msg, &cuts);
        let want = model(&msg);
        prop_assert_eq!(
            (whole.received, whole.message_id, whole.date, whole.end),
            (want.received, want.message_id, want.date, want.end)
        );
        prop_assert_eq!(
            (split.received, split.message_id, split.date, split.end),
            (want.received, want.message_id, want.date, want.end)
        );
    }

    #[test]
    fn header_scan_byte_at_a_time_matches_whole(msg in message()) {
        let cuts: Vec<usize> = (0..=msg.len()).collect();
        let a = scan_split(&msg, &cuts);
        let b = scan(&msg);
        prop_assert_eq!((a.received, a.message_id, a.date, a.end), (b.received, b.message_id, b.date, b.end));
    }
}
