//! What `/proc` tells about a QEMU process: whether it lives, its command line, which VM
//! directory it belongs to, and the CPU time, memory and age it has used.

use crate::driver::Usage;

/// Clock ticks per second of the times in `/proc/<pid>/stat`. `sysconf(_SC_CLK_TCK)` is 100
/// on every Linux x86_64 kernel (USER_HZ is fixed by the ABI), so a constant is used rather
/// than a call into libc.
const CLK_TCK: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` after the parenthesised command name (which may itself
/// hold spaces and parentheses), so that `fields[0]` is field 3 of proc(5), the state.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The value of field `n` (numbered as in proc(5)) of a process's stat.
fn field(fields: &[String], n: usize) -> Option<u64> {
    fields.get(n.checked_sub(3)?)?.parse().ok()
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().map(|state| state != "Z"))
        .unwrap_or(false)
}

/// The arguments a process was started with (empty for a kernel thread).
pub fn cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// The `-pidfile` argument of every live process that has one, with the process id: the
/// QEMUs of VM directories, found even when a pid file was lost.
pub fn pidfiles() -> Vec<(u32, String)> {
    pids()
        .filter_map(|pid| {
            let args = cmdline(pid)?;
            let file = args.windows(2).find(|w| w[0] == "-pidfile")?[1].clone();
            alive(pid).then_some((pid, file))
        })
        .collect()
}

fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
}

/// CPU time, resident memory and age of a live process.
pub fn usage(pid: u32) -> Option<Usage> {
    let fields = stat_fields(pid)?;
    // proc(5): 14 utime, 15 stime and 22 starttime, all in clock ticks; the times of a
    // process (not a task/ entry) are summed over all its threads, the vCPUs included.
    let ticks = field(&fields, 14)? + field(&fields, 15)?;
    let start = field(&fields, 22)? as f64 / CLK_TCK;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(Usage {
        cpu_seconds: ticks as f64 / CLK_TCK,
        rss_bytes: rss_kb * 1024,
        uptime_seconds: (uptime - start).max(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_measured() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(!alive(u32::MAX));
        let u = usage(me).unwrap();
        assert!(u.rss_bytes > 0);
        assert!(u.uptime_seconds >= 0.0 && u.uptime_seconds < 24.0 * 3600.0);
        assert!(!cmdline(me).unwrap().is_empty());
    }
}
