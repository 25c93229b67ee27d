//! Connecting to PostgreSQL: the URL read into the driver's configuration, `sslmode` mapped onto
//! rustls (with ring), and a description of the server that never holds the password.
//!
//! `sslmode` follows libpq's meaning, with rustls doing the TLS:
//!
//! - `disable`: plain TCP.
//! - absent, `allow` or `prefer` (libpq's default): TLS when the server offers it, plain TCP when
//!   it does not; the certificate is not checked (as libpq does not), so this keeps passive
//!   listeners out and nothing more.
//! - `require`: TLS or no connection, the certificate not checked (libpq's meaning); with
//!   `sslrootcert` it is checked as `verify-ca` does.
//! - `verify-ca`: TLS, the certificate's chain checked against `sslrootcert` (a PEM file), or the
//!   system's roots when `sslrootcert` is absent or `system`; the host name is not checked.
//! - `verify-full`: as `verify-ca`, and the certificate must name the host.
//!
//! Client certificates (`sslcert`, `sslkey`) are not supported; the driver refuses them as unknown
//! options. Without `connect_timeout`, a connection attempt gives up after 10 s.

use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::destination::DestinationError;

/// How long a connection attempt may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the URL asks of TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verify {
    /// No TLS.
    Off,
    /// TLS, whatever the certificate.
    Nothing,
    /// TLS, the chain checked against these roots.
    Chain(Roots),
    /// TLS, the chain and the host name checked.
    Full(Roots),
}

/// Where trusted certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Roots {
    /// The system's (rustls-platform-verifier).
    System,
    /// A PEM file (`sslrootcert`).
    File(String),
}

/// A server to connect to, read from a URL.
pub(super) struct Target {
    config: Config,
    verify: Verify,
    /// `postgres://user@host:port/db`.
    pub(super) described: String,
}

/// Reads `postgres://user:password@host:port/db?sslmode=...` (or `postgresql://`).
pub(super) fn parse(url: &str) -> Result<Target, DestinationError> {
    let invalid = |why: &str| {
        DestinationError::Open(format!(
            "the PostgreSQL URL is not valid ({why}): write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=..."
        ))
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(invalid("it must start with postgres://"));
    }
    // `sslmode` and `sslrootcert` are read here (the driver knows neither verify-ca, verify-full
    // nor root files); every other parameter goes to the driver.
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut sslmode = None;
    let mut rootcert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => sslmode = Some(value.to_owned()),
            "sslrootcert" => rootcert = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: Config = rest.parse().map_err(|e: postgres::Error| {
        // The driver's parse errors name an option, never its value.
        invalid(&e.to_string())
    })?;
    let roots = || match rootcert.as_deref() {
        None | Some("system") => Roots::System,
        Some(path) => Roots::File(path.to_owned()),
    };
    let verify = match sslmode.as_deref() {
        Some("disable") => Verify::Off,
        None | Some("allow" | "prefer") => Verify::Nothing,
        Some("require") if rootcert.is_some() => Verify::Chain(roots()),
        Some("require") => Verify::Nothing,
        Some("verify-ca") => Verify::Chain(roots()),
        Some("verify-full") => Verify::Full(roots()),
        Some(_) => {
            return Err(invalid(
                "sslmode must be disable, allow, prefer, require, verify-ca or verify-full",
            ));
        }
    };
    config.ssl_mode(match (&verify, sslmode.as_deref()) {
        (Verify::Off, _) => SslMode::Disable,
        (Verify::Nothing, None | Some("allow" | "prefer")) => SslMode::Prefer,
        _ => SslMode::Require,
    });
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("bdi-load");
    }
    let described = describe(&config);
    Ok(Target {
        config,
        verify,
        described,
    })
}

