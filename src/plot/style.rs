//! Colours, colour maps, font sizes, point markers and legend placement shared by all figures.

use plotters::element::{Circle, ComposedElement, EmptyElement, PathElement, Polygon};
use plotters::prelude::DrawingBackend;
use plotters::style::{Color, FontDesc, FontFamily, FontStyle, RGBColor, ShapeStyle, TextStyle};

use crate::error::{Error, Result};

/// Okabe–Ito colour-blind-safe palette, ordered for a white background (yellow last).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// The i-th series colour (cycling).
pub(crate) fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Light grey of the major grid lines.
pub(crate) const GRID: RGBColor = RGBColor(222, 222, 222);
/// Lighter grey of the minor grid lines (log axes).
pub(crate) const GRID_MINOR: RGBColor = RGBColor(240, 240, 240);

/// viridis sampled at 0, 0.1, ..., 1 (matplotlib's perceptually uniform map).
const VIRIDIS: [(u8, u8, u8); 11] = [
    (68, 1, 84),
    (72, 36, 117),
    (65, 68, 135),
    (53, 95, 141),
    (42, 120, 142),
    (33, 145, 140),
    (34, 168, 132),
    (68, 191, 112),
    (122, 209, 81),
    (189, 223, 38),
    (253, 231, 37),
];

/// ColorBrewer RdBu (11 classes) reversed: blue for negative, near-white at 0, red for positive.
const BLUE_RED: [(u8, u8, u8); 11] = [
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
];

/// A colour map over a value range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColorMap {
    lo: f64,
    hi: f64,
    diverging: bool,
}

impl ColorMap {
    /// viridis over `[min, max]` for one-signed data; the blue-white-red diverging map over the
    /// symmetric range `[-m, m]` (`m = max |value|`) when the data take both signs, so that
    /// white marks exactly zero. A constant field gets a widened, non-empty range.
    pub(crate) fn for_values(min: f64, max: f64) -> ColorMap {
        if min < 0.0 && max > 0.0 {
            let m = min.abs().max(max);
            ColorMap {
                lo: -m,
                hi: m,
                diverging: true,
            }
        } else if max - min <= 1e-12 * min.abs().max(max.abs()) || max == min {
            let pad = if min == 0.0 { 1.0 } else { 0.1 * min.abs() };
            ColorMap {
                lo: min - pad,
                hi: max + pad,
                diverging: false,
            }
        } else {
            ColorMap {
                lo: min,
                hi: max,
                diverging: false,
            }
        }
    }

    /// The value range the colours span (the colour bar's axis).
    pub(crate) fn range(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// The colour of value `v` (clamped to the range).
    pub(crate) fn color(&self, v: f64) -> RGBColor {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        let table: &[(u8, u8, u8)] = if self.diverging { &BLUE_RED } else { &VIRIDIS };
        let x = t * (table.len() - 1) as f64;
        let i = (x.floor() as usize).min(table.len() - 2);
        let f = x - i as f64;
        let lerp = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
        let (a, b) = (table[i], table[i + 1]);
        RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
    }
}

/// Smallest text in a figure, in CSS pixels at the figure's own size: long titles and labels
/// shrink to fit down to this and are shortened below it (11 px is the smallest size a
/// publication figure or a 1400-px-wide page should show).
pub const MIN_FONT_PX: f64 = 11.0;

/// plotters' text size per CSS pixel of font size: its SVG backend writes `font-size` as the
/// size divided by 1.24 (`plotters-svg`, `draw_text`), the line height of its fonts.
const SIZE_PER_CSS_PX: f64 = 1.24;

/// Pixel sizes of one panel's text and marks, scaled with the panel size.
///
/// `ratio` is the number of device pixels per logical pixel (1 for SVG; 2 or 3 for PNG, which
/// is drawn supersampled and then reduced): every size is computed for the logical panel and
/// multiplied by it, so both outputs get the same layout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub title: f64,
    pub label: f64,
    pub tick: f64,
    pub legend: f64,
    pub min_font: f64,
    pub margin: i32,
    pub tick_len: i32,
    pub line: u32,
    pub thin: u32,
    pub marker: i32,
}

