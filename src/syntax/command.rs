//! Command lines (RFC 5321 4.1.1, RFC 3207, RFC 4954, RFC 3030, RFC 2033).

use super::address::{bracketed_ipv4, bracketed_ipv6, forward_path, host, reverse_path};
use super::params::{mail_parameters, rcpt_parameters};
use super::{Cx, Grammar, Res};
use crate::error::{DecodeError, SyntaxErrorKind};
use crate::lexical::{eq_fold, is_argument, is_initial_response, is_ldh_str, is_sasl_mech};
use crate::types::{
    AddressLiteral, Argument, Command, ForwardPath, Host, InitialResponse, Keyword, MailParams,
    Mechanism, RcptParams, ReversePath,
};

/// Parses one command line, without its CRLF.
///
/// Bytes the grammar forbids anywhere in a command (NUL, CR, LF, invalid UTF-8) give
/// [`SyntaxErrorKind::Byte`]; a verb that is not a `Keyword` gives
/// [`SyntaxErrorKind::Verb`]; a well-formed but unknown verb is [`Command::Other`].
pub fn parse_command<'a>(line: &'a [u8], g: &Grammar) -> Result<Command<'a>, DecodeError> {
    parse_line(line, g, |c| c)
}

/// [`parse_command`], inlined into [`decode_command`]; each arm hands its command to
/// `wrap` so that it is built where the caller's result lives instead of being copied
/// there (a `Command` is a large enum, and most arms set only its tag).
#[inline(always)]
fn parse_line<'a, T>(
    line: &'a [u8],
    g: &Grammar,
    wrap: impl FnOnce(Command<'a>) -> T,
) -> Result<T, DecodeError> {
    // NUL, CR and LF are outside every character class of the grammar, so a line that
    // parses holds none (the unknown-verb arm checks its free text itself); and only the
    // arguments of commands that carry text need a UTF-8 check (`Cx`). Looking for bad
    // bytes only once the line failed keeps both scans off the hot path, and still gives
    // them precedence over whatever else is wrong with it.
    match parse_text(line, g, wrap) {
        Ok(t) => {
            debug_assert!(forbidden_byte(line).is_none() && std::str::from_utf8(line).is_ok());
            Ok(t)
        }
        Err(e) => Err(line_error(line, e)),
    }
}

/// The error for a line that failed its rule with `e`: bytes no class admits come first,
/// then BDAT's framing. Cold and out of line, so that the parse path stays small.
#[cold]
#[inline(never)]
fn line_error(line: &[u8], e: DecodeError) -> DecodeError {
    let e = forbidden_byte(line)
        .or_else(|| {
            // Most failed lines are ASCII, which is UTF-8: a cheap test spares the call.
            (!line.is_ascii())
                .then(|| std::str::from_utf8(line).err())
                .flatten()
                .map(|u| DecodeError::syntax(u.valid_up_to(), SyntaxErrorKind::Byte))
        })
        .unwrap_or(e);
    // RFC 3030 2: octets follow a BDAT line; when the line is broken they cannot be
    // framed, whatever else is wrong with it.
    let bdat = verb(line).1 == BDAT;
    match e {
        DecodeError::Syntax { offset, .. } if bdat => {
            DecodeError::syntax(offset, SyntaxErrorKind::ChunkSize)
        }
        e => e,
    }
}

/// `Keyword` as a number: the verb folded to lower case (`| 0x20` maps A-Z to a-z and
/// leaves digits and "-", the only other bytes a verb holds, as they are), for verbs of
/// four or eight bytes; 0 for any other length, which no known verb has.
#[inline(always)]
fn verb_key(verb: &[u8]) -> u64 {
    match *verb {
        [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d]) | 0x2020_2020),
        [a, b, c, d, e, f, g, h] => {
            u64::from_le_bytes([a, b, c, d, e, f, g, h]) | 0x2020_2020_2020_2020
        }
        _ => 0,
    }
}

