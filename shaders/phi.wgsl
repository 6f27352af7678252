// The activations and their derivatives, by the codes of `activation_code` in
// src/gpu/kernels.rs: 0 relu, 1 tanh, 2 erf, 3 gelu (exact x Phi(x)), 4 linear. Prepended to
// every shader that applies one.

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below f32 resolution of erf near 1).
fn erf_approx(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(x));
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return sign(x) * (1.0 - poly * exp(-x * x));
}

fn phi(code: u32, x: f32) -> f32 {
    switch code {
        case 0u: { return max(x, 0.0); }
        case 1u: { return tanh(x); }
        case 2u: { return erf_approx(x); }
        case 3u: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }
        default: { return x; }
    }
}

fn phi_prime(code: u32, x: f32) -> f32 {
    switch code {
        case 0u: { return select(0.0, 1.0, x > 0.0); }
        case 1u: { let t = tanh(x); return 1.0 - t * t; }
        case 2u: { return 1.1283791670955126 * exp(-x * x); }
        case 3u: {
            return 0.5 * (1.0 + erf_approx(x * 0.70710678118654752))
                + x * 0.3989422804014327 * exp(-0.5 * x * x);
        }
        default: { return 1.0; }
    }
}
