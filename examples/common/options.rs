//! Command-line options shared by the example servers, and the [`ServerConfig`] and
//! message store they imply. Each field of [`Options`] is the option of the same name in
//! kebab case (`implicit_tls` is `--implicit-tls`); `--help` lists them, and a usage
//! error ends the program with exit code 2.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use smtp_sansio::client::StartTlsPolicy;
use smtp_sansio::server::ServerConfig;
use smtp_sansio_tokio::client::Verify;
use smtp_sansio_tokio::config::{self, Extension};
use smtp_sansio_tokio::maildir::Folder;
use smtp_sansio_tokio::{Credentials, DEFAULT_MAX_SESSIONS, Maildir, Relay, TlsIdentity, hostname};

#[path = "cli.rs"]
mod cli;

/// Default `--max-size`: 256 MiB. A disk-backed sink can take larger messages than the
/// library's in-memory-minded default; memory stays flat, as bodies stream to the file.
pub const DEFAULT_MAX_SIZE: u64 = 256 * 1024 * 1024;

const RELAY: &str = "Relay (tokio server only)";
const RUNTIME: &str = "Runtime (tokio server only)";

/// An SMTP submission server (RFC 5321, RFC 6409) storing accepted messages in a Maildir.
/// TLS is always available: without --tls-cert and --tls-key a self-signed certificate is
/// generated.
#[derive(Debug, Parser)]
#[command(version, args_override_self = true)]
pub struct Options {
    /// Plain SMTP with STARTTLS (repeatable; IPv6 as [::1]:2525); default 127.0.0.1:2525
    /// unless --implicit-tls is given
    #[arg(long, value_name = "ADDR")]
    pub listen: Vec<SocketAddr>,
    /// TLS from the first byte, RFC 8314 (port 465 style; repeatable)
    #[arg(long, value_name = "ADDR")]
    pub implicit_tls: Vec<SocketAddr>,
    /// Where accepted messages go
    #[arg(long, value_name = "DIR", default_value = "./maildir")]
    pub maildir: PathBuf,
    /// Certificate chain, with --tls-key; without them a self-signed certificate for
    /// localhost, 127.0.0.1 and ::1 is generated
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// An account (repeatable); enables AUTH PLAIN/LOGIN under TLS and requires it for
    /// MAIL, as on a submission port (RFC 6409). ADDRESSES (comma-separated, `*@domain` for
    /// a whole domain) are the senders it may use in MAIL FROM; others get 553 5.7.1 (RFC
    /// 6409 6.1). Without them any sender is allowed
    #[arg(long = "user", value_name = "NAME:PASSWORD[:ADDRESSES]")]
    user_specs: Vec<String>,
    /// Name in the greeting and EHLO reply [default: the machine's fully qualified host
    /// name, else the first listener's address literal such as [127.0.0.1]]
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// Largest message accepted (SIZE, RFC 1870) [default: 256 MiB]
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_SIZE, hide_default_value = true)]
    max_size: u64,
    /// Recipients per message [default: 100]
    #[arg(long, value_name = "N")]
    max_recipients: Option<usize>,
    /// Connections served at once; more are answered 421 and closed
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// How long a client may keep the server waiting for its next command [default: 5
    /// minutes, RFC 5321 4.5.3.2.7]
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    command_timeout: Option<Duration>,
    /// Speak LMTP (RFC 2033) instead of SMTP
    #[arg(long)]
    lmtp: bool,
    /// Log the dialogue (C:/S: lines, credentials redacted)
    #[arg(long)]
    pub verbose: bool,
    /// Accept messages and drop them (load tests)
    #[arg(long)]
    pub discard: bool,
    /// Name the authenticated user in the Received: field we add
    #[arg(long)]
    pub received_auth: bool,
    /// Add Message-ID: and Date: to messages lacking them (RFC 6409 8.1, 8.3); on by
    /// default with --user
    #[arg(long)]
    pub add_missing_headers: bool,
    /// Do not offer an extension (repeatable; 8bitmime takes smtputf8 with it)
    #[arg(long, value_name = "EXT", ignore_case = true,
          value_parser = PossibleValuesParser::new(Extension::NAMES).try_map(|s| s.parse::<Extension>()))]
    disable: Vec<Extension>,
    #[command(flatten)]
    relay: Option<RelayOptions>,
    /// (tokio server only) Serve on N threads, each with a single-threaded runtime
    /// accepting from the same listeners; 0 serves on one multi-threaded runtime [default:
    /// half the CPUs, at least 1, leaving the rest to clients on the same machine]
    #[arg(long, value_name = "N", help_heading = RUNTIME)]
    pub threads: Option<usize>,
    /// The accounts of `--user`.
    #[arg(skip)]
    pub users: Credentials,
    /// The machine's configuration, complete.
    #[arg(skip)]
    pub config: ServerConfig,
    /// `--maildir` was given (with `--relay`, a copy is kept only then).
    #[arg(skip)]
    maildir_given: bool,
}

