//! The Width room: the infinite-width kernels and how finite networks approach them, and the
//! coordinate check that tells the kernel regime (NTK) from feature learning (muP).
//!
//! The config (a [`WidthConfig`]) lives in a signal and in the URL. Each change starts a new
//! sweep: an async loop that advances the two experiments in slices of a few milliseconds per
//! animation frame and publishes their results, so the page stays responsive.

use super::Compute;
use super::controls::{ACTIVATIONS, by_name, name_of, range, round_sig, seed_input, select};
use super::export::figure;
use super::glue;
use crate::core::abc::AbcRules;
use crate::core::abc_regime::classify;
use crate::core::parametrization::Parametrization;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::permalink;
use crate::experiments::width::coordcheck::{CoordCheck, CoordCheckResult, GpuCoordCheck};
use crate::experiments::width::function_space::{FunctionSpace, FunctionSpaceResult};
use crate::experiments::width::kernel_convergence::{KernelConvergence, KernelConvergenceResult};
use crate::experiments::width::lr_transfer::{LrTransfer, LrTransferConfig, LrTransferResult};
use crate::experiments::width::{
    CPU_MAX_WIDTH_LOG2, MAX_WIDTH_LOG2 as GPU_MAX_WIDTH_LOG2, WidthConfig, limit_kernels,
};
use crate::gpu::GpuContext;
use crate::plot::{self, Figure};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/width";
/// Milliseconds of computing per animation frame.
const SLICE_MS: f64 = 8.0;
/// Publish results at most this often while sweeping.
const REDRAW_MS: f64 = 300.0;
/// Widest network of the coordinate check on the CPU backend (wasm), where one step at width
/// 1024 already takes about a frame's budget; on WebGPU it goes to 2^12 = 4096.
const MAX_WIDTH_LOG2: u32 = CPU_MAX_WIDTH_LOG2;
/// Optimizer steps per run of the learning-rate sweep.
const LR_STEPS: usize = 20;

#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<WidthConfig>,
    running: RwSignal<bool>,
    session: StoredValue<u64>,
    progress: RwSignal<(usize, usize)>,
    kernel: RwSignal<Option<KernelConvergenceResult>>,
    coord: RwSignal<Option<CoordCheckResult>>,
    fnspace: RwSignal<Option<FunctionSpaceResult>>,
    lr: RwSignal<Vec<LrTransferResult>>,
    lr_request: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
    /// Whether the coordinate check runs on WebGPU.
    gpu: RwSignal<bool>,
}

/// The room's bounds on top of the config's own; `gpu`: whether WebGPU runs the sweep.
fn check(config: &WidthConfig, gpu: bool) -> Result<()> {
    config.validate()?;
    if !gpu && config.max_width_log2 > MAX_WIDTH_LOG2 {
        return Err(Error::config(
            "max_width_log2",
            format!(
                "widths up to {} run on the CPU backend (up to {} on WebGPU); use `theorylab coordcheck` for wider",
                1 << MAX_WIDTH_LOG2,
                1 << GPU_MAX_WIDTH_LOG2
            ),
        ));
    }
    Ok(())
}

/// The coordinate check on the backend the page uses.
enum Coord {
    Cpu(CoordCheck<f32>),
    Gpu(GpuCoordCheck),
}

impl Coord {
    fn result(&self) -> CoordCheckResult {
        match self {
            Coord::Cpu(c) => c.result(),
            Coord::Gpu(c) => c.result(),
        }
    }
}

/// The config in the URL when the room opens, or the defaults with a notice saying why not.
fn config_from_url() -> (WidthConfig, Option<String>) {
    let hash = glue::hash();
    let (_, query) = hash.split_once('?').unwrap_or((hash.as_str(), ""));
    if query.is_empty() {
        return (WidthConfig::default(), None);
    }
    // The backend is not known yet: accept what WebGPU could run; the session checks again.
    match permalink::decode::<WidthConfig>(query).and_then(|c| check(&c, true).map(|()| c)) {
        Ok(config) => (config, None),
        Err(e) => (
            WidthConfig::default(),
            Some(format!(
                "This link's settings could not be used ({e}); showing the defaults."
            )),
        ),
    }
}

