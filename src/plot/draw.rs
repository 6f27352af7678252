//! Drawing of one panel, generic over plotters' [`DrawingBackend`] so that the SVG and the PNG
//! output run exactly the same code. Input has been validated by the caller (`super::validate`).

use plotters::chart::{ChartBuilder, ChartContext, LabelAreaPosition};
use plotters::coord::Shift;
use plotters::coord::cartesian::{Cartesian2d, Cartesian3d};
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::{DrawingArea, IntoDrawingArea};
use plotters::element::{PathElement, Rectangle, Text};
use plotters::prelude::DrawingBackend;
use plotters::series::{DashedLineSeries, LineSeries};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{BLACK, Color, RGBColor, ShapeStyle, TextStyle, WHITE};

use super::axis::{Axis, at_least_a_decade, padded_range};
use super::probe::Probe;
use super::raster::{MAX_RASTERS, Raster, sentinel};
use super::style::{
    ColorMap, GRID, GRID_MINOR, MarkStyle, Shape, Sizes, darker, font, legend_corner, palette,
    sample_polyline, text_size,
};
use super::{Cloud, Figure, Heatmap, Histogram, LinePlot, ScatterPlot, Surface, histogram_density};
use crate::error::{Error, Result};
use std::cell::RefCell;

/// A chart whose both axes are [`Axis`].
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Line series with fewer points than this also get point markers.
const MARKER_LIMIT: usize = 30;

/// Maps any plotters error to the crate's figure error.
fn de<E: std::fmt::Display>(title: &str) -> impl FnOnce(E) -> Error + '_ {
    move |e| Error::plot(title, format!("drawing failed: {e}"))
}

/// Draws one figure into `area` (which is already white).
pub(super) fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    ratio: u32,
    rasters: Option<&RefCell<Vec<Raster>>>,
) -> Result<()> {
    let (w, h) = area.dim_in_pixel();
    let sizes = Sizes::for_panel(w, h, ratio);
    let body = draw_title(area, fig.title(), &sizes)?;
    match fig {
        Figure::Line(p) => draw_line(&body, p, &sizes),
        Figure::Scatter(p) => draw_scatter(&body, p, &sizes),
        Figure::Heatmap(p) => draw_heatmap(&body, p, &sizes, rasters),
        Figure::Histogram(p) => draw_histogram(&body, p, &sizes),
        Figure::Surface(p) => draw_surface(&body, p, &sizes),
        Figure::Cloud(p) => draw_cloud(&body, p, &sizes),
    }
}

/// Where a 3-D view is seen from: turn about the vertical axis and elevation (radians), and
/// the share of the area the box takes.
struct View3d {
    yaw: f64,
    pitch: f64,
    scale: f64,
}

/// plotters' 3-D chart over `ranges` (x, vertical, depth) seen from `view`, its axes drawn; the
/// front corner's tick labels hang below the floor, so the bottom margin leaves them room.
fn chart_3d<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    [x, y, z]: [std::ops::Range<f64>; 3],
    view: View3d,
    s: &Sizes,
    t: &str,
) -> Result<ChartContext<'a, DB, Cartesian3d<RangedCoordf64, RangedCoordf64, RangedCoordf64>>> {
    let mut chart = ChartBuilder::on(area)
        .margin(s.margin)
        .margin_bottom(s.margin + (s.tick * 1.5).round() as i32)
        .build_cartesian_3d(x, y, z)
        .map_err(de(t))?;
    chart.with_projection(|mut pb| {
        pb.yaw = view.yaw;
        pb.pitch = view.pitch;
        pb.scale = view.scale;
        pb.into_matrix()
    });
    chart
        .configure_axes()
        .label_style(font(s.tick))
        .max_light_lines(1)
        .draw()
        .map_err(de(t))?;
    Ok(chart)
}

/// The caption line under a 3-D view: draws it and returns the area above it.
fn with_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    caption: &str,
    s: &Sizes,
) -> Result<DrawingArea<DB, Shift>> {
    let (w, h) = area.dim_in_pixel();
    let (size, caption) = fit_text(title, s.label, s.min_font, caption, w as i32 - 2 * s.margin)?;
    let caption_h = (size * 1.6).round() as i32;
    let (plot_area, below) = area.split_vertically((h as i32 - caption_h).max(50));
    below
        .draw_text(
            &caption,
            &font(size).pos(Pos::new(HPos::Center, VPos::Top)),
            (w as i32 / 2, 0),
        )
        .map_err(de(title))?;
    Ok(plot_area)
}

