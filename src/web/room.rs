//! The shell every room stands on (docs/adding-a-room.md): its config in the URL, sessions that
//! advance in bounded slices between animation frames, the banners, the progress bar, figure
//! cards drawn from an experiment's figures, and controls built from the vocabulary. A room's
//! own file holds only its controls, its texts, its figures and the order its session runs in.

use super::export;
use super::glue;
use crate::core::finite::first_non_finite;
use crate::core::stepper::{Progress, Stepper};
use crate::core::vocabulary::Choice;
use crate::error::{Error, Result};
use crate::experiments::{Experiment, FigureData, permalink, registry};
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Milliseconds of computing per animation frame: the frame's budget is 16 ms, drawing and
/// input take the rest (and a GPU slice waits for its readback without blocking).
pub const SLICE_MS: f64 = 6.0;
/// Publish results at most this often while a session runs.
pub const REDRAW_MS: f64 = 250.0;

/// The config in the URL when room `path` opens (`/width`), checked by `check`, or the defaults
/// with a notice saying why not.
pub fn config_from_url<C: DeserializeOwned + Serialize + Default>(
    path: &str,
    check: impl Fn(&C) -> Result<()>,
) -> (C, Option<String>) {
    let hash = glue::hash();
    let (asked, query) = hash.split_once('?').unwrap_or((hash.as_str(), ""));
    let decoded = if glue::room_path() != path {
        Err(Error::config("room", format!("there is no room '{asked}'")))
    } else if query.is_empty() {
        return (C::default(), None);
    } else {
        permalink::decode::<C>(query).and_then(|c| check(&c).map(|()| c))
    };
    match decoded {
        Ok(config) => (config, None),
        Err(e) => (
            C::default(),
            Some(format!(
                "This link's settings could not be used ({e}); showing the defaults."
            )),
        ),
    }
}

/// Keeps the URL equal to room `path` with `config` (the permalink) as the config changes.
pub fn keep_permalink<C>(path: &'static str, config: RwSignal<C>)
where
    C: Serialize + Default + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Ok(query) = config.with(permalink::encode) {
            glue::set_hash(&format!("{path}?{query}"));
        }
    });
}

/// The room's sessions: starting one supersedes the one before, which stops at its next frame.
#[derive(Clone, Copy)]
pub struct Sessions(StoredValue<u64>);

impl Default for Sessions {
    fn default() -> Self {
        Sessions(StoredValue::new(0))
    }
}

impl Sessions {
    /// A new session, superseding the running one.
    pub fn begin(self) -> Live {
        self.0.update_value(|s| *s += 1);
        Live {
            sessions: self,
            id: self.0.get_value(),
        }
    }
}

/// One session's handle: is it still the room's current one?
#[derive(Clone, Copy)]
pub struct Live {
    sessions: Sessions,
    id: u64,
}

impl Live {
    /// Whether no newer session has started (and the room is still open).
    pub fn is_live(self) -> bool {
        self.sessions.0.try_get_value() == Some(self.id)
    }

    /// Waits for the next animation frame (the page paints and handles input); whether the
    /// session is still live afterwards.
    pub async fn next_frame(self) -> bool {
        glue::next_frame().await;
        self.is_live()
    }
}

/// One frame's compute budget, [`SLICE_MS`] from when it began.
pub struct Slice(f64);

impl Slice {
    /// A budget starting now.
    pub fn begin() -> Self {
        Slice(glue::now())
    }

    /// Whether the budget is spent.
    pub fn spent(&self) -> bool {
        glue::now() - self.0 >= SLICE_MS
    }
}

/// Advances `stepper` until it finishes or `slice` is spent (at least one step).
pub async fn advance<S: Stepper>(stepper: &mut S, slice: &Slice) -> Result<Progress> {
    loop {
        let progress = stepper.step().await?;
        if progress.finished() || slice.spent() {
            return Ok(progress);
        }
    }
}

/// When results were last published.
pub struct Redraw(f64);

impl Redraw {
    /// Published just now.
    pub fn now() -> Self {
        Redraw(glue::now())
    }

    /// Whether [`REDRAW_MS`] have passed since; if so, restarts the clock.
    pub fn due(&mut self) -> bool {
        let due = glue::now() - self.0 > REDRAW_MS;
        if due {
            self.0 = glue::now();
        }
        due
    }
}

