//! The GPU backend equals the CPU reference. Every shader validates with naga (no GPU
//! needed). The rest runs on whatever adapter wgpu finds (Mesa's lavapipe in CI): a test that
//! finds none says so and fails under CI=true, so a broken driver install is never silently
//! green.
//!
//! Tolerances. The GPU computes in f32; the reference is the CPU backend in f64 on the same f32
//! weights, so the difference is the GPU's own rounding: a dot product of length K has error
//! at most about K * eps_f32 * sum|a_i b_i| (Higham, "Accuracy and Stability of Numerical
//! Algorithms", eq. 3.5), and the erf approximation adds 1.5e-7 (~ eps_f32) per activation. We
//! compare the max abs difference with `8 * eps_f32 * K * scale`, K the sum of the inner
//! dimensions along the longest chain of products and `scale` the largest |entry| of the
//! reference tensor plus one: a loose worst-case bound, still 1000x below any indexing or
//! formula error (which shows up at the scale of the values themselves).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::gaussian_matrix;
use nalgebra::DMatrix;
use std::sync::Arc;
use theorylab::core::activation::Activation;
use theorylab::core::loss::{Loss, Target};
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::Stepper;
use theorylab::core::vocabulary::Choice;
use theorylab::gpu::{GpuContext, GpuEnsemble, MatmulKernel, SHADERS};

#[test]
fn every_shader_parses_and_validates() {
    for (name, source) in SHADERS {
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

/// The adapter, or None (and a loud message) where there is none; under CI that is a failure.
fn context() -> Option<Arc<GpuContext>> {
    match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => {
            eprintln!("GPU tests run on: {}", ctx.adapter());
            Some(Arc::new(ctx))
        }
        Err(e) => {
            eprintln!("NO GPU ADAPTER, GPU tests skipped: {e}");
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must have a GPU adapter (lavapipe): {e}"
            );
            None
        }
    }
}

fn net(config: &MlpConfig, seed: u64) -> Mlp<f32> {
    Mlp::<f32>::init(config, &mut Rng::new(seed, Stream::Init)).unwrap()
}

fn config(
    input: usize,
    hidden: Vec<usize>,
    output: usize,
    activation: Activation,
    bias: bool,
    residual: Option<f64>,
    p: Parametrization,
) -> MlpConfig {
    MlpConfig {
        input_dim: input,
        hidden,
        output_dim: output,
        activation,
        bias,
        residual,
        rules: p.rules(OptimizerKind::Sgd),
        sigma_w: 1.0,
        sigma_b: 0.5,
    }
}

fn assert_close_f32(what: &str, gpu: &DMatrix<f32>, reference: &DMatrix<f64>, inner: usize) {
    assert_eq!(gpu.shape(), reference.shape(), "{what}");
    let scale = reference.amax() + 1.0;
    let tolerance = 8.0 * f32::EPSILON as f64 * inner as f64 * scale;
    let error = gpu
        .iter()
        .zip(reference.iter())
        .map(|(g, r)| (*g as f64 - r).abs())
        .fold(0.0, f64::max);
    assert!(
        error <= tolerance,
        "{what}: max |gpu - cpu| = {error:e} > {tolerance:e}"
    );
}

/// (name, config, batch, linear tail) cases: every activation, biases on/off, residual blocks,
/// linear hidden layers after nonlinear ones, odd sizes (1, 7, 4097) and widths that are not
/// multiples of the 16 x 16 / 64 x 64 workgroup tiles.
fn cases() -> Vec<(String, MlpConfig, usize, usize)> {
    use Activation::*;
    let mut cases = Vec::new();
    for (i, activation) in Activation::all().enumerate() {
        let p = Parametrization::TABLE[i % 4].value;
        cases.push((
            format!("{activation:?} {p:?}"),
            config(5, vec![33, 17], 3, activation, i % 2 == 0, None, p),
            7,
            0,
        ));
    }
    cases.push((
        "tanh, the last two of three hidden layers linear".into(),
        config(
            4,
            vec![19, 11, 13],
            3,
            Tanh,
            true,
            None,
            Parametrization::Sp,
        ),
        5,
        2,
    ));
    cases.push((
        "residual".into(),
        config(
            3,
            vec![20, 20, 20],
            4,
            Tanh,
            true,
            Some(0.6),
            Parametrization::Mup,
        ),
        9,
        0,
    ));
    cases.push((
        "batch 1".into(),
        config(7, vec![1], 1, Relu, true, None, Parametrization::Sp),
        1,
        0,
    ));
    cases.push((
        "input 4097".into(),
        config(4097, vec![7], 2, Gelu, false, None, Parametrization::Ntk),
        3,
        0,
    ));
    cases.push((
        "batch 4097".into(),
        config(
            2,
            vec![65, 7],
            2,
            Erf,
            true,
            None,
            Parametrization::MeanField,
        ),
        4097,
        0,
    ));
    cases
}

