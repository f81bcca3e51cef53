//! Abort slots: cancelling a run by writing to shared memory instead of sending a message.
//!
//! In the browser a Cancel travels page → engine worker as a message, and only when that
//! worker's event loop runs does the run's token get cancelled. On a busy machine (the
//! pool threads spinning on every core) the engine worker can wait several milliseconds
//! for a time slice, which is most of the cancellation latency. A slot lets the page
//! skip that hop: the engine worker hands the page the address of a small static table
//! in the wasm module's shared memory; the page writes the abort into its run's slot
//! with `Atomics`, and the pool threads — which already poll the run's token between
//! chunks of work — see it on their next poll and cancel the token themselves, with the
//! same cause the message would have given. The message is still sent; whichever comes
//! first cancels, and the other is a no-op (a token is cancelled once, invariant 2 of
//! [`crate::cancel`]).
//!
//! A slot also carries the run's latest *resize request*, the same way: the page's
//! `resize()` writes it here as well as sending its message, and a pool thread between
//! two jobs (or the coordinator at its next batch) applies it — so a resize, like a
//! cancel, does not wait for the engine worker's event loop. Requests carry a sequence
//! number; the run applies each number once, whichever way it arrives first, and never
//! an older one after a newer ([`crate::engine::control`]).
//!
//! This module is the protocol, in plain Rust, with [`request_abort`] and
//! [`request_resize`] doing what the page does from JavaScript, so it is tested natively.
//!
//! # Protocol and invariants
//! Each slot has a `state` word: `0` free, `+id` armed for run `id`, `-id` abort requested.
//! 1. Only the engine arms (`0 → +id`, [`arm`]) and disarms (`→ 0`, when the
//!    [`ArmedSlot`] drops, before the run's result is sent). The requester owns the
//!    choice of slot (the page gives each pending run its own), so arming never races
//!    another run.
//! 2. A requester writes `kind`, `len` and the reason bytes, then moves `state` from
//!    `+id` to `-id` with one compare-and-swap (`AcqRel`). If the slot is not armed for
//!    that id (not armed yet, or the run is over) the swap fails and nothing happens.
//! 3. A reader loads `state` with `Acquire`; seeing `-id`, it reads `kind`, `len` and the
//!    bytes, which were written before the swap (release/acquire through `state`).
//!    Reasons are at most [`REASON_CAPACITY`] bytes of UTF-8 (the requester cuts on a
//!    character boundary; a reader replaces anything invalid).
//! 4. `resize` is one 64-bit word, written whole by the requester (`Release`) and read
//!    whole (`Acquire`): `run id mod 2^16 | seq (16 bits) | stop now (1 bit) | workers
//!    (15 bits)`, high to low. Arming clears it before the arming swap, and a requester
//!    writes it only after seeing its run armed, so a new run starts with no request; a
//!    reader ignores a word whose id bits are not its run's.

use std::sync::atomic::Ordering;

use crate::sync::{AtomicI32, AtomicU8, AtomicU32, AtomicU64};

use crate::cancel::CancelToken;

/// Runs that can be aborted through memory at once (others fall back to the message).
pub const SLOTS: usize = 32;
/// Longest reason carried, in bytes of UTF-8.
pub const REASON_CAPACITY: usize = 244;

/// What the abort means, as the requester's `AbortSignal` reason said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum AbortKind {
    /// A cancel whose cause is the reason text (Go's `context.Canceled`).
    Cancel = 1,
    /// A timeout (`AbortSignal.timeout()`): the deadline passed (`DeadlineExceeded`).
    Deadline = 2,
}

/// One slot. `repr(C)` so the page can address its fields: see [`layout`].
#[repr(C)]
pub struct AbortSlot {
    state: AtomicI32,
    kind: AtomicU32,
    len: AtomicU32,
    /// The latest resize request (invariant 4).
    resize: AtomicU64,
    reason: [AtomicU8; REASON_CAPACITY],
}