/// One experiment of a room's session as the room declares it: how it starts (when its turn
/// comes, so that a later experiment's setup never delays the first figure), and what the
/// page shows of it.
pub struct Part<S: Stepper> {
    start: Option<Box<dyn FnOnce() -> Result<S>>>,
    run: Option<S>,
    progress: Progress,
    /// What is on the page: the `version` last shown (`None`: nothing yet).
    shown: Option<usize>,
    version: fn(&S, Progress) -> usize,
    /// Whether the finished result is on the page (nothing more to check at each frame).
    final_shown: bool,
    show: Box<dyn Fn(&S)>,
    eager: bool,
}

/// Not started: one unit of work to do.
const UNSTARTED: Progress = Progress { done: 0, total: 1 };

impl<S: Stepper + 'static> Part<S> {
    /// The experiment `start` makes, its results shown by `show` each time it moved.
    pub fn new(start: impl FnOnce() -> Result<S> + 'static, show: impl Fn(&S) + 'static) -> Self {
        Part {
            start: Some(Box::new(start)),
            run: None,
            progress: UNSTARTED,
            shown: None,
            version: |_, p| p.done,
            final_shown: false,
            show: Box::new(show),
            eager: false,
        }
    }

    /// The experiment `start` makes, its result shown in `signal`.
    pub fn into(
        start: impl FnOnce() -> Result<S> + 'static,
        signal: RwSignal<Option<S::Output>>,
    ) -> Self
    where
        S::Output: Send + Sync + 'static,
    {
        Self::new(start, move |run| signal.set(Some(run.result())))
    }

    /// Shown whenever `version` changes (a plane whose next finer grid is complete), checked at
    /// every frame rather than every redraw; until it is first shown, the frame computes two
    /// slices (12 of its 16 ms), as nothing but the progress bar needs redrawing.
    pub fn eager(mut self, version: fn(&S, Progress) -> usize) -> Self {
        self.version = version;
        self.eager = true;
        self
    }
}

/// A [`Part`] whatever its experiment: what [`drive`] runs.
pub trait Step {
    /// Its progress (one unit to do before it starts).
    fn progress(&self) -> Progress;
    /// Starts it if need be, then advances it until done or `slice` is spent.
    fn advance<'a>(
        &'a mut self,
        slice: &'a Slice,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + 'a>>;
    /// Whether it has something to show (its version is past 0) that is not on the page yet
    /// (and, `eager_only`, is an eager part).
    fn due(&mut self, eager_only: bool) -> bool;
    /// Shows it on the page.
    fn show(&mut self);
    /// Whether the frame should compute two slices for it.
    fn hurried(&self) -> bool;
}

impl<S: Stepper + 'static> Step for Part<S> {
    fn progress(&self) -> Progress {
        self.progress
    }

    fn advance<'a>(
        &'a mut self,
        slice: &'a Slice,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> {
        Box::pin(async move {
            if let Some(start) = self.start.take() {
                self.run = Some(start()?);
            }
            if let Some(run) = self.run.as_mut() {
                self.progress = advance(run, slice).await?;
            }
            Ok(())
        })
    }

    fn due(&mut self, eager_only: bool) -> bool {
        let Some(run) = &self.run else {
            return false;
        };
        if self.final_shown || (eager_only && !self.eager) {
            return false;
        }
        let version = (self.version)(run, self.progress);
        if self.shown == Some(version) {
            // Finished with its last version on the page: nothing more to check.
            self.final_shown = self.progress.finished();
            return false;
        }
        version > 0
    }

    fn show(&mut self) {
        if let Some(run) = &self.run {
            self.shown = Some((self.version)(run, self.progress));
            self.final_shown = self.progress.finished();
            (self.show)(run);
        }
    }

    fn hurried(&self) -> bool {
        self.eager && self.shown.is_none()
    }
}

/// A room's session: its experiments, run one after another in this order.
pub type Session = Vec<Box<dyn Step>>;

/// Boxes a part for a [`Session`].
pub fn part<S: Stepper + 'static>(part: Part<S>) -> Box<dyn Step> {
    Box::new(part)
}

/// The signals every room's session writes and its transport bar reads.
#[derive(Clone, Copy)]
pub struct SessionSignals {
    /// Whether the session runs (false: stopped, or done).
    pub running: RwSignal<bool>,
    /// Work units done and in total.
    pub progress: RwSignal<(usize, usize)>,
    /// The error banner.
    pub error: RwSignal<Option<String>>,
    /// Run again: the room's effect that starts sessions tracks it, so a new session of the
    /// same config starts even where the room reads its config through a memo (which does
    /// not notify for an unchanged value).
    pub rerun: RwSignal<u64>,
}

