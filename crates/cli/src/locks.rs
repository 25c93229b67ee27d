//! Read-modify-write locks that every `bdi` process of the user shares: one file per resource in
//! `locks/` beside the run limits' state file, held with an advisory lock (`flock`) from before
//! the read until after the write. Two `bdi flows apply` (or `patch`, `update`) at once on the
//! same data flow take turns, so neither writes over a change the other made after its read.
//!
//! The upstream has no ETags: this is the same guarantee the domain's in-process locks give the
//! tasks of one process (`bdi_domain::ResourceLocks`), across processes on one machine.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use async_trait::async_trait;
use bdi_domain::{Error, Held, Locks, Result};

/// Locks kept as files under a directory.
#[derive(Debug, Clone)]
pub(crate) struct FileLocks {
    dir: PathBuf,
}

/// A held file lock; dropping it closes the file, which releases the lock.
#[derive(Debug)]
struct FileHeld {
    _file: File,
}

#[async_trait]
impl Held for FileHeld {
    /// A file lock lasts as long as the file is open: it never expires under its holder.
    async fn check(&self) -> Result<()> {
        Ok(())
    }
}

impl FileLocks {
    /// Locks under `dir` (created when first needed).
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file of `key`: its characters other than letters, digits, `-` and `_` become `_`.
    fn path(&self, key: &str) -> PathBuf {
        let name: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.lock"))
    }
}

#[async_trait]
impl Locks for FileLocks {
    async fn lock(&self, key: &str) -> Result<Box<dyn Held>> {
        let path = self.path(key);
        let dir = self.dir.clone();
        // Waiting for another process blocks: on a blocking thread.
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
            std::fs::create_dir_all(&dir)?;
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options.open(&path)?;
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|e| Error::Unavailable(format!("the lock of {key} could not be taken: {e}")))?
        .map_err(|e| {
            Error::Unavailable(format!(
                "the lock file of {key} in {} could not be held: {e}",
                self.dir.display()
            ))
        })?;
        Ok(Box::new(FileHeld { _file: file }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let locks = FileLocks::new(dir.path().join("locks"));
        let first = locks.lock("flow:65a1b2c3d4e5f60718293a4b").await.unwrap();
        let taken = Arc::new(AtomicBool::new(false));
        let other = FileLocks::new(dir.path().join("locks"));
        let flag = Arc::clone(&taken);
        let waiter = tokio::spawn(async move {
            let held = other.lock("flow:65a1b2c3d4e5f60718293a4b").await.unwrap();
            flag.store(true, Ordering::SeqCst);
            drop(held);
        });
        // Another key is free meanwhile.
        drop(locks.lock("flow:other").await.unwrap());
        tokio::task::yield_now().await;
        assert!(!taken.load(Ordering::SeqCst), "held by the first");
        drop(first);
        waiter.await.unwrap();
        assert!(taken.load(Ordering::SeqCst));
        assert!(
            dir.path()
                .join("locks/flow_65a1b2c3d4e5f60718293a4b.lock")
                .exists()
        );
    }
}