impl Sizes {
    /// Sizes for a panel of `w` x `h` device pixels (20 px title, 16 px axis labels, 13.5 px
    /// tick labels on a 450 logical px panel), never below a CSS font size of 12 px for ticks
    /// and legends, 13 for axis labels and 14 for titles however small the panel, and never
    /// shrunk below [`MIN_FONT_PX`].
    pub(crate) fn for_panel(w: u32, h: u32, ratio: u32) -> Sizes {
        let r = f64::from(ratio.max(1));
        let s = (f64::from(w.min(h)) / r / 450.0).clamp(0.55, 3.0);
        let px = |v: f64, min: f64| (v * s).round().max(min) * r;
        let text = |v: f64, min_css: f64| (v * s).max(min_css * SIZE_PER_CSS_PX) * r;
        Sizes {
            title: text(20.0, MIN_FONT_PX + 3.0),
            label: text(16.0, MIN_FONT_PX + 2.0),
            tick: text(13.5, MIN_FONT_PX + 1.0),
            legend: text(13.0, MIN_FONT_PX + 1.0),
            min_font: MIN_FONT_PX * SIZE_PER_CSS_PX * r,
            margin: px(10.0, 2.0) as i32,
            tick_len: px(5.0, 3.0) as i32,
            line: px(2.0, 1.0) as u32,
            thin: ratio.max(1),
            marker: px(3.5, 2.0) as i32,
        }
    }
}

/// The one font used everywhere: the registered "sans-serif" family, normal style.
pub(crate) fn font(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal).into()
}

/// Width and height in pixels of `text` set in `style`.
pub(crate) fn text_size(title: &str, style: &TextStyle, text: &str) -> Result<(i32, i32)> {
    if cfg!(target_arch = "wasm32") {
        return Ok(super::metrics::text_box(style.font.get_size(), text));
    }
    let (w, h) = style
        .font
        .box_size(text)
        .map_err(|e| Error::plot(title, format!("cannot lay out text {text:?}: {e}")))?;
    Ok((w as i32, h as i32))
}

/// Marker shapes, cycled per series so that groups differ in shape as well as colour.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    Circle,
    Triangle,
    Square,
    Diamond,
    InvTriangle,
}

impl Shape {
    /// The i-th shape (cycling).
    pub(crate) fn nth(i: usize) -> Shape {
        [
            Shape::Circle,
            Shape::Triangle,
            Shape::Square,
            Shape::Diamond,
            Shape::InvTriangle,
        ][i % 5]
    }
}

/// A circular marker: fill and outline, positioned at a data (or backend) coordinate.
pub(crate) type CircleMark<C, DB> =
    ComposedElement<C, DB, Circle<(i32, i32), i32>, Circle<(i32, i32), i32>>;
/// A polygonal marker: fill and closed outline, positioned at a data (or backend) coordinate.
pub(crate) type PolyMark<C, DB> =
    ComposedElement<C, DB, Polygon<(i32, i32)>, PathElement<(i32, i32)>>;

/// Shape, radius (pixels), fill and outline of a point marker.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MarkStyle {
    pub shape: Shape,
    pub r: i32,
    pub fill: ShapeStyle,
    pub edge: ShapeStyle,
}

impl MarkStyle {
    /// A marker of colour `c` with fill opacity `alpha` and an outline in `edge`, `thin`
    /// pixels wide.
    pub(crate) fn new(
        shape: Shape,
        r: i32,
        c: RGBColor,
        alpha: f64,
        edge: RGBColor,
        thin: u32,
    ) -> MarkStyle {
        MarkStyle {
            shape,
            r,
            fill: c.mix(alpha).filled(),
            edge: edge.stroke_width(thin),
        }
    }

    /// Whether [`MarkStyle::circle`] (rather than [`MarkStyle::poly`]) draws this shape.
    pub(crate) fn is_circle(&self) -> bool {
        matches!(self.shape, Shape::Circle)
    }

    /// The circle marker at `at`.
    pub(crate) fn circle<C, DB: DrawingBackend>(&self, at: C) -> CircleMark<C, DB> {
        EmptyElement::at(at)
            + Circle::new((0, 0), self.r, self.fill)
            + Circle::new((0, 0), self.r, self.edge)
    }

    /// The polygon marker at `at` (for every shape but the circle).
    pub(crate) fn poly<C, DB: DrawingBackend>(&self, at: C) -> PolyMark<C, DB> {
        let v = self.vertices();
        let mut closed = v.clone();
        if let Some(first) = v.first() {
            closed.push(*first);
        }
        EmptyElement::at(at) + Polygon::new(v, self.fill) + PathElement::new(closed, self.edge)
    }

