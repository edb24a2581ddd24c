//! Lock helpers for a vendor's store. A poisoned lock still holds consistent
//! emulator data, because every write to a store finishes before its guard
//! drops or panics only on a broken invariant, so the emulator keeps
//! serving.
//!
//! A vendor keeps its store as `Arc<RwLock<Store>>` inside its state handle
//! and reads it with [`read`] and [`write()`].

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The read guard, poisoned or not.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The write guard, poisoned or not.
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The mutex guard, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
