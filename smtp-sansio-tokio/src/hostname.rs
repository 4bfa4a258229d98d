//! The name a server gives in its greeting and a client in EHLO when none is configured.
//! RFC 5321 2.3.5 asks for the host's fully qualified domain name or, when it has none,
//! an address literal; `localhost` is neither, and would make every instance look alike
//! to its peers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use smtp_sansio::types::{AddressLiteral, Domain, Host};

/// The machine's name when it is a usable fully qualified domain name (see
/// [`machine_name`]), otherwise the address literal of `ip` (see [`address_literal`]):
/// for a server, the address it listens on; for a client, its end of the connection.
pub fn default_hostname(ip: IpAddr) -> String {
    machine_name().unwrap_or_else(|| address_literal(ip))
}

/// [`default_hostname`] as the typed EHLO argument (for a client, of its end of the
/// connection).
pub fn default_host(ip: IpAddr) -> Host<'static> {
    let literal = || match unspecified_to_loopback(ip) {
        IpAddr::V4(a) => Host::Literal(AddressLiteral::Ipv4(a)),
        IpAddr::V6(a) => Host::Literal(AddressLiteral::Ipv6(a)),
    };
    machine_name()
        .and_then(|n| to_host(&n).ok())
        .unwrap_or_else(literal)
}

/// A wildcard address means "this host": its family's loopback address.
fn unspecified_to_loopback(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(a) if a.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(a) if a.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    }
}

/// The kernel's host name, else `$HOSTNAME`, else what the `hostname` program prints;
/// only a name with a dot that is a valid domain (a single label is no FQDN), and never
/// `localhost`.
pub fn machine_name() -> Option<String> {
    let from_proc = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let from_env = || std::env::var("HOSTNAME").ok();
    let from_cmd = || {
        let out = std::process::Command::new("hostname")
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    [from_proc(), from_env()]
        .into_iter()
        .flatten()
        .find_map(|n| usable(&n))
        .or_else(|| from_cmd().and_then(|n| usable(&n)))
}

/// `name` without surrounding space and trailing dot, if it is a fully qualified domain
/// name other than `localhost`.
fn usable(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.');
    let lower = name.to_ascii_lowercase();
    let local = lower == "localhost" || lower.starts_with("localhost.");
    let fqdn = name.contains('.') && name.is_ascii() && Domain::new(name.to_owned()).is_ok();
    (fqdn && !local).then(|| name.to_owned())
}

/// `[a.b.c.d]` or `[IPv6:...]` (RFC 5321 4.1.3); an unspecified address (a wildcard
/// listener) becomes the loopback address of its family.
pub fn address_literal(ip: IpAddr) -> String {
    match unspecified_to_loopback(ip) {
        IpAddr::V4(a) => format!("[{a}]"),
        IpAddr::V6(a) => format!("[IPv6:{a}]"),
    }
}

/// A host name as text (a domain or an address literal such as `[192.0.2.1]` or
/// `[IPv6:2001:db8::1]`) as the typed EHLO argument; the error says why it cannot be.
pub fn to_host(name: &str) -> Result<Host<'static>, String> {
    let bad = |e: &dyn std::fmt::Display| format!("{name} cannot be sent in EHLO: {e}");
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(inner) => {
            let lit = match inner.get(..5) {
                Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => inner
                    .get(5..)
                    .unwrap_or_default()
                    .parse()
                    .map(AddressLiteral::Ipv6)
                    .map_err(|e| bad(&e))?,
                _ => inner
                    .parse()
                    .map(AddressLiteral::Ipv4)
                    .map_err(|e| bad(&e))?,
            };
            Ok(Host::Literal(lit))
        }
        None => Domain::new(name.to_owned())
            .map(|d| Host::Domain(d.into_owned()))
            .map_err(|e| bad(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_and_single_labels_are_no_default_hostname() {
        assert_eq!(usable("localhost"), None);
        assert_eq!(usable("localhost.localdomain"), None);
        assert_eq!(usable("mailhost"), None);
        assert_eq!(usable("bad_name.example"), None);
        assert_eq!(usable(" mx.Example.org.\n"), Some("mx.Example.org".into()));
    }

    #[test]
    fn wildcard_listener_gives_the_loopback_literal() {
        assert_eq!(address_literal("0.0.0.0".parse().unwrap()), "[127.0.0.1]");
        assert_eq!(address_literal("::".parse().unwrap()), "[IPv6:::1]");
        assert_eq!(address_literal("192.0.2.7".parse().unwrap()), "[192.0.2.7]");
        assert_eq!(
            address_literal("2001:db8::1".parse().unwrap()),
            "[IPv6:2001:db8::1]"
        );
        let name = default_hostname("192.0.2.7".parse().unwrap());
        assert!(name == "[192.0.2.7]" || usable(&name).is_some(), "{name}");
        let host = default_host("0.0.0.0".parse().unwrap()).to_string();
        assert!(host == "[127.0.0.1]" || usable(&host).is_some(), "{host}");
    }

    #[test]
    fn ehlo_argument_is_a_domain_or_an_address_literal() {
        assert!(matches!(to_host("mx.example.org"), Ok(Host::Domain(_))));
        assert!(matches!(
            to_host("[192.0.2.1]"),
            Ok(Host::Literal(AddressLiteral::Ipv4(_)))
        ));
        assert!(matches!(
            to_host("[ipv6:2001:db8::1]"),
            Ok(Host::Literal(AddressLiteral::Ipv6(_)))
        ));
        assert!(to_host("[300.1.1.1]").is_err());
        assert!(to_host("[IPv6:nope]").is_err());
        assert!(to_host("bad name").is_err());
    }
}
