//! The browser app (leptos, client-side rendering; wasm32 only): a header naming the compute
//! backend with a switch, the rooms, the About panel. Rooms only build configs and draw
//! results; the science is in `core` and `experiments`, shared with the CLI and the tests.

mod bench;
mod collapse;
mod connectivity;
mod controls;
mod depth;
mod export;
mod glue;
mod landscape;
mod playground;
mod room;
mod width;

use crate::experiments::ROOMS;
use crate::gpu::GpuContext;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Starts the app when the wasm module loads.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Where the GPU stands: still looking, found (with its context), or absent (and why).
#[derive(Clone)]
pub enum Gpu {
    /// `navigator.gpu` is being asked for an adapter.
    Detecting,
    /// A WebGPU adapter and device.
    Ready(Arc<GpuContext>),
    /// No usable adapter; the reason.
    Absent(String),
}

/// State every room shares: the GPU and whether the user wants it.
#[derive(Clone, Copy)]
pub struct Compute {
    gpu: RwSignal<Gpu, LocalStorage>,
    use_gpu: RwSignal<bool>,
    /// Whether the adapter is still being looked for (changes once).
    detecting: Memo<bool>,
}

thread_local! {
    /// The page's compute state, for sessions, which run outside the component tree.
    static COMPUTE: std::cell::Cell<Option<Compute>> = const { std::cell::Cell::new(None) };
}

/// Marks the page's GPU as lost (from a session whose device was lost mid-run): the header
/// says so and every later session runs on the CPU backend.
pub fn gpu_lost(why: &str) {
    if let Some(compute) = COMPUTE.with(std::cell::Cell::get) {
        compute
            .gpu
            .set(Gpu::Absent(format!("the device was lost: {why}")));
    }
}

impl Compute {
    /// The GPU context when WebGPU is available and chosen; `None` means the CPU backend.
    /// The outer `None` while detection is still running.
    pub fn active(&self) -> Option<Option<Arc<GpuContext>>> {
        match self.gpu.get() {
            Gpu::Detecting => None,
            Gpu::Ready(ctx) if self.use_gpu.get() => Some(Some(ctx)),
            _ => Some(None),
        }
    }

    /// The backend a new session should use (`None` while detecting). It follows the switch and
    /// the end of detection, not a device lost mid-run: that run falls back by itself, and
    /// must not be replaced by a fresh one.
    pub fn chosen(&self) -> Option<Option<Arc<GpuContext>>> {
        if self.detecting.get() {
            return None;
        }
        let use_gpu = self.use_gpu.get();
        Some(match self.gpu.get_untracked() {
            Gpu::Ready(ctx) if use_gpu => Some(ctx),
            _ => None,
        })
    }

    /// Whether a WebGPU adapter exists.
    pub fn gpu_available(&self) -> bool {
        matches!(self.gpu.get(), Gpu::Ready(_))
    }
}

