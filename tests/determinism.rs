//! Same seed, same numbers; different seed, different numbers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use theorylab::core::data::DatasetName;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::run;
use theorylab::core::train::{Precision, TrainConfig, TrainResult};
use theorylab::core::vocabulary::Choice;
use theorylab::experiments::playground::training::Training;

fn train(seed: u64, batch_size: usize, precision: Precision) -> TrainResult {
    let mut config = TrainConfig {
        seed,
        batch_size,
        precision,
        steps: 40,
        ..TrainConfig::default()
    };
    config.data.dataset = DatasetName::Circles;
    let (train, test) = config.make_data().unwrap();
    let mut training = Training::new(&config, &train, test.as_ref()).unwrap();
    run(&mut training, |_| std::ops::ControlFlow::Continue(())).unwrap()
}

#[test]
fn same_seed_gives_bit_identical_training() {
    for precision in [Precision::F32, Precision::F64] {
        for batch_size in [0, 32] {
            assert_eq!(
                train(5, batch_size, precision),
                train(5, batch_size, precision)
            );
        }
    }
}

#[test]
fn different_seeds_give_different_training() {
    let (a, b) = (train(5, 32, Precision::F64), train(6, 32, Precision::F64));
    assert_ne!(a.curves.train_loss, b.curves.train_loss);
}

#[test]
fn every_data_set_is_reproducible_and_seed_dependent() {
    for dataset in DatasetName::all() {
        if matches!(dataset, DatasetName::Csv | DatasetName::Digits) {
            continue;
        }
        let mut config = TrainConfig::default();
        config.data.dataset = dataset;
        let draw = |seed: u64| config.data.generate(seed).unwrap();
        assert_eq!(draw(1), draw(1), "{dataset:?}");
        assert_ne!(draw(1).features, draw(2).features, "{dataset:?}");
    }
}

#[test]
fn streams_are_independent_and_normal_draws_are_standard() {
    let mut a = Rng::new(9, Stream::Init);
    let mut b = Rng::new(9, Stream::Data);
    assert_ne!(a.next_u64(), b.next_u64());
    // Mean and variance of 200k N(0,1) draws: standard errors 1/sqrt(n) = 0.0022 and
    // sqrt(2/n) = 0.0032; we allow 5 of them.
    let n = 200_000;
    let draws: Vec<f64> = (0..n).map(|_| a.normal()).collect();
    let mean = draws.iter().sum::<f64>() / n as f64;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    assert!(mean.abs() < 5.0 * 0.0022, "mean {mean}");
    assert!((var - 1.0).abs() < 5.0 * 0.0032, "variance {var}");
    // Fraction beyond 1.96: 0.05 with standard error sqrt(0.05 * 0.95 / n) = 0.00049.
    let tail = draws.iter().filter(|x| x.abs() > 1.959_963_985).count() as f64 / n as f64;
    assert!(
        (tail - 0.05).abs() < 5.0 * 0.00049,
        "two-sided 5% tail {tail}"
    );
}

#[test]
fn below_is_uniform_and_shuffle_is_a_permutation() {
    let mut rng = Rng::new(4, Stream::Experiment);
    // 60k draws over 6 cells: each count ~ 10000 with std sqrt(60000 * 1/6 * 5/6) = 91.
    let mut counts = [0usize; 6];
    (0..60_000).for_each(|_| counts[rng.below(6)] += 1);
    assert!(
        counts
            .iter()
            .all(|&c| (c as f64 - 10_000.0).abs() < 5.0 * 91.3),
        "{counts:?}"
    );
    let mut items: Vec<usize> = (0..100).collect();
    rng.shuffle(&mut items);
    assert_ne!(items, (0..100).collect::<Vec<_>>());
    items.sort();
    assert_eq!(items, (0..100).collect::<Vec<_>>());
}

/// The CPU backend splits a batch by columns (and a weight gradient by input units) over its
/// threads, never the terms of one sum, so every number must be the same bits on one thread as
/// on two, with residual blocks too. The shapes are the hard case: widths and batch not
/// multiples of the kernels' 16-column tiles, sums longer than one 256-deep block (so the gemm
/// accumulates into C), and the NTK parametrization's non-unit multipliers n^-1/2.
#[test]
fn threads_split_work_not_sums_so_numbers_do_not_depend_on_them() {
    use nalgebra::DMatrix;
    use theorylab::core::activation::Activation;
    use theorylab::core::loss::{Loss, Target};
    use theorylab::core::mlp::{Mlp, MlpConfig};
    use theorylab::core::optim::OptimizerKind;
    use theorylab::core::parallel;
    use theorylab::core::parametrization::Parametrization;

    for residual in [None, Some(0.5)] {
        let config = MlpConfig {
            input_dim: 32,
            hidden: vec![300, 300],
            output_dim: 10,
            activation: Activation::Tanh,
            bias: true,
            residual,
            rules: Parametrization::Ntk.rules(OptimizerKind::Sgd),
            sigma_w: 1.0,
            sigma_b: 0.5,
        };
        let mut rng = Rng::new(3, Stream::Init);
        let mlp = Mlp::<f32>::init(&config, &mut rng).unwrap();
        let x = DMatrix::from_fn(32, 300, |_, _| rng.normal() as f32);
        let labels: Vec<usize> = (0..300).map(|_| rng.below(10)).collect();
        let pass = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                // With two threads the batch really is split (else this test proves nothing).
                let work = (mlp.num_params() * 300) as f64;
                assert_eq!(parallel::ranges(300, work, 16).len(), threads);
                let forward = mlp.forward(&x).unwrap();
                let (_, d_output) = Loss::CrossEntropy
                    .value_and_gradient(forward.output(), Target::Classes(&labels))
                    .unwrap();
                let gradient = Mlp::flatten_like(&mlp.backward(&forward, &d_output));
                let (h, z) = (forward.activations, forward.preactivations);
                (h, z, mlp.predict(&x).unwrap(), gradient)
            })
        };
        let (one, two) = (pass(1), pass(2));
        assert_eq!(one, two, "residual {residual:?}");
        // predict keeps no intermediates but computes the same output as forward.
        assert_eq!(one.2, mlp.forward(&x).unwrap().output().clone());
    }
}
