//! EHLO keywords (RFC 5321 4.1.1.1 `ehlo-line`) as typed capabilities.

use std::borrow::Cow;

use super::{Mechanism, Reply, ReplyCode, Text};
use crate::error::InvalidValue;
use crate::lexical::{is_ehlo_param, is_esmtp_keyword};

/// An `ehlo-keyword` (RFC 5321 4.1.1.1): a letter or digit, then letters, digits and
/// hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EhloKeyword<'a>(Cow<'a, str>);

impl<'a> EhloKeyword<'a> {
    /// Checks the rule.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if is_esmtp_keyword(s.as_bytes()) {
            Ok(Self(s))
        } else {
            Err(InvalidValue::new("EHLO keyword", "must match ehlo-keyword"))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(s)
    }

    /// The keyword as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> EhloKeyword<'static> {
        EhloKeyword(Cow::Owned(self.0.into_owned()))
    }
}

/// An `ehlo-param` (RFC 5321 4.1.1.1): one or more visible ASCII characters, so an EHLO
/// line built from it is always one line that parses back the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EhloParam<'a>(Cow<'a, str>);

impl<'a> EhloParam<'a> {
    /// Checks `1*(%d33-126)`.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if is_ehlo_param(s.as_bytes()) {
            Ok(Self(s))
        } else {
            Err(InvalidValue::new("EHLO parameter", "must be 1*(%d33-126)"))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(s)
    }

    /// The parameter as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> EhloParam<'static> {
        EhloParam(Cow::Owned(self.0.into_owned()))
    }
}

