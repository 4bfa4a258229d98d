//! Client transcripts: scripted server replies in, exact client bytes out, no sockets.
//!
//! A script is a list of `S:` (server) and `C:` (client) lines. Consecutive `S:` lines are
//! fed as one read; the `C:` lines after them must be exactly what the client writes in
//! response (CRLF added to every line).

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;
use smtp_sansio::client::{
    AuthConfig, Client, ClientConfig, ClientError, CloseReason, Envelope, Event, MessageError,
    MessageStatus, StartTlsPolicy, UsageErrorKind,
};
use smtp_sansio::types::{
    Body, Domain, ForwardPath, Host, MailParams, Mailbox, Mechanism, Notify, Orcpt, RcptParams,
    ReversePath, Secret, XText,
};

fn config() -> ClientConfig {
    let mut c = ClientConfig::new(Host::Domain(Domain::new("client.example").unwrap()));
    c.starttls = StartTlsPolicy::Never;
    c
}

fn rp(s: &str) -> ReversePath<'static> {
    ReversePath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

fn fp(s: &str) -> ForwardPath<'static> {
    ForwardPath::Mailbox(Mailbox::parse(s).unwrap().into_owned())
}

fn envelope(from: &str, to: &[&str]) -> Envelope {
    to.iter().fold(Envelope::new(rp(from)), |e, t| e.to(fp(t)))
}

/// Escapes bytes for readable failure messages.
fn esc(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

struct Harness {
    client: Client,
    now: Instant,
    events: Vec<Event>,
    /// Every `poll_transmit` buffer, in order.
    writes: Vec<Bytes>,
}

impl Harness {
    fn new(config: ClientConfig) -> Self {
        let now = Instant::now();
        Self {
            client: Client::new(config, now),
            now,
            events: Vec::new(),
            writes: Vec::new(),
        }
    }

    fn send(&mut self, from: &str, to: &[&str], body: &'static [u8]) {
        self.client
            .send_message(self.now, envelope(from, to), Bytes::from_static(body))
            .unwrap();
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
        while let Some(b) = self.client.poll_transmit() {
            self.writes.push(b);
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.client.handle_input(self.now, bytes);
        self.drain();
    }

    fn take_output(&mut self) -> Vec<u8> {
        self.drain();
        self.writes.drain(..).flat_map(|b| b.to_vec()).collect()
    }

    /// Runs an `S:`/`C:` script.
    fn run(&mut self, script: &str) {
        let mut s_buf = Vec::new();
        let mut c_buf = Vec::new();
        for line in script
            .lines()
            .map(str::trim_start)
            .filter(|l| !l.is_empty())
        {
            let (who, text) = line.split_at(2);
            let text = text.strip_prefix(' ').unwrap_or(text);
            match who {
                "S:" => {
                    if !c_buf.is_empty() {
                        self.check(&std::mem::take(&mut c_buf));
                    }
                    s_buf.extend_from_slice(text.as_bytes());
                    s_buf.extend_from_slice(b"\r\n");
                }
                "C:" => {
                    if !s_buf.is_empty() {
                        self.feed(&std::mem::take(&mut s_buf));
                    }
                    c_buf.extend_from_slice(text.as_bytes());
                    c_buf.extend_from_slice(b"\r\n");
                }
                _ => panic!("bad script line {line:?}"),
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

    fn errors(&self) -> Vec<&ClientError> {
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

    fn closed(&self) -> Option<&CloseReason> {
        self.events.iter().find_map(|e| {
            if let Event::Closed { reason } = e {
                Some(reason)
            } else {
                None
            }
        })
    }

    fn results(&self) -> Vec<MessageStatus> {
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

    fn recipient_codes(&self) -> Vec<u16> {
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

const EHLO_PIPE: &str = "S: 250-mx.example\nS: 250-PIPELINING\nS: 250 8BITMIME";

// ----- greeting and hello -----------------------------------------------------------

#[test]
fn greeting_554_sends_quit() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 554 5.3.2 no service for you
         C: QUIT
         S: 221 bye",
    );
    assert!(matches!(h.errors()[..], [ClientError::GreetingRefused(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert!(h.client.is_closed());
}

#[test]
fn ehlo_5xx_falls_back_to_helo() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 old.example
         C: EHLO client.example
         S: 502 what
         C: HELO client.example
         S: 250 old.example
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: hi
         C: .
         S: 250 queued",
    );
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
    assert!(h.events.contains(&Event::Ready));
}

#[test]
fn ehlo_and_helo_rejected_fails() {
    let mut h = Harness::new(config());
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 550 no
         C: HELO client.example
         S: 550 no
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::HelloRejected(_)]));
}

// ----- STARTTLS -----------------------------------------------------------------------

fn tls_config(policy: StartTlsPolicy) -> ClientConfig {
    let mut c = config();
    c.starttls = policy;
    c
}

#[test]
fn starttls_required_upgrades_and_says_ehlo_again() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-STARTTLS
         S: 250 PIPELINING
         C: STARTTLS
         S: 220 2.0.0 go ahead",
    );
    assert_eq!(h.events.last(), Some(&Event::StartTls));
    assert!(h.client.capabilities().is_some());
    h.client.tls_established(h.now).unwrap();
    assert!(
        h.client.capabilities().is_none(),
        "capabilities forgotten after TLS"
    );
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 PIPELINING",
    );
    // Ready and idle: nothing more is sent until a message or QUIT is asked for.
    assert!(h.events.contains(&Event::Ready));
    assert!(!h.client.is_closed());
}

#[test]
fn starttls_required_not_offered_fails_with_quit() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.send("a@x.example", &["b@y.example"], b"secret\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 PIPELINING
         C: QUIT
         S: 221 bye",
    );
    assert_eq!(h.errors(), vec![&ClientError::StartTlsNotOffered]);
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn starttls_required_refused_fails() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 454 4.7.0 TLS not available
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::StartTlsRejected(_)]));
}

#[test]
fn starttls_opportunistic_skips_when_not_offered() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Opportunistic));
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>",
    );
    assert!(h.errors().is_empty());
}

#[test]
fn starttls_opportunistic_goes_on_after_454() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Opportunistic));
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 454 4.7.0 not now
         C: MAIL FROM:<a@x.example>",
    );
    assert!(h.errors().is_empty());
}

#[test]
fn starttls_never_ignores_the_offer() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Never));
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: MAIL FROM:<a@x.example>",
    );
}

#[test]
fn response_injection_after_starttls() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS",
    );
    // The 220 and a forged EHLO reply in the same read (CVE-2011-0411).
    h.feed(b"220 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n");
    assert_eq!(h.take_output(), b"");
    assert_eq!(
        h.errors(),
        vec![&ClientError::StartTlsInjection { bytes: 26 }]
    );
    assert!(
        !h.events.contains(&Event::StartTls),
        "no upgrade on a poisoned stream"
    );
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    assert_eq!(
        h.client.tls_established(h.now),
        Err(UsageErrorKind::NotAwaitingTls.into())
    );
}

