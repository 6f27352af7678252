//! Training one network (the Playground room and the CLI's `train`) on a chosen backend.

use crate::core::data::Dataset;
use crate::core::mlp::Mlp;
use crate::core::model_file::to_safetensors;
use crate::core::stepper::{Progress, Stepper};
use crate::core::train::{CpuEngine, Engine, Precision, TrainConfig, TrainResult, Trainer};
use crate::error::{Error, Result};
use crate::gpu::{GpuContext, GpuEngine};
use std::sync::Arc;

/// A training run on the CPU (f32 or f64) or the GPU (f32).
#[derive(Debug)]
pub enum Training {
    /// CPU, single precision.
    F32(Trainer<CpuEngine<f32>>),
    /// CPU, double precision (the reference).
    F64(Trainer<CpuEngine<f64>>),
    /// GPU, single precision.
    Gpu(Trainer<GpuEngine>),
}

impl Training {
    /// A CPU run in `config.precision`.
    pub fn new(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<Self> {
        Ok(match config.precision {
            Precision::F32 => Training::F32(Trainer::new(config, train, test)?),
            Precision::F64 => Training::F64(Trainer::new(config, train, test)?),
        })
    }

    /// A GPU run, starting from the same network the CPU run would draw.
    pub async fn gpu(
        ctx: Arc<GpuContext>,
        config: &TrainConfig,
        train: &Dataset,
        test: Option<&Dataset>,
    ) -> Result<Self> {
        if config.precision != Precision::F32 {
            return Err(Error::config(
                "precision",
                "the GPU backend computes in f32; use --backend cpu for f64",
            ));
        }
        crate::core::train::check_data(config, train, test)?;
        let engine =
            GpuEngine::new(ctx, config.init_mlp(train)?, config.loss, config.optimizer).await?;
        Ok(Training::Gpu(Trainer::with_engine(
            config, engine, train, test,
        )?))
    }

    /// A GPU run continued on the CPU from its last recorded step (see
    /// [`Trainer::resume_on_cpu`]); `None` for a run already on the CPU.
    pub fn resume_on_cpu(&self, train: &Dataset, test: Option<&Dataset>) -> Result<Option<Self>> {
        match self {
            Training::Gpu(t) => Ok(Some(Training::F32(t.resume_on_cpu(train, test)?))),
            _ => Ok(None),
        }
    }

    /// One optimizer step (see [`Trainer::advance`]).
    pub async fn advance(&mut self) -> Result<Progress> {
        match self {
            Training::F32(t) => t.advance().await,
            Training::F64(t) => t.advance().await,
            Training::Gpu(t) => t.advance().await,
        }
    }

    /// The current network, in f64 (for drawing; the run keeps its own precision).
    pub async fn network(&mut self) -> Result<Mlp<f64>> {
        Ok(match self {
            Training::F32(t) => t.engine_mut().network().await?.cast(),
            Training::F64(t) => t.engine_mut().network().await?,
            Training::Gpu(t) => t.engine_mut().network().await?.cast(),
        })
    }

    /// The current network as a safetensors file in PyTorch's layout.
    pub async fn model_file(&mut self) -> Result<Vec<u8>> {
        match self {
            Training::F32(t) => to_safetensors(&t.engine_mut().network().await?),
            Training::F64(t) => to_safetensors(&t.engine_mut().network().await?),
            Training::Gpu(t) => to_safetensors(&t.engine_mut().network().await?),
        }
    }
}

impl Stepper for Training {
    type Output = TrainResult;

    async fn step(&mut self) -> Result<Progress> {
        self.advance().await
    }

    fn result(&self) -> TrainResult {
        match self {
            Training::F32(t) => t.result(),
            Training::F64(t) => t.result(),
            Training::Gpu(t) => t.result(),
        }
    }
}
