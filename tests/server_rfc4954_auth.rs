//! Server transcripts for AUTH (RFC 4954, RFC 4616, RFC 4422), written as RFC-style `C:`/`S:`
//! dialogues (see `common/script.rs`); one per line of the "Wire format" and "Server side"
//! floor in `conformance.md`.

mod common;

use common::{Decision, Ev, Harness, Policy, after_ehlo, after_ehlo_tls, auth_cfg, cfg, refuse};
use smtp_sansio::types::Mechanism;

/// RFC 4954 4: SASL responses of at least 12288 octets are accepted; one over the
/// configured limit is 500 5.5.6 (RFC 4954 6) and the session goes on.
#[test]
fn rfc4954_4_sasl_response_12288_octets() {
    let raw = vec![b'z'; 9210];
    let b64 = smtp_sansio::sasl::base64_encode(&raw);
    assert_eq!(b64.len() + 2, 12282);
    let over = "A".repeat(12288 - 1);
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::new("X-BIG").unwrap()];
    let policy = Policy::accept_all().sasl(|s| match &s.response {
        None => Decision::Challenge(Vec::new()),
        Some(_) => Decision::Accept,
    });
    let mut h = after_ehlo_tls(c, policy);
    h.run(&format!(
        "C: AUTH X-BIG
         S: 334 \n\
         C: {over}
         S: 500 5.5.6 Authentication Exchange line is too long
         C: AUTH X-BIG
         S: 334 \n\
         C: {b64}
         S: 235 2.7.0 Authentication successful"
    ));
    assert!(h.log.contains(&Ev::Sasl {
        mechanism: "X-BIG".into(),
        response: Some(raw)
    }));
}

#[test]
fn rfc4616_auth_plain_initial_response() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.log.contains(&Ev::Auth {
        mechanism: "PLAIN".into(),
        authzid: None,
        authcid: "user".into(),
        password: "pass".into(),
    }));
    assert!(h.server.is_authenticated());
}

#[test]
fn rfc4954_4_auth_plain_via_334() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN
         S: 334 \n\
         C: YWRtaW4AdXNlcgBwYXNz
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.log.contains(&Ev::Auth {
        mechanism: "PLAIN".into(),
        authzid: Some("admin".into()),
        authcid: "user".into(),
        password: "pass".into(),
    }));
}

#[test]
fn rfc4954_auth_login_two_steps() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: dXNlcg==
         S: 334 UGFzc3dvcmQ6
         C: cGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert!(h.log.contains(&Ev::Auth {
        mechanism: "LOGIN".into(),
        authzid: None,
        authcid: "user".into(),
        password: "pass".into(),
    }));
}

#[test]
fn rfc4954_auth_login_with_initial_response() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: auth login dXNlcg==
         S: 334 UGFzc3dvcmQ6
         C: cGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
}

/// LOGIN with an empty user name (`=`, the RFC 4954 4 empty response) is malformed:
/// 501 at once, no password prompt.
#[test]
fn rfc4954_auth_login_empty_user_501() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: =
         S: 501 5.5.2 Malformed authentication response
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Auth { .. })));
}

/// RFC 4954 4: `*` cancels the exchange with 501.
#[test]
fn rfc4954_4_star_cancels_501() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH LOGIN
         S: 334 VXNlcm5hbWU6
         C: *
         S: 501 5.0.0 Authentication cancelled
         C: AUTH PLAIN =
         S: 501 5.5.2 Malformed authentication response
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 1);
}

#[test]
fn rfc4954_4_bad_base64_501() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN !!!notbase64
         S: 501 5.5.2 Cannot decode response
         C: AUTH PLAIN
         S: 334 \n\
         C: AHVz%%ZXIAcGFzcw==
         S: 501 5.5.2 Cannot decode response
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(!h.log.iter().any(|e| matches!(e, Ev::Auth { .. })));
}

#[test]
fn rfc4954_6_failure_535_from_application() {
    let mut h = after_ehlo_tls(
        auth_cfg(),
        Policy::accept_all().auth(|a| {
            if a.password.expose() == "right" {
                Decision::Accept
            } else {
                refuse("535 5.7.8 Authentication credentials invalid")
            }
        }),
    );
    let good = smtp_sansio::sasl::base64_encode(b"\0user\0right");
    h.run(&format!(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 535 5.7.8 Authentication credentials invalid
         C: AUTH PLAIN {good}
         S: 235 2.7.0 Authentication successful"
    ));
    assert!(h.server.is_authenticated());
}

#[test]
fn rfc4954_4_no_auth_inside_transaction_503() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 503 5.5.1 AUTH not permitted during a mail transaction",
    );
    assert!(!h.server.is_authenticated());
}

