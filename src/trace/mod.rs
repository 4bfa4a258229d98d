//! Trace fields: `Received:`, `Return-Path:`, `Delivered-To:`, and a streaming scanner of
//! a message's header section for hop counting (RFC 5321 4.4, 6.3).
//!
//! # The application's duties
//!
//! The state machines hand message bytes over exactly as received; writing trace fields
//! is the application's job, because only it knows where the message goes next.
//!
//! * An application that **delivers or relays** a message MUST prepend a `Received:`
//!   field to it (RFC 5321 4.4 and 3.6.3), built with [`Received`] from what the session
//!   knows, and MUST NOT change or remove the trace fields already present.
//! * An application that makes the **final delivery** MUST also add a `Return-Path:`
//!   field ([`return_path`]) holding the reverse-path of the `MAIL` command (RFC 5321
//!   4.4); a `Delivered-To:` field per recipient ([`delivered_to`]) is customary.
//! * An application SHOULD count the `Received:` fields already present ([`HeaderScan`])
//!   and refuse a message that has passed through too many hops (RFC 5321 6.3).
//!
//! The crate reads no clock: the date is a [`DateTime`] built from a time the caller
//! passes in.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use smtp_sansio::server::HelloKind;
//! use smtp_sansio::trace::{DateTime, Protocol, Received, delivered_to, return_path};
//! use smtp_sansio::types::{Domain, ForwardPath, Host, Mailbox, ReversePath};
//!
//! // Facts the session gave: the EHLO name, the peer, MAIL FROM and the one RCPT TO.
//! let helo = Host::Domain(Domain::new("client.example").unwrap());
//! let from = ReversePath::Mailbox(Mailbox::parse("alice@example.org").unwrap());
//! let to = ForwardPath::Mailbox(Mailbox::parse("bob@example.net").unwrap());
//! let date = DateTime::from_unix(1_796_324_356, 0).unwrap(); // from the caller's clock
//! let protocol = Protocol::from_session(HelloKind::Ehlo, true, false, false);
//!
//! let received = Received::new("mx.example.net", protocol, date)
//!     .from_host(&helo)
//!     .peer(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
//!     .tls("TLSv1.3", "TLS_AES_128_GCM_SHA256")
//!     .id("1796324356M1P42")
//!     .recipient(&to);
//!
//! let mut stored = Vec::new();
//! stored.extend_from_slice(&received.to_bytes());
//! stored.extend_from_slice(&return_path(&from)); // final delivery only
//! stored.extend_from_slice(&delivered_to(&to));
//! stored.extend_from_slice(b"Subject: hi\r\n\r\nbody\r\n"); // the message, unchanged
//! assert_eq!(
//!     String::from_utf8(stored).unwrap(),
//!     "Received: from client.example ([192.0.2.1]) by mx.example.net with ESMTPS\r\n\
//!      \tid 1796324356M1P42 for <bob@example.net> tls TLS_AES_128_GCM_SHA256\r\n\
//!      \t(TLSv1.3); Thu, 03 Dec 2026 18:59:16 +0000\r\n\
//!      Return-Path: <alice@example.org>\r\n\
//!      Delivered-To: bob@example.net\r\n\
//!      Subject: hi\r\n\r\nbody\r\n"
//! );
//! ```
//!
//! # What a `Received:` field holds
//!
//! `from <EHLO name> ([<peer address>]) [(authenticated as <user>)] by <our host> with
//! <protocol> [id <id>] [for <recipient>] [tls <cipher> (<TLS version>)]; <date-time>`,
//! the RFC 5321 4.4 `Stamp` with the RFC 8314 4.3 `tls` clause. Folded at clause
//! boundaries to lines of at most 78 octets where a clause fits, and never longer than
//! 998 octets whatever the inputs:
//!
//! * client-supplied tokens (the EHLO name, the recipient) are validated types; one that
//!   would not fit on a line (over 900 octets) is left out rather than cut, and so is an
//!   EHLO address literal holding `(`, `)`, `;`, `\` or `"` (legal in a general literal,
//!   but misleading to readers that split the field on them);
//! * free text (our host name, the id, the TLS strings, the user name) is reduced to
//!   characters the clause may hold, the rest replaced (`-` in a host name, `?` in an id
//!   or a comment) or dropped (in the TLS strings), and cut to a bounded length;
//!   parentheses and backslashes in a comment are escaped as quoted-pairs, so comments
//!   stay balanced, and `;` is replaced so that the only `;` is the one before the date;
//! * no CR, LF, NUL or other control character reaches the output from any input;
//! * UTF-8 (a U-label EHLO name, a non-ASCII recipient or user name) is written only when
//!   the protocol is one of the `UTF8*` ones (RFC 6531 3.7.3). Otherwise a non-ASCII EHLO
//!   name is left out (the peer's address literal stands in for it), a non-ASCII
//!   recipient drops the `for` clause, and non-ASCII characters of free text are replaced.
//!   An application has no IDNA tables here to produce A-labels; leaving a name out keeps
//!   the field honest and 7-bit.

