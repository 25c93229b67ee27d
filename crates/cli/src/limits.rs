//! The run limiter of `bdi`: one state file shared by every `bdi` process of the user, so that
//! runs started from several shells or a script's parallel jobs stay within the platform's limits
//! (2 runs a minute per data flow, 15 per user) and a refusal comes at once, before any request.
//!
//! The file (`$BDI_STATE_DIR`, else `$XDG_STATE_HOME/bdi`, else `~/.local/state/bdi`, then
//! `run-limits.json`) holds the domain's [`SlidingWindows`] on the Unix clock. Each decision locks
//! it exclusively (an advisory `flock`), reads, decides, writes and unlocks, so check and record
//! are one step across processes. When the file cannot be used (a read-only home, say), the limiter
//! says so once on stderr and falls back to this process's memory: the platform's own 429 still
//! stops a run, and it is handed back at once.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bdi_domain::{
    DataFlowId, Denied, InMemoryLimiter, Reservation, RunLimiter, SlidingWindows, ThrottleLimits,
};

/// The state file's name inside the state directory.
pub(crate) const FILE_NAME: &str = "run-limits.json";

/// Where the state file lives, from `BDI_STATE_DIR`, `XDG_STATE_HOME` or `HOME`.
pub(crate) fn state_file(vars: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| vars(name).filter(|v| !v.trim().is_empty());
    if let Some(dir) = set("BDI_STATE_DIR") {
        return Some(PathBuf::from(dir).join(FILE_NAME));
    }
    if let Some(x) = set("XDG_STATE_HOME") {
        return Some(PathBuf::from(x).join("bdi").join(FILE_NAME));
    }
    set("HOME").map(|h| {
        PathBuf::from(h)
            .join(".local")
            .join("state")
            .join("bdi")
            .join(FILE_NAME)
    })
}

/// A [`RunLimiter`] kept in a file that every `bdi` process shares.
#[derive(Debug)]
pub(crate) struct FileLimiter {
    path: PathBuf,
    limits: ThrottleLimits,
    fallback: InMemoryLimiter,
    warned: Mutex<bool>,
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Opens (creating it and its directory, private to the user) and locks the state file.
fn open_locked(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    file.lock()?;
    Ok(file)
}

impl FileLimiter {
    /// A limiter over the state file at `path`.
    pub(crate) fn new(path: PathBuf, limits: ThrottleLimits) -> Self {
        Self {
            path,
            fallback: InMemoryLimiter::new(limits.clone()),
            limits,
            warned: Mutex::new(false),
        }
    }

    /// Runs `f` on the shared windows under the file's lock and writes them back.
    fn update<R>(&self, f: impl FnOnce(&mut SlidingWindows, u64) -> R) -> std::io::Result<R> {
        let mut file = open_locked(&self.path)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let mut windows: SlidingWindows = if text.trim().is_empty() {
            SlidingWindows::default()
        } else {
            // Unreadable (damaged, or from another version): start afresh.
            serde_json::from_str(&text).unwrap_or_default()
        };
        let result = f(&mut windows, unix_millis());
        let text = serde_json::to_string(&windows).map_err(std::io::Error::other)?;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(text.as_bytes())?;
        file.flush()?;
        // Dropping the file releases the lock.
        Ok(result)
    }

    fn warn_once(&self, e: &std::io::Error) {
        let mut warned = self
            .warned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*warned {
            *warned = true;
            let _ = writeln!(
                std::io::stderr(),
                "note: the run limit file {} cannot be used ({e}); run limits hold for this process only",
                self.path.display()
            );
        }
    }
}

#[async_trait]
impl RunLimiter for FileLimiter {
    async fn acquire(&self, flow: &DataFlowId, user: &str) -> Result<Reservation, Denied> {
        match self.update(|w, now| w.acquire(&self.limits, flow, user, now)) {
            Ok(decision) => decision.map_err(Denied::Refused),
            Err(e) => {
                self.warn_once(&e);
                self.fallback.acquire(flow, user).await
            }
        }
    }

    async fn release(&self, reservation: &Reservation) {
        if let Err(e) = self.update(|w, _| w.release(reservation)) {
            self.warn_once(&e);
            self.fallback.release(reservation).await;
        }
    }

    async fn penalize(&self, flow: &DataFlowId, user: &str, wait: Duration) {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        if let Err(e) = self.update(|w, now| w.penalize(flow, now.saturating_add(wait_ms))) {
            self.warn_once(&e);
            self.fallback.penalize(flow, user, wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn flow() -> DataFlowId {
        DataFlowId::parse("507f191e810c19729de860ea").expect("valid")
    }

    #[test]
    fn the_state_file_follows_the_variables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            state_file(&vars(&[("BDI_STATE_DIR", "/s"), ("HOME", "/h")])),
            Some(PathBuf::from("/s/run-limits.json"))
        );
        assert_eq!(
            state_file(&vars(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/bdi/run-limits.json"))
        );
        assert_eq!(
            state_file(&vars(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/bdi/run-limits.json"))
        );
        assert_eq!(state_file(&vars(&[])), None);
    }

    /// Two limiters over one file, as two processes would be: 16 threads at once get exactly
    /// the flow's two slots, a released slot is free for the other limiter, and a penalty too is
    /// seen by both.
    #[test]
    fn limiters_sharing_a_file_decide_as_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state").join(FILE_NAME);
        let a = Arc::new(FileLimiter::new(path.clone(), ThrottleLimits::default()));
        let b = Arc::new(FileLimiter::new(path.clone(), ThrottleLimits::default()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .expect("runtime");
                    rt.block_on(limiter.acquire(&flow(), "acct"))
                })
            })
            .collect();
        let results: Vec<_> = threads
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .collect();
        let granted: Vec<&Reservation> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(granted.len(), 2, "{results:?}");
        for refusal in results
            .iter()
            .filter_map(|r| r.as_ref().err().and_then(Denied::refusal))
        {
            assert!(refusal.wait > Duration::from_secs(55), "{refusal:?}");
            assert!(refusal.reason.contains("(the limit is 2)"), "{refusal:?}");
        }
        rt.block_on(async {
            a.release(granted[0]).await;
            b.acquire(&flow(), "acct")
                .await
                .expect("the released slot is free for the other process");
            a.acquire(&flow(), "acct").await.expect_err("full again");
            let other = DataFlowId::parse("507f191e810c19729de860eb").expect("valid");
            a.penalize(&other, "acct", Duration::from_secs(30)).await;
            let denied = b.acquire(&other, "acct").await.expect_err("penalized");
            let refusal = denied.refusal().expect("refused by the limits");
            assert!(refusal.reason.contains("(429)"), "{refusal:?}");
        });
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_unusable_file_falls_back_to_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A directory where the file should be: it cannot be opened as a file.
        let path = dir.path().join(FILE_NAME);
        std::fs::create_dir_all(&path).expect("dir");
        let l = FileLimiter::new(path, ThrottleLimits::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            l.acquire(&flow(), "u").await.expect("first");
            l.acquire(&flow(), "u").await.expect("second");
            l.acquire(&flow(), "u")
                .await
                .expect_err("limits still hold in memory");
        });
    }
}
