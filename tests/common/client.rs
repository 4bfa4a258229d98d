//! The client harness: scripted server replies in, exact client bytes and events out, no
//! sockets, on a virtual clock. Scripts use the dialect of `script.rs`: consecutive `S:`
//! lines are fed as one read, and the `C:`/`C~` lines after them must be exactly what the
//! client writes in response.

use std::time::Instant;

use bytes::Bytes;
use smtp_sansio::client::{
    AuthConfig, Client, ClientConfig, ClientError, CloseReason, Envelope, Event, MessageId,
    MessageStatus, StartTlsPolicy,
};
use smtp_sansio::types::{Domain, ForwardPath, Host, MailParams, Mailbox, RcptParams, ReversePath};

use super::script::{Line, esc, lines};

/// A client that says `EHLO client.example` and never asks for STARTTLS.
pub fn config() -> ClientConfig {
    config_named("client.example")
}

/// As [`config`], saying `EHLO relay.example` (the streamed-transaction tests).
pub fn relay_config() -> ClientConfig {
    config_named("relay.example")
}

fn config_named(name: &'static str) -> ClientConfig {
    let mut c = ClientConfig::new(Host::Domain(Domain::new(name).unwrap()));
    c.starttls = StartTlsPolicy::Never;
    c
}

/// As [`config`], with this STARTTLS policy.
pub fn tls_config(policy: StartTlsPolicy) -> ClientConfig {
    let mut c = config();
    c.starttls = policy;
    c
}

/// Lets AUTH go in the clear (the transcripts have no TLS).
pub fn plaintext_ok(mut a: AuthConfig) -> AuthConfig {
    a.allow_plaintext_without_tls = true;
    a
}

/// A reverse path; `<>` is the null path.
pub fn rp(s: &str) -> ReversePath<'static> {
    if s == "<>" {
        return ReversePath::Null;
    }
    ReversePath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

pub fn fp(s: &str) -> ForwardPath<'static> {
    ForwardPath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

pub fn envelope(from: &str, to: &[&str]) -> Envelope {
    to.iter().fold(Envelope::new(rp(from)), |e, t| e.to(fp(t)))
}

/// Mail parameters set by `f` on the defaults.
pub fn params(f: impl FnOnce(&mut MailParams<'static>)) -> MailParams<'static> {
    let mut p = MailParams::default();
    f(&mut p);
    p
}

/// The outcome of the first message in `events`, with its reply code.
pub fn result_of(events: &[Event]) -> Option<(MessageStatus, Option<u16>)> {
    events.iter().find_map(|e| match e {
        Event::MessageResult { status, reply, .. } => {
            Some((status.clone(), reply.as_ref().map(|r| r.code().get())))
        }
        _ => None,
    })
}

/// Each recipient in `events` with the code of its reply.
pub fn rcpt_codes(events: &[Event]) -> Vec<(String, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RecipientResult {
                recipient, reply, ..
            } => Some((recipient.to_string(), reply.code().get())),
            _ => None,
        })
        .collect()
}

/// An EHLO reply offering PIPELINING and 8BITMIME.
pub const EHLO_PIPE: &str = "S: 250-mx.example\nS: 250-PIPELINING\nS: 250 8BITMIME";

/// A client with its virtual clock, events and output.
pub struct Harness {
    pub client: Client,
    pub now: Instant,
    pub events: Vec<Event>,
    /// Every `poll_transmit` buffer not yet taken, in order.
    pub writes: Vec<Bytes>,
}

impl Harness {
    pub fn new(config: ClientConfig) -> Self {
        let now = Instant::now();
        Self {
            client: Client::new(config, now),
            now,
            events: Vec::new(),
            writes: Vec::new(),
        }
    }

