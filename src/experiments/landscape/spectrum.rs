//! The Hessian of the training loss at a solution, through exact Hessian-vector products: the
//! top-k eigenvalues by Lanczos, the trace by Hutchinson's estimator with its standard error,
//! the spectral density by stochastic Lanczos quadrature (PyHessian, Yao et al. 2020), the
//! same per layer (the diagonal blocks `H_ll`), and the top eigenvalues of a mini-batch's
//! Hessian beside the full batch's.

use super::problem::Problem;
use super::{CLI_MAX_WORK, Prepare, SLICE_WORK, Subject, check_range, check_work, progress};
use crate::core::bounds;
use crate::core::hessian::Objective;
use crate::core::lanczos::{Lanczos, Ritz, mean_and_stderr, slq_density};
use crate::core::rng::{Rng, Stream};
use crate::core::stepper::{Progress, Stepper};
use crate::core::train::Split;
use crate::error::{Error, Result};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Points of the density's grid.
pub const DENSITY_POINTS: usize = 400;
/// Most Lanczos steps per run: [`bounds::LANCZOS_STEPS`].
pub const MAX_ITERATIONS: usize = bounds::LANCZOS_STEPS.max;

/// What to measure of the Hessian.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpectrumConfig {
    /// The network and its training.
    pub problem: Problem,
    /// Eigenvalues reported, largest first.
    pub top_k: usize,
    /// Lanczos steps per run (products of the Hessian with a vector).
    pub iterations: usize,
    /// Hutchinson's trace estimate from this many Rademacher probes (0: none).
    pub trace_probes: usize,
    /// Stochastic Lanczos quadrature probes for the density (0: no density).
    pub density_probes: usize,
    /// Gaussian broadening of the density, as a fraction of the spectrum's range.
    pub broadening: f64,
    /// The spectra of each layer's diagonal block too.
    pub per_layer: bool,
    /// Top eigenvalues of the Hessian on a random mini-batch of this size too (0: none).
    pub minibatch: usize,
}

impl Default for SpectrumConfig {
    fn default() -> Self {
        SpectrumConfig {
            problem: Problem::default(),
            top_k: 5,
            iterations: 40,
            trace_probes: 30,
            density_probes: 3,
            broadening: 0.01,
            per_layer: true,
            minibatch: 128,
        }
    }
}

impl SpectrumConfig {
    /// Hessian-vector products on a network of `layers` layers: a Lanczos run for the top k
    /// (also the first density probe), one per further probe, per layer block and for the
    /// mini-batch, and the trace's probes.
    pub fn products(&self, layers: usize) -> usize {
        let runs = 1
            + self.density_probes.saturating_sub(1)
            + if self.per_layer { layers } else { 0 }
            + usize::from(self.minibatch > 0);
        runs * self.iterations + self.trace_probes
    }

    /// Multiply-adds after training: a Hessian-vector product costs about four forward passes.
    pub fn work_after_training(&self) -> f64 {
        let p = &self.problem;
        // The mini-batch run is counted at the full batch's price: an upper bound.
        4.0 * p.weights() * self.products(p.depth + 1) as f64 * p.train_samples() as f64
    }

    /// Checks the spectrum's fields against a network of `params` parameters.
    pub fn validate_for(&self, params: usize) -> Result<()> {
        check_range("iterations", self.iterations, 1..=MAX_ITERATIONS)?;
        if self.top_k == 0 || self.top_k > params {
            return Err(Error::config(
                "top-k",
                format!(
                    "{} must be between 1 and the network's {params} parameters",
                    self.top_k
                ),
            ));
        }
        if self.top_k > self.iterations {
            return Err(Error::config(
                "top-k",
                format!(
                    "{} eigenvalues need at least as many Lanczos iterations (now {})",
                    self.top_k, self.iterations
                ),
            ));
        }
        if self.trace_probes == 1 {
            return Err(Error::config(
                "trace probes",
                "one probe gives no standard error: use 0 (no trace) or at least 2",
            ));
        }
        check_range("trace probes", self.trace_probes, 0..=10_000)?;
        check_range("density probes", self.density_probes, 0..=100)?;
        check_range("minibatch", self.minibatch, 0..=1_000_000)?;
        if !(self.broadening.is_finite() && self.broadening > 0.0 && self.broadening <= 0.5) {
            return Err(Error::config(
                "broadening",
                format!("{} is not in (0, 0.5]", self.broadening),
            ));
        }
        Ok(())
    }