const fn k4(v: &[u8; 4]) -> u64 {
    u32::from_le_bytes(*v) as u64
}
const EHLO: u64 = k4(b"ehlo");
const HELO: u64 = k4(b"helo");
const LHLO: u64 = k4(b"lhlo");
const MAIL: u64 = k4(b"mail");
const RCPT: u64 = k4(b"rcpt");
const DATA: u64 = k4(b"data");
const RSET: u64 = k4(b"rset");
const QUIT: u64 = k4(b"quit");
const BDAT: u64 = k4(b"bdat");
const VRFY: u64 = k4(b"vrfy");
const EXPN: u64 = k4(b"expn");
const HELP: u64 = k4(b"help");
const NOOP: u64 = k4(b"noop");
const AUTH: u64 = k4(b"auth");
const STARTTLS: u64 = u64::from_le_bytes(*b"starttls");

/// The verb, with its [`verb_key`], and what follows it: the line split at its first SP.
/// Most verbs have four letters: those are taken without a search for the space. The
/// verb is checked as a `Keyword` only when it is not a known one (see `parse_text`).
#[inline(always)]
fn verb(line: &[u8]) -> (&[u8], u64, &[u8]) {
    let vlen = if line.len() >= 4
        && line.get(4).is_none_or(|&b| b == b' ')
        && !line[..4].contains(&b' ')
    {
        4
    } else {
        line.iter().position(|&b| b == b' ').unwrap_or(line.len())
    };
    let (verb, rest) = line.split_at(vlen);
    (verb, verb_key(verb), rest)
}

/// The grammar proper: the verb, then the rule for that verb's arguments.
#[inline(always)]
fn parse_text<'a, T>(
    line: &'a [u8],
    g: &Grammar,
    wrap: impl FnOnce(Command<'a>) -> T,
) -> Result<T, DecodeError> {
    let line = if g.allow_trailing_space {
        trim_end_spaces(line)
    } else {
        line
    };
    let (verb, key, rest) = verb(line);
    let l = Args { line, rest, g };
    // Each rule hands its fields to `build`, which hands the command to `wrap` (see
    // `parse_line`): the command is made once, where the caller's result lives.
    match key {
        EHLO | HELO | LHLO => ehlo(&l, |h| {
            wrap(match key {
                EHLO => Command::Ehlo(h),
                HELO => Command::Helo(h),
                _ => Command::Lhlo(h),
            })
        }),
        MAIL => mail(&l, |from, params| wrap(Command::Mail { from, params })),
        RCPT => rcpt(&l, |to, params| wrap(Command::Rcpt { to, params })),
        DATA => l.none().map(|()| wrap(Command::Data)),
        RSET => l.none().map(|()| wrap(Command::Rset)),
        QUIT => l.none().map(|()| wrap(Command::Quit)),
        STARTTLS => l.none().map(|()| wrap(Command::StartTls)),
        BDAT => bdat_cmd(&l, |size, last| wrap(Command::Bdat { size, last })),
        VRFY => sp_string(&l, |a| wrap(Command::Vrfy(a))),
        EXPN => sp_string(&l, |a| wrap(Command::Expn(a))),
        HELP => opt_sp_string(&l, |a| wrap(Command::Help(a))),
        NOOP => opt_sp_string(&l, |a| wrap(Command::Noop(a))),
        AUTH => auth_command(&l, |mechanism, initial_response| {
            wrap(Command::Auth {
                mechanism,
                initial_response,
            })
        }),
        // `Keyword = Ldh-str` (RFC 5321 4.1.2). A verb whose folded form is a known one
        // is made of letters (only `A`-`Z` and `a`-`z` fold onto a lower-case letter), so
        // only this arm needs the check.
        _ if !is_ldh_str(verb) => Err(DecodeError::syntax(0, SyntaxErrorKind::Verb)),
        _ => extension_command(&l, verb, |verb, args| wrap(Command::Other { verb, args })),
    }
}

/// A command line cut after its verb: what the rule for each verb needs to read its
/// arguments and to place its errors.
#[derive(Clone, Copy)]
struct Args<'a, 'g> {
    /// The whole line (less trailing spaces under the lenient grammar): error offsets
    /// count from its start.
    line: &'a [u8],
    /// After the verb: empty, or the SP that separates the arguments, then them.
    rest: &'a [u8],
    g: &'g Grammar,
}

