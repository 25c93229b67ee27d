//! Client configuration: base URL and region resolution, the redacted token, and the
//! `DATA_INTEGRATION_*` environment variables (the names the vendor's Terraform provider uses).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use bdi_domain::{AccountId, EnvironmentId, Error, Result};

use crate::retry::RetryPolicy;

/// The variable holding the API base URL or a region shorthand.
pub const ENV_API_URL: &str = "DATA_INTEGRATION_API_URL";
/// The variable holding the API token.
pub const ENV_API_TOKEN: &str = "DATA_INTEGRATION_API_TOKEN";
/// The variable holding the account id.
pub const ENV_ACCOUNT_ID: &str = "DATA_INTEGRATION_ACCOUNT_ID";
/// The variable holding the default environment id.
pub const ENV_ENVIRONMENT_ID: &str = "DATA_INTEGRATION_ENVIRONMENT_ID";

/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A secret string (the API token). `Debug` and `Display` print `***`; only [`Secret::expose`]
/// gives the value, and only the request builder calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// A region of the hosted platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Region {
    /// United States (the default): `https://api.rivery.io`.
    #[default]
    Us,
    /// Europe: `https://api.eu-west-1.rivery.io`.
    Eu,
    /// Israel: `https://api.il-central-1.rivery.io`.
    Il,
    /// Australia: `https://api.ap-southeast-2.rivery.io`.
    Au,
}

impl Region {
    /// Every region, in display order.
    pub const ALL: [Region; 4] = [Region::Us, Region::Eu, Region::Il, Region::Au];

    /// The region's API base URL (no trailing slash).
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Us => "https://api.rivery.io",
            Self::Eu => "https://api.eu-west-1.rivery.io",
            Self::Il => "https://api.il-central-1.rivery.io",
            Self::Au => "https://api.ap-southeast-2.rivery.io",
        }
    }

    /// The shorthand (`us`, `eu`, `il`, `au`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Eu => "eu",
            Self::Il => "il",
            Self::Au => "au",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "us" => Ok(Self::Us),
            "eu" => Ok(Self::Eu),
            "il" => Ok(Self::Il),
            "au" => Ok(Self::Au),
            _ => Err(Error::Config(format!(
                "unknown region `{}`: use us, eu, il or au",
                s.trim()
            ))),
        }
    }
}

/// Resolves a region shorthand (`us`, `eu`, `il`, `au`) or an explicit `http(s)://` URL into a
/// base URL without trailing slashes (a trailing slash would make `//v1/...` paths, which 404).
pub fn resolve_base_url(s: &str) -> Result<String> {
    let t = s.trim();
    if let Ok(region) = t.parse::<Region>() {
        return Ok(region.base_url().to_owned());
    }
    if !is_http(t) {
        return Err(Error::Config(format!(
            "`{t}` is neither a region (us, eu, il, au) nor an http(s) URL"
        )));
    }
    http_base_url(t).map_err(Error::Config)
}

fn is_http(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Checks that `s` is an `http(s)://` URL with a host and neither query nor fragment, and returns
/// it without trailing slashes. The error is the message alone.
pub(crate) fn http_base_url(s: &str) -> std::result::Result<String, String> {
    let t = s.trim();
    if !is_http(t) {
        return Err(format!("`{t}` is not an http(s) URL"));
    }
    let url = url::Url::parse(t).map_err(|e| format!("`{t}` is not a valid URL: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{t}` has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{t}` must not carry a query or a fragment"));
    }
    Ok(t.trim_end_matches('/').to_owned())
}

/// Strips an optional leading `Bearer ` (any case) and surrounding whitespace from a token.
pub fn normalize_token(raw: &str) -> String {
    let t = raw.trim();
    if t.eq_ignore_ascii_case("bearer") {
        return String::new();
    }
    match t.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_owned(),
        _ => t.to_owned(),
    }
}

/// Everything [`crate::HttpBackend`] needs to reach one account.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The API base URL, without trailing slash (see [`resolve_base_url`]).
    pub base_url: String,
    /// The API token, without the `Bearer ` prefix.
    pub token: Secret,
    /// The account every path is scoped to.
    pub account_id: AccountId,
    /// The environment used when a call names none.
    pub default_environment: Option<EnvironmentId>,
    /// Per-request timeout (60 s by default).
    pub timeout: Duration,
    /// Retry policy for failed requests.
    pub retry: RetryPolicy,
    /// The `User-Agent` (`bdi/<version>` by default); also the start of `X-Boomi-Plugin`.
    pub user_agent: String,
}

/// The default user agent, `bdi/<version>`.
pub fn default_user_agent() -> String {
    format!("bdi/{}", env!("CARGO_PKG_VERSION"))
}

impl ClientConfig {
    /// A configuration with default timeout, retries and user agent. `base_url` is a region or a
    /// URL; `token` may carry a leading `Bearer `.
    pub fn new(base_url: &str, token: &str, account_id: AccountId) -> Result<Self> {
        let token = normalize_token(token);
        if token.is_empty() {
            return Err(missing_token());
        }
        Ok(Self {
            base_url: resolve_base_url(base_url)?,
            token: Secret::new(token),
            account_id,
            default_environment: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: default_user_agent(),
        })
    }

    /// Sets the default environment.
    pub fn with_default_environment(mut self, env: Option<EnvironmentId>) -> Self {
        self.default_environment = env;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Reads `DATA_INTEGRATION_API_URL` (default US), `DATA_INTEGRATION_API_TOKEN`,
    /// `DATA_INTEGRATION_ACCOUNT_ID` and `DATA_INTEGRATION_ENVIRONMENT_ID` from the process
    /// environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ClientConfig::from_env`], reading each variable through `lookup`. Empty values count
    /// as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base_url = match get(ENV_API_URL) {
            Some(v) => resolve_base_url(&v)
                .map_err(|e| Error::Config(format!("{ENV_API_URL}: {}", config_text(&e))))?,
            None => Region::Us.base_url().to_owned(),
        };
        let token = get(ENV_API_TOKEN)
            .map(|t| normalize_token(&t))
            .filter(|t| !t.is_empty())
            .ok_or_else(missing_token)?;
        let account = get(ENV_ACCOUNT_ID).ok_or_else(|| {
            Error::Config(format!(
                "{ENV_ACCOUNT_ID} is not set: export the 24-hex account id shown in the console URL"
            ))
        })?;
        let account_id = AccountId::parse(&account)
            .map_err(|e| Error::Config(format!("{ENV_ACCOUNT_ID}: {}", config_text(&e))))?;
        let default_environment = get(ENV_ENVIRONMENT_ID)
            .map(|v| EnvironmentId::parse(&v))
            .transpose()
            .map_err(|e| Error::Config(format!("{ENV_ENVIRONMENT_ID}: {}", config_text(&e))))?;
        Ok(Self {
            base_url,
            token: Secret::new(token),
            account_id,
            default_environment,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: default_user_agent(),
        })
    }
}

fn missing_token() -> Error {
    Error::Config(format!(
        "{ENV_API_TOKEN} is not set: create an API token in the console (Settings > API Tokens) and export it"
    ))
}

/// The inner message of an error, without the variant's prefix.
fn config_text(e: &Error) -> String {
    match e {
        Error::Config(m) => m.clone(),
        Error::InvalidInput { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
