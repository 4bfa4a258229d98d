//! Replies (and EHLO capability lists) built through the public constructors.
//!
//! Asserts "no value the API can build is invalid": every `Reply` made with `Reply::new`,
//! `Reply::with_status` or `Reply::from_lines` from codes, statuses and texts the
//! constructors accept encodes to bytes that `decode_reply` reads back equal, with
//! nothing left over and no CR/LF inside a line; `with_status` replies report their status
//! and their texts; `Capabilities` survive `to_reply` -> wire -> `from_reply`.
#![no_main]


use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use smtp_sansio::decode_reply;
use smtp_sansio::types::{
    Capabilities, Capability, EhloParam, EnhancedStatus, Mechanism, Reply, ReplyCode, Text,
};

fn text(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    if u.ratio(1, 3)? {
        return String::arbitrary(u);
    }
    let chars: Vec<char> = "ab 2.0.5-\t\r\n\u{0}é€😀\u{85}\u{2028}".chars().collect();
    let n = u.int_in_range(0..=20)?;
    let mut s = String::new();
    for _ in 0..n {
        s.push(*u.choose(&chars)?);
    }
    Ok(s)
}

fn texts(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<Text>> {
    let mut v = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        if let Ok(t) = Text::new(text(u)?) {
            v.push(t);
        }
    }
    Ok(v)
}

fn capability(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Capability<'static>>> {
    Ok(Some(match u.int_in_range(0..=16)? {
        0 => Capability::Size(Option::<u64>::arbitrary(u)?),
        1 => Capability::Pipelining,
        2 => Capability::EightBitMime,
        3 => Capability::SmtpUtf8,
        4 => Capability::StartTls,
        5 => {
            let mut m = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                if let Ok(x) = Mechanism::new(String::arbitrary(u)?) {
                    m.push(x.into_owned());
                }
                if bool::arbitrary(u)? {
                    m.push(Mechanism::PLAIN);
                }
            }
            Capability::Auth(m)
        }
        6 => Capability::Chunking,
        7 => Capability::BinaryMime,
        8 => Capability::Dsn,
        9 => Capability::EnhancedStatusCodes,
        10 => Capability::RequireTls,
        11 => {
            // Any text to the checked constructor; what it accepts must round-trip.
            Capability::MtPriority(EhloParam::new(text(u)?).ok())
        }
        12 => Capability::Vrfy,
        13 => Capability::Expn,
        14 => Capability::Help,
        _ => {
            let k = String::arbitrary(u)?;
            let ps: Vec<String> = Vec::arbitrary(u)?;
            let ps: Vec<&str> = ps.iter().map(String::as_str).take(4).collect();
            match Capability::other(&k, &ps) {
                Ok(c) => c,
                Err(_) => return Ok(None),
            }
        }
    }))
}

fn check_wire(r: &Reply) -> Reply {
    let wire = r.to_bytes();
    let lines = wire[..]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(
        lines,
        r.lines().len(),
        "a line break inside a line: {wire:?}"
    );
    let (rest, back) = decode_reply(&wire)
        .unwrap_or_else(|e| panic!("built reply does not parse ({e}): {wire:?} from {r:?}"));
    assert!(
        rest.is_empty(),
        "encoded reply is more than one reply: {wire:?}"
    );
    assert_eq!(&back, r, "round trip changed the reply: {wire:?}");
    back
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(code) = u16::arbitrary(&mut u) else {
        return;
    };
    let Ok(code) = ReplyCode::new(code % 1000) else {
        return;
    };
    let Ok(kind) = u.int_in_range(0..=3u8) else {
        return;
    };
    match kind {
        0 => {
            let Ok(s) = text(&mut u) else { return };
            let Ok(t) = Text::new(s) else { return };
            let r = Reply::new(code, t.clone());
            check_wire(&r);
            assert_eq!(r.lines(), &[t]);
        }
        1 => {
            let (Ok(c), Ok(s), Ok(d)) = (
                u8::arbitrary(&mut u),
                u16::arbitrary(&mut u),
                u16::arbitrary(&mut u),
            ) else {
                return;
            };
            let Ok(status) = EnhancedStatus::new(c % 8, s % 1200, d % 1200) else {
                return;
            };
            let Ok(ts) = texts(&mut u) else { return };
            let r = Reply::with_status(code, status, ts.clone());
            check_wire(&r);
            if status.class() == code.class() {
                assert_eq!(r.enhanced_status(), Some(status), "{r:?}");
                let want: Vec<&str> = if ts.is_empty() {
                    vec![""]
                } else {
                    ts.iter().map(Text::as_str).collect()
                };
                let got: Vec<&str> = r.text_lines().collect();
                assert_eq!(got, want, "text_lines lost or kept the status: {r:?}");
            }
        }
        2 => {
            let Ok(ts) = texts(&mut u) else { return };
            let n = ts.len().max(1);
            let r = Reply::from_lines(code, ts);
            assert_eq!(r.lines().len(), n);
            check_wire(&r);
            let _ = r.enhanced_status();
            assert_eq!(r.text_lines().count(), n);
        }
        _ => {
            let Ok(g) = text(&mut u) else { return };
            let Ok(greeting) = Text::new(g) else { return };
            let mut list = Vec::new();
            while let Ok(Some(c)) = capability(&mut u) {
                list.push(c);
                if list.len() > 12 {
                    break;
                }
            }
            let caps = Capabilities::new(greeting, list);
            let r = caps.to_reply();
            let back = check_wire(&r);
            let again = Capabilities::from_reply(&back);
            assert_eq!(
                again,
                caps,
                "capabilities changed over the wire: {:?}",
                r.to_bytes()
            );
        }
    }
});