#[test]
fn response_injection_in_a_later_read() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 220 go ahead",
    );
    h.feed(b"250 forged\r\n");
    assert_eq!(
        h.errors(),
        vec![&ClientError::StartTlsInjection { bytes: 12 }]
    );
    assert_eq!(h.take_output(), b"");
}

// ----- AUTH -----------------------------------------------------------------------------

fn auth_config(auth: AuthConfig) -> ClientConfig {
    let mut c = config();
    c.auth = Some(auth);
    c
}

fn plaintext_ok(mut a: AuthConfig) -> AuthConfig {
    a.allow_plaintext_without_tls = true;
    a
}

#[test]
fn auth_plain_with_initial_response() {
    let mut h = Harness::new(auth_config(plaintext_ok(AuthConfig::password(
        "tim",
        "tanstaaftanstaaf",
    ))));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH LOGIN PLAIN
         C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.events.contains(&Event::Authenticated {
        mechanism: Mechanism::PLAIN
    }));
    assert!(h.events.contains(&Event::Ready));
}

#[test]
fn auth_login_with_334_steps() {
    let mut a = plaintext_ok(AuthConfig::password("tim", "secret"));
    a.mechanisms = vec![Mechanism::LOGIN];
    let mut h = Harness::new(auth_config(a));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH PLAIN LOGIN
         C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: dGlt
         S: 334 UGFzc3dvcmQ6
         C: c2VjcmV0
         S: 235 2.7.0 ok",
    );
    assert!(h.events.contains(&Event::Authenticated {
        mechanism: Mechanism::LOGIN
    }));
}

#[test]
fn auth_334_without_text() {
    let mut a = plaintext_ok(AuthConfig::password("tim", "secret"));
    a.mechanisms = vec![Mechanism::LOGIN];
    let mut h = Harness::new(auth_config(a));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH LOGIN
         C: AUTH LOGIN
         S: 334
         C: dGlt
         S: 334 
         C: c2VjcmV0
         S: 235 ok",
    );
    assert!(h.errors().is_empty());
}

#[test]
fn auth_initial_response_too_long_waits_for_334() {
    let long = "p".repeat(400);
    let mut h = Harness::new(auth_config(plaintext_ok(AuthConfig::password(
        "tim",
        long.clone(),
    ))));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH PLAIN
         C: AUTH PLAIN",
    );
    h.feed(b"334 \r\n");
    let ir = smtp_sansio::sasl::base64_encode(&smtp_sansio::sasl::encode_plain(None, "tim", &long));
    assert_eq!(esc(&h.take_output()), esc(format!("{ir}\r\n").as_bytes()));
    h.run("S: 235 ok");
    assert!(h.errors().is_empty());
}

#[test]
fn no_auth_in_clear_by_default() {
    let mut h = Harness::new(auth_config(AuthConfig::password("tim", "secret")));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH PLAIN LOGIN
         C: QUIT",
    );
    assert_eq!(h.errors(), vec![&ClientError::AuthRequiresTls]);
}

#[test]
fn auth_after_starttls_is_allowed() {
    let mut c = auth_config(AuthConfig::password("tim", "tanstaaftanstaaf"));
    c.starttls = StartTlsPolicy::Required;
    let mut h = Harness::new(c);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 STARTTLS
         C: STARTTLS
         S: 220 go",
    );
    h.client.tls_established(h.now).unwrap();
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 AUTH PLAIN
         C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm
         S: 235 ok",
    );
    assert!(h.errors().is_empty());
}

#[test]
fn auth_failure_quits() {
    let mut h = Harness::new(auth_config(plaintext_ok(AuthConfig::password("tim", "x"))));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH PLAIN
         C: AUTH PLAIN AHRpbQB4
         S: 535 5.7.8 bad credentials
         C: QUIT
         S: 221 bye",
    );
    assert!(matches!(h.errors()[..], [ClientError::AuthFailed(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn auth_no_common_mechanism() {
    let mut h = Harness::new(auth_config(plaintext_ok(AuthConfig::password("tim", "x"))));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH CRAM-MD5
         C: QUIT",
    );
    assert_eq!(h.errors(), vec![&ClientError::NoCommonMechanism]);
}

#[test]
fn auth_custom_mechanism_via_events() {
    let mech = Mechanism::new("X-TEST").unwrap();
    let mut h = Harness::new(auth_config(plaintext_ok(AuthConfig::custom(
        mech.clone(),
        None,
    ))));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH X-TEST
         C: AUTH X-TEST
         S: 334 Y2hhbGxlbmdl",
    );
    assert_eq!(
        h.events.last(),
        Some(&Event::SaslChallenge {
            mechanism: mech,
            challenge: b"challenge".to_vec()
        })
    );
    h.client
        .sasl_respond(h.now, Secret::new(b"answer".to_vec()))
        .unwrap();
    assert_eq!(
        h.client.sasl_respond(h.now, Secret::new(Vec::new())),
        Err(UsageErrorKind::NoSaslChallenge.into())
    );
    h.run(
        "C: YW5zd2Vy
         S: 235 ok",
    );
    assert!(h.events.contains(&Event::Ready));
}

#[test]
fn auth_xoauth2_error_challenge_gets_empty_line() {
    let mut a = plaintext_ok(AuthConfig::bearer("u", "t"));
    a.mechanisms = vec![Mechanism::XOAUTH2];
    let mut h = Harness::new(auth_config(a));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH XOAUTH2
         C: AUTH XOAUTH2 dXNlcj11AWF1dGg9QmVhcmVyIHQBAQ==
         S: 334 eyJzdGF0dXMiOiI0MDEifQ==
         C: 
         S: 535 no
         C: QUIT",
    );
}

#[test]
fn auth_password_skips_an_offered_mechanism_it_cannot_drive() {
    let mut a = plaintext_ok(AuthConfig::password("tim", "pw"));
    a.mechanisms = vec![Mechanism::XOAUTH2, Mechanism::PLAIN];
    let mut h = Harness::new(auth_config(a));
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH XOAUTH2 PLAIN
         C: AUTH PLAIN AHRpbQBwdw==",
    );
}

#[test]
fn auth_oauthbearer_initial_response_and_error_challenge() {
    let mut a = plaintext_ok(AuthConfig::bearer("u", "t"));
    // PLAIN cannot carry a token, so the bearer credentials pass it by.
    a.mechanisms = vec![Mechanism::PLAIN, Mechanism::OAUTHBEARER];
    let mut h = Harness::new(auth_config(a));
    // RFC 7628 3.1: "n,a=u," ^A "auth=Bearer t" ^A ^A.
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 AUTH PLAIN OAUTHBEARER
         C: AUTH OAUTHBEARER bixhPXUsAWF1dGg9QmVhcmVyIHQBAQ==
         S: 334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=
         C: AQ==
         S: 535 5.7.8 no
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::AuthFailed(_)]));
}

