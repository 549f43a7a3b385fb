//! The rustls client configuration: TLS 1.2+ only, OS roots plus an optional practice CA,
//! and the plain-language reading of a refused certificate.

use std::sync::Arc;

use rustls::{CertificateError, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::SyncError;

/// How the client decides whom to trust.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// A practice CA in PEM, trusted in addition to the OS roots.
    pub extra_ca_pem: Option<String>,
    /// Leave the OS roots out (tests that must prove a certificate is refused).
    pub without_os_roots: bool,
}

pub(crate) fn client_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, SyncError> {
    let mut roots = RootCertStore::empty();
    if !opts.without_os_roots {
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            // A broken system root is skipped, not fatal: the others still apply.
            let _ = roots.add(cert);
        }
    }
    if let Some(pem) = &opts.extra_ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| SyncError::BadCaFile(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| SyncError::BadCaFile(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(SyncError::BadCaFile(
                "no certificate found in the PEM text".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SyncError::Unreachable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Finds a rustls certificate error in `e`'s chain and says what it means.
pub(crate) fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(found) = rustls_error_in(err) {
            return describe(found);
        }
        cur = err.source();
    }
    None
}

/// `err` itself as a rustls error, looking inside `io::Error`s, which hide their inner
/// error from `source()`.
fn rustls_error_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let io = err.downcast_ref::<std::io::Error>()?;
    let inner: &(dyn std::error::Error + 'static) = io.get_ref()?;
    rustls_error_in(inner)
}

fn describe(e: &rustls::Error) -> Option<String> {
    let rustls::Error::InvalidCertificate(c) = e else {
        return None;
    };
    Some(
        match c {
            CertificateError::UnknownIssuer => {
                "it is not issued by an authority this app trusts (unknown issuer); ask your practice administrator for the practice CA"
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "it has expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "it is not valid yet (check this computer's clock)"
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "it was issued for a different server name"
            }
            CertificateError::Revoked => "it has been revoked",
            CertificateError::BadSignature => "its signature is invalid",
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "it is not meant for a TLS server"
            }
            _ => "it failed verification",
        }
        .to_owned(),
    )
}
