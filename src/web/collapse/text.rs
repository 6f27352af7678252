//! What each figure of the Collapse room shows, and what to look for.

/// NC1 and NC2 against epoch.
pub const VARIABILITY: &str = "Papyan, Han & Donoho's measures on the training set at \
log-spaced epochs. NC1 = Tr(Sigma_W Sigma_B^+) / C: within-class covariance against the \
pseudo-inverse of the between-class covariance (some codes omit the 1/C; the pseudo-inverse \
keeps it finite when Sigma_B is rank-deficient). NC2: coefficient of variation of the centred \
class-mean norms and of the classifier row norms, and the mean of |cos + 1/(C-1)| over pairs of \
means. The triangle marks the first epoch with zero training error: past it (the terminal \
phase) the measures keep falling, on log axes roughly as a power of the epoch.";

/// NC3 and NC4 against epoch.
pub const DUALITY: &str = "NC3 = ||W^T/||W|| - M/||M|| ||^2: the classifier rows against the \
centred class means (0 when the classifier is the frame of the means, up to scale; 4 at most). \
NC4: the fraction of training samples where the network's decision argmax(W h + b) and the \
nearest-class-mean rule disagree, beside the training error. Both fall in the terminal phase; \
with MSE and a small weight decay the alignment is the slowest of the four.";

/// The features' projection, with the scrubber.
pub const FEATURES: &str = "The centred last-layer features (up to 40 per class) and class \
means, projected onto the plane of the means' two largest principal directions. Move the \
scrubber through training: the clouds shrink onto their means (NC1) and the means spread onto \
a circle at equal angles (NC2). For C = 3 the simplex ETF is a triangle in exactly this plane \
(dashed, aligned on class 0); for C = 4 a tetrahedron seen from its widest side, and so on. \
With imbalanced MSE on the features model, minority classes fall onto the origin.";

/// The upload of features made elsewhere.
pub const OWN: &str = "Features exported from your own model (say the penultimate layer of a \
PyTorch network on its training set), one sample per row, with a label file of class indices \
and optionally the last layer's weight W (C rows) and bias b: the same NC1-NC4 as above (NC3 \
and NC4 need W), the features on the plane of their class means' top two principal \
directions, and the means' cosines beside the simplex ETF. `theorylab nc-metrics` computes the \
same numbers on the command line.";

/// The features in 3-D.
pub const FEATURES_3D: &str = "The same features and class means along the means' three largest \
principal directions (the third points up), the means joined by solid lines: for C = 4 the \
tetrahedron they span, for C = 3 a triangle. Dashed: the simplex ETF of C <= 4 classes at the \
means' RMS norm, turned (or mirrored) by the orthogonal map that best matches it to them \
(orthogonal Procrustes). Press Play (or \
move the scrubber) to watch training carry the means onto it; turn the view with the slider.";

/// The Gram matrix of the normalized means.
pub const GRAM: &str = "Cosines between centred class means at the last epoch (left) beside \
the ideal (right). For an MLP: the simplex equiangular tight frame, 1 on the diagonal and \
-1/(C-1) everywhere else, the most separated configuration of C equal-norm vectors summing to \
zero. For the features model with bias-free MSE: the frame of its global minimum (orthogonal \
uncentred means of the closed-form lengths, centred), which is the simplex ETF when the classes \
are balanced; with imbalance the minority rows drift towards 0 or vanish.";

/// Norms and alignment against class size.
pub const NORMS: &str = "Squared classifier-row norms ||w_k||^2 and squared uncentred \
class-mean norms ||mu_k||^2 against class size, and each row's alignment cos(w_k, mu_k - mu_G) \
with its centred mean. For the unconstrained features model with bias-free MSE and decays \
lambda_W, lambda_H (choose it on the left, with an imbalance), Dang et al. (2023, Theorem 3.3) \
give the global minimum in closed form: ||w_k||^2 = s_k^2 = max(sqrt(n_k lambda_H / lambda_W) - \
N lambda_H, 0) and ||mu_k||^2 = s_k^2 / (s_k^2 + N lambda_H)^2, drawn dashed; a class with \
n_k <= N^2 lambda_W lambda_H collapses to zero (minority collapse). With k linear layers before \
the classifier (a deep linear head) the lab solves the same problem layer by layer: every \
layer carries the same share of the penalty at the optimum, which leaves one equation per class \
(docs/collapse-theory.md); then zero is also a local minimum, a second dashed curve marks the \
other local minimum where zero is the global one, and gradient descent may stay on it. The \
alignment is 1 at NC3's self-duality; without a bias the closed form's rows are the uncentred \
frame, so balanced classes give sqrt((C-1)/C).";