/// A custom mechanism whose 372-octet initial response is 496 base64 characters.
fn custom_ir_session(mechanism: &str) -> Harness {
    let mech = Mechanism::new(mechanism.to_owned()).unwrap();
    let ir = Secret::new(vec![b'x'; 372]);
    let mut h = Harness::new(auth_config(plaintext_ok(AuthConfig::custom(
        mech,
        Some(ir),
    ))));
    h.run("S: 220 mx\nC: EHLO client.example");
    h.feed(format!("250-mx\r\n250 AUTH {mechanism}\r\n").as_bytes());
    h
}

#[test]
fn auth_initial_response_on_the_line_up_to_512_octets() {
    let b64 = smtp_sansio::sasl::base64_encode(&[b'x'; 372]);
    assert_eq!(b64.len(), 496);
    // "AUTH " + 8 + " " + 496 + CRLF = 512: fits (RFC 4954 4).
    let mut h = custom_ir_session("X-CUSTOM");
    let line = format!("AUTH X-CUSTOM {b64}\r\n");
    assert_eq!(line.len(), 512);
    assert_eq!(esc(&h.take_output()), esc(line.as_bytes()));
    // One octet more and the response waits for an empty 334 challenge.
    let mut h = custom_ir_session("X-CUSTOMS");
    assert_eq!(h.take_output(), b"AUTH X-CUSTOMS\r\n");
    h.feed(b"334 \r\n");
    assert_eq!(esc(&h.take_output()), esc(format!("{b64}\r\n").as_bytes()));
}

// ----- MAIL parameters ---------------------------------------------------------------

#[test]
fn size_declared_when_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"12345\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 1000
         C: MAIL FROM:<a@x.example> SIZE=7",
    );
}

#[test]
fn size_over_limit_is_not_sent() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"0123456789\r\n");
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 5
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::TooLarge {
            size: 12,
            limit: 5
        })]
    );
}

#[test]
fn eightbitmime_needed_and_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], "café\r\n".as_bytes());
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 8BITMIME
         C: MAIL FROM:<a@x.example> BODY=8BITMIME",
    );
}

#[test]
fn eightbitmime_needed_and_not_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], "café\r\n".as_bytes());
    h.send("a@x.example", &["b@y.example"], b"plain\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::EightBitMimeNotOffered)]
    );
}

#[test]
fn smtputf8_needed_and_offered() {
    let mut h = Harness::new(config());
    h.send("jöran@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-8BITMIME
         S: 250 SMTPUTF8
         C: MAIL FROM:<jöran@x.example> SMTPUTF8",
    );
}

#[test]
fn smtputf8_needed_and_not_offered() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["用户@例子.广告"], b"hi\r\n");
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 8BITMIME
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::SmtpUtf8NotOffered)]
    );
}

#[test]
fn dsn_params_only_when_offered() {
    let mut notify = RcptParams::default();
    notify.notify = Some(Notify::on(false, true, true).unwrap());
    let mut h = Harness::new(config());
    let env = Envelope::new(rp("a@x.example")).to_with(fp("b@y.example"), notify);
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.client
        .send_message(h.now, env, Bytes::from_static(b"x\r\n"))
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 DSN
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example> NOTIFY=FAILURE,DELAY",
    );
    let mut h = Harness::new(config());
    let mut p = MailParams::default();
    p.ret = Some(smtp_sansio::types::Ret::Hdrs);
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    h.client.send_message(h.now, env, Bytes::new()).unwrap();
    h.client
        .send_message(
            h.now,
            envelope("c@x.example", &["b@y.example"]),
            Bytes::new(),
        )
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<c@x.example>",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::DsnNotOffered)]
    );
}

#[test]
fn binarymime_needs_chunking() {
    let mut h = Harness::new(config());
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]).with_params(p),
            Bytes::from_static(b"\0\x01\n"),
        )
        .unwrap();
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::BinaryMimeNotOffered)]
    );
}

#[test]
fn binarymime_needs_binarymime_as_well_as_chunking() {
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let mut h = Harness::new(config());
    let body = Bytes::from_static(b"\0\x01\n");
    h.client
        .send_message(h.now, env.clone(), body.clone())
        .unwrap();
    h.client.quit(h.now);
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 BINARYMIME
         C: QUIT",
    );
    assert_eq!(
        h.results(),
        vec![MessageStatus::NotSent(MessageError::BinaryMimeNotOffered)]
    );
    let mut h = Harness::new(config());
    h.client.send_message(h.now, env, body).unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-CHUNKING
         S: 250 BINARYMIME
         C: MAIL FROM:<a@x.example> BODY=BINARYMIME",
    );
}

#[test]
fn chunking_offered_but_not_chosen_sends_data() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA",
    );
}

#[test]
fn body_7bit_is_declared_only_to_an_8bitmime_server() {
    let mut p = MailParams::default();
    p.body = Some(Body::SevenBit);
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 8BITMIME
         C: MAIL FROM:<a@x.example> BODY=7BIT",
    );
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env, Bytes::from_static(b"hi\r\n"))
        .unwrap();
    // RFC 6152 2: BODY= exists only with 8BITMIME.
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: MAIL FROM:<a@x.example>");
}

/// The result of one message whose parameters a plain server (no extensions) must
/// refuse.
fn refused_by_plain_server(env: Envelope) -> Vec<MessageStatus> {
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env, Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: QUIT");
    h.results()
}

#[test]
fn each_dsn_parameter_alone_needs_dsn() {
    let mut p = MailParams::default();
    p.envid = Some(XText::new("QQ314159").unwrap());
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let not_sent = vec![MessageStatus::NotSent(MessageError::DsnNotOffered)];
    assert_eq!(refused_by_plain_server(env), not_sent);
    let mut r = RcptParams::default();
    r.orcpt = Some(Orcpt::new("rfc822", XText::new("b@y.example").unwrap()).unwrap());
    let env = Envelope::new(rp("a@x.example")).to_with(fp("b@y.example"), r);
    assert_eq!(refused_by_plain_server(env), not_sent);
}

#[test]
fn requiretls_needs_the_extension_and_a_tls_session() {
    let mut p = MailParams::default();
    p.requiretls = true;
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    // Offered, but this session is not encrypted.
    let mut h = Harness::new(config());
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 REQUIRETLS\nC: QUIT");
    let refused = vec![MessageStatus::NotSent(MessageError::RequireTlsUnavailable)];
    assert_eq!(h.results(), refused);
    // Offered after STARTTLS: sent.
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.client
        .send_message(h.now, env, Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go");
    h.client.tls_established_verified(h.now).unwrap();
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 REQUIRETLS
         C: MAIL FROM:<a@x.example> REQUIRETLS",
    );
}