#[test]
fn rfc4954_4_no_auth_after_success_503() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 503 5.5.1 Already authenticated",
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 1);
}

#[test]
fn rfc4954_4_unknown_mechanism_504() {
    let mut h = after_ehlo_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "C: AUTH CRAM-MD5
         S: 504 5.5.4 Unrecognized authentication mechanism
         C: AUTH NOT_A_MECH_NAME_THAT_IS_TOO_LONG
         S: 501 5.5.4 Syntax error in parameters or arguments",
    );
}

/// RFC 4954 4: AUTH requires EHLO.
#[test]
fn rfc4954_4_auth_before_ehlo_503() {
    let mut h = Harness::new_tls(auth_cfg(), Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 503 5.5.1 Send EHLO first",
    );
}

/// By default no plaintext mechanism is offered or allowed before TLS (538 5.7.11).
#[test]
fn rfc4954_4_auth_before_tls_538() {
    let mut c = auth_cfg();
    c.starttls = true;
    let mut h = Harness::new(c, Policy::accept_all());
    h.run(
        "S: 220 localhost ESMTP ready
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250-ENHANCEDSTATUSCODES
         S: 250-STARTTLS
         S: 250 HELP
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 538 5.7.11 Encryption required for requested authentication mechanism
         C: STARTTLS
         S: 220 2.0.0 Ready to start TLS
         A: tls
         C: EHLO client.example
         S: 250-localhost Hello
         S: 250-PIPELINING
         S: 250-SIZE 33554432
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-CHUNKING
         S: 250-BINARYMIME
         S: 250-DSN
         S: 250-ENHANCEDSTATUSCODES
         S: 250-AUTH PLAIN LOGIN
         S: 250-REQUIRETLS
         S: 250 HELP
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(h.count(|e| matches!(e, Ev::Auth { .. })), 1);
}

/// Allowed in clear when configured so.
#[test]
fn rfc4954_auth_in_clear_when_configured() {
    let mut c = auth_cfg();
    c.auth_requires_tls = false;
    let mut h = after_ehlo(c, Policy::accept_all());
    h.run(
        "C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful",
    );
}

/// RFC 6409 4.3 / RFC 4954 6: with authentication required, MAIL before AUTH is 530.
#[test]
fn rfc4954_6_require_auth_mail_530() {
    let mut c = auth_cfg();
    c.require_auth = true;
    let mut h = after_ehlo_tls(c, Policy::accept_all());
    h.run(
        "C: MAIL FROM:<a@example.com>
         S: 530 5.7.0 Authentication required
         C: AUTH PLAIN AHVzZXIAcGFzcw==
         S: 235 2.7.0 Authentication successful
         C: MAIL FROM:<a@example.com>
         S: 250 2.1.0 Sender OK",
    );
    assert_eq!(h.senders().len(), 1);
}

/// RFC 4422: any other mechanism is a series of steps the application answers.
#[test]
fn rfc4422_custom_mechanism_sasl_steps() {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::new("X-TEST").unwrap()];
    let policy = Policy::accept_all().sasl(|s| match s.response.as_ref().map(|r| r.expose()) {
        None => Decision::Challenge(b"nonce".to_vec()),
        Some(r) if r == b"answer" => Decision::Accept,
        Some(_) => refuse("535 5.7.8 Wrong answer"),
    });
    let mut h = after_ehlo_tls(c, policy);
    h.run(
        "C: AUTH X-TEST
         S: 334 bm9uY2U=
         C: YW5zd2Vy
         S: 235 2.7.0 Authentication successful",
    );
    assert_eq!(
        h.log
            .iter()
            .filter(|e| matches!(e, Ev::Sasl { .. }))
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            Ev::Sasl {
                mechanism: "X-TEST".into(),
                response: None
            },
            Ev::Sasl {
                mechanism: "X-TEST".into(),
                response: Some(b"answer".to_vec())
            },
        ]
    );
    assert!(h.server.is_authenticated());
}

/// A custom mechanism with an initial response, refused by the application.
#[test]
fn rfc4422_custom_mechanism_initial_response_refused() {
    let mut c = cfg();
    c.auth_mechanisms = vec![Mechanism::XOAUTH2];
    let mut h = after_ehlo_tls(
        c,
        Policy::accept_all().sasl(|_| refuse("535 5.7.8 Bad token")),
    );
    h.run(
        "C: AUTH XOAUTH2 dG9rZW4=
         S: 535 5.7.8 Bad token
         C: NOOP
         S: 250 2.0.0 OK",
    );
    assert!(h.log.contains(&Ev::Sasl {
        mechanism: "XOAUTH2".into(),
        response: Some(b"token".to_vec())
    }));
    assert!(!h.server.is_authenticated());
}
