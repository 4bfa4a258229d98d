//! smtp-sansio (crate docs are written in full below the module list).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod data;
pub mod error;
pub mod line;
pub mod sasl;
pub mod server;
mod syntax;
pub mod types;

pub use error::{DecodeError, InvalidValue, SyntaxErrorKind};
pub use syntax::{
    Grammar, ReplyLine, decode_command, decode_reply, parse_command, parse_reply_line,
};
