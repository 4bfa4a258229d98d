//! A server's configuration from the choices an operator makes on a command line or in
//! a file: extensions switched off by name, and the submission profile (RFC 6409).

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use smtp_sansio::server::{Extensions, ServerConfig, UnqualifiedDomains};
use smtp_sansio::types::Mechanism;

/// An extension a server can stop offering, named by its EHLO keyword in lower case
/// (`8bitmime`, `smtputf8`...; parsed in any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Extension {
    /// PIPELINING (RFC 2920).
    Pipelining,
    /// 8BITMIME (RFC 6152); SMTPUTF8 goes with it.
    EightBitMime,
    /// SMTPUTF8 (RFC 6531).
    SmtpUtf8,
    /// CHUNKING (RFC 3030).
    Chunking,
    /// BINARYMIME (RFC 3030).
    BinaryMime,
    /// DSN (RFC 3461).
    Dsn,
    /// ENHANCEDSTATUSCODES (RFC 2034).
    EnhancedStatusCodes,
    /// REQUIRETLS (RFC 8689).
    RequireTls,
}

impl Extension {
    /// Every extension, in the order of [`Extension::NAMES`].
    pub const ALL: [Extension; 8] = [
        Self::Pipelining,
        Self::EightBitMime,
        Self::SmtpUtf8,
        Self::Chunking,
        Self::BinaryMime,
        Self::Dsn,
        Self::EnhancedStatusCodes,
        Self::RequireTls,
    ];

    /// Their names, for a command line's list of possible values.
    pub const NAMES: [&'static str; 8] = [
        "pipelining",
        "8bitmime",
        "smtputf8",
        "chunking",
        "binarymime",
        "dsn",
        "enhancedstatuscodes",
        "requiretls",
    ];

    /// The name (see [`Extension::NAMES`]).
    pub fn name(self) -> &'static str {
        // ALL lists every variant, so the position is always found.
        let i = Self::ALL.iter().position(|e| *e == self);
        i.map_or("", |i| Self::NAMES[i])
    }

    /// Stops offering this extension.
    pub fn switch_off(self, e: &mut Extensions) {
        match self {
            Self::Pipelining => e.pipelining = false,
            // RFC 6531 3.1: SMTPUTF8 cannot be offered without 8BITMIME.
            Self::EightBitMime => (e.eight_bit_mime, e.smtputf8) = (false, false),
            Self::SmtpUtf8 => e.smtputf8 = false,
            Self::Chunking => e.chunking = false,
            Self::BinaryMime => e.binary_mime = false,
            Self::Dsn => e.dsn = false,
            Self::EnhancedStatusCodes => e.enhanced_status_codes = false,
            Self::RequireTls => e.requiretls = false,
        }
    }
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is none of [`Extension::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownExtension(pub String);

impl fmt::Display for UnknownExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown extension {:?}; one of {}",
            self.0,
            Extension::NAMES.join(", ")
        )
    }
}

impl std::error::Error for UnknownExtension {}

impl FromStr for Extension {
    type Err = UnknownExtension;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let i = Self::NAMES.iter().position(|n| n.eq_ignore_ascii_case(s));
        i.map(|i| Self::ALL[i])
            .ok_or_else(|| UnknownExtension(s.to_owned()))
    }
}

/// Makes `config` a submission server's (RFC 6409) for accounts a
/// [`PasswordVerifier`](crate::PasswordVerifier) checks: AUTH PLAIN and LOGIN offered
/// (under TLS unless `auth_requires_tls` is switched off, as RFC 8314 asks) and
/// required for MAIL, and envelope domains that are not fully qualified refused (RFC
/// 6409 4.2: `alice@mailhost` is refused, never relayed as it is).
pub fn submission(config: &mut ServerConfig) {
    config.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
    config.require_auth = true;
    config.unqualified_domains = UnqualifiedDomains::Refuse;
}

/// Refuses to start an open relay (RFC 6409 4.3, RFC 5321 7.9): relaying for anyone
/// who connects would put the next hop's account at the service of every spammer that
/// finds the port. Without `authenticated` sessions, every listener must be on a
/// loopback address; the error names those that are not. Check before binding.
pub fn refuse_open_relay<'a>(
    listeners: impl IntoIterator<Item = &'a SocketAddr>,
    authenticated: bool,
) -> Result<(), String> {
    let exposed: Vec<String> = listeners
        .into_iter()
        .filter(|a| !a.ip().is_loopback())
        .map(SocketAddr::to_string)
        .collect();
    if authenticated || exposed.is_empty() {
        return Ok(());
    }
    Err(format!(
        "refusing to start an open relay: without AUTH it would relay for anyone reaching \
         {} (RFC 6409 4.3); require AUTH, or listen on loopback addresses only",
        exposed.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_names_parse_in_any_case_and_round_trip() {
        for e in Extension::ALL {
            assert_eq!(e.name().parse::<Extension>(), Ok(e));
            assert_eq!(
                e.to_string().to_ascii_uppercase().parse::<Extension>(),
                Ok(e)
            );
        }
        assert!("nothing".parse::<Extension>().is_err());
    }

    #[test]
    fn switching_off_8bitmime_takes_smtputf8_with_it() {
        let mut e = ServerConfig::default().extensions;
        assert!(e.eight_bit_mime && e.smtputf8);
        Extension::EightBitMime.switch_off(&mut e);
        assert!(!e.eight_bit_mime && !e.smtputf8);
        Extension::Dsn.switch_off(&mut e);
        assert!(!e.dsn && e.pipelining);
    }

    #[test]
    fn submission_requires_auth_and_qualified_domains() {
        let mut c = ServerConfig::new("mx.example");
        submission(&mut c);
        assert!(c.require_auth && c.auth_requires_tls);
        assert_eq!(c.auth_mechanisms, vec![Mechanism::PLAIN, Mechanism::LOGIN]);
        assert_eq!(c.unqualified_domains, UnqualifiedDomains::Refuse);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn relay_without_auth_on_a_public_address_is_refused() {
        let local: SocketAddr = "127.0.0.1:25".parse().unwrap();
        let public: SocketAddr = "192.0.2.1:25".parse().unwrap();
        assert!(refuse_open_relay([&local], false).is_ok());
        assert!(refuse_open_relay([&local, &public], true).is_ok());
        let e = refuse_open_relay([&local, &public], false).unwrap_err();
        assert!(
            e.contains("open relay") && e.contains("192.0.2.1:25"),
            "{e}"
        );
    }
}
