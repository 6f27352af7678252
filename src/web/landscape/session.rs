//! The Landscape room's session: the plane first (its coarse grid on the page as soon as it
//! exists), then the Hessian of the network the plane trained (no second training), then the
//! sharpness runs and the subspace sweep; or the plane and the Hessian of an uploaded model,
//! priced before they run.

use super::{Room, Uploads};
use crate::core::data::{TargetColumns, parse_csv};
use crate::core::loss::Loss;
use crate::core::model_file::from_safetensors;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::landscape::intrinsic::{IntrinsicConfig, IntrinsicRun};
use crate::experiments::landscape::sharpness::{SharpnessConfig, SharpnessRun};
use crate::experiments::landscape::spectrum::{SpectrumConfig, SpectrumRun};
use crate::experiments::landscape::surface::{DirectionKind, SurfaceConfig, SurfaceRun};
use crate::experiments::landscape::{LandscapePage, PAGE_MAX_WORK, Subject};
use crate::gpu::{AnyEnsemble64, GpuContext};
use crate::web::room::{self, Live, SessionSignals, Slice, advance, drive};
use leptos::prelude::*;
use std::cell::Cell;
use std::sync::Arc;

/// The user's model on their data, read with the page's activation and loss (the CSV with one
/// class column for cross-entropy, or as many target columns as the model has outputs for
/// MSE), and priced with the rest of the page before anything runs; each error names its file.
fn uploaded(page: &LandscapePage, files: &Uploads) -> Result<Subject> {
    let (Some(model), Some(data)) = (&files.model, &files.data) else {
        return Err(Error::Data("give a model and a data file".into()));
    };
    fn named(name: &str) -> impl Fn(Error) -> Error + '_ {
        move |e| Error::Data(format!("{name}: {e}"))
    }
    let problem = &page.surface.problem;
    let mlp = from_safetensors(&model.contents, problem.activation).map_err(named(&model.name))?;
    let columns = match problem.loss {
        Loss::CrossEntropy => TargetColumns::Class,
        Loss::Mse => TargetColumns::Values(mlp.output_dim()),
    };
    let dataset = parse_csv(&data.contents, columns).map_err(named(&data.name))?;
    let source = format!("{} on {}", model.name, data.name);
    let subject =
        Subject::from_model(mlp, &dataset, problem.loss, &source).map_err(named(&data.name))?;
    let (rows, params) = (subject.train.features.ncols(), subject.mlp.num_params());
    let products = page.spectrum().products(subject.mlp.layers.len()) as f64;
    let work = page.surface.grid_work(params as f64, rows as f64)
        + 4.0 * subject.forward_work() * products
        + page.sharpness.work()
        + page.intrinsic.work();
    if work > PAGE_MAX_WORK {
        return Err(Error::config(
            "data",
            format!(
                "{}: {rows} rows through a model of {params} parameters cost about {work:.1e} multiply-adds with these settings, more than the {PAGE_MAX_WORK:.0e} (about 40 s) the page runs; the command line runs it (theorylab landscape and theorylab hessian with --model and --data)",
                data.name
            ),
        ));
    }
    Ok(subject)
}

/// The session's experiments, in this order: the plane, the Hessian, sharpness, subspaces.
struct Parts {
    spectrum_config: SpectrumConfig,
    surface: (Plane, Progress),
    /// Made from the plane's network once it is trained (at once for an uploaded model); its
    /// progress counts its own work only.
    spectrum: (Option<SpectrumRun>, Progress),
    /// Made when their turn comes (their data would only delay the first plane).
    sharpness: (Option<SharpnessRun>, Progress),
    sharpness_config: SharpnessConfig,
    intrinsic: (Option<IntrinsicRun>, Progress),
    intrinsic_config: IntrinsicConfig,
    /// Points per axis of the plane on the page, and of the finished plane.
    shown_grid: Cell<usize>,
    final_grid: usize,
    /// Work done by the spectrum, sharpness and subspaces when last published.
    shown: Cell<[usize; 3]>,
}

const fn todo(total: usize) -> Progress {
    Progress { done: 0, total }
}

impl Parts {
    fn new(
        page: &LandscapePage,
        own: Option<&Uploads>,
        gpu: Option<Arc<GpuContext>>,
    ) -> Result<Self> {
        page.validate_page()?;
        let spectrum_config = page.spectrum();
        let problem = &page.surface.problem;
        let n = page.surface.grid;
        let (surface, spectrum, training_steps, layers) = match own {
            Some(files) => {
                let subject = uploaded(page, files)?;
                let layers = subject.mlp.layers.len();
                let plane = SurfaceConfig {
                    directions: DirectionKind::Filter,
                    ..page.surface.clone()
                };
                let surface = Plane::from_subject_on(gpu, &plane, subject.clone())?;
                let spectrum = SpectrumRun::from_subject(&spectrum_config, subject)?;
                (surface, Some(spectrum), 0, layers)
            }
            None => {
                let steps = problem.epochs * problem.steps_per_epoch();
                let surface = Plane::on(gpu, &page.surface)?;
                (surface, None, steps, problem.depth + 1)
            }
        };
        let (sharp, sub) = (&page.sharpness, &page.intrinsic);
        let sub_steps = sub.problem.epochs * sub.problem.steps_per_epoch();
        Ok(Parts {
            surface: (surface, todo(training_steps + n * n)),
            spectrum: (spectrum, todo(spectrum_config.products(layers))),
            spectrum_config,
            sharpness: (None, todo(sharp.lrs.len() * sharp.steps)),
            sharpness_config: sharp.clone(),
            intrinsic: (None, todo(sub_steps * (sub.dims.len() + 1))),
            intrinsic_config: sub.clone(),
            shown_grid: Cell::new(0),
            final_grid: n,
            shown: Cell::new([0; 3]),
        })
    }

