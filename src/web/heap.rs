//! Heap in use, counted: with the `counting-allocator` feature (on by default, what the
//! page builds) the wasm build's global allocator is the system allocator wrapped with a
//! byte counter; without it the heap is not measured and the library leaves the choice
//! of allocator to the crate that uses it. Linear memory only ever grows, so it cannot show memory
//! being given back; the count of live bytes can (the memory chart and the unbounded
//! goroutines pitfall use it).
//!
//! Ordering: the counter is a statistic read by whoever samples it; `Relaxed` is enough
//! (it orders nothing else, and each update is a single atomic read-modify-write).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static IN_USE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counting only adds atomic arithmetic on a statistic.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            IN_USE.fetch_add(new_size, Ordering::Relaxed);
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[cfg(feature = "counting-allocator")]
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Bytes allocated and not yet freed, across all threads — `None` unless this crate's
/// [`CountingAllocator`] is the global allocator (feature `counting-allocator`).
pub fn heap_bytes() -> Option<u64> {
    cfg!(feature = "counting-allocator").then(|| IN_USE.load(Ordering::Relaxed) as u64)
}