#[test]
fn size_exactly_at_the_limit_is_sent() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"123\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 5
         C: MAIL FROM:<a@x.example> SIZE=5",
    );
}

// ----- recipients, pipelining -----------------------------------------------------------

#[test]
fn per_recipient_failures_message_goes_on() {
    let mut h = Harness::new(config());
    h.send(
        "a@x.example",
        &["b@y.example", "nobody@y.example", "c@y.example"],
        b"hi\r\n",
    );
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: RCPT TO:<nobody@y.example>
         C: RCPT TO:<c@y.example>
         C: DATA
         S: 250 2.1.0 ok
         S: 250 2.1.5 ok
         S: 550 5.1.1 no such user
         S: 250 2.1.5 ok
         S: 354 go
         C: hi
         C: .
         S: 250 2.0.0 queued"
    ));
    assert_eq!(h.recipient_codes(), vec![250, 550, 250]);
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

#[test]
fn pipelined_flight_is_exactly_one_transmit() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    h.feed(b"220 mx\r\n");
    h.writes.clear();
    h.feed(b"250-mx\r\n250 PIPELINING\r\n");
    assert_eq!(h.writes.len(), 1);
    assert_eq!(
        esc(&h.writes[0]),
        esc(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\n")
    );
}

#[test]
fn all_recipients_rejected_pipelined_data_refused_then_rset() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 550 no
         S: 554 5.5.1 no valid recipients
         C: RSET"
    ));
    // The outcome is known before the RSET that tidies up after it is answered.
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
    h.run("S: 250 ok");
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
}

#[test]
fn all_recipients_rejected_lockstep_no_data() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 550 no
         C: RCPT TO:<c@y.example>
         S: 450 later
         C: RSET
         S: 250 ok",
    );
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
    assert_eq!(h.recipient_codes(), vec![550, 450]);
}

#[test]
fn rfc2920_recovery_354_after_all_rcpt_failed() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"must not be sent\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 550 no
         S: 354 go ahead anyway
         C: .
         S: 554 no valid recipients"
    ));
    assert_eq!(h.results(), vec![MessageStatus::NoValidRecipients]);
}

#[test]
fn mail_rejected_in_pipelined_group_is_drained() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.send("c@x.example", &["b@y.example"], b"hi\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 550 5.7.1 sender refused
         S: 503 5.5.1 need MAIL
         S: 503 5.5.1 need RCPT
         C: MAIL FROM:<c@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA"
    ));
    assert_eq!(h.results(), vec![MessageStatus::Rejected]);
}

#[test]
fn lockstep_without_pipelining() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: RCPT TO:<c@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: hi
         C: .
         S: 250 queued",
    );
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

#[test]
fn pipelining_disabled_by_config() {
    let mut c = config();
    c.use_pipelining = false;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"hi");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>"
    ));
}

#[test]
fn several_messages_per_connection_and_quit() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"one\r\n");
    h.send("a@x.example", &["c@y.example"], b"two\r\n");
    h.send("a@x.example", &["d@y.example"], b"three\r\n");
    h.client.quit(h.now);
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 354 go
         C: one
         C: .
         S: 250 queued
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<c@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 451 try later
         C: RSET
         S: 250 ok
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<d@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 354 go
         C: three
         C: .
         S: 250 queued
         C: QUIT
         S: 221 bye"
    ));
    assert_eq!(
        h.results(),
        vec![
            MessageStatus::Accepted,
            MessageStatus::Rejected,
            MessageStatus::Accepted
        ]
    );
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
    assert_eq!(
        h.client
            .send_message(
                h.now,
                envelope("a@x.example", &["b@y.example"]),
                Bytes::new()
            )
            .map_err(|e| e.kind),
        Err(UsageErrorKind::Closed)
    );
}

// ----- reply framing ------------------------------------------------------------------

fn session_script() -> (&'static [u8], Vec<u8>) {
    let server: &[u8] = b"220-mx.example ESMTP\r\n220 welcome\r\n250-mx.example\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME\r\n250 2.1.0 ok\r\n550 5.1.1 nope\r\n250 2.1.5 ok\r\n354 go\r\n250-2.0.0 queued\r\n250 2.0.0 as 1234\r\n221 bye\r\n";
    let client = b"EHLO client.example\r\nMAIL FROM:<a@x.example> SIZE=13\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n".to_vec();
    (server, client)
}

/// Feeds `server` in the given pieces; returns the events and the client's bytes.
fn run_split(pieces: &[&[u8]]) -> (Vec<Event>, Vec<u8>) {
    let mut h = Harness::new(config());
    h.send(
        "a@x.example",
        &["b@y.example", "c@y.example"],
        b"hello\n.dot\n",
    );
    // Graceful: QUIT goes out once the message is done.
    h.client.quit(h.now);
    for p in pieces {
        h.feed(p);
    }
    let out = h.take_output();
    (h.events, out)
}

#[test]
fn several_replies_in_one_read() {
    let (server, client) = session_script();
    let (events, out) = run_split(&[server]);
    assert_eq!(esc(&out), esc(&client));
    assert!(events.contains(&Event::Closed {
        reason: CloseReason::Quit
    }));
}

#[test]
fn replies_split_at_every_byte_boundary() {
    let (server, client) = session_script();
    let (whole_events, whole_out) = run_split(&[server]);
    assert_eq!(esc(&whole_out), esc(&client));
    for i in 0..=server.len() {
        let (a, b) = server.split_at(i);
        let (events, out) = run_split(&[a, b]);
        assert_eq!(events, whole_events, "split at {i}");
        assert_eq!(esc(&out), esc(&whole_out), "split at {i}");
    }
    let bytes: Vec<&[u8]> = server.chunks(1).collect();
    let (events, out) = run_split(&bytes);
    assert_eq!(events, whole_events);
    assert_eq!(out, whole_out);
}

