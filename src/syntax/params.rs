//! ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 and the extensions that define them).

use std::borrow::Cow;

use super::{Cx, Res};
use crate::error::SyntaxErrorKind;
use crate::lexical::{VALUE, XCHAR, eq_fold, esmtp_keyword_len, is_atom, run};
use crate::types::{
    Body, MailAuth, MailParams, MtPriority, Notify, Orcpt, Param, RcptParams, Ret, XText,
};

/// `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`
fn esmtp_keyword(i: &[u8]) -> Res<'_, &[u8]> {
    match esmtp_keyword_len(i) {
        0 => super::fail(i),
        n => {
            let (k, r) = i.split_at(n);
            Ok((r, k))
        }
    }
}

/// `esmtp-param = esmtp-keyword ["=" esmtp-value]`
fn esmtp_param(i: &[u8]) -> Res<'_, (&[u8], Option<&[u8]>)> {
    let (r, k) = esmtp_keyword(i)?;
    if let [b'=', v @ ..] = r {
        let n = run(v, VALUE);
        if n > 0 {
            let (v, r) = v.split_at(n);
            return Ok((r, (k, Some(v))));
        }
    }
    Ok((r, (k, None)))
}

/// `xtext = *( xchar / hexchar )`, `xchar` = `!`..`~` except `+` and `=`,
/// `hexchar = "+" 2(%x30-39 / %x41-46)` (RFC 3461 4). Decodes; `None` when malformed.
pub(crate) fn xtext<'a>(cx: &Cx<'a>, s: &'a [u8]) -> Option<Cow<'a, str>> {
    if s.is_empty() {
        return None;
    }
    if run(s, XCHAR) == s.len() {
        return cx.text(s);
    }
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&b) = it.next() {
        match b {
            b'+' => {
                let hi = hex(*it.next()?)?;
                let lo = hex(*it.next()?)?;
                out.push(hi << 4 | lo);
            }
            33..=126 if b != b'=' => out.push(b),
            _ => return None,
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// Splits `Mail-parameters`/`Rcpt-parameters` (`esmtp-param *(SP esmtp-param)`) and
/// hands each to `f`, which files it under its type.
fn each_param<'a>(
    mut i: &'a [u8],
    mut f: impl FnMut(&'a [u8], Option<&'a [u8]>) -> Result<(), SyntaxErrorKind>,
) -> Result<(), (usize, SyntaxErrorKind)> {
    let start = i.len();
    loop {
        let (rest, (k, v)) =
            esmtp_param(i).map_err(|_| (start - i.len(), SyntaxErrorKind::Arguments))?;
        f(k, v).map_err(|e| (start - i.len(), e))?;
        match rest {
            [] => return Ok(()),
            [b' ', tail @ ..] if !tail.is_empty() => i = tail,
            _ => return Err((start - rest.len(), SyntaxErrorKind::Arguments)),
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, v: T) -> Result<(), SyntaxErrorKind> {
    if slot.is_some() {
        return Err(SyntaxErrorKind::DuplicateParameter);
    }
    *slot = Some(v);
    Ok(())
}

fn flag(slot: &mut bool, v: Option<&[u8]>) -> Result<(), SyntaxErrorKind> {
    if v.is_some() {
        return Err(SyntaxErrorKind::ParameterValue);
    }
    if *slot {
        return Err(SyntaxErrorKind::DuplicateParameter);
    }
    *slot = true;
    Ok(())
}

fn value(v: Option<&[u8]>) -> Result<&[u8], SyntaxErrorKind> {
    v.ok_or(SyntaxErrorKind::ParameterValue)
}

fn other<'a>(
    cx: &Cx<'a>,
    list: &mut Vec<Param<'a>>,
    k: &'a [u8],
    v: Option<&'a [u8]>,
) -> Result<(), SyntaxErrorKind> {
    let k = cx.text(k).ok_or(SyntaxErrorKind::Arguments)?;
    let v = match v {
        Some(v) => Some(cx.text(v).ok_or(SyntaxErrorKind::ParameterValue)?),
        None => None,
    };
    // Reached only by keywords not typed for this command: one typed for the other
    // (`NOTIFY` on MAIL, `SIZE` on RCPT) is as unknown here as any other, and refusing
    // it keeps `other` free of typed keywords, as `Param::new` does.
    if crate::types::params::TYPED_KEYWORDS
        .iter()
        .any(|t| k.eq_ignore_ascii_case(t))
    {
        return Err(SyntaxErrorKind::UnknownParameter);
    }
    // Repeats are kept: only the extension that defines a keyword could say whether it
    // may repeat, and any list of parameters the API builds must read back as built.
    list.push(Param::from_parsed(k, v));
    Ok(())
}

/// `size-value = 1*20DIGIT` (RFC 1870 3)
fn size_value(v: &[u8]) -> Result<u64, SyntaxErrorKind> {
    digits(v).ok_or(SyntaxErrorKind::ParameterValue)
}

/// `1*20DIGIT` as a number, in one pass; `None` when empty, longer than 20 digits, not
/// all digits, or over `u64::MAX`. Shared with BDAT's `chunk-size` (RFC 3030 2).
#[inline(always)]
pub(crate) fn digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    let mut n = 0u64;
    for &c in v {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// `Mail-parameters = esmtp-param *(SP esmtp-param)` with the known keywords typed.
pub(crate) fn mail_parameters<'a>(
    cx: &Cx<'a>,
    i: &'a [u8],
) -> Result<MailParams<'a>, (usize, SyntaxErrorKind)> {
    let mut p = MailParams::default();
    each_param(i, |k, v| {
        // Each keyword is compared only with the known one of its length.
        match k.len() {
            4 if eq_fold(k, b"size") => set_once(&mut p.size, size_value(value(v)?)?),
            4 if eq_fold(k, b"body") => {
                let v = value(v)?;
                let b = if eq_fold(v, b"8bitmime") {
                    Body::EightBitMime
                } else if eq_fold(v, b"7bit") {
                    Body::SevenBit
                } else if eq_fold(v, b"binarymime") {
                    Body::BinaryMime
                } else {
                    return Err(SyntaxErrorKind::ParameterValue);
                };
                set_once(&mut p.body, b)
            }
            8 if eq_fold(k, b"smtputf8") => flag(&mut p.smtputf8, v),
            10 if eq_fold(k, b"requiretls") => flag(&mut p.requiretls, v),
            3 if eq_fold(k, b"ret") => {
                let v = value(v)?;
                let r = if eq_fold(v, b"full") {
                    Ret::Full
                } else if eq_fold(v, b"hdrs") {
                    Ret::Hdrs
                } else {
                    return Err(SyntaxErrorKind::ParameterValue);
                };
                set_once(&mut p.ret, r)
            }
            5 if eq_fold(k, b"envid") => {
                // RFC 3461 4.4 limits the length; the server enforces it, so that every
                // value the types can hold still round-trips through the grammar.
                let x = xtext(cx, value(v)?).ok_or(SyntaxErrorKind::ParameterValue)?;
                set_once(&mut p.envid, XText::from_parsed(x))
            }
            4 if eq_fold(k, b"auth") => {
                let v = value(v)?;
                let a = if v == b"<>" {
                    MailAuth::Unknown
                } else {
                    MailAuth::Identity(XText::from_parsed(
                        xtext(cx, v).ok_or(SyntaxErrorKind::ParameterValue)?,
                    ))
                };
                set_once(&mut p.auth, a)
            }
            11 if eq_fold(k, b"mt-priority") => {
                // RFC 6710 6: priority-value = [ "-" / "+" ] DIGIT
                let pr = match value(v)? {
                    [d] if d.is_ascii_digit() => (d - b'0') as i8,
                    [b'+', d] if d.is_ascii_digit() => (d - b'0') as i8,
                    [b'-', d] if d.is_ascii_digit() => -((d - b'0') as i8),
                    _ => return Err(SyntaxErrorKind::ParameterValue),
                };
                let pr = MtPriority::new(pr).map_err(|_| SyntaxErrorKind::ParameterValue)?;
                set_once(&mut p.mt_priority, pr)
            }
            _ => other(cx, &mut p.other, k, v),
        }
    })?;
    Ok(p)
}

/// `Rcpt-parameters = esmtp-param *(SP esmtp-param)` with the known keywords typed.
pub(crate) fn rcpt_parameters<'a>(
    cx: &Cx<'a>,
    i: &'a [u8],
) -> Result<RcptParams<'a>, (usize, SyntaxErrorKind)> {
    let mut p = RcptParams::default();
    each_param(i, |k, v| {
        if k.len() == 6 && eq_fold(k, b"notify") {
            set_once(&mut p.notify, notify(value(v)?)?)
        } else if k.len() == 5 && eq_fold(k, b"orcpt") {
            let v = value(v)?;
            // RFC 3461 4.2: orcpt-value = addr-type ";" xtext (its length limit is the
            // server's to enforce, as ENVID's).
            let semi = v
                .iter()
                .position(|&b| b == b';')
                .ok_or(SyntaxErrorKind::ParameterValue)?;
            let (t, a) = (&v[..semi], &v[semi + 1..]);
            if !is_atom(t) {
                return Err(SyntaxErrorKind::ParameterValue);
            }
            let a = if eq_fold(t, b"utf-8") {
                utf8_addr(cx, a)
            } else {
                xtext(cx, a)
            };
            let t = cx.text(t).ok_or(SyntaxErrorKind::ParameterValue)?;
            let a = a.ok_or(SyntaxErrorKind::ParameterValue)?;
            set_once(&mut p.orcpt, Orcpt::from_parsed(t, XText::from_parsed(a)))
        } else {
            other(cx, &mut p.other, k, v)
        }
    })?;
    Ok(p)
}

