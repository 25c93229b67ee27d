//! [`BoomiFlowError`], the Boomi Flow client's own error: a failure of the Boomi Flow API, never
//! to be taken for one of Data Integration (a Boomi Flow 429 is not the Data Integration
//! platform's limit), so the client does not return `bdi_domain::Error`.
//!
//! Callers match its variants, never its text. No variant holds the API key: messages and
//! bodies are scrubbed of it before they are stored, and the wrapped errors (`#[source]`) come
//! from requests whose key travels in a header that is marked sensitive and never quoted.

use std::time::Duration;

/// Why a call to the Boomi Flow API failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoomiFlowError {
    /// The configuration cannot be used: no key, a base URL that is not an `http(s)` URL, a key
    /// or tenant that cannot be sent in a header, a zero page size, concurrency or page cap, or
    /// an HTTP client that cannot be built. Nothing was sent.
    #[error("Boomi Flow configuration error: {message}")]
    Config {
        /// What is wrong, naming the setting (`BOOMI_FLOW_API_KEY`, ...).
        message: String,
    },
    /// The API answered with a redirect that bdi does not follow (to another origin, or too
    /// many), so that the key and the tenant never go to another host.
    #[error("{message}")]
    Redirected {
        /// The request and the redirect refused.
        message: String,
        /// The refused redirect, as reqwest reports it.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered 429 (too many requests) until the retries ran out.
    #[error("the Boomi Flow API kept answering 429 (too many requests) to GET {path}{}", said(.message))]
    RateLimited {
        /// The path asked, relative to the base URL.
        path: String,
        /// The last `Retry-After`, when the API sent one.
        retry_after: Option<Duration>,
        /// What the API said (its body, scrubbed and truncated; may be empty).
        message: String,
    },
    /// The API refused the key (401): a wrong key, or a key for another tenant.
    #[error("{message}")]
    Unauthorized {
        /// Which header carried the key, the tenant sent, and what the API said.
        message: String,
    },
    /// The API refused the key for this tenant or resource (403).
    #[error("{message}")]
    Forbidden {
        /// Which header carried the key, the tenant sent, and what the API said.
        message: String,
    },
    /// The API has no such path (404).
    #[error("Boomi Flow path `{path}` not found{}", said(.message))]
    NotFound {
        /// The path asked, relative to the base URL, without its query.
        path: String,
        /// What the API said (may be empty).
        message: String,
    },
    /// Any other answer that is not a success: a 5xx after the retries, or a 4xx with no meaning
    /// of its own.
    #[error("the Boomi Flow API answered {status} to GET {path}{}", said(.body))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The path asked, relative to the base URL.
        path: String,
        /// The first 500 characters of the body, scrubbed of the key (may be empty).
        body: String,
    },
    /// A success whose body cannot be read: not JSON, not a listing, or a `next` link that
    /// cannot be followed (another host, or a page already read).
    #[error("could not read the Boomi Flow API's response at `{at}`: {message}")]
    BadResponse {
        /// The JSON path at fault (`.` for the whole body, `_links.next`).
        at: String,
        /// What is wrong, with the request.
        message: String,
        /// The JSON parser's error, when the body is not JSON.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// The request could not be sent or its response not read (connection, timeout, TLS).
    #[error("Boomi Flow transport error: {message}")]
    Transport {
        /// The request and what failed.
        message: String,
        /// reqwest's error, when there is one.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// A listing did not end within the page cap (`max_pages`): stopped rather than walking
    /// forever.
    #[error(
        "the Boomi Flow listing `{listing}` did not end within {max_pages} pages: stopped to avoid an endless walk (raise max_pages if it really is this long)"
    )]
    TooManyPages {
        /// The listing's path.
        listing: String,
        /// The cap.
        max_pages: u32,
    },
    /// A path asked of the client makes no URL under the base URL.
    #[error("the Boomi Flow path `{path}` makes no URL: {source}")]
    InvalidPath {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
}

/// `: TEXT`, or nothing for an empty text.
fn said(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

impl BoomiFlowError {
    /// True for failures worth trying again later: a 429, a 5xx, a transport error.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// How long the API asked to wait, for a 429 that said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A configuration error.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }
}

impl crate::retry::Transient for BoomiFlowError {
    fn is_transient(&self) -> bool {
        BoomiFlowError::is_transient(self)
    }
}
