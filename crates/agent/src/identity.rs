//! A joined node's identity, kept in its data directory: the private key (mode 0600, never
//! sent anywhere), the certificate the control plane signed, the CA to trust, and where the
//! control plane listens.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AgentError;

/// Everything an agent needs to dial its control plane again after a restart.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub node_id: String,
    pub name: String,
    /// `wss://host:port` of the control plane's agent listener.
    pub url: String,
    pub ca_pem: String,
    pub cert_pem: String,
    #[serde(skip)]
    pub key_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("node_id", &self.node_id)
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

const LINK_FILE: &str = "link.json";
const KEY_FILE: &str = "node.key";

/// The agent's own directory under its data directory.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("agent")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AgentError + '_ {
    move |source| AgentError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Identity {
    /// The identity saved under `data_dir`, or `None` when this host has not joined.
    pub fn load(data_dir: &Path) -> Result<Option<Self>, AgentError> {
        let dir = dir(data_dir);
        let link = dir.join(LINK_FILE);
        let text = match std::fs::read_to_string(&link) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&link)(e)),
        };
        let mut identity: Self = serde_json::from_str(&text).map_err(|e| AgentError::Io {
            path: link.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        let key = dir.join(KEY_FILE);
        identity.key_pem = std::fs::read_to_string(&key).map_err(io(&key))?;
        Ok(Some(identity))
    }

    /// Writes the key first (0600) and the link file last, so a crash in between leaves a host
    /// that has not joined rather than one with half an identity.
    pub fn save(&self, data_dir: &Path) -> Result<(), AgentError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let dir = dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let key = dir.join(KEY_FILE);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&key)
            .map_err(io(&key))?;
        file.write_all(self.key_pem.as_bytes()).map_err(io(&key))?;
        file.sync_all().map_err(io(&key))?;
        let link = dir.join(LINK_FILE);
        let partial = dir.join(format!("{LINK_FILE}.new"));
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&partial, text).map_err(io(&partial))?;
        std::fs::rename(&partial, &link).map_err(io(&link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_reads_back_with_its_key_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let data = std::env::temp_dir().join(format!("strata-identity-{}", std::process::id()));
        assert_eq!(Identity::load(&data).unwrap(), None);
        let identity = Identity {
            node_id: "n".into(),
            name: "host-a".into(),
            url: "wss://10.0.0.1:7443".into(),
            ca_pem: "ca".into(),
            cert_pem: "cert".into(),
            key_pem: "key".into(),
        };
        identity.save(&data).unwrap();
        assert_eq!(Identity::load(&data).unwrap(), Some(identity.clone()));
        let mode = std::fs::metadata(dir(&data).join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let on_disk = std::fs::read_to_string(dir(&data).join(LINK_FILE)).unwrap();
        assert!(
            !on_disk.contains("key"),
            "the key is not in the link file: {on_disk}"
        );
        std::fs::remove_dir_all(data).unwrap();
    }
}