use std::fmt;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::InvalidValue;
use crate::server::HelloKind;
use crate::types::{AddressLiteral, Domain, ForwardPath, Host, ReversePath};

mod header;

pub use header::HeaderScan;

/// The RFC 5322 3.3 date-time of a trace field, built from a time the caller passes in
/// (the crate reads no clock).
///
/// Displays as `Thu, 03 Dec 2026 18:59:16 +0000`: the local time at the given zone
/// offset, with the offset as a numeric zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DateTime {
    year: i64,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    /// 0 = Sunday.
    weekday: u8,
    offset_minutes: i16,
}

/// RFC 5322 3.3: `zone = (FWS ( "+" / "-" ) 4DIGIT)`, hours and minutes.
const MAX_OFFSET_MINUTES: u16 = 23 * 60 + 59;

impl DateTime {
    /// The date-time `seconds` after 1970-01-01 00:00:00 UTC, written as local time at
    /// `offset_minutes` east of UTC.
    ///
    /// Fails when the offset is beyond ±23:59 or the local year is outside 1900..=9999
    /// (RFC 5322 3.3: four digits, not before 1900).
    pub fn from_unix(seconds: i64, offset_minutes: i16) -> Result<Self, InvalidValue> {
        if offset_minutes.unsigned_abs() > MAX_OFFSET_MINUTES {
            return Err(InvalidValue::new(
                "date-time",
                "zone offset must be within -23:59..+23:59",
            ));
        }
        let out_of_range = InvalidValue::new("date-time", "year must be within 1900..=9999");
        let local = seconds
            .checked_add(i64::from(offset_minutes) * 60)
            .ok_or(out_of_range.clone())?;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        if !(1900..=9999).contains(&year) {
            return Err(out_of_range);
        }
        // 1970-01-01 was a Thursday (4 with Sunday = 0).
        let weekday = (days + 4).rem_euclid(7);
        Ok(Self {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            weekday: weekday as u8,
            offset_minutes,
        })
    }

    /// The date-time of `t` (whole seconds, rounded down), local at `offset_minutes`.
    pub fn from_system_time(t: SystemTime, offset_minutes: i16) -> Result<Self, InvalidValue> {
        let too_far = InvalidValue::new("date-time", "year must be within 1900..=9999");
        let seconds = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).map_err(|_| too_far.clone())?,
            Err(e) => {
                let d = e.duration();
                let s = i64::try_from(d.as_secs()).map_err(|_| too_far.clone())?;
                // Round towards the past: 0.5 s before the epoch is 1969-12-31 23:59:59.
                if d.subsec_nanos() > 0 { -s - 1 } else { -s }
            }
        };
        Self::from_unix(seconds, offset_minutes)
    }

    /// The local year.
    pub fn year(&self) -> i64 {
        self.year
    }

    /// The local month, 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The local day of the month, 1..=31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The zone offset in minutes east of UTC.
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), by counting 400-year
/// eras of 146097 days whose years start on March 1st (so that the leap day is last).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u8, day as u8)
}

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            DAY_NAMES[usize::from(self.weekday % 7)],
            self.day,
            MONTH_NAMES[usize::from((self.month + 11) % 12)],
            self.year,
            self.hour,
            self.minute,
            self.second,
            sign,
            off / 60,
            off % 60
        )
    }
}

/// The `with` protocol of a `Received:` field: RFC 3848 and RFC 6531 3.7.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// `SMTP`: the session began with HELO (RFC 5321 4.4).
    Smtp,
    /// `ESMTP`: EHLO (RFC 5321 4.4).
    Esmtp,
    /// `ESMTPA`: EHLO, authenticated (RFC 3848).
    Esmtpa,
    /// `ESMTPS`: EHLO over TLS (RFC 3848).
    Esmtps,
    /// `ESMTPSA`: EHLO over TLS, authenticated (RFC 3848).
    Esmtpsa,
    /// `LMTP`: LHLO (RFC 3848).
    Lmtp,
    /// `LMTPA` (RFC 3848).
    Lmtpa,
    /// `LMTPS` (RFC 3848).
    Lmtps,
    /// `LMTPSA` (RFC 3848).
    Lmtpsa,
    /// `UTF8SMTP`: EHLO and `SMTPUTF8` on MAIL (RFC 6531 3.7.3).
    Utf8Smtp,
    /// `UTF8SMTPA` (RFC 6531 3.7.3).
    Utf8Smtpa,
    /// `UTF8SMTPS` (RFC 6531 3.7.3).
    Utf8Smtps,
    /// `UTF8SMTPSA` (RFC 6531 3.7.3).
    Utf8Smtpsa,
    /// `UTF8LMTP` (RFC 6531 3.7.3).
    Utf8Lmtp,
    /// `UTF8LMTPA` (RFC 6531 3.7.3).
    Utf8Lmtpa,
    /// `UTF8LMTPS` (RFC 6531 3.7.3).
    Utf8Lmtps,
    /// `UTF8LMTPSA` (RFC 6531 3.7.3).
    Utf8Lmtpsa,
}