/// `--relay` and its companions `--relay-user`, `--relay-starttls`, `--relay-insecure`,
/// `--relay-timeout` and `--relay-final-timeout`, which need it.
#[derive(Debug, Clone, clap::Args)]
struct RelayOptions {
    /// Mirror every transaction to this server as it happens; the client gets the
    /// upstream's verdicts; with --maildir a copy of each message the upstream accepted is
    /// kept. Only what the upstream's EHLO offers is advertised. Without --user every
    /// listener must be on a loopback address (no open relay, RFC 6409 4.3)
    #[arg(id = "relay", long = "relay", value_name = "HOST:PORT", value_parser = host_port,
          required = false, conflicts_with = "lmtp", help_heading = RELAY)]
    addr: String,
    /// Authenticate to the upstream (AUTH PLAIN/LOGIN, under TLS)
    #[arg(long = "relay-user", value_name = "NAME:PASSWORD", value_parser = cli::name_password,
          requires = "relay", help_heading = RELAY)]
    user: Option<(String, String)>,
    /// STARTTLS to the upstream
    #[arg(long = "relay-starttls", value_name = "required|opportunistic", default_value = "required",
          value_parser = relay_starttls, requires = "relay", help_heading = RELAY)]
    starttls: StartTlsPolicy,
    /// Accept any upstream certificate (tests only)
    #[arg(long = "relay-insecure", requires = "relay", help_heading = RELAY)]
    insecure: bool,
    /// Cap on every upstream reply wait [default: RFC 5321 4.5.3.2]
    #[arg(long = "relay-timeout", value_name = "SECS", value_parser = seconds,
          requires = "relay", help_heading = RELAY)]
    timeout: Option<Duration>,
    /// Longest wait for the upstream's reply after the end of the data before the client
    /// gets 451 4.4.2 (RFC 6409 5.3)
    #[arg(long = "relay-final-timeout", value_name = "SECS", value_parser = seconds,
          default_value = "120", requires = "relay", help_heading = RELAY)]
    final_timeout: Duration,
}

impl Options {
    /// Parses `std::env::args()`. `--help` and `--version` end the process here with
    /// exit code 0; malformed options and refused combinations with 2 and the error.
    pub fn from_args(program: &'static str) -> Options {
        let matches = cli::hyphen_values(Options::command().name(program)).get_matches();
        let mut o = Options::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        o.maildir_given = matches.value_source("maildir") == Some(ValueSource::CommandLine);
        if let Err(e) = o.resolve(program) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        o
    }

