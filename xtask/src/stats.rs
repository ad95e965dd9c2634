//! The statistics of the report: Student's t, Welch's confidence interval and test, on the
//! logarithms of the samples.
//!
//! Timings are skewed and compared as ratios, so every comparison works on `ln(ns)`: the
//! difference of the mean logs is the log of the ratio of geometric means. Its 95% confidence
//! interval is Welch's (unequal variances, Welch–Satterthwaite degrees of freedom), and the
//! significance of a change is Welch's two-sided t-test at the same scale. Student's t itself
//! comes from `statrs`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Student's t with `df` degrees of freedom (`df` may be fractional; it is positive wherever
/// [`Welch::of`] computes it, and the fallback is never reached).
fn student_t(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df)
        .or_else(|_| StudentsT::new(0.0, 1.0, 1.0))
        .expect("Student's t with one degree of freedom exists")
}

/// `P(T ≤ t)` for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    student_t(df).cdf(t)
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    student_t(df).inverse_cdf(p)
}

/// Count, mean and sample variance of `ln(ns)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogMoments {
    n: f64,
    mean: f64,
    var: f64,
}

impl LogMoments {
    fn of(samples: &[u64]) -> Option<Self> {
        if samples.len() < 2 {
            return None;
        }
        let logs: Vec<f64> = samples.iter().map(|&ns| (ns.max(1) as f64).ln()).collect();
        let n = logs.len() as f64;
        let mean = logs.iter().sum::<f64>() / n;
        let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Some(Self { n, mean, var })
    }
}

/// Welch's comparison of two sets of samples, on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Welch {
    /// Mean log of `a` minus mean log of `b`.
    diff: f64,
    /// Standard error of `diff`.
    se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    df: f64,
}

impl Welch {
    fn of(a: &[u64], b: &[u64]) -> Option<Self> {
        let (a, b) = (LogMoments::of(a)?, LogMoments::of(b)?);
        let (va, vb) = (a.var / a.n, b.var / b.n);
        let se = (va + vb).sqrt();
        let df = if se == 0.0 {
            a.n + b.n - 2.0
        } else {
            (va + vb).powi(2) / (va.powi(2) / (a.n - 1.0) + vb.powi(2) / (b.n - 1.0))
        };
        Some(Self {
            diff: a.mean - b.mean,
            se,
            df,
        })
    }
}

/// A ratio with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub point: f64,
    pub low: f64,
    pub high: f64,
}

/// How many times slower `a` is than `b` (ratio of geometric means, `a / b`), with a 95% Welch
/// confidence interval. `None` with fewer than two samples on either side.
pub fn ratio(a: &[u64], b: &[u64]) -> Option<Ratio> {
    let w = Welch::of(a, b)?;
    let half = student_t_quantile(0.975, w.df) * w.se;
    Some(Ratio {
        point: w.diff.exp(),
        low: (w.diff - half).exp(),
        high: (w.diff + half).exp(),
    })
}

/// The relative half-width of the 95% t interval of the geometric mean of `samples`: 0.05 when
/// the interval runs from 5% below to 5% above (on the log scale, `exp(t·s/√n) − 1`). `None`
/// with fewer than two samples.
pub fn relative_half_width(samples: &[u64]) -> Option<f64> {
    let m = LogMoments::of(samples)?;
    let half = student_t_quantile(0.975, m.n - 1.0) * (m.var / m.n).sqrt();
    Some(half.exp_m1())
}

/// The two-sided p-value of Welch's t-test that `a` and `b` have the same mean log.
pub fn welch_p_value(a: &[u64], b: &[u64]) -> Option<f64> {
    let w = Welch::of(a, b)?;
    if w.se == 0.0 {
        return Some(if w.diff == 0.0 { 1.0 } else { 0.0 });
    }
    let t = (w.diff / w.se).abs();
    Some(2.0 * (1.0 - student_t_cdf(t, w.df)))
}

