//! The `Relay` handler between the crate's client and the crate's server over loopback
//! TCP (127.0.0.1, port 0).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use smtp_sansio_tokio::client::{self, Delivery, Options, Step, Verify};
use smtp_sansio_tokio::smtp_sansio::client::{ClientConfig, MessageStatus, StartTlsPolicy};
use smtp_sansio_tokio::smtp_sansio::server::ServerConfig;
use smtp_sansio_tokio::smtp_sansio::types::{Domain, Host, Mailbox, ReversePath};
use smtp_sansio_tokio::{
    Body, Connection, Decision, Handler, Logger, Message, Rcpt, Relay, ServerBuilder, Session,
};

const BOUND: Duration = Duration::from_secs(30);

/// The next hop: accepts recipients at example.org only and records each body.
#[derive(Clone, Default)]
struct Upstream(Arc<Mutex<Vec<Vec<u8>>>>);

struct UpstreamSession(Arc<Mutex<Vec<Vec<u8>>>>);

impl Handler for Upstream {
    type Session = UpstreamSession;
    fn session(&self, _conn: &Connection) -> UpstreamSession {
        UpstreamSession(self.0.clone())
    }
}

impl Session for UpstreamSession {
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

async fn serve<H: Handler>(config: ServerConfig, handler: H) -> SocketAddr {
    let server = ServerBuilder::new(config, handler)
        .listen("127.0.0.1:0".parse().unwrap())
        .logger(Logger::none())
        .bind()
        .await
        .unwrap();
    let addr = server.listeners()[0].0;
    tokio::spawn(server.run());
    addr
}

fn relay_to(addr: &str) -> Relay {
    Relay::new(addr, Host::Domain(Domain::new("relay.test").unwrap()))
        .unwrap()
        .starttls(StartTlsPolicy::Opportunistic)
        .verify(Verify::Insecure)
        .logger(Logger::none())
}

async fn connect(addr: SocketAddr) -> client::Connection {
    let mut config = ClientConfig::default();
    config.starttls = StartTlsPolicy::Never;
    client::connect(&addr.to_string(), Options::new(config))
        .await
        .unwrap()
}

#[tokio::test]
async fn relay_passes_each_recipients_verdict_and_prepends_our_received_field() {
    tokio::time::timeout(BOUND, async {
        let upstream = Upstream::default();
        let up = serve(ServerConfig::new("next.test"), upstream.clone()).await;
        let relay = relay_to(&up.to_string());
        relay.learn_at_start().await;
        let addr = serve(ServerConfig::new("relay.test"), relay).await;
        let mut conn = connect(addr).await;
        let envelope = client::envelope("a@example.net", &["b@example.org", "x@else.test"]);
        let out = conn
            .send(
                envelope.unwrap(),
                Bytes::from_static(b"Subject: s\r\n\r\nbody\r\n"),
            )
            .await
            .unwrap();
        assert_eq!(out.status, MessageStatus::Accepted);
        assert_eq!(out.delivery(), Delivery::Partial);
        let refused: Vec<u16> = out.refused().map(|r| r.reply.code().get()).collect();
        assert_eq!(refused, [550], "the upstream's own verdict");
        conn.quit().await;
        let got = upstream.0.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        let text = String::from_utf8_lossy(&got[0]);
        assert!(text.starts_with("Received: from "), "{text}");
        assert!(text.contains("by relay.test"), "{text}");
        assert!(
            text.contains("\r\nMessage-ID: <"),
            "added when missing: {text}"
        );
        assert!(text.ends_with("\r\n\r\nbody\r\n"), "{text}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn relay_offers_only_what_the_upstream_keeps() {
    tokio::time::timeout(BOUND, async {
        let mut config = ServerConfig::new("next.test");
        config.extensions.dsn = false;
        config.limits.message_size = Some(100_000);
        let up = serve(config, Upstream::default()).await;
        let relay = relay_to(&up.to_string());
        relay.learn_at_start().await;
        let addr = serve(ServerConfig::new("relay.test"), relay).await;
        let conn = connect(addr).await;
        let caps = conn.capabilities().unwrap();
        assert!(!caps.dsn());
        assert_eq!(caps.size(), Some(Some(100_000 - 2048)));
        conn.quit().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn unreachable_upstream_gives_451_4_4_1_at_mail() {
    tokio::time::timeout(BOUND, async {
        // A port just freed: nothing listens there.
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = gone.local_addr().unwrap();
        drop(gone);
        let addr = serve(ServerConfig::new("relay.test"), relay_to(&dead.to_string())).await;
        let mut conn = connect(addr).await;
        let from = ReversePath::Mailbox(Mailbox::parse("a@example.net").unwrap().into_owned());
        let (_, step) = conn.mail(from, Default::default()).await.unwrap();
        match step {
            Step::Reply(r) => assert_eq!(
                r.to_string(),
                "451 4.4.1 Next hop unavailable, try again later"
            ),
            other => panic!("{other:?}"),
        }
    })
    .await
    .unwrap();
}
