// From tests/golden/criticality_tanh.py (mpmath, 20 digits): tanh at C_b = 0.05,
// (C_W, q*, chi_1, c*, xi_c).
const GOLDEN: [(f64, f64, f64, f64, f64); 2] = [
    (1.5, 0.418037200533478, 0.938636268198851, 1.0, 15.7909940341229),
    (2.5, 1.06395837741681, 1.13351569870427, 0.446804232344267, 11.7955975158776),
];

/// The critical C_W (chi_1 = 1) at C_b = 0.05, from the same script.
const GOLDEN_CRITICAL_WEIGHT_VAR: f64 = 1.76095463960674;