#[component]
fn App() -> impl IntoView {
    let gpu = RwSignal::new_local(Gpu::Detecting);
    let compute = Compute {
        gpu,
        use_gpu: RwSignal::new(true),
        detecting: Memo::new(move |_| matches!(gpu.get(), Gpu::Detecting)),
    };
    COMPUTE.with(|c| c.set(Some(compute)));
    spawn_local(async move {
        compute.gpu.set(match GpuContext::new().await {
            // The page is single-threaded; the Arc is the shared API's (native code shares
            // the context across threads).
            #[allow(clippy::arc_with_non_send_sync)]
            Ok(mut ctx) => {
                ctx.describe_adapter(&glue::adapter_description().await);
                Gpu::Ready(Arc::new(ctx))
            }
            Err(e) => Gpu::Absent(e.to_string()),
        });
    });
    provide_context(compute);
    let about = RwSignal::new(false);
    // The room is the hash's path: `#/playground?...` or `#/width?...`; links change it.
    let room_path = RwSignal::new(glue::room_path());
    glue::on_hash_change(move || room_path.set(glue::room_path()));

    view! {
        <header class="top">
            <h1>"theorylab"</h1>
            <nav>
                {ROOMS
                    .iter()
                    .map(|room| {
                        let path = format!("/{}", room.path);
                        let active = move || {
                            if room_path.get() == path { "room active" } else { "room" }
                        };
                        view! {
                            <a class=active href=format!("#/{}", room.path) title=room.summary>
                                {room.title}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <BackendSwitch/>
            <button class="about-toggle" on:click=move |_| about.update(|a| *a = !*a)>
                "About"
            </button>
        </header>
        <Show when=move || about.get()>
            <About/>
        </Show>
        <main>
            {move || match room_path.get().as_str() {
                width::PATH => view! { <width::Width/> }.into_any(),
                depth::PATH => view! { <depth::Depth/> }.into_any(),
                collapse::PATH => view! { <collapse::Collapse/> }.into_any(),
                connectivity::PATH => view! { <connectivity::Connectivity/> }.into_any(),
                landscape::PATH => view! { <landscape::Landscape/> }.into_any(),
                _ => view! { <playground::Playground/> }.into_any(),
            }}
        </main>
    }
}

/// The header's backend line: which backend runs, the adapter's name, and a switch.
#[component]
fn BackendSwitch() -> impl IntoView {
    let compute = expect_context::<Compute>();
    let label = move || match (compute.gpu.get(), compute.use_gpu.get()) {
        (Gpu::Detecting, _) => (
            "detecting",
            "Compute: looking for a WebGPU adapter…".to_string(),
        ),
        (Gpu::Ready(ctx), true) => ("webgpu", format!("Compute: WebGPU · {}", ctx.adapter())),
        (Gpu::Ready(_), false) => ("cpu", "Compute: CPU (wasm) · WebGPU switched off".into()),
        (Gpu::Absent(why), _) => ("cpu", format!("Compute: CPU (wasm) · no WebGPU ({why})")),
    };
    view! {
        <div class="backend" data-backend=move || label().0 title=move || label().1>
            <span class="backend-name">{move || label().1}</span>
            <label class="switch">
                <input
                    type="checkbox"
                    id="use-gpu"
                    prop:checked=move || compute.use_gpu.get() && compute.gpu_available()
                    prop:disabled=move || !compute.gpu_available()
                    on:change=move |ev| compute.use_gpu.set(event_target_checked(&ev))
                />
                " use WebGPU"
            </label>
        </div>
    }
}

/// The papers behind each room.
#[component]
fn About() -> impl IntoView {
    view! {
        <section class="about">
            <h2>"About theorylab"</h2>
            <p>
                "One Rust core trains every network here: natively, where "
                <code>"cargo test"</code>
                " checks its numbers against theory, PyTorch and neural-tangents, and in this page "
                "(WebGPU compute shaders, or the same CPU code compiled to WebAssembly)."
            </p>
            <h3>"Width"</h3>
            <ul>
                <li>
                    "R. Novak et al., "
                    <a href="https://arxiv.org/abs/1912.02803">"Neural Tangents"</a>
                    " (ICLR 2020): the kernel conventions the analytic NNGP and NTK follow."
                </li>
                <li>
                    "J. Lee et al., "
                    <a href="https://arxiv.org/abs/1711.00165">"Deep Neural Networks as Gaussian Processes"</a>
                    " (ICLR 2018): the NNGP recursion."
                </li>
                <li>
                    "G. Yang et al., the "
                    <a href="https://github.com/microsoft/mup">"mup"</a>
                    " package: the coordinate check."
                </li>
            </ul>
            <h3>"Depth"</h3>
            <ul>
                <li>
                    "D. A. Roberts, S. Yaida, B. Hanin, "
                    <a href="https://arxiv.org/abs/2106.10165">"The Principles of Deep Learning Theory"</a>
                    " (2022): nearly-Gaussian networks, the four-point vertex and criticality."
                </li>
                <li>
                    "B. Hanin, M. Nica, "
                    <a href="https://arxiv.org/abs/1909.05989">
                        "Finite Depth and Width Corrections to the Neural Tangent Kernel"
                    </a>
                    " (ICLR 2020): NTK fluctuations exponential in L/n."
                </li>
                <li>
                    "B. Poole et al., "
                    <a href="https://arxiv.org/abs/1606.05340">"Exponential expressivity in deep neural networks through transient chaos"</a>
                    " (NeurIPS 2016), and S. S. Schoenholz et al., "
                    <a href="https://arxiv.org/abs/1611.01232">"Deep Information Propagation"</a>
                    " (ICLR 2017): order, chaos and depth scales."
                </li>
            </ul>
            <h3>"Collapse"</h3>
            <ul>
                <li>
                    "V. Papyan, X. Y. Han, D. L. Donoho, "
                    <a href="https://arxiv.org/abs/2008.08186">"Prevalence of neural collapse during the terminal phase of deep learning training"</a>
                    " (PNAS 2020): NC1-NC4."
                </li>
                <li>
                    "H. Dang et al., "
                    <a href="https://arxiv.org/abs/2301.00437">"Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced Data"</a>
                    " (ICML 2023): the closed form of imbalanced MSE and minority collapse."
                </li>
                <li>
                    "Z. Zhu et al., "
                    <a href="https://arxiv.org/abs/2105.02375">"A Geometric Analysis of Neural Collapse with Unconstrained Features"</a>
                    " (NeurIPS 2021): the unconstrained features model."
                </li>
            </ul>
            <h3>"Connectivity"</h3>
            <ul>
                <li>
                    "S. K. Ainsworth, J. Hayase, S. Srinivasa, "
                    <a href="https://arxiv.org/abs/2209.04836">"Git Re-Basin: Merging Models modulo Permutation Symmetries"</a>
                    " (ICLR 2023): weight and activation matching, the loss barrier."
                </li>
                <li>
                    "J. Frankle et al., "
                    <a href="https://arxiv.org/abs/1912.05671">"Linear Mode Connectivity and the Lottery Ticket Hypothesis"</a>
                    " (ICML 2020): instability analysis, spawning, the error barrier."
                </li>
                <li>
                    "A. Ito, M. Yamada, A. Kumagai, "
                    <a href="https://arxiv.org/abs/2402.04051">"Analysis of Linear Mode Connectivity via Permutation-Based Weight Matching"</a>
                    " (2024): permutations align singular vectors and keep singular values."
                </li>
                <li>
                    "R. Entezari et al., "
                    <a href="https://arxiv.org/abs/2110.06296">"The Role of Permutation Invariance in Linear Mode Connectivity of Neural Networks"</a>
                    " (ICLR 2022): the conjecture that barriers vanish modulo permutations."
                </li>
            </ul>
            <h3>"Landscape"</h3>
            <ul>
                <li>
                    "H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "
                    <a href="https://arxiv.org/abs/1712.09913">"Visualizing the Loss Landscape of Neural Nets"</a>
                    " (NeurIPS 2018): filter-normalized directions, trajectories on PCA planes."
                </li>
                <li>
                    "Z. Yao, A. Gholami, K. Keutzer, M. W. Mahoney, "
                    <a href="https://arxiv.org/abs/1912.07145">"PyHessian: Neural Networks Through the Lens of the Hessian"</a>
                    " (2020): top eigenvalues by Lanczos, Hutchinson's trace, the spectral density, per layer."
                </li>
                <li>
                    "B. Ghorbani, S. Krishnan, Y. Xiao, "
                    <a href="https://arxiv.org/abs/1901.10159">"An Investigation into Neural Net Optimization via Hessian Eigenvalue Density"</a>
                    " (ICML 2019): stochastic Lanczos quadrature, the bulk and the outliers."
                </li>
                <li>
                    "J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "
                    <a href="https://arxiv.org/abs/2103.00065">"Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability"</a>
                    " (ICLR 2021): progressive sharpening up to 2/η."
                </li>
                <li>
                    "C. Li, H. Farkhoor, R. Liu, J. Yosinski, "
                    <a href="https://arxiv.org/abs/1804.08838">"Measuring the Intrinsic Dimension of Objective Landscapes"</a>
                    " (ICLR 2018): training in random subspaces, d_int90."
                </li>
                <li>
                    "B. A. Pearlmutter, "
                    <a href="https://doi.org/10.1162/neco.1994.6.1.147">"Fast Exact Multiplication by the Hessian"</a>
                    " (Neural Computation 1994): Hessian-vector products at the cost of a few gradients."
                </li>
            </ul>
            <h3>"Playground"</h3>
            <ul>
                <li>
                    "D. Smilkov, S. Carter, "
                    <a href="https://playground.tensorflow.org">"TensorFlow Playground"</a>
                    " (2016): the 2-D data sets and the view of every hidden unit."
                </li>
                <li>
                    "G. Yang, E. J. Hu, "
                    <a href="https://arxiv.org/abs/2011.14522">
                        "Feature Learning in Infinite-Width Neural Networks"
                    </a>
                    " (ICML 2021): abc-parametrizations, SP / NTK / muP / mean field."
                </li>
                <li>
                    "A. Jacot, F. Gabriel, C. Hongler, "
                    <a href="https://arxiv.org/abs/1806.07572">"Neural Tangent Kernel"</a>
                    " (NeurIPS 2018): why wide NTK-parametrized networks barely move their features."
                </li>
                <li>
                    "G. Yang et al., "
                    <a href="https://arxiv.org/abs/2203.03466">"Tensor Programs V: muTransfer"</a>
                    " (2022): muP for Adam, and hyperparameters that transfer across widths."
                </li>
            </ul>
        </section>
    }
}
