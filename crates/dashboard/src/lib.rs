//! The local dashboard of `bdi load show`: one loaded dataset (Boomi Flow or the run history,
//! DuckDB or PostgreSQL) as web pages a person reads instead of SQL output.
//!
//! - `/`: the tables (columns, types, row counts), the loads (`_dlt_loads`, with the rows each
//!   one wrote) and the loader's incremental state (cursor values).
//! - `/tables/{name}`: a table's columns and its first rows.
//! - `/charts`: the charts of the dataset's kind ([`charts`]), drawn as SVG on the server, each
//!   with its SQL and its numbers one click away.
//! - `/sql?q=...`: a read-only SQL box, held to the guard and limits of `query_history`; the
//!   result as a table, and as CSV at `/sql.csv?q=...`.
//!
//! Everything is server-rendered HTML with no script: it works without JavaScript and offline
//! (the stylesheet and the icon are inside the binary). Safe by construction: the server listens
//! on loopback only and answers only the host names of loopback (so a web page elsewhere cannot
//! reach it through DNS rebinding) and runs no query another site's page sends, has no route
//! that writes (every route is a `GET`; the SQL
//! box is guarded twice, and the engine is opened read-only), escapes every value (maud), sends
//! a content security policy that allows nothing but its own stylesheet and icon, and never
//! shows a password (the location is shown as [`Location::describe`] prints it).
//!
//! The dataset is opened for each page and closed after it (a loader can write between two
//! pages, and a refresh shows its load); at most [`READERS`] pages read at once. What the SQL
//! box runs, it runs in a worker process of its own ([`bdi_load::sql_worker`]), a bounded number
//! at once, apart from the pages: a query that crashes the engine or takes all its memory ends
//! that worker, never the dashboard, and the other pages answer meanwhile.

pub mod charts;
mod pages;
mod svg;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use bdi_load::location::{Location, Reader};
use bdi_load::query::DatasetInfo;
use bdi_load::sql_worker::SqlWorkers;
use tokio::sync::Semaphore;

pub use charts::Kind;

/// Pages that read the dataset at once; more wait their turn.
pub const READERS: usize = 4;

/// The dataset a dashboard shows.
#[derive(Clone, Debug)]
pub struct Dashboard {
    /// Where it lives.
    pub location: Location,
    /// The dataset (schema) name.
    pub dataset: String,
    /// The pipeline whose state is shown.
    pub pipeline: String,
    /// Which charts apply.
    pub kind: Kind,
}

/// Why the dashboard cannot show its dataset.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The dataset cannot be opened or read (the message says what to do).
    #[error("{0}")]
    Unreadable(String),
    /// A reading thread stopped.
    #[error("reading the dataset stopped: {0}")]
    Stopped(String),
}

impl Dashboard {
    /// Opens the dataset once and reads what the overview shows: fails early, with the reason,
    /// when it cannot be read (a missing file, a wrong password, an empty dataset).
    pub async fn check(&self) -> Result<DatasetInfo, DashboardError> {
        let (dataset, pipeline) = (self.dataset.clone(), self.pipeline.clone());
        let info = read(&self.location, move |r| {
            r.info(&dataset, &pipeline)
                .map_err(|e| DashboardError::Unreadable(e.to_string()))
        })
        .await?;
        if info.tables.is_empty() {
            let how = match self.kind {
                Kind::BoomiFlow => "bdi load flow",
                Kind::History => "bdi load history",
            };
            return Err(DashboardError::Unreadable(format!(
                "dataset {} in {} has no tables: load it first with `{how}` (same --destination, --dataset and --pipeline)",
                self.dataset,
                self.location.describe()
            )));
        }
        Ok(info)
    }

    /// The web application, answering only the loopback names of `addr` (`127.0.0.1:PORT`,
    /// `localhost:PORT`, `[::1]:PORT`).
    pub fn router(self, addr: SocketAddr) -> Router {
        let port = addr.port();
        let app = Arc::new(App {
            hosts: [
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ]
            .into(),
            dashboard: self,
            readers: Semaphore::new(READERS),
            sql: SqlWorkers::default(),
        });
        pages::routes()
            .layer(middleware::from_fn_with_state(app.clone(), guard))
            .with_state(app)
    }
}

/// Serves `dashboard` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    dashboard: Dashboard,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    axum::serve(listener, dashboard.router(addr))
        .with_graceful_shutdown(shutdown)
        .await
}

/// What every page shares.
#[derive(Debug)]
struct App {
    dashboard: Dashboard,
    /// The `Host` headers answered.
    hosts: Vec<String>,
    readers: Semaphore,
    /// The worker processes the SQL box runs in (apart from the pages' readers, so that a page
    /// never waits behind a heavy query).
    sql: SqlWorkers,
}

impl App {
    /// Runs `f` on the dataset opened read-only, off the async threads, one of [`READERS`].
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Reader) -> Result<T, DashboardError> + Send + 'static,
    ) -> Result<T, DashboardError> {
        let _permit = self
            .readers
            .acquire()
            .await
            .map_err(|e| DashboardError::Stopped(e.to_string()))?;
        read(&self.dashboard.location, f).await
    }
}

/// Runs `f` on the dataset at `location`, opened read-only on a blocking thread.
async fn read<T: Send + 'static>(
    location: &Location,
    f: impl FnOnce(&mut Reader) -> Result<T, DashboardError> + Send + 'static,
) -> Result<T, DashboardError> {
    location.read(f).await.map_err(|e| {
        DashboardError::Unreadable(match e.next_step() {
            Some(bdi_load::DatasetStep::LoadFirst) => format!(
                "{e}: load it first (`bdi load flow`, or `bdi load history` for the run history)"
            ),
            Some(bdi_load::DatasetStep::WaitForHolder) => {
                format!("{e}: reload the page when the load ends")
            }
            _ => e.to_string(),
        })
    })?
}

/// The content security policy: the page's own stylesheet and icon, nothing else (no script,
/// no frame, no form sent elsewhere).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Refuses requests to another host name (DNS rebinding) and queries sent from other sites,
/// and adds the security headers.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !app.hosts.contains(&host) {
        tracing::warn!(host, "refused a request for another host");
        return (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this dashboard answers only {}: open it at http://{}/\n",
                app.hosts.join(", "),
                app.hosts[0]
            ),
        )
            .into_response();
    }
    // A query sent from another site's page (a link or a form there, which the browser marks
    // `Sec-Fetch-Site: cross-site`) would run on the user's data at that site's will: only this
    // dashboard's own pages, or the user typing the address, may run one.
    let path = request.uri().path();
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !matches!(v, "same-origin" | "none"));
    if cross_site && (path == "/sql" || path == "/sql.csv") && request.uri().query().is_some() {
        tracing::warn!(path, "refused a query sent from another site");
        return (
            StatusCode::FORBIDDEN,
            format!(
                "a query sent from another site is not run: open http://{}/sql and run it there\n",
                app.hosts[0]
            ),
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