fn targets(k: usize, batch: usize) -> (Vec<usize>, DMatrix<f32>) {
    let labels = (0..batch).map(|i| (i * 5 + 1) % k).collect();
    (labels, gaussian_matrix(k, batch, 77).map(|v| v as f32))
}

#[test]
fn forward_and_gradients_match_the_cpu() {
    let Some(ctx) = context() else { return };
    for (name, config, batch, tail) in cases() {
        let nets: Vec<Mlp<f32>> = (0..3)
            .map(|seed| net(&config, seed).with_linear_tail(tail).unwrap())
            .collect();
        let x = gaussian_matrix(config.input_dim, batch, 5).map(|v| v as f32);
        let (labels, values) = targets(config.output_dim, batch);
        for loss in [Loss::CrossEntropy, Loss::Mse] {
            let mut gpu = pollster::block_on(GpuEnsemble::new(
                ctx.clone(),
                &nets,
                loss,
                OptimizerConfig::default(),
            ))
            .unwrap();
            let target = match loss {
                Loss::CrossEntropy => Target::Classes(&labels),
                Loss::Mse => Target::Values(&values),
            };
            let forwards = pollster::block_on(gpu.forward(&x)).unwrap();
            let gradients = pollster::block_on(gpu.gradients(&x, target)).unwrap();
            let metrics = pollster::block_on(gpu.evaluate(&x, target)).unwrap();
            let inner = config.input_dim + config.hidden.iter().sum::<usize>() + batch;
            for (e, net) in nets.iter().enumerate() {
                let reference: Mlp<f64> = net.cast();
                let x64 = x.map(|v| v as f64);
                let forward = reference.forward(&x64).unwrap();
                for (l, z) in forward.preactivations.iter().enumerate() {
                    assert_close_f32(
                        &format!("{name}: member {e} z_{l}"),
                        &forwards[e].preactivations[l],
                        z,
                        inner,
                    );
                }
                for (l, h) in forward.activations.iter().enumerate() {
                    assert_close_f32(
                        &format!("{name}: member {e} h_{l}"),
                        &forwards[e].activations[l],
                        h,
                        inner,
                    );
                }
                let values64 = values.map(|v| v as f64);
                let target64 = match loss {
                    Loss::CrossEntropy => Target::Classes(&labels),
                    Loss::Mse => Target::Values(&values64),
                };
                let (value, d_output) =
                    loss.value_and_gradient(forward.output(), target64).unwrap();
                let expected = reference.backward(&forward, &d_output);
                for (l, (g, r)) in gradients[e].iter().zip(&expected).enumerate() {
                    assert_close_f32(
                        &format!("{name} {loss:?}: member {e} dW_{l}"),
                        &g.weight,
                        &r.weight,
                        2 * inner,
                    );
                    if let (Some(gb), Some(rb)) = (&g.bias, &r.bias) {
                        let rb = DMatrix::from_column_slice(rb.len(), 1, rb.as_slice());
                        let gb = DMatrix::from_column_slice(gb.len(), 1, gb.as_slice());
                        assert_close_f32(
                            &format!("{name} {loss:?}: member {e} db_{l}"),
                            &gb,
                            &rb,
                            2 * inner,
                        );
                    }
                }
                let tolerance = 8.0 * f32::EPSILON as f64 * inner as f64 * (value.abs() + 1.0);
                assert!(
                    (metrics[e].0 - value).abs() <= tolerance,
                    "{name} {loss:?}: loss {} vs {value}",
                    metrics[e].0
                );
                if loss == Loss::CrossEntropy {
                    let accuracy = theorylab::core::loss::accuracy(forward.output(), &labels);
                    // An exact fraction of the batch, rounded to f32 on the GPU.
                    assert!(
                        (metrics[e].1 - accuracy).abs() < 1e-6,
                        "{name}: accuracy {} vs {accuracy}",
                        metrics[e].1
                    );
                }
            }
        }
    }
}

