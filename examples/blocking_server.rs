//! A blocking SMTP submission server on `std::net`, one thread per connection, storing
//! every accepted message in a Maildir. It is the template for embedding the server
//! machine in a synchronous program:
//!
//! ```text
//! cargo run --release --example blocking_server -- --listen 127.0.0.1:2525 --maildir ./maildir
//!     [--max-size BYTES] [--lmtp] [--max-recipients N] [--discard]
//! ```

#[path = "common/maildir.rs"]
mod maildir;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Instant;

use maildir::{Delivery, Maildir};
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::types::Reply;

struct Options {
    listen: SocketAddr,
    maildir: String,
    config: ServerConfig,
    discard: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        listen: "127.0.0.1:2525".parse().map_err(|e| format!("{e}"))?,
        maildir: "./maildir".into(),
        config: ServerConfig::default(),
        discard: false,
    };
    o.config.hostname = "smtp-sansio.localhost".into();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--listen" => {
                o.listen = val("--listen")?
                    .parse()
                    .map_err(|e| format!("--listen: {e}"))?
            }
            "--maildir" => o.maildir = val("--maildir")?,
            "--max-size" => {
                o.config.limits.message_size = Some(
                    val("--max-size")?
                        .parse()
                        .map_err(|e| format!("--max-size: {e}"))?,
                )
            }
            "--max-recipients" => {
                o.config.limits.recipients = val("--max-recipients")?
                    .parse()
                    .map_err(|e| format!("--max-recipients: {e}"))?
            }
            "--lmtp" => o.config.lmtp = true,
            "--discard" => o.discard = true,
            "-h" | "--help" => {
                return Err(
                    "usage: blocking_server [--listen ADDR] [--maildir DIR] [--max-size BYTES] \
                            [--max-recipients N] [--lmtp] [--discard]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let maildir = match Maildir::open(&opts.maildir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("cannot open maildir {}: {e}", opts.maildir);
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(opts.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", opts.listen);
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().map_or(opts.listen, |a| a);
    eprintln!("listening on {local}, storing into {}", opts.maildir);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (config, maildir, discard) = (opts.config.clone(), maildir.clone(), opts.discard);
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into());
            let started = Instant::now();
            match serve(stream, config, &maildir, discard, &peer) {
                Ok(n) => eprintln!(
                    "{peer}: closed after {:.1?}, {n} message(s)",
                    started.elapsed()
                ),
                Err(e) => eprintln!("{peer}: connection error: {e}"),
            }
        });
    }
    ExitCode::SUCCESS
}

/// The run loop: feed reads to the machine, answer its events, write what it transmits,
/// honour its deadline. Returns the number of messages stored.
fn serve(
    mut stream: TcpStream,
    config: ServerConfig,
    maildir: &Maildir,
    discard: bool,
    peer: &str,
) -> io::Result<u64> {
    let _ = stream.set_nodelay(true);
    let mut server = Server::new(config, Instant::now());
    let mut session = Session {
        maildir,
        discard,
        peer,
        delivery: None,
        stored: 0,
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        session.drain(&mut server, &mut stream)?;
        if server.is_closed() {
            return Ok(session.stored);
        }
        let now = Instant::now();
        match server.poll_timeout() {
            Some(deadline) if deadline <= now => {
                server.handle_timeout(now);
                continue;
            }
            Some(deadline) => stream.set_read_timeout(Some(deadline - now))?,
            None => stream.set_read_timeout(None)?,
        }
        match stream.read(&mut buf) {
            Ok(0) => server.handle_eof(Instant::now()),
            Ok(n) => server.handle_input(Instant::now(), &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                server.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                server.handle_eof(Instant::now());
                session.drain(&mut server, &mut stream).ok();
                return Err(e);
            }
        }
    }
}

struct Session<'a> {
    maildir: &'a Maildir,
    discard: bool,
    peer: &'a str,
    delivery: Option<Delivery>,
    stored: u64,
}

impl Session<'_> {
    /// Answers every event, then writes every pending reply.
    fn drain(&mut self, server: &mut Server, stream: &mut TcpStream) -> io::Result<()> {
        while let Some(ev) = server.poll_event() {
            self.on_event(server, ev);
        }
        while let Some(out) = server.poll_transmit() {
            stream.write_all(&out)?;
        }
        Ok(())
    }

    fn on_event(&mut self, server: &mut Server, ev: Event) {
        let answered = match ev {
            Event::Hello(h) => server.accept(h.ticket).map_err(|e| e.kind),
            Event::Mail(m) => server.accept(m.ticket).map_err(|e| e.kind),
            Event::Rcpt(r) => server.accept(r.ticket).map_err(|e| e.kind),
            Event::Vrfy(v) => server.accept(v.ticket).map_err(|e| e.kind),
            Event::MessageStart => {
                self.delivery = if self.discard {
                    None
                } else {
                    self.maildir.create().ok()
                };
                Ok(())
            }
            Event::MessageChunk(chunk) => {
                if let Some(d) = self.delivery.as_mut() {
                    if d.write(&chunk).is_err() {
                        self.delivery = None;
                    }
                }
                Ok(())
            }
            Event::MessageEnd(end) => {
                let stored = if self.discard {
                    Ok(None)
                } else {
                    self.commit()
                };
                match stored {
                    Ok(path) => {
                        self.stored += 1;
                        let name = path
                            .as_ref()
                            .and_then(|p| p.file_name())
                            .map(|n| n.to_string_lossy().into_owned());
                        eprintln!(
                            "{}: message of {} octets for {} recipient(s) stored as {}",
                            self.peer,
                            end.size,
                            end.recipients.len(),
                            name.as_deref().unwrap_or("(discarded)")
                        );
                        server.accept(end.ticket).map_err(|e| e.kind)
                    }
                    Err(e) => {
                        eprintln!(
                            "{}: message of {} octets NOT stored: {e}",
                            self.peer, end.size
                        );
                        server
                            .respond(
                                end.ticket,
                                reply("451 4.3.0 Cannot store message, try again later"),
                            )
                            .map_err(|e| e.kind)
                    }
                }
            }
            Event::MessageAborted(reason) => {
                self.delivery = None;
                eprintln!("{}: message dropped: {reason:?}", self.peer);
                Ok(())
            }
            Event::Auth(a) => server
                .respond(
                    a.ticket,
                    reply("535 5.7.8 Authentication credentials invalid"),
                )
                .map_err(|e| e.kind),
            Event::SaslStep(s) => server
                .respond(
                    s.ticket,
                    reply("535 5.7.8 Authentication credentials invalid"),
                )
                .map_err(|e| e.kind),
            Event::Violation(v) => {
                eprintln!("{}: peer violation: {v:?}", self.peer);
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(kind) = answered {
            eprintln!("{}: internal error answering an event: {kind}", self.peer);
        }
    }

    fn commit(&mut self) -> io::Result<Option<std::path::PathBuf>> {
        match self.delivery.take() {
            Some(d) => d.commit().map(Some),
            None => Err(io::Error::other("message file could not be written")),
        }
    }
}

/// A fixed reply written in wire form.
fn reply(s: &str) -> Reply {
    s.parse().expect("fixed replies are valid")
}
