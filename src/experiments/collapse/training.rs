//! One training run into the terminal phase, with NC1-NC4 recorded at log-spaced epochs.

use super::{CollapseConfig, CollapseData, DEFAULT_MLP_EPOCHS, UFM_MAX_STEPS};
use crate::core::activation::Activation;
use crate::core::collapse::{Classifier, NcMetrics, UfmOptimum, nc_metrics, principal_directions};
use crate::core::data::{self, Dataset, Targets};
use crate::core::ensemble::{CpuEnsemble, Ensemble};
use crate::core::loss::{Target, accuracy};
use crate::core::mlp::{Mlp, MlpConfig};
use crate::core::optim::{OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rng::{Rng, Stream};
use crate::core::scalar::Float;
use crate::core::stepper::{Progress, Stepper};
use crate::core::ufm::Ufm;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Features drawn per class in a snapshot (the means use every sample).
const SNAPSHOT_POINTS_PER_CLASS: usize = 40;
/// Records per decade of epochs.
const RECORDS_PER_DECADE: f64 = 12.0;
/// The features model is stationary when its step direction is this small relative to the
/// parameters' scale: about sqrt(eps) of f64, where the objective stops changing in floating
/// point.
const UFM_STATIONARY: f64 = 1e-9;
/// Where the closed form applies, a features model run without `epochs` stops when every
/// class's `||w_k||^2` and `||h_k||^2` are the closed form's to this relative tolerance (the
/// issue's bar; a class the closed form collapses, to this times the largest norm).
pub const CLOSED_FORM_TOLERANCE: f64 = 1e-4;
/// Gradient steps between two checks against the closed form (each costs a pass over H).
const CLOSED_FORM_CHECK_EVERY: usize = 50;

/// Features and class means projected onto the plane of the two largest principal directions
/// of the centred class means, at one recorded epoch, and their coordinates along the third.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The epoch.
    pub epoch: usize,
    /// Per class, the projected centred class mean.
    pub means: Vec<(f64, f64)>,
    /// Per class, up to 40 projected centred features.
    pub points: Vec<Vec<(f64, f64)>>,
    /// Per class, the centred mean's coordinate along the third principal direction.
    pub means_z: Vec<f64>,
    /// The features' coordinates along the third principal direction, as `points`.
    pub points_z: Vec<Vec<f64>>,
}

/// What the run reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollapseResult {
    /// The config that ran.
    pub config: CollapseConfig,
    /// Samples per class.
    pub class_sizes: Vec<usize>,
    /// Recorded epochs (0 = initialization).
    pub epochs: Vec<usize>,
    /// NC1 per record (null where undefined).
    pub nc1: Vec<Option<f64>>,
    /// NC2 equinorm of the class means per record.
    pub nc2_equinorm_means: Vec<Option<f64>>,
    /// NC2 equinorm of the classifier rows per record.
    pub nc2_equinorm_classifier: Vec<Option<f64>>,
    /// NC2 equiangularity per record.
    pub nc2_equiangular: Vec<Option<f64>>,
    /// Standard deviation of the mean cosines per record.
    pub nc2_cos_std: Vec<Option<f64>>,
    /// NC3 per record.
    pub nc3: Vec<Option<f64>>,
    /// NC4 per record.
    pub nc4: Vec<Option<f64>>,
    /// Training loss (the data term) per record.
    pub train_loss: Vec<f64>,
    /// Training accuracy per record.
    pub train_accuracy: Vec<f64>,
    /// First recorded epoch with zero training error.
    pub zero_error_epoch: Option<usize>,
    /// Every measure at the last record (norms, cosines, alignment, notes).
    #[serde(rename = "final")]
    pub last: NcMetrics,
    /// Dang et al.'s closed form where it applies (the features model, bias-free MSE).
    pub theory: Option<UfmOptimum>,
    /// Projections at every record, for the scrubber.
    pub snapshots: Vec<Snapshot>,
    /// For a features model run without `epochs`: whether it reached the closed form (where
    /// one applies, to [`CLOSED_FORM_TOLERANCE`]) or else a stationary point.
    pub converged: Option<bool>,
    /// What the run without `epochs` ended at, in words.
    pub convergence: Option<String>,
}

