//! The GPU as a training [`Engine`]: a one-member [`GpuEnsemble`].

use super::{GpuContext, GpuEnsemble};
use crate::core::loss::{Loss, Target};
use crate::core::mlp::Mlp;
use crate::core::optim::OptimizerConfig;
use crate::core::train::Engine;
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::sync::Arc;

/// Trains one network on the GPU (f32).
#[derive(Debug)]
pub struct GpuEngine {
    ensemble: GpuEnsemble,
}

impl GpuEngine {
    /// Uploads `mlp` with fresh optimizer state.
    pub async fn new(
        ctx: Arc<GpuContext>,
        mlp: Mlp<f32>,
        loss: Loss,
        optimizer: OptimizerConfig,
    ) -> Result<Self> {
        Ok(GpuEngine {
            ensemble: GpuEnsemble::new(ctx, &[mlp], loss, optimizer).await?,
        })
    }
}

impl Engine for GpuEngine {
    type Scalar = f32;

    fn backend(&self) -> (String, Option<String>) {
        (
            "gpu".into(),
            Some(self.ensemble.context().adapter().to_string()),
        )
    }

    fn train_step(&mut self, x: &DMatrix<f32>, target: Target<'_, f32>) -> Result<Option<f64>> {
        self.ensemble.train_step(x, target)?;
        Ok(None)
    }

    async fn evaluate(&mut self, x: &DMatrix<f32>, target: Target<'_, f32>) -> Result<(f64, f64)> {
        let metrics = self.ensemble.evaluate(x, target).await?;
        metrics
            .first()
            .copied()
            .ok_or_else(|| Error::Gpu("no metrics came back".into()))
    }

    async fn network(&mut self) -> Result<Mlp<f32>> {
        let mut nets = self.ensemble.read_params().await?;
        nets.pop()
            .ok_or_else(|| Error::Gpu("no parameters came back".into()))
    }
}
