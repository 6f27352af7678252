//! The Landscape room: the loss on a plane around a trained network (filter-normalized random
//! or trajectory-PCA directions) with its 1-D slices, the Hessian's spectrum at the same point
//! (whole and per layer), sharpness against 2/η during full-batch gradient descent, and training
//! in random subspaces; or the plane and the Hessian of an uploaded model.
//!
//! The config (a [`LandscapePage`]) lives in a signal and in the URL; each change (or upload)
//! starts a new session on the room shell ([`super::room`]), in slices between frames
//! ([`session`]).

mod controls;
mod session;
mod text;

use super::Compute;
use super::room::{
    Banners, Figures, SessionSignals, Sessions, card, config_from_url, export_of, figures_of,
    keep_permalink, transport,
};
use crate::experiments::landscape::LandscapePage;
use crate::experiments::landscape::intrinsic::{IntrinsicConfig, IntrinsicResult};
use crate::experiments::landscape::sharpness::{SharpnessConfig, SharpnessResult};
use crate::experiments::landscape::spectrum::{SpectrumConfig, SpectrumResult};
use crate::experiments::landscape::surface::{SurfaceConfig, SurfaceResult};
use crate::plot::Figure;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/landscape";

/// A file the user gave: its name and contents.
#[derive(Clone, Debug, PartialEq)]
pub struct Named<T> {
    name: String,
    contents: Arc<T>,
}

/// The user's own model and data: when both are there, the plane and the Hessian are theirs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uploads {
    model: Option<Named<Vec<u8>>>,
    data: Option<Named<String>>,
}

impl Uploads {
    fn complete(&self) -> bool {
        self.model.is_some() && self.data.is_some()
    }
}

/// The room's signals, shared by the controls and the session.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<LandscapePage>,
    uploads: RwSignal<Uploads>,
    signals: SessionSignals,
    sessions: Sessions,
    surface: RwSignal<Option<SurfaceResult>>,
    spectrum: RwSignal<Option<SpectrumResult>>,
    sharpness: RwSignal<Option<SharpnessResult>>,
    intrinsic: RwSignal<Option<IntrinsicResult>>,
    notice: RwSignal<Option<String>>,
}

/// A figure's explanation and, below it, a line of its numbers once there are some.
fn explain(
    text: &'static str,
    facts: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <p>{text}</p>
        <p class="facts">{move || facts().unwrap_or_default()}</p>
    }
}

