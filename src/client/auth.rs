//! SMTP AUTH, client side (RFC 4954): mechanism choice, initial response, `334` loop.

use std::time::Instant;

use super::{Client, ClientError, Credentials, Event, Expect, State, UsageError, UsageErrorKind};
use crate::sasl;
use crate::types::{Command, InitialResponse, Mechanism, Reply, ReplyCode, Secret};

/// RFC 5321 4.5.3.1.4: a command line, CRLF included, is at most 512 octets; RFC 4954 4
/// sends the initial response after a `334` instead when it would not fit.
const MAX_COMMAND_LINE: usize = 512;

/// How the steps of the chosen mechanism go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// `step` counts the `334`s answered: user name, then password.
    Login {
        step: u8,
    },
    XOauth2,
    OAuthBearer,
    Custom,
}

/// An AUTH exchange in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AuthState {
    mechanism: Mechanism<'static>,
    kind: Kind,
    /// The initial response that did not fit on the AUTH line, base64 encoded.
    pending: Option<Secret<String>>,
    /// A custom mechanism's challenge waits for the application's answer.
    awaiting_app: bool,
}

fn kind_for(credentials: &Credentials, m: &Mechanism<'_>) -> Option<Kind> {
    match credentials {
        Credentials::Custom { .. } => Some(Kind::Custom),
        Credentials::Password { .. } if *m == Mechanism::PLAIN => Some(Kind::Plain),
        Credentials::Password { .. } if *m == Mechanism::LOGIN => Some(Kind::Login { step: 0 }),
        Credentials::Bearer { .. } if *m == Mechanism::XOAUTH2 => Some(Kind::XOauth2),
        Credentials::Bearer { .. } if *m == Mechanism::OAUTHBEARER => Some(Kind::OAuthBearer),
        _ => None,
    }
}

/// Base64 as SASL wants it on the wire: an empty response is `=` (RFC 4954 4).
fn b64(raw: &[u8]) -> Secret<String> {
    if raw.is_empty() {
        Secret::new("=".to_owned())
    } else {
        Secret::new(sasl::base64_encode(raw))
    }
}

impl Client {
    pub(super) fn begin_auth(&mut self, now: Instant) {
        let Some(auth) = self.config.auth.as_ref() else {
            return self.ready(now);
        };
        if !self.tls && !auth.allow_plaintext_without_tls {
            return self.fail_and_quit(now, ClientError::AuthRequiresTls);
        }
        let offered = self
            .caps
            .as_ref()
            .map(|c| c.auth_mechanisms())
            .unwrap_or_default();
        if offered.is_empty() {
            return self.fail_and_quit(now, ClientError::AuthNotOffered);
        }
        let chosen = auth
            .mechanisms
            .iter()
            .filter(|m| offered.contains(m))
            .find_map(|m| kind_for(&auth.credentials, m).map(|k| (m.clone(), k)));
        let Some((mechanism, kind)) = chosen else {
            return self.fail_and_quit(now, ClientError::NoCommonMechanism);
        };
        let raw: Option<Secret<Vec<u8>>> = match (&auth.credentials, kind) {
            (
                Credentials::Password {
                    authzid,
                    username,
                    password,
                },
                Kind::Plain,
            ) => Some(Secret::new(sasl::encode_plain(
                authzid.as_deref(),
                username,
                password.expose(),
            ))),
            (Credentials::Bearer { user, token }, Kind::XOauth2) => {
                Some(Secret::new(sasl::encode_xoauth2(user, token.expose())))
            }
            (Credentials::Bearer { user, token }, Kind::OAuthBearer) => Some(Secret::new(
                sasl::encode_oauthbearer(user, None, None, token.expose()),
            )),
            (Credentials::Custom { initial_response }, _) => initial_response.clone(),
            _ => None,
        };
        let ir = raw.map(|r| b64(r.expose()));
        let fits = |ir: &Secret<String>| {
            "AUTH ".len() + mechanism.as_str().len() + 1 + ir.expose().len() + 2 <= MAX_COMMAND_LINE
        };
        let (on_line, pending) = match ir {
            Some(ir) if fits(&ir) => (Some(ir), None),
            other => (None, other),
        };
        let cmd = Command::Auth {
            mechanism: mechanism.clone(),
            // Base64 output is visible ASCII, so the check cannot fail.
            initial_response: on_line.and_then(|s| InitialResponse::new(s.into_inner()).ok()),
        };
        self.state = State::Auth(AuthState {
            mechanism,
            kind,
            pending,
            awaiting_app: false,
        });
        self.send(now, &cmd, Expect::Auth);
    }

