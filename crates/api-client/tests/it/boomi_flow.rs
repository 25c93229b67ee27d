//! `BoomiFlowClient` against a small axum server on 127.0.0.1 written here from the Boomi Flow
//! contract (`docs/boomi-flow-api.md`, sections 1 and 2): every paging variant, the
//! headers sent, the error messages, retries and the timeout, and the key kept out of every
//! error and `Debug` output.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bdi_api_client::{
    BoomiFlowClient, BoomiFlowConfig, BoomiFlowError, BoomiFlowPage, RetryPolicy,
};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::support::fast_policy;

const KEY: &str = "0123456789abcdef0123456789abcdef";
const TENANT: &str = "6f1ba8a4-3f0c-4d58-9d47-3b1c0d1a2b3c";

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
}

impl Seen {
    fn page(&self) -> Option<u32> {
        self.query.get("page").and_then(|p| p.parse().ok())
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header").to_owned())
    }
}

/// What the server answers.
enum Reply {
    Json(StatusCode, Value),
    Text(StatusCode, &'static str, String),
    /// A status with a `Retry-After`.
    After(StatusCode, String),
    /// Never answers.
    Hang,
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    handler: Handler,
    log: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

struct Server {
    url: String,
    shared: Shared,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.shared.log.lock().expect("not poisoned").clone()
    }

    /// The `page` of every request, in order.
    fn pages_asked(&self) -> Vec<Option<u32>> {
        self.seen().iter().map(Seen::page).collect()
    }

    fn clear(&self) {
        self.shared.log.lock().expect("not poisoned").clear();
    }
}

async fn answer(State(s): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let seen = Seen {
        path: uri.path().to_owned(),
        query: url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        headers,
    };
    let n = {
        let mut log = s.log.lock().expect("not poisoned");
        log.push(seen.clone());
        log.len() - 1
    };
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.most_in_flight.fetch_max(now, Ordering::SeqCst);
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    let reply = (s.handler)(&seen, n);
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    match reply {
        Reply::Json(status, body) => (status, axum::Json(body)).into_response(),
        Reply::Text(status, content_type, body) => {
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Reply::After(status, after) => (
            status,
            [(header::RETRY_AFTER, after)],
            "slow down".to_owned(),
        )
            .into_response(),
        Reply::Hang => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
    }
}

async fn serve(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Server {
    let shared = Shared {
        handler: Arc::new(handler),
        log: Arc::default(),
        in_flight: Arc::default(),
        most_in_flight: Arc::default(),
    };
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        url: format!("http://{addr}"),
        shared,
    }
}

fn config(base: &str, key: &str, tenant: Option<&str>) -> BoomiFlowConfig {
    BoomiFlowConfig::new(base, key, tenant)
        .expect("valid configuration")
        .with_retry(fast_policy())
}

fn client(base: &str) -> BoomiFlowClient {
    BoomiFlowClient::new(config(base, KEY, Some(TENANT))).expect("client builds")
}

async fn walk(client: &BoomiFlowClient, path: &str) -> Vec<Result<BoomiFlowPage, BoomiFlowError>> {
    client.pages(path, Vec::new()).collect().await
}

async fn all_pages(client: &BoomiFlowClient, path: &str) -> Vec<BoomiFlowPage> {
    walk(client, path)
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("every page reads")
}

fn ids(pages: &[BoomiFlowPage]) -> Vec<u64> {
    pages
        .iter()
        .flat_map(BoomiFlowPage::values)
        .map(|i| i["id"].as_u64().expect("numeric id"))
        .collect()
}

fn sizes(pages: &[BoomiFlowPage]) -> Vec<usize> {
    pages.iter().map(|p| p.items.len()).collect()
}

fn upto(n: u64) -> Vec<u64> {
    (0..n).collect()
}

/// What a paged listing's envelope announces.
#[derive(Clone, Copy, Debug)]
enum Hints {
    None,
    TotalPages,
    TotalItems,
    /// `_links.next` as an absolute URL.
    NextAbsolute,
    /// `_links.next` as this prefix followed by the listing's path.
    NextRelative(&'static str),
}

/// How a 1-based server answers page 0.
#[derive(Clone, Copy, Debug)]
enum PageZero {
    Refused,
    ServedAsPageOne,
}

/// A listing of `{"id": i}` items, served in envelopes.
#[derive(Clone, Debug)]
struct Listing {
    len: u64,
    base: u32,
    cap: u64,
    hints: Hints,
    page_zero: PageZero,
    /// `meta`, `links`, `Items` and `TotalItems` instead of the usual spellings.
    odd_keys: bool,
    /// The path under which the listing is served (`/admin/1/users`, or with a base path).
    path: &'static str,
}

impl Listing {
    fn new(len: u64) -> Self {
        Self {
            len,
            base: 1,
            cap: 1_000,
            hints: Hints::None,
            page_zero: PageZero::Refused,
            odd_keys: false,
            path: "/admin/1/users",
        }
    }

    fn answer(&self, seen: &Seen) -> Reply {
        assert_eq!(seen.path, self.path, "the listing's path");
        let asked: u64 = seen
            .query
            .get("pageSize")
            .and_then(|s| s.parse().ok())
            .expect("pageSize is always sent");
        let size = asked.min(self.cap);
        let mut page = seen.page().expect("page is always sent");
        if page < self.base {
            match self.page_zero {
                PageZero::Refused => {
                    return Reply::Json(
                        StatusCode::BAD_REQUEST,
                        json!({"message": "page must be at least 1"}),
                    );
                }
                PageZero::ServedAsPageOne => page = 1,
            }
        }
        let start = u64::from(page - self.base) * size;
        let end = (start + size).min(self.len);
        let items: Vec<Value> = (start.min(end)..end).map(|i| json!({"id": i})).collect();
        let pages = self.len.div_ceil(size);
        let more = end < self.len;
        let host = seen.header("host").expect("host header");
        let next_query = format!("page={}&pageSize={size}", page + 1);
        let (meta, links) = match self.hints {
            Hints::None => (json!({}), json!({})),
            Hints::TotalPages => (json!({"totalPages": pages}), json!({})),
            Hints::TotalItems => (json!({"totalCount": self.len}), json!({})),
            Hints::NextAbsolute => (
                json!({}),
                if more {
                    json!({"next": format!("http://{host}{}?{next_query}", self.path)})
                } else {
                    json!({})
                },
            ),
            Hints::NextRelative(prefix) => (
                json!({}),
                if more {
                    json!({"next": format!("{prefix}admin/1/users?{next_query}")})
                } else {
                    json!({"next": null})
                },
            ),
        };
        let body = if self.odd_keys {
            let meta = match self.hints {
                Hints::TotalItems => json!({"TotalItems": self.len}),
                _ => meta,
            };
            json!({"meta": meta, "links": links, "Items": items})
        } else {
            json!({"_meta": meta, "_links": links, "items": items})
        };
        Reply::Json(StatusCode::OK, body)
    }
}

async fn serve_listing(listing: Listing) -> Server {
    serve(move |seen, _| listing.answer(seen)).await
}

#[tokio::test]
async fn a_bare_array_is_one_page() {
    let server =
        serve(|_, _| Reply::Json(StatusCode::OK, json!([{"id": 0}, {"id": 1}, {"id": 2}]))).await;
    let pages = all_pages(&client(&server.url), "draw/1/flow").await;
    assert_eq!(ids(&pages), upto(3));
    assert_eq!(pages[0].number, 1);
    assert!(pages[0].url.contains("/draw/1/flow?"), "{}", pages[0].url);
    assert_eq!(server.seen().len(), 1, "a bare array is the whole listing");
}

#[tokio::test]
async fn a_single_object_is_a_page_of_one() {
    let server =
        serve(|_, _| Reply::Json(StatusCode::OK, json!({"id": 7, "developerName": "x"}))).await;
    let pages = all_pages(&client(&server.url), "draw/1/flow/abc").await;
    assert_eq!(ids(&pages), vec![7]);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn an_envelope_counted_from_one_is_read_to_its_short_last_page() {
    for page_zero in [PageZero::Refused, PageZero::ServedAsPageOne] {
        let server = serve_listing(Listing {
            page_zero,
            ..Listing::new(1_234)
        })
        .await;
        let client = client(&server.url);
        let pages = all_pages(&client, "admin/1/users").await;
        assert_eq!(ids(&pages), upto(1_234), "{page_zero:?}");
        assert_eq!(sizes(&pages), vec![500, 500, 234]);
        assert_eq!(
            pages.iter().map(|p| p.number).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            server.pages_asked(),
            vec![Some(1), Some(0), Some(2), Some(3)],
            "page 1, the base probe, then on"
        );
        assert!(
            server.seen()[0]
                .query
                .get("pageSize")
                .is_some_and(|s| s == "500")
        );

        server.clear();
        let again = all_pages(&client, "/admin/1/users").await;
        assert_eq!(ids(&again), upto(1_234));
        assert_eq!(
            server.pages_asked(),
            vec![Some(1), Some(2), Some(3)],
            "the base is remembered per path"
        );
    }
}

#[tokio::test]
async fn an_envelope_counted_from_zero_loses_and_repeats_nothing() {
    let server = serve_listing(Listing {
        base: 0,
        ..Listing::new(1_234)
    })
    .await;
    let client = client(&server.url);
    let pages = all_pages(&client, "admin/1/users").await;
    assert_eq!(ids(&pages), upto(1_234), "page 0 first, page 1 once");
    assert_eq!(sizes(&pages), vec![500, 500, 234]);
    assert_eq!(server.pages_asked(), vec![Some(1), Some(0), Some(2)]);

    server.clear();
    let again = all_pages(&client.clone(), "admin/1/users").await;
    assert_eq!(ids(&again), upto(1_234));
    assert_eq!(
        server.pages_asked(),
        vec![Some(0), Some(1), Some(2)],
        "clones share what was learned"
    );
}

#[tokio::test]
async fn an_empty_page_one_with_a_full_page_zero_means_base_zero() {
    let server = serve_listing(Listing {
        base: 0,
        ..Listing::new(30)
    })
    .await;
    let client = client(&server.url);
    let pages = all_pages(&client, "admin/1/users").await;
    assert_eq!(ids(&pages), upto(30));
    assert_eq!(server.pages_asked(), vec![Some(1), Some(0)]);

    server.clear();
    assert_eq!(ids(&all_pages(&client, "admin/1/users").await), upto(30));
    assert_eq!(server.pages_asked(), vec![Some(0), Some(1)]);
}

#[tokio::test]
async fn an_absolute_next_link_is_followed() {
    let server = serve_listing(Listing {
        hints: Hints::NextAbsolute,
        ..Listing::new(1_234)
    })
    .await;
    let pages = all_pages(&client(&server.url), "admin/1/users").await;
    assert_eq!(ids(&pages), upto(1_234));
    assert_eq!(
        server.pages_asked(),
        vec![Some(1), Some(0), Some(2), Some(3)]
    );
}

#[tokio::test]
async fn relative_next_links_are_followed_under_the_base_path() {
    for prefix in ["", "/api/", "/"] {
        let server = serve_listing(Listing {
            hints: Hints::NextRelative(prefix),
            base: 0,
            path: "/api/admin/1/users",
            ..Listing::new(1_234)
        })
        .await;
        let client = client(&format!("{}/api/", server.url));
        let pages = all_pages(&client, "admin/1/users").await;
        assert_eq!(ids(&pages), upto(1_234), "prefix {prefix:?}");
        assert_eq!(
            server.pages_asked(),
            vec![Some(1), Some(0), Some(2)],
            "prefix {prefix:?}"
        );
    }
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let server = serve(|seen, _| {
        let items: Vec<Value> = (0..3).map(|i| json!({"id": i})).collect();
        match seen.page() {
            Some(1) => Reply::Json(
                StatusCode::OK,
                json!({"_links": {"next": "http://evil.example/api/admin/1/users?page=2"}, "items": items}),
            ),
            _ => Reply::Json(StatusCode::OK, json!({"items": []})),
        }
    })
    .await;
    let results = walk(&client(&server.url), "admin/1/users").await;
    assert_eq!(results.len(), 2, "{results:?}");
    let first = results[0].as_ref().expect("the first page is read");
    assert_eq!(ids(std::slice::from_ref(first)), upto(3));
    let e = results[1].as_ref().expect_err("the link is refused");
    let text = e.to_string();
    assert!(
        matches!(e, BoomiFlowError::BadResponse { at, source: None, .. } if at == "_links.next"),
        "{e:?}"
    );
    assert!(text.contains("http://evil.example"), "{text}");
    assert!(
        text.contains("refusing to send the API key there"),
        "{text}"
    );
    assert!(!text.contains(KEY), "{text}");
    assert_eq!(server.pages_asked(), vec![Some(1), Some(0)]);
}

#[tokio::test]
async fn a_next_link_that_loops_is_an_error() {
    let server = serve(|seen, _| match seen.page() {
        Some(1 | 2) => Reply::Json(
            StatusCode::OK,
            json!({"_links": {"next": "admin/1/users?page=2"}, "items": [{"id": seen.page()}]}),
        ),
        _ => Reply::Json(StatusCode::OK, json!({"items": []})),
    })
    .await;
    let results = walk(&client(&server.url), "admin/1/users").await;
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results[0].is_ok() && results[1].is_ok());
    let e = results[2].as_ref().expect_err("the loop is caught");
    assert!(e.to_string().contains("already read"), "{e}");
}

#[tokio::test]
async fn total_pages_with_a_server_cap_below_the_size_asked() {
    let server = serve_listing(Listing {
        hints: Hints::TotalPages,
        cap: 100,
        ..Listing::new(1_050)
    })
    .await;
    let pages = all_pages(&client(&server.url), "admin/1/users").await;
    assert_eq!(ids(&pages), upto(1_050), "in order, nothing lost");
    assert_eq!(pages.len(), 11);
    let mut asked = server.pages_asked();
    assert_eq!(asked[..2], [Some(1), Some(0)]);
    asked.sort_unstable();
    assert_eq!(
        asked,
        std::iter::once(Some(0))
            .chain((1..=11).map(Some))
            .collect::<Vec<_>>()
    );
    let most = server.shared.most_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&most),
        "pages fetched at once, at most `concurrency`: {most}"
    );
}

#[tokio::test]
async fn total_items_with_a_server_cap_and_other_key_spellings() {
    for odd_keys in [false, true] {
        let server = serve_listing(Listing {
            hints: Hints::TotalItems,
            cap: 100,
            odd_keys,
            ..Listing::new(1_050)
        })
        .await;
        let client = BoomiFlowClient::new(config(&server.url, KEY, None).with_concurrency(2))
            .expect("client builds");
        let pages = all_pages(&client, "admin/1/users").await;
        assert_eq!(ids(&pages), upto(1_050), "odd keys: {odd_keys}");
        assert_eq!(server.seen().len(), 12, "pages 1 to 11 and the probe");
        let most = server.shared.most_in_flight.load(Ordering::SeqCst);
        assert!(most <= 2, "{most}");
    }
}

#[tokio::test]
async fn without_hints_a_capped_server_is_read_to_its_short_page() {
    let server = serve_listing(Listing {
        cap: 100,
        ..Listing::new(1_050)
    })
    .await;
    let pages = all_pages(&client(&server.url), "admin/1/users").await;
    assert_eq!(ids(&pages), upto(1_050), "pages of 100 when 500 were asked");
    assert_eq!(pages.last().map(|p| p.items.len()), Some(50));

    let server = serve_listing(Listing {
        cap: 100,
        ..Listing::new(1_000)
    })
    .await;
    let pages = all_pages(&client(&server.url), "admin/1/users").await;
    assert_eq!(ids(&pages), upto(1_000));
    assert_eq!(
        server.pages_asked().last(),
        Some(&Some(11)),
        "an empty page ends an even listing"
    );
}

#[tokio::test]
async fn an_endless_listing_stops_at_the_page_cap() {
    let server = serve(|seen, _| {
        let page = seen.page().unwrap_or(1);
        Reply::Json(
            StatusCode::OK,
            json!({"_links": {"next": format!("admin/1/users?page={}", page + 1)}, "items": [{"id": page}]}),
        )
    })
    .await;
    let capped = BoomiFlowClient::new(BoomiFlowConfig {
        max_pages: 5,
        ..config(&server.url, KEY, None)
    })
    .expect("builds");
    let results = walk(&capped, "admin/1/users").await;
    let (last, read) = results.split_last().expect("something");
    assert!(read.iter().all(Result::is_ok), "{results:?}");
    let e = last.as_ref().expect_err("the cap stops the walk");
    assert!(e.to_string().contains("did not end within 5 pages"), "{e}");
    assert_eq!(server.seen().len(), 5);

    let server = serve(|_, _| {
        Reply::Json(
            StatusCode::OK,
            json!({"_meta": {"totalPages": 10_000_000}, "items": [{"id": 1}]}),
        )
    })
    .await;
    let results = walk(&client(&server.url), "admin/1/users").await;
    assert_eq!(results.len(), 2, "page 1, then the error");
    let e = results[1].as_ref().expect_err("a total beyond the cap");
    assert!(
        e.to_string().contains("did not end within 100000 pages"),
        "{e}"
    );
    assert_eq!(server.seen().len(), 2, "page 1 and the base probe only");
}

#[tokio::test]
async fn an_empty_listing_yields_no_page() {
    let server = serve_listing(Listing::new(0)).await;
    assert!(
        all_pages(&client(&server.url), "admin/1/users")
            .await
            .is_empty()
    );
    assert_eq!(server.pages_asked(), vec![Some(1), Some(0)]);

    let server = serve(|_, _| Reply::Json(StatusCode::OK, json!([]))).await;
    assert!(
        all_pages(&client(&server.url), "draw/1/flow")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_caller_query_is_kept_and_its_page_size_asked() {
    let server = serve_listing(Listing::new(30)).await;
    let query = vec![
        ("status".to_owned(), "done".to_owned()),
        ("pageSize".to_owned(), "20".to_owned()),
        ("page".to_owned(), "7".to_owned()),
    ];
    let client = client(&server.url);
    let pages: Vec<BoomiFlowPage> = client
        .pages("admin/1/users", query)
        .map(|p| p.expect("page reads"))
        .collect()
        .await;
    assert_eq!(sizes(&pages), vec![20, 10]);
    let first = &server.seen()[0];
    assert_eq!(first.query.get("status").map(String::as_str), Some("done"));
    assert_eq!(first.query.get("pageSize").map(String::as_str), Some("20"));
    assert_eq!(first.page(), Some(1));
}

#[tokio::test]
async fn every_request_carries_the_key_and_the_tenant_when_there_is_one() {
    let server = serve(|_, _| Reply::Json(StatusCode::OK, json!([]))).await;
    client(&server.url)
        .get_json("admin/1/tenant/runtimes", &[])
        .await
        .expect("answers");
    let none = BoomiFlowClient::new(config(&server.url, KEY, None)).expect("client builds");
    none.get_json("admin/1/tenant/runtimes", &[])
        .await
        .expect("answers");
    let seen = server.seen();
    assert_eq!(seen[0].header("x-boomi-flow-api-key").as_deref(), Some(KEY));
    assert_eq!(seen[0].header("manywhotenant").as_deref(), Some(TENANT));
    assert_eq!(
        seen[0].header("accept").as_deref(),
        Some("application/json")
    );
    assert!(seen[0].header("authorization").is_none());
    assert_eq!(seen[1].header("x-boomi-flow-api-key").as_deref(), Some(KEY));
    assert_eq!(
        seen[1].header("manywhotenant"),
        None,
        "no tenant, no header"
    );
}

#[tokio::test]
async fn get_json_reads_json_whatever_the_content_type() {
    let server = serve(|seen, _| {
        Reply::Text(
            StatusCode::OK,
            "text/plain",
            format!(
                r#"{{"filter": {:?}}}"#,
                seen.query.get("filter").cloned().unwrap_or_default()
            ),
        )
    })
    .await;
    let v = client(&server.url)
        .get_json(
            "/draw/1/flow",
            &[("filter".to_owned(), "developerName eq 'x'".to_owned())],
        )
        .await
        .expect("parsed");
    assert_eq!(v, json!({"filter": "developerName eq 'x'"}));

    let server =
        serve(|_, _| Reply::Text(StatusCode::OK, "application/json", "<html>".into())).await;
    let e = client(&server.url)
        .get_json("draw/1/flow", &[])
        .await
        .expect_err("not JSON");
    assert!(
        matches!(
            &e,
            BoomiFlowError::BadResponse {
                source: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        std::error::Error::source(&e).is_some(),
        "the parser's error is kept as the source"
    );
}

/// A server that refuses every request with `status`, echoing the key it was sent.
async fn refusing(status: StatusCode) -> Server {
    serve(move |seen, _| {
        Reply::Text(
            status,
            "application/json",
            format!(
                r#"{{"message": "bad key {}"}}"#,
                seen.header("x-boomi-flow-api-key").unwrap_or_default()
            ),
        )
    })
    .await
}

#[tokio::test]
async fn refused_keys_name_the_header_and_the_tenant() {
    for status in [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN] {
        let server = refusing(status).await;
        let e = client(&server.url)
            .get_json("admin/1/users", &[])
            .await
            .expect_err("refused");
        let text = e.to_string();
        match status {
            StatusCode::UNAUTHORIZED => {
                assert!(matches!(e, BoomiFlowError::Unauthorized { .. }), "{e:?}");
            }
            _ => assert!(matches!(e, BoomiFlowError::Forbidden { .. }), "{e:?}"),
        }
        for needle in [
            "x-boomi-flow-api-key",
            "tenant-scoped",
            "BOOMI_FLOW_TENANT_ID",
            "manywhotenant",
            TENANT,
            "bad key ***",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(!text.contains(KEY), "{text}");
        assert_eq!(server.seen().len(), 1, "never retried");

        let no_tenant =
            BoomiFlowClient::new(config(&server.url, KEY, None)).expect("client builds");
        let text = no_tenant
            .get_json("admin/1/users", &[])
            .await
            .expect_err("refused")
            .to_string();
        assert!(
            text.contains("no tenant is configured: set BOOMI_FLOW_TENANT_ID"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_404_names_the_path() {
    let server =
        serve(|_, _| Reply::Json(StatusCode::NOT_FOUND, json!({"message": "no such flow"}))).await;
    let e = client(&server.url)
        .get_json("draw/1/flow/123", &[])
        .await
        .expect_err("not found");
    match &e {
        BoomiFlowError::NotFound { path, message } => {
            assert_eq!(path, "draw/1/flow/123");
            assert!(message.contains("no such flow"), "{message}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_429_or_503_is_retried_after_its_retry_after() {
    let date = (chrono::Utc::now() + chrono::TimeDelta::seconds(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    for (status, after) in [
        (StatusCode::TOO_MANY_REQUESTS, "1".to_owned()),
        (StatusCode::TOO_MANY_REQUESTS, date.clone()),
        (StatusCode::SERVICE_UNAVAILABLE, "1".to_owned()),
    ] {
        let after_ = after.clone();
        let server = serve(move |_, n| {
            if n == 0 {
                Reply::After(status, after_.clone())
            } else {
                Reply::Json(StatusCode::OK, json!([{"id": 0}]))
            }
        })
        .await;
        let pages = all_pages(&client(&server.url), "draw/1/flow").await;
        assert_eq!(ids(&pages), upto(1), "{status} {after}");
        assert_eq!(server.seen().len(), 2, "{status} {after}");
    }
}

#[tokio::test]
async fn a_rate_limit_that_lasts_is_reported_as_such() {
    let server = serve(|_, _| Reply::After(StatusCode::TOO_MANY_REQUESTS, "1".into())).await;
    let e = client(&server.url)
        .get_json("draw/1/flow", &[])
        .await
        .expect_err("rate limited");
    assert!(
        matches!(e, BoomiFlowError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(1)),
        "{e:?}"
    );
    assert_eq!(server.seen().len(), 4, "max_retries + 1 attempts");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_without_the_key() {
    for key in [KEY, "k9"] {
        let long_tail = "x".repeat(800);
        let server = serve(move |seen, n| {
            let echoed = seen.header("x-boomi-flow-api-key").unwrap_or_default();
            match n {
                0 => Reply::Text(StatusCode::BAD_GATEWAY, "text/html", "bad gateway".into()),
                _ => Reply::Text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("boom: key {echoed} {long_tail}"),
                ),
            }
        })
        .await;
        let client = BoomiFlowClient::new(config(&server.url, key, Some(TENANT))).expect("builds");
        let e = client
            .get_json("audit/1/search", &[])
            .await
            .expect_err("exhausted");
        match &e {
            BoomiFlowError::Status { status, body, .. } => {
                assert_eq!(*status, 500);
                assert!(body.starts_with("boom: key *** xxx"), "{body}");
                assert!(
                    body.chars().count() <= 503,
                    "at most 500 characters: {body}"
                );
            }
            other => panic!("expected Status, got {other:?}"),
        }
        assert!(!format!("{e} {e:?}").contains(key), "key {key}");
        assert_eq!(server.seen().len(), 4, "max_retries + 1 attempts");
    }
}

#[tokio::test]
async fn the_key_never_shows_in_errors_or_debug() {
    for key in [KEY, "k9"] {
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::UNPROCESSABLE_ENTITY,
        ] {
            let server = serve(move |seen, _| {
                Reply::Text(
                    status,
                    "text/plain",
                    format!(
                        "key={} headers={:?}",
                        seen.header("x-boomi-flow-api-key").unwrap_or_default(),
                        seen.headers
                    ),
                )
            })
            .await;
            let client = BoomiFlowClient::new(config(&server.url, key, None)).expect("builds");
            let e = client
                .get_json("admin/1/users", &[])
                .await
                .expect_err("refused");
            let shown = format!("{e} {e:?} {client:?}");
            assert!(!shown.contains(key), "{status} key {key}: {shown}");
        }
        // A transport error: nothing listens on the port any more.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let client = BoomiFlowClient::new(
            config(&format!("http://{addr}"), key, None).with_retry(RetryPolicy::none()),
        )
        .expect("builds");
        let e = client
            .get_json("admin/1/users", &[])
            .await
            .expect_err("no server");
        assert!(
            matches!(
                &e,
                BoomiFlowError::Transport {
                    source: Some(_),
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!format!("{e} {e:?}").contains(key), "{e}");
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_times_out_and_is_retried() {
    let server = serve(|_, _| Reply::Hang).await;
    let client = BoomiFlowClient::new(
        config(&server.url, KEY, None)
            .with_timeout(Duration::from_millis(50))
            .with_retry(RetryPolicy {
                max_retries: 1,
                ..fast_policy()
            }),
    )
    .expect("builds");
    let e = client
        .get_json("audit/1/search", &[])
        .await
        .expect_err("timed out");
    assert!(
        matches!(&e, BoomiFlowError::Transport { message: m, .. } if m.contains("timed out after 0.05 s") && m.contains("audit/1/search")),
        "{e:?}"
    );
    assert_eq!(server.seen().len(), 2, "a timeout is retried");
}
