//! The run loop of one connection: the machine's contract (see the core's crate docs)
//! kept over a tokio stream, with the handler's decisions in between.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use smtp_sansio::server::{
    Answer, AuthRequest, Event, HelloRequest, MailRequest, MessageEnd, MessageStart, RcptRequest,
    Server, ServerConfig, Ticket,
};
use smtp_sansio::types::Reply;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Sleep;

use crate::body::{BODY_CHANNEL, BodySender, body_channel};
use crate::handler::{
    BodyError, Connection, Decision, Handler, Hello, Login, Mail, Message, Rcpt, Session,
};
use crate::log::{SessionLog, Transcript};
use crate::server::Shared;
use crate::tls::TlsInfo;

/// Bytes asked of the socket per read: one buffer per worker thread, so it can be as
/// large as a loopback or LAN socket usually holds, and a large body takes few reads.
pub(crate) const READ_BUFFER: usize = 64 * 1024;
/// The most handed to the machine at once (see `poll_read_with`).
const FEED: usize = 16 * 1024;

/// How a run of the loop ended.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    Closed,
    /// The `220` to STARTTLS is written; upgrade the stream now.
    StartTls,
}

/// One connection's state besides the machine.
struct Ctx<S> {
    session: S,
    conn: Connection,
    /// The session's log lines, and its user once authenticated.
    log: SessionLog,
    tls: Option<TlsInfo>,
    /// A MAIL was accepted and its transaction not yet reset.
    in_txn: bool,
    transcript: Option<Transcript>,
    stop: watch::Receiver<bool>,
    stopping: bool,
}

/// Serves one accepted connection to its end; errors are logged.
pub(crate) async fn serve<H: Handler>(shared: &Shared<H>, tcp: TcpStream, conn: Connection) {
    let _ = tcp.set_nodelay(true);
    let tag = conn.peer.to_string();
    let mut ctx = Ctx {
        session: shared.handler.session(&conn),
        transcript: shared
            .transcript
            .then(|| Transcript::new(&tag, shared.log.clone())),
        log: SessionLog::new(&tag, shared.log.clone()),
        conn,
        tls: None,
        in_txn: false,
        stop: shared.control.stop.subscribe(),
        stopping: false,
    };
    if let Err(e) = connection(shared, tcp, &mut ctx).await {
        ctx.log.line(format_args!("connection error: {e}"));
    }
}

async fn connection<H: Handler>(
    shared: &Shared<H>,
    tcp: TcpStream,
    ctx: &mut Ctx<H::Session>,
) -> io::Result<()> {
    let config = shared.handler.config(&shared.config);
    // The TLS paths are boxed: a plain session's task then has room only for the plain
    // loop, which keeps an idle connection small.
    if ctx.conn.implicit_tls {
        return Box::pin(implicit_tls(shared, tcp, ctx, config)).await;
    }
    let mut tcp = tcp;
    let mut server = Server::new(config, Instant::now()).map_err(io::Error::other)?;
    if run(&mut tcp, &mut server, shared, ctx).await? == Turn::Closed {
        return close(&mut tcp, shared.write_timeout).await;
    }
    Box::pin(starttls(shared, tcp, server, ctx)).await
}

/// RFC 8314 3.3: TLS first; the greeting is the first thing sent inside it.
async fn implicit_tls<H: Handler>(
    shared: &Shared<H>,
    tcp: TcpStream,
    ctx: &mut Ctx<H::Session>,
    config: Arc<ServerConfig>,
) -> io::Result<()> {
    let mut tls = handshake(shared, tcp, ctx).await?;
    let mut server = Server::new_tls(config, Instant::now()).map_err(io::Error::other)?;
    run(&mut tls, &mut server, shared, ctx).await?;
    close(&mut tls, shared.write_timeout).await
}

/// STARTTLS (RFC 3207). Every byte read so far was fed to the machine, which drops what
/// followed the command (CVE-2011-0411); nothing is buffered here, so the handshake reads
/// the socket afresh.
async fn starttls<H: Handler>(
    shared: &Shared<H>,
    tcp: TcpStream,
    mut server: Server,
    ctx: &mut Ctx<H::Session>,
) -> io::Result<()> {
    let mut tls = handshake(shared, tcp, ctx).await?;
    server
        .tls_established(Instant::now())
        .map_err(io::Error::other)?;
    run(&mut tls, &mut server, shared, ctx).await?;
    close(&mut tls, shared.write_timeout).await
}

