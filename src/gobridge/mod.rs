//! The Go bridge: any set-up of the page as a complete, runnable `main.go` that does the
//! same thing with Go's own tools — goroutines and channels, `errgroup`,
//! `golang.org/x/time/rate`, `semaphore.Weighted` — plans the same jobs from the same
//! seed, and prints the same accounting line as the run's summary
//! ([`accounting_line`](crate::engine::outcome::accounting_line)).
//!
//! The program is assembled here from fixed Go pieces ([`parts`]) and the set-up's
//! numbers. It contains no text from the user except numbers the settings parser
//! validated (enum settings become code, never strings), so it cannot be made to say
//! anything else. Where a setting has no faithful Go equivalent the program says so in
//! a comment and [`GoProgram::notes`] lists it, rather than approximating silently.

mod parts;
mod pipeline;
mod program;

pub use program::go_program;

use serde::Serialize;

/// A generated Go program and what a reader should know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct GoProgram {
    /// The complete `main.go` (gofmt-formatted).
    pub source: String,
    /// Settings the program does not repeat exactly, and why (empty when it is
    /// faithful in every respect).
    pub notes: Vec<String>,
    /// Modules beyond the standard library it imports (`golang.org/x/...`).
    pub modules: Vec<String>,
}
