//! Command-line options shared by the example servers, and the [`ServerConfig`] they
//! imply. No argument-parsing crate: the examples should build with the library's own
//! dependencies plus the transport.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use smtp_sansio::client::StartTlsPolicy;
use smtp_sansio::server::ServerConfig;
use smtp_sansio::types::Mechanism;

use crate::users::Users;

#[path = "hostname.rs"]
pub mod hostname;

/// The option list printed by `--help`.
pub const USAGE: &str = "\
options:
  --listen ADDR           plain SMTP with STARTTLS (repeatable; IPv6 as [::1]:2525);
                          default 127.0.0.1:2525 unless --implicit-tls is given
  --implicit-tls ADDR     TLS from the first byte, RFC 8314 (port 465 style; repeatable)
  --maildir DIR           where accepted messages go (default ./maildir)
  --tls-cert PEM --tls-key PEM
                          certificate chain and private key; without them a self-signed
                          certificate for localhost, 127.0.0.1 and ::1 is generated
  --user NAME:PASSWORD[:ADDRESSES]
                          an account (repeatable); enables AUTH PLAIN/LOGIN under TLS
                          and requires it for MAIL, as on a submission port (RFC 6409).
                          ADDRESSES (comma-separated, `*@domain` for a whole domain)
                          are the senders it may use in MAIL FROM; others get 553 5.7.1
                          (RFC 6409 6.1). Without them any sender is allowed
  --hostname NAME         name in the greeting and EHLO reply (default: the machine's
                          fully qualified host name, else the first listener's address
                          literal such as [127.0.0.1])
  --max-size BYTES        largest message accepted (SIZE, RFC 1870; default 256 MiB)
  --max-recipients N      recipients per message
  --max-sessions N        connections served at once; more are answered 421 and closed
                          (default 4096)
  --command-timeout SECS  how long a client may keep the server waiting for its next
                          command (default 5 minutes, RFC 5321 4.5.3.2.7)
  --lmtp                  speak LMTP (RFC 2033) instead of SMTP
  --verbose               log the dialogue (C:/S: lines, credentials redacted)
  --discard               accept messages and drop them (load tests)
  --received-auth         name the authenticated user in the Received: field we add
  --add-missing-headers   add Message-ID: and Date: to messages lacking them (RFC 6409
                          8.1, 8.3); on by default with --user
  --disable EXT           do not offer an extension (repeatable): pipelining, 8bitmime,
                          smtputf8, chunking, binarymime, dsn, enhancedstatuscodes,
                          requiretls
relay (tokio server only):
  --relay HOST:PORT       mirror every transaction to this server as it happens; the
                          client gets the upstream's verdicts; with --maildir a copy of
                          each message the upstream accepted is kept. Only what the
                          upstream's EHLO offers is advertised. Without --user every
                          listener must be on a loopback address (no open relay,
                          RFC 6409 4.3)
  --relay-user NAME:PASSWORD
                          authenticate to the upstream (AUTH PLAIN/LOGIN, under TLS)
  --relay-starttls required|opportunistic
                          STARTTLS to the upstream (default required)
  --relay-insecure        accept any upstream certificate (tests only)
  --relay-timeout SECS    cap on every upstream reply wait (default: RFC 5321 4.5.3.2)
  --relay-final-timeout SECS
                          longest wait for the upstream's reply after the end of the
                          data before the client gets 451 4.4.2 (default 120, RFC 6409
                          5.3)";

/// Default `--relay-final-timeout`: a submission client is answered within 2 minutes of
/// the end of its data, whatever the upstream does.
pub const DEFAULT_RELAY_FINAL_TIMEOUT: Duration = Duration::from_secs(120);

/// Default `--max-sessions`: enough for load tests (2,000 idle connections), few enough
/// that a connection flood cannot exhaust threads or descriptors.
pub const DEFAULT_MAX_SESSIONS: usize = 4096;

/// The answer to a connection over `--max-sessions` (RFC 5321 3.1 lets a server refuse
/// a connection with 421).
pub const TOO_MANY_SESSIONS: &[u8] = b"421 4.3.2 Too many connections, try again later\r\n";

/// Default `--max-size`: 256 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 256 * 1024 * 1024;