/// A resize asked for through a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeRequest {
    /// The request's number (the requester counts from 1; 0 means no request).
    pub seq: u16,
    /// Workers asked for.
    pub workers: u32,
    /// Whether the removed workers' jobs are to be stopped.
    pub stop_now: bool,
}

impl ResizeRequest {
    /// The word a requester writes for run `id` (invariant 4).
    pub fn pack(&self, id: i32) -> u64 {
        ((id as u64 & 0xffff) << 48)
            | ((self.seq as u64) << 32)
            | ((self.stop_now as u64) << 31)
            | (self.workers as u64 & 0x7fff_ffff)
    }

    fn unpack(word: u64, id: i32) -> Option<ResizeRequest> {
        let request = ResizeRequest {
            seq: (word >> 32) as u16,
            workers: (word & 0x7fff_ffff) as u32,
            stop_now: word & (1 << 31) != 0,
        };
        (word >> 48 == id as u64 & 0xffff && request.seq != 0).then_some(request)
    }
}

#[cfg(not(loom))]
#[allow(clippy::declare_interior_mutable_const)] // a template for the array below
const FREE_SLOT: AbortSlot = AbortSlot {
    state: AtomicI32::new(0),
    kind: AtomicU32::new(0),
    len: AtomicU32::new(0),
    resize: AtomicU64::new(0),
    reason: [const { AtomicU8::new(0) }; REASON_CAPACITY],
};

/// The table: static, so its address never changes and is never freed while a page
/// may still write to it. (loom's atomics cannot live in a static: its models use
/// leaked slots, see `loom_tests`.)
#[cfg(not(loom))]
static TABLE: [AbortSlot; SLOTS] = [FREE_SLOT; SLOTS];

/// Where the table lives, for a requester writing to memory directly (the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// Address of slot 0 (a byte offset into wasm linear memory).
    pub base: usize,
    /// Bytes from one slot to the next.
    pub stride: usize,
    /// Offset of `state` (an `i32`: 0 free, +id armed, -id abort requested).
    pub state: usize,
    /// Offset of `kind` (a `u32`: [`AbortKind`]).
    pub kind: usize,
    /// Offset of `len` (a `u32`: bytes of reason).
    pub len: usize,
    /// Offset of `resize` (a `u64`, 8-aligned: the latest resize request).
    pub resize: usize,
    /// Offset of the reason's UTF-8 bytes.
    pub reason: usize,
    /// Bytes of reason a slot holds.
    pub capacity: usize,
    /// Number of slots.
    pub slots: usize,
}

/// The table's address and shape.
#[cfg(not(loom))]
pub fn layout() -> Layout {
    Layout {
        base: TABLE.as_ptr() as usize,
        stride: std::mem::size_of::<AbortSlot>(),
        state: std::mem::offset_of!(AbortSlot, state),
        kind: std::mem::offset_of!(AbortSlot, kind),
        len: std::mem::offset_of!(AbortSlot, len),
        resize: std::mem::offset_of!(AbortSlot, resize),
        reason: std::mem::offset_of!(AbortSlot, reason),
        capacity: REASON_CAPACITY,
        slots: SLOTS,
    }
}

/// Why a slot could not be armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArmError {
    /// No slot has this index.
    NoSuchSlot(u32),
    /// Run ids are 1..=i32::MAX (the sign marks a request).
    BadRunId(i64),
    /// The slot is armed for another run.
    Busy(u32),
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArmError::NoSuchSlot(i) => {
                write!(
                    f,
                    "abort slot: {i} is out of range; allowed: 0–{}",
                    SLOTS - 1
                )
            }
            ArmError::BadRunId(id) => {
                write!(
                    f,
                    "abort slot: run id {id} is out of range; allowed: 1–{}",
                    i32::MAX
                )
            }
            ArmError::Busy(i) => write!(f, "abort slot: slot {i} is already armed for another run"),
        }
    }
}

