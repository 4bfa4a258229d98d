//! Typed MAIL and RCPT parameters (RFC 1870, 6152, 3030, 6531, 3461, 4954, 8689, 6710).

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use crate::error::InvalidValue;
use crate::lexical;

/// `BODY=` (RFC 6152, RFC 3030).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Body {
    /// `7BIT`
    SevenBit,
    /// `8BITMIME`
    EightBitMime,
    /// `BINARYMIME`: only with BDAT (RFC 3030 3).
    BinaryMime,
}

impl Body {
    /// The keyword value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SevenBit => "7BIT",
            Self::EightBitMime => "8BITMIME",
            Self::BinaryMime => "BINARYMIME",
        }
    }
}

/// `RET=` (RFC 3461 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ret {
    /// `FULL`: return the whole message in a DSN.
    Full,
    /// `HDRS`: return only the headers.
    Hdrs,
}

/// `NOTIFY=` (RFC 3461 4.1): `NEVER`, or a non-empty set of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Notify {
    /// `NEVER`
    Never,
    /// Some of `SUCCESS`, `FAILURE`, `DELAY` (at least one is true).
    On {
        /// `SUCCESS`
        success: bool,
        /// `FAILURE`
        failure: bool,
        /// `DELAY`
        delay: bool,
    },
}

impl Notify {
    /// Builds the condition set; all false is not a valid value.
    pub fn on(success: bool, failure: bool, delay: bool) -> Result<Self, InvalidValue> {
        if success || failure || delay {
            Ok(Self::On {
                success,
                failure,
                delay,
            })
        } else {
            Err(InvalidValue::new(
                "NOTIFY",
                "at least one condition, or NEVER",
            ))
        }
    }
}

/// A value carried as `xtext` (RFC 3461 4): stored decoded, encoded with `+XX` escapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XText<'a>(Cow<'a, str>);

impl<'a> XText<'a> {
    /// Any non-empty text; it is escaped on the wire as needed.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if s.is_empty() {
            Err(InvalidValue::new("xtext", "must not be empty"))
        } else {
            Ok(Self(s))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(s)
    }

    /// The decoded value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Writes the xtext form: `+XX` for `+`, `=` and bytes outside `!`..`~`.
    pub fn encode(&self, out: &mut BytesMut) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for &b in self.0.as_bytes() {
            if lexical::is_xchar(b) {
                out.put_u8(b);
            } else {
                out.put_slice(&[b'+', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
        }
    }

    /// Octets of the `xtext` form that [`XText::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        self.0
            .bytes()
            .map(|b| if lexical::is_xchar(b) { 1 } else { 3 })
            .sum()
    }

    /// Writes the `utf-8-addr-xtext` form of `ORCPT=utf-8;` (RFC 6533 3): printable
    /// ASCII but `+`, `=` and `\` as it is, everything else as `\x{HEX}`. Valid with or
    /// without SMTPUTF8.
    pub(crate) fn encode_utf8_addr(&self, out: &mut BytesMut) {
        for c in self.0.chars() {
            if c.is_ascii_graphic() && !matches!(c, '+' | '=' | '\\') {
                out.put_u8(c as u8);
            } else {
                let _ = write!(out, "\\x{{{:02X}}}", u32::from(c));
            }
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> XText<'static> {
        XText(Cow::Owned(self.0.into_owned()))
    }
}

/// `ORCPT=addr-type;xtext` (RFC 3461 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Orcpt<'a> {
    addr_type: Cow<'a, str>,
    address: XText<'a>,
}

impl<'a> Orcpt<'a> {
    /// `addr_type` is an atom such as `rfc822`.
    pub fn new(
        addr_type: impl Into<Cow<'a, str>>,
        address: XText<'a>,
    ) -> Result<Self, InvalidValue> {
        let addr_type = addr_type.into();
        if lexical::is_atom(addr_type.as_bytes()) {
            Ok(Self { addr_type, address })
        } else {
            Err(InvalidValue::new("ORCPT address type", "must be an atom"))
        }
    }

    pub(crate) fn from_parsed(addr_type: Cow<'a, str>, address: XText<'a>) -> Self {
        Self { addr_type, address }
    }

    /// The address type, e.g. `rfc822`.
    pub fn addr_type(&self) -> &str {
        &self.addr_type
    }

