//! Many networks of one architecture trained side by side, every operation one dispatch over
//! all members. Parameters, gradients, optimizer state and per-batch-size activation buffers
//! stay on the device; only what a caller asks for is read back.
//!
//! # Layout
//! As on the CPU (column-major): a layer's weight for member `e` is `[out, in]` at
//! `e * out * in + o + i * out`; activations `[width, batch]` at `e * width * batch + r + b *
//! width`; the input `x: [d, batch]` is shared by all members (batch stride 0).

use super::context::GpuContext;
use super::kernels::{
    ActivationParams, BackwardParams, BiasGradParams, LossParams, MatmulParams, OptimizerParams,
    Strides, activation_code,
};
use crate::core::activation::Activation;
use crate::core::loss::{Loss, Target};
use crate::core::mlp::{Forward, Layer, LayerParams, Mlp};
use crate::core::optim::{OptimizerConfig, OptimizerKind};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::collections::HashMap;
use std::sync::Arc;
use wgpu::util::DeviceExt;

/// Per-layer scalings shared by all members (they share widths and parametrization).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scales {
    weight_multiplier: f32,
    bias_multiplier: f32,
    weight_lr_scale: f32,
    bias_lr_scale: f32,
    residual: Option<f32>,
    linear: bool,
}

/// One recorded GPU command.
#[derive(Clone, Debug)]
enum Command {
    Dispatch {
        pipeline: wgpu::ComputePipeline,
        bind_group: wgpu::BindGroup,
        groups: [u32; 3],
    },
    Copy {
        from: wgpu::Buffer,
        to: wgpu::Buffer,
        bytes: u64,
    },
}

/// Buffers and recorded commands for one batch size.
#[derive(Debug)]
struct Pass {
    buffers: PassBuffers,
    forward: Vec<Command>,
    loss: Vec<Command>,
    reduce: Vec<Command>,
    backward: Vec<Command>,
}

/// The input, targets, activations, gradients and losses of one step at one batch size.
#[derive(Debug)]
struct PassBuffers {
    x: wgpu::Buffer,
    labels: wgpu::Buffer,
    values: wgpu::Buffer,
    /// z_l and h_l per layer; the last h is a copy of the output z.
    z: Vec<wgpu::Buffer>,
    h: Vec<wgpu::Buffer>,
    d_output: wgpu::Buffer,
    dh: Vec<wgpu::Buffer>,
    dz: Vec<wgpu::Buffer>,
    per_sample: wgpu::Buffer,
    metrics: wgpu::Buffer,
}

/// An ensemble of MLPs on the GPU with their optimizer state.
#[derive(Debug)]
pub struct GpuEnsemble {
    ctx: Arc<GpuContext>,
    members: usize,
    /// d, n_1, ..., n_L, k.
    dims: Vec<usize>,
    activation: Activation,
    scales: Vec<Scales>,
    loss: Loss,
    optimizer: OptimizerConfig,
    steps: usize,
    weights: Vec<wgpu::Buffer>,
    biases: Vec<Option<wgpu::Buffer>>,
    weight_grads: Vec<wgpu::Buffer>,
    bias_grads: Vec<Option<wgpu::Buffer>>,
    /// (uniform, command) per tensor, rewritten each step (Adam's bias corrections change).
    updates: Vec<(wgpu::Buffer, OptimizerParams, Command)>,
    dummy: wgpu::Buffer,
    passes: HashMap<usize, Pass>,
}

const F32: u64 = 4;

fn elementwise_groups(count: usize) -> [u32; 3] {
    let groups = count.div_ceil(256).max(1) as u32;
    let x = groups.min(65_535);
    [x, groups.div_ceil(x), 1]
}

