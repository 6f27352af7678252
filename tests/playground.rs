//! The Playground room's numbers: the maps it draws are the network's own outputs and hidden
//! units at the cell centres, and its permalinks give back exactly the config they encode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::assert_close;
use nalgebra::DMatrix;
use theorylab::core::activation::Activation;
use theorylab::core::data::{DataConfig, DatasetName};
use theorylab::core::loss::Loss;
use theorylab::core::mlp::Mlp;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::train::TrainConfig;
use theorylab::experiments::permalink;
use theorylab::experiments::playground::{Plane, decision_map, points_by_class, unit_maps};
use theorylab::plot::{self, Figure};

fn network(classes: usize, activation: Activation, seed: u64) -> (TrainConfig, Mlp<f64>) {
    let config = TrainConfig {
        width: 16,
        depth: 2,
        activation,
        data: DataConfig {
            dataset: DatasetName::GaussianMixture,
            dim: 2,
            classes,
            samples: 60,
            ..DataConfig::default()
        },
        seed,
        ..TrainConfig::default()
    };
    let (train, _) = config.make_data().unwrap();
    let mlp = config.init_mlp::<f64>(&train).unwrap();
    (config, mlp)
}

/// The network on one point, by the definition: h_0 = x, h_l = phi(W_l h_{l-1} + b_l),
/// f = W_{L+1} h_L + b_{L+1}, with the effective (multiplied) weights.
fn by_hand(mlp: &Mlp<f64>, x: [f64; 2]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut h = DMatrix::from_column_slice(2, 1, &x);
    let mut hidden = Vec::new();
    let last = mlp.layers.len() - 1;
    for (l, layer) in mlp.layers.iter().enumerate() {
        let mut z = layer.effective_weight() * &h;
        if let Some(b) = layer.effective_bias() {
            z += b;
        }
        if l == last {
            return (hidden, z.iter().copied().collect());
        }
        h = z.map(|v| mlp.activation.apply(v));
        hidden.push(h.iter().copied().collect());
    }
    unreachable!("an MLP has an output layer")
}

#[test]
fn the_plane_is_a_square_holding_every_point_with_cells_centred_row_major() {
    let (config, _) = network(3, Activation::Relu, 1);
    let (train, test) = config.make_data().unwrap();
    let test = test.unwrap();
    let plane = Plane::around(&[&train, &test], 5).unwrap();
    assert_close(
        "square",
        plane.x.1 - plane.x.0,
        plane.y.1 - plane.y.0,
        1e-12,
        0.0,
    );
    for p in train
        .features
        .column_iter()
        .chain(test.features.column_iter())
    {
        assert!(plane.x.0 < p[0] && p[0] < plane.x.1 && plane.y.0 < p[1] && p[1] < plane.y.1);
    }
    let c = plane.centres::<f64>();
    let d = (plane.x.1 - plane.x.0) / 5.0;
    // Column iy * n + ix is the centre of cell (ix, iy), as plot::Heatmap lays out values.
    assert_close(
        "x of (3, 1)",
        c[(0, 5 + 3)],
        plane.x.0 + 3.5 * d,
        1e-12,
        1e-12,
    );
    assert_close(
        "y of (3, 1)",
        c[(1, 5 + 3)],
        plane.y.0 + 1.5 * d,
        1e-12,
        1e-12,
    );
}

#[test]
fn the_plane_refuses_data_it_cannot_draw() {
    let (mut config, _) = network(2, Activation::Relu, 0);
    let (train, _) = config.make_data().unwrap();
    assert!(Plane::around(&[&train], 0).is_err());
    assert!(Plane::around(&[&train], 10_000).is_err());
    config.data.dim = 3;
    let (three_d, _) = config.make_data().unwrap();
    let e = Plane::around(&[&three_d], 8).unwrap_err().to_string();
    assert!(e.contains("3 features"), "{e}");
}

#[test]
fn the_decision_map_is_the_softmax_of_the_network_at_each_cell_centre() {
    let (config, mlp) = network(2, Activation::Tanh, 2);
    let (train, _) = config.make_data().unwrap();
    let plane = Plane::around(&[&train], 7).unwrap();
    let map = decision_map(&mlp, &plane, Loss::CrossEntropy).unwrap();
    assert_eq!(map.values.len(), 49);
    assert_eq!(map.label, "P(class 1 | x)");
    let c = plane.centres::<f64>();
    for (i, &v) in map.values.iter().enumerate() {
        let (_, f) = by_hand(&mlp, [c[(0, i)], c[(1, i)]]);
        let p1 = f[1].exp() / (f[0].exp() + f[1].exp());
        // Same arithmetic up to summation order: a few ulps.
        assert_close("P(class 1)", v, p1, 1e-12, 1e-15);
    }
    let mse = decision_map(&mlp, &plane, Loss::Mse).unwrap();
    let (_, f) = by_hand(&mlp, [c[(0, 0)], c[(1, 0)]]);
    assert_close("f1 - f0", mse.values[0], f[1] - f[0], 1e-12, 1e-14);
}

#[test]
fn with_more_classes_the_map_is_the_predicted_class() {
    let (config, mlp) = network(4, Activation::Relu, 3);
    let (train, _) = config.make_data().unwrap();
    let plane = Plane::around(&[&train], 6).unwrap();
    let map = decision_map(&mlp, &plane, Loss::CrossEntropy).unwrap();
    let c = plane.centres::<f64>();
    for (i, &v) in map.values.iter().enumerate() {
        let (_, f) = by_hand(&mlp, [c[(0, i)], c[(1, i)]]);
        let best = (0..4).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap();
        assert_eq!(v, best as f64);
    }
}

