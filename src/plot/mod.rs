//! Figures: plain data in, an SVG document or PNG bytes out. No file I/O happens here.
//!
//! A figure is one or more panels ([`Figure`]) drawn side by side. Every panel gets a white
//! background, a title, axis labels, a legend when it shows more than one named thing, and
//! colours from the colour-blind-safe Okabe–Ito palette. Both outputs are produced by the same
//! drawing code (generic over plotters' backends); text is set in DejaVu Sans, embedded in the
//! binary on native targets (see `assets/README.md` for its licence) and left to the browser's
//! `sans-serif` on wasm32.
//!
//! Input that cannot be drawn honestly (empty series, NaN, a non-positive value on a log axis,
//! a grid whose size does not match its values, ...) is refused with [`Error::Plot`] naming the
//! panel and the offending series; nothing here panics on bad data.

mod axis;
mod draw;
mod metrics;
mod probe;
mod raster;
mod style;
mod svg;

pub use style::MIN_FONT_PX;

use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::prelude::DrawingBackend;
use plotters::style::WHITE;

use crate::error::{Error, Result};

/// One figure: its panels, the size each panel is drawn at, and its data.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureData {
    /// File stem of its exports (`change` -> change.svg, change.png, change.csv).
    pub stem: &'static str,
    /// Its panels, side by side (in rows no wider than `plot::MAX_ROW_WIDTH`).
    pub panels: Vec<Figure>,
    /// Width and height of one panel in CSS pixels (the SVG's size; PNGs are twice that).
    pub panel_size: (u32, u32),
    /// The numbers drawn, as CSV with a header row.
    pub csv: String,
}

impl FigureData {
    /// Width and height of the whole figure: its grid of panels.
    pub fn size(&self) -> (u32, u32) {
        let (w, h) = self.panel_size;
        let (rows, columns) = grid(self.panels.len(), self.panel_size.0);
        (w * columns as u32, h * rows as u32)
    }

    /// The figure as an SVG document.
    pub fn svg(&self) -> Result<String> {
        let (w, h) = self.size();
        to_svg_grid(
            &self.panels,
            grid(self.panels.len(), self.panel_size.0),
            w,
            h,
        )
    }

    /// The figure as a PNG at twice its size (natively; the page rasterizes the SVG).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn png(&self) -> Result<Vec<u8>> {
        let (w, h) = self.size();
        to_png_grid(
            &self.panels,
            grid(self.panels.len(), self.panel_size.0),
            2 * w,
            2 * h,
        )
    }
}

/// Smallest accepted figure side (and panel width), in pixels.
const MIN_SIDE: u32 = 100;
/// Largest accepted figure side, in pixels (guards against absurd allocations).
const MAX_SIDE: u32 = 16_384;

/// One named curve or point group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Name shown in the legend (and in error messages).
    pub name: String,
    /// The (x, y) points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scale {
    /// Equal distances for equal differences.
    #[default]
    Linear,
    /// Equal distances for equal ratios (base 10); all values on the axis must be positive.
    Log,
}

/// Curves y(x), e.g. loss against training step; lines get point markers when a series has
/// fewer than 30 points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinePlot {
    /// Panel title.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Scale of the horizontal axis.
    pub x_scale: Scale,
    /// Scale of the vertical axis.
    pub y_scale: Scale,
    /// The curves; a legend is drawn when there is more than one named thing.
    pub series: Vec<Series>,
    /// Point groups drawn as markers only, over the curves (e.g. training points).
    pub markers: Vec<Series>,
    /// What theory predicts, drawn as dashed lines beside the measurement (and named in the
    /// legend), e.g. a slope `n^-1/2` through the first measured point.
    pub theory: Vec<Series>,
    /// Error bars: `errors[i][k]` is the half-width (e.g. one standard error) of point k of
    /// `series[i]`, drawn as a vertical bar; empty, or one list per series (an empty list:
    /// no bars on that series).
    pub errors: Vec<Vec<f64>>,
}

/// Point clouds, one colour and marker shape per group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScatterPlot {
    /// Panel title.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// The point groups; a legend is drawn when there is more than one.
    pub groups: Vec<Series>,
}