proptest! {
    #[test]
    fn reply_split_invariance(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let (server, _) = session_script();
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(server.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut prev = 0;
        for p in points {
            pieces.push(&server[prev..p]);
            prev = p;
        }
        pieces.push(&server[prev..]);
        let whole = run_split(&[server]);
        let split = run_split(&pieces);
        prop_assert_eq!(split.0, whole.0);
        prop_assert_eq!(split.1, whole.1);
    }
}

#[test]
fn multiline_mismatched_codes_is_error() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example");
    h.feed(b"250-mx\r\n251 PIPELINING\r\n");
    assert!(matches!(h.errors()[..], [ClientError::MalformedReply(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    assert_eq!(h.take_output(), b"QUIT\r\n");
}

#[test]
fn malformed_reply_is_error_not_panic() {
    for bad in [
        &b"hello\r\n"[..],
        b"2500 x\r\n",
        b"099 x\r\n",
        b"250x\r\n",
        b"\r\n",
        b"25\r\n",
        b"\0\0\0\r\n",
    ] {
        let mut h = Harness::new(config());
        h.feed(bad);
        assert!(
            matches!(h.errors()[..], [ClientError::MalformedReply(_)]),
            "{}",
            esc(bad)
        );
        assert!(h.client.is_closed());
    }
}

#[test]
fn overlong_reply_line_is_bounded_error() {
    let mut h = Harness::new(config());
    h.feed(b"220 ");
    for _ in 0..1000 {
        h.feed(&[b'x'; 1024]);
        if h.client.is_closed() {
            break;
        }
    }
    assert!(matches!(h.errors()[..], [ClientError::ReplyTooLong { .. }]));
}

#[test]
fn too_many_reply_lines_is_error() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example");
    for _ in 0..300 {
        h.feed(b"250-X-FOO\r\n");
    }
    assert_eq!(h.errors(), vec![&ClientError::TooManyReplyLines]);
}

#[test]
fn reply_421_mid_session_closes() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(&format!(
        "S: 220 mx
         C: EHLO client.example
         {EHLO_PIPE}
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: DATA
         S: 250 ok
         S: 421 4.3.2 shutting down"
    ));
    assert!(
        matches!(h.closed(), Some(CloseReason::ServiceUnavailable(r)) if r.code().get() == 421)
    );
    assert!(h.errors().is_empty());
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    h.feed(b"250 more\r\n");
    assert_eq!(h.take_output(), b"");
}

#[test]
fn unexpected_reply_is_error() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.feed(b"250 unsolicited\r\n");
    assert!(matches!(h.errors()[..], [ClientError::UnexpectedReply(_)]));
}

#[test]
fn eof_mid_session_is_connection_lost() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run("S: 220 mx\nC: EHLO client.example");
    h.client.handle_eof(h.now);
    h.drain();
    assert_eq!(h.errors(), vec![&ClientError::ConnectionLost]);
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
}

#[test]
fn eof_after_quit_sent_is_a_clean_close() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.client.quit(h.now);
    h.run("C: QUIT");
    // Many servers drop the connection without waiting to send 221.
    h.client.handle_eof(h.now);
    h.drain();
    assert!(h.errors().is_empty());
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
}

#[test]
fn eof_after_a_failure_quit_is_an_error_close() {
    let mut h = Harness::new(config());
    h.run("S: 554 no service\nC: QUIT");
    h.client.handle_eof(h.now);
    h.drain();
    assert!(matches!(h.errors()[..], [ClientError::GreetingRefused(_)]));
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn calls_after_close_report_nothing_more() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.client.quit(h.now);
    h.run("C: QUIT\nS: 221 bye");
    let seen = h.events.len();
    h.client.handle_eof(h.now);
    h.client.handle_input(h.now, b"250 late\r\n");
    h.client
        .handle_timeout(h.now + Duration::from_secs(100_000));
    h.drain();
    assert_eq!(h.events.len(), seen, "{:?}", &h.events[seen..]);
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
}

#[test]
fn reply_line_count_limit_is_inclusive() {
    let mut c = config();
    c.max_reply_lines = 3;
    let mut h = Harness::new(c.clone());
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-PIPELINING
         S: 250 8BITMIME",
    );
    assert!(h.errors().is_empty(), "exactly the limit is accepted");
    assert!(h.client.capabilities().is_some_and(|c| c.pipelining()));

    let mut h = Harness::new(c);
    h.run("S: 220 mx\nC: EHLO client.example");
    h.feed(b"250-mx\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
    assert!(h.errors().is_empty());
    h.feed(b"250 SIZE 100\r\n");
    assert_eq!(h.errors(), vec![&ClientError::TooManyReplyLines]);
}

#[test]
fn quit_drops_a_streamed_transaction_whose_mail_never_went_out() {
    let mut h = Harness::new(config());
    let id = h
        .client
        .start_transaction(h.now, rp("a@x.example"), MailParams::default())
        .unwrap();
    h.client.quit(h.now);
    h.drain();
    assert!(h.events.contains(&Event::MessageResult {
        message: id,
        status: MessageStatus::Aborted,
        reply: None,
    }));
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: QUIT\nS: 221 bye");
    assert_eq!(h.closed(), Some(&CloseReason::Quit));
}

#[test]
fn message_ids_count_from_one_in_queue_order() {
    let mut h = Harness::new(config());
    let a = h
        .client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::new(),
        )
        .unwrap();
    let b = h
        .client
        .send_message(
            h.now,
            envelope("a@x.example", &["c@y.example"]),
            Bytes::new(),
        )
        .unwrap();
    assert_eq!((a.get(), b.get()), (1, 2));
    assert_eq!(format!("{a} {b}"), "#1 #2");
}

// ----- body -----------------------------------------------------------------------------

#[test]
fn body_smuggling_sequences_never_end_data_early() {
    let body: &'static [u8] =
        b"a\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r.\r\nf\r\n.\rg\r\n\0.\r\n.\r\n.\r\n..\r\n.x\r\n\0\r\nend";
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], body);
    h.feed(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    let out = h.take_output();
    let data_start = out.windows(6).position(|w| w == b"DATA\r\n").unwrap() + 6;
    let sent = &out[data_start..];
    let end = sent.windows(5).position(|w| w == b"\r\n.\r\n").unwrap();
    assert_eq!(
        end + 5,
        sent.len(),
        "end of data only at the very end: {}",
        esc(sent)
    );
    assert_eq!(
        esc(sent),
        esc(b"a\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..\r\nf\r\n..\r\ng\r\n\0.\r\n..\r\n..\r\n...\r\n..x\r\n\0\r\nend\r\n.\r\n")
    );
    // No bare CR or LF anywhere.
    for (i, &b) in sent.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(sent[i - 1], b'\r');
        }
        if b == b'\r' {
            assert_eq!(sent[i + 1], b'\n');
        }
    }
}

#[test]
fn empty_body_is_just_the_end_of_data() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: .
         S: 250 ok",
    );
}

#[test]
fn message_queued_during_the_tls_handshake_waits_for_the_new_ehlo() {
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go");
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    assert_eq!(h.take_output(), b"", "nothing may be written in clear now");
    h.client.tls_established(h.now).unwrap();
    h.run("C: EHLO client.example\nS: 250 mx\nC: MAIL FROM:<a@x.example>");
}

#[test]
fn message_queued_while_rset_is_answered_waits_for_it() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250 mx
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 550 no
         C: RSET",
    );
    h.send("c@x.example", &["d@y.example"], b"hi\r\n");
    assert_eq!(h.take_output(), b"");
    h.run("S: 250 ok\nC: MAIL FROM:<c@x.example>");
}

