//! The work a job does: real CPU kernels (this module's [`kernels`]).

pub mod kernels;