    /// Checks every field, naming the bad one, and the price.
    pub fn validate(&self) -> Result<()> {
        self.problem.validate()?;
        let (d, c, _) = self.problem.data_shape();
        let w = self.problem.width;
        let params = d * w + w + (self.problem.depth - 1) * (w * w + w) + w * c + c;
        self.validate_for(params)?;
        let samples = self.problem.train_samples();
        if self.minibatch >= samples {
            return Err(Error::config(
                "minibatch",
                format!(
                    "{} is not below the {samples} training samples (the full batch); use fewer, or 0 for none",
                    self.minibatch
                ),
            ));
        }
        let work = self.problem.training_work() + self.work_after_training();
        check_work("iterations", work, CLI_MAX_WORK, "hessian")
    }
}

/// A spectral density on a grid.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Density {
    /// Eigenvalue grid.
    pub grid: Vec<f64>,
    /// Density at each grid point (integrates to 1).
    pub values: Vec<f64>,
}

/// One layer's diagonal block `H_ll`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpectrum {
    /// `layer 1 (64 -> 32)`.
    pub name: String,
    /// Its parameters (weight and bias).
    pub params: usize,
    /// Its top eigenvalues, descending.
    pub eigenvalues: Vec<f64>,
    /// Its density from one Lanczos run (one SLQ probe).
    pub density: Density,
}

/// What the spectrum reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpectrumResult {
    /// The config that ran.
    pub config: SpectrumConfig,
    /// `trained` or the model file's name.
    pub source: String,
    /// Whether the network was trained by this run (else it came from a file or the page).
    pub trained_here: bool,
    /// Trainable parameters D.
    pub params: usize,
    /// Samples the full-batch Hessian is taken over.
    pub samples: usize,
    /// Training loss at the point.
    pub loss: Option<f64>,
    /// Gradient norm at the point (the Hessian describes a minimum when it is small).
    pub gradient_norm: Option<f64>,
    /// Top-k eigenvalues of the full-batch Hessian, descending.
    pub eigenvalues: Vec<f64>,
    /// Their Ritz residuals: an exact eigenvalue lies within each.
    pub residuals: Vec<f64>,
    /// Hutchinson's estimate of the trace.
    pub trace: Option<f64>,
    /// Its standard error.
    pub trace_stderr: Option<f64>,
    /// Stochastic Lanczos quadrature density.
    pub density: Option<Density>,
    /// Per-layer spectra (input layer first).
    pub layers: Vec<LayerSpectrum>,
    /// Top eigenvalues of the mini-batch Hessian.
    pub minibatch_eigenvalues: Vec<f64>,
}

/// One Lanczos run: on the whole Hessian, on a layer's block, or on the mini-batch's Hessian.
struct Run {
    what: Target,
    lanczos: Lanczos,
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// The top-k run (also the first density probe).
    Top,
    /// A further density probe.
    Probe,
    /// Layer l's block.
    Layer(usize),
    /// The mini-batch Hessian.
    Minibatch,
}

struct Analysis {
    full: Objective,
    minibatch: Option<Objective>,
    ranges: Vec<Range<usize>>,
    runs: Vec<Run>,
    current: usize,
    probes: Vec<Ritz>,
    hutchinson: Vec<f64>,
    rng: Rng,
}

enum Phase {
    Prepare(Prepare),
    Analyse(Box<Analysis>),
    Done,
}

/// The running spectrum.
pub struct SpectrumRun {
    config: SpectrumConfig,
    phase: Phase,
    done: usize,
    units: usize,
    result: SpectrumResult,
}

impl SpectrumRun {
    /// Trains the problem's network, then measures its Hessian.
    pub fn new(config: &SpectrumConfig) -> Result<Self> {
        config.validate()?;
        let prepare = Prepare::train(&config.problem)?;
        let units = config.products(config.problem.depth + 1);
        Ok(Self::with(config, prepare, "trained", units))
    }

