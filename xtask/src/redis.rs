//! A throwaway Redis for the tests of the coordination shared by replicas (`bdi-redis`):
//! Debian's `redis-server` on 127.0.0.1 and a free port, nothing saved to disk, stopped on drop.
//! The tests read its URL from `BDI_TEST_REDIS_URL`; without it they fail and name
//! `cargo xtask with-redis`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The variable the tests read the server's URL from.
pub(crate) const URL_VAR: &str = "BDI_TEST_REDIS_URL";

/// A running throwaway server.
pub(crate) struct TestRedis {
    child: Child,
    /// `redis://127.0.0.1:<port>/0`.
    pub(crate) url: String,
}

/// `redis-server`: on PATH, else Debian's.
fn binary() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
        .context(
            "redis-server is not installed: apt-get install redis-server (.ci/run does it when it is missing)",
        )
}

/// Whether the server answers `PING` on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

impl TestRedis {
    /// Starts a server and waits until it answers (a fraction of a second).
    pub(crate) fn start() -> anyhow::Result<Self> {
        let bin = binary()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(&bin)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--loglevel",
                "warning",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = Self {
            child,
            url: format!("redis://127.0.0.1:{port}/0"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers(port) {
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("redis-server exited at start ({status})");
            }
            if Instant::now() > deadline {
                bail!("redis-server did not answer on 127.0.0.1:{port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
