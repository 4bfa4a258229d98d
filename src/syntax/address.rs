//! Paths, mailboxes, domains and address literals (RFC 5321 4.1.2, 4.1.3; RFC 6531 3.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::Parser;
use nom::combinator::all_consuming;

use super::{Cx, Grammar, Res, fail};
use crate::error::InvalidValue;
use crate::lexical::{
    domain_len, eq_fold, is_dcontent, is_general_address_literal, local_part_len,
};
use crate::types::{AddressLiteral, Domain, ForwardPath, Host, LocalPart, Mailbox, ReversePath};

/// `Domain = sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]`,
/// `Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig`; RFC 6531 adds `U-label` (see
/// [`domain_len`]).
#[inline(always)]
pub(crate) fn domain<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, Domain<'a>> {
    let Some(n) = domain_len(i, cx.g.allow_underscore_in_domain) else {
        return fail(i);
    };
    let (d, rest) = i.split_at(n);
    match cx.text(d) {
        Some(s) => Ok((rest, Domain::from_parsed(s))),
        None => fail(i),
    }
}

/// `IPv4-address-literal = Snum 3("."  Snum)`, `Snum = 1*3DIGIT` ; representing a
/// decimal integer value in the range 0 through 255, at the start of `i`: the address
/// and its length, which ends at the first octet that is neither a digit nor a dot.
/// One pass, no splitting: it runs for every address literal. `STRICT` refuses leading
/// zeros ("01"), as the standard library does in the IPv4 tail of an IPv6 address.
fn ipv4_address_literal<const STRICT: bool>(i: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let (mut k, mut v, mut len) = (0usize, 0u16, 0u8);
    let mut n = 0;
    for &c in i {
        if c == b'.' {
            // An empty Snum, or a fourth dot.
            if len == 0 || k == 3 {
                return None;
            }
            octets[k] = u8::try_from(v).ok()?;
            (k, v, len) = (k + 1, 0, 0);
            n += 1;
            continue;
        }
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if len == 3 || (STRICT && len == 1 && v == 0) {
            return None;
        }
        (v, len) = (v * 10 + u16::from(d), len + 1);
        n += 1;
    }
    if k != 3 || len == 0 {
        return None;
    }
    octets[3] = u8::try_from(v).ok()?;
    Some((Ipv4Addr::from(octets), n))
}

/// `"[" IPv4-address-literal "]"` at the start of `i`, and what follows it. Tried before
/// the general scan of an address literal: it is the common one, and it needs neither
/// that scan nor the line as text.
#[inline(always)]
pub(crate) fn bracketed_ipv4(i: &[u8]) -> Option<(&[u8], Ipv4Addr)> {
    let [b'[', body @ ..] = i else {
        return None;
    };
    let (a, n) = ipv4_address_literal::<false>(body)?;
    match body.get(n..)? {
        [b']', rest @ ..] => Some((rest, a)),
        _ => None,
    }
}

/// `"[IPv6:" IPv6-addr "]"` at the start of `i`: the address and what follows the "]".
/// `IPv6-addr` is read as the standard library reads the RFC 4291 text forms (its
/// `Ipv6Addr` parser did this job before), in one pass over the octets: that parser
/// took about 1,000 instructions per literal, most of them decoding characters and
/// rolling back its attempts.
#[inline(always)]
pub(crate) fn bracketed_ipv6(i: &[u8]) -> Option<(&[u8], Ipv6Addr)> {
    let (tag, body) = i.split_at_checked(6)?;
    if !eq_fold(tag, b"[ipv6:") {
        return None;
    }
    let (a, n) = ipv6_addr(body)?;
    match body.get(n..)? {
        [b']', rest @ ..] => Some((rest, a)),
        _ => None,
    }
}

/// Hex digit values, 0xff for any other octet.
static HEX: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut b = 0;
    while b < 10 {
        t[b'0' as usize + b] = b as u8;
        b += 1;
    }
    let mut b = 0;
    while b < 6 {
        t[b'a' as usize + b] = 10 + b as u8;
        t[b'A' as usize + b] = 10 + b as u8;
        b += 1;
    }
    t
};

