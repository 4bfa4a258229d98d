//! The name the example programs give in the greeting and in EHLO when `--hostname` is
//! not set. RFC 5321 2.3.5 asks for the host's fully qualified domain name or, when it
//! has none, an address literal; `localhost` is neither, and would make every instance
//! look alike to its peers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use smtp_sansio::types::{AddressLiteral, Domain, Host};

/// The machine's name when it is a usable fully qualified domain name, otherwise the
/// address literal of `ip` (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
pub fn default_hostname(ip: IpAddr) -> String {
    machine_name().unwrap_or_else(|| address_literal(ip))
}

/// The kernel's host name, else `$HOSTNAME`, else what `hostname` prints; only a name
/// with a dot that is a valid Domain (a single label is no FQDN).
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

fn usable(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.');
    let lower = name.to_ascii_lowercase();
    let local = lower == "localhost" || lower.starts_with("localhost.");
    let fqdn = name.contains('.') && name.is_ascii() && Domain::new(name.to_owned()).is_ok();
    (fqdn && !local).then(|| name.to_owned())
}

/// `[a.b.c.d]` or `[IPv6:...]`; an unspecified address (a wildcard listener) becomes the
/// loopback address of its family.
pub fn address_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) if a.is_unspecified() => format!("[{}]", Ipv4Addr::LOCALHOST),
        IpAddr::V4(a) => format!("[{a}]"),
        IpAddr::V6(a) if a.is_unspecified() => format!("[IPv6:{}]", Ipv6Addr::LOCALHOST),
        IpAddr::V6(a) => format!("[IPv6:{a}]"),
    }
}

/// A `--hostname` value (domain or address literal) as the EHLO argument.
#[allow(dead_code)] // the blocking server does not relay
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
