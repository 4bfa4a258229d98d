//! The rustls server configuration: a certificate chain and key loaded from PEM files,
//! or a self-signed certificate made at start-up so that STARTTLS always works.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Builds the TLS configuration. Returns it with a line describing the certificate
/// (origin and SHA-256 fingerprint) for the start-up log.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<(Arc<rustls::ServerConfig>, String), String> {
    let (chain, key, origin) = match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("{}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!("{}: no certificate found", cert.display()));
            }
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
            (chain, key, format!("certificate {}", cert.display()))
        }
        (None, None) => {
            let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
            let made = rcgen::generate_simple_self_signed(names)
                .map_err(|e| format!("generating a certificate: {e}"))?;
            let key = PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()).into();
            let origin = "self-signed certificate for localhost, 127.0.0.1, ::1".to_owned();
            (vec![made.cert.der().clone()], key, origin)
        }
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let fingerprint = fingerprint(&chain[0]);
    // The ring provider, named explicitly: no process-wide default needs installing.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| format!("TLS configuration: {e}"))?;
    Ok((
        Arc::new(config),
        format!("{origin}, SHA-256 fingerprint {fingerprint}"),
    ))
}

/// `AB:CD:...`, the form `openssl x509 -fingerprint -sha256` prints.
fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    let hex: Vec<String> = hash.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}
