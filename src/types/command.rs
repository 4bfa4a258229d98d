//! Commands (RFC 5321 4.1.1 and the extensions' verbs).

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, BytesMut};

use super::{ForwardPath, Host, MailParams, RcptParams, ReversePath};
use crate::error::InvalidValue;
use crate::lexical;

/// A SASL mechanism name (RFC 4422 3.1: `1*20(UPPER-ALPHA / DIGIT / "-" / "_")`),
/// kept in upper case because SMTP peers send it in any case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mechanism<'a>(Cow<'a, str>);

impl<'a> Mechanism<'a> {
    /// `PLAIN` (RFC 4616).
    pub const PLAIN: Mechanism<'static> = Mechanism(Cow::Borrowed("PLAIN"));
    /// `LOGIN`.
    pub const LOGIN: Mechanism<'static> = Mechanism(Cow::Borrowed("LOGIN"));
    /// `XOAUTH2`.
    pub const XOAUTH2: Mechanism<'static> = Mechanism(Cow::Borrowed("XOAUTH2"));
    /// `OAUTHBEARER` (RFC 7628).
    pub const OAUTHBEARER: Mechanism<'static> = Mechanism(Cow::Borrowed("OAUTHBEARER"));
    /// `CRAM-MD5` (RFC 2195).
    pub const CRAM_MD5: Mechanism<'static> = Mechanism(Cow::Borrowed("CRAM-MD5"));
    /// `SCRAM-SHA-1` (RFC 5802).
    pub const SCRAM_SHA_1: Mechanism<'static> = Mechanism(Cow::Borrowed("SCRAM-SHA-1"));
    /// `SCRAM-SHA-256` (RFC 7677).
    pub const SCRAM_SHA_256: Mechanism<'static> = Mechanism(Cow::Borrowed("SCRAM-SHA-256"));
    /// `EXTERNAL` (RFC 4422 appendix A).
    pub const EXTERNAL: Mechanism<'static> = Mechanism(Cow::Borrowed("EXTERNAL"));

    /// Checks the name and folds it to upper case.
    pub fn new(name: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let name = name.into();
        if !lexical::is_sasl_mech(name.as_bytes()) {
            return Err(InvalidValue::new(
                "SASL mechanism",
                "must be 1*20 of A-Z 0-9 - _",
            ));
        }
        Ok(Self::from_parsed(name))
    }

    /// The constant for `name` when it is one of the mechanisms above, in any case:
    /// the parser takes these without a text check or an upper-case copy.
    #[inline]
    pub(crate) fn well_known(name: &[u8]) -> Option<Mechanism<'static>> {
        use lexical::eq_fold;
        match name.len() {
            5 if eq_fold(name, b"plain") => Some(Self::PLAIN),
            5 if eq_fold(name, b"login") => Some(Self::LOGIN),
            7 if eq_fold(name, b"xoauth2") => Some(Self::XOAUTH2),
            8 if eq_fold(name, b"cram-md5") => Some(Self::CRAM_MD5),
            8 if eq_fold(name, b"external") => Some(Self::EXTERNAL),
            11 if eq_fold(name, b"oauthbearer") => Some(Self::OAUTHBEARER),
            11 if eq_fold(name, b"scram-sha-1") => Some(Self::SCRAM_SHA_1),
            13 if eq_fold(name, b"scram-sha-256") => Some(Self::SCRAM_SHA_256),
            _ => None,
        }
    }

    pub(crate) fn from_parsed(name: Cow<'a, str>) -> Self {
        if name.bytes().any(|b| b.is_ascii_lowercase()) {
            Self(Cow::Owned(name.to_ascii_uppercase()))
        } else {
            Self(name)
        }
    }

    /// The name, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Mechanism<'static> {
        Mechanism(Cow::Owned(self.0.into_owned()))
    }
}

impl fmt::Display for Mechanism<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-form command argument (VRFY, EXPN, HELP, NOOP): printable text without CR/LF,
/// not empty, not starting or ending with a space.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Argument<'a>(Cow<'a, str>);

impl<'a> Argument<'a> {
    /// Checks the text.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if lexical::is_argument(s.as_bytes()) {
            Ok(Self(s))
        } else {
            Err(InvalidValue::new(
                "argument",
                "must be non-empty text without controls or edge spaces",
            ))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(s)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Argument<'static> {
        Argument(Cow::Owned(self.0.into_owned()))
    }
}

