//! The ensemble on whichever backend the caller has: the GPU's when given a device, the CPU's
//! reference otherwise, in f32 ([`AnyEnsemble`]) or f64 ([`AnyEnsemble64`]). The page and the CLI's `--backend` choose at run time; the
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

/// [`CpuEnsemble`] in f64 or [`GpuEnsemble`] behind f64 inputs and outputs (cast to f32 on the
/// way in, back on the way out), chosen by the device (`None`: the CPU). The rooms whose
/// reference is f64 (Connectivity's path, Landscape's plane, Collapse's MLP) run on it in the
/// page: one experiment type for both backends, so the page carries its code once.
#[derive(Debug)]
pub enum AnyEnsemble64 {
    /// The CPU reference, f64.
    Cpu(CpuEnsemble<f64>),
    /// Resident on the GPU, f32.
    Gpu(Box<GpuEnsemble>),
}

fn to_f32(m: &DMatrix<f64>) -> DMatrix<f32> {
    m.map(|v| v as f32)
}

fn forward_to_f64(f: Forward<f32>) -> Forward<f64> {
    let up = |m: &DMatrix<f32>| m.map(f64::from);
    Forward {
        activations: f.activations.iter().map(up).collect(),
        preactivations: f.preactivations.iter().map(up).collect(),
    }
}

/// `target` in f32 (real targets are cast; labels pass as they are), into `values`.
fn target_f32<'a>(
    target: Target<'a, f64>,
    values: &'a mut Option<DMatrix<f32>>,
) -> Target<'a, f32> {
    match target {
        Target::Classes(labels) => Target::Classes(labels),
        Target::Values(v) => Target::Values(values.insert(to_f32(v))),
    }
}

impl Ensemble for AnyEnsemble64 {
    type Scalar = f64;
    type Device = Option<Arc<GpuContext>>;

    fn members_per_slice(device: &Self::Device) -> usize {
        match device {
            Some(ctx) => GpuEnsemble::members_per_slice(ctx),
            None => CpuEnsemble::<f64>::members_per_slice(&()),
        }
    }

    async fn new(
        device: &Self::Device,
        nets: &[Mlp<f64>],
        loss: Loss,
        optimizer: OptimizerConfig,
    ) -> Result<Self> {
        Ok(match device {
            Some(ctx) => {
                let nets: Vec<Mlp<f32>> = nets.iter().map(Mlp::cast).collect();
                AnyEnsemble64::Gpu(Box::new(
                    GpuEnsemble::new(ctx.clone(), &nets, loss, optimizer).await?,
                ))
            }
            None => AnyEnsemble64::Cpu(CpuEnsemble::of(nets, loss, optimizer)?),
        })
    }

    async fn forward(&mut self, x: &DMatrix<f64>) -> Result<Vec<Forward<f64>>> {
        match self {
            AnyEnsemble64::Cpu(e) => e.forward(x).await,
            AnyEnsemble64::Gpu(e) => Ok(e
                .forward(&to_f32(x))
                .await?
                .into_iter()
                .map(forward_to_f64)
                .collect()),
        }
    }

    fn train_step(&mut self, x: &DMatrix<f64>, target: Target<'_, f64>) -> Result<()> {
        match self {
            AnyEnsemble64::Cpu(e) => e.train_step(x, target),
            AnyEnsemble64::Gpu(e) => {
                let mut values = None;
                e.train_step(&to_f32(x), target_f32(target, &mut values))
            }
        }
    }

    async fn forward_then_step(
        &mut self,
        x: &DMatrix<f64>,
        target: Target<'_, f64>,
    ) -> Result<Vec<Forward<f64>>> {
        match self {
            AnyEnsemble64::Cpu(e) => e.forward_then_step(x, target).await,
            AnyEnsemble64::Gpu(e) => {
                let mut values = None;
                let target = target_f32(target, &mut values);
                let forwards = Ensemble::forward_then_step(e.as_mut(), &to_f32(x), target).await?;
                Ok(forwards.into_iter().map(forward_to_f64).collect())
            }
        }
    }

    async fn networks(&mut self) -> Result<Vec<Mlp<f64>>> {
        match self {
            AnyEnsemble64::Cpu(e) => e.networks().await,
            AnyEnsemble64::Gpu(e) => Ok(e.networks().await?.iter().map(Mlp::cast).collect()),
        }
    }
}
