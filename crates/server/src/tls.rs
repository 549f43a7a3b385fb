//! TLS for the hosted service: rustls, TLS 1.2 and 1.3 only, and the development
//! certificate made on first start.
//!
//! The development certificate is a two-level chain: a CA (`ca.pem`, which the desktop app
//! is told to trust) and a server certificate for `localhost` and `127.0.0.1` signed by it.
//! The CA's private key is never written to disk: once the server certificate is issued
//! it is dropped, so the CA cannot sign anything else. Both are valid for
//! [`DEV_CERT_DAYS`] days; a start within [`DEV_CERT_RENEW_DAYS`] days of the end makes a
//! new pair (a new CA, which the app must be told to trust again).
//!
//! The server chooses the cipher suite by its own order (the provider's: AES-256-GCM, then
//! AES-128-GCM, then ChaCha20-Poly1305, all forward-secret), not the client's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where the TLS material of a data directory lives.
#[derive(Debug, Clone)]
pub struct TlsPaths {
    pub ca_cert: PathBuf,
    pub server_chain: PathBuf,
    pub server_key: PathBuf,
}

impl TlsPaths {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca_cert: dir.join("ca.pem"),
            server_chain: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
        }
    }
}

/// The public-key pin of each certificate in a PEM text, in order: `sha256/` and the
/// standard base64 of the SHA-256 of its SubjectPublicKeyInfo, as the desktop app takes
/// pins.
pub fn spki_pins(pem: &str) -> anyhow::Result<Vec<String>> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut pins = Vec::new();
    for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let der = der.context("reading a PEM certificate")?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| anyhow::anyhow!("a certificate cannot be read: {e}"))?;
        let digest = Sha256::digest(cert.tbs_certificate.subject_pki.raw);
        pins.push(format!(
            "sha256/{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
    }
    anyhow::ensure!(!pins.is_empty(), "no certificate found in the PEM text");
    Ok(pins)
}

/// How long the development CA and server certificate are valid, in days.
pub const DEV_CERT_DAYS: i64 = 397;
/// A start this close to the development certificate's end makes a new one, in days.
pub const DEV_CERT_RENEW_DAYS: i64 = 30;
/// The common name of the development CA, by which its certificates are known.
const DEV_CA_NAME: &str = "Strongroom development CA";

/// Makes the development CA and server certificate unless they exist already, or makes
/// them again when the development server certificate is within [`DEV_CERT_RENEW_DAYS`] of
/// its end. A certificate the operator put in place (another issuer) is never replaced.
pub fn ensure_dev_certificate(paths: &TlsPaths) -> anyhow::Result<()> {
    if paths.server_chain.exists() && paths.server_key.exists() && paths.ca_cert.exists() {
        if !dev_certificate_is_ending(&paths.server_chain)? {
            return Ok(());
        }
        eprintln!(
            "The development certificate in {} ends within {DEV_CERT_RENEW_DAYS} days: making a \
             new development CA and certificate (trust the new ca.pem in the app)",
            paths.server_chain.display()
        );
    }
    let now = time::OffsetDateTime::now_utc();
    // An hour back, for clocks a little behind.
    let not_before = now - time::Duration::hours(1);
    let not_after = now + time::Duration::days(DEV_CERT_DAYS);
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, DEV_CA_NAME);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    leaf.distinguished_name
        .push(DnType::CommonName, "Strongroom development server");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

    write_private(&paths.server_key, leaf_key.serialize_pem().as_bytes())?;
    std::fs::write(
        &paths.server_chain,
        format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
    )?;
    std::fs::write(&paths.ca_cert, ca_cert.pem())?;
    Ok(())
}

