//! What the examples' command lines share: one clap setting and one value syntax.

use clap::Command;
use smtp_sansio::client::StartTlsPolicy;

/// An option takes the next argument as its value even when it starts with `-` (a
/// password, a path or a name may), as the examples always did.
pub fn hyphen_values(cmd: Command) -> Command {
    cmd.mut_args(
        |a| match a.get_action().takes_values() && !a.is_positional() {
            true => a.allow_hyphen_values(true),
            false => a,
        },
    )
}

/// `NAME:PASSWORD`, split at the first `:` (the password may contain more).
pub fn name_password(v: &str) -> Result<(String, String), &'static str> {
    let (name, password) = v.split_once(':').ok_or("NAME:PASSWORD expected")?;
    Ok((name.to_owned(), password.to_owned()))
}

/// `required`, `opportunistic` or `never` (RFC 3207: whether to upgrade with STARTTLS).
pub fn starttls(v: &str) -> Result<StartTlsPolicy, &'static str> {
    match v {
        "required" => Ok(StartTlsPolicy::Required),
        "opportunistic" => Ok(StartTlsPolicy::Opportunistic),
        "never" => Ok(StartTlsPolicy::Never),
        _ => Err("required, opportunistic or never"),
    }
}