#[component]
pub fn Width() -> impl IntoView {
    let compute = expect_context::<Compute>();
    let (initial, notice) = config_from_url();
    let room = Room {
        config: RwSignal::new(initial),
        running: RwSignal::new(true),
        session: StoredValue::new(0),
        progress: RwSignal::new((0, 0)),
        kernel: RwSignal::new(None),
        coord: RwSignal::new(None),
        fnspace: RwSignal::new(None),
        lr: RwSignal::new(Vec::new()),
        lr_request: RwSignal::new(false),
        error: RwSignal::new(None),
        notice: RwSignal::new(notice),
        gpu: RwSignal::new(false),
    };
    Effect::new(move |_| {
        if let Ok(query) = room.config.with(permalink::encode) {
            glue::set_hash(&format!("{PATH}?{query}"));
        }
    });
    // The abc map is drawn from the config directly; its sliders start no sweep.
    let experiments = Memo::new(move |_| WidthConfig {
        abc: WidthConfig::default().abc,
        ..room.config.get()
    });
    Effect::new(move |_| {
        let config = experiments.get();
        let Some(gpu) = compute.active() else {
            return; // still detecting the GPU
        };
        room.gpu.set(gpu.is_some());
        room.session.update_value(|s| *s += 1);
        room.error.set(None);
        room.running.set(true);
        spawn_local(session(room.session.get_value(), config, gpu, room));
    });

    let svg = |panels: Signal<Option<std::result::Result<Vec<Figure>, String>>>,
               width: u32,
               height: u32| {
        Memo::new(move |_| match panels.get() {
            Some(Ok(p)) if !p.is_empty() => {
                plot::to_svg(&p, width * p.len() as u32, height).map_err(|e| e.to_string())
            }
            Some(Ok(_)) => Err("computing…".into()),
            Some(Err(e)) => Err(e),
            None => Err("computing…".into()),
        })
    };
    let kernel_panels = move |f: fn(&KernelConvergenceResult) -> Result<Vec<Figure>>| {
        Signal::derive(move || {
            room.kernel
                .with(|r| r.as_ref().map(|r| f(r).map_err(|e| e.to_string())))
        })
    };
    let coord_panels = move |f: fn(&CoordCheckResult) -> Result<Vec<Figure>>| {
        Signal::derive(move || {
            room.coord
                .with(|r| r.as_ref().map(|r| f(r).map_err(|e| e.to_string())))
        })
    };
    let fnspace_panels = move |f: fn(&FunctionSpaceResult) -> Result<Vec<Figure>>| {
        Signal::derive(move || {
            room.fnspace.with(|r| {
                r.as_ref()
                    .filter(|r| !r.runs.is_empty())
                    .map(|r| f(r).map_err(|e| e.to_string()))
            })
        })
    };
    let fit_svg = svg(fnspace_panels(plot::width::function_space_fit), 460, 400);
    let fn_loss_svg = svg(fnspace_panels(plot::width::function_space_loss), 560, 400);
    let gap_svg = svg(fnspace_panels(plot::width::linearization_gap), 560, 380);
    let fnspace_data = move || {
        room.fnspace.with_untracked(|r| {
            let r = r.as_ref()?;
            Some((
                plot::width::function_space_csv(r),
                serde_json::to_string_pretty(r).ok()?,
            ))
        })
    };
    let abc_svg = Memo::new(move |_| {
        room.config.with(|c| {
            plot::width::abc_map(&c.abc, c.depth, c.optimizer)
                .and_then(|p| plot::to_svg(&p, 600, 460))
                .map_err(|e| e.to_string())
        })
    });
    let abc_data = move || {
        room.config.with_untracked(|c| {
            let csv = plot::width::abc_csv(&c.abc, c.depth, c.optimizer);
            let verdict = classify(&c.abc, c.depth, c.optimizer);
            let json = serde_json::json!({ "rules": c.abc, "verdict": verdict });
            Some((csv, json.to_string()))
        })
    };
    let maps_svg = svg(
        kernel_panels(|r| {
            limit_kernels(r).map_or(Ok(Vec::new()), |k| plot::width::kernel_maps(&k))
        }),
        380,
        340,
    );
    let error_svg = svg(kernel_panels(plot::width::kernel_error), 560, 380);
    let coord_svg = svg(coord_panels(|r| shown_steps(r, false)), 300, 300);
    let change_svg = svg(coord_panels(|r| shown_steps(r, true)), 300, 300);
    let movement_svg = svg(coord_panels(plot::width::movement), 560, 380);
    let lr_svg = Memo::new(move |_| {
        room.lr.with(|sweeps| {
            if sweeps.is_empty() {
                return Err(
                    "Press “Run learning-rate sweep”: SP and muP networks of every width train \
                            at 17 learning rates (about half a minute on the CPU)."
                        .to_string(),
                );
            }
            let refs: Vec<&LrTransferResult> = sweeps.iter().collect();
            plot::width::lr_transfer(&refs)
                .and_then(|p| plot::to_svg(&p, 460 * p.len() as u32, 380))
                .map_err(|e| e.to_string())
        })
    });
    let lr_data = move || {
        room.lr.with_untracked(|sweeps| {
            if sweeps.is_empty() {
                return None;
            }
            let refs: Vec<&LrTransferResult> = sweeps.iter().collect();
            let csv = plot::width::lr_transfer_csv(&refs);
            Some((csv, serde_json::to_string_pretty(sweeps).ok()?))
        })
    };

    let kernel_data = move || {
        room.kernel.with_untracked(|r| {
            let r = r.as_ref()?;
            let csv = plot::width::kernel_error_csv(r);
            Some((csv, serde_json::to_string_pretty(r).ok()?))
        })
    };
    let maps_data = move || {
        room.kernel.with_untracked(|r| {
            let r = r.as_ref()?;
            let csv = plot::width::kernel_maps_csv(&limit_kernels(r)?);
            let json = serde_json::json!({ "nngp": r.nngp, "ntk": r.ntk });
            Some((csv, json.to_string()))
        })
    };
    let coord_data = move || {
        room.coord.with_untracked(|r| {
            let r = r.as_ref()?;
            Some((
                plot::width::coordinate_check_csv(r),
                serde_json::to_string_pretty(r).ok()?,
            ))
        })
    };
    let movement_data = move || {
        room.coord.with_untracked(|r| {
            let r = r.as_ref()?;
            let csv = plot::width::movement_csv(r);
            Some((csv, serde_json::to_string_pretty(r).ok()?))
        })
    };

    view! {
        <section class="room width">
            <Show when=move || room.notice.get().is_some()>
                <p class="notice" role="status">
                    {move || room.notice.get().unwrap_or_default()}
                    <button on:click=move |_| room.notice.set(None)>"×"</button>
                </p>
            </Show>
            <div class="layout">
                <Controls room=room/>
                <div class="figures">
                    <div class="transport">
                        <button id="rerun" on:click=move |_| room.config.update(|_| {})>"Run again"</button>
                        <button id="stop" on:click=move |_| room.running.set(false)>"Stop"</button>
                        <progress
                            id="progress"
                            max=move || room.progress.get().1.max(1)
                            value=move || room.progress.get().0
                        ></progress>
                        <span id="sweep-status">
                            {move || {
                                let (done, total) = room.progress.get();
                                // The session clears `running` only after publishing
                                // its final results, so "done" never shows stale figures.
                                let state = if room.running.get() {
                                    "running"
                                } else if done >= total && total > 0 {
                                    "done"
                                } else {
                                    "stopped"
                                };
                                let backend = if room.gpu.get() {
                                    "coordinate check on WebGPU, the rest on the CPU"
                                } else {
                                    "CPU (wasm)"
                                };
                                format!("{done} / {total} network steps · {state} · {backend}")
                            }}
                        </span>
                    </div>
                    <Show when=move || room.error.get().is_some()>
                        <p class="error" role="alert">{move || room.error.get().unwrap_or_default()}</p>
                    </Show>
                    <h2>"Feature learning vs width"</h2>
                    <div class="row">
                        {figure("coordinate-check", coord_svg, coord_data)}
                    </div>
                    <p class="explain">
                        "The coordinate check of the mup package: the mean size |x| of every "
                        "layer's output at step t (t = 1 is before any update), against width, "
                        "averaged over seeds. Under muP every curve is flat: no layer blows up "
                        "or vanishes as the network widens. Under SP at a fixed learning rate "
                        "they grow with width; under NTK the hidden layers barely move."
                    </p>
                    <div class="row">
                        {figure("coordinate-change", change_svg, coord_data)}
                    </div>
                    <p class="explain">
                        "The change since initialization, mean |x_t − x_1|. Theory (Yang & Hu "
                        "2021, Theorem 3.3): after one SGD step the hidden features move like "
                        "n^0 under muP, n^−1/2 under NTK (the kernel regime), and n^+1/2 under SP "
                        "(unstable). The slope in each legend is the least-squares fit."
                    </p>
                    <div class="row">
                        {figure("movement", movement_svg, movement_data)}
                        <p class="explain">
                            "After T − 1 steps: how far the last hidden layer's features moved, "
                            "‖h_T − h_1‖ / ‖h_1‖, and how far the empirical tangent kernel moved, "
                            "‖Θ_T − Θ_1‖_F / ‖Θ_1‖_F, on 16 inputs. NTK: both fall like n^−1/2, "
                            "so in the limit the network is a kernel machine (Jacot et al. 2018). "
                            "muP: both stay O(1): features are learned at every width."
                        </p>
                    </div>
                    <h2>"Training in function space"</h2>
                    <div class="row">
                        {figure("fnspace-fit", fit_svg, fnspace_data)}
                    </div>
                    <p class="explain">
                        "Full-batch gradient descent on 8 points of sin 2θ on the unit circle. "
                        "The NTK-GP is the infinite ensemble of infinitely wide networks: "
                        "f_t = f_0 + Θ(x, X) Θ⁻¹ (I − (I − 2ηΘ/m)^t)(y − f_0(X)) with f_0 drawn "
                        "from the NNGP (Lee et al. 2019), its mean and ±2 sd envelope. Curves are "
                        "each width's mean over seeds (a few seeds leave the mean of f_0 noisy). "
                        "The step η is half the rate m / λ_max at which kernel gradient descent "
                        "diverges."
                    </p>
                    <div class="row">
                        {figure("fnspace-loss", fn_loss_svg, fnspace_data)}
                        {figure("fnspace-gap", gap_svg, fnspace_data)}
                    </div>
                    <p class="explain">
                        "Left: train loss against step; wide NTK networks follow the NTK-GP's "
                        "expected loss (1/m)(‖U_t y‖² + tr U_t K U_tᵀ), U_t = (I − 2ηΘ/m)^t. Right: "
                        "how far each network ends from its own linearization (its tangent kernel "
                        "frozen at initialization). Under NTK the gap falls like n^−1/2: the "
                        "network is a kernel machine in the limit. Under muP it stays O(1): the "
                        "features, and with them the kernel, keep changing at every width."
                    </p>
                    <h2>"The abc map"</h2>
                    <div class="row">
                        <AbcControls room=room/>
                        {figure("abc-map", abc_svg, abc_data)}
                    </div>
                    <p class="explain">
                        "Every layer's weight is n^−a·w with w ~ N(0, n^−2b) and learning rate "
                        "η·n^−c (Yang & Hu 2021). Three exponents decide the limit: the output at "
                        "init ~ n^(1/2 − α), α = a + b of the output; features move like n^−r; the "
                        "readout's own update moves f like n^−u. Theorem 3.3: stable iff the "
                        "init is Θ(1) (a + b = 0 at the input, 1/2 in hidden layers, α ≥ 1/2), "
                        "r ≥ 0, α + r ≥ 1 and u ≥ 0; nontrivial iff α + r = 1 or u = 0; then "
                        "r = 0 learns features and r > 0 is the kernel regime. The map is the "
                        "slice through your u; SP at a fixed rate sits at r = −1. Choose "
                        "“abc sliders” as the parametrization to train your choice in the "
                        "coordinate check above: its hidden layers should move like n^−r."
                    </p>
                    <h2>"Learning-rate transfer"</h2>
                    <button
                        id="run-lr"
                        on:click=move |_| {
                            room.lr_request.set(true);
                            room.running.set(true);
                        }
                        prop:disabled=move || room.lr_request.get()
                    >
                        "Run learning-rate sweep"
                    </button>
                    <div class="row">
                        {figure("lr-transfer", lr_svg, lr_data)}
                        <p class="explain">
                            "Training loss after 20 steps against log2 of the learning rate, one "
                            "curve per width, the best rate of each width marked (Tensor "
                            "Programs V, Figure 1). Under muP the best rate stays put as the "
                            "network widens, so it can be tuned on a small model and reused on a "
                            "large one; under SP it moves (for Adam, to smaller rates as the "
                            "width grows). Diverged runs are left out."
                        </p>
                    </div>
                    <h2>"The infinite-width kernels"</h2>
                    <div class="row">
                        {figure("kernels", maps_svg, maps_data)}
                    </div>
                    <p class="explain">
                        "NNGP K and NTK Θ of this depth and activation on 12 Gaussian inputs, "
                        "with neural-tangents' conventions: K ← W·E[φ(u)φ(v)] + B, "
                        "Θ ← K + W·Θ·E[φ′(u)φ′(v)] per layer, input kernel x·x′/d. ReLU, erf and "
                        "GELU in closed form; tanh by adaptive quadrature."
                    </p>
                    <div class="row">
                        {figure("kernel-error", error_svg, kernel_data)}
                        <p class="explain">
                            "Networks of growing width in NTK parametrization: the relative "
                            "Frobenius distance of their empirical NTK (computed per layer from "
                            "backpropagated errors) and of their feature NNGP to the limit. "
                            "Fluctuations are O(n^−1/2): on log-log axes a line of slope −1/2."
                        </p>
                    </div>
                </div>
            </div>
        </section>
    }
}

