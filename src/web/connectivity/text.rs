//! What each figure of the Connectivity room shows, and what to look for.

/// Loss and error along the path.
pub const PATH: &str = "The straight line theta(alpha) = (1 - alpha) theta_A + alpha theta_B \
on 25 points, naive (B as trained) beside B with its hidden units permuted to match A. The \
legends give Git Re-Basin's loss barrier, max over alpha of the loss minus the mean of the two \
endpoint losses, and (right) Frankle et al.'s error barrier on the test error, the same \
definition on the error. A permutation of hidden units leaves B's function unchanged (the \
endpoints coincide), yet it moves B into A's basin: the matched barrier is much lower. The \
dashed curves are the quadratics of each path's curvature c = Delta^T H Delta at the midpoint \
(exact, one Hessian-vector product), whose height -c/8 is the barrier they predict: a good guess for a smooth, \
shallow barrier, an overestimate for a sharp peak.";

/// Singular values and vectors.
pub const SPECTRA: &str = "The middle layer's weight matrix. Left: the singular values of A, \
of B as trained (dashed) and of B matched (triangles); a permutation P W Q^T is orthogonal on \
both sides, so B's values are unchanged to rounding. Centre and right: |cos| between the i-th \
left (output-side) and right (input-side) singular vectors of A and of B; matching aligns the \
top ones, which is how it brings B close to A (Ito et al., 2024). Naive, the cosines are those \
of unrelated directions, about 1/sqrt(n).";

/// The permutations as assignment matrices.
pub const PERMUTATIONS: &str = "Each hidden layer's permutation as a 0/1 matrix: a dot at \
(unit k of B, unit j of A) when unit k of B becomes unit j of the matched network. Weight \
matching maximizes sum_l <W_l^A, P_l W_l^B P_(l-1)^T> (biases included) by exact linear \
assignment, one layer at a time in random order, until no layer improves (Git Re-Basin, \
Algorithm 1); activation matching assigns units by the correlation of their activations on the \
training inputs. Two independent trainings give a scatter with no pattern: the units are learned \
in arbitrary order.";

/// Barrier against width.
pub const WIDTH: &str = "Loss barrier (left) and test-error barrier (right) against the \
width of both networks, naive and weight-matched, each point the mean of the pairs with one \
standard error (seeds s+2p and s+2p+1 for pair p). Matching lowers the barrier at every width, \
and the matched barrier falls as the networks widen (Git Re-Basin, figure 5; Entezari et al. \
2022 conjecture it vanishes with width). The dashed line is 0: linearly connected.";

/// Barrier against spawn step.
pub const SPAWN: &str = "Frankle et al.'s instability analysis: B is a copy of A spawned after \
k SGD steps (shared initialization and first k steps, then its own data order). Once k is \
large enough the two children end in one linearly connected basin, barrier 0 (dashed). On the \
digits even k = 0 is stable (a shared initialization suffices); pick the Gaussian mixture with \
10 overlapping classes (separation 1.5) and a learning rate of 0.2 to see an unstable start.";