/// Points and polylines in plotters' 3-D chart, all three axes over one symmetric range (so
/// angles are kept), the legend drawn by our code in the top-left corner, the caption below.
fn draw_cloud<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Cloud,
    s: &Sizes,
) -> Result<()> {
    let t = p.title.as_str();
    let plot_area = with_caption(area, t, &p.caption, s)?;
    let reach = p
        .groups
        .iter()
        .chain(&p.lines)
        .chain(&p.theory)
        .flat_map(|g| &g.points)
        .fold(0.0_f64, |r, (x, y, z)| {
            r.max(x.abs()).max(y.abs()).max(z.abs())
        });
    let r = if reach > 0.0 { reach * 1.05 } else { 1.0 };
    let view = View3d {
        yaw: p.yaw,
        pitch: p.pitch,
        scale: 0.75,
    };
    let mut chart = chart_3d(&plot_area, [-r..r, -r..r, -r..r], view, s, t)?;
    let dark = RGBColor(40, 40, 40);
    for line in &p.lines {
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                dark.stroke_width(s.line),
            ))
            .map_err(de(t))?;
    }
    let named: Vec<bool> = p.theory.iter().map(|l| !l.name.is_empty()).collect();
    let theory_index = |i: usize| continued(&named, i);
    for (i, line) in p.theory.iter().enumerate() {
        // Dashes by hand: every other of 12 pieces per segment.
        let color = theory_color(theory_index(i)).stroke_width(s.line);
        for pair in line.points.windows(2) {
            let ((x0, y0, z0), (x1, y1, z1)) = (pair[0], pair[1]);
            let at = |f: f64| (x0 + f * (x1 - x0), y0 + f * (y1 - y0), z0 + f * (z1 - z0));
            for piece in (0..12).step_by(2) {
                let (a, b) = (f64::from(piece) / 12.0, f64::from(piece + 1) / 12.0);
                chart
                    .draw_series(LineSeries::new([at(a), at(b)], color))
                    .map_err(de(t))?;
            }
        }
    }
    let radius = (s.marker * 4 / 5).max(2);
    for (k, group) in p.groups.iter().enumerate() {
        let color = palette(k);
        chart
            .draw_series(
                group.points.iter().map(|&pt| {
                    plotters::element::Circle::new(pt, radius, color.mix(0.75).filled())
                }),
            )
            .map_err(de(t))?;
    }
    let keys: Vec<(&str, Key)> = p
        .groups
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let color = palette(k);
            let mark = MarkStyle::new(Shape::Circle, s.marker, color, 0.75, darker(color), s.thin);
            (g.name.as_str(), Key::Mark(mark))
        })
        .chain(
            p.lines
                .iter()
                .map(|l| (l.name.as_str(), Key::Line(dark.stroke_width(s.line), None))),
        )
        .chain(p.theory.iter().enumerate().map(|(i, l)| {
            let style = theory_color(theory_index(i)).stroke_width(s.line);
            (l.name.as_str(), Key::Dashed(style))
        }))
        .filter(|(n, _)| !n.is_empty())
        .collect();
    let refs: Vec<&(&str, Key)> = keys.iter().collect();
    let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
    if let Some((lw, lh, sizes)) = legend_size(&names, s, t)? {
        let pad = (f64::from(s.margin) * 0.6).round() as i32;
        draw_legend_box(&plot_area, &refs, (pad, pad), (lw, lh, &sizes), s, t)?;
    }
    Ok(())
}

/// The surface as plotters' 3-D chart: one quadrilateral per grid cell, filled with the
/// viridis colour of its mean height, the caption in a line below.
fn draw_surface<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Surface,
    s: &Sizes,
) -> Result<()> {
    let t = p.title.as_str();
    let plot_area = with_caption(area, t, &p.caption, s)?;
    let (zmin, zmax) = p
        .values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let cmap = ColorMap::for_values(zmin, zmax);
    let (hlo, hhi) = cmap.range();
    let (nx, ny) = (p.x.len(), p.y.len());
    let (yaw, pitch) = (p.yaw, p.pitch);
    let view = View3d {
        yaw,
        pitch,
        scale: 0.8,
    };
    let ranges = [p.x[0]..p.x[nx - 1], hlo..hhi, p.y[0]..p.y[ny - 1]];
    let mut chart = chart_3d(&plot_area, ranges, view, s, t)?;
    let at = |i: usize, j: usize| p.values[j * nx + i];
    // Back to front along the viewing direction is plotters' job for its own series; cells are
    // drawn from the far corner so nearer ones cover them.
    let mut cells: Vec<(usize, usize)> = (0..ny - 1)
        .flat_map(|j| (0..nx - 1).map(move |i| (i, j)))
        .collect();
    let depth = |&(i, j): &(usize, usize)| -> f64 {
        let (x, z) = (i as f64 / nx as f64, j as f64 / ny as f64);
        x * yaw.sin() + z * yaw.cos()
    };
    cells.sort_by(|a, b| depth(b).total_cmp(&depth(a)));
    chart
        .draw_series(cells.into_iter().map(|(i, j)| {
            let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let mean = corners.iter().map(|&(a, b)| at(a, b)).sum::<f64>() / 4.0;
            let points: Vec<(f64, f64, f64)> = corners
                .iter()
                .map(|&(a, b)| (p.x[a], at(a, b), p.y[b]))
                .collect();
            plotters::element::Polygon::new(points, cmap.color(mean).filled())
        }))
        .map_err(de(t))?;
    Ok(())
}

/// A font size at most `size` (and at least `min_size`) and the text to set in it, so that
/// the text fits into `max_w` pixels: first shrink, then cut with an ellipsis.
fn fit_text(
    title: &str,
    size: f64,
    min_size: f64,
    text: &str,
    max_w: i32,
) -> Result<(f64, String)> {
    let (tw, _) = text_size(title, &font(size), text)?;
    if tw <= max_w || tw == 0 {
        return Ok((size, text.to_string()));
    }
    let size = (size * f64::from(max_w.max(1)) / f64::from(tw)).max(min_size);
    let style = font(size);
    let mut chars: Vec<char> = text.chars().collect();
    let mut out = text.to_string();
    while text_size(title, &style, &out)?.0 > max_w && !chars.is_empty() {
        chars.pop();
        out = chars.iter().collect::<String>().trim_end().to_string() + "…";
    }
    Ok((size, out))
}

/// Draws the centred title and returns the area below it.
fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    s: &Sizes,
) -> Result<DrawingArea<DB, Shift>> {
    let (w, _) = area.dim_in_pixel();
    let (size, text) = fit_text(title, s.title, s.min_font, title, w as i32 - 2 * s.margin)?;
    let top = (f64::from(s.margin) * 0.8).round() as i32;
    let style = font(size).pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(&text, &style, (w as i32 / 2, top))
        .map_err(de(title))?;
    let title_h = top + (size * 1.3).round() as i32;
    Ok(area.split_vertically(title_h).1)
}