    /// Greeting and EHLO with these extension lines; the `Ready` event is consumed. The
    /// client says `EHLO relay.example`, so `config` comes from [`relay_config`].
    pub fn ready(config: ClientConfig, ext: &[&str]) -> Self {
        let mut h = Self::new(config);
        h.replies("220 mx.example ESMTP");
        let mut ehlo = String::from("250");
        ehlo.push(if ext.is_empty() { ' ' } else { '-' });
        ehlo.push_str("mx.example");
        for (i, e) in ext.iter().enumerate() {
            let sep = if i + 1 == ext.len() { ' ' } else { '-' };
            ehlo.push_str(&format!("\r\n250{sep}{e}"));
        }
        h.expect_out("EHLO relay.example\r\n");
        h.replies(&ehlo);
        assert!(h.events.iter().any(|e| matches!(e, Event::Ready)));
        h.events.clear();
        h
    }

    /// Queues a whole message.
    pub fn send(&mut self, from: &str, to: &[&str], body: &'static [u8]) {
        self.client
            .send_message(self.now, envelope(from, to), Bytes::from_static(body))
            .unwrap();
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
        while let Some(b) = self.client.poll_transmit() {
            self.writes.push(b);
        }
    }

    /// Feeds bytes as one read.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.client.handle_input(self.now, bytes);
        self.drain();
    }

    /// Feeds reply lines (separated by LF or CRLF, CRLF added to the last) as one read.
    pub fn replies(&mut self, lines: &str) {
        let mut bytes = lines.replace("\r\n", "\n").replace('\n', "\r\n");
        bytes.push_str("\r\n");
        self.feed(bytes.as_bytes());
    }

    /// All output not yet taken.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.drain();
        self.writes.drain(..).flat_map(|b| b.to_vec()).collect()
    }

    /// The output not yet taken is exactly `want`.
    pub fn expect_out(&mut self, want: &str) {
        let got = self.take_output();
        assert_eq!(esc(&got), esc(want.as_bytes()));
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        self.drain();
        std::mem::take(&mut self.events)
    }

    /// Starts a streamed transaction.
    pub fn start(&mut self, from: &str, params: MailParams<'static>) -> MessageId {
        let id = self
            .client
            .start_transaction(self.now, rp(from), params)
            .unwrap();
        self.drain();
        id
    }

    pub fn rcpt(&mut self, id: MessageId, to: &str) {
        self.client
            .add_recipient(self.now, id, fp(to), RcptParams::default())
            .unwrap();
        self.drain();
    }

    pub fn chunk(&mut self, id: MessageId, b: &[u8]) {
        self.client.body_chunk(self.now, id, b).unwrap();
        self.drain();
    }

    pub fn end(&mut self, id: MessageId) {
        self.client.body_end(self.now, id).unwrap();
        self.drain();
    }

    /// Runs a script (see the module docs).
    pub fn run(&mut self, script: &str) {
        let mut s_buf = Vec::new();
        let mut c_buf = Vec::new();
        for (at, line) in lines(script) {
            match line {
                Line::Server(text) => {
                    if !c_buf.is_empty() {
                        self.check(&std::mem::take(&mut c_buf));
                    }
                    s_buf.extend_from_slice(&text);
                    s_buf.extend_from_slice(b"\r\n");
                }
                Line::Client(bytes) => {
                    if !s_buf.is_empty() {
                        self.feed(&std::mem::take(&mut s_buf));
                    }
                    c_buf.extend_from_slice(&bytes);
                }
                other => {
                    panic!("{at}: client scripts have only `S:` and `C:` lines, not {other:?}")
                }
            }
        }
        if !s_buf.is_empty() {
            self.feed(&s_buf);
        }
        self.check(&c_buf);
    }

    fn check(&mut self, want: &[u8]) {
        let got = self.take_output();
        assert_eq!(esc(&got), esc(want), "client output differs");
    }

    pub fn errors(&self) -> Vec<&ClientError> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Event::Error(e) = e {
                    Some(e)
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn closed(&self) -> Option<&CloseReason> {
        self.events.iter().find_map(|e| {
            if let Event::Closed { reason } = e {
                Some(reason)
            } else {
                None
            }
        })
    }

    pub fn results(&self) -> Vec<MessageStatus> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Event::MessageResult { status, .. } = e {
                    Some(status.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn recipient_codes(&self) -> Vec<u16> {
        self.events
            .iter()
            .filter_map(|e| {
                if let Event::RecipientResult { reply, .. } = e {
                    Some(reply.code().get())
                } else {
                    None
                }
            })
            .collect()
    }
}
