//! TLS for the hosted service: rustls, TLS 1.2 and 1.3 only, and the development
//! certificate made on first start.
//!
//! The development certificate is a two-level chain: a CA (`ca.pem`, which the desktop app
//! is told to trust) and a server certificate for `localhost` and `127.0.0.1` signed by it.
//! The CA's private key is never written to disk: once the server certificate is issued
//! it is dropped, so the CA cannot sign anything else.

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

/// Makes the development CA and server certificate unless they exist already.
pub fn ensure_dev_certificate(paths: &TlsPaths) -> anyhow::Result<()> {
    if paths.server_chain.exists() && paths.server_key.exists() && paths.ca_cert.exists() {
        return Ok(());
    }
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Strongroom development CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
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
/// with the provider's default (forward-secret, AEAD-only) cipher suites.
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
    Ok(config)
}