/// Whether the first certificate in `chain` was issued by the development CA and ends
/// within [`DEV_CERT_RENEW_DAYS`].
fn dev_certificate_is_ending(chain: &Path) -> anyhow::Result<bool> {
    let pem = std::fs::read(chain).with_context(|| format!("reading {}", chain.display()))?;
    let Some(der) = CertificateDer::pem_slice_iter(&pem).next() else {
        anyhow::bail!("no certificate in {}", chain.display());
    };
    let der = der.with_context(|| format!("parsing {}", chain.display()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| anyhow::anyhow!("{} cannot be read: {e}", chain.display()))?;
    let ours = cert
        .issuer()
        .iter_common_name()
        .any(|cn| cn.as_str().ok() == Some(DEV_CA_NAME));
    let renew_at = time::OffsetDateTime::now_utc() + time::Duration::days(DEV_CERT_RENEW_DAYS);
    Ok(ours && cert.validity().not_after.timestamp() < renew_at.unix_timestamp())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

/// A rustls server configuration over the chain and key in `paths`: TLS 1.3 and 1.2 only,
/// with the provider's default (forward-secret, AEAD-only) cipher suites, chosen in the
/// server's order of preference.
pub fn server_config(paths: &TlsPaths) -> anyhow::Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(&paths.server_chain)
        .with_context(|| format!("reading {}", paths.server_chain.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", paths.server_chain.display()))?;
    let key = PrivateKeyDer::from_pem_file(&paths.server_key)
        .with_context(|| format!("reading {}", paths.server_key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first certificate of `chain`: its issuer's common name and its validity, as unix
    /// seconds.
    fn leaf_of(chain: &Path) -> (String, i64, i64) {
        let pem = std::fs::read(chain).unwrap();
        let der = CertificateDer::pem_slice_iter(&pem)
            .next()
            .unwrap()
            .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let issuer = cert
            .issuer()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        let v = cert.validity();
        (issuer, v.not_before.timestamp(), v.not_after.timestamp())
    }

    /// Writes a CA named `issuer` and a server certificate it signed that ends in `days`.
    fn write_chain(paths: &TlsPaths, issuer: &str, days: i64) {
        let now = time::OffsetDateTime::now_utc();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.distinguished_name.push(DnType::CommonName, issuer);
        ca.not_before = now - time::Duration::days(400);
        ca.not_after = now + time::Duration::days(days);
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.not_before = now - time::Duration::days(400);
        leaf.not_after = now + time::Duration::days(days);
        let key = KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        std::fs::write(&paths.server_key, key.serialize_pem()).unwrap();
        std::fs::write(
            &paths.server_chain,
            format!("{}{}", cert.pem(), ca_cert.pem()),
        )
        .unwrap();
        std::fs::write(&paths.ca_cert, ca_cert.pem()).unwrap();
    }

    #[test]
    fn the_development_certificate_lives_about_a_year() {
        let dir = tempfile::tempdir().unwrap();
        let paths = TlsPaths::in_dir(dir.path());
        ensure_dev_certificate(&paths).unwrap();
        let (issuer, from, to) = leaf_of(&paths.server_chain);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(issuer, DEV_CA_NAME);
        assert!(from <= now && from > now - 2 * 3600, "{from} {now}");
        assert!(to - from <= (DEV_CERT_DAYS + 1) * 86400, "{from} {to}");
        assert!(to - now >= (DEV_CERT_DAYS - 1) * 86400, "{to} {now}");
        // A second start keeps it.
        let ca = std::fs::read(&paths.ca_cert).unwrap();
        ensure_dev_certificate(&paths).unwrap();
        assert_eq!(std::fs::read(&paths.ca_cert).unwrap(), ca);
        server_config(&paths).unwrap();
    }

    #[test]
    fn an_ending_development_certificate_is_made_again_and_an_operators_never() {
        let dir = tempfile::tempdir().unwrap();
        let paths = TlsPaths::in_dir(dir.path());
        write_chain(&paths, DEV_CA_NAME, DEV_CERT_RENEW_DAYS - 1);
        let old_ca = std::fs::read(&paths.ca_cert).unwrap();
        ensure_dev_certificate(&paths).unwrap();
        assert_ne!(std::fs::read(&paths.ca_cert).unwrap(), old_ca);
        let (_, _, to) = leaf_of(&paths.server_chain);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(to - now >= (DEV_CERT_DAYS - 1) * 86400);
        server_config(&paths).unwrap();

        // Not yet ending: kept.
        write_chain(&paths, DEV_CA_NAME, DEV_CERT_RENEW_DAYS + 5);
        let kept = std::fs::read(&paths.server_chain).unwrap();
        ensure_dev_certificate(&paths).unwrap();
        assert_eq!(std::fs::read(&paths.server_chain).unwrap(), kept);

        // The operator's own certificate, however close to its end, is theirs to replace.
        write_chain(&paths, "Harbour & Vine practice CA", 1);
        let theirs = std::fs::read(&paths.server_chain).unwrap();
        ensure_dev_certificate(&paths).unwrap();
        assert_eq!(std::fs::read(&paths.server_chain).unwrap(), theirs);
    }
}
