//! Exact linear assignment: the permutation `p` maximizing `sum_i S[i, p(i)]` of a square score
//! matrix, by shortest augmenting paths with dual potentials (the Hungarian method in the form of
//! Jonker & Volgenant 1987, as SciPy's `linear_sum_assignment` runs it: Crouse 2016, "On
//! implementing 2D rectangular assignment algorithms", Algorithm 1, each search scanning only the
//! columns it has not reached and updating the duals once at its end). O(n^3) time, O(n) memory
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
    // column-major matrix would stride by n there).
    let cost: Vec<f64> = score.transpose().iter().map(|s| -s).collect();
    let mut search = Search::new(n);
    for row in 0..n {
        search.assign(&cost, row);
    }
    Ok(search.col_of_row)
}

/// The state of the shortest-augmenting-path solver (Crouse 2016, Algorithm 1, as SciPy's
/// `rectangular_lsap.cpp`): dual potentials `u` (rows) and `v` (columns), the partial matching,
/// and the scratch of one Dijkstra search over reduced costs `cost[i][j] - u[i] - v[j] >= 0`.
struct Search {
    n: usize,
    u: Vec<f64>,
    v: Vec<f64>,
    col_of_row: Vec<usize>,
    /// The row matched to each column, `NONE` if free.
    row_of_col: Vec<usize>,
    /// Shortest reduced path cost to each column found so far in this search.
    distance: Vec<f64>,
    /// The row before each column on its shortest path.
    path: Vec<usize>,
    /// Columns not yet reached, compacted so the inner loop scans only them.
    remaining: Vec<usize>,
    row_seen: Vec<bool>,
    col_seen: Vec<bool>,
}

/// No row (a free column).
const NONE: usize = usize::MAX;

impl Search {
    fn new(n: usize) -> Self {
        Search {
            n,
            u: vec![0.0; n],
            v: vec![0.0; n],
            col_of_row: vec![NONE; n],
            row_of_col: vec![NONE; n],
            distance: vec![0.0; n],
            path: vec![NONE; n],
            remaining: Vec::with_capacity(n),
            row_seen: vec![false; n],
            col_seen: vec![false; n],
        }
    }

    /// Adds `row` to the matching: a Dijkstra search from it to the nearest free column over
    /// reduced costs, then the dual update that keeps every reduced cost non-negative and the
    /// path's zero, then the augmentation along the path.
    fn assign(&mut self, cost: &[f64], row: usize) {
        let n = self.n;
        self.remaining.clear();
        self.remaining.extend((0..n).rev());
        self.row_seen.fill(false);
        self.col_seen.fill(false);
        self.distance.fill(f64::INFINITY);
        let (mut i, mut reached) = (row, 0.0);
        let sink = loop {
            self.row_seen[i] = true;
            let costs = &cost[i * n..(i + 1) * n];
            let base = reached - self.u[i];
            let (mut lowest, mut index) = (f64::INFINITY, 0);
            // Locals of exactly n entries, so that the loop borrows no field of `self`.
            let (v, distance, path) = (&self.v[..n], &mut self.distance[..n], &mut self.path[..n]);
            let row_of_col = &self.row_of_col[..n];
            for (k, &j) in self.remaining.iter().enumerate() {
                let r = base + costs[j] - v[j];
                let d = &mut distance[j];
                if r < *d {
                    path[j] = i;
                    *d = r;
                }
                // Among equals prefer a free column: the search ends sooner.
                if *d < lowest || (*d == lowest && row_of_col[j] == NONE) {
                    lowest = *d;
                    index = k;
                }
            }
            reached = lowest;
            let j = self.remaining.swap_remove(index);
            self.col_seen[j] = true;
            if self.row_of_col[j] == NONE {
                break j;
            }
            i = self.row_of_col[j];
        };
        self.u[row] += reached;
        for r in (0..n).filter(|&r| r != row && self.row_seen[r]) {
            self.u[r] += reached - self.distance[self.col_of_row[r]];
        }
        for j in (0..n).filter(|&j| self.col_seen[j]) {
            self.v[j] -= reached - self.distance[j];
        }
        let mut j = sink;
        loop {
            let i = self.path[j];
            self.row_of_col[j] = i;
            let previous = std::mem::replace(&mut self.col_of_row[i], j);
            if i == row {
                break;
            }
            j = previous;
        }
    }
}

/// `sum_i score[(i, p[i])]`.
pub fn total(score: &DMatrix<f64>, assignment: &[usize]) -> f64 {
    assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| score[(i, j)])
        .sum()
}