/// values row-major: values[iy * nx + ix] is the cell centred at x = x_range.0 + (ix + 0.5) * dx,
/// y likewise; colour bar on the right labelled colorbar_label; optional overlaid point groups
/// (e.g. train/test points) drawn on top with a legend.
///
/// Here `dx = (x_range.1 - x_range.0) / nx` and `dy = (y_range.1 - y_range.0) / ny`. Values of
/// one sign use the viridis colour map over `[min, max]`; values of both signs use a
/// blue–white–red map symmetric about zero (white = 0).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// Panel title.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Left and right edges of the grid (start < end).
    pub x_range: (f64, f64),
    /// Bottom and top edges of the grid (start < end).
    pub y_range: (f64, f64),
    /// Number of cells along x.
    pub nx: usize,
    /// Number of cells along y.
    pub ny: usize,
    /// The `nx * ny` cell values, row-major with rows along x (see the type's documentation).
    pub values: Vec<f64>,
    /// Label of the colour bar.
    pub colorbar_label: String,
    /// Point groups drawn on top of the grid, with a legend.
    pub overlay: Vec<Series>,
    /// Level curves drawn thin and white over the cells, without a legend (their levels are
    /// the colour bar's): polylines, each a series of its own.
    pub contours: Vec<Series>,
    /// Curves drawn on top of the grid (e.g. a phase boundary), solid black, with a legend.
    pub lines: Vec<Series>,
}

/// Histogram of `values` in `bins` equal bins, drawn as a probability density (area 1) so that
/// `density` (an overlaid curve, e.g. the theoretical pdf, named in the legend) is directly
/// comparable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Panel title.
    pub title: String,
    /// Label of the horizontal axis (the vertical one is "probability density").
    pub x_label: String,
    /// The samples.
    pub values: Vec<f64>,
    /// Number of equal-width bins over `[min, max]` of the values.
    pub bins: usize,
    /// Reference densities drawn over the bars as dashed lines (e.g. the Gaussian and its
    /// first correction), each named in the legend.
    pub theory: Vec<Series>,
}

/// A height field on a regular grid drawn as a surface in 3-D, coloured by height (viridis)
/// and seen from above at an angle: `values[j * x.len() + i]` is the height over `(x[i], y[j])`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Surface {
    /// Panel title.
    pub title: String,
    /// What the horizontal axes and the height are, in one line under the surface (plotters'
    /// 3-D axes carry tick labels only).
    pub caption: String,
    /// Grid coordinates along the first horizontal axis, ascending.
    pub x: Vec<f64>,
    /// Grid coordinates along the second horizontal axis, ascending.
    pub y: Vec<f64>,
    /// Heights, `x.len() * y.len()`.
    pub values: Vec<f64>,
    /// Rotation about the vertical axis, in radians.
    pub yaw: f64,
    /// Elevation of the viewer, in radians.
    pub pitch: f64,
}

/// Points in 3-D, seen from a direction: groups of points (one colour each), and polylines
/// (solid) and theory polylines (dashed) through the same space. The three axes share one
/// scale, so shapes (a regular tetrahedron) keep their angles.
#[derive(Clone, Debug, PartialEq)]
pub struct Cloud {
    /// Panel title.
    pub title: String,
    /// What the axes are, in one line under the view (plotters' 3-D axes carry tick labels
    /// only).
    pub caption: String,
    /// Groups of points, each in its colour and in the legend.
    pub groups: Vec<Series3>,
    /// Solid polylines (each a list of points joined in order).
    pub lines: Vec<Series3>,
    /// Dashed polylines: the theory.
    pub theory: Vec<Series3>,
    /// Rotation about the vertical axis, in radians.
    pub yaw: f64,
    /// Elevation of the viewer, in radians.
    pub pitch: f64,
}

/// A named list of 3-D points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series3 {
    /// Name shown in the legend.
    pub name: String,
    /// The (x, y, z) points, in drawing order.
    pub points: Vec<(f64, f64, f64)>,
}

