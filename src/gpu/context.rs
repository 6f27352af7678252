//! Adapter, device and pipelines, created once and shared by every GPU computation.

use super::kernels::{MatmulKernel, Pipelines};
use crate::error::{Error, Result};

/// A GPU device ready for the lab's kernels.
#[derive(Debug)]
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) pipelines: Pipelines,
    pub(crate) limits: wgpu::Limits,
    /// Which matrix-product kernel the ensembles use.
    pub matmul: MatmulKernel,
    adapter: String,
}

impl GpuContext {
    /// Finds an adapter (WebGPU in the browser, Vulkan natively) and builds the pipelines.
    /// Errors say why no GPU can be used, so the caller can fall back to the CPU backend.
    pub async fn new() -> Result<Self> {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
        descriptor.backends = if cfg!(target_arch = "wasm32") {
            wgpu::Backends::BROWSER_WEBGPU
        } else {
            wgpu::Backends::VULKAN
        };
        // Chromium exposes navigator.gpu even without an adapter: detect it properly.
        let instance = wgpu::util::new_instance_with_webgpu_detection(descriptor).await;
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("no GPU adapter: {e}")))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("theorylab"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("adapter '{}' refused a device: {e}", info.name)))?;
        device.on_uncaptured_error(std::sync::Arc::new(|e| {
            // Validation and out-of-memory errors are caught per operation with error scopes;
            // anything else is a bug worth seeing.
            eprintln!("theorylab: uncaptured GPU error: {e}");
        }));
        let pipelines = Pipelines::new(&device);
        let details = [format!("{:?}", info.backend), info.driver_info.clone()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let adapter = format!("{} ({details})", info.name).trim().to_string();
        Ok(GpuContext {
            device,
            queue,
            pipelines,
            limits,
            matmul: MatmulKernel::Blocked,
            adapter,
        })
    }

    /// Names an adapter whose driver gave no name (browsers hide it from wgpu; the page asks
    /// `navigator.gpu` for its vendor and architecture).
    pub fn describe_adapter(&mut self, description: &str) {
        if !description.is_empty() {
            self.adapter = format!("{description} {}", self.adapter.trim_start());
        }
    }

    /// The adapter's name, backend and driver, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, ...)`.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// Largest storage buffer one binding may hold, in bytes.
    pub fn max_buffer_bytes(&self) -> u64 {
        self.limits
            .max_buffer_size
            .min(self.limits.max_storage_buffer_binding_size)
    }

    /// Refuses a buffer of `bytes` that the adapter cannot hold, naming it and the limit. Every
    /// GPU allocation goes through this check before it is made.
    pub fn check_buffer(&self, label: &str, bytes: u64) -> Result<()> {
        let limit = self.max_buffer_bytes();
        if bytes > limit {
            return Err(Error::Gpu(format!(
                "buffer '{label}' needs {bytes} bytes but the adapter allows {limit} per buffer; use fewer members, a smaller width or batch"
            )));
        }
        Ok(())
    }

    /// Blocks until submitted work is done (native only; the browser resolves map_async itself).
    pub fn wait(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
        }
    }
}