/// `postgres://user@host:port/db`, without the password.
fn describe(config: &Config) -> String {
    let user = config.get_user().unwrap_or_default();
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports
                .get(i)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{}/{db}", hosts.join(","))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens the connection, with TLS as the URL asks.
pub(super) fn open(target: &Target) -> Result<Client, DestinationError> {
    let described = &target.described;
    let connected = match &target.verify {
        Verify::Off => target.config.connect(NoTls),
        verify => {
            let tls = tls_config(verify).map_err(|e| {
                DestinationError::Open(format!(
                    "cannot set up TLS for PostgreSQL at {described}: {e}"
                ))
            })?;
            target.config.connect(MakeRustlsConnect::new(tls))
        }
    };
    connected.map_err(|e| connect_error(described, &e))
}

/// A connection failure, saying what to check (the password is never part of it: the driver's
/// errors and the server's messages do not hold it).
fn connect_error(described: &str, e: &postgres::Error) -> DestinationError {
    let message = super::message(e);
    let hint = match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD => {
            "check the user name and the password in the URL"
        }
        Some(c) if *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            "check the user name and the password in the URL, and that the server's pg_hba.conf lets this user in from this host"
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
            "check the database name in the URL, or create the database"
        }
        Some(_) => "check the URL and the server's log",
        None if message.contains("TLS") || message.contains("certificate") => {
            "check sslmode, sslrootcert and the server's certificate"
        }
        None => {
            "check that the server runs and listens on that host and port, and the URL's sslmode"
        }
    };
    DestinationError::Open(format!(
        "cannot connect to PostgreSQL at {described}: {message}; {hint}"
    ))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_config(verify: &Verify) -> Result<ClientConfig, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous();
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Off | Verify::Nothing => {
            Arc::new(Unchecked(provider.signature_verification_algorithms))
        }
        Verify::Chain(roots) => Arc::new(ChainOnly(chain_verifier(roots, &provider)?)),
        Verify::Full(roots) => chain_verifier(roots, &provider)?,
    };
    Ok(builder
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn chain_verifier(
    roots: &Roots,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    match roots {
        Roots::System => rustls_platform_verifier::Verifier::new(provider.clone())
            .map(|v| Arc::new(v) as Arc<dyn ServerCertVerifier>)
            .map_err(|e| format!("the system's certificates: {e}")),
        Roots::File(path) => {
            let mut store = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("sslrootcert {path}: {e}"))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("sslrootcert {path}: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert {path}: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!("sslrootcert {path} holds no certificate"));
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
                .map(|v| v as Arc<dyn ServerCertVerifier>)
                .map_err(|e| format!("sslrootcert {path}: {e}"))
        }
    }
}

/// `prefer` and `require`: any certificate (signatures are still checked, so the handshake is
/// sound; who holds the key is not).
#[derive(Debug)]
struct Unchecked(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the chain is checked, a certificate for another name is accepted.
#[derive(Debug)]
struct ChainOnly(Arc<dyn ServerCertVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // The name is checked after the chain: this error means the chain was good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_maps_onto_tls_and_the_description_has_no_password() {
        let t = parse("postgres://bob:s3cret@db.example:6543/sales").expect("parse");
        assert_eq!(t.described, "postgres://bob@db.example:6543/sales");
        assert_eq!(t.verify, Verify::Nothing);
        assert_eq!(t.config.get_ssl_mode(), SslMode::Prefer);
        assert_eq!(t.config.get_password(), Some(&b"s3cret"[..]));

        let t = parse("postgresql://bob:p%40ss@h/db?sslmode=disable&application_name=x")
            .expect("parse");
        assert_eq!(t.verify, Verify::Off);
        assert_eq!(t.config.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(t.config.get_application_name(), Some("x"));
        assert_eq!(t.described, "postgres://bob@h:5432/db");

        let t = parse("postgres://u@h/db?sslmode=require").expect("parse");
        assert_eq!(
            (t.verify, t.config.get_ssl_mode()),
            (Verify::Nothing, SslMode::Require)
        );
        let t = parse("postgres://u@h/db?sslmode=require&sslrootcert=%2Fca.pem").expect("parse");
        assert_eq!(t.verify, Verify::Chain(Roots::File("/ca.pem".into())));
        let t = parse("postgres://u@h/db?sslmode=verify-ca").expect("parse");
        assert_eq!(t.verify, Verify::Chain(Roots::System));
        let t = parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=system").expect("parse");
        assert_eq!(
            (t.verify, t.config.get_ssl_mode()),
            (Verify::Full(Roots::System), SslMode::Require)
        );

        for bad in [
            "mysql://u:hunter2@h/db",
            "postgres://u:hunter2@h/db?sslmode=sometimes",
            "postgres://u:hunter2@h:notaport/db",
            "postgres://u:hunter2@h/db?sslcert=x.pem",
        ] {
            let e = parse(bad).err().expect(bad).to_string();
            assert!(e.contains("postgres://USER:PASSWORD@HOST"), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn every_tls_mode_builds_a_client_configuration() {
        for url in [
            "postgres://u@h/db",
            "postgres://u@h/db?sslmode=require",
            "postgres://u@h/db?sslmode=verify-ca",
            "postgres://u@h/db?sslmode=verify-full",
        ] {
            let t = parse(url).expect(url);
            tls_config(&t.verify).expect(url);
        }
        let t = parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent.pem")
            .expect("parse");
        let e = tls_config(&t.verify).expect_err("no such file");
        assert!(e.contains("/nonexistent.pem"), "{e}");
    }
}