type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

async fn handshake<H: Handler>(
    shared: &Shared<H>,
    tcp: TcpStream,
    ctx: &mut Ctx<H::Session>,
) -> io::Result<TlsStream> {
    let Some(acceptor) = &shared.tls else {
        return Err(io::Error::other("TLS requested but not configured"));
    };
    let shake = tokio::time::timeout(shared.handshake_timeout, acceptor.accept(tcp));
    let tls = tokio::select! {
        done = shake => done.map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??,
        () = stopped(&mut ctx.stop) => return Err(io::Error::other("shut down during the TLS handshake")),
    };
    if let Some(info) = TlsInfo::of(tls.get_ref().1) {
        ctx.session.tls(&info);
        ctx.tls = Some(info);
    }
    Ok(tls)
}

async fn close<S: AsyncWrite + Unpin>(stream: &mut S, limit: Duration) -> io::Result<()> {
    // For TLS this sends close_notify; for TCP it shuts down the write half.
    let _ = tokio::time::timeout(limit, stream.shutdown()).await;
    Ok(())
}

/// The machine's deadline on one timer, re-armed only when it moves earlier (a timer
/// that fires early finds nothing due: `handle_timeout` is harmless then).
struct Timer {
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Timer {
    fn new() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
        }
    }

    /// Handles a deadline already past at once (true), else arms the timer for it.
    /// The common case, a deadline that moved later while the timer is set for an
    /// earlier one, needs no clock read: the timer fires first and is re-armed then.
    fn arm(&mut self, server: &mut Server) -> bool {
        let Some(d) = server.poll_timeout() else {
            return false;
        };
        if self.armed.is_some_and(|a| a <= d) {
            return false;
        }
        let now = Instant::now();
        if d <= now {
            server.handle_timeout(now);
            return true;
        }
        self.sleep.as_mut().reset(d.into());
        self.armed = Some(d);
        false
    }

    async fn fired(&mut self) {
        (&mut self.sleep).await;
        self.armed = None;
    }
}

thread_local! {
    /// The read buffer of every session served by this thread. It is borrowed only within
    /// one poll of a read, from the socket's (or rustls') bytes to the machine's
    /// `handle_input`, with no await in between: a waiting session holds no read buffer,
    /// so thousands of idle connections cost little.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Waits for input and feeds it to the machine (and the transcript): one read of at most
/// [`READ_BUFFER`] octets. EOF and read errors end the session. Cancel-safe: the bytes
/// are fed in the same poll that reads them.
async fn read_feed<S: AsyncRead + Unpin>(
    io: &mut S,
    server: &mut Server,
    transcript: &mut Option<Transcript>,
    log: &SessionLog,
) {
    let read = std::future::poll_fn(|cx| {
        let mut feed = |bytes: &[u8]| {
            if let Some(t) = transcript.as_mut() {
                t.client(bytes);
            }
            server.handle_input(Instant::now(), bytes);
        };
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => poll_read_with(&mut *io, cx, &mut buf, &mut feed),
            // Reads never nest, so this is not reached; a buffer of its own if it were.
            Err(_) => poll_read_with(&mut *io, cx, &mut Vec::new(), &mut feed),
        })
    })
    .await;
    match read {
        Ok(0) => server.handle_eof(Instant::now()),
        Ok(_) => {}
        Err(e) => {
            log.line(format_args!("read error: {e}"));
            server.handle_eof(Instant::now());
        }
    }
}

