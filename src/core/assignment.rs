//! Exact linear assignment: the permutation `p` maximizing `sum_i S[i, p(i)]` of a square score
//! matrix, by shortest augmenting paths with dual potentials (the Hungarian method in the form of
//! Jonker & Volgenant 1987, as SciPy's `linear_sum_assignment` runs it; Crouse 2016, "On
//! implementing 2D rectangular assignment algorithms", Algorithm 1). O(n^3) time, O(n) memory
//! beyond the matrix.

use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// The assignment `p` (row `i` -> column `p[i]`) maximizing `sum_i score[(i, p[i])]`; ties are
/// broken by the search order, any maximizer being equally valid. Errors on a non-square or
/// non-finite matrix.
pub fn maximize(score: &DMatrix<f64>) -> Result<Vec<usize>> {
    let n = score.nrows();
    if score.ncols() != n {
        return Err(Error::Shape {
            what: "assignment score matrix".into(),
            expected: format!("square, {n} x {n}"),
            found: format!("{} x {}", n, score.ncols()),
        });
    }
    if let Some(bad) = score.iter().find(|s| !s.is_finite()) {
        return Err(Error::Data(format!(
            "assignment score {bad} is not finite (a NaN or infinite weight or activation)"
        )));
    }
    // Minimize cost = -score, laid out row by row (the search scans one row at a time; the
    // column-major matrix would stride by n there). Index 0 of `u`, `v`, `owner`, `way` is a
    // virtual row/column.
    let costs: Vec<f64> = score.transpose().iter().map(|s| -s).collect();
    let cost = |i: usize, j: usize| costs[(i - 1) * n + (j - 1)];
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let mut owner = vec![0usize; n + 1]; // owner[j]: the row assigned to column j (0: none)
    let mut way = vec![0usize; n + 1];
    for row in 1..=n {
        owner[0] = row;
        let mut j0 = 0;
        let mut min_reduced = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        // Dijkstra on reduced costs from `row` until a free column is reached.
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=n {
                if used[j] {
                    continue;
                }
                let reduced = cost(i0, j) - u[i0] - v[j];
                if reduced < min_reduced[j] {
                    min_reduced[j] = reduced;
                    way[j] = j0;
                }
                if min_reduced[j] < delta {
                    delta = min_reduced[j];
                    j1 = j;
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_reduced[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        // Augment along the path back to the virtual column.
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![0; n];
    for j in 1..=n {
        assignment[owner[j] - 1] = j - 1;
    }
    Ok(assignment)
}

/// `sum_i score[(i, p[i])]`.
pub fn total(score: &DMatrix<f64>, assignment: &[usize]) -> f64 {
    assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| score[(i, j)])
        .sum()
}
