//! Paths, mailboxes, domains and address literals (RFC 5321 4.1.2, 4.1.3; RFC 6531 3.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::Parser;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::combinator::{all_consuming, opt};
use nom::multi::many0_count;
use nom::sequence::{delimited, preceded};

use super::{Grammar, Res, fail, utf8};
use crate::types::{AddressLiteral, Domain, ForwardPath, Host, LocalPart, Mailbox, ReversePath};

fn is_let_dig(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// `sub-domain = Let-dig [Ldh-str]`, `Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig`;
/// RFC 6531 adds `U-label` (any non-ASCII UTF-8 here; IDNA validity is the
/// application's concern). Returns the label's length.
fn sub_domain(i: &[u8], g: &Grammar) -> Option<usize> {
    let n = i
        .iter()
        .position(|&b| {
            !(is_let_dig(b)
                || b == b'-'
                || b >= 0x80
                || (g.allow_underscore_in_domain && b == b'_'))
        })
        .unwrap_or(i.len());
    if n == 0 || i[0] == b'-' || i[n - 1] == b'-' {
        return None;
    }
    Some(n)
}

/// `Domain = sub-domain *("." sub-domain)`
pub(crate) fn domain<'a>(g: &Grammar) -> impl Fn(&'a [u8]) -> Res<'a, Domain<'a>> + use<'a, '_> {
    move |i| {
        let Some(mut n) = sub_domain(i, g) else {
            return fail(i);
        };
        while let [b'.', tail @ ..] = &i[n..] {
            match sub_domain(tail, g) {
                Some(l) => n += 1 + l,
                None => break,
            }
        }
        if n > 255 {
            return fail(i);
        }
        let (d, rest) = i.split_at(n);
        match utf8(d) {
            Some(s) => Ok((rest, Domain::from_parsed(s))),
            None => fail(i),
        }
    }
}

/// `dcontent = %d33-90 / %d94-126`
fn is_dcontent(b: u8) -> bool {
    matches!(b, 33..=90 | 94..=126)
}

/// `Snum = 1*3DIGIT` ; representing a decimal integer value in the range 0 through 255
fn snum(i: &[u8]) -> Res<'_, u8> {
    let (rest, d) = take_while1(|b: u8| b.is_ascii_digit())(i)?;
    if d.len() > 3 {
        return fail(i);
    }
    let v = d.iter().fold(0u16, |a, &c| a * 10 + u16::from(c - b'0'));
    match u8::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(i),
    }
}

/// `IPv4-address-literal = Snum 3("."  Snum)`
fn ipv4_address_literal(i: &[u8]) -> Res<'_, Ipv4Addr> {
    let dot = || tag(&b"."[..]);
    let (rest, (a, _, b, _, c, _, d)) = (snum, dot(), snum, dot(), snum, dot(), snum).parse(i)?;
    Ok((rest, Ipv4Addr::new(a, b, c, d)))
}

/// `IPv6-address-literal = "IPv6:" IPv6-addr` (the RFC 4291 text forms, which the
/// standard library parses exactly).
fn ipv6_address_literal(i: &[u8]) -> Res<'_, Ipv6Addr> {
    let (rest, addr) = preceded(
        tag_no_case(&b"IPv6:"[..]),
        take_while1(|b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
    )
    .parse(i)?;
    match std::str::from_utf8(addr)
        .ok()
        .and_then(|s| s.parse::<Ipv6Addr>().ok())
    {
        Some(a) => Ok((rest, a)),
        None => fail(i),
    }
}

/// `General-address-literal = Standardized-tag ":" 1*dcontent`,
/// `Standardized-tag = Ldh-str`
fn general_address_literal(i: &[u8]) -> Res<'_, AddressLiteral<'_>> {
    let (rest, (t, _, content)) = (
        take_while1(|b: u8| is_let_dig(b) || b == b'-'),
        tag(&b":"[..]),
        take_while1(is_dcontent),
    )
        .parse(i)?;
    if t.last() == Some(&b'-') || t.eq_ignore_ascii_case(b"IPv6") {
        return fail(i);
    }
    match (utf8(t), utf8(content)) {
        (Some(tag), Some(content)) => Ok((rest, AddressLiteral::General { tag, content })),
        _ => fail(i),
    }
}