/// Panels for the first, second and last recorded steps (all steps when T <= 3).
fn shown_steps(r: &CoordCheckResult, change: bool) -> Result<Vec<Figure>> {
    let panels = if change {
        plot::width::coordinate_change(r)?
    } else {
        plot::width::coordinate_check(r)?
    };
    let n = panels.len();
    Ok(panels
        .into_iter()
        .enumerate()
        .filter(|(i, _)| n <= 3 || *i < 2 || *i == n - 1)
        .map(|(_, p)| p)
        .collect())
}

/// The learning-rate sweep the room runs on request: SP beside muP, with the room's optimizer
/// and widths, 20 steps per rate, rates 2^-14..2^2.
fn lr_configs(config: &WidthConfig) -> [LrTransferConfig; 2] {
    [Parametrization::Sp, Parametrization::Mup].map(|parametrization| LrTransferConfig {
        parametrization,
        optimizer: config.optimizer,
        widths: config.coordcheck().widths,
        log2_lr_min: -14,
        log2_lr_max: 2,
        steps: LR_STEPS,
        seeds: 1,
        depth: config.depth,
        activation: config.activation,
        seed: config.seed,
    })
}

/// Whether every experiment of the session has finished.
fn all_done(parts: &[Progress], lr: &[(LrTransfer<f32>, Progress)]) -> bool {
    parts.iter().all(|p| p.finished()) && lr.iter().all(|(_, p)| p.finished())
}

