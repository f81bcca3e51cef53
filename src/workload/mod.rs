//! The work a job does: real CPU kernels ([`kernels`]), the seeded plan of a run's jobs
//! ([`plan`]), and running one job ([`execute`]).

pub mod execute;
pub mod kernels;
pub mod plan;
