//! A single-threaded, non-blocking SMTP sink on mio: many connections, one thread, no
//! async runtime. It shows the core's run loop with a readiness-based transport:
//!
//! * reads are fed as they come, but only while `Server::wants_input` says so;
//! * output is taken one `poll_transmit` buffer at a time and written fully (a partial
//!   write is kept and finished on the next writable event) before the next is taken,
//!   so `wants_input` can throttle a client that does not read its replies;
//! * the poll timeout is the earliest machine deadline, and `handle_timeout` is called
//!   for every session whose deadline has passed.
//!
//! ```text
//! cargo run --example mio_server -- [--listen 127.0.0.1:2525] [--dir ./mio-mail]
//! ```
//!
//! Each accepted message is written to its own file in `--dir` and synced before the
//! `250` (no trace fields: see `examples/server.rs` for a full delivery agent).

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use smtp_sansio::bytes::Bytes;
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::types::Reply;

const LISTENER: Token = Token(0);

struct Conn {
    sock: TcpStream,
    server: Server,
    /// The `poll_transmit` buffer being written, and how much of it is out.
    out: Option<(Bytes, usize)>,
    body: Vec<u8>,
    /// Reading stopped while input may still wait in the socket: mio's events are
    /// edge-triggered, so read again once the machine wants input.
    throttled: bool,
}

fn main() -> io::Result<()> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 2525).into();
    let mut dir = PathBuf::from("mio-mail");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or_else(|| usage(&a))?;
        match a.as_str() {
            "--listen" => listen = v.parse().map_err(|_| usage(&a))?,
            "--dir" => dir = PathBuf::from(v),
            _ => return Err(usage(&a)),
        }
    }
    std::fs::create_dir_all(&dir)?;
    let config = std::sync::Arc::new(ServerConfig::new("localhost"));
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(listen)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!(
        "listening on {}, storing into {}",
        listener.local_addr()?,
        dir.display()
    );
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut next = 1;
    let mut events = Events::with_capacity(256);
    let mut stored = 0u64;
    loop {
        let now = Instant::now();
        let due = conns.values().filter_map(|c| c.server.poll_timeout()).min();
        poll.poll(&mut events, due.map(|d| d.saturating_duration_since(now)))?;
        for ev in events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut sock, _)) = listener.accept() {
                    let token = Token(next);
                    next += 1;
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    poll.registry().register(&mut sock, token, interest)?;
                    let server =
                        Server::new(config.clone(), Instant::now()).map_err(io::Error::other)?;
                    let (out, body, throttled) = (None, Vec::new(), false);
                    let conn = Conn {
                        sock,
                        server,
                        out,
                        body,
                        throttled,
                    };
                    conns.insert(token, conn);
                }
            } else if let Some(c) = conns.get_mut(&ev.token()) {
                c.read();
            }
        }
        // Every session: deadlines, events, output; closed ones are dropped.
        let now = Instant::now();
        conns.retain(|_, c| {
            if c.server.poll_timeout().is_some_and(|d| d <= now) {
                c.server.handle_timeout(now);
            }
            loop {
                if c.answer(&dir, &mut stored).is_err() || c.write().is_err() {
                    return false;
                }
                // Input left in the socket while throttled brings no new event: read it
                // now, until the machine or the socket says stop.
                if !(c.throttled && c.server.wants_input()) {
                    break;
                }
                c.read();
            }
            !(c.server.is_closed() && c.out.is_none())
        });
    }
}

impl Conn {
    /// Reads while the machine wants input and the socket has some.
    fn read(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        self.throttled = false;
        loop {
            if !self.server.wants_input() {
                self.throttled = true;
                return;
            }
            match self.sock.read(&mut buf) {
                Ok(0) => return self.server.handle_eof(Instant::now()),
                Ok(n) => self.server.handle_input(Instant::now(), &buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.server.handle_eof(Instant::now()),
            }
        }
    }

    /// Answers every event; a message is on disk before its `250`.
    fn answer(&mut self, dir: &std::path::Path, stored: &mut u64) -> io::Result<()> {
        while let Some(event) = self.server.poll_event() {
            let now = Instant::now();
            let _ = match event {
                Event::Hello(r) => self.server.accept(now, r.ticket),
                Event::Mail(r) => self.server.accept(now, r.ticket),
                Event::Rcpt(r) => self.server.accept(now, r.ticket),
                Event::Vrfy(r) => self.server.accept(now, r.ticket),
                Event::MessageChunk(b) => {
                    self.body.extend_from_slice(&b);
                    Ok(())
                }
                Event::MessageAborted(_) => {
                    self.body.clear();
                    Ok(())
                }
                Event::MessageEnd(end) => {
                    *stored += 1;
                    let path = dir.join(format!("{}.{stored}.eml", std::process::id()));
                    let saved = std::fs::File::create(&path)
                        .and_then(|mut f| f.write_all(&self.body).and_then(|()| f.sync_all()));
                    self.body.clear();
                    match saved {
                        Ok(()) => self.server.accept(now, end.ticket),
                        Err(_) => self.server.respond(now, end.ticket, Reply::local_error()),
                    }
                }
                Event::Auth(r) => self.server.respond(now, r.ticket, Reply::auth_failed()),
                Event::SaslStep(r) => self.server.respond(now, r.ticket, Reply::auth_failed()),
                _ => Ok(()),
            };
        }
        Ok(())
    }

    /// Writes the current buffer fully, then the next; stops when the socket is full.
    fn write(&mut self) -> io::Result<()> {
        loop {
            let (buf, mut at) = match self.out.take() {
                Some(pending) => pending,
                None => match self.server.poll_transmit() {
                    Some(b) => (b, 0),
                    None => return Ok(()),
                },
            };
            while at < buf.len() {
                match self.sock.write(&buf[at..]) {
                    Ok(n) => at += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        self.out = Some((buf, at));
                        return Ok(());
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

fn usage(arg: &str) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidInput,
        format!("bad argument {arg}; usage: mio_server [--listen ADDR] [--dir DIR]"),
    )
}
