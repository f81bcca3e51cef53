//! # scalelab
//!
//! Go's concurrency scaling patterns — worker pools, fan-out/fan-in, token-bucket rate
//! limiting, context-style cancellation — in Rust, running on real threads (a
//! shared-memory rayon pool over Web Workers) in the browser, and natively.
//!
//! The crate is layered:
//! - the **pure core** (everything outside `web`) compiles and tests natively with
//!   plain `cargo test`; it never reads a real clock on its own (time is injected);
//! - [`web`] (wasm32 only) is the thin glue to JavaScript: `#[wasm_bindgen]` exports,
//!   the browser clock and timers.

#![warn(missing_docs)]

// A threaded wasm build must have shared memory; without it rayon's pool would hang in
// the browser instead of failing. Fail the build loudly instead.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
compile_error!(
    "scalelab's wasm build needs shared memory: build with RUSTFLAGS \
     `-C target-feature=+atomics,+bulk-memory,+mutable-globals` and \
     `-Z build-std=panic_abort,std` (./build.sh build does both)"
);

pub mod cancel;
pub mod clock;
pub mod engine;
pub mod errgroup;
pub mod gobridge;
pub mod lab;
pub mod limiter;
pub mod offload;
pub mod selftest;
pub mod semaphore;
pub mod settings;
pub mod sim;
pub mod stats;
mod sync;
pub mod workload;

#[cfg(target_arch = "wasm32")]
pub mod web;
