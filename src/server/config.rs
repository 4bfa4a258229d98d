//! Server configuration: policy switches and limits, each with a safe default.

use std::time::Duration;

use crate::data::BareLineEndings;
use crate::syntax::Grammar;
use crate::types::{Domain, Mechanism};

/// How a [`Server`](super::Server) behaves. Every limit is configurable; the defaults are
/// the RFC figures or the safe choice.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The name in the greeting and the EHLO reply (RFC 5321 4.1.1.1, 4.2). A CR or LF
    /// in it (or in `greeting`) is sent as a space: these texts can never start a
    /// second reply. Default `localhost`: set the host's name (RFC 5321 4.1.4 asks for
    /// a fully qualified one), for example with [`ServerConfig::new`].
    pub hostname: String,
    /// Text after the hostname in the `220` greeting. Default `ESMTP ready`.
    pub greeting: String,
    /// Which deviations from the strict command grammar are tolerated. Default
    /// [`Grammar::lenient`].
    pub grammar: Grammar,
    /// Speak LMTP (RFC 2033): `LHLO` instead of EHLO/HELO and one reply per recipient
    /// after the message. Default false.
    pub lmtp: bool,
    /// ESMTP extensions offered. Default: all but MT-PRIORITY ([`Extensions`]).
    pub extensions: Extensions,
    /// STARTTLS can be offered: the transport is able to upgrade (RFC 3207). Default
    /// false; while false the machine answers STARTTLS with `454 4.7.0` by itself.
    pub starttls: bool,
    /// Refuse every command but EHLO, HELO, NOOP, RSET, STARTTLS and QUIT with `530 5.7.0`
    /// until TLS is active (RFC 3207 4). Default false.
    pub require_tls: bool,
    /// SASL mechanisms offered with AUTH (RFC 4954); empty: no AUTH (the default).
    pub auth_mechanisms: Vec<Mechanism<'static>>,
    /// Offer and allow AUTH only under TLS (RFC 4954 4, RFC 6409 submission practice).
    /// Default true: no password crosses the wire in clear.
    pub auth_requires_tls: bool,
    /// MAIL requires a successful AUTH first, as on a submission port (RFC 6409 4.3,
    /// `530 5.7.0`). Default false.
    pub require_auth: bool,
    /// How bare CR and LF inside DATA are treated. Default: reject the message
    /// (SMTP smuggling defence).
    pub bare_line_endings: BareLineEndings,
    /// Answer `VRFY` with the application's decision instead of the stock `252`.
    /// Default false.
    pub ask_vrfy: bool,
    /// What to do with envelope domains that are not fully qualified. Default:
    /// [`UnqualifiedDomains::Accept`].
    pub unqualified_domains: UnqualifiedDomains,
    /// Limits. Default: the RFC figures ([`Limits`]).
    pub limits: Limits,
    /// Timeouts (RFC 5321 4.5.3.2). Default: 5 minutes each ([`Timeouts`]).
    pub timeouts: Timeouts,
    /// Accept limits and timeouts below the RFC minimums ([`ConfigError::BelowMinimum`]):
    /// test sinks and fuzzers want tiny ones. Default false.
    pub allow_below_rfc_minimums: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            hostname: "localhost".into(),
            greeting: "ESMTP ready".into(),
            grammar: Grammar::lenient(),
            lmtp: false,
            extensions: Extensions::default(),
            starttls: false,
            require_tls: false,
            auth_mechanisms: Vec::new(),
            auth_requires_tls: true,
            require_auth: false,
            bare_line_endings: BareLineEndings::Reject,
            ask_vrfy: false,
            unqualified_domains: UnqualifiedDomains::Accept,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            allow_below_rfc_minimums: false,
        }
    }
}