/// Everything needed to set up the axes of one chart.
struct FrameSpec<'t> {
    title: &'t str,
    x_label: &'t str,
    y_label: &'t str,
    /// Axis ranges, already padded as wanted.
    x_range: (f64, f64),
    y_range: (f64, f64),
    x_log: bool,
    y_log: bool,
    x_grid: bool,
    y_grid: bool,
}

/// What a frame chose: margins (to align a colour bar with it) and copies of its axes.
struct FrameGeom {
    top: i32,
    bottom: i32,
    x: Axis,
    y: Axis,
}

/// Lays out and draws axes, ticks, labels and grid; returns the chart ready for series.
fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    spec: &FrameSpec,
    s: &Sizes,
) -> Result<(Chart<'a, DB>, FrameGeom)> {
    let t = spec.title;
    let (aw, ah) = area.dim_in_pixel();
    let (aw, ah) = (aw as i32, ah as i32);
    let tick_style = font(s.tick);
    let tick_h = s.tick.round() as i32;
    let gap = (s.tick * 0.5).round() as i32;

    let (x_label_size, x_desc) = fit_text(t, s.label, s.min_font, spec.x_label, aw - 4 * s.margin)?;
    let x_desc_h = if spec.x_label.is_empty() {
        0
    } else {
        (x_label_size * 1.15).round() as i32
    };
    let x_area = 2 * s.tick_len + tick_h + gap + x_desc_h + 2;
    let top = s.margin.max(tick_h / 2 + 2);
    let bottom = (s.margin / 2).max(2);
    let plot_h = (ah - top - bottom - x_area).max(10);

    let y_target = ((f64::from(plot_h) / (s.tick * 3.2)).floor() as usize).clamp(2, 10);
    let y_axis = Axis::new(spec.y_range.0, spec.y_range.1, spec.y_log, y_target);
    let mut y_tick_w = 0;
    for l in y_axis.labels() {
        y_tick_w = y_tick_w.max(text_size(t, &tick_style, l)?.0);
    }
    let (y_label_size, y_desc) = fit_text(t, s.label, s.min_font, spec.y_label, plot_h)?;
    let y_desc_h = if spec.y_label.is_empty() {
        0
    } else {
        (y_label_size * 1.15).round() as i32
    };
    let y_area = 2 * s.tick_len + y_tick_w + gap + y_desc_h + 2;
    let left = s.margin;

    // Fewer x ticks until their labels leave comfortable gaps.
    let plot_w_est = (aw - left - y_area - s.margin).max(10);
    let mut x_target = ((f64::from(plot_w_est) / (s.tick * 6.0)).floor() as usize).clamp(2, 10);
    let (x_axis, last_w) = loop {
        let axis = Axis::new(spec.x_range.0, spec.x_range.1, spec.x_log, x_target);
        let mut total = 0;
        let mut last = 0;
        for l in axis.labels() {
            last = text_size(t, &tick_style, l)?.0;
            total += last + 2 * tick_h;
        }
        if total <= plot_w_est || x_target <= 2 {
            break (axis, last);
        }
        x_target -= 1;
    };
    let right = s.margin.max(last_w / 2 + 3);

    let (x_copy, y_copy) = (x_axis.clone(), y_axis.clone());
    let mut chart = ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(bottom)
        .margin_left(left)
        .margin_right(right)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x_axis, y_axis)
        .map_err(de(t))?;

    {
        let mut mesh = chart.configure_mesh();
        mesh.label_style(tick_style)
            .axis_desc_style(font(x_label_size.min(y_label_size)))
            .bold_line_style(GRID.stroke_width(s.thin))
            .light_line_style(GRID_MINOR.stroke_width(s.thin))
            .axis_style(BLACK.stroke_width(s.thin))
            .set_all_tick_mark_size(s.tick_len);
        if !spec.x_grid {
            mesh.disable_x_mesh();
        }
        if !spec.y_grid {
            mesh.disable_y_mesh();
        }
        if !x_desc.is_empty() {
            mesh.x_desc(x_desc);
        }
        if !y_desc.is_empty() {
            mesh.y_desc(y_desc);
        }
        mesh.draw().map_err(de(t))?;
    }
    Ok((
        chart,
        FrameGeom {
            top,
            bottom: bottom + x_area,
            x: x_copy,
            y: y_copy,
        },
    ))
}

/// Closes the box around the plotting area: plotters draws the left and bottom axes just
/// outside it, so only the top and right edges are added (after the data, so they stay visible).
fn frame_box<'a, DB: DrawingBackend + 'a>(
    chart: &Chart<'a, DB>,
    s: &Sizes,
    title: &str,
) -> Result<()> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    // Like plotters' axes, the lines run just outside the plotting area.
    area.draw(&PathElement::new(
        vec![(-1, -1), (w, -1), (w, h)],
        BLACK.stroke_width(s.thin),
    ))
    .map_err(de(title))
}

/// A legend box's size for the named keys: `(width, height, each line's text height)`; `None`
/// when no key has a name.
fn legend_size(names: &[&str], s: &Sizes, title: &str) -> Result<Option<(i32, i32, Vec<i32>)>> {
    if names.is_empty() {
        return Ok(None);
    }
    let style = font(s.legend);
    let mut sizes = Vec::new();
    let (mut max_w, mut max_y) = (0, 0);
    for (i, name) in names.iter().enumerate() {
        let (w, h) = text_size(title, &style, name)?;
        max_w = max_w.max(w);
        max_y = max_y.max(legend_line_top(i, s) + h);
        sizes.push(h);
    }
    let margin = legend_margin(s);
    Ok(Some((
        max_w + legend_symbol_width(s) + 2 * margin,
        max_y + 2 * margin,
        sizes,
    )))
}

