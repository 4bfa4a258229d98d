//! SASL building blocks for SMTP AUTH (RFC 4954).
//!
//! Everything here is pure and allocation-light: strict base64
//! (RFC 4648), parsing of client responses, the PLAIN (RFC 4616) and LOGIN
//! mechanisms, and client-side encoders for XOAUTH2 and OAUTHBEARER
//! (RFC 7628). Base64 framing of the encoders' output is left to the
//! caller so it can be sent as an initial response or after a 334.

use base64::DecodeError;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine as _, GeneralPurpose, GeneralPurposeConfig};

use crate::types::Secret;

// ---------------------------------------------------------------------
// Base64 (RFC 4648 section 4)
// ---------------------------------------------------------------------

/// The standard alphabet, padded, decoding only canonical input: padding required
/// (RFC 4954 4 sends padded base64) and unused bits zero (RFC 4648 3.5), so every
/// accepted string is the one encoding of its bytes.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Why a base64 string was rejected. Always the peer's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// The input length is not a multiple of 4 (RFC 4648 section 3.2
    /// requires padding, so unpadded input is refused).
    #[error("base64 length {len} is not a multiple of 4")]
    InvalidLength {
        /// Length of the rejected input.
        len: usize,
    },
    /// A byte outside the base64 alphabet, whitespace included
    /// (RFC 4648 section 3.3).
    #[error("invalid base64 byte 0x{byte:02x} at offset {offset}")]
    InvalidByte {
        /// Offset of the byte in the input.
        offset: usize,
        /// The offending byte.
        byte: u8,
    },
    /// A `=` where padding is not allowed.
    #[error("misplaced base64 padding at offset {offset}")]
    InvalidPadding {
        /// Offset of the misplaced `=`.
        offset: usize,
    },
    /// The last symbol before the padding has non-zero unused bits, so the
    /// encoding is not canonical (RFC 4648 section 3.5).
    #[error("non-canonical base64: unused bits set at offset {offset}")]
    NonCanonical {
        /// Offset of the symbol carrying the stray bits.
        offset: usize,
    },
}

/// Encodes `input` as padded base64 with the standard alphabet.
pub fn base64_encode(input: &[u8]) -> String {
    ENGINE.encode(input)
}