/// One sweep: the kernel comparison, the coordinate check, function-space training, then (when
/// asked) the learning-rate sweeps, in slices per frame, until stopped or superseded.
async fn session(id: u64, config: WidthConfig, gpu: Option<Arc<GpuContext>>, room: Room) {
    let live = move || room.session.try_get_value() == Some(id);
    let started = check(&config, gpu.is_some()).and_then(|()| {
        let coord = match gpu {
            Some(ctx) => Coord::Gpu(GpuCoordCheck::new(ctx, &config.coordcheck())?),
            None => Coord::Cpu(CoordCheck::<f32>::new(&config.coordcheck())?),
        };
        Ok((
            KernelConvergence::new(&config.kernel())?,
            coord,
            FunctionSpace::new(&config.function_space())?,
        ))
    });
    let (mut kernel, mut coord, mut fnspace) = match started {
        Ok(parts) => parts,
        Err(e) => {
            room.error.set(Some(e.to_string()));
            room.kernel.set(None);
            room.coord.set(None);
            room.fnspace.set(None);
            room.lr.set(Vec::new());
            room.running.set(false);
            return;
        }
    };
    room.kernel.set(Some(kernel.result()));
    room.coord.set(None);
    room.fnspace.set(None);
    room.lr.set(Vec::new());
    room.lr_request.set(false);
    let unstarted = Progress { done: 0, total: 1 };
    let (mut p_kernel, mut p_coord, mut p_fnspace) = (unstarted, unstarted, unstarted);
    let mut lr: Vec<(LrTransfer<f32>, Progress)> = Vec::new();
    let mut last_draw = glue::now();
    loop {
        glue::next_frame().await;
        if !live() {
            return;
        }
        if room.lr_request.get_untracked() && lr.is_empty() {
            match lr_configs(&config)
                .iter()
                .map(LrTransfer::new)
                .collect::<Result<Vec<_>>>()
            {
                Ok(sweeps) => lr = sweeps.into_iter().map(|s| (s, unstarted)).collect(),
                Err(e) => room.error.set(Some(e.to_string())),
            }
            room.running.set(true);
        }
        if !room.running.get_untracked() || all_done(&[p_kernel, p_coord, p_fnspace], &lr) {
            continue;
        }
        // A GPU step reads back (asynchronously): one per frame, outside the CPU slice.
        let mut outcome: Result<()> = Ok(());
        if let (true, false, Coord::Gpu(gpu)) =
            (p_kernel.finished(), p_coord.finished(), &mut coord)
        {
            match gpu.step().await {
                Ok(p) => p_coord = p,
                Err(e) => outcome = Err(e),
            }
            if !live() {
                return;
            }
        }
        let start = glue::now();
        let outcome: Result<()> = outcome.and_then(|()| {
            while glue::now() - start < SLICE_MS {
                if !p_kernel.finished() {
                    p_kernel = kernel.step()?;
                } else if !p_coord.finished() {
                    match &mut coord {
                        Coord::Cpu(cpu) => p_coord = cpu.step()?,
                        Coord::Gpu(_) => break,
                    }
                } else if !p_fnspace.finished() {
                    p_fnspace = fnspace.step()?;
                } else if let Some((sweep, p)) = lr.iter_mut().find(|(_, p)| !p.finished()) {
                    *p = sweep.step()?;
                } else {
                    break;
                }
            }
            Ok(())
        });
        let progress: Vec<Progress> = [p_kernel, p_coord, p_fnspace]
            .into_iter()
            .chain(lr.iter().map(|(_, p)| *p))
            .collect();
        let progress = (
            progress.iter().map(|p| p.done).sum(),
            progress.iter().map(|p| p.total).sum(),
        );
        if let Err(e) = outcome {
            room.error.set(Some(e.to_string()));
            room.running.set(false);
        }
        let finished = all_done(&[p_kernel, p_coord, p_fnspace], &lr);
        // "done" only once the final results are on the page.
        if !finished {
            room.progress.set(progress);
        }
        if finished || glue::now() - last_draw > REDRAW_MS {
            // One figure family per frame.
            room.kernel.set(Some(kernel.result()));
            glue::next_frame().await;
            if !live() {
                return;
            }
            room.coord.set(Some(coord.result()));
            if p_coord.finished() {
                glue::next_frame().await;
                if !live() {
                    return;
                }
                room.fnspace.set(Some(fnspace.result()));
            }
            if !lr.is_empty() {
                glue::next_frame().await;
                if !live() {
                    return;
                }
                room.lr.set(lr.iter().map(|(s, _)| s.result()).collect());
            }
            last_draw = glue::now();
        }
        if finished {
            room.progress.set(progress);
            room.running.set(false);
        }
    }
}

