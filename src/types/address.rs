//! Domains, address literals, mailboxes and the two paths of an envelope.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes, BytesMut};

use super::text::Str;
use crate::error::InvalidValue;
use crate::lexical;

/// A domain name (RFC 5321 4.1.2 `Domain`, with RFC 6531 U-labels).
///
/// Compares and hashes case-insensitively (RFC 5321 2.4); keeps the spelling it was given.
#[derive(Debug, Clone, Eq)]
pub struct Domain<'a>(Str<'a>);

impl<'a> Domain<'a> {
    /// Checks `s` against the `Domain` rule (U-labels allowed; no trailing dot).
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if lexical::is_domain(&s) {
            Ok(Self(Str::Cow(s)))
        } else {
            Err(InvalidValue::new("domain", "must match RFC 5321 Domain"))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(Str::Cow(s))
    }

    /// The domain as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the domain is all ASCII (no U-labels, RFC 6531).
    pub fn is_ascii(&self) -> bool {
        self.0.is_ascii()
    }

    /// True when the name has more than one label. RFC 5321 2.3.5 allows only fully
    /// qualified names in SMTP; a one-label name (`mailhost`, `localhost`) is local
    /// shorthand.
    pub fn is_fully_qualified(&self) -> bool {
        self.0.contains('.')
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Domain<'static> {
        Domain(self.0.into_owned())
    }

    pub(crate) fn into_shared(self, line: &Bytes) -> Domain<'static> {
        Domain(self.0.into_shared(line))
    }
}

impl PartialEq for Domain<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Hash for Domain<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for Domain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An address literal in brackets (RFC 5321 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressLiteral<'a> {
    /// `[192.0.2.1]`
    Ipv4(Ipv4Addr),
    /// `[IPv6:2001:db8::1]`
    Ipv6(Ipv6Addr),
    /// `[tag:content]` with a standardized tag other than `IPv6`.
    General {
        /// The `Standardized-tag` (an `Ldh-str`).
        tag: Cow<'a, str>,
        /// The `1*dcontent` part.
        content: Cow<'a, str>,
    },
}

impl<'a> AddressLiteral<'a> {
    /// Builds a general literal, checking tag and content.
    pub fn general(
        tag: impl Into<Cow<'a, str>>,
        content: impl Into<Cow<'a, str>>,
    ) -> Result<Self, InvalidValue> {
        let (tag, content) = (tag.into(), content.into());
        if lexical::is_general_address_literal(tag.as_bytes(), content.as_bytes()) {
            Ok(Self::General { tag, content })
        } else {
            Err(InvalidValue::new(
                "address literal",
                "tag must be an Ldh-str other than IPv6, content 1*dcontent",
            ))
        }
    }

    /// Writes `[...]`.
    pub fn encode(&self, out: &mut BytesMut) {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = match self {
            Self::Ipv4(a) => write!(s, "[{a}]"),
            Self::Ipv6(a) => write!(s, "[IPv6:{a}]"),
            Self::General { tag, content } => write!(s, "[{tag}:{content}]"),
        };
        out.put_slice(s.as_bytes());
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> AddressLiteral<'static> {
        match self {
            Self::Ipv4(a) => AddressLiteral::Ipv4(a),
            Self::Ipv6(a) => AddressLiteral::Ipv6(a),
            Self::General { tag, content } => AddressLiteral::General {
                tag: Cow::Owned(tag.into_owned()),
                content: Cow::Owned(content.into_owned()),
            },
        }
    }
}

/// What follows `EHLO`/`HELO`/`LHLO` or the `@` of a mailbox: a domain or an address literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host<'a> {
    /// A domain name.
    Domain(Domain<'a>),
    /// An address literal.
    Literal(AddressLiteral<'a>),
}

impl Host<'_> {
    /// Writes the host in wire form.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Self::Domain(d) => out.put_slice(d.as_str().as_bytes()),
            Self::Literal(l) => l.encode(out),
        }
    }

    /// True when no U-label is present.
    pub fn is_ascii(&self) -> bool {
        match self {
            Self::Domain(d) => d.is_ascii(),
            Self::Literal(_) => true,
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Host<'static> {
        match self {
            Self::Domain(d) => Host::Domain(d.into_owned()),
            Self::Literal(l) => Host::Literal(l.into_owned()),
        }
    }

    /// The `'static` form, sharing `line` (the bytes it was parsed from) where it can.
    pub(crate) fn into_shared(self, line: &Bytes) -> Host<'static> {
        match self {
            Self::Domain(d) => Host::Domain(d.into_shared(line)),
            Self::Literal(l) => Host::Literal(l.into_owned()),
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        f.write_str(&String::from_utf8_lossy(&b))
    }
}

