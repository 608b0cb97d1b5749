//! How each side of the link trusts the other, with rustls on ring.
//!
//! Agents trust only the control plane's own CA, never the system's roots: at join the CA is
//! the one certificate in the presented chain whose SHA-256 is the token's, and afterwards the
//! CA saved at join. The control plane asks every client for a certificate and lets one
//! without a certificate in only to redeem a token; which node a certificate names is decided
//! by the control plane's records, not by the handshake.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use crate::proto::fingerprint;
use crate::AgentError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(e: impl std::fmt::Display) -> AgentError {
    AgentError::Tls(e.to_string())
}

/// The first certificate in a PEM text.
pub fn cert_from_pem(pem: &str) -> Result<CertificateDer<'static>, AgentError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(tls_error)
}

fn key_from_pem(pem: &str) -> Result<PrivateKeyDer<'static>, AgentError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(tls_error)
}

fn roots(ca: CertificateDer<'static>) -> Result<Arc<RootCertStore>, AgentError> {
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(tls_error)?;
    Ok(Arc::new(roots))
}

/// For joining: trusts a server whose chain holds the CA with this fingerprint and whose
/// certificate that CA signed for [`crate::proto::SERVER_NAME`].
pub fn join_config(ca_sha256: &str) -> Result<ClientConfig, AgentError> {
    let verifier = Arc::new(PinnedCa {
        ca_sha256: ca_sha256.to_ascii_lowercase(),
        provider: provider(),
    });
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// For the link: trusts only `ca_pem` and presents the node's certificate.
pub fn link_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<ClientConfig, AgentError> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots(cert_from_pem(ca_pem)?)?)
        .with_client_auth_cert(vec![cert_from_pem(cert_pem)?], key_from_pem(key_pem)?)
        .map_err(tls_error)
}

/// The control plane's side: its certificate (sent with the CA, so a joining agent can find
/// the CA it pinned), and client certificates checked against the CA when one is presented.
pub fn server_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<ServerConfig, AgentError> {
    let ca = cert_from_pem(ca_pem)?;
    let clients = WebPkiClientVerifier::builder_with_provider(roots(ca.clone())?, provider())
        .allow_unauthenticated()
        .build()
        .map_err(tls_error)?;
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_client_cert_verifier(clients)
        .with_single_cert(vec![cert_from_pem(cert_pem)?, ca], key_from_pem(key_pem)?)
        .map_err(tls_error)
}

/// Verifies the server against the CA found in its own chain by fingerprint (the token's).
#[derive(Debug)]
struct PinnedCa {
    ca_sha256: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ca = intermediates
            .iter()
            .find(|c| fingerprint(c) == self.ca_sha256)
            .ok_or(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))?;
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        inner.verify_server_cert(end_entity, &[], server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
