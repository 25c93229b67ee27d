//! Health, readiness (a cheap upstream call), metrics, and request ids.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use bdi_domain::{Error, MockBackend};
use bdi_rest_proxy::layers::is_safe_request_id;
use tokio::time::Instant;
use tracing_subscriber::fmt::MakeWriter;

use crate::slow::Slow;
use crate::support::*;

#[tokio::test(start_paused = true)]
async fn health_and_readiness() {
    let mut m = MockBackend::new();
    let mut calls = 0;
    m.expect_list_environments().returning(move |p, _| {
        assert_eq!((p.page, p.items_per_page), (1, 1));
        calls += 1;
        if calls == 1 {
            Ok(page(vec![], None))
        } else {
            Err(Error::Transport("connection refused to 10.0.0.1".into()))
        }
    });
    let h = harness(m);
    let r = call(&h.app, Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (StatusCode::OK, serde_json::json!("ok"))
    );
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    // The answer is reused for a few seconds, then asked again.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!r.text().contains("10.0.0.1"), "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "transport");
}

fn slow_environments(delay: Duration) -> (Harness, Arc<AtomicUsize>) {
    let mut m = MockBackend::new();
    m.expect_list_environments()
        .returning(|_, _| Ok(page(vec![], None)));
    let (slow, calls) = Slow::new(m, delay);
    (harness_of(config(Arc::new(slow))), calls)
}

#[tokio::test(start_paused = true)]
async fn readiness_is_bounded_by_a_short_timeout() {
    let (h, calls) = slow_environments(Duration::from_secs(5));
    let started = Instant::now();
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(2),
        "not the upstream's 5 s"
    );
    insta::assert_json_snapshot!("readiness_timeout", r.json());
    // The refusal is cached too: a burst of probes does not reach the upstream.
    for _ in 0..10 {
        let r = call(&h.app, Method::GET, "/readyz", None, None).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn concurrent_readiness_probes_share_one_upstream_call() {
    let (h, calls) = slow_environments(Duration::from_secs(1));
    let started = Instant::now();
    let probes: Vec<_> = (0..8)
        .map(|_| {
            let app = h.app.clone();
            tokio::spawn(async move { call(&app, Method::GET, "/readyz", None, None).await })
        })
        .collect();
    for probe in probes {
        assert_eq!(probe.await.unwrap().status, StatusCode::OK);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one check in flight, shared"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(1));

    // Within the cache's lifetime, no new call; after it, one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = call(&h.app, Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn metrics_count_routes_statuses_and_upstream_calls() {
    let mut m = MockBackend::new();
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("active")));
    let h = harness(m);
    let path = e(&format!("/rivers/{FLOW}"));
    assert_eq!(get(&h.app, &path, ADMIN).await.status, StatusCode::OK);
    assert_eq!(
        call(&h.app, Method::GET, &path, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = call(&h.app, Method::GET, "/metrics", None, None).await;
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text();
    let route = "/v1/accounts/{account}/environments/{env}/rivers/{flow}";
    for line in [
        format!("bdi_gateway_requests_total{{route=\"{route}\",method=\"GET\",status=\"200\"}} 1"),
        format!("bdi_gateway_requests_total{{route=\"{route}\",method=\"GET\",status=\"401\"}} 1"),
        format!("bdi_gateway_request_duration_seconds_count{{route=\"{route}\",method=\"GET\"}} 2"),
        "bdi_gateway_upstream_calls_total{operation=\"get_data_flow\",outcome=\"ok\"} 1".to_owned(),
    ] {
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    assert!(!text.contains(FLOW), "raw ids never become labels");
}

#[tokio::test]
async fn request_ids_are_set_or_echoed() {
    let h = harness(MockBackend::new());
    let r = call(&h.app, Method::GET, "/healthz", None, None).await;
    assert!(!r.headers["x-request-id"].is_empty());
    let req = axum::http::Request::builder()
        .uri("/healthz")
        .header("x-request-id", "trace-me-1")
        .body(axum::body::Body::empty())
        .unwrap();
    let r = send(&h.app, req).await;
    assert_eq!(r.headers["x-request-id"], "trace-me-1");
}

/// The text log lines written while it is the default subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn request_ids_that_could_forge_a_log_line_are_replaced() {
    // The subscriber of `--text-logs`, writing here (the test runs on one thread).
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut m = MockBackend::new();
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("disabled")));
    m.expect_delete_data_flow().returning(|_, _| Ok(()));
    let h = harness(m);
    let forged = "x}: audit: write key=\"root\" method=\"DELETE\" outcome=\"ok\"";
    let long = "a".repeat(129);
    let hostile: [&[u8]; 4] = [
        forged.as_bytes(),
        b"a\tkey=root",
        long.as_bytes(),
        b"caf\xe9",
    ];
    for id in hostile {
        let req = Request::builder()
            .method(Method::DELETE)
            .uri(e(&format!("/rivers/{FLOW}")))
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .header("x-request-id", HeaderValue::from_bytes(id).unwrap())
            .body(Body::empty())
            .unwrap();
        let r = send(&h.app, req).await;
        assert_eq!(r.status, StatusCode::OK);
        let used = r.headers["x-request-id"].as_bytes();
        assert_ne!(used, id);
        assert!(is_safe_request_id(used), "{used:?}");
    }
    let text = logs.text();
    assert!(text.contains("audit"), "the writes were logged: {text}");
    for needle in ["key=\"root\"", "key=root", &long, "caf"] {
        assert!(!text.contains(needle), "{needle} was logged:\n{text}");
    }
    for line in text.lines() {
        assert!(!line.trim().is_empty() && line.len() < 1000, "{line}");
    }
}
