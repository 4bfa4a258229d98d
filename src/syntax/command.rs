//! Command lines (RFC 5321 4.1.1, RFC 3207, RFC 4954, RFC 3030, RFC 2033).

use super::address::{forward_path, host, reverse_path};
use super::params::{mail_parameters, rcpt_parameters};
use super::{Cx, Grammar};
use crate::error::{DecodeError, SyntaxErrorKind};
use crate::lexical::{eq_fold, is_argument, is_initial_response, is_ldh_str, is_sasl_mech};
use crate::types::{Argument, Command, InitialResponse, Keyword, Mechanism};

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
        Err(e) => Err(forbidden_byte(line)
            .or_else(|| {
                std::str::from_utf8(line)
                    .err()
                    .map(|u| DecodeError::syntax(u.valid_up_to(), SyntaxErrorKind::Byte))
            })
            .unwrap_or(e)),
    }
}

/// The grammar proper.
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
    // `Keyword = Ldh-str` for the verb; dispatch by hand, it is the hot path. Most verbs
    // have four letters: those are taken without a search for the space.
    let vlen = if line.len() >= 4
        && line.get(4).is_none_or(|&b| b == b' ')
        && !line[..4].contains(&b' ')
    {
        4
    } else {
        line.iter().position(|&b| b == b' ').unwrap_or(line.len())
    };
    let (verb, rest) = line.split_at(vlen);
    // `rest` is empty or starts with the SP that separates the arguments.
    let args = rest.get(1..);
    // The arguments as text, checked as UTF-8 once for all the fields cut from them.
    let text = |a: &'a [u8]| std::str::from_utf8(a).ok().map(|t| Cx::new(t, g));
    let at = |r: &[u8]| line.len() - r.len();
    let arg_err = |r: &[u8]| DecodeError::syntax(at(r), SyntaxErrorKind::Arguments);
    let no_args = || {
        if rest.is_empty() {
            Ok(())
        } else {
            Err(arg_err(rest))
        }
    };

    // The verb folded to lower case as a number: `| 0x20` maps A-Z to a-z and leaves
    // digits and "-" (the only other bytes a verb holds) as they are.
    let key = match verb.len() {
        4 => u64::from(u32::from_le_bytes([verb[0], verb[1], verb[2], verb[3]]) | 0x2020_2020),
        8 => {
            u64::from_le_bytes([
                verb[0], verb[1], verb[2], verb[3], verb[4], verb[5], verb[6], verb[7],
            ]) | 0x2020_2020_2020_2020
        }
        _ => 0,
    };
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
    // A verb whose folded form is a known one is made of letters (only `A`-`Z` and
    // `a`-`z` fold onto a lower-case letter); any other is checked as an `Ldh-str`.
    if !matches!(
        key,
        EHLO | HELO
            | LHLO
            | MAIL
            | RCPT
            | DATA
            | RSET
            | QUIT
            | BDAT
            | VRFY
            | EXPN
            | HELP
            | NOOP
            | AUTH
            | STARTTLS
    ) && !is_ldh_str(verb)
    {
        return Err(DecodeError::syntax(0, SyntaxErrorKind::Verb));
    }
    match key {
        EHLO | HELO | LHLO => {
            let a = args.ok_or_else(|| arg_err(rest))?;
            let cx = text(a).ok_or_else(|| arg_err(a))?;
            let h = match host(&cx, a) {
                Ok(([], h)) => h,
                _ => return Err(arg_err(a)),
            };
            Ok(wrap(match key {
                EHLO => Command::Ehlo(h),
                HELO => Command::Helo(h),
                _ => Command::Lhlo(h),
            }))
        }
        MAIL => {
            let a = args.ok_or_else(|| arg_err(rest))?;
            let cx = text(a).ok_or_else(|| arg_err(a))?;
            let a = prefix(a, b"from:", g).ok_or_else(|| arg_err(a))?;
            let (r, from) = reverse_path(&cx, a).map_err(|_| arg_err(a))?;
            let params = params_after(r, g).map_err(|k| DecodeError::syntax(at(r), k))?;
            let params = match params {
                Some(p) => {
                    mail_parameters(&cx, p).map_err(|(o, k)| DecodeError::syntax(at(p) + o, k))?
                }
                None => Default::default(),
            };
            Ok(wrap(Command::Mail { from, params }))
        }
        RCPT => {
            let a = args.ok_or_else(|| arg_err(rest))?;
            let cx = text(a).ok_or_else(|| arg_err(a))?;
            let a = prefix(a, b"to:", g).ok_or_else(|| arg_err(a))?;
            let (r, to) = forward_path(&cx, a).map_err(|_| arg_err(a))?;
            let params = params_after(r, g).map_err(|k| DecodeError::syntax(at(r), k))?;
            let params = match params {
                Some(p) => {
                    rcpt_parameters(&cx, p).map_err(|(o, k)| DecodeError::syntax(at(p) + o, k))?
                }
                None => Default::default(),
            };
            Ok(wrap(Command::Rcpt { to, params }))
        }
        DATA => no_args().map(|()| wrap(Command::Data)),
        RSET => no_args().map(|()| wrap(Command::Rset)),
        QUIT => no_args().map(|()| wrap(Command::Quit)),
        STARTTLS => no_args().map(|()| wrap(Command::StartTls)),
        BDAT => {
            // RFC 3030 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF
            let a = args.ok_or_else(|| arg_err(rest))?;
            let (num, tail) = a.split_at(a.iter().position(|&b| b == b' ').unwrap_or(a.len()));
            let size = chunk_size(num).ok_or_else(|| arg_err(a))?;
            let last = match tail {
                [] => false,
                [b' ', m @ ..] if eq_fold(m, b"last") => true,
                _ => return Err(arg_err(tail)),
            };
            Ok(wrap(Command::Bdat { size, last }))
        }
        VRFY | EXPN => {
            let a = args.ok_or_else(|| arg_err(rest))?;
            let cx = text(a).ok_or_else(|| arg_err(a))?;
            let arg = argument(&cx, a).ok_or_else(|| arg_err(a))?;
            Ok(wrap(if key == VRFY {
                Command::Vrfy(arg)
            } else {
                Command::Expn(arg)
            }))
        }
        HELP | NOOP => {
            let arg = match args {
                None => None,
                Some(a) => {
                    let cx = text(a).ok_or_else(|| arg_err(a))?;
                    Some(argument(&cx, a).ok_or_else(|| arg_err(a))?)
                }
            };
            Ok(wrap(if key == HELP {
                Command::Help(arg)
            } else {
                Command::Noop(arg)
            }))
        }
        AUTH => {
            // RFC 4954 4: "AUTH" SP sasl-mech [SP initial-response]
            let a = args.ok_or_else(|| arg_err(rest))?;
            let cx = text(a).ok_or_else(|| arg_err(a))?;
            let (m, tail) = a.split_at(a.iter().position(|&b| b == b' ').unwrap_or(a.len()));
            if !is_sasl_mech(m) {
                return Err(arg_err(a));
            }
            let mechanism = Mechanism::from_parsed(cx.text(m).ok_or_else(|| arg_err(a))?);
            let initial_response = match tail {
                [] => None,
                [b' ', ir @ ..] if is_initial_response(ir) => Some(InitialResponse::from_parsed(
                    cx.text(ir).ok_or_else(|| arg_err(tail))?,
                )),
                _ => return Err(arg_err(tail)),
            };
            Ok(wrap(Command::Auth {
                mechanism,
                initial_response,
            }))
        }
        _ => {
            let cx = text(line).ok_or_else(|| arg_err(line))?;
            let verb = Keyword::from_parsed(cx.text(verb).ok_or_else(|| arg_err(line))?);
            // The arguments may be dropped below, unread: they must still be clean.
            if let Some(e) = forbidden_byte(line) {
                return Err(e);
            }
            // An unknown verb is answered 500 whatever follows it; keep the arguments
            // when they are plain text (spaces at the edges dropped), else leave them out.
            let args = args
                .map(|a| {
                    let start = a.iter().position(|&b| b != b' ').unwrap_or(a.len());
                    trim_end_spaces(&a[start..])
                })
                .and_then(|a| argument(&cx, a));
            Ok(wrap(Command::Other { verb, args }))
        }
    }
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

