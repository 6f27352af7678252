//! Figures of the Playground room: the decision map with the train/test points on top, and the
//! hidden units' maps.

use crate::core::data::Dataset;
use crate::experiments::playground::{DecisionMap, Plane, points_by_class};
use crate::plot::{Figure, Heatmap, Series};

/// The network's verdict over the plane (see [`crate::experiments::playground::decision_map`])
/// with the training points and the held-out test points drawn on top.
pub fn decision_map(
    plane: &Plane,
    map: &DecisionMap,
    train: &Dataset,
    test: Option<&Dataset>,
) -> Figure {
    let mut overlay: Vec<Series> = points_by_class(train)
        .into_iter()
        .map(|(c, points)| Series {
            name: format!("class {c} (train)"),
            points,
        })
        .collect();
    if let Some(test) = test {
        overlay.extend(points_by_class(test).into_iter().map(|(c, points)| Series {
            name: format!("class {c} (test)"),
            points,
        }));
    }
    Figure::Heatmap(Heatmap {
        title: "Decision map".into(),
        x_label: "x1 (input units)".into(),
        y_label: "x2 (input units)".into(),
        x_range: plane.x,
        y_range: plane.y,
        nx: plane.n,
        ny: plane.n,
        values: map.values.clone(),
        colorbar_label: map.label.clone(),
        overlay,
        contours: Vec::new(),
        lines: Vec::new(),
    })
}

/// One small map per hidden unit: `maps[l][i]` is unit `i` of hidden layer `l + 1`, as
/// [`crate::experiments::playground::unit_maps`] returns them; one row of panels per layer.
pub fn unit_maps(plane: &Plane, maps: &[Vec<Vec<f64>>]) -> Vec<Vec<Figure>> {
    maps.iter()
        .enumerate()
        .map(|(l, units)| {
            units
                .iter()
                .enumerate()
                .map(|(i, values)| {
                    Figure::Heatmap(Heatmap {
                        title: format!("layer {}, unit {}", l + 1, i + 1),
                        x_label: "x1".into(),
                        y_label: "x2".into(),
                        x_range: plane.x,
                        y_range: plane.y,
                        nx: plane.n,
                        ny: plane.n,
                        values: values.clone(),
                        colorbar_label: "h".into(),
                        overlay: Vec::new(),
                        contours: Vec::new(),
                        lines: Vec::new(),
                    })
                })
                .collect()
        })
        .collect()
}

/// The decision map's data: CSV rows `x1,x2,value`, one per cell centre.
pub fn decision_map_csv(plane: &Plane, map: &DecisionMap) -> String {
    let centres = plane.centres::<f64>();
    let mut csv = format!("x1,x2,{}\n", map.label.replace(',', ";"));
    for (c, v) in map.values.iter().enumerate() {
        csv.push_str(&format!("{},{},{v}\n", centres[(0, c)], centres[(1, c)]));
    }
    csv
}

/// The unit maps' data: CSV rows `unit,x1,x2,h`.
pub fn unit_maps_csv(plane: &Plane, panels: &[Figure]) -> String {
    let mut csv = String::from("unit,x1,x2,h\n");
    for panel in panels {
        if let Figure::Heatmap(h) = panel {
            let grid = Plane { n: h.nx, ..*plane };
            let centres = grid.centres::<f64>();
            for (c, v) in h.values.iter().enumerate() {
                csv.push_str(&format!(
                    "{},{},{},{v}\n",
                    h.title.replace(',', ""),
                    centres[(0, c)],
                    centres[(1, c)]
                ));
            }
        }
    }
    csv
}
