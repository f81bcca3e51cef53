//! The engine: Go's scaling patterns run on real threads, with full reports.
//!
//! - [`config`]: what a run is asked to do, validated in one place;
//! - [`chan`]: a Go channel of job ids (buffered or unbuffered, closable);
//! - [`outcome`]: how a job can end, declared once (enum, counts, the page's table);
//! - [`fan_in`]: the fan-out pattern's result stage (completion or input order);
//! - [`run_import`]: reading an exported run back in, checked field by field;
//! - [`state`]: the per-job slots and counters the pool threads share;
//! - [`producer`]: the unpaced producer, stepped by the receivers that make room;
//! - [`workers`]: CPU workers (continuations on the pool), I/O workers (timers);
//! - [`coordinator`]: the async task that produces, paces, cancels and reports;
//! - [`report`]: progress batches and the final report;
//! - [`runtime`]: the platform seam (pool, clock, timers, memory);
//! - [`fault`]: a crashed pool thread, reported instead of waited on forever;
//! - [`abort_slot`]: cancelling a run through shared memory, without a message.

pub mod abort_slot;
pub(crate) mod chan;
pub mod config;
pub(crate) mod coordinator;
pub(crate) mod fan_in;
pub mod fault;
pub mod outcome;
pub(crate) mod producer;
pub mod report;
pub mod run_import;
pub mod runtime;
mod slot;
pub(crate) mod state;
pub(crate) mod workers;

pub use config::{ConfigError, ConfigErrors, RunConfig};
pub use coordinator::{execute, execute_with_slot, run};
pub use report::{Progress, RunReport};