#[test]
fn pending_output_counts_commands_and_unsent_body() {
    let mut h = Harness::new(config());
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::from_static(b"0123456789\r\n"),
        )
        .unwrap();
    h.client
        .handle_input(h.now, b"220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n");
    // The body the machine holds counts from the start, as for a streamed transaction.
    assert_eq!(
        h.client.pending_output(),
        b"EHLO client.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
            .len()
            + 12
    );
    h.drain();
    assert_eq!(h.client.pending_output(), 12);
    h.client.handle_input(h.now, b"354 go\r\n");
    // The body counts as the octets handed in, before stuffing.
    assert_eq!(h.client.pending_output(), 12);
    h.drain();
    assert_eq!(h.client.pending_output(), 0);
}

#[test]
fn large_body_streams_in_pieces() {
    let body: Vec<u8> = b"0123456789abcdef\n"
        .iter()
        .copied()
        .cycle()
        .take(1 << 20)
        .collect();
    let mut h = Harness::new(config());
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::from(body.clone()),
        )
        .unwrap();
    h.feed(b"220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n");
    let pieces = h.writes.len();
    let out = h.take_output();
    // About 64 KiB of body per write: few writes, none too large.
    assert!((10..=24).contains(&pieces), "{pieces} writes");
    let expected = smtp_sansio::data::dot_stuff(&body);
    assert!(out.ends_with(&expected));
}

#[test]
fn bdat_chunks_pipelined() {
    let mut c = config();
    c.use_chunking = true;
    c.bdat_chunk_size = 4;
    let mut h = Harness::new(c);
    // Line endings are normalised to CRLF before chunking; no dot-stuffing with BDAT.
    h.send("a@x.example", &["b@y.example"], b"abc\n.efg\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-PIPELINING
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n250 ok\r\n");
    assert_eq!(
        esc(&h.take_output()),
        esc(b"BDAT 4\r\nabc\rBDAT 4\r\n\n.efBDAT 3 LAST\r\ng\r\n")
    );
    h.feed(b"250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n");
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

#[test]
fn bdat_chunks_lockstep_and_failure_then_rset() {
    let mut c = config();
    c.use_chunking = true;
    c.bdat_chunk_size = 5;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"line1\r\nline2\r\n");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n");
    assert_eq!(esc(&h.take_output()), esc(b"BDAT 5\r\nline1"));
    h.feed(b"250 ok\r\n");
    assert_eq!(esc(&h.take_output()), esc(b"BDAT 5\r\n\r\nlin"));
    h.feed(b"552 5.3.4 too big\r\n");
    h.run("C: RSET\nS: 250 ok");
    assert_eq!(h.results(), vec![MessageStatus::Rejected]);
}

#[test]
fn bdat_empty_body() {
    let mut c = config();
    c.use_chunking = true;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 CHUNKING
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: BDAT 0 LAST
         S: 250 ok",
    );
    assert_eq!(h.results(), vec![MessageStatus::Accepted]);
}

// ----- LMTP -------------------------------------------------------------------------------

#[test]
fn lmtp_per_recipient_replies_after_the_body() {
    let mut c = config();
    c.lmtp = true;
    let mut h = Harness::new(c);
    h.send(
        "a@x.example",
        &["b@y.example", "c@y.example", "d@y.example"],
        b"hi\r\n",
    );
    h.run(
        "S: 220 lmtp
         C: LHLO client.example
         S: 250-lmtp
         S: 250 PIPELINING
         C: MAIL FROM:<a@x.example>
         C: RCPT TO:<b@y.example>
         C: RCPT TO:<c@y.example>
         C: RCPT TO:<d@y.example>
         C: DATA
         S: 250 ok
         S: 250 ok
         S: 550 unknown
         S: 250 ok
         S: 354 go
         C: hi
         C: .
         S: 250 2.0.0 b delivered
         S: 452 4.2.2 d over quota",
    );
    let deliveries: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DeliveryResult {
                recipient, reply, ..
            } => Some((recipient.to_string(), reply.code().get())),
            _ => None,
        })
        .collect();
    assert_eq!(
        deliveries,
        vec![
            ("<b@y.example>".to_owned(), 250),
            ("<d@y.example>".to_owned(), 452)
        ]
    );
    assert_eq!(h.results(), vec![MessageStatus::PartiallyAccepted]);
}

/// An LMTP session of two accepted recipients whose delivery replies are `b` and `c`.
fn lmtp_outcome(b: &str, c: &str) -> Vec<MessageStatus> {
    let mut cfg = config();
    cfg.lmtp = true;
    let mut h = Harness::new(cfg);
    h.send("a@x.example", &["b@y.example", "c@y.example"], b"hi\r\n");
    h.run(
        "S: 220 lmtp
         C: LHLO client.example
         S: 250 lmtp
         C: MAIL FROM:<a@x.example>
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: RCPT TO:<c@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: hi
         C: .",
    );
    h.feed(format!("{b}\r\n").as_bytes());
    assert!(h.results().is_empty(), "one delivery reply is still due");
    h.feed(format!("{c}\r\n").as_bytes());
    h.results()
}

#[test]
fn lmtp_outcome_counts_every_delivery_reply() {
    assert_eq!(
        lmtp_outcome("250 delivered", "250 delivered"),
        vec![MessageStatus::Accepted]
    );
    assert_eq!(
        lmtp_outcome("550 no", "452 full"),
        vec![MessageStatus::Rejected]
    );
    assert_eq!(
        lmtp_outcome("452 full", "250 delivered"),
        vec![MessageStatus::PartiallyAccepted]
    );
}

#[test]
fn lmtp_has_no_helo_fallback() {
    let mut c = config();
    c.lmtp = true;
    let mut h = Harness::new(c);
    h.run(
        "S: 220 lmtp
         C: LHLO client.example
         S: 500 what
         C: QUIT",
    );
    assert!(matches!(h.errors()[..], [ClientError::HelloRejected(_)]));
}

// ----- timeouts ---------------------------------------------------------------------------

