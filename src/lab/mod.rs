//! The lab: the article's "validate your concurrency design" made into tools.
//!
//! - [`sweep`]: throughput at every worker count, fitted with the Universal
//!   Scalability Law, with a recommended worker count;
//! - [`load_sweep`]: offered load from a fraction of capacity to past it (the hockey
//!   stick), with Little's law checked and the M/M/c curve beside it;
//! - [`race`]: lost updates from a read-modify-write split into a load and a store;
//! - [`pitfalls`]: unbounded goroutines, channel leaks and ignored cancellation, each a
//!   small program built from the engine's public pieces, the wrong way and the right.
//!
//! (Ticker pacing is a setting of the rate-limited pattern itself: the engine's
//! `time.Ticker` against its token bucket.)

pub mod load_sweep;
pub mod pitfalls;
pub mod race;
pub mod sweep;
