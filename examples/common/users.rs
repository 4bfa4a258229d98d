//! The accounts given with `--user NAME:PASSWORD[:ADDRESSES]`: the runtime crate's
//! credential table (AUTH PLAIN/LOGIN, and the senders of RFC 6409 6.1).

pub use smtp_sansio_tokio::Credentials as Users;