/// One EHLO keyword with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability<'a> {
    /// `SIZE [n]` (RFC 1870); `None` or `Some(0)` means no fixed limit.
    Size(Option<u64>),
    /// `PIPELINING` (RFC 2920).
    Pipelining,
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
    /// `SMTPUTF8` (RFC 6531).
    SmtpUtf8,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH mech...` (RFC 4954).
    Auth(Vec<Mechanism<'a>>),
    /// `CHUNKING` (RFC 3030).
    Chunking,
    /// `BINARYMIME` (RFC 3030).
    BinaryMime,
    /// `DSN` (RFC 3461).
    Dsn,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    EnhancedStatusCodes,
    /// `REQUIRETLS` (RFC 8689).
    RequireTls,
    /// `MT-PRIORITY [profile]` (RFC 6710).
    MtPriority(Option<EhloParam<'a>>),
    /// `VRFY`.
    Vrfy,
    /// `EXPN`.
    Expn,
    /// `HELP`.
    Help,
    /// Any other keyword, with its parameters as sent.
    Other {
        /// The `ehlo-keyword`.
        keyword: EhloKeyword<'a>,
        /// The `ehlo-param`s.
        params: Vec<EhloParam<'a>>,
    },
}

impl Capability<'_> {
    /// The keyword, upper case for the known ones.
    pub fn keyword(&self) -> &str {
        match self {
            Self::Size(_) => "SIZE",
            Self::Pipelining => "PIPELINING",
            Self::EightBitMime => "8BITMIME",
            Self::SmtpUtf8 => "SMTPUTF8",
            Self::StartTls => "STARTTLS",
            Self::Auth(_) => "AUTH",
            Self::Chunking => "CHUNKING",
            Self::BinaryMime => "BINARYMIME",
            Self::Dsn => "DSN",
            Self::EnhancedStatusCodes => "ENHANCEDSTATUSCODES",
            Self::RequireTls => "REQUIRETLS",
            Self::MtPriority(_) => "MT-PRIORITY",
            Self::Vrfy => "VRFY",
            Self::Expn => "EXPN",
            Self::Help => "HELP",
            Self::Other { keyword, .. } => keyword.as_str(),
        }
    }

    /// The `ehlo-line` text (keyword and parameters).
    pub fn to_line(&self) -> String {
        match self {
            Self::Size(Some(n)) => format!("SIZE {n}"),
            Self::Auth(m) => {
                let mut s = String::from("AUTH");
                for mech in m {
                    s.push(' ');
                    s.push_str(mech.as_str());
                }
                s
            }
            Self::MtPriority(Some(p)) => format!("MT-PRIORITY {}", p.as_str()),
            Self::Other { keyword, params } => {
                let mut s = keyword.as_str().to_owned();
                for p in params {
                    s.push(' ');
                    s.push_str(p.as_str());
                }
                s
            }
            other => other.keyword().to_owned(),
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Capability<'static> {
        match self {
            Self::Size(n) => Capability::Size(n),
            Self::Pipelining => Capability::Pipelining,
            Self::EightBitMime => Capability::EightBitMime,
            Self::SmtpUtf8 => Capability::SmtpUtf8,
            Self::StartTls => Capability::StartTls,
            Self::Auth(m) => Capability::Auth(m.into_iter().map(Mechanism::into_owned).collect()),
            Self::Chunking => Capability::Chunking,
            Self::BinaryMime => Capability::BinaryMime,
            Self::Dsn => Capability::Dsn,
            Self::EnhancedStatusCodes => Capability::EnhancedStatusCodes,
            Self::RequireTls => Capability::RequireTls,
            Self::MtPriority(p) => Capability::MtPriority(p.map(EhloParam::into_owned)),
            Self::Vrfy => Capability::Vrfy,
            Self::Expn => Capability::Expn,
            Self::Help => Capability::Help,
            Self::Other { keyword, params } => Capability::Other {
                keyword: keyword.into_owned(),
                params: params.into_iter().map(EhloParam::into_owned).collect(),
            },
        }
    }
}

/// What a server said in its EHLO reply: its greeting line and the keywords after it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    greeting: String,
    list: Vec<Capability<'static>>,
}

impl Capabilities {
    /// Builds a set from a greeting (first line, usually the server's domain) and keywords.
    pub fn new(greeting: Text, list: Vec<Capability<'static>>) -> Self {
        Self {
            greeting: greeting.as_str().to_owned(),
            list,
        }
    }

    /// The EHLO reply for these capabilities.
    pub fn to_reply(&self) -> Reply {
        let mut lines = Vec::with_capacity(self.list.len() + 1);
        lines.push(Text::new(self.greeting.clone()).unwrap_or_else(|_| Text::fixed("")));
        for c in &self.list {
            if let Ok(t) = Text::new(c.to_line()) {
                lines.push(t);
            }
        }
        Reply::from_lines(ReplyCode::OK, lines)
    }

    /// The greeting line (domain and text).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// All keywords in order.
    pub fn iter(&self) -> impl Iterator<Item = &Capability<'static>> {
        self.list.iter()
    }

    /// True when a keyword with this name was announced (case-insensitive).
    pub fn has(&self, keyword: &str) -> bool {
        self.list
            .iter()
            .any(|c| c.keyword().eq_ignore_ascii_case(keyword))
    }

    /// The SIZE limit: `Some(None)` when SIZE was announced without a usable limit.
    pub fn size(&self) -> Option<Option<u64>> {
        self.list.iter().find_map(|c| match c {
            Capability::Size(n) => Some(n.filter(|&n| n > 0)),
            _ => None,
        })
    }

    /// The SASL mechanisms announced with AUTH (all AUTH lines together).
    pub fn auth_mechanisms(&self) -> Vec<&Mechanism<'static>> {
        self.list
            .iter()
            .filter_map(|c| match c {
                Capability::Auth(m) => Some(m.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// True for `PIPELINING`.
    pub fn pipelining(&self) -> bool {
        self.list.contains(&Capability::Pipelining)
    }

    /// True for `STARTTLS`.
    pub fn starttls(&self) -> bool {
        self.list.contains(&Capability::StartTls)
    }

    /// True for `CHUNKING`.
    pub fn chunking(&self) -> bool {
        self.list.contains(&Capability::Chunking)
    }

    /// True for `8BITMIME`.
    pub fn eight_bit_mime(&self) -> bool {
        self.list.contains(&Capability::EightBitMime)
    }

    /// True for `BINARYMIME`.
    pub fn binary_mime(&self) -> bool {
        self.list.contains(&Capability::BinaryMime)
    }

    /// True for `SMTPUTF8`.
    pub fn smtputf8(&self) -> bool {
        self.list.contains(&Capability::SmtpUtf8)
    }

    /// True for `DSN`.
    pub fn dsn(&self) -> bool {
        self.list.contains(&Capability::Dsn)
    }

    /// True for `ENHANCEDSTATUSCODES`.
    pub fn enhanced_status_codes(&self) -> bool {
        self.list.contains(&Capability::EnhancedStatusCodes)
    }

    /// True for `REQUIRETLS`.
    pub fn requiretls(&self) -> bool {
        self.list.contains(&Capability::RequireTls)
    }
}