impl GpuEnsemble {
    /// Uploads `nets` (same widths, activation, biases and abc scalings) with fresh optimizer
    /// state. Refuses, before allocating, any buffer larger than the adapter allows.
    pub async fn new(
        ctx: Arc<GpuContext>,
        nets: &[Mlp<f32>],
        loss: Loss,
        optimizer: OptimizerConfig,
    ) -> Result<Self> {
        optimizer.validate()?;
        let first = nets
            .first()
            .ok_or_else(|| Error::config("ensemble", "needs at least one network"))?;
        let dims: Vec<usize> = std::iter::once(first.input_dim())
            .chain(first.layers.iter().map(|l| l.params.weight.nrows()))
            .collect();
        let scales: Vec<Scales> = first
            .layers
            .iter()
            .map(|l| Scales {
                weight_multiplier: l.weight_multiplier,
                bias_multiplier: l.bias_multiplier,
                weight_lr_scale: l.weight_lr_scale,
                bias_lr_scale: l.bias_lr_scale,
                residual: l.residual,
                linear: l.linear,
            })
            .collect();
        let bias = first.layers[0].params.bias.is_some();
        for (i, net) in nets.iter().enumerate() {
            let same = net.activation == first.activation
                && net.layers.len() == first.layers.len()
                && net.layers.iter().zip(&first.layers).all(|(a, b)| {
                    a.params.weight.shape() == b.params.weight.shape()
                        && a.params.bias.is_some() == b.params.bias.is_some()
                        && a.weight_multiplier == b.weight_multiplier
                        && a.bias_multiplier == b.bias_multiplier
                        && a.weight_lr_scale == b.weight_lr_scale
                        && a.bias_lr_scale == b.bias_lr_scale
                        && a.residual == b.residual
                        && a.linear == b.linear
                });
            if !same {
                return Err(Error::config(
                    "ensemble",
                    format!("network {i} differs from network 0 in shape, activation or scalings"),
                ));
            }
        }
        let members = nets.len();
        if members > 65_535 {
            return Err(Error::config(
                "ensemble",
                format!("{members} members exceed the 65535 a dispatch allows"),
            ));
        }
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let mut ensemble = GpuEnsemble {
            dummy: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("dummy"),
                size: 16,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            }),
            ctx,
            members,
            dims,
            activation: first.activation,
            scales,
            loss,
            optimizer,
            steps: 0,
            weights: Vec::new(),
            biases: Vec::new(),
            weight_grads: Vec::new(),
            bias_grads: Vec::new(),
            updates: Vec::new(),
            passes: HashMap::new(),
        };
        ensemble.allocate_parameters(nets, bias)?;
        if let Some(e) = scope.pop().await {
            return Err(Error::Gpu(format!(
                "out of GPU memory for the ensemble: {e}"
            )));
        }
        Ok(ensemble)
    }

    /// Number of networks.
    pub fn members(&self) -> usize {
        self.members
    }

    /// The device this ensemble lives on.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    fn depth(&self) -> usize {
        self.dims.len() - 2
    }

    fn storage(&self, label: &str, floats: usize) -> Result<wgpu::Buffer> {
        let bytes = (floats.max(1) as u64) * F32;
        self.ctx.check_buffer(label, bytes)?;
        Ok(self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }))
    }

    fn uniform<T: bytemuck::Pod>(&self, value: &T) -> wgpu::Buffer {
        self.ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            })
    }

    fn dispatch(
        &self,
        pipeline: &wgpu::ComputePipeline,
        bindings: &[(u32, &wgpu::Buffer)],
        groups: [u32; 3],
    ) -> Command {
        let entries: Vec<wgpu::BindGroupEntry> = bindings
            .iter()
            .map(|(binding, buffer)| wgpu::BindGroupEntry {
                binding: *binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        let bind_group = self
            .ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
        Command::Dispatch {
            pipeline: pipeline.clone(),
            bind_group,
            groups,
        }
    }

    fn matmul(
        &self,
        params: MatmulParams,
        a: &wgpu::Buffer,
        b: &wgpu::Buffer,
        c: &wgpu::Buffer,
    ) -> Command {
        let kernel = self.ctx.matmul;
        let tile = kernel.tile();
        let uniform = self.uniform(&params);
        let groups = [
            params.n.div_ceil(tile),
            params.m.div_ceil(tile),
            self.members as u32,
        ];
        self.dispatch(
            self.ctx.pipelines.matmul(kernel),
            &[(0, &uniform), (1, a), (2, b), (3, c)],
            groups,
        )
    }

    fn allocate_parameters(&mut self, nets: &[Mlp<f32>], bias: bool) -> Result<()> {
        let e = self.members;
        for l in 0..=self.depth() {
            let (fan_in, fan_out) = (self.dims[l], self.dims[l + 1]);
            let weight = self.storage("weight", e * fan_in * fan_out)?;
            let weight_grad = self.storage("weight gradient", e * fan_in * fan_out)?;
            let (b, bg) = if bias {
                (
                    Some(self.storage("bias", e * fan_out)?),
                    Some(self.storage("bias gradient", e * fan_out)?),
                )
            } else {
                (None, None)
            };
            self.weights.push(weight);
            self.biases.push(b);
            self.weight_grads.push(weight_grad);
            self.bias_grads.push(bg);
        }
        self.write_params(nets)?;
        let adam = self.optimizer.kind == OptimizerKind::Adam;
        for l in 0..=self.depth() {
            let tensors = [(
                self.weights[l].clone(),
                self.weight_grads[l].clone(),
                self.scales[l].weight_lr_scale,
            )]
            .into_iter()
            .chain(
                self.biases[l]
                    .clone()
                    .zip(self.bias_grads[l].clone())
                    .map(|(b, g)| (b, g, self.scales[l].bias_lr_scale)),
            );
            for (param, grad, lr_scale) in tensors.collect::<Vec<_>>() {
                let count = (param.size() / F32) as usize;
                let first = self.storage("first moment", count)?;
                let second = if adam {
                    self.storage("second moment", count)?
                } else {
                    self.dummy.clone()
                };
                let c = self.optimizer;
                let params = OptimizerParams {
                    count: count as u32,
                    adam: u32::from(adam),
                    lr: (c.lr * lr_scale as f64) as f32,
                    momentum: c.momentum as f32,
                    weight_decay: c.weight_decay as f32,
                    beta1: c.beta1 as f32,
                    beta2: c.beta2 as f32,
                    eps: c.eps as f32,
                    correction1: 1.0,
                    sqrt_correction2: 1.0,
                    _pad: [0; 2],
                };
                let uniform = self.uniform(&params);
                let command = self.dispatch(
                    &self.ctx.pipelines.update,
                    &[
                        (0, &uniform),
                        (1, &param),
                        (2, &grad),
                        (3, &first),
                        (4, &second),
                    ],
                    elementwise_groups(count),
                );
                self.updates.push((uniform, params, command));
            }
        }
        Ok(())
    }

    /// Replaces every member's parameters (same architecture) without touching optimizer state.
    pub fn write_params(&mut self, nets: &[Mlp<f32>]) -> Result<()> {
        if nets.len() != self.members {
            return Err(Error::Shape {
                what: "ensemble parameters".into(),
                expected: format!("{} networks", self.members),
                found: nets.len().to_string(),
            });
        }
        for l in 0..=self.depth() {
            let weights: Vec<f32> = nets
                .iter()
                .flat_map(|n| n.layers[l].params.weight.iter().copied())
                .collect();
            if weights.len() as u64 * F32 != self.weights[l].size() {
                return Err(Error::Shape {
                    what: format!("layer {} weights", l + 1),
                    expected: format!("{} floats", self.weights[l].size() / F32),
                    found: weights.len().to_string(),
                });
            }
            self.ctx
                .queue
                .write_buffer(&self.weights[l], 0, bytemuck::cast_slice(&weights));
            if let Some(buffer) = &self.biases[l] {
                let biases: Vec<f32> = nets
                    .iter()
                    .flat_map(|n| {
                        n.layers[l]
                            .params
                            .bias
                            .iter()
                            .flat_map(|b| b.iter().copied())
                    })
                    .collect();
                if biases.len() as u64 * F32 != buffer.size() {
                    return Err(Error::Shape {
                        what: format!("layer {} biases", l + 1),
                        expected: format!("{} floats", buffer.size() / F32),
                        found: biases.len().to_string(),
                    });
                }
                self.ctx
                    .queue
                    .write_buffer(buffer, 0, bytemuck::cast_slice(&biases));
            }
        }
        Ok(())
    }

    /// Builds (once per batch size) the activation buffers and the recorded commands.
    fn pass(&mut self, batch: usize) -> Result<&Pass> {
        if !self.passes.contains_key(&batch) {
            let pass = self.build_pass(batch)?;
            self.passes.insert(batch, pass);
        }
        Ok(&self.passes[&batch])
    }

    /// The buffers and commands of one step at `batch` samples: forward, loss, backward.
    fn build_pass(&self, batch: usize) -> Result<Pass> {
        let buffers = self.pass_buffers(batch)?;
        let forward = self.forward_commands(&buffers, batch);
        let backward = self.backward_commands(&buffers, batch);
        let (loss, reduce) = self.loss_commands(&buffers, batch);
        Ok(Pass {
            buffers,
            forward,
            loss,
            reduce,
            backward,
        })
    }

    /// Every activation, gradient and loss buffer of a step at `batch` samples, each checked
    /// against the adapter's limits before it is allocated.
    fn pass_buffers(&self, batch: usize) -> Result<PassBuffers> {
        let (e, depth, dims) = (self.members, self.depth(), &self.dims);
        let k = dims[depth + 1];
        let per_layer = |label: &str, layers: usize| -> Result<Vec<wgpu::Buffer>> {
            (0..layers)
                .map(|l| self.storage(label, e * dims[l + 1] * batch))
                .collect()
        };
        Ok(PassBuffers {
            x: self.storage("x", dims[0] * batch)?,
            labels: self.storage("labels", batch)?,
            values: self.storage("values", k * batch)?,
            z: per_layer("z", depth + 1)?,
            h: per_layer("h", depth + 1)?,
            d_output: self.storage("d_output", e * k * batch)?,
            dh: per_layer("dh", depth)?,
            dz: per_layer("dz", depth)?,
            per_sample: self.storage("per-sample loss", 2 * e * batch)?,
            metrics: self.storage("metrics", 2 * e)?,
        })
    }

    /// The input of layer `l` and its stride between members (0: the shared `x`).
    fn layer_input<'a>(
        &self,
        buffers: &'a PassBuffers,
        l: usize,
        batch: usize,
    ) -> (&'a wgpu::Buffer, u32) {
        if l == 0 {
            (&buffers.x, 0)
        } else {
            (&buffers.h[l - 1], (self.dims[l] * batch) as u32)
        }
    }

    /// Per layer l: z_l = m_w W_l h_{l-1}, then h_l = φ(z_l + m_b b_l) (+ α h_{l-1} in a
    /// residual block); the output layer is linear.
    fn forward_commands(&self, buffers: &PassBuffers, batch: usize) -> Vec<Command> {
        let (depth, dims) = (self.depth(), &self.dims);
        let b = batch as u32;
        let mut forward = Vec::new();
        for l in 0..=depth {
            let (fan_in, fan_out) = (dims[l] as u32, dims[l + 1] as u32);
            let s = self.scales[l];
            let (h_in, in_batch) = self.layer_input(buffers, l, batch);
            let weight = Strides::matrix(fan_out, fan_out * fan_in);
            let input = Strides::matrix(fan_in, in_batch);
            let output = Strides::matrix(fan_out, fan_out * b);
            let gemm = MatmulParams::gemm(
                [fan_out, b, fan_in],
                [weight, input, output],
                s.weight_multiplier,
                0.0,
            );
            forward.push(self.matmul(gemm, &self.weights[l], h_in, &buffers.z[l]));
            let activation = if l == depth || s.linear {
                Activation::Linear
            } else {
                self.activation
            };
            let params = ActivationParams {
                rows: fan_out,
                cols: b,
                members: self.members as u32,
                activation: activation_code(activation),
                has_bias: u32::from(self.biases[l].is_some()),
                residual: u32::from(s.residual.is_some()),
                bias_multiplier: s.bias_multiplier,
                alpha: s.residual.unwrap_or(1.0),
            };
            let uniform = self.uniform(&params);
            let bias = self.biases[l].as_ref().unwrap_or(&self.dummy);
            let h_prev = if s.residual.is_some() {
                h_in
            } else {
                &self.dummy
            };
            forward.push(self.dispatch(
                &self.ctx.pipelines.bias_activation,
                &[
                    (0, &uniform),
                    (1, bias),
                    (2, h_prev),
                    (3, &buffers.z[l]),
                    (4, &buffers.h[l]),
                ],
                elementwise_groups(self.members * dims[l + 1] * batch),
            ));
        }
        forward
    }

    /// From the output gradient down: dW_l = m_w dz_l h_{l-1}^T, db_l = m_b Σ_batch dz_l,
    /// dh_{l-1} = m_w W_l^T dz_l (+ dh_l through a residual skip), dz_{l-1} = φ'(z_{l-1}) dh_{l-1}.
    fn backward_commands(&self, buffers: &PassBuffers, batch: usize) -> Vec<Command> {
        let (e, depth, dims) = (self.members, self.depth(), &self.dims);
        let b = batch as u32;
        let mut backward = Vec::new();
        for l in (0..=depth).rev() {
            let (fan_in, fan_out) = (dims[l] as u32, dims[l + 1] as u32);
            let s = self.scales[l];
            let (h_in, in_batch) = self.layer_input(buffers, l, batch);
            let dz_l = if l == depth {
                &buffers.d_output
            } else {
                &buffers.dz[l]
            };
            let weight = Strides::matrix(fan_out, fan_out * fan_in);
            let delta = Strides::matrix(fan_out, fan_out * b);
            let input = Strides::matrix(fan_in, in_batch);
            let gemm = MatmulParams::gemm(
                [fan_out, fan_in, b],
                [delta, input.transposed(), weight],
                s.weight_multiplier,
                0.0,
            );
            backward.push(self.matmul(gemm, dz_l, h_in, &self.weight_grads[l]));
            if let Some(bias_grad) = &self.bias_grads[l] {
                let params = BiasGradParams {
                    rows: fan_out,
                    cols: b,
                    members: e as u32,
                    multiplier: s.bias_multiplier,
                };
                let uniform = self.uniform(&params);
                backward.push(self.dispatch(
                    &self.ctx.pipelines.bias_gradient,
                    &[(0, &uniform), (1, dz_l), (2, bias_grad)],
                    elementwise_groups(e * dims[l + 1]),
                ));
            }
            if l == 0 {
                break;
            }
            let dh = &buffers.dh;
            if s.residual.is_some() {
                backward.push(Command::Copy {
                    from: dh[l].clone(),
                    to: dh[l - 1].clone(),
                    bytes: dh[l].size(),
                });
            }
            let beta = if s.residual.is_some() { 1.0 } else { 0.0 };
            let gradient = Strides::matrix(fan_in, fan_in * b);
            let gemm = MatmulParams::gemm(
                [fan_in, b, fan_out],
                [weight.transposed(), delta, gradient],
                s.weight_multiplier,
                beta,
            );
            backward.push(self.matmul(gemm, &self.weights[l], dz_l, &dh[l - 1]));
            let params = BackwardParams {
                count: (e * dims[l] * batch) as u32,
                activation: activation_code(if self.scales[l - 1].linear {
                    Activation::Linear
                } else {
                    self.activation
                }),
                scale: self.scales[l - 1].residual.unwrap_or(1.0),
                _pad: 0,
            };
            let uniform = self.uniform(&params);
            backward.push(self.dispatch(
                &self.ctx.pipelines.activation_backward,
                &[
                    (0, &uniform),
                    (1, &buffers.z[l - 1]),
                    (2, &dh[l - 1]),
                    (3, &buffers.dz[l - 1]),
                ],
                elementwise_groups(e * dims[l] * batch),
            ));
        }
        backward
    }

    /// The loss gradient and the per-member loss reduction, for real-valued targets (index 0)
    /// and for class labels (index 1).
    fn loss_commands(&self, buffers: &PassBuffers, batch: usize) -> (Vec<Command>, Vec<Command>) {
        let (b, m) = (batch as u32, self.members as u32);
        let (mut loss, mut reduce) = (Vec::new(), Vec::new());
        for classes in [false, true] {
            let params = LossParams {
                k: self.dims[self.depth() + 1] as u32,
                batch: b,
                members: m,
                cross_entropy: u32::from(self.loss == Loss::CrossEntropy),
                classes: u32::from(classes),
                _pad: [0; 3],
            };
            let uniform = self.uniform(&params);
            loss.push(self.dispatch(
                &self.ctx.pipelines.loss_gradient,
                &[
                    (0, &uniform),
                    (1, &buffers.h[self.depth()]),
                    (2, &buffers.labels),
                    (3, &buffers.values),
                    (4, &buffers.d_output),
                    (5, &buffers.per_sample),
                ],
                [b.div_ceil(64), m, 1],
            ));
            reduce.push(self.dispatch(
                &self.ctx.pipelines.loss_reduce,
                &[
                    (0, &uniform),
                    (5, &buffers.per_sample),
                    (6, &buffers.metrics),
                ],
                [m.div_ceil(64), 1, 1],
            ));
        }
        (loss, reduce)
    }

    /// Uploads a batch and returns the index of the loss commands for its target kind.
    fn upload(&mut self, x: &DMatrix<f32>, target: Option<Target<'_, f32>>) -> Result<usize> {
        let (d, batch) = x.shape();
        if d != self.dims[0] || batch == 0 {
            return Err(Error::Shape {
                what: "GPU batch".into(),
                expected: format!("{} features and at least one sample", self.dims[0]),
                found: format!("{d} x {batch}"),
            });
        }
        let k = self.dims[self.depth() + 1];
        let queue = self.ctx.queue.clone();
        let loss = self.loss;
        let pass = self.pass(batch)?;
        queue.write_buffer(&pass.buffers.x, 0, bytemuck::cast_slice(x.as_slice()));
        match target {
            None => Ok(0),
            Some(Target::Classes(labels)) => {
                if labels.len() != batch || labels.iter().any(|&l| l >= k) {
                    return Err(Error::Shape {
                        what: "GPU labels".into(),
                        expected: format!("{batch} labels below {k}"),
                        found: format!("{} labels", labels.len()),
                    });
                }
                let labels: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
                queue.write_buffer(&pass.buffers.labels, 0, bytemuck::cast_slice(&labels));
                Ok(1)
            }
            Some(Target::Values(values)) => {
                if loss == Loss::CrossEntropy {
                    return Err(Error::config(
                        "loss",
                        "cross-entropy needs class labels; use mse for real-valued targets",
                    ));
                }
                if values.shape() != (k, batch) {
                    return Err(Error::Shape {
                        what: "GPU targets".into(),
                        expected: format!("{k} x {batch}"),
                        found: format!("{} x {}", values.nrows(), values.ncols()),
                    });
                }
                queue.write_buffer(
                    &pass.buffers.values,
                    0,
                    bytemuck::cast_slice(values.as_slice()),
                );
                Ok(0)
            }
        }
    }

    fn encode(&self, encoder: &mut wgpu::CommandEncoder, commands: &[&Command]) {
        let mut i = 0;
        while i < commands.len() {
            if let Command::Copy { from, to, bytes } = commands[i] {
                encoder.copy_buffer_to_buffer(from, 0, to, 0, *bytes);
                i += 1;
                continue;
            }
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            while let Some(Command::Dispatch {
                pipeline,
                bind_group,
                groups,
            }) = commands.get(i)
            {
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, bind_group, &[]);
                pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                i += 1;
            }
        }
    }

    /// Encodes and submits `commands`, then copies `readbacks` into one mappable buffer and
    /// reads it (awaiting `map_async`), split back into one f32 vector per buffer.
    async fn run(
        &self,
        commands: &[&Command],
        readbacks: &[&wgpu::Buffer],
    ) -> Result<Vec<Vec<f32>>> {
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        self.encode(&mut encoder, commands);
        let sizes: Vec<u64> = readbacks.iter().map(|b| b.size()).collect();
        let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: sizes.iter().sum(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut offset = 0;
        for (buffer, size) in readbacks.iter().zip(&sizes) {
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, offset, *size);
            offset += size;
        }
        self.ctx.queue.submit([encoder.finish()]);
        self.read(staging, sizes).await
    }

    async fn read(&self, staging: wgpu::Buffer, sizes: Vec<u64>) -> Result<Vec<Vec<f32>>> {
        read_back(&self.ctx, staging, sizes).await
    }

    /// Submits one optimizer step on the batch (forward, loss gradient, backward, update) for
    /// every member. Nothing is read back; see [`Self::evaluate`].
    pub fn train_step(&mut self, x: &DMatrix<f32>, target: Target<'_, f32>) -> Result<()> {
        let kind = self.upload(x, Some(target))?;
        self.steps += 1;
        let c = self.optimizer;
        let correction1 = (1.0 - c.beta1.powi(self.steps as i32)) as f32;
        let sqrt_correction2 = (1.0 - c.beta2.powi(self.steps as i32)).sqrt() as f32;
        for (uniform, params, _) in &self.updates {
            let params = OptimizerParams {
                correction1,
                sqrt_correction2,
                ..*params
            };
            self.ctx
                .queue
                .write_buffer(uniform, 0, bytemuck::bytes_of(&params));
        }
        let pass = &self.passes[&x.ncols()];
        let commands: Vec<&Command> = pass
            .forward
            .iter()
            .chain([&pass.loss[kind]])
            .chain(&pass.backward)
            .chain(self.updates.iter().map(|(_, _, c)| c))
            .collect();
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        self.encode(&mut encoder, &commands);
        self.ctx.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// Loss (PyTorch reduction) and accuracy of every member on a data set.
    pub async fn evaluate(
        &mut self,
        x: &DMatrix<f32>,
        target: Target<'_, f32>,
    ) -> Result<Vec<(f64, f64)>> {
        let kind = self.upload(x, Some(target))?;
        let pass = &self.passes[&x.ncols()];
        let commands: Vec<&Command> = pass
            .forward
            .iter()
            .chain([&pass.loss[kind], &pass.reduce[kind]])
            .collect();
        let metrics = self.run(&commands, &[&pass.buffers.metrics]).await?;
        Ok(metrics[0]
            .chunks_exact(2)
            .map(|m| (m[0] as f64, m[1] as f64))
            .collect())
    }

    /// Every member's forward pass on `x`, with all preactivations and activations.
    pub async fn forward(&mut self, x: &DMatrix<f32>) -> Result<Vec<Forward<f32>>> {
        self.upload(x, None)?;
        let batch = x.ncols();
        let pass = &self.passes[&batch];
        let depth = self.depth();
        let commands: Vec<&Command> = pass.forward.iter().collect();
        let readbacks: Vec<&wgpu::Buffer> = pass
            .buffers
            .z
            .iter()
            .chain(&pass.buffers.h[..depth])
            .collect();
        let data = self.run(&commands, &readbacks).await?;
        let dims = &self.dims;
        let member_matrix = |values: &[f32], rows: usize, e: usize| {
            let size = rows * batch;
            DMatrix::from_column_slice(rows, batch, &values[e * size..(e + 1) * size])
        };
        Ok((0..self.members)
            .map(|e| Forward {
                activations: std::iter::once(x.clone())
                    .chain((0..depth).map(|l| member_matrix(&data[depth + 1 + l], dims[l + 1], e)))
                    .collect(),
                preactivations: (0..=depth)
                    .map(|l| member_matrix(&data[l], dims[l + 1], e))
                    .collect(),
            })
            .collect())
    }

    /// Every member's gradient of the loss on a batch (no update).
    pub async fn gradients(
        &mut self,
        x: &DMatrix<f32>,
        target: Target<'_, f32>,
    ) -> Result<Vec<Vec<LayerParams<f32>>>> {
        let kind = self.upload(x, Some(target))?;
        let pass = &self.passes[&x.ncols()];
        let commands: Vec<&Command> = pass
            .forward
            .iter()
            .chain([&pass.loss[kind]])
            .chain(&pass.backward)
            .collect();
        let readbacks: Vec<&wgpu::Buffer> = self
            .weight_grads
            .iter()
            .chain(self.bias_grads.iter().flatten())
            .collect();
        let data = self.run(&commands, &readbacks).await?;
        Ok(self.split_tensors(&data))
    }

    /// Every member's current parameters.
    pub async fn read_params(&mut self) -> Result<Vec<Mlp<f32>>> {
        let readbacks: Vec<&wgpu::Buffer> = self
            .weights
            .iter()
            .chain(self.biases.iter().flatten())
            .collect();
        let data = self.run(&[], &readbacks).await?;
        Ok(self
            .split_tensors(&data)
            .into_iter()
            .map(|params| Mlp {
                layers: params
                    .into_iter()
                    .zip(&self.scales)
                    .map(|(params, s)| Layer {
                        params,
                        weight_multiplier: s.weight_multiplier,
                        bias_multiplier: s.bias_multiplier,
                        weight_lr_scale: s.weight_lr_scale,
                        bias_lr_scale: s.bias_lr_scale,
                        residual: s.residual,
                        linear: s.linear,
                    })
                    .collect(),
                activation: self.activation,
            })
            .collect())
    }

    /// Splits per-layer weight buffers followed by per-layer bias buffers into members.
    fn split_tensors(&self, data: &[Vec<f32>]) -> Vec<Vec<LayerParams<f32>>> {
        let depth = self.depth();
        let has_bias = self.biases[0].is_some();
        (0..self.members)
            .map(|e| {
                (0..=depth)
                    .map(|l| {
                        let (fan_in, fan_out) = (self.dims[l], self.dims[l + 1]);
                        let size = fan_in * fan_out;
                        let weight = DMatrix::from_column_slice(
                            fan_out,
                            fan_in,
                            &data[l][e * size..(e + 1) * size],
                        );
                        let bias = has_bias.then(|| {
                            DVector::from_column_slice(
                                &data[depth + 1 + l][e * fan_out..(e + 1) * fan_out],
                            )
                        });
                        LayerParams { weight, bias }
                    })
                    .collect()
            })
            .collect()
    }
}