#[test]
fn greeting_timeout_on_virtual_clock() {
    let mut h = Harness::new(config());
    let t0 = h.now;
    assert_eq!(h.client.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    h.client.handle_timeout(t0 + Duration::from_secs(299));
    h.drain();
    assert!(h.events.is_empty(), "spurious call is harmless");
    h.client.handle_timeout(t0 + Duration::from_secs(300));
    h.drain();
    assert!(matches!(
        h.errors()[..],
        [ClientError::Timeout(smtp_sansio::client::Phase::Greeting)]
    ));
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn per_phase_timeouts_on_virtual_clock() {
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    let t0 = h.now;
    h.run("S: 220 mx\nC: EHLO client.example");
    assert_eq!(h.client.poll_timeout(), Some(t0 + Duration::from_secs(300)));
    h.now = t0 + Duration::from_secs(10);
    h.run("S: 250 mx\nC: MAIL FROM:<a@x.example>");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.now + Duration::from_secs(300)),
        "MAIL: 5 minutes"
    );
    h.run("S: 250 ok\nC: RCPT TO:<b@y.example>\nS: 250 ok\nC: DATA");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.now + Duration::from_secs(120)),
        "DATA: 2 minutes"
    );
    h.run("S: 354 go\nC: hi\nC: .");
    // The body was handed out: the next call restarts the clock (the write took time).
    let t1 = h.now + Duration::from_secs(3600);
    h.client.handle_timeout(t1);
    h.drain();
    assert!(h.errors().is_empty());
    assert_eq!(
        h.client.poll_timeout(),
        Some(t1 + Duration::from_secs(600)),
        "end of data: 10 minutes"
    );
    h.client.handle_timeout(t1 + Duration::from_secs(600));
    h.drain();
    assert!(matches!(
        h.errors()[..],
        [ClientError::Timeout(smtp_sansio::client::Phase::DataTerm)]
    ));
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert_eq!(h.closed(), Some(&CloseReason::Error));
}

#[test]
fn each_phase_uses_its_configured_timeout() {
    let secs = Duration::from_secs;
    let mut c = config();
    c.use_pipelining = false;
    let mut t = c.timeouts;
    (t.greeting, t.other, t.mail, t.rcpt) = (secs(1), secs(2), secs(3), secs(4));
    (t.data_init, t.data_block, t.data_term) = (secs(5), secs(6), secs(7));
    c.timeouts = t;
    let mut h = Harness::new(c);
    let left = |h: &Harness| h.client.poll_timeout().map(|d| d - h.now);
    assert_eq!(left(&h), Some(secs(1)), "greeting");
    h.run("S: 220 mx\nC: EHLO client.example");
    assert_eq!(left(&h), Some(secs(2)), "EHLO");
    h.run("S: 250 mx");
    // Idle: the first command after a pause starts its own timer.
    assert_eq!(left(&h), None);
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run("C: MAIL FROM:<a@x.example>");
    assert_eq!(left(&h), Some(secs(3)), "MAIL");
    h.run("S: 250 ok\nC: RCPT TO:<b@y.example>");
    assert_eq!(left(&h), Some(secs(4)), "RCPT");
    h.run("S: 250 ok\nC: DATA");
    assert_eq!(left(&h), Some(secs(5)), "DATA");
    h.feed(b"354 go\r\n");
    // The body is queued but not yet written: the block timer runs.
    assert_eq!(left(&h), Some(secs(6)), "body");
}

#[test]
fn timeout_error_names_the_phase() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.client.handle_timeout(h.now + Duration::from_secs(300));
    h.drain();
    let errors = h.errors();
    assert_eq!(
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        ["timed out waiting for the reply to MAIL"]
    );
}

#[test]
fn no_timer_while_idle() {
    let mut h = Harness::new(config());
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx");
    assert_eq!(h.client.poll_timeout(), None);
    h.client
        .handle_timeout(h.now + Duration::from_secs(100_000));
    h.drain();
    assert!(h.errors().is_empty());
}

// ----- misuse -------------------------------------------------------------------------------

#[test]
fn usage_errors_never_panic() {
    let mut h = Harness::new(config());
    assert_eq!(
        h.client.tls_established(h.now),
        Err(UsageErrorKind::NotAwaitingTls.into())
    );
    assert_eq!(
        h.client.sasl_cancel(h.now),
        Err(UsageErrorKind::NoSaslChallenge.into())
    );
    assert_eq!(
        h.client
            .send_message(h.now, Envelope::new(rp("a@x.example")), Bytes::new())
            .map_err(|e| e.kind),
        Err(UsageErrorKind::NoRecipients)
    );
    h.client.handle_eof(h.now);
    h.client.handle_eof(h.now);
    h.client.handle_timeout(h.now);
    h.client.handle_input(h.now, b"220 late\r\n");
    h.client.quit(h.now);
    assert_eq!(
        h.client
            .send_message(
                h.now,
                envelope("a@x.example", &["b@y.example"]),
                Bytes::new()
            )
            .map_err(|e| e.kind),
        Err(UsageErrorKind::Closed)
    );
}

proptest! {
    /// Whatever the server sends, the machine neither panics nor stops answering calls.
    #[test]
    fn arbitrary_server_bytes_never_panic(
        chunks in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                prop::sample::select(vec![
                    b"220 mx\r\n".to_vec(), b"250-mx\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n".to_vec(),
                    b"250 ok\r\n".to_vec(), b"354 go\r\n".to_vec(), b"334 \r\n".to_vec(), b"421 bye\r\n".to_vec(),
                    b"550-a\r\n551 b\r\n".to_vec(), b"\r\n".to_vec(),
                ]),
            ],
            0..24,
        ),
        chunking in any::<bool>(),
        lmtp in any::<bool>(),
    ) {
        let mut c = config();
        c.use_chunking = chunking;
        c.lmtp = lmtp;
        c.starttls = StartTlsPolicy::Opportunistic;
        c.auth = Some(plaintext_ok(AuthConfig::password("u", "p")));
        let mut h = Harness::new(c);
        h.send("a@x.example", &["b@y.example", "c@y.example"], b"x\n.\r\ny");
        for (i, chunk) in chunks.iter().enumerate() {
            h.feed(chunk);
            if h.events.contains(&Event::StartTls) && i % 2 == 0 {
                let _ = h.client.tls_established(h.now);
            }
            h.client.handle_timeout(h.now + Duration::from_secs(i as u64 * 100));
            h.drain();
        }
        h.client.handle_eof(h.now);
        h.drain();
        prop_assert!(h.client.is_closed());
        prop_assert_eq!(h.results().len(), 1, "every message gets exactly one result");
    }
}

// ----- what the client refuses to send (RFC 1870 5, 5321 4.5.3.1.6, 6531 3.7.1, 6152, 8689)

/// Queues one message with an owned body.
fn send_owned(h: &mut Harness, body: Vec<u8>) {
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]),
            Bytes::from(body),
        )
        .unwrap();
    h.drain();
}