/// One panel of a figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// Curves.
    Line(LinePlot),
    /// Point clouds.
    Scatter(ScatterPlot),
    /// A scalar field on a regular grid with a colour bar.
    Heatmap(Heatmap),
    /// A density histogram with an optional reference curve.
    Histogram(Histogram),
    /// A height field in 3-D.
    Surface(Surface),
    /// Points and polylines in 3-D.
    Cloud(Cloud),
}

impl Figure {
    /// The panel's title.
    pub fn title(&self) -> &str {
        match self {
            Figure::Line(p) => &p.title,
            Figure::Scatter(p) => &p.title,
            Figure::Heatmap(p) => &p.title,
            Figure::Histogram(p) => &p.title,
            Figure::Surface(p) => &p.title,
            Figure::Cloud(p) => &p.title,
        }
    }
}

/// Widest row of panels, in CSS pixels: the page's figure column in a 1400-px window. A wider
/// row would be shrunk there, its text below 11 px (five 360-px maps are 1800 px).
pub const MAX_ROW_WIDTH: u32 = 1100;

/// `(rows, columns)` of a figure of `panels` panels `panel_width` wide: one row while it fits
/// in [`MAX_ROW_WIDTH`], else the fewest rows that fit, filled as evenly as they can be (four
/// 360-px panels: 2 x 2; five: 3 + 2).
pub fn grid(panels: usize, panel_width: u32) -> (usize, usize) {
    let panels = panels.max(1);
    let fit = (MAX_ROW_WIDTH / panel_width.max(1)).max(1) as usize;
    let rows = panels.div_ceil(fit);
    (rows, panels.div_ceil(rows))
}

/// Renders the panels side by side (one row) into an SVG document of width x height pixels.
pub fn to_svg(panels: &[Figure], width: u32, height: u32) -> Result<String> {
    to_svg_grid(panels, (1, panels.len()), width, height)
}

/// Renders the panels row by row into a `(rows, columns)` grid of width x height pixels.
pub fn to_svg_grid(
    panels: &[Figure],
    grid: (usize, usize),
    width: u32,
    height: u32,
) -> Result<String> {
    validate_all(panels, grid, width, height)?;
    register_font()?;
    let mut out = String::new();
    let rasters = std::cell::RefCell::new(Vec::new());
    {
        let root = svg::Svg::with_string(&mut out, (width, height)).into_drawing_area();
        render(&root, panels, grid, 1, Some(&rasters))?;
    }
    raster::substitute(&mut out, &rasters.into_inner(), panels[0].title())?;
    Ok(out)
}

/// Same picture as PNG bytes (RGB, encoded with the `png` crate); native only.
///
/// The picture is drawn at 2 or 3 times the size and averaged down, which anti-aliases lines
/// and markers and keeps glyph positions accurate to a fraction of a pixel.
#[cfg(not(target_arch = "wasm32"))]
pub fn to_png(panels: &[Figure], width: u32, height: u32) -> Result<Vec<u8>> {
    to_png_grid(panels, (1, panels.len()), width, height)
}

