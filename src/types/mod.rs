//! Validated protocol types. None of them can be built holding a value the grammar
//! forbids, and each encodes to wire bytes that parse back to the same value.

mod address;
mod capability;
mod command;
pub(crate) mod params;
mod reply;
pub mod secret;
mod text;

pub use address::{AddressLiteral, Domain, ForwardPath, Host, LocalPart, Mailbox, ReversePath};
pub use capability::{Capabilities, Capability, EhloKeyword, EhloParam};
pub use command::{Argument, Command, InitialResponse, Keyword, Mechanism};
pub use params::{
    Body, MailAuth, MailParams, MtPriority, Notify, Orcpt, Param, RcptParams, Ret, XText,
};
pub use reply::{EnhancedStatus, Reply, ReplyCode, Text};
pub use secret::Secret;
