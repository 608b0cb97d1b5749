//! Numbers as people read them: durations and memory sizes.

/// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3_600),
    }
}

/// Bytes as MiB, the unit VM sizes are given in.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}
