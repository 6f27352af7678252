//! One plot axis: data range, linear or logarithmic mapping, tick positions and tick labels.
//!
//! [`Axis`] implements plotters' [`Ranged`] so that the chart mesh uses exactly the ticks and
//! labels computed here (plotters' own log-axis ticks vanish when the range spans less than a
//! decade, and its default labels print raw `f64` debug strings).

use std::ops::Range;

use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;

/// Fraction of the data span added on each side of a linear axis.
const LINEAR_PAD: f64 = 0.05;
/// Fraction of the data span (in decades) added on each side of a logarithmic axis.
const LOG_PAD: f64 = 0.04;

/// The plotters coordinate that does the actual value-to-pixel mapping.
enum Mapping {
    Linear(RangedCoordf64),
    Log(LogCoord<f64>),
}

/// A finished axis: range, mapping, major ticks with their labels and unlabelled minor ticks.
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    mapping: Mapping,
    major: Vec<f64>,
    labels: Vec<String>,
    minor: Vec<f64>,
}

impl Clone for Axis {
    fn clone(&self) -> Self {
        Axis {
            lo: self.lo,
            hi: self.hi,
            log: self.log,
            mapping: make_mapping(self.lo, self.hi, self.log),
            major: self.major.clone(),
            labels: self.labels.clone(),
            minor: self.minor.clone(),
        }
    }
}

fn make_mapping(lo: f64, hi: f64, log: bool) -> Mapping {
    if log {
        Mapping::Log((lo..hi).log_scale().into())
    } else {
        Mapping::Linear((lo..hi).into())
    }
}

impl Axis {
    /// An axis over exactly `[lo, hi]` (callers pad the range first, see [`padded_range`]),
    /// with about `target` labelled ticks. `lo < hi` and, for a log axis, `lo > 0` must hold.
    pub(crate) fn new(lo: f64, hi: f64, log: bool, target: usize) -> Axis {
        let (major, labels, minor) = if log {
            log_ticks(lo, hi, target)
        } else {
            let major = linear_ticks(lo, hi, target);
            let labels = format_linear(&major);
            (major, labels, Vec::new())
        };
        Axis {
            lo,
            hi,
            log,
            mapping: make_mapping(lo, hi, log),
            major,
            labels,
            minor,
        }
    }