    pub(super) fn on_auth(&mut self, now: Instant, reply: Reply) {
        let State::Auth(st) = &mut self.state else {
            return self.fatal(ClientError::UnexpectedReply(reply));
        };
        if reply.code().is_positive() {
            let mechanism = st.mechanism.clone();
            self.authenticated = true;
            self.events.push_back(Event::Authenticated { mechanism });
            return self.ready(now);
        }
        if reply.code() != ReplyCode::AUTH_CHALLENGE {
            return self.fail_and_quit(now, ClientError::AuthFailed(reply));
        }
        if let Some(ir) = st.pending.take() {
            return self.send_secret_line(now, ir);
        }
        let line: Secret<String> = match (
            &mut st.kind,
            self.config.auth.as_ref().map(|a| &a.credentials),
        ) {
            (
                Kind::Login { step },
                Some(Credentials::Password {
                    username, password, ..
                }),
            ) => {
                *step += 1;
                // The challenge text ("Username:", "Password:") is only a hint; the
                // order of the steps is what counts.
                match *step {
                    1 => b64(username.as_bytes()),
                    2 => b64(password.expose().as_bytes()),
                    _ => Secret::new("*".to_owned()),
                }
            }
            // RFC 7628 3.2.3: after an error challenge the client sends a dummy %x01.
            (Kind::OAuthBearer, _) => b64(b"\x01"),
            // XOAUTH2's error challenge is answered with an empty line.
            (Kind::XOauth2, _) => Secret::new(String::new()),
            (Kind::Custom, _) => {
                let text = reply.lines().first().map_or("", |t| t.as_str()).trim();
                match sasl::base64_decode(text.as_bytes()) {
                    Ok(challenge) => {
                        st.awaiting_app = true;
                        let mechanism = st.mechanism.clone();
                        self.events.push_back(Event::SaslChallenge {
                            mechanism,
                            challenge,
                        });
                        return;
                    }
                    // RFC 4954 4: "*" cancels; the server then answers 501.
                    Err(_) => Secret::new("*".to_owned()),
                }
            }
            // PLAIN has one step, sent already: a further challenge is cancelled.
            _ => Secret::new("*".to_owned()),
        };
        self.send_secret_line(now, line);
    }

    /// Answers a [`Event::SaslChallenge`] with `response` (raw; it is base64-encoded
    /// here).
    pub fn sasl_respond(
        &mut self,
        now: Instant,
        response: Secret<Vec<u8>>,
    ) -> Result<(), UsageError> {
        self.take_challenge()?;
        let line = b64(response.expose());
        self.send_secret_line(now, line);
        Ok(())
    }

    /// Cancels the exchange after a [`Event::SaslChallenge`] (`*`, RFC 4954 4); the
    /// server's reply then ends the session with [`ClientError::AuthFailed`].
    pub fn sasl_cancel(&mut self, now: Instant) -> Result<(), UsageError> {
        self.take_challenge()?;
        self.send_secret_line(now, Secret::new("*".to_owned()));
        Ok(())
    }

    fn take_challenge(&mut self) -> Result<(), UsageError> {
        match &mut self.state {
            State::Auth(st) if st.awaiting_app => {
                st.awaiting_app = false;
                Ok(())
            }
            _ => Err(UsageErrorKind::NoSaslChallenge.into()),
        }
    }
}
