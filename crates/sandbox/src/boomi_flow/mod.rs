//! The Boomi Flow API emulator, served by the same router as the Data Integration API under the
//! path prefix `/api` (so a sandbox's Boomi Flow base URL is `{base_url}/api`).
//!
//! Written from the contract (`docs/boomi-flow-api.md`), not from any client: the
//! read paths the vendor's dlt example uses (flows, flow graphs, runtimes, users, API keys, states, audit search,
//! translations), the `x-boomi-flow-api-key` and `manywhotenant` checks, and the paged envelope
//! whose real shape is unknown, so every variant the contract allows is configurable
//! ([`Envelope`]). The demo data is generated deterministically from a fixed seed; audit events
//! are a pure function of their index, so a source of a million events costs no memory.
//! Nothing here sleeps: state timestamps come from the sandbox's virtual clock.

mod data;
pub mod demo;
mod filter;
mod paging;
mod routes;

use std::fmt;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use crate::AppState;

pub(crate) use data::{BoomiFlowData, BoomiFlowState, flow_epoch};

/// The path prefix the Boomi Flow API is mounted under.
pub const PREFIX: &str = "/api";

/// How the Boomi Flow API emulator is configured (`SandboxConfig::boomi_flow`).
#[derive(Clone)]
pub struct BoomiFlowConfig {
    /// The only `x-boomi-flow-api-key` accepted (default [`demo::BOOMI_FLOW_API_KEY`]).
    pub api_key: String,
    /// The tenant the key is scoped to: `manywhotenant` must name it (default
    /// [`demo::BOOMI_FLOW_TENANT_ID`]).
    pub tenant_id: String,
    /// How many flows to generate (default [`demo::DEFAULT_FLOWS`]).
    pub flows: usize,
    /// How many users to generate (default [`demo::DEFAULT_USERS`]).
    pub users: usize,
    /// How many states to generate (default [`demo::DEFAULT_STATES`]).
    pub states: usize,
    /// How many audit events the source starts with (default [`demo::DEFAULT_AUDIT_EVENTS`]);
    /// they are generated on the fly, so millions cost no memory.
    pub audit_events: u64,
    /// The shape of the paged envelopes (users, states, audit search).
    pub envelope: Envelope,
}

impl fmt::Debug for BoomiFlowConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoomiFlowConfig")
            .field("api_key", &"<redacted>")
            .field("tenant_id", &self.tenant_id)
            .field("flows", &self.flows)
            .field("users", &self.users)
            .field("states", &self.states)
            .field("audit_events", &self.audit_events)
            .field("envelope", &self.envelope)
            .finish()
    }
}

impl Default for BoomiFlowConfig {
    fn default() -> Self {
        BoomiFlowConfig {
            api_key: demo::BOOMI_FLOW_API_KEY.to_owned(),
            tenant_id: demo::BOOMI_FLOW_TENANT_ID.to_owned(),
            flows: demo::DEFAULT_FLOWS,
            users: demo::DEFAULT_USERS,
            states: demo::DEFAULT_STATES,
            audit_events: demo::DEFAULT_AUDIT_EVENTS,
            envelope: Envelope::default(),
        }
    }
}

/// The paged envelope `{"<meta_key>": {...}, "<links_key>": {...}, "items": [...]}`.
///
/// The contract leaves its keys, the page base and the page sizes unknown, so each is a knob.
/// `_meta` always holds `page` (the page served, in the configured base) and `pageSize` (the
/// size actually applied), plus the totals chosen by [`Totals`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The key of the metadata object (default `_meta`).
    pub meta_key: String,
    /// The key of the links object (default `_links`).
    pub links_key: String,
    /// The number of the first page (default [`PageBase::One`]).
    pub page_base: PageBase,
    /// The size of a page when the request has no `pageSize` (default 20).
    pub default_page_size: u64,
    /// The server's cap: a larger `pageSize` is silently reduced to it (default 1000).
    pub max_page_size: u64,
    /// Which links `_links` holds (default [`Links::Absolute`]).
    pub links: Links,
    /// Which totals `_meta` holds (default [`Totals::Both`]).
    pub totals: Totals,
    /// The key of the total page count in `_meta` (default `totalPages`; `pages` is another).
    pub total_pages_key: String,
    /// The key of the total item count in `_meta` (default `totalItems`; `total` and
    /// `totalCount` are others).
    pub total_items_key: String,
    /// Announced totals this many items off the truth (default 0; negative: a total short of
    /// the items the listing holds, as a server that lies about its totals).
    pub total_offset: i64,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            meta_key: "_meta".to_owned(),
            links_key: "_links".to_owned(),
            page_base: PageBase::One,
            default_page_size: 20,
            max_page_size: 1000,
            links: Links::Absolute,
            totals: Totals::Both,
            total_pages_key: "totalPages".to_owned(),
            total_items_key: "totalItems".to_owned(),
            total_offset: 0,
        }
    }
}

