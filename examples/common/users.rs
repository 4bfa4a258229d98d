//! The accounts given with `--user NAME:PASSWORD[:ADDRESSES]`, the credential check for
//! AUTH, and the sender check for MAIL (RFC 6409 6.1).

use ring::digest::{SHA256, digest};
use smtp_sansio::types::{Host, Mailbox, Reply, ReversePath};

/// The accounts. Passwords are kept only as SHA-256 digests so that the comparison takes
/// the same time whatever the length or content of the guess.
#[derive(Debug, Default)]
pub struct Users {
    accounts: Vec<Account>,
}

#[derive(Debug)]
struct Account {
    name: String,
    hash: [u8; 32],
    /// The senders this account may use; `None`: any.
    senders: Option<Vec<Sender>>,
}

/// One entry of an account's address list.
#[derive(Debug, PartialEq, Eq)]
enum Sender {
    /// `local@domain`: the local part exactly, the domain in any case (RFC 5321 2.4).
    Exact { local: String, domain: String },
    /// `*@domain`: every local part at the domain.
    Domain(String),
}

impl Sender {
    /// One list item, or `None` when it does not look like an address.
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

impl Users {
    /// Adds `NAME:PASSWORD` or `NAME:PASSWORD:ADDRESSES`. The password may itself contain
    /// `:`, as it always could: the part after the last `:` is read as an address list
    /// only when every comma-separated item in it is `local@domain` or `*@domain`.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let Some((name, rest)) = spec.split_once(':').filter(|(n, _)| !n.is_empty()) else {
            return Err(format!(
                "--user wants NAME:PASSWORD[:ADDRESSES], got {spec:?}"
            ));
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

    /// The answer to `MAIL FROM` for a session (RFC 6409 6.1): `None` to go on, or the
    /// `553 5.7.1` refusal. Sessions without a user are not checked here (whether MAIL
    /// needs AUTH is the machine's `require_auth`).
    pub fn sender_refusal(&self, user: Option<&str>, from: &ReversePath<'_>) -> Option<Reply> {
        let user = user?;
        if self.may_send_as(user, from) {
            return None;
        }
        let text = format!("553 5.7.1 Sender address not allowed for user {user}");
        Some(
            text.parse()
                .unwrap_or_else(|_| fixed("553 5.7.1 Sender address not allowed")),
        )
    }
}

fn mailbox_in(senders: &[Sender], m: &Mailbox<'_>) -> bool {
    let domain = match m.host() {
        Host::Domain(d) => d.as_str().to_owned(),
        other => other.to_string(),
    };
    let local = m.local_part().unquoted();
    senders.iter().any(|s| s.matches(&local, &domain))
}

fn fixed(s: &str) -> Reply {
    s.parse().expect("fixed replies are valid")
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