/// A local part exactly as sent: a `Dot-string` or a `Quoted-string` with its quotes
/// (RFC 5321 4.1.2; RFC 6531 allows UTF-8). Kept byte for byte because only the
/// destination host may interpret it (RFC 5321 2.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalPart<'a>(Str<'a>);

impl<'a> LocalPart<'a> {
    /// Checks `s` against `Local-part` (quoted form includes its quotes).
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if lexical::is_local_part(&s) {
            Ok(Self(Str::Cow(s)))
        } else {
            Err(InvalidValue::new(
                "local part",
                "must be a Dot-string or Quoted-string",
            ))
        }
    }

    /// Builds the local part for any text, quoting it when it is not a valid `Dot-string`.
    /// Fails only for characters no `Quoted-string` may hold (controls).
    pub fn quote(s: &str) -> Result<LocalPart<'static>, InvalidValue> {
        if lexical::is_dot_string(s.as_bytes()) {
            return Ok(LocalPart(Str::Cow(Cow::Owned(s.to_owned()))));
        }
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        LocalPart::new(q)
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(Str::Cow(s))
    }

    /// The local part as sent, quotes included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when written as a `Quoted-string`.
    pub fn is_quoted(&self) -> bool {
        self.0.starts_with('"')
    }

    /// The value with quoting removed (`"a\"b"` gives `a"b`).
    pub fn unquoted(&self) -> Cow<'_, str> {
        match self.0.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            None => Cow::Borrowed(&*self.0),
            Some(inner) => {
                let mut out = String::with_capacity(inner.len());
                let mut esc = false;
                for c in inner.chars() {
                    if !esc && c == '\\' {
                        esc = true;
                    } else {
                        out.push(c);
                        esc = false;
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> LocalPart<'static> {
        LocalPart(self.0.into_owned())
    }

    pub(crate) fn into_shared(self, line: &Bytes) -> LocalPart<'static> {
        LocalPart(self.0.into_shared(line))
    }
}

impl fmt::Display for LocalPart<'_> {
    /// As on the wire: a quoted local part keeps its quotes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Local-part "@" ( Domain / address-literal )` (RFC 5321 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox<'a> {
    local: LocalPart<'a>,
    host: Host<'a>,
}

impl<'a> Mailbox<'a> {
    /// Joins a local part and a host.
    pub fn new(local: LocalPart<'a>, host: Host<'a>) -> Self {
        Self { local, host }
    }

    /// The local part.
    pub fn local_part(&self) -> &LocalPart<'a> {
        &self.local
    }

    /// The domain or address literal.
    pub fn host(&self) -> &Host<'a> {
        &self.host
    }

    /// True when the whole address is ASCII; a non-ASCII address needs SMTPUTF8 (RFC 6531 3.2).
    pub fn is_ascii(&self) -> bool {
        self.local.0.is_ascii() && self.host.is_ascii()
    }

    /// True when the host is an address literal or a fully qualified domain
    /// ([`Domain::is_fully_qualified`]).
    pub fn is_fully_qualified(&self) -> bool {
        match &self.host {
            Host::Domain(d) => d.is_fully_qualified(),
            Host::Literal(_) => true,
        }
    }

    /// The same mailbox with `suffix` appended to a one-label domain (`alice@mailhost`
    /// becomes `alice@mailhost.example.org`); `None` when the result would be no valid
    /// domain (too long).
    pub fn qualified(&self, suffix: &Domain<'_>) -> Option<Mailbox<'static>> {
        let Host::Domain(d) = &self.host else {
            return Some(self.clone().into_owned());
        };
        let domain = Domain::new(format!("{}.{}", d.as_str(), suffix.as_str())).ok()?;
        Some(Mailbox::new(
            self.local.clone().into_owned(),
            Host::Domain(domain),
        ))
    }

    /// Writes `local@host`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.local.0.as_bytes());
        out.put_u8(b'@');
        self.host.encode(out);
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Mailbox<'static> {
        Mailbox {
            local: self.local.into_owned(),
            host: self.host.into_owned(),
        }
    }

    /// The `'static` form, sharing `line` (the bytes it was parsed from) where it can.
    pub(crate) fn into_shared(self, line: &Bytes) -> Mailbox<'static> {
        Mailbox {
            local: self.local.into_shared(line),
            host: self.host.into_shared(line),
        }
    }
}

