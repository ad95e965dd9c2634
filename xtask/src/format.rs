//! Figures for people, used by every report and the terminal.

/// Nanoseconds for people: 3 significant digits and a unit.
pub fn fmt_ns(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(fmt_ns(1.0), "1.00 ns");
        assert_eq!(fmt_ns(999.0), "999 ns");
        assert_eq!(fmt_ns(1_234.0), "1.23 µs");
        assert_eq!(fmt_ns(80_937_000.0), "80.9 ms");
        assert_eq!(fmt_ns(8.04e9), "8.04 s");
    }
}