/// Lines as plotters' MultiLineText sets them: line i at round(i * 1.25 * size).
fn legend_line_top(i: usize, s: &Sizes) -> i32 {
    (i as f64 * 1.25 * s.legend).round() as i32
}

fn legend_margin(s: &Sizes) -> i32 {
    (s.legend * 0.6).round() as i32
}

/// Draws the legend box with its top-left corner at `(x, y)` of `area`.
fn draw_legend_box<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    keys: &[&(&str, Key)],
    (x, y): (i32, i32),
    (lw, lh, sizes): (i32, i32, &[i32]),
    s: &Sizes,
    title: &str,
) -> Result<()> {
    let style = font(s.legend);
    let (margin, sym) = (legend_margin(s), legend_symbol_width(s));
    let corners = [(x, y), (x + lw, y + lh)];
    area.draw(&Rectangle::new(corners, WHITE.filled()))
        .map_err(de(title))?;
    area.draw(&Rectangle::new(
        corners,
        RGBColor(60, 60, 60).stroke_width(s.thin),
    ))
    .map_err(de(title))?;
    for (i, ((name, key), h)) in keys.iter().zip(sizes).enumerate() {
        let top = y + margin + legend_line_top(i, s);
        area.draw(&Text::new(*name, (x + sym + margin, top), style.clone()))
            .map_err(de(title))?;
        draw_key(area, *key, (x + margin, top + h / 2), s).map_err(de(title))?;
    }
    Ok(())
}

/// Draws the legend inside the plot, in the corner with the least data (`samples`, as
/// fractions of the axes); returns the share of the plot's height the box needs where every
/// corner covers data (0 otherwise).
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    keys: &[(&str, Key)],
    samples: &[(f64, f64)],
    s: &Sizes,
    title: &str,
) -> Result<f64> {
    let keys: Vec<&(&str, Key)> = keys.iter().filter(|(n, _)| !n.is_empty()).collect();
    let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
    let Some((lw, lh, sizes)) = legend_size(&names, s, title)? else {
        return Ok(0.0);
    };
    let area = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = area.dim_in_pixel();
    let pad = (f64::from(s.margin) * 0.6).round() as i32;
    let ((x, y), covered) = legend_corner(samples, (lw, lh), (pw as i32, ph as i32), pad);
    draw_legend_box(&area, &keys, (x, y), (lw, lh, &sizes), s, title)?;
    Ok(if covered > 0 {
        f64::from(lh + 2 * pad) / f64::from(ph.max(1))
    } else {
        0.0
    })
}

/// What a legend entry shows beside its name.
#[derive(Clone, Copy, Debug)]
enum Key {
    /// A point marker.
    Mark(MarkStyle),
    /// A short line, with the series' marker on it when it has markers.
    Line(ShapeStyle, Option<MarkStyle>),
    /// A dashed line (a theory curve).
    Dashed(ShapeStyle),
    /// A histogram bar: fill and outline.
    Bar(ShapeStyle, ShapeStyle),
}

/// Draws `key` with its left end at `(x, y)` (the middle of its line of the legend). The
/// legend is drawn here rather than by plotters, whose series labels measure every name with
/// the browser's layout engine (a forced page layout per name) in the web build.
fn draw_key<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    key: Key,
    (x, y): (i32, i32),
    s: &Sizes,
) -> std::result::Result<(), plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>> {
    let len = legend_symbol_len(s);
    let line = |style: ShapeStyle, from: i32, to: i32| {
        PathElement::new(vec![(x + from, y), (x + to, y)], style)
    };
    let mark = |m: MarkStyle| -> std::result::Result<(), _> {
        if m.is_circle() {
            area.draw(&m.circle((x + len / 2, y)))
        } else {
            area.draw(&m.poly((x + len / 2, y)))
        }
    };
    match key {
        Key::Mark(m) => mark(m),
        Key::Line(style, m) => {
            area.draw(&line(style, 0, len))?;
            m.map_or(Ok(()), mark)
        }
        Key::Dashed(style) => {
            let piece = len / 3;
            area.draw(&line(style, 0, piece))?;
            area.draw(&line(style, len - piece, len))
        }
        Key::Bar(fill, edge) => {
            let h = (s.legend * 0.7).round() as i32;
            let sym = legend_symbol_len(s);
            let corners = [(x, y - h / 2), (x + sym, y + h / 2)];
            area.draw(&Rectangle::new(corners, fill))?;
            area.draw(&Rectangle::new(corners, edge))
        }
    }
}

/// Width of the symbol column of the legend.
fn legend_symbol_width(s: &Sizes) -> i32 {
    (s.legend * 2.4).round() as i32
}

/// Length of a legend symbol: the symbol column less a gap before the text.
fn legend_symbol_len(s: &Sizes) -> i32 {
    legend_symbol_width(s) - (s.legend * 0.6).round() as i32
}

/// Draws `pts` as markers; returns the marker as its legend shows it (opaque, at least the
/// legend's marker size).
fn draw_marks<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pts: &[(f64, f64)],
    m: MarkStyle,
    s: &Sizes,
    t: &str,
) -> Result<Key> {
    if m.is_circle() {
        chart
            .draw_series(pts.iter().map(|&p| m.circle(p)))
            .map_err(de(t))?;
    } else {
        chart
            .draw_series(pts.iter().map(|&p| m.poly(p)))
            .map_err(de(t))?;
    }
    let mut key = m;
    key.r = m.r.max(s.marker);
    key.fill = ShapeStyle {
        color: m.fill.color.mix(1.0),
        ..m.fill
    };
    Ok(Key::Mark(key))
}

