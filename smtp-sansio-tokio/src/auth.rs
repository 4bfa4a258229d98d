//! Checking AUTH PLAIN and LOGIN credentials (RFC 4616, RFC 4954) and the senders an
//! account may use (RFC 6409 6.1).

use std::fmt;

use ring::digest::{SHA256, digest};
use smtp_sansio::server::AuthRequest;
use smtp_sansio::types::{Host, Mailbox, Reply, ReversePath};

/// Decides AUTH PLAIN/LOGIN attempts for a server
/// ([`ServerBuilder::credentials`](crate::ServerBuilder::credentials)), and which senders
/// an authenticated user may name in `MAIL FROM`.
pub trait PasswordVerifier: Send + Sync + 'static {
    /// True when `password` belongs to `user`.
    fn verify(&self, user: &str, password: &str) -> bool;

    /// True when the authenticated `user` may name `from` as the sender (RFC 6409 6.1).
    /// The default allows any.
    fn may_send_as(&self, user: &str, from: &ReversePath<'_>) -> bool {
        let _ = (user, from);
        true
    }

    /// Judges the machine's decoded AUTH PLAIN/LOGIN request: the password must be the
    /// user's, and a PLAIN authorization identity, if any, the user's own (acting for
    /// someone else, RFC 4616 2, is a right no verifier here grants).
    fn accepts(&self, request: &AuthRequest) -> bool {
        let own = request
            .authzid
            .as_deref()
            .is_none_or(|z| z.is_empty() || z == request.authcid);
        own && self.verify(&request.authcid, request.password.expose())
    }

    /// The answer to `MAIL FROM` (RFC 6409 6.1): `None` to go on, or the `553 5.7.1`
    /// refusal when the authenticated `user` may not send as `from`. Sessions without a
    /// user are not checked here (whether MAIL needs AUTH is the configuration's).
    fn sender_refusal(&self, user: Option<&str>, from: &ReversePath<'_>) -> Option<Reply> {
        let user = user?;
        (!self.may_send_as(user, from)).then(|| sender_not_allowed(user))
    }
}

impl<T: PasswordVerifier> PasswordVerifier for std::sync::Arc<T> {
    fn verify(&self, user: &str, password: &str) -> bool {
        (**self).verify(user, password)
    }

    fn may_send_as(&self, user: &str, from: &ReversePath<'_>) -> bool {
        (**self).may_send_as(user, from)
    }
}

/// A table of accounts: name, password (kept only as a SHA-256 digest, compared in
/// constant time) and optionally the senders the account may use.
#[derive(Debug, Default, Clone)]
pub struct Credentials {
    accounts: Vec<Account>,
}

#[derive(Debug, Clone)]
struct Account {
    name: String,
    hash: [u8; 32],
    /// The senders this account may use; `None`: any.
    senders: Option<Vec<Sender>>,
}

/// One entry of an account's address list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sender {
    /// `local@domain`: the local part exactly, the domain in any case (RFC 5321 2.4).
    Exact { local: String, domain: String },
    /// `*@domain`: every local part at the domain.
    Domain(String),
}

impl Sender {
    fn parse(item: &str) -> Option<Sender> {
        let (local, domain) = item.rsplit_once('@')?;
        if domain.is_empty() || local.is_empty() || domain.contains([':', '@', ' ']) {
            return None;
        }
        let domain = domain.to_ascii_lowercase();
        Some(match local {
            "*" => Sender::Domain(domain),
            _ => Sender::Exact {
                local: local.to_owned(),
                domain,
            },
        })
    }

    fn matches(&self, local: &str, domain: &str) -> bool {
        match self {
            Sender::Exact {
                local: l,
                domain: d,
            } => l == local && d.eq_ignore_ascii_case(domain),
            Sender::Domain(d) => d.eq_ignore_ascii_case(domain),
        }
    }
}

/// A `NAME:PASSWORD[:ADDRESSES]` account specification that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialsError(pub String);

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CredentialsError {}

/// So that a command-line parser returning `Result<_, String>` can use `?`.
impl From<CredentialsError> for String {
    fn from(e: CredentialsError) -> String {
        e.0
    }
}

