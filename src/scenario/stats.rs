//! Means and 95% confidence intervals over replications.

/// Two-sided 97.5% quantiles of Student's t for 1 to 30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// A mean with the half-width of its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Estimate {
    /// The sample mean.
    pub mean: f64,
    /// Half the width of the 95% confidence interval (Student's t); `None`
    /// with one sample.
    pub ci95: Option<f64>,
    /// Samples.
    pub n: usize,
}

impl Estimate {
    /// The estimate from independent samples (`None` if there are none).
    pub fn of(samples: &[f64]) -> Option<Estimate> {
        let n = samples.len();
        if n == 0 {
            return None;
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        let ci95 = (n > 1).then(|| {
            let var = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            let t = T975.get(n - 2).copied().unwrap_or(1.960);
            t * (var / n as f64).sqrt()
        });
        Some(Estimate { mean, ci95, n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_interval() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(e.mean, 2.5);
        // s = 1.291, se = 0.6455, t(3) = 3.182.
        assert!((e.ci95.unwrap() - 3.182 * 0.645497).abs() < 1e-4);
        assert_eq!(Estimate::of(&[5.0]).unwrap().ci95, None);
        assert!(Estimate::of(&[]).is_none());
    }
}
