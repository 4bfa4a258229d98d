use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::types::Reply;

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:2525")?;
    let (sock, _) = listener.accept()?;
    serve(sock, ServerConfig::default(), &mut io::stdout())
}

/// Serves one connection; each accepted message is written to `store`.
pub fn serve(mut sock: TcpStream, config: ServerConfig, store: &mut impl Write) -> io::Result<()> {
    // A client that stops reading our replies must not hold us for ever either.
    sock.set_write_timeout(Some(Duration::from_secs(60)))?;
    let mut server = Server::new(config, Instant::now()).map_err(io::Error::other)?;
    let refuse: Reply = "535 5.7.8 No".parse().map_err(io::Error::other)?;
    let mut body = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        while let Some(event) = server.poll_event() {
            let now = Instant::now();
            // Every ticket is answered once, at once: the answers cannot fail here.
            let _ = match event {
                Event::Hello(r) => server.accept(now, r.ticket),
                Event::Mail(r) => server.accept(now, r.ticket),
                Event::Rcpt(r) => server.accept(now, r.ticket),
                Event::Vrfy(r) => server.accept(now, r.ticket),
                Event::MessageChunk(bytes) => {
                    body.extend_from_slice(&bytes);
                    Ok(())
                }
                Event::MessageEnd(end) => {
                    store.write_all(&body)?; // store first, then accept
                    store.flush()?;
                    body.clear();
                    server.accept(now, end.ticket)
                }
                Event::MessageAborted(_) => {
                    body.clear();
                    Ok(())
                }
                Event::Auth(r) => server.respond(now, r.ticket, refuse.clone()),
                Event::SaslStep(r) => server.respond(now, r.ticket, refuse.clone()),
                _ => Ok(()),
            };
        }
        while let Some(out) = server.poll_transmit() {
            sock.write_all(&out)?;
        }
        if server.is_closed() {
            return Ok(());
        }
        // Wait for input no longer than the machine's deadline; one already past is
        // handled at once (a zero read timeout would mean "wait for ever").
        let now = Instant::now();
        match server.poll_timeout() {
            Some(due) if due <= now => {
                server.handle_timeout(now);
                continue;
            }
            Some(due) => sock.set_read_timeout(Some(due - now))?,
            None => sock.set_read_timeout(None)?,
        }
        match sock.read(&mut buf) {
            Ok(0) => server.handle_eof(Instant::now()),
            Ok(n) => server.handle_input(Instant::now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                server.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Anything else ends the connection: tell the machine, which drops a
            // message in flight, and give up.
            Err(e) => {
                server.handle_eof(Instant::now());
                return Err(e);
            }
        }
    }
}
