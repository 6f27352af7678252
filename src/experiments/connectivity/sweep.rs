//! The barrier against width or against spawn step, naive beside weight-matched, over several
//! pairs of seeds: Git Re-Basin's figure 5 (matched barriers fall with width) and Frankle et
//! al.'s instability analysis (spawned copies become linearly connected after k steps).

use super::lmc::{LmcResult, LmcRun};
use super::{LmcConfig, Matching};
use crate::core::ensemble::{CpuEnsemble, Ensemble};
use crate::core::stepper::{Progress, Stepper};
use crate::core::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// What the sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SweepAxis {
    /// Hidden width n of both networks (independent trainings).
    #[default]
    Width,
    /// The step k after which B is spawned from A.
    Spawn,
}

impl Choice for SweepAxis {
    const WHAT: &'static str = "sweep axis";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(SweepAxis::Width, "width", "Width"),
        Entry::new(SweepAxis::Spawn, "spawn", "Spawn step"),
    ];
}
crate::choice_by_name!(SweepAxis);

/// Most pairs of seeds per value.
pub const MAX_PAIRS: usize = 32;

/// A sweep of pairs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LmcSweepConfig {
    /// Every pair's config; the swept field and the seeds are overwritten per run.
    pub base: LmcConfig,
    /// What is varied.
    pub axis: SweepAxis,
    /// Its values (widths, or spawn steps).
    pub values: Vec<usize>,
    /// Pairs of seeds per value: pair p trains seeds (s + 2p, s + 2p + 1), s = base.seeds[0].
    pub pairs: usize,
}

impl Default for LmcSweepConfig {
    fn default() -> Self {
        LmcSweepConfig {
            base: LmcConfig {
                epochs: 10,
                alphas: 25,
                ..LmcConfig::default()
            },
            axis: SweepAxis::Width,
            values: vec![16, 32, 64, 128, 256],
            pairs: 3,
        }
    }
}

/// Spawn steps worth sweeping for a run of `steps` SGD steps: 0 (shared initialization only)
/// and 1/32, 1/16, 1/8, 1/4, 1/2 of training.
pub fn spawn_steps(steps: usize) -> Vec<usize> {
    let mut k: Vec<usize> = [0, 1, 2, 4, 8, 16].iter().map(|f| f * steps / 32).collect();
    k.dedup();
    k
}

impl LmcSweepConfig {
    /// The config of pair `p` at value `v`.
    pub fn run_config(&self, v: usize, p: usize) -> LmcConfig {
        let mut c = self.base.clone();
        let s = self.base.seeds[0];
        c.seeds = [s + 2 * p as u64, s + 2 * p as u64 + 1];
        match self.axis {
            SweepAxis::Width => c.width = v,
            SweepAxis::Spawn => c.spawn = Some(v),
        }
        if c.matching == Matching::None {
            c.matching = Matching::Weight;
        }
        c
    }

    /// Every run's config, value-major.
    pub(super) fn runs(&self) -> Vec<LmcConfig> {
        self.values
            .iter()
            .flat_map(|&v| (0..self.pairs).map(move |p| (v, p)))
            .map(|(v, p)| self.run_config(v, p))
            .collect()
    }

    /// Multiply-adds of every run.
    pub fn work(&self) -> f64 {
        self.runs().iter().map(LmcConfig::work).sum()
    }

    /// Checks every field and every run's config, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        if self.values.is_empty() || self.values.len() > 32 {
            return Err(Error::config(
                "values",
                format!("{} values: give 1 to 32", self.values.len()),
            ));
        }
        if !(1..=MAX_PAIRS).contains(&self.pairs) {
            return Err(Error::config(
                "pairs",
                format!("{} is not in 1..={MAX_PAIRS}", self.pairs),
            ));
        }
        for run in self.runs() {
            run.validate()?;
        }
        let work = self.work();
        if work > super::CLI_MAX_WORK {
            return Err(Error::config(
                "values",
                format!(
                    "the sweep would take about {work:.1e} multiply-adds, more than the {:.1e} (hours on a CPU) this lab runs",
                    super::CLI_MAX_WORK
                ),
            ));
        }
        Ok(())
    }

    /// [`Self::validate`] and the page's price limit.
    pub fn validate_page(&self) -> Result<()> {
        self.validate()?;
        let work = self.work();
        if work > super::PAGE_MAX_WORK {
            return Err(Error::config(
                "values",
                format!(
                    "this sweep costs about {work:.1e} multiply-adds, more than the {:.0e} (about 40 s) the page runs: fewer values, pairs or epochs; the command line runs it (theorylab lmc-sweep)",
                    super::PAGE_MAX_WORK
                ),
            ));
        }
        Ok(())
    }
}

/// Mean and standard error of the mean over the pairs (`stderr` = sample std / sqrt(pairs);
/// null for one pair).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanStderr {
    /// Mean.
    pub mean: f64,
    /// Standard error of the mean.
    pub stderr: Option<f64>,
}

