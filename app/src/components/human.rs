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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(-3), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(600), "10 min");
        assert_eq!(duration(3_600 * 3 + 300), "3 h 5 min");
        assert_eq!(duration(86_400 * 2 + 3_600 * 4), "2 d 4 h");
    }
}