/// [`to_png`] in a `(rows, columns)` grid, as [`to_svg_grid`].
#[cfg(not(target_arch = "wasm32"))]
pub fn to_png_grid(
    panels: &[Figure],
    grid: (usize, usize),
    width: u32,
    height: u32,
) -> Result<Vec<u8>> {
    use plotters::backend::{BitMapBackend, RGBPixel};

    validate_all(panels, grid, width, height)?;
    register_font()?;
    let title = panels[0].title();
    let pixels = u64::from(width) * u64::from(height);
    let ratio: u32 = if pixels * 9 <= SUPERSAMPLE_BUDGET {
        3
    } else if pixels * 4 <= SUPERSAMPLE_BUDGET {
        2
    } else {
        1
    };
    let (big_w, big_h) = (width * ratio, height * ratio);
    let mut big = vec![255u8; big_w as usize * big_h as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut big, (big_w, big_h))
            .map_err(|e| Error::plot(title, format!("cannot create the bitmap: {e}")))?;
        render(&backend.into_drawing_area(), panels, grid, ratio, None)?;
    }
    let rgb = downsample(&big, width as usize, height as usize, ratio as usize);

    let png_err = |e: png::EncodingError| Error::plot(title, format!("PNG encoding failed: {e}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&rgb).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// Most device pixels drawn for one PNG (before averaging down).
#[cfg(not(target_arch = "wasm32"))]
const SUPERSAMPLE_BUDGET: u64 = 40_000_000;

/// Averages each `k` x `k` block of the RGB image `big` (`w*k` x `h*k`) into one pixel.
#[cfg(not(target_arch = "wasm32"))]
fn downsample(big: &[u8], w: usize, h: usize, k: usize) -> Vec<u8> {
    if k == 1 {
        return big.to_vec();
    }
    let big_w = w * k;
    let area = (k * k) as u32;
    let mut out = vec![0u8; w * h * 3];
    let mut row = vec![0u32; w * 3];
    for y in 0..h {
        row.iter_mut().for_each(|v| *v = 0);
        for line in big[y * k * big_w * 3..(y + 1) * k * big_w * 3].chunks_exact(big_w * 3) {
            for (i, px) in line.chunks_exact(3).enumerate() {
                let o = (i / k) * 3;
                row[o] += u32::from(px[0]);
                row[o + 1] += u32::from(px[1]);
                row[o + 2] += u32::from(px[2]);
            }
        }
        for (o, v) in out[y * w * 3..(y + 1) * w * 3].iter_mut().zip(&row) {
            *o = ((v + area / 2) / area) as u8;
        }
    }
    out
}

/// Histogram bin edges and densities used for drawing (bins equal-width over [min, max] of
/// values; density = count / (n * bin_width)); public so tests can check that the drawn area
/// is 1.
///
/// Returns `bins + 1` edges and `bins` densities. A value equal to the maximum falls in the last
/// bin. When all values are equal the bins span a unit-width interval centred on that value.
pub fn histogram_density(values: &[f64], bins: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    const T: &str = "histogram";
    if bins == 0 {
        return Err(Error::plot(T, "bins must be at least 1"));
    }
    if values.is_empty() {
        return Err(Error::plot(T, "no values to bin"));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::plot(
            T,
            format!("value {i} is not finite ({})", values[i]),
        ));
    }
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    if hi - lo <= 0.0 {
        lo -= 0.5;
        hi += 0.5;
    }
    let b = bins as f64;
    // hi - lo overflows only for data spanning most of the f64 range; divide first then.
    let overflow = !(hi - lo).is_finite();
    let width = if overflow {
        hi / b - lo / b
    } else {
        (hi - lo) / b
    };
    if !(width.is_finite() && width > 0.0) {
        return Err(Error::plot(
            T,
            format!("cannot split [{lo:e}, {hi:e}] into {bins} bins"),
        ));
    }
    let mut edges: Vec<f64> = (0..bins).map(|i| lo + i as f64 * width).collect();
    edges.push(hi);
    let mut counts = vec![0usize; bins];
    for v in values {
        let pos = if overflow {
            v / width - lo / width
        } else {
            (v - lo) / width
        };
        // `as usize` saturates (NaN cannot occur: values and lo are finite, width > 0).
        let i = (pos.floor().max(0.0) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let n = values.len() as f64;
    let density = counts.iter().map(|&c| c as f64 / (n * width)).collect();
    Ok((edges, density))
}

/// The embedded font, registered with plotters once per process.
#[cfg(not(target_arch = "wasm32"))]
fn register_font() -> Result<()> {
    use std::sync::OnceLock;
    static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT)
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::plot(
            "(font)",
            "the embedded DejaVu Sans font could not be loaded",
        ))
    }
}

/// In the browser plotters measures and draws text with the page's own fonts.
#[cfg(target_arch = "wasm32")]
fn register_font() -> Result<()> {
    Ok(())
}

