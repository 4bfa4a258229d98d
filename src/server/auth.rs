//! AUTH (RFC 4954): PLAIN and LOGIN decoded for the application, any other mechanism
//! as SASL steps it answers.

use super::replies;
use super::state::{Pending, Phase, SaslState};
use super::{AuthRequest, Event, HelloKind, SaslStep, Server};
use crate::sasl::{self, SaslResponse};
use crate::types::{Mechanism, Secret};

impl Server {
    pub(super) fn auth(&mut self, mech: Mechanism<'static>, ir: Option<Vec<u8>>) {
        if self.cfg.auth_mechanisms.is_empty() {
            return self.error(&replies::NOT_IMPLEMENTED);
        }
        if self.hello != Some(HelloKind::Ehlo) && self.hello != Some(HelloKind::Lhlo) {
            return self.error(&replies::NEED_EHLO);
        }
        if self.authenticated {
            return self.error(&replies::AUTH_DONE);
        }
        if self.txn.is_some() {
            return self.error(&replies::AUTH_IN_TXN);
        }
        if self.cfg.auth_requires_tls && !self.tls {
            return self.error(&replies::ENCRYPTION_REQUIRED);
        }
        if !self.cfg.auth_mechanisms.contains(&mech) {
            return self.error(&replies::UNKNOWN_MECH);
        }
        let response = match ir {
            None => None,
            Some(ir) => match sasl::parse_sasl_response(&ir) {
                Ok(SaslResponse::Data(d)) => Some(d.into_inner()),
                Ok(SaslResponse::Cancel) => return self.error(&replies::AUTH_CANCELLED),
                Err(_) => return self.error(&replies::BAD_BASE64),
            },
        };
        if mech == Mechanism::PLAIN {
            match response {
                Some(data) => self.plain(&data),
                None => {
                    self.challenge(b"");
                    self.enter_sasl(SaslState::Plain);
                }
            }
        } else if mech == Mechanism::LOGIN {
            match response {
                Some(user) => self.login_user(&user),
                None => {
                    self.challenge(sasl::LOGIN_USERNAME_CHALLENGE);
                    self.enter_sasl(SaslState::LoginUser);
                }
            }
        } else {
            self.enter_sasl(SaslState::Custom(mech.clone()));
            let ticket = self.ticket(Pending::Sasl(mech.clone()));
            let response = response.map(Secret::new);
            self.events.push_back(Event::SaslStep(SaslStep {
                ticket,
                mechanism: mech,
                response,
            }));
        }
    }

    pub(super) fn auth_offered(&self) -> bool {
        !self.cfg.auth_mechanisms.is_empty() && (self.tls || !self.cfg.auth_requires_tls)
    }

    pub(super) fn sasl_line(&mut self, line: &[u8]) {
        let data = match sasl::parse_sasl_response(line) {
            Ok(SaslResponse::Data(d)) => d.into_inner(),
            Ok(SaslResponse::Cancel) => {
                self.leave_sasl();
                return self.error(&replies::AUTH_CANCELLED);
            }
            Err(_) => {
                self.leave_sasl();
                return self.error(&replies::BAD_BASE64);
            }
        };
        let state = std::mem::replace(&mut self.phase, Phase::Command);
        let Phase::Sasl(state) = state else { return };
        self.phase = Phase::Sasl(SaslState::Plain);
        match state {
            SaslState::Plain => self.plain(&data),
            SaslState::LoginUser => self.login_user(&data),
            SaslState::LoginPass(user) => match sasl::decode_login_field(&data) {
                Ok(password) => self.credentials(Mechanism::LOGIN, None, user, password),
                Err(_) => {
                    self.leave_sasl();
                    self.error(&replies::BAD_SASL);
                }
            },
            SaslState::Custom(mech) => {
                self.phase = Phase::Sasl(SaslState::Custom(mech.clone()));
                let ticket = self.ticket(Pending::Sasl(mech.clone()));
                self.events.push_back(Event::SaslStep(SaslStep {
                    ticket,
                    mechanism: mech,
                    response: Some(Secret::new(data)),
                }));
            }
        }
    }

    pub(super) fn plain(&mut self, data: &[u8]) {
        match sasl::decode_plain(data) {
            Ok(c) => self.credentials(
                Mechanism::PLAIN,
                c.authzid,
                c.authcid,
                c.password.into_inner(),
            ),
            Err(_) => {
                self.leave_sasl();
                self.error(&replies::BAD_SASL);
            }
        }
    }

    pub(super) fn login_user(&mut self, data: &[u8]) {
        match sasl::decode_login_field(data) {
            Ok(user) if !user.is_empty() => {
                self.challenge(sasl::LOGIN_PASSWORD_CHALLENGE);
                self.enter_sasl(SaslState::LoginPass(user));
            }
            _ => {
                self.leave_sasl();
                self.error(&replies::BAD_SASL);
            }
        }
    }

    pub(super) fn credentials(
        &mut self,
        mechanism: Mechanism<'static>,
        authzid: Option<String>,
        authcid: String,
        password: String,
    ) {
        self.enter_sasl(SaslState::Plain);
        let ticket = self.ticket(Pending::Auth);
        self.events.push_back(Event::Auth(AuthRequest {
            ticket,
            mechanism,
            authzid,
            authcid,
            password: Secret::new(password),
        }));
    }

    pub(super) fn enter_sasl(&mut self, state: SaslState) {
        self.framer.set_max_len(self.cfg.limits.sasl_line);
        self.phase = Phase::Sasl(state);
    }

    pub(super) fn leave_sasl(&mut self) {
        self.framer.set_max_len(self.cfg.limits.command_line);
        self.phase = Phase::Command;
    }
}