/// Draws a polyline, optionally with markers; returns its legend key (a short line, with the
/// marker when there are markers).
fn draw_curve<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pts: &[(f64, f64)],
    line: ShapeStyle,
    mark: Option<MarkStyle>,
    s: &Sizes,
    t: &str,
) -> Result<Key> {
    chart
        .draw_series(LineSeries::new(pts.iter().copied(), line))
        .map_err(de(t))?;
    if let Some(m) = mark {
        draw_marks(chart, pts, m, s, t)?;
    }
    Ok(Key::Line(line, mark))
}

/// Vertical error bars `y - e .. y + e` with short caps (clipped at the axis on a log scale,
/// where `y - e` may be non-positive).
fn draw_error_bars<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pts: &[(f64, f64)],
    errors: &[f64],
    color: RGBColor,
    y_log: bool,
    s: &Sizes,
    t: &str,
) -> Result<()> {
    let style = color.stroke_width(s.thin.max(1) + 1);
    chart
        .draw_series(pts.iter().zip(errors).map(|(&(x, y), &e)| {
            let lo = if y_log && y - e <= 0.0 {
                y * 1e-3
            } else {
                y - e
            };
            PathElement::new(vec![(x, lo), (x, y + e)], style)
        }))
        .map_err(de(t))?;
    Ok(())
}

/// Theory lines: dark grey for the first law, then the palette's last strong colours (black
/// is the palette's seventh), so that a law never takes the colour of a measured series.
/// The colour index of series `i` of a list whose entries are `named` or not: an unnamed series
/// continues the named one before it (one legend entry, one colour, several pieces).
fn continued(named: &[bool], i: usize) -> usize {
    named[..=i].iter().filter(|&&n| n).count().saturating_sub(1)
}

fn theory_color(j: usize) -> RGBColor {
    [RGBColor(80, 80, 80), palette(5), palette(3), palette(4)][j % 4]
}

/// Draws a dashed polyline (dashes three line widths long); returns its dashed legend key.
fn draw_dashed<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    pts: &[(f64, f64)],
    line: ShapeStyle,
    s: &Sizes,
    t: &str,
) -> Result<Key> {
    let dash = (4 * s.line).max(4);
    chart
        .draw_series(DashedLineSeries::new(pts.iter().copied(), dash, dash, line))
        .map_err(de(t))?;
    Ok(Key::Dashed(line))
}

/// Fractions of the plot area of a point list, for legend placement.
fn fractions(x: &Axis, y: &Axis, pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    pts.iter().map(|&(a, b)| (x.frac(a), y.frac(b))).collect()
}

/// Extent (min x, max x, min y, max y) over all points of the given lists.
fn extent<'p>(lists: impl Iterator<Item = &'p [(f64, f64)]>) -> (f64, f64, f64, f64) {
    let mut e = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for pts in lists {
        for &(x, y) in pts {
            e = (e.0.min(x), e.1.max(x), e.2.min(y), e.3.max(y));
        }
    }
    e
}

/// Draws a line plot. Where its legend would cover data in every corner (learned by drawing it
/// first on a [`Probe`]), the y axis gets headroom above the data for the legend, as one would
/// by hand in matplotlib.
fn draw_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &LinePlot,
    s: &Sizes,
) -> Result<()> {
    let probe = Probe(area.dim_in_pixel()).into_drawing_area();
    let headroom = draw_line_with(&probe, p, s, 0.0)?;
    draw_line_with(area, p, s, headroom)?;
    Ok(())
}

/// Largest share of the plot's height given to legend headroom: the data keep the rest.
const MAX_HEADROOM: f64 = 0.45;

/// `(lo, hi)` raised at the top so that the old range fills only `1 - share` of the new one
/// (in log10 for a log axis).
fn with_headroom((lo, hi): (f64, f64), share: f64, log: bool) -> (f64, f64) {
    let share = share.min(MAX_HEADROOM);
    if share <= 0.0 {
        return (lo, hi);
    }
    let grow = |lo: f64, hi: f64| hi + (hi - lo) * share / (1.0 - share);
    if log {
        (lo, 10f64.powf(grow(lo.log10(), hi.log10())))
    } else {
        (lo, grow(lo, hi))
    }
}