    /// The Hessian of a network trained elsewhere (or by the page's surface).
    pub fn from_subject(config: &SpectrumConfig, subject: Subject) -> Result<Self> {
        let params = subject.mlp.num_params();
        config.validate_for(params)?;
        let units = config.products(subject.mlp.layers.len());
        let work = 4.0 * subject.forward_work() * units as f64;
        check_work("iterations", work, CLI_MAX_WORK, "hessian")?;
        let source = subject.source.clone();
        Ok(Self::with(
            config,
            Prepare::Ready(Box::new(subject)),
            &source,
            units,
        ))
    }

    fn with(config: &SpectrumConfig, prepare: Prepare, source: &str, units: usize) -> Self {
        let trained_here = matches!(prepare, Prepare::Training { .. });
        SpectrumRun {
            config: config.clone(),
            phase: Phase::Prepare(prepare),
            done: 0,
            units,
            result: SpectrumResult {
                config: config.clone(),
                source: source.into(),
                trained_here,
                params: 0,
                samples: 0,
                loss: None,
                gradient_norm: None,
                eigenvalues: Vec::new(),
                residuals: Vec::new(),
                trace: None,
                trace_stderr: None,
                density: None,
                layers: Vec::new(),
                minibatch_eigenvalues: Vec::new(),
            },
        }
    }

    /// The objectives and the list of Lanczos runs.
    fn analysis(&mut self, subject: &Subject) -> Result<Analysis> {
        let c = &self.config;
        let full = Objective::new(subject.mlp.clone(), subject.train.clone(), subject.loss)?;
        let mut rng = Rng::new(c.problem.seed, Stream::Experiment);
        let samples = subject.train.features.ncols();
        if c.minibatch >= samples {
            return Err(Error::config(
                "minibatch",
                format!(
                    "{} is not below the {samples} training samples (the full batch); use fewer, or 0 for none",
                    c.minibatch
                ),
            ));
        }
        let minibatch = if c.minibatch > 0 {
            let mut order: Vec<usize> = (0..samples).collect();
            rng.shuffle(&mut order);
            let batch: Split<f64> = subject.train.select(&order[..c.minibatch]);
            Some(Objective::new(subject.mlp.clone(), batch, subject.loss)?)
        } else {
            None
        };
        let ranges = full.layer_ranges();
        let d = full.num_params();
        let mut gaussian = |len: usize| DVector::from_fn(len, |_, _| rng.normal());
        let mut runs = vec![Run {
            what: Target::Top,
            lanczos: Lanczos::new(gaussian(d), c.iterations)?,
        }];
        for _ in 1..c.density_probes {
            runs.push(Run {
                what: Target::Probe,
                lanczos: Lanczos::new(gaussian(d), c.iterations)?,
            });
        }
        if c.per_layer {
            for (l, range) in ranges.iter().enumerate() {
                runs.push(Run {
                    what: Target::Layer(l),
                    lanczos: Lanczos::new(gaussian(range.len()), c.iterations)?,
                });
            }
        }
        if minibatch.is_some() {
            runs.push(Run {
                what: Target::Minibatch,
                lanczos: Lanczos::new(gaussian(d), c.iterations)?,
            });
        }
        self.result.params = d;
        self.result.samples = samples;
        self.result.loss = Some(full.value());
        self.result.gradient_norm = Some(full.gradient().norm());
        Ok(Analysis {
            full,
            minibatch,
            ranges,
            runs,
            current: 0,
            probes: Vec::new(),
            hutchinson: Vec::new(),
            rng: Rng::new(c.problem.seed.wrapping_add(1), Stream::Experiment),
        })
    }