impl ServerConfig {
    /// The default configuration with this host name in the greeting and EHLO reply.
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
            ..Self::default()
        }
    }

    /// Checks that the configuration can exist on the wire. [`Server::new`](super::Server::new)
    /// and its siblings call it; call it yourself to refuse a bad configuration at start
    /// rather than at the first connection.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let x = &self.extensions;
        if x.smtputf8 && !x.eight_bit_mime {
            return Err(ConfigError::SmtpUtf8WithoutEightBitMime);
        }
        if self.lmtp && !(x.pipelining && x.enhanced_status_codes) {
            return Err(ConfigError::LmtpWithoutPipeliningAndEnhancedStatusCodes);
        }
        if self.allow_below_rfc_minimums {
            return Ok(());
        }
        let l = &self.limits;
        let t = &self.timeouts;
        let checks: [(&'static str, u64, u64); 5] = [
            // RFC 5321 4.5.3.1.4, 4.5.3.1.6, 4.5.3.1.8; RFC 4954 4; RFC 5321 4.5.3.2.7.
            ("limits.command_line", 512, l.command_line as u64),
            (
                "limits.text_line",
                1000,
                l.text_line.map_or(u64::MAX, |n| n as u64),
            ),
            ("limits.recipients", 100, l.recipients as u64),
            ("limits.sasl_line", 12288, l.sasl_line as u64),
            ("timeouts.command (seconds)", 300, t.command.as_secs()),
        ];
        for (setting, minimum, configured) in checks {
            if configured < minimum {
                return Err(ConfigError::BelowMinimum {
                    setting,
                    minimum,
                    configured,
                });
            }
        }
        Ok(())
    }
}

/// A [`ServerConfig`] that cannot exist on the wire. Fault: the embedding application;
/// no session was started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// SMTPUTF8 without 8BITMIME (RFC 6531 3.1 item 8: a server offering SMTPUTF8 MUST
    /// offer 8BITMIME).
    #[error("SMTPUTF8 requires 8BITMIME to be offered too (RFC 6531 3.1)")]
    SmtpUtf8WithoutEightBitMime,
    /// LMTP without PIPELINING and ENHANCEDSTATUSCODES (RFC 2033 5: both MUST be
    /// supported).
    #[error("LMTP requires PIPELINING and ENHANCEDSTATUSCODES (RFC 2033 5)")]
    LmtpWithoutPipeliningAndEnhancedStatusCodes,
    /// A limit or timeout under the figure the RFCs set as the least a server must
    /// allow; set [`ServerConfig::allow_below_rfc_minimums`] to use it anyway.
    #[error("{setting} is {configured}, below the RFC minimum of {minimum}")]
    BelowMinimum {
        /// The setting, as a path into [`ServerConfig`].
        setting: &'static str,
        /// The least the RFCs allow.
        minimum: u64,
        /// What was configured.
        configured: u64,
    },
}

/// What the server does with an envelope address whose domain is a single label
/// (`alice@mailhost`). RFC 5321 2.3.5 allows only fully qualified names in SMTP, and
/// RFC 6409 4.2 makes a submission server ensure it, by refusal or by completing the
/// name. The bare `<Postmaster>` has no domain and is always accepted (RFC 5321 4.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnqualifiedDomains {
    /// Hand them to the application as sent: test sinks receive `user@localhost`.
    Accept,
    /// Refuse them: `553 5.1.8` at MAIL (bad sender's system address, RFC 3463) and
    /// `550 5.1.2` at RCPT (bad destination system address).
    Refuse,
    /// Complete them with this domain (`alice@mailhost` becomes
    /// `alice@mailhost.example.org`); the application sees the completed address.
    Qualify(Domain<'static>),
}

