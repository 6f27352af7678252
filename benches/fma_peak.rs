//! This core's peak f32 multiply-add rate: 12 independent chains of fused multiply-adds (enough
//! to hide their latency), 512-bit and 256-bit. A gemm cannot beat it, so it bounds how fast the
//! training step of `train_step.rs` can be on one thread: its gemms do 2 B (3 W - W_1) flops
//! (forward, weight gradient, and the error sent back through every layer but the first) for W
//! weights, W_1 of them in the first layer, on a batch of B = 256.
//! Run with `cargo bench --bench fma_peak`.

#![allow(missing_docs)]

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// `iters` rounds of 12 vector FMAs on 16 lanes; returns a sum so nothing is optimized away.
    #[target_feature(enable = "avx512f")]
    pub fn zmm(iters: usize) -> f32 {
        let (a, b) = (
            _mm512_set1_ps(black_box(0.999)),
            _mm512_set1_ps(black_box(0.001)),
        );
        let mut acc = [_mm512_setzero_ps(); 12];
        for _ in 0..black_box(iters) {
            for v in &mut acc {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        acc.iter().map(|&v| _mm512_reduce_add_ps(v)).sum()
    }

    /// The same on 8 lanes.
    #[target_feature(enable = "avx2,fma")]
    pub fn ymm(iters: usize) -> f32 {
        let (a, b) = (
            _mm256_set1_ps(black_box(0.999)),
            _mm256_set1_ps(black_box(0.001)),
        );
        let mut acc = [_mm256_setzero_ps(); 12];
        for _ in 0..black_box(iters) {
            for v in &mut acc {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let mut lanes = [0f32; 8];
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, &v| _mm256_add_ps(s, v));
        // SAFETY: `lanes` holds 8 floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    {
        let iters = 50_000_000;
        let rate = |lanes: usize, run: &dyn Fn() -> f32| {
            let start = std::time::Instant::now();
            std::hint::black_box(run());
            (2 * 12 * lanes * iters) as f64 / start.elapsed().as_secs_f64() / 1e9
        };
        // The step of benches/train_step.rs: 32 -> 512 x 3 -> 10, batch 256.
        let weights = 32.0 * 512.0 + 2.0 * 512.0 * 512.0 + 512.0 * 10.0;
        let step_flops = 2.0 * 256.0 * (3.0 * weights - 32.0 * 512.0);
        for (name, lanes, ok) in [
            ("512-bit", 16, is_x86_feature_detected!("avx512f")),
            ("256-bit", 8, is_x86_feature_detected!("fma")),
        ] {
            if !ok {
                println!("{name}: not supported here");
                continue;
            }
            // SAFETY: the features were detected just above.
            let best = (0..5)
                .map(|_| match lanes {
                    16 => rate(16, &|| unsafe { x86::zmm(iters) }),
                    _ => rate(8, &|| unsafe { x86::ymm(iters) }),
                })
                .fold(0.0, f64::max);
            println!(
                "{name} FMA peak, one thread, best of 5: {best:.1} GFLOP/s; the train_step step \
                 ({:.0} MFLOP) cannot take less than {:.2} ms on one thread",
                step_flops / 1e6,
                step_flops / best / 1e9 * 1e3
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    println!("fma_peak measures x86-64 cores only");
}
