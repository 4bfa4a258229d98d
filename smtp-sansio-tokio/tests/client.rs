//! The client against the crate's own server over loopback TCP (127.0.0.1, port 0):
//! plain, STARTTLS with a self-signed certificate, AUTH, partial refusal, reuse.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use smtp_sansio_tokio::client::{self, Delivery, Error, Options, Verify, Wire};
use smtp_sansio_tokio::smtp_sansio::client::{
    AuthConfig, ClientConfig, ClientError, Envelope, MessageStatus, StartTlsPolicy,
};
use smtp_sansio_tokio::smtp_sansio::server::ServerConfig;
use smtp_sansio_tokio::smtp_sansio::types::{ForwardPath, Mailbox, ReversePath};
use smtp_sansio_tokio::{
    Body, Connection, Credentials, Decision, Handler, Logger, Message, Rcpt, ServerBuilder,
    Session, TlsIdentity,
};

/// Every test is bounded by this.
const BOUND: Duration = Duration::from_secs(30);

/// Accepts recipients at example.org only, and records each message body.
#[derive(Clone, Default)]
struct Record(Arc<Mutex<Vec<Vec<u8>>>>);

struct RecordSession(Arc<Mutex<Vec<Vec<u8>>>>);

impl Handler for Record {
    type Session = RecordSession;
    fn session(&self, _conn: &Connection) -> RecordSession {
        RecordSession(self.0.clone())
    }
}

impl Session for RecordSession {
    async fn rcpt(&mut self, rcpt: &Rcpt) -> Decision {
        match rcpt.to.to_string().ends_with("@example.org>") {
            true => Decision::Accept,
            false => Decision::reply("550 5.1.1 No such user here"),
        }
    }

    async fn message(&mut self, _m: &Message, mut body: Body) -> Decision {
        let mut all = Vec::new();
        while let Ok(Some(c)) = body.chunk().await {
            all.extend_from_slice(&c);
        }
        self.0.lock().unwrap().push(all);
        Decision::Accept
    }
}

async fn server(tls: bool, users: Option<Credentials>) -> (SocketAddr, Record) {
    let record = Record::default();
    let mut b = ServerBuilder::new(ServerConfig::new("mx.test"), record.clone())
        .listen("127.0.0.1:0".parse().unwrap())
        .logger(Logger::none());
    if tls {
        b = b.tls(TlsIdentity::self_signed(&["localhost", "127.0.0.1"]).unwrap());
    }
    if let Some(u) = users {
        b = b.credentials(u);
    }
    let server = b.bind().await.unwrap();
    let addr = server.listeners()[0].0;
    tokio::spawn(server.run());
    (addr, record)
}

fn options(starttls: StartTlsPolicy) -> Options {
    let mut config = ClientConfig::default();
    config.starttls = starttls;
    Options::new(config).verify(Verify::Insecure)
}

fn envelope(to: &[&str]) -> Envelope {
    let from = ReversePath::Mailbox(Mailbox::parse("a@example.net").unwrap().into_owned());
    to.iter().fold(Envelope::new(from), |e, t| {
        e.to(ForwardPath::Mailbox(
            Mailbox::parse(t).unwrap().into_owned(),
        ))
    })
}

const BODY: &[u8] = b"Subject: t\r\n\r\n.dot\r\n";

