//! What each figure of the Landscape room shows and what to look for, and a line of the
//! numbers behind it.

use crate::experiments::landscape::intrinsic::IntrinsicResult;
use crate::experiments::landscape::sharpness::SharpnessResult;
use crate::experiments::landscape::spectrum::SpectrumResult;
use crate::experiments::landscape::surface::SurfaceResult;

/// The loss on a plane.
pub const PLANE: &str = "The training loss L(θ* + α d₁ + β d₂) on a grid of (α, β) around \
the trained parameters θ* (the centre point), as log₁₀ of its ratio to the lowest loss on the \
plane, and the training accuracy beside it. Random directions: each d_i is Gaussian, then filter-normalized, d_i ← d_i ‖w_i‖ / ‖d_i‖ \
for every unit's incoming weights w_i (Li et al. 2018), so that a step of 1 along d moves every \
unit by its own size and planes of networks at different scales compare; biases stay fixed \
unless 'biases move' is chosen. PCA directions: the top two principal components of the \
training trajectory's offsets θ_t − θ* (a checkpoint every epoch), which the trajectory \
(init → solution) is drawn on; the axes give the fraction of its variance each explains, \
usually most of it in two directions. Look for a wide, convex basin around θ* and how the \
trajectory descends into it. The grid appears coarse first, then fills in.";

/// The loss as a surface.
pub const SURFACE: &str = "The same training loss drawn as a surface over the plane, its \
height log₁₀ of the loss over the plane's lowest, as Li et al. draw their landscapes: the \
basin's shape at a glance; the plane above gives the values.";

/// The slices through the solution.
pub const SLICES: &str = "The loss along each direction alone, through θ* (the centre row \
and column of the plane), training and test. Dashed: the quadratic model L* + a g·d + a² \
dᵀHd / 2, with the gradient g and the curvature dᵀHd from exact Hessian-vector products \
(Pearlmutter 1994: forward-over-reverse differentiation, no finite differences). Near θ* the \
measured loss follows it; farther out the loss flattens (cross-entropy saturates) or \
steepens, which is where a quadratic picture of the minimum stops holding.";

/// The top eigenvalues and the density.
pub const SPECTRUM: &str = "The Hessian H of the training loss at the same θ*, never formed: \
Lanczos iteration on exact Hessian-vector products, with full re-orthogonalization (so no \
ghost copies of the top eigenvalue). Left: the top-k eigenvalues of the full-batch Hessian; \
each error bar is the Ritz residual ‖H v − λ v‖, and an exact eigenvalue lies within it. \
Beside them the top eigenvalues of one random mini-batch's Hessian (a noisy estimate, its \
largest usually above the full batch's), and dashed the mean eigenvalue tr H / D from \
Hutchinson's estimate E[vᵀHv] over Rademacher v: far below λ₁. Right: the spectral density \
by stochastic Lanczos quadrature (Ghorbani et al. 2019, PyHessian), Gaussian-broadened, on a \
log scale: nearly all the mass in a bulk at zero, and a few outliers to its right that carry \
the curvature.";

/// The diagonal blocks.
pub const LAYERS: &str = "The same for each layer's diagonal block H_ll, the curvature of the \
loss in that layer's weights and biases with every other layer fixed (PyHessian's per-layer \
analysis). The layers differ by orders of magnitude in curvature, which is why one learning \
rate is not right for every layer.";

/// Sharpness against 2/eta.
pub const SHARPNESS: &str = "Full-batch gradient descent from one initialization at several \
learning rates η, with the sharpness, the top eigenvalue λ₁ of the Hessian, measured by \
Lanczos every few steps (Cohen et al. 2021's setting in small: a tanh network of its own \
with the squared loss, on 256 points of a Gaussian mixture slow to fit). On a quadratic, gradient descent is stable only while λ₁ < 2/η \
(dashed). Here the sharpness first rises (progressive sharpening) until it reaches 2/η, then \
hovers at it, the edge of stability, while the loss keeps falling, non-monotonically: the \
larger η, the lower the ceiling.";

/// Intrinsic dimension.
pub const INTRINSIC: &str = "Training only in a random d-dimensional subspace, θ = θ₀ + P z \
with P a fixed random D × d matrix of unit-norm columns and only z trained, by the same SGD as \
the full network (Li, Farkhoor, Liu & Yosinski 2018). The intrinsic dimension d_int90 is the \
smallest d whose test accuracy reaches 90% of the full-space network's (dashed lines): the \
number of directions the problem really needs, usually a small fraction of the D parameters.";

