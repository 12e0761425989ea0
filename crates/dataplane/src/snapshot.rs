//! Immutable tables swapped whole: how the control plane hands a new SAD (or compiled SPD) to the
//! data-plane workers without a lock on the per-packet path (DESIGN.md §2, §3).
//!
//! The owner publishes a new `T` into a [`SnapshotCell`]; each worker holds a [`SnapshotReader`]
//! that keeps its own `Arc<T>` and a generation number. [`SnapshotReader::current`] costs one
//! atomic load (`Acquire`) when nothing changed; only after a publish does it take the cell's read
//! lock once to clone the new `Arc`. Publishing takes the write lock, so it waits at most for a
//! reader's pointer copy.
//!
//! Why this and not a crate such as `arc-swap`: the standard library's `RwLock` plus an
//! `AtomicU64` give the same per-packet cost (one uncontended atomic load) with no new dependency
//! and no `unsafe`; the lock is touched only once per reader per publish. The trade-off: a worker
//! keeps the previous table alive until its next `current()` call, so workers should call it at
//! least once per batch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

#[derive(Debug)]
struct Shared<T> {
    current: RwLock<Arc<T>>,
    /// Bumped (under the write lock) by every publish.
    generation: AtomicU64,
}

/// The published value; cloning the cell shares it.
#[derive(Debug)]
pub struct SnapshotCell<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for SnapshotCell<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> SnapshotCell<T> {
    /// A cell holding `initial`, at generation 0.
    pub fn new(initial: T) -> Self {
        Self {
            shared: Arc::new(Shared {
                current: RwLock::new(Arc::new(initial)),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Replaces the value; readers see it at their next [`SnapshotReader::current`]. Returns the
    /// new generation.
    pub fn publish(&self, next: Arc<T>) -> u64 {
        // A panic elsewhere while holding the lock cannot leave the `Arc` half-written.
        let mut guard = self
            .shared
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *guard = next;
        self.shared.generation.fetch_add(1, Ordering::Release) + 1
    }

    /// The current value (takes the read lock: for the control plane, not per packet).
    pub fn load(&self) -> Arc<T> {
        Arc::clone(&self.read())
    }

    /// The number of publishes so far.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// A reader for one worker, starting at the current value.
    pub fn reader(&self) -> SnapshotReader<T> {
        let guard = self.read();
        SnapshotReader {
            cached: Arc::clone(&guard),
            seen: self.shared.generation.load(Ordering::Relaxed),
            shared: Arc::clone(&self.shared),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Arc<T>> {
        self.shared
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One worker's view of a [`SnapshotCell`]: a cached `Arc` refreshed when the generation moves.
#[derive(Debug)]
pub struct SnapshotReader<T> {
    shared: Arc<Shared<T>>,
    cached: Arc<T>,
    seen: u64,
}

impl<T> SnapshotReader<T> {
    /// The latest published value: one atomic load when nothing changed since the last call.
    #[inline]
    pub fn current(&mut self) -> &Arc<T> {
        if self.shared.generation.load(Ordering::Acquire) != self.seen {
            self.refresh();
        }
        &self.cached
    }

    #[cold]
    fn refresh(&mut self) {
        let guard = self
            .shared
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        self.cached = Arc::clone(&guard);
        // The generation only moves under the write lock, so this is the cached value's.
        self.seen = self.shared.generation.load(Ordering::Relaxed);
    }

    /// The generation of the value last returned.
    pub fn generation(&self) -> u64 {
        self.seen
    }
}

impl<T> Clone for SnapshotReader<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            cached: Arc::clone(&self.cached),
            seen: self.seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_publishes() {
        let cell = SnapshotCell::new(1u32);
        let mut r = cell.reader();
        assert_eq!(**r.current(), 1);
        assert_eq!(cell.publish(Arc::new(2)), 1);
        assert_eq!(**r.current(), 2);
        assert_eq!(r.generation(), 1);
        let mut late = cell.reader();
        assert_eq!(**late.current(), 2);
        assert_eq!(*cell.load(), 2);
    }

    #[test]
    fn old_value_lives_until_readers_move_on() {
        let cell = SnapshotCell::new(vec![1u8]);
        let mut r = cell.reader();
        let old = Arc::downgrade(r.current());
        cell.publish(Arc::new(vec![2]));
        assert!(
            old.upgrade().is_some(),
            "the reader still holds the old table"
        );
        assert_eq!(r.current()[0], 2);
        assert!(
            old.upgrade().is_none(),
            "dropped once every reader moved on"
        );
    }

    #[test]
    fn concurrent_readers_only_see_published_values() {
        let cell = SnapshotCell::new(0u64);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mut r = cell.reader();
                std::thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..20_000 {
                        let v = **r.current();
                        assert!(v >= last, "values never go back");
                        last = v;
                    }
                    last
                })
            })
            .collect();
        for v in 1..=1000 {
            cell.publish(Arc::new(v));
        }
        for h in readers {
            assert!(h.join().expect("reader thread") <= 1000);
        }
    }
}