impl Protocol {
    /// The protocol of a session: its greeting verb, whether it runs over TLS, whether
    /// the client authenticated, and whether `MAIL` carried `SMTPUTF8`.
    ///
    /// A HELO session is `SMTP` whatever the other facts: RFC 3848 registers the `S`/`A`
    /// suffixes for ESMTP and LMTP only, and HELO offers no extensions.
    pub fn from_session(kind: HelloKind, tls: bool, authenticated: bool, smtputf8: bool) -> Self {
        use Protocol::*;
        let table = match (kind, smtputf8) {
            (HelloKind::Helo, _) => return Smtp,
            (HelloKind::Lhlo, false) => [Lmtp, Lmtpa, Lmtps, Lmtpsa],
            (HelloKind::Lhlo, true) => [Utf8Lmtp, Utf8Lmtpa, Utf8Lmtps, Utf8Lmtpsa],
            (_, false) => [Esmtp, Esmtpa, Esmtps, Esmtpsa],
            (_, true) => [Utf8Smtp, Utf8Smtpa, Utf8Smtps, Utf8Smtpsa],
        };
        table[usize::from(authenticated) + 2 * usize::from(tls)]
    }

    /// The registered name, as written after `with`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smtp => "SMTP",
            Self::Esmtp => "ESMTP",
            Self::Esmtpa => "ESMTPA",
            Self::Esmtps => "ESMTPS",
            Self::Esmtpsa => "ESMTPSA",
            Self::Lmtp => "LMTP",
            Self::Lmtpa => "LMTPA",
            Self::Lmtps => "LMTPS",
            Self::Lmtpsa => "LMTPSA",
            Self::Utf8Smtp => "UTF8SMTP",
            Self::Utf8Smtpa => "UTF8SMTPA",
            Self::Utf8Smtps => "UTF8SMTPS",
            Self::Utf8Smtpsa => "UTF8SMTPSA",
            Self::Utf8Lmtp => "UTF8LMTP",
            Self::Utf8Lmtpa => "UTF8LMTPA",
            Self::Utf8Lmtps => "UTF8LMTPS",
            Self::Utf8Lmtpsa => "UTF8LMTPSA",
        }
    }

    /// True for the `UTF8*` protocols, whose trace fields may hold UTF-8 (RFC 6531 3.7.3).
    pub fn is_utf8(self) -> bool {
        self.as_str().starts_with("UTF8")
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 5322 2.1.1: lines SHOULD be at most 78 characters, MUST be at most 998.
const FOLD_AT: usize = 78;
/// A client token longer than this is left out, so that no line exceeds 998 octets.
const MAX_CLIENT_TOKEN: usize = 900;
/// Free text is cut to this many octets.
const MAX_FREE_TEXT: usize = 200;
/// RFC 5321 4.5.3.1.2: a domain is at most 255 octets.
const MAX_DOMAIN: usize = 255;

/// Builder of a `Received:` trace field (RFC 5321 4.4 `Time-stamp-line`).
///
/// See the [module docs](self) for what it writes and how it treats its inputs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Received {
    by: String,
    protocol: Protocol,
    date: DateTime,
    helo: Option<Host<'static>>,
    peer: Option<IpAddr>,
    tls: Option<(String, String)>,
    id: Option<String>,
    recipient: Option<ForwardPath<'static>>,
    user: Option<String>,
}

impl Received {
    /// A field stamped by `by` (our host name or address literal, from configuration;
    /// reduced to domain characters anyway) on `date`, for a session of `protocol`.
    ///
    /// RFC 5321 4.4 requires a `From-domain`: call [`from_host`](Self::from_host) and
    /// [`peer`](Self::peer) (an address-literal name is complete only with the peer's
    /// address after it). With neither, the field has no `from` clause; it is still an
    /// RFC 5322 3.6.7 `Received:` field, but not an RFC 5321 `Stamp`.
    pub fn new(by: &str, protocol: Protocol, date: DateTime) -> Self {
        Self {
            by: by.to_owned(),
            protocol,
            date,
            helo: None,
            peer: None,
            tls: None,
            id: None,
            recipient: None,
            user: None,
        }
    }