/// An IPv6 address in text form at the start of `s`, and its length: groups of one to
/// four hex digits separated by ":", at most one "::" standing for one or more zero
/// groups, and an optional dotted IPv4 address (no leading zeros) as the last two
/// groups; eight groups without "::", at most seven with it. The address ends at the
/// first octet that cannot go on it; the caller checks what that octet is.
fn ipv6_addr(s: &[u8]) -> Option<(Ipv6Addr, usize)> {
    let hex = |i: usize| s.get(i).map_or(0xff, |&b| HEX[usize::from(b)]);
    let mut groups = [0u16; 8];
    // Groups read, where "::" stands among them, and the next octet.
    let (mut n, mut gap, mut i) = (0usize, None, 0usize);
    if s.starts_with(b"::") {
        (gap, i) = (Some(0), 2);
    }
    loop {
        if gap == Some(n) && hex(i) > 15 {
            // "::" ends the address.
            break;
        }
        let (mut v, mut d) = (0u16, 0usize);
        loop {
            let x = hex(i + d);
            if x > 15 {
                break;
            }
            // Five digits make neither a group nor an IPv4 number.
            if d == 4 {
                return None;
            }
            (v, d) = (v << 4 | u16::from(x), d + 1);
        }
        if d == 0 {
            return None;
        }
        if s.get(i + d) == Some(&b'.') {
            // A dotted IPv4 address: the last piece, two groups.
            let (v4, len) = ipv4_address_literal::<true>(&s[i..])?;
            let [a, b, c, e] = v4.octets();
            let pair = groups.get_mut(n..n + 2)?;
            pair.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, e])]);
            (n, i) = (n + 2, i + len);
            break;
        }
        *groups.get_mut(n)? = v;
        (n, i) = (n + 1, i + d);
        match (s.get(i), s.get(i + 1)) {
            (Some(b':'), Some(b':')) if gap.is_none() => (gap, i) = (Some(n), i + 2),
            // A group must follow.
            (Some(b':'), _) => i += 1,
            _ => break,
        }
    }
    let a = match gap {
        None if n == 8 => groups,
        Some(at) if n <= 7 => {
            // The groups after "::" move to the end; zeros fill the gap.
            let mut out = [0u16; 8];
            out[..at].copy_from_slice(&groups[..at]);
            out[8 - (n - at)..].copy_from_slice(&groups[at..n]);
            out
        }
        _ => return None,
    };
    Some((Ipv6Addr::from(a), i))
}

/// `General-address-literal = Standardized-tag ":" 1*dcontent`,
/// `Standardized-tag = Ldh-str`; `i` is the whole literal between the brackets.
fn general_address_literal<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Option<AddressLiteral<'a>> {
    // A tag holds no ":", so the first one ends it.
    let colon = i.iter().position(|&b| b == b':')?;
    let (t, content) = (&i[..colon], &i[colon + 1..]);
    if !is_general_address_literal(t, content) {
        return None;
    }
    Some(AddressLiteral::General {
        tag: cx.text(t)?,
        content: cx.text(content)?,
    })
}

/// `address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
/// General-address-literal ) "]"`
pub(crate) fn address_literal<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, AddressLiteral<'a>> {
    if let Some((rest, a)) = bracketed_ipv4(i) {
        return Ok((rest, AddressLiteral::Ipv4(a)));
    }
    if let Some((rest, a)) = bracketed_ipv6(i) {
        return Ok((rest, AddressLiteral::Ipv6(a)));
    }
    let [b'[', body @ ..] = i else {
        return fail(i);
    };
    let n = body
        .iter()
        .position(|&b| !is_dcontent(b))
        .unwrap_or(body.len());
    let (inner, rest) = body.split_at(n);
    let [b']', rest @ ..] = rest else {
        return fail(i);
    };
    if inner.is_empty() {
        return fail(i);
    }
    // An IPv6 literal was taken above: this text between the brackets is not one.
    match general_address_literal(cx, inner) {
        Some(l) => Ok((rest, l)),
        None => fail(i),
    }
}

/// `Domain / address-literal`: what EHLO and a mailbox's `@` carry.
#[inline(always)]
pub(crate) fn host<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, Host<'a>> {
    if i.first() == Some(&b'[') {
        let (r, l) = address_literal(cx, i)?;
        Ok((r, Host::Literal(l)))
    } else {
        let (r, d) = domain(cx, i)?;
        Ok((r, Host::Domain(d)))
    }
}

/// `Local-part = Dot-string / Quoted-string` (see [`local_part_len`])
#[inline(always)]
fn local_part<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, LocalPart<'a>> {
    let Some(n) = local_part_len(i) else {
        return fail(i);
    };
    let (lp, rest) = i.split_at(n);
    match cx.text(lp) {
        Some(s) => Ok((rest, LocalPart::from_parsed(s))),
        None => fail(i),
    }
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`
#[inline(always)]
pub(crate) fn mailbox<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, Mailbox<'a>> {
    let (rest, lp) = local_part(cx, i)?;
    let [b'@', rest @ ..] = rest else {
        return fail(rest);
    };
    let (rest, h) = host(cx, rest)?;
    Ok((rest, Mailbox::new(lp, h)))
}

/// `At-domain = "@" Domain`, `A-d-l = At-domain *( "," At-domain )`; returns the rest.
fn a_d_l<'a>(cx: &Cx<'a>, mut i: &'a [u8]) -> Option<&'a [u8]> {
    loop {
        let [b'@', d @ ..] = i else {
            return None;
        };
        let (rest, _) = domain(cx, d).ok()?;
        match rest {
            [b',', tail @ ..] => i = tail,
            _ => return Some(rest),
        }
    }
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"`; the source route is parsed and dropped
/// (RFC 5321 4.1.1.3, Appendix C).
#[inline(always)]
fn path<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, Mailbox<'a>> {
    let [b'<', rest @ ..] = i else {
        return fail(i);
    };
    let mut rest = rest;
    // A mailbox cannot start with "@", so a route is there exactly when one starts.
    if rest.first() == Some(&b'@') {
        match a_d_l(cx, rest) {
            Some([b':', tail @ ..]) => rest = tail,
            _ => return fail(i),
        }
    }
    let (rest, m) = mailbox(cx, rest)?;
    match rest {
        [b'>', tail @ ..] => Ok((tail, m)),
        _ => fail(rest),
    }
}

