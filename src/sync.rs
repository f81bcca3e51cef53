//! The one seam between the concurrent core and its synchronisation primitives.
//!
//! The modules whose correctness rests on atomics and locks (the cancellation tree, the
//! job channel, a job slot's finish protocol, the abort slots) take their `Mutex` and
//! atomics from here. A normal build gets `std`'s; a build with `--cfg loom` gets
//! [loom](https://docs.rs/loom)'s, whose model checker runs every interleaving of the
//! `loom_*` tests (`./build.sh test` runs them; see `tests`/README). `Arc`/`Weak` stay
//! `std`'s: their reference counting is not what is being checked, and loom has no
//! `Weak`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::fence;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::fence;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