/// 20 optimizer steps on the GPU follow the CPU's 20 steps from the same initialization.
/// Rounding differences are amplified by the training dynamics at most by the step count
/// times the learning rate times the Hessian scale (O(1) here), so we allow 20x the one-step
/// bound.
#[test]
fn twenty_training_steps_match_the_cpu() {
    let Some(ctx) = context() else { return };
    let config = config(
        4,
        vec![24, 24],
        3,
        Activation::Tanh,
        true,
        Some(0.5),
        Parametrization::Mup,
    );
    let nets: Vec<Mlp<f32>> = (0..2).map(|seed| net(&config, 10 + seed)).collect();
    let x = gaussian_matrix(4, 16, 3).map(|v| v as f32);
    let (labels, _) = targets(3, 16);
    for optimizer in [
        OptimizerConfig {
            kind: OptimizerKind::Sgd,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.01,
            ..Default::default()
        },
        OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr: 0.01,
            weight_decay: 0.01,
            ..Default::default()
        },
    ] {
        let mut gpu = pollster::block_on(GpuEnsemble::new(
            ctx.clone(),
            &nets,
            Loss::CrossEntropy,
            optimizer,
        ))
        .unwrap();
        for _ in 0..20 {
            gpu.train_step(&x, Target::Classes(&labels)).unwrap();
        }
        let trained = pollster::block_on(gpu.read_params()).unwrap();
        for (e, net) in nets.iter().enumerate() {
            let mut reference: Mlp<f64> = net.cast();
            let mut cpu_optimizer = Optimizer::new(optimizer, &reference).unwrap();
            let x64 = x.map(|v| v as f64);
            for _ in 0..20 {
                let forward = reference.forward(&x64).unwrap();
                let (_, d_output) = Loss::CrossEntropy
                    .value_and_gradient(forward.output(), Target::Classes(&labels))
                    .unwrap();
                let gradients = reference.backward(&forward, &d_output);
                cpu_optimizer.step(&mut reference, &gradients);
            }
            let expected = reference.flatten();
            let ours = trained[e].flatten().map(|v| v as f64);
            let inner = 4 + 24 + 24 + 16;
            let tolerance =
                20.0 * 8.0 * f32::EPSILON as f64 * inner as f64 * (expected.amax() + 1.0);
            let error = (&ours - &expected).amax();
            assert!(
                error <= tolerance,
                "{:?}: member {e}: max |gpu - cpu| = {error:e} > {tolerance:e}",
                optimizer.kind
            );
        }
    }
}

#[test]
fn every_matmul_kernel_gives_the_same_products() {
    if context().is_none() {
        return;
    }
    let config = config(
        37,
        vec![70, 45],
        5,
        Activation::Linear,
        true,
        None,
        Parametrization::Sp,
    );
    let nets: Vec<Mlp<f32>> = (0..2).map(|seed| net(&config, seed)).collect();
    let x = gaussian_matrix(37, 19, 8).map(|v| v as f32);
    for kernel in MatmulKernel::ALL {
        let mut ctx = pollster::block_on(GpuContext::new()).unwrap();
        ctx.matmul = kernel;
        let mut gpu = pollster::block_on(GpuEnsemble::new(
            Arc::new(ctx),
            &nets,
            Loss::Mse,
            OptimizerConfig::default(),
        ))
        .unwrap();
        let forwards = pollster::block_on(gpu.forward(&x)).unwrap();
        for (e, net) in nets.iter().enumerate() {
            let reference = net.cast::<f64>().forward(&x.map(|v| v as f64)).unwrap();
            assert_close_f32(
                &format!("{kernel:?} member {e}"),
                &forwards[e].preactivations[2],
                &reference.preactivations[2],
                37 + 70 + 45,
            );
        }
    }
}

