//! Per-resource serialisation of read-modify-write operations.
//!
//! The upstream has no PATCH and no ETags: every change is a GET, a local merge and a full PUT.
//! Two such operations on the same data flow or connection, interleaved, lose one update.
//! [`Locks`] serialises them among every caller an implementation reaches. Within one process,
//! [`ResourceLocks`] does: one async mutex per key, created on demand and removed when the last
//! holder or waiter lets go, so the map never grows with old keys. Replicas share a lease in a
//! store instead (`bdi-redis`), which can expire: the holder checks it still holds the lease
//! ([`Held::check`]) right before the write it protects.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::Result;

/// A lock held on a resource; dropping it releases the lock.
#[async_trait]
pub trait Held: Send + Sync + fmt::Debug {
    /// Whether the lock still holds, checked right before the write it protects (the fencing
    /// check): a lease that expired while its holder stalled must not be written under, since
    /// another caller may have taken the resource since. The in-process lock never expires.
    async fn check(&self) -> Result<()>;
}

/// Serialises read-modify-write per resource among every caller the implementation reaches: the
/// tasks of one process ([`ResourceLocks`]) or every replica sharing a store.
#[async_trait]
pub trait Locks: Send + Sync + fmt::Debug {
    /// Waits for the lock of `key` and holds it until the returned guard is dropped. Fails when
    /// the store that keeps the locks cannot be reached (never in process).
    async fn lock(&self, key: &str) -> Result<Box<dyn Held>>;
}

type Table = Arc<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>;

/// A map of keyed async mutexes. Cloning shares the map.
#[derive(Clone, Default)]
pub struct ResourceLocks {
    table: Table,
}

impl fmt::Debug for ResourceLocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceLocks")
            .field("held", &self.len())
            .finish()
    }
}

/// Holds a key's lock; dropping it releases the lock (and the key's entry when nobody waits).
#[must_use = "the lock is released when the guard is dropped"]
pub struct ResourceGuard {
    key: String,
    table: Table,
    guard: Option<OwnedMutexGuard<()>>,
}

impl fmt::Debug for ResourceGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceGuard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn lock_table(table: &Table) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AsyncMutex<()>>>> {
    table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ResourceLocks {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for the lock of `key` and holds it until the guard is dropped.
    pub async fn lock(&self, key: impl Into<String>) -> ResourceGuard {
        let key = key.into();
        let mutex = lock_table(&self.table)
            .entry(key.clone())
            .or_default()
            .clone();
        // Built before waiting, so that a waiter dropped mid-wait still cleans the entry up.
        let mut held = ResourceGuard {
            key,
            table: self.table.clone(),
            guard: None,
        };
        held.guard = Some(mutex.lock_owned().await);
        held
    }

    /// How many keys are held or awaited.
    pub fn len(&self) -> usize {
        lock_table(&self.table).len()
    }

    /// Whether no key is held or awaited.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Held for ResourceGuard {
    async fn check(&self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Locks for ResourceLocks {
    async fn lock(&self, key: &str) -> Result<Box<dyn Held>> {
        Ok(Box::new(ResourceLocks::lock(self, key).await))
    }
}

impl Drop for ResourceGuard {
    fn drop(&mut self) {
        // Release the mutex first, so that its Arc count below counts only the map and waiters.
        drop(self.guard.take());
        let mut table = lock_table(&self.table);
        if let Some(entry) = table.get(&self.key)
            && Arc::strong_count(entry) == 1
        {
            table.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_holder_per_key_and_entries_are_cleaned_up() {
        let locks = ResourceLocks::new();
        let order: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let first = locks.lock("flow:a").await;
        let (l2, o2) = (locks.clone(), order.clone());
        let waiter = tokio::spawn(async move {
            let _g = l2.lock("flow:a").await;
            o2.lock().expect("lock").push("second");
        });
        let other = locks.lock("flow:b").await;
        assert_eq!(locks.len(), 2);
        tokio::time::sleep(Duration::from_secs(1)).await;
        order.lock().expect("lock").push("first");
        drop(first);
        waiter.await.expect("waiter");
        assert_eq!(*order.lock().expect("lock"), vec!["first", "second"]);
        assert_eq!(locks.len(), 1);
        drop(other);
        assert!(locks.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_leaves_no_entry() {
        let locks = ResourceLocks::new();
        let held = locks.lock("k").await;
        let l2 = locks.clone();
        let waiter = tokio::spawn(async move {
            let _g = l2.lock("k").await;
        });
        tokio::task::yield_now().await;
        waiter.abort();
        assert!(waiter.await.is_err());
        drop(held);
        assert!(locks.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_dropped_after_the_release_leaves_no_entry() {
        let locks = ResourceLocks::new();
        let held = locks.lock("k").await;
        let mut waiting = Box::pin(locks.lock("k"));
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        drop(held);
        assert_eq!(locks.len(), 1);
        drop(waiting);
        assert!(locks.is_empty());
    }
}