impl std::error::Error for ArmError {}

/// Slot `index` armed for run `id` (invariant 1); disarmed when dropped. The run
/// itself polls through a [`SlotWatch`], so the owner decides when the slot frees.
#[derive(Debug)]
pub struct ArmedSlot {
    watch: SlotWatch,
}

/// What a run polls: its slot and id. Reading a slot that was disarmed (or re-armed
/// for another run) finds no request for this id.
#[derive(Clone, Copy)]
pub struct SlotWatch {
    slot: &'static AbortSlot,
    id: i32,
}

impl std::fmt::Debug for SlotWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.slot.state.load(Ordering::Relaxed);
        f.debug_struct("SlotWatch")
            .field("id", &self.id)
            .field("state", &state)
            .finish()
    }
}

/// Arms slot `index` for run `id` (`id > 0`). From now until the returned guard
/// drops, [`request_abort`] with this index and id reaches the run.
#[cfg(not(loom))]
pub fn arm(index: u32, id: i64) -> Result<ArmedSlot, ArmError> {
    let slot = TABLE
        .get(index as usize)
        .ok_or(ArmError::NoSuchSlot(index))?;
    arm_slot(slot, index, id)
}

/// [`arm`] on a given slot (invariant 1).
fn arm_slot(slot: &'static AbortSlot, index: u32, id: i64) -> Result<ArmedSlot, ArmError> {
    let id32 = i32::try_from(id)
        .ok()
        .filter(|&i| i > 0)
        .ok_or(ArmError::BadRunId(id))?;
    if slot.state.load(Ordering::Acquire) != 0 {
        return Err(ArmError::Busy(index));
    }
    // Invariant 4: no request from an earlier run survives into this one.
    slot.resize.store(0, Ordering::Relaxed);
    slot.state
        .compare_exchange(0, id32, Ordering::AcqRel, Ordering::Acquire)
        .map_err(|_| ArmError::Busy(index))?;
    Ok(ArmedSlot {
        watch: SlotWatch { slot, id: id32 },
    })
}

impl ArmedSlot {
    /// The handle the run polls.
    pub fn watch(&self) -> SlotWatch {
        self.watch
    }
}

impl SlotWatch {
    /// If an abort was requested, cancels `token` as it asks (a timeout expires the
    /// deadline; a cancel uses the reason as cause) and returns `true`. One `Acquire`
    /// load when nothing was requested: cheap enough for every poll of a hot loop.
    pub fn check(&self, token: &CancelToken) -> bool {
        if self.slot.state.load(Ordering::Acquire) != -self.id {
            return false;
        }
        if self.slot.kind.load(Ordering::Relaxed) == AbortKind::Deadline as u32 {
            token.expire_now();
        } else {
            token.cancel_with(self.reason());
        }
        true
    }

    /// The latest resize requested for this run, if any (invariant 4). One `Acquire`
    /// load.
    pub fn resize_request(&self) -> Option<ResizeRequest> {
        ResizeRequest::unpack(self.slot.resize.load(Ordering::Acquire), self.id)
    }

