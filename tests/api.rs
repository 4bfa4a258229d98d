//! Small conveniences an embedding reaches for: paths from strings, replies without
//! parsing, the re-exported `bytes`.

use smtp_sansio::types::{
    EnhancedStatus, ForwardPath, LocalPart, Mailbox, Reply, ReplyCode, ReversePath,
};

#[test]
fn paths_parse_from_strings_with_or_without_brackets() {
    let r: ReversePath<'static> = "<>".parse().expect("null path");
    assert_eq!(r, ReversePath::Null);
    let r: ReversePath<'static> = "<a@example.org>".parse().expect("path");
    assert_eq!(r.to_string(), "<a@example.org>");
    let r: ReversePath<'static> = "a@example.org".parse().expect("bare mailbox");
    assert_eq!(r.to_string(), "<a@example.org>");
    // A source route is accepted and dropped (RFC 5321 4.1.1.3).
    let r: ReversePath<'static> = "<@relay.example:a@example.org>".parse().expect("route");
    assert_eq!(r.to_string(), "<a@example.org>");

    let f: ForwardPath<'static> = "<postmaster>".parse().expect("postmaster");
    assert_eq!(f, ForwardPath::Postmaster);
    let f: ForwardPath<'static> = "b@example.net".parse().expect("bare");
    assert_eq!(f.to_string(), "<b@example.net>");

    let m: Mailbox<'static> = "\"john q\"@example.org".parse().expect("quoted");
    assert_eq!(m.local_part().to_string(), "\"john q\"");

    for bad in [
        "",
        "<",
        "<a@example.org",
        "a@",
        "<a@example.org> ",
        "<a@b@c>",
        "a\r\n@x.example",
    ] {
        assert!(bad.parse::<ReversePath<'static>>().is_err(), "{bad:?}");
        assert!(bad.parse::<ForwardPath<'static>>().is_err(), "{bad:?}");
    }
    assert!("<>".parse::<ForwardPath<'static>>().is_err());
}

#[test]
fn local_part_displays_as_on_the_wire() {
    let l = LocalPart::quote("john q").expect("quotable");
    assert_eq!(l.to_string(), "\"john q\"");
    assert_eq!(LocalPart::new("plain").expect("atom").to_string(), "plain");
}

#[test]
fn common_replies_need_no_parsing() {
    let cases: [(Reply, &str); 10] = [
        (Reply::ok(), "250 2.0.0 OK\r\n"),
        (
            Reply::local_error(),
            "451 4.3.0 Local error in processing, try again later\r\n",
        ),
        (
            Reply::mailbox_busy(),
            "450 4.2.1 Mailbox busy, try again later\r\n",
        ),
        (Reply::no_such_user(), "550 5.1.1 No such user here\r\n"),
        (Reply::relay_denied(), "550 5.7.1 Relaying denied\r\n"),
        (
            Reply::sender_not_allowed(),
            "553 5.7.1 Sender address not allowed for this account\r\n",
        ),
        (
            Reply::auth_failed(),
            "535 5.7.8 Authentication credentials invalid\r\n",
        ),
        (
            Reply::unrecognized_mechanism(),
            "504 5.5.4 Unrecognized authentication type\r\n",
        ),
        (
            Reply::too_big(),
            "552 5.3.4 Message size exceeds fixed limit\r\n",
        ),
        (Reply::refused(), "554 5.7.1 Message refused\r\n"),
    ];
    for (reply, wire) in cases {
        assert_eq!(&reply.to_bytes()[..], wire.as_bytes());
        // What they encode parses back to the same value.
        assert_eq!(wire.parse::<Reply>().expect("parses"), reply);
    }
    let status = EnhancedStatus::new(4, 7, 0).expect("status");
    let r = Reply::fixed_text(ReplyCode::TEMPORARY_FAILURE, status, "Try\r\nlater");
    assert_eq!(&r.to_bytes()[..], b"454 4.7.0 Try  later\r\n");
}

#[test]
fn bytes_is_re_exported() {
    let b: smtp_sansio::bytes::Bytes = smtp_sansio::bytes::Bytes::from_static(b"x");
    assert_eq!(&b[..], b"x");
}
