//! The grammar tests' builders for expected values and their known-answer table
//! machinery: each row is run under the strict and the lenient grammar.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use smtp_sansio::types::{
    AddressLiteral, Argument, Command, Domain, ForwardPath, Host, InitialResponse, Keyword,
    LocalPart, MailParams, Mailbox, Mechanism, MtPriority, Param, RcptParams, ReversePath, XText,
};
use smtp_sansio::{DecodeError, Grammar, SyntaxErrorKind, parse_command};

use super::script::esc;

// ---------------------------------------------------------------------------------------
// Builders for expected values.

pub fn dom(s: &'static str) -> Domain<'static> {
    Domain::new(s).unwrap_or_else(|e| panic!("test domain {s:?}: {e}"))
}

pub fn hd(s: &'static str) -> Host<'static> {
    Host::Domain(dom(s))
}

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> Host<'static> {
    Host::Literal(AddressLiteral::Ipv4(Ipv4Addr::new(a, b, c, d)))
}

pub fn v6(s: &str) -> Host<'static> {
    Host::Literal(AddressLiteral::Ipv6(s.parse::<Ipv6Addr>().unwrap()))
}

pub fn general(tag: &'static str, content: &'static str) -> Host<'static> {
    Host::Literal(AddressLiteral::general(tag, content).unwrap())
}

pub fn mbox(local: &'static str, host: Host<'static>) -> Mailbox<'static> {
    Mailbox::new(
        LocalPart::new(local).unwrap_or_else(|e| panic!("{local:?}: {e}")),
        host,
    )
}

pub fn from(local: &'static str, host: &'static str) -> ReversePath<'static> {
    ReversePath::Mailbox(mbox(local, hd(host)))
}

pub fn to(local: &'static str, host: &'static str) -> ForwardPath<'static> {
    ForwardPath::Mailbox(mbox(local, hd(host)))
}

pub fn mail(from: ReversePath<'static>) -> Command<'static> {
    Command::Mail {
        from,
        params: MailParams::default(),
    }
}

pub fn mail_p(
    from: ReversePath<'static>,
    f: impl FnOnce(&mut MailParams<'static>),
) -> Command<'static> {
    let mut params = MailParams::default();
    f(&mut params);
    Command::Mail { from, params }
}

pub fn rcpt(to: ForwardPath<'static>) -> Command<'static> {
    Command::Rcpt {
        to,
        params: RcptParams::default(),
    }
}

pub fn rcpt_p(
    to: ForwardPath<'static>,
    f: impl FnOnce(&mut RcptParams<'static>),
) -> Command<'static> {
    let mut params = RcptParams::default();
    f(&mut params);
    Command::Rcpt { to, params }
}

pub fn xt(s: &'static str) -> XText<'static> {
    XText::new(s).unwrap()
}

pub fn param(k: &'static str, v: Option<&'static str>) -> Param<'static> {
    Param::new(k, v.map(Cow::Borrowed)).unwrap()
}

pub fn arg(s: &'static str) -> Argument<'static> {
    Argument::new(s).unwrap()
}

pub fn auth(mech: &'static str, ir: Option<&'static str>) -> Command<'static> {
    Command::Auth {
        mechanism: Mechanism::new(mech).unwrap(),
        initial_response: ir.map(|s| InitialResponse::new(s).unwrap()),
    }
}

pub fn other(verb: &'static str, args: Option<&'static str>) -> Command<'static> {
    Command::Other {
        verb: Keyword::new(verb).unwrap(),
        args: args.map(|a| Argument::new(a).unwrap()),
    }
}

pub fn bdat(size: u64, last: bool) -> Command<'static> {
    Command::Bdat { size, last }
}

// ---------------------------------------------------------------------------------------
// Command table machinery.

#[derive(Debug, Clone)]
pub enum Want {
    Ok(Command<'static>),
    /// A syntax error of this kind, offset not checked.
    Err(SyntaxErrorKind),
    /// A syntax error of this kind at this offset.
    ErrAt(usize, SyntaxErrorKind),
}

#[allow(unused_imports)]
pub use Want::{Err as E, ErrAt as EAt, Ok as K};

pub struct Row {
    pub input: &'static [u8],
    pub strict: Want,
    pub lenient: Want,
}

/// Same answer under both grammars.
pub fn r(input: &'static [u8], w: Want) -> Row {
    Row {
        input,
        strict: w.clone(),
        lenient: w,
    }
}

/// Different answers: strict first.
pub fn r2(input: &'static [u8], strict: Want, lenient: Want) -> Row {
    Row {
        input,
        strict,
        lenient,
    }
}

pub fn matches(got: &Result<Command<'_>, DecodeError>, want: &Want) -> bool {
    match (got, want) {
        (Ok(c), Want::Ok(w)) => c == w,
        (Err(DecodeError::Syntax { kind, .. }), Want::Err(k)) => kind == k,
        (Err(DecodeError::Syntax { offset, kind }), Want::ErrAt(o, k)) => kind == k && offset == o,
        _ => false,
    }
}

pub fn run(rows: &[Row]) {
    let mut failures = Vec::new();
    for row in rows {
        for (name, g, want) in [
            ("strict", Grammar::strict(), &row.strict),
            ("lenient", Grammar::lenient(), &row.lenient),
        ] {
            let got = parse_command(row.input, &g);
            if !matches(&got, want) {
                failures.push(format!(
                    "  {name:7} \"{}\"\n    want {want:?}\n    got  {got:?}",
                    esc(row.input)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A domain that only the lenient grammar accepts, taken from a lenient parse.
pub fn hd_lenient(s: &'static str) -> Host<'static> {
    assert!(Domain::new(s).is_err(), "{s} should not be a strict domain");
    let line = format!("EHLO {s}");
    match parse_command(line.as_bytes(), &Grammar::lenient()) {
        Ok(Command::Ehlo(h)) => h.into_owned(),
        other => panic!("lenient EHLO {s}: {other:?}"),
    }
}

pub fn pri(v: i8) -> MtPriority {
    MtPriority::new(v).unwrap()
}