    /// The requested reason's text (invariant 3).
    fn reason(&self) -> String {
        let len = (self.slot.len.load(Ordering::Relaxed) as usize).min(REASON_CAPACITY);
        let bytes: Vec<u8> = self.slot.reason[..len]
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Drop for ArmedSlot {
    fn drop(&mut self) {
        // A swap, not a store: the same effect, and loom models a plain store racing a
        // compare-exchange wrongly (tokio-rs/loom#254), so the model checks this form.
        self.watch.slot.state.swap(0, Ordering::AcqRel);
    }
}

/// Requests an abort of run `id` in slot `index`, as the page does through memory
/// (invariant 2). Returns whether the slot was armed for that run.
#[cfg(not(loom))]
pub fn request_abort(index: u32, id: i64, kind: AbortKind, reason: &str) -> bool {
    match TABLE.get(index as usize) {
        Some(slot) => request_on(slot, id, kind, reason),
        None => false,
    }
}

/// Requests a resize of run `id` in slot `index`, as the page does through memory
/// (invariant 4). Returns whether the slot was armed for that run.
#[cfg(not(loom))]
pub fn request_resize(index: u32, id: i64, request: ResizeRequest) -> bool {
    match (TABLE.get(index as usize), i32::try_from(id)) {
        (Some(slot), Ok(id)) if id > 0 && slot.state.load(Ordering::Acquire) == id => {
            slot.resize.store(request.pack(id), Ordering::Release);
            true
        }
        _ => false,
    }
}

/// [`request_abort`] on a given slot (invariant 2).
fn request_on(slot: &AbortSlot, id: i64, kind: AbortKind, reason: &str) -> bool {
    let Ok(id) = i32::try_from(id) else {
        return false;
    };
    if id <= 0 || slot.state.load(Ordering::Acquire) != id {
        return false;
    }
    let mut cut = reason.len().min(REASON_CAPACITY);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    for (cell, byte) in slot.reason.iter().zip(&reason.as_bytes()[..cut]) {
        cell.store(*byte, Ordering::Relaxed);
    }
    slot.len.store(cut as u32, Ordering::Relaxed);
    slot.kind.store(kind as u32, Ordering::Relaxed);
    slot.state
        .compare_exchange(id, -id, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    fn leaked_free_slot() -> &'static AbortSlot {
        Box::leak(Box::new(AbortSlot {
            state: AtomicI32::new(0),
            kind: AtomicU32::new(0),
            len: AtomicU32::new(0),
            resize: AtomicU64::new(0),
            reason: std::array::from_fn(|_| AtomicU8::new(0)),
        }))
    }

    /// Invariants 2 and 3: a poll that sees the request reads the reason the requester
    /// wrote, whole; a request after the run disarmed its slot reaches nobody.
    #[test]
    fn loom_a_seen_request_carries_its_whole_reason() {
        loom::model(|| {
            let slot = leaked_free_slot();
            let armed = arm_slot(slot, 0, 7).unwrap();
            let watch = armed.watch();
            let page = thread::spawn(move || request_on(slot, 7, AbortKind::Cancel, "bye"));
            let token = CancelToken::new();
            let seen = watch.check(&token);
            let delivered = page.join().unwrap();
            if seen {
                assert!(delivered);
                assert_eq!(token.cause().unwrap().to_string(), "bye");
            }
            drop(armed);
            assert!(
                !request_on(slot, 7, AbortKind::Cancel, "late"),
                "disarmed: refused"
            );
            let later = CancelToken::new();
            assert_eq!(watch.check(&later), false);
        });
    }

    /// Invariant 1: a request racing the run's end either lands before the disarm (and
    /// is seen by a poll in between) or is refused; it never lands in a free slot.
    #[test]
    fn loom_a_request_racing_the_disarm_never_lands_in_a_free_slot() {
        loom::model(|| {
            let slot = leaked_free_slot();
            let armed = arm_slot(slot, 0, 3).unwrap();
            let page = thread::spawn(move || request_on(slot, 3, AbortKind::Deadline, ""));
            drop(armed);
            let delivered = page.join().unwrap();
            let end = slot.state.load(Ordering::Acquire);
            assert_eq!(
                end, 0,
                "the slot ends free (request delivered: {delivered})"
            );
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::cancel::CancelError;

    // Each test uses its own slot indexes: tests run in parallel over one table.

    #[test]
    fn a_request_reaches_the_armed_run_with_its_reason() {
        let armed = arm(0, 7).unwrap();
        let token = CancelToken::new();
        assert!(!armed.watch().check(&token));
        assert!(request_abort(0, 7, AbortKind::Cancel, "Cancel pressed"));
        assert!(armed.watch().check(&token));
        assert_eq!(token.err(), Some(CancelError::Canceled));
        assert_eq!(token.cause().unwrap().to_string(), "Cancel pressed");
    }

    #[test]
    fn a_timeout_reads_as_a_passed_deadline() {
        let armed = arm(1, 3).unwrap();
        let token = CancelToken::new();
        assert!(request_abort(1, 3, AbortKind::Deadline, "signal timed out"));
        assert!(armed.watch().check(&token));
        assert_eq!(token.err(), Some(CancelError::DeadlineExceeded));
    }

    #[test]
    fn requests_for_another_run_or_an_unarmed_slot_do_nothing() {
        assert!(!request_abort(2, 5, AbortKind::Cancel, "too early"));
        let armed = arm(2, 5).unwrap();
        assert!(!request_abort(2, 6, AbortKind::Cancel, "wrong run"));
        assert!(!request_abort(2, -5, AbortKind::Cancel, "negative"));
        assert!(!request_abort(99, 5, AbortKind::Cancel, "no such slot"));
        let token = CancelToken::new();
        assert!(!armed.watch().check(&token));
        drop(armed);
        assert!(!request_abort(2, 5, AbortKind::Cancel, "too late"));
        // Disarmed: the slot can serve the next run.
        let again = arm(2, 6).unwrap();
        assert!(!again.watch().check(&token));
        assert!(!token.is_cancelled());
    }

    #[test]
    fn arming_refuses_bad_slots_ids_and_busy_slots() {
        assert_eq!(arm(SLOTS as u32, 1).unwrap_err(), ArmError::NoSuchSlot(32));
        assert_eq!(arm(3, 0).unwrap_err(), ArmError::BadRunId(0));
        assert_eq!(
            arm(3, i64::from(i32::MAX) + 1).unwrap_err(),
            ArmError::BadRunId(2_147_483_648)
        );
        let _held = arm(3, 1).unwrap();
        assert_eq!(arm(3, 2).unwrap_err(), ArmError::Busy(3));
        assert_eq!(
            arm(SLOTS as u32, 1).unwrap_err().to_string(),
            "abort slot: 32 is out of range; allowed: 0–31"
        );
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let armed = arm(4, 9).unwrap();
        let reason = "é".repeat(200); // 400 bytes, two per character
        assert!(request_abort(4, 9, AbortKind::Cancel, &reason));
        let token = CancelToken::new();
        assert!(armed.watch().check(&token));
        let cause = token.cause().unwrap().to_string();
        assert_eq!(cause, "é".repeat(REASON_CAPACITY / 2));
    }

    #[test]
    fn the_layout_addresses_the_fields() {
        let l = layout();
        assert_eq!(l.slots, SLOTS);
        assert_eq!(l.state, 0);
        assert!(l.stride >= l.reason + l.capacity);
        assert_eq!(l.stride % 8, 0, "slots stay 8-byte aligned (BigInt64Array)");
        assert_eq!((l.base + l.resize) % 8, 0);
    }

    #[test]
    fn a_resize_request_reaches_its_run_only() {
        let request = ResizeRequest {
            seq: 3,
            workers: 12,
            stop_now: true,
        };
        assert!(!request_resize(5, 11, request), "not armed yet");
        let armed = arm(5, 11).unwrap();
        assert_eq!(armed.watch().resize_request(), None);
        assert!(request_resize(5, 11, request));
        assert_eq!(armed.watch().resize_request(), Some(request));
        assert!(!request_resize(5, 12, request), "another run's id");
        drop(armed);
        // The next run in this slot starts with no request, even from a late writer
        // whose id bits do not match.
        let next = arm(5, 12).unwrap();
        assert_eq!(next.watch().resize_request(), None);
        TABLE[5].resize.store(request.pack(11), Ordering::Release);
        assert_eq!(
            next.watch().resize_request(),
            None,
            "a stale word is ignored"
        );
    }
}
