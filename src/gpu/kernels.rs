//! The WGSL sources, the host-side twins of their parameter structs, and the compiled pipelines.

use bytemuck::{Pod, Zeroable};

/// Every shader, by file name, for the pipelines and for naga validation in tests (those that
/// apply an activation with `shaders/phi.wgsl` prepended).
pub const SHADERS: [(&str, &str); 5] = [
    ("matmul.wgsl", include_str!("../../shaders/matmul.wgsl")),
    (
        "activation.wgsl",
        concat!(
            include_str!("../../shaders/phi.wgsl"),
            include_str!("../../shaders/activation.wgsl")
        ),
    ),
    ("loss.wgsl", include_str!("../../shaders/loss.wgsl")),
    (
        "optimizer.wgsl",
        include_str!("../../shaders/optimizer.wgsl"),
    ),
    (
        "init_sampler.wgsl",
        concat!(
            include_str!("../../shaders/phi.wgsl"),
            include_str!("../../shaders/init_sampler.wgsl")
        ),
    ),
];

/// Which matrix-product kernel to use (they compute the same thing; speed differs by device).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulKernel {
    /// One thread per output element.
    Naive,
    /// 4 x 4 output block per thread from registers (fastest on lavapipe).
    Blocked,
    /// 16 x 16 tiles staged in workgroup memory (the classic GPU kernel).
    Tiled,
}

impl MatmulKernel {
    /// All kernels, for benchmarks and tests.
    pub const ALL: [MatmulKernel; 3] = [
        MatmulKernel::Naive,
        MatmulKernel::Blocked,
        MatmulKernel::Tiled,
    ];

    pub(crate) fn entry_point(self) -> &'static str {
        match self {
            MatmulKernel::Naive => "matmul_naive",
            MatmulKernel::Blocked => "matmul_blocked",
            MatmulKernel::Tiled => "matmul_tiled",
        }
    }

    /// Output elements per workgroup along each axis.
    pub(crate) fn tile(self) -> u32 {
        match self {
            MatmulKernel::Blocked => 64,
            MatmulKernel::Naive | MatmulKernel::Tiled => 16,
        }
    }
}

/// Where element (i, j) of one member's matrix sits in its buffer: at
/// `member * batch + i * row + j * col`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Strides {
    pub row: u32,
    pub col: u32,
    pub batch: u32,
}

impl Strides {
    /// A column-major matrix of `rows` rows per member, members `batch` floats apart.
    pub fn matrix(rows: u32, batch: u32) -> Self {
        Strides {
            row: 1,
            col: rows,
            batch,
        }
    }

    /// The same storage read as its transpose.
    pub fn transposed(self) -> Self {
        Strides {
            row: self.col,
            col: self.row,
            ..self
        }
    }
}

/// Keep in sync with `MatmulParams` in shaders/matmul.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct MatmulParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub a_row: u32,
    pub a_col: u32,
    pub a_batch: u32,
    pub b_row: u32,
    pub b_col: u32,
    pub b_batch: u32,
    pub c_row: u32,
    pub c_col: u32,
    pub c_batch: u32,
    pub alpha: f32,
    pub beta: f32,
    pub _pad: [u32; 2],
}

impl MatmulParams {
    /// C = alpha A B + beta C per member, for A `[m, k]`, B `[k, n]` and C `[m, n]` laid out as
    /// `[a, b, c]` say.
    pub fn gemm([m, n, k]: [u32; 3], [a, b, c]: [Strides; 3], alpha: f32, beta: f32) -> Self {
        MatmulParams {
            m,
            n,
            k,
            a_row: a.row,
            a_col: a.col,
            a_batch: a.batch,
            b_row: b.row,
            b_col: b.col,
            b_batch: b.batch,
            c_row: c.row,
            c_col: c.col,
            c_batch: c.batch,
            alpha,
            beta,
            _pad: [0; 2],
        }
    }
}

/// Keep in sync with `ActivationParams` in shaders/activation.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct ActivationParams {
    pub rows: u32,
    pub cols: u32,
    pub members: u32,
    pub activation: u32,
    pub has_bias: u32,
    pub residual: u32,
    pub bias_multiplier: f32,
    pub alpha: f32,
}

/// Keep in sync with `BackwardParams` in shaders/activation.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct BackwardParams {
    pub count: u32,
    pub activation: u32,
    pub scale: f32,
    pub _pad: u32,
}

/// Keep in sync with `BiasGradParams` in shaders/activation.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct BiasGradParams {
    pub rows: u32,
    pub cols: u32,
    pub members: u32,
    pub multiplier: f32,
}

/// Keep in sync with `LossParams` in shaders/loss.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct LossParams {
    pub k: u32,
    pub batch: u32,
    pub members: u32,
    pub cross_entropy: u32,
    pub classes: u32,
    pub _pad: [u32; 3],
}

/// Keep in sync with `OptimizerParams` in shaders/optimizer.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct OptimizerParams {
    pub count: u32,
    pub adam: u32,
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub correction1: f32,
    pub sqrt_correction2: f32,
    pub _pad: [u32; 2],
}

/// Keep in sync with `SamplerParams` in shaders/init_sampler.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub(crate) struct SamplerParams {
    pub depth: u32,
    pub width: u32,
    pub activation: u32,
    pub first_network: u32,
    pub key: u32,
    pub keep_outputs: u32,
    pub _pad0: [u32; 2],
    pub q_input: f32,
    pub input_correlation: f32,
    pub weight_var: f32,
    pub bias_var: f32,
    pub residual: f32,
    pub _pad1: [f32; 3],
}

/// Activation codes shared with shaders/phi.wgsl.
pub(crate) fn activation_code(activation: crate::core::activation::Activation) -> u32 {
    use crate::core::activation::Activation::*;
    match activation {
        Relu => 0,
        Tanh => 1,
        Erf => 2,
        Gelu => 3,
        Linear => 4,
    }
}

/// The compute pipelines, compiled once per device.
#[derive(Debug)]
pub(crate) struct Pipelines {
    pub matmul: [wgpu::ComputePipeline; 3],
    pub bias_activation: wgpu::ComputePipeline,
    pub activation_backward: wgpu::ComputePipeline,
    pub bias_gradient: wgpu::ComputePipeline,
    pub loss_gradient: wgpu::ComputePipeline,
    pub loss_reduce: wgpu::ComputePipeline,
    pub update: wgpu::ComputePipeline,
    pub sample_networks: wgpu::ComputePipeline,
}

impl Pipelines {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = |(name, source): (&str, &str)| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            })
        };
        let [matmul, activation, loss, optimizer, init_sampler] = SHADERS.map(module);
        let pipeline = |module: &wgpu::ShaderModule, entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        Pipelines {
            matmul: MatmulKernel::ALL.map(|k| pipeline(&matmul, k.entry_point())),
            bias_activation: pipeline(&activation, "bias_activation"),
            activation_backward: pipeline(&activation, "activation_backward"),
            bias_gradient: pipeline(&activation, "bias_gradient"),
            loss_gradient: pipeline(&loss, "loss_gradient"),
            loss_reduce: pipeline(&loss, "loss_reduce"),
            update: pipeline(&optimizer, "update"),
            sample_networks: pipeline(&init_sampler, "sample_networks"),
        }
    }

    pub fn matmul(&self, kernel: MatmulKernel) -> &wgpu::ComputePipeline {
        &self.matmul[kernel as usize]
    }
}