    /// Steps the plane within `slice`, taking its network for the Hessian as soon as it is
    /// trained (the plane keeps it only until it finishes).
    async fn surface_slice(&mut self, slice: &Slice) -> Result<()> {
        loop {
            self.surface.1 = self.surface.0.step().await?;
            if self.spectrum.0.is_none()
                && let Some(subject) = self.surface.0.subject().cloned()
            {
                self.spectrum.0 = Some(SpectrumRun::from_subject(&self.spectrum_config, subject)?);
            }
            if self.surface.1.finished() || slice.spent() {
                return Ok(());
            }
        }
    }

    /// The four experiments' progress.
    fn all(&self) -> [Progress; 4] {
        [
            self.surface.1,
            self.spectrum.1,
            self.sharpness.1,
            self.intrinsic.1,
        ]
    }

    /// The plane on the page whenever a finer grid is complete (the coarse one at once).
    fn show_surface(&self, room: Room) {
        if self.shown_grid.get() == self.final_grid {
            return;
        }
        let result = self.surface.0.result();
        if result.grid > 0 && result.grid != self.shown_grid.get() {
            self.shown_grid.set(result.grid);
            room.surface.set(Some(result));
        }
    }
}

/// The run in `slot`, made by `make` the first time.
fn started<R>(slot: &mut Option<R>, make: impl FnOnce() -> Result<R>) -> Result<&mut R> {
    Ok(match slot {
        Some(run) => run,
        None => slot.insert(make()?),
    })
}

impl Parts {
    /// Advances the first unfinished experiment within `slice`; false when all are done.
    async fn work(&mut self, slice: &Slice) -> Result<bool> {
        if !self.surface.1.finished() {
            self.surface_slice(slice).await?;
        } else if !self.spectrum.1.finished() {
            let Some(run) = self.spectrum.0.as_mut() else {
                return Err(Error::Data(
                    "the plane finished without handing over its network".into(),
                ));
            };
            // A run on a network handed over counts only its own products.
            self.spectrum.1 = advance(run, slice).await?;
        } else if !self.sharpness.1.finished() {
            let config = &self.sharpness_config;
            let run = started(&mut self.sharpness.0, || SharpnessRun::new(config))?;
            self.sharpness.1 = advance(run, slice).await?;
        } else if !self.intrinsic.1.finished() {
            let config = &self.intrinsic_config;
            let run = started(&mut self.intrinsic.0, || IntrinsicRun::new(config))?;
            self.intrinsic.1 = advance(run, slice).await?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

impl room::Parts for Parts {
    type Room = Room;

    fn finished(&self) -> bool {
        self.all().into_iter().all(Progress::finished)
    }

    /// Work units of the four experiments together.
    fn totals(&self) -> (usize, usize) {
        self.all()
            .iter()
            .fold((0, 0), |(d, t), p| (d + p.done.min(p.total), t + p.total))
    }

    /// Until the first plane is on the page there is nothing to redraw but the progress bar, so
    /// the frame takes two slices (12 of its 16 ms, no task near 50 ms); one afterwards.
    async fn slice(&mut self) -> Result<()> {
        let slices = if self.shown_grid.get() == 0 { 2 } else { 1 };
        for _ in 0..slices {
            let slice = Slice::begin();
            while !slice.spent() {
                if !self.work(&slice).await? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The plane, then each later experiment that moved since, a frame apart.
    async fn publish(&self, room: Room, live: Live) -> bool {
        self.show_surface(room);
        let mut shown = self.shown.get();
        let done = [self.spectrum.1, self.sharpness.1, self.intrinsic.1].map(|p| p.done);
        for (k, &now) in done.iter().enumerate() {
            if now == 0 || now == shown[k] {
                continue;
            }
            if !live.next_frame().await {
                return false;
            }
            match k {
                0 => room
                    .spectrum
                    .set(self.spectrum.0.as_ref().map(Stepper::result)),
                1 => room
                    .sharpness
                    .set(self.sharpness.0.as_ref().map(Stepper::result)),
                _ => room
                    .intrinsic
                    .set(self.intrinsic.0.as_ref().map(Stepper::result)),
            }
            shown[k] = now;
            self.shown.set(shown);
        }
        true
    }

    /// The coarse plane as soon as it exists, not at the next redraw.
    fn before_frame(&mut self, room: Room) {
        self.show_surface(room);
    }
}

/// The plane on the page's backend: the f64 CPU reference, or the GPU in f32 (training, the
/// directions and the Hessian stay on the CPU in f64).
type Plane = SurfaceRun<AnyEnsemble64>;

/// One session, in slices per frame, until stopped or superseded.
pub async fn session(
    live: Live,
    config: LandscapePage,
    own: Option<Uploads>,
    gpu: Option<Arc<GpuContext>>,
    room: Room,
) {
    room.surface.set(None);
    room.spectrum.set(None);
    room.sharpness.set(None);
    room.intrinsic.set(None);
    room.progress.set((0, 0));
    let signals = SessionSignals {
        running: room.running,
        progress: room.progress,
        error: room.error,
    };
    drive(Parts::new(&config, own.as_ref(), gpu), room, signals, live).await
}