/// Appends the padded base64 encoding of `input` to `out`.
pub fn base64_encode_into(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    // Four symbols for every three bytes or part of them (RFC 4648 4).
    let len = input.len().div_ceil(3).saturating_mul(4);
    out.resize(start.saturating_add(len), 0);
    // The slice is exactly long enough, so this cannot fail.
    let written = ENGINE.encode_slice(input, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// Decodes strict, padded, standard-alphabet base64.
///
/// Rejects bytes outside the alphabet (including whitespace and CR/LF),
/// padding anywhere but at the end, a length that is not a multiple of 4,
/// and non-zero unused bits (RFC 4648 sections 3.3 and 3.5), so every
/// accepted input is the unique encoding of its output. Empty input
/// decodes to an empty vector.
pub fn base64_decode(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    // Checked first so that a short or unpadded input is blamed on its length.
    if input.len() % 4 != 0 {
        return Err(Base64Error::InvalidLength { len: input.len() });
    }
    ENGINE.decode(input).map_err(|e| match e {
        DecodeError::InvalidByte(offset, b'=') => Base64Error::InvalidPadding { offset },
        DecodeError::InvalidByte(offset, byte) => Base64Error::InvalidByte { offset, byte },
        DecodeError::InvalidLastSymbol(offset, _) => Base64Error::NonCanonical { offset },
        DecodeError::InvalidLength(len) => Base64Error::InvalidLength { len },
        DecodeError::InvalidPadding => Base64Error::InvalidPadding {
            offset: memchr::memchr(b'=', input).unwrap_or(input.len()),
        },
    })
}

// ---------------------------------------------------------------------
// Client responses (RFC 4954 section 4)
// ---------------------------------------------------------------------

/// A decoded client response in an SMTP AUTH exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SaslResponse {
    /// Decoded response data; possibly empty.
    Data(Secret<Vec<u8>>),
    /// The client sent `*` to abort the exchange; the server answers 501.
    Cancel,
}

/// Parses a client SASL response: an AUTH initial response or a line sent
/// after a 334 challenge.
///
/// `line` may carry its terminating CRLF or not. `*` cancels. `=` alone is
/// an empty response: RFC 4954 section 4 defines it for the initial
/// response, and it is accepted the same way within a 334 exchange, where
/// an empty line also means empty data. Anything else must be strict
/// base64 (see [`base64_decode`]).
///
/// Whether an initial response was present at all is for the AUTH command
/// parser to decide; an empty `line` here yields empty data.
pub fn parse_sasl_response(line: &[u8]) -> Result<SaslResponse, Base64Error> {
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    match line {
        b"*" => Ok(SaslResponse::Cancel),
        b"=" => Ok(SaslResponse::Data(Secret::new(Vec::new()))),
        _ => base64_decode(line).map(|data| SaslResponse::Data(Secret::new(data))),
    }
}

// ---------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------

/// Why a SASL message from the peer was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The peer sent invalid base64.
    #[error("invalid base64: {0}")]
    Base64(#[from] Base64Error),
    /// The peer's message does not follow the mechanism's syntax.
    #[error("malformed SASL message: {0}")]
    Malformed(&'static str),
    /// The peer sent a field that is not valid UTF-8.
    #[error("SASL field is not valid UTF-8")]
    NotUtf8,
    /// The peer sent a field longer than this implementation accepts.
    #[error("SASL field too long")]
    TooLong,
}

// ---------------------------------------------------------------------
// PLAIN (RFC 4616)
// ---------------------------------------------------------------------

/// RFC 4616 section 2 requires accepting fields up to 255 octets; going
/// no further bounds what a peer can make us hold.
const PLAIN_FIELD_MAX: usize = 255;

/// Credentials carried by a PLAIN message (RFC 4616 section 2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlainCredentials {
    /// Identity to act as; `None` when the client sent none, meaning the
    /// authentication identity itself.
    pub authzid: Option<String>,
    /// Authentication identity (user name).
    pub authcid: String,
    /// Password; redacted in `Debug` output.
    pub password: Secret<String>,
}

impl PlainCredentials {
    /// Builds credentials, e.g. for tests or for [`encode_plain`] callers.
    pub fn new(authzid: Option<String>, authcid: String, password: Secret<String>) -> Self {
        Self {
            authzid,
            authcid,
            password,
        }
    }
}

fn plain_field(bytes: &[u8]) -> Result<String, SaslError> {
    if bytes.len() > PLAIN_FIELD_MAX {
        return Err(SaslError::TooLong);
    }
    let s = core::str::from_utf8(bytes).map_err(|_| SaslError::NotUtf8)?;
    Ok(s.to_owned())
}

/// Decodes a PLAIN message (already base64-decoded):
/// `[authzid] NUL authcid NUL passwd` (RFC 4616 section 2).
///
/// Requires exactly two NULs, non-empty authcid and password, each field
/// at most 255 octets and valid UTF-8. An empty authzid becomes `None`.
pub fn decode_plain(message: &[u8]) -> Result<PlainCredentials, SaslError> {
    let mut parts = message.splitn(3, |&b| b == 0);
    let (Some(authzid), Some(authcid), Some(passwd)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed(
            "PLAIN message needs two NUL separators",
        ));
    };
    // SAFE excludes NUL, so a third one cannot be part of the password.
    if passwd.contains(&0) {
        return Err(SaslError::Malformed("PLAIN message has more than two NULs"));
    }
    if authcid.is_empty() {
        return Err(SaslError::Malformed("PLAIN authcid is empty"));
    }
    if passwd.is_empty() {
        return Err(SaslError::Malformed("PLAIN password is empty"));
    }
    let authzid = if authzid.is_empty() {
        None
    } else {
        Some(plain_field(authzid)?)
    };
    Ok(PlainCredentials {
        authzid,
        authcid: plain_field(authcid)?,
        password: Secret::new(plain_field(passwd)?),
    })
}