/// An MLP trained through the ensemble engine `E` (one member), its inputs and mini-batch
/// order. The network waits in `start` until the first step makes the ensemble (making one on
/// the GPU is asynchronous).
struct MlpRun<E: Ensemble> {
    start: Option<(Mlp<E::Scalar>, OptimizerConfig)>,
    ensemble: Option<E>,
    inputs: DMatrix<E::Scalar>,
    order: Vec<usize>,
    rng: Rng,
}

enum Model<E: Ensemble> {
    Mlp(Box<MlpRun<E>>),
    Ufm(Ufm),
}

/// The model's last-layer features `[d, N]`, classifier, loss and accuracy at one epoch.
struct Measured {
    features: DMatrix<f64>,
    weight: DMatrix<f64>,
    bias: Option<DVector<f64>>,
    loss: f64,
    accuracy: f64,
}

/// The running experiment: an MLP through the ensemble engine `E` (the f64 CPU reference by
/// default, or the GPU in f32), or the features model (on the CPU in f64).
pub struct CollapseRun<E: Ensemble = CpuEnsemble<f64>> {
    device: E::Device,
    config: CollapseConfig,
    labels: Vec<usize>,
    model: Model<E>,
    epoch: usize,
    total: usize,
    next_record: f64,
    stationary: bool,
    /// For a features model run without `epochs` where the closed form applies: whether it got
    /// there.
    at_closed_form: bool,
    result: CollapseResult,
}

/// Inputs `[dim, N]` and labels of the MLP data set, class by class.
fn make_data(config: &CollapseConfig, sizes: &[usize]) -> Result<Dataset> {
    let c = config.classes;
    let full = match config.dataset {
        CollapseData::Gmm => {
            let largest = sizes.iter().copied().max().unwrap_or(1);
            let mut rng = Rng::new(config.seed, Stream::Data);
            data::gaussian_mixture(largest * c, c, config.dim, config.separation, &mut rng)
        }
        CollapseData::Digits => data::digits()?,
        CollapseData::Ufm => unreachable!("the features model has no inputs"),
    };
    let Targets::Classes { labels, .. } = &full.targets else {
        return Err(Error::Data("the data set has no class labels".into()));
    };
    let mut chosen = Vec::new();
    for (k, &size) in sizes.iter().enumerate() {
        let of_class: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == k).collect();
        if of_class.len() < size {
            return Err(Error::config(
                "class sizes",
                format!(
                    "class {k} of {} has {} samples, fewer than the {size} asked for",
                    config.dataset,
                    of_class.len()
                ),
            ));
        }
        chosen.extend_from_slice(&of_class[..size]);
    }
    let mut selected = full.select(&chosen);
    if let Targets::Classes { num_classes, .. } = &mut selected.targets {
        *num_classes = c;
    }
    Ok(selected)
}

impl CollapseRun {
    /// Validates the config and draws the data and the initial model; an MLP trains on the CPU
    /// in f64.
    pub fn new(config: &CollapseConfig) -> Result<Self> {
        CollapseRun::on((), config)
    }
}