#[test]
fn size_declares_the_octets_sent_after_crlf_normalisation() {
    // Bare LF and bare CR go as CRLF, the unterminated last line gets its CRLF under DATA,
    // and the transparency dot is not counted (RFC 1870 5): "a\r\n" ".b\r\n" "c\r\n".
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"a\n.b\rc");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250 SIZE 1000
         C: MAIL FROM:<a@x.example> SIZE=10
         S: 250 ok
         C: RCPT TO:<b@y.example>
         S: 250 ok
         C: DATA
         S: 354 go
         C: a
         C: ..b
         C: c
         C: .",
    );
    // BDAT: normalised, and nothing added at the end; the declared size is the chunk's.
    let mut c = config();
    c.use_chunking = true;
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"a\n.b\rc");
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-CHUNKING
         S: 250 SIZE 1000
         C: MAIL FROM:<a@x.example> SIZE=8
         S: 250 ok
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n");
    assert_eq!(esc(&h.take_output()), esc(b"BDAT 8 LAST\r\na\r\n.b\r\nc"));
    // The limit is judged on the same count: 4 raw octets, 5 sent.
    let mut h = Harness::new(config());
    h.send("a@x.example", &["b@y.example"], b"abc\n");
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 SIZE 4\nC: QUIT");
    let too_large = MessageError::TooLarge { size: 5, limit: 4 };
    assert_eq!(h.results(), vec![MessageStatus::NotSent(too_large)]);
}

#[test]
fn line_over_998_octets_is_refused_before_anything_is_sent() {
    let long = |n: usize| {
        let mut b = b"Subject: x\r\n\r\n".to_vec();
        b.extend(std::iter::repeat_n(b'y', n));
        b.extend_from_slice(b"\r\nend\r\n");
        b
    };
    for chunking in [false, true] {
        let mut c = config();
        c.use_chunking = chunking;
        let mut h = Harness::new(c);
        send_owned(&mut h, long(999));
        send_owned(&mut h, long(998));
        // Only the second message's MAIL goes out; the first is never offered.
        h.run(
            "S: 220 mx
             C: EHLO client.example
             S: 250-mx
             S: 250-CHUNKING
             S: 250 SIZE
             C: MAIL FROM:<a@x.example> SIZE=1019",
        );
        let refused = MessageError::LineTooLong { line: 3 };
        assert_eq!(
            h.results(),
            vec![MessageStatus::NotSent(refused)],
            "chunking {chunking}"
        );
    }
    // The limit excludes the line end, whichever form it takes in the input.
    let mut h = Harness::new(config());
    let mut body = vec![b'z'; 998];
    body.push(b'\n');
    body.extend(vec![b'z'; 999]);
    send_owned(&mut h, body);
    h.client.quit(h.now);
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250 mx\nC: QUIT");
    let refused = MessageError::LineTooLong { line: 2 };
    assert_eq!(h.results(), vec![MessageStatus::NotSent(refused)]);
}

#[test]
fn binarymime_is_exempt_from_the_line_limit() {
    let mut p = MailParams::default();
    p.body = Some(Body::BinaryMime);
    let mut h = Harness::new(config());
    let body = vec![0xFFu8; 3000];
    h.client
        .send_message(
            h.now,
            envelope("a@x.example", &["b@y.example"]).with_params(p),
            Bytes::from(body),
        )
        .unwrap();
    h.run(
        "S: 220 mx
         C: EHLO client.example
         S: 250-mx
         S: 250-CHUNKING
         S: 250 BINARYMIME
         C: MAIL FROM:<a@x.example> BODY=BINARYMIME
         S: 250 ok
         C: RCPT TO:<b@y.example>",
    );
    h.feed(b"250 ok\r\n");
    let out = h.take_output();
    assert!(
        out.starts_with(b"BDAT 3000 LAST\r\n"),
        "{}",
        esc(&out[..20])
    );
}

#[test]
fn ehlo_name_with_a_u_label_is_never_sent() {
    let host = Host::Domain(Domain::new("bücher.example").unwrap());
    let mut c = config();
    c.hello_host = host;
    assert_eq!(c.validate(), Err(ClientError::HelloNameNotAscii));
    let mut h = Harness::new(c);
    h.send("a@x.example", &["b@y.example"], b"hi\r\n");
    h.run("S: 220 mx\nC: QUIT\nS: 221 bye");
    assert_eq!(h.errors(), vec![&ClientError::HelloNameNotAscii]);
    assert_eq!(h.results(), vec![MessageStatus::Aborted]);
    assert_eq!(h.closed(), Some(&CloseReason::Error));
    // The same name in A-labels goes as given.
    let mut c = config();
    c.hello_host = Host::Domain(Domain::new("xn--bcher-kva.example").unwrap());
    assert_eq!(c.validate(), Ok(()));
    let mut h = Harness::new(c);
    h.run("S: 220 mx\nC: EHLO xn--bcher-kva.example");
}

#[test]
fn undeclared_8bit_content_is_never_sent_without_8bitmime() {
    // DATA and BDAT alike; an explicit BODY=7BIT does not make the content 7-bit.
    for (chunking, declared) in [(false, None), (true, None), (false, Some(Body::SevenBit))] {
        let mut c = config();
        c.use_chunking = chunking;
        let mut p = MailParams::default();
        p.body = declared;
        let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
        let mut h = Harness::new(c.clone());
        h.client
            .send_message(h.now, env.clone(), Bytes::from_static(b"caf\xc3\xa9\r\n"))
            .unwrap();
        h.client.quit(h.now);
        h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 CHUNKING\nC: QUIT");
        let refused = MessageStatus::NotSent(MessageError::EightBitMimeNotOffered);
        assert_eq!(h.results(), vec![refused], "chunking {chunking}");
        // Offered: declared.
        let mut h = Harness::new(c);
        h.client
            .send_message(h.now, env, Bytes::from_static(b"caf\xc3\xa9\r\n"))
            .unwrap();
        h.run(
            "S: 220 mx
             C: EHLO client.example
             S: 250-mx
             S: 250-CHUNKING
             S: 250 8BITMIME
             C: MAIL FROM:<a@x.example> BODY=8BITMIME",
        );
    }
}

#[test]
fn requiretls_is_only_sent_over_verified_tls() {
    let mut p = MailParams::default();
    p.requiretls = true;
    let env = envelope("a@x.example", &["b@y.example"]).with_params(p);
    let mut h = Harness::new(tls_config(StartTlsPolicy::Required));
    h.client
        .send_message(h.now, env.clone(), Bytes::from_static(b"hi\r\n"))
        .unwrap();
    h.client
        .send_message(
            h.now,
            envelope("c@x.example", &["b@y.example"]),
            Bytes::from_static(b"hi\r\n"),
        )
        .unwrap();
    h.run("S: 220 mx\nC: EHLO client.example\nS: 250-mx\nS: 250 STARTTLS\nC: STARTTLS\nS: 220 go");
    // TLS is up, but nobody checked the certificate: the REQUIRETLS message never goes,
    // the next one does.
    h.client.tls_established(h.now).unwrap();
    h.run(
        "C: EHLO client.example
         S: 250-mx
         S: 250 REQUIRETLS
         C: MAIL FROM:<c@x.example>",
    );
    let refused = MessageStatus::NotSent(MessageError::RequireTlsUnverified);
    assert_eq!(h.results(), vec![refused]);
}
