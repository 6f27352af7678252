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
use crate::experiments::landscape::intrinsic::IntrinsicRun;
use crate::experiments::landscape::sharpness::SharpnessRun;
use crate::experiments::landscape::spectrum::SpectrumRun;
use crate::experiments::landscape::surface::{
    DirectionKind, SurfaceConfig, SurfaceResult, SurfaceRun,
};
use crate::experiments::landscape::{LandscapePage, PAGE_MAX_WORK, Subject};
use crate::gpu::{AnyEnsemble64, GpuContext};
use crate::web::room::{Live, Part, Session, drive, part};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
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

/// The plane on the page's backend: the f64 CPU reference, or the GPU in f32 (training, the
/// directions and the Hessian stay on the CPU in f64).
type Plane = SurfaceRun<AnyEnsemble64>;

/// The plane, handing the network it trained to the Hessian's run as soon as it has one (the
/// plane keeps it only until it finishes).
struct Handing {
    plane: Plane,
    subject: Rc<RefCell<Option<Subject>>>,
}

impl Stepper for Handing {
    type Output = SurfaceResult;

    async fn step(&mut self) -> Result<Progress> {
        let progress = self.plane.step().await?;
        if self.subject.borrow().is_none()
            && let Some(subject) = self.plane.subject()
        {
            *self.subject.borrow_mut() = Some(subject.clone());
        }
        Ok(progress)
    }

    fn result(&self) -> SurfaceResult {
        self.plane.result()
    }
}

/// The session's experiments, in this order: the plane (shown whenever a finer grid is
/// complete, the coarse one at once), the Hessian of its network (no second training), the
/// sharpness runs and the subspace sweep; or the plane and the Hessian of an uploaded model.
fn parts(
    page: &LandscapePage,
    own: Option<&Uploads>,
    gpu: Option<Arc<GpuContext>>,
    room: Room,
) -> Result<Session> {
    page.validate_page()?;
    let spectrum_config = page.spectrum();
    let subject = Rc::new(RefCell::new(None));
    let plane = match own {
        Some(files) => {
            let uploaded = uploaded(page, files)?;
            *subject.borrow_mut() = Some(uploaded.clone());
            let plane = SurfaceConfig {
                directions: DirectionKind::Filter,
                ..page.surface.clone()
            };
            Plane::from_subject_on(gpu, &plane, uploaded)?
        }
        None => Plane::on(gpu, &page.surface)?,
    };
    let handing = Handing {
        plane,
        subject: subject.clone(),
    };
    let spectrum = move || match subject.borrow_mut().take() {
        Some(subject) => SpectrumRun::from_subject(&spectrum_config, subject),
        None => Err(Error::Data(
            "the plane finished without handing over its network".into(),
        )),
    };
    let (sharpness, intrinsic) = (page.sharpness.clone(), page.intrinsic.clone());
    Ok(vec![
        part(Part::into(move || Ok(handing), room.surface).eager(|run, _| run.result().grid)),
        part(Part::into(spectrum, room.spectrum)),
        part(Part::into(
            move || SharpnessRun::new(&sharpness),
            room.sharpness,
        )),
        part(Part::into(
            move || IntrinsicRun::new(&intrinsic),
            room.intrinsic,
        )),
    ])
}

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
    room.signals.progress.set((0, 0));
    let signals = room.signals;
    drive(
        parts(&config, own.as_ref(), gpu, room),
        signals,
        live,
        || None,
    )
    .await
}