/// The initial response of `AUTH` (RFC 4954 4), kept as sent (base64, or `=` for
/// empty): visible ASCII only, so it can never carry a line break into the command. It
/// holds credentials, so its `Debug` is redacted like a [`Secret`](super::Secret)'s.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InitialResponse<'a>(Cow<'a, str>);

impl<'a> InitialResponse<'a> {
    /// Checks that `s` is non-empty visible ASCII (`%x21-7E`); whether it is valid
    /// base64 is for the SASL layer to say.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if lexical::is_initial_response(s.as_bytes()) {
            Ok(Self(s))
        } else {
            Err(InvalidValue::new(
                "AUTH initial response",
                "must be non-empty visible ASCII",
            ))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(s)
    }

    /// The response as sent.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> InitialResponse<'static> {
        InitialResponse(Cow::Owned(self.0.into_owned()))
    }
}

impl fmt::Debug for InitialResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InitialResponse(<redacted>)")
    }
}

/// A command verb (`Keyword = Ldh-str`, RFC 5321 4.1.2): letters, digits and hyphens,
/// ending in a letter or digit. Used for verbs this crate has no variant for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Keyword<'a>(Cow<'a, str>);

impl<'a> Keyword<'a> {
    /// Checks the `Ldh-str` rule.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Result<Self, InvalidValue> {
        let s = s.into();
        if lexical::is_ldh_str(s.as_bytes()) {
            Ok(Self(s))
        } else {
            Err(InvalidValue::new("command verb", "must be an Ldh-str"))
        }
    }

    pub(crate) fn from_parsed(s: Cow<'a, str>) -> Self {
        Self(s)
    }

    /// The verb as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Keyword<'static> {
        Keyword(Cow::Owned(self.0.into_owned()))
    }
}

