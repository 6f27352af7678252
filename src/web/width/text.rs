//! What the Width room says beside each figure: what is drawn, and the theory it is checked
//! against (the same formulas the native tests check).

/// Beside `coordinate-check`.
pub const COORDINATE_CHECK: &str = "The coordinate check of the mup package: the mean size |x| of every layer's output at \
    step t (t = 1 is before any update), against width, averaged over seeds. Under muP every \
    curve is flat: no layer blows up or vanishes as the network widens. Under SP at a fixed \
    learning rate they grow with width; under NTK the hidden layers barely move.";

/// Beside `coordinate-change`.
pub const COORDINATE_CHANGE: &str = "The change since initialization, mean |x_t − x_1|. Theory (Yang & Hu 2021, Theorem 3.3): \
    after one SGD step the hidden features move like n^0 under muP, n^−1/2 under NTK (the \
    kernel regime), and n^+1/2 under SP (unstable). The slope in each legend is the \
    least-squares fit.";

/// Beside `movement`.
pub const MOVEMENT: &str = "After T − 1 steps: how far the last hidden layer's features moved, ‖h_T − h_1‖ / ‖h_1‖, \
    and how far the empirical tangent kernel moved, ‖Θ_T − Θ_1‖_F / ‖Θ_1‖_F, on 16 inputs. \
    NTK: both fall like n^−1/2, so in the limit the network is a kernel machine (Jacot et \
    al. 2018). muP: both stay O(1): features are learned at every width.";

/// Beside `fnspace-fit`.
pub const FNSPACE_FIT: &str = "Full-batch gradient descent on 8 points of sin 2θ on the unit circle. The NTK-GP is the \
    infinite ensemble of infinitely wide networks: f_t = f_0 + Θ(x, X) Θ⁻¹ (I − (I − \
    2ηΘ/m)^t)(y − f_0(X)) with f_0 drawn from the NNGP (Lee et al. 2019), its mean and ±2 sd \
    envelope. Curves are each width's mean over seeds (a few seeds leave the mean of f_0 \
    noisy). The step η is half the rate m / λ_max at which kernel gradient descent diverges.";

/// Beside `fnspace-loss`.
pub const FNSPACE_LOSS: &str = "Train loss against step; wide NTK networks follow the NTK-GP's expected loss (1/m)(‖U_t \
    y‖² + tr U_t K U_tᵀ), U_t = (I − 2ηΘ/m)^t.";

/// Beside `fnspace-gap`.
pub const FNSPACE_GAP: &str = "How far each network ends from its own linearization (its tangent kernel frozen at \
    initialization). Under NTK the gap falls like n^−1/2: the network is a kernel machine in \
    the limit. Under muP it stays O(1): the features, and with them the kernel, keep \
    changing at every width.";

/// Beside `abc-map`.
pub const ABC_MAP: &str = "Every layer's weight is n^−a·w with w ~ N(0, n^−2b) and learning rate η·n^−c (Yang & Hu \
    2021). Three exponents decide the limit: the output at init ~ n^(1/2 − α), α = a + b of \
    the output; features move like n^−r; the readout's own update moves f like n^−u. Theorem \
    3.3: stable iff the init is Θ(1) (a + b = 0 at the input, 1/2 in hidden layers, α ≥ \
    1/2), r ≥ 0, α + r ≥ 1 and u ≥ 0; nontrivial iff α + r = 1 or u = 0; then r = 0 learns \
    features and r > 0 is the kernel regime. The map is the slice through your u; SP at a \
    fixed rate sits at r = −1. Choose “abc sliders” as the parametrization to train your \
    choice in the coordinate check above: its hidden layers should move like n^−r.";

/// Beside `lr-transfer`.
pub const LR_TRANSFER: &str = "Training loss after 20 steps against log2 of the learning rate, one curve per width, the \
    best rate of each width marked (Tensor Programs V, Figure 1). Under muP the best rate \
    stays put as the network widens, so it can be tuned on a small model and reused on a \
    large one; under SP it moves (for Adam, to smaller rates as the width grows). Diverged \
    runs are left out.";

/// Beside `kernels`.
pub const KERNELS: &str = "NNGP K and NTK Θ of this depth and activation on 12 Gaussian inputs, with \
    neural-tangents' conventions: K ← W·E[φ(u)φ(v)] + B, Θ ← K + W·Θ·E[φ′(u)φ′(v)] per \
    layer, input kernel x·x′/d. ReLU, erf and GELU in closed form; tanh by adaptive \
    quadrature.";

/// Beside `kernel-error`.
pub const KERNEL_ERROR: &str = "Networks of growing width in NTK parametrization: the relative Frobenius distance of \
    their empirical NTK (computed per layer from backpropagated errors) and of their feature \
    NNGP to the limit. Fluctuations are O(n^−1/2): on log-log axes a line of slope −1/2.";

/// In place of `lr-transfer` until the sweep is asked for.
pub const LR_WAITING: &str = "Press “Run learning-rate sweep”: SP and muP networks of every width \
    train at 17 learning rates (about half a minute on the CPU).";
