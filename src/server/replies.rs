//! The replies the machine writes on its own, with the codes the RFCs name.

/// A fixed reply: code, enhanced status (RFC 3463), text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Std {
    pub code: u16,
    pub status: (u8, u16, u16),
    pub text: &'static str,
}

const fn s(code: u16, c: u8, sub: u16, d: u16, text: &'static str) -> Std {
    Std {
        code,
        status: (c, sub, d),
        text,
    }
}

pub(crate) const OK: Std = s(250, 2, 0, 0, "OK");
pub(crate) const SENDER_OK: Std = s(250, 2, 1, 0, "Sender OK");
pub(crate) const RCPT_OK: Std = s(250, 2, 1, 5, "Recipient OK");
pub(crate) const MESSAGE_OK: Std = s(250, 2, 0, 0, "Message accepted");
pub(crate) const START_DATA: Std = s(354, 0, 0, 0, "End data with <CR><LF>.<CR><LF>");
pub(crate) const BYE: Std = s(221, 2, 0, 0, "Bye");
pub(crate) const HELP: Std = s(
    214,
    2,
    0,
    0,
    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS AUTH",
);
pub(crate) const VRFY: Std = s(
    252,
    2,
    5,
    0,
    "Cannot VRFY user, but will accept message and attempt delivery",
);
pub(crate) const TLS_READY: Std = s(220, 2, 0, 0, "Ready to start TLS");
pub(crate) const AUTH_OK: Std = s(235, 2, 7, 0, "Authentication successful");

pub(crate) const UNRECOGNIZED: Std = s(500, 5, 5, 2, "Syntax error, command unrecognized");
pub(crate) const BAD_BYTES: Std = s(500, 5, 5, 2, "Invalid character in command");
/// A command line over the limit: a syntax error (RFC 5321 4.5.3.1.4, RFC 3463 X.5.2).
pub(crate) const LINE_TOO_LONG: Std = s(500, 5, 5, 2, "Line too long");
/// A SASL response over the limit: RFC 4954 6 registers X.5.6 for exactly this.
pub(crate) const SASL_LINE_TOO_LONG: Std =
    s(500, 5, 5, 6, "Authentication Exchange line is too long");
/// A text line in DATA over the limit (RFC 5321 4.5.3.1.6): the message, not the
/// command, is at fault (RFC 3463 X.3.4).
pub(crate) const TEXT_LINE_TOO_LONG: Std = s(500, 5, 3, 4, "Message line too long");
pub(crate) const USE_LHLO: Std = s(500, 5, 5, 1, "This is an LMTP server: use LHLO");
pub(crate) const ARGUMENTS: Std = s(501, 5, 5, 4, "Syntax error in parameters or arguments");
pub(crate) const BAD_ARG_BYTES: Std = s(501, 5, 5, 2, "Invalid character in arguments");
pub(crate) const BAD_PARAM_VALUE: Std = s(501, 5, 5, 4, "Invalid parameter value");
pub(crate) const DUPLICATE_PARAM: Std = s(501, 5, 5, 4, "Duplicate parameter");
pub(crate) const NOT_IMPLEMENTED: Std = s(502, 5, 5, 1, "Command not implemented");
/// RFC 5321 7.3: a site that disables EXPN answers 252, which claims nothing.
pub(crate) const EXPN: Std = s(
    252,
    2,
    5,
    0,
    "Cannot EXPN, but will accept message and attempt delivery",
);
pub(crate) const NEED_HELLO: Std = s(503, 5, 5, 1, "Send EHLO or HELO first");
pub(crate) const NEED_EHLO: Std = s(503, 5, 5, 1, "Send EHLO first");
pub(crate) const NESTED_MAIL: Std = s(503, 5, 5, 1, "Sender already given");
pub(crate) const NEED_MAIL: Std = s(503, 5, 5, 1, "Need MAIL command");
pub(crate) const NEED_RCPT: Std = s(503, 5, 5, 1, "Need RCPT command");
pub(crate) const DATA_AFTER_BDAT: Std = s(503, 5, 5, 1, "DATA not allowed after BDAT");
pub(crate) const RCPT_AFTER_BDAT: Std = s(503, 5, 5, 1, "RCPT not allowed after BDAT");
pub(crate) const BINARYMIME_NEEDS_BDAT: Std = s(503, 5, 5, 1, "BODY=BINARYMIME requires BDAT");
pub(crate) const REFUSED_SEQUENCE: Std = s(503, 5, 5, 1, "No service here, send QUIT");
pub(crate) const TLS_ACTIVE: Std = s(503, 5, 5, 1, "TLS already active");
pub(crate) const AUTH_DONE: Std = s(503, 5, 5, 1, "Already authenticated");
pub(crate) const AUTH_IN_TXN: Std = s(503, 5, 5, 1, "AUTH not permitted during a mail transaction");
pub(crate) const NO_VALID_RCPTS: Std = s(554, 5, 5, 1, "No valid recipients");
pub(crate) const UNKNOWN_MECH: Std = s(504, 5, 5, 4, "Unrecognized authentication mechanism");
pub(crate) const UNKNOWN_PARAM: Std =
    s(555, 5, 5, 4, "Parameter not recognized or not implemented");