/// The population standard deviation over the mean of `samples` (0 when fewer than two).
pub fn relative_spread(samples: &[u64]) -> f64 {
    if samples.len() < 2 {
        return 0.0;
    }
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&s| s as f64).sum::<f64>() / n;
    let var = samples
        .iter()
        .map(|&s| (s as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    if mean == 0.0 { 0.0 } else { var.sqrt() / mean }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        for (df, expected) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (4.0, 2.776_445_105),
            (9.0, 2.262_157_163),
            (30.0, 2.042_272_456),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!(close(q, expected, 1e-6), "df {df}: {q} vs {expected}");
        }
        // Near the normal limit statrs' inverse is good to about 1e-4, far finer than any
        // interval the report prints (three significant digits).
        let q = student_t_quantile(0.975, 1e6);
        assert!(close(q, 1.959_966_0, 1e-4), "df 1e6: {q}");
        assert!(close(student_t_quantile(0.025, 9.0), -2.262_157_163, 1e-6));
    }

    #[test]
    fn t_cdf_matches_its_closed_forms() {
        for t in [-3.0, -0.5, 0.0, 0.7, 2.0, 10.0] {
            // df = 1 is the Cauchy distribution; df = 2 has a closed form too.
            let cauchy = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert!(close(student_t_cdf(t, 1.0), cauchy, 1e-10), "t {t}");
            let two = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert!(close(student_t_cdf(t, 2.0), two, 1e-10), "t {t}");
        }
    }

    #[test]
    fn ratio_of_constant_samples_is_exact() {
        let r = ratio(&[100, 100, 100], &[50, 50]).unwrap();
        for x in [r.point, r.low, r.high] {
            assert!(close(x, 2.0, 1e-12), "{r:?}");
        }
        assert_eq!(r.low, r.high, "no spread, no interval");
        assert_eq!(welch_p_value(&[100, 100], &[50, 50]), Some(0.0));
        assert_eq!(welch_p_value(&[7, 7], &[7, 7]), Some(1.0));
    }

    #[test]
    fn ratio_interval_by_hand() {
        // Logs of a and b differ by ln 2 exactly and have the same sample variance, ln²2 × 1,
        // so the point is 2, se = ln2·√(2/3), df = 2(n − 1) = 4, t(0.975, 4) = 2.7764451:
        // interval = 2^(1 ± 2.7764451·√(2/3)) = 2^(1 ± 2.2669579).
        let r = ratio(&[100, 200, 400], &[50, 100, 200]).unwrap();
        assert!(close(r.point, 2.0, 1e-12));
        assert!(close(r.low, 2f64.powf(1.0 - 2.266_957_9), 1e-6), "{r:?}");
        assert!(close(r.high, 2f64.powf(1.0 + 2.266_957_9), 1e-6), "{r:?}");
    }

    #[test]
    fn welch_p_value_by_hand() {
        // n = 2 each, log difference ln 2, each sample variance 2·ln²2: se = √2·ln 2,
        // t = 1/√2, df = 2; P(T ≤ t) = 1/2 + t / (2√(2 + t²)) = 0.7236068; p = 0.5527864.
        let p = welch_p_value(&[200, 800], &[100, 400]).unwrap();
        assert!(close(p, 0.552_786_4, 1e-6), "{p}");
    }

    #[test]
    fn too_few_samples_give_no_interval() {
        assert_eq!(ratio(&[1], &[1, 2]), None);
        assert_eq!(welch_p_value(&[1, 2], &[]), None);
    }

    #[test]
    fn half_width_follows_t_and_the_log_spread() {
        assert_eq!(relative_half_width(&[5]), None);
        assert_eq!(relative_half_width(&[7, 7, 7]), Some(0.0));
        // ln(100), ln(200): mean log spread s = ln 2 / √2, n = 2, t(1) = 12.706.
        let h = relative_half_width(&[100, 200]).unwrap();
        let expected = (12.706_204_736 * std::f64::consts::LN_2 / 2.0).exp_m1();
        assert!(close(h, expected, 1e-6), "{h} against {expected}");
        // More samples of the same spread: narrower.
        let wide = relative_half_width(&[90, 110, 95, 105]).unwrap();
        let narrow = relative_half_width(&[90, 110, 95, 105, 90, 110, 95, 105]).unwrap();
        assert!(narrow < wide / 1.5, "{narrow} against {wide}");
    }

    #[test]
    fn relative_spread_is_stdev_over_mean() {
        // mean 10, population stdev 2.
        assert!(close(relative_spread(&[8, 12, 8, 12]), 0.2, 1e-12));
        assert_eq!(relative_spread(&[5]), 0.0);
    }
}