/// The address of `ORCPT=utf-8;...` (RFC 6533 3): `utf-8-addr-xtext` or, under
/// SMTPUTF8, `utf-8-addr-unitext`:
///
/// ```text
/// utf-8-addr-unitext  = 1*(QUCHAR / EmbeddedUnicodeChar)
/// QUCHAR              = QCHARx / UTF8-2 / UTF8-3 / UTF8-4
/// QCHARx              = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e   ; not "+", "=", "\"
/// EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"                 ; \x{...}
/// ```
///
/// Decodes the escapes; `None` when malformed.
pub(crate) fn utf8_addr<'a>(cx: &Cx<'a>, s: &'a [u8]) -> Option<Cow<'a, str>> {
    let text = cx.text(s)?;
    if text.is_empty() {
        return None;
    }
    let plain = |c: char| !c.is_ascii() || (c.is_ascii_graphic() && !matches!(c, '+' | '=' | '\\'));
    if !text.contains('\\') {
        return text.chars().all(plain).then_some(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            // HEXPOINT: 2 to 6 upper-case hex digits naming a scalar value.
            let body = rest.strip_prefix("\\x{")?;
            let end = body.find('}')?;
            let hex = &body[..end];
            let upper = hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
            if !(2..=6).contains(&hex.len()) || !upper {
                return None;
            }
            out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
            rest = &body[end + 1..];
        } else if plain(c) {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        } else {
            return None;
        }
    }
    Some(Cow::Owned(out))
}

/// `notify-esmtp-value = "NEVER" / 1#notify-list-element`,
/// `notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"` (RFC 3461 4.1)
fn notify(v: &[u8]) -> Result<Notify, SyntaxErrorKind> {
    if eq_fold(v, b"never") {
        return Ok(Notify::Never);
    }
    let (mut s, mut f, mut d) = (false, false, false);
    let mut rest = v;
    loop {
        let n = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
        let el = &rest[..n];
        let slot = match n {
            7 if eq_fold(el, b"success") => &mut s,
            7 if eq_fold(el, b"failure") => &mut f,
            5 if eq_fold(el, b"delay") => &mut d,
            _ => return Err(SyntaxErrorKind::ParameterValue),
        };
        if *slot {
            return Err(SyntaxErrorKind::ParameterValue);
        }
        *slot = true;
        match rest.get(n + 1..) {
            Some(tail) => rest = tail,
            None => break,
        }
    }
    Notify::on(s, f, d).map_err(|_| SyntaxErrorKind::ParameterValue)
}