#[tokio::test]
async fn plain_session_sends_a_message_and_quits() {
    tokio::time::timeout(BOUND, async {
        let (addr, record) = server(false, None).await;
        let mut conn = client::connect(&addr.to_string(), options(StartTlsPolicy::Never))
            .await
            .unwrap();
        assert!(!conn.is_tls());
        let out = conn
            .send(envelope(&["b@example.org"]), Bytes::from_static(BODY))
            .await
            .unwrap();
        assert_eq!(out.status, MessageStatus::Accepted);
        assert_eq!(out.delivery(), Delivery::Complete);
        conn.quit().await;
        assert_eq!(record.0.lock().unwrap().as_slice(), [BODY.to_vec()]);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn starttls_required_upgrades_with_the_insecure_verifier() {
    tokio::time::timeout(BOUND, async {
        let (addr, record) = server(true, None).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let opts = options(StartTlsPolicy::Required).wire(move |side, bytes| {
            if side == Wire::Sent {
                log.lock().unwrap().extend_from_slice(bytes);
            }
        });
        let mut conn = client::connect(&addr.to_string(), opts).await.unwrap();
        assert!(conn.is_tls());
        assert!(!conn.is_verified_tls(), "no check was made");
        let out = conn
            .send(envelope(&["b@example.org"]), Bytes::from_static(BODY))
            .await
            .unwrap();
        assert_eq!(out.status, MessageStatus::Accepted);
        conn.quit().await;
        assert_eq!(record.0.lock().unwrap().len(), 1);
        let sent = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        assert!(sent.contains("STARTTLS\r\n"), "{sent}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn starttls_required_fails_when_not_offered() {
    tokio::time::timeout(BOUND, async {
        let (addr, _) = server(false, None).await;
        let err = client::connect(&addr.to_string(), options(StartTlsPolicy::Required))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Session(ClientError::StartTlsNotOffered)),
            "{err:?}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn web_pki_verification_refuses_a_self_signed_certificate() {
    tokio::time::timeout(BOUND, async {
        let (addr, _) = server(true, None).await;
        let opts = options(StartTlsPolicy::Required).verify(Verify::WebPki);
        let err = client::connect(&addr.to_string(), opts).await.unwrap_err();
        assert!(matches!(err, Error::Tls(_)), "{err:?}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn auth_plain_under_tls_then_a_wrong_password_is_refused() {
    tokio::time::timeout(BOUND, async {
        let users = Credentials::new().user("alice", "secret");
        let (addr, record) = server(true, Some(users)).await;
        let mut opts = options(StartTlsPolicy::Required);
        opts.config.auth = Some(AuthConfig::password("alice", "secret"));
        let mut conn = client::connect(&addr.to_string(), opts).await.unwrap();
        let out = conn
            .send(envelope(&["b@example.org"]), Bytes::from_static(BODY))
            .await
            .unwrap();
        assert_eq!(out.status, MessageStatus::Accepted);
        conn.quit().await;
        assert_eq!(record.0.lock().unwrap().len(), 1);

        let mut opts = options(StartTlsPolicy::Required);
        opts.config.auth = Some(AuthConfig::password("alice", "wrong"));
        let err = client::connect(&addr.to_string(), opts).await.unwrap_err();
        assert!(
            matches!(err, Error::Session(ClientError::AuthFailed(_))),
            "{err:?}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn partly_refused_recipients_show_in_the_outcome() {
    tokio::time::timeout(BOUND, async {
        let (addr, _) = server(false, None).await;
        let mut conn = client::connect(&addr.to_string(), options(StartTlsPolicy::Never))
            .await
            .unwrap();
        let out = conn
            .send(
                envelope(&["b@example.org", "x@elsewhere.test", "c@example.org"]),
                Bytes::from_static(BODY),
            )
            .await
            .unwrap();
        assert_eq!(out.status, MessageStatus::Accepted);
        assert_eq!(out.delivery(), Delivery::Partial);
        let refused: Vec<String> = out.refused().map(|r| r.recipient.to_string()).collect();
        assert_eq!(refused, ["<x@elsewhere.test>"]);
        assert_eq!(out.recipients.len(), 3);

        let out = conn
            .send(envelope(&["x@elsewhere.test"]), Bytes::from_static(BODY))
            .await
            .unwrap();
        assert_eq!(out.status, MessageStatus::NoValidRecipients);
        assert_eq!(out.delivery(), Delivery::Failed);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn one_connection_carries_two_messages() {
    tokio::time::timeout(BOUND, async {
        let (addr, record) = server(true, None).await;
        let mut conn = client::connect(&addr.to_string(), options(StartTlsPolicy::Opportunistic))
            .await
            .unwrap();
        for n in 0..2 {
            let body = format!("Subject: {n}\r\n\r\nbody\r\n");
            let out = conn
                .send(envelope(&["b@example.org"]), Bytes::from(body))
                .await
                .unwrap();
            assert_eq!(out.status, MessageStatus::Accepted, "message {n}");
        }
        conn.quit().await;
        let got = record.0.lock().unwrap().clone();
        assert_eq!(got.len(), 2);
        assert!(got[1].starts_with(b"Subject: 1\r\n"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn streamed_transaction_steps_carry_each_reply() {
    tokio::time::timeout(BOUND, async {
        let (addr, record) = server(false, None).await;
        let mut conn = client::connect(&addr.to_string(), options(StartTlsPolicy::Never))
            .await
            .unwrap();
        let from = ReversePath::Mailbox(Mailbox::parse("a@example.net").unwrap().into_owned());
        let (txn, step) = conn.mail(from, Default::default()).await.unwrap();
        assert!(matches!(step, client::Step::Reply(r) if r.code().is_positive()));
        let to = |s: &str| ForwardPath::Mailbox(Mailbox::parse(s).unwrap().into_owned());
        let no = conn
            .rcpt(txn, to("x@elsewhere.test"), Default::default())
            .await
            .unwrap();
        assert!(matches!(no, client::Step::Reply(r) if r.code().get() == 550));
        let yes = conn
            .rcpt(txn, to("b@example.org"), Default::default())
            .await
            .unwrap();
        assert!(matches!(yes, client::Step::Reply(r) if r.code().is_positive()));
        for piece in [&b"Subject: s\r\n"[..], b"\r\n", b"streamed\r\n"] {
            assert_eq!(conn.body_chunk(txn, piece).await.unwrap(), None);
        }
        let end = conn.body_end(txn, Some(BOUND)).await.unwrap();
        assert!(
            matches!(
                end,
                client::Step::Ended {
                    status: MessageStatus::Accepted,
                    ..
                }
            ),
            "{end:?}"
        );
        drop(conn); // QUIT from a task of its own
        assert_eq!(
            record.0.lock().unwrap().as_slice(),
            [b"Subject: s\r\n\r\nstreamed\r\n".to_vec()]
        );
    })
    .await
    .unwrap();
}
