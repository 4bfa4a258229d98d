//! Byte classes of the command grammar as one table, so that the scanning loops cost a
//! table load per byte instead of a chain of range tests.

/// `Let-dig / "-"`, and `UTF8-non-ascii` for U-labels (RFC 6531).
pub(crate) const LABEL: u8 = 1;
/// `_`, allowed in labels by the lenient grammar.
pub(crate) const UNDERSCORE: u8 = 1 << 1;
/// `.`
pub(crate) const DOT: u8 = 1 << 2;
/// `atext` (RFC 5322 3.2.3) plus `UTF8-non-ascii` (RFC 6531 3.3).
pub(crate) const ATEXT: u8 = 1 << 3;
/// `ALPHA / DIGIT / "-"` (`esmtp-keyword` after its first byte).
pub(crate) const KEYWORD: u8 = 1 << 4;
/// `esmtp-value` bytes: %d33-60 / %d62-126, plus `UTF8-non-ascii` (RFC 6531 3.3).
pub(crate) const VALUE: u8 = 1 << 5;
/// `xchar`: %d33-42 / %d44-60 / %d62-126 (RFC 3461 4).
pub(crate) const XCHAR: u8 = 1 << 6;
/// `qtextSMTP`: %d32-33 / %d35-91 / %d93-126, plus `UTF8-non-ascii` (RFC 6531 3.3).
pub(crate) const QTEXT: u8 = 1 << 7;

pub(crate) const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut k = 0;
        if c.is_ascii_alphanumeric() {
            k |= LABEL | ATEXT | KEYWORD;
        }
        if c >= 0x80 {
            k |= LABEL | ATEXT;
        }
        if matches!(c, 33..=60 | 62..=126) || c >= 0x80 {
            k |= VALUE;
        }
        if matches!(c, 33..=126) && c != b'+' && c != b'=' {
            k |= XCHAR;
        }
        if matches!(c, 32..=33 | 35..=91 | 93..=126) || c >= 0x80 {
            k |= QTEXT;
        }
        t[b] = k;
        b += 1;
    }
    t[b'-' as usize] |= LABEL | KEYWORD;
    t[b'_' as usize] |= UNDERSCORE;
    t[b'.' as usize] |= DOT;
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut k = 0;
    while k < specials.len() {
        t[specials[k] as usize] |= ATEXT;
        k += 1;
    }
    t
};

/// Length of the run of bytes in any of `classes` at the front of `i`.
#[inline(always)]
pub(crate) fn run(i: &[u8], classes: u8) -> usize {
    i.iter()
        .position(|&b| CLASS[b as usize] & classes == 0)
        .unwrap_or(i.len())
}

/// `a` equals `lower` (lower-case ASCII) with letters in any case. Unrolled for the
/// constant: each byte costs an OR and an XOR, with no branch.
#[inline(always)]
pub(crate) fn eq_fold<const N: usize>(a: &[u8], lower: &[u8; N]) -> bool {
    let Ok(a) = <&[u8; N]>::try_from(a) else {
        return false;
    };
    let mut diff = 0;
    for i in 0..N {
        // Only `A`-`Z` and `a`-`z` fold onto a lower-case letter under `| 0x20`.
        let fold = if lower[i].is_ascii_lowercase() {
            0x20
        } else {
            0
        };
        diff |= (a[i] | fold) ^ lower[i];
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each class, byte by byte, against its ABNF written out as ranges.
    #[test]
    fn classes_match_their_abnf() {
        for b in 0..=255u8 {
            let has = |k: u8| CLASS[b as usize] & k != 0;
            let alnum = b.is_ascii_alphanumeric();
            let high = b >= 0x80;
            assert_eq!(has(LABEL), alnum || b == b'-' || high, "LABEL {b:#x}");
            assert_eq!(has(UNDERSCORE), b == b'_', "UNDERSCORE {b:#x}");
            assert_eq!(has(DOT), b == b'.', "DOT {b:#x}");
            let special = b"!#$%&'*+-/=?^_`{|}~".contains(&b);
            assert_eq!(has(ATEXT), alnum || special || high, "ATEXT {b:#x}");
            assert_eq!(has(KEYWORD), alnum || b == b'-', "KEYWORD {b:#x}");
            assert_eq!(
                has(VALUE),
                (33..=60).contains(&b) || (62..=126).contains(&b) || high,
                "VALUE {b:#x}"
            );
            assert_eq!(
                has(XCHAR),
                (33..=42).contains(&b) || (44..=60).contains(&b) || (62..=126).contains(&b),
                "XCHAR {b:#x}"
            );
            assert_eq!(
                has(QTEXT),
                (32..=33).contains(&b) || (35..=91).contains(&b) || (93..=126).contains(&b) || high,
                "QTEXT {b:#x}"
            );
        }
        assert_eq!(run(b"ab.c-d e", LABEL | DOT), 6);
        // eq_fold: letters in any case; other bytes exactly; lengths must agree.
        assert!(eq_fold(b"Mt-PRIORITY", b"mt-priority"));
        assert!(eq_fold(b"8bitMIME", b"8bitmime"));
        assert!(!eq_fold(b"mt\rpriority", b"mt-priority"));
        assert!(!eq_fold(b"8BITMIM", b"8bitmime"));
        assert!(!eq_fold(b"8BITMIMEX", b"8bitmime"));
        assert!(!eq_fold(b"\x18bitmime", b"8bitmime"));
        for b in 0..=255u8 {
            let want = b.eq_ignore_ascii_case(&b'q');
            assert_eq!(eq_fold(&[b], b"q"), want, "{b:#x}");
            assert_eq!(eq_fold(&[b], b"-"), b == b'-', "{b:#x}");
        }
        assert_eq!(run(b"", LABEL), 0);
        assert_eq!(run(b"abc", LABEL), 3);
    }
}
