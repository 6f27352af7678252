//! The Width room: the infinite-width kernels and how finite networks approach them, and the
//! coordinate check that tells the kernel regime (NTK) from feature learning (muP).
//!
//! The config (a [`WidthConfig`]) lives in a signal and in the URL. Each change starts a new
//! session that advances the experiments in slices between animation frames (the room shell,
//! [`super::room`]) and publishes their results; the figures are the experiments' own.

mod controls;
mod text;

use super::Compute;
use super::room::{
    Banners, Figures, Live, Part, Sequence, SessionSignals, Sessions, card, config_from_url, drive,
    export_of, figures_of, keep_permalink, part, transport,
};
use crate::core::parametrization::Parametrization;
use crate::core::stepper::Stepper;
use crate::error::{Error, Result};
use crate::experiments::FigureData;
use crate::experiments::width::coordcheck::{CoordCheck, CoordCheckConfig, CoordCheckResult};
use crate::experiments::width::function_space::{
    FunctionSpace, FunctionSpaceConfig, FunctionSpaceResult,
};
use crate::experiments::width::kernel_convergence::{
    KernelConvergence, KernelConvergenceConfig, KernelConvergenceResult,
};
use crate::experiments::width::lr_transfer::{LrTransfer, LrTransferConfig, LrTransferResult};
use crate::experiments::width::{
    CPU_MAX_WIDTH_LOG2, MAX_WIDTH_LOG2, WidthConfig, abc_figure, lr_transfer_figure,
};
use crate::gpu::{AnyEnsemble, GpuContext};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/width";
/// Optimizer steps per run of the learning-rate sweep.
const LR_STEPS: usize = 20;

/// The room's signals, shared by the controls and the session.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<WidthConfig>,
    signals: SessionSignals,
    sessions: Sessions,
    kernel: RwSignal<Option<KernelConvergenceResult>>,
    coord: RwSignal<Option<CoordCheckResult>>,
    fnspace: RwSignal<Option<FunctionSpaceResult>>,
    lr: RwSignal<Vec<LrTransferResult>>,
    lr_request: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
    /// Whether the coordinate check runs on WebGPU.
    gpu: RwSignal<bool>,
}

/// The room's bounds on top of the config's own; `gpu`: whether WebGPU runs the sweep.
fn check(config: &WidthConfig, gpu: bool) -> Result<()> {
    config.validate()?;
    if !gpu && config.max_width_log2 > CPU_MAX_WIDTH_LOG2 {
        return Err(Error::config(
            "max_width_log2",
            format!(
                "widths up to {} run on the CPU backend (up to {} on WebGPU); use `theorylab coordcheck` for wider",
                1 << CPU_MAX_WIDTH_LOG2,
                1 << MAX_WIDTH_LOG2
            ),
        ));
    }
    Ok(())
}

