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

use crate::experiments::{ROOMS, papers};
use crate::gpu::GpuContext;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Starts the app when the wasm module loads, once the digits data set beside it has arrived
/// (a few milliseconds from the page's own server; a room that needs it says so if it failed).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    // wasm-bindgen's executor: leptos's own starts with the mount.
    wasm_bindgen_futures::spawn_local(async {
        crate::core::data::provide_digits(glue::fetch_bytes("data/optdigits.csv.gz").await);
        leptos::mount::mount_to_body(App);
    });
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
            {move || view! { <RoomPapers path=room_path.get()/> }}
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

/// The papers behind each room, from the one table of papers.
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
            {ROOMS
                .iter()
                .map(|room| {
                    view! {
                        <h3>{room.title}</h3>
                        <Papers keys=room.papers/>
                    }
                })
                .collect_view()}
        </section>
    }
}

/// A list of papers by key: authors, linked title, venue and year, what the lab takes from it.
#[component]
fn Papers(keys: &'static [&'static str]) -> impl IntoView {
    let items = keys.iter().filter_map(|key| papers::paper(key)).map(|p| {
        view! {
            <li>
                {format!("{}, ", p.authors)}
                <a href=p.link>{p.title}</a>
                {format!(" ({}): {}.", p.venue, p.takes)}
            </li>
        }
    });
    view! { <ul class="papers">{items.collect_view()}</ul> }
}

/// The reading list under the figures of the room at `path` (the Playground's where no room
/// has that path, as the route shows the Playground there).
#[component]
fn RoomPapers(path: String) -> impl IntoView {
    let room = ROOMS
        .iter()
        .find(|r| path.strip_prefix('/') == Some(r.path));
    let papers = room.or(ROOMS.first()).map_or(&[][..], |r| r.papers);
    view! {
        <section class="room-papers">
            <h3>"Papers behind this room"</h3>
            <Papers keys=papers/>
        </section>
    }
}