#[test]
fn limits_and_bad_ensembles_are_refused_with_reasons() {
    let Some(ctx) = context() else { return };
    let too_big = ctx.max_buffer_bytes() + 4;
    let message = ctx
        .check_buffer("weights", too_big)
        .unwrap_err()
        .to_string();
    assert!(message.contains("adapter allows"), "{message}");
    let a = net(
        &config(
            3,
            vec![5],
            2,
            Activation::Relu,
            true,
            None,
            Parametrization::Sp,
        ),
        0,
    );
    let b = net(
        &config(
            3,
            vec![6],
            2,
            Activation::Relu,
            true,
            None,
            Parametrization::Sp,
        ),
        0,
    );
    let message = pollster::block_on(GpuEnsemble::new(
        ctx.clone(),
        &[a.clone(), b],
        Loss::Mse,
        OptimizerConfig::default(),
    ))
    .unwrap_err()
    .to_string();
    assert!(message.contains("network 1 differs"), "{message}");
    let mut gpu = pollster::block_on(GpuEnsemble::new(
        ctx,
        &[a],
        Loss::CrossEntropy,
        OptimizerConfig::default(),
    ))
    .unwrap();
    let wrong = DMatrix::<f32>::zeros(4, 2);
    let message = pollster::block_on(gpu.forward(&wrong))
        .unwrap_err()
        .to_string();
    assert!(message.contains("3 features"), "{message}");
    let x = DMatrix::<f32>::zeros(3, 2);
    let message = gpu
        .train_step(&x, Target::Classes(&[0, 2]))
        .unwrap_err()
        .to_string();
    assert!(message.contains("labels below 2"), "{message}");
}

/// The coordinate check on the GPU (one ensemble per width, seeds as members) equals the CPU's
/// in f64 on the same f32 initial weights. Tolerance as above: a forward pass chains inner
/// products of total length K = d + 2n + batch (the last for the loss gradient), each step
/// compounds it once, so entries agree to `steps * 8 eps_f32 K` relative to the layer's size.
#[test]
fn the_coordinate_check_on_the_gpu_matches_the_cpu() {
    use theorylab::core::ensemble::CpuEnsemble;
    use theorylab::core::stepper::Stepper;
    use theorylab::core::stepper::run;
    use theorylab::experiments::width::coordcheck::{CoordCheck, CoordCheckConfig};
    use theorylab::gpu::GpuEnsemble;
    let Some(ctx) = context() else { return };
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let config = CoordCheckConfig {
            optimizer,
            lr: if optimizer == OptimizerKind::Sgd {
                0.1
            } else {
                0.01
            },
            widths: vec![32, 64, 128],
            steps: 3,
            seeds: 2,
            ..CoordCheckConfig::default()
        };
        let cpu = run(
            &mut CoordCheck::<CpuEnsemble<f64>>::new(&config).unwrap(),
            |_| std::ops::ControlFlow::Continue(()),
        )
        .unwrap();
        let mut gpu = CoordCheck::<GpuEnsemble>::on(ctx.clone(), &config).unwrap();
        let mut slices = 0;
        while !pollster::block_on(gpu.step()).unwrap().finished() {
            slices += 1;
        }
        // One slice per recorded step of each width (all seeds at once).
        assert_eq!(slices + 1, 3 * 3);
        let gpu = gpu.result();
        assert_eq!(gpu.widths, cpu.widths);
        assert_eq!(gpu.seeds_done, vec![2, 2, 2]);
        for (w, &n) in cpu.widths.iter().enumerate() {
            let inner = config.input_dim + 2 * n + config.batch;
            let bound = config.steps as f64 * 8.0 * f32::EPSILON as f64 * inner as f64;
            for t in 0..config.steps {
                for l in 0..cpu.layers.len() {
                    let size = cpu.act_size[w][t][l];
                    for (what, a, b) in [
                        ("act_size", gpu.act_size[w][t][l], size),
                        (
                            "delta_size",
                            gpu.delta_size[w][t][l],
                            cpu.delta_size[w][t][l],
                        ),
                    ] {
                        assert!(
                            (a - b).abs() <= bound * size,
                            "{optimizer:?} width {n} step {t} {}: {what} gpu {a} cpu {b}",
                            cpu.layers[l]
                        );
                    }
                }
            }
            for (what, a, b) in [
                (
                    "feature movement",
                    gpu.feature_movement[w],
                    cpu.feature_movement[w],
                ),
                (
                    "kernel movement",
                    gpu.kernel_movement[w],
                    cpu.kernel_movement[w],
                ),
            ] {
                assert!(
                    (a - b).abs() <= bound,
                    "{optimizer:?} width {n}: {what} gpu {a} cpu {b}"
                );
            }
        }
    }
}