    /// The labels of the major ticks, in tick order.
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Position of `v` along the axis as a fraction of its length (0 at `lo`, 1 at `hi`).
    pub(crate) fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        match &self.mapping {
            Mapping::Linear(c) => c.map(value, limit),
            Mapping::Log(c) => c.map(value, limit),
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        format_sig(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        // The mesh asks for labels of the major ticks only; look the precomputed label up.
        self.major
            .iter()
            .position(|t| t == value)
            .and_then(|i| self.labels.get(i).cloned())
            .unwrap_or_else(|| format_sig(*value))
    }
}

/// `[min, max]` widened about its geometric mean to at least one decade, so that on a log
/// axis a flat curve looks flat and a power law shows its slope (Cleveland's banking aside,
/// a range of a few percent would blow noise up to fill the panel).
pub(crate) fn at_least_a_decade(min: f64, max: f64) -> (f64, f64) {
    let span = (max / min).log10();
    if span.is_nan() || span >= 1.0 || min <= 0.0 {
        return (min, max);
    }
    let centre = (min.log10() + max.log10()) / 2.0;
    let (lo, hi) = (10f64.powf(centre - 0.5), 10f64.powf(centre + 0.5));
    if lo > 0.0 && hi.is_finite() {
        (lo.min(min), hi.max(max))
    } else {
        (min, max)
    }
}

/// The data extent `[min, max]` padded for display. A degenerate (constant) extent is widened
/// so the axis is never empty. For a log axis `min > 0` must hold.
pub(crate) fn padded_range(min: f64, max: f64, log: bool) -> (f64, f64) {
    let (lo, hi) = if log {
        let (a, b) = (min.log10(), max.log10());
        let span = b - a;
        let (a, b) = if span <= 1e-12 {
            (a - 0.3, b + 0.3)
        } else {
            (a - LOG_PAD * span, b + LOG_PAD * span)
        };
        (10f64.powf(a), 10f64.powf(b))
    } else {
        let span = max - min;
        if span <= 1e-12 * min.abs().max(max.abs()) || span == 0.0 {
            let pad = if min == 0.0 { 1.0 } else { 0.1 * min.abs() };
            (min - pad, max + pad)
        } else {
            (min - LINEAR_PAD * span, max + LINEAR_PAD * span)
        }
    };
    // Near the limits of f64 the padding can underflow to 0 or overflow to infinity: fall back
    // to the unpadded end (a log axis must stay strictly positive, every end finite).
    let lo = if lo.is_finite() && (!log || lo > 0.0) && lo < min {
        lo
    } else {
        min
    };
    let hi = if hi.is_finite() && hi > max { hi } else { max };
    if lo < hi {
        (lo, hi)
    } else if log {
        (lo * 0.5, hi * 2.0)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `target` intervals.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // Tolerate rounding (0.2 / 0.1 = 2.0000000000000004 must still count as 2).
    let norm = raw / mag * (1.0 - 1e-9);
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Ticks at multiples of a nice step inside `[lo, hi]`.
fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, target.max(1));
    if !(step.is_finite() && step > 0.0) {
        return vec![lo, hi];
    }
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 1000.0 {
        return vec![lo, hi];
    }
    let mut ticks = Vec::new();
    let mut k = first;
    while k <= last {
        // Strip rounding noise (3 * 0.2 = 0.6000000000000001) and snap 3e-17 to an exact zero,
        // which also avoids a "-0" label.
        let v = k * step;
        let v: f64 = format!("{v:.12e}").parse().unwrap_or(v);
        ticks.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        k += 1.0;
    }
    ticks.retain(|v| *v >= lo - step * 1e-9 && *v <= hi + step * 1e-9);
    ticks
}

/// Major ticks, labels and minor ticks of a log axis over `[lo, hi]`, `0 < lo < hi`.
fn log_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, Vec<String>, Vec<f64>) {
    let (dlo, dhi) = (lo.log10(), hi.log10());
    let k0 = (dlo - 1e-9).ceil() as i32;
    let k1 = (dhi + 1e-9).floor() as i32;
    let decades = k1 - k0 + 1;
    let in_range = |v: f64| v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12);

    if decades >= 2 {
        let stride = ((decades as f64) / target.max(2) as f64).ceil().max(1.0) as i32;
        // Align the labelled decades to multiples of the stride (10^0, 10^3, 10^6, ...).
        let start = k0 + (stride - k0.rem_euclid(stride)) % stride;
        let mut major = Vec::new();
        let mut labels = Vec::new();
        let mut k = start;
        while k <= k1 {
            major.push(10f64.powi(k));
            labels.push(format!("10{}", superscript(k)));
            k += stride;
        }
        let mut minor = Vec::new();
        if stride == 1 && decades <= 8 {
            for k in (dlo.floor() as i32)..=k1 {
                for m in 2..=9 {
                    let v = f64::from(m) * 10f64.powi(k);
                    if in_range(v) {
                        minor.push(v);
                    }
                }
            }
        } else {
            for k in k0..=k1 {
                if (k - start).rem_euclid(stride) != 0 {
                    minor.push(10f64.powi(k));
                }
            }
        }
        return (major, labels, minor);
    }

    // Less than two decades visible: 1-2-5 ticks, or a finer set, or plain linear ticks.
    for mantissas in [
        &[1.0, 2.0, 5.0][..],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0][..],
    ] {
        let mut major = Vec::new();
        for k in (dlo.floor() as i32)..=(dhi.ceil() as i32) {
            for m in mantissas {
                let v = m * 10f64.powi(k);
                if in_range(v) {
                    major.push(v);
                }
            }
        }
        if major.len() >= 3 || (major.len() >= 2 && mantissas.len() > 3) {
            let major = thin(major, target.max(2) + 1);
            let labels = major.iter().map(|v| format_sig(*v)).collect();
            return (major, labels, Vec::new());
        }
    }
    let major = linear_ticks(lo, hi, target.clamp(2, 4));
    let labels = major.iter().map(|v| format_sig(*v)).collect();
    (major, labels, Vec::new())
}

/// Keeps every k-th element so that at most `max` remain.
fn thin(v: Vec<f64>, max: usize) -> Vec<f64> {
    if v.len() <= max {
        return v;
    }
    let k = v.len().div_ceil(max);
    v.into_iter().step_by(k).collect()
}

