//! The rustls server configuration: a certificate chain and key from PEM files, or a
//! self-signed certificate made at start-up so that STARTTLS always works.

use std::fmt;
use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS session over a blocking socket, from [`TlsIdentity::accept_blocking`].
pub type BlockingTls = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

/// A TLS server identity: the rustls configuration, where its certificate came from and
/// the certificate's SHA-256 fingerprint (for the start-up log: a client pinning a
/// self-signed certificate compares it with `openssl x509 -fingerprint -sha256`).
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsIdentity {
    /// The configuration the listeners use.
    pub config: Arc<rustls::ServerConfig>,
    /// Where the certificate came from (`certificate cert.pem`, `self-signed ...`).
    pub origin: String,
    /// `AB:CD:...`, the SHA-256 fingerprint of the leaf certificate; empty when built
    /// from a configuration.
    pub fingerprint: String,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("origin", &self.origin)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Why a TLS identity could not be built. The message names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

impl TlsIdentity {
    /// A certificate chain (leaf first) and its private key, both PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError(format!("{}: {e}", cert.display())))?;
        if chain.is_empty() {
            return Err(TlsError(format!(
                "{}: no certificate found",
                cert.display()
            )));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| TlsError(format!("{}: {e}", key.display())))?;
        Self::build(chain, key, format!("certificate {}", cert.display()))
    }

    /// A self-signed certificate for `names` (DNS names or IP addresses), made now.
    pub fn self_signed(names: &[&str]) -> Result<Self, TlsError> {
        let list: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let made = rcgen::generate_simple_self_signed(list)
            .map_err(|e| TlsError(format!("generating a certificate: {e}")))?;
        let key = PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()).into();
        let origin = format!("self-signed certificate for {}", names.join(", "));
        Self::build(vec![made.cert.der().clone()], key, origin)
    }

    /// The PEM files when both are given, else a self-signed certificate for
    /// `localhost`, `127.0.0.1` and `::1`: what a command line with optional
    /// `--tls-cert`/`--tls-key` wants.
    pub fn from_pem_files_or_self_signed(
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Self, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Self::from_pem_files(cert, key),
            (None, None) => Self::self_signed(&["localhost", "127.0.0.1", "::1"]),
            _ => Err(TlsError("--tls-cert and --tls-key go together".into())),
        }
    }

    /// A configuration built elsewhere.
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            config,
            origin: "configuration given".into(),
            fingerprint: String::new(),
        }
    }

    /// `origin, SHA-256 fingerprint AB:CD:...`, the line the examples print at start.
    pub fn describe(&self) -> String {
        format!("{}, SHA-256 fingerprint {}", self.origin, self.fingerprint)
    }

    /// The server side of a TLS handshake on a blocking socket (at once for implicit
    /// TLS, or after the `220` to STARTTLS), bounded by `timeout` (a read timeout on the
    /// socket, which the caller's run loop sets anew).
    pub fn accept_blocking(
        &self,
        mut tcp: TcpStream,
        timeout: Duration,
    ) -> io::Result<BlockingTls> {
        let mut conn =
            rustls::ServerConnection::new(self.config.clone()).map_err(io::Error::other)?;
        tcp.set_read_timeout(Some(timeout))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(rustls::StreamOwned::new(conn, tcp))
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        origin: String,
    ) -> Result<Self, TlsError> {
        let fingerprint = chain.first().map(fingerprint).unwrap_or_default();
        // The ring provider, named explicitly: no process-wide default needs installing.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| TlsError(format!("TLS configuration: {e}")))?;
        Ok(Self {
            config: Arc::new(config),
            origin,
            fingerprint,
        })
    }
}

/// `AB:CD:...`, the form `openssl x509 -fingerprint -sha256` prints.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    let hex: Vec<String> = hash.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// The TLS facts of a session, for the `tls` clause of a `Received:` field (RFC 8314
/// 4.3) and for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsInfo {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// The IANA name of the cipher suite (`TLS_AES_128_GCM_SHA256`), or its number.
    pub cipher: String,
    /// The name the client asked for with SNI, if any.
    pub sni: Option<String>,
}

impl TlsInfo {
    /// The facts of an established server connection.
    pub fn of(conn: &rustls::ServerConnection) -> Option<Self> {
        let version = match conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
            other => format!("{other:?}"),
        };
        let suite = conn.negotiated_cipher_suite()?.suite();
        let name = format!("{suite:?}");
        // rustls spells the TLS 1.3 suites `TLS13_...`; IANA registers them as `TLS_...`.
        let cipher = match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None if name.starts_with("TLS_") => name,
            None => format!("0x{:04X}", u16::from(suite)),
        };
        Some(Self {
            version,
            cipher,
            sni: conn.server_name().map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use rustls::pki_types::ServerName;

    use super::*;

    #[test]
    fn blocking_handshake_then_bytes_flow_both_ways() {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let der = made.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()).into();
        let identity = TlsIdentity::build(vec![der.clone()], key, "test".into()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(der).unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
            tls.write_all(b"EHLO c.example\r\n").unwrap();
            let mut reply = [0u8; 5];
            tls.read_exact(&mut reply).unwrap();
            reply
        });
        let (tcp, _) = listener.accept().unwrap();
        let mut tls = identity
            .accept_blocking(tcp, Duration::from_secs(10))
            .unwrap();
        let mut line = [0u8; 16];
        tls.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"EHLO c.example\r\n");
        assert!(TlsInfo::of(&tls.conn).is_some());
        tls.write_all(b"250 \n").unwrap();
        tls.flush().unwrap();
        assert_eq!(&client.join().unwrap(), b"250 \n");
    }
}