#[component]
pub fn Width() -> impl IntoView {
    let compute = expect_context::<Compute>();
    // The backend is not known yet: accept what WebGPU could run; the session checks again.
    let (initial, notice) = config_from_url(PATH, |c| check(c, true));
    let room = Room {
        config: RwSignal::new(initial),
        signals: SessionSignals::new(),
        sessions: Sessions::default(),
        kernel: RwSignal::new(None),
        coord: RwSignal::new(None),
        fnspace: RwSignal::new(None),
        lr: RwSignal::new(Vec::new()),
        lr_request: RwSignal::new(false),
        notice: RwSignal::new(notice),
        gpu: RwSignal::new(false),
    };
    keep_permalink(PATH, room.config);
    // The abc map is drawn from the config directly; its sliders start no sweep.
    let experiments = Memo::new(move |_| WidthConfig {
        abc: WidthConfig::default().abc,
        ..room.config.get()
    });
    Effect::new(move |_| {
        room.signals.rerun.track();
        let config = experiments.get();
        let Some(gpu) = compute.chosen() else {
            return; // still detecting the GPU
        };
        room.gpu.set(gpu.is_some());
        room.signals.error.set(None);
        room.signals.running.set(true);
        spawn_local(session(room.sessions.begin(), config, gpu, room));
    });

    let kernel = figures_of::<KernelConvergenceConfig>(room.kernel, "computing…");
    let coord = figures_of::<CoordCheckConfig>(room.coord, "computing…");
    let fnspace = figures_of::<FunctionSpaceConfig>(
        room.fnspace,
        "after the coordinate check: training in function space…",
    );
    let abc: Figures = Memo::new(move |_| {
        room.config
            .with(|c| single(abc_figure(&c.abc, c.depth, c.optimizer)))
    });
    let abc_json = move || {
        room.config.with_untracked(|c| {
            let verdict = crate::core::abc_regime::classify(&c.abc, c.depth, c.optimizer);
            Some(serde_json::json!({ "rules": c.abc, "verdict": verdict }).to_string())
        })
    };
    let lr: Figures = Memo::new(move |_| {
        room.lr.with(|sweeps| {
            if sweeps.is_empty() {
                return Err(text::LR_WAITING.to_string());
            }
            let refs: Vec<&LrTransferResult> = sweeps.iter().collect();
            single(lr_transfer_figure(&refs))
        })
    });
    let lr_json = move || {
        room.lr
            .with_untracked(|s| serde_json::to_string_pretty(s).ok())
    };
    let (kernel_json, coord_json, fnspace_json) = (
        export_of(room.kernel, move || {
            Some(room.config.get_untracked().kernel())
        }),
        export_of(room.coord, move || {
            Some(room.config.get_untracked().coordcheck())
        }),
        export_of(room.fnspace, move || {
            Some(room.config.get_untracked().function_space())
        }),
    );

    view! {
        <section class="room width">
            <div class="layout">
                <controls::Controls config=room.config gpu=room.gpu error=room.signals.error/>
                <div class="figures">
                    <Transport room=room/>
                    <Banners notice=room.notice error=room.signals.error/>
                    <h2>"Feature learning vs width"</h2>
                    {card("coordinate-check", coord, coord_json, text::COORDINATE_CHECK)}
                    {card("coordinate-change", coord, coord_json, text::COORDINATE_CHANGE)}
                    {card("movement", coord, coord_json, text::MOVEMENT)}
                    <h2>"Training in function space"</h2>
                    {card("fnspace-fit", fnspace, fnspace_json, text::FNSPACE_FIT)}
                    {card("fnspace-loss", fnspace, fnspace_json, text::FNSPACE_LOSS)}
                    {card("fnspace-gap", fnspace, fnspace_json, text::FNSPACE_GAP)}
                    <h2>"The abc map"</h2>
                    <controls::AbcControls config=room.config/>
                    {card("abc-map", abc, abc_json, text::ABC_MAP)}
                    <h2>"Learning-rate transfer"</h2>
                    <button
                        id="run-lr"
                        on:click=move |_| {
                            room.lr_request.set(true);
                            room.signals.running.set(true);
                        }
                        prop:disabled=move || room.lr_request.get()
                    >
                        "Run learning-rate sweep"
                    </button>
                    {card("lr-transfer", lr, lr_json, text::LR_TRANSFER)}
                    <h2>"The infinite-width kernels"</h2>
                    {card("kernels", kernel, kernel_json, text::KERNELS)}
                    {card("kernel-error", kernel, kernel_json, text::KERNEL_ERROR)}
                </div>
            </div>
        </section>
    }
}

/// The transport bar: which backend runs which part.
#[component]
fn Transport(room: Room) -> impl IntoView {
    let backend = move || {
        if room.gpu.get() {
            "coordinate check on WebGPU, the rest on the CPU"
        } else {
            "CPU (wasm)"
        }
        .to_string()
    };
    transport(room.signals, backend, ())
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

/// One session, in slices per frame, until stopped or superseded, its experiments in this
/// order: the kernel comparison, the coordinate check (on WebGPU where the page has it),
/// function-space training, then (when asked) the learning-rate sweeps.
async fn session(live: Live, config: WidthConfig, gpu: Option<Arc<GpuContext>>, room: Room) {
    room.coord.set(None);
    room.fnspace.set(None);
    room.lr.set(Vec::new());
    let signals = room.signals;
    let parts = check(&config, gpu.is_some()).and_then(|()| {
        // The analytic limit is drawn at once; the finite widths fill in as they run.
        let kernel = KernelConvergence::new(&config.kernel())?;
        room.kernel.set(Some(kernel.result()));
        room.lr_request.set(false);
        let (coord, fnspace) = (config.coordcheck(), config.function_space());
        Ok(vec![
            part(Part::into(move || Ok(kernel), room.kernel)),
            part(Part::into(
                move || CoordCheck::<AnyEnsemble>::on(gpu, &coord),
                room.coord,
            )),
            part(Part::into(
                move || FunctionSpace::new(&fnspace),
                room.fnspace,
            )),
        ])
    });
    if parts.is_err() {
        room.kernel.set(None);
    }
    let mut asked = false;
    let lr = move || {
        if asked || !room.lr_request.get_untracked() {
            return None;
        }
        asked = true;
        let sweeps = lr_configs(&config)
            .iter()
            .map(LrTransfer::new)
            .collect::<Result<Vec<_>>>();
        Some(sweeps.map(|s| {
            let show = move |run: &Sequence<LrTransfer<f32>>| room.lr.set(run.result());
            vec![part(Part::new(move || Ok(Sequence::new(s)), show))]
        }))
    };
    drive(parts, signals, live, lr).await
}

/// One figure as a card's list, or the message to show instead.
fn single(figure: Result<FigureData>) -> std::result::Result<Vec<FigureData>, String> {
    figure.map(|f| vec![f]).map_err(|e| e.to_string())
}