    /// One Hessian-vector product of the current run, or one Hutchinson probe.
    fn product(&mut self, a: &mut Analysis) -> Result<()> {
        if let Some(run) = a.runs.get_mut(a.current) {
            let Some(q) = run.lanczos.next_vector() else {
                a.current += 1;
                return Ok(());
            };
            let product = match run.what {
                Target::Top | Target::Probe => a.full.hvp(q)?,
                Target::Minibatch => match &a.minibatch {
                    Some(m) => m.hvp(q)?,
                    None => a.full.hvp(q)?,
                },
                Target::Layer(l) => {
                    let range = a.ranges[l].clone();
                    let mut v = DVector::zeros(a.full.num_params());
                    v.rows_mut(range.start, range.len()).copy_from(q);
                    a.full.hvp(&v)?.rows(range.start, range.len()).into_owned()
                }
            };
            run.lanczos.absorb(product)?;
            if run.lanczos.next_vector().is_none() {
                self.finish_run(a)?;
                a.current += 1;
            }
            return Ok(());
        }
        if a.hutchinson.len() < self.config.trace_probes {
            let v = DVector::from_fn(a.full.num_params(), |_, _| {
                if a.rng.below(2) == 0 { -1.0 } else { 1.0 }
            });
            a.hutchinson.push(v.dot(&a.full.hvp(&v)?));
            if a.hutchinson.len() == self.config.trace_probes {
                let (mean, stderr) = mean_and_stderr(&a.hutchinson);
                self.result.trace = Some(mean);
                self.result.trace_stderr = Some(stderr);
            }
        }
        Ok(())
    }

    /// Records a finished Lanczos run.
    fn finish_run(&mut self, a: &mut Analysis) -> Result<()> {
        let run = &a.runs[a.current];
        let ritz = run.lanczos.ritz();
        let k = self.config.top_k.min(ritz.values.len());
        let r = &mut self.result;
        match run.what {
            Target::Top | Target::Probe => {
                if run.what == Target::Top {
                    r.eigenvalues = ritz.values[..k].to_vec();
                    r.residuals = ritz.residuals[..k].to_vec();
                }
                a.probes.push(ritz);
                if a.probes.len() == self.config.density_probes {
                    let (grid, values) =
                        slq_density(&a.probes, DENSITY_POINTS, self.config.broadening)?;
                    r.density = Some(Density { grid, values });
                }
            }
            Target::Layer(l) => {
                let layer = &a.full.mlp().layers[l].params.weight;
                let (grid, values) = slq_density(
                    std::slice::from_ref(&ritz),
                    DENSITY_POINTS,
                    self.config.broadening,
                )?;
                r.layers.push(LayerSpectrum {
                    name: format!("layer {} ({} -> {})", l + 1, layer.ncols(), layer.nrows()),
                    params: a.ranges[l].len(),
                    eigenvalues: ritz.values[..k].to_vec(),
                    density: Density { grid, values },
                });
            }
            Target::Minibatch => r.minibatch_eigenvalues = ritz.values[..k].to_vec(),
        }
        Ok(())
    }

    fn finished(&self, a: &Analysis) -> bool {
        a.current >= a.runs.len() && a.hutchinson.len() >= self.config.trace_probes
    }
}

impl Stepper for SpectrumRun {
    type Output = SpectrumResult;

    async fn step(&mut self) -> Result<Progress> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Prepare(mut prepare) => {
                prepare.slice()?;
                self.phase = match prepare {
                    Prepare::Ready(subject) => Phase::Analyse(Box::new(self.analysis(&subject)?)),
                    training => Phase::Prepare(training),
                };
            }
            Phase::Analyse(mut a) => {
                let per_product =
                    4.0 * a.full.data().features.ncols() as f64 * a.full.num_params() as f64;
                let budget = ((SLICE_WORK / per_product) as usize).max(1);
                for _ in 0..budget {
                    if self.finished(&a) {
                        break;
                    }
                    let before = (a.current, a.hutchinson.len());
                    self.product(&mut a)?;
                    if (a.current, a.hutchinson.len()) != before || a.current < a.runs.len() {
                        self.done += 1;
                    }
                }
                self.phase = if self.finished(&a) {
                    Phase::Done
                } else {
                    Phase::Analyse(a)
                };
            }
            Phase::Done => {}
        }
        let steps = match &self.phase {
            Phase::Prepare(p) => p.steps(),
            _ => {
                let t = if self.result.trained_here {
                    self.config.problem.epochs * self.config.problem.steps_per_epoch()
                } else {
                    0
                };
                (t, t)
            }
        };
        Ok(progress(
            steps,
            self.done,
            self.units,
            matches!(self.phase, Phase::Done),
        ))
    }

    fn result(&self) -> SpectrumResult {
        self.result.clone()
    }
}
