//! The Playground's session: the data and the run on the chosen backend, trained in slices
//! between animation frames while playing, drawn as it goes.

use super::{Decision, Room, UNITS_EVERY, check};
use crate::core::data::{Dataset, DatasetName};
use crate::core::stepper::Stepper;
use crate::core::train::TrainConfig;
use crate::error::{Error, Result};
use crate::experiments::playground::training::Training;
use crate::experiments::playground::{GRID, Plane, decision_figure, decision_map, unit_figure};
use crate::experiments::sweep::page_max_width_log2;
use crate::gpu::GpuContext;
use crate::web::glue;
use crate::web::room::{Live, Redraw, Slice, advance};
use leptos::prelude::*;
use std::sync::Arc;

/// The run of one session with what it draws on.
struct Run {
    training: Training,
    train: Dataset,
    test: Option<Dataset>,
    plane: Plane,
    draws: usize,
}

impl Run {
    /// The data, the plane, and the run on the chosen backend (the CPU if the GPU refuses,
    /// with a notice saying why).
    /// After the GPU device is lost mid-run: the run continues on the CPU from its last
    /// recorded step, a notice says so, and later sessions use the CPU. False when the run was
    /// not on the GPU or cannot resume.
    fn resume_on_cpu(&mut self, why: &str, room: Room) -> bool {
        let Ok(Some(training)) = self.training.resume_on_cpu(&self.train, self.test.as_ref())
        else {
            return false;
        };
        let step = training.result().steps_done;
        self.training = training;
        crate::web::gpu_lost(why);
        room.notice.set(Some(format!(
            "The WebGPU device was lost ({why}). The run continues on the CPU from step {step}, its last recorded point; the optimizer's state restarts there."
        )));
        true
    }

    async fn new(
        config: &TrainConfig,
        upload: Option<Arc<Dataset>>,
        gpu: Option<Arc<GpuContext>>,
        room: Room,
    ) -> Result<Self> {
        check(config)?;
        let (train, test) = match (config.data.dataset, upload) {
            (DatasetName::Csv, Some(data)) => config.split(&data)?,
            (DatasetName::Csv, None) => {
                return Err(Error::Data(
                    "choose a CSV file of points (x1, x2, class) to train on".into(),
                ));
            }
            _ => config.make_data()?,
        };
        let plane = Plane::around(&[&train], GRID)?;
        let training = match gpu {
            Some(ctx) => match Training::gpu(ctx, config, &train, test.as_ref()).await {
                Ok(t) => t,
                Err(Error::Gpu(why)) => {
                    room.notice.set(Some(format!(
                        "WebGPU refused this run ({why}); it runs on the CPU."
                    )));
                    cpu_training(config, &train, test.as_ref())?
                }
                Err(e) => return Err(e),
            },
            None => cpu_training(config, &train, test.as_ref())?,
        };
        Ok(Run {
            training,
            train,
            test,
            plane,
            draws: 0,
        })
    }

    /// Draws the run as it is now: the curves, the decision map, then (if `units`, or every
    /// [`UNITS_EVERY`] draws) the hidden units' maps, each computed in a frame and shown in the
    /// next, so that no single task does much; false if the session was superseded meanwhile.
    async fn draw(&mut self, units: bool, room: Room, live: Live) -> Result<bool> {
        self.draws += 1;
        let network = self.training.network().await?;
        if !live.next_frame().await {
            return Ok(false);
        }
        room.result.set(Some(self.training.result()));
        if !live.next_frame().await {
            return Ok(false);
        }
        let loss = room.config.with_untracked(|c| c.loss);
        let map = decision_map(&network, &self.plane, loss)?;
        if !live.next_frame().await {
            return Ok(false);
        }
        let figure = decision_figure(&self.plane, &map, &self.train, self.test.as_ref());
        if !live.next_frame().await {
            return Ok(false);
        }
        room.decision.set(Some(Decision {
            plane: self.plane,
            map,
            figure,
        }));
        if units || self.draws.is_multiple_of(UNITS_EVERY) {
            // Each layer's maps are computed in one frame and drawn in the next.
            for (layer, signal) in room.units.iter().enumerate() {
                if !live.next_frame().await {
                    return Ok(false);
                }
                let figure = unit_figure(&network, &self.plane, layer)?;
                if !live.next_frame().await {
                    return Ok(false);
                }
                signal.set(figure);
            }
        }
        Ok(true)
    }
}

fn cpu_training(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<Training> {
    let max = 1 << page_max_width_log2(false);
    if config.width > max {
        return Err(Error::config(
            "width",
            format!(
                "{} is above the {max} the CPU backend trains at a usable speed here; \
                 narrow the network or use WebGPU",
                config.width
            ),
        ));
    }
    Training::new(config, train, test)
}

/// One run: draws the data and the network, then trains in slices while `playing` (or for
/// requested single steps) until the session is superseded.
pub async fn session(
    live: Live,
    config: TrainConfig,
    upload: Option<Arc<Dataset>>,
    gpu: Option<Arc<GpuContext>>,
    room: Room,
) {
    let fail = |e: Error| {
        if live.is_live() {
            room.error.set(Some(e.to_string()));
        }
    };
    let mut run = match Run::new(&config, upload, gpu, room).await {
        Ok(run) => run,
        Err(e) => {
            fail(e);
            room.result.set(None);
            room.decision.set(None);
            for layer in room.units {
                layer.set(None);
            }
            return;
        }
    };
    match run.draw(true, room, live).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(Error::Gpu(why)) if run.resume_on_cpu(&why, room) => {}
        Err(e) => fail(e),
    }
    let mut redraw = Redraw::now();
    while live.next_frame().await {
        let requested = room.step_requests.get_untracked();
        if room.playing.get_untracked() || requested > 0 {
            let slice = Slice::begin();
            // A single step is one step; playing fills the frame's budget.
            let outcome = if room.playing.get_untracked() {
                advance(&mut run.training, &slice).await
            } else {
                room.step_requests.update(|n| *n = n.saturating_sub(1));
                run.training.advance().await
            };
            if !live.is_live() {
                return;
            }
            match outcome {
                Ok(progress) if !progress.finished() => {}
                Ok(_) => {
                    room.playing.set(false);
                    room.step_requests.set(0);
                }
                Err(Error::Gpu(why)) if run.resume_on_cpu(&why, room) => {}
                Err(e) => {
                    fail(e);
                    room.playing.set(false);
                    room.step_requests.set(0);
                }
            }
            let idle = !room.playing.get_untracked() && room.step_requests.get_untracked() == 0;
            if idle || redraw.due() {
                match run.draw(idle, room, live).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(Error::Gpu(why)) if run.resume_on_cpu(&why, room) => {}
                    Err(e) => fail(e),
                }
            }
        }
        if room.model_request.get_untracked() {
            room.model_request.set(false);
            match run.training.model_file().await {
                Ok(bytes) => {
                    glue::download_bytes("model.safetensors", "application/octet-stream", &bytes)
                }
                Err(e) => fail(e),
            }
        }
    }
}