/// The model upload's hint.
pub const UPLOAD: &str = "A model (torch.nn.Sequential of Linear layers, saved with \
safetensors) and a CSV (features, then the class, or the targets for MSE); the activation and \
loss above apply. The plane (filter-normalized directions: a file has no trajectory) and the \
Hessian are then those of your model; the last two figures keep training their own networks.";

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The plane's numbers: parameters, grid, the loss at the solution, the directions.
pub fn plane_facts(r: &SurfaceResult) -> String {
    let m = r.grid;
    let at = r.train_loss.get((m / 2) * m + m / 2);
    let mut facts = format!("D = {} parameters; {m} × {m} points", r.params);
    if m < r.config.grid {
        facts += &format!(" so far (of {0} × {0})", r.config.grid);
    }
    if let Some(l) = at {
        facts += &format!("; training loss at θ* {l:.4}");
    }
    if let Some(p) = &r.plane {
        facts += &match p.explained_variance {
            Some([e1, e2]) => format!(
                "; PC 1 and PC 2 explain {} and {} of the trajectory's variance",
                pct(e1),
                pct(e2)
            ),
            None => format!(
                "; ‖d₁‖ = {:.3}, ‖d₂‖ = {:.3}, cos(d₁, d₂) = {:.3}",
                p.norms[0], p.norms[1], p.cosine
            ),
        };
    }
    facts + "."
}

/// The curvature along each direction.
pub fn slices_facts(r: &SurfaceResult) -> String {
    let each: Vec<String> = r
        .quadratic
        .iter()
        .enumerate()
        .map(|(k, q)| {
            format!(
                "along d{}: g·d = {:.2e}, dᵀHd = {:.4}",
                ["₁", "₂"][k.min(1)],
                q[1],
                q[2]
            )
        })
        .collect();
    format!("{}.", each.join("; "))
}

/// The loss, gradient, top eigenvalue and trace.
pub fn spectrum_facts(r: &SpectrumResult) -> String {
    let mut facts = format!("D = {} parameters, {} samples", r.params, r.samples);
    if let (Some(l), Some(g)) = (r.loss, r.gradient_norm) {
        facts += &format!("; L* = {l:.4}, ‖∇L‖ = {g:.2e}");
    }
    if let (Some(l), Some(e)) = (r.eigenvalues.first(), r.residuals.first()) {
        // Below f64's resolution of λ₁ the bound says only "converged".
        if *e < 1e-12 * l.abs().max(1.0) {
            facts += &format!("; λ₁ = {l:.4} (Lanczos converged to rounding)");
        } else {
            facts += &format!("; λ₁ = {l:.4} ± {e:.1e} (Ritz residual)");
        }
    }
    if let Some(l) = r.minibatch_eigenvalues.first() {
        facts += &format!(" (mini-batch of {}: {l:.4})", r.config.minibatch);
    }
    if let (Some(t), Some(e)) = (r.trace, r.trace_stderr) {
        facts += &format!("; tr H ≈ {t:.3} ± {e:.3}");
    }
    facts + "."
}

/// Each layer's top eigenvalue.
pub fn layer_facts(r: &SpectrumResult) -> String {
    let each: Vec<String> = r
        .layers
        .iter()
        .filter_map(|l| Some(format!("{}: λ₁ = {:.4}", l.name, l.eigenvalues.first()?)))
        .collect();
    if each.is_empty() {
        String::new()
    } else {
        format!("{}.", each.join("; "))
    }
}

/// Per learning rate: the largest sharpness against 2/eta.
pub fn sharpness_facts(r: &SharpnessResult) -> String {
    let each: Vec<String> = r
        .runs
        .iter()
        .filter(|c| !c.sharpness.is_empty())
        .map(|c| {
            let max = c
                .sharpness
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            let end = c
                .diverged_at
                .map_or(String::new(), |s| format!(", diverged at step {s}"));
            format!(
                "η = {}: λ₁ up to {max:.2} against {:.2}{end}",
                c.lr, c.threshold
            )
        })
        .collect();
    if each.is_empty() {
        String::new()
    } else {
        format!("{}.", each.join("; "))
    }
}

/// d_int90 against D.
pub fn intrinsic_facts(r: &IntrinsicResult) -> String {
    let base = r
        .baseline_accuracy
        .map_or(String::new(), |a| format!("full space {}; ", pct(a)));
    match r.d_int90 {
        Some(d) => format!(
            "{base}d_int90 = {d} of D = {} ({} of the parameters).",
            r.params,
            pct(d as f64 / r.params as f64)
        ),
        None if r.dims.len() == r.config.dims.len() => {
            let largest = r.config.dims.last().copied().unwrap_or_default();
            format!("{base}d_int90 not reached by d = {largest}.")
        }
        None => format!(
            "{base}{} of {} dimensions trained.",
            r.dims.len(),
            r.config.dims.len()
        ),
    }
}