impl<'a> Args<'a, '_> {
    /// The error for arguments that break their rule at `r`, a tail of the line. Cold:
    /// kept out of the rules' hot paths.
    #[cold]
    #[inline(never)]
    fn err(&self, r: &[u8]) -> DecodeError {
        DecodeError::syntax(self.at(r), SyntaxErrorKind::Arguments)
    }

    /// The offset of `r`, a tail of the line.
    fn at(&self, r: &[u8]) -> usize {
        self.line.len() - r.len()
    }

    /// The arguments after the separating SP, if the verb has any.
    #[inline(always)]
    fn given(&self) -> Option<&'a [u8]> {
        self.rest.get(1..)
    }

    /// `SP` and arguments, which the rule requires.
    #[inline(always)]
    fn required(&self) -> Result<&'a [u8], DecodeError> {
        self.given().ok_or_else(|| self.err(self.rest))
    }

    /// Nothing after the verb, for the rules that take no arguments.
    #[inline(always)]
    fn none(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.err(self.rest))
        }
    }

    /// `a`, a tail of the line, as text, checked as UTF-8 once for all the fields cut
    /// from it.
    ///
    /// The check starts up to seven bytes early, at a word-aligned address inside the
    /// line: `str::from_utf8` goes byte by byte until it is aligned and word by word
    /// after, and on short lines the unaligned head was a large part of its time. The
    /// bytes taken in front of `a` are the verb and its SP, which are ASCII for every
    /// verb that calls this, so the check fails exactly when `a` is not UTF-8.
    #[inline(always)]
    fn text(&self, a: &'a [u8]) -> Result<Cx<'a>, DecodeError> {
        let at = self.at(a);
        let back = (a.as_ptr() as usize) % std::mem::size_of::<usize>();
        let from = if back <= at { at - back } else { at };
        match std::str::from_utf8(&self.line[from..]) {
            Ok(t) => Ok(Cx::new(t, self.g)),
            Err(_) => Err(self.err(a)),
        }
    }
}

/// `ehlo = "EHLO" SP ( Domain / address-literal ) CRLF`, `helo = "HELO" SP Domain CRLF`
/// (RFC 5321 4.1.1.1; an address literal is taken after HELO too) and `"LHLO" SP`, which
/// takes what EHLO does (RFC 2033 4.1).
#[inline(never)]
fn ehlo<'a, T>(l: &Args<'a, '_>, build: impl FnOnce(Host<'a>) -> T) -> Result<T, DecodeError> {
    let a = l.required()?;
    // A client without a name sends its address: no text to check for that.
    if let Some(([], ip)) = bracketed_ipv4(a) {
        return Ok(build(Host::Literal(AddressLiteral::Ipv4(ip))));
    }
    if let Some(([], ip)) = bracketed_ipv6(a) {
        return Ok(build(Host::Literal(AddressLiteral::Ipv6(ip))));
    }
    let cx = l.text(a)?;
    match host(&cx, a) {
        Ok(([], h)) => Ok(build(h)),
        _ => Err(l.err(a)),
    }
}

/// `mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF` (RFC 5321 4.1.1.2)
#[inline(never)]
fn mail<'a, T>(
    l: &Args<'a, '_>,
    build: impl FnOnce(ReversePath<'a>, MailParams<'a>) -> T,
) -> Result<T, DecodeError> {
    path_then_params(
        l,
        b"from:",
        #[inline(always)]
        |cx, i| reverse_path(cx, i),
        #[inline(always)]
        |cx, i| mail_parameters(cx, i),
        build,
    )
}

/// `rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
/// [SP Rcpt-parameters] CRLF` (RFC 5321 4.1.1.3)
#[inline(never)]
fn rcpt<'a, T>(
    l: &Args<'a, '_>,
    build: impl FnOnce(ForwardPath<'a>, RcptParams<'a>) -> T,
) -> Result<T, DecodeError> {
    path_then_params(
        l,
        b"to:",
        #[inline(always)]
        |cx, i| forward_path(cx, i),
        #[inline(always)]
        |cx, i| rcpt_parameters(cx, i),
        build,
    )
}