/// The number of the first page.
///
/// With [`PageBase::One`], page 0 (and an absent `page`) is served as page 1, as lenient servers
/// do; so a client that wrongly starts at 0 reads the first page twice. With [`PageBase::Zero`],
/// page 1 is the second page and an absent `page` is page 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageBase {
    /// The first page is `page=0`.
    Zero,
    /// The first page is `page=1`.
    #[default]
    One,
}

impl PageBase {
    /// The first page's number.
    pub fn first(self) -> u64 {
        match self {
            PageBase::Zero => 0,
            PageBase::One => 1,
        }
    }
}

/// Which links a page's `_links` object holds.
///
/// With any style but `None`, `_links` holds `self`, `next` (only when a later page holds
/// items) and `prev` (only after the first page); each keeps the request's other query
/// parameters and names `page` and the applied `pageSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Links {
    /// `_links` is an empty object.
    None,
    /// Absolute URLs: `http://127.0.0.1:PORT/api/audit/1/search?page=2&pageSize=1000`.
    #[default]
    Absolute,
    /// Paths relative to the Boomi Flow base URL: `audit/1/search?page=2&pageSize=1000`.
    Relative,
    /// Paths from the host's root, which already hold the `/api` prefix:
    /// `/api/audit/1/search?page=2&pageSize=1000` (a client that appends them to its base URL
    /// requests `/api/api/...` and gets a 404).
    RootRelative,
}

/// Which totals a page's `_meta` object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Totals {
    /// Neither: the client reads on until a short or empty page.
    None,
    /// The total page count, under `total_pages_key`.
    Pages,
    /// The total item count, under `total_items_key`.
    Items,
    /// Both counts.
    #[default]
    Both,
}

/// The Boomi Flow API routes, with the key and tenant check on every matched route; any other path
/// under `/api` answers a text 404.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let p = |suffix: &str| format!("{PREFIX}/{suffix}");
    Router::new()
        .route(&p("draw/1/flow"), get(routes::flows))
        .route(&p("draw/1/flow/active"), get(routes::flows_active))
        .route(&p("draw/1/flow/{id}"), get(routes::flow))
        .route(&p("draw/1/graph/flow/{flow}"), get(routes::graph))
        .route(&p("admin/1/tenant/runtimes"), get(routes::tenant_runtimes))
        .route(
            &p("admin/1/organization/runtimes"),
            get(routes::organization_runtimes),
        )
        .route(&p("admin/1/users"), get(routes::users))
        .route(&p("admin/1/users/me/keys"), get(routes::api_keys))
        .route(&p("admin/1/states"), get(routes::states))
        .route(&p("run/2/state/{state_id}"), get(routes::state))
        .route(&p("audit/1/search"), get(routes::audit_search))
        .route(&p("translate/1/flow"), get(routes::translations))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth))
        .route(PREFIX, any(not_found))
        .route(&p(""), any(not_found))
        .route(&p("{*rest}"), any(not_found))
}

/// An error answer of the Boomi Flow API: a status and a short text body (the real format is
/// unknown; the contract tells clients to treat it as text).
#[derive(Debug)]
pub(crate) struct BoomiFlowHttpError {
    status: StatusCode,
    message: String,
}

impl BoomiFlowHttpError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        BoomiFlowHttpError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        BoomiFlowHttpError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        BoomiFlowHttpError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for BoomiFlowHttpError {
    fn into_response(self) -> Response {
        (self.status, self.message).into_response()
    }
}

async fn not_found() -> BoomiFlowHttpError {
    BoomiFlowHttpError::not_found("Not Found: no such Flow API path")
}

/// The key and tenant check: 401 unless `x-boomi-flow-api-key` is the configured key, then 403
/// unless `manywhotenant` names the key's tenant. Neither value is ever echoed.
async fn auth(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let config = &app.shared.config.boomi_flow;
    let headers = req.headers();
    let key = headers
        .get("x-boomi-flow-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match key {
        Some(key) if key == config.api_key => {}
        Some(_) => {
            return BoomiFlowHttpError::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: invalid API key",
            )
            .into_response();
        }
        None => {
            let message = if headers.contains_key(axum::http::header::AUTHORIZATION) {
                "Unauthorized: send the API key in the x-boomi-flow-api-key header, not Authorization"
            } else {
                "Unauthorized: the x-boomi-flow-api-key header is missing"
            };
            return BoomiFlowHttpError::new(StatusCode::UNAUTHORIZED, message).into_response();
        }
    }
    let tenant = headers
        .get("manywhotenant")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match tenant {
        Some(t) if t.eq_ignore_ascii_case(&config.tenant_id) => next.run(req).await,
        Some(_) => BoomiFlowHttpError::new(
            StatusCode::FORBIDDEN,
            "Forbidden: API keys are tenant-scoped and this key does not belong to the tenant in the manywhotenant header",
        )
        .into_response(),
        None => BoomiFlowHttpError::new(
            StatusCode::FORBIDDEN,
            "Forbidden: the manywhotenant header is required (API keys are tenant-scoped)",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests;