    /// Vertices (pixel offsets from the centre) of the polygonal shapes, with about the same
    /// visual area as a circle of radius `r`.
    fn vertices(&self) -> Vec<(i32, i32)> {
        let rf = f64::from(self.r);
        let p = |x: f64, y: f64| ((x * rf).round() as i32, (y * rf).round() as i32);
        match self.shape {
            Shape::Circle => Vec::new(),
            Shape::Triangle => vec![p(0.0, -1.35), p(1.2, 0.75), p(-1.2, 0.75)],
            Shape::InvTriangle => vec![p(0.0, 1.35), p(1.2, -0.75), p(-1.2, -0.75)],
            Shape::Square => vec![p(-0.9, -0.9), p(0.9, -0.9), p(0.9, 0.9), p(-0.9, 0.9)],
            Shape::Diamond => vec![p(0.0, -1.25), p(1.25, 0.0), p(0.0, 1.25), p(-1.25, 0.0)],
        }
    }
}

/// A darker shade of `c`, for outlines.
pub(crate) fn darker(c: RGBColor) -> RGBColor {
    let d = |v: u8| (f64::from(v) * 0.6).round() as u8;
    RGBColor(d(c.0), d(c.1), d(c.2))
}

/// Top-left pixel position (within the plot area) of the legend box in the corner that covers
/// the fewest sample points, `pad` pixels from the frame. `samples` are positions as fractions
/// of the plot area (x to the right, y upwards); `legend` and `plot` are sizes in pixels.
/// Ties go to upper right, upper left, lower right, lower left, in that order. Also returns how
/// many samples the box covers there.
pub(crate) fn legend_corner(
    samples: &[(f64, f64)],
    legend: (i32, i32),
    plot: (i32, i32),
    pad: i32,
) -> ((i32, i32), usize) {
    let fw = f64::from(legend.0 + 2 * pad) / f64::from(plot.0.max(1));
    let fh = f64::from(legend.1 + 2 * pad) / f64::from(plot.1.max(1));
    let (left, right) = (pad, plot.0 - legend.0 - pad);
    let (top, bottom) = (pad, plot.1 - legend.1 - pad);
    let corners = [
        ((right, top), 1.0 - fw, 1.0, 1.0 - fh, 1.0),
        ((left, top), 0.0, fw, 1.0 - fh, 1.0),
        ((right, bottom), 1.0 - fw, 1.0, 0.0, fh),
        ((left, bottom), 0.0, fw, 0.0, fh),
    ];
    let mut best = (usize::MAX, (right, top));
    for (pos, x0, x1, y0, y1) in corners {
        let n = samples
            .iter()
            .filter(|(x, y)| *x >= x0 && *x <= x1 && *y >= y0 && *y <= y1)
            .count();
        if n < best.0 {
            best = (n, pos);
        }
    }
    (best.1, best.0)
}

/// Points along the polyline `pts` (fractions of the plot area), densely enough that a line
/// crossing a legend box is noticed.
pub(crate) fn sample_polyline(pts: &[(f64, f64)], out: &mut Vec<(f64, f64)>) {
    if pts.len() == 1 {
        out.push(pts[0]);
    }
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let n = ((len / 0.01).ceil() as usize).clamp(1, 100);
        for i in 0..n {
            let t = i as f64 / n as f64;
            out.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
        out.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colormaps_hit_their_ends() {
        let v = ColorMap::for_values(0.0, 1.0);
        assert_eq!(v.color(0.0), RGBColor(68, 1, 84));
        assert_eq!(v.color(1.0), RGBColor(253, 231, 37));
        let d = ColorMap::for_values(-1.0, 3.0);
        assert_eq!(d.range(), (-3.0, 3.0));
        assert_eq!(d.color(0.0), RGBColor(247, 247, 247));
        let c = ColorMap::for_values(2.0, 2.0);
        assert!(c.range().0 < 2.0 && c.range().1 > 2.0);
    }

    #[test]
    fn legend_avoids_points() {
        // A curve along the top edge: both upper corners are taken.
        let pts: Vec<(f64, f64)> = (0..100).map(|i| (i as f64 / 100.0, 0.95)).collect();
        let (pos, covered) = legend_corner(&pts, (100, 50), (400, 300), 5);
        assert_eq!(pos, (295, 245), "lower right");
        assert_eq!(covered, 0);
        // A curve along the diagonal crosses the two corners it joins, and passes the other two.
        let diagonal: Vec<(f64, f64)> = (0..=100)
            .map(|i| (i as f64 / 100.0, i as f64 / 100.0))
            .collect();
        let (_, covered) = legend_corner(&diagonal, (100, 50), (400, 300), 5);
        assert_eq!(covered, 0, "the off-diagonal corners are free");
        // Data everywhere: every corner covers some.
        let grid: Vec<(f64, f64)> = (0..=20)
            .flat_map(|i| (0..=20).map(move |j| (i as f64 / 20.0, j as f64 / 20.0)))
            .collect();
        assert!(legend_corner(&grid, (100, 50), (400, 300), 5).1 > 0);
    }
}
