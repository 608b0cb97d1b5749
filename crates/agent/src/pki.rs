//! Certificates of the link, made with rcgen: the control plane's CA, the certificate it
//! serves agents with, and node certificates signed from an agent's request.
//!
//! A node certificate names the node's id as its common name and is good for client
//! authentication only; the CA signs nothing else. The CA's key stays with the control plane,
//! a node's key with its host.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CertificateSigningRequestParams,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::proto::{fingerprint, SERVER_NAME};
use crate::AgentError;

fn pki_error(e: rcgen::Error) -> AgentError {
    AgentError::Tls(e.to_string())
}

fn named(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// The control plane's certificate authority for agents.
pub struct Authority {
    cert: Certificate,
    key: KeyPair,
    /// The CA certificate as first made (re-created issuer certificates differ in signature).
    cert_pem: String,
    /// Its fingerprint, which join tokens carry.
    sha256: String,
}

/// A node certificate as signed, with the fingerprint that names it in the node's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCert {
    pub pem: String,
    pub sha256: String,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// A new CA (ECDSA P-256).
    pub fn generate() -> Result<Self, AgentError> {
        let key = KeyPair::generate().map_err(pki_error)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = named("Strata node CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(pki_error)?;
        Ok(Self {
            cert_pem: cert.pem(),
            sha256: fingerprint(cert.der()),
            cert,
            key,
        })
    }

    /// The CA kept as PEM texts.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, AgentError> {
        let key = KeyPair::from_pem(key_pem).map_err(pki_error)?;
        let params = CertificateParams::from_ca_cert_pem(cert_pem).map_err(pki_error)?;
        let cert = params.self_signed(&key).map_err(pki_error)?;
        Ok(Self {
            sha256: fingerprint(&crate::tls::cert_from_pem(cert_pem)?),
            cert_pem: cert_pem.to_owned(),
            cert,
            key,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The fingerprint join tokens carry.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// A fresh certificate and key for serving agents (made at every start; nothing pins it
    /// but through the CA).
    pub fn server_cert(&self) -> Result<(String, String), AgentError> {
        let key = KeyPair::generate().map_err(pki_error)?;
        let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned()]).map_err(pki_error)?;
        params.distinguished_name = named(SERVER_NAME);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(pki_error)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// Signs an agent's request as the certificate of node `node_id`, whatever the request
    /// asked for besides its key (checked to be the requester's by the request's signature).
    pub fn sign_node(&self, csr_pem: &str, node_id: &str) -> Result<NodeCert, AgentError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|_| AgentError::Protocol("the certificate request is not valid".into()))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = named(node_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        csr.params = params;
        let cert = csr.signed_by(&self.cert, &self.key).map_err(pki_error)?;
        Ok(NodeCert {
            pem: cert.pem(),
            sha256: fingerprint(cert.der()),
        })
    }
}

/// A new key pair for a node and the request to certify it: (key PEM, request PEM).
pub fn node_key_and_request() -> Result<(String, String), AgentError> {
    let key = KeyPair::generate().map_err(pki_error)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = named("strata node");
    let csr = params.serialize_request(&key).map_err(pki_error)?;
    Ok((key.serialize_pem(), csr.pem().map_err(pki_error)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_request_is_signed_for_its_node_and_the_ca_reloads() {
        let ca = Authority::generate().unwrap();
        let (_key, csr) = node_key_and_request().unwrap();
        let cert = ca.sign_node(&csr, "node-1").unwrap();
        assert!(
            cert.pem.starts_with("-----BEGIN CERTIFICATE-----"),
            "{cert:?}"
        );
        let der = crate::tls::cert_from_pem(&cert.pem).unwrap();
        assert_eq!(cert.sha256, fingerprint(&der));
        assert_eq!(
            ca.sha256(),
            fingerprint(&crate::tls::cert_from_pem(ca.cert_pem()).unwrap())
        );
        let again = Authority::from_pem(ca.cert_pem(), &ca.key_pem()).unwrap();
        assert_eq!(again.sha256(), ca.sha256());
        assert!(again.sign_node(&csr, "node-2").is_ok());
        let err = ca.sign_node("not a request", "x").unwrap_err().to_string();
        assert!(err.contains("not valid"), "{err}");
    }
}
