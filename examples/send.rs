//! Sends one message: a command line over the `smtp-sansio-tokio` crate's client.
//!
//! ```text
//! cargo run --release --example send -- --server HOST:PORT --from ADDR --to ADDR [--to ADDR ...]
//!     [--starttls required|opportunistic|never] [--user NAME:PASSWORD] [--insecure]
//!     [--lmtp] [--bdat] [--hostname NAME] [--verbose] [FILE]
//! ```
//!
//! `--hostname` (or its older name `--helo`) is the EHLO argument; by default the
//! machine's fully qualified host name, else the address literal of the local end of
//! the connection (RFC 5321 2.3.5, 4.1.4).
//!
//! The program only moves bytes: every protocol decision is the machine's. Exit status:
//! 0 when every recipient and the message were accepted, 1 otherwise, 2 on a usage error.

#[path = "common/cli.rs"]
mod cli;

use std::io::Read;
use std::process::ExitCode;

use bytes::Bytes;
use clap::builder::NonEmptyStringValueParser;
use clap::{CommandFactory, FromArgMatches, Parser};
use rustls::pki_types::ServerName;
use smtp_sansio::client::{AuthConfig, ClientConfig, MessageStatus, StartTlsPolicy};
use smtp_sansio_tokio::client::{self, Connection, Error, Options, Verify, Wire};
use smtp_sansio_tokio::hostname;

/// Sends one message with the sans-I/O client. Exit status: 0 when every recipient and
/// the message were accepted, 1 otherwise, 2 on a usage error.
#[derive(Parser)]
#[command(name = "send", version, args_override_self = true)]
struct Args {
    /// The server to connect to
    #[arg(long, value_name = "HOST:PORT", value_parser = NonEmptyStringValueParser::new())]
    server: String,
    /// The sender (MAIL FROM); <> for the null reverse path
    #[arg(long, value_name = "ADDR", value_parser = NonEmptyStringValueParser::new())]
    from: String,
    /// A recipient (RCPT TO; repeatable)
    #[arg(long, value_name = "ADDR", required = true)]
    to: Vec<String>,
    /// When to upgrade with STARTTLS (RFC 3207) [default: required with --user, else
    /// opportunistic]
    #[arg(long, value_name = "required|opportunistic|never", value_parser = starttls)]
    starttls: Option<StartTlsPolicy>,
    /// Authenticate with AUTH PLAIN/LOGIN, under TLS unless --starttls never
    #[arg(long, value_name = "NAME:PASSWORD", value_parser = cli::name_password)]
    user: Option<(String, String)>,
    /// Accept any server certificate (tests only)
    #[arg(long)]
    insecure: bool,
    /// Speak LMTP (RFC 2033): LHLO, one reply per recipient after the message
    #[arg(long)]
    lmtp: bool,
    /// Send the body with BDAT when CHUNKING is offered (RFC 3030)
    #[arg(long)]
    bdat: bool,
    /// The EHLO argument [default: the machine's fully qualified host name, else the
    /// address literal of the connection's local end]
    #[arg(long = "hostname", visible_alias = "helo", value_name = "NAME")]
    helo: Option<String>,
    /// Print the dialogue on standard error (credentials and message data hidden)
    #[arg(long)]
    verbose: bool,
    /// The message; standard input when absent
    #[arg(value_name = "FILE")]
    file: Option<String>,
}

fn starttls(v: &str) -> Result<StartTlsPolicy, &'static str> {
    match v {
        "required" => Ok(StartTlsPolicy::Required),
        "opportunistic" => Ok(StartTlsPolicy::Opportunistic),
        "never" => Ok(StartTlsPolicy::Never),
        _ => Err("required, opportunistic or never"),
    }
}

/// Prints the dialogue as `C:`/`S:` lines, hiding credentials and message bodies.
#[derive(Default)]
struct Trace {
    in_auth: bool,
    in_body: bool,
}

