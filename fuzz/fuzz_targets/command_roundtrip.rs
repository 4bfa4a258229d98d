//! Commands built through the public constructors from arbitrary parts.
//!
//! Asserts "no value the API can build is invalid": every command assembled from values
//! the constructors accept (values they refuse are skipped) encodes to one CRLF-terminated
//! line that `decode_command` reads back, under the strict grammar, to an equal command,
//! and `parse_command` on the line without its CRLF agrees.
#![no_main]

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::types::{
    AddressLiteral, Argument, Body, Command, Domain, ForwardPath, Host, InitialResponse, LocalPart,
    MailAuth, MailParams, Mailbox, Mechanism, MtPriority, Notify, Orcpt, Param, RcptParams, Ret,
    ReversePath, XText,
};
use smtp_sansio::{Grammar, decode_command, parse_command};

/// A string drawn mostly from characters that matter to the grammar, so that the
/// constructors accept a useful share of the values.
fn text(u: &mut Unstructured<'_>, alphabet: &str) -> arbitrary::Result<String> {
    if u.ratio(1, 4)? {
        return String::arbitrary(u);
    }
    let chars: Vec<char> = alphabet.chars().collect();
    let n = u.int_in_range(0..=24)?;
    let mut s = String::new();
    for _ in 0..n {
        s.push(*u.choose(&chars)?);
    }
    Ok(s)
}

const LDH: &str = "abcxyzABZ0189-";
const ATEXT: &str = "abcXYZ019!#$%&'*+-/=?^_`{|}~.é€😀";
const QTEXT: &str = "ab \"\\(),:;<>@[]é.\t";
const VALUE: &str = "aZ09!+=-<>;,.:/é\"";
const ARG: &str = "ab \t<>@\"\\=:.é";

fn domain(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Domain<'static>>> {
    let s = if u.ratio(1, 5)? {
        text(u, "ab-9.é_")?
    } else {
        let labels = u.int_in_range(1..=4)?;
        let mut v = Vec::new();
        for _ in 0..labels {
            let l = text(u, LDH)?;
            v.push(if u.ratio(1, 8)? { format!("{l}é") } else { l });
        }
        v.join(".")
    };
    Ok(Domain::new(s).ok())
}

fn host(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Host<'static>>> {
    Ok(match u.int_in_range(0..=3)? {
        0 => domain(u)?.map(Host::Domain),
        1 => Some(Host::Literal(AddressLiteral::Ipv4(Ipv4Addr::from(
            u32::arbitrary(u)?,
        )))),
        2 => Some(Host::Literal(AddressLiteral::Ipv6(Ipv6Addr::from(
            u128::arbitrary(u)?,
        )))),
        _ => AddressLiteral::general(text(u, LDH)?, text(u, "abc:;!~Z09.")?)
            .ok()
            .map(|l| Host::Literal(l.into_owned())),
    })
}

fn mailbox(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Mailbox<'static>>> {
    let local = match u.int_in_range(0..=2)? {
        0 => LocalPart::quote(&text(u, QTEXT)?).ok(),
        1 => LocalPart::new(text(u, ATEXT)?).ok(),
        _ => LocalPart::new(format!("\"{}\"", text(u, QTEXT)?)).ok(),
    };
    let Some(local) = local else { return Ok(None) };
    let Some(host) = host(u)? else {
        return Ok(None);
    };
    let m = Mailbox::new(local.into_owned(), host);
    // Mailbox::parse reads the unbracketed form back.
    let mut b = BytesMut::new();
    m.encode(&mut b);
    if let Ok(s) = std::str::from_utf8(&b) {
        let p = Mailbox::parse(s).unwrap_or_else(|e| panic!("Mailbox::parse({s:?}): {e}"));
        assert_eq!(p, m, "Mailbox::parse changed {s:?}");
    }
    Ok(Some(m))
}

fn xtext(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<XText<'static>>> {
    Ok(XText::new(text(u, "ab+=<> é\u{1}")?).ok())
}

/// Unknown parameters; `typed` are the keywords this command types itself.
fn others(u: &mut Unstructured<'_>, typed: &[&str]) -> arbitrary::Result<Vec<Param<'static>>> {
    let mut v: Vec<Param<'static>> = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        // Now and then a typed keyword, which Param::new must refuse.
        let k = if u.ratio(1, 4)? {
            u.choose(&[MAIL_TYPED, RCPT_TYPED].concat())?.to_lowercase()
        } else {
            text(u, "XYZ09-ab")?
        };
        let val = if bool::arbitrary(u)? {
            Some(Cow::Owned(text(u, VALUE)?))
        } else {
            None
        };
        if let Ok(p) = Param::new(k, val) {
            v.push(p);
        }
    }
    // Param::new refuses typed keywords; repeats are allowed and must read back.
    assert!(v.iter().all(|p| !typed.iter().any(|t| p.keyword().eq_ignore_ascii_case(t))));
    Ok(v)
}

const MAIL_TYPED: &[&str] = &[
    "SIZE",
    "BODY",
    "SMTPUTF8",
    "RET",
    "ENVID",
    "AUTH",
    "REQUIRETLS",
    "MT-PRIORITY",
];
const RCPT_TYPED: &[&str] = &["NOTIFY", "ORCPT"];