/// The Landscape room's grid on the GPU (f32) equals the f64 CPU reference within the f32
/// bound: each output is a sum of at most 64 products per layer over three layers, rounded in
/// f32 (eps 6e-8), so about 64 * 3 * 6e-8 = 1.2e-5 relative in the worst case for logits of
/// order 10; 1e-4 relative (plus 1e-5 absolute for losses near 0) leaves margin and is still
/// far below the loss's variation between neighbouring grid points (percents).
#[test]
fn the_landscape_grid_on_the_gpu_equals_the_cpu() {
    use theorylab::experiments::landscape::Problem;
    use theorylab::experiments::landscape::surface::{SurfaceConfig, SurfaceRun};
    let Some(ctx) = context() else { return };
    let config = SurfaceConfig {
        problem: Problem {
            width: 32,
            epochs: 3,
            ..Problem::default()
        },
        grid: 9,
        ..SurfaceConfig::default()
    };
    let finish = |session: &mut dyn FnMut() -> bool| while !session() {};
    let mut cpu = SurfaceRun::new(&config).unwrap();
    finish(&mut || pollster::block_on(cpu.step()).unwrap().finished());
    let mut gpu = SurfaceRun::<GpuEnsemble>::on(ctx, &config).unwrap();
    finish(&mut || pollster::block_on(gpu.step()).unwrap().finished());
    let (cpu, gpu) = (cpu.result(), gpu.result());
    assert_eq!((cpu.grid, gpu.grid), (9, 9));
    assert_eq!((cpu.train_loss.len(), gpu.train_loss.len()), (81, 81));
    assert_eq!((cpu.test_loss.len(), gpu.test_loss.len()), (81, 81));
    let mut worst: f64 = 0.0;
    for (name, a, b) in [
        ("train loss", &cpu.train_loss, &gpu.train_loss),
        ("test loss", &cpu.test_loss, &gpu.test_loss),
    ] {
        for (x, y) in a.iter().zip(b.iter()) {
            worst = worst.max((x - y).abs() / x.abs());
            assert!(
                (x - y).abs() <= 1e-4 * x.abs() + 1e-5,
                "{name}: CPU {x} GPU {y}"
            );
        }
    }
    eprintln!("largest relative difference of the grid's losses, GPU f32 vs CPU f64: {worst:e}");
}

