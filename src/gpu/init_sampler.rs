//! The Depth room's ensembles on the GPU: `shaders/init_sampler.wgsl` samples many networks at
//! once, one workgroup each, with the same counter-based draws as the CPU's
//! [`InitSampler`](crate::core::init_sampler::InitSampler), in f32; the host reads back each
//! network's per-layer statistics (and the first networks' readouts) as [`NetworkSample`]s.

use super::context::GpuContext;
use super::ensemble::read_back;
use super::kernels::{SamplerParams, activation_code};
use crate::core::counter_rng::seed_key;
use crate::core::init_sampler::NetworkSample;
use crate::core::nearly_gaussian::{DepthSpec, layer_theory};
use crate::error::{Error, Result};
use std::sync::Arc;
use wgpu::util::DeviceExt;

const F32: u64 = 4;

/// Where every layer's kernel must lie for f32: its square (in the fourth moments) stays a
/// normal f32 number, between 1e-37 and 3e38.
const F32_KERNEL_RANGE: (f64, f64) = (1e-15, 1e15);

/// Samples networks of one architecture on a GPU.
#[derive(Debug)]
pub struct GpuInitSampler {
    ctx: Arc<GpuContext>,
    spec: DepthSpec,
    input_correlation: f64,
    key: u32,
}

impl GpuInitSampler {
    /// A sampler of networks drawn from `seed` on `ctx`; refuses kernels f32 cannot hold.
    pub fn new(
        ctx: Arc<GpuContext>,
        spec: DepthSpec,
        input_correlation: f64,
        seed: u64,
    ) -> Result<Self> {
        // Every layer's mean kernel and gradient norm, and their spread across networks (the
        // kurtosis ratio E K^2 / (E K)^2 of the exact law or its leading order, e.g.
        // (1 + 5/n)^L for ReLU), must stay where squares of them are finite in f32.
        let (lo, hi) = F32_KERNEL_RANGE;
        for (l, t) in layer_theory(&spec).iter().enumerate() {
            let spread = t.kurtosis_ratio().max(1.0);
            for (what, value) in [
                ("preactivation variance", t.kernel),
                ("gradient norm", t.gradient),
            ] {
                if !(value / spread >= lo && value * spread <= hi) {
                    return Err(Error::Gpu(format!(
                        "the {what} at layer {} is {value:e} (spread x{spread:.3e} across networks), outside [{lo:e}, {hi:e}] where the GPU's f32 fourth moments stay finite",
                        l + 1
                    )));
                }
            }
        }
        Ok(GpuInitSampler {
            ctx,
            spec,
            input_correlation,
            key: seed_key(seed),
        })
    }

    /// The adapter's name.
    pub fn adapter(&self) -> &str {
        self.ctx.adapter()
    }

    /// Scratch floats of one network: every layer's preactivations and each step's basis and
    /// draws (5 per layer and neuron), three vectors of the width, a flag per step.
    fn scratch_floats(&self) -> u64 {
        let (layers, n) = (self.spec.depth as u64 + 1, self.spec.width as u64);
        (5 * layers + 3) * n + layers
    }

    /// Most networks one dispatch may hold: the adapter's buffer and workgroup-count limits.
    pub fn networks_per_dispatch(&self) -> usize {
        let by_memory = self.ctx.max_buffer_bytes() / (self.scratch_floats() * F32);
        let by_groups = u64::from(self.ctx.limits.max_compute_workgroups_per_dimension);
        by_memory.min(by_groups).max(1) as usize
    }

    /// Networks `first..first + count` (at most [`Self::networks_per_dispatch`]), with the
    /// readouts of the first `keep_outputs` of them.
    pub async fn sample(
        &self,
        first: u32,
        count: usize,
        keep_outputs: usize,
    ) -> Result<Vec<NetworkSample>> {
        let count = count.clamp(1, self.networks_per_dispatch());
        let keep = keep_outputs.min(count);
        let (layers, n) = (self.spec.depth + 1, self.spec.width);
        let per_stats = 5 * layers + 1;
        let device = &self.ctx.device;
        let storage = |label: &str, floats: u64| -> Result<wgpu::Buffer> {
            let bytes = floats.max(1) * F32;
            self.ctx.check_buffer(label, bytes)?;
            Ok(device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }))
        };
        let scratch = storage("sampler scratch", self.scratch_floats() * count as u64)?;
        let stats = storage("sampler stats", (per_stats * count) as u64)?;
        let outputs = storage("sampler outputs", (keep * n) as u64)?;
        let params = SamplerParams {
            depth: self.spec.depth as u32,
            width: n as u32,
            activation: activation_code(self.spec.activation),
            first_network: first,
            key: self.key,
            keep_outputs: keep as u32,
            q_input: self.spec.q_input as f32,
            input_correlation: self.input_correlation as f32,
            weight_var: self.spec.weight_var as f32,
            bias_var: self.spec.bias_var as f32,
            residual: self.spec.residual as f32,
            ..SamplerParams::default()
        };
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("sampler params"),
            contents: bytemuck::bytes_of(&params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let pipeline = &self.ctx.pipelines.sample_networks;
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[&uniform, &scratch, &stats, &outputs]
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: b.as_entire_binding(),
                })
                .collect::<Vec<_>>(),
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(count as u32, 1, 1);
        }
        let sizes = [stats.size(), outputs.size()];
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("sampler readback"),
            size: sizes.iter().sum(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(&stats, 0, &staging, 0, sizes[0]);
        encoder.copy_buffer_to_buffer(&outputs, 0, &staging, sizes[0], sizes[1]);
        self.ctx.queue.submit([encoder.finish()]);
        let data = read_back(&self.ctx, staging, sizes.to_vec()).await?;
        let f = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        Ok((0..count)
            .map(|k| {
                let s = &data[0][k * per_stats..(k + 1) * per_stats];
                let part = |j: usize| f(&s[j * layers..(j + 1) * layers]);
                NetworkSample {
                    second: part(0),
                    fourth: part(1),
                    cross: part(2),
                    second_other: part(3),
                    gradient: part(4),
                    ntk: f64::from(s[5 * layers]),
                    output: if k < keep {
                        f(&data[1][k * n..(k + 1) * n])
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect())
    }
}