impl<E: Ensemble> CollapseRun<E> {
    /// Validates the config and draws the data and the initial model; an MLP trains on
    /// `device`.
    pub fn on(device: E::Device, config: &CollapseConfig) -> Result<Self> {
        config.validate()?;
        let sizes = config.sizes();
        let mut init_rng = Rng::new(config.seed, Stream::Init);
        let (labels, model) = if config.dataset == CollapseData::Ufm {
            let labels: Vec<usize> = sizes
                .iter()
                .enumerate()
                .flat_map(|(k, &n)| std::iter::repeat_n(k, n))
                .collect();
            let ufm = Ufm::init(
                config.width,
                labels.len(),
                config.classes,
                config.linear_layers,
                config.bias,
                &mut init_rng,
            );
            (labels, Model::Ufm(ufm))
        } else {
            let data = make_data(config, &sizes)?;
            let Targets::Classes { labels, .. } = data.targets.clone() else {
                return Err(Error::Data("the data set has no class labels".into()));
            };
            let mlp_config = MlpConfig {
                input_dim: data.input_dim(),
                hidden: vec![config.width; config.depth],
                output_dim: config.classes,
                activation: config.activation,
                bias: config.bias,
                residual: None,
                rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
                // He initialization for ReLU, unit gain otherwise.
                sigma_w: if config.activation == Activation::Relu {
                    std::f64::consts::SQRT_2
                } else {
                    1.0
                },
                sigma_b: 0.0,
            };
            let mlp = Mlp::<f64>::init(&mlp_config, &mut init_rng)?
                .with_linear_tail(config.linear_layers)?;
            let optimizer = OptimizerConfig {
                kind: OptimizerKind::Sgd,
                lr: config.lr,
                momentum: 0.9,
                weight_decay: config.weight_decay,
                ..OptimizerConfig::default()
            };
            optimizer.validate()?;
            let order = (0..labels.len()).collect();
            let model = Model::Mlp(Box::new(MlpRun {
                start: Some((mlp.cast(), optimizer)),
                ensemble: None,
                inputs: data.features.map(E::Scalar::of_f64),
                order,
                rng: Rng::new(config.seed, Stream::Batches),
            }));
            (labels, model)
        };
        let total = match (config.dataset, config.epochs) {
            (_, Some(e)) => e,
            (CollapseData::Ufm, None) => UFM_MAX_STEPS,
            (_, None) => DEFAULT_MLP_EPOCHS,
        };
        let theory = if config.closed_form_applies() {
            Some(UfmOptimum::new(
                &sizes,
                config.weight_decay,
                config.feature_decay,
                config.linear_layers,
            )?)
        } else {
            None
        };
        Ok(CollapseRun {
            device,
            config: config.clone(),
            labels,
            model,
            epoch: 0,
            total,
            next_record: 1.0,
            stationary: false,
            at_closed_form: false,
            result: CollapseResult {
                config: config.clone(),
                class_sizes: sizes,
                epochs: Vec::new(),
                nc1: Vec::new(),
                nc2_equinorm_means: Vec::new(),
                nc2_equinorm_classifier: Vec::new(),
                nc2_equiangular: Vec::new(),
                nc2_cos_std: Vec::new(),
                nc3: Vec::new(),
                nc4: Vec::new(),
                train_loss: Vec::new(),
                train_accuracy: Vec::new(),
                zero_error_epoch: None,
                last: NcMetrics::default(),
                theory,
                snapshots: Vec::new(),
                converged: None,
                convergence: None,
            },
        })
    }

    /// Makes the MLP's ensemble on the device, once.
    async fn started(&mut self) -> Result<()> {
        if let Model::Mlp(run) = &mut self.model
            && let Some((mlp, optimizer)) = run.start.take()
        {
            let loss = self.config.loss;
            run.ensemble = Some(E::new(&self.device, &[mlp], loss, optimizer).await?);
        }
        Ok(())
    }

    /// The model as it is now.
    async fn measure(&mut self) -> Result<Measured> {
        let c = &self.config;
        match &mut self.model {
            Model::Ufm(ufm) => {
                let g = ufm.gradient(&self.labels, c.loss, c.weight_decay, c.feature_decay);
                Ok(Measured {
                    features: ufm.penultimate(),
                    weight: ufm.weight.clone(),
                    bias: ufm.bias.clone(),
                    loss: g.loss,
                    accuracy: g.accuracy,
                })
            }
            Model::Mlp(run) => {
                let MlpRun {
                    ensemble, inputs, ..
                } = run.as_mut();
                let ensemble = ensemble.as_mut().ok_or_else(|| {
                    Error::Data("the network was measured before it started".into())
                })?;
                let to_f64 = |m: &DMatrix<E::Scalar>| m.map(|v| v.as_f64());
                let forward = ensemble.forward(inputs).await?.swap_remove(0);
                let output = to_f64(forward.output());
                let loss = c.loss.value(&output, Target::Classes(&self.labels))?;
                let acc = accuracy(&output, &self.labels);
                let mlp = ensemble.networks().await?.swap_remove(0);
                let last = &mlp.layers[mlp.layers.len() - 1];
                Ok(Measured {
                    features: to_f64(&forward.activations[forward.activations.len() - 1]),
                    weight: to_f64(&last.effective_weight()),
                    bias: last.effective_bias().map(|b| b.map(|v| v.as_f64())),
                    loss,
                    accuracy: acc,
                })
            }
        }
    }