    /// Every listener, `true` for those with implicit TLS.
    pub fn listeners(&self) -> impl Iterator<Item = (SocketAddr, bool)> + use<'_> {
        let plain = self.listen.iter().map(|a| (*a, false));
        plain.chain(self.implicit_tls.iter().map(|a| (*a, true)))
    }

    /// The certificate of --tls-cert and --tls-key, or one generated now; says which.
    pub fn tls(&self) -> Result<TlsIdentity, String> {
        let (cert, key) = (self.tls_cert.as_deref(), self.tls_key.as_deref());
        let tls = TlsIdentity::from_pem_files_or_self_signed(cert, key);
        let tls = tls.map_err(|e| e.to_string())?;
        eprintln!("TLS: {}", tls.describe());
        Ok(tls)
    }

    /// Fills in `users` and `config`, and refuses what does not go together.
    fn resolve(&mut self, program: &str) -> Result<(), String> {
        for spec in &self.user_specs {
            self.users.add(spec)?;
        }
        if self.listen.is_empty() && self.implicit_tls.is_empty() {
            self.listen.push(SocketAddr::from(([127, 0, 0, 1], 2525)));
        }
        let listeners: Vec<SocketAddr> = self.listeners().map(|(a, _)| a).collect();
        let c = &mut self.config;
        c.hostname = match self.hostname.take() {
            Some(name) => name,
            None => hostname::default_hostname(listeners[0].ip()),
        };
        c.limits.message_size = Some(self.max_size);
        c.limits.recipients = self.max_recipients.unwrap_or(c.limits.recipients);
        c.timeouts.command = self.command_timeout.unwrap_or(c.timeouts.command);
        c.lmtp = self.lmtp;
        for ext in &self.disable {
            ext.switch_off(&mut c.extensions);
        }
        if self.relay.is_some() {
            if program != "server" {
                return Err("--relay needs the tokio server (examples/server.rs)".into());
            }
            config::refuse_open_relay(&listeners, !self.users.is_empty())?;
        }
        // The transport can always upgrade: with no certificate given, one is generated.
        c.starttls = true;
        // Limits given on the command line are the operator's explicit choice, below the
        // RFC minimums too (test sinks with a 1-second timeout, say).
        c.allow_below_rfc_minimums = true;
        if !self.users.is_empty() {
            config::submission(c);
        }
        c.validate()
            .map_err(|e| format!("configuration refused: {e}"))
    }
}

/// Where accepted messages go, as the options choose.
pub enum Store {
    /// `--discard`.
    Discard,
    /// `--maildir` (the default).
    Maildir(Maildir),
    /// `--relay`, keeping copies in `--maildir` only if it was given.
    Relay(Box<Relay>),
}

impl Options {
    /// The message store the options ask for, and how the listening line names it.
    pub fn store(&self) -> Result<(Store, String), String> {
        if let Some(r) = &self.relay {
            return self.relay(r);
        }
        if self.discard {
            return Ok((Store::Discard, "discarding messages".into()));
        }
        let maildir = Maildir::open(&self.maildir).map_err(|e| self.cannot_open(e))?;
        // An MSA adds what a submission lacks (RFC 6409 8.1, 8.3).
        let add_missing = self.add_missing_headers || !self.users.is_empty();
        let maildir = maildir
            .name_user(self.received_auth)
            .add_missing_headers(add_missing);
        let store = format!("storing into {}", self.maildir.display());
        Ok((Store::Maildir(maildir), store))
    }

    fn relay(&self, r: &RelayOptions) -> Result<(Store, String), String> {
        let hello =
            hostname::to_host(&self.config.hostname).map_err(|e| format!("--hostname {e}"))?;
        let verify = if r.insecure {
            Verify::Insecure
        } else {
            Verify::WebPki
        };
        let mut relay = Relay::new(&r.addr, hello)?
            .starttls(r.starttls)
            .verify(verify)
            .final_timeout(r.final_timeout)
            .senders(self.users.clone())
            .name_user(self.received_auth);
        if let Some((user, password)) = &r.user {
            relay = relay.login(user, password);
        }
        if let Some(t) = r.timeout {
            relay = relay.reply_timeout(t);
        }
        let mut store = relay.describe();
        if !self.discard && self.maildir_given {
            let folder = Folder::open(&self.maildir).map_err(|e| self.cannot_open(e))?;
            relay = relay.keep_copies(folder);
            store = format!("{store}, copies into {}", self.maildir.display());
        }
        Ok((Store::Relay(Box::new(relay)), store))
    }

    fn cannot_open(&self, e: std::io::Error) -> String {
        format!("cannot open maildir {}: {e}", self.maildir.display())
    }
}

/// The exit status of a server that ran: 1, with the error, when it could not start
/// or serve.
pub fn exit(ran: Result<(), String>) -> ExitCode {
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `SECS` of a timeout; 0 counts as 1.
fn seconds(v: &str) -> Result<Duration, std::num::ParseIntError> {
    Ok(Duration::from_secs(v.parse::<u64>()?.max(1)))
}

fn host_port(v: &str) -> Result<String, &'static str> {
    match v.contains(':') {
        true => Ok(v.to_owned()),
        false => Err("HOST:PORT expected"),
    }
}

fn relay_starttls(v: &str) -> Result<StartTlsPolicy, &'static str> {
    match cli::starttls(v) {
        Ok(StartTlsPolicy::Never) | Err(_) => Err("required or opportunistic"),
        Ok(p) => Ok(p),
    }
}