impl MeanStderr {
    /// Of `xs` (non-empty).
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let stderr = (xs.len() > 1).then(|| {
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (var / n).sqrt()
        });
        MeanStderr { mean, stderr }
    }
}

/// What the sweep reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LmcSweepResult {
    /// The config that ran.
    pub config: LmcSweepConfig,
    /// Values finished so far (every pair done).
    pub values: Vec<usize>,
    /// Per value, each pair's training-loss barrier: naive.
    pub barrier_naive: Vec<Vec<f64>>,
    /// Per value, each pair's training-loss barrier: matched.
    pub barrier_matched: Vec<Vec<f64>>,
    /// Per value, each pair's error barrier (test error): naive.
    pub error_barrier_naive: Vec<Vec<f64>>,
    /// Per value, each pair's error barrier: matched.
    pub error_barrier_matched: Vec<Vec<f64>>,
    /// Per value, mean and standard error of the naive loss barrier.
    pub naive: Vec<MeanStderr>,
    /// Per value, of the matched loss barrier.
    pub matched: Vec<MeanStderr>,
    /// Per value, of the naive error barrier.
    pub error_naive: Vec<MeanStderr>,
    /// Per value, of the matched error barrier.
    pub error_matched: Vec<MeanStderr>,
}

/// The running sweep: one [`LmcRun`] after another, each evaluating its path on `device`.
pub struct LmcSweepRun<E: Ensemble = CpuEnsemble<f64>> {
    device: E::Device,
    config: LmcSweepConfig,
    runs: Vec<LmcConfig>,
    index: usize,
    current: Option<LmcRun<E>>,
    finished_pairs: Vec<LmcResult>,
    result: LmcSweepResult,
}

impl LmcSweepRun {
    /// Validates the sweep; the paths on the CPU in f64.
    pub fn new(config: &LmcSweepConfig) -> Result<Self> {
        LmcSweepRun::on((), config)
    }
}

impl<E: Ensemble> LmcSweepRun<E> {
    /// Validates the sweep; the paths on `device`.
    pub fn on(device: E::Device, config: &LmcSweepConfig) -> Result<Self> {
        config.validate()?;
        Ok(LmcSweepRun {
            device,
            config: config.clone(),
            runs: config.runs(),
            index: 0,
            current: None,
            finished_pairs: Vec::new(),
            result: LmcSweepResult {
                config: config.clone(),
                values: Vec::new(),
                barrier_naive: Vec::new(),
                barrier_matched: Vec::new(),
                error_barrier_naive: Vec::new(),
                error_barrier_matched: Vec::new(),
                naive: Vec::new(),
                matched: Vec::new(),
                error_naive: Vec::new(),
                error_matched: Vec::new(),
            },
        })
    }

    /// Folds the pairs of one finished value into the result.
    fn harvest(&mut self) {
        let pairs = std::mem::take(&mut self.finished_pairs);
        let r = &mut self.result;
        let value = self.config.values[r.values.len()];
        let get = |f: &dyn Fn(&LmcResult) -> Option<f64>| -> Vec<f64> {
            pairs.iter().filter_map(f).collect()
        };
        let naive = get(&|p| Some(p.barrier.naive));
        let matched = get(&|p| p.barrier.matched);
        let error_naive = get(&|p| p.error_barrier.naive);
        let error_matched = get(&|p| p.error_barrier.matched.flatten());
        r.values.push(value);
        r.naive.push(MeanStderr::of(&naive));
        r.matched.push(MeanStderr::of(&matched));
        r.error_naive.push(MeanStderr::of(&error_naive));
        r.error_matched.push(MeanStderr::of(&error_matched));
        r.barrier_naive.push(naive);
        r.barrier_matched.push(matched);
        r.error_barrier_naive.push(error_naive);
        r.error_barrier_matched.push(error_matched);
    }
}

/// Progress units per run (a run's own progress is scaled to this many).
const UNITS_PER_RUN: usize = 1000;

impl<E: Ensemble> Stepper for LmcSweepRun<E> {
    type Output = LmcSweepResult;

    async fn step(&mut self) -> Result<Progress> {
        let total = self.runs.len() * UNITS_PER_RUN;
        if self.index >= self.runs.len() {
            return Ok(Progress { done: total, total });
        }
        let run = match &mut self.current {
            Some(run) => run,
            None => self
                .current
                .insert(LmcRun::on(self.device.clone(), &self.runs[self.index])?),
        };
        let progress = run.step().await?;
        let mut done =
            self.index * UNITS_PER_RUN + progress.done * UNITS_PER_RUN / progress.total.max(1);
        if progress.finished() {
            if let Some(run) = self.current.take() {
                self.finished_pairs.push(run.result());
            }
            self.index += 1;
            if self.finished_pairs.len() == self.config.pairs {
                self.harvest();
            }
            done = self.index * UNITS_PER_RUN;
        }
        Ok(Progress {
            done: done.min(total),
            total,
        })
    }

    fn result(&self) -> LmcSweepResult {
        self.result.clone()
    }
}
