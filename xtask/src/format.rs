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

/// A wait for people, as whole units: `0.4 s`, `12 s`, `3 min 5 s`, `1 h 20 min`.
pub fn fmt_span(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs < 10 {
        format!("{:.1} s", d.as_secs_f64())
    } else if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        format!("{} h {} min", secs / 3600, secs % 3600 / 60)
    }
}

/// `text` cut to at most `max` characters, the last of them an ellipsis where it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// A task count as the report says it: `10^5` for a power of ten, else the number.
pub fn fmt_count(n: u64) -> String {
    let mut power = 0;
    let mut rest = n;
    while rest >= 10 && rest.is_multiple_of(10) {
        rest /= 10;
        power += 1;
    }
    if rest == 1 && power > 0 {
        format!("10^{power}")
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_the_units_that_matter() {
        use std::time::Duration;
        assert_eq!(fmt_span(Duration::from_millis(420)), "0.4 s");
        assert_eq!(fmt_span(Duration::from_millis(12_600)), "12 s");
        assert_eq!(fmt_span(Duration::from_secs(185)), "3 min 5 s");
        assert_eq!(fmt_span(Duration::from_secs(4_800)), "1 h 20 min");
    }

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(fmt_ns(1.0), "1.00 ns");
        assert_eq!(fmt_ns(999.0), "999 ns");
        assert_eq!(fmt_ns(1_234.0), "1.23 µs");
        assert_eq!(fmt_ns(80_937_000.0), "80.9 ms");
        assert_eq!(fmt_ns(8.04e9), "8.04 s");
    }

    #[test]
    fn counts_are_powers_of_ten_where_they_are() {
        assert_eq!(fmt_count(1_000), "10^3");
        assert_eq!(fmt_count(100_000), "10^5");
        assert_eq!(fmt_count(1_000_000), "10^6"); // as the targets write their counts
        assert_eq!(fmt_count(50_000), "50000");
        assert_eq!(fmt_count(1), "1");
        assert_eq!(fmt_count(10), "10^1");
    }
}
