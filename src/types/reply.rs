//! Replies: a three-digit code, an optional enhanced status code and lines of text.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use crate::error::InvalidValue;

/// A reply code (RFC 5321 4.2): three digits, the first 2 to 5, the second 0 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// `211` System status.
    pub const SYSTEM_STATUS: Self = Self(211);
    /// `214` Help message.
    pub const HELP: Self = Self(214);
    /// `220` Service ready.
    pub const READY: Self = Self(220);
    /// `221` Closing transmission channel.
    pub const CLOSING: Self = Self(221);
    /// `235` Authentication succeeded (RFC 4954).
    pub const AUTH_OK: Self = Self(235);
    /// `250` Requested action completed.
    pub const OK: Self = Self(250);
    /// `251` User not local; will forward.
    pub const WILL_FORWARD: Self = Self(251);
    /// `252` Cannot verify, but will accept.
    pub const CANNOT_VERIFY: Self = Self(252);
    /// `334` SASL challenge (RFC 4954).
    pub const AUTH_CHALLENGE: Self = Self(334);
    /// `354` Start mail input.
    pub const START_MAIL_INPUT: Self = Self(354);
    /// `421` Service not available, closing channel.
    pub const SERVICE_NOT_AVAILABLE: Self = Self(421);
    /// `450` Mailbox unavailable (transient).
    pub const MAILBOX_BUSY: Self = Self(450);
    /// `451` Local error in processing.
    pub const LOCAL_ERROR: Self = Self(451);
    /// `452` Insufficient storage / too many recipients.
    pub const INSUFFICIENT_STORAGE: Self = Self(452);
    /// `454` TLS or authentication temporarily unavailable.
    pub const TEMPORARY_FAILURE: Self = Self(454);
    /// `455` Server unable to accommodate parameters.
    pub const PARAMS_NOT_ACCOMMODATED: Self = Self(455);
    /// `500` Syntax error, command unrecognized (or line too long).
    pub const SYNTAX_ERROR: Self = Self(500);
    /// `501` Syntax error in parameters or arguments.
    pub const ARGUMENT_ERROR: Self = Self(501);
    /// `502` Command not implemented.
    pub const NOT_IMPLEMENTED: Self = Self(502);
    /// `503` Bad sequence of commands.
    pub const BAD_SEQUENCE: Self = Self(503);
    /// `504` Command parameter not implemented.
    pub const PARAMETER_NOT_IMPLEMENTED: Self = Self(504);
    /// `530` Authentication required (RFC 4954).
    pub const AUTH_REQUIRED: Self = Self(530);
    /// `535` Authentication credentials invalid (RFC 4954).
    pub const AUTH_INVALID: Self = Self(535);
    /// `538` Encryption required for requested authentication mechanism (RFC 4954).
    pub const ENCRYPTION_REQUIRED: Self = Self(538);
    /// `550` Mailbox unavailable / policy rejection.
    pub const MAILBOX_UNAVAILABLE: Self = Self(550);
    /// `552` Exceeded storage allocation.
    pub const EXCEEDED_STORAGE: Self = Self(552);
    /// `553` Mailbox name not allowed.
    pub const MAILBOX_NAME_NOT_ALLOWED: Self = Self(553);
    /// `554` Transaction failed / no service.
    pub const TRANSACTION_FAILED: Self = Self(554);
    /// `555` MAIL/RCPT parameters not recognized or not implemented.
    pub const PARAMETERS_NOT_RECOGNIZED: Self = Self(555);

    /// Builds a code, checking RFC 5321 4.2's `%x32-35 %x30-35 %x30-39`.
    pub const fn new(code: u16) -> Result<Self, InvalidValue> {
        let (a, b) = (code / 100, (code / 10) % 10);
        if code >= 200 && code <= 599 && a >= 2 && a <= 5 && b <= 5 {
            Ok(Self(code))
        } else {
            Err(InvalidValue::new(
                "reply code",
                "must match %x32-35 %x30-35 %x30-39",
            ))
        }
    }

    /// For the crate's own codes, known to be valid.
    pub(crate) const fn known(code: u16) -> Self {
        Self(code)
    }

    /// The numeric value.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The first digit (2: positive completion, 3: intermediate, 4: transient, 5: permanent).
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    /// 2yz: the command succeeded.
    pub const fn is_positive(self) -> bool {
        self.class() == 2
    }

    /// 3yz: more is expected (354, 334).
    pub const fn is_intermediate(self) -> bool {
        self.class() == 3
    }

    /// 4yz: a transient failure.
    pub const fn is_transient(self) -> bool {
        self.class() == 4
    }

    /// 5yz: a permanent failure.
    pub const fn is_permanent(self) -> bool {
        self.class() == 5
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An enhanced status code `class.subject.detail` (RFC 3463, announced by RFC 2034's
/// ENHANCEDSTATUSCODES).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedStatus {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedStatus {
    /// Builds a code: class 2, 4 or 5; subject and detail at most three digits.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Result<Self, InvalidValue> {
        if (class == 2 || class == 4 || class == 5) && subject <= 999 && detail <= 999 {
            Ok(Self {
                class,
                subject,
                detail,
            })
        } else {
            Err(InvalidValue::new(
                "enhanced status code",
                "class must be 2, 4 or 5 and fields at most 999",
            ))
        }
    }

    /// Const constructor for codes known to be valid; used for the crate's own replies.
    pub(crate) const fn known(class: u8, subject: u16, detail: u16) -> Self {
        Self {
            class,
            subject,
            detail,
        }
    }

    /// The class digit (2, 4 or 5).
    pub const fn class(self) -> u8 {
        self.class
    }

    /// The subject field.
    pub const fn subject(self) -> u16 {
        self.subject
    }

    /// The detail field.
    pub const fn detail(self) -> u16 {
        self.detail
    }

    /// Parses `x.y.z` at the start of `s`, returning the code and the number of bytes used.
    pub(crate) fn parse_prefix(s: &[u8]) -> Option<(Self, usize)> {
        fn num(s: &[u8], max_digits: usize) -> Option<(u16, usize)> {
            let n = s
                .iter()
                .take(max_digits + 1)
                .take_while(|b| b.is_ascii_digit())
                .count();
            if n == 0 || n > max_digits {
                return None;
            }
            let v = s[..n]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
            Some((v, n))
        }
        let (class, a) = num(s, 1)?;
        if s.get(a) != Some(&b'.') {
            return None;
        }
        let (subject, b) = num(s.get(a + 1..)?, 3)?;
        if s.get(a + 1 + b) != Some(&b'.') {
            return None;
        }
        let (detail, c) = num(s.get(a + b + 2..)?, 3)?;
        let code = Self::new(u8::try_from(class).ok()?, subject, detail).ok()?;
        Some((code, a + b + c + 2))
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One line of reply text. It cannot contain CR or LF, so no reply can smuggle a second
/// reply onto the wire (house rule: types cannot be built invalid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(Cow<'static, str>);

impl Text {
    /// Checks that `s` holds neither CR nor LF.
    pub fn new(s: impl Into<Cow<'static, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if s.bytes().any(|b| b == b'\r' || b == b'\n') {
            Err(InvalidValue::new("reply text", "must not contain CR or LF"))
        } else {
            Ok(Self(s))
        }
    }

    /// For the crate's own fixed strings.
    pub(crate) const fn fixed(s: &'static str) -> Self {
        Self(Cow::Borrowed(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A complete reply: code and one or more lines (RFC 5321 4.2).
///
/// The lines are kept exactly as on the wire, enhanced status code included, so that
/// encoding and decoding are exact inverses; [`Reply::enhanced_status`] and
/// [`Reply::text_lines`] read the status apart from the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    code: ReplyCode,
    lines: Vec<Text>,
}

impl Reply {
    /// A reply with one line of text and no enhanced status code.
    pub fn new(code: ReplyCode, text: Text) -> Self {
        Self {
            code,
            lines: vec![text],
        }
    }

    /// A reply whose every line carries `status` before its text (RFC 2034 4: all lines
    /// of a multi-line reply carry the code).
    pub fn with_status(
        code: ReplyCode,
        status: EnhancedStatus,
        lines: impl IntoIterator<Item = Text>,
    ) -> Self {
        let mut out: Vec<Text> = lines
            .into_iter()
            .map(|t| {
                if t.as_str().is_empty() {
                    Text(Cow::Owned(status.to_string()))
                } else {
                    Text(Cow::Owned(format!("{status} {t}")))
                }
            })
            .collect();
        if out.is_empty() {
            out.push(Text(Cow::Owned(status.to_string())));
        }
        Self { code, lines: out }
    }

    /// A one-line reply from parts known when the program is written: no string is
    /// parsed at run time. A CR or LF in `text` is written as a space, so the reply can
    /// never turn into two.
    pub fn fixed_text(code: ReplyCode, status: EnhancedStatus, text: &'static str) -> Self {
        match Text::new(text) {
            Ok(t) => Self::with_status(code, status, [t]),
            Err(_) => Self::with_status(
                code,
                status,
                [Text(Cow::Owned(text.replace(['\r', '\n'], " ")))],
            ),
        }
    }

    /// `250 2.0.0 OK`.
    pub fn ok() -> Self {
        Self::fixed(ReplyCode::OK, EnhancedStatus::known(2, 0, 0), "OK")
    }

    /// `451 4.3.0 Local error in processing, try again later`: the message could not
    /// be stored (RFC 5321 4.2.3; RFC 3463 X.3.0).
    pub fn local_error() -> Self {
        Self::fixed(
            ReplyCode::LOCAL_ERROR,
            EnhancedStatus::known(4, 3, 0),
            "Local error in processing, try again later",
        )
    }

    /// `450 4.2.1 Mailbox busy, try again later` (RFC 3463 X.2.1).
    pub fn mailbox_busy() -> Self {
        Self::fixed(
            ReplyCode::MAILBOX_BUSY,
            EnhancedStatus::known(4, 2, 1),
            "Mailbox busy, try again later",
        )
    }

    /// `550 5.1.1 No such user here` (RFC 3463 X.1.1: bad destination mailbox).
    pub fn no_such_user() -> Self {
        Self::fixed(
            ReplyCode::MAILBOX_UNAVAILABLE,
            EnhancedStatus::known(5, 1, 1),
            "No such user here",
        )
    }

    /// `550 5.7.1 Relaying denied` (RFC 3463 X.7.1: delivery not authorized).
    pub fn relay_denied() -> Self {
        Self::fixed(
            ReplyCode::MAILBOX_UNAVAILABLE,
            EnhancedStatus::known(5, 7, 1),
            "Relaying denied",
        )
    }

    /// `553 5.7.1 Sender address not allowed for this account` (RFC 6409 6.1).
    pub fn sender_not_allowed() -> Self {
        Self::fixed(
            ReplyCode::MAILBOX_NAME_NOT_ALLOWED,
            EnhancedStatus::known(5, 7, 1),
            "Sender address not allowed for this account",
        )
    }

    /// `535 5.7.8 Authentication credentials invalid` (RFC 4954 6).
    pub fn auth_failed() -> Self {
        Self::fixed(
            ReplyCode::AUTH_INVALID,
            EnhancedStatus::known(5, 7, 8),
            "Authentication credentials invalid",
        )
    }

    /// `504 5.5.4 Unrecognized authentication type` (RFC 4954 6): the answer to a SASL
    /// exchange the application does not handle.
    pub fn unrecognized_mechanism() -> Self {
        Self::fixed(
            ReplyCode::PARAMETER_NOT_IMPLEMENTED,
            EnhancedStatus::known(5, 5, 4),
            "Unrecognized authentication type",
        )
    }

    /// `552 5.3.4 Message size exceeds fixed limit` (RFC 1870).
    pub fn too_big() -> Self {
        Self::fixed(
            ReplyCode::EXCEEDED_STORAGE,
            EnhancedStatus::known(5, 3, 4),
            "Message size exceeds fixed limit",
        )
    }

    /// `554 5.7.1 Message refused` (a content or policy refusal, RFC 3463 X.7.1).
    pub fn refused() -> Self {
        Self::fixed(
            ReplyCode::TRANSACTION_FAILED,
            EnhancedStatus::known(5, 7, 1),
            "Message refused",
        )
    }

    /// A reply from raw lines (each exactly as it follows the code on the wire).
    /// An empty list is taken as one empty line.
    pub fn from_lines(code: ReplyCode, lines: impl IntoIterator<Item = Text>) -> Self {
        let mut lines: Vec<Text> = lines.into_iter().collect();
        if lines.is_empty() {
            lines.push(Text::fixed(""));
        }
        Self { code, lines }
    }

    /// The crate's own replies: code, enhanced status, fixed text.
    pub(crate) fn fixed(code: ReplyCode, status: EnhancedStatus, text: &'static str) -> Self {
        Self::with_status(code, status, [Text::fixed(text)])
    }

    /// The reply code.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The raw lines, enhanced status codes included.
    pub fn lines(&self) -> &[Text] {
        &self.lines
    }

    /// The enhanced status code at the start of the first line, if any, when its class
    /// matches the reply code's class (RFC 3463 2).
    pub fn enhanced_status(&self) -> Option<EnhancedStatus> {
        let first = self.lines.first()?.as_str().as_bytes();
        let (st, n) = EnhancedStatus::parse_prefix(first)?;
        let boundary = first.get(n).is_none_or(|&b| b == b' ');
        (boundary && st.class() == self.code.class()).then_some(st)
    }

    /// The lines without their enhanced status code prefix.
    pub fn text_lines(&self) -> impl Iterator<Item = &str> {
        // Compare parsed codes, not text: `2.01.0` is `2.1.0` (RFC 3463 allows leading
        // zeros), and `2.1.05` is not `2.1.0` followed by `5`.
        let status = self.enhanced_status();
        self.lines.iter().map(move |l| {
            let s = l.as_str();
            match (status, EnhancedStatus::parse_prefix(s.as_bytes())) {
                (Some(st), Some((p, n)))
                    if p == st && s.as_bytes().get(n).is_none_or(|&b| b == b' ') =>
                {
                    let r = &s[n..];
                    r.strip_prefix(' ').unwrap_or(r)
                }
                _ => s,
            }
        })
    }

    /// Same reply with the enhanced status code prefixes removed, for peers that did not
    /// ask for ENHANCEDSTATUSCODES.
    pub(crate) fn without_status(&self) -> Self {
        match self.enhanced_status() {
            None => self.clone(),
            Some(_) => Self::from_lines(
                self.code,
                self.text_lines()
                    .map(|s| Text(Cow::Owned(s.to_owned())))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// The same reply with an enhanced status code on every line (RFC 2034 3: once the
    /// extension is offered, every 2xx, 4xx and 5xx reply carries one). The reply's own
    /// code is kept; a reply without one gets `fallback`, or the class default (`2.0.0`,
    /// `4.0.0`, `5.0.0`) when `fallback` is of another class. `3xx` replies are left as
    /// they are: the extension does not cover them.
    pub(crate) fn with_status_everywhere(&self, fallback: EnhancedStatus) -> Cow<'_, Self> {
        let class = self.code.class();
        if !matches!(class, 2 | 4 | 5) {
            return Cow::Borrowed(self);
        }
        let status = self
            .enhanced_status()
            .unwrap_or(if fallback.class() == class {
                fallback
            } else {
                EnhancedStatus::known(class, 0, 0)
            });
        let carries = |l: &Text| {
            EnhancedStatus::parse_prefix(l.as_str().as_bytes()).is_some_and(|(st, n)| {
                st == status && l.as_str().as_bytes().get(n).is_none_or(|&b| b == b' ')
            })
        };
        if self.lines.iter().all(carries) {
            return Cow::Borrowed(self);
        }
        let texts: Vec<Text> = self
            .lines
            .iter()
            .map(|l| {
                let s = l.as_str();
                let bare = match EnhancedStatus::parse_prefix(s.as_bytes()) {
                    Some((st, n))
                        if st == status && s.as_bytes().get(n).is_none_or(|&b| b == b' ') =>
                    {
                        s[n..].strip_prefix(' ').unwrap_or(&s[n..])
                    }
                    _ => s,
                };
                Text(Cow::Owned(bare.to_owned()))
            })
            .collect();
        Cow::Owned(Self::with_status(self.code, status, texts))
    }

    /// Writes the reply in wire form: `code-text` lines, then `code SP text` (RFC 5321 4.2.1).
    pub fn encode(&self, out: &mut BytesMut) {
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            Self::encode_line(out, self.code, i < last, None, line.as_str());
        }
    }

    /// Writes one reply line, `code ("-" / SP) [status SP] text CRLF` (RFC 5321 4.2.1,
    /// RFC 2034 4): every reply byte the crate writes goes through here, the machine's
    /// own one-line replies without building a `Reply`. `text` holds no CR or LF: it is a
    /// [`Text`], one of the crate's fixed texts, a configured name passed through
    /// `one_line`, or made of digits and base64 (a debug assertion checks it in every
    /// test run).
    pub(crate) fn encode_line(
        out: &mut BytesMut,
        code: ReplyCode,
        more: bool,
        status: Option<EnhancedStatus>,
        text: &str,
    ) {
        debug_assert!(!text.contains(['\r', '\n']), "reply text with a line end");
        let c = code.0;
        let digits = [
            b'0' + (c / 100) as u8,
            b'0' + ((c / 10) % 10) as u8,
            b'0' + (c % 10) as u8,
        ];
        out.reserve(text.len() + 20);
        out.put_slice(&digits);
        out.put_u8(if more { b'-' } else { b' ' });
        if let Some(st) = status {
            // Display writes digits only; into a BytesMut it cannot fail.
            let _ = write!(out, "{st}");
            if !text.is_empty() {
                out.put_u8(b' ');
            }
        }
        out.put_slice(text.as_bytes());
        out.put_slice(b"\r\n");
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> BytesMut {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                f.write_str(" / ")?;
            }
            write!(f, "{} {}", self.code, l)?;
        }
        Ok(())
    }
}