#[component]
fn Controls(room: Room) -> impl IntoView {
    let config = room.config;
    view! {
        <aside class="controls">
            <h2>"Networks"</h2>
            <div class="control">
                <label for="max-width">
                    "Widths up to " <output>{move || config.with(|c| 1usize << c.max_width_log2)}</output>
                </label>
                <input
                    type="range"
                    id="max-width"
                    min="6"
                    max=move || if room.gpu.get() { GPU_MAX_WIDTH_LOG2 } else { MAX_WIDTH_LOG2 }
                    step="1"
                    prop:value=move || config.with(|c| c.max_width_log2)
                    on:change=move |ev| {
                        if let Ok(k) = event_target_value(&ev).parse::<u32>() {
                            config.update(|c| c.max_width_log2 = k);
                        }
                    }
                />
            </div>
            {range(
                "depth", "Hidden layers", 1.0, 6.0, 1.0,
                move || config.with(|c| c.depth as f64),
                move |v| config.update(|c| c.depth = v as usize),
                |v| format!("{v}"),
            )}
            {select(
                "activation", "Activation",
                ACTIVATIONS,
                move || config.with(|c| name_of(&c.activation)),
                move |v| if let Some(a) = by_name(&v) { config.update(|c| c.activation = a) },
            )}
            {select(
                "seeds", "Seeds per width",
                &[("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("8", "8")],
                move || config.with(|c| c.seeds.to_string()),
                move |v| if let Ok(n) = v.parse() { config.update(|c| c.seeds = n) },
            )}
            <h2>"Training (coordinate check)"</h2>
            {select(
                "parametrization", "Parametrization",
                &[("sp", "standard (SP)"), ("ntk", "NTK"), ("mup", "muP"), ("mean_field", "mean field"), ("custom", "abc sliders (below)")],
                move || config.with(|c| name_of(&c.parametrization)),
                move |v| {
                    if v == "custom" {
                        config.update(|c| c.parametrization = Parametrization::Custom(c.abc));
                    } else if let Some(p) = by_name(&v) {
                        config.update(|c| c.parametrization = p);
                    }
                },
            )}
            {select(
                "optimizer", "Optimizer",
                &[("sgd", "SGD"), ("adam", "Adam")],
                move || config.with(|c| name_of(&c.optimizer)),
                move |v| if let Some(k) = by_name(&v) { config.update(|c| c.optimizer = k) },
            )}
            {range(
                "lr", "Learning rate (log10)", -4.0, 0.5, 0.25,
                move || config.with(|c| c.lr.log10()),
                move |v| config.update(|c| c.lr = round_sig(10f64.powf(v))),
                |v| format!("{:.3e}", 10f64.powf(v)),
            )}
            {range(
                "steps", "Steps T", 2.0, 20.0, 1.0,
                move || config.with(|c| c.steps as f64),
                move |v| config.update(|c| c.steps = v as usize),
                |v| format!("{v}"),
            )}
            <h2>"Kernels (NTK parametrization)"</h2>
            {range(
                "weight-var", "Weight variance σ_w²", 0.5, 4.0, 0.1,
                move || config.with(|c| c.weight_var),
                move |v| config.update(|c| c.weight_var = round_sig(v)),
                |v| format!("{v:.1}"),
            )}
            {range(
                "bias-var", "Bias variance σ_b²", 0.0, 1.0, 0.05,
                move || config.with(|c| c.bias_var),
                move |v| config.update(|c| c.bias_var = round_sig(v)),
                |v| format!("{v:.2}"),
            )}
            {seed_input(
                move || config.with(|c| c.seed),
                move |s| config.update(|c| c.seed = s),
                room.error,
            )}
        </aside>
    }
}

/// Changes the abc exponents, and the trained networks' too when they use the sliders.
fn set_abc(config: &mut WidthConfig, change: impl FnOnce(&mut AbcRules)) {
    change(&mut config.abc);
    if let Parametrization::Custom(_) = config.parametrization {
        config.parametrization = Parametrization::Custom(config.abc);
    }
}

/// One exponent slider of the abc map.
fn exponent(
    room: Room,
    id: &'static str,
    label: &'static str,
    get: fn(&AbcRules) -> f64,
    set: fn(&mut AbcRules, f64),
) -> impl IntoView {
    let config = room.config;
    range(
        id,
        label,
        -1.5,
        2.0,
        0.25,
        move || config.with(|c| get(&c.abc)),
        move |v| config.update(|c| set_abc(c, |abc| set(abc, v))),
        |v| format!("{v}"),
    )
}

#[component]
fn AbcControls(room: Room) -> impl IntoView {
    let config = room.config;
    let verdict = move || config.with(|c| classify(&c.abc, c.depth, c.optimizer));
    let load = move |p: Parametrization| {
        config.update(|c| {
            let rules = p.rules(c.optimizer);
            set_abc(c, |abc| *abc = rules);
        })
    };
    view! {
        <div class="abc-controls">
            <div class="presets">
                "Load: "
                <button id="abc-sp" on:click=move |_| load(Parametrization::Sp)>"SP"</button>
                <button id="abc-ntk" on:click=move |_| load(Parametrization::Ntk)>"NTK"</button>
                <button id="abc-mup" on:click=move |_| load(Parametrization::Mup)>"muP"</button>
                <button id="abc-mf" on:click=move |_| load(Parametrization::MeanField)>"mean field"</button>
            </div>
            <h3>"Input layer"</h3>
            {exponent(room, "abc-input-a", "a₁", |r| r.input.a, |r, v| r.input.a = v)}
            {exponent(room, "abc-input-b", "b₁", |r| r.input.b, |r, v| r.input.b = v)}
            {exponent(room, "abc-input-c", "c₁", |r| r.input.c, |r, v| r.input.c = v)}
            <h3>"Hidden layers"</h3>
            {exponent(room, "abc-hidden-a", "a", |r| r.hidden.a, |r, v| r.hidden.a = v)}
            {exponent(room, "abc-hidden-b", "b", |r| r.hidden.b, |r, v| r.hidden.b = v)}
            {exponent(room, "abc-hidden-c", "c", |r| r.hidden.c, |r, v| r.hidden.c = v)}
            <h3>"Output layer"</h3>
            {exponent(room, "abc-output-a", "a_L+1", |r| r.output.a, |r, v| r.output.a = v)}
            {exponent(room, "abc-output-b", "b_L+1", |r| r.output.b, |r, v| r.output.b = v)}
            {exponent(room, "abc-output-c", "c_L+1", |r| r.output.c, |r, v| r.output.c = v)}
            <p id="abc-verdict" role="status">
                {move || {
                    let v = verdict();
                    format!(
                        "{} · r = {}, α = {}, u = {} ({} and {} hidden layers)",
                        v.regime.name(),
                        v.r,
                        v.alpha,
                        v.u,
                        config.with(|c| name_of(&c.optimizer)),
                        config.with(|c| c.depth),
                    )
                }}
            </p>
            <ul class="violations">
                {move || verdict().violations.into_iter().map(|v| view! { <li>{v}</li> }).collect_view()}
            </ul>
        </div>
    }
}
