//! The floating-point types the core is generic over (f32 fast path, f64 reference), and the
//! two matrix products the backward pass needs without copying a transpose.

use nalgebra::{DMatrix, DMatrixView, Dyn, RealField, ViewStorage};

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
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn of_f64(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn erf(self) -> Self {
        libm::erff(self)
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    fn of_f64(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn erf(self) -> Self {
        libm::erf(self)
    }
}

/// A transposed view of `m` that shares its storage (nalgebra's `gemm` honours the strides, so
/// matrixmultiply sees a plain transposed operand and nothing is copied).
pub fn transposed<T: Float>(m: &DMatrix<T>) -> nalgebra::Matrix<T, Dyn, Dyn, ViewStorage<'_, T, Dyn, Dyn, Dyn, Dyn>> {
    DMatrixView::from_slice_with_strides(m.as_slice(), m.ncols(), m.nrows(), m.nrows(), 1)
}

/// `c = alpha * a * b^T + beta * c`.
pub fn gemm_nt<T: Float>(c: &mut DMatrix<T>, alpha: T, a: &DMatrix<T>, b: &DMatrix<T>, beta: T) {
    c.gemm(alpha, a, &transposed(b), beta);
}

/// `c = alpha * a^T * b + beta * c`.
pub fn gemm_tn<T: Float>(c: &mut DMatrix<T>, alpha: T, a: &DMatrix<T>, b: &DMatrix<T>, beta: T) {
    c.gemm(alpha, &transposed(a), b, beta);
}
