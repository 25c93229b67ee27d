//! Logs of `bdi-mcp`: the subscriber (stderr, `BDI_LOG`), and tool arguments as they may be
//! logged, with secrets redacted and size capped.
//!
//! rmcp logs whole protocol messages (tool arguments, connection passwords included) at DEBUG
//! and TRACE on a few targets ([`QUIET_RMCP_TARGETS`]). Those events are dropped by a filter
//! that `BDI_LOG` cannot lift; `bdi-mcp` logs each tool call itself instead, at DEBUG, through
//! [`arguments_for_log`].

use serde_json::{Map, Value};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::registry::LookupSpan;

/// The variable holding the log filter (`tracing` `EnvFilter` syntax).
pub const FILTER_VAR: &str = "BDI_LOG";
/// The filter when `BDI_LOG` is unset or invalid.
pub const DEFAULT_FILTER: &str = "info,bdi_sandbox=warn";
/// rmcp targets whose DEBUG and TRACE events print whole protocol messages: dropped at any
/// `BDI_LOG`.
pub const QUIET_RMCP_TARGETS: &[&str] = &[
    "rmcp::service",
    "rmcp::transport::async_rw",
    "rmcp::transport::streamable_http_server::tower",
];
/// The words that make a field secret, matched case-insensitively in field names with `_`, `-`
/// and other separators removed (`client_secret`, `apiKey`, `Private-Key`, `sas_token`).
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "accountkey",
    "credential",
    "authorization",
    "connectionstring",
    "cookie",
];
/// What a secret value is logged as.
pub const REDACTED: &str = "<redacted>";
/// Longest string value kept in logged arguments, in characters.
pub const MAX_LOGGED_STRING_CHARS: usize = 200;
/// Longest logged argument text, in characters.
pub const MAX_LOGGED_ARGUMENTS_CHARS: usize = 2_000;

/// The fmt layer `bdi-mcp` logs through: `spec` (`BDI_LOG`; [`DEFAULT_FILTER`] when absent or
/// invalid), no colours, and rmcp's message dumps always dropped.
pub fn layer<S, W>(spec: Option<&str>, writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = spec
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_filter(filter.and(filter_fn(keeps)))
}

/// Whether an event or span may be logged: not rmcp's DEBUG or TRACE message dumps.
pub fn keeps(meta: &Metadata<'_>) -> bool {
    *meta.level() <= Level::INFO
        || !QUIET_RMCP_TARGETS
            .iter()
            .any(|t| meta.target().starts_with(t))
}

/// Whether a field name names a secret.
pub fn is_secret_field(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    key == "pwd" || SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// A copy of `value` fit for a log: every secret field's value (at any depth) replaced by
/// [`REDACTED`], and strings cut to [`MAX_LOGGED_STRING_CHARS`] characters.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(redact_map(map)),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) => Value::String(cut(s, MAX_LOGGED_STRING_CHARS)),
        other => other.clone(),
    }
}

fn redact_map(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| {
            let v = if is_secret_field(k) {
                Value::String(REDACTED.to_owned())
            } else {
                redact(v)
            };
            (cut(k, MAX_LOGGED_STRING_CHARS), v)
        })
        .collect()
}

/// A tool call's arguments as one log field: redacted, as JSON, at most
/// [`MAX_LOGGED_ARGUMENTS_CHARS`] characters.
pub fn arguments_for_log(arguments: Option<&Map<String, Value>>) -> String {
    let Some(arguments) = arguments else {
        return "{}".to_owned();
    };
    let text = serde_json::to_string(&redact_map(arguments)).unwrap_or_default();
    cut(&text, MAX_LOGGED_ARGUMENTS_CHARS)
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}… ({} characters)", &s[..at], s.chars().count()),
    }
}

/// Installs the process-wide subscriber: stderr (stdout belongs to the protocol), filtered by
/// `BDI_LOG`.
pub fn init() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let spec = std::env::var(FILTER_VAR).ok();
    let _ = tracing_subscriber::registry()
        .with(layer(spec.as_deref(), std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests;
