//! Which optimizer a run uses: a word of the vocabulary that the parametrizations' learning-rate
//! rules (Adam's `c` differs from SGD's, Yang & Hu 2021, Table 3) and the optimizers both read,
//! kept apart from `optim` so that `mlp` and `parametrization` need not import the optimizers.

use super::vocabulary::{Choice, Entry};

/// Which optimizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OptimizerKind {
    /// `v = mu v + (g + lambda w)`, `w -= lr v`.
    Sgd,
    /// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as `torch.optim.Adam`.
    #[default]
    Adam,
}

impl Choice for OptimizerKind {
    const WHAT: &'static str = "optimizer";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(OptimizerKind::Sgd, "sgd", "SGD"),
        Entry::new(OptimizerKind::Adam, "adam", "Adam"),
    ];
}
crate::choice_by_name!(OptimizerKind);