    /// The original recipient.
    pub fn address(&self) -> &XText<'a> {
        &self.address
    }

    /// Octets of the parameter value on the wire (`addr-type;address`), which RFC 3461
    /// 4.2 limits to 500.
    pub fn encoded_len(&self) -> usize {
        let address = if self.addr_type.eq_ignore_ascii_case("utf-8") {
            let mut out = BytesMut::new();
            self.address.encode_utf8_addr(&mut out);
            out.len()
        } else {
            self.address.encoded_len()
        };
        self.addr_type.len() + 1 + address
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Orcpt<'static> {
        Orcpt {
            addr_type: Cow::Owned(self.addr_type.into_owned()),
            address: self.address.into_owned(),
        }
    }
}

/// `AUTH=` on MAIL (RFC 4954 5): the authenticated submitter, or `<>` when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailAuth<'a> {
    /// `AUTH=<>`
    Unknown,
    /// `AUTH=xtext`
    Identity(XText<'a>),
}

/// `MT-PRIORITY=` (RFC 6710): -9 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MtPriority(i8);

impl MtPriority {
    /// Checks the range -9..=9.
    pub const fn new(v: i8) -> Result<Self, InvalidValue> {
        if v >= -9 && v <= 9 {
            Ok(Self(v))
        } else {
            Err(InvalidValue::new("MT-PRIORITY", "must be -9..=9"))
        }
    }

    /// The priority.
    pub const fn get(self) -> i8 {
        self.0
    }
}

/// Keywords with a typed field in [`MailParams`] or [`RcptParams`].
pub(crate) const TYPED_KEYWORDS: &[&str] = &[
    "SIZE",
    "BODY",
    "SMTPUTF8",
    "RET",
    "ENVID",
    "AUTH",
    "REQUIRETLS",
    "MT-PRIORITY",
    "NOTIFY",
    "ORCPT",
];

/// An ESMTP parameter the crate has no type for, kept as sent (design rule: unknown
/// extensions stay representable).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param<'a> {
    keyword: Cow<'a, str>,
    value: Option<Cow<'a, str>>,
}

impl<'a> Param<'a> {
    /// Checks `esmtp-keyword` and `esmtp-value` (RFC 5321 4.1.2; UTF-8 per RFC 6531), and
    /// refuses the keywords that have a typed field in [`MailParams`] or [`RcptParams`]
    /// (`SIZE`, `BODY`, `NOTIFY`...): set those fields instead, or the value would read
    /// back typed, not as this parameter.
    pub fn new(
        keyword: impl Into<Cow<'a, str>>,
        value: Option<Cow<'a, str>>,
    ) -> Result<Self, InvalidValue> {
        let keyword = keyword.into();
        if !lexical::is_esmtp_keyword(keyword.as_bytes()) {
            return Err(InvalidValue::new(
                "parameter keyword",
                "must match esmtp-keyword",
            ));
        }
        if TYPED_KEYWORDS
            .iter()
            .any(|t| keyword.eq_ignore_ascii_case(t))
        {
            return Err(InvalidValue::new(
                "parameter keyword",
                "has a typed field in MailParams or RcptParams",
            ));
        }
        if let Some(v) = &value {
            if !lexical::is_esmtp_value(v.as_bytes()) {
                return Err(InvalidValue::new(
                    "parameter value",
                    "must match esmtp-value",
                ));
            }
        }
        Ok(Self { keyword, value })
    }

    pub(crate) fn from_parsed(keyword: Cow<'a, str>, value: Option<Cow<'a, str>>) -> Self {
        Self { keyword, value }
    }

    /// The keyword as sent (compare case-insensitively).
    pub fn keyword(&self) -> &str {
        &self.keyword
    }

    /// The value, if any.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.keyword.as_bytes());
        if let Some(v) = &self.value {
            out.put_u8(b'=');
            out.put_slice(v.as_bytes());
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Param<'static> {
        Param {
            keyword: Cow::Owned(self.keyword.into_owned()),
            value: self.value.map(|v| Cow::Owned(v.into_owned())),
        }
    }
}

/// The parameters of `MAIL FROM:` (RFC 5321 4.1.1.2 `Mail-parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct MailParams<'a> {
    /// `SIZE=n` (RFC 1870): the client's estimate of the message size.
    pub size: Option<u64>,
    /// `BODY=` (RFC 6152, RFC 3030).
    pub body: Option<Body>,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `RET=` (RFC 3461).
    pub ret: Option<Ret>,
    /// `ENVID=` (RFC 3461).
    pub envid: Option<XText<'a>>,
    /// `AUTH=` (RFC 4954 5).
    pub auth: Option<MailAuth<'a>>,
    /// `REQUIRETLS` (RFC 8689).
    pub requiretls: bool,
    /// `MT-PRIORITY=` (RFC 6710).
    pub mt_priority: Option<MtPriority>,
    /// Parameters without a type here, in the order sent. [`Param::new`] refuses the
    /// typed keywords; a keyword this crate does not know may repeat (its meaning is the
    /// extension's business), and the repeats are kept in order.
    pub other: Vec<Param<'a>>,
}