/// Labels for equally spaced linear ticks, all with the same number of decimals, switching to
/// `m×10ⁿ` notation for very large or very small magnitudes.
fn format_linear(ticks: &[f64]) -> Vec<String> {
    if ticks.len() < 2 {
        return ticks.iter().map(|v| format_sig(*v)).collect();
    }
    let step = (ticks[1] - ticks[0]).abs();
    let max_abs = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max_abs > 0.0 && !(1e-3..1e5).contains(&max_abs) {
        let exp = max_abs.log10().floor() as i32;
        let scale = 10f64.powi(exp);
        let dec = decimals_for(step / scale);
        return ticks
            .iter()
            .map(|v| {
                if *v == 0.0 {
                    "0".to_string()
                } else {
                    format!(
                        "{}×10{}",
                        minus(&format!("{:.*}", dec, v / scale)),
                        superscript(exp)
                    )
                }
            })
            .collect();
    }
    let dec = decimals_for(step);
    ticks
        .iter()
        .map(|v| minus(&format!("{:.*}", dec, v)))
        .collect()
}

/// Number of decimals needed to distinguish multiples of `step`.
fn decimals_for(step: f64) -> usize {
    let mut dec = 0usize;
    while dec < 12 {
        let scaled = step * 10f64.powi(dec as i32);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0) {
            break;
        }
        dec += 1;
    }
    dec
}

/// A single value with up to 4 significant digits, plain or as `m×10ⁿ`.
pub(crate) fn format_sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 {
            "0".to_string()
        } else {
            format!("{v}")
        };
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let rounded: f64 = format!("{v:.3e}").parse().unwrap_or(v);
        minus(&format!("{rounded}"))
    } else {
        let exp = a.log10().floor() as i32;
        let m: f64 = format!("{:.3}", v / 10f64.powi(exp)).parse().unwrap_or(v);
        format!("{}×10{}", minus(&format!("{m}")), superscript(exp))
    }
}

/// Replaces the ASCII hyphen with the typographic minus sign.
fn minus(s: &str) -> String {
    s.replace('-', "\u{2212}")
}

/// An integer written with Unicode superscript characters.
fn superscript(k: i32) -> String {
    k.to_string()
        .chars()
        .map(|c| match c {
            '-' => '\u{207B}',
            '0' => '\u{2070}',
            '1' => '\u{00B9}',
            '2' => '\u{00B2}',
            '3' => '\u{00B3}',
            d => char::from_u32(0x2070 + d.to_digit(10).unwrap_or(0)).unwrap_or(d),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_nice_and_inside() {
        let t = linear_ticks(-0.13, 1.07, 6);
        assert_eq!(t, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            format_linear(&t),
            vec!["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        let t = linear_ticks(-3.0, 3.0, 6);
        assert_eq!(format_linear(&t)[0], "\u{2212}3");
    }

    #[test]
    fn log_ticks_cover_short_and_long_ranges() {
        let (major, labels, minor) = log_ticks(0.8, 1200.0, 6);
        assert_eq!(major, vec![1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(labels, vec!["10⁰", "10¹", "10²", "10³"]);
        assert!(minor.contains(&2.0) && minor.contains(&900.0));
        let (major, labels, _) = log_ticks(0.3, 0.9, 6);
        assert!(major.len() >= 2, "{major:?}");
        assert_eq!(labels[0], "0.3");
        let (major, _, _) = log_ticks(1e-12, 1e3, 5);
        assert!(major.len() <= 6 && major.len() >= 3, "{major:?}");
    }

    #[test]
    fn formatting() {
        assert_eq!(superscript(-12), "⁻¹²");
        assert_eq!(format_sig(2.5e-7), "2.5×10⁻⁷");
        assert_eq!(format_sig(0.125), "0.125");
        assert_eq!(format_linear(&[0.0, 2e5, 4e5]), vec!["0", "2×10⁵", "4×10⁵"]);
    }

    #[test]
    fn constant_ranges_are_widened() {
        assert_eq!(padded_range(0.0, 0.0, false), (-1.0, 1.0));
        let (a, b) = padded_range(5.0, 5.0, false);
        assert!(a < 5.0 && b > 5.0);
        let (a, b) = padded_range(3.0, 3.0, true);
        assert!(a < 3.0 && b > 3.0 && a > 0.0);
    }
}
