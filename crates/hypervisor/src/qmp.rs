//! A small QMP client: greeting, capabilities negotiation, commands and events.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// What went wrong talking to QEMU.
#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    #[error("cannot reach QMP at {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("QMP connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("QMP connection closed")]
    Closed,
    #[error("QEMU sent something that is not QMP: {0}")]
    Protocol(String),
    #[error("QEMU refused `{command}`: {class}: {desc}")]
    Command {
        command: String,
        class: String,
        desc: String,
    },
    #[error("no answer from QEMU within {0:?}")]
    Timeout(Duration),
}

/// One QMP session.
pub struct Qmp {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    events: Vec<Value>,
    timeout: Duration,
}

impl Qmp {
    /// Connects, reads the greeting and leaves negotiation mode.
    pub async fn connect(path: &Path, timeout: Duration) -> Result<Self, QmpError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| QmpError::Connect {
                path: path.display().to_string(),
                source,
            })?;
        let (read, writer) = stream.into_split();
        let mut qmp = Self {
            reader: BufReader::new(read),
            writer,
            events: Vec::new(),
            timeout,
        };
        let greeting = qmp.read_message().await?;
        if greeting.get("QMP").is_none() {
            return Err(QmpError::Protocol(format!(
                "expected a greeting, got {greeting}"
            )));
        }
        qmp.execute("qmp_capabilities", None).await?;
        Ok(qmp)
    }

    async fn read_message(&mut self) -> Result<Value, QmpError> {
        let mut line = String::new();
        let n = tokio::time::timeout(self.timeout, self.reader.read_line(&mut line))
            .await
            .map_err(|_| QmpError::Timeout(self.timeout))??;
        if n == 0 {
            return Err(QmpError::Closed);
        }
        serde_json::from_str(&line).map_err(|_| QmpError::Protocol(line.trim().to_owned()))
    }

    /// Runs a command and returns its `return` value. Events read while waiting are kept.
    pub async fn execute(
        &mut self,
        command: &str,
        arguments: Option<Value>,
    ) -> Result<Value, QmpError> {
        let mut msg = json!({ "execute": command });
        if let Some(args) = arguments {
            msg["arguments"] = args;
        }
        let mut text = msg.to_string();
        text.push('\n');
        self.writer.write_all(text.as_bytes()).await?;
        loop {
            let reply = self.read_message().await?;
            if reply.get("event").is_some() {
                self.events.push(reply);
                continue;
            }
            if let Some(ret) = reply.get("return") {
                return Ok(ret.clone());
            }
            if let Some(err) = reply.get("error") {
                return Err(QmpError::Command {
                    command: command.to_owned(),
                    class: err["class"].as_str().unwrap_or("Error").to_owned(),
                    desc: err["desc"].as_str().unwrap_or("").to_owned(),
                });
            }
            return Err(QmpError::Protocol(reply.to_string()));
        }
    }

    /// Events received so far, oldest first, and forgets them.
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    /// Waits for an event named `name` (one already received counts), up to `timeout`.
    pub async fn wait_event(&mut self, name: &str, timeout: Duration) -> Result<Value, QmpError> {
        if let Some(i) = self.events.iter().position(|e| e["event"] == name) {
            return Ok(self.events.remove(i));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(QmpError::Timeout(timeout));
            }
            let msg = tokio::time::timeout(left, self.read_message())
                .await
                .map_err(|_| QmpError::Timeout(timeout))??;
            if msg["event"] == name {
                return Ok(msg);
            }
            if msg.get("event").is_some() {
                self.events.push(msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    /// A scripted QMP peer: answers each command line with the next canned lines.
    async fn peer(path: std::path::PathBuf, script: Vec<Vec<&'static str>>) {
        let listener = UnixListener::bind(&path).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write
            .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
            .await
            .unwrap();
        for answers in script {
            if lines.next_line().await.unwrap().is_none() {
                return;
            }
            for a in answers {
                write.write_all(format!("{a}\n").as_bytes()).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn events_before_a_reply_are_kept_and_errors_are_values() {
        let path = std::env::temp_dir().join(format!("strata-qmp-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let server = tokio::spawn(peer(
            path.clone(),
            vec![
                vec![r#"{"return": {}}"#],
                vec![
                    r#"{"event": "POWERDOWN", "timestamp": {}}"#,
                    r#"{"return": {}}"#,
                ],
                vec![r#"{"error": {"class": "GenericError", "desc": "no such device"}}"#],
                vec![
                    r#"{"event": "SHUTDOWN", "data": {"guest": true}}"#,
                    r#"{"return": {"status": "shutdown"}}"#,
                ],
            ],
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut q = Qmp::connect(&path, Duration::from_secs(5)).await.unwrap();
        q.execute("system_powerdown", None).await.unwrap();
        let err = q
            .execute("device_del", Some(json!({"id": "x"})))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "QEMU refused `device_del`: GenericError: no such device"
        );
        let status = q.execute("query-status", None).await.unwrap();
        assert_eq!(status["status"], "shutdown");
        let shutdown = q
            .wait_event("SHUTDOWN", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(shutdown["data"]["guest"], true);
        let rest = q.take_events();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0]["event"], "POWERDOWN");
        // The peer hung up after its script: the next command fails, it does not hang.
        let gone = q.execute("quit", None).await;
        assert!(
            matches!(gone, Err(QmpError::Closed | QmpError::Io(_))),
            "{gone:?}"
        );
        server.await.unwrap();
        let _ = std::fs::remove_file(&path);
    }
}