impl MailParams<'_> {
    /// True when no parameter is set.
    pub fn is_empty(&self) -> bool {
        *self == MailParams::default()
    }

    /// Writes ` KEY=VALUE` for each parameter set (each preceded by a space).
    pub fn encode(&self, out: &mut BytesMut) {
        use std::fmt::Write;
        let mut s = String::new();
        if let Some(n) = self.size {
            let _ = write!(s, " SIZE={n}");
        }
        if let Some(b) = self.body {
            let _ = write!(s, " BODY={}", b.as_str());
        }
        if self.smtputf8 {
            s.push_str(" SMTPUTF8");
        }
        if let Some(r) = self.ret {
            s.push_str(match r {
                Ret::Full => " RET=FULL",
                Ret::Hdrs => " RET=HDRS",
            });
        }
        out.put_slice(s.as_bytes());
        if let Some(e) = &self.envid {
            out.put_slice(b" ENVID=");
            e.encode(out);
        }
        match &self.auth {
            None => {}
            Some(MailAuth::Unknown) => out.put_slice(b" AUTH=<>"),
            // The identity `<>` written plainly would read back as `AUTH=<>` (unknown,
            // RFC 4954 5); escaping it keeps it an identity.
            Some(MailAuth::Identity(x)) if x.as_str() == "<>" => out.put_slice(b" AUTH=+3C+3E"),
            Some(MailAuth::Identity(x)) => {
                out.put_slice(b" AUTH=");
                x.encode(out);
            }
        }
        if self.requiretls {
            out.put_slice(b" REQUIRETLS");
        }
        if let Some(p) = self.mt_priority {
            out.put_slice(format!(" MT-PRIORITY={}", p.get()).as_bytes());
        }
        for p in &self.other {
            out.put_u8(b' ');
            p.encode(out);
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> MailParams<'static> {
        MailParams {
            size: self.size,
            body: self.body,
            smtputf8: self.smtputf8,
            ret: self.ret,
            envid: self.envid.map(XText::into_owned),
            auth: self.auth.map(|a| match a {
                MailAuth::Unknown => MailAuth::Unknown,
                MailAuth::Identity(x) => MailAuth::Identity(x.into_owned()),
            }),
            requiretls: self.requiretls,
            mt_priority: self.mt_priority,
            other: self.other.into_iter().map(Param::into_owned).collect(),
        }
    }
}

/// The parameters of `RCPT TO:` (RFC 5321 4.1.1.3 `Rcpt-parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct RcptParams<'a> {
    /// `NOTIFY=` (RFC 3461).
    pub notify: Option<Notify>,
    /// `ORCPT=` (RFC 3461).
    pub orcpt: Option<Orcpt<'a>>,
    /// Parameters without a type here, in the order sent (see [`MailParams::other`]).
    pub other: Vec<Param<'a>>,
}

impl RcptParams<'_> {
    /// True when no parameter is set.
    pub fn is_empty(&self) -> bool {
        *self == RcptParams::default()
    }

    /// Writes ` KEY=VALUE` for each parameter set.
    pub fn encode(&self, out: &mut BytesMut) {
        match self.notify {
            None => {}
            Some(Notify::Never) => out.put_slice(b" NOTIFY=NEVER"),
            Some(Notify::On {
                success,
                failure,
                delay,
            }) => {
                out.put_slice(b" NOTIFY=");
                let mut first = true;
                for (on, name) in [(success, "SUCCESS"), (failure, "FAILURE"), (delay, "DELAY")] {
                    if on {
                        if !first {
                            out.put_u8(b',');
                        }
                        out.put_slice(name.as_bytes());
                        first = false;
                    }
                }
            }
        }
        if let Some(o) = &self.orcpt {
            out.put_slice(b" ORCPT=");
            out.put_slice(o.addr_type.as_bytes());
            out.put_u8(b';');
            if o.addr_type.eq_ignore_ascii_case("utf-8") {
                o.address.encode_utf8_addr(out);
            } else {
                o.address.encode(out);
            }
        }
        for p in &self.other {
            out.put_u8(b' ');
            p.encode(out);
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> RcptParams<'static> {
        RcptParams {
            notify: self.notify,
            orcpt: self.orcpt.map(Orcpt::into_owned),
            other: self.other.into_iter().map(Param::into_owned).collect(),
        }
    }
}

impl fmt::Display for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