/// The Connectivity room's path evaluated on the GPU (f32) equals the f64 CPU reference within
/// the f32 bound. Training, matching and the curvature run on the CPU in f64 on both sides, so
/// the permutations and curvatures are the same numbers; each path loss is a mean of
/// cross-entropies of logits that are sums of at most 64 products per layer over three layers,
/// rounded in f32 (eps 6e-8): about 64 * 3 * 6e-8 = 1.2e-5 relative in the worst case, so 1e-4
/// relative (plus 1e-5 absolute for losses near 0). A barrier is a difference of such losses:
/// twice the bound of the largest loss on its path.
#[test]
fn the_connectivity_path_on_the_gpu_equals_the_cpu() {
    use theorylab::experiments::connectivity::{LmcConfig, LmcRun};
    let Some(ctx) = context() else { return };
    let config = LmcConfig {
        width: 32,
        epochs: 2,
        ..LmcConfig::default()
    };
    let finish = |session: &mut dyn FnMut() -> bool| while !session() {};
    let mut cpu = LmcRun::new(&config).unwrap();
    finish(&mut || pollster::block_on(cpu.step()).unwrap().finished());
    let mut gpu = LmcRun::<GpuEnsemble>::on(ctx, &config).unwrap();
    finish(&mut || pollster::block_on(gpu.step()).unwrap().finished());
    let (cpu, gpu) = (cpu.result(), gpu.result());
    assert_eq!(cpu.permutations, gpu.permutations);
    assert_eq!(cpu.curvature, gpu.curvature);
    let bound = |x: f64| 1e-4 * x.abs() + 1e-5;
    let mut worst: f64 = 0.0;
    for (name, a, b) in [
        (
            "train loss, naive",
            &cpu.train_loss.naive,
            &gpu.train_loss.naive,
        ),
        (
            "test loss, naive",
            &cpu.test_loss.naive,
            &gpu.test_loss.naive,
        ),
        (
            "train loss, matched",
            cpu.train_loss.matched.as_ref().unwrap(),
            gpu.train_loss.matched.as_ref().unwrap(),
        ),
        (
            "test loss, matched",
            cpu.test_loss.matched.as_ref().unwrap(),
            gpu.test_loss.matched.as_ref().unwrap(),
        ),
    ] {
        assert_eq!((a.len(), b.len()), (config.alphas, config.alphas), "{name}");
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs() / x.abs());
            assert!((x - y).abs() <= bound(*x), "{name}: CPU {x} GPU {y}");
        }
    }
    let largest = |c: &[f64]| c.iter().copied().fold(0.0, f64::max);
    let naive = 2.0 * bound(largest(&cpu.train_loss.naive));
    assert!((cpu.barrier.naive - gpu.barrier.naive).abs() <= naive);
    let (m_cpu, m_gpu) = (cpu.barrier.matched.unwrap(), gpu.barrier.matched.unwrap());
    let matched = 2.0 * bound(largest(cpu.train_loss.matched.as_ref().unwrap()));
    assert!(
        (m_cpu - m_gpu).abs() <= matched,
        "matched barrier: CPU {m_cpu} GPU {m_gpu}"
    );
    eprintln!("largest relative difference of the path's losses, GPU f32 vs CPU f64: {worst:e}");
}

/// The Collapse room's MLP trained on the GPU (f32) follows the f64 CPU reference: the same
/// initialization, batches and SGD with momentum and weight decay. Rounding in f32 (eps 6e-8)
/// on sums of at most ~100 products gives ~6e-6 relative per step; the default run's 13 steps
/// per epoch over 5 epochs contract rather than amplify such differences before zero error
/// (well-conditioned, lr 0.05), so we allow 65 times the one-step bound, 4e-4, rounded up to
/// 1e-3, on the loss and on NC1 (a ratio of such quantities), and the same accuracy exactly.
#[test]
fn the_collapse_mlp_on_the_gpu_follows_the_cpu() {
    use theorylab::experiments::collapse::{CollapseConfig, CollapseRun};
    let Some(ctx) = context() else { return };
    let config = CollapseConfig {
        epochs: Some(5),
        ..CollapseConfig::default()
    };
    let finish = |session: &mut dyn FnMut() -> bool| while !session() {};
    let mut cpu = CollapseRun::new(&config).unwrap();
    finish(&mut || pollster::block_on(cpu.step()).unwrap().finished());
    let mut gpu = CollapseRun::<GpuEnsemble>::on(ctx, &config).unwrap();
    finish(&mut || pollster::block_on(gpu.step()).unwrap().finished());
    let (cpu, gpu) = (cpu.result(), gpu.result());
    assert_eq!(cpu.epochs, gpu.epochs);
    let mut worst: f64 = 0.0;
    for (i, (x, y)) in cpu.train_loss.iter().zip(&gpu.train_loss).enumerate() {
        worst = worst.max((x - y).abs() / x.abs());
        assert!(
            (x - y).abs() <= 1e-3 * x.abs(),
            "loss at record {i}: CPU {x} GPU {y}"
        );
    }
    for (i, (x, y)) in cpu.nc1.iter().zip(&gpu.nc1).enumerate() {
        let (x, y) = (x.unwrap(), y.unwrap());
        worst = worst.max((x - y).abs() / x.abs());
        assert!(
            (x - y).abs() <= 1e-3 * x.abs(),
            "NC1 at record {i}: CPU {x} GPU {y}"
        );
    }
    // Accuracy is a count: a sample whose two largest outputs are within rounding may flip.
    let samples = 400.0;
    for (x, y) in cpu.train_accuracy.iter().zip(&gpu.train_accuracy) {
        assert!(
            (x - y).abs() <= 1.0 / samples + 1e-12,
            "accuracy: CPU {x} GPU {y}"
        );
    }
    eprintln!("largest relative difference of the loss and NC1, GPU f32 vs CPU f64: {worst:e}");
}

