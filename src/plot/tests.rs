//! Tests of the figure module: every kind renders, every refusal names its reason.

use super::*;

/// Deterministic pseudo-random numbers in [0, 1) (a small LCG; tests need no real randomness).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u = self.next().max(1e-300);
        let v = self.next();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn line_plot() -> LinePlot {
    LinePlot {
        title: "Training loss vs width".into(),
        x_label: "step".into(),
        y_label: "loss".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        markers: Vec::new(),
        errors: Vec::new(),
        theory: Vec::new(),
        series: vec![
            Series {
                name: "width 64".into(),
                points: (0..200)
                    .map(|i| (i as f64 * 5.0, 2.0 * (-(i as f64) / 40.0).exp() + 0.01))
                    .collect(),
            },
            Series {
                name: "width 1024".into(),
                points: (0..20)
                    .map(|i| (i as f64 * 50.0, 1.5 * (-(i as f64) / 3.0).exp() + 0.002))
                    .collect(),
            },
        ],
    }
}

fn scatter_plot() -> ScatterPlot {
    let mut r = Lcg(7);
    let cloud = |r: &mut Lcg, cx: f64, cy: f64, n: usize| -> Vec<(f64, f64)> {
        (0..n)
            .map(|_| (cx + 0.6 * r.normal(), cy + 0.6 * r.normal()))
            .collect()
    };
    ScatterPlot {
        title: "Penultimate-layer features".into(),
        x_label: "feature 1".into(),
        y_label: "feature 2".into(),
        groups: vec![
            Series {
                name: "class 0".into(),
                points: cloud(&mut r, -1.0, 0.0, 150),
            },
            Series {
                name: "class 1".into(),
                points: cloud(&mut r, 1.5, 1.0, 150),
            },
            Series {
                name: "class 2".into(),
                points: cloud(&mut r, 0.0, 2.5, 150),
            },
        ],
    }
}

fn heatmap(signed: bool) -> Heatmap {
    let (nx, ny) = (60, 50);
    let (x_range, y_range) = ((-3.0, 3.0), (-2.5, 2.5));
    let dx = (x_range.1 - x_range.0) / nx as f64;
    let dy = (y_range.1 - y_range.0) / ny as f64;
    let mut values = Vec::with_capacity(nx * ny);
    for iy in 0..ny {
        for ix in 0..nx {
            let x = x_range.0 + (ix as f64 + 0.5) * dx;
            let y = y_range.0 + (iy as f64 + 0.5) * dy;
            values.push(if signed {
                4.0 * (x * y / 2.0).tanh() + 0.5 * x
            } else {
                (x * x + 2.0 * y * y).ln_1p()
            });
        }
    }
    let mut r = Lcg(3);
    let pts = |r: &mut Lcg, n: usize| -> Vec<(f64, f64)> {
        (0..n)
            .map(|_| (x_range.0 + 6.0 * r.next(), y_range.0 + 5.0 * r.next()))
            .collect()
    };
    Heatmap {
        title: if signed {
            "Decision function".into()
        } else {
            "Loss landscape".into()
        },
        x_label: "x₁".into(),
        y_label: "x₂".into(),
        x_range,
        y_range,
        nx,
        ny,
        values,
        contours: Vec::new(),
        lines: Vec::new(),
        colorbar_label: if signed {
            "network output f(x)".into()
        } else {
            "log(1 + loss)".into()
        },
        overlay: if signed {
            vec![
                Series {
                    name: "train".into(),
                    points: pts(&mut r, 40),
                },
                Series {
                    name: "test".into(),
                    points: pts(&mut r, 20),
                },
            ]
        } else {
            Vec::new()
        },
    }
}