impl crate::core::ensemble::Ensemble for GpuEnsemble {
    type Scalar = f32;
    type Device = Arc<GpuContext>;

    fn members_per_slice(_: &Arc<GpuContext>) -> usize {
        usize::MAX
    }

    async fn new(
        device: &Arc<GpuContext>,
        nets: &[Mlp<f32>],
        loss: Loss,
        optimizer: OptimizerConfig,
    ) -> Result<Self> {
        GpuEnsemble::new(device.clone(), nets, loss, optimizer).await
    }

    async fn forward(&mut self, x: &DMatrix<f32>) -> Result<Vec<Forward<f32>>> {
        GpuEnsemble::forward(self, x).await
    }

    fn train_step(&mut self, x: &DMatrix<f32>, target: Target<'_, f32>) -> Result<()> {
        GpuEnsemble::train_step(self, x, target)
    }

    async fn forward_then_step(
        &mut self,
        x: &DMatrix<f32>,
        target: Target<'_, f32>,
    ) -> Result<Vec<Forward<f32>>> {
        let forwards = GpuEnsemble::forward(self, x).await?;
        GpuEnsemble::train_step(self, x, target)?;
        Ok(forwards)
    }

    async fn networks(&mut self) -> Result<Vec<Mlp<f32>>> {
        self.read_params().await
    }
}

/// Maps the staging buffer (awaiting `map_async`) and splits it into f32 vectors of `sizes`
/// bytes.
pub(crate) async fn read_back(
    ctx: &GpuContext,
    staging: wgpu::Buffer,
    sizes: Vec<u64>,
) -> Result<Vec<Vec<f32>>> {
    let (sender, receiver) = futures_channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |result| {
        let _ = sender.send(result);
    });
    ctx.wait();
    receiver
        .await
        .map_err(|_| Error::Gpu("the device was lost before the readback finished".into()))?
        .map_err(|e| Error::Gpu(format!("reading results back failed: {e}")))?;
    let floats: Vec<f32> = {
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu(format!("reading results back failed: {e}")))?;
        bytemuck::pod_collect_to_vec(&view)
    };
    staging.unmap();
    let mut out = Vec::with_capacity(sizes.len());
    let mut offset = 0;
    for size in sizes {
        let len = (size / F32) as usize;
        out.push(floats[offset..offset + len].to_vec());
        offset += len;
    }
    Ok(out)
}