/// [`draw_line`] with `headroom` (a share of the height) above the data; returns the
/// headroom its legend would need (0 when it fits in a corner).
fn draw_line_with<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &LinePlot,
    s: &Sizes,
    headroom: f64,
) -> Result<f64> {
    let t = p.title.as_str();
    let x_log = p.x_scale == super::Scale::Log;
    let y_log = p.y_scale == super::Scale::Log;
    // Error bars' ends count towards the range (a lower end <= 0 on a log axis does not).
    let bar_ends: Vec<(f64, f64)> = p
        .series
        .iter()
        .zip(&p.errors)
        .flat_map(|(s, e)| s.points.iter().zip(e))
        .flat_map(|(&(x, y), &e)| [(x, y - e), (x, y + e)])
        .filter(|&(_, y)| !y_log || y > 0.0)
        .collect();
    let (xlo, xhi, ylo, yhi) = extent(
        p.series
            .iter()
            .chain(&p.markers)
            .chain(&p.theory)
            .map(|s| s.points.as_slice())
            .chain(std::iter::once(bar_ends.as_slice()).filter(|b| !b.is_empty())),
    );
    let (ylo, yhi) = if y_log {
        at_least_a_decade(ylo, yhi)
    } else {
        (ylo, yhi)
    };
    let spec = FrameSpec {
        title: t,
        x_label: &p.x_label,
        y_label: &p.y_label,
        x_range: padded_range(xlo, xhi, x_log),
        y_range: with_headroom(padded_range(ylo, yhi, y_log), headroom, y_log),
        x_log,
        y_log,
        x_grid: true,
        y_grid: true,
    };
    let (
        mut chart,
        FrameGeom {
            x: x_axis,
            y: y_axis,
            ..
        },
    ) = frame(area, &spec, s)?;
    let legend_shown = p.series.len() + p.markers.len() + p.theory.len() > 1;
    let mut samples = Vec::new();
    let mut keys = Vec::new();
    for (i, series) in p.series.iter().enumerate() {
        let color = palette(i);
        let line = color.stroke_width(s.line);
        let mark = (series.points.len() < MARKER_LIMIT)
            .then(|| MarkStyle::new(Shape::nth(i), s.marker, color, 1.0, darker(color), s.thin));
        if let Some(errors) = p.errors.get(i) {
            draw_error_bars(&mut chart, &series.points, errors, color, y_log, s, t)?;
            for (&(x, y), e) in series.points.iter().zip(errors) {
                samples.extend(fractions(&x_axis, &y_axis, &[(x, y - e), (x, y + e)]));
            }
        }
        let key = draw_curve(&mut chart, &series.points, line, mark, s, t)?;
        keys.push((series.name.as_str(), key));
        sample_polyline(&fractions(&x_axis, &y_axis, &series.points), &mut samples);
    }
    for (j, group) in p.markers.iter().enumerate() {
        let i = p.series.len() + j;
        let color = palette(i);
        let mark = MarkStyle::new(
            Shape::nth(i),
            s.marker + s.marker / 3,
            color,
            1.0,
            darker(color),
            s.thin,
        );
        let key = draw_marks(&mut chart, &group.points, mark, s, t)?;
        keys.push((group.name.as_str(), key));
        samples.extend(fractions(&x_axis, &y_axis, &group.points));
    }
    let named: Vec<bool> = p.theory.iter().map(|l| !l.name.is_empty()).collect();
    for (j, law) in p.theory.iter().enumerate() {
        let color = theory_color(continued(&named, j));
        let key = draw_dashed(&mut chart, &law.points, color.stroke_width(s.line), s, t)?;
        keys.push((law.name.as_str(), key));
        sample_polyline(&fractions(&x_axis, &y_axis, &law.points), &mut samples);
    }
    frame_box(&chart, s, t)?;
    if legend_shown {
        return legend(&mut chart, &keys, &samples, s, t);
    }
    Ok(0.0)
}

fn draw_scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &ScatterPlot,
    s: &Sizes,
) -> Result<()> {
    let t = p.title.as_str();
    let (xlo, xhi, ylo, yhi) = extent(p.groups.iter().map(|g| g.points.as_slice()));
    let spec = FrameSpec {
        title: t,
        x_label: &p.x_label,
        y_label: &p.y_label,
        x_range: padded_range(xlo, xhi, false),
        y_range: padded_range(ylo, yhi, false),
        x_log: false,
        y_log: false,
        x_grid: true,
        y_grid: true,
    };
    let (
        mut chart,
        FrameGeom {
            x: x_axis,
            y: y_axis,
            ..
        },
    ) = frame(area, &spec, s)?;
    let total: usize = p.groups.iter().map(|g| g.points.len()).sum();
    let keys = draw_groups(&mut chart, &p.groups, total, RGBColor(40, 40, 40), s, t)?;
    frame_box(&chart, s, t)?;
    if p.groups.len() > 1 {
        let mut samples = Vec::new();
        for g in &p.groups {
            samples.extend(fractions(&x_axis, &y_axis, &g.points));
        }
        legend(&mut chart, &keys, &samples, s, t)?;
    }
    Ok(())
}

/// Draws point groups as markers (colour and shape per group); returns their legend entries.
fn draw_groups<'a, 'g, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    groups: &'g [super::Series],
    total_points: usize,
    edge_color: RGBColor,
    s: &Sizes,
    t: &str,
) -> Result<Vec<(&'g str, Key)>> {
    // Dense clouds get smaller, more transparent markers so that overlap stays visible.
    let (alpha, r) = if total_points > 2000 {
        (0.45, (s.marker - 1).max(2))
    } else if total_points > 300 {
        (0.7, s.marker)
    } else {
        (0.9, s.marker + 1)
    };
    let mut keys = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let m = MarkStyle::new(Shape::nth(i), r, palette(i), alpha, edge_color, s.thin);
        keys.push((g.name.as_str(), draw_marks(chart, &g.points, m, s, t)?));
    }
    Ok(keys)
}