fn histogram() -> Histogram {
    let mut r = Lcg(11);
    let values: Vec<f64> = (0..2000).map(|_| r.normal()).collect();
    let pdf = (0..=200)
        .map(|i| {
            let x = -4.5 + 9.0 * i as f64 / 200.0;
            (
                x,
                (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt(),
            )
        })
        .collect();
    Histogram {
        title: "Pre-activations at initialisation".into(),
        x_label: "pre-activation".into(),
        values,
        bins: 40,
        theory: vec![Series {
            name: "N(0, 1) pdf".into(),
            points: pdf,
        }],
    }
}

fn all_kinds() -> Vec<Figure> {
    vec![
        Figure::Line(line_plot()),
        Figure::Scatter(scatter_plot()),
        Figure::Heatmap(heatmap(true)),
        Figure::Histogram(histogram()),
    ]
}

fn assert_svg(svg: &str) {
    assert!(
        svg.trim_start().starts_with("<svg"),
        "{}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
}

fn err_message(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn each_kind_renders_svg_with_title_labels_and_legend() {
    let cases: Vec<(Figure, Vec<&str>)> = vec![
        (
            Figure::Line(line_plot()),
            vec![
                "Training loss vs width",
                "step",
                "loss",
                "width 64",
                "width 1024",
                "10⁰",
            ],
        ),
        (
            Figure::Scatter(scatter_plot()),
            vec![
                "Penultimate-layer features",
                "feature 1",
                "feature 2",
                "class 0",
                "class 2",
            ],
        ),
        (
            Figure::Heatmap(heatmap(true)),
            vec![
                "Decision function",
                "x₁",
                "x₂",
                "network output f(x)",
                "train",
                "test",
            ],
        ),
        (
            Figure::Heatmap(heatmap(false)),
            vec!["Loss landscape", "log(1 + loss)"],
        ),
        (
            Figure::Histogram(histogram()),
            vec![
                "Pre-activations at initialisation",
                "pre-activation",
                "probability density",
                "N(0, 1) pdf",
                "histogram (n = 2000)",
            ],
        ),
    ];
    for (fig, needles) in cases {
        let svg = to_svg(std::slice::from_ref(&fig), 640, 480).unwrap();
        assert_svg(&svg);
        for n in needles {
            assert!(
                svg.contains(n),
                "'{}' missing from the SVG of '{}'",
                n,
                fig.title()
            );
        }
    }
}

#[test]
fn single_series_has_no_legend_and_text_is_escaped() {
    let mut p = line_plot();
    p.series.truncate(1);
    p.title = "a < b & c".into();
    let svg = to_svg(&[Figure::Line(p)], 400, 300).unwrap();
    assert!(svg.contains("a &lt; b &amp; c"));
    assert!(!svg.contains("width 64"), "a lone series needs no legend");
}

#[test]
fn panels_side_by_side_and_constant_series() {
    let flat = LinePlot {
        title: "flat".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![Series {
            name: "c".into(),
            points: vec![(1.0, 3.0), (1.0, 3.0)],
        }],
        ..Default::default()
    };
    let mut panels = all_kinds();
    panels.push(Figure::Line(flat));
    let svg = to_svg(&panels, 2500, 450).unwrap();
    assert_svg(&svg);
    for f in &panels {
        assert!(svg.contains(f.title()));
    }
    // One-point scatter and a histogram of identical values are drawable too.
    let one = ScatterPlot {
        title: "one".into(),
        groups: vec![Series {
            name: "p".into(),
            points: vec![(0.0, 0.0)],
        }],
        ..Default::default()
    };
    let same = Histogram {
        title: "same".into(),
        values: vec![2.0; 10],
        bins: 5,
        ..Default::default()
    };
    assert_svg(&to_svg(&[Figure::Scatter(one), Figure::Histogram(same)], 400, 200).unwrap());
}

#[test]
fn png_has_signature_and_size() {
    let png_bytes = to_png(&all_kinds(), 1600, 400).unwrap();
    assert_eq!(
        &png_bytes[..8],
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1600, 400));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    // Not blank: the top-left corner is white background, but some pixels are dark (text, axes).
    assert_eq!(&buf[..3], &[255, 255, 255]);
    assert!(buf.chunks(3).any(|p| p.iter().all(|&c| c < 60)));
}

#[test]
fn histogram_density_integrates_to_one() {
    let mut r = Lcg(5);
    for (n, bins) in [(1usize, 1usize), (7, 3), (1000, 37), (5000, 200)] {
        let values: Vec<f64> = (0..n).map(|_| r.normal() * 3.0 + 1.0).collect();
        let (edges, dens) = histogram_density(&values, bins).unwrap();
        assert_eq!(edges.len(), bins + 1);
        assert_eq!(dens.len(), bins);
        let area: f64 = edges
            .windows(2)
            .zip(&dens)
            .map(|(e, d)| d * (e[1] - e[0]))
            .sum();
        assert!(
            (area - 1.0).abs() < 1e-12,
            "n = {n}, bins = {bins}: area {area}"
        );
    }
    let (edges, dens) = histogram_density(&[4.0, 4.0, 4.0], 4).unwrap();
    let area: f64 = edges
        .windows(2)
        .zip(&dens)
        .map(|(e, d)| d * (e[1] - e[0]))
        .sum();
    assert!((area - 1.0).abs() < 1e-12);
    assert!(err_message(histogram_density(&[1.0], 0)).contains("bins"));
    assert!(err_message(histogram_density(&[], 3)).contains("no values"));
    assert!(err_message(histogram_density(&[1.0, f64::NAN], 3)).contains("not finite"));
}

#[test]
fn refusals_name_the_problem() {
    let svg = |f: Figure| err_message(to_svg(&[f], 640, 480));

    assert!(err_message(to_svg(&[], 640, 480)).contains("no panels"));
    assert!(err_message(to_svg(&all_kinds(), 99, 480)).contains("too small"));
    assert!(err_message(to_svg(&all_kinds(), 640, 50)).contains("too small"));
    assert!(err_message(to_svg(&all_kinds(), 300, 480)).contains("per panel"));
    assert!(err_message(to_png(&all_kinds(), 99, 480)).contains("too small"));

    let mut p = line_plot();
    p.series.clear();
    assert!(svg(Figure::Line(p)).contains("no series"));

    let mut p = line_plot();
    p.series[1].points.clear();
    let m = svg(Figure::Line(p));
    assert!(m.contains("'width 1024'") && m.contains("no points"), "{m}");

    let mut p = line_plot();
    p.series[0].points[3].1 = f64::NAN;
    let m = svg(Figure::Line(p));
    assert!(
        m.contains("'width 64'")
            && m.contains("non-finite")
            && m.contains("Training loss vs width"),
        "{m}"
    );

    let mut p = line_plot();
    p.series[1].points[2].1 = 0.0;
    let m = svg(Figure::Line(p));
    assert!(
        m.contains("'width 1024'") && m.contains("non-positive y") && m.contains("logarithmic"),
        "{m}"
    );

    let mut p = line_plot();
    p.x_scale = Scale::Log; // the first point has x = 0
    let m = svg(Figure::Line(p));
    assert!(
        m.contains("'width 64'") && m.contains("non-positive x"),
        "{m}"
    );

    let mut p = scatter_plot();
    p.groups.clear();
    assert!(svg(Figure::Scatter(p)).contains("no point groups"));
    let mut p = scatter_plot();
    p.groups[2].points[0].0 = f64::INFINITY;
    assert!(svg(Figure::Scatter(p)).contains("'class 2'"));

    let mut h = heatmap(true);
    h.values.pop();
    assert!(svg(Figure::Heatmap(h)).contains("entries but nx * ny"));
    let mut h = heatmap(true);
    h.nx = 0;
    assert!(svg(Figure::Heatmap(h)).contains("at least one cell"));
    let mut h = heatmap(true);
    h.values[61] = f64::NAN;
    assert!(svg(Figure::Heatmap(h)).contains("ix = 1, iy = 1"));
    let mut h = heatmap(true);
    h.x_range = (1.0, 1.0);
    assert!(svg(Figure::Heatmap(h)).contains("x_range"));
    let mut h = heatmap(true);
    h.overlay[1].points[0].1 = f64::NAN;
    assert!(svg(Figure::Heatmap(h)).contains("'test'"));

    let mut h = histogram();
    h.bins = 0;
    assert!(svg(Figure::Histogram(h)).contains("bins"));
    let mut h = histogram();
    h.values.clear();
    assert!(svg(Figure::Histogram(h)).contains("no values"));
    let mut h = histogram();
    h.values[5] = f64::NEG_INFINITY;
    assert!(svg(Figure::Histogram(h)).contains("value 5"));
    let mut h = histogram();
    h.theory[0].points[0].1 = f64::NAN;
    assert!(svg(Figure::Histogram(h)).contains("'N(0, 1) pdf'"));
}

/// Writes one PNG (and SVG) per figure kind for visual inspection when
/// `THEORYLAB_PLOT_EXAMPLES` names a directory; otherwise only renders them.
#[test]
fn example_pictures() {
    let figs = [
        ("line", Figure::Line(line_plot())),
        ("scatter", Figure::Scatter(scatter_plot())),
        ("heatmap_signed", Figure::Heatmap(heatmap(true))),
        ("heatmap_positive", Figure::Heatmap(heatmap(false))),
        ("histogram", Figure::Histogram(histogram())),
    ];
    let dir = std::env::var_os("THEORYLAB_PLOT_EXAMPLES").map(std::path::PathBuf::from);
    for (name, fig) in &figs {
        let png_bytes = to_png(std::slice::from_ref(fig), 640, 480).unwrap();
        let svg = to_svg(std::slice::from_ref(fig), 640, 480).unwrap();
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png_bytes).unwrap();
            std::fs::write(dir.join(format!("{name}.svg")), svg).unwrap();
        }
    }
    let row = to_png(&all_kinds(), 2000, 420).unwrap();
    if let Some(dir) = &dir {
        std::fs::write(dir.join("row.png"), row).unwrap();
    }
}