/// White background, panels side by side, then flush the backend. `ratio` is the number of
/// device pixels per logical pixel.
///
/// With `rasters` (SVG output), heat-map grids are registered there and drawn as placeholders
/// (see [`raster`]); without, they are drawn cell by cell.
fn render<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Figure],
    grid: (usize, usize),
    ratio: u32,
    rasters: Option<&std::cell::RefCell<Vec<raster::Raster>>>,
) -> Result<()> {
    let title = panels[0].title();
    let err = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| {
        Error::plot(title, format!("drawing failed: {e}"))
    };
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly(grid);
    for (area, fig) in areas.iter().zip(panels) {
        draw::draw_panel(area, fig, ratio, rasters)?;
    }
    root.present().map_err(err)
}

/// Checks the figure size and every panel before anything is drawn.
fn validate_all(
    panels: &[Figure],
    (rows, columns): (usize, usize),
    width: u32,
    height: u32,
) -> Result<()> {
    let Some(first) = panels.first() else {
        return Err(Error::plot("(figure)", "no panels to draw"));
    };
    let t = first.title();
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(Error::plot(
            t,
            format!(
                "figure size {width}x{height} px is too small; both sides must be at least {MIN_SIDE} px"
            ),
        ));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::plot(
            t,
            format!("figure size {width}x{height} px is too large; at most {MAX_SIDE} px per side"),
        ));
    }
    if rows * columns < panels.len() {
        return Err(Error::plot(
            t,
            format!(
                "a grid of {rows} x {columns} cannot hold {} panels",
                panels.len()
            ),
        ));
    }
    let per_panel = width / columns.max(1) as u32;
    if per_panel < MIN_SIDE || height / (rows.max(1) as u32) < MIN_SIDE {
        return Err(Error::plot(
            t,
            format!(
                "figure size {width}x{height} px gives each of the {} panels only {per_panel} x {} px; at least {MIN_SIDE} px per panel side are needed",
                panels.len(),
                height / rows.max(1) as u32
            ),
        ));
    }
    panels.iter().try_for_each(validate)
}

/// How a series is called in messages: by name, or by position when unnamed.
fn describe(kind: &str, i: usize, s: &Series) -> String {
    if s.name.is_empty() {
        format!("{kind} #{}", i + 1)
    } else {
        format!("{kind} '{}'", s.name)
    }
}

