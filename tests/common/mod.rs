//! Helpers shared by the integration tests, each defined once: the transcript dialect
//! (`script.rs`), the server harness (`server.rs`, re-exported here), the client harness
//! (`client.rs`) and the grammar tables (`grammar.rs`). A test file uses only part of
//! them, hence `dead_code` is allowed.
#![allow(dead_code)]

pub mod client;
pub mod grammar;
pub mod script;
mod server;

// Re-exports: each test file uses some of them.
#[allow(unused_imports)]
pub use script::{esc, reply, unescape};
#[allow(unused_imports)]
pub use server::*;