/// One SMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `EHLO host` (RFC 5321 4.1.1.1).
    Ehlo(Host<'a>),
    /// `HELO domain`.
    Helo(Host<'a>),
    /// `LHLO host` (RFC 2033 4.1).
    Lhlo(Host<'a>),
    /// `MAIL FROM:<path> params`.
    Mail {
        /// The reverse path.
        from: ReversePath<'a>,
        /// Parameters.
        params: MailParams<'a>,
    },
    /// `RCPT TO:<path> params`.
    Rcpt {
        /// The forward path.
        to: ForwardPath<'a>,
        /// Parameters.
        params: RcptParams<'a>,
    },
    /// `DATA`.
    Data,
    /// `BDAT size [LAST]` (RFC 3030 2).
    Bdat {
        /// Octets that follow the command line.
        size: u64,
        /// The last chunk of the message.
        last: bool,
    },
    /// `RSET`.
    Rset,
    /// `VRFY string`.
    Vrfy(Argument<'a>),
    /// `EXPN string`.
    Expn(Argument<'a>),
    /// `HELP [string]`.
    Help(Option<Argument<'a>>),
    /// `NOOP [string]`.
    Noop(Option<Argument<'a>>),
    /// `QUIT`.
    Quit,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH mechanism [initial-response]` (RFC 4954 4).
    Auth {
        /// The mechanism.
        mechanism: Mechanism<'a>,
        /// The initial response, base64 (or `=` for empty).
        initial_response: Option<InitialResponse<'a>>,
    },
    /// A verb this crate does not know, kept so a server can answer `500`/`502` and a
    /// client can send extensions' commands.
    ///
    /// Both fields are validated types, so no value built here encodes to more than one
    /// line; [`Command::other`] also rules out a verb that has its own variant.
    Other {
        /// The verb as sent.
        verb: Keyword<'a>,
        /// Everything after the verb and its space, if anything.
        args: Option<Argument<'a>>,
    },
}

impl<'a> Command<'a> {
    /// An extension command: checks that `verb` is an `Ldh-str` without a variant of its
    /// own here (so the command parses back as `Other`) and that `args` is printable text.
    pub fn other(verb: &'a str, args: Option<&'a str>) -> Result<Self, InvalidValue> {
        let keyword = Keyword::new(verb)?;
        if lexical::is_known_verb(verb.as_bytes()) {
            return Err(InvalidValue::new(
                "command verb",
                "has its own Command variant",
            ));
        }
        let args = args.map(Argument::new).transpose()?;
        Ok(Self::Other {
            verb: keyword,
            args,
        })
    }
}

impl Command<'_> {
    /// The verb in upper case.
    pub fn verb(&self) -> &str {
        match self {
            Self::Ehlo(_) => "EHLO",
            Self::Helo(_) => "HELO",
            Self::Lhlo(_) => "LHLO",
            Self::Mail { .. } => "MAIL",
            Self::Rcpt { .. } => "RCPT",
            Self::Data => "DATA",
            Self::Bdat { .. } => "BDAT",
            Self::Rset => "RSET",
            Self::Vrfy(_) => "VRFY",
            Self::Expn(_) => "EXPN",
            Self::Help(_) => "HELP",
            Self::Noop(_) => "NOOP",
            Self::Quit => "QUIT",
            Self::StartTls => "STARTTLS",
            Self::Auth { .. } => "AUTH",
            Self::Other { verb, .. } => verb.as_str(),
        }
    }

    /// Writes the command line, CRLF included.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Self::Ehlo(h) | Self::Helo(h) | Self::Lhlo(h) => {
                out.put_slice(self.verb().as_bytes());
                out.put_u8(b' ');
                h.encode(out);
            }
            Self::Mail { from, params } => {
                out.put_slice(b"MAIL FROM:");
                from.encode(out);
                params.encode(out);
            }
            Self::Rcpt { to, params } => {
                out.put_slice(b"RCPT TO:");
                to.encode(out);
                params.encode(out);
            }
            Self::Bdat { size, last } => {
                out.put_slice(
                    format!("BDAT {size}{}", if *last { " LAST" } else { "" }).as_bytes(),
                );
            }
            Self::Vrfy(a) | Self::Expn(a) | Self::Help(Some(a)) | Self::Noop(Some(a)) => {
                out.put_slice(self.verb().as_bytes());
                out.put_u8(b' ');
                out.put_slice(a.as_str().as_bytes());
            }
            Self::Auth {
                mechanism,
                initial_response,
            } => {
                out.put_slice(b"AUTH ");
                out.put_slice(mechanism.as_str().as_bytes());
                if let Some(ir) = initial_response {
                    out.put_u8(b' ');
                    out.put_slice(ir.expose().as_bytes());
                }
            }
            Self::Other { verb, args } => {
                out.put_slice(verb.as_str().as_bytes());
                if let Some(a) = args {
                    out.put_u8(b' ');
                    out.put_slice(a.as_str().as_bytes());
                }
            }
            Self::Data
            | Self::Rset
            | Self::Quit
            | Self::StartTls
            | Self::Help(None)
            | Self::Noop(None) => {
                out.put_slice(self.verb().as_bytes());
            }
        }
        out.put_slice(b"\r\n");
    }

    /// Detaches the value from the input it borrows.
    pub fn into_owned(self) -> Command<'static> {
        match self {
            Self::Ehlo(h) => Command::Ehlo(h.into_owned()),
            Self::Helo(h) => Command::Helo(h.into_owned()),
            Self::Lhlo(h) => Command::Lhlo(h.into_owned()),
            Self::Mail { from, params } => Command::Mail {
                from: from.into_owned(),
                params: params.into_owned(),
            },
            Self::Rcpt { to, params } => Command::Rcpt {
                to: to.into_owned(),
                params: params.into_owned(),
            },
            Self::Data => Command::Data,
            Self::Bdat { size, last } => Command::Bdat { size, last },
            Self::Rset => Command::Rset,
            Self::Vrfy(a) => Command::Vrfy(a.into_owned()),
            Self::Expn(a) => Command::Expn(a.into_owned()),
            Self::Help(a) => Command::Help(a.map(Argument::into_owned)),
            Self::Noop(a) => Command::Noop(a.map(Argument::into_owned)),
            Self::Quit => Command::Quit,
            Self::StartTls => Command::StartTls,
            Self::Auth {
                mechanism,
                initial_response,
            } => Command::Auth {
                mechanism: mechanism.into_owned(),
                initial_response: initial_response.map(InitialResponse::into_owned),
            },
            Self::Other { verb, args } => Command::Other {
                verb: verb.into_owned(),
                args: args.map(Argument::into_owned),
            },
        }
    }
}
