//! What each figure of the Depth room shows, and what to look for.

/// The readout histogram.
pub const HISTOGRAM: &str = "The readout z^(L+1) of many random networks at one fixed input. \
At infinite width it is Gaussian (solid line, same variance). At finite width its excess kurtosis \
is 3 V / (n K^2) to first order (PDLT eq. 4.118): the dashed curve is the Gaussian times \
1 + (kappa/24) He_4(z/sigma) with the theory's kappa (clipped at 0 when kappa is large, where a \
first-order density goes negative). Raise the depth or lower the width: the peak sharpens and \
the tails fatten.";

/// Kurtosis through depth.
pub const KURTOSIS_LAYER: &str = "Excess kurtosis E z^4 / (E z^2)^2 - 3 of each layer's \
preactivation, from all n neurons of every network (error bars: one standard error, delta \
method over networks). ReLU and linear networks at C_b = 0 have an exact law, E z^4 / (3 E[z^2]^2) \
= (1 + 5/n)^(l-1) or (1 + 2/n)^(l-1); every activation has PDLT's four-point vertex recursion \
V^(l+1) = chi_par^2 V^(l) + C_W^2 (<phi^4> - <phi^2>^2), evaluated by quadrature. With a skip \
gamma the recursion gains (gamma^2 + chi)^2 and 2 gamma^2 a (<z^2 phi^2> - K <phi^2>): the growth \
per layer falls as gamma rises. ReLU and GELU with a skip break the sign symmetry the recursion \
needs, and no theory line is drawn.";

/// The collapse onto L/n.
pub const COLLAPSE: &str = "Output excess kurtosis over a grid of depths L and widths n: the \
points of every width fall on one curve of L/n. To leading order it is the line 3 V / (n K^2) \
(15 L/n for critical ReLU); the exact law 3 ((1 + 5/n)^L - 1) bends above it as L/n grows, \
towards 3 (exp(5 L/n) - 1).";

/// NTK fluctuations.
pub const NTK: &str = "The tangent kernel Theta(x, x) of each network (NTK parametrization, \
neural-tangents' convention): its normalized second moment E[Theta^2] / E[Theta]^2 is 1 at \
infinite width and grows exponentially in L/n (Hanin & Nica 2019, rate exp(5 L/n)). The dashed \
law per width is the lab's derivation for ReLU: Theta is a sum of L + 1 layer terms, each a \
product of forward and backward norm ratios with E X^2 = 1 + 5/n and E X Y = 1 + 1/n (shared \
ReLU masks), so the ratio is the mean over layer pairs of (1 + 5/n)^(L-|l-m|) (1 + 1/n)^|l-m|: \
1 + (11/3) L/n to leading order.";

/// The phase diagram.
pub const PHASE: &str = "Mean-field signal propagation (Poole et al. 2016; Schoenholz et al. \
2017): q* is the fixed point of the length map q -> C_W E[phi(sqrt(q) z)^2] + C_b, the variance \
deep layers settle at; chi_1 = C_W E[phi'(sqrt(q*) z)^2] is the slope of the correlation map at \
c = 1. Left of the black line (chi_1 < 1) nearby inputs converge (c* = 1, ordered); right of it \
they decorrelate (c* < 1, chaotic). The depth scales count the layers over which q and c reach \
q* and c*: xi_q = -1/log(chi_1 + C_W E[phi'' phi]) is a few layers except near the critical \
point on the C_b = 0 edge (marked; C_W = 1 for tanh), while xi_c = -1/log(C_W E[phi'(u1) \
phi'(u2)]) diverges along the whole line: only there do deep networks keep their inputs apart. \
ReLU and GELU are shown along their C_b = 0 edge, where q* is 0 or q grows without bound (ReLU \
is critical at C_W = 2).";

/// The kernel flow.
pub const FLOW: &str = "Three ensembles of width n at 0.75, 1 and 1.33 times the critical C_W \
(the current C_b): their measured E[z^2], the correlation of two inputs (c = 0.5 at the input) \
and the gradient norm E|df/dz^(l)|^2 by layer (markers), beside the exact iteration of the \
length and correlation maps and the backward recursion E|delta^l|^2 = C_W <phi'^2> \
E|delta^(l+1)|^2 (dashed). Ordered: correlations go to 1 and gradients vanish; chaotic: \
correlations fall to c* and gradients explode; critical: both change only polynomially. ReLU at C_b = 0 is scale free: its correlation map does not depend on C_W, so its three correlation curves coincide.";

/// The gradient-ratio map.
pub const GRADIENT: &str = "The ratio E|df/dz^(1)|^2 / E|df/dz^(L)|^2 of gradient norms between the first and the last hidden layer, measured on sampled networks at every cell of the diagram (depth and width as in the kernel flow). Mean field predicts the product of C_W E[phi'(sqrt(q^l) z)^2] over the layers, chi_1^(L-1) once q has reached q* (Schoenholz et al. 2017, eq. 18): gradients vanish left of the line chi_1 = 1 (blue) and explode right of it (red); white, a ratio of 1, should lie on the line. The right panel puts every cell's measurement against the theory: the points lie on the dashed diagonal, off it by O(L/n).";

/// Trained networks at a fixed budget.
pub const TRAINED: &str = "Networks of every depth L with the width n that keeps the parameter \
count at the budget, each trained by Adam from the room's initialization (C_W, C_b, activation) \
on the task, several seeds per depth (mean and one standard error). Wide and shallow networks \
are nearly kernel machines; deep and narrow ones fluctuate at initialization as exp(5 L/n) \
(ReLU) and train worse. PDLT estimates the best ratio for critical ReLU (C_W = 2, C_b = 0) from \
the effective four-point vertex: the information among the n_L outputs grows as (L/n)^2 until \
the next order turns it down, at r* = 4 / (20 + 3 n_L) (Appendix A; the dashed line, drawn for \
critical ReLU only): 0.174 for one output, 0.08 for ten. It is an estimate at initialization, \
not a prediction of the trained loss: compare the two.";

/// The skip weight.
pub const SKIP: &str = "Residual networks z^(l+1) = gamma z^(l) + W phi(z^(l)) + b, the branch's \
variances scaled by 1 - gamma^2 so the kernel keeps its fixed point: the readout's excess \
kurtosis at the sliders' depth and width against the skip weight gamma (markers: ensembles with \
one standard error), beside the vertex recursion with the skip, V^(l+1) = (gamma^2 + chi)^2 V + \
a^2 (<phi^4> - <phi^2>^2) + 2 gamma^2 a (<z^2 phi^2> - K <phi^2>), a = (1 - gamma^2) C_W \
(dashed). The skip carries most of each layer through unchanged, so the four-point vertex grows \
more slowly and a deep residual network stays nearer the Gaussian. The recursion holds for odd \
activations; for ReLU and GELU the figure shows tanh at its critical point C_W = 1, C_b = 0.";
