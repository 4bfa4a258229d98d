//! An SMTP submission server on tokio, with STARTTLS, implicit TLS and AUTH, storing
//! every accepted message in a Maildir: a command line over the `smtp-sansio-tokio`
//! crate (its `ServerBuilder`, `Maildir` and `Discard` handlers, `Credentials`).
//!
//! ```text
//! cargo run --release --example server -- [--listen 127.0.0.1:2525] [--maildir ./maildir]
//! cargo run --release --example server -- --help   # every option: TLS, AUTH, --lmtp, relay...
//! ```
//!
//! Every stored message starts with our `Return-Path:`, `Delivered-To:` and `Received:`
//! fields (RFC 5321 4.4), then the bytes received.
//!
//! Without `--user` it is an open local sink; with users, a submission port (RFC 6409:
//! AUTH, under TLS, before MAIL). Ctrl-C stops accepting, ends every session with `421
//! 4.3.2` at its next turn (a message is either stored and acknowledged, or never
//! acknowledged) and waits up to 10 seconds for them.
//!
//! With `--relay HOST:PORT` it is a submission relay (the crate's `Relay` handler): each
//! transaction is mirrored upstream as it happens, the client gets the upstream's
//! verdicts, and messages are stored only with an explicit `--maildir`, as copies of
//! what the upstream accepted.

#[path = "common/options.rs"]
mod options;

use std::process::ExitCode;
use std::time::Duration;

use smtp_sansio_tokio::{Discard, Handler, ServerBuilder, TlsIdentity, threads_beside_clients};

use options::{Options, Store};

/// How long Ctrl-C waits for sessions to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    options::exit(run(Options::from_args("server")).await)
}

async fn run(opts: Options) -> Result<(), String> {
    let tls = opts.tls()?;
    match opts.store()? {
        (Store::Relay(relay), store) => {
            // First, so that the first client is offered what the upstream keeps.
            relay.learn_at_start().await;
            serve(opts, tls, *relay, store).await
        }
        (Store::Discard, store) => serve(opts, tls, Discard, store).await,
        (Store::Maildir(maildir), store) => serve(opts, tls, maildir, store).await,
    }
}

async fn serve<H: Handler>(
    mut opts: Options,
    tls: TlsIdentity,
    handler: H,
    store: String,
) -> Result<(), String> {
    let users = std::mem::take(&mut opts.users);
    let listeners: Vec<_> = opts.listeners().collect();
    let mut builder = ServerBuilder::new(opts.config, handler)
        .tls(tls)
        .max_sessions(opts.max_sessions)
        .threads(opts.threads.unwrap_or_else(threads_beside_clients))
        .transcript(opts.verbose);
    if !users.is_empty() {
        builder = builder.credentials(users);
    }
    for (addr, implicit) in listeners {
        builder = builder.listener(addr, implicit);
    }
    let server = builder.bind().await.map_err(|e| e.to_string())?;
    for (local, implicit) in server.listeners() {
        let mode = if implicit { " (implicit TLS)" } else { "" };
        eprintln!("listening on {local}{mode}, {store}");
    }
    let stop = server.shutdown_handle();
    let running = tokio::spawn(server.run());
    tokio::select! {
        // Before shutdown, `run` ends only when it could not serve.
        Ok(Err(e)) = running => return Err(format!("cannot serve: {e}")),
        signal = tokio::signal::ctrl_c() => if let Err(e) = signal {
            eprintln!("cannot wait for Ctrl-C ({e}); shutting down");
        },
    }
    eprintln!("shutting down: {} session(s) open", stop.open_sessions());
    match stop.shutdown(SHUTDOWN_GRACE).await {
        true => eprintln!("all sessions finished"),
        false => eprintln!(
            "{} session(s) still open after {SHUTDOWN_GRACE:?}; exiting",
            stop.open_sessions()
        ),
    }
    Ok(())
}