fn draw_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Histogram,
    s: &Sizes,
) -> Result<()> {
    let t = p.title.as_str();
    let (edges, dens) = histogram_density(&p.values, p.bins).map_err(|e| match e {
        Error::Plot { reason, .. } => Error::plot(t, reason),
        other => other,
    })?;
    let (mut xlo, mut xhi) = (edges[0], edges[edges.len() - 1]);
    let mut ymax = dens.iter().fold(0.0f64, |m, d| m.max(*d));
    if !p.theory.is_empty() {
        let (a, b, _, d) = extent(p.theory.iter().map(|c| c.points.as_slice()));
        xlo = xlo.min(a);
        xhi = xhi.max(b);
        ymax = ymax.max(d);
    }
    let ymax = if ymax > 0.0 { ymax * 1.08 } else { 1.0 };
    let (x_range, x_log) = (padded_range(xlo, xhi, false), false);
    let spec = FrameSpec {
        title: t,
        x_label: &p.x_label,
        y_label: "probability density",
        x_range,
        y_range: (0.0, ymax),
        x_log,
        y_log: false,
        x_grid: false,
        y_grid: true,
    };
    let (
        mut chart,
        FrameGeom {
            x: x_axis,
            y: y_axis,
            ..
        },
    ) = frame(area, &spec, s)?;
    let bar = palette(0);
    let (pw, _) = chart.plotting_area().dim_in_pixel();
    let px_per_bin = f64::from(pw) * (edges[1] - edges[0]) / (x_range.1 - x_range.0);
    let outline = if px_per_bin >= 4.0 {
        darker(bar).mix(0.8)
    } else {
        bar.mix(0.55)
    };
    let n = p.values.len();
    let bar_fill = bar.mix(0.55).filled();
    let bar_edge = outline.stroke_width(s.thin);
    // Empty bins draw nothing (a zero-height bar is invisible anyway).
    let nonempty = || edges.windows(2).zip(&dens).filter(|(_, d)| **d > 0.0);
    chart
        .draw_series(nonempty().map(|(e, d)| Rectangle::new([(e[0], 0.0), (e[1], *d)], bar_fill)))
        .map_err(de(t))?;
    chart
        .draw_series(nonempty().map(|(e, d)| Rectangle::new([(e[0], 0.0), (e[1], *d)], bar_edge)))
        .map_err(de(t))?;
    let hist_name = format!("histogram (n = {n})");
    let mut keys = vec![(hist_name.as_str(), Key::Bar(bar_fill, bar_edge))];
    let mut samples = Vec::new();
    for (e, d) in edges.windows(2).zip(&dens) {
        // The area under each bar counts as occupied.
        let steps = 6;
        for k in 0..=steps {
            let yv = d * f64::from(k) / f64::from(steps);
            samples.push((x_axis.frac(0.5 * (e[0] + e[1])), y_axis.frac(yv)));
        }
    }
    for (j, c) in p.theory.iter().enumerate() {
        let line = [palette(1), palette(5), palette(3)][j % 3].stroke_width(s.line + 1);
        let name = if c.name.is_empty() {
            "density"
        } else {
            c.name.as_str()
        };
        let key = if j == 0 {
            draw_curve(&mut chart, &c.points, line, None, s, t)?
        } else {
            draw_dashed(&mut chart, &c.points, line, s, t)?
        };
        keys.push((name, key));
        sample_polyline(&fractions(&x_axis, &y_axis, &c.points), &mut samples);
    }
    frame_box(&chart, s, t)?;
    // A legend only where there is a density to tell from the bars.
    if !p.theory.is_empty() {
        legend(&mut chart, &keys, &samples, s, t)?;
    }
    Ok(())
}

