//! Seeded, portable random numbers: ChaCha8 (rand_chacha) for the bits, and Box–Muller with
//! libm's `log`/`sin`/`cos` for Gaussians, so the same seed gives bit-identical draws natively
//! and on wasm32 (no platform libm is involved).

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng};

/// Independent streams derived from one seed, so that e.g. changing the data set size does not
/// change the initial weights.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// Data set generation and train/test split.
    Data = 1,
    /// Network initialization.
    Init = 2,
    /// Mini-batch order.
    Batches = 3,
    /// Anything else an experiment needs (probes, random directions).
    Experiment = 4,
    /// Train/test split.
    Split = 5,
}

/// A seeded random number generator.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl Rng {
    /// Generator for `seed` on the given stream.
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream as u64);
        Rng {
            inner,
            spare_normal: None,
        }
    }

    /// Raw 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n (n > 0), by Lemire's nearly-divisionless rejection, unbiased.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        loop {
            let product = (self.next_u64() as u128) * (n as u128);
            let low = product as u64;
            if low >= n.wrapping_neg() % n {
                return (product >> 64) as usize;
            }
        }
    }

    /// Standard normal N(0, 1) by Box–Muller (both outputs used).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - uniform() lies in (0, 1], so the log is finite.
        let radius = libm::sqrt(-2.0 * libm::log(1.0 - self.uniform()));
        let angle = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare_normal = Some(radius * libm::sin(angle));
        radius * libm::cos(angle)
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}
