//! Pure numerics: no I/O, no DOM, no GPU. Everything here runs natively and on wasm32 and is
//! checked by the tests in `tests/`.

pub mod abc;
pub mod abc_regime;
pub mod activation;
pub mod assignment;
pub mod bounds;
pub mod budget;
pub mod collapse;
pub mod counter_rng;
pub mod criticality;
pub mod data;
pub mod directions;
pub mod ensemble;
pub mod finite;
pub mod hessian;
pub mod init_sampler;
pub mod kernel_gd;
pub mod kernels;
pub mod lanczos;
pub mod loss;
pub mod mlp;
pub mod model_file;
pub mod nearly_gaussian;
pub mod optim;
pub mod optimizer_kind;
pub mod parallel;
pub mod parametrization;
pub mod quadrature;
pub mod rebasin;
pub mod rng;
pub mod scalar;
pub mod stepper;
pub mod subspace;
pub mod train;
pub mod ufm;
pub mod vocabulary;
