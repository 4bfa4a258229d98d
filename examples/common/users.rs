//! The accounts given with `--user NAME:PASSWORD`, and the credential check for AUTH.

use ring::digest::{SHA256, digest};

/// Name and password pairs. Passwords are kept only as SHA-256 digests so that the
/// comparison takes the same time whatever the length or content of the guess.
#[derive(Debug, Default)]
pub struct Users {
    accounts: Vec<(String, [u8; 32])>,
}

impl Users {
    /// Adds `NAME:PASSWORD` (the password may itself contain `:`).
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        match spec.split_once(':') {
            Some((name, password)) if !name.is_empty() => {
                self.accounts
                    .push((name.to_owned(), sha256(password.as_bytes())));
                Ok(())
            }
            _ => Err(format!("--user wants NAME:PASSWORD, got {spec:?}")),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// True when `password` belongs to `name`. Every account is compared, in constant
    /// time per account, so the answer's timing tells nothing about near misses.
    pub fn check(&self, name: &str, password: &str) -> bool {
        let guess = sha256(password.as_bytes());
        let mut found = false;
        for (user, hash) in &self.accounts {
            let same_name = user.as_bytes() == name.as_bytes();
            found |= same_name & constant_time_eq(hash, &guess);
        }
        found
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
