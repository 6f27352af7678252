//! Gaussian expectations by adaptive Gauss–Kronrod quadrature.
//!
//! Plain Gauss–Hermite fails when the integrand is sharp on the scale of the Gaussian: at a
//! large input norm `tanh(s z)` is a near-step and `gelu(s z)` a near-kink at `z = 0`, far
//! narrower than the spacing of the Hermite nodes. Here every 1-D integral runs over
//! `[-Z_MAX, Z_MAX]` against the standard normal density, is split at the point where the
//! activation's argument crosses 0, and each piece is bisected until the 7-point Gauss and
//! 15-point Kronrod rules agree (Piessens et al., QUADPACK, 1983, rule QK15).

use std::f64::consts::PI;

/// Half-width of the integration range in standard deviations: the normal mass outside is
/// `erfc(10 / sqrt 2) = 1.5e-23`, far below f64 precision relative to any O(1) integrand.
const Z_MAX: f64 = 10.0;

/// Deepest bisection of a piece. The graded breakpoints already put every feature in a piece
/// of its own size, so 2^-20 of a piece is far below anything left to resolve; the cap bounds
/// the work when an integrand is noisier than its size says.
const MAX_DEPTH: u32 = 20;

/// The narrowest piece graded around a kink, in standard deviations: a feature narrower than
/// this moves a Gaussian integral by less than `1e-12 / sqrt(2 pi)` of the integrand's range,
/// below the quadrature's tolerance, so a sharper activation is integrated as the step it is.
const FINEST_PIECE: f64 = 1e-12;

/// Kronrod nodes on [-1, 1] (non-negative half, descending) and weights (QUADPACK QK15).
const XK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Gauss weights of the 7-point rule, on the odd Kronrod nodes XK[1], XK[3], XK[5], XK[7].
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// An integrand's value at a point and a bound on its size there: `|f(x)|` for a formula, or
/// for an inner integral `∫ |g|`, which bounds that integral's rounding and truncation noise
/// even where the integral itself cancels to near 0.
type Sample = (f64, f64);

/// Kronrod estimate, |Kronrod - Gauss|, and the Kronrod estimate of the size `∫ magnitude`, on
/// [a, b].
fn qk15(f: &mut impl FnMut(f64) -> Sample, a: f64, b: f64) -> (f64, f64, f64) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let (f0, m0) = f(centre);
    let mut kronrod = WK[7] * f0;
    let mut gauss = WG[3] * f0;
    let mut size = WK[7] * m0;
    for j in 0..7 {
        let dx = half * XK[j];
        let ((left, m_left), (right, m_right)) = (f(centre - dx), f(centre + dx));
        kronrod += WK[j] * (left + right);
        size += WK[j] * (m_left + m_right);
        if j % 2 == 1 {
            gauss += WG[j / 2] * (left + right);
        }
    }
    (kronrod * half, (kronrod - gauss).abs() * half, size * half)
}

/// `∫_a^b f` to absolute error about `tol` by recursive bisection, and `∫ magnitude`. `noise`
/// is the relative accuracy of the samples (machine precision for a formula, the inner
/// tolerance for an inner integral): a piece whose error estimate is within `noise` of its
/// size cannot be improved by bisecting and is accepted (QUADPACK's round-off guard).
fn integrate(
    f: &mut impl FnMut(f64) -> Sample,
    (a, b): (f64, f64),
    tol: f64,
    noise: f64,
    depth: u32,
) -> Sample {
    let (value, error, size) = qk15(f, a, b);
    // A NaN error (NaN integrand) stops here and propagates the NaN in `value`.
    if error.is_nan() || error <= tol || error <= noise * size || depth == MAX_DEPTH {
        return (value, size);
    }
    let mid = 0.5 * (a + b);
    let left = integrate(f, (a, mid), 0.5 * tol, noise, depth + 1);
    let right = integrate(f, (mid, b), 0.5 * tol, noise, depth + 1);
    (left.0 + right.0, left.1 + right.1)
}

/// Relative accuracy of a pointwise-evaluated integrand (a few roundings of f64).
const FORMULA_NOISE: f64 = 50.0 * f64::EPSILON;