impl Trace {
    fn client(&mut self, bytes: &[u8]) {
        if self.in_body {
            eprintln!("C: [{} octets of message data]", bytes.len());
            return;
        }
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let line =
                String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned();
            if line.to_ascii_uppercase().starts_with("AUTH ") {
                let mech = line.split(' ').nth(1).unwrap_or("");
                eprintln!("C: AUTH {mech} [credentials hidden]");
                self.in_auth = true;
            } else if self.in_auth {
                eprintln!("C: [credentials hidden]");
            } else {
                eprintln!("C: {line}");
            }
        }
    }

    fn server(&mut self, bytes: &[u8]) {
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let line =
                String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned();
            eprintln!("S: {line}");
            let last = line.as_bytes().get(3) != Some(&b'-');
            if last {
                self.in_auth = self.in_auth && line.starts_with("334");
                self.in_body = line.starts_with("354");
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Usage errors exit 2 here, `--help` and `--version` 0.
    let matches = cli::hyphen_values(Args::command()).get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("send: {e}");
            ExitCode::from(if e.usage { 2 } else { 1 })
        }
    }
}

struct Failure {
    msg: String,
    usage: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

fn usage(msg: impl std::fmt::Display) -> Failure {
    Failure {
        msg: msg.to_string(),
        usage: true,
    }
}

fn io(msg: impl std::fmt::Display) -> Failure {
    Failure {
        msg: msg.to_string(),
        usage: false,
    }
}

async fn run(args: Args) -> Result<bool, Failure> {
    let envelope = client::envelope(&args.from, &args.to).map_err(usage)?;
    let mut body = Vec::new();
    match &args.file {
        Some(f) => body = std::fs::read(f).map_err(|e| usage(format!("{f}: {e}")))?,
        None => {
            std::io::stdin().read_to_end(&mut body).map_err(io)?;
        }
    }
    let host_name = args
        .server
        .rsplit_once(':')
        .map_or(args.server.as_str(), |(h, _)| h);
    let host_name = host_name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    ServerName::try_from(host_name.clone()).map_err(usage)?;

    let socket = tokio::net::TcpStream::connect(&args.server)
        .await
        .map_err(|e| io(format!("{}: {e}", args.server)))?;
    let helo = match &args.helo {
        Some(h) => h.clone(),
        None => {
            let local = socket.local_addr().map_err(io)?;
            hostname::default_hostname(local.ip())
        }
    };
    let mut config = ClientConfig::new(hostname::to_host(&helo).map_err(usage)?);
    // RFC 6531 3.7.1: a U-label never goes in EHLO; say so before any command.
    config.validate().map_err(usage)?;
    config.lmtp = args.lmtp;
    config.use_chunking = args.bdat;
    // Credentials only under TLS by default; `--starttls never` is the explicit request
    // to authenticate in clear.
    config.starttls = args.starttls.unwrap_or(if args.user.is_some() {
        StartTlsPolicy::Required
    } else {
        StartTlsPolicy::Opportunistic
    });
    if let Some((name, password)) = &args.user {
        let mut auth = AuthConfig::password(name.clone(), password.clone());
        auth.allow_plaintext_without_tls = config.starttls == StartTlsPolicy::Never;
        config.auth = Some(auth);
    }
    // Without --insecure the chain is checked against the webpki roots and the name, so
    // the session may carry REQUIRETLS (RFC 8689 4.2.1).
    let mut options = Options::new(config).verify(match args.insecure {
        true => Verify::Insecure,
        false => Verify::WebPki,
    });
    options.server_name = Some(host_name);
    if args.verbose {
        let mut trace = Trace::default();
        options = options.wire(move |side, bytes| match side {
            Wire::Sent => trace.client(bytes),
            _ => trace.server(bytes),
        });
    }
    let mut conn = match Connection::start(socket, options).await {
        Ok(conn) => conn,
        Err(Error::Session(e)) => {
            eprintln!("send: {e}");
            println!("message: Aborted");
            return Ok(false);
        }
        Err(Error::Closed(_)) => {
            println!("message: Aborted");
            return Ok(false);
        }
        Err(e) => return Err(io(e)),
    };
    let outcome = conn.send(envelope, Bytes::from(body)).await.map_err(io)?;
    let mut all_ok = outcome.status == MessageStatus::Accepted;
    for r in &outcome.recipients {
        all_ok &= r.reply.code().is_positive();
        println!("{}: {}", r.recipient, r.reply);
    }
    for r in &outcome.deliveries {
        all_ok &= r.reply.code().is_positive();
        println!("{}: delivery: {}", r.recipient, r.reply);
    }
    match &outcome.reply {
        Some(r) => println!("message: {:?}: {r}", outcome.status),
        None => println!("message: {:?}", outcome.status),
    }
    if let Some(e) = &outcome.error {
        all_ok = false;
        eprintln!("send: {e}");
    }
    conn.quit().await;
    Ok(all_ok)
}
