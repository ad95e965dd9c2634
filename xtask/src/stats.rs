//! The statistics of the report: Student's t, Welch's confidence interval and test, on the
//! logarithms of the samples.
//!
//! Timings are skewed and compared as ratios, so every comparison works on `ln(ns)`: the
//! difference of the mean logs is the log of the ratio of geometric means. Its 95% confidence
//! interval is Welch's (unequal variances, Welch–Satterthwaite degrees of freedom), and the
//! significance of a change is Welch's two-sided t-test at the same scale.

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; about 15 correct digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// The regularized incomplete beta function `I_x(a, b)`, by its continued fraction
/// (modified Lentz), using the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` where it converges faster.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(b, a, 1.0 - x);
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp() / a;
    const TINY: f64 = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..=300 {
        let m = m as f64;
        // Even step, then odd step, of the continued fraction.
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        for coef in [even, odd] {
            d = 1.0 + coef * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coef / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * f
}

/// `P(T ≤ t)` for Student's t with `df` degrees of freedom (`df` may be fractional).
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `p` quantile of Student's t with `df` degrees of freedom, by bisection on the CDF.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while student_t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
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
            (1e6, 1.959_966_0),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!(close(q, expected, 1e-6), "df {df}: {q} vs {expected}");
        }
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
    fn relative_spread_is_stdev_over_mean() {
        // mean 10, population stdev 2.
        assert!(close(relative_spread(&[8, 12, 8, 12]), 0.2, 1e-12));
        assert_eq!(relative_spread(&[5]), 0.0);
    }
}
