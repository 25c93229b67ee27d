//! A read-only client for the Boomi Flow API (`https://flow.boomi.com/api`), the source that
//! `bdi load` copies into DuckDB (contract: `docs/boomi-flow-api.md`, sections 1
//! and 2).
//!
//! [`BoomiFlowClient`] sends GETs only. Every request carries the key in the `x-boomi-flow-api-key`
//! header (marked sensitive, so reqwest never shows it), the tenant in `manywhotenant` when one is
//! configured, and `Accept: application/json`; bodies are parsed as JSON whatever their content
//! type says. Failures are retried with the crate's [`RetryPolicy`]: 429 and 503 wait for their
//! `Retry-After`, other 5xx, transport errors and timeouts back off exponentially with jitter.
//! The key never appears in `Debug` output, logs or errors: error bodies are scrubbed of it,
//! whatever its length, and never quote request headers.
//!
//! [`BoomiFlowClient::pages`] walks a listing page by page; the rules are in the `paging` module.
//! Every failure is a [`BoomiFlowError`], the client's own: a Boomi Flow API failure is never
//! mistaken for one of Data Integration.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use serde_json::value::RawValue;
use url::Url;

use crate::client::{chain, install_crypto_provider};
use crate::config::{DEFAULT_TIMEOUT, Secret, default_user_agent, http_base_url};
use crate::retry::{self, Attempt, RetryPolicy};
use crate::status::truncate;

mod error;
mod paging;

pub use error::BoomiFlowError;

/// The Boomi Flow client's result.
pub(crate) type Result<T, E = BoomiFlowError> = std::result::Result<T, E>;

/// The variable holding the Boomi Flow API base URL.
pub const ENV_BOOMI_FLOW_API_URL: &str = "BOOMI_FLOW_API_URL";
/// The variable holding the Boomi Flow API key.
pub const ENV_BOOMI_FLOW_API_KEY: &str = "BOOMI_FLOW_API_KEY";
/// The variable holding the Boomi Flow tenant id (sent as `manywhotenant`).
pub const ENV_BOOMI_FLOW_TENANT_ID: &str = "BOOMI_FLOW_TENANT_ID";
/// The Boomi Flow API's base URL when none is configured.
pub const DEFAULT_BOOMI_FLOW_API_URL: &str = "https://flow.boomi.com/api";
/// The `pageSize` asked for when none is configured.
pub const DEFAULT_BOOMI_FLOW_PAGE_SIZE: u32 = 500;
/// How many pages are fetched at once when a listing's total is known.
pub const DEFAULT_BOOMI_FLOW_CONCURRENCY: usize = 4;
/// The most pages one listing may take before [`BoomiFlowClient::pages`] gives up with an error.
pub const BOOMI_FLOW_MAX_PAGES: u32 = 100_000;

/// The header carrying the API key.
pub(crate) const KEY_HEADER: &str = "x-boomi-flow-api-key";
/// The header carrying the tenant id.
pub(crate) const TENANT_HEADER: &str = "manywhotenant";

/// Everything [`BoomiFlowClient`] needs. `Debug` shows the key as `***`.
#[derive(Clone, Debug)]
pub struct BoomiFlowConfig {
    /// The API base URL, without trailing slash (`BOOMI_FLOW_API_URL`, default
    /// [`DEFAULT_BOOMI_FLOW_API_URL`]).
    pub base_url: String,
    /// The API key (`BOOMI_FLOW_API_KEY`); keys are tenant-scoped.
    pub api_key: Secret,
    /// The tenant id sent as `manywhotenant` (`BOOMI_FLOW_TENANT_ID`).
    pub tenant_id: Option<String>,
    /// The `pageSize` asked for (500 by default); servers may return fewer.
    pub page_size: u32,
    /// Pages fetched at once when a listing's total is known (4 by default).
    pub concurrency: usize,
    /// Per-request timeout (60 s by default).
    pub timeout: Duration,
    /// Retries: the crate's policy, 4 retries (5 attempts, as dlt makes) by default.
    pub retry: RetryPolicy,
    /// The most pages one listing may take ([`BOOMI_FLOW_MAX_PAGES`] by default).
    pub max_pages: u32,
}