/// Standard normal density.
fn density(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// Breakpoints on `[-Z_MAX, Z_MAX]` graded geometrically (ratio 4) away from `kink`, starting at
/// a quarter of `width`: a feature of width `width` at the kink then lies in pieces of its own
/// size, where the 15-point rule sees it, instead of falling between the nodes of a wide piece.
/// The grading starts no finer than [`FINEST_PIECE`] (a width of 0, from an argument scale that
/// overflowed, would never reach `Z_MAX`).
fn graded_breakpoints(kink: f64, width: f64) -> Vec<f64> {
    let kink = kink.clamp(-Z_MAX, Z_MAX);
    let mut points = vec![-Z_MAX, kink, Z_MAX];
    let mut step = (0.25 * width.min(1.0)).max(FINEST_PIECE);
    while step < 2.0 * Z_MAX {
        points.extend([kink - step, kink + step]);
        step *= 4.0;
    }
    points.retain(|p| (-Z_MAX..=Z_MAX).contains(p));
    points.sort_by(f64::total_cmp);
    points.dedup();
    points
}

/// `∫ f` over the pieces between `breakpoints`, to about `tol` relative to its size: a first
/// pass measures the size, then each piece is refined to its share of the error.
fn integrate_pieces(
    f: &mut impl FnMut(f64) -> Sample,
    breakpoints: &[f64],
    tol: f64,
    noise: f64,
) -> Sample {
    let pieces = breakpoints.len() - 1;
    let size: f64 = breakpoints.windows(2).map(|w| qk15(f, w[0], w[1]).2).sum();
    let tol = (tol * size).max(f64::MIN_POSITIVE) / pieces as f64;
    breakpoints
        .windows(2)
        .map(|w| integrate(f, (w[0], w[1]), tol, noise, 0))
        .fold((0.0, 0.0), |acc, p| (acc.0 + p.0, acc.1 + p.1))
}

/// `E[g(m + s Z)]` and `E|g(m + s Z)|`, `Z ~ N(0, 1)`, for `g` whose features are of width
/// >= 1 and centred at argument 0: the range is graded around `z = -m / s`.
fn normal_expectation_and_size(g: &impl Fn(f64) -> f64, m: f64, s: f64, tol: f64) -> Sample {
    if s == 0.0 {
        let v = g(m);
        return (v, v.abs());
    }
    let mut integrand = |z: f64| {
        let v = g(m + s * z) * density(z);
        (v, v.abs())
    };
    integrate_pieces(
        &mut integrand,
        &graded_breakpoints(-m / s, 1.0 / s),
        tol,
        FORMULA_NOISE,
    )
}

/// `E[g(m + s Z)]`, `Z ~ N(0, 1)`, to about `tol` relative to `E|g|` (see
/// [`bivariate_expectation`] for what `g` may be).
pub fn normal_expectation(g: &impl Fn(f64) -> f64, m: f64, s: f64, tol: f64) -> f64 {
    normal_expectation_and_size(g, m, s, tol).0
}

/// `E[f(u) g(v)]` for `(u, v)` centred Gaussian with variances `q1`, `q2` and covariance `c`,
/// to about `tol` relative to `E|f(u) g(v)|`, for `f`, `g` whose features (kinks, steps) are at
/// argument 0 with width >= 1. Writes `u = sqrt(q1) z1`, `v = sqrt(q2) (rho z1 + sqrt(1 -
/// rho^2) z2)` and nests two graded adaptive 1-D integrals.
pub fn bivariate_expectation(
    f: &impl Fn(f64) -> f64,
    g: &impl Fn(f64) -> f64,
    q1: f64,
    q2: f64,
    c: f64,
    tol: f64,
) -> f64 {
    let (s1, s2) = (q1.max(0.0).sqrt(), q2.max(0.0).sqrt());
    if s1 == 0.0 {
        return f(0.0) * normal_expectation(g, 0.0, s2, tol);
    }
    let rho = if s2 == 0.0 {
        0.0
    } else {
        (c / (s1 * s2)).clamp(-1.0, 1.0)
    };
    let conditional_sd = s2 * (1.0 - rho * rho).max(0.0).sqrt();
    // The inner integrals are 100x more accurate, so that their error is not mistaken by the
    // outer rule for structure worth bisecting.
    let inner_tol = 0.01 * tol;
    let mut integrand = |z1: f64| {
        let fu = f(s1 * z1);
        if fu == 0.0 {
            return (0.0, 0.0);
        }
        let (value, size) =
            normal_expectation_and_size(g, s2 * rho * z1, conditional_sd, inner_tol);
        let weight = fu * density(z1);
        (weight * value, weight.abs() * size)
    };
    // In z1 the features sit at 0 with width 1/s1 (from f) and 1/(s2 |rho|) (from g).
    let width = 1.0 / s1.max(s2 * rho.abs());
    integrate_pieces(
        &mut integrand,
        &graded_breakpoints(0.0, width),
        tol,
        inner_tol,
    )
    .0
}