impl Credentials {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an account that may send as anyone.
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.accounts.push(Account {
            name: name.to_owned(),
            hash: sha256(password.as_bytes()),
            senders: None,
        });
        self
    }

    /// Adds `NAME:PASSWORD` or `NAME:PASSWORD:ADDRESSES`. The password may itself contain
    /// `:`: the part after the last `:` is read as an address list only when every
    /// comma-separated item in it is `local@domain` or `*@domain`.
    pub fn add(&mut self, spec: &str) -> Result<(), CredentialsError> {
        let Some((name, rest)) = spec.split_once(':').filter(|(n, _)| !n.is_empty()) else {
            return Err(CredentialsError(format!(
                "--user wants NAME:PASSWORD[:ADDRESSES], got {spec:?}"
            )));
        };
        let (password, senders) = match rest.rsplit_once(':') {
            Some((password, list)) => match list.split(',').map(Sender::parse).collect() {
                Some(senders) => (password, Some(senders)),
                None => (rest, None),
            },
            None => (rest, None),
        };
        self.accounts.push(Account {
            name: name.to_owned(),
            hash: sha256(password.as_bytes()),
            senders,
        });
        Ok(())
    }

    /// True when there is no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// True when `password` belongs to `name`. Every account is compared, in constant
    /// time per account, so the answer's timing tells nothing about near misses.
    pub fn check(&self, name: &str, password: &str) -> bool {
        let guess = sha256(password.as_bytes());
        let mut found = false;
        for a in &self.accounts {
            let same_name = a.name.as_bytes() == name.as_bytes();
            found |= same_name & constant_time_eq(&a.hash, &guess);
        }
        found
    }

    /// True when the authenticated `user` may name `from` as the sender. Accounts without
    /// an address list may use any; `<>` is always allowed (a client's bounces and
    /// delivery reports carry the null reverse path, RFC 5321 4.5.5, RFC 8098 3).
    pub fn may_send_as(&self, user: &str, from: &ReversePath<'_>) -> bool {
        let Some(account) = self.accounts.iter().find(|a| a.name == user) else {
            return false;
        };
        let Some(senders) = &account.senders else {
            return true;
        };
        match from {
            ReversePath::Mailbox(m) => mailbox_in(senders, m),
            _ => true,
        }
    }
}

impl PasswordVerifier for Credentials {
    fn verify(&self, user: &str, password: &str) -> bool {
        self.check(user, password)
    }

    fn may_send_as(&self, user: &str, from: &ReversePath<'_>) -> bool {
        Credentials::may_send_as(self, user, from)
    }
}

/// `553 5.7.1`, naming the user when its name fits in a reply.
pub(crate) fn sender_not_allowed(user: &str) -> Reply {
    format!("553 5.7.1 Sender address not allowed for user {user}")
        .parse()
        .unwrap_or_else(|_| crate::fixed_reply(crate::replies::SENDER_NOT_ALLOWED))
}

fn mailbox_in(senders: &[Sender], m: &Mailbox<'_>) -> bool {
    let domain = match m.host() {
        Host::Domain(d) => d.as_str().to_owned(),
        other => other.to_string(),
    };
    let local = m.local_part().unquoted();
    senders.iter().any(|s| s.matches(&local, &domain))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_bound_to_addresses_sends_only_as_them() {
        let mut c = Credentials::new();
        c.add("u:pass:word:u@Example.org,*@other.test").unwrap();
        assert!(c.check("u", "pass:word"));
        assert!(!c.check("u", "pass"));
        let from = |s: &str| ReversePath::Mailbox(Mailbox::parse(s).unwrap().into_owned());
        assert!(c.may_send_as("u", &from("u@example.ORG")));
        assert!(c.may_send_as("u", &from("x@other.test")));
        assert!(!c.may_send_as("u", &from("U@example.org")));
        assert!(c.may_send_as("u", &ReversePath::Null));
        assert!(c.sender_refusal(Some("u"), &from("a@b.test")).is_some());
    }

    #[test]
    fn password_with_colon_and_no_address_list_is_kept_whole() {
        let mut c = Credentials::new();
        c.add("u:a:b").unwrap();
        assert!(c.check("u", "a:b"));
        assert!(c.add(":x").is_err());
    }
}

#[cfg(test)]
mod verifier_tests {
    use std::sync::Arc;
    use std::time::Instant;

    use smtp_sansio::server::{Event, Server, ServerConfig};
    use smtp_sansio::types::Mechanism;

    use super::*;

    /// The machine's decoded `AUTH PLAIN <initial>`.
    fn request(initial: &str) -> AuthRequest {
        let now = Instant::now();
        let mut config = ServerConfig::new("mx.example");
        config.auth_mechanisms = vec![Mechanism::PLAIN];
        config.auth_requires_tls = false;
        let mut s = Server::new(Arc::new(config), now).unwrap();
        s.handle_input(
            now,
            format!("EHLO c.example\r\nAUTH PLAIN {initial}\r\n").as_bytes(),
        );
        loop {
            match s.poll_event().expect("an AUTH event") {
                Event::Hello(h) => s.accept(now, h.ticket).unwrap(),
                Event::Auth(a) => return a,
                _ => {}
            }
        }
    }

    #[test]
    fn auth_for_someone_else_is_refused_even_with_the_right_password() {
        let c = Credentials::new().user("u", "pass");
        assert!(c.accepts(&request("AHUAcGFzcw==")));
        assert!(c.accepts(&request("dQB1AHBhc3M=")), "own authzid");
        assert!(!c.accepts(&request("b3RoZXIAdQBwYXNz")), "authzid other");
        assert!(!c.accepts(&request("AHUAd3Jvbmc=")), "wrong password");
    }

    #[test]
    fn sender_refusal_is_553_only_for_a_user_bound_elsewhere() {
        let mut c = Credentials::new();
        c.add("u:p:u@example.org").unwrap();
        let from = ReversePath::Mailbox(Mailbox::parse("x@example.org").unwrap().into_owned());
        let no = c.sender_refusal(Some("u"), &from).expect("refused");
        assert_eq!(no.to_string().get(..9), Some("553 5.7.1"));
        assert!(c.sender_refusal(None, &from).is_none());
        let own = ReversePath::Mailbox(Mailbox::parse("u@example.org").unwrap().into_owned());
        assert!(c.sender_refusal(Some("u"), &own).is_none());
    }
}