impl BoomiFlowConfig {
    /// A configuration with the defaults. `base_url` must be an `http(s)` URL (a trailing slash is
    /// dropped); an empty or blank `tenant_id` counts as none.
    pub fn new(base_url: &str, api_key: &str, tenant_id: Option<&str>) -> Result<Self> {
        let base_url = http_base_url(base_url)
            .map_err(|e| BoomiFlowError::config(format!("the Boomi Flow API URL: {e}")))?;
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(missing_key());
        }
        Ok(Self {
            base_url,
            api_key: Secret::new(api_key),
            tenant_id: tenant_id
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            page_size: DEFAULT_BOOMI_FLOW_PAGE_SIZE,
            concurrency: DEFAULT_BOOMI_FLOW_CONCURRENCY,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            max_pages: BOOMI_FLOW_MAX_PAGES,
        })
    }

    /// Reads `BOOMI_FLOW_API_URL`, `BOOMI_FLOW_API_KEY` (required) and `BOOMI_FLOW_TENANT_ID`
    /// from the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`BoomiFlowConfig::from_env`], reading each variable through `lookup` (a
    /// [`crate::profile::Resolved`] fits). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base_url = match get(ENV_BOOMI_FLOW_API_URL) {
            Some(v) => http_base_url(&v)
                .map_err(|e| BoomiFlowError::config(format!("{ENV_BOOMI_FLOW_API_URL}: {e}")))?,
            None => DEFAULT_BOOMI_FLOW_API_URL.to_owned(),
        };
        let key = get(ENV_BOOMI_FLOW_API_KEY).ok_or_else(missing_key)?;
        let tenant = get(ENV_BOOMI_FLOW_TENANT_ID);
        Self::new(&base_url, &key, tenant.as_deref())
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the `pageSize` asked for.
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Sets how many pages are fetched at once when a total is known.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }
}

fn missing_key() -> BoomiFlowError {
    BoomiFlowError::config(format!(
        "{ENV_BOOMI_FLOW_API_KEY} is not set: create an API key in Boomi Flow (User Settings > API keys) and export it, or save it in a profile with `bdi configure --flow`"
    ))
}

/// One page of a listing, as [`BoomiFlowClient::pages`] yields it.
#[derive(Clone, Debug)]
pub struct BoomiFlowPage {
    /// The page's position in the listing, from 1 (not the server's page number, whose base
    /// varies).
    pub number: u32,
    /// The page's items, in the server's order, each as its JSON text (parse each with
    /// `serde_json::from_str(item.get())`, or straight into your own type).
    pub items: Vec<Box<RawValue>>,
    /// The URL fetched (the key travels in a header, never in it).
    pub url: String,
    /// What the walk found wrong with the listing, for the user to read (a total announced that
    /// differs from the items returned); the walk's last page, which may hold no item, carries
    /// it.
    pub notes: Vec<String>,
}

impl BoomiFlowPage {
    /// The items parsed as JSON values.
    pub fn values(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|i| serde_json::from_str(i.get()).unwrap_or(Value::Null))
            .collect()
    }
}

/// The Boomi Flow API, read over HTTPS with reqwest (rustls, ring).
///
/// Cheap to clone: the clones share the connection pool (kept alive between requests) and what
/// was learned about each listing's page base. `Debug` never shows the key.
#[derive(Clone)]
pub struct BoomiFlowClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: BoomiFlowConfig,
    base: Url,
    /// The first page number of each listing (0 or 1), by path, once detected.
    page_bases: Mutex<HashMap<String, u32>>,
}

impl fmt::Debug for BoomiFlowClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoomiFlowClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A response read to the end.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: Bytes,
}

impl BoomiFlowClient {
    /// Builds a client. Fails with [`BoomiFlowError::Config`] on a bad base URL, an empty key, a key or
    /// tenant that cannot be sent in a header, or a zero page size, concurrency or page cap.
    pub fn new(config: BoomiFlowConfig) -> Result<Self> {
        let base_url = http_base_url(&config.base_url)
            .map_err(|e| BoomiFlowError::config(format!("the Boomi Flow API URL: {e}")))?;
        let base = Url::parse(&base_url)
            .map_err(|e| BoomiFlowError::config(format!("the Boomi Flow API URL: {e}")))?;
        if config.api_key.expose().trim().is_empty() {
            return Err(missing_key());
        }
        if config.page_size == 0 || config.concurrency == 0 || config.max_pages == 0 {
            return Err(BoomiFlowError::config(
                "the Boomi Flow page size, concurrency and page cap must be at least 1",
            ));
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut key = HeaderValue::from_str(config.api_key.expose().trim()).map_err(|_| {
            BoomiFlowError::config(format!(
                "{ENV_BOOMI_FLOW_API_KEY} contains characters that cannot be sent in a header"
            ))
        })?;
        key.set_sensitive(true);
        headers.insert(HeaderName::from_static(KEY_HEADER), key);
        if let Some(tenant) = &config.tenant_id {
            let value = HeaderValue::from_str(tenant.trim()).map_err(|_| {
                BoomiFlowError::config(format!(
                    "{ENV_BOOMI_FLOW_TENANT_ID} contains characters that cannot be sent in a header"
                ))
            })?;
            headers.insert(HeaderName::from_static(TENANT_HEADER), value);
        }
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(default_user_agent())
            .default_headers(headers)
            .redirect(crate::redirect::policy())
            .timeout(config.timeout)
            .build()
            .map_err(|e| {
                BoomiFlowError::config(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config: BoomiFlowConfig { base_url, ..config },
                base,
                page_bases: Mutex::default(),
            }),
        })
    }