/// ESMTP extensions the server announces and accepts parameters for.
/// A parameter of an extension that is switched off is answered `555`. Every one is on
/// by default except MT-PRIORITY.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extensions {
    /// PIPELINING (RFC 2920). The machine always processes commands in order; this only
    /// announces that the client may send them in groups.
    pub pipelining: bool,
    /// 8BITMIME (RFC 6152).
    pub eight_bit_mime: bool,
    /// SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// CHUNKING (RFC 3030): BDAT.
    pub chunking: bool,
    /// BINARYMIME (RFC 3030); needs CHUNKING.
    pub binary_mime: bool,
    /// DSN (RFC 3461): RET, ENVID, NOTIFY, ORCPT.
    pub dsn: bool,
    /// ENHANCEDSTATUSCODES (RFC 2034).
    pub enhanced_status_codes: bool,
    /// REQUIRETLS (RFC 8689); announced only once TLS is active.
    pub requiretls: bool,
    /// MT-PRIORITY (RFC 6710).
    pub mt_priority: bool,
}

impl Default for Extensions {
    fn default() -> Self {
        Self {
            pipelining: true,
            eight_bit_mime: true,
            smtputf8: true,
            chunking: true,
            binary_mime: true,
            dsn: true,
            enhanced_status_codes: true,
            requiretls: true,
            mt_priority: false,
        }
    }
}

/// Bounds on everything a client can make the server hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest command line, CRLF included (RFC 5321 4.5.3.1.4: 512). Default 512; a
    /// longer one is skipped to its end and answered `500 5.5.2`.
    pub command_line: usize,
    /// Longest text line inside DATA, CRLF included (RFC 5321 4.5.3.1.6: 1000);
    /// `None`: no limit. A longer line makes the message fail with `500 5.3.4`.
    /// Default 1000.
    pub text_line: Option<usize>,
    /// Longest SASL response line (RFC 4954 4: at least 12288). Default 12288; a longer
    /// one gets `500 5.5.6` (RFC 4954 6).
    pub sasl_line: usize,
    /// Recipients per message (RFC 5321 4.5.3.1.8: at least 100); more get `452 4.5.3`.
    /// Default 100.
    pub recipients: usize,
    /// Largest message in octets, announced with SIZE (RFC 1870); `None`: no limit.
    /// Default 32 MiB; a larger message gets `552 5.3.4`.
    pub message_size: Option<u64>,
    /// Largest refused BDAT chunk read to its end so the session stays usable
    /// (RFC 3030 2); a larger one is answered at once and the session closes. Default
    /// 64 MiB.
    pub bdat_discard: u64,
    /// `Received:` fields a message may carry in its header (RFC 5321 6.3 loop
    /// detection); one with more is refused with `554 5.4.6` and never delivered.
    /// Default 100, the figure RFC 5321 6.3 gives; `usize::MAX` turns the check off.
    pub hops: usize,
    /// Protocol errors, and AUTH attempts the application refused, tolerated before
    /// `421 4.7.0` and close. Default 20.
    pub errors: u32,
    /// Input held while the application decides; more closes the connection with
    /// `421 4.7.0`. A transport that checks [`Server::wants_input`](super::Server::wants_input)
    /// never reaches it. Default 256 KiB.
    pub buffered_input: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            command_line: 512,
            text_line: Some(1000),
            sasl_line: 12288,
            recipients: 100,
            message_size: Some(32 * 1024 * 1024),
            bdat_discard: 64 * 1024 * 1024,
            hops: 100,
            errors: 20,
            buffered_input: 256 * 1024,
        }
    }
}

/// RFC 5321 4.5.3.2 timeouts, as the server applies them. A duration too long to add to
/// the clock (`Duration::MAX`, say) means no deadline at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Waiting for the next command (4.5.3.2.7: at least 5 minutes). Default 5 minutes;
    /// then `421 4.4.2` and close.
    pub command: Duration,
    /// Waiting for more message data inside DATA or BDAT (4.5.3.2.5 is the client's
    /// 3 minutes per block; the server allows as long as for a command). Default 5
    /// minutes.
    pub data: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            command: Duration::from_secs(300),
            data: Duration::from_secs(300),
        }
    }
}
