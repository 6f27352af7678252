//! Data parallelism over the CPU's cores: rayon's persistent pool natively (`RAYON_NUM_THREADS`
//! sets its size, the number of cores by default), in order on one thread on wasm.
//!
//! Every split made with these helpers is over independent outputs (columns of a batch, columns
//! of a gradient), never over the terms of one sum, so results are bitwise identical whatever the
//! number of threads, natively and in the page.

use nalgebra::DMatrix;
use std::ops::Range;

/// Work (multiply-adds) below which a split costs more than it saves: rayon wakes a sleeping
/// worker in tens of microseconds, about 2^20 multiply-adds of gemm on one core.
pub const MIN_PARALLEL_WORK: f64 = (1u64 << 20) as f64;

/// Threads that can work at once: rayon's pool natively, 1 on wasm.
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::current_num_threads()
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

thread_local! {
    /// Whether this thread is running one of [`for_each`]'s tasks.
    static IN_TASK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the caller is itself one of [`for_each`]'s tasks: the other threads are busy with
/// the task's siblings, so a nested split would only add hand-offs.
fn inside_task() -> bool {
    IN_TASK.with(std::cell::Cell::get)
}

/// Calls `f` on every item, on the pool's threads natively when the items' `work`
/// (multiply-adds in all) is worth a hand-off (each item is one task; the call returns when all
/// are done), in order otherwise.
pub fn for_each<I: Send>(items: Vec<I>, work: f64, f: impl Fn(I) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    if items.len() > 1 && work >= MIN_PARALLEL_WORK && threads() > 1 && !inside_task() {
        use rayon::prelude::*;
        /// Marks this thread as running a task until dropped, even if the task panics.
        struct InTask;
        impl Drop for InTask {
            fn drop(&mut self) {
                IN_TASK.with(|t| t.set(false));
            }
        }
        items.into_par_iter().with_max_len(1).for_each(|item| {
            IN_TASK.with(|t| t.set(true));
            let _in_task = InTask;
            f(item);
        });
        return;
    }
    #[cfg(target_arch = "wasm32")]
    let _ = work; // one thread: always in order
    items.into_iter().for_each(f);
}

/// `n` items split into contiguous ranges, one per thread, when `work` multiply-adds in all make
/// the split worth it and every range keeps at least `align` items; one range otherwise. Every
/// boundary between ranges is a multiple of `align`: gemm kernels tile columns in groups that
/// divide it (a partial tile rounds differently from a full one), so each column is computed by
/// the same tile lane whether the matrix is split or not.
pub fn ranges(n: usize, work: f64, align: usize) -> Vec<Range<usize>> {
    let align = align.max(1);
    let parts = if work < MIN_PARALLEL_WORK || inside_task() {
        1
    } else {
        threads().min(n / align).max(1)
    };
    // With n / parts >= align, consecutive boundaries differ by more than n / parts - align.
    let boundary = |p: usize| {
        if p == parts {
            n
        } else {
            p * n / parts / align * align
        }
    };
    (0..parts).map(|p| boundary(p)..boundary(p + 1)).collect()
}

/// Splits a matrix into the disjoint column blocks `ranges` (contiguous, in order, covering
/// every column), each as its column-major buffer.
pub fn column_blocks<'a, T: nalgebra::Scalar>(
    matrix: &'a mut DMatrix<T>,
    ranges: &[Range<usize>],
) -> Vec<&'a mut [T]> {
    let rows = matrix.nrows();
    let mut rest = matrix.as_mut_slice();
    ranges
        .iter()
        .map(|r| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(r.len() * rows);
            rest = tail;
            head
        })
        .collect()
}

/// Column blocks of several matrices at once, regrouped by range: `result[p][i]` is matrix `i`'s
/// block of columns `ranges[p]`.
pub fn blocks_by_range<'a, T: nalgebra::Scalar>(
    matrices: &'a mut [DMatrix<T>],
    ranges: &[Range<usize>],
) -> Vec<Vec<&'a mut [T]>> {
    let mut by_range: Vec<Vec<&mut [T]>> = ranges.iter().map(|_| Vec::new()).collect();
    for matrix in matrices {
        for (p, block) in column_blocks(matrix, ranges).into_iter().enumerate() {
            by_range[p].push(block);
        }
    }
    by_range
}