/// One `poll_read` into `buf`, whose bytes go to `feed` at once; the octets read.
fn poll_read_with<S: AsyncRead + Unpin>(
    io: &mut S,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    feed: &mut impl FnMut(&[u8]),
) -> Poll<io::Result<usize>> {
    if buf.len() < READ_BUFFER {
        buf.resize(READ_BUFFER, 0);
    }
    let mut rb = ReadBuf::new(&mut buf[..READ_BUFFER]);
    match Pin::new(io).poll_read(cx, &mut rb) {
        Poll::Ready(Ok(())) => {
            let got = rb.filled();
            // The machine copies what it is fed into its receive buffer, which body chunks
            // are slices of: fed in pieces, no chunk (and no buffer a session keeps
            // afterwards) is larger than FEED, however much one read brought.
            for piece in got.chunks(FEED) {
                feed(piece);
            }
            Poll::Ready(Ok(got.len()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// The loop over any byte stream: answer events, write output one buffer at a time,
/// read while the machine wants input, honour its deadline and the shutdown signal.
async fn run<IO, H>(
    io: &mut IO,
    server: &mut Server,
    shared: &Shared<H>,
    ctx: &mut Ctx<H::Session>,
) -> io::Result<Turn>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
    H: Handler,
{
    let mut timer = Timer::new();
    if !ctx.stopping && *ctx.stop.borrow_and_update() {
        ctx.stopping = true;
    }
    if ctx.stopping {
        server.shutdown(); // 421 4.3.2
    }
    let mut next: Option<Event> = None;
    // One waiter on the shutdown signal for the whole loop, not one per turn.
    let mut stop = ctx.stop.clone();
    let stop_wait = stopped(&mut stop);
    tokio::pin!(stop_wait);
    loop {
        let mut starttls = false;
        while let Some(event) = next.take().or_else(|| server.poll_event()) {
            match event {
                Event::StartTls => starttls = true,
                Event::MessageStart(start) => {
                    // Boxed: a message's state is larger than the rest of the loop's,
                    // and an idle session should not carry room for it.
                    next = Box::pin(receive(io, server, shared, ctx, &mut timer, start)).await?;
                }
                // Each request in a future of its own, so that the task has room for
                // the largest of them, not for all their locals at once.
                Event::Hello(h) => on_hello(server, ctx, h).await,
                Event::Mail(m) => on_mail(server, shared, ctx, m).await,
                Event::Rcpt(r) => on_rcpt(server, ctx, r).await,
                // At most once a session, and the largest: boxed.
                Event::Auth(a) => Box::pin(on_auth(server, shared, ctx, a)).await,
                event => on_event(server, ctx, event).await,
            }
        }
        flush(io, server, &mut ctx.transcript, shared.write_timeout).await?;
        if server.is_closed() {
            return Ok(Turn::Closed);
        }
        if starttls {
            return Ok(Turn::StartTls);
        }
        if timer.arm(server) {
            continue;
        }
        let stopping = ctx.stopping;
        tokio::select! {
            () = read_feed(io, server, &mut ctx.transcript, &ctx.log), if server.wants_input() => {}
            () = timer.fired(), if timer.armed.is_some() => server.handle_timeout(Instant::now()),
            () = &mut stop_wait, if !stopping => {
                ctx.stopping = true;
                server.shutdown();
            }
        }
    }
}

/// Writes every pending reply: one `poll_transmit` buffer at a time, each fully, within
/// the write timeout (a client that does not read is dropped).
async fn flush<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    server: &mut Server,
    transcript: &mut Option<Transcript>,
    limit: Duration,
) -> io::Result<()> {
    let mut wrote = false;
    while let Some(out) = server.poll_transmit() {
        if let Some(t) = transcript.as_mut() {
            t.server(&out);
        }
        bounded(limit, io.write_all(&out)).await?;
        wrote = true;
    }
    if wrote {
        bounded(limit, io.flush()).await?;
    }
    Ok(())
}

/// A write within `limit` (a client that does not read is dropped). The timer is only
/// set up for a write that cannot complete at once: most replies fit the socket buffer.
async fn bounded<F: Future<Output = io::Result<()>>>(limit: Duration, write: F) -> io::Result<()> {
    let mut write = std::pin::pin!(write);
    if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await
    {
        return done;
    }
    tokio::time::timeout(limit, write)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client does not read"))?
}

/// Answers a ticket with the handler's decision; one that does not fit the decision
/// (a 2xx to EHLO, several replies outside LMTP...) becomes `451 4.3.0`.
fn answer(server: &mut Server, log: &SessionLog, ticket: Ticket, d: Decision) {
    let a = match d {
        Decision::Accept => Answer::Accept,
        Decision::Reply(r) => Answer::Reply(r),
        Decision::Each(rs) => Answer::Each(rs),
    };
    if let Err(e) = server.answer(Instant::now(), ticket, a) {
        let kind = e.kind;
        let (ticket, _) = e.into_inner();
        let fallback = crate::fixed_reply(crate::replies::BAD_DECISION);
        if server.respond(Instant::now(), ticket, fallback).is_ok() {
            log.line(format_args!(
                "the handler's decision does not fit ({kind}); answered 451"
            ));
        }
    }
}

/// EHLO, HELO or LHLO: a new session state, and the handler's word on the name.
async fn on_hello<S: Session>(server: &mut Server, ctx: &mut Ctx<S>, h: HelloRequest) {
    end_transaction(ctx).await;
    let hello = Hello {
        kind: h.kind,
        host: h.host,
    };
    let d = ctx.session.hello(&hello).await;
    answer(server, &ctx.log, h.ticket, d);
}

/// MAIL: a new transaction if the sender may use this address and the handler agrees.
async fn on_mail<H: Handler>(
    server: &mut Server,
    shared: &Shared<H>,
    ctx: &mut Ctx<H::Session>,
    m: MailRequest,
) {
    end_transaction(ctx).await;
    // RFC 6409 6.1: an account bound to addresses sends only as them.
    let verifier = shared.verifier.as_ref();
    if let Some(no) = verifier.and_then(|v| v.sender_refusal(ctx.log.user(), &m.from)) {
        answer(server, &ctx.log, m.ticket, Decision::Reply(no));
        return;
    }
    let mail = Mail {
        from: m.from,
        params: m.params,
        user: ctx.log.user().map(str::to_owned),
    };
    let d = ctx.session.mail(&mail).await;
    ctx.in_txn = d.is_accept();
    answer(server, &ctx.log, m.ticket, d);
}

/// RCPT: the handler's word on one recipient.
async fn on_rcpt<S: Session>(server: &mut Server, ctx: &mut Ctx<S>, r: RcptRequest) {
    let rcpt = Rcpt {
        to: r.to,
        params: r.params,
    };
    let d = ctx.session.rcpt(&rcpt).await;
    answer(server, &ctx.log, r.ticket, d);
}

/// AUTH PLAIN or LOGIN, decoded by the machine: checked with the verifier, then the
/// handler decides.
async fn on_auth<H: Handler>(
    server: &mut Server,
    shared: &Shared<H>,
    ctx: &mut Ctx<H::Session>,
    a: AuthRequest,
) {
    let verified = shared.verifier.as_ref().is_some_and(|v| v.accepts(&a));
    let login = Login {
        mechanism: a.mechanism,
        user: a.authcid,
        password: a.password,
        verified,
    };
    let d = ctx.session.auth(&login).await;
    ctx.log.login(&login.mechanism, &login.user, d.is_accept());
    answer(server, &ctx.log, a.ticket, d);
}

/// Any other event outside a message body.
async fn on_event<S: Session>(server: &mut Server, ctx: &mut Ctx<S>, event: Event) {
    match event {
        // Only PLAIN and LOGIN go through the verifier; the machine decodes both itself.
        Event::SaslStep(s) => {
            let no = Reply::unrecognized_mechanism();
            answer(server, &ctx.log, s.ticket, Decision::Reply(no));
        }
        Event::Vrfy(v) => answer(server, &ctx.log, v.ticket, Decision::Accept),
        Event::Violation(v) => ctx.log.violation(&v),
        Event::MessageAborted(reason) => {
            ctx.log.dropped(&reason);
            end_transaction(ctx).await;
        }
        Event::MessageEnd(end) => {
            // Only reachable if a body started without MessageStart: never stored.
            let no = crate::fixed_reply(crate::replies::NOT_STORED);
            answer(server, &ctx.log, end.ticket, Decision::Reply(no));
        }
        Event::Closed(reason) => {
            ctx.log.closed(&reason, server.is_tls());
            ctx.session.closed(&reason);
        }
        _ => {}
    }
}

/// Tells the handler its transaction is over, once.
async fn end_transaction<S: Session>(ctx: &mut Ctx<S>) {
    if std::mem::take(&mut ctx.in_txn) {
        ctx.session.reset().await;
    }
}

/// How the body of a message went.
enum Ending {
    /// The body is complete; its ticket waits for the handler's decision.
    End(MessageEnd),
    /// The machine dropped the message; the client gets no reply from the handler.
    Aborted,
}

/// One message, from `MessageStart` until its final reply is given (or it is aborted):
/// body chunks go to the handler through a bounded channel while its future runs; while
/// the channel is full, the socket is not read. Returns an event that belongs to the
/// caller (one the machine emitted after the message), if any.
async fn receive<IO, H>(
    io: &mut IO,
    server: &mut Server,
    shared: &Shared<H>,
    ctx: &mut Ctx<H::Session>,
    timer: &mut Timer,
    start: MessageStart,
) -> io::Result<Option<Event>>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
    H: Handler,
{
    let message = Message {
        start,
        hostname: server.config().hostname.clone(),
        peer: ctx.conn.peer,
        tls: ctx.tls.clone(),
        user: ctx.log.user().map(str::to_owned),
    };
    let (tx, body) = body_channel(BODY_CHANNEL);
    // This task polls the handler before it waits: handing it a chunk needs no wake-up.
    let own = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
    let mut tx = Some(tx);
    let mut held: Option<Bytes> = None;
    let mut decision: Option<Decision> = None;
    let mut ending: Option<Ending> = None;
    let mut leftover: Option<Event> = None;
    let mut shutdown_after = false;
    {
        let Ctx {
            session,
            transcript,
            stop,
            stopping,
            log,
            ..
        } = &mut *ctx;
        let handler = session.message(&message, body);
        tokio::pin!(handler);
        let stop_wait = stopped(stop);
        tokio::pin!(stop_wait);
        loop {
            // Events until the body is over, never more than the channel takes.
            while ending.is_none() && leftover.is_none() {
                if let Some(chunk) = held.take() {
                    held = tx.as_ref().and_then(|t| t.try_send_polled(chunk, &own));
                    if held.is_some() {
                        break;
                    }
                }
                let Some(event) = server.poll_event() else {
                    break;
                };
                match event {
                    Event::MessageChunk(chunk) => held = Some(chunk),
                    Event::MessageEnd(end) => {
                        finish(&mut tx, Ok(()), &own);
                        ending = Some(Ending::End(end));
                    }
                    Event::MessageAborted(reason) => {
                        finish(&mut tx, Err(BodyError::Aborted(reason)), &own);
                        log.dropped(&reason);
                        ending = Some(Ending::Aborted);
                    }
                    Event::Violation(v) => log.violation(&v),
                    other => {
                        finish(&mut tx, Err(BodyError::Lost), &own);
                        leftover = Some(other);
                    }
                }
            }
            let body_over = leftover.is_some() || matches!(ending, Some(Ending::Aborted));
            let answered = matches!(ending, Some(Ending::End(_))) && decision.is_some();
            if body_over || answered {
                break;
            }
            // Replies (the 354, errors) go out while the body comes in.
            flush(io, server, transcript, shared.write_timeout).await?;
            if timer.arm(server) {
                continue;
            }
            let reading = held.is_none() && ending.is_none() && server.wants_input();
            let waiting = held.is_some();
            let stop_now = *stopping;
            tokio::select! {
                // In this order: the handler takes chunks, then the wait for room sees
                // it without a wake-up (see `ready`); the socket last, so that a client
                // that never pauses cannot keep the timer and shutdown from being seen.
                biased;
                d = &mut handler, if decision.is_none() => decision = Some(d),
                () = ready(&tx), if waiting => {}
                () = timer.fired(), if timer.armed.is_some() => server.handle_timeout(Instant::now()),
                () = &mut stop_wait, if !stop_now => {
                    *stopping = true;
                    match ending {
                        // Stored and answered first, then 421.
                        Some(Ending::End(_)) => shutdown_after = true,
                        // The body is incomplete: never acknowledged.
                        _ => server.shutdown(),
                    }
                }
                () = read_feed(io, server, transcript, log), if reading => {}
            }
        }
    }
    match ending {
        Some(Ending::End(end)) => {
            let d = decision.unwrap_or(Decision::Accept);
            let (size, recipients) = (end.size, end.recipients.len());
            ctx.log
                .message(size, recipients, d.is_accept(), Verdict(&d));
            answer(server, &ctx.log, end.ticket, d);
            if shutdown_after {
                server.shutdown();
            }
        }
        Some(Ending::Aborted) | None => {}
    }
    end_transaction(ctx).await;
    Ok(leftover)
}

/// What became of a message, for its log line.
struct Verdict<'a>(&'a Decision);

impl std::fmt::Display for Verdict<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Decision::Accept => f.write_str("accepted"),
            Decision::Reply(r) => write!(f, "answered {}", r.code()),
            Decision::Each(rs) => write!(f, "answered {} replies", rs.len()),
        }
    }
}

/// Completes once shutdown has begun.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, so no caller's future holds it.
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn finish(tx: &mut Option<BodySender>, how: Result<(), BodyError>, own: &Waker) {
    if let Some(t) = tx.take() {
        t.finish_polled(how, own);
    }
}

/// Room in the body for the held chunk. Only for the receive loop's `select!`, which
/// polls the handler (the reader) just before this.
async fn ready(tx: &Option<BodySender>) {
    match tx {
        Some(t) => t.ready_polled().await,
        None => std::future::pending().await,
    }
}