    /// Builds a client from the `BOOMI_FLOW_*` environment variables.
    pub fn from_env() -> Result<Self> {
        Self::new(BoomiFlowConfig::from_env()?)
    }

    /// The configuration in use (its base URL without trailing slash).
    pub fn config(&self) -> &BoomiFlowConfig {
        &self.inner.config
    }

    /// One GET of `path`, relative to the base URL (a leading slash is ignored), with `query`
    /// appended; the body parsed as JSON whatever its content type (an empty body is `null`).
    pub async fn get_json(&self, path: &str, query: &[(String, String)]) -> Result<Value> {
        let url = self.url_for(path, query)?;
        self.fetch(&url).await
    }

    /// Every item of the listing at `path`, page by page, in order. A bare JSON array is one
    /// page, a single object a page of one item; a paged envelope (`_meta`, `_links`, `items`)
    /// is followed to its end:
    ///
    /// 1. page 1 is asked with an explicit `pageSize`; the page base (0 or 1) is detected once
    ///    per path, by asking page 0 too, and remembered by the client (and its clones);
    /// 2. a `_links.next` (absolute, or relative to the base URL) is followed, never to another
    ///    origin and never twice;
    /// 3. else a total page or item count in `_meta` gives the last page (item counts divided by
    ///    the largest page the server returned, since servers cap `pageSize`), and the remaining
    ///    pages are fetched `concurrency` at a time, yielded in order;
    /// 4. else pages are read until one is empty or holds fewer items than the largest seen.
    ///
    /// Pages without items are not yielded, so an empty listing yields nothing. `page` and
    /// `pageSize` in `query` are replaced by the walk's own (a `pageSize` given there is the
    /// size asked for). More than `max_pages` requests end the stream with
    /// [`BoomiFlowError::TooManyPages`], a `next` link to another host or back to a page already
    /// read with [`BoomiFlowError::BadResponse`]; the stream ends after its first error, once the
    /// pages read before it are yielded.
    pub fn pages(
        &self,
        path: &str,
        query: Vec<(String, String)>,
    ) -> impl Stream<Item = Result<BoomiFlowPage>> + Send + '_ {
        paging::walk(self, path, query)
    }

    /// The URL of `path` under the base URL, with `query` appended.
    fn url_for(&self, path: &str, query: &[(String, String)]) -> Result<Url> {
        let path = path.trim().trim_start_matches('/');
        let mut url =
            Url::parse(&format!("{}/{path}", self.inner.config.base_url)).map_err(|source| {
                BoomiFlowError::InvalidPath {
                    path: self.scrub(path),
                    source,
                }
            })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// The base URL, parsed.
    pub(crate) fn base(&self) -> &Url {
        &self.inner.base
    }

    /// The page base remembered for the listing `key`.
    pub(crate) fn page_base(&self, key: &str) -> Option<u32> {
        self.inner
            .page_bases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
    }

    /// Remembers the page base of the listing `key`.
    pub(crate) fn remember_page_base(&self, key: &str, base: u32) {
        self.inner
            .page_bases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), base);
    }

    /// `url`'s path and query relative to the base URL, for messages.
    pub(crate) fn relative(&self, url: &Url) -> String {
        let base_path = self.inner.base.path().trim_end_matches('/');
        let path = url.path();
        let path = path.strip_prefix(base_path).unwrap_or(path);
        let path = path.trim_start_matches('/');
        let text = match url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        self.scrub(&text)
    }

    /// GETs `url` with retries: the body of a success, else the error its status says.
    pub(crate) async fn fetch_bytes(&self, url: &Url) -> Result<Bytes> {
        let config = &self.inner.config;
        let reply = retry::run_with(&config.retry, true, true, |attempt| {
            self.attempt(url, attempt)
        })
        .await?;
        if (200..300).contains(&reply.status) {
            Ok(reply.body)
        } else {
            Err(self.status_error(url, &reply))
        }
    }

    /// GETs `url` with retries and parses its body as JSON.
    pub(crate) async fn fetch(&self, url: &Url) -> Result<Value> {
        let body = self.fetch_bytes(url).await?;
        parse_json(&body).map_err(|source| BoomiFlowError::BadResponse {
            at: ".".to_owned(),
            message: self.scrub(&format!(
                "the response to GET {} is not JSON: {source}",
                self.relative(url)
            )),
            source: Some(source),
        })
    }

    /// One attempt: send, then read the whole body.
    async fn attempt(&self, url: &Url, attempt: u32) -> Attempt<Reply, BoomiFlowError> {
        tracing::debug!(path = %self.relative(url), attempt, "Boomi Flow request");
        let resp = match self.inner.http.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Transport(self.transport_error(url, e)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, chrono::Utc::now()));
        match resp.bytes().await {
            Ok(body) => Attempt::Response {
                status,
                retry_after,
                response: Reply {
                    status,
                    retry_after,
                    body,
                },
            },
            Err(e) => Attempt::Transport(self.transport_error(url, e)),
        }
    }

    /// Maps a non-2xx reply to a [`BoomiFlowError`].
    fn status_error(&self, url: &Url, reply: &Reply) -> BoomiFlowError {
        let text = truncate(self.scrub(&String::from_utf8_lossy(&reply.body)).trim());
        let path = self.relative(url);
        match reply.status {
            401 => BoomiFlowError::Unauthorized {
                message: self.auth_message(401, &text),
            },
            403 => BoomiFlowError::Forbidden {
                message: self.auth_message(403, &text),
            },
            404 => BoomiFlowError::NotFound {
                path: path.split('?').next().unwrap_or("").to_owned(),
                message: text,
            },
            429 => BoomiFlowError::RateLimited {
                path,
                retry_after: reply.retry_after,
                message: text,
            },
            status => BoomiFlowError::Status {
                status,
                path,
                body: text,
            },
        }
    }

    /// What a 401 or 403 means with this API, and what to check.
    fn auth_message(&self, status: u16, server: &str) -> String {
        let tenant = match &self.inner.config.tenant_id {
            Some(t) => format!(" (the tenant sent is `{t}`)"),
            None => format!(
                "; no tenant is configured: set {ENV_BOOMI_FLOW_TENANT_ID} to the id (a uuid) of the tenant the key was created for, or save it in a profile with `bdi configure --flow`"
            ),
        };
        let said = if server.is_empty() {
            String::new()
        } else {
            format!("; the server said: {server}")
        };
        format!(
            "the Boomi Flow API refused the key sent in the {KEY_HEADER} header ({status}): API keys are tenant-scoped, a key works only for the tenant chosen when it was created, so check {ENV_BOOMI_FLOW_API_KEY} and that {ENV_BOOMI_FLOW_TENANT_ID} (sent as the {TENANT_HEADER} header) names that tenant{tenant}{said}"
        )
    }

    fn transport_error(&self, url: &Url, e: reqwest::Error) -> BoomiFlowError {
        if let Some(refused) = crate::redirect::refused(&e) {
            let message = self.scrub(&format!(
                "GET {}: the Boomi Flow API at {} answered with {refused}, which bdi does not follow, so that the key ({KEY_HEADER}) and the tenant never go to another host: set {ENV_BOOMI_FLOW_API_URL} to the API's own address",
                self.relative(url),
                self.inner.config.base_url
            ));
            return BoomiFlowError::Redirected { message, source: e };
        }
        let what = if e.is_timeout() {
            format!(
                "timed out after {} s",
                self.inner.config.timeout.as_secs_f64()
            )
        } else if e.is_connect() {
            format!(
                "could not connect to {}: {}",
                self.inner.config.base_url,
                chain(&e)
            )
        } else {
            chain(&e)
        };
        BoomiFlowError::Transport {
            message: self.scrub(&format!("GET {}: {what}", self.relative(url))),
            source: Some(e),
        }
    }

    /// `text` without the key, whatever its length.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let key = self.inner.config.api_key.expose().trim();
        if !key.is_empty() && text.contains(key) {
            text.replace(key, "***")
        } else {
            text.to_owned()
        }
    }
}

/// Parses a body as JSON; an empty or blank body (a 204, say) is `null`, a UTF-8 byte order mark
/// is skipped.
fn parse_json(body: &[u8]) -> std::result::Result<Value, serde_json::Error> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
}

#[cfg(test)]
mod tests;