/// `address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
/// General-address-literal ) "]"`
pub(crate) fn address_literal(i: &[u8]) -> Res<'_, AddressLiteral<'_>> {
    let (rest, inner) =
        delimited(tag(&b"["[..]), take_while1(is_dcontent), tag(&b"]"[..])).parse(i)?;
    let lit = if let Ok((_, a)) = all_consuming(ipv4_address_literal).parse(inner) {
        AddressLiteral::Ipv4(a)
    } else if let Ok((_, a)) = all_consuming(ipv6_address_literal).parse(inner) {
        AddressLiteral::Ipv6(a)
    } else if let Ok((_, l)) = all_consuming(general_address_literal).parse(inner) {
        l
    } else {
        return fail(i);
    };
    Ok((rest, lit))
}

/// `Domain / address-literal`: what EHLO and a mailbox's `@` carry.
pub(crate) fn host<'a>(g: &Grammar) -> impl Fn(&'a [u8]) -> Res<'a, Host<'a>> + use<'a, '_> {
    move |i| {
        if i.first() == Some(&b'[') {
            let (r, l) = address_literal(i)?;
            Ok((r, Host::Literal(l)))
        } else {
            let (r, d) = domain(g)(i)?;
            Ok((r, Host::Domain(d)))
        }
    }
}

/// `atext` (RFC 5322 3.2.3) plus `UTF8-non-ascii` (RFC 6531 3.3), as a table.
const ATEXT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x80;
    while b < 256 {
        t[b] = true;
        b += 1;
    }
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = true;
        c += 1;
    }
    let mut c = b'a';
    while c <= b'z' {
        t[c as usize] = true;
        t[(c - 32) as usize] = true;
        c += 1;
    }
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut k = 0;
    while k < specials.len() {
        t[specials[k] as usize] = true;
        k += 1;
    }
    t
};

/// `atext` (RFC 5322 3.2.3) plus `UTF8-non-ascii` (RFC 6531 3.3).
fn is_atext(b: u8) -> bool {
    ATEXT[b as usize]
}

/// `Atom = 1*atext`; returns its length.
fn atom(i: &[u8]) -> Option<usize> {
    let n = i.iter().position(|&b| !is_atext(b)).unwrap_or(i.len());
    (n > 0).then_some(n)
}

/// `Dot-string = Atom *("."  Atom)`
fn dot_string(i: &[u8]) -> Res<'_, &[u8]> {
    let Some(mut n) = atom(i) else {
        return fail(i);
    };
    while let [b'.', tail @ ..] = &i[n..] {
        match atom(tail) {
            Some(l) => n += 1 + l,
            None => break,
        }
    }
    let (s, rest) = i.split_at(n);
    Ok((rest, s))
}

/// `qtextSMTP = %d32-33 / %d35-91 / %d93-126` (plus `UTF8-non-ascii`)
fn is_qtext_smtp(b: u8) -> bool {
    matches!(b, 32..=33 | 35..=91 | 93..=126) || b >= 0x80
}

/// `Quoted-string = DQUOTE *QcontentSMTP DQUOTE`,
/// `QcontentSMTP = qtextSMTP / quoted-pairSMTP`, `quoted-pairSMTP = %d92 %d32-126`
pub(crate) fn quoted_string(i: &[u8]) -> Res<'_, &[u8]> {
    let Some((&b'"', mut rest)) = i.split_first() else {
        return fail(i);
    };
    loop {
        match rest {
            [b'"', tail @ ..] => return Ok((tail, &i[..i.len() - tail.len()])),
            [b'\\', c, tail @ ..] if (32..=126).contains(c) => rest = tail,
            [c, tail @ ..] if is_qtext_smtp(*c) => rest = tail,
            _ => return fail(i),
        }
    }
}

