// From tests/golden/criticality_tanh.py (mpmath, 30 digits): tanh at C_b = 0.05,
// (C_W, q*, chi_1, c*, xi_c). The chaotic point (C_W = 2.5) and the critical C_W are still to
// be generated (the script's 2-D mpmath integrals take many minutes).
const GOLDEN: [(f64, f64, f64, f64, f64); 1] = [(1.5, 0.418037200533478, 0.938636268198851, 1.0, 15.7909940341229)];