#[component]
pub fn Landscape() -> impl IntoView {
    let (initial, notice) = config_from_url(PATH, LandscapePage::validate_page);
    let room = Room {
        config: RwSignal::new(initial),
        uploads: RwSignal::new(Uploads::default()),
        signals: SessionSignals::new(),
        sessions: Sessions::default(),
        surface: RwSignal::new(None),
        spectrum: RwSignal::new(None),
        sharpness: RwSignal::new(None),
        intrinsic: RwSignal::new(None),
        notice: RwSignal::new(notice),
    };
    keep_permalink(PATH, room.config);
    // A model and its data count once both are there: one file alone restarts nothing.
    let own = Memo::new(move |_| room.uploads.with(|u| u.complete().then(|| u.clone())));
    let compute = expect_context::<Compute>();
    // Everything but the view angle: turning the surface redraws it and reruns nothing.
    let experiments = Memo::new(move |_| LandscapePage {
        surface_yaw: LandscapePage::default().surface_yaw,
        ..room.config.get()
    });
    Effect::new(move |_| {
        room.signals.rerun.track();
        let config = experiments.get();
        let own = own.get();
        let Some(gpu) = compute.chosen() else {
            return; // still detecting the GPU
        };
        room.signals.error.set(None);
        room.signals.running.set(true);
        spawn_local(session::session(
            room.sessions.begin(),
            config,
            own,
            gpu,
            room,
        ));
    });
    let surface = figures_of::<SurfaceConfig>(room.surface, "training the network…");
    // The 3-D surface turned as the slider says.
    let turned: Figures = Memo::new(move |_| {
        let yaw = f64::from(room.config.with(|c| c.surface_yaw)).to_radians();
        surface.get().map(|mut figures| {
            for panel in figures.iter_mut().flat_map(|f| f.panels.iter_mut()) {
                if let Figure::Surface(s) = panel {
                    s.yaw = yaw;
                }
            }
            figures
        })
    });
    let turn = move |ev| {
        if let Ok(degrees) = event_target_value(&ev).parse::<i32>() {
            room.config
                .update(|c| c.surface_yaw = degrees.clamp(-180, 180));
        }
    };
    let spectrum = figures_of::<SpectrumConfig>(room.spectrum, "after the plane: the Hessian…");
    let sharpness = figures_of::<SharpnessConfig>(
        room.sharpness,
        "after the Hessian: gradient descent at each learning rate…",
    );
    let intrinsic =
        figures_of::<IntrinsicConfig>(room.intrinsic, "last: training in random subspaces…");
    let generated = move || !room.uploads.with_untracked(Uploads::complete);
    let page = move || room.config.get_untracked();
    let surface_json = export_of(room.surface, move || generated().then(|| page().surface));
    let spectrum_json = export_of(room.spectrum, move || {
        generated().then(|| page().spectrum())
    });
    let sharpness_json = export_of(room.sharpness, move || Some(page().sharpness));
    let intrinsic_json = export_of(room.intrinsic, move || Some(page().intrinsic));
    let per_layer = move || room.config.with(|c| c.spectrum.per_layer);
    let of_surface = move |f: fn(&SurfaceResult) -> String| {
        move || {
            room.surface
                .with(|r| r.as_ref().filter(|r| r.grid > 0).map(f))
        }
    };
    let of_spectrum = move |f: fn(&SpectrumResult) -> String| {
        move || {
            room.spectrum
                .with(|r| r.as_ref().filter(|r| r.params > 0).map(f))
        }
    };
    view! {
        <section class="room landscape">
            <div class="layout">
                <controls::Controls config=room.config uploads=room.uploads error=room.signals.error/>
                <div class="figures">
                    <Transport room=room/>
                    <Banners notice=room.notice error=room.signals.error/>
                    <h2>{move || heading(room)}</h2>
                    {card("plane", surface, surface_json, explain(text::PLANE, of_surface(text::plane_facts)))}
                    {card("surface", turned, surface_json, view! {
                        {explain(text::SURFACE, || None)}
                        <label class="turn">"Turn: "
                            <input type="range" id="surface-yaw" min="-180" max="180" step="5"
                                prop:value=move || room.config.with(|c| c.surface_yaw).to_string()
                                on:input=turn/>
                        </label>
                    })}
                    {card("slices", surface, surface_json, explain(text::SLICES, of_surface(text::slices_facts)))}
                    <h2>"The Hessian at the same point"</h2>
                    {card("spectrum", spectrum, spectrum_json, explain(text::SPECTRUM, of_spectrum(text::spectrum_facts)))}
                    <Show when=per_layer>
                        {card("layer-spectra", spectrum, spectrum_json, explain(text::LAYERS, of_spectrum(text::layer_facts)))}
                    </Show>
                    <h2>"Sharpness during training: the edge of stability"</h2>
                    {card(
                        "sharpness", sharpness, sharpness_json,
                        explain(text::SHARPNESS, move || room.sharpness.with(|r| r.as_ref().map(text::sharpness_facts))),
                    )}
                    <h2>"Intrinsic dimension"</h2>
                    {card(
                        "intrinsic-dim", intrinsic, intrinsic_json,
                        explain(text::INTRINSIC, move || room.intrinsic.with(|r| r.as_ref().map(text::intrinsic_facts))),
                    )}
                </div>
            </div>
        </section>
    }
}

fn heading(room: Room) -> String {
    room.surface.with(|r| match r {
        Some(r) if !r.trained_here => format!("Your model: {}", r.source),
        _ => "The loss around a trained network".into(),
    })
}

/// The transport bar: where the plane is evaluated.
#[component]
fn Transport(room: Room) -> impl IntoView {
    let compute = expect_context::<Compute>();
    let backend = move || {
        match compute.active() {
            Some(Some(_)) => "plane on WebGPU (f32), the rest on the CPU (wasm, f64)",
            _ => "CPU (wasm), f64",
        }
        .to_string()
    };
    transport(room.signals, backend, ())
}