/// The Depth room's sampler on the GPU draws the CPU's networks: the same counter-based
/// normals, in f32. Every per-layer statistic agrees to 1e-4 relative: each is a sum of n
/// products through at most 7 layers, f32 rounding (6e-8 per operation) grows to about 1e-6
/// there, and the GPU's erf (A&S 7.1.26, 1.5e-7) and its log, sin and cos (a few ulps) add as
/// much; 1e-4 is 100 times that and far below any standard error.
#[test]
fn the_gpu_sampler_draws_the_cpu_networks() {
    use theorylab::core::init_sampler::InitSampler;
    use theorylab::core::nearly_gaussian::DepthSpec;
    use theorylab::gpu::GpuInitSampler;
    let Some(ctx) = context() else { return };
    for (activation, weight_var, bias_var, residual) in [
        (Activation::Relu, 2.0, 0.0, 0.0),
        (Activation::Tanh, 1.5, 0.05, 0.0),
        (Activation::Erf, 1.0, 0.1, 0.5),
        (Activation::Gelu, 2.0, 0.0, 0.3),
        (Activation::Linear, 1.0, 0.0, 0.0),
    ] {
        let spec = DepthSpec {
            activation,
            weight_var,
            bias_var,
            residual,
            depth: 6,
            width: 80,
            q_input: 1.0,
        };
        // Linear networks see identical inputs (correlation 1: no second direction, the
        // sampler's other branch) at a width below the workgroup's 64 threads.
        let (corr, spec) = if activation == Activation::Linear {
            (1.0, DepthSpec { width: 40, ..spec })
        } else {
            (0.5, spec)
        };
        let n = spec.width;
        let cpu = InitSampler::new(spec, corr, 7);
        let gpu = GpuInitSampler::new(ctx.clone(), spec, corr, 7).unwrap();
        let samples = pollster::block_on(gpu.sample(100, 40, 3)).unwrap();
        assert_eq!(samples.len(), 40);
        let close = |what: &str, g: f64, c: f64| {
            assert!(
                (g - c).abs() <= 1e-4 * c.abs().max(1e-30),
                "{activation}: {what}: GPU {g}, CPU {c}"
            );
        };
        for (k, g) in samples.iter().enumerate() {
            let c = cpu.sample(100 + k as u32);
            for l in 0..7 {
                close(
                    &format!("network {k}, layer {l}, E z^2"),
                    g.second[l],
                    c.second[l],
                );
                close(
                    &format!("network {k}, layer {l}, E z^4"),
                    g.fourth[l],
                    c.fourth[l],
                );
                close(
                    &format!("network {k}, layer {l}, E z z'"),
                    g.cross[l],
                    c.cross[l],
                );
                close(
                    &format!("network {k}, layer {l}, E z'^2"),
                    g.second_other[l],
                    c.second_other[l],
                );
                close(
                    &format!("network {k}, layer {l}, |delta|^2"),
                    g.gradient[l],
                    c.gradient[l],
                );
            }
            close(&format!("network {k}, Theta"), g.ntk, c.ntk);
            if k < 3 {
                // A readout is a value of spread sqrt(E z^2): compared on that scale.
                let scale = c.second[6].sqrt();
                for (a, b) in g.output.iter().zip(&c.output) {
                    assert!(
                        (a - b).abs() <= 1e-4 * scale,
                        "{activation}: readout {a} vs {b}"
                    );
                }
                assert_eq!(g.output.len(), n);
            } else {
                assert!(g.output.is_empty());
            }
        }
    }
}