/// `--relay` and its companions.
#[derive(Debug, Clone)]
#[allow(dead_code)] // only the tokio server relays
pub struct RelayOptions {
    /// `HOST:PORT` of the next hop.
    pub addr: String,
    /// `--relay-user`: name and password.
    pub user: Option<(String, String)>,
    pub starttls: StartTlsPolicy,
    pub insecure: bool,
    pub timeout: Option<Duration>,
    /// `--relay-final-timeout`: cap on the wait after the end of data.
    pub final_timeout: Duration,
}

/// Everything the command line chose.
#[derive(Debug)]
pub struct Options {
    /// Plain listeners (STARTTLS offered).
    pub listen: Vec<SocketAddr>,
    /// Implicit-TLS listeners.
    pub implicit_tls: Vec<SocketAddr>,
    pub maildir: PathBuf,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub users: Users,
    /// The machine's configuration, complete.
    pub config: ServerConfig,
    pub verbose: bool,
    pub discard: bool,
    /// `--received-auth`.
    pub received_auth: bool,
    /// `--add-missing-headers` (with `--user` the servers add them anyway).
    pub add_missing_headers: bool,
    /// `--max-sessions`.
    pub max_sessions: usize,
    /// `--maildir` was given (with `--relay`, a copy is kept only then).
    #[allow(dead_code)]
    pub maildir_given: bool,
    #[allow(dead_code)]
    pub relay: Option<RelayOptions>,
}

impl Options {
    /// Parses `std::env::args()`. `Err` holds the message to print (usage for `--help`).
    pub fn from_args(program: &str) -> Result<Options, String> {
        Self::parse(program, std::env::args().skip(1))
    }

