//! The lexical layer of the SMTP grammar: byte classes and the shapes of single tokens
//! (domains, local parts, keywords, parameter values, SASL mechanism names).
//!
//! Both the validating constructors in `types/` and the parsers in `syntax/` use these,
//! so a value built by hand and a value parsed from the wire meet the same rule, and
//! `types/` never needs the grammar. Everything here works on bytes and returns lengths
//! or truth values; building typed values is the grammar's job.

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
/// Label bytes under the lenient grammar.
pub(crate) const LABEL_LENIENT: u8 = LABEL | UNDERSCORE;
/// The bytes of a `Dot-string`.
pub(crate) const ATEXT_DOT: u8 = ATEXT | DOT;

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
///
/// The classes that most tokens are made of (labels of domains, keywords, parameter
/// values, xtext) are tested eight bytes at a time in a `u64` (see [`lanes`]): the
/// arithmetic has no chain of dependent loads, and a token costs one branch that is
/// hard to predict (its end) instead of a loop that exits at a byte that is. The last
/// bytes of the input, and every other class, go through the table.
#[inline(always)]
pub(crate) fn run(i: &[u8], classes: u8) -> usize {
    let mut n = 0;
    if swar(classes) {
        while let Some(w) = i.get(n..).and_then(<[u8]>::first_chunk::<8>) {
            let miss = !lanes(u64::from_le_bytes(*w), classes) & HIGHS;
            if miss != 0 {
                // Little-endian: the first byte is the lowest lane.
                return n + (miss.trailing_zeros() / 8) as usize;
            }
            n += 8;
        }
    }
    let tail = i.get(n..).unwrap_or_default();
    n + tail
        .iter()
        .position(|&b| CLASS[b as usize] & classes == 0)
        .unwrap_or(tail.len())
}

const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
const LOWS: u64 = u64::from_ne_bytes([0x7f; 8]);