fn draw_heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Heatmap,
    s: &Sizes,
    rasters: Option<&RefCell<Vec<Raster>>>,
) -> Result<()> {
    let t = p.title.as_str();
    let (mut vmin, mut vmax) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in &p.values {
        vmin = vmin.min(*v);
        vmax = vmax.max(*v);
    }
    let cmap = ColorMap::for_values(vmin, vmax);

    // Colour bar geometry: bar, its tick labels and its rotated description on the right.
    let (aw, _) = area.dim_in_pixel();
    let tick_style = font(s.tick);
    let (clo, chi) = cmap.range();
    let (_, ah) = area.dim_in_pixel();
    let cb_target = ((f64::from(ah) * 0.75 / (s.tick * 3.2)).floor() as usize).clamp(2, 10);
    let cb_axis = Axis::new(clo, chi, false, cb_target);
    let mut cb_tick_w = 0;
    for l in cb_axis.labels() {
        cb_tick_w = cb_tick_w.max(text_size(t, &tick_style, l)?.0);
    }
    let (cb_label_size, cb_desc) = fit_text(
        t,
        s.label,
        s.min_font,
        &p.colorbar_label,
        (ah as i32) * 3 / 4,
    )?;
    let cb_desc_h = if p.colorbar_label.is_empty() {
        0
    } else {
        (cb_label_size * 1.15).round() as i32
    };
    let gap = (s.tick * 0.5).round() as i32;
    let cb_label_area = 2 * s.tick_len + cb_tick_w + gap + cb_desc_h + 2;
    let bar_w = (s.tick * 1.4).round() as i32;
    let cb_w = s.margin + bar_w + cb_label_area + s.margin;
    let (main, cb) = area.split_horizontally((aw as i32 - cb_w).max(50));

    // Axes span the grid exactly.
    let (mut xlo, mut xhi) = p.x_range;
    let (mut ylo, mut yhi) = p.y_range;
    if !p.overlay.is_empty() {
        // Points outside the grid widen the axis (padded, so their markers stay inside).
        let (a, b, c, d) = extent(p.overlay.iter().map(|g| g.points.as_slice()));
        if a < xlo || b > xhi {
            (xlo, xhi) = padded_range(xlo.min(a), xhi.max(b), false);
        }
        if c < ylo || d > yhi {
            (ylo, yhi) = padded_range(ylo.min(c), yhi.max(d), false);
        }
    }
    let spec = FrameSpec {
        title: t,
        x_label: &p.x_label,
        y_label: &p.y_label,
        x_range: (xlo, xhi),
        y_range: (ylo, yhi),
        x_log: false,
        y_log: false,
        x_grid: false,
        y_grid: false,
    };
    // The legend goes in a strip under the grid: every cell of a heatmap is data.
    let names: Vec<&str> = p
        .overlay
        .iter()
        .chain(&p.lines)
        .map(|g| g.name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let legend_box = legend_size(&names, s, t)?;
    let strip = legend_box.as_ref().map_or(0, |b| b.1 + s.margin);
    let (_, main_h) = main.dim_in_pixel();
    let (main, below) = main.split_vertically((main_h as i32 - strip).max(50));
    let (mut chart, geom) = frame(&main, &spec, s)?;
    let index = rasters.map(|r| r.borrow().len());
    if let (Some(rasters), Some(index)) = (rasters, index.filter(|&i| i < MAX_RASTERS)) {
        // SVG: one placeholder for the whole grid, replaced by a PNG image of the cells.
        let rgb = (0..p.ny)
            .rev()
            .flat_map(|iy| (0..p.nx).map(move |ix| p.values[iy * p.nx + ix]))
            .flat_map(|v| {
                let c = cmap.color(v);
                [c.0, c.1, c.2]
            })
            .collect();
        rasters.borrow_mut().push(Raster {
            nx: p.nx,
            ny: p.ny,
            rgb,
        });
        let corners = [(p.x_range.0, p.y_range.0), (p.x_range.1, p.y_range.1)];
        chart
            .draw_series(std::iter::once(Rectangle::new(
                corners,
                sentinel(index).filled(),
            )))
            .map_err(de(t))?;
    } else {
        draw_cells(&mut chart, p, &cmap, t)?;
    }
    let contour_style = RGBColor(255, 255, 255).mix(0.7).stroke_width(s.thin.max(1));
    chart
        .draw_series(
            p.contours
                .iter()
                .map(|c| PathElement::new(c.points.clone(), contour_style)),
        )
        .map_err(de(t))?;
    let total: usize = p.overlay.iter().map(|g| g.points.len()).sum();
    let mut keys = draw_groups(&mut chart, &p.overlay, total, BLACK, s, t)?;
    for (j, line) in p.lines.iter().enumerate() {
        let style = if j == 0 { BLACK } else { RGBColor(80, 80, 80) }.stroke_width(s.line + 1);
        let key = draw_curve(&mut chart, &line.points, style, None, s, t)?;
        keys.push((line.name.as_str(), key));
    }
    frame_box(&chart, s, t)?;
    if let Some((lw, lh, sizes)) = legend_box {
        let keys: Vec<&(&str, Key)> = keys.iter().filter(|(n, _)| !n.is_empty()).collect();
        let (bw, _) = below.dim_in_pixel();
        let x = ((bw as i32 - lw) / 2).max(0);
        draw_legend_box(&below, &keys, (x, s.margin / 2), (lw, lh, &sizes), s, t)?;
    }

    // The colour bar, aligned with the plotting area of the heatmap.
    let mut bar = ChartBuilder::on(&cb)
        .margin_top(geom.top)
        .margin_bottom(geom.bottom + strip)
        .margin_left(s.margin)
        .margin_right(s.margin)
        .set_label_area_size(LabelAreaPosition::Right, cb_label_area)
        .build_cartesian_2d(Axis::new(0.0, 1.0, false, 2), cb_axis)
        .map_err(de(t))?;
    // One band per device pixel of the bar (at most 256, the colour map's resolution).
    let steps = (bar.plotting_area().dim_in_pixel().1 as usize).clamp(2, 256);
    let band = |k: usize| clo + (chi - clo) * (k as f64 + 0.5) / steps as f64;
    let index = rasters.map(|r| r.borrow().len());
    if let (Some(rasters), Some(index)) = (rasters, index.filter(|&i| i < MAX_RASTERS)) {
        // SVG: the bar as a one-column image (top band first).
        let rgb = (0..steps)
            .rev()
            .flat_map(|k| {
                let c = cmap.color(band(k));
                [c.0, c.1, c.2]
            })
            .collect();
        rasters.borrow_mut().push(Raster {
            nx: 1,
            ny: steps,
            rgb,
        });
        bar.draw_series(std::iter::once(Rectangle::new(
            [(0.0, clo), (1.0, chi)],
            sentinel(index).filled(),
        )))
        .map_err(de(t))?;
    } else {
        bar.draw_series((0..steps).map(|k| {
            let a = clo + (chi - clo) * k as f64 / steps as f64;
            let b = clo + (chi - clo) * (k + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], cmap.color(band(k)).filled())
        }))
        .map_err(de(t))?;
    }
    {
        let desc_style: TextStyle = font(cb_label_size);
        let mut mesh = bar.configure_mesh();
        mesh.disable_mesh()
            .disable_x_axis()
            .label_style(tick_style)
            .axis_desc_style(desc_style)
            .axis_style(BLACK.stroke_width(s.thin))
            .set_all_tick_mark_size(s.tick_len);
        if !p.colorbar_label.is_empty() {
            mesh.y_desc(cb_desc);
        }
        mesh.draw().map_err(de(t))?;
    }
    // Close the bar's box on the left, top and bottom (the axis on the right is plotters').
    let bar_area = bar.plotting_area().strip_coord_spec();
    let (w, h) = bar_area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    bar_area
        .draw(&PathElement::new(
            vec![(w, -1), (-1, -1), (-1, h), (w, h)],
            BLACK.stroke_width(s.thin),
        ))
        .map_err(de(t))
}

/// The grid cell by cell, one rectangle per run of equal colour along a row (the same picture
/// with fewer elements).
fn draw_cells<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    p: &Heatmap,
    cmap: &ColorMap,
    t: &str,
) -> Result<()> {
    let dx = (p.x_range.1 - p.x_range.0) / p.nx as f64;
    let dy = (p.y_range.1 - p.y_range.0) / p.ny as f64;
    let (x0, y0) = (p.x_range.0, p.y_range.0);
    // One rectangle per run of equal colour along a row: the same picture with far fewer
    // elements (an SVG's cost in the browser is its element count).
    let mut cells = Vec::new();
    for iy in 0..p.ny {
        let row = &p.values[iy * p.nx..(iy + 1) * p.nx];
        let mut start = 0;
        while start < p.nx {
            let color = cmap.color(row[start]);
            let mut end = start + 1;
            while end < p.nx && cmap.color(row[end]) == color {
                end += 1;
            }
            let a = (x0 + start as f64 * dx, y0 + iy as f64 * dy);
            let b = (x0 + end as f64 * dx, y0 + (iy + 1) as f64 * dy);
            cells.push(Rectangle::new([a, b], color.filled()));
            start = end;
        }
    }
    chart.draw_series(cells).map_err(de(t))?;
    Ok(())
}
