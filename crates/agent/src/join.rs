//! Joining: a new host redeems its single-use token for a node certificate. The key pair is
//! made here and only its certificate request is sent; the control plane is trusted only if
//! its chain holds the CA whose fingerprint the token carries.

use std::path::Path;

use crate::identity::Identity;
use crate::proto::{fingerprint, AgentMessage, ControlMessage, JoinToken, SILENCE_LIMIT};
use crate::{link, pki, tls, wire, AgentError};

/// [`join`], tried again with backoff while the control plane cannot be reached (a host often
/// starts before the network or the control plane is up); a refusal ends it at once.
pub async fn join_patiently(token: &JoinToken, data_dir: &Path) -> Result<Identity, AgentError> {
    let mut backoff = link::Backoff::default();
    loop {
        match join(token, data_dir).await {
            Err(e) if e.is_transient() => {
                let wait = backoff.next_wait();
                tracing::warn!(error = %e, ?wait, "could not join yet; trying again");
                tokio::time::sleep(wait).await;
            }
            done => return done,
        }
    }
}

/// Redeems `token` and saves the identity under `data_dir`.
pub async fn join(token: &JoinToken, data_dir: &Path) -> Result<Identity, AgentError> {
    let (key_pem, csr_pem) = pki::node_key_and_request()?;
    let mut ws = link::dial(&token.url, tls::join_config(&token.ca_sha256)?).await?;
    wire::send(
        &mut ws,
        &AgentMessage::Join {
            secret: token.secret.clone(),
            csr_pem,
        },
    )
    .await?;
    let answer = tokio::time::timeout(SILENCE_LIMIT, wire::recv(&mut ws))
        .await
        .map_err(|_| AgentError::Unreachable {
            url: token.url.clone(),
            message: "no answer to the join".into(),
        })??;
    let _ = ws.close(None).await;
    let (node_id, name, cert_pem, ca_pem) = match answer {
        Some(ControlMessage::Joined {
            node_id,
            name,
            certificate_pem,
            ca_pem,
        }) => (node_id, name, certificate_pem, ca_pem),
        Some(ControlMessage::Refused { reason }) => return Err(AgentError::Refused(reason)),
        other => {
            return Err(AgentError::Protocol(format!(
                "expected the node's certificate, got {other:?}"
            )))
        }
    };
    if fingerprint(&tls::cert_from_pem(&ca_pem)?) != token.ca_sha256.to_ascii_lowercase() {
        return Err(AgentError::Tls(
            "the CA sent with the certificate is not the one the token names".into(),
        ));
    }
    let identity = Identity {
        node_id,
        name,
        url: token.url.clone(),
        ca_pem,
        cert_pem,
        key_pem,
    };
    identity.save(data_dir)?;
    Ok(identity)
}
