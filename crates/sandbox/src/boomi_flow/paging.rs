//! The paged envelope of the Boomi Flow API in each configured variant: reading `page` and `pageSize`
//! in the configured base with the server's cap, and writing `_meta`, `_links` and `items`
//! around a page of items that is already JSON text (so a 1,000-event page is written once).

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{BoomiFlowHttpError, Envelope, Links, PREFIX, PageBase, Totals};
use crate::http::Ctx;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageRequest {
    /// The page number served, in the configured base.
    pub(crate) page: u64,
    /// The page's 0-based position.
    pub(crate) index: u64,
    /// The page size applied (capped).
    pub(crate) size: u64,
}

impl PageRequest {
    /// Reads `page` and `pageSize`: absent means the first page and the default size; a size
    /// above the cap is capped; with base 1, page 0 is page 1. Anything unparsable is a 400.
    pub(crate) fn read(env: &Envelope, ctx: &Ctx) -> Result<PageRequest, BoomiFlowHttpError> {
        let first = env.page_base.first();
        let page = match ctx.get_nonempty("page") {
            None => first,
            Some(raw) => raw.trim().parse::<u64>().map_err(|_| {
                BoomiFlowHttpError::bad_request(format!(
                    "page must be a non-negative integer, got `{raw}`"
                ))
            })?,
        };
        let page = page.max(first);
        let max = env.max_page_size.max(1);
        let size = match ctx.get_nonempty("pageSize") {
            None => env.default_page_size.max(1),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(BoomiFlowHttpError::bad_request(format!(
                        "pageSize must be a positive integer, got `{raw}`"
                    )));
                }
            },
        }
        .min(max);
        Ok(PageRequest {
            page,
            index: page - first,
            size,
        })
    }

    /// The position of the page's first item.
    pub(crate) fn offset(&self) -> u64 {
        self.index.saturating_mul(self.size)
    }

    fn page_at(&self, index: u64, base: PageBase) -> u64 {
        index + base.first()
    }
}

/// The link to page `page` of this request, in the configured style.
fn link(style: Links, ctx: &Ctx, page: u64, size: u64) -> Option<String> {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    let (mut has_page, mut has_size) = (false, false);
    for (k, v) in &ctx.query {
        match k.as_str() {
            "page" if !has_page => {
                ser.append_pair("page", &page.to_string());
                has_page = true;
            }
            "pageSize" if !has_size => {
                ser.append_pair("pageSize", &size.to_string());
                has_size = true;
            }
            "page" | "pageSize" => {}
            _ => {
                ser.append_pair(k, v);
            }
        }
    }
    if !has_page {
        ser.append_pair("page", &page.to_string());
    }
    if !has_size {
        ser.append_pair("pageSize", &size.to_string());
    }
    let query = ser.finish();
    let path = &ctx.path;
    match style {
        Links::None => None,
        Links::Absolute => Some(format!("http://{}{path}?{query}", ctx.host)),
        Links::RootRelative => Some(format!("{path}?{query}")),
        Links::Relative => {
            let relative = path
                .strip_prefix(PREFIX)
                .unwrap_or(path)
                .trim_start_matches('/');
            Some(format!("{relative}?{query}"))
        }
    }
}

/// A JSON response from JSON text.
pub(crate) fn json_text(body: String) -> Response {
    (StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// The envelope around one page: `items` is the page's JSON array text, `total` the number of
/// items across all pages.
pub(crate) fn envelope(
    env: &Envelope,
    ctx: &Ctx,
    req: &PageRequest,
    returned: u64,
    total: u64,
    items: &str,
) -> Response {
    let mut meta = Map::new();
    meta.insert("page".to_owned(), json!(req.page));
    meta.insert("pageSize".to_owned(), json!(req.size));
    // A server that lies about its totals announces this many items more (or fewer) than it
    // holds; the items and the links stay true.
    let announced = total.saturating_add_signed(env.total_offset);
    let pages = announced.div_ceil(req.size);
    if matches!(env.totals, Totals::Pages | Totals::Both) {
        meta.insert(env.total_pages_key.clone(), json!(pages));
    }
    if matches!(env.totals, Totals::Items | Totals::Both) {
        meta.insert(env.total_items_key.clone(), json!(announced));
    }
    let mut links = Map::new();
    if let Some(me) = link(env.links, ctx, req.page, req.size) {
        links.insert("self".to_owned(), Value::String(me));
        if returned > 0 && req.offset().saturating_add(returned) < total {
            let next = req.page_at(req.index + 1, env.page_base);
            if let Some(next) = link(env.links, ctx, next, req.size) {
                links.insert("next".to_owned(), Value::String(next));
            }
        }
        if req.index > 0 {
            let prev = req.page_at(req.index - 1, env.page_base);
            if let Some(prev) = link(env.links, ctx, prev, req.size) {
                links.insert("prev".to_owned(), Value::String(prev));
            }
        }
    }
    let mut body = String::with_capacity(items.len() + 512);
    body.push('{');
    body.push_str(&Value::String(env.meta_key.clone()).to_string());
    body.push(':');
    body.push_str(&Value::Object(meta).to_string());
    body.push(',');
    body.push_str(&Value::String(env.links_key.clone()).to_string());
    body.push(':');
    body.push_str(&Value::Object(links).to_string());
    body.push_str(",\"items\":");
    body.push_str(items);
    body.push('}');
    json_text(body)
}

/// The JSON array text of a slice of values.
pub(crate) fn array_text<'a>(items: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::from("[");
    for (k, item) in items.into_iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&item.to_string());
    }
    out.push(']');
    out
}
