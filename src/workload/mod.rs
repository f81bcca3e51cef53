//! The work a job does: real CPU kernels ([`kernels`]), the seeded plan of a run's jobs
//! ([`plan`]), when they arrive in an open loop ([`arrival`]), the stages of a pipeline
//! ([`pipeline`]) and running one job ([`execute`]), all drawn from portable seeded streams ([`draw`]).

pub mod arrival;
pub mod draw;
pub mod execute;
pub mod kernels;
pub mod pipeline;
pub mod plan;
