//! [`HttpBackend`]'s transport: building the reqwest client (rustls with the ring provider),
//! sending one call with retries, classifying failures and decoding bodies.

use std::fmt;
use std::sync::Once;
use std::time::{Duration, Instant};

use bdi_domain::{AccountId, Env, EnvironmentId, Error, Result};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{ClientConfig, ENV_ENVIRONMENT_ID, Secret, resolve_base_url};
use crate::retry::{self, Attempt, RetryPolicy};
use crate::status::{CallKind, classify};

/// One request to make: method, path under the base URL, query, JSON body, and how to read a
/// failure.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<&'a Value>,
    pub(crate) kind: CallKind,
    pub(crate) what: String,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: String, what: impl Into<String>) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            kind: CallKind::Other,
            what: what.into(),
        }
    }

    pub(crate) fn kind(mut self, kind: CallKind) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn query(mut self, query: Vec<(&'static str, String)>) -> Self {
        self.query = query;
        self
    }

    pub(crate) fn body(mut self, body: &'a Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// A successful (2xx) response, read to the end.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: String,
}

impl Raw {
    /// Whether the body is empty or only whitespace.
    pub(crate) fn is_empty(&self) -> bool {
        self.body.trim().is_empty()
    }
}

/// The Boomi Data Integration API v1 reached over HTTPS: implements [`bdi_domain::Backend`].
///
/// Cheap to clone (the connection pool is shared). Its `Debug` never shows the token.
#[derive(Clone)]
pub struct HttpBackend {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) token: Secret,
    pub(crate) account_id: AccountId,
    pub(crate) default_environment: Option<EnvironmentId>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for HttpBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBackend")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("account_id", &self.account_id)
            .field("default_environment", &self.default_environment)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

static CRYPTO: Once = Once::new();

/// Installs rustls' ring provider as the process default, once; reqwest (built with
/// `rustls-no-provider`) picks the default provider when it builds a client.
pub(crate) fn install_crypto_provider() {
    CRYPTO.call_once(|| {
        // An error means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpBackend {
    /// Builds a backend from a configuration. Fails with [`Error::Config`] on an empty token, a
    /// bad base URL or a header that cannot be encoded.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let base_url = resolve_base_url(&config.base_url)?;
        if config.token.expose().trim().is_empty() {
            return Err(Error::Config(
                "the API token is empty: set DATA_INTEGRATION_API_TOKEN".to_owned(),
            ));
        }
        // Fail now rather than on the first call if the token cannot be a header value.
        bearer(&config.token)?;
        let plugin = format!("{} (account={})", config.user_agent, config.account_id);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            "X-Boomi-Plugin",
            HeaderValue::from_str(&plugin).map_err(|_| {
                Error::Config(format!("invalid user agent `{}`", config.user_agent))
            })?,
        );
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .redirect(crate::redirect::policy())
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(Self {
            http,
            base_url,
            token: config.token,
            account_id: config.account_id,
            default_environment: config.default_environment,
            retry: config.retry,
            timeout: config.timeout,
        })
    }

    /// Builds a backend from the `DATA_INTEGRATION_*` environment variables.
    pub fn from_env() -> Result<Self> {
        Self::new(ClientConfig::from_env()?)
    }

    /// The base URL in use (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The account every call is scoped to.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// `/v1/accounts/{account}`.
    pub(crate) fn account_path(&self) -> String {
        format!("/v1/accounts/{}", self.account_id)
    }

    /// `/v1/accounts/{account}/environments/{env}`, resolving [`Env::Default`].
    pub(crate) fn env_path(&self, env: &Env) -> Result<String> {
        let id = match env {
            Env::Id(id) => id,
            Env::Default => self.default_environment.as_ref().ok_or_else(|| {
                Error::Config(format!(
                    "no environment selected: set {ENV_ENVIRONMENT_ID} or pass environment_id"
                ))
            })?,
        };
        Ok(format!("{}/environments/{id}", self.account_path()))
    }

    /// Sends `call` with the retry policy and returns its 2xx response, or the classified error.
    pub(crate) async fn execute(&self, call: &Call<'_>) -> Result<Raw> {
        let idempotent = call.method != Method::POST;
        let url = format!("{}{}", self.base_url, call.path);
        let raw = retry::run(&self.retry, idempotent, |attempt| {
            self.attempt(call, &url, attempt)
        })
        .await?;
        if (200..300).contains(&raw.status) {
            Ok(raw)
        } else {
            Err(classify(
                raw.status,
                &raw.body,
                call.kind,
                &call.what,
                raw.retry_after,
            ))
        }
    }

    /// One attempt: send, then read the whole body.
    async fn attempt(&self, call: &Call<'_>, url: &str, attempt: u32) -> Attempt<Raw> {
        let auth = match bearer(&self.token) {
            Ok(h) => h,
            Err(e) => return Attempt::Transport(e),
        };
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .header(AUTHORIZATION, auth);
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        if let Some(body) = call.body {
            req = req.json(body);
        }
        let started = Instant::now();
        tracing::debug!(method = %call.method, path = %call.path, attempt, "request");
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Transport(self.transport_error(call, &e)),
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, chrono::Utc::now()));
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Transport(self.transport_error(call, &e)),
        };
        let body = self.scrub(String::from_utf8_lossy(&bytes).into_owned());
        tracing::debug!(
            method = %call.method,
            path = %call.path,
            status,
            elapsed_ms = started.elapsed().as_millis(),
            "response"
        );
        Attempt::Response {
            status,
            retry_after,
            response: Raw {
                status,
                content_type,
                retry_after,
                body,
            },
        }
    }

    /// Removes the token from text that may end up in an error (an echoing server, say).
    fn scrub(&self, text: String) -> String {
        scrub_secret(text, self.token.expose())
    }

    fn transport_error(&self, call: &Call<'_>, e: &reqwest::Error) -> Error {
        if let Some(refused) = crate::redirect::refused(e) {
            // Not a network fault, and not worth a retry: the URL points somewhere that sends
            // requests elsewhere.
            return Error::Config(self.scrub(format!(
                "{} {}: the server at {} answered with {refused}, which bdi does not follow, so that the token and the request never go to another host: set DATA_INTEGRATION_API_URL (or the profile's api_url) to the API's own address",
                call.method, call.path, self.base_url
            )));
        }
        let what = if e.is_timeout() {
            format!("timed out after {} s", self.timeout.as_secs_f64())
        } else if e.is_connect() {
            format!("could not connect to {}: {}", self.base_url, chain(e))
        } else {
            chain(e)
        };
        Error::Transport(self.scrub(format!("{} {}: {what}", call.method, call.path)))
    }
}

/// The `Authorization` header, marked sensitive so that it never shows in `Debug`.
fn bearer(token: &Secret) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        Error::Config(
            "the API token contains characters that cannot be sent in a header".to_owned(),
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Replaces every occurrence of `secret` in `text` with `***`, whatever the secret's length.
///
/// A short secret may also hide innocent text that happens to contain it: over-redaction is the
/// price of never showing it. An empty secret occurs nowhere, so it changes nothing.
pub(crate) fn scrub_secret(text: String, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        text
    } else {
        text.replace(secret, "***")
    }
}

/// An error and its sources, joined by `: `.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Decodes a JSON body into `T`, reporting the failing field's path.
pub(crate) fn decode<T: DeserializeOwned>(raw: &Raw) -> Result<T> {
    if raw.is_empty() {
        return Err(Error::Decode {
            path: ".".to_owned(),
            message: format!("empty response body (status {})", raw.status),
        });
    }
    let mut de = serde_json::Deserializer::from_str(&raw.body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Decodes a JSON value into `T`, reporting the failing field's path.
pub(crate) fn decode_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

#[cfg(test)]
mod tests;