/// Builds a PLAIN message `[authzid] NUL authcid NUL passwd` (RFC 4616).
///
/// Returns raw bytes; the caller base64-encodes them. Inputs are not
/// validated: a NUL inside a field yields a message servers will reject.
pub fn encode_plain(authzid: Option<&str>, authcid: &str, password: &str) -> Vec<u8> {
    let authzid = authzid.unwrap_or("");
    let mut out = Vec::with_capacity(authzid.len() + authcid.len() + password.len() + 2);
    out.extend_from_slice(authzid.as_bytes());
    out.push(0);
    out.extend_from_slice(authcid.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    out
}

// ---------------------------------------------------------------------
// LOGIN (draft-murchison-sasl-login)
// ---------------------------------------------------------------------

/// First LOGIN challenge, sent base64-encoded in a 334 reply. The draft
/// says clients should ignore the text; this is what they expect anyway.
pub const LOGIN_USERNAME_CHALLENGE: &[u8] = b"Username:";

/// Second LOGIN challenge, sent base64-encoded in a 334 reply.
pub const LOGIN_PASSWORD_CHALLENGE: &[u8] = b"Password:";

/// Decodes one LOGIN response (user name or password, already
/// base64-decoded) as UTF-8.
///
/// Emptiness is not checked here: the caller decides whether an empty
/// user name or password is acceptable.
pub fn decode_login_field(data: &[u8]) -> Result<String, SaslError> {
    core::str::from_utf8(data)
        .map(str::to_owned)
        .map_err(|_| SaslError::NotUtf8)
}

// ---------------------------------------------------------------------
// Bearer-token mechanisms (client side)
// ---------------------------------------------------------------------

/// Builds an XOAUTH2 initial response:
/// `user=` U `^A` `auth=Bearer ` T `^A^A`. Raw bytes; the caller
/// base64-encodes them.
pub fn encode_xoauth2(user: &str, token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(user.len() + token.len() + 22);
    out.extend_from_slice(b"user=");
    out.extend_from_slice(user.as_bytes());
    out.extend_from_slice(b"\x01auth=Bearer ");
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(b"\x01\x01");
    out
}

/// Builds an OAUTHBEARER initial client response (RFC 7628 section 3.1).
///
/// The GS2 header is `n,a=<user>,` with `,` and `=` in the user escaped as
/// `=2C` and `=3D` (the saslname rule of RFC 5801); an empty `user` omits
/// the `a=` part, since saslname cannot be empty. Optional `host` and
/// `port` key/value pairs follow, then `auth=Bearer <token>`. Raw bytes;
/// the caller base64-encodes them.
pub fn encode_oauthbearer(
    user: &str,
    host: Option<&str>,
    port: Option<u16>,
    token: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(user.len() + token.len() + 64);
    out.extend_from_slice(b"n,");
    if !user.is_empty() {
        out.extend_from_slice(b"a=");
        for &b in user.as_bytes() {
            match b {
                b',' => out.extend_from_slice(b"=2C"),
                b'=' => out.extend_from_slice(b"=3D"),
                _ => out.push(b),
            }
        }
    }
    out.extend_from_slice(b",\x01");
    if let Some(host) = host {
        out.extend_from_slice(b"host=");
        out.extend_from_slice(host.as_bytes());
        out.push(0x01);
    }
    if let Some(port) = port {
        out.extend_from_slice(b"port=");
        out.extend_from_slice(port.to_string().as_bytes());
        out.push(0x01);
    }
    out.extend_from_slice(b"auth=Bearer ");
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(b"\x01\x01");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // RFC 4648 section 10.
    const RFC4648_VECTORS: &[(&[u8], &str)] = &[
        (b"", ""),
        (b"f", "Zg=="),
        (b"fo", "Zm8="),
        (b"foo", "Zm9v"),
        (b"foob", "Zm9vYg=="),
        (b"fooba", "Zm9vYmE="),
        (b"foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_known_answers() {
        for &(raw, enc) in RFC4648_VECTORS {
            assert_eq!(base64_encode(raw), enc, "encode {raw:?}");
            assert_eq!(base64_decode(enc.as_bytes()).unwrap(), raw, "decode {enc}");
            let mut buf = b"prefix:".to_vec();
            base64_encode_into(raw, &mut buf);
            assert_eq!(buf, [b"prefix:", enc.as_bytes()].concat());
        }
    }

    #[test]
    fn base64_full_alphabet() {
        let raw: Vec<u8> = (0..=255).collect();
        let enc = base64_encode(&raw);
        assert!(enc.starts_with("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"));
        assert!(enc.ends_with("+fr7/P3+/w=="));
        assert_eq!(base64_decode(enc.as_bytes()).unwrap(), raw);
        assert_eq!(base64_encode(&[0xFB, 0xFF]), "+/8=");
        assert_eq!(base64_decode(b"+/8=").unwrap(), [0xFB, 0xFF]);
    }

    #[test]
    fn base64_rejections() {
        use Base64Error::*;
        let bad = |offset, byte| InvalidByte { offset, byte };
        let cases: &[(&[u8], Base64Error)] = &[
            (b"Zg=", InvalidLength { len: 3 }),
            (b"Zg", InvalidLength { len: 2 }),
            (b"Zm9vY", InvalidLength { len: 5 }),
            (b"Zm9v\r\n", InvalidLength { len: 6 }),
            (b"Zm 9", bad(2, b' ')),
            (b"Zm9vZm9\n", bad(7, b'\n')),
            (b"Zm9-", bad(3, b'-')),
            (b"Zm9_", bad(3, b'_')),
            (b"Zm9\x80", bad(3, 0x80)),
            // Two bad bytes in one quantum must not cancel out in the fast path's check.
            (b"**AA", bad(0, b'*')),
            (b"A**A", bad(1, b'*')),
            (b"AA**", bad(2, b'*')),
            // Offsets inside a padded final quantum count from the whole input.
            (b"QUFBA*==", bad(5, b'*')),
            (b"QUFBA*A=", bad(5, b'*')),
            (b"QUFBAA*=", bad(6, b'*')),
            (b"Zg==Zg==", InvalidPadding { offset: 2 }),
            (b"Zm8=Zm9v", InvalidPadding { offset: 3 }),
            (b"====", InvalidPadding { offset: 0 }),
            (b"Z===", InvalidPadding { offset: 1 }),
            (b"Zg=v", InvalidPadding { offset: 2 }),
            (b"=m9v", InvalidPadding { offset: 0 }),
            // RFC 4648 section 3.5: unused bits must be zero.
            (b"Zh==", NonCanonical { offset: 1 }),
            (b"Zm9=", NonCanonical { offset: 2 }),
            (b"Zm9vZh==", NonCanonical { offset: 5 }),
        ];
        for (input, want) in cases {
            assert_eq!(
                base64_decode(input),
                Err(*want),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// The blame names the exact byte wherever it sits, past the decoder's internal
    /// blocks too.
    #[test]
    fn base64_blame_points_at_the_bad_byte_anywhere_in_long_input() {
        let good = base64_encode(&[0xA5; 90]).into_bytes();
        assert_eq!(good.len(), 120);
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] = b'*';
            assert_eq!(
                base64_decode(&bad),
                Err(Base64Error::InvalidByte {
                    offset: at,
                    byte: b'*'
                })
            );
            if at < good.len() - 4 {
                bad[at] = b'=';
                assert_eq!(
                    base64_decode(&bad),
                    Err(Base64Error::InvalidPadding { offset: at })
                );
            }
        }
    }

    #[test]
    fn base64_error_messages() {
        let e = base64_decode(b"Zm 9").unwrap_err();
        assert_eq!(e.to_string(), "invalid base64 byte 0x20 at offset 2");
    }

    #[test]
    fn sasl_responses() {
        assert_eq!(parse_sasl_response(b"*").unwrap(), SaslResponse::Cancel);
        assert_eq!(parse_sasl_response(b"*\r\n").unwrap(), SaslResponse::Cancel);
        for empty in [&b"="[..], b"=\r\n", b"", b"\r\n"] {
            assert_eq!(
                parse_sasl_response(empty).unwrap(),
                SaslResponse::Data(Secret::new(Vec::new()))
            );
        }
        assert_eq!(
            parse_sasl_response(b"Zm9v\r\n").unwrap(),
            SaslResponse::Data(Secret::new(b"foo".to_vec()))
        );
        assert!(parse_sasl_response(b"**").is_err());
        assert!(parse_sasl_response(b"==").is_err());
        assert!(parse_sasl_response(b"Zm9v\n").is_err());
        let shown = format!("{:?}", parse_sasl_response(b"aHVudGVyMg==").unwrap());
        assert!(!shown.contains("hunter2") && !shown.contains("104"));
    }

    #[test]
    fn rfc4616_examples() {
        // Section 4: "tim" with password "tanstaaftanstaaf", no authzid.
        let msg = b"\0tim\0tanstaaftanstaaf";
        let enc = "AHRpbQB0YW5zdGFhZnRhbnN0YWFm";
        assert_eq!(encode_plain(None, "tim", "tanstaaftanstaaf"), msg);
        assert_eq!(base64_encode(msg), enc);
        let SaslResponse::Data(data) = parse_sasl_response(enc.as_bytes()).unwrap() else {
            panic!("expected data");
        };
        let c = decode_plain(data.expose()).unwrap();
        assert_eq!(c.authzid, None);
        assert_eq!(c.authcid, "tim");
        assert_eq!(c.password.expose(), "tanstaaftanstaaf");

        // Section 4: "Kurt" authorizing as "Ursel".
        let msg = b"Ursel\0Kurt\0xipj3plmq";
        assert_eq!(encode_plain(Some("Ursel"), "Kurt", "xipj3plmq"), msg);
        assert_eq!(base64_encode(msg), "VXJzZWwAS3VydAB4aXBqM3BsbXE=");
        let c = decode_plain(msg).unwrap();
        assert_eq!(
            c,
            PlainCredentials::new(
                Some("Ursel".into()),
                "Kurt".into(),
                Secret::new("xipj3plmq".into())
            )
        );
        assert!(!format!("{c:?}").contains("xipj3plmq"));
    }

    #[test]
    fn plain_edge_cases() {
        let malformed = |m: &[u8]| matches!(decode_plain(m), Err(SaslError::Malformed(_)));
        assert!(malformed(b""));
        assert!(malformed(b"timtanstaaf"));
        assert!(malformed(b"tim\0tanstaaf"));
        assert!(malformed(b"\0tim\0tan\0staaf"));
        assert!(malformed(b"a\0tim\0pw\0"));
        assert!(malformed(b"\0\0"));
        assert!(malformed(b"\0tim\0"), "empty password");
        assert!(malformed(b"\0\0pw"), "empty authcid");
        assert!(malformed(b"zid\0\0pw"), "empty authcid with authzid");

        let long = [b'x'; 256];
        let ok = [b'x'; 255];
        let build = |z: &[u8], c: &[u8], p: &[u8]| [z, b"\0", c, b"\0", p].concat();
        assert_eq!(
            decode_plain(&build(b"", &long, b"pw")),
            Err(SaslError::TooLong)
        );
        assert_eq!(
            decode_plain(&build(b"", b"u", &long)),
            Err(SaslError::TooLong)
        );
        assert_eq!(
            decode_plain(&build(&long, b"u", b"pw")),
            Err(SaslError::TooLong)
        );
        let c = decode_plain(&build(&ok, &ok, &ok)).unwrap();
        assert_eq!(c.authzid.as_deref().map(str::len), Some(255));
        assert_eq!(c.authcid.len(), 255);
        assert_eq!(c.password.expose().len(), 255);

        assert_eq!(decode_plain(b"\0tim\0pw\xff"), Err(SaslError::NotUtf8));
        assert_eq!(decode_plain(b"\0t\xc3\0pw"), Err(SaslError::NotUtf8));
        assert_eq!(
            decode_plain(b"\xed\xa0\x80\0tim\0pw"),
            Err(SaslError::NotUtf8)
        );

        let c = decode_plain("\0j\u{f6}rg\0p\u{e4}ss".as_bytes()).unwrap();
        assert_eq!(c.authcid, "j\u{f6}rg");
        assert_eq!(c.password.expose(), "p\u{e4}ss");
    }

    #[test]
    fn login_challenges_and_fields() {
        assert_eq!(base64_encode(LOGIN_USERNAME_CHALLENGE), "VXNlcm5hbWU6");
        assert_eq!(base64_encode(LOGIN_PASSWORD_CHALLENGE), "UGFzc3dvcmQ6");
        assert_eq!(decode_login_field(b"alice").unwrap(), "alice");
        assert_eq!(decode_login_field(b"").unwrap(), "");
        assert_eq!(decode_login_field(b"\xc0\xaf"), Err(SaslError::NotUtf8));
    }

    #[test]
    fn xoauth2_exact_bytes() {
        let got = encode_xoauth2(
            "someuser@example.com",
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
        );
        assert_eq!(
            got,
            b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
        assert_eq!(
            base64_encode(&got),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn oauthbearer_exact_bytes() {
        // RFC 7628 section 3.2.
        let got = encode_oauthbearer(
            "user@example.com",
            Some("server.example.com"),
            Some(143),
            "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
        );
        assert_eq!(
            got,
            b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01\
              auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert_eq!(
            encode_oauthbearer("a,b=c", None, None, "t"),
            b"n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01"
        );
        assert_eq!(
            encode_oauthbearer("", None, Some(587), "t"),
            b"n,,\x01port=587\x01auth=Bearer t\x01\x01"
        );
    }

    #[test]
    fn sasl_error_from_base64() {
        let e: SaslError = Base64Error::InvalidLength { len: 1 }.into();
        assert_eq!(e, SaslError::Base64(Base64Error::InvalidLength { len: 1 }));
    }

    fn field(max_chars: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            any::<char>().prop_filter("no NUL", |&c| c != '\0'),
            1..=max_chars,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn base64_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let enc = base64_encode(&data);
            prop_assert_eq!(enc.len(), data.len().div_ceil(3) * 4);
            prop_assert_eq!(base64_decode(enc.as_bytes()).unwrap(), data);
        }

        #[test]
        fn base64_decode_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = base64_decode(&data);
            let _ = parse_sasl_response(&data);
        }

        // Mostly-valid inputs reach the deeper branches; strictness means
        // anything accepted must re-encode to exactly the input.
        #[test]
        fn base64_decode_accepts_only_canonical(s in "[A-Za-z0-9+/=]{0,16}") {
            if let Ok(raw) = base64_decode(s.as_bytes()) {
                prop_assert_eq!(base64_encode(&raw), s);
            }
        }

        #[test]
        fn plain_round_trip(
            authzid in proptest::option::of(field(63)),
            authcid in field(63),
            password in field(63),
        ) {
            let msg = encode_plain(authzid.as_deref(), &authcid, &password);
            let c = decode_plain(&msg).unwrap();
            prop_assert_eq!(c.authzid, authzid);
            prop_assert_eq!(c.authcid, authcid);
            prop_assert_eq!(c.password.expose(), &password);
        }
    }
}