fn mail_params(u: &mut Unstructured<'_>) -> arbitrary::Result<MailParams<'static>> {
    let mut p = MailParams::default();
    p.size = Option::<u64>::arbitrary(u)?;
    p.body = match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(Body::SevenBit),
        2 => Some(Body::EightBitMime),
        _ => Some(Body::BinaryMime),
    };
    p.smtputf8 = bool::arbitrary(u)?;
    p.ret = match u.int_in_range(0..=2)? {
        0 => None,
        1 => Some(Ret::Full),
        _ => Some(Ret::Hdrs),
    };
    p.envid = if bool::arbitrary(u)? { xtext(u)? } else { None };
    p.auth = match u.int_in_range(0..=2)? {
        0 => None,
        1 => Some(MailAuth::Unknown),
        _ => xtext(u)?.map(MailAuth::Identity),
    };
    p.requiretls = bool::arbitrary(u)?;
    p.mt_priority = if bool::arbitrary(u)? {
        MtPriority::new(i8::arbitrary(u)?).ok()
    } else {
        None
    };
    p.other = others(u, MAIL_TYPED)?;
    Ok(p)
}

fn rcpt_params(u: &mut Unstructured<'_>) -> arbitrary::Result<RcptParams<'static>> {
    let mut p = RcptParams::default();
    p.notify = match u.int_in_range(0..=2)? {
        0 => None,
        1 => Some(Notify::Never),
        _ => Notify::on(
            bool::arbitrary(u)?,
            bool::arbitrary(u)?,
            bool::arbitrary(u)?,
        )
        .ok(),
    };
    if bool::arbitrary(u)? {
        if let Some(x) = xtext(u)? {
            p.orcpt = Orcpt::new(text(u, "rfc822;=+ab")?, x).ok();
        }
    }
    p.other = others(u, RCPT_TYPED)?;
    Ok(p)
}

fn argument(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Argument<'static>>> {
    Ok(Argument::new(text(u, ARG)?).ok())
}

fn command(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<Command<'static>>> {
    Ok(match u.int_in_range(0..=15)? {
        0 => host(u)?.map(Command::Ehlo),
        1 => host(u)?.map(Command::Helo),
        2 => host(u)?.map(Command::Lhlo),
        3 => {
            let from = if u.ratio(1, 4)? {
                Some(ReversePath::Null)
            } else {
                mailbox(u)?.map(ReversePath::Mailbox)
            };
            let params = mail_params(u)?;
            from.map(|from| Command::Mail { from, params })
        }
        4 => {
            let to = if u.ratio(1, 4)? {
                Some(ForwardPath::Postmaster)
            } else {
                mailbox(u)?.map(ForwardPath::Mailbox)
            };
            let params = rcpt_params(u)?;
            to.map(|to| Command::Rcpt { to, params })
        }
        5 => Some(Command::Data),
        6 => Some(Command::Bdat {
            size: u64::arbitrary(u)?,
            last: bool::arbitrary(u)?,
        }),
        7 => Some(Command::Rset),
        8 => argument(u)?.map(Command::Vrfy),
        9 => argument(u)?.map(Command::Expn),
        10 => Some(Command::Help(argument(u)?)),
        11 => Some(Command::Noop(argument(u)?)),
        12 => Some(Command::Quit),
        13 => Some(Command::StartTls),
        14 => {
            let mech = match u.int_in_range(0..=4)? {
                0 => Some(Mechanism::PLAIN),
                1 => Some(Mechanism::LOGIN),
                2 => Some(Mechanism::XOAUTH2),
                3 => Some(Mechanism::OAUTHBEARER),
                _ => Mechanism::new(text(u, "ABCxyz09-_")?).ok(),
            };
            // Any text goes to the constructor; what it accepts must round-trip.
            let ir = match u.int_in_range(0..=2)? {
                0 => None,
                1 => Some("=".to_owned()),
                _ => Some(text(u, "QUJDabc0189+/=\r\n *")?),
            };
            let ir = match ir.map(InitialResponse::new) {
                None => None,
                Some(Ok(ir)) => Some(ir),
                Some(Err(_)) => return Ok(None),
            };
            mech.map(|mechanism| Command::Auth {
                mechanism: mechanism.into_owned(),
                initial_response: ir,
            })
        }
        _ => {
            // Through the checked constructor: whatever it accepts must round-trip.
            let verb = text(u, "XYZab09-\r\n")?;
            let args = if bool::arbitrary(u)? {
                Some(text(u, ARG)?)
            } else {
                None
            };
            Command::other(&verb, args.as_deref())
                .ok()
                .map(Command::into_owned)
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(Some(cmd)) = command(&mut u) else {
        return;
    };
    let mut b = BytesMut::new();
    cmd.encode(&mut b);
    let wire = b.to_vec();
    assert!(wire.ends_with(b"\r\n"));
    assert_eq!(
        wire.windows(2).filter(|w| w == b"\r\n").count(),
        1,
        "encoded command holds more than one line: {wire:?}"
    );
    for g in [Grammar::strict(), Grammar::lenient()] {
        let (rest, back) = decode_command(&wire, &g).unwrap_or_else(|e| {
            panic!(
                "built command does not parse ({e}):\n  wire  {:?}\n  value {cmd:?}",
                String::from_utf8_lossy(&wire)
            )
        });
        assert!(rest.is_empty());
        assert_eq!(back, cmd, "wire {:?}", String::from_utf8_lossy(&wire));
        assert_eq!(
            parse_command(&wire[..wire.len() - 2], &g).as_ref(),
            Ok(&cmd)
        );
    }
});