/// `b` in every lane.
const fn rep(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// The classes [`lanes`] computes.
#[inline(always)]
const fn swar(classes: u8) -> bool {
    matches!(
        classes,
        LABEL | LABEL_LENIENT | KEYWORD | VALUE | XCHAR | ATEXT_DOT | QTEXT
    )
}

/// The high bit of each byte (lane) of `x` that is in `classes`, one of those [`swar`]
/// accepts. The lanes are 7-bit values after `& LOWS`, so no sum below carries into the
/// next lane; `classes_match_their_abnf` checks every byte in every lane against the table.
#[inline(always)]
fn lanes(x: u64, classes: u8) -> u64 {
    let high = x & HIGHS;
    let y = x & LOWS;
    // `lo <= v <= hi`, for 7-bit lanes `v`: `v + (0x80 - lo)` has its high bit exactly
    // when `v >= lo`, and `v + (0x7f - hi)` exactly when `v > hi`.
    let within = |v: u64, lo: u8, hi: u8| (v + rep(0x80 - lo)) & !(v + rep(0x7f - hi)) & HIGHS;
    // `v == c`: `t + 0x7f` has its high bit exactly when `t != 0`.
    let is = |c: u8| {
        let t = y ^ rep(c);
        !(t + LOWS) & HIGHS
    };
    let alnum = || within(y | rep(0x20), b'a', b'z') | within(y, b'0', b'9');
    match classes {
        // Let-dig, "-", UTF8-non-ascii; "_" too under the lenient grammar.
        LABEL => high | alnum() | is(b'-'),
        LABEL_LENIENT => high | alnum() | is(b'-') | is(b'_'),
        // ALPHA / DIGIT / "-", ASCII only.
        KEYWORD => !high & (alnum() | is(b'-')),
        // %d33-60 / %d62-126, UTF8-non-ascii.
        VALUE => high | (within(y, 33, 126) & !is(b'=')),
        // %d33-42 / %d44-60 / %d62-126, ASCII only.
        XCHAR => !high & within(y, 33, 126) & !is(b'+') & !is(b'='),
        // atext and ".": the visible characters less specials (RFC 5322 3.2.3) other
        // than ".", and UTF8-non-ascii.
        ATEXT_DOT => {
            let specials = within(y, b'(', b')')
                | within(y, b':', b'<')
                | within(y, b'[', b']')
                | is(b'"')
                | is(b',')
                | is(b'>')
                | is(b'@');
            high | (within(y, 33, 126) & !specials)
        }
        // %d32-33 / %d35-91 / %d93-126, UTF8-non-ascii.
        QTEXT => high | (within(y, 32, 126) & !is(b'"') & !is(b'\\')),
        _ => 0,
    }
}

/// `a` equals `lower` (lower-case ASCII) with letters in any case. Eight bytes at a
/// time: each word of `a` is ORed with the case bits of `lower`'s letters and compared
/// with `lower`'s word, both constants once inlined, so a keyword of up to eight bytes
/// costs one load, one OR and one XOR.
#[inline(always)]
pub(crate) fn eq_fold<const N: usize>(a: &[u8], lower: &[u8; N]) -> bool {
    let Ok(a) = <&[u8; N]>::try_from(a) else {
        return false;
    };
    let mut diff = 0u64;
    let mut i = 0;
    while i < N {
        let k = (N - i).min(8);
        let (mut w, mut fold, mut want) = ([0u8; 8], [0u8; 8], [0u8; 8]);
        w[..k].copy_from_slice(&a[i..i + k]);
        want[..k].copy_from_slice(&lower[i..i + k]);
        for (f, c) in fold.iter_mut().zip(&want[..k]) {
            // Only `A`-`Z` and `a`-`z` fold onto a lower-case letter under `| 0x20`.
            if c.is_ascii_lowercase() {
                *f = 0x20;
            }
        }
        diff |= (u64::from_le_bytes(w) | u64::from_le_bytes(fold)) ^ u64::from_le_bytes(want);
        i += k;
    }
    diff == 0
}

/// Every byte of `s` passes `ok`. Without an early exit, so that the compiler can test
/// many bytes per instruction: these checks run over whole tokens that are nearly always
/// valid (a failed line is not worth a faster error).
#[inline(always)]
fn all(s: &[u8], ok: impl Fn(u8) -> bool) -> bool {
    s.iter().fold(true, |acc, &b| acc & ok(b))
}

/// `Let-dig = ALPHA / DIGIT`
fn is_let_dig(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// `Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig` (RFC 5321 4.1.2), which is also
/// `Keyword`, the shape of a command verb, and `Standardized-tag`.
pub(crate) fn is_ldh_str(v: &[u8]) -> bool {
    v.last().is_some_and(|&b| is_let_dig(b)) && v.iter().all(|&b| is_let_dig(b) || b == b'-')
}

/// The length of the `Domain` at the front of `i` (RFC 5321 4.1.2):
/// `Domain = sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]`; RFC 6531
/// adds `U-label` (any non-ASCII UTF-8 here; IDNA validity is the application's concern).
/// `allow_underscore` admits `_` in labels (the lenient grammar).
///
/// Takes the whole run of label bytes and dots, and is `None` when that run is not a
/// domain throughout, where a label-by-label parse would stop early: callers always need
/// a delimiter that a label byte or dot is not, so nothing else changes.
#[inline(always)]
pub(crate) fn domain_len(i: &[u8], allow_underscore: bool) -> Option<usize> {
    let label = if allow_underscore {
        LABEL_LENIENT
    } else {
        LABEL
    };
    // Label by label: a run of label bytes, which may not be empty nor start or end
    // with "-", then a dot and the next label, or the end of the domain.
    let mut n = 0;
    loop {
        let k = n + run(&i[n..], label);
        match (i.get(n), i.get(k.wrapping_sub(1))) {
            (Some(&first), Some(&last)) if k > n && first != b'-' && last != b'-' => {}
            _ => return None,
        }
        if i.get(k) == Some(&b'.') {
            n = k + 1;
        } else {
            return (k <= 255).then_some(k);
        }
    }
}

/// `s` is a `Domain` under the strict grammar.
pub(crate) fn is_domain(s: &str) -> bool {
    domain_len(s.as_bytes(), false) == Some(s.len())
}

/// `dcontent = %d33-90 / %d94-126` (RFC 5321 4.1.3)
pub(crate) fn is_dcontent(b: u8) -> bool {
    matches!(b, 33..=90 | 94..=126)
}

/// `General-address-literal = Standardized-tag ":" 1*dcontent`,
/// `Standardized-tag = Ldh-str` (RFC 5321 4.1.3), given as its two parts. `IPv6` is no
/// general tag: it has a form of its own.
pub(crate) fn is_general_address_literal(tag: &[u8], content: &[u8]) -> bool {
    is_ldh_str(tag)
        && !tag.eq_ignore_ascii_case(b"IPv6")
        && !content.is_empty()
        && content.iter().all(|&b| is_dcontent(b))
}

/// The length of the `Dot-string` at the front of `i`: `Dot-string = Atom *("." Atom)`,
/// `Atom = 1*atext` (RFC 5321 4.1.2). Takes the whole run of atext and dots (see
/// [`domain_len`] for why), `None` when it holds an empty atom.
#[inline(always)]
pub(crate) fn dot_string_len(i: &[u8]) -> Option<usize> {
    let n = run(i, ATEXT_DOT);
    let s = &i[..n];
    if s.is_empty()
        || s[0] == b'.'
        || s[n - 1] == b'.'
        || s.windows(2).any(|w| matches!(w, [b'.', b'.']))
    {
        return None;
    }
    Some(n)
}

/// `s` is a `Dot-string`.
pub(crate) fn is_dot_string(s: &[u8]) -> bool {
    dot_string_len(s) == Some(s.len())
}

/// The length of the `Quoted-string` at the front of `i`, quotes included (RFC 5321
/// 4.1.2): `Quoted-string = DQUOTE *QcontentSMTP DQUOTE`,
/// `QcontentSMTP = qtextSMTP / quoted-pairSMTP`, `quoted-pairSMTP = %d92 %d32-126`.
pub(crate) fn quoted_string_len(i: &[u8]) -> Option<usize> {
    let Some((&b'"', mut rest)) = i.split_first() else {
        return None;
    };
    loop {
        rest = &rest[run(rest, QTEXT)..];
        match rest {
            [b'"', tail @ ..] => return Some(i.len() - tail.len()),
            [b'\\', c, tail @ ..] if (32..=126).contains(c) => rest = tail,
            _ => return None,
        }
    }
}

/// The length of the `Local-part` at the front of `i`:
/// `Local-part = Dot-string / Quoted-string` (RFC 5321 4.1.2).
#[inline(always)]
pub(crate) fn local_part_len(i: &[u8]) -> Option<usize> {
    if i.first() == Some(&b'"') {
        quoted_string_len(i)
    } else {
        dot_string_len(i)
    }
}

/// `s` is a `Local-part`.
pub(crate) fn is_local_part(s: &str) -> bool {
    local_part_len(s.as_bytes()) == Some(s.len())
}

/// The length of the `esmtp-keyword` at the front of `i`, 0 when there is none:
/// `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")` (RFC 5321 4.1.2).
#[inline(always)]
pub(crate) fn esmtp_keyword_len(i: &[u8]) -> usize {
    match i.first() {
        Some(&b) if is_let_dig(b) => run(i, KEYWORD),
        _ => 0,
    }
}

/// `s` is an `esmtp-keyword`; the same rule as `ehlo-keyword` (RFC 5321 4.1.1.1).
pub(crate) fn is_esmtp_keyword(s: &[u8]) -> bool {
    !s.is_empty() && esmtp_keyword_len(s) == s.len()
}

/// `esmtp-value = 1*(%d33-60 / %d62-126)`, plus `UTF8-non-ascii` (RFC 6531 3.3).
pub(crate) fn is_esmtp_value(s: &[u8]) -> bool {
    !s.is_empty() && std::str::from_utf8(s).is_ok() && run(s, VALUE) == s.len()
}

/// `xchar`: %d33-42 / %d44-60 / %d62-126, the bytes xtext carries as they are (RFC 3461 4).
pub(crate) fn is_xchar(b: u8) -> bool {
    CLASS[b as usize] & XCHAR != 0
}

/// `Atom` as used by ORCPT's `addr-type` (RFC 3461 4.2), less `=`: the whole ORCPT value
/// is an `esmtp-value` (RFC 5321 4.1.2), which cannot hold one.
pub(crate) fn is_atom(s: &[u8]) -> bool {
    !s.is_empty()
        && all(s, |b| {
            (b != b'=') & (b < 0x80) & (CLASS[b as usize] & ATEXT != 0)
        })
}

/// `ehlo-param = 1*(%d33-126)` (RFC 5321 4.1.1.1)
pub(crate) fn is_ehlo_param(p: &[u8]) -> bool {
    !p.is_empty() && p.iter().all(|&b| (33..=126).contains(&b))
}

/// `String = Atom / Quoted-string`, taken loosely as any visible text with inner spaces
/// and tabs (the argument of VRFY, EXPN, HELP, NOOP, which the server only echoes or
/// ignores), for text already known to be UTF-8.
pub(crate) fn is_argument(a: &[u8]) -> bool {
    !a.is_empty()
        && a.first() != Some(&b' ')
        && a.last() != Some(&b' ')
        && all(a, |b| (b == b' ') | (b == b'\t') | ((b > 32) & (b != 127)))
}

/// `sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_")` (RFC 4422 3.1), any case on input.
pub(crate) fn is_sasl_mech(m: &[u8]) -> bool {
    (1..=20).contains(&m.len()) && all(m, |b| (CLASS[b as usize] & KEYWORD != 0) | (b == b'_'))
}

/// `initial-response = base64 / "="` (RFC 4954 4), taken here as any visible token:
/// whether it is valid base64 is for the SASL decoder to say, with its own reply
/// (`501 5.5.2`), after the AUTH sequence rules.
pub(crate) fn is_initial_response(r: &[u8]) -> bool {
    !r.is_empty() && all(r, |b| (33..=126).contains(&b))
}

/// Verbs that have their own `Command` variant.
pub(crate) fn is_known_verb(v: &[u8]) -> bool {
    const KNOWN: [&[u8]; 15] = [
        b"EHLO",
        b"HELO",
        b"LHLO",
        b"MAIL",
        b"RCPT",
        b"DATA",
        b"RSET",
        b"QUIT",
        b"BDAT",
        b"VRFY",
        b"EXPN",
        b"HELP",
        b"NOOP",
        b"AUTH",
        b"STARTTLS",
    ];
    KNOWN.iter().any(|k| k.eq_ignore_ascii_case(v))
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
        // The word-at-a-time classes agree with the table for every byte in every lane,
        // beside bytes of the class and bytes outside it, and `run` with them agrees
        // with a plain search wherever the odd byte is.
        for classes in [
            LABEL,
            LABEL_LENIENT,
            KEYWORD,
            VALUE,
            XCHAR,
            ATEXT_DOT,
            QTEXT,
        ] {
            assert!(swar(classes));
            for b in 0..=255u8 {
                let want = CLASS[b as usize] & classes != 0;
                for lane in 0..8 {
                    for fill in [b'a', b'7', 0x80, b' ', b'=', 0xff, 0] {
                        let mut w = [fill; 8];
                        w[lane] = b;
                        let got = lanes(u64::from_le_bytes(w), classes) & (0x80 << (8 * lane));
                        assert_eq!(
                            got != 0,
                            want,
                            "{classes:#x} {b:#x} lane {lane} fill {fill:#x}"
                        );
                    }
                }
                let mut line = vec![b'a'; 40];
                for at in 0..40 {
                    line[at] = b;
                    let expect = if want { 40 } else { at };
                    assert_eq!(run(&line, classes), expect, "{classes:#x} {b:#x} at {at}");
                    assert_eq!(run(&line[..at + 1], classes), at + usize::from(want));
                    line[at] = b'a';
                }
            }
        }
    }

    /// The word-at-a-time domain scan against a byte-at-a-time one, on every string of
    /// up to five bytes over an alphabet of label bytes, dots, hyphens and delimiters,
    /// with and without enough input after it for whole words, at every offset into a
    /// word.
    #[test]
    fn domain_len_matches_a_byte_at_a_time_scan() {
        fn plain(i: &[u8], underscore: bool) -> Option<usize> {
            let ok = |b: u8| {
                b.is_ascii_alphanumeric()
                    || b == b'-'
                    || b == b'.'
                    || b >= 0x80
                    || underscore && b == b'_'
            };
            let n = i.iter().position(|&b| !ok(b)).unwrap_or(i.len());
            let d = &i[..n];
            let labels_ok = d
                .split(|&b| b == b'.')
                .all(|l| !l.is_empty() && l.first() != Some(&b'-') && l.last() != Some(&b'-'));
            (labels_ok && n <= 255).then_some(n)
        }
        let alphabet = [b'a', b'-', b'.', b'_', 0xc3, b'>'];
        let mut s = Vec::new();
        for len in 0..=5u32 {
            for code in 0..6usize.pow(len) {
                s.clear();
                let mut c = code;
                for _ in 0..len {
                    s.push(alphabet[c % 6]);
                    c /= 6;
                }
                for pad in [&b""[..], b"x", b">xxxxxxxxxxxxxxx", b"b.cd-e.fgh.ijk>"] {
                    for lead in [&b""[..], b"ab", b"abcdefg", b"ab.cd-ef.", b"a-b"] {
                        let mut t = lead.to_vec();
                        t.extend_from_slice(&s);
                        t.extend_from_slice(pad);
                        for u in [false, true] {
                            assert_eq!(domain_len(&t, u), plain(&t, u), "{t:?} {u}");
                        }
                    }
                }
            }
        }
        let long = [b'a'; 300];
        for n in [254, 255, 256, 299] {
            assert_eq!(domain_len(&long[..n], false), plain(&long[..n], false));
        }
    }

    /// The token predicates against their ABNF, written out as ranges or as examples.
    #[test]
    fn token_predicates_match_their_abnf() {
        for b in 0..=255u8 {
            let atext_less_eq = b.is_ascii_alphanumeric() || b"!#$%&'*+-/?^_`{|}~".contains(&b);
            assert_eq!(is_atom(&[b]), atext_less_eq, "atom {b:#x}");
            assert_eq!(
                is_dcontent(b),
                (33..=90).contains(&b) || (94..=126).contains(&b)
            );
            assert_eq!(
                is_xchar(b),
                (33..=126).contains(&b) && b != b'+' && b != b'='
            );
            assert_eq!(
                is_ehlo_param(&[b]),
                (33..=126).contains(&b),
                "ehlo-param {b:#x}"
            );
        }
        assert!(is_ldh_str(b"x-y") && is_ldh_str(b"-x") && is_ldh_str(b"9"));
        assert!(!is_ldh_str(b"") && !is_ldh_str(b"x-") && !is_ldh_str(b"x_y"));
        assert!(is_general_address_literal(b"x-tag", b"a:b"));
        assert!(!is_general_address_literal(b"IPV6", b"::1"));
        assert!(!is_general_address_literal(b"tag", b""));
        assert!(!is_general_address_literal(b"tag", b"a]"));
        assert!(!is_general_address_literal(b"tag-", b"a"));
        // Domains: the whole run of label bytes and dots, or nothing.
        assert_eq!(domain_len(b"a.b-c.d>", false), Some(7));
        assert_eq!(domain_len(b"a_b", false), Some(1));
        assert_eq!(domain_len(b"a_b", true), Some(3));
        for bad in [
            &b""[..],
            b".a",
            b"a.",
            b"a..b",
            b"-a",
            b"a-",
            b"a.-b",
            b"a-.b",
        ] {
            assert_eq!(domain_len(bad, true), None, "{bad:?}");
        }
        assert!(is_domain(&"a".repeat(255)) && !is_domain(&"a".repeat(256)));
        assert!(is_domain("b\u{fc}cher.example") && !is_domain("a_b.example"));
        // Local parts.
        assert_eq!(local_part_len(b"a.b@c"), Some(3));
        assert_eq!(local_part_len(br#""a b\"c"@d"#), Some(8));
        assert_eq!(quoted_string_len(br#""a"#), None);
        assert_eq!(quoted_string_len(b"\"a\\\x01\""), None);
        assert!(is_local_part("\"\"") && !is_local_part("a..b") && !is_local_part(".a"));
        assert!(is_dot_string(b"j\xc3\xb6rg") && !is_dot_string(b"a b"));
        // Keywords and values.
        assert_eq!(esmtp_keyword_len(b"MT-PRIORITY=3"), 11);
        assert_eq!(esmtp_keyword_len(b"-X"), 0);
        assert!(is_esmtp_keyword(b"8BITMIME-") && !is_esmtp_keyword(b""));
        assert!(is_esmtp_value(b"a=b".split_at(2).1) && !is_esmtp_value(b"a=b"));
        assert!(is_esmtp_value("\u{e9}".as_bytes()) && !is_esmtp_value(b"\xe9"));
        assert!(is_sasl_mech(b"SCRAM-SHA-256_plus") && !is_sasl_mech(&[b'A'; 21]));
        assert!(is_initial_response(b"=") && !is_initial_response(b"a b"));
        assert!(is_argument(b"a\tb c") && !is_argument(b" a") && !is_argument(b"a\x7f"));
        assert!(is_known_verb(b"StartTLS") && !is_known_verb(b"XCLIENT"));
    }
}