/// What [`mail`] and [`rcpt`] share after the verb: `SP`, `keyword` (`FROM:`, `TO:`), a
/// path, then nothing or `SP` and parameters.
#[inline(always)]
fn path_then_params<'a, P, Q: Default, T, const N: usize>(
    l: &Args<'a, '_>,
    keyword: &[u8; N],
    path: impl FnOnce(&Cx<'a>, &'a [u8]) -> Res<'a, P>,
    parameters: impl FnOnce(&Cx<'a>, &'a [u8]) -> Result<Q, (usize, SyntaxErrorKind)>,
    build: impl FnOnce(P, Q) -> T,
) -> Result<T, DecodeError> {
    let a = l.required()?;
    let cx = l.text(a)?;
    let a = prefix(a, keyword, l.g).ok_or_else(|| l.err(a))?;
    let (r, found) = path(&cx, a).map_err(|_| l.err(a))?;
    let params = match r {
        [] => Q::default(),
        [b' ', p @ ..] if !p.is_empty() => {
            parameters(&cx, p).map_err(|(o, k)| DecodeError::syntax(l.at(p) + o, k))?
        }
        _ => return Err(l.err(r)),
    };
    Ok(build(found, params))
}

/// `bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF`, `end-marker = "LAST"`
/// (RFC 3030 2)
#[inline(always)]
fn bdat_cmd<T>(l: &Args<'_, '_>, build: impl FnOnce(u64, bool) -> T) -> Result<T, DecodeError> {
    let a = l.required()?;
    let (num, tail) = a.split_at(a.iter().position(|&b| b == b' ').unwrap_or(a.len()));
    let size = chunk_size(num).ok_or_else(|| l.err(a))?;
    match tail {
        [] => Ok(build(size, false)),
        [b' ', m @ ..] if eq_fold(m, b"last") => Ok(build(size, true)),
        _ => Err(l.err(tail)),
    }
}

/// `SP String`, the argument of `vrfy = "VRFY" SP String CRLF` and
/// `expn = "EXPN" SP String CRLF` (RFC 5321 4.1.1.6, 4.1.1.7)
#[inline(never)]
fn sp_string<'a, T>(
    l: &Args<'a, '_>,
    build: impl FnOnce(Argument<'a>) -> T,
) -> Result<T, DecodeError> {
    let a = l.required()?;
    let cx = l.text(a)?;
    argument(&cx, a).map(build).ok_or_else(|| l.err(a))
}

/// `[ SP String ]`, the argument of `help = "HELP" [ SP String ] CRLF` and
/// `noop = "NOOP" [ SP String ] CRLF` (RFC 5321 4.1.1.8, 4.1.1.9)
#[inline(always)]
fn opt_sp_string<'a, T>(
    l: &Args<'a, '_>,
    build: impl FnOnce(Option<Argument<'a>>) -> T,
) -> Result<T, DecodeError> {
    match l.given() {
        None => Ok(build(None)),
        Some(_) => sp_string(l, |a| build(Some(a))),
    }
}

/// `auth-command = "AUTH" SP sasl-mech [SP initial-response] ...` (RFC 4954 4), its
/// first line; the mechanism is kept in upper case.
#[inline(never)]
fn auth_command<'a, T>(
    l: &Args<'a, '_>,
    build: impl FnOnce(Mechanism<'a>, Option<InitialResponse<'a>>) -> T,
) -> Result<T, DecodeError> {
    let a = l.required()?;
    let (m, tail) = a.split_at(a.iter().position(|&b| b == b' ').unwrap_or(a.len()));
    if !is_sasl_mech(m) {
        return Err(l.err(a));
    }
    // Both fields are ASCII once their checks pass, so the line is taken as text only
    // for what must be borrowed from it.
    let (mechanism, cx) = match Mechanism::well_known(m) {
        Some(k) => (k, None),
        None => {
            let cx = l.text(a)?;
            let m = Mechanism::from_parsed(cx.text(m).ok_or_else(|| l.err(a))?);
            (m, Some(cx))
        }
    };
    let initial_response = match tail {
        [] => None,
        [b' ', ir @ ..] if is_initial_response(ir) => {
            let cx = match cx {
                Some(cx) => cx,
                None => l.text(ir)?,
            };
            Some(InitialResponse::from_parsed(
                cx.text(ir).ok_or_else(|| l.err(tail))?,
            ))
        }
        _ => return Err(l.err(tail)),
    };
    Ok(build(mechanism, initial_response))
}