impl SessionSignals {
    /// Running, nothing done, no error.
    pub fn new() -> Self {
        SessionSignals {
            running: RwSignal::new(true),
            progress: RwSignal::new((0, 0)),
            error: RwSignal::new(None),
            rerun: RwSignal::new(0),
        }
    }
}

/// Each part's share done, out of 1000 a part (their own units do not compare).
fn totals(session: &Session) -> (usize, usize) {
    let done = session.iter().map(|s| s.progress().thousandths()).sum();
    (done, 1000 * session.len())
}

/// Runs `session` a slice per animation frame until done, stopped or superseded: the first
/// unfinished part computes; the parts that moved are shown, a frame apart, at most every
/// [`REDRAW_MS`] (eager ones at every frame) and once more at the end; "done" only once the
/// final results are on the page. Parts the page asks for later come from `more`, called
/// before every frame. A session that could not be made (a config refused) is reported in the
/// error banner.
pub async fn drive(
    session: Result<Session>,
    signals: SessionSignals,
    live: Live,
    mut more: impl FnMut() -> Option<Result<Session>>,
) {
    let mut session = match session {
        Ok(session) => session,
        Err(e) => {
            signals.error.set(Some(e.to_string()));
            signals.running.set(false);
            return;
        }
    };
    let finished = |s: &Session| s.iter().all(|p| p.progress().finished());
    let mut redraw = Redraw::now();
    while live.next_frame().await {
        match more() {
            Some(Ok(parts)) => {
                session.extend(parts);
                signals.running.set(true);
            }
            Some(Err(e)) => signals.error.set(Some(e.to_string())),
            None => {}
        }
        if !show(&mut session, true, live).await {
            return;
        }
        if !signals.running.get_untracked() || finished(&session) {
            continue;
        }
        let outcome = slice(&mut session).await;
        if !live.is_live() {
            return;
        }
        match outcome {
            Err(Error::Gpu(why)) => {
                super::gpu_lost(&why);
                signals.error.set(Some(format!(
                    "The WebGPU device was lost ({why}). The results so far stay; Run again continues on the CPU backend."
                )));
                signals.running.set(false);
            }
            Err(e) => {
                signals.error.set(Some(e.to_string()));
                signals.running.set(false);
            }
            Ok(()) => {}
        }
        let done = finished(&session);
        if !done {
            signals.progress.set(totals(&session));
        }
        if (done || redraw.due()) && !show(&mut session, false, live).await {
            return;
        }
        if done {
            signals.progress.set(totals(&session));
            signals.running.set(false);
        }
    }
}

/// One frame's compute: the first unfinished parts, in order, until the slice is spent (two
/// slices while an eager part waits to be first shown).
async fn slice(session: &mut Session) -> Result<()> {
    let slices = if session.iter().any(|p| p.hurried()) {
        2
    } else {
        1
    };
    for _ in 0..slices {
        let slice = Slice::begin();
        while !slice.spent() {
            let Some(next) = session.iter_mut().find(|p| !p.progress().finished()) else {
                return Ok(());
            };
            next.advance(&slice).await?;
        }
    }
    Ok(())
}

/// Shows the parts that moved (only the eager ones when `eager_only`), a frame apart; false if
/// superseded meanwhile.
async fn show(session: &mut Session, eager_only: bool, live: Live) -> bool {
    let mut first = true;
    for part in session.iter_mut() {
        if !part.due(eager_only) {
            continue;
        }
        if !first && !live.next_frame().await {
            return false;
        }
        part.show();
        first = false;
    }
    true
}

/// Steppers run one after another as one: the sweeps of a figure that shows them together.
pub struct Sequence<S> {
    runs: Vec<S>,
    /// The run going now.
    at: usize,
}

impl<S: Stepper> Sequence<S> {
    /// `runs`, in order.
    pub fn new(runs: Vec<S>) -> Self {
        Sequence { runs, at: 0 }
    }
}

impl<S: Stepper> Stepper for Sequence<S> {
    type Output = Vec<S::Output>;

