//! The floating-point types the core is generic over (f32 fast path, f64 reference), and the
//! one matrix product everything uses: matrixmultiply's gemm with explicit strides, so a
//! transposed operand is a stride swap, never a copy.

use nalgebra::{DMatrix, RealField};

/// A real scalar the networks can run in: `f32` or `f64`.
pub trait Float: RealField + Copy + Default + std::fmt::Debug + 'static {
    /// Name as written in configs and JSON (`"f32"` / `"f64"`).
    const NAME: &'static str;
    /// Conversion from f64 (rounds to nearest for f32).
    fn of_f64(x: f64) -> Self;
    /// Exact widening conversion to f64.
    fn as_f64(self) -> f64;
    /// The error function erf(x) = 2/sqrt(pi) * int_0^x exp(-t^2) dt (libm, identical on every
    /// target).
    fn erf(self) -> Self;
    /// Whether this is NaN.
    fn is_nan(self) -> bool;
    /// `c = alpha a b + beta c` for an `m x k` times `k x n` product on raw strided storage.
    ///
    /// # Safety
    /// The pointers with their strides must address valid `m x k`, `k x n` and `m x n` arrays,
    /// and `c` must not alias `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
}

macro_rules! impl_float {
    ($t:ty, $name:literal, $erf:path, $gemm:path) => {
        impl Float for $t {
            const NAME: &'static str = $name;
            fn of_f64(x: f64) -> Self {
                x as $t
            }
            fn as_f64(self) -> f64 {
                self as f64
            }
            fn erf(self) -> Self {
                $erf(self)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            unsafe fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: (*const Self, isize, isize),
                b: (*const Self, isize, isize),
                beta: Self,
                c: (*mut Self, isize, isize),
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    $gemm(
                        m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
                    )
                }
            }
        }
    };
}

impl_float!(f32, "f32", libm::erff, matrixmultiply::sgemm);
impl_float!(f64, "f64", libm::erf, matrixmultiply::dgemm);

/// Whether an operand enters a product as is or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `a`.
    N,
    /// `a^T`.
    T,
}

/// (rows, cols, row stride, col stride) of `op(a)` for column-major `a`.
fn view<T: Float>(a: &DMatrix<T>, op: Op) -> (usize, usize, isize, isize) {
    let (rows, cols) = a.shape();
    match op {
        Op::N => (rows, cols, 1, rows as isize),
        Op::T => (cols, rows, rows as isize, 1),
    }
}

/// `c = alpha op_a(a) op_b(b) + beta c`.
///
/// # Panics
/// If the shapes do not agree (a programming error: callers build shapes from the network).
pub fn gemm<T: Float>(
    c: &mut DMatrix<T>,
    alpha: T,
    a: &DMatrix<T>,
    op_a: Op,
    b: &DMatrix<T>,
    op_b: Op,
    beta: T,
) {
    let (m, k, rsa, csa) = view(a, op_a);
    let (k2, n, rsb, csb) = view(b, op_b);
    assert!(
        k == k2 && c.shape() == (m, n),
        "gemm shapes: ({m}x{k}) ({k2}x{n}) -> {:?}",
        c.shape()
    );
    let c_rows = c.nrows() as isize;
    // SAFETY: the shapes were checked above and `c` is a distinct, exclusively borrowed matrix.
    unsafe {
        T::gemm_raw(
            m,
            k,
            n,
            alpha,
            (a.as_ptr(), rsa, csa),
            (b.as_ptr(), rsb, csb),
            beta,
            (c.as_mut_ptr(), 1, c_rows),
        );
    }
}
