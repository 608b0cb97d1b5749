//! A VM's serial console: its log file (what the guest printed since it was launched) read by
//! offset or searched for a marker, and its unix socket, through which bytes are typed in.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// The most one read returns, whatever the caller asks for.
pub const MAX_READ: usize = 1 << 20;

/// Up to `max` bytes of the log from `offset`, and the offset to read from next. A missing
/// log reads as empty. An offset past the end means the log was started again by a new boot:
/// reading then starts from the beginning.
pub fn read(log: &Path, offset: u64, max: usize) -> std::io::Result<(Vec<u8>, u64)> {
    let mut file = match std::fs::File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let from = if offset > len { 0 } else { offset };
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.take(max.min(MAX_READ) as u64)
        .read_to_end(&mut bytes)?;
    let next = from + bytes.len() as u64;
    Ok((bytes, next))
}

/// Connects to the console socket, writes `bytes` and hangs up once QEMU has taken them all.
///
/// Closing right after writing would lose bytes: QEMU takes console input only as fast as the
/// guest's UART drains it (a 16-byte FIFO) and drops the connection, unread bytes and all,
/// as soon as it sees the hang-up. So only the writing half is shut; QEMU reads on to the
/// end of the input and then closes, which ends the wait here (console output sent to this
/// client meanwhile is discarded). QEMU serves one console client at a time: while another
/// is connected, this waits until `timeout`.
pub async fn write(socket: &Path, bytes: &[u8], timeout: Duration) -> std::io::Result<()> {
    let send = async {
        let mut stream = UnixStream::connect(socket).await?;
        stream.write_all(bytes).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok(())
    };
    tokio::time::timeout(timeout, send).await.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "QEMU did not take the console input in time (is another console client connected?)",
        )
    })?
}

/// Why a marker was not seen; both carry how long was waited.
#[derive(Debug, PartialEq, Eq)]
pub enum WaitError {
    Timeout(Duration),
    /// The VM stopped before printing it.
    Exited(Duration),
}

/// Waits until the log holds `marker`, polling it every 50 ms and reading only what is new;
/// gives up after `timeout` or once `alive` says the VM is gone.
pub async fn wait_for(
    log: &Path,
    marker: &str,
    timeout: Duration,
    alive: impl Fn() -> bool,
) -> Result<Duration, WaitError> {
    let marker = marker.as_bytes();
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let (mut offset, mut tail) = (0u64, Vec::<u8>::new());
    loop {
        tick.tick().await;
        // Check liveness first: output printed just before an exit is still read below.
        let was_alive = alive();
        while let Ok((bytes, next)) = read(log, offset, MAX_READ) {
            if next < offset {
                tail.clear(); // a new boot started the log again
            }
            offset = next;
            if bytes.is_empty() {
                break;
            }
            tail.extend_from_slice(&bytes);
            if contains(&tail, marker) {
                return Ok(started.elapsed());
            }
            // Keep only what could be the start of a marker cut by the end of this read.
            let keep = marker.len().saturating_sub(1).min(tail.len());
            tail.drain(..tail.len() - keep);
        }
        if !was_alive {
            return Err(WaitError::Exited(started.elapsed()));
        }
        if started.elapsed() >= timeout {
            return Err(WaitError::Timeout(started.elapsed()));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(name: &str, text: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("strata-console-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_by_offset_and_restarts_after_a_new_boot() {
        let p = log("read", "hello world");
        assert_eq!(read(&p, 0, 5).unwrap(), (b"hello".to_vec(), 5));
        assert_eq!(read(&p, 5, 100).unwrap(), (b" world".to_vec(), 11));
        assert_eq!(read(&p, 11, 100).unwrap(), (Vec::new(), 11));
        std::fs::write(&p, "new").unwrap();
        assert_eq!(read(&p, 11, 100).unwrap(), (b"new".to_vec(), 3));
        std::fs::remove_file(&p).unwrap();
        assert_eq!(read(&p, 7, 100).unwrap(), (Vec::new(), 0));
    }

    #[tokio::test]
    async fn finds_a_marker_across_reads_and_stops_when_the_vm_is_gone() {
        let p = log("wait", "boot... STRATA-GUEST-");
        let writer = {
            let p = p.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(120)).await;
                let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
                std::io::Write::write_all(&mut f, b"READY\n").unwrap();
            })
        };
        wait_for(&p, "STRATA-GUEST-READY", Duration::from_secs(5), || true)
            .await
            .unwrap();
        writer.await.unwrap();
        let gone = wait_for(&p, "NEVER", Duration::from_secs(5), || false).await;
        assert!(matches!(gone, Err(WaitError::Exited(_))), "{gone:?}");
        let late = wait_for(&p, "NEVER", Duration::from_millis(100), || true).await;
        assert!(matches!(late, Err(WaitError::Timeout(_))), "{late:?}");
        std::fs::remove_file(&p).unwrap();
    }
}
