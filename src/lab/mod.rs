//! The lab: the article's "validate your concurrency design" made into tools.
//!
//! - [`sweep`]: throughput at every worker count, fitted with the Universal
//!   Scalability Law, with a recommended worker count;
//! - [`race`]: lost updates from a read-modify-write split into a load and a store.
//!
//! The other pitfalls (unbounded fan-out, channel leaks, ignored cancellation, ticker
//! pacing) are settings of an ordinary run — see `RunConfig::{stack_kib, leak,
//! poll_cancel, pacing}` — so they run on the real engine and are measured by its
//! report.

pub mod race;
pub mod sweep;
