//! Many independent networks of one architecture, advanced together: the ensemble engine every
//! experiment with seeds, grids or paths goes through, so that it is written once and runs on
//! either backend. [`CpuEnsemble`] is the reference (f32 or f64); `gpu::GpuEnsemble` keeps its
//! members resident on the device, one dispatch per operation over all of them.
//!
//! Operations that read results return futures: on the CPU they resolve at once, on the GPU
//! after the readback (`map_async`, never a blocking poll in the browser).

use super::loss::{Loss, Target};
use super::mlp::{Forward, Mlp};
use super::optim::{Optimizer, OptimizerConfig};
use super::scalar::Float;
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::future::Future;

/// Largest readback of one GPU slice of evaluations (every layer's preactivations and
/// activations of every member on every sample come back), in bytes.
const GPU_READBACK_BYTES: f64 = 16e6;

/// How many networks one slice of an experiment evaluates on `samples` inputs: on a backend that
/// advances one member per slice (the CPU), a slice's worth (`slice_work`) of multiply-adds at
/// `work` each; on one that advances all at once (the GPU), as many as one readback holds, with
/// `units` hidden and output units per network. At least one.
pub fn evaluations_per_slice<E: Ensemble>(
    device: &E::Device,
    work: f64,
    slice_work: f64,
    samples: usize,
    units: usize,
) -> usize {
    let count = if E::members_per_slice(device) > 1 {
        // The GPU computes and reads back f32, whatever type the caller sees.
        let bytes = 2 * samples * units * std::mem::size_of::<f32>();
        GPU_READBACK_BYTES / bytes as f64
    } else {
        slice_work / work
    };
    (count as usize).max(1)
}

/// M networks with the same widths, activation and abc scalings, each with its own parameters
/// and optimizer state, trained on a shared batch.
pub trait Ensemble: Sized {
    /// The float type the members compute in.
    type Scalar: Float;
    /// What it takes to make an ensemble: nothing on the CPU, the device on the GPU.
    type Device: Clone;
    /// How many members one slice of an experiment should advance: one on the CPU (a slice
    /// stays one network's step, a few milliseconds), all of them on the GPU (one dispatch).
    fn members_per_slice(device: &Self::Device) -> usize;

    /// Takes over `nets` with fresh optimizer state; `loss` is what `train_step` descends.
    fn new(
        device: &Self::Device,
        nets: &[Mlp<Self::Scalar>],
        loss: Loss,
        optimizer: OptimizerConfig,
    ) -> impl Future<Output = Result<Self>>;

    /// Every member's forward pass on `x: [d, batch]`, with all preactivations and activations.
    fn forward(
        &mut self,
        x: &DMatrix<Self::Scalar>,
    ) -> impl Future<Output = Result<Vec<Forward<Self::Scalar>>>>;

    /// One optimizer step of every member on the batch; nothing is read back.
    fn train_step(
        &mut self,
        x: &DMatrix<Self::Scalar>,
        target: Target<'_, Self::Scalar>,
    ) -> Result<()>;

    /// Every member's forward pass on `x`, then one optimizer step from it (the CPU reuses the
    /// forward pass for the gradient; the GPU reads it back and steps on the device).
    fn forward_then_step(
        &mut self,
        x: &DMatrix<Self::Scalar>,
        target: Target<'_, Self::Scalar>,
    ) -> impl Future<Output = Result<Vec<Forward<Self::Scalar>>>>;

    /// Every member's parameters as they are now.
    fn networks(&mut self) -> impl Future<Output = Result<Vec<Mlp<Self::Scalar>>>>;
}

/// The CPU reference ensemble: each member an [`Mlp`] with its [`Optimizer`].
#[derive(Clone, Debug)]
pub struct CpuEnsemble<T: Float> {
    members: Vec<(Mlp<T>, Optimizer<T>)>,
    loss: Loss,
}

impl<T: Float> CpuEnsemble<T> {
    /// The ensemble of `nets` (see [`Ensemble::new`]), made without waiting.
    pub fn of(nets: &[Mlp<T>], loss: Loss, optimizer: OptimizerConfig) -> Result<Self> {
        if nets.is_empty() {
            return Err(Error::config("ensemble", "needs at least one network"));
        }
        let members = nets
            .iter()
            .map(|net| Ok((net.clone(), Optimizer::new(optimizer, net)?)))
            .collect::<Result<_>>()?;
        Ok(CpuEnsemble { members, loss })
    }

    /// One member's optimizer step from its forward pass on `x`.
    fn step_member(
        (mlp, optimizer): &mut (Mlp<T>, Optimizer<T>),
        loss: Loss,
        forward: &Forward<T>,
        target: Target<'_, T>,
    ) -> Result<()> {
        let (_, d_output) = loss.value_and_gradient(forward.output(), target)?;
        let gradients = mlp.backward(forward, &d_output);
        optimizer.step(mlp, &gradients);
        Ok(())
    }
}

impl<T: Float> Ensemble for CpuEnsemble<T> {
    type Scalar = T;
    type Device = ();

    fn members_per_slice(_: &()) -> usize {
        1
    }

    async fn new(_: &(), nets: &[Mlp<T>], loss: Loss, optimizer: OptimizerConfig) -> Result<Self> {
        CpuEnsemble::of(nets, loss, optimizer)
    }

    async fn forward(&mut self, x: &DMatrix<T>) -> Result<Vec<Forward<T>>> {
        self.members.iter().map(|(mlp, _)| mlp.forward(x)).collect()
    }

    fn train_step(&mut self, x: &DMatrix<T>, target: Target<'_, T>) -> Result<()> {
        for member in &mut self.members {
            let forward = member.0.forward(x)?;
            Self::step_member(member, self.loss, &forward, target)?;
        }
        Ok(())
    }

    async fn forward_then_step(
        &mut self,
        x: &DMatrix<T>,
        target: Target<'_, T>,
    ) -> Result<Vec<Forward<T>>> {
        let mut forwards = Vec::with_capacity(self.members.len());
        for member in &mut self.members {
            let forward = member.0.forward(x)?;
            Self::step_member(member, self.loss, &forward, target)?;
            forwards.push(forward);
        }
        Ok(forwards)
    }

    async fn networks(&mut self) -> Result<Vec<Mlp<T>>> {
        Ok(self.members.iter().map(|(mlp, _)| mlp.clone()).collect())
    }
}