    /// The name the client gave in EHLO, HELO or LHLO (`From-domain`).
    pub fn from_host(mut self, helo: &Host<'_>) -> Self {
        self.helo = Some(helo.clone().into_owned());
        self
    }

    /// The client's address, written as the `TCP-info` address literal (`[192.0.2.1]`,
    /// `[IPv6:2001:db8::1]`; an IPv4-mapped IPv6 address is written as IPv4).
    pub fn peer(mut self, addr: IpAddr) -> Self {
        self.peer = Some(addr.to_canonical());
        self
    }

    /// The TLS session: `cipher` is written as the RFC 8314 4.3 `tls` clause (the IANA
    /// cipher suite name, e.g. `TLS_AES_128_GCM_SHA256`, or `0x` and four hex digits),
    /// `version` as a comment after it.
    pub fn tls(mut self, version: &str, cipher: &str) -> Self {
        self.tls = Some((version.to_owned(), cipher.to_owned()));
        self
    }

    /// The `ID` clause: reduced to an RFC 5322 atom.
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }

    /// The `For` clause. Set it only when the message has exactly one recipient: naming
    /// one of several would tell each recipient about the others' copies.
    pub fn recipient(mut self, to: &ForwardPath<'_>) -> Self {
        self.recipient = Some(to.clone().into_owned());
        self
    }

    /// Names the authenticated user in a comment after the `From-domain`. Off unless
    /// called: the operator decides whether recipients may learn the login.
    pub fn authenticated_as(mut self, user: &str) -> Self {
        self.user = Some(user.to_owned());
        self
    }

    /// The whole field, `Received: ...; <date-time>` and the final CRLF, folded.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = self.render();
        s.push_str("\r\n");
        s.into_bytes()
    }

    /// The clauses, each kept on one line.
    fn clauses(&self) -> Vec<String> {
        let utf8 = self.protocol.is_utf8();
        let mut out = Vec::with_capacity(8);
        let peer = self.peer.map(|a| {
            let lit = match a {
                IpAddr::V4(v4) => AddressLiteral::Ipv4(v4),
                IpAddr::V6(v6) => AddressLiteral::Ipv6(v6),
            };
            Host::Literal(lit).to_string()
        });
        let helo = self
            .helo
            .as_ref()
            .map(Host::to_string)
            // A general address literal may hold `(`, `)`, `;`: legal inside brackets,
            // but readers that split on them would be misled.
            .filter(|h| client_token_ok(h, utf8) && !h.contains(['(', ')', ';', '\\', '"']));
        // RFC 5321 4.4 Extended-Domain: an address literal stands alone only with TCP-info.
        match (helo, peer) {
            (Some(h), Some(p)) => {
                out.push(format!("from {h}"));
                out.push(format!("({p})"));
            }
            (Some(h), None) => out.push(format!("from {h}")),
            (None, Some(p)) => {
                out.push(format!("from {p}"));
                out.push(format!("({p})"));
            }
            (None, None) => {}
        }
        if let Some(user) = &self.user {
            out.push(format!("(authenticated as {})", comment_text(user, utf8)));
        }
        let by = by_domain(&self.by, utf8);
        out.push(format!("by {by}"));
        if by.starts_with('[') {
            // RFC 5321 4.4 Extended-Domain: a literal stands alone only with TCP-info.
            out.push(format!("({by})"));
        }
        out.push(format!("with {}", self.protocol.as_str()));
        if let Some(id) = &self.id {
            let atom = atom_text(id);
            if !atom.is_empty() {
                out.push(format!("id {atom}"));
            }
        }
        if let Some(rcpt) = &self.recipient {
            let r = rcpt.to_string();
            if client_token_ok(&r, utf8) {
                out.push(format!("for {r}"));
            }
        }
        if let Some((version, cipher)) = &self.tls {
            if let Some(c) = tls_cipher(cipher) {
                out.push(format!("tls {c}"));
            }
            let v = version_text(version);
            if !v.is_empty() {
                out.push(format!("({v})"));
            }
        }
        out
    }

    /// The field without its final CRLF.
    fn render(&self) -> String {
        let mut out = String::from("Received:");
        let mut col = out.len();
        let mut line_has_clause = false;
        let clauses = self.clauses();
        let last = clauses.len().saturating_sub(1);
        for (i, clause) in clauses.iter().enumerate() {
            // The `;` before the date stays with the last clause.
            let width = clause.len() + usize::from(i == last);
            // Fold only where it helps: a clause too long for any line gets one to itself.
            if col + 1 + width > FOLD_AT && (line_has_clause || width < FOLD_AT) {
                out.push_str("\r\n\t");
                col = 1;
            } else {
                out.push(' ');
                col += 1;
            }
            out.push_str(clause);
            col += clause.len();
            line_has_clause = true;
        }
        out.push(';');
        col += 1;
        let date = self.date.to_string();
        if col + 1 + date.len() > FOLD_AT {
            out.push_str("\r\n\t");
        } else {
            out.push(' ');
        }
        out.push_str(&date);
        out
    }
}

