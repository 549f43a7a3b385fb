//! The rustls client configuration: TLS 1.2+ only, OS roots plus an optional practice CA,
//! optional public-key pins, and the plain-language reading of a refused certificate.
//!
//! Invariant: pins only narrow trust. With pins set, the certificate chain is first
//! verified exactly as without them (rustls' WebPKI verifier over the same roots); only a
//! chain that passes is then also required to carry a pinned key.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

use crate::SyncError;

/// How the client decides whom to trust.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// A practice CA in PEM, trusted in addition to the OS roots.
    pub extra_ca_pem: Option<String>,
    /// Leave the OS roots out (tests that must prove a certificate is refused).
    pub without_os_roots: bool,
    /// Public keys the server must present (its own certificate's, or an intermediate's it
    /// sends), on top of a valid chain. Empty: no pinning.
    pub pins: Vec<SpkiPin>,
}

/// A public-key pin: the SHA-256 of a certificate's SubjectPublicKeyInfo, written
/// `sha256/<base64>` as HTTP Public Key Pinning wrote it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpkiPin([u8; 32]);

/// How a pin is written: `sha256/` then the standard base64 of the digest.
const PIN_PREFIX: &str = "sha256/";

impl SpkiPin {
    /// The pin of a certificate (DER): the SHA-256 of its SubjectPublicKeyInfo.
    pub fn of_certificate(der: &[u8]) -> Result<Self, SyncError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| SyncError::InvalidPin(format!("the certificate cannot be read: {e}")))?;
        Ok(Self(
            Sha256::digest(cert.tbs_certificate.subject_pki.raw).into(),
        ))
    }

    /// The pins of every certificate in a PEM text, in order.
    pub fn of_pem(pem: &str) -> Result<Vec<Self>, SyncError> {
        let mut pins = Vec::new();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| SyncError::InvalidPin(e.to_string()))?;
            pins.push(Self::of_certificate(&cert)?);
        }
        if pins.is_empty() {
            return Err(SyncError::InvalidPin(
                "no certificate found in the PEM text".into(),
            ));
        }
        Ok(pins)
    }

    /// Pins separated by commas (or whitespace), as one setting holds them; empty parts
    /// are skipped.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, SyncError> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl FromStr for SpkiPin {
    type Err = SyncError;

    fn from_str(s: &str) -> Result<Self, SyncError> {
        let s = s.trim();
        let bad = |why: &str| {
            // A pin is public; quoting a short prefix helps find the typo.
            let shown: String = s.chars().take(60).collect();
            SyncError::InvalidPin(format!(
                "{shown:?} is not a public-key pin ({why}); a pin is written \
                 sha256/ and the base64 of 32 bytes, e.g. as `strongroom-server pin` prints it"
            ))
        };
        let b64 = s
            .strip_prefix(PIN_PREFIX)
            .ok_or_else(|| bad("it does not start with sha256/"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| bad("the part after sha256/ is not base64"))?;
        let digest: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("it is not the length of a SHA-256"))?;
        Ok(Self(digest))
    }
}

impl fmt::Display for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PIN_PREFIX)?;
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpkiPin({self})")
    }
}

/// rustls' own WebPKI verification, then the pins: a certificate the WebPKI verifier
/// refuses is refused for the same reason, and one it accepts must also carry a pinned key.
#[derive(Debug)]
struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    pins: Vec<SpkiPin>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let pinned = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(|c| SpkiPin::of_certificate(c).ok())
            .any(|p| self.pins.contains(&p));
        if pinned {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.webpki.root_hint_subjects()
    }
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
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SyncError::Unreachable(e.to_string()))?;
    // With no roots at all nothing is trusted, pinned or not: every certificate is refused
    // for its issuer, as without pins.
    if opts.pins.is_empty() || roots.is_empty() {
        return Ok(builder.with_root_certificates(roots).with_no_client_auth());
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| SyncError::BadCaFile(format!("no authority to trust: {e}")))?;
    let verifier = PinningVerifier {
        webpki,
        pins: opts.pins.clone(),
    };
    // rustls names every custom verifier's door "dangerous"; this one only adds a check
    // after its own WebPKI verifier's (see `PinningVerifier`).
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
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
            // Raised only by the pinning verifier, after the chain itself was valid.
            CertificateError::ApplicationVerificationFailure => {
                "the server's public key does not match the pinned key for this server; \
                 the certificate is valid, but it is not the one this app was told to expect \
                 (someone may be intercepting the connection, or the server's key changed: \
                 ask your practice administrator)"
            }
            _ => "it failed verification",
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_round_trip_and_bad_ones_are_named() {
        let pin = SpkiPin([7; 32]);
        let text = pin.to_string();
        assert_eq!(text, "sha256/BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=");
        assert_eq!(text.parse::<SpkiPin>().unwrap(), pin);
        assert_eq!(
            SpkiPin::parse_list(&format!(" {text}, ,{text}\n")).unwrap(),
            vec![pin, pin]
        );
        assert!(SpkiPin::parse_list("").unwrap().is_empty());
        for (bad, why) in [
            ("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", "sha256/"),
            ("sha1/BwcHBwcHBwcHBwcHBwcHBwcHBwc=", "sha256/"),
            ("sha256/not base64!", "base64"),
            ("sha256/BwcHBw==", "length"),
            ("sha256/", "length"),
        ] {
            match bad.parse::<SpkiPin>() {
                Err(SyncError::InvalidPin(m)) => assert!(m.contains(why), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            SpkiPin::of_certificate(b"not a certificate"),
            Err(SyncError::InvalidPin(_))
        ));
    }

    #[test]
    fn a_certificates_pin_is_the_hash_of_its_public_key_info() {
        use rcgen::PublicKeyData;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let want = SpkiPin(Sha256::digest(key.subject_public_key_info()).into());
        assert_eq!(SpkiPin::of_certificate(cert.der()).unwrap(), want);
        assert_eq!(SpkiPin::of_pem(&cert.pem()).unwrap(), vec![want]);
        // Another certificate for the same key has the same pin.
        let again = rcgen::CertificateParams::new(vec!["other.test".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert_eq!(SpkiPin::of_certificate(again.der()).unwrap(), want);
    }
}
