//! Prometheus metrics, kept in process and rendered as the text exposition format on
//! `GET /metrics`: requests by route and status, request latencies, upstream calls by operation
//! and outcome, and throttle refusals.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Latency buckets, in seconds (waits may last up to 10 minutes).
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0, 600.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels},le=\"{le}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
    upstream: BTreeMap<(&'static str, String), u64>,
    upstream_latency: BTreeMap<&'static str, Histogram>,
    throttle: BTreeMap<&'static str, u64>,
}

/// The gateway's metrics registry; cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters that are still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one served request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let mut inner = self.lock();
        *inner
            .requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        inner
            .latency
            .entry((route.to_owned(), method.to_owned()))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Records one call to the upstream; `outcome` is `ok` or the error's code.
    pub fn record_upstream(&self, operation: &'static str, outcome: &str, elapsed: Duration) {
        let mut inner = self.lock();
        *inner
            .upstream
            .entry((operation, outcome.to_owned()))
            .or_default() += 1;
        inner
            .upstream_latency
            .entry(operation)
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// Records one run refused by the throttle before the upstream was touched; `limit` is
    /// `data_flow` or `key`.
    pub fn record_throttle_refusal(&self, limit: &'static str) {
        *self.lock().throttle.entry(limit).or_default() += 1;
    }

    /// The number of upstream calls recorded so far (all operations and outcomes).
    pub fn upstream_calls(&self) -> u64 {
        self.lock().upstream.values().sum()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        out.push_str("# HELP bdi_gateway_requests_total Requests served, by route and status.\n");
        out.push_str("# TYPE bdi_gateway_requests_total counter\n");
        for ((route, method, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "bdi_gateway_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str(
            "# HELP bdi_gateway_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE bdi_gateway_request_duration_seconds histogram\n");
        for ((route, method), h) in &inner.latency {
            let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
            h.render(&mut out, "bdi_gateway_request_duration_seconds", &labels);
        }
        out.push_str(
            "# HELP bdi_gateway_upstream_calls_total Calls to the platform, by operation and outcome.\n",
        );
        out.push_str("# TYPE bdi_gateway_upstream_calls_total counter\n");
        for ((op, outcome), n) in &inner.upstream {
            let _ = writeln!(
                out,
                "bdi_gateway_upstream_calls_total{{operation=\"{op}\",outcome=\"{}\"}} {n}",
                escape(outcome)
            );
        }
        out.push_str(
            "# HELP bdi_gateway_upstream_duration_seconds Time of calls to the platform, by operation.\n",
        );
        out.push_str("# TYPE bdi_gateway_upstream_duration_seconds histogram\n");
        for (op, h) in &inner.upstream_latency {
            let labels = format!("operation=\"{op}\"");
            h.render(&mut out, "bdi_gateway_upstream_duration_seconds", &labels);
        }
        out.push_str(
            "# HELP bdi_gateway_throttle_refusals_total Runs refused by the gateway's throttle before reaching the platform.\n",
        );
        out.push_str("# TYPE bdi_gateway_throttle_refusals_total counter\n");
        for limit in ["data_flow", "key"] {
            let n = inner.throttle.get(limit).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "bdi_gateway_throttle_refusals_total{{limit=\"{limit}\"}} {n}"
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: counts every request by its route template (never the raw path, whose ids would
/// explode the label set) and status, and times it.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    metrics.record_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_family() {
        let m = Metrics::default();
        m.record_request("/healthz", "GET", 200, Duration::from_millis(3));
        m.record_request("/healthz", "GET", 200, Duration::from_millis(30));
        m.record_upstream("list_data_flows", "ok", Duration::from_millis(12));
        m.record_throttle_refusal("data_flow");
        let text = m.render();
        assert!(text.contains(
            "bdi_gateway_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "bdi_gateway_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "bdi_gateway_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} 2"
        ));
        assert!(text.contains(
            "bdi_gateway_upstream_calls_total{operation=\"list_data_flows\",outcome=\"ok\"} 1"
        ));
        assert!(text.contains("bdi_gateway_throttle_refusals_total{limit=\"data_flow\"} 1"));
        assert!(text.contains("bdi_gateway_throttle_refusals_total{limit=\"key\"} 0"));
        assert_eq!(m.upstream_calls(), 1);
    }
}
