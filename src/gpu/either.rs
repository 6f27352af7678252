//! The ensemble on whichever backend the caller has: the GPU's when given a device, the CPU's
//! f32 reference otherwise. The page and the CLI's `--backend` choose at run time; the
//! experiment is one type either way.

use super::{GpuContext, GpuEnsemble};
use crate::core::ensemble::{CpuEnsemble, Ensemble};
use crate::core::loss::{Loss, Target};
use crate::core::mlp::{Forward, Mlp};
use crate::core::optim::OptimizerConfig;
use crate::error::Result;
use nalgebra::DMatrix;
use std::sync::Arc;

/// [`CpuEnsemble`] in f32 or [`GpuEnsemble`], chosen by the device (`None`: the CPU).
#[derive(Debug)]
pub enum AnyEnsemble {
    /// The CPU reference, f32.
    Cpu(CpuEnsemble<f32>),
    /// Resident on the GPU.
    Gpu(Box<GpuEnsemble>),
}

impl Ensemble for AnyEnsemble {
    type Scalar = f32;
    type Device = Option<Arc<GpuContext>>;

    fn members_per_slice(device: &Self::Device) -> usize {
        match device {
            Some(ctx) => GpuEnsemble::members_per_slice(ctx),
            None => CpuEnsemble::<f32>::members_per_slice(&()),
        }
    }

    async fn new(
        device: &Self::Device,
        nets: &[Mlp<f32>],
        loss: Loss,
        optimizer: OptimizerConfig,
    ) -> Result<Self> {
        Ok(match device {
            Some(ctx) => AnyEnsemble::Gpu(Box::new(
                GpuEnsemble::new(ctx.clone(), nets, loss, optimizer).await?,
            )),
            None => AnyEnsemble::Cpu(CpuEnsemble::of(nets, loss, optimizer)?),
        })
    }

    async fn forward(&mut self, x: &DMatrix<f32>) -> Result<Vec<Forward<f32>>> {
        match self {
            AnyEnsemble::Cpu(e) => e.forward(x).await,
            AnyEnsemble::Gpu(e) => e.forward(x).await,
        }
    }

    fn train_step(&mut self, x: &DMatrix<f32>, target: Target<'_, f32>) -> Result<()> {
        match self {
            AnyEnsemble::Cpu(e) => e.train_step(x, target),
            AnyEnsemble::Gpu(e) => e.train_step(x, target),
        }
    }

    async fn forward_then_step(
        &mut self,
        x: &DMatrix<f32>,
        target: Target<'_, f32>,
    ) -> Result<Vec<Forward<f32>>> {
        match self {
            AnyEnsemble::Cpu(e) => e.forward_then_step(x, target).await,
            AnyEnsemble::Gpu(e) => Ensemble::forward_then_step(e.as_mut(), x, target).await,
        }
    }

    async fn networks(&mut self) -> Result<Vec<Mlp<f32>>> {
        match self {
            AnyEnsemble::Cpu(e) => e.networks().await,
            AnyEnsemble::Gpu(e) => e.networks().await,
        }
    }
}
