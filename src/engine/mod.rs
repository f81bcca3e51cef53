//! The engine: Go's scaling patterns run on real threads, with full reports.
//!
//! - [`config`]: what a run is asked to do, validated in one place;
//! - [`chan`]: a Go channel (buffered or unbuffered, closable; its parked receivers
//!   can be retired by a shrinking pool);
//! - [`job`]: a job as it travels through a run, and the record it leaves;
//! - [`pool`]: the elastic pool's protocol (resize while it runs, graceful or not);
//! - [`scaling`]: the autoscalers (queue target, AIMD, Gradient2);
//! - [`control`]: steering a run while it goes (resize, rate);
//! - [`record`]: counts, HDR latency histograms and a bounded window of job records;
//! - [`outcome`]: how a job can end, declared once (enum, counts, the page's table);
//! - [`fan_in`]: the fan-out pattern's result stage (completion or input order);
//! - [`pipeline`]: the pipeline pattern: stages with pools of their own, the bottleneck;
//! - [`run_import`]: reading an exported run back in, checked field by field;
//! - [`state`]: what the coordinator, the producer and the workers share;
//! - [`producer`]: the unpaced producer, stepped by the receivers that make room;
//! - [`workers`]: CPU workers (continuations on the pool), I/O workers (timers);
//! - [`coordinator`]: the async task that produces, paces, cancels and reports;
//! - [`report`]: progress batches and the final report;
//! - [`runtime`]: the platform seam (pool, clock, timers, memory);
//! - [`fault`]: a crashed pool thread, reported instead of waited on forever;
//! - [`abort_slot`]: cancelling a run through shared memory, without a message.

pub mod abort_slot;
pub mod chan;
pub mod config;
pub mod control;
pub(crate) mod coordinator;
pub(crate) mod fan_in;
pub mod fault;
pub mod generator;
pub mod job;
pub mod outcome;
pub mod pipeline;
pub mod pool;
pub(crate) mod producer;
pub mod record;
pub mod report;
pub mod run_import;
pub mod runtime;
pub mod scaling;
pub(crate) mod state;
pub mod time_use;
pub(crate) mod workers;

pub use config::{ConfigError, ConfigErrors, RunConfig};
pub use control::{ControlError, RunHandle};
pub use coordinator::{execute, execute_with_slot, run, start};
pub use report::{Progress, RunReport};