    async fn record(&mut self) -> Result<()> {
        let Measured {
            features,
            weight,
            bias,
            loss,
            accuracy: acc,
        } = self.measure().await?;
        if !loss.is_finite() || features.iter().any(|x| !x.is_finite()) {
            return Err(Error::Diverged {
                step: self.epoch,
                loss,
                lr: self.config.lr,
            });
        }
        let metrics = nc_metrics(
            &features,
            &self.labels,
            self.config.classes,
            Some(Classifier {
                weight: &weight,
                bias: bias.as_ref(),
            }),
        )?;
        let r = &mut self.result;
        r.epochs.push(self.epoch);
        r.nc1.push(metrics.nc1);
        r.nc2_equinorm_means.push(metrics.nc2_equinorm_means);
        r.nc2_equinorm_classifier
            .push(metrics.nc2_equinorm_classifier);
        r.nc2_equiangular.push(metrics.nc2_equiangular);
        r.nc2_cos_std.push(metrics.nc2_cos_std);
        r.nc3.push(metrics.nc3);
        r.nc4.push(metrics.nc4);
        r.train_loss.push(loss);
        r.train_accuracy.push(acc);
        if acc >= 1.0 && r.zero_error_epoch.is_none() {
            r.zero_error_epoch = Some(self.epoch);
        }
        r.snapshots.push(snapshot(
            self.epoch,
            &features,
            &self.labels,
            self.config.classes,
        ));
        r.last = metrics;
        Ok(())
    }

    /// One epoch: a shuffled pass of mini-batches, or one gradient step of the features model.
    fn epoch(&mut self) -> Result<()> {
        let c = &self.config;
        match &mut self.model {
            Model::Ufm(ufm) => {
                let g = ufm.gradient(&self.labels, c.loss, c.weight_decay, c.feature_decay);
                let step = ufm.step(&g, c.lr);
                let scale =
                    ufm.weight.norm() + ufm.features.norm() * (ufm.features.ncols() as f64).sqrt();
                if c.epochs.is_none() {
                    self.stationary = step <= UFM_STATIONARY * scale.max(1.0);
                    let last = self.stationary || self.epoch + 1 >= self.total;
                    if let Some(theory) = &self.result.theory
                        && ((self.epoch + 1).is_multiple_of(CLOSED_FORM_CHECK_EVERY) || last)
                    {
                        self.at_closed_form = at_closed_form(ufm, &self.labels, theory);
                    }
                }
            }
            Model::Mlp(run) => {
                let MlpRun {
                    ensemble,
                    inputs,
                    order,
                    rng,
                    ..
                } = run.as_mut();
                let ensemble = ensemble.as_mut().ok_or_else(|| {
                    Error::Data("the network was trained before it started".into())
                })?;
                rng.shuffle(order);
                for batch in order.chunks(c.batch_size) {
                    let x = inputs.select_columns(batch);
                    let labels: Vec<usize> = batch.iter().map(|&i| self.labels[i]).collect();
                    ensemble.train_step(&x, Target::Classes(&labels))?;
                }
            }
        }
        self.epoch += 1;
        Ok(())
    }

    fn finished(&self) -> bool {
        self.epoch >= self.total || self.stationary || self.at_closed_form
    }

    /// Epochs per slice: about 2^20 multiply-adds (a few milliseconds), an epoch priced as
    /// [`CollapseConfig::work`] prices it.
    fn epochs_per_slice(&self) -> usize {
        let samples = self.labels.len();
        let (c, n) = (self.config.classes, self.config.width);
        let cost = match self.model {
            Model::Ufm(_) => samples * (c + self.config.linear_layers * n) * n,
            Model::Mlp(_) => samples * n * self.config.depth.max(1),
        };
        ((1usize << 20) / cost.max(1)).clamp(1, 2000)
    }
}

/// Whether every class's classifier norm `||w_k||^2` and uncentred mean penultimate feature
/// `||h_k||^2` are the closed form's to [`CLOSED_FORM_TOLERANCE`].
fn at_closed_form(ufm: &Ufm, labels: &[usize], theory: &UfmOptimum) -> bool {
    let features = ufm.penultimate();
    let classes = ufm.weight.nrows();
    let mut sums = DMatrix::<f64>::zeros(features.nrows(), classes);
    let mut counts = vec![0usize; classes];
    for (column, &k) in features.column_iter().zip(labels) {
        let mut sum = sums.column_mut(k);
        sum += column;
        counts[k] += 1;
    }
    let close = |measured: &[f64], expected: &[f64]| {
        let largest = expected.iter().copied().fold(0.0, f64::max);
        measured.iter().zip(expected).all(|(m, e)| {
            (m - e).abs() <= CLOSED_FORM_TOLERANCE * if *e > 0.0 { *e } else { largest }
        })
    };
    let means: Vec<f64> = (0..classes)
        .map(|k| (sums.column(k) / counts[k].max(1) as f64).norm_squared())
        .collect();
    let rows: Vec<f64> = ufm.weight.row_iter().map(|w| w.norm_squared()).collect();
    close(&rows, &theory.classifier_norms_sq) && close(&means, &theory.mean_norms_sq)
}

