//! Client transcripts for AUTH (RFC 4954, RFC 4616, RFC 4422, XOAUTH2, OAUTHBEARER
//! RFC 7628): scripted server replies in, exact client
//! bytes and events out, no sockets (harness and script dialect in `common/`).

mod common;

use common::client::{Harness, config, plaintext_ok};
use common::esc;
use smtp_sansio::client::{
    AuthConfig, ClientConfig, ClientError, CloseReason, Event, StartTlsPolicy, UsageErrorKind,
};
use smtp_sansio::types::{Mechanism, Secret};

fn auth_config(auth: AuthConfig) -> ClientConfig {
    let mut c = config();
    c.auth = Some(auth);
    c
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