/// A whole ensemble on the GPU (several dispatches, the histogram's readouts) reports the CPU
/// ensemble's numbers: the per-network agreement above (1e-4) carried through sums over
/// networks, which average rounding rather than grow it.
#[test]
fn the_depth_ensemble_on_the_gpu_equals_the_cpu_one() {
    use theorylab::experiments::depth::ensemble::{Ensemble, EnsembleConfig};
    let Some(ctx) = context() else { return };
    let config = EnsembleConfig {
        activation: Activation::Tanh,
        weight_var: 1.2,
        bias_var: 0.05,
        depth: 5,
        width: 100,
        samples: 9000,
        ..EnsembleConfig::default()
    };
    let run = |mut e: Ensemble| {
        let mut steps = 0;
        while !pollster::block_on(e.step()).unwrap().finished() {
            steps += 1;
        }
        (e.result(), steps)
    };
    let (cpu, _) = run(Ensemble::new(&config).unwrap());
    let (gpu, steps) = run(Ensemble::on(&config, Some(ctx)).unwrap());
    assert!(steps >= 1, "9000 networks take more than one dispatch");
    assert!(gpu.backend.starts_with("gpu: "), "{}", gpu.backend);
    let close = |what: &str, g: f64, c: f64| {
        assert!((g - c).abs() <= 1e-4 * c.abs(), "{what}: GPU {g}, CPU {c}");
    };
    close(
        "kurtosis ratio",
        gpu.output.kurtosis_ratio,
        cpu.output.kurtosis_ratio,
    );
    close("its standard error", gpu.output.stderr, cpu.output.stderr);
    close("NTK ratio", gpu.ntk.ratio, cpu.ntk.ratio);
    for (g, c) in gpu.layers.iter().zip(&cpu.layers) {
        close("E z^2", g.moments.second_moment, c.moments.second_moment);
        close("correlation", g.correlation, c.correlation);
        close("gradient", g.gradient_norm, c.gradient_norm);
    }
    assert_eq!(gpu.output_values.len(), cpu.output_values.len());
    // A readout is a value of spread sqrt(E z^2); near zero it is compared on that scale.
    let scale = cpu.output.second_moment.sqrt();
    for (g, c) in gpu.output_values.iter().zip(&cpu.output_values) {
        assert!((g - c).abs() <= 1e-4 * scale, "readout: GPU {g}, CPU {c}");
    }
}

/// Where f32 cannot hold an architecture's numbers the GPU sampler declines it, and the
/// ensemble runs on the CPU and says why (ReLU at C_W = 0.1: the kernel falls by 20 per layer,
/// the gradient norm likewise).
#[test]
fn an_ensemble_f32_cannot_hold_runs_on_the_cpu_and_says_so() {
    use theorylab::experiments::depth::ensemble::{Ensemble, EnsembleConfig};
    let Some(ctx) = context() else { return };
    let config = EnsembleConfig {
        weight_var: 0.1,
        depth: 20,
        samples: 4,
        ..EnsembleConfig::default()
    };
    let mut e = Ensemble::on(&config, Some(ctx)).unwrap();
    while !pollster::block_on(e.step()).unwrap().finished() {}
    let backend = e.result().backend;
    assert!(
        backend.starts_with("cpu (f64) instead of the GPU ("),
        "{backend}"
    );
    assert!(backend.contains("outside [1e-15, 1e15]"), "{backend}");
}