/// A verb with no rule here (`Keyword [ SP Argument ]`, RFC 5321 4.1.2): kept for the
/// `500` reply it gets, with its arguments when they are plain text.
fn extension_command<'a, T>(
    l: &Args<'a, '_>,
    verb: &'a [u8],
    build: impl FnOnce(Keyword<'a>, Option<Argument<'a>>) -> T,
) -> Result<T, DecodeError> {
    let cx = l.text(l.line)?;
    let verb = Keyword::from_parsed(cx.text(verb).ok_or_else(|| l.err(l.line))?);
    // An unknown verb is answered 500 whatever follows it; keep the arguments when they
    // are plain text (spaces at the edges dropped), else leave them out.
    let args = l
        .given()
        .map(|a| {
            let start = a.iter().position(|&b| b != b' ').unwrap_or(a.len());
            trim_end_spaces(&a[start..])
        })
        .and_then(|a| argument(&cx, a));
    // Arguments left out unread must still be clean; kept ones are (see `is_argument`),
    // and so is the verb.
    if args.is_none() {
        if let Some(e) = forbidden_byte(l.line) {
            return Err(e);
        }
    }
    Ok(build(verb, args))
}

/// Parses a command from the front of `input`, which must hold its CRLF; returns the bytes
/// after it. [`DecodeError::Incomplete`] when no CRLF has arrived yet.
pub fn decode_command<'a>(
    input: &'a [u8],
    g: &Grammar,
) -> Result<(&'a [u8], Command<'a>), DecodeError> {
    let mut from = 0;
    loop {
        let Some(lf) = find_lf(input.get(from..).unwrap_or_default()) else {
            return Err(DecodeError::Incomplete);
        };
        let lf = from + lf;
        if lf > 0 && input[lf - 1] == b'\r' {
            let rest = &input[lf + 1..];
            return parse_line(&input[..lf - 1], g, |cmd| (rest, cmd));
        }
        // A bare LF is not a line end (RFC 5321 2.3.8); the line goes on.
        from = lf + 1;
    }
}

/// Marks the octets of `x` (eight octets, little-endian) that equal `b` with their high
/// bit. Only the lowest mark is exact (a borrow runs upwards from a real match and can
/// mark the octet above it), so callers take the lowest: the first match in memory.
#[inline(always)]
fn octets_eq(x: u64, b: u8) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let y = x ^ (ONES * u64::from(b));
    y.wrapping_sub(ONES) & !y & HIGHS
}

/// The first LF in `s`. Command lines are short, and a call into `memchr` costs more
/// than the search on them: the first 128 bytes are searched here, a word at a time
/// (RCPT lines with DSN parameters pass 64 bytes; a `memchr` call there cost more than
/// the words it saved). The header scan skips message lines with it too.
#[inline(always)]
pub(crate) fn find_lf(s: &[u8]) -> Option<usize> {
    let zero = |w: &[u8; 8]| octets_eq(u64::from_le_bytes(*w), b'\n');
    let head = &s[..s.len().min(128)];
    // Two words per step, one branch for both.
    let mut pairs = head.chunks_exact(16);
    for (k, c) in (&mut pairs).enumerate() {
        let (a, b) = c.split_at(8);
        let (Some(a), Some(b)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) else {
            break;
        };
        let (ma, mb) = (zero(a), zero(b));
        if ma | mb != 0 {
            let at = if ma != 0 {
                ma.trailing_zeros()
            } else {
                64 + mb.trailing_zeros()
            };
            return Some(k * 16 + (at / 8) as usize);
        }
    }
    let done = head.len() - pairs.remainder().len();
    let mut tail = pairs.remainder();
    if let Some(w) = tail.first_chunk::<8>() {
        let m = zero(w);
        if m != 0 {
            return Some(done + (m.trailing_zeros() / 8) as usize);
        }
        tail = &tail[8..];
    }
    let done = head.len() - tail.len();
    if let Some(p) = tail.iter().position(|&b| b == b'\n') {
        return Some(done + p);
    }
    memchr::memchr(b'\n', &s[head.len()..]).map(|p| head.len() + p)
}

/// The error for the first NUL, CR or LF in `line`, if it holds one: bytes the grammar
/// forbids anywhere in a command. A command line is short, and a call into `memchr`
/// costs more than the search there (about 150 instructions on a ten-octet line), so
/// the first 128 octets are searched here a word at a time.
fn forbidden_byte(line: &[u8]) -> Option<DecodeError> {
    nul_cr_lf(line).map(|pos| DecodeError::syntax(pos, SyntaxErrorKind::Byte))
}