/// Writes the field without the final CRLF (folding CRLFs included), for logs.
impl fmt::Display for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// A client token (a validated host or path) is written only when it is printable,
/// 7-bit unless UTF-8 is allowed, and short enough for a line.
fn client_token_ok(s: &str, utf8: bool) -> bool {
    s.len() <= MAX_CLIENT_TOKEN
        && s.chars().all(|c| {
            if c.is_ascii() {
                (' '..='~').contains(&c)
            } else {
                utf8 && !c.is_control()
            }
        })
}

/// Cuts `s` to at most `max` octets on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Our host name: used as given when it is a Domain (U-labels only with UTF-8) or an
/// address literal; otherwise reduced to letters, digits, `-` and `.`.
fn by_domain(by: &str, utf8: bool) -> String {
    if by.len() <= MAX_DOMAIN {
        if let Ok(d) = Domain::new(by) {
            // A U-label may hold any non-ASCII character, C1 controls included: never
            // those in a header.
            if d.is_ascii() || utf8 && !by.chars().any(char::is_control) {
                return by.to_owned();
            }
        }
        if crate::syntax::address::parse_address_literal(by).is_some() {
            return by.to_owned();
        }
    }
    let s: String = cut(by, MAX_DOMAIN)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "unknown".into() } else { s }
}

/// RFC 5322 3.2.3 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// An RFC 5322 `atom` (RFC 5321 4.4 `ID`): other characters become `?`.
fn atom_text(s: &str) -> String {
    cut(s, MAX_FREE_TEXT)
        .chars()
        .map(|c| if is_atext(c) { c } else { '?' })
        .collect()
}

/// The inside of a comment: printable text with `(`, `)` and `\` as quoted-pairs
/// (RFC 5322 3.2.2), so that the comment stays balanced.
fn comment_text(s: &str, utf8: bool) -> String {
    let mut out = String::new();
    for c in cut(s, MAX_FREE_TEXT).chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            // A `;` is legal in a comment, but naive readers take the last `;` as the
            // start of the date.
            ';' => out.push('?'),
            ' '..='~' => out.push(c),
            c if utf8 && !c.is_ascii() && !c.is_control() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// The TLS version comment: letters, digits, `.`, `_`, `-`.
fn version_text(s: &str) -> String {
    cut(s, 64)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '?'
            }
        })
        .filter(|&c| c != '?')
        .collect()
}

/// RFC 8314 4.3: `tls-cipher = tls-cipher-name / tls-cipher-hex`,
/// `tls-cipher-name = ALPHA *(ALPHA / DIGIT / "_")`, `tls-cipher-hex = "0x" 4HEXDIG`.
/// Anything else is reduced to a name; nothing usable leaves the clause out.
fn tls_cipher(s: &str) -> Option<String> {
    if let Some(hex) = s.strip_prefix("0x") {
        if hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(s.to_owned());
        }
    }
    let name: String = cut(s, 100)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        .then_some(name)
}

/// `Return-Path: <reverse-path>` and CRLF, `<>` for the null path (RFC 5321 4.4), for
/// the final delivery. The path is written as the type encodes it; one parsed from a
/// command line is at most 512 octets (RFC 5321 4.5.3.1.4), so the line stays short.
pub fn return_path(from: &ReversePath<'_>) -> Vec<u8> {
    format!("Return-Path: {from}\r\n").into_bytes()
}

/// `Delivered-To: local@domain` and CRLF (`Postmaster` for the bare postmaster address),
/// naming the recipient this copy was delivered to.
pub fn delivered_to(to: &ForwardPath<'_>) -> Vec<u8> {
    match to {
        ForwardPath::Mailbox(m) => format!("Delivered-To: {m}\r\n").into_bytes(),
        _ => b"Delivered-To: Postmaster\r\n".to_vec(),
    }
}
