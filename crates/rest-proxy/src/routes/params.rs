//! Path parameters shared by the routes, parsed into the domain's id types (a malformed id is a
//! 400 before any call), and the response helpers (page links, created-resource audit targets).

use bdi_domain::models::Page;
use bdi_domain::{ConnectionId, DataFlowId, OperationId, RunId};
use serde::Deserialize;
use url::Url;

use crate::error::{ApiError, ApiResult};

/// Every path parameter a route may have; the absent ones stay `None`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Ids {
    /// `{account}`.
    pub account: Option<String>,
    /// `{env}`.
    pub env: Option<String>,
    /// `{flow}`.
    pub flow: Option<String>,
    /// `{run}` (a run id or a run group id).
    pub run: Option<String>,
    /// `{connection}`.
    pub connection: Option<String>,
    /// `{operation}`.
    pub operation: Option<String>,
    /// `{group}` (a run group id).
    pub group: Option<String>,
}

fn need<'a>(v: Option<&'a String>, name: &str) -> ApiResult<&'a str> {
    v.map(String::as_str)
        .ok_or_else(|| ApiError::internal(&format!("route has no `{name}` parameter")))
}

impl Ids {
    /// `{account}`.
    pub fn account(&self) -> ApiResult<&str> {
        need(self.account.as_ref(), "account")
    }

    /// `{env}`, unparsed (the caller checks it against the key).
    pub fn env(&self) -> ApiResult<&str> {
        need(self.env.as_ref(), "env")
    }

    /// `{flow}`.
    pub fn flow(&self) -> ApiResult<DataFlowId> {
        Ok(DataFlowId::parse(need(self.flow.as_ref(), "flow")?)?)
    }

    /// `{run}`.
    pub fn run(&self) -> ApiResult<RunId> {
        Ok(RunId::parse(need(self.run.as_ref(), "run")?)?)
    }

    /// `{group}`.
    pub fn group(&self) -> ApiResult<RunId> {
        Ok(RunId::parse(need(self.group.as_ref(), "group")?)?)
    }

    /// `{connection}`.
    pub fn connection(&self) -> ApiResult<ConnectionId> {
        Ok(ConnectionId::parse(need(
            self.connection.as_ref(),
            "connection",
        )?)?)
    }

    /// `{operation}`.
    pub fn operation(&self) -> ApiResult<OperationId> {
        Ok(OperationId::parse(need(
            self.operation.as_ref(),
            "operation",
        )?)?)
    }
}

/// Points a page's `next_page`/`previous_page` links at this gateway instead of the upstream
/// (same path and query: the gateway speaks the upstream's paths), so that clients that follow
/// them stay behind the gateway: under `public_url` when one is configured (`--public-url`), else
/// as a path relative to the gateway's root. Request headers (`Host`, `X-Forwarded-*`) are never
/// read, so a client cannot make a link point elsewhere.
pub fn relink<T>(mut page: Page<T>, public_url: Option<&Url>) -> Page<T> {
    let base = public_url.map_or("", |u| u.as_str().trim_end_matches('/'));
    let fix = |link: Option<String>| {
        link.map(|l| match Url::parse(&l) {
            Ok(u) if u.has_host() => {
                let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{base}{}{query}", u.path())
            }
            _ => l,
        })
    };
    page.next_page = fix(page.next_page.take());
    page.previous_page = fix(page.previous_page.take());
    page
}

/// Parses `--public-url`: an absolute `http` or `https` URL with a host, and no credentials,
/// query or fragment (a path prefix is kept).
pub fn parse_public_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err("give an http or https URL with a host, e.g. https://gw.internal".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the public URL must not hold credentials".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the public URL must not have a query or a fragment".to_owned());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream_page() -> Page<u32> {
        let mut page = Page::single(vec![1]);
        page.next_page = Some(
            "https://api.rivery.io/v1/accounts/a/environments/e/rivers?page=2&items_per_page=1"
                .into(),
        );
        page.previous_page = Some("2".into());
        page
    }

    #[test]
    fn page_links_point_at_the_gateway() {
        let page = relink(upstream_page(), None);
        assert_eq!(
            page.next_page.as_deref(),
            Some("/v1/accounts/a/environments/e/rivers?page=2&items_per_page=1")
        );
        assert_eq!(page.previous_page.as_deref(), Some("2"));
        for public in ["https://gw.internal:8443", "https://gw.internal:8443/"] {
            let public = parse_public_url(public).unwrap();
            let page = relink(upstream_page(), Some(&public));
            assert_eq!(
                page.next_page.as_deref(),
                Some(
                    "https://gw.internal:8443/v1/accounts/a/environments/e/rivers?page=2&items_per_page=1"
                )
            );
        }
        let prefixed = parse_public_url("https://edge.example/bdi/").unwrap();
        let page = relink(upstream_page(), Some(&prefixed));
        assert_eq!(
            page.next_page.as_deref(),
            Some(
                "https://edge.example/bdi/v1/accounts/a/environments/e/rivers?page=2&items_per_page=1"
            )
        );
    }

    #[test]
    fn public_urls_are_checked() {
        for bad in [
            "gw.internal",
            "/relative",
            "ftp://gw.internal",
            "https://user:pw@gw.internal",
            "https://gw.internal/?a=1",
            "https://gw.internal/#x",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }
}