/// Inverse of `raster::base64` (test only).
fn unbase64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != b'=')
            .fold(0, |n, (i, &c)| n | value(c) << (18 - 6 * i));
        let real = chunk.iter().filter(|&&c| c != b'=').count() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + real]);
    }
    out
}

#[test]
fn svg_heatmap_cells_are_one_png_image_with_the_colour_of_each_value() {
    let (nx, ny) = (3, 2);
    let values = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let h = Heatmap {
        title: "grid".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        x_range: (0.0, 3.0),
        y_range: (0.0, 2.0),
        nx,
        ny,
        values: values.clone(),
        colorbar_label: "v".into(),
        overlay: Vec::new(),
        contours: Vec::new(),
        lines: Vec::new(),
    };
    let svg = to_svg(&[Figure::Heatmap(h)], 400, 300).unwrap();
    // The grid, then its colour bar.
    assert_eq!(svg.matches("<image").count(), 2);
    assert!(!svg.contains("#0102"), "a placeholder is left");
    let data = svg.split("data:image/png;base64,").nth(1).unwrap();
    let png_bytes = unbase64(&data[..data.find('"').unwrap()]);
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (nx as u32, ny as u32));
    let cmap = style::ColorMap::for_values(0.0, 5.0);
    for row in 0..ny {
        let iy = ny - 1 - row; // the image's top row is the grid's top (largest y)
        for ix in 0..nx {
            let c = cmap.color(values[iy * nx + ix]);
            let px = &pixels[(row * nx + ix) * 3..(row * nx + ix) * 3 + 3];
            assert_eq!(px, [c.0, c.1, c.2], "cell ({ix}, {iy})");
        }
    }
}

/// Rows of panels stay within the page's figure column: one row while it fits, else the
/// fewest rows that fit, as even as they can be.
#[test]
fn wide_figures_wrap_into_rows_that_fit_the_page() {
    assert_eq!(grid(6, 180), (1, 6)); // the Playground's units, 1080 px
    assert_eq!(grid(3, 360), (1, 3));
    assert_eq!(grid(4, 360), (2, 2));
    assert_eq!(grid(5, 360), (2, 3));
    assert_eq!(grid(2, 2000), (2, 1)); // a panel wider than the row stands alone
    for (n, w) in [(5, 360), (7, 200), (16, 100)] {
        let (rows, columns) = grid(n, w);
        assert!(rows * columns >= n && columns as u32 * w <= MAX_ROW_WIDTH);
        assert!((rows - 1) * columns < n, "{n} panels: a row left empty");
    }
}