    fn parse(program: &str, args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            listen: Vec::new(),
            implicit_tls: Vec::new(),
            maildir: "./maildir".into(),
            tls_cert: None,
            tls_key: None,
            users: Users::default(),
            config: ServerConfig::default(),
            verbose: false,
            discard: false,
            received_auth: false,
            add_missing_headers: false,
            max_sessions: DEFAULT_MAX_SESSIONS,
            maildir_given: false,
            relay: None,
        };
        let mut relay_user = None;
        let mut relay_starttls = StartTlsPolicy::Required;
        let mut relay_insecure = false;
        let mut relay_timeout = None;
        let mut relay_extra = false;
        let mut relay_final_timeout = DEFAULT_RELAY_FINAL_TIMEOUT;
        let mut hostname_given = false;
        // A disk-backed sink can take larger messages than the library's in-memory-minded
        // default; memory stays flat either way, as bodies stream to the file.
        o.config.limits.message_size = Some(DEFAULT_MAX_SIZE);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--listen" => o.listen.push(parse(&arg, &value()?)?),
                "--implicit-tls" => o.implicit_tls.push(parse(&arg, &value()?)?),
                "--maildir" => {
                    o.maildir = value()?.into();
                    o.maildir_given = true;
                }
                "--tls-cert" => o.tls_cert = Some(value()?.into()),
                "--tls-key" => o.tls_key = Some(value()?.into()),
                "--user" => o.users.add(&value()?)?,
                "--hostname" => {
                    o.config.hostname = value()?;
                    hostname_given = true;
                }
                "--max-size" => o.config.limits.message_size = Some(parse(&arg, &value()?)?),
                "--max-sessions" => o.max_sessions = parse(&arg, &value()?)?,
                "--max-recipients" => o.config.limits.recipients = parse(&arg, &value()?)?,
                "--command-timeout" => {
                    let secs: u64 = parse(&arg, &value()?)?;
                    o.config.timeouts.command = Duration::from_secs(secs.max(1));
                }
                "--lmtp" => o.config.lmtp = true,
                "--verbose" => o.verbose = true,
                "--discard" => o.discard = true,
                "--received-auth" => o.received_auth = true,
                "--add-missing-headers" => o.add_missing_headers = true,
                "--disable" => disable(&mut o.config, &value()?)?,
                "--relay" => {
                    let addr = value()?;
                    if !addr.contains(':') {
                        return Err(format!("--relay {addr}: HOST:PORT expected"));
                    }
                    o.relay = Some(RelayOptions {
                        addr,
                        user: None,
                        starttls: StartTlsPolicy::Required,
                        insecure: false,
                        timeout: None,
                        final_timeout: DEFAULT_RELAY_FINAL_TIMEOUT,
                    });
                }
                "--relay-user" => {
                    let v = value()?;
                    let (name, password) = v
                        .split_once(':')
                        .ok_or("--relay-user NAME:PASSWORD expected")?;
                    relay_user = Some((name.to_owned(), password.to_owned()));
                    relay_extra = true;
                }
                "--relay-starttls" => {
                    relay_starttls = match value()?.as_str() {
                        "required" => StartTlsPolicy::Required,
                        "opportunistic" => StartTlsPolicy::Opportunistic,
                        v => {
                            return Err(format!("--relay-starttls {v}: required or opportunistic"));
                        }
                    };
                    relay_extra = true;
                }
                "--relay-insecure" => {
                    relay_insecure = true;
                    relay_extra = true;
                }
                "--relay-timeout" => {
                    let secs: u64 = parse(&arg, &value()?)?;
                    relay_timeout = Some(Duration::from_secs(secs.max(1)));
                    relay_extra = true;
                }
                "--relay-final-timeout" => {
                    let secs: u64 = parse(&arg, &value()?)?;
                    relay_final_timeout = Duration::from_secs(secs.max(1));
                    relay_extra = true;
                }
                "-h" | "--help" => return Err(format!("usage: {program} [options]\n{USAGE}")),
                other => return Err(format!("unknown argument {other}; try --help")),
            }
        }
        if o.listen.is_empty() && o.implicit_tls.is_empty() {
            o.listen.push(SocketAddr::from(([127, 0, 0, 1], 2525)));
        }
        if !hostname_given {
            let first = o.listen.iter().chain(&o.implicit_tls).next();
            let ip = first.map_or(std::net::Ipv4Addr::LOCALHOST.into(), SocketAddr::ip);
            o.config.hostname = hostname::default_hostname(ip);
        }
        match o.relay.as_mut() {
            Some(r) => {
                r.user = relay_user;
                r.starttls = relay_starttls;
                r.insecure = relay_insecure;
                r.timeout = relay_timeout;
                r.final_timeout = relay_final_timeout;
                if o.config.lmtp {
                    return Err("--relay and --lmtp do not go together".into());
                }
                if program != "server" {
                    return Err("--relay needs the tokio server (examples/server.rs)".into());
                }
                // RFC 6409 4.3, RFC 5321 7.9: relaying for anyone who connects would put
                // the upstream account at the service of every spammer that finds the
                // port. Checked before any listener is bound.
                let exposed: Vec<String> = o
                    .listen
                    .iter()
                    .chain(&o.implicit_tls)
                    .filter(|a| !a.ip().is_loopback())
                    .map(SocketAddr::to_string)
                    .collect();
                if o.users.is_empty() && !exposed.is_empty() {
                    return Err(format!(
                        "refusing to start an open relay: --relay without --user would relay \
                         for anyone reaching {} (RFC 6409 4.3); add --user NAME:PASSWORD, or \
                         listen on loopback addresses only",
                        exposed.join(", ")
                    ));
                }
            }
            None if relay_extra => return Err("--relay-* options need --relay".into()),
            None => {}
        }
        if o.tls_cert.is_some() != o.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".into());
        }
        // The transport can always upgrade: with no certificate given, one is generated.
        o.config.starttls = true;
        // Limits given on the command line are the operator's explicit choice, below the
        // RFC minimums too (test sinks with a 1-second timeout, say).
        o.config.allow_below_rfc_minimums = true;
        if !o.users.is_empty() {
            // AUTH only under TLS is the default (auth_requires_tls), as RFC 8314 asks.
            o.config.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
            o.config.require_auth = true;
        }
        o.config
            .validate()
            .map_err(|e| format!("configuration refused: {e}"))?;
        Ok(o)
    }
}

/// `--disable EXT`: switches one extension off.
fn disable(config: &mut ServerConfig, ext: &str) -> Result<(), String> {
    let e = &mut config.extensions;
    match ext.to_ascii_lowercase().as_str() {
        "pipelining" => e.pipelining = false,
        // RFC 6531 3.1: SMTPUTF8 cannot be offered without 8BITMIME.
        "8bitmime" => {
            e.eight_bit_mime = false;
            e.smtputf8 = false;
        }
        "smtputf8" => e.smtputf8 = false,
        "chunking" => e.chunking = false,
        "binarymime" => e.binary_mime = false,
        "dsn" => e.dsn = false,
        "enhancedstatuscodes" => e.enhanced_status_codes = false,
        "requiretls" => e.requiretls = false,
        other => return Err(format!("--disable {other}: unknown extension")),
    }
    Ok(())
}

fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| format!("{name} {value}: {e}"))
}
