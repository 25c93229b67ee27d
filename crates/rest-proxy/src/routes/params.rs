//! Path parameters shared by the routes, parsed into the domain's id types (a malformed id is a
//! 400 before any call), and the response helpers (page links, created-resource audit targets).

use axum::http::{HeaderMap, header};
use bdi_domain::models::Page;
use bdi_domain::{ConnectionId, DataFlowId, OperationId, RunId};
use serde::Deserialize;

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

fn need<'a>(v: &'a Option<String>, name: &str) -> ApiResult<&'a str> {
    v.as_deref()
        .ok_or_else(|| ApiError::internal(&format!("route has no `{name}` parameter")))
}

impl Ids {
    /// `{account}`.
    pub fn account(&self) -> ApiResult<&str> {
        need(&self.account, "account")
    }

    /// `{env}`, unparsed (the caller checks it against the key).
    pub fn env(&self) -> ApiResult<&str> {
        need(&self.env, "env")
    }

    /// `{flow}`.
    pub fn flow(&self) -> ApiResult<DataFlowId> {
        Ok(DataFlowId::parse(need(&self.flow, "flow")?)?)
    }

    /// `{run}`.
    pub fn run(&self) -> ApiResult<RunId> {
        Ok(RunId::parse(need(&self.run, "run")?)?)
    }

    /// `{group}`.
    pub fn group(&self) -> ApiResult<RunId> {
        Ok(RunId::parse(need(&self.group, "group")?)?)
    }

    /// `{connection}`.
    pub fn connection(&self) -> ApiResult<ConnectionId> {
        Ok(ConnectionId::parse(need(&self.connection, "connection")?)?)
    }

    /// `{operation}`.
    pub fn operation(&self) -> ApiResult<OperationId> {
        Ok(OperationId::parse(need(&self.operation, "operation")?)?)
    }
}

/// Points a page's `next_page`/`previous_page` links at this gateway instead of the upstream
/// (same path and query: the gateway speaks the upstream's paths), so that clients that follow
/// them stay behind the gateway.
pub fn relink<T>(mut page: Page<T>, headers: &HeaderMap) -> Page<T> {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
    else {
        return page;
    };
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    let fix = |link: Option<String>| {
        link.map(|l| match url::Url::parse(&l) {
            Ok(u) if u.has_host() => {
                let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
                format!("{scheme}://{host}{}{query}", u.path())
            }
            _ => l,
        })
    };
    page.next_page = fix(page.next_page.take());
    page.previous_page = fix(page.previous_page.take());
    page
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn page_links_point_at_the_gateway() {
        let mut page = Page::single(vec![1]);
        page.next_page = Some(
            "https://api.rivery.io/v1/accounts/a/environments/e/rivers?page=2&items_per_page=1"
                .into(),
        );
        page.previous_page = Some("2".into());
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("gw.internal:8080"));
        let page = relink(page, &h);
        assert_eq!(
            page.next_page.as_deref(),
            Some(
                "http://gw.internal:8080/v1/accounts/a/environments/e/rivers?page=2&items_per_page=1"
            )
        );
        assert_eq!(page.previous_page.as_deref(), Some("2"));
    }
}
