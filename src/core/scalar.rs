//! The floating-point types the core is generic over (f32 fast path, f64 reference), and the
//! one matrix product everything uses: matrixmultiply's gemm with explicit strides, so a
//! transposed operand is a stride swap, never a copy.

use super::parallel;
use nalgebra::{Dyn, Matrix, RawStorage, RawStorageMut, RealField};

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

/// (rows, cols, row stride, col stride) of `op(a)` for a strided matrix or view `a`.
fn view<T: Float, S: RawStorage<T, Dyn, Dyn>>(
    a: &Matrix<T, Dyn, Dyn, S>,
    op: Op,
) -> (usize, usize, isize, isize) {
    let (rows, cols) = a.shape();
    let (rs, cs) = a.strides();
    let (rs, cs) = (rs as isize, cs as isize);
    match op {
        Op::N => (rows, cols, rs, cs),
        Op::T => (cols, rows, cs, rs),
    }
}

/// A pointer that may cross to another thread: each thread writes its own columns of `c`.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: only used to hand disjoint column blocks of one matrix to scoped tasks.
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so that closures capture the whole `Send` wrapper).
    fn get(self) -> *mut T {
        self.0
    }
}

/// `c = alpha op_a(a) op_b(b) + beta c`, on matrices or views with any strides.
///
/// A large product is split by columns of `c` over the CPU's threads ([`parallel`]): each entry
/// is still one dot product summed in the same order, so the result is the same on any number of
/// threads.
///
/// # Panics
/// If the shapes do not agree (a programming error: callers build shapes from the network).
pub fn gemm<T, SC, SA, SB>(
    c: &mut Matrix<T, Dyn, Dyn, SC>,
    alpha: T,
    a: &Matrix<T, Dyn, Dyn, SA>,
    op_a: Op,
    b: &Matrix<T, Dyn, Dyn, SB>,
    op_b: Op,
    beta: T,
) where
    T: Float,
    SC: RawStorageMut<T, Dyn, Dyn>,
    SA: RawStorage<T, Dyn, Dyn>,
    SB: RawStorage<T, Dyn, Dyn>,
{
    let (m, k, rsa, csa) = view(a, op_a);
    let (k2, n, rsb, csb) = view(b, op_b);
    assert!(
        k == k2 && c.shape() == (m, n),
        "gemm shapes: ({m}x{k}) ({k2}x{n}) -> {:?}",
        c.shape()
    );
    let (rsc, csc) = c.strides();
    let (rsc, csc) = (rsc as isize, csc as isize);
    let (pa, pb, pc) = (a.as_ptr(), b.as_ptr(), SendPtr(c.as_mut_ptr()));
    // Blocks start at multiples of 16 columns: every kernel's register tile width divides 16
    // (matrixmultiply's widest is 16), so each column lands in the same tile lane as unsplit.
    let blocks = parallel::ranges(n, (m * n * k) as f64, 16);
    let a_raw = (pa as usize, rsa, csa);
    let b_raw = (pb as usize, rsb, csb);
    parallel::for_each(blocks, (m * n * k) as f64, |cols| {
        let offset = |stride: isize| cols.start as isize * stride;
        // SAFETY: the shapes were checked above, `c` is exclusively borrowed and does not alias
        // `a` or `b`, and every block writes only its own columns `cols` of `c`.
        unsafe {
            T::gemm_raw(
                m,
                k,
                cols.len(),
                alpha,
                (a_raw.0 as *const T, a_raw.1, a_raw.2),
                (
                    (b_raw.0 as *const T).offset(offset(b_raw.2)),
                    b_raw.1,
                    b_raw.2,
                ),
                beta,
                (pc.get().offset(offset(csc)), rsc, csc),
            );
        }
    });
}