    async fn step(&mut self) -> Result<Progress> {
        let mut share = 0;
        if let Some(run) = self.runs.get_mut(self.at) {
            let p = run.step().await?;
            if p.finished() {
                self.at += 1;
            } else {
                share = p.thousandths();
            }
        }
        Ok(Progress {
            done: 1000 * self.at + share,
            total: 1000 * self.runs.len(),
        })
    }

    fn result(&self) -> Vec<S::Output> {
        self.runs.iter().map(Stepper::result).collect()
    }
}

/// The notice (dismissable) and error banners.
#[component]
pub fn Banners(notice: RwSignal<Option<String>>, error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || notice.get().is_some()>
            <p class="notice" role="status">
                {move || notice.get().unwrap_or_default()}
                <button on:click=move |_| notice.set(None)>"×"</button>
            </p>
        </Show>
        <Show when=move || error.get().is_some()>
            <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
        </Show>
    }
}

/// The transport bar every room shares: Run again (a new session of the same config, through
/// `signals.rerun`), Stop / Resume (disabled once done or failed), the progress bar, and the status line:
/// work done, the state ("done" only once the final results are on the page, as [`drive`]
/// clears `running` after showing them) and `backend` (which backend runs what); `extra` after
/// it (a download).
pub fn transport(
    signals: SessionSignals,
    backend: impl Fn() -> String + Send + Sync + 'static,
    extra: impl IntoView + 'static,
) -> impl IntoView {
    let SessionSignals {
        running,
        progress,
        error,
        rerun,
    } = signals;
    let done = move || {
        let (done, total) = progress.get();
        total > 0 && done >= total
    };
    let status = move || {
        let state = if running.get() {
            "running"
        } else if done() {
            "done"
        } else {
            "stopped"
        };
        let (units, total) = progress.get();
        format!("{units} / {total} work units · {state} · {}", backend())
    };
    view! {
        <div class="transport">
            <button id="rerun" on:click=move |_| rerun.update(|n| *n += 1)>"Run again"</button>
            <button
                id="stop"
                prop:disabled=move || done() || error.with(Option::is_some)
                on:click=move |_| running.update(|r| *r = !*r)
            >
                {move || if running.get() { "Stop" } else { "Resume" }}
            </button>
            {progress_bar(move || progress.get())}
            <span id="sweep-status">{status}</span>
            {extra}
        </div>
    }
}

/// The transport bar's progress: `(done, total)` units of work.
pub fn progress_bar(
    progress: impl Fn() -> (usize, usize) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <progress id="progress" max=move || progress().1.max(1) value=move || progress().0></progress>
    }
}

/// A room's figures as drawn from the latest result, or the message to show instead.
pub type Figures = Memo<std::result::Result<Vec<FigureData>, String>>;

