//! Paths, mailboxes, domains and address literals (RFC 5321 4.1.2, 4.1.3; RFC 6531 3.3).

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::Parser;
use nom::bytes::complete::{tag_no_case, take_while1};
use nom::combinator::all_consuming;
use nom::sequence::preceded;

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
/// One pass, no splitting: it runs for every address literal.
fn ipv4_address_literal(i: &[u8]) -> Option<(Ipv4Addr, usize)> {
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
        if len == 3 {
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
    let (a, n) = ipv4_address_literal(body)?;
    match body.get(n..)? {
        [b']', rest @ ..] => Some((rest, a)),
        _ => None,
    }
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
    let lit = if let Ok((_, a)) = all_consuming(ipv6_address_literal).parse(inner) {
        AddressLiteral::Ipv6(a)
    } else if let Some(l) = general_address_literal(cx, inner) {
        l
    } else {
        return fail(i);
    };
    Ok((rest, lit))
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
