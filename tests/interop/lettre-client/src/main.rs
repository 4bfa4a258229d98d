//! Sends the message read from stdin (raw RFC 5322 bytes) with lettre over STARTTLS and
//! AUTH PLAIN to the server given on the command line, accepting any certificate.
//!
//! Usage: lettre-client HOST PORT USER PASSWORD FROM TO [TO...] < message

use std::io::Read;
use std::process::ExitCode;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, SmtpTransport, Transport};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        eprintln!("usage: lettre-client HOST PORT USER PASSWORD FROM TO [TO...] < message");
        return ExitCode::from(2);
    }
    let port: u16 = match args[1].parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("bad port: {e}");
            return ExitCode::from(2);
        }
    };
    let parse = |s: &String| s.parse::<Address>().map_err(|e| format!("{s}: {e}"));
    let from = match parse(&args[4]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let to: Result<Vec<Address>, String> = args[5..].iter().map(parse).collect();
    let to = match to {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut body = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut body) {
        eprintln!("reading stdin: {e}");
        return ExitCode::FAILURE;
    }
    let tls = match TlsParameters::builder(args[0].clone()).dangerous_accept_invalid_certs(true).build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tls: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mailer = SmtpTransport::builder_dangerous(args[0].as_str())
        .port(port)
        .tls(Tls::Required(tls))
        .credentials(Credentials::new(args[2].clone(), args[3].clone()))
        .authentication(vec![Mechanism::Plain])
        .build();
    let envelope = match Envelope::new(Some(from), to) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("envelope: {e}");
            return ExitCode::from(2);
        }
    };
    match mailer.send_raw(&envelope, &body) {
        Ok(r) => {
            println!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" "));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("send failed: {e}");
            ExitCode::FAILURE
        }
    }
}