/// Non-empty, finite, and positive on log axes.
fn check_series(title: &str, what: &str, s: &Series, x_log: bool, y_log: bool) -> Result<()> {
    if s.points.is_empty() {
        return Err(Error::plot(title, format!("{what} has no points")));
    }
    for (j, &(x, y)) in s.points.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            return Err(Error::plot(
                title,
                format!("{what} has a non-finite value at point {j}: ({x}, {y})"),
            ));
        }
        for (log, v, axis) in [(x_log, x, "x"), (y_log, y, "y")] {
            if log && v <= 0.0 {
                return Err(Error::plot(
                    title,
                    format!(
                        "{what} has a non-positive {axis} value ({v}) at point {j}, which the logarithmic {axis} axis cannot show"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Everything that would make a panel undrawable or misleading.
fn validate(fig: &Figure) -> Result<()> {
    let t = fig.title();
    match fig {
        Figure::Line(p) => {
            if p.series.is_empty() && p.markers.is_empty() {
                return Err(Error::plot(t, "no series or markers to draw"));
            }
            let (xl, yl) = (p.x_scale == Scale::Log, p.y_scale == Scale::Log);
            for (i, s) in p.series.iter().enumerate() {
                check_series(t, &describe("series", i, s), s, xl, yl)?;
            }
            for (i, s) in p.markers.iter().enumerate() {
                check_series(t, &describe("marker group", i, s), s, xl, yl)?;
            }
            for (i, s) in p.theory.iter().enumerate() {
                check_series(t, &describe("theory line", i, s), s, xl, yl)?;
            }
            if !p.errors.is_empty() && p.errors.len() != p.series.len() {
                return Err(Error::plot(
                    t,
                    format!(
                        "{} error-bar lists for {} series",
                        p.errors.len(),
                        p.series.len()
                    ),
                ));
            }
            for (i, (e, s)) in p.errors.iter().zip(&p.series).enumerate() {
                if !e.is_empty() && e.len() != s.points.len() {
                    return Err(Error::plot(
                        t,
                        format!(
                            "{} has {} points but {} error bars",
                            describe("series", i, s),
                            s.points.len(),
                            e.len()
                        ),
                    ));
                }
                if let Some(v) = e.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    return Err(Error::plot(
                        t,
                        format!(
                            "{}: error bar {v} is not finite and >= 0",
                            describe("series", i, s)
                        ),
                    ));
                }
            }
        }
        Figure::Scatter(p) => {
            if p.groups.is_empty() {
                return Err(Error::plot(t, "no point groups to draw"));
            }
            for (i, s) in p.groups.iter().enumerate() {
                check_series(t, &describe("group", i, s), s, false, false)?;
            }
        }
        Figure::Heatmap(p) => {
            if p.nx == 0 || p.ny == 0 {
                return Err(Error::plot(
                    t,
                    format!(
                        "the grid must have at least one cell per axis (nx = {}, ny = {})",
                        p.nx, p.ny
                    ),
                ));
            }
            let cells = p.nx.checked_mul(p.ny);
            if cells != Some(p.values.len()) {
                return Err(Error::plot(
                    t,
                    format!(
                        "values has {} entries but nx * ny = {} * {} cells",
                        p.values.len(),
                        p.nx,
                        p.ny
                    ),
                ));
            }
            for (name, (a, b)) in [("x_range", p.x_range), ("y_range", p.y_range)] {
                if !(a.is_finite() && b.is_finite() && a < b) {
                    return Err(Error::plot(
                        t,
                        format!("{name} ({a}, {b}) must be finite with start < end"),
                    ));
                }
            }
            if let Some(k) = p.values.iter().position(|v| !v.is_finite()) {
                return Err(Error::plot(
                    t,
                    format!(
                        "heatmap value at ix = {}, iy = {} is not finite ({})",
                        k % p.nx,
                        k / p.nx,
                        p.values[k]
                    ),
                ));
            }
            for (i, s) in p.overlay.iter().enumerate() {
                check_series(t, &describe("overlay group", i, s), s, false, false)?;
            }
            for (i, s) in p.lines.iter().enumerate() {
                check_series(t, &describe("line", i, s), s, false, false)?;
            }
            for (i, s) in p.contours.iter().enumerate() {
                check_series(t, &describe("contour", i, s), s, false, false)?;
            }
        }
        Figure::Cloud(p) => {
            if p.groups.iter().all(|g| g.points.is_empty()) {
                return Err(Error::plot(t, "no points"));
            }
            for s in p.groups.iter().chain(&p.lines).chain(&p.theory) {
                if let Some(bad) = s
                    .points
                    .iter()
                    .find(|(x, y, z)| !(x.is_finite() && y.is_finite() && z.is_finite()))
                {
                    return Err(Error::plot(
                        t,
                        format!("'{}' has a non-finite point {bad:?}", s.name),
                    ));
                }
            }
        }
        Figure::Surface(p) => {
            if p.x.len() < 2 || p.y.len() < 2 || p.values.len() != p.x.len() * p.y.len() {
                return Err(Error::plot(
                    t,
                    format!(
                        "{} heights for a {} x {} grid (at least 2 x 2)",
                        p.values.len(),
                        p.x.len(),
                        p.y.len()
                    ),
                ));
            }
            if let Some(bad) = p
                .values
                .iter()
                .chain(&p.x)
                .chain(&p.y)
                .find(|v| !v.is_finite())
            {
                return Err(Error::plot(t, format!("a non-finite value {bad}")));
            }
        }
        Figure::Histogram(p) => {
            if p.bins == 0 {
                return Err(Error::plot(t, "bins must be at least 1"));
            }
            if p.values.is_empty() {
                return Err(Error::plot(t, "no values to bin"));
            }
            if let Some(i) = p.values.iter().position(|v| !v.is_finite()) {
                return Err(Error::plot(
                    t,
                    format!("value {i} is not finite ({})", p.values[i]),
                ));
            }
            for (i, d) in p.theory.iter().enumerate() {
                check_series(t, &describe("density curve", i, d), d, false, false)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