impl fmt::Display for Mailbox<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        f.write_str(&String::from_utf8_lossy(&b))
    }
}

/// The MAIL FROM path: a mailbox, or `<>` for notifications (RFC 5321 4.5.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReversePath<'a> {
    /// `<>`
    Null,
    /// `<mailbox>` (a source route, if sent, was parsed and dropped: RFC 5321 4.1.1.3).
    Mailbox(Mailbox<'a>),
}

impl ReversePath<'_> {
    /// Writes `<...>`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(b'<');
        if let Self::Mailbox(m) = self {
            m.encode(out);
        }
        out.put_u8(b'>');
    }

    /// True when the path is ASCII.
    pub fn is_ascii(&self) -> bool {
        match self {
            Self::Null => true,
            Self::Mailbox(m) => m.is_ascii(),
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> ReversePath<'static> {
        match self {
            Self::Null => ReversePath::Null,
            Self::Mailbox(m) => ReversePath::Mailbox(m.into_owned()),
        }
    }

    /// The `'static` form, sharing `line` (the bytes it was parsed from) where it can.
    pub(crate) fn into_shared(self, line: &Bytes) -> ReversePath<'static> {
        match self {
            Self::Null => ReversePath::Null,
            Self::Mailbox(m) => ReversePath::Mailbox(m.into_shared(line)),
        }
    }
}

impl fmt::Display for ReversePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("<>"),
            Self::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

/// The RCPT TO path: a mailbox, or the bare `<Postmaster>` every server must accept
/// (RFC 5321 4.5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardPath<'a> {
    /// `<Postmaster>` without a domain, any case.
    Postmaster,
    /// `<mailbox>` (a source route, if sent, was parsed and dropped).
    Mailbox(Mailbox<'a>),
}

impl ForwardPath<'_> {
    /// Writes `<...>`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(b'<');
        match self {
            Self::Postmaster => out.put_slice(b"Postmaster"),
            Self::Mailbox(m) => m.encode(out),
        }
        out.put_u8(b'>');
    }

    /// True for the postmaster: the bare `<Postmaster>`, or a mailbox whose local part
    /// is `postmaster` in any case (RFC 5321 4.5.1). A server MUST accept the bare form
    /// and deliver it locally, whatever its relay policy.
    pub fn is_postmaster(&self) -> bool {
        match self {
            Self::Postmaster => true,
            Self::Mailbox(m) => m.local_part().as_str().eq_ignore_ascii_case("postmaster"),
        }
    }

    /// True when the path is ASCII.
    pub fn is_ascii(&self) -> bool {
        match self {
            Self::Postmaster => true,
            Self::Mailbox(m) => m.is_ascii(),
        }
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> ForwardPath<'static> {
        match self {
            Self::Postmaster => ForwardPath::Postmaster,
            Self::Mailbox(m) => ForwardPath::Mailbox(m.into_owned()),
        }
    }

    /// The `'static` form, sharing `line` (the bytes it was parsed from) where it can.
    pub(crate) fn into_shared(self, line: &Bytes) -> ForwardPath<'static> {
        match self {
            Self::Postmaster => ForwardPath::Postmaster,
            Self::Mailbox(m) => ForwardPath::Mailbox(m.into_shared(line)),
        }
    }
}

impl fmt::Display for ForwardPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postmaster => f.write_str("<Postmaster>"),
            Self::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}
