//! EHLO reply lines (RFC 5321 4.1.1.1).

use super::utf8;
use crate::error::InvalidValue;
use crate::lexical::{is_ehlo_param, is_esmtp_keyword, is_sasl_mech};
use crate::types::{Capabilities, Capability, EhloKeyword, EhloParam, Mechanism, Reply, Text};

/// `ehlo-line = ehlo-keyword *( SP ehlo-param )`; the known keywords typed, the rest
/// kept as [`Capability::Other`]. A known keyword with parameters it cannot have is
/// kept as `Other` too, so nothing is lost. `None` when the line breaks the rule.
pub(crate) fn parse_ehlo_line(line: &[u8]) -> Option<Capability<'_>> {
    let mut parts = line.split(|&b| b == b' ');
    let kw = parts.next()?;
    if !is_esmtp_keyword(kw) {
        return None;
    }
    let params: Vec<&[u8]> = parts.collect();
    if !params.iter().all(|p| is_ehlo_param(p)) {
        return None;
    }
    let up = kw.to_ascii_uppercase();
    let typed = match (up.as_slice(), params.as_slice()) {
        (b"SIZE", []) => Some(Capability::Size(None)),
        (b"SIZE", [n]) if n.len() <= 20 && n.iter().all(u8::is_ascii_digit) => n
            .iter()
            .try_fold(0u64, |a, &d| {
                a.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .map(|v| Capability::Size(Some(v))),
        (b"PIPELINING", []) => Some(Capability::Pipelining),
        (b"8BITMIME", []) => Some(Capability::EightBitMime),
        (b"SMTPUTF8", []) => Some(Capability::SmtpUtf8),
        (b"STARTTLS", []) => Some(Capability::StartTls),
        (b"CHUNKING", []) => Some(Capability::Chunking),
        (b"BINARYMIME", []) => Some(Capability::BinaryMime),
        (b"DSN", []) => Some(Capability::Dsn),
        (b"ENHANCEDSTATUSCODES", []) => Some(Capability::EnhancedStatusCodes),
        (b"REQUIRETLS", []) => Some(Capability::RequireTls),
        (b"VRFY", []) => Some(Capability::Vrfy),
        (b"EXPN", []) => Some(Capability::Expn),
        (b"HELP", []) => Some(Capability::Help),
        (b"MT-PRIORITY", []) => Some(Capability::MtPriority(None)),
        (b"MT-PRIORITY", [p]) => {
            utf8(p).map(|p| Capability::MtPriority(Some(EhloParam::from_parsed(p))))
        }
        (b"AUTH", ms) if ms.iter().all(|m| is_sasl_mech(m)) => ms
            .iter()
            .map(|m| utf8(m).map(Mechanism::from_parsed))
            .collect::<Option<Vec<_>>>()
            .map(Capability::Auth),
        _ => None,
    };
    if typed.is_some() {
        return typed;
    }
    let keyword = EhloKeyword::from_parsed(utf8(kw)?);
    let params = params
        .into_iter()
        .map(|p| utf8(p).map(EhloParam::from_parsed))
        .collect::<Option<Vec<_>>>()?;
    Some(Capability::Other { keyword, params })
}

impl Capability<'_> {
    /// Builds an unknown keyword, checking `ehlo-keyword` and `ehlo-param`.
    pub fn other(keyword: &str, params: &[&str]) -> Result<Capability<'static>, InvalidValue> {
        let mut line = keyword.to_owned();
        for p in params {
            line.push(' ');
            line.push_str(p);
        }
        match parse_ehlo_line(line.as_bytes()) {
            Some(Capability::Other {
                keyword: k,
                params: ps,
            }) if k.as_str() == keyword && ps.len() == params.len() => Ok(Capability::Other {
                keyword: k.into_owned(),
                params: ps.into_iter().map(EhloParam::into_owned).collect(),
            }),
            _ => Err(InvalidValue::new(
                "EHLO keyword",
                "must be an unknown ehlo-keyword with ehlo-params",
            )),
        }
    }
}

impl Capabilities {
    /// Reads a positive EHLO reply (RFC 5321 4.1.1.1). Lines that are not `ehlo-line`s are
    /// skipped, as real servers send oddities and the keywords that parse are still useful.
    pub fn from_reply(reply: &Reply) -> Self {
        let mut lines = reply.lines().iter();
        let greeting = lines.next().cloned().unwrap_or_else(|| Text::fixed(""));
        let list = lines
            .filter_map(|l| parse_ehlo_line(l.as_str().as_bytes()).map(Capability::into_owned))
            .collect();
        Self::new(greeting, list)
    }
}