pub(crate) const AUTH_CANCELLED: Std = s(501, 5, 0, 0, "Authentication cancelled");
pub(crate) const BAD_BASE64: Std = s(501, 5, 5, 2, "Cannot decode response");
pub(crate) const BAD_SASL: Std = s(501, 5, 5, 2, "Malformed authentication response");
pub(crate) const TOO_MANY_RCPTS: Std = s(452, 4, 5, 3, "Too many recipients");
pub(crate) const TOO_BIG: Std = s(552, 5, 3, 4, "Message size exceeds fixed limit");
/// RCPT with a non-ASCII address without SMTPUTF8 on MAIL (RFC 6531 3.5).
pub(crate) const NEED_SMTPUTF8: Std = s(553, 5, 6, 7, "Non-ASCII address requires SMTPUTF8");
/// MAIL with a non-ASCII reverse path and no SMTPUTF8 parameter (RFC 6531 3.5: 550).
pub(crate) const NEED_SMTPUTF8_MAIL: Std = s(550, 5, 6, 7, "Non-ASCII address requires SMTPUTF8");
/// RFC 5321 6.3 loop detection; RFC 3463 X.4.6 "routing loop detected".
pub(crate) const TOO_MANY_HOPS: Std = s(554, 5, 4, 6, "Too many hops, mail loop suspected");
pub(crate) const BARE_LINE_ENDING: Std = s(550, 5, 6, 0, "Message contains bare CR or LF");
/// RFC 5321 2.3.5, RFC 6409 4.2; RFC 3463 X.1.8 (sender) and X.1.2 (recipient).
pub(crate) const SENDER_NOT_QUALIFIED: Std =
    s(553, 5, 1, 8, "Sender domain must be fully qualified");
pub(crate) const RCPT_NOT_QUALIFIED: Std =
    s(550, 5, 1, 2, "Recipient domain must be fully qualified");
pub(crate) const AUTH_REQUIRED: Std = s(530, 5, 7, 0, "Authentication required");
pub(crate) const TLS_REQUIRED: Std = s(530, 5, 7, 0, "Must issue a STARTTLS command first");
pub(crate) const REQUIRETLS_NEEDS_TLS: Std = s(530, 5, 7, 10, "REQUIRETLS needs a TLS session");
pub(crate) const ENCRYPTION_REQUIRED: Std = s(
    538,
    5,
    7,
    11,
    "Encryption required for requested authentication mechanism",
);
pub(crate) const TLS_UNAVAILABLE: Std = s(454, 4, 7, 0, "TLS not available");
pub(crate) const TIMEOUT: Std = s(421, 4, 4, 2, "Timeout, closing connection");
pub(crate) const TOO_MANY_ERRORS: Std = s(421, 4, 7, 0, "Too many errors, closing connection");
pub(crate) const OVERFLOW: Std = s(421, 4, 7, 0, "Too much pipelined input, closing connection");
pub(crate) const SHUTDOWN: Std = s(421, 4, 3, 2, "Service shutting down, closing connection");