fn nul_cr_lf(line: &[u8]) -> Option<usize> {
    if line.len() > 128 {
        return memchr::memchr3(0, b'\r', b'\n', line);
    }
    let mut words = line.chunks_exact(8);
    for (k, w) in (&mut words).enumerate() {
        let Some(w) = w.first_chunk::<8>() else {
            break;
        };
        let x = u64::from_le_bytes(*w);
        // The lowest of the three first marks is the first octet that is one of them.
        let m = octets_eq(x, 0) | octets_eq(x, b'\r') | octets_eq(x, b'\n');
        if m != 0 {
            return Some(k * 8 + (m.trailing_zeros() / 8) as usize);
        }
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| b == 0 || b == b'\r' || b == b'\n')
        .map(|p| line.len() - tail.len() + p)
}

fn trim_end_spaces(mut s: &[u8]) -> &[u8] {
    while let [head @ .., b' '] = s {
        s = head;
    }
    s
}

/// `"FROM:"` / `"TO:"`, case-insensitive, then optional spaces under the lenient grammar.
#[inline(always)]
fn prefix<'a, const N: usize>(a: &'a [u8], p: &[u8; N], g: &Grammar) -> Option<&'a [u8]> {
    if !eq_fold(a.get(..N)?, p) {
        return None;
    }
    let mut r = &a[p.len()..];
    if g.allow_space_after_colon {
        while let [b' ', tail @ ..] = r {
            r = tail;
        }
    }
    Some(r)
}

/// `chunk-size = 1*DIGIT` (RFC 3030 2); `None` on overflow.
fn chunk_size(d: &[u8]) -> Option<u64> {
    super::params::digits(d)
}

/// `String = Atom / Quoted-string`, taken loosely (see [`is_argument`]).
fn argument<'a>(cx: &Cx<'a>, a: &'a [u8]) -> Option<Argument<'a>> {
    is_argument(a)
        .then(|| cx.text(a))
        .flatten()
        .map(Argument::from_parsed)
}

#[cfg(test)]
mod tests {
    use super::{find_lf, nul_cr_lf};

    /// The word-at-a-time search agrees with a plain one for every position of the LF
    /// (in the words, in the tail, past the 64-byte head) and without one.
    #[test]
    fn find_lf_matches_a_plain_search() {
        for len in 0..150 {
            let mut s = vec![b'a'; len];
            assert_eq!(find_lf(&s), None, "len {len}");
            for at in 0..len {
                s[at] = b'\n';
                assert_eq!(find_lf(&s), Some(at), "len {len}, LF at {at}");
                // A second LF later must not win; bytes that differ from LF only in
                // one bit must not match.
                if at + 1 < len {
                    s[at + 1] = b'\n';
                    assert_eq!(find_lf(&s), Some(at));
                    s[at + 1] = b'a';
                }
                s[at] = b'\n' ^ 0x80;
                assert_eq!(find_lf(&s), None, "len {len}, near-LF at {at}");
                s[at] = b'\x0b';
                assert_eq!(find_lf(&s), None);
                s[at] = b'a';
            }
        }
    }

    /// The word-at-a-time search for NUL, CR and LF agrees with a plain one for every
    /// length up to past the 128-octet head, every position, and octets one bit away.
    #[test]
    fn nul_cr_lf_matches_a_plain_search() {
        for len in 0..150 {
            let mut s = vec![b'a'; len];
            assert_eq!(nul_cr_lf(&s), None, "len {len}");
            for at in 0..len {
                for b in [0, b'\r', b'\n'] {
                    s[at] = b;
                    assert_eq!(nul_cr_lf(&s), Some(at), "len {len}, {b} at {at}");
                    if at + 1 < len {
                        s[at + 1] = b'\r';
                        assert_eq!(nul_cr_lf(&s), Some(at));
                        s[at + 1] = b'a';
                    }
                }
                for near in [0x80, 0x8d, 0x8a, 0x01, 0x0c, 0x0b, 0x0e, 0xff] {
                    s[at] = near;
                    assert_eq!(nul_cr_lf(&s), None, "len {len}, {near:#x} at {at}");
                }
                s[at] = b'a';
            }
        }
    }
}
