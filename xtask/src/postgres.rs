//! A throwaway PostgreSQL server for the tests: `initdb` in a fresh temporary directory, the
//! server on a free port of 127.0.0.1 only (no Unix socket outside that directory), tuned for
//! speed over durability (`fsync=off`, ...), a generated password (scram-sha-256, so the tests can
//! check what a wrong one gives), and a database `bdi_test`. [`TestServer`] stops the server and
//! removes the directory when dropped.
//!
//! The server also speaks TLS, with a certificate for `localhost` signed by a throwaway CA
//! (`openssl`), whose certificate's path is in `BDI_TEST_POSTGRES_CA`, so the tests can check each
//! `sslmode`; the URL itself says `sslmode=disable`.
//!
//! `initdb` refuses to run as root: as root, the programs run as the `postgres` user (through
//! `runuser`), in a directory that user owns.

use std::fmt::Write as _;
use std::io::Read as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

/// The variable the tests read the server's URL from.
pub(crate) const URL_VAR: &str = "BDI_TEST_POSTGRES_URL";
/// The variable the tests read the path of the CA certificate (PEM) that signed the server's from.
pub(crate) const CA_VAR: &str = "BDI_TEST_POSTGRES_CA";

/// The user and database the tests use.
const USER: &str = "bdi";
const DATABASE: &str = "bdi_test";

/// A running server; stopped, and its directory removed, on drop.
pub(crate) struct TestServer {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// `postgres://bdi:<password>@127.0.0.1:<port>/bdi_test?sslmode=disable`.
    pub(crate) url: String,
}

/// A CA and a certificate it signs for `localhost` (ECDSA P-256, valid two days), in `dir`.
fn certificates(dir: &std::path::Path) -> anyhow::Result<()> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )?;
    let steps: [(&str, Vec<&str>); 3] = [
        (
            "CA certificate",
            [
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=bdi-test-ca",
                ],
            ]
            .concat(),
        ),
        (
            "server key",
            [
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
        ),
        (
            "server certificate",
            vec![
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        ),
    ];
    for (what, args) in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .context("could not run openssl (Debian's openssl package)")?;
        if !out.status.success() {
            bail!(
                "openssl: the {what} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // The server refuses a key that others may read.
    let mut permissions = std::fs::metadata(dir.join("server.key"))?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    std::fs::set_permissions(dir.join("server.key"), permissions)?;
    Ok(())
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, else Debian's.
fn bin_dir() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    debian.sort();
    debian.reverse();
    on_path
        .into_iter()
        .chain(debian)
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .context(
            "initdb and pg_ctl are not on PATH nor under /usr/lib/postgresql: install PostgreSQL (apt-get install postgresql)",
        )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// 16 random bytes as hex.
fn password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

impl TestServer {
    /// Creates, starts and prepares a server (a few seconds).
    pub(crate) fn start() -> anyhow::Result<Self> {
        let bin = bin_dir()?;
        let as_postgres = is_root();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("bdi-postgres-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // From here on, the guard removes the directory whatever happens.
        let mut server = Self {
            dir,
            bin,
            as_postgres,
            url: String::new(),
        };
        let password = password()?;
        let pwfile = server.dir.join("password");
        std::fs::write(&pwfile, format!("{password}\n"))?;
        certificates(&server.dir)?;
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&server.dir)
                .status()
                .context("could not run chown")?;
            if !status.success() {
                bail!(
                    "chown postgres {} failed ({status}): is there a postgres user?",
                    server.dir.display()
                );
            }
        }
        let data = server.dir.join("data");
        let log = server.dir.join("server.log");
        server.quiet(
            "initdb",
            server
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    USER,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
        )?;
        // A free loopback port: bind port 0, read it, release it.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=100 -c shared_buffers=64MB \
             -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key",
            server.dir.display(),
            dir = server.dir.display(),
        );
        server.quiet(
            "pg_ctl start",
            server
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"]),
        )?;
        let created = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                USER,
                "-d",
                "postgres",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!("CREATE DATABASE {DATABASE}"))
            .env("PGPASSWORD", &password)
            .stdout(Stdio::null())
            .status()
            .context("could not run psql")?;
        if !created.success() {
            bail!("creating the database {DATABASE} failed ({created})");
        }
        server.url =
            format!("postgres://{USER}:{password}@127.0.0.1:{port}/{DATABASE}?sslmode=disable");
        eprintln!(
            "==> PostgreSQL for the tests on 127.0.0.1:{port} ({})",
            server.dir.display()
        );
        Ok(server)
    }

    /// A PostgreSQL program, run as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.dir);
        cmd
    }

    /// Runs `cmd`; its output is shown only when it fails.
    fn quiet(&self, step: &str, cmd: &mut Command) -> anyhow::Result<()> {
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("could not start {step}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            bail!(
                "{step} failed ({}):\n{}{}\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The CA certificate that signed the server's (PEM).
    pub(crate) fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let data = self.data();
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_32_hex_digits_and_differs_each_time() {
        let a = password().unwrap();
        let b = password().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