/// `Local-part = Dot-string / Quoted-string`
fn local_part(i: &[u8]) -> Res<'_, LocalPart<'_>> {
    let (rest, lp) = if i.first() == Some(&b'"') {
        quoted_string(i)?
    } else {
        dot_string(i)?
    };
    match utf8(lp) {
        Some(s) => Ok((rest, LocalPart::from_parsed(s))),
        None => fail(i),
    }
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`
pub(crate) fn mailbox<'a>(g: &Grammar) -> impl Fn(&'a [u8]) -> Res<'a, Mailbox<'a>> + use<'a, '_> {
    move |i| {
        let (rest, (lp, _, h)) = (local_part, tag(&b"@"[..]), host(g)).parse(i)?;
        Ok((rest, Mailbox::new(lp, h)))
    }
}

/// `At-domain = "@" Domain`, `A-d-l = At-domain *( "," At-domain )`
fn a_d_l<'a>(g: &Grammar) -> impl Fn(&'a [u8]) -> Res<'a, ()> + use<'a, '_> {
    move |i| {
        let at_domain = |i| preceded(tag(&b"@"[..]), domain(g)).parse(i);
        let (rest, _) = (at_domain, many0_count(preceded(tag(&b","[..]), at_domain))).parse(i)?;
        Ok((rest, ()))
    }
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"`; the source route is parsed and dropped
/// (RFC 5321 4.1.1.3, Appendix C).
fn path<'a>(g: &Grammar) -> impl Fn(&'a [u8]) -> Res<'a, Mailbox<'a>> + use<'a, '_> {
    move |i| {
        delimited(
            tag(&b"<"[..]),
            preceded(opt((a_d_l(g), tag(&b":"[..]))), mailbox(g)),
            tag(&b">"[..]),
        )
        .parse(i)
    }
}

/// `Reverse-path = Path / "<>"`
pub(crate) fn reverse_path<'a>(
    g: &Grammar,
) -> impl Fn(&'a [u8]) -> Res<'a, ReversePath<'a>> + use<'a, '_> {
    move |i| {
        if let Ok((rest, _)) = tag::<_, _, nom::error::Error<&[u8]>>(&b"<>"[..])(i) {
            return Ok((rest, ReversePath::Null));
        }
        let (rest, m) = path(g)(i)?;
        Ok((rest, ReversePath::Mailbox(m)))
    }
}

/// `Forward-path = Path`, and from `Rcpt`: `"<Postmaster@" Domain ">" / "<Postmaster>"`
/// (the domain form is an ordinary mailbox here).
pub(crate) fn forward_path<'a>(
    g: &Grammar,
) -> impl Fn(&'a [u8]) -> Res<'a, ForwardPath<'a>> + use<'a, '_> {
    move |i| {
        if let Ok((rest, _)) =
            tag_no_case::<_, _, nom::error::Error<&[u8]>>(&b"<Postmaster>"[..])(i)
        {
            return Ok((rest, ForwardPath::Postmaster));
        }
        let (rest, m) = path(g)(i)?;
        Ok((rest, ForwardPath::Mailbox(m)))
    }
}

pub(crate) fn is_domain(s: &[u8], g: &Grammar) -> bool {
    all_consuming(domain(g)).parse(s).is_ok()
}

pub(crate) fn is_dot_string(s: &[u8]) -> bool {
    all_consuming(dot_string).parse(s).is_ok()
}

pub(crate) fn is_local_part(s: &[u8]) -> bool {
    std::str::from_utf8(s).is_ok() && all_consuming(local_part).parse(s).is_ok()
}

pub(crate) fn parse_address_literal(s: &[u8]) -> Option<AddressLiteral<'_>> {
    all_consuming(address_literal).parse(s).ok().map(|(_, l)| l)
}

pub(crate) fn parse_mailbox_exact<'a>(s: &'a [u8], g: &Grammar) -> Option<Mailbox<'a>> {
    all_consuming(mailbox(g)).parse(s).ok().map(|(_, m)| m)
}

/// Spaces (for the lenient grammar's tolerance).
pub(crate) fn spaces(i: &[u8]) -> Res<'_, &[u8]> {
    take_while(|b| b == b' ')(i)
}