/// `Reverse-path = Path / "<>"`
#[inline(always)]
pub(crate) fn reverse_path<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, ReversePath<'a>> {
    if let [b'<', b'>', rest @ ..] = i {
        return Ok((rest, ReversePath::Null));
    }
    let (rest, m) = path(cx, i)?;
    Ok((rest, ReversePath::Mailbox(m)))
}

/// `Forward-path = Path`, and from `Rcpt`: `"<Postmaster@" Domain ">" / "<Postmaster>"`
/// (the domain form is an ordinary mailbox here).
#[inline(always)]
pub(crate) fn forward_path<'a>(cx: &Cx<'a>, i: &'a [u8]) -> Res<'a, ForwardPath<'a>> {
    const POSTMASTER: &[u8; 12] = b"<postmaster>";
    if let Some(rest) = i
        .get(..POSTMASTER.len())
        .filter(|h| eq_fold(h, POSTMASTER))
        .map(|_| &i[POSTMASTER.len()..])
    {
        return Ok((rest, ForwardPath::Postmaster));
    }
    let (rest, m) = path(cx, i)?;
    Ok((rest, ForwardPath::Mailbox(m)))
}

/// The whole of `s` as an address literal, brackets included, under the strict grammar.
pub(crate) fn parse_address_literal(s: &str) -> Option<AddressLiteral<'_>> {
    let cx = Cx::new(s, &Grammar::strict());
    all_consuming(|i| address_literal(&cx, i))
        .parse(s.as_bytes())
        .ok()
        .map(|(_, l)| l)
}

pub(crate) fn parse_mailbox_exact<'a>(s: &'a str, g: &Grammar) -> Option<Mailbox<'a>> {
    let cx = Cx::new(s, g);
    all_consuming(|i| mailbox(&cx, i))
        .parse(s.as_bytes())
        .ok()
        .map(|(_, m)| m)
}

impl<'a> Mailbox<'a> {
    /// Parses `local@domain` (no angle brackets) under the strict grammar with UTF-8 allowed.
    pub fn parse(s: &'a str) -> Result<Self, InvalidValue> {
        parse_mailbox_exact(s, &Grammar::strict())
            .ok_or(InvalidValue::new("mailbox", "must match RFC 5321 Mailbox"))
    }
}

impl std::str::FromStr for Mailbox<'static> {
    type Err = InvalidValue;

    /// `local@domain`, as [`Mailbox::parse`], owning its text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mailbox::parse(s).map(Mailbox::into_owned)
    }
}

/// The whole of `s` as a path under the strict grammar: `<...>` as on the wire, or a
/// bare mailbox for convenience.
fn parse_path_exact<'a, T>(
    s: &'a str,
    path: impl Fn(&Cx<'a>, &'a [u8]) -> Res<'a, T>,
    bare: impl FnOnce(Mailbox<'a>) -> T,
) -> Option<T> {
    if !s.starts_with('<') {
        return parse_mailbox_exact(s, &Grammar::strict()).map(bare);
    }
    let cx = Cx::new(s, &Grammar::strict());
    all_consuming(|i| path(&cx, i))
        .parse(s.as_bytes())
        .ok()
        .map(|(_, p)| p)
}

impl std::str::FromStr for ReversePath<'static> {
    type Err = InvalidValue;

    /// `<>`, `<local@domain>` (a source route is accepted and dropped) or a bare
    /// `local@domain`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_path_exact(s, reverse_path, ReversePath::Mailbox)
            .map(ReversePath::into_owned)
            .ok_or(InvalidValue::new(
                "reverse path",
                "must match RFC 5321 Reverse-path",
            ))
    }
}

impl std::str::FromStr for ForwardPath<'static> {
    type Err = InvalidValue;

    /// `<Postmaster>`, `<local@domain>` or a bare `local@domain`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_path_exact(s, forward_path, ForwardPath::Mailbox)
            .map(ForwardPath::into_owned)
            .ok_or(InvalidValue::new(
                "forward path",
                "must match RFC 5321 Forward-path",
            ))
    }
}