#[test]
fn each_unit_map_is_that_hidden_unit_at_each_cell_centre() {
    let (config, mlp) = network(2, Activation::Gelu, 4);
    let (train, _) = config.make_data().unwrap();
    let plane = Plane::around(&[&train], 5).unwrap();
    let maps = unit_maps(&mlp, &plane, 2, 6).unwrap();
    assert_eq!((maps.len(), maps[0].len(), maps[0][0].len()), (2, 6, 25));
    let c = plane.centres::<f64>();
    for cell in 0..25 {
        let (hidden, _) = by_hand(&mlp, [c[(0, cell)], c[(1, cell)]]);
        for (l, layer) in maps.iter().enumerate() {
            for (u, values) in layer.iter().enumerate() {
                assert_close("h", values[cell], hidden[l][u], 1e-12, 1e-14);
            }
        }
    }
    // Asking for more layers or units than exist gives what exists.
    let all = unit_maps(&mlp, &plane, 9, 100).unwrap();
    assert_eq!((all.len(), all[1].len()), (2, 16));
}

#[test]
fn the_figures_show_every_point_by_class_and_split() {
    let (config, mlp) = network(2, Activation::Relu, 5);
    let (train, test) = config.make_data().unwrap();
    let plane = Plane::around(&[&train], 12).unwrap();
    let map = decision_map(&mlp, &plane, Loss::CrossEntropy).unwrap();
    let figure = theorylab::experiments::playground::figures::decision_map(
        &plane,
        &map,
        &train,
        test.as_ref(),
    );
    let Figure::Heatmap(h) = &figure else {
        panic!("the decision map is a heat map")
    };
    let drawn: usize = h.overlay.iter().map(|g| g.points.len()).sum();
    assert_eq!(drawn, train.len() + test.as_ref().unwrap().len());
    let names: Vec<&str> = h.overlay.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "class 0 (train)",
            "class 1 (train)",
            "class 0 (test)",
            "class 1 (test)"
        ]
    );
    let by_class: usize = points_by_class(&train).iter().map(|(_, p)| p.len()).sum();
    assert_eq!(by_class, train.len());
    let svg = plot::to_svg(&[figure], 560, 460).unwrap();
    assert!(svg.contains("Decision map") && svg.contains("P(class 1 | x)"));
    let units = theorylab::experiments::playground::figures::unit_maps(
        &plane,
        &unit_maps(&mlp, &plane, 2, 3).unwrap(),
    );
    assert_eq!(units[1][2].title(), "layer 2, unit 3");
}

#[test]
fn the_default_config_has_an_empty_permalink() {
    assert_eq!(permalink::encode(&TrainConfig::default()).unwrap(), "");
    assert_eq!(
        permalink::decode::<TrainConfig>("").unwrap(),
        TrainConfig::default()
    );
}

#[test]
fn a_permalink_gives_back_exactly_the_config() {
    let mut config = TrainConfig {
        width: 256,
        depth: 3,
        activation: Activation::Erf,
        residual: Some(0.5),
        parametrization: Parametrization::parse_abc("-0.5,0.5,0;0,0.5,0;0.5,0.5,0").unwrap(),
        loss: Loss::Mse,
        seed: 12345678901,
        ..TrainConfig::default()
    };
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.lr = 0.1 + 0.2; // not a short decimal: the round trip must be exact
    config.data.dataset = DatasetName::Xor;
    config.data.noise = 1.0 / 3.0;
    let query = permalink::encode(&config).unwrap();
    assert!(
        query.contains("width=256") && query.contains("data.dataset=xor"),
        "{query}"
    );
    assert!(!query.contains("steps="), "defaults are left out: {query}");
    assert_eq!(permalink::decode::<TrainConfig>(&query).unwrap(), config);
    assert_eq!(
        permalink::decode::<TrainConfig>(&format!("?{query}")).unwrap(),
        config
    );
}

#[test]
fn a_bad_permalink_is_an_error_that_names_the_problem() {
    let err = |q: &str| permalink::decode::<TrainConfig>(q).unwrap_err().to_string();
    assert!(
        err("width=banana").contains("width"),
        "{}",
        err("width=banana")
    );
    assert!(err("wdth=3").contains("wdth"), "{}", err("wdth=3"));
    assert!(err("optimizer.lrate=3").contains("lrate"));
    assert!(err("width=3&width=4").contains("twice"));
    assert!(err("width.x=3").contains("width"));
    assert!(err("activation=swish").contains("swish"));
    assert!(err(&"a".repeat(permalink::MAX_QUERY_LEN + 1)).contains("characters"));
    assert!(err("..=1").contains("malformed"));
}

#[test]
fn hostile_permalinks_never_panic() {
    let mut rng = theorylab::core::rng::Rng::new(9, theorylab::core::rng::Stream::Experiment);
    let alphabet = b"=&.%?#<>\"'\\0123456789abcdefghijklmnopqrstuvwxyz_-+e ";
    for _ in 0..2000 {
        let len = rng.below(60);
        let query: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())] as char)
            .collect();
        let _ = permalink::decode::<TrainConfig>(&query);
    }
}
