//! Sends one message: a command line over the `smtp-sansio-tokio` crate's client
//! (`client::send`), which makes every protocol decision; `--help` says what each option
//! does and what the exit status means.
//!
//! ```text
//! cargo run --release --example send -- --server HOST:PORT --from ADDR --to ADDR [--lmtp] [--bdat] [FILE]
//! ```

#[path = "common/cli.rs"]
mod cli;

use std::io::Read;
use std::process::ExitCode;

use bytes::Bytes;
use clap::builder::NonEmptyStringValueParser;
use clap::{CommandFactory, FromArgMatches, Parser};
use smtp_sansio::client::{AuthConfig, ClientConfig, StartTlsPolicy};
use smtp_sansio::types::{AddressLiteral, Host};
use smtp_sansio_tokio::client::{self, Delivery, Options, Verify, Wire};
use smtp_sansio_tokio::{Logger, Transcript, hostname};

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
    #[arg(long, value_name = "required|opportunistic|never", value_parser = cli::starttls)]
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Usage errors exit 2 here, `--help` and `--version` 0.
    let matches = cli::hyphen_values(Args::command()).get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err((code, e)) => {
            eprintln!("send: {e}");
            ExitCode::from(code)
        }
    }
}

/// Why nothing was sent, with the exit status: 2 for a usage error, else 1.
type Failure = (u8, String);

fn usage(e: impl std::fmt::Display) -> Failure {
    (2, e.to_string())
}

fn failed(e: impl std::fmt::Display) -> Failure {
    (1, e.to_string())
}

async fn run(args: Args) -> Result<bool, Failure> {
    let envelope = client::envelope(&args.from, &args.to).map_err(usage)?;
    let mut body = Vec::new();
    match &args.file {
        Some(f) => body = std::fs::read(f).map_err(|e| usage(format!("{f}: {e}")))?,
        None => {
            std::io::stdin().read_to_end(&mut body).map_err(failed)?;
        }
    }
    // The certificate is checked against the host part of --server.
    if client::server_name(&args.server).is_none() {
        return Err(usage(format!("{}: no TLS server name in it", args.server)));
    }
    let hello = args.helo.as_deref().map(hostname::to_host).transpose();
    let hello = hello.map_err(usage)?;
    // Without --hostname the crate picks the name once the local address is known.
    let placeholder = Host::Literal(AddressLiteral::Ipv4([127, 0, 0, 1].into()));
    let mut config = ClientConfig::new(hello.clone().unwrap_or(placeholder));
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
    let verify = match args.insecure {
        true => Verify::Insecure,
        false => Verify::WebPki,
    };
    let mut options = Options::new(config)
        .default_hello(hello.is_none())
        .verify(verify);
    if args.verbose {
        // The runtime crate's transcript: credentials and message data hidden.
        let mut trace = Transcript::new("", Logger::stderr());
        options = options.wire(move |side, bytes| match side {
            Wire::Sent => trace.client(bytes),
            _ => trace.server(bytes),
        });
    }
    let outcome = client::send(&args.server, options, envelope, Bytes::from(body)).await;
    let outcome = outcome.map_err(failed)?;
    print!("{outcome}");
    if let Some(e) = &outcome.error {
        eprintln!("send: {e}");
    }
    Ok(outcome.delivery() == Delivery::Complete && outcome.error.is_none())
}