/// Features and means projected onto the top three principal directions of the centred means
/// (signs fixed so that class k's mean has a non-negative coordinate along direction k); the
/// labels must be in `0..classes` (as [`nc_metrics`] checks).
pub fn snapshot(
    epoch: usize,
    features: &DMatrix<f64>,
    labels: &[usize],
    classes: usize,
) -> Snapshot {
    let d = features.nrows();
    let global = features.column_mean();
    let mut means = DMatrix::<f64>::zeros(d, classes);
    let mut counts = vec![0usize; classes];
    for (h, &y) in features.column_iter().zip(labels) {
        let mut m = means.column_mut(y);
        m += h - &global;
        counts[y] += 1;
    }
    for (k, &n) in counts.iter().enumerate() {
        means.column_mut(k).unscale_mut(n.max(1) as f64);
    }
    let directions = principal_directions(&means);
    let axis = |i: usize| -> DVector<f64> {
        directions
            .get(i)
            .map_or_else(|| DVector::zeros(d), |p| p.1.clone())
    };
    // Signs fixed so that class k's mean has a non-negative coordinate along axis k.
    let axes: Vec<DVector<f64>> = (0..3)
        .map(|i| {
            let u = axis(i);
            if i < classes && u.dot(&means.column(i)) < 0.0 {
                -u
            } else {
                u
            }
        })
        .collect();
    let project = |v: &DVector<f64>| [axes[0].dot(v), axes[1].dot(v), axes[2].dot(v)];
    let mut points = vec![Vec::new(); classes];
    for (h, &y) in features.column_iter().zip(labels) {
        if points[y].len() < SNAPSHOT_POINTS_PER_CLASS {
            points[y].push(project(&(h - &global)));
        }
    }
    let means: Vec<[f64; 3]> = (0..classes)
        .map(|k| project(&means.column(k).into_owned()))
        .collect();
    let plane = |p: &[f64; 3]| (p[0], p[1]);
    Snapshot {
        epoch,
        means: means.iter().map(plane).collect(),
        points: points
            .iter()
            .map(|c| c.iter().map(plane).collect())
            .collect(),
        means_z: means.iter().map(|p| p[2]).collect(),
        points_z: points
            .iter()
            .map(|c| c.iter().map(|p| p[2]).collect())
            .collect(),
    }
}

impl<E: Ensemble> Stepper for CollapseRun<E> {
    type Output = CollapseResult;

    async fn step(&mut self) -> Result<Progress> {
        if self.result.epochs.is_empty() {
            self.started().await?;
            self.record().await?;
        }
        for _ in 0..self.epochs_per_slice() {
            if self.finished() {
                break;
            }
            self.epoch()?;
            if self.epoch as f64 >= self.next_record || self.finished() {
                self.record().await?;
                while self.next_record <= self.epoch as f64 {
                    self.next_record *= 10f64.powf(1.0 / RECORDS_PER_DECADE);
                }
                self.next_record = self.next_record.max(self.epoch as f64 + 1.0);
            }
        }
        if self.finished()
            && self.config.dataset == CollapseData::Ufm
            && self.config.epochs.is_none()
        {
            // Where the closed form applies, converged means reaching it (a stationary point
            // elsewhere is a local minimum); elsewhere, stationary.
            let (converged, why) = match (&self.result.theory, self.at_closed_form, self.stationary) {
                (Some(_), true, _) => (true, "reached the closed form (every class's norms to 1e-4 relative)".to_string()),
                (Some(_), false, true) => (false, "stationary away from the closed form, which is the global minimum: a local minimum (a deep linear head keeps one for classes a little below the collapse threshold)".into()),
                (None, _, true) => (true, "stationary (relative step below 1e-9)".into()),
                _ => (false, "not converged within the step limit: a larger learning rate may get there".into()),
            };
            self.result.converged = Some(converged);
            self.result.convergence = Some(format!("step {}: {why}", self.epoch));
        }
        Ok(Progress {
            done: if self.finished() {
                self.total
            } else {
                self.epoch
            },
            total: self.total,
        })
    }

    fn result(&self) -> CollapseResult {
        self.result.clone()
    }
}