/// The figures of experiment `E` from `result` (`waiting` while there is none yet).
pub fn figures_of<E>(result: RwSignal<Option<E::Result>>, waiting: &'static str) -> Figures
where
    E: Experiment,
    E::Result: Send + Sync + 'static,
{
    Memo::new(move |_| {
        result.with(|r| match r {
            // A number that is not finite is an error, not a gap in a figure.
            Some(r) => match first_non_finite(r) {
                Some((path, value)) => Err(Error::NonFinite { path, value }.to_string()),
                None => E::figures(r).map_err(|e| e.to_string()),
            },
            None => Err(waiting.to_string()),
        })
    })
}

/// The result as the JSON export writes it: with the run that made it under `"run"` (its
/// experiment and `config`), which `theorylab run NAME --config export.json` replays natively;
/// without it where `config` gives none (a run on the user's uploaded files).
pub fn export_of<E>(
    result: RwSignal<Option<E::Result>>,
    config: impl Fn() -> Option<E> + Copy + Send + Sync + 'static,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static
where
    E: Experiment,
    E::Result: Send + Sync + 'static,
{
    move || {
        result.with_untracked(|r| match config() {
            Some(config) => registry::export_json(&config, r.as_ref()?).ok(),
            None => serde_json::to_string_pretty(r.as_ref()?).ok(),
        })
    }
}

/// The figure `stem` of `figures` (with its SVG / PNG / CSV / JSON buttons), its explanation
/// beside it; `json` gives the JSON export.
pub fn card(
    stem: &'static str,
    figures: Figures,
    json: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
    explain: impl IntoView + 'static,
) -> impl IntoView {
    let svg = Memo::new(move |_| {
        figures.with(|f| {
            let figure = f.as_ref()?.iter().find(|d| d.stem == stem);
            figure
                .ok_or_else(|| "computing…".to_string())?
                .svg()
                .map_err(|e| e.to_string())
        })
    });
    let csv = move || {
        figures.with_untracked(|f| {
            let figure = f.as_ref().ok()?.iter().find(|d| d.stem == stem)?;
            Some(figure.csv.clone())
        })
    };
    view! {
        <div class="row">
            {export::figure(stem, svg, csv, json)}
            <div class="explain">{explain}</div>
        </div>
    }
}

/// A labelled `<select>` of every entry of `T`'s vocabulary table (or of `only`, when given).
pub fn choice<T: Choice + Send + Sync>(
    id: &'static str,
    label: &'static str,
    only: Option<&'static [T]>,
    get: impl Fn() -> T + Copy + Send + Sync + 'static,
    set: impl Fn(T) + Copy + 'static,
) -> impl IntoView {
    choice_or(id, label, only, get, set, None, || {})
}

/// [`choice`] with one more option after the table's, named "custom" (a value with fields,
/// such as free exponents), labelled `custom` and chosen by calling `on_custom`.
pub fn choice_or<T: Choice + Send + Sync>(
    id: &'static str,
    label: &'static str,
    only: Option<&'static [T]>,
    get: impl Fn() -> T + Copy + Send + Sync + 'static,
    set: impl Fn(T) + Copy + 'static,
    custom: Option<&'static str>,
    on_custom: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let entries = T::TABLE
        .iter()
        .filter(move |e| only.is_none_or(|only| only.contains(&e.value)));
    view! {
        <div class="control">
            <label for=id>{label}</label>
            <select
                id=id
                prop:value=move || get().name()
                on:change=move |ev| {
                    let name = event_target_value(&ev);
                    if custom.is_some() && name == "custom" {
                        on_custom()
                    } else if let Ok(value) = T::parse_name(&name) {
                        set(value)
                    }
                }
            >
                {entries
                    .map(|e| {
                        let value = e.value;
                        view! { <option value=e.name selected=move || get() == value>{e.label}</option> }
                    })
                    .collect_view()}
                {custom.map(|text| {
                    view! {
                        <option value="custom" selected=move || get().entry().is_none()>{text}</option>
                    }
                })}
            </select>
        </div>
    }
}

/// A labelled slider over powers of two, 2^min..2^max, set and read as the exponent.
pub fn log2_slider(
    id: &'static str,
    label: &'static str,
    min: u32,
    max: impl Fn() -> u32 + Copy + Send + Sync + 'static,
    get: impl Fn() -> u32 + Copy + Send + Sync + 'static,
    set: impl Fn(u32) + Copy + 'static,
) -> impl IntoView {
    view! {
        <div class="control">
            <label for=id>{label} " " <output>{move || 1usize << get()}</output></label>
            <input
                type="range"
                id=id
                min=min
                max=max
                step="1"
                prop:value=get
                on:change=move |ev| {
                    if let Ok(k) = event_target_value(&ev).parse::<u32>() {
                        set(k.clamp(min, max()))
                    }
                }
            />
        </div>
    }
}

/// A labelled slider over whole numbers `min..=max` (depth, seeds, steps).
pub fn count_slider(
    id: &'static str,
    label: &'static str,
    min: usize,
    max: usize,
    get: impl Fn() -> usize + Copy + Send + Sync + 'static,
    set: impl Fn(usize) + Copy + 'static,
) -> impl IntoView {
    super::controls::range(
        id,
        label,
        min as f64,
        max as f64,
        1.0,
        move || get() as f64,
        move |v| set((v as usize).clamp(min, max)),
        |v| format!("{v}"),
    )
}

/// A labelled learning-rate slider on a log10 scale, the rate rounded to 3 digits.
pub fn lr_slider(
    min_log10: f64,
    max_log10: f64,
    get: impl Fn() -> f64 + Copy + Send + Sync + 'static,
    set: impl Fn(f64) + Copy + 'static,
) -> impl IntoView {
    super::controls::range(
        "lr",
        "Learning rate (log10)",
        min_log10,
        max_log10,
        0.25,
        move || get().log10(),
        move |v| set(super::controls::round_sig(10f64.powf(v))),
        |v| format!("{:.3e}", 10f64.powf(v)),
    )
}