/// The first LF in `s`. Command lines are short, and a call into `memchr` costs more
/// than the search on them: the first 64 bytes are searched here, a word at a time.
#[inline(always)]
fn find_lf(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let head = &s[..s.len().min(64)];
    let mut words = head.chunks_exact(8);
    for (k, c) in (&mut words).enumerate() {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ LFS;
        // The lowest set bit marks the first zero byte exactly (a borrow only runs
        // upwards from a real zero), and little-endian puts the first byte lowest.
        let m = x.wrapping_sub(ONES) & !x & HIGHS;
        if m != 0 {
            return Some(k * 8 + (m.trailing_zeros() / 8) as usize);
        }
    }
    let done = head.len() - words.remainder().len();
    if let Some(p) = words.remainder().iter().position(|&b| b == b'\n') {
        return Some(done + p);
    }
    memchr::memchr(b'\n', &s[head.len()..]).map(|p| head.len() + p)
}

/// The error for the first NUL, CR or LF in `line`, if it holds one: bytes the grammar
/// forbids anywhere in a command.
fn forbidden_byte(line: &[u8]) -> Option<DecodeError> {
    memchr::memchr3(0, b'\r', b'\n', line)
        .map(|pos| DecodeError::syntax(pos, SyntaxErrorKind::Byte))
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

/// After a path: nothing, or `SP` then parameters.
fn params_after<'a>(r: &'a [u8], _g: &Grammar) -> Result<Option<&'a [u8]>, SyntaxErrorKind> {
    match r {
        [] => Ok(None),
        [b' ', p @ ..] if !p.is_empty() => Ok(Some(p)),
        _ => Err(SyntaxErrorKind::Arguments),
    }
}

/// `chunk-size = 1*DIGIT` (RFC 3030 2); `None` on overflow.
fn chunk_size(d: &[u8]) -> Option<u64> {
    if d.is_empty() || d.len() > 20 || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    d.iter().try_fold(0u64, |a, &c| {
        a.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
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
    use super::find_lf;

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
}
